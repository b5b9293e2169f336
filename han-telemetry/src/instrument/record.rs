//! Typed recording of every catalogue entry, for code paths no annotation reaches.
//!
//! Each function records the metric(s) and the event that belong together, so a caller
//! cannot emit one without the other, and appends the occurrence to the local store. All of
//! them are no-ops (one atomic load) when telemetry and the store are off. String arguments take anything that converts into an OpenTelemetry
//! [`StringValue`]: a `&'static str` costs no allocation.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use opentelemetry::logs::{AnyValue, LogRecord as _};
use opentelemetry::{Key, KeyValue, StringValue};

use crate::catalogue::{attr, event, tenth_bucket};
use crate::instrument::site::Site;
use crate::pipeline::{Pipeline, with_current};
use crate::store::{Entry, Moment, unit_interval};

/// How a task ended. `Success` and `Partial` count in `han.task.completed`, `Failure` in
/// `han.task.failed`; the outcome is an attribute of both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskOutcome {
    /// The task did what was asked.
    Success,
    /// The task did part of what was asked.
    Partial,
    /// The task failed.
    Failure,
}

impl TaskOutcome {
    /// The attribute value: `success`, `partial` or `failure`.
    pub const fn as_str(self) -> &'static str {
        match self {
            TaskOutcome::Success => "success",
            TaskOutcome::Partial => "partial",
            TaskOutcome::Failure => "failure",
        }
    }
}

/// Milliseconds as a float, the unit of `han.hook.duration_ms` and of `duration_ms`.
fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1_000.0
}

/// Adds the standard attributes to a metric's own attributes and records with `f`.
fn with_standard<const N: usize>(
    standard: &[KeyValue],
    own: [KeyValue; N],
    f: impl FnOnce(&[KeyValue]),
) {
    if standard.is_empty() {
        f(&own);
    } else {
        let mut all = Vec::with_capacity(N + standard.len());
        all.extend(own);
        all.extend(standard.iter().cloned());
        f(&all);
    }
}

/// One hook execution: `han.hook.execution`, `han.hook.duration_ms` and `han.hook_result`.
pub fn hook_run(
    hook_name: impl Into<StringValue>,
    hook_type: impl Into<StringValue>,
    success: bool,
    duration: Duration,
) {
    with_current(|p| {
        hook_run_in(
            p,
            hook_name,
            hook_type,
            success,
            duration,
            Moment::of(SystemTime::now()),
        );
    });
}

/// `at` is when the run ended.
pub(crate) fn hook_run_in(
    p: &Pipeline,
    hook_name: impl Into<StringValue>,
    hook_type: impl Into<StringValue>,
    success: bool,
    duration: Duration,
    at: Moment,
) {
    let (standard, session_id) =
        p.read_standard(|s| (Arc::clone(&s.key_values), s.session_id.clone()));
    let (name, kind) = (hook_name.into(), hook_type.into());
    let ms = millis(duration);
    if let Some(m) = &p.instruments {
        let own = [
            KeyValue::new(attr::HOOK_NAME, name.clone()),
            KeyValue::new(attr::HOOK_TYPE, kind.clone()),
            KeyValue::new(attr::SUCCESS, success),
        ];
        with_standard(&standard, own, |attrs| {
            m.hook_execution().add(1, attrs);
            m.hook_duration().record(ms, attrs);
        });
    }
    hook_result(
        p,
        &standard,
        session_id.as_deref(),
        name,
        kind,
        success,
        ms,
        at,
    );
}

/// [`hook_run_in`] for an annotated hook with a call-site cache, which holds its names: its
/// metrics through the site's bound instruments when they are bound for `p`, else the
/// ordinary path. `at` is when the run ended.
#[inline]
pub(crate) fn hook_run_at(
    p: &Pipeline,
    site: &Site,
    success: bool,
    duration: Duration,
    at: Moment,
) {
    let ms = millis(duration);
    match site.record_hook(p, success, ms) {
        Some(bound) => hook_result(
            p,
            &bound.standard,
            bound.session_id.as_deref(),
            site.hook_name(),
            site.hook_type(),
            success,
            ms,
            at,
        ),
        None => hook_run_in(p, site.hook_name(), site.hook_type(), success, duration, at),
    }
}

