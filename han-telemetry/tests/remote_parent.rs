//! Spans reach the collector from a pipeline built from a configuration (as `init()`
//! builds it), read back from OTLP/HTTP as a collector receives it.

mod support;

use han_telemetry::{TelemetryBuilder, instrument_hook};
use support::{Receiver, otlp_config};
use tracing_subscriber::layer::SubscriberExt as _;

#[instrument_hook(hook_type = "Stop")]
fn lone_hook() {}

/// Whichever other signals are on, traces are exported (with logs off, the layer stack used
/// to tell tracing that no span was wanted).
#[test]
fn spans_are_exported_whatever_other_signals_are_on() {
    for signals in [
        &["traces"][..],
        &["traces", "logs"],
        &["traces", "metrics"],
        &["traces", "metrics", "logs"],
    ] {
        let receiver = Receiver::start();
        let config = otlp_config(receiver.endpoint(), signals, &[]);
        let (layer, guard) = TelemetryBuilder::new(config).build().into_layer();
        tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
            lone_hook();
            let _own = tracing::info_span!("own span").entered();
        });
        drop(guard);
        let names: Vec<String> = receiver.spans().into_iter().map(|s| s.name).collect();
        assert_eq!(names.len(), 2, "{signals:?}: {names:?}");
        for name in ["hook lone_hook", "own span"] {
            assert!(names.iter().any(|n| n == name), "{signals:?}: {names:?}");
        }
    }
}
