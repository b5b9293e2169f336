//! Every variable han-telemetry reads, defined once: its name, what it holds (with the default
//! and the range), how it is masked, what it decides, and where it is honoured from.
//!
//! Resolution, diagnostics, masking, the trust rules, the documentation's table and the
//! property tests all read these two tables ([`ALL`] and [`OTLP`]); no other code spells a
//! variable's name.

use super::value::{Compression, Exporter, Protocol, Signal, Temporality};
use crate::mask::Mask;

/// One variable.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Var {
    /// As set in the environment or a settings file's `env` block.
    pub name: &'static str,
    /// What it holds, with its default and range.
    pub kind: Kind,
    /// What a wrong value of it can affect, which decides when a problem with it is worth a
    /// line on every hook's stderr.
    pub role: Role,
    /// How its value may be shown.
    pub mask: Mask,
    /// Which sources may set it.
    pub honoured: Honoured,
    /// One line for the documentation's table.
    pub meaning: &'static str,
}

/// What a variable holds. Defaults and ranges live here, so resolution and the
/// documentation cannot disagree.
// Each variant's fields are its default and its bounds, as named.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Kind {
    /// `1`, `true`, `yes`, `on` (or `0`, `false`, `no`, `off`): the shell-style words Claude
    /// Code users write.
    Switch { default: bool },
    /// The OTel spec's booleans: `true` or `false` only.
    Bool { default: bool },
    /// Claude Code's `OTEL_METRICS_INCLUDE_*` switches: `true`, `false`, `1` or `0`.
    Include { default: bool },
    /// A comma list of exporters, or `none`.
    Exporters { default: &'static [Exporter] },
    /// An OTLP transport.
    Protocol { default: Protocol },
    /// A payload compression.
    Compression { default: Compression },
    /// A metric temporality preference.
    Temporality { default: Temporality },
    /// Whole milliseconds in `min..=max`; larger values clamp.
    Millis { min: u64, max: u64, default: u64 },
    /// Whole days in `min..=max`; larger values clamp.
    Days { min: u64, max: u64, default: u64 },
    /// An `http`/`https` URL; the default depends on the protocol: `grpc` as it is, `http` as a
    /// base that gets `/v1/<signal>`.
    Endpoint {
        grpc: &'static str,
        http: &'static str,
    },
    /// `key=value,...`, values percent-decoded.
    Headers,
    /// `key=value,...`, percent-decoded.
    ResourceAttributes,
    /// Free text, trimmed; `default` when unset.
    Text { default: &'static str },
    /// An absolute file or directory path; the default, if any, is computed.
    Path,
    /// A W3C `traceparent`.
    TraceParent,
    /// A W3C `tracestate`.
    TraceState,
}

/// What a variable decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Role {
    /// Whether telemetry is on at all.
    Switch,
    /// Whether project files are trusted.
    Trust,
    /// The local metrics store, which records whatever the OpenTelemetry settings.
    Store,
    /// How telemetry is exported: only relevant while it is on.
    Export,
    /// Where an OTLP signal goes, and whom the connection trusts: the destination a
    /// credential may only follow when a source as trusted chose it.
    Destination,
    /// What proves who is sending: headers, the client certificate and key.
    Credential,
}

/// Which sources may set a variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Honoured {
    /// Managed settings, the process environment and the user's settings; project files only
    /// when [`TRUST_PROJECT_SETTINGS`] trusts them.
    Trusted,
    /// Managed settings, the process environment and the user's settings; never project
    /// files (the switch that would trust them).
    NeverFromProject,
    /// A top-level key of managed and user settings (project files only when
    /// [`TRUST_PROJECT_SETTINGS`] trusts them), as Claude Code reads it: never the process
    /// environment nor an `env` block.
    SettingsKey,
}

const fn var(name: &'static str, kind: Kind, role: Role, meaning: &'static str) -> Var {
    Var {
        name,
        kind,
        role,
        mask: Mask::Plain,
        honoured: Honoured::Trusted,
        meaning,
    }
}

