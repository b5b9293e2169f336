//! A provider given by hand whose processor panics in the recording call: the SDK's simple
//! log processor exports with `futures_executor::block_on`, which panics when the hook is
//! already polled by a `futures` executor. The hook's answer must not change, and the
//! unfinished call's drop must not panic again while unwinding (an abort).

use han_telemetry::store::LocalStore;
use han_telemetry::{Activation, HanLayer, instrument_hook};
use han_telemetry_test_support::scratch::Scratch;
use opentelemetry_sdk::logs::{InMemoryLogExporter, SdkLoggerProvider};
use tracing_subscriber::layer::SubscriberExt as _;

#[instrument_hook(hook_name = "lint", hook_type = "PostToolUse")]
async fn lint(input: u32) -> Result<u32, String> {
    Ok(input + 1)
}

#[test]
fn a_simple_processor_inside_a_futures_executor_leaves_the_hook_unchanged() {
    let scratch = Scratch::new("foreign-executor");
    let store = LocalStore::at(scratch.path(), 1);
    let events = InMemoryLogExporter::default();
    let logger = SdkLoggerProvider::builder()
        .with_simple_exporter(events.clone())
        .build();
    let subscriber = tracing_subscriber::registry().with(
        HanLayer::builder()
            .logger_provider(logger.clone())
            .local_store(store.clone())
            .build(),
    );
    let _open = Activation::new();
    let answers: Vec<Result<u32, String>> = tracing::subscriber::with_default(subscriber, || {
        (0..3)
            .map(|i| futures_executor::block_on(lint(i)))
            .collect()
    });
    assert_eq!(answers, vec![Ok(1), Ok(2), Ok(3)]);
    // The processor could not export them; the store has every run.
    assert!(
        events
            .get_emitted_logs()
            .expect("read the exporter")
            .is_empty()
    );
    store.flush();
    let scan =
        han_telemetry::store::scan(scratch.path(), std::time::UNIX_EPOCH).expect("scan the store");
    assert_eq!(scan.records.len(), 3, "every run is in the store");
}
