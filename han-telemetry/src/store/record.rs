//! One line of the store: the versioned record format.

use std::borrow::Cow;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

/// The format version this crate writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// The longest line the store writes or reads; records are a few hundred bytes.
pub const MAX_LINE_BYTES: usize = 1024 * 1024;

/// One recorded occurrence: what happened, when, in which session.
///
/// Strings are [`Cow`] so writing borrows the caller's values; records read back own theirs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record<'a> {
    /// Format version ([`FORMAT_VERSION`]).
    pub v: u32,
    /// Unique per record: 16 hex digits per writing process, `-`, a sequence number.
    pub id: Cow<'a, str>,
    /// When it was recorded (RFC 3339 UTC with milliseconds on disk).
    #[serde(with = "rfc3339")]
    pub ts: SystemTime,
    /// The Claude Code session, when the host set it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<Cow<'a, str>>,
    /// What happened.
    #[serde(flatten)]
    pub entry: Entry<'a>,
}

/// What happened, by kind (the `kind` field on disk).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Entry<'a> {
    /// A hook ran.
    Hook {
        /// `hook_name`.
        hook_name: Cow<'a, str>,
        /// `hook_type`, e.g. `PostToolUse`.
        hook_type: Cow<'a, str>,
        /// Whether it succeeded.
        success: bool,
        /// How long it took.
        duration_ms: f64,
    },
    /// A plugin was installed.
    PluginInstall {
        /// `plugin_name`.
        plugin_name: Cow<'a, str>,
        /// `scope`, e.g. `user` or `project`.
        scope: Cow<'a, str>,
        /// Whether it succeeded.
        success: bool,
    },
    /// A plugin was uninstalled.
    PluginUninstall {
        /// `plugin_name`.
        plugin_name: Cow<'a, str>,
        /// `scope`.
        scope: Cow<'a, str>,
        /// Whether it succeeded.
        success: bool,
    },
    /// A task ended.
    Task {
        /// `task_type`.
        task_type: Cow<'a, str>,
        /// `success`, `partial` or `failure`.
        outcome: Cow<'a, str>,
        /// The task's own confidence in `[0, 1]`, when it gave one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        confidence: Option<f64>,
    },
    /// A validation ran.
    Validation {
        /// `validation_type`.
        validation_type: Cow<'a, str>,
        /// Whether it passed.
        passed: bool,
        /// How many errors it found.
        error_count: u64,
    },
    /// An MCP tool was called.
    McpToolCall {
        /// `tool_name`.
        tool_name: Cow<'a, str>,
        /// Whether it succeeded.
        success: bool,
    },
    /// A Han session started.
    SessionStart {},
    /// Frustration was detected.
    Frustration {
        /// `level`, e.g. `low`, `medium`, `high`.
        level: Cow<'a, str>,
        /// The score in `[0, 1]`, when known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        score: Option<f64>,
    },
    /// What became of one process's OTLP export, per signal: written by the process at
    /// exit, or by `han-telemetry replay` once it has sent that process's records.
    Export {
        /// The process whose records this is about: the 16 hex digits of their `id`s.
        of: Cow<'a, str>,
        /// Written by a replay rather than by the process itself.
        #[serde(default, skip_serializing_if = "is_false")]
        replay: bool,
        /// Metrics, when an OTLP metrics exporter was configured.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        metrics: Option<ExportOutcome>,
        /// Events (logs), when an OTLP logs exporter was configured.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        logs: Option<ExportOutcome>,
        /// Spans, when an OTLP traces exporter was configured (spans are not kept, so
        /// never replayed).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        traces: Option<ExportOutcome>,
        /// Events left out of the export because its queue was full (the store has them);
        /// absent when none were.
        #[serde(default, skip_serializing_if = "is_zero")]
        logs_dropped: u64,
    },
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// What became of a process's OTLP exports of one signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportOutcome {
    /// Every export succeeded (or there was nothing to send).
    Delivered,
    /// Every export failed without the collector judging the data (refused, unreachable,
    /// unavailable, TLS, credentials...): the records can be sent again.
    Failed,
    /// The collector answered that it cannot take the data (400, `InvalidArgument`, a
    /// partial success): sending it again would be refused again.
    Rejected,
    /// Some exports succeeded and some failed: which records arrived is unknown, so they
    /// are not sent again (that could count them twice).
    Mixed,
    /// Still exporting when the exit budget ran out.
    Abandoned,
    /// Not attempted: export to the destination was paused after a recent reachability
    /// failure (see the export gate in `han_telemetry::gate`); the records can be sent again.
    Deferred,
}

