//! A hook named by literals binds its instruments at its call site; an outcome that never
//! happened must still never be exported: no counter point of 0 and no histogram point with
//! count 0 (min `f64::MAX`, max `f64::MIN`), whatever the temporality, through the SDK's
//! in-memory exporter over several collections, through OTLP/HTTP, and through the console
//! exporter of a process that calls `init()`.
//!
//! Each scenario calls a hook of its own, so that its call site binds under that scenario's
//! pipeline (the bound path is the one under test) whatever order the tests run in.

mod support;

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use han_telemetry::catalogue::metric;
use han_telemetry::{Activation, HanLayer, TelemetryBuilder, instrument_hook};
use han_telemetry_test_support::otlp::{DataPoint, MetricKind, Number, ReceivedMetric};
use han_telemetry_test_support::receiver::OtlpReceiver;
use han_telemetry_test_support::scratch::Scratch;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData, ResourceMetrics};
use opentelemetry_sdk::metrics::{
    InMemoryMetricExporterBuilder, PeriodicReader, SdkMeterProvider, Temporality,
};
use support::otlp_config;
use tracing_subscriber::layer::SubscriberExt as _;

macro_rules! hooks {
    ($($name:ident),* $(,)?) => {$(
        #[instrument_hook(hook_name = "lint", hook_type = "PostToolUse")]
        fn $name(ok: bool) -> Result<(), String> {
            if ok { Ok(()) } else { Err("not clean".into()) }
        }
    )*};
}

hooks!(
    in_memory_cumulative,
    in_memory_delta,
    in_memory_lowmemory,
    otlp_cumulative,
    otlp_delta,
    otlp_lowmemory,
    console_hook,
);

/// What one export held for `han.hook.execution` and `han.hook.duration_ms`, by the
/// `success` attribute: the counter's value and the histogram's count.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Export {
    execution: BTreeMap<bool, u64>,
    duration: BTreeMap<bool, u64>,
}

impl Export {
    fn of(execution: &[(bool, u64)], duration: &[(bool, u64)]) -> Export {
        Export {
            execution: execution.iter().copied().collect(),
            duration: duration.iter().copied().collect(),
        }
    }

    /// The same runs in both metrics.
    fn runs(runs: &[(bool, u64)]) -> Export {
        Export::of(runs, runs)
    }

    /// Adds one point, failing on a second point for the same outcome.
    fn add(&mut self, histogram: bool, success: bool, value: u64) {
        let map = if histogram {
            &mut self.duration
        } else {
            &mut self.execution
        };
        assert!(
            map.insert(success, value).is_none(),
            "two points for success={success}"
        );
    }
}

fn success_of<'a>(mut attributes: impl Iterator<Item = &'a opentelemetry::KeyValue>) -> bool {
    attributes
        .find(|kv| kv.key.as_str() == "success")
        .map(|kv| kv.value == opentelemetry::Value::Bool(true))
        .expect("a success attribute")
}

fn from_sdk(rm: &ResourceMetrics) -> Export {
    let mut export = Export::default();
    for m in rm.scope_metrics().flat_map(|s| s.metrics()) {
        match m.data() {
            AggregatedMetrics::U64(MetricData::Sum(sum))
                if m.name() == metric::HOOK_EXECUTION.name =>
            {
                for p in sum.data_points() {
                    export.add(false, success_of(p.attributes()), p.value());
                }
            }
            AggregatedMetrics::F64(MetricData::Histogram(h))
                if m.name() == metric::HOOK_DURATION.name =>
            {
                for p in h.data_points() {
                    assert!(
                        p.min()
                            .is_some_and(|min| min <= p.max().unwrap_or(f64::MIN)),
                        "an empty histogram point: {p:?}"
                    );
                    export.add(true, success_of(p.attributes()), p.count());
                }
            }
            other => panic!("unexpected metric {}: {other:?}", m.name()),
        }
    }
    export
}

