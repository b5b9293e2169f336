//! An annotated hook named by literals binds its instruments at its call site, for the
//! pipeline it records under. Under another pipeline, or after the standard attributes
//! change, it binds again (tests/site_bindings.rs), and past its few bindings takes the
//! ordinary path: the telemetry is the same either way.

use han_telemetry::catalogue::{event, metric};
use han_telemetry::{StandardAttributes, instrument_hook, set_standard_attributes};
use han_telemetry_testing::{Capture, Telemetry, capture};

#[instrument_hook(hook_name = "cached", hook_type = "PostToolUse")]
fn cached(ok: bool) -> Result<(), String> {
    if ok { Ok(()) } else { Err("no".into()) }
}

#[instrument_hook(hook_name = "session-aware", hook_type = "Stop")]
fn session_aware() {}

fn run_three() -> Telemetry {
    capture(|| {
        assert!(cached(true).is_ok());
        assert!(cached(true).is_ok());
        assert!(cached(false).is_err());
    })
}

fn assert_three(t: &Telemetry) {
    let execution = |success| {
        t.counter(metric::HOOK_EXECUTION)
            .with("hook_name", "cached")
            .with("hook_type", "PostToolUse")
            .with("success", success)
    };
    execution(true).assert_value(2);
    execution(false).assert_value(1);
    t.histogram(metric::HOOK_DURATION)
        .with("hook_name", "cached")
        .with("success", true)
        .assert_count(2);
    t.event(event::HOOK_RESULT)
        .with("hook_name", "cached")
        .with("success", false)
        .assert_exactly(1);
}

// One test function, so the order is known: the first capture binds the site, the second
// (another pipeline) binds it again and must record the same.
#[test]
fn the_bound_path_and_the_fallback_record_the_same() {
    assert_three(&run_three());
    assert_three(&run_three());

    // Standard attributes set after the site bound (its first call is in this capture):
    // later calls carry the new ones.
    let ((), t) = Capture::new()
        .standard_attributes(StandardAttributes {
            session_id: Some("first".into()),
            ..StandardAttributes::default()
        })
        .run(|| {
            session_aware();
            set_standard_attributes(&StandardAttributes {
                session_id: Some("second".into()),
                ..StandardAttributes::default()
            });
            session_aware();
            session_aware();
        });
    let by_session = |id| {
        t.counter(metric::HOOK_EXECUTION)
            .with("hook_name", "session-aware")
            .with("session.id", id)
    };
    by_session("first").assert_value(1);
    by_session("second").assert_value(2);
    t.event(event::HOOK_RESULT)
        .with("session.id", "second")
        .assert_exactly(2);
}

#[instrument_hook(hook_name = "threaded", hook_type = "PreToolUse")]
fn threaded(i: u64) -> Result<u64, String> {
    if i.is_multiple_of(10) {
        Err("every tenth".into())
    } else {
        Ok(i)
    }
}

#[test]
fn many_threads_on_one_pipeline_count_exactly() {
    use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
    use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
    use tracing_subscriber::layer::SubscriberExt as _;

    const THREADS: u64 = 4;
    const CALLS: u64 = 10_000;
    let exporter = InMemoryMetricExporter::default();
    let meter = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(exporter.clone()).build())
        .build();
    let layer = han_telemetry::HanLayer::builder()
        .meter_provider(meter.clone())
        .build();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    let _open = han_telemetry::Activation::new();
    let workers: Vec<_> = (0..THREADS)
        .map(|_| {
            let dispatch = dispatch.clone();
            std::thread::spawn(move || {
                tracing::dispatcher::with_default(&dispatch, || {
                    for i in 0..CALLS {
                        let _ = threaded(i);
                    }
                });
            })
        })
        .collect();
    for w in workers {
        w.join().expect("worker");
    }
    meter.force_flush().expect("flush");
    let metrics = exporter.get_finished_metrics().expect("metrics");
    let last = metrics.last().expect("one export");
    let execution = last
        .scope_metrics()
        .flat_map(|s| s.metrics())
        .find(|m| m.name() == metric::HOOK_EXECUTION.name)
        .expect("han.hook.execution");
    let AggregatedMetrics::U64(MetricData::Sum(sum)) = execution.data() else {
        panic!("not a u64 sum");
    };
    let by_success: Vec<(String, u64)> = sum
        .data_points()
        .map(|p| {
            let success = p
                .attributes()
                .find(|kv| kv.key.as_str() == "success")
                .map(|kv| kv.value.to_string())
                .unwrap_or_default();
            (success, p.value())
        })
        .collect();
    let count = |s: &str| -> u64 {
        by_success
            .iter()
            .filter(|(k, _)| k == s)
            .map(|(_, v)| v)
            .sum()
    };
    assert_eq!(count("true"), THREADS * CALLS * 9 / 10);
    assert_eq!(count("false"), THREADS * CALLS / 10);
}