impl ExportOutcome {
    /// Whether a replay should send the records again.
    pub fn is_resendable(self) -> bool {
        matches!(self, Self::Failed | Self::Abandoned | Self::Deferred)
    }

    /// The name written on disk.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delivered => "delivered",
            Self::Failed => "failed",
            Self::Rejected => "rejected",
            Self::Mixed => "mixed",
            Self::Abandoned => "abandoned",
            Self::Deferred => "deferred",
        }
    }
}

impl Entry<'_> {
    /// The kinds this version knows, as written in the `kind` field.
    pub const KINDS: [&'static str; 9] = [
        "hook",
        "plugin_install",
        "plugin_uninstall",
        "task",
        "validation",
        "mcp_tool_call",
        "session_start",
        "frustration",
        "export",
    ];

    /// Copies borrowed strings so the entry outlives its source.
    pub fn into_owned(self) -> Entry<'static> {
        fn own(s: Cow<'_, str>) -> Cow<'static, str> {
            Cow::Owned(s.into_owned())
        }
        match self {
            Entry::Hook {
                hook_name,
                hook_type,
                success,
                duration_ms,
            } => Entry::Hook {
                hook_name: own(hook_name),
                hook_type: own(hook_type),
                success,
                duration_ms,
            },
            Entry::PluginInstall {
                plugin_name,
                scope,
                success,
            } => Entry::PluginInstall {
                plugin_name: own(plugin_name),
                scope: own(scope),
                success,
            },
            Entry::PluginUninstall {
                plugin_name,
                scope,
                success,
            } => Entry::PluginUninstall {
                plugin_name: own(plugin_name),
                scope: own(scope),
                success,
            },
            Entry::Task {
                task_type,
                outcome,
                confidence,
            } => Entry::Task {
                task_type: own(task_type),
                outcome: own(outcome),
                confidence,
            },
            Entry::Validation {
                validation_type,
                passed,
                error_count,
            } => Entry::Validation {
                validation_type: own(validation_type),
                passed,
                error_count,
            },
            Entry::McpToolCall { tool_name, success } => Entry::McpToolCall {
                tool_name: own(tool_name),
                success,
            },
            Entry::SessionStart {} => Entry::SessionStart {},
            Entry::Frustration { level, score } => Entry::Frustration {
                level: own(level),
                score,
            },
            Entry::Export {
                of,
                replay,
                metrics,
                logs,
                traces,
                logs_dropped,
            } => Entry::Export {
                of: own(of),
                replay,
                metrics,
                logs,
                traces,
                logs_dropped,
            },
        }
    }
}

/// A number in `[0, 1]`, or nothing for NaN (JSON has no NaN).
pub(crate) fn unit_interval(value: f64) -> Option<f64> {
    (!value.is_nan()).then(|| value.clamp(0.0, 1.0))
}

/// `ts` on disk: RFC 3339 in UTC with milliseconds.
mod rfc3339 {
    use std::time::SystemTime;

    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    pub(super) fn serialize<S: Serializer>(ts: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&super::super::day::timestamp(*ts))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SystemTime, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        humantime::parse_rfc3339_weak(&text).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    fn at(ms: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(ms)
    }