const MAX_INTERVAL_MS: u64 = 86_400_000;

/// The switch that lets a project's settings files configure telemetry.
pub const TRUST_PROJECT_SETTINGS: Var = Var {
    honoured: Honoured::NeverFromProject,
    ..var(
        "HAN_TELEMETRY_TRUST_PROJECT_SETTINGS",
        Kind::Switch { default: false },
        Role::Trust,
        "`1` lets a project's `.claude/settings*.json` configure telemetry; honoured from managed, environment and user settings only",
    )
};
/// Telemetry on or off.
pub const ENABLE_TELEMETRY: Var = var(
    "CLAUDE_CODE_ENABLE_TELEMETRY",
    Kind::Switch { default: false },
    Role::Switch,
    "`1`/`true`/`yes`/`on` turns telemetry on",
);
/// The OTel spec's master switch.
pub const SDK_DISABLED: Var = var(
    "OTEL_SDK_DISABLED",
    Kind::Bool { default: false },
    Role::Switch,
    "`true` turns everything off",
);
/// Where metrics go.
pub const METRICS_EXPORTER: Var = var(
    "OTEL_METRICS_EXPORTER",
    Kind::Exporters {
        default: &[Exporter::Otlp],
    },
    Role::Export,
    "`otlp`, `console`, `none`, or a comma list",
);
/// Where events go.
pub const LOGS_EXPORTER: Var = var(
    "OTEL_LOGS_EXPORTER",
    Kind::Exporters {
        default: &[Exporter::Otlp],
    },
    Role::Export,
    "same, for events",
);
/// Where spans go.
pub const TRACES_EXPORTER: Var = var(
    "OTEL_TRACES_EXPORTER",
    Kind::Exporters { default: &[] },
    Role::Export,
    "same, for spans",
);
/// Delta or cumulative metrics.
pub const TEMPORALITY: Var = var(
    "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
    Kind::Temporality {
        default: Temporality::Delta,
    },
    Role::Export,
    "`delta` (as Claude Code), `cumulative`, `lowmemory`; hook processes must send `delta` for totals to add up",
);
/// Metric export period of long-running processes.
pub const METRIC_EXPORT_INTERVAL: Var = var(
    "OTEL_METRIC_EXPORT_INTERVAL",
    Kind::Millis {
        min: 1,
        max: MAX_INTERVAL_MS,
        default: 60_000,
    },
    Role::Export,
    "ms between metric exports in long-running processes",
);
/// Event export period of long-running processes.
pub const LOGS_EXPORT_INTERVAL: Var = var(
    "OTEL_LOGS_EXPORT_INTERVAL",
    Kind::Millis {
        min: 1,
        max: MAX_INTERVAL_MS,
        default: 5_000,
    },
    Role::Export,
    "ms between event exports",
);
/// `service.name`.
pub const SERVICE_NAME: Var = var(
    "OTEL_SERVICE_NAME",
    Kind::Text { default: "han" },
    Role::Export,
    "`service.name`",
);
/// Resource attributes.
pub const RESOURCE_ATTRIBUTES: Var = var(
    "OTEL_RESOURCE_ATTRIBUTES",
    Kind::ResourceAttributes,
    Role::Export,
    "`key=value,...`, percent-decoded (`org.name=John%27s%20Organization`)",
);
/// `session.id` on every point and event.
pub const INCLUDE_SESSION_ID: Var = var(
    "OTEL_METRICS_INCLUDE_SESSION_ID",
    Kind::Include { default: true },
    Role::Export,
    "attach `session.id`",
);
/// `app.version` on every point and event.
pub const INCLUDE_VERSION: Var = var(
    "OTEL_METRICS_INCLUDE_VERSION",
    Kind::Include { default: false },
    Role::Export,
    "attach `app.version`",
);
/// `user.account_uuid` on every point and event.
pub const INCLUDE_ACCOUNT_UUID: Var = var(
    "OTEL_METRICS_INCLUDE_ACCOUNT_UUID",
    Kind::Include { default: true },
    Role::Export,
    "attach `user.account_uuid`",
);
/// The trace a hook joins.
pub const TRACEPARENT: Var = var(
    "TRACEPARENT",
    Kind::TraceParent,
    Role::Export,
    "W3C trace context: spans join the trace that started the process",
);
/// Vendor trace state, kept with a valid parent.
pub const TRACESTATE: Var = var(
    "TRACESTATE",
    Kind::TraceState,
    Role::Export,
    "W3C trace state, kept only with a valid `TRACEPARENT`",
);
/// How long flushing may delay exit.
pub const EXIT_BUDGET: Var = var(
    "HAN_TELEMETRY_EXIT_BUDGET_MS",
    Kind::Millis {
        min: 0,
        max: 60_000,
        default: 1_000,
    },
    Role::Export,
    "the most flushing may delay exit",
);
/// The local store on or off.
pub const METRICS_STORE: Var = var(
    "HAN_METRICS_STORE",
    Kind::Switch { default: true },
    Role::Store,
    "`off`/`0` turns the local metrics store off (it is independent of `CLAUDE_CODE_ENABLE_TELEMETRY`)",
);
/// Han's data directory, whose `metrics` is the local store unless [`METRICS_DIR`] says
/// otherwise. Claude Code copies a project's `env` into hooks, this variable included, so a
/// project's value moves nothing unless the project is trusted.
pub const DATA_DIR: Var = var(
    "HAN_DATA_DIR",
    Kind::Path,
    Role::Store,
    "Han's data directory (an absolute path), found as Han finds it; the store is its `metrics`",
);
/// Where the local store goes.
pub const METRICS_DIR: Var = var(
    "HAN_METRICS_DIR",
    Kind::Path,
    Role::Store,
    "where the local store's day files go (an absolute path)",
);
/// How long day files are kept.
pub const METRICS_RETENTION_DAYS: Var = var(
    "HAN_METRICS_RETENTION_DAYS",
    Kind::Days {
        min: 1,
        max: 3_650,
        default: 30,
    },
    Role::Store,
    "day files older than this are deleted",
);

