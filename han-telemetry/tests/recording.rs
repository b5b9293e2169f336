//! The typed recording API, through in-memory exporters: names, kinds, units, buckets,
//! attributes and severities as the catalogue defines them.

use std::time::Duration;

use han_telemetry::catalogue::{self, attr, event, metric};
use han_telemetry::config::IncludeAttributes;
use han_telemetry::record::{self, TaskOutcome};
use han_telemetry::{Activation, HanLayer, StandardAttributes};
use opentelemetry::logs::{AnyValue, Severity};
use opentelemetry::{Key, Value};
use opentelemetry_sdk::logs::{InMemoryLogExporter, SdkLogRecord, SdkLoggerProvider};
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, Metric, MetricData, ResourceMetrics};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use tracing_subscriber::layer::SubscriberExt as _;

struct Captured {
    metrics: Vec<ResourceMetrics>,
    logs: Vec<SdkLogRecord>,
}

fn capture(include: IncludeAttributes, standard: StandardAttributes, f: impl FnOnce()) -> Captured {
    let metric_exporter = InMemoryMetricExporter::default();
    let meter = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(metric_exporter.clone()).build())
        .build();
    let log_exporter = InMemoryLogExporter::default();
    let logger = SdkLoggerProvider::builder()
        .with_simple_exporter(log_exporter.clone())
        .build();
    let layer = HanLayer::builder()
        .meter_provider(meter.clone())
        .logger_provider(logger.clone())
        .include(include)
        .standard_attributes(standard)
        .build();
    let _open = Activation::new();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), f);
    meter.force_flush().expect("flush metrics");
    // Cumulative: the last snapshot holds everything.
    let mut metrics = metric_exporter.get_finished_metrics().expect("metrics");
    let metrics = metrics.pop().into_iter().collect();
    let logs = log_exporter
        .get_emitted_logs()
        .expect("logs")
        .into_iter()
        .map(|l| l.record)
        .collect();
    Captured { metrics, logs }
}

fn default_include() -> IncludeAttributes {
    IncludeAttributes {
        session_id: true,
        version: false,
        account_uuid: true,
    }
}

fn all_metrics(c: &Captured) -> impl Iterator<Item = &Metric> {
    c.metrics
        .iter()
        .flat_map(|rm| rm.scope_metrics())
        .flat_map(|s| s.metrics())
}

fn find<'a>(c: &'a Captured, name: &str) -> &'a Metric {
    all_metrics(c)
        .find(|m| m.name() == name)
        .unwrap_or_else(|| {
            panic!(
                "no metric {name}; got {:?}",
                all_metrics(c).map(|m| m.name()).collect::<Vec<_>>()
            )
        })
}

type Attrs = Vec<(String, String)>;

fn sorted(kvs: impl Iterator<Item = (String, String)>) -> Attrs {
    let mut v: Attrs = kvs.collect();
    v.sort();
    v
}

fn attrs(pairs: &[(&str, &str)]) -> Attrs {
    sorted(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
}

/// Counter data points as (attributes, value).
fn counter_points(m: &Metric) -> Vec<(Attrs, u64)> {
    match m.data() {
        AggregatedMetrics::U64(MetricData::Sum(sum)) => {
            assert!(sum.is_monotonic(), "{} must be monotonic", m.name());
            sum.data_points()
                .map(|p| {
                    (
                        sorted(
                            p.attributes()
                                .map(|kv| (kv.key.to_string(), kv.value.to_string())),
                        ),
                        p.value(),
                    )
                })
                .collect()
        }
        other => panic!("{} is not a u64 sum: {other:?}", m.name()),
    }
}

fn event_attr<'a>(r: &'a SdkLogRecord, key: &str) -> Option<&'a AnyValue> {
    r.attributes_iter()
        .find(|(k, _)| k.as_str() == key)
        .map(|(_, v)| v)
}

fn events<'a>(c: &'a Captured, name: &str) -> Vec<&'a SdkLogRecord> {
    c.logs
        .iter()
        .filter(|r| r.event_name() == Some(name))
        .collect()
}

