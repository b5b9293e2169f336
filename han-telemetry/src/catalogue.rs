//! Every metric and event han-telemetry emits, in one place.
//!
//! This module is the single source of truth: instruments are built from it, the tables
//! below are checked against it, and tests can name entries by constant instead of
//! by string. It follows Han's OpenTelemetry page with two corrections that keep backends
//! healthy: no per-call values (`duration_ms`, `session_id`) as metric attributes, and
//! duration buckets sized for hooks (up to Claude Code's 10-minute hook limit) instead of the
//! SDK default that stops at 10 s.
//!
#![doc = include_str!("catalogue.md")]

use crate::config::vars;

/// What kind of instrument a metric is recorded with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetricKind {
    /// A monotonic `u64` sum.
    Counter,
    /// An `f64` histogram with explicit bucket boundaries.
    Histogram,
}

/// A metric of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricDef {
    /// The OpenTelemetry metric name, e.g. `han.hook.execution`.
    pub name: &'static str,
    /// Counter or histogram.
    pub kind: MetricKind,
    /// UCUM unit. Counters use `{annotation}` units, which the Prometheus translation drops,
    /// so `han.hook.execution` becomes `han_hook_execution_total`.
    pub unit: &'static str,
    /// One-line description, exported with the metric.
    pub description: &'static str,
    /// The attribute keys every data point carries (besides the standard attributes).
    pub attributes: &'static [&'static str],
    /// Explicit bucket boundaries of a histogram; empty for counters.
    pub buckets: &'static [f64],
}

/// Severity of an event, as OpenTelemetry log severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventSeverity {
    /// `INFO` (severity number 9).
    Info,
    /// `WARN` (severity number 13).
    Warn,
}

impl EventSeverity {
    /// The severity text exported with the record.
    pub const fn text(self) -> &'static str {
        match self {
            EventSeverity::Info => "INFO",
            EventSeverity::Warn => "WARN",
        }
    }

    /// The OpenTelemetry severity number.
    pub const fn number(self) -> opentelemetry::logs::Severity {
        match self {
            EventSeverity::Info => opentelemetry::logs::Severity::Info,
            EventSeverity::Warn => opentelemetry::logs::Severity::Warn,
        }
    }
}

/// An event of the catalogue: a log record whose event name is `name`, which also carries
/// an `event.name` attribute with the same value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventDef {
    /// The event name, e.g. `han.hook_result`.
    pub name: &'static str,
    /// The record's severity.
    pub severity: EventSeverity,
    /// The attribute keys the record carries (besides `event.name` and the standard attributes).
    pub attributes: &'static [&'static str],
}

/// Attribute keys, so code and tests can name them without string typos.
pub mod attr {
    /// Name of the hook (defaults to the function name under `#[instrument_hook]`).
    pub const HOOK_NAME: &str = "hook_name";
    /// Claude Code hook event, e.g. `PreToolUse`.
    pub const HOOK_TYPE: &str = "hook_type";
    /// Whether the operation succeeded.
    pub const SUCCESS: &str = "success";
    /// Duration in milliseconds (events only; metrics use the duration histogram).
    pub const DURATION_MS: &str = "duration_ms";
    /// Plugin name.
    pub const PLUGIN_NAME: &str = "plugin_name";
    /// Install scope, e.g. `user` or `project`.
    pub const SCOPE: &str = "scope";
    /// Task type.
    pub const TASK_TYPE: &str = "task_type";
    /// Task outcome: `success`, `partial` or `failure`.
    pub const OUTCOME: &str = "outcome";
    /// Confidence rounded down to a tenth, as a string (`"0.7"`).
    pub const CONFIDENCE_BUCKET: &str = "confidence_bucket";
    /// Confidence in `[0, 1]` (events only).
    pub const CONFIDENCE: &str = "confidence";
    /// Validation type.
    pub const VALIDATION_TYPE: &str = "validation_type";
    /// Whether a validation passed.
    pub const PASSED: &str = "passed";
    /// Number of errors a validation found.
    pub const ERROR_COUNT: &str = "error_count";
    /// MCP tool name.
    pub const TOOL_NAME: &str = "tool_name";
    /// Frustration level.
    pub const LEVEL: &str = "level";
    /// Frustration score rounded down to a tenth, as a string.
    pub const SCORE_BUCKET: &str = "score_bucket";
    /// Plugin event action: `install` or `uninstall`.
    pub const ACTION: &str = "action";
    /// The event name, repeated as an attribute on every event.
    pub const EVENT_NAME: &str = "event.name";
    /// Standard attribute: Claude Code session id (`OTEL_METRICS_INCLUDE_SESSION_ID`).
    pub const SESSION_ID: &str = "session.id";
    /// Standard attribute: application version (`OTEL_METRICS_INCLUDE_VERSION`).
    pub const APP_VERSION: &str = "app.version";
    /// Standard attribute: account UUID (`OTEL_METRICS_INCLUDE_ACCOUNT_UUID`).
    pub const ACCOUNT_UUID: &str = "user.account_uuid";
    /// Standard attribute: organization UUID (always included when known).
    pub const ORGANIZATION_ID: &str = "organization.id";
    /// Standard attribute: terminal type (always included when known).
    pub const TERMINAL_TYPE: &str = "terminal.type";
}

