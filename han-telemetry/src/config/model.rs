//! The typed result of configuration: what every other part of han-telemetry reads.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use super::diagnostic::Diagnostic;
use super::source::Source;
use super::trust::{Ignored, ProjectTrust, Trust};
use super::value::{Compression, Exporter, Protocol, Signal, Temporality};

/// Everything han-telemetry needs to set up export, plus where each value came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `CLAUDE_CODE_ENABLE_TELEMETRY` is on and `OTEL_SDK_DISABLED` is not `true`.
    pub enabled: bool,
    /// Exporters and OTLP settings for metrics (`OTEL_METRICS_EXPORTER`, default `otlp`).
    pub metrics: SignalConfig,
    /// Exporters and OTLP settings for events (`OTEL_LOGS_EXPORTER`, default `otlp`).
    pub logs: SignalConfig,
    /// Exporters and OTLP settings for spans (`OTEL_TRACES_EXPORTER`, default `none`).
    pub traces: SignalConfig,
    /// `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`; delta by default, as in Claude
    /// Code: every hook is a process of its own, and cumulative points from processes with
    /// the same identity overwrite one another in a backend, while delta points add up.
    pub temporality: Temporality,
    /// `OTEL_METRIC_EXPORT_INTERVAL`, default 60 s.
    pub metric_export_interval: Duration,
    /// `OTEL_LOGS_EXPORT_INTERVAL`, default 5 s.
    pub logs_export_interval: Duration,
    /// `OTEL_SERVICE_NAME`, else `service.name` from the resource attributes, else `han`.
    pub service_name: String,
    /// Decoded `OTEL_RESOURCE_ATTRIBUTES` in their order, without `service.name`.
    pub resource_attributes: Vec<(String, String)>,
    /// `OTEL_METRICS_INCLUDE_*`: which standard attributes are attached.
    pub include: IncludeAttributes,
    /// `HAN_TELEMETRY_EXIT_BUDGET_MS`: how long flushing may delay a hook's exit.
    pub exit_budget: Duration,
    /// The local metrics store (`HAN_METRICS_*`), on whatever the OpenTelemetry settings.
    pub store: StoreConfig,
    /// A valid W3C `TRACEPARENT` to join Claude Code's trace.
    pub traceparent: Option<String>,
    /// `TRACESTATE`, kept only alongside a valid `traceparent` (W3C trace context rule).
    pub tracestate: Option<String>,
    /// Every variable that was used, with its masked value and source; defaults appear with
    /// [`Source::Default`].
    pub provenance: Vec<Provenance>,
    /// Problems from reading the sources first, then from parsing values.
    pub diagnostics: Vec<Diagnostic>,
    /// Whether the project's settings files configure telemetry ([`TRUST_PROJECT_SETTINGS`](super::vars::TRUST_PROJECT_SETTINGS)).
    pub project_trust: ProjectTrust,
    /// Values set in project files that are not used, and why.
    pub ignored: Vec<Ignored>,
}

impl Config {
    /// Where the value in effect for `variable` came from.
    pub fn source_of(&self, variable: &str) -> Option<&Source> {
        self.provenance
            .iter()
            .find(|p| p.variable == variable)
            .map(|p| &p.source)
    }

    /// The settings of one signal.
    pub fn signal(&self, signal: Signal) -> &SignalConfig {
        match signal {
            Signal::Metrics => &self.metrics,
            Signal::Logs => &self.logs,
            Signal::Traces => &self.traces,
        }
    }
}

/// Which optional standard attributes go on metrics (Claude Code's cardinality switches).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IncludeAttributes {
    /// `OTEL_METRICS_INCLUDE_SESSION_ID`, default true.
    pub session_id: bool,
    /// `OTEL_METRICS_INCLUDE_VERSION`, default false.
    pub version: bool,
    /// `OTEL_METRICS_INCLUDE_ACCOUNT_UUID`, default true.
    pub account_uuid: bool,
}

impl Default for IncludeAttributes {
    fn default() -> Self {
        Self {
            session_id: true,
            version: false,
            account_uuid: true,
        }
    }
}

/// Where and whether every event is also appended to the local metrics store.
///
/// The store lives in Han's data directory, found as Han 3.21.4 finds it: `HAN_DATA_DIR`,
/// else `$CLAUDE_CONFIG_DIR/han`, else `~/.han`. Han moves an older `~/.claude/han` to
/// `~/.han` the first time one of its commands needs its data; until then the store's
/// directories are inside `~/.claude/han` and move with it ([`StoreConfig::before_move`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreConfig {
    /// `HAN_METRICS_STORE`, on by default; independent of `CLAUDE_CODE_ENABLE_TELEMETRY`.
    pub enabled: bool,
    /// `HAN_METRICS_DIR`, else `metrics` in [`StoreConfig::data_dir`]. `None` when neither is
    /// known: the store is off.
    pub dir: Option<PathBuf>,
    /// Where records go when `dir` is not safe to write (another user's, writable by others,
    /// another user's link): `metrics-fallback` in [`StoreConfig::data_dir`], created 0700.
    /// `report` and `replay` read it too.
    pub fallback_dir: Option<PathBuf>,
    /// Han's data directory: `HAN_DATA_DIR`, else `$CLAUDE_CONFIG_DIR/han`, else `~/.han`.
    pub data_dir: Option<PathBuf>,
    /// `~/.claude/han`, when the data directory is `~/.han` by Han's home rule: while `~/.han`
    /// does not exist and `~/.claude/han` does, Han has yet to move it, so a writer puts what
    /// would go under `~/.han` under `~/.claude/han` instead (Han's move carries it along),
    /// and never creates `~/.han` (which would keep Han from moving its data).
    pub before_move: Option<PathBuf>,
    /// Where han-telemetry kept the store before it followed Han's data directory
    /// (`han/metrics`, unless `HAN_METRICS_DIR` is set, and `han/metrics-fallback` under
    /// Claude Code's configuration directory), when that is not `dir` or `fallback_dir`:
    /// `report` and `replay` read them; a writer uses them only before Han's move (see
    /// [`StoreConfig::before_move`]).
    pub legacy_dirs: Vec<PathBuf>,
    /// `HAN_METRICS_RETENTION_DAYS`: day files older than this are deleted (default 30).
    pub retention_days: u32,
}