#[test]
fn a_hook_run_records_counter_histogram_and_event() {
    let c = capture(default_include(), StandardAttributes::default(), || {
        record::hook_run("lint", "PostToolUse", true, Duration::from_millis(12));
        record::hook_run("lint", "PostToolUse", false, Duration::from_millis(48));
        record::hook_run("lint", "PostToolUse", true, Duration::from_micros(1500));
    });

    let exec = find(&c, metric::HOOK_EXECUTION.name);
    assert_eq!(exec.unit(), metric::HOOK_EXECUTION.unit);
    assert_eq!(exec.description(), metric::HOOK_EXECUTION.description);
    let mut points = counter_points(exec);
    points.sort();
    assert_eq!(
        points,
        vec![
            (
                attrs(&[
                    ("hook_name", "lint"),
                    ("hook_type", "PostToolUse"),
                    ("success", "false")
                ]),
                1
            ),
            (
                attrs(&[
                    ("hook_name", "lint"),
                    ("hook_type", "PostToolUse"),
                    ("success", "true")
                ]),
                2
            ),
        ]
    );

    let duration = find(&c, metric::HOOK_DURATION.name);
    assert_eq!(duration.unit(), "ms");
    let AggregatedMetrics::F64(MetricData::Histogram(h)) = duration.data() else {
        panic!("duration is not an f64 histogram: {:?}", duration.data());
    };
    let ok = h
        .data_points()
        .find(|p| {
            p.attributes()
                .any(|kv| kv.key.as_str() == "success" && kv.value == Value::Bool(true))
        })
        .expect("success point");
    assert_eq!(ok.count(), 2);
    assert!((ok.sum() - 13.5).abs() < 1e-9, "sum {}", ok.sum());
    assert_eq!(
        ok.bounds().collect::<Vec<_>>(),
        catalogue::HOOK_DURATION_BUCKETS_MS.to_vec()
    );

    let results = events(&c, event::HOOK_RESULT.name);
    assert_eq!(results.len(), 3);
    let first = results[0];
    assert_eq!(first.severity_number(), Some(Severity::Info));
    assert_eq!(first.severity_text(), Some("INFO"));
    assert_eq!(
        event_attr(first, attr::EVENT_NAME),
        Some(&AnyValue::from("han.hook_result"))
    );
    assert_eq!(
        event_attr(first, attr::HOOK_NAME),
        Some(&AnyValue::from("lint"))
    );
    assert_eq!(
        event_attr(first, attr::HOOK_TYPE),
        Some(&AnyValue::from("PostToolUse"))
    );
    assert_eq!(
        event_attr(first, attr::SUCCESS),
        Some(&AnyValue::Boolean(true))
    );
    assert_eq!(
        event_attr(first, attr::DURATION_MS),
        Some(&AnyValue::Double(12.0))
    );
}

#[test]
fn plugin_install_and_uninstall_record_counters_and_plugin_events() {
    let c = capture(default_include(), StandardAttributes::default(), || {
        record::plugin_install("jutsu-markdown", "project", true);
        record::plugin_uninstall("jutsu-markdown", "project", false);
    });
    assert_eq!(
        counter_points(find(&c, metric::PLUGIN_INSTALL.name)),
        vec![(
            attrs(&[
                ("plugin_name", "jutsu-markdown"),
                ("scope", "project"),
                ("success", "true")
            ]),
            1
        )]
    );
    assert_eq!(
        counter_points(find(&c, metric::PLUGIN_UNINSTALL.name)),
        vec![(
            attrs(&[("plugin_name", "jutsu-markdown"), ("success", "false")]),
            1
        )]
    );
    let evs = events(&c, event::PLUGIN_EVENT.name);
    assert_eq!(evs.len(), 2);
    assert_eq!(
        event_attr(evs[0], attr::ACTION),
        Some(&AnyValue::from("install"))
    );
    assert_eq!(
        event_attr(evs[1], attr::ACTION),
        Some(&AnyValue::from("uninstall"))
    );
    assert_eq!(
        event_attr(evs[1], attr::SCOPE),
        Some(&AnyValue::from("project"))
    );
    assert_eq!(
        event_attr(evs[1], attr::SUCCESS),
        Some(&AnyValue::Boolean(false))
    );
}