/// Bucket boundaries of `han.hook.duration_ms`, in milliseconds: fine below a second where
/// most hooks finish, then coarse up to Claude Code's 10-minute hook limit.
pub const HOOK_DURATION_BUCKETS_MS: &[f64] = &[
    1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1_000.0, 2_500.0, 5_000.0, 10_000.0,
    30_000.0, 60_000.0, 120_000.0, 300_000.0, 600_000.0,
];

/// The metrics.
pub mod metric {
    use super::{HOOK_DURATION_BUCKETS_MS, MetricDef, MetricKind, attr};

    /// Hook executions.
    pub const HOOK_EXECUTION: MetricDef = MetricDef {
        name: "han.hook.execution",
        kind: MetricKind::Counter,
        unit: "{execution}",
        description: "Number of hook executions",
        attributes: &[attr::HOOK_NAME, attr::HOOK_TYPE, attr::SUCCESS],
        buckets: &[],
    };
    /// Hook execution duration.
    pub const HOOK_DURATION: MetricDef = MetricDef {
        name: "han.hook.duration_ms",
        kind: MetricKind::Histogram,
        unit: "ms",
        description: "Hook execution duration in milliseconds",
        attributes: &[attr::HOOK_NAME, attr::HOOK_TYPE, attr::SUCCESS],
        buckets: HOOK_DURATION_BUCKETS_MS,
    };
    /// Plugin installations.
    pub const PLUGIN_INSTALL: MetricDef = MetricDef {
        name: "han.plugin.install",
        kind: MetricKind::Counter,
        unit: "{install}",
        description: "Plugin installations",
        attributes: &[attr::PLUGIN_NAME, attr::SCOPE, attr::SUCCESS],
        buckets: &[],
    };
    /// Plugin uninstallations.
    pub const PLUGIN_UNINSTALL: MetricDef = MetricDef {
        name: "han.plugin.uninstall",
        kind: MetricKind::Counter,
        unit: "{uninstall}",
        description: "Plugin uninstallations",
        attributes: &[attr::PLUGIN_NAME, attr::SUCCESS],
        buckets: &[],
    };
    /// Tasks that ended with outcome `success` or `partial`.
    pub const TASK_COMPLETED: MetricDef = MetricDef {
        name: "han.task.completed",
        kind: MetricKind::Counter,
        unit: "{task}",
        description: "Tasks completed",
        attributes: &[attr::TASK_TYPE, attr::OUTCOME, attr::CONFIDENCE_BUCKET],
        buckets: &[],
    };
    /// Tasks that ended with outcome `failure`.
    pub const TASK_FAILED: MetricDef = MetricDef {
        name: "han.task.failed",
        kind: MetricKind::Counter,
        unit: "{task}",
        description: "Tasks failed",
        attributes: &[attr::TASK_TYPE, attr::OUTCOME, attr::CONFIDENCE_BUCKET],
        buckets: &[],
    };
    /// Validation runs.
    pub const VALIDATION_RUN: MetricDef = MetricDef {
        name: "han.validation.run",
        kind: MetricKind::Counter,
        unit: "{run}",
        description: "Validation runs",
        attributes: &[attr::VALIDATION_TYPE, attr::PASSED, attr::ERROR_COUNT],
        buckets: &[],
    };
    /// MCP tool calls. Han's page lists `duration_ms` here too; it is left out because a
    /// per-call value as an attribute makes one time series per call.
    pub const MCP_TOOL_CALL: MetricDef = MetricDef {
        name: "han.mcp.tool_call",
        kind: MetricKind::Counter,
        unit: "{call}",
        description: "MCP tool calls",
        attributes: &[attr::TOOL_NAME, attr::SUCCESS],
        buckets: &[],
    };
    /// Han sessions started.
    pub const SESSION_START: MetricDef = MetricDef {
        name: "han.session.start",
        kind: MetricKind::Counter,
        unit: "{session}",
        description: "Han sessions started",
        attributes: &[],
        buckets: &[],
    };
    /// Frustration events detected.
    pub const FRUSTRATION_DETECTED: MetricDef = MetricDef {
        name: "han.frustration.detected",
        kind: MetricKind::Counter,
        unit: "{event}",
        description: "Frustration events detected",
        attributes: &[attr::LEVEL, attr::SCORE_BUCKET],
        buckets: &[],
    };

