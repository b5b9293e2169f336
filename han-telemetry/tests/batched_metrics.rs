//! The production pipeline's bound hooks hold their runs per thread and record them into the
//! SDK a batch at a time (`pipeline::batched`): every export still has every run made before
//! it, whichever thread made it and however few it made, at exit and every interval.

use std::time::{Duration, Instant};

use han_telemetry::config::{Config, Source, Sources};
use han_telemetry::{TelemetryBuilder, TelemetryGuard};
use opentelemetry_sdk::logs::InMemoryLogExporter;
use opentelemetry_sdk::metrics::InMemoryMetricExporter;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData, ResourceMetrics};
use tracing_subscriber::layer::SubscriberExt as _;

#[han_telemetry::instrument_hook(hook_name = "lint", hook_type = "PostToolUse")]
fn lint(input: u64) -> Result<u64, String> {
    Ok(input)
}

#[han_telemetry::instrument_hook(hook_name = "format", hook_type = "PostToolUse")]
fn format(input: u64) -> Result<u64, String> {
    Ok(input)
}

fn of_hook<'a>(mut attrs: impl Iterator<Item = &'a opentelemetry::KeyValue>, hook: &str) -> bool {
    attrs.any(|kv| kv.key.as_str() == "hook_name" && kv.value.as_str() == hook)
}

/// `han.hook.execution` and the count of `han.hook.duration_ms` for `hook` in one export.
fn runs(metrics: &ResourceMetrics, hook: &str) -> (u64, u64) {
    let (mut executions, mut durations) = (0, 0);
    for metric in metrics.scope_metrics().flat_map(|s| s.metrics()) {
        match (metric.name(), metric.data()) {
            ("han.hook.execution", AggregatedMetrics::U64(MetricData::Sum(sum))) => {
                executions += sum
                    .data_points()
                    .filter(|p| of_hook(p.attributes(), hook))
                    .map(|p| p.value())
                    .sum::<u64>();
            }
            ("han.hook.duration_ms", AggregatedMetrics::F64(MetricData::Histogram(h))) => {
                durations += h
                    .data_points()
                    .filter(|p| of_hook(p.attributes(), hook))
                    .map(|p| p.count())
                    .sum::<u64>();
            }
            _ => {}
        }
    }
    (executions, durations)
}

/// The production pipeline over an in-memory metric exporter, exporting every `interval_ms`,
/// store off.
fn production(interval_ms: &str) -> (tracing::Dispatch, TelemetryGuard, InMemoryMetricExporter) {
    let config = Config::from_sources(&Sources::new().with_layer(
        Source::ProcessEnv,
        [
            ("HAN_METRICS_STORE", "off"),
            ("OTEL_METRIC_EXPORT_INTERVAL", interval_ms),
        ],
    ));
    let metrics = InMemoryMetricExporter::default();
    let (layer, guard) = TelemetryBuilder::new(config)
        .exporters(metrics.clone(), InMemoryLogExporter::default())
        .build()
        .into_layer();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    (dispatch, guard, metrics)
}

/// Threads that each leave part of a batch held, and a thread that makes fewer runs than a
/// batch: the last export at exit counts every run of both hooks.
#[test]
fn the_last_export_has_every_run_threads_held() {
    let (dispatch, guard, metrics) = production("3600000");
    let per_thread = [1_u64, 3, 37, 1_001];
    std::thread::scope(|s| {
        for &n in &per_thread {
            let dispatch = dispatch.clone();
            s.spawn(move || {
                tracing::dispatcher::with_default(&dispatch, || {
                    for i in 0..n {
                        let _ = lint(i);
                        let _ = format(i);
                    }
                });
            });
        }
    });
    // And two runs on this thread, which is still alive when the guard exports.
    tracing::dispatcher::with_default(&dispatch, || {
        let _ = lint(0);
        let _ = lint(1);
    });
    drop(dispatch);
    guard.shutdown();
    let exported = metrics.get_finished_metrics().expect("metrics exported");
    let last = exported.last().expect("a last export");
    let made: u64 = per_thread.iter().sum();
    assert_eq!(runs(last, "lint"), (made + 2, made + 2));
    assert_eq!(runs(last, "format"), (made, made));
}

/// A long-running process: runs held by a thread that goes on living are in the next
/// periodic export, with nobody flushing.
#[test]
fn a_periodic_export_has_every_run_made_before_it() {
    let (dispatch, guard, metrics) = production("20");
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..5 {
            let _ = lint(i);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let counted = loop {
        let exported = metrics.get_finished_metrics().expect("metrics exported");
        let counted = exported.last().map(|m| runs(m, "lint"));
        if counted == Some((5, 5)) || Instant::now() > deadline {
            break counted;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(
        counted,
        Some((5, 5)),
        "the held runs reach a periodic export"
    );
    drop(dispatch);
    guard.shutdown();
}