/// Calls `hook` between collections of a pipeline exporting with `temporality`, and returns
/// what each collection exported.
fn in_memory(temporality: Temporality, hook: fn(bool) -> Result<(), String>) -> Vec<Export> {
    let exporter = InMemoryMetricExporterBuilder::new()
        .with_temporality(temporality)
        .build();
    let meter = SdkMeterProvider::builder()
        .with_reader(
            PeriodicReader::builder(exporter.clone())
                .with_interval(Duration::from_secs(24 * 3_600))
                .build(),
        )
        .build();
    let layer = HanLayer::builder().meter_provider(meter.clone()).build();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    let _open = Activation::new();
    tracing::dispatcher::with_default(&dispatch, || {
        let flush = || meter.force_flush().expect("a collection");
        assert!(hook(true).is_ok());
        assert!(hook(true).is_ok());
        flush();
        flush();
        assert!(hook(false).is_err());
        flush();
        assert!(hook(true).is_ok());
        flush();
    });
    exporter
        .get_finished_metrics()
        .expect("the exports")
        .iter()
        .map(from_sdk)
        .collect()
}

/// Per collection, for two successes, nothing (a collection with nothing new exports
/// nothing), a failure, a success.
fn expected_delta() -> Vec<Export> {
    vec![
        Export::runs(&[(true, 2)]),
        Export::runs(&[(false, 1)]),
        Export::runs(&[(true, 1)]),
    ]
}

#[test]
fn in_memory_cumulative_exports_only_outcomes_that_happened() {
    assert_eq!(
        in_memory(Temporality::Cumulative, in_memory_cumulative),
        vec![
            Export::runs(&[(true, 2)]),
            Export::runs(&[(true, 2)]),
            Export::runs(&[(true, 2), (false, 1)]),
            Export::runs(&[(true, 3), (false, 1)]),
        ]
    );
}

#[test]
fn in_memory_delta_exports_only_outcomes_that_happened() {
    assert_eq!(
        in_memory(Temporality::Delta, in_memory_delta),
        expected_delta()
    );
}

#[test]
fn in_memory_lowmemory_exports_only_outcomes_that_happened() {
    assert_eq!(
        in_memory(Temporality::LowMemory, in_memory_lowmemory),
        expected_delta()
    );
}

// ---------------------------------------------------------------- OTLP/HTTP

fn from_otlp(metrics: Vec<ReceivedMetric>) -> Export {
    let success_of = |p: &DataPoint| {
        assert!(p.attr("success").is_some(), "a success attribute: {p:?}");
        p.attributes.has("success", true)
    };
    let mut export = Export::default();
    for m in metrics {
        match m.kind {
            MetricKind::Sum if m.name == metric::HOOK_EXECUTION.name => {
                for p in &m.points {
                    let value = match p.value {
                        Some(Number::Int(v)) => u64::try_from(v).expect("a count"),
                        other => panic!("not an integer: {other:?}"),
                    };
                    export.add(false, success_of(p), value);
                }
            }
            MetricKind::Histogram if m.name == metric::HOOK_DURATION.name => {
                for p in &m.points {
                    export.add(true, success_of(p), p.count.expect("a histogram count"));
                }
            }
            other => panic!("unexpected metric {}: {other:?} {m:?}", m.name),
        }
    }
    export
}

/// What each request to the collector held.
fn otlp(temporality: &str, hook: fn(bool) -> Result<(), String>) -> Vec<Export> {
    let receiver = OtlpReceiver::start();
    let config = otlp_config(
        &receiver.endpoint(),
        &["metrics"],
        &[(
            "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
            temporality,
        )],
    );
    let (layer, guard) = TelemetryBuilder::new(config).build().into_layer();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        assert!(hook(true).is_ok());
        assert!(hook(true).is_ok());
    });
    let report = guard.shutdown();
    assert_eq!(report.delivered, ["metrics"], "{report:?}");
    receiver
        .metric_requests()
        .into_iter()
        .map(from_otlp)
        .collect()
}