impl StoreConfig {
    /// The directory to write to, when the store is on.
    pub fn active_dir(&self) -> Option<&std::path::Path> {
        self.dir.as_deref().filter(|_| self.enabled)
    }
}

/// Export settings for one signal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignalConfig {
    /// Where the signal goes; empty means it is not exported.
    pub exporters: Vec<Exporter>,
    /// Used when `exporters` contains [`Exporter::Otlp`].
    pub otlp: OtlpConfig,
}

impl SignalConfig {
    /// Whether `exporter` is selected for this signal.
    pub fn uses(&self, exporter: Exporter) -> bool {
        self.exporters.contains(&exporter)
    }
}

/// OTLP settings for one signal, after signal-specific variables override the generic ones.
#[derive(Clone, PartialEq, Eq)]
pub struct OtlpConfig {
    /// The final URL the exporter uses (HTTP ones include `/v1/<signal>`).
    pub endpoint: String,
    /// `grpc` (Han's default), `http/protobuf` or `http/json`.
    pub protocol: Protocol,
    /// Decoded headers with lowercased names; values are credentials and are never printed.
    pub headers: Vec<(String, String)>,
    /// Per-export timeout (default 10 s).
    pub timeout: Duration,
    /// Payload compression (default none).
    pub compression: Compression,
    /// Private CA and client identity files.
    pub tls: TlsFiles,
    /// The least trusted source among those that chose where this signal goes (endpoint, CA
    /// file, plaintext). Headers and the client identity come only from sources at least as
    /// trusted; others are left out, with a diagnostic.
    pub chosen_by: Trust,
    /// The credential variables left out for that reason.
    pub withheld: Vec<String>,
    /// Claude Code's `otelHeadersHelper`, when one is configured and may send its headers to
    /// this signal's destination (the credential rule); its headers join `headers` when the
    /// exporter is built, winning over a static header of the same name.
    pub headers_helper: Option<HeadersHelper>,
}

/// A headers helper: a program whose standard output is a JSON object of header values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeadersHelper {
    /// The program, an absolute path (`~/` expanded), run without a shell.
    pub program: PathBuf,
    /// The settings file that named it.
    pub source: Source,
    /// `CLAUDE_CODE_OTEL_HEADERS_HELPER_DEBOUNCE_MS`: how long its result is used.
    pub debounce: Duration,
}

impl OtlpConfig {
    /// `text` (a transport's message) with this configuration's secrets masked: the
    /// endpoint's credentials and query values, and every header value.
    pub fn scrub(&self, text: &str) -> String {
        crate::mask::scrub(
            text,
            &self.endpoint,
            self.headers.iter().map(|(_, v)| v.as_str()),
        )
    }
}

impl fmt::Debug for OtlpConfig {
    /// Header values are replaced by `***`: they usually carry API keys.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<_> = self
            .headers
            .iter()
            .map(|(name, _)| (name.as_str(), "***"))
            .collect();
        f.debug_struct("OtlpConfig")
            .field("endpoint", &crate::mask::mask_url(&self.endpoint))
            .field("protocol", &self.protocol)
            .field("headers", &headers)
            .field("timeout", &self.timeout)
            .field("compression", &self.compression)
            .field("tls", &self.tls)
            .field("chosen_by", &self.chosen_by)
            .field("withheld", &self.withheld)
            .field("headers_helper", &self.headers_helper)
            .finish()
    }
}

/// TLS files for OTLP; paths only, opened by the exporter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsFiles {
    /// CA certificate to trust for the collector.
    pub certificate: Option<PathBuf>,
    /// Client certificate for mTLS; set only together with `client_key`.
    pub client_certificate: Option<PathBuf>,
    /// Client private key for mTLS; set only together with `client_certificate`.
    pub client_key: Option<PathBuf>,
    /// `OTEL_EXPORTER_OTLP_INSECURE`: plaintext gRPC even for non-`http` endpoints.
    pub insecure: bool,
}

/// Where the value in effect for one variable came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    /// The variable name.
    pub variable: String,
    /// The value as read, masked (header values never appear).
    pub value: String,
    /// Where it came from.
    pub source: Source,
}