    #[test]
    fn a_hook_record_has_the_documented_shape() {
        let record = Record {
            v: FORMAT_VERSION,
            id: "3f9a0c2e7b1d4e85-0".into(),
            ts: at(1_795_451_010_123),
            session_id: Some("abc".into()),
            entry: Entry::Hook {
                hook_name: "lint".into(),
                hook_type: "PostToolUse".into(),
                success: true,
                duration_ms: 12.5,
            },
        };
        let line = serde_json::to_string(&record).unwrap();
        assert_eq!(
            line,
            r#"{"v":1,"id":"3f9a0c2e7b1d4e85-0","ts":"2026-11-23T16:23:30.123Z","session_id":"abc","kind":"hook","hook_name":"lint","hook_type":"PostToolUse","success":true,"duration_ms":12.5}"#
        );
        let back: Record<'static> = serde_json::from_str(&line).unwrap();
        assert_eq!(back, record);
    }

    #[test]
    fn every_kind_round_trips() {
        let entries = [
            Entry::PluginInstall {
                plugin_name: "p".into(),
                scope: "user".into(),
                success: false,
            },
            Entry::PluginUninstall {
                plugin_name: "p".into(),
                scope: "project".into(),
                success: true,
            },
            Entry::Task {
                task_type: "fix".into(),
                outcome: "partial".into(),
                confidence: Some(0.75),
            },
            Entry::Task {
                task_type: "fix".into(),
                outcome: "failure".into(),
                confidence: None,
            },
            Entry::Validation {
                validation_type: "lint".into(),
                passed: false,
                error_count: 3,
            },
            Entry::McpToolCall {
                tool_name: "search".into(),
                success: true,
            },
            Entry::SessionStart {},
            Entry::Frustration {
                level: "high".into(),
                score: Some(0.9),
            },
            Entry::Export {
                of: "3f9a0c2e7b1d4e85".into(),
                replay: false,
                metrics: Some(ExportOutcome::Failed),
                logs: Some(ExportOutcome::Abandoned),
                traces: None,
                logs_dropped: 0,
            },
            Entry::Export {
                of: "3f9a0c2e7b1d4e85".into(),
                replay: true,
                metrics: Some(ExportOutcome::Delivered),
                logs: Some(ExportOutcome::Rejected),
                traces: Some(ExportOutcome::Mixed),
                logs_dropped: 12,
            },
        ];
        let mut kinds = Vec::new();
        for entry in entries {
            let record = Record {
                v: 1,
                id: "x-1".into(),
                ts: at(0),
                session_id: None,
                entry,
            };
            let line = serde_json::to_string(&record).unwrap();
            let value: serde_json::Value = serde_json::from_str(&line).unwrap();
            kinds.push(value["kind"].as_str().unwrap().to_owned());
            assert!(value.get("session_id").is_none(), "{line}");
            let back: Record<'static> = serde_json::from_str(&line).unwrap();
            assert_eq!(back, record);
        }
        kinds.push("hook".to_owned());
        kinds.sort();
        kinds.dedup();
        let mut known = Entry::KINDS.map(str::to_owned).to_vec();
        known.sort();
        assert_eq!(kinds, known);
    }

    #[test]
    fn an_export_receipt_reads_as_documented() {
        let line = r#"{"v":1,"id":"3f9a0c2e7b1d4e85-7","ts":"2026-11-23T16:23:31.000Z","kind":"export","of":"3f9a0c2e7b1d4e85","metrics":"failed","logs":"abandoned"}"#;
        let record: Record<'static> = serde_json::from_str(line).unwrap();
        assert_eq!(
            record.entry,
            Entry::Export {
                of: "3f9a0c2e7b1d4e85".into(),
                replay: false,
                metrics: Some(ExportOutcome::Failed),
                logs: Some(ExportOutcome::Abandoned),
                traces: None,
                logs_dropped: 0,
            }
        );
        assert_eq!(serde_json::to_string(&record).unwrap(), line);
        assert!(ExportOutcome::Abandoned.is_resendable());
        assert!(ExportOutcome::Deferred.is_resendable());
        assert!(!ExportOutcome::Mixed.is_resendable());
        assert!(!ExportOutcome::Rejected.is_resendable());
    }

    #[test]
    fn nan_never_reaches_the_file() {
        assert_eq!(unit_interval(f64::NAN), None);
        assert_eq!(unit_interval(1.5), Some(1.0));
        assert_eq!(unit_interval(-0.5), Some(0.0));
    }
}