/// The parts of a hook run besides its metrics: the local store's record and the event, both
/// made at `at`. The names are taken as given (a site's are `&'static str`), and turned into
/// attribute values where they are recorded.
#[allow(clippy::too_many_arguments)]
#[inline]
fn hook_result<S: Into<StringValue> + AsRef<str>>(
    p: &Pipeline,
    standard: &[KeyValue],
    session_id: Option<&str>,
    name: S,
    kind: S,
    success: bool,
    ms: f64,
    at: Moment,
) {
    p.store_in_session_at(session_id, at, || Entry::Hook {
        hook_name: name.as_ref().into(),
        hook_type: kind.as_ref().into(),
        success,
        duration_ms: ms,
    });
    p.emit_event_with(&event::HOOK_RESULT, standard, at, |record| {
        record.add_attribute(Key::from_static_str(attr::HOOK_NAME), name.into());
        record.add_attribute(Key::from_static_str(attr::SUCCESS), success);
        record.add_attribute(Key::from_static_str(attr::DURATION_MS), ms);
        record.add_attribute(Key::from_static_str(attr::HOOK_TYPE), kind.into());
    });
}

/// A plugin installation: `han.plugin.install` and `han.plugin_event` (`action=install`).
pub fn plugin_install(
    plugin_name: impl Into<StringValue>,
    scope: impl Into<StringValue>,
    success: bool,
) {
    with_current(|p| plugin_install_in(p, plugin_name, scope, success));
}

pub(crate) fn plugin_install_in(
    p: &Pipeline,
    plugin_name: impl Into<StringValue>,
    scope: impl Into<StringValue>,
    success: bool,
) {
    let standard = p.standard();
    let (name, scope) = (plugin_name.into(), scope.into());
    p.store(|| Entry::PluginInstall {
        plugin_name: name.as_str().into(),
        scope: scope.as_str().into(),
        success,
    });
    if let Some(m) = &p.instruments {
        let own = [
            KeyValue::new(attr::PLUGIN_NAME, name.clone()),
            KeyValue::new(attr::SCOPE, scope.clone()),
            KeyValue::new(attr::SUCCESS, success),
        ];
        with_standard(&standard, own, |attrs| m.plugin_install().add(1, attrs));
    }
    plugin_event(p, &standard, "install", name, scope, success);
}

/// A plugin uninstallation: `han.plugin.uninstall` (without scope, as Han's page defines it)
/// and `han.plugin_event` (`action=uninstall`, with scope).
pub fn plugin_uninstall(
    plugin_name: impl Into<StringValue>,
    scope: impl Into<StringValue>,
    success: bool,
) {
    with_current(|p| plugin_uninstall_in(p, plugin_name, scope, success));
}

pub(crate) fn plugin_uninstall_in(
    p: &Pipeline,
    plugin_name: impl Into<StringValue>,
    scope: impl Into<StringValue>,
    success: bool,
) {
    let standard = p.standard();
    let (name, scope) = (plugin_name.into(), scope.into());
    p.store(|| Entry::PluginUninstall {
        plugin_name: name.as_str().into(),
        scope: scope.as_str().into(),
        success,
    });
    if let Some(m) = &p.instruments {
        let own = [
            KeyValue::new(attr::PLUGIN_NAME, name.clone()),
            KeyValue::new(attr::SUCCESS, success),
        ];
        with_standard(&standard, own, |attrs| m.plugin_uninstall().add(1, attrs));
    }
    plugin_event(p, &standard, "uninstall", name, scope, success);
}

fn plugin_event(
    p: &Pipeline,
    standard: &[KeyValue],
    action: &'static str,
    name: StringValue,
    scope: StringValue,
    success: bool,
) {
    p.emit_event(
        &event::PLUGIN_EVENT,
        [
            (attr::ACTION, AnyValue::from(action)),
            (attr::PLUGIN_NAME, AnyValue::String(name)),
            (attr::SCOPE, AnyValue::String(scope)),
            (attr::SUCCESS, AnyValue::Boolean(success)),
        ],
        standard,
    );
}

/// A task that ended: `han.task.completed` or `han.task.failed` (by outcome) and
/// `han.task_outcome`. `confidence` is the task's own estimate in `[0, 1]`; the metric gets
/// it rounded down to a tenth (`confidence_bucket`), the event the exact value.
pub fn task(task_type: impl Into<StringValue>, outcome: TaskOutcome, confidence: f64) {
    with_current(|p| task_in(p, task_type, outcome, confidence));
}