/// Claude Code's `otelHeadersHelper`: a program printing a JSON object of headers, whose
/// values join every OTLP export's headers. A credential: it goes only where a source at
/// least as trusted chose, and a project's runs only when project files are trusted.
pub const HEADERS_HELPER: Var = Var {
    honoured: Honoured::SettingsKey,
    ..var(
        "otelHeadersHelper",
        Kind::Path,
        Role::Credential,
        "a settings key (not an `env` variable): a program printing a JSON object of string headers for every export",
    )
};
/// How long a headers helper's result is used before it is run again.
pub const HEADERS_HELPER_DEBOUNCE: Var = var(
    "CLAUDE_CODE_OTEL_HEADERS_HELPER_DEBOUNCE_MS",
    Kind::Millis {
        min: 1,
        max: MAX_INTERVAL_MS,
        default: 1_740_000,
    },
    Role::Export,
    "ms a headers helper's result is used before the helper is run again",
);

/// Every variable but the OTLP exporter settings ([`OTLP`]), in the order the documentation
/// lists them.
pub const ALL: [Var; 23] = [
    ENABLE_TELEMETRY,
    SDK_DISABLED,
    TRUST_PROJECT_SETTINGS,
    METRICS_EXPORTER,
    LOGS_EXPORTER,
    TRACES_EXPORTER,
    TEMPORALITY,
    METRIC_EXPORT_INTERVAL,
    LOGS_EXPORT_INTERVAL,
    SERVICE_NAME,
    RESOURCE_ATTRIBUTES,
    INCLUDE_SESSION_ID,
    INCLUDE_VERSION,
    INCLUDE_ACCOUNT_UUID,
    HEADERS_HELPER,
    HEADERS_HELPER_DEBOUNCE,
    TRACEPARENT,
    TRACESTATE,
    EXIT_BUDGET,
    METRICS_STORE,
    DATA_DIR,
    METRICS_DIR,
    METRICS_RETENTION_DAYS,
];

