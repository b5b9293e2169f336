//! Telemetry set up and shut down inside the host's tokio runtime, both flavours, over gRPC
//! and HTTP: no panic, no hang, and the data reaches a real collector. (The SDK defaults
//! hang 5 s per provider when gRPC is shut down inside a current-thread runtime.)

use std::time::Duration;

use han_telemetry::config::{Config, Source, Sources};
use han_telemetry::{ShutdownReport, TelemetryBuilder, catalogue, record};
use han_telemetry_test_support::collector::Collector;
use tracing_subscriber::Registry;
use tracing_subscriber::layer::SubscriberExt as _;

const WAIT: Duration = Duration::from_secs(20);

fn config(endpoint: &str, protocol: &str) -> Config {
    Config::from_sources(&Sources::new().with_layer(
        Source::ProcessEnv,
        [
            ("CLAUDE_CODE_ENABLE_TELEMETRY", "1"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
            ("HAN_TELEMETRY_EXIT_BUDGET_MS", "10000"),
        ],
    ))
}

/// Builds telemetry inside the running runtime, records from async code, then shuts down
/// (or drops the guard) while still inside it.
async fn record_inside_the_runtime(
    config: Config,
    hook: &'static str,
    drop_guard: bool,
) -> Option<ShutdownReport> {
    let (layer, guard) = TelemetryBuilder::new(config)
        .build()
        .into_layer::<Registry>();
    let _default = tracing::subscriber::set_default(Registry::default().with(layer));
    tokio::task::yield_now().await;
    record::hook_run(hook, "Stop", true, Duration::from_millis(5));
    tokio::time::sleep(Duration::from_millis(1)).await;
    if drop_guard {
        drop(guard);
        None
    } else {
        Some(guard.shutdown())
    }
}

fn assert_arrived(c: &Collector, hook: &str) {
    let exec = c.wait_for_metric(catalogue::metric::HOOK_EXECUTION.name, WAIT);
    assert!(
        exec.points
            .iter()
            .any(|p| p.attributes.has("hook_name", hook)),
        "{exec:?}"
    );
    let log = c.wait_for_log(catalogue::event::HOOK_RESULT.name, WAIT);
    assert!(log.attributes.has("hook_name", hook), "{log:?}");
}

fn assert_delivered(report: Option<ShutdownReport>) {
    if let Some(report) = report {
        assert_eq!(report.delivered, vec!["metrics", "logs"], "{report:?}");
        assert!(
            report.failed.is_empty() && report.abandoned.is_empty(),
            "{report:?}"
        );
    }
}

#[tokio::test(flavor = "current_thread")]
async fn grpc_in_a_current_thread_runtime() {
    let c = Collector::start();
    let report =
        record_inside_the_runtime(config(&c.grpc_endpoint(), "grpc"), "ct-grpc", false).await;
    assert_delivered(report);
    assert_arrived(&c, "ct-grpc");
}

#[tokio::test(flavor = "current_thread")]
async fn grpc_guard_dropped_in_a_current_thread_runtime() {
    let c = Collector::start();
    record_inside_the_runtime(config(&c.grpc_endpoint(), "grpc"), "ct-grpc-drop", true).await;
    assert_arrived(&c, "ct-grpc-drop");
}

#[tokio::test(flavor = "current_thread")]
async fn http_in_a_current_thread_runtime() {
    let c = Collector::start();
    let report = record_inside_the_runtime(
        config(&c.http_endpoint(), "http/protobuf"),
        "ct-http",
        false,
    )
    .await;
    assert_delivered(report);
    assert_arrived(&c, "ct-http");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_in_a_multi_thread_runtime() {
    let c = Collector::start();
    let report =
        record_inside_the_runtime(config(&c.grpc_endpoint(), "grpc"), "mt-grpc", false).await;
    assert_delivered(report);
    assert_arrived(&c, "mt-grpc");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_guard_dropped_in_a_multi_thread_runtime() {
    let c = Collector::start();
    record_inside_the_runtime(
        config(&c.http_endpoint(), "http/protobuf"),
        "mt-http-drop",
        true,
    )
    .await;
    assert_arrived(&c, "mt-http-drop");
}