pub(crate) fn task_in(
    p: &Pipeline,
    task_type: impl Into<StringValue>,
    outcome: TaskOutcome,
    confidence: f64,
) {
    let standard = p.standard();
    let task_type = task_type.into();
    p.store(|| Entry::Task {
        task_type: task_type.as_str().into(),
        outcome: outcome.as_str().into(),
        confidence: unit_interval(confidence),
    });
    if let Some(m) = &p.instruments {
        let own = [
            KeyValue::new(attr::TASK_TYPE, task_type.clone()),
            KeyValue::new(attr::OUTCOME, outcome.as_str()),
            KeyValue::new(attr::CONFIDENCE_BUCKET, tenth_bucket(confidence)),
        ];
        let counter = match outcome {
            TaskOutcome::Failure => &m.task_failed(),
            TaskOutcome::Success | TaskOutcome::Partial => &m.task_completed(),
        };
        with_standard(&standard, own, |attrs| counter.add(1, attrs));
    }
    let confidence = match unit_interval(confidence) {
        Some(c) => AnyValue::Double(c),
        None => AnyValue::from("unknown"),
    };
    p.emit_event(
        &event::TASK_OUTCOME,
        [
            (attr::TASK_TYPE, AnyValue::String(task_type)),
            (attr::OUTCOME, AnyValue::from(outcome.as_str())),
            (attr::CONFIDENCE, confidence),
        ],
        &standard,
    );
}

/// A validation run: `han.validation.run`, plus `han.validation_error` (WARN) when it did
/// not pass.
pub fn validation(validation_type: impl Into<StringValue>, passed: bool, error_count: u64) {
    with_current(|p| validation_in(p, validation_type, passed, error_count));
}

pub(crate) fn validation_in(
    p: &Pipeline,
    validation_type: impl Into<StringValue>,
    passed: bool,
    error_count: u64,
) {
    let standard = p.standard();
    let validation_type = validation_type.into();
    let errors = i64::try_from(error_count).unwrap_or(i64::MAX);
    p.store(|| Entry::Validation {
        validation_type: validation_type.as_str().into(),
        passed,
        error_count,
    });
    if let Some(m) = &p.instruments {
        let own = [
            KeyValue::new(attr::VALIDATION_TYPE, validation_type.clone()),
            KeyValue::new(attr::PASSED, passed),
            KeyValue::new(attr::ERROR_COUNT, errors),
        ];
        with_standard(&standard, own, |attrs| m.validation_run().add(1, attrs));
    }
    if !passed {
        p.emit_event(
            &event::VALIDATION_ERROR,
            [
                (attr::VALIDATION_TYPE, AnyValue::String(validation_type)),
                (attr::ERROR_COUNT, AnyValue::Int(errors)),
            ],
            &standard,
        );
    }
}

/// An MCP tool call: `han.mcp.tool_call`.
pub fn mcp_tool_call(tool_name: impl Into<StringValue>, success: bool) {
    with_current(|p| mcp_tool_call_in(p, tool_name, success));
}

pub(crate) fn mcp_tool_call_in(p: &Pipeline, tool_name: impl Into<StringValue>, success: bool) {
    let standard = p.standard();
    let tool_name = tool_name.into();
    p.store(|| Entry::McpToolCall {
        tool_name: tool_name.as_str().into(),
        success,
    });
    if let Some(m) = &p.instruments {
        let own = [
            KeyValue::new(attr::TOOL_NAME, tool_name),
            KeyValue::new(attr::SUCCESS, success),
        ];
        with_standard(&standard, own, |attrs| m.mcp_tool_call().add(1, attrs));
    }
}

/// A Han session started: `han.session.start`.
pub fn session_start() {
    with_current(|p| session_start_in(p));
}

pub(crate) fn session_start_in(p: &Pipeline) {
    let standard = p.standard();
    p.store(|| Entry::SessionStart {});
    if let Some(m) = &p.instruments {
        with_standard(&standard, [], |attrs| m.session_start().add(1, attrs));
    }
}

/// Frustration detected: `han.frustration.detected` with `level` (e.g. `low`, `medium`,
/// `high`) and the score in `[0, 1]` rounded down to a tenth.
pub fn frustration(level: impl Into<StringValue>, score: f64) {
    with_current(|p| frustration_in(p, level, score));
}

pub(crate) fn frustration_in(p: &Pipeline, level: impl Into<StringValue>, score: f64) {
    let standard = p.standard();
    let level = level.into();
    p.store(|| Entry::Frustration {
        level: level.as_str().into(),
        score: unit_interval(score),
    });
    if let Some(m) = &p.instruments {
        let own = [
            KeyValue::new(attr::LEVEL, level),
            KeyValue::new(attr::SCORE_BUCKET, tenth_bucket(score)),
        ];
        with_standard(&standard, own, |attrs| {
            m.frustration_detected().add(1, attrs)
        });
    }
}