/// One OTLP exporter setting: `OTEL_EXPORTER_OTLP_<SETTING>` for every signal, replaced one by
/// one by `OTEL_EXPORTER_OTLP_<SIGNAL>_<SETTING>` (the OTel spec's rule).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OtlpSetting {
    /// The generic variable's name, then those of metrics, logs and traces.
    pub names: [&'static str; 4],
    /// What the generic and the per-signal variables hold.
    pub kind: Kind,
    /// [`Role::Destination`], [`Role::Credential`] or [`Role::Export`].
    pub role: Role,
    /// How values are shown.
    pub mask: Mask,
    /// One line for the documentation's table.
    pub meaning: &'static str,
}

impl OtlpSetting {
    /// `ENDPOINT`, `HEADERS`, ...: the name without `OTEL_EXPORTER_OTLP_`.
    pub fn setting(&self) -> &'static str {
        self.names[0]
            .strip_prefix("OTEL_EXPORTER_OTLP_")
            .unwrap_or(self.names[0])
    }

    /// The generic variable (`signal` `None`) or a signal's own.
    pub fn var(&self, signal: Option<Signal>) -> Var {
        let index = match signal {
            None => 0,
            Some(Signal::Metrics) => 1,
            Some(Signal::Logs) => 2,
            Some(Signal::Traces) => 3,
        };
        Var {
            name: self.names[index],
            kind: self.kind,
            role: self.role,
            mask: self.mask,
            honoured: Honoured::Trusted,
            meaning: self.meaning,
        }
    }
}