#[test]
fn tasks_split_into_completed_and_failed_with_confidence_buckets() {
    let c = capture(default_include(), StandardAttributes::default(), || {
        record::task("fix", TaskOutcome::Success, 0.85);
        record::task("fix", TaskOutcome::Partial, 0.61);
        record::task("fix", TaskOutcome::Failure, 0.9);
    });
    let mut completed = counter_points(find(&c, metric::TASK_COMPLETED.name));
    completed.sort();
    assert_eq!(
        completed,
        vec![
            (
                attrs(&[
                    ("confidence_bucket", "0.6"),
                    ("outcome", "partial"),
                    ("task_type", "fix")
                ]),
                1
            ),
            (
                attrs(&[
                    ("confidence_bucket", "0.8"),
                    ("outcome", "success"),
                    ("task_type", "fix")
                ]),
                1
            ),
        ]
    );
    assert_eq!(
        counter_points(find(&c, metric::TASK_FAILED.name)),
        vec![(
            attrs(&[
                ("confidence_bucket", "0.9"),
                ("outcome", "failure"),
                ("task_type", "fix")
            ]),
            1
        )]
    );
    let evs = events(&c, event::TASK_OUTCOME.name);
    assert_eq!(evs.len(), 3);
    assert_eq!(
        event_attr(evs[0], attr::CONFIDENCE),
        Some(&AnyValue::Double(0.85))
    );
    assert_eq!(
        event_attr(evs[2], attr::OUTCOME),
        Some(&AnyValue::from("failure"))
    );
}

#[test]
fn a_failed_validation_adds_a_warn_event_and_a_passing_one_does_not() {
    let c = capture(default_include(), StandardAttributes::default(), || {
        record::validation("typecheck", true, 0);
        record::validation("lint", false, 3);
    });
    let mut runs = counter_points(find(&c, metric::VALIDATION_RUN.name));
    runs.sort();
    assert_eq!(
        runs,
        vec![
            (
                attrs(&[
                    ("error_count", "0"),
                    ("passed", "true"),
                    ("validation_type", "typecheck")
                ]),
                1
            ),
            (
                attrs(&[
                    ("error_count", "3"),
                    ("passed", "false"),
                    ("validation_type", "lint")
                ]),
                1
            ),
        ]
    );
    let evs = events(&c, event::VALIDATION_ERROR.name);
    assert_eq!(evs.len(), 1);
    assert_eq!(evs[0].severity_number(), Some(Severity::Warn));
    assert_eq!(evs[0].severity_text(), Some("WARN"));
    assert_eq!(
        event_attr(evs[0], attr::ERROR_COUNT),
        Some(&AnyValue::Int(3))
    );
    assert_eq!(
        event_attr(evs[0], attr::VALIDATION_TYPE),
        Some(&AnyValue::from("lint"))
    );
}

#[test]
fn mcp_calls_sessions_and_frustration_are_counted() {
    let c = capture(default_include(), StandardAttributes::default(), || {
        record::mcp_tool_call("han_metrics_query", true);
        record::mcp_tool_call("han_metrics_query", true);
        record::session_start();
        record::frustration("high", 0.82);
    });
    assert_eq!(
        counter_points(find(&c, metric::MCP_TOOL_CALL.name)),
        vec![(
            attrs(&[("success", "true"), ("tool_name", "han_metrics_query")]),
            2
        )]
    );
    assert_eq!(
        counter_points(find(&c, metric::SESSION_START.name)),
        vec![(vec![], 1)]
    );
    assert_eq!(
        counter_points(find(&c, metric::FRUSTRATION_DETECTED.name)),
        vec![(attrs(&[("level", "high"), ("score_bucket", "0.8")]), 1)]
    );
}