    /// All ten metrics, in the order of Han's page.
    pub const ALL: [&MetricDef; 10] = [
        &HOOK_EXECUTION,
        &HOOK_DURATION,
        &PLUGIN_INSTALL,
        &PLUGIN_UNINSTALL,
        &TASK_COMPLETED,
        &TASK_FAILED,
        &VALIDATION_RUN,
        &MCP_TOOL_CALL,
        &SESSION_START,
        &FRUSTRATION_DETECTED,
    ];
}

/// The events.
pub mod event {
    use super::{EventDef, EventSeverity, attr};

    /// One hook execution.
    pub const HOOK_RESULT: EventDef = EventDef {
        name: "han.hook_result",
        severity: EventSeverity::Info,
        attributes: &[
            attr::HOOK_NAME,
            attr::SUCCESS,
            attr::DURATION_MS,
            attr::HOOK_TYPE,
        ],
    };
    /// A validation that found errors.
    pub const VALIDATION_ERROR: EventDef = EventDef {
        name: "han.validation_error",
        severity: EventSeverity::Warn,
        attributes: &[attr::VALIDATION_TYPE, attr::ERROR_COUNT],
    };
    /// A task that ended.
    pub const TASK_OUTCOME: EventDef = EventDef {
        name: "han.task_outcome",
        severity: EventSeverity::Info,
        attributes: &[attr::TASK_TYPE, attr::OUTCOME, attr::CONFIDENCE],
    };
    /// A plugin installed or uninstalled.
    pub const PLUGIN_EVENT: EventDef = EventDef {
        name: "han.plugin_event",
        severity: EventSeverity::Info,
        attributes: &[attr::ACTION, attr::PLUGIN_NAME, attr::SCOPE, attr::SUCCESS],
    };

    /// All four events, in the order of Han's page.
    pub const ALL: [&EventDef; 4] = [
        &HOOK_RESULT,
        &VALIDATION_ERROR,
        &TASK_OUTCOME,
        &PLUGIN_EVENT,
    ];
}

/// Standard attributes that may be added to every metric data point and event, and the
/// variable that controls each (`None`: always included when known).
pub const STANDARD_ATTRIBUTES: [(&str, Option<&str>); 5] = [
    (attr::SESSION_ID, Some(vars::INCLUDE_SESSION_ID.name)),
    (attr::APP_VERSION, Some(vars::INCLUDE_VERSION.name)),
    (attr::ACCOUNT_UUID, Some(vars::INCLUDE_ACCOUNT_UUID.name)),
    (attr::ORGANIZATION_ID, None),
    (attr::TERMINAL_TYPE, None),
];

/// Rounds a value in `[0, 1]` down to a tenth and renders it as Han does (`floor(v*10)/10`):
/// `0.73` → `"0.7"`, `1.0` → `"1.0"`. Out-of-range values are clamped; NaN is `"unknown"`.
pub fn tenth_bucket(value: f64) -> &'static str {
    const BUCKETS: [&str; 11] = [
        "0.0", "0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9", "1.0",
    ];
    if value.is_nan() {
        return "unknown";
    }
    let tenth = (value.clamp(0.0, 1.0) * 10.0).floor();
    // `tenth` is in 0.0..=10.0, so the cast is exact and in bounds.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let index = tenth as usize;
    BUCKETS.get(index).copied().unwrap_or("1.0")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ten_metrics_and_four_events_with_unique_names() {
        let metrics: HashSet<_> = metric::ALL.iter().map(|m| m.name).collect();
        let events: HashSet<_> = event::ALL.iter().map(|e| e.name).collect();
        assert_eq!(metrics.len(), 10);
        assert_eq!(events.len(), 4);
    }

    #[test]
    fn no_per_call_values_as_metric_attributes() {
        for m in metric::ALL {
            for key in m.attributes {
                assert!(
                    ![attr::DURATION_MS, attr::SESSION_ID, attr::CONFIDENCE].contains(key),
                    "{} carries per-call attribute {key}",
                    m.name
                );
            }
        }
    }

    #[test]
    fn histograms_have_sorted_buckets_reaching_the_hook_limit_and_counters_none() {
        for m in metric::ALL {
            match m.kind {
                MetricKind::Histogram => {
                    assert!(m.buckets.windows(2).all(|w| w[0] < w[1]), "{}", m.name);
                    assert_eq!(m.buckets.last(), Some(&600_000.0), "{}", m.name);
                }
                MetricKind::Counter => assert!(m.buckets.is_empty(), "{}", m.name),
            }
        }
    }

    #[test]
    fn tenth_bucket_follows_hans_rounding() {
        assert_eq!(tenth_bucket(0.0), "0.0");
        assert_eq!(tenth_bucket(0.73), "0.7");
        assert_eq!(tenth_bucket(0.99), "0.9");
        assert_eq!(tenth_bucket(1.0), "1.0");
        assert_eq!(tenth_bucket(7.5), "1.0");
        assert_eq!(tenth_bucket(-3.0), "0.0");
        assert_eq!(tenth_bucket(f64::NAN), "unknown");
        assert_eq!(tenth_bucket(f64::INFINITY), "1.0");
    }
}