const fn otlp(
    names: [&'static str; 4],
    kind: Kind,
    role: Role,
    meaning: &'static str,
) -> OtlpSetting {
    OtlpSetting {
        names,
        kind,
        role,
        mask: Mask::Plain,
        meaning,
    }
}

/// The protocol of every signal.
pub const PROTOCOL: OtlpSetting = otlp(
    [
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
        "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL",
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    ],
    Kind::Protocol {
        default: Protocol::Grpc,
    },
    Role::Export,
    "`grpc`, `http/protobuf`, `http/json`",
);
/// Where each signal goes.
pub const ENDPOINT: OtlpSetting = OtlpSetting {
    mask: Mask::Url,
    ..otlp(
        [
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
            "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        ],
        Kind::Endpoint {
            grpc: "http://localhost:4317",
            http: "http://localhost:4318",
        },
        Role::Destination,
        "HTTP gets `/v1/<signal>` appended; a signal's own endpoint is used as is",
    )
};
/// Headers on every export: usually the credential.
pub const HEADERS: OtlpSetting = OtlpSetting {
    mask: Mask::Headers,
    ..otlp(
        [
            "OTEL_EXPORTER_OTLP_HEADERS",
            "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
            "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
        ],
        Kind::Headers,
        Role::Credential,
        "`key=value,...`, values percent-decoded",
    )
};
/// Per-export timeout.
pub const TIMEOUT: OtlpSetting = otlp(
    [
        "OTEL_EXPORTER_OTLP_TIMEOUT",
        "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT",
        "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT",
        "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
    ],
    Kind::Millis {
        min: 1,
        max: 600_000,
        default: 10_000,
    },
    Role::Export,
    "per-export timeout, ms",
);
/// Payload compression.
pub const COMPRESSION: OtlpSetting = otlp(
    [
        "OTEL_EXPORTER_OTLP_COMPRESSION",
        "OTEL_EXPORTER_OTLP_METRICS_COMPRESSION",
        "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION",
        "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
    ],
    Kind::Compression {
        default: Compression::None,
    },
    Role::Export,
    "`gzip`, `zstd`, `none`",
);
/// A private CA: decides whom the connection trusts.
pub const CERTIFICATE: OtlpSetting = otlp(
    [
        "OTEL_EXPORTER_OTLP_CERTIFICATE",
        "OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE",
        "OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE",
        "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
    ],
    Kind::Path,
    Role::Destination,
    "PEM file of a private CA for `https://` endpoints",
);
/// The client certificate of mutual TLS.
pub const CLIENT_CERTIFICATE: OtlpSetting = otlp(
    [
        "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
        "OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE",
        "OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE",
        "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE",
    ],
    Kind::Path,
    Role::Credential,
    "PEM client certificate for mutual TLS, with the key",
);
/// The client key of mutual TLS.
pub const CLIENT_KEY: OtlpSetting = otlp(
    [
        "OTEL_EXPORTER_OTLP_CLIENT_KEY",
        "OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY",
        "OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY",
        "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY",
    ],
    Kind::Path,
    Role::Credential,
    "PEM client key for mutual TLS, with the certificate",
);
/// Plaintext gRPC: decides whom the connection trusts.
pub const INSECURE: OtlpSetting = otlp(
    [
        "OTEL_EXPORTER_OTLP_INSECURE",
        "OTEL_EXPORTER_OTLP_METRICS_INSECURE",
        "OTEL_EXPORTER_OTLP_LOGS_INSECURE",
        "OTEL_EXPORTER_OTLP_TRACES_INSECURE",
    ],
    Kind::Bool { default: false },
    Role::Destination,
    "`true`: plaintext gRPC even for non-`http` endpoints",
);

/// Every OTLP exporter setting.
pub const OTLP: [OtlpSetting; 9] = [
    PROTOCOL,
    ENDPOINT,
    HEADERS,
    TIMEOUT,
    COMPRESSION,
    CERTIFICATE,
    CLIENT_CERTIFICATE,
    CLIENT_KEY,
    INSECURE,
];

/// Every variable han-telemetry reads: [`ALL`], then each OTLP setting's generic and
/// per-signal variables.
pub fn every() -> impl Iterator<Item = Var> {
    ALL.into_iter().chain(OTLP.into_iter().flat_map(|setting| {
        std::iter::once(setting.var(None))
            .chain(Signal::ALL.into_iter().map(move |s| setting.var(Some(s))))
    }))
}

/// The variable called `name`, if han-telemetry reads one.
pub fn named(name: &str) -> Option<Var> {
    every().find(|v| v.name == name)
}

/// The exporters variable of `signal`.
pub fn exporters(signal: Signal) -> Var {
    match signal {
        Signal::Metrics => METRICS_EXPORTER,
        Signal::Logs => LOGS_EXPORTER,
        Signal::Traces => TRACES_EXPORTER,
    }
}

impl Var {
    /// The default as the documentation writes it, when the table has one to give (the
    /// store directory and the endpoint's depend on the machine and the protocol).
    pub fn default_text(&self) -> Option<String> {
        let flag = |on: bool, words: [&str; 2]| words[usize::from(on)].to_owned();
        Some(match self.kind {
            Kind::Switch { default } => flag(default, ["off", "on"]),
            Kind::Bool { default } | Kind::Include { default } => flag(default, ["false", "true"]),
            Kind::Exporters { default } => Exporter::list(default),
            Kind::Protocol { default } => default.as_str().to_owned(),
            Kind::Compression { default } => default.as_str().to_owned(),
            Kind::Temporality { default } => default.as_str().to_owned(),
            Kind::Millis { default, .. } | Kind::Days { default, .. } => default.to_string(),
            Kind::Text { default } => default.to_owned(),
            Kind::Endpoint { .. }
            | Kind::Headers
            | Kind::ResourceAttributes
            | Kind::Path
            | Kind::TraceParent
            | Kind::TraceState => return None,
        })
    }
}

/// The prefixes of the variable families han-telemetry reads from the environment and
/// settings files; everything else is left alone, so unrelated secrets never enter its data
/// structures. Names outside the table but within a family are kept, to be reported as
/// unknown where that helps (a typo in a settings file).
const FAMILIES: [&str; 3] = ["OTEL_", "CLAUDE_CODE_", "HAN_"];

/// Whether `name` is an environment variable (or an `env` block's key) of a family
/// han-telemetry reads; a settings key ([`Honoured::SettingsKey`]) is not one.
pub(crate) fn is_relevant(name: &str) -> bool {
    match named(name) {
        Some(var) => var.honoured != Honoured::SettingsKey,
        None => FAMILIES.iter().any(|prefix| name.starts_with(prefix)),
    }
}

/// The settings keys han-telemetry reads at the top level of a settings file.
pub(crate) fn settings_keys() -> impl Iterator<Item = Var> {
    ALL.into_iter()
        .filter(|v| v.honoured == Honoured::SettingsKey)
}

/// How the value of `name` may be shown: by the table for a known variable, else by what
/// its name suggests.
pub(crate) fn mask_of(name: &str) -> Mask {
    named(name).map_or_else(|| Mask::for_name(name), |v| v.mask)
}

/// The value of `name` as it may be shown.
pub(crate) fn shown(name: &str, value: &str) -> String {
    mask_of(name).apply(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documentation's table (`config` module docs) against this table: every variable
    /// has its row, with this table's default.
    #[test]
    fn the_documented_table_says_what_this_table_says() {
        let page = include_str!("variables.md");
        let rows: Vec<Vec<String>> = page
            .lines()
            .filter(|l| l.starts_with("| `"))
            .map(|l| {
                l.trim_matches('|')
                    .split('|')
                    .map(|c| c.trim().to_owned())
                    .collect()
            })
            .collect();
        let row_of = |name: &str| {
            rows.iter()
                .find(|r| r[0].split(", ").any(|n| n.trim_matches('`') == name))
                .unwrap_or_else(|| panic!("variables.md has no row for {name}"))
        };
        let documented: Vec<Var> = ALL
            .into_iter()
            .chain(OTLP.iter().map(|s| s.var(None)))
            .collect();
        for var in documented {
            let row = row_of(var.name);
            if let Some(default) = var.default_text() {
                let cell = row[1].replace('`', "");
                assert!(
                    cell.starts_with(&default),
                    "{}: documented default {:?}, the table's {default:?}",
                    var.name,
                    row[1]
                );
            }
        }
        // And no row for a variable the code does not read.
        for row in &rows {
            for name in row[0].split(", ") {
                let name = name.trim_matches('`');
                assert!(
                    name.contains('{') || named(name).is_some(),
                    "variables.md documents {name}, which han-telemetry does not read"
                );
            }
        }
    }

    #[test]
    fn names_are_unique_and_in_their_families() {
        let names: Vec<&str> = every().map(|v| v.name).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), names.len(), "{names:?}");
        for name in names {
            let key = settings_keys().any(|k| k.name == name);
            assert_eq!(is_relevant(name), !key, "{name}");
        }
        assert_eq!(every().count(), ALL.len() + OTLP.len() * 4);
    }

    #[test]
    fn otlp_names_follow_the_spec_pattern() {
        for setting in OTLP {
            assert_eq!(
                setting.var(None).name,
                format!("OTEL_EXPORTER_OTLP_{}", setting.setting())
            );
            for signal in Signal::ALL {
                assert_eq!(
                    setting.var(Some(signal)).name,
                    format!(
                        "OTEL_EXPORTER_OTLP_{}_{}",
                        signal.name().to_ascii_uppercase(),
                        setting.setting()
                    )
                );
            }
        }
    }

    #[test]
    fn only_the_trust_switch_is_never_taken_from_a_project() {
        let never: Vec<&str> = every()
            .filter(|v| v.honoured == Honoured::NeverFromProject)
            .map(|v| v.name)
            .collect();
        assert_eq!(never, vec![TRUST_PROJECT_SETTINGS.name]);
    }

    #[test]
    fn credentials_and_destinations_are_what_the_trust_rule_says() {
        let of = |role: Role| -> Vec<&str> {
            OTLP.iter()
                .filter(|s| s.role == role)
                .map(OtlpSetting::setting)
                .collect()
        };
        assert_eq!(
            of(Role::Credential),
            ["HEADERS", "CLIENT_CERTIFICATE", "CLIENT_KEY"]
        );
        assert_eq!(
            of(Role::Destination),
            ["ENDPOINT", "CERTIFICATE", "INSECURE"]
        );
    }
}