#[test]
fn otlp_exports_only_outcomes_that_happened() {
    // Exit collects and exports once, whatever the temporality (the shutdown that follows
    // collects nothing more), and only the outcomes that happened.
    let once = vec![Export::runs(&[(true, 2)])];
    type Hook = fn(bool) -> Result<(), String>;
    for (temporality, hook, expected) in [
        ("cumulative", otlp_cumulative as Hook, once.clone()),
        ("delta", otlp_delta, once.clone()),
        ("lowmemory", otlp_lowmemory, once),
    ] {
        assert_eq!(otlp(temporality, hook), expected, "{temporality}");
    }
}

// ---------------------------------------------------------------- console, from `init()`

const CHILD: &str = "HAN_UNRECORDED_OUTCOMES_CHILD";

/// Not a test of its own: the body of the child processes of
/// `the_console_exporter_shows_only_outcomes_that_happened`, which read their stderr.
#[test]
fn console_child() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let telemetry = han_telemetry::init();
    assert!(console_hook(true).is_ok());
    assert!(console_hook(true).is_ok());
    drop(telemetry);
}

/// `(metric, temporality, success, value or count)` of every data point of the hook metrics
/// on the console exporter's output.
fn console_points(stderr: &str) -> Vec<(String, String, bool, u64)> {
    let mut points = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in stderr.lines() {
        if let Some(heading) = line.strip_prefix("  han.") {
            // `  han.hook.execution (counter, {execution}, cumulative)`
            let (name, rest) = heading.split_once(' ').expect("a metric heading");
            let temporality = rest
                .trim_end_matches(')')
                .rsplit(", ")
                .next()
                .expect("a temporality");
            current = Some((format!("han.{name}"), temporality.to_owned()));
        } else if let Some(point) = line.strip_prefix("    ") {
            let Some((name, temporality)) = current.clone() else {
                continue;
            };
            let success = if point.contains("success=true") {
                true
            } else if point.contains("success=false") {
                false
            } else {
                panic!("a point without success: {line}")
            };
            let value = match point.split_once(" count=") {
                Some((_, rest)) => rest.split(' ').next().unwrap_or_default(),
                None => point.rsplit(" = ").next().unwrap_or_default(),
            };
            let value = value
                .parse()
                .unwrap_or_else(|_| panic!("no count in {line:?}"));
            points.push((name, temporality, success, value));
        } else if !line.starts_with("  ") {
            current = None;
        }
    }
    points
}

#[test]
fn the_console_exporter_shows_only_outcomes_that_happened() {
    if std::env::var_os(CHILD).is_some() {
        return;
    }
    let exe = std::env::current_exe().expect("the test binary");
    for (preference, shown) in [
        ("cumulative", "cumulative"),
        ("delta", "delta"),
        ("lowmemory", "delta"),
    ] {
        let home = Scratch::new(&format!("unrecorded-{preference}"));
        let output = Command::new(&exe)
            .args([
                "--exact",
                "console_child",
                "--test-threads=1",
                "--nocapture",
            ])
            .env_clear()
            .env(CHILD, "1")
            .env("HOME", home.path())
            .env("CLAUDE_PROJECT_DIR", home.path())
            .env("CLAUDE_CODE_ENABLE_TELEMETRY", "1")
            .env("OTEL_METRICS_EXPORTER", "console")
            .env("OTEL_LOGS_EXPORTER", "none")
            .env("OTEL_TRACES_EXPORTER", "none")
            .env("HAN_METRICS_STORE", "off")
            .env(
                "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
                preference,
            )
            .output()
            .expect("run the child");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{preference}: {output:?}");
        let mut points = console_points(&stderr);
        points.sort();
        let mut expected: Vec<(String, String, bool, u64)> =
            [metric::HOOK_EXECUTION.name, metric::HOOK_DURATION.name]
                .into_iter()
                .map(|name| (name.to_owned(), shown.to_owned(), true, 2))
                .collect();
        expected.sort();
        assert_eq!(points, expected, "{preference}:\n{stderr}");
    }
}
