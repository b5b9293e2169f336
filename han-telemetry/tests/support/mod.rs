//! Helpers shared by the test binaries that read a pipeline back from an OTLP receiver
//! (`han_telemetry_test_support::receiver::OtlpReceiver`): the trace context a hook gets, and
//! a configuration exporting to the receiver.

#![allow(dead_code)]

use han_telemetry::config::{Config, Source, Sources};

/// The trace context Claude Code would pass to a hook.
pub(crate) const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
pub(crate) const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
pub(crate) const REMOTE_SPAN_ID: &str = "00f067aa0ba902b7";

/// A configuration exporting `signals` (`metrics`, `logs`, `traces`) over OTLP/HTTP to
/// `endpoint` and nothing else, with the local store off, plus `extra` variables.
pub(crate) fn otlp_config(endpoint: &str, signals: &[&str], extra: &[(&str, &str)]) -> Config {
    let exporter = |signal: &str| {
        if signals.contains(&signal) {
            "otlp"
        } else {
            "none"
        }
    };
    let mut vars = vec![
        ("CLAUDE_CODE_ENABLE_TELEMETRY", "1"),
        ("OTEL_METRICS_EXPORTER", exporter("metrics")),
        ("OTEL_LOGS_EXPORTER", exporter("logs")),
        ("OTEL_TRACES_EXPORTER", exporter("traces")),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        ("HAN_METRICS_STORE", "off"),
        // Shutdown waits for the receiver's answers; this only bounds a broken run.
        ("HAN_TELEMETRY_EXIT_BUDGET_MS", "30000"),
    ];
    vars.extend_from_slice(extra);
    Config::from_sources(&Sources::new().with_layer(Source::ProcessEnv, vars))
}