#[test]
fn standard_attributes_follow_the_include_switches() {
    let standard = StandardAttributes {
        session_id: Some("s-1".into()),
        app_version: Some("1.2.3".into()),
        account_uuid: Some("acc".into()),
        organization_id: Some("org".into()),
        terminal_type: None,
    };
    let only_session = IncludeAttributes {
        session_id: true,
        version: false,
        account_uuid: false,
    };
    let c = capture(only_session, standard.clone(), record::session_start);
    assert_eq!(
        counter_points(find(&c, metric::SESSION_START.name)),
        vec![(
            attrs(&[("organization.id", "org"), ("session.id", "s-1")]),
            1
        )]
    );

    let all = IncludeAttributes {
        session_id: true,
        version: true,
        account_uuid: true,
    };
    let c = capture(all, standard, || record::validation("lint", false, 1));
    let ev = &events(&c, event::VALIDATION_ERROR.name)[0];
    for (k, v) in [
        ("session.id", "s-1"),
        ("app.version", "1.2.3"),
        ("user.account_uuid", "acc"),
        ("organization.id", "org"),
    ] {
        assert_eq!(
            event_attr(ev, k),
            Some(&AnyValue::from(v.to_owned())),
            "{k}"
        );
    }
}

#[test]
fn standard_attributes_can_be_set_after_start() {
    let c = capture(default_include(), StandardAttributes::default(), || {
        han_telemetry::set_standard_attributes(&StandardAttributes {
            session_id: Some("from-stdin".into()),
            ..StandardAttributes::default()
        });
        record::session_start();
    });
    assert_eq!(
        counter_points(find(&c, metric::SESSION_START.name)),
        vec![(attrs(&[("session.id", "from-stdin")]), 1)]
    );
}

#[test]
fn outside_a_subscriber_with_the_layer_nothing_is_recorded() {
    let metric_exporter = InMemoryMetricExporter::default();
    let meter = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(metric_exporter.clone()).build())
        .build();
    let layer = HanLayer::builder().meter_provider(meter.clone()).build();
    let _open = Activation::new();
    // Recorded under another subscriber: must not reach this layer's provider.
    tracing::subscriber::with_default(tracing_subscriber::registry(), record::session_start);
    drop(layer);
    meter.force_flush().expect("flush");
    let exported = metric_exporter.get_finished_metrics().expect("metrics");
    let points: usize = exported
        .iter()
        .flat_map(|rm| rm.scope_metrics())
        .map(|s| s.metrics().count())
        .sum();
    assert_eq!(points, 0);
}

#[test]
fn event_records_carry_the_event_name_key() {
    let c = capture(default_include(), StandardAttributes::default(), || {
        record::hook_run("a", "Stop", true, Duration::ZERO)
    });
    let r = &c.logs[0];
    assert!(
        r.attributes_iter()
            .any(|(k, _)| *k == Key::from_static_str("event.name"))
    );
}

#[test]
fn a_flood_of_distinct_hook_names_stays_bounded_and_marks_the_overflow() {
    const DISTINCT: usize = 5_000;
    let c = capture(default_include(), StandardAttributes::default(), || {
        for i in 0..DISTINCT {
            record::hook_run(format!("hook-{i}"), "PreToolUse", true, Duration::ZERO);
        }
    });
    let points = counter_points(find(&c, metric::HOOK_EXECUTION.name));
    // The SDK's cardinality limit (2000 series per instrument) holds, the rest is counted in
    // one series marked `otel.metric.overflow=true`, and no count is lost.
    assert!(points.len() <= 2_001, "{} series", points.len());
    let overflow = attrs(&[("otel.metric.overflow", "true")]);
    let overflowed: u64 = points
        .iter()
        .filter(|(a, _)| *a == overflow)
        .map(|(_, v)| *v)
        .sum();
    assert!(overflowed > 0, "no overflow series");
    let total: u64 = points.iter().map(|(_, v)| *v).sum();
    assert_eq!(total, DISTINCT as u64);
    // Events are not aggregated: each keeps its own name.
    assert_eq!(events(&c, event::HOOK_RESULT.name).len(), DISTINCT);
}
