//! Configuration for han-telemetry: the OpenTelemetry variables Claude Code users already set,
//! read from the process environment and from Claude Code's settings files.
//!
//! [`Config`] is plain data built from [`Sources`], never from the global environment directly,
//! so every rule is unit-testable. Building it never fails: each unusable value yields one
//! [`Diagnostic`] and a documented fallback, because a hook must keep working when telemetry is
//! misconfigured.

mod diagnostic;
mod otlp;
mod parse;
mod resolve;
mod settings_file;
mod sources;

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

pub use diagnostic::{Diagnostic, mask_header_list, mask_url, mask_urls_in, mask_value};
pub use sources::{
    DiscoverOptions, Ignored, ProjectTrust, Source, Sources, TRUST_PROJECT_SETTINGS, Trust,
    default_managed_settings,
};

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
    /// Whether the project's settings files configure telemetry ([`TRUST_PROJECT_SETTINGS`]).
    pub project_trust: ProjectTrust,
    /// Values set in project files that are not used, and why.
    pub ignored: Vec<Ignored>,
}

impl Config {
    /// Resolves every variable from `sources`; never fails.
    pub fn from_sources(sources: &Sources) -> Config {
        resolve::resolve(sources)
    }

    /// From the real process environment and settings files.
    pub fn from_env() -> Config {
        Self::from_sources(&Sources::discover())
    }

    /// Where the value in effect for `variable` came from.
    pub fn source_of(&self, variable: &str) -> Option<&Source> {
        self.provenance
            .iter()
            .find(|p| p.variable == variable)
            .map(|p| &p.source)
    }

    /// The configuration when nothing is set: telemetry off, every value at its default.
    pub fn disabled() -> Config {
        Self::from_sources(&Sources::new())
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

impl Default for Config {
    fn default() -> Self {
        Self::disabled()
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreConfig {
    /// `HAN_METRICS_STORE`, on by default; independent of `CLAUDE_CODE_ENABLE_TELEMETRY`.
    pub enabled: bool,
    /// `HAN_METRICS_DIR`, else `han/metrics` under Claude Code's configuration directory
    /// (`$CLAUDE_CONFIG_DIR` or `~/.claude`). `None` when neither is known: the store is off.
    pub dir: Option<PathBuf>,
    /// Where records go when `dir` is not safe to write (another user's, writable by others,
    /// another user's link): `han/metrics-fallback` under Claude Code's configuration
    /// directory, created 0700. `report` and `replay` read it too.
    pub fallback_dir: Option<PathBuf>,
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

/// Where a signal is exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Exporter {
    /// OTLP to a collector or backend.
    Otlp,
    /// Human-readable output on stderr (stdout belongs to Claude Code).
    Console,
}

impl Exporter {
    /// The name used in `OTEL_*_EXPORTER`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Otlp => "otlp",
            Self::Console => "console",
        }
    }
}

impl fmt::Display for Exporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
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
            .field("endpoint", &mask_url(&self.endpoint))
            .field("protocol", &self.protocol)
            .field("headers", &headers)
            .field("timeout", &self.timeout)
            .field("compression", &self.compression)
            .field("tls", &self.tls)
            .field("chosen_by", &self.chosen_by)
            .field("withheld", &self.withheld)
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

/// OTLP transport encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Protocol {
    /// `grpc`: OTLP/gRPC, usually port 4317.
    Grpc,
    /// `http/protobuf`: OTLP/HTTP with binary protobuf, usually port 4318.
    HttpProtobuf,
    /// `http/json`: OTLP/HTTP with JSON, usually port 4318.
    HttpJson,
}

impl Protocol {
    /// The spelling used in `OTEL_EXPORTER_OTLP_PROTOCOL`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Grpc => "grpc",
            Self::HttpProtobuf => "http/protobuf",
            Self::HttpJson => "http/json",
        }
    }

    /// HTTP protocols use per-signal URL paths; gRPC does not.
    pub fn is_http(self) -> bool {
        matches!(self, Self::HttpProtobuf | Self::HttpJson)
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// OTLP payload compression.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Compression {
    /// No compression.
    #[default]
    None,
    /// gzip.
    Gzip,
    /// zstd.
    Zstd,
}

impl Compression {
    /// The variable's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Gzip => "gzip",
            Self::Zstd => "zstd",
        }
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Metric aggregation temporality preference (OTel spec values).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Temporality {
    /// Totals since start (what Prometheus needs).
    #[default]
    Cumulative,
    /// Changes since the last export.
    Delta,
    /// Delta for counters and histograms, cumulative for up-down counters.
    LowMemory,
}

impl Temporality {
    /// The variable's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cumulative => "cumulative",
            Self::Delta => "delta",
            Self::LowMemory => "lowmemory",
        }
    }
}

impl fmt::Display for Temporality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The three OpenTelemetry signals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Signal {
    /// Metrics.
    Metrics,
    /// Logs (Han's events).
    Logs,
    /// Traces.
    Traces,
}

impl Signal {
    /// All three, in this order.
    pub const ALL: [Signal; 3] = [Signal::Metrics, Signal::Logs, Signal::Traces];

    /// Lowercase name, as in the OTLP HTTP path `/v1/<name>`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Metrics => "metrics",
            Self::Logs => "logs",
            Self::Traces => "traces",
        }
    }

    /// Uppercase name, as in `OTEL_EXPORTER_OTLP_<NAME>_ENDPOINT`.
    pub fn env_name(self) -> &'static str {
        match self {
            Self::Metrics => "METRICS",
            Self::Logs => "LOGS",
            Self::Traces => "TRACES",
        }
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
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

#[cfg(test)]
mod tests {
    use std::ffi::OsString;

    use super::*;
    use crate::test_support::TempDir;

    #[test]
    fn discovered_sources_combine_into_one_config() {
        let dir = TempDir::new("e2e");
        let managed = dir.write(
            "managed-settings.json",
            r#"{"env": {"CLAUDE_CODE_ENABLE_TELEMETRY": 1,
                        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}}"#,
        );
        let user = dir.write(
            "home/.claude/settings.json",
            r#"{"env": {"OTEL_EXPORTER_OTLP_ENDPOINT": "https://gw.example",
                        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
                        "OTEL_METRIC_EXPORT_INTERVAL": "abc"}}"#,
        );
        let project = dir.write("project/.claude/settings.json", "{ oops");
        let opts = DiscoverOptions {
            env: vec![(
                OsString::from("OTEL_EXPORTER_OTLP_HEADERS"),
                OsString::from("authorization=Bearer%20s3cret"),
            )],
            cwd: Some(dir.path().join("project")),
            home: Some(dir.path().join("home")),
            managed_settings: Some(managed.clone()),
        };
        let c = Config::from_sources(&Sources::discover_with(&opts));

        assert!(c.enabled);
        assert_eq!(c.metrics.otlp.protocol, Protocol::HttpProtobuf);
        assert_eq!(c.metrics.otlp.endpoint, "https://gw.example/v1/metrics");
        assert_eq!(
            c.logs.otlp.headers,
            vec![("authorization".to_owned(), "Bearer s3cret".to_owned())]
        );
        assert_eq!(c.metric_export_interval, Duration::from_secs(60));
        assert_eq!(
            c.source_of("CLAUDE_CODE_ENABLE_TELEMETRY"),
            Some(&Source::Managed(managed.clone()))
        );
        assert_eq!(
            c.source_of("OTEL_EXPORTER_OTLP_PROTOCOL"),
            Some(&Source::Managed(managed))
        );
        assert_eq!(
            c.source_of("OTEL_EXPORTER_OTLP_ENDPOINT"),
            Some(&Source::UserSettings(user.clone()))
        );
        assert_eq!(
            c.source_of("OTEL_EXPORTER_OTLP_HEADERS"),
            Some(&Source::ProcessEnv)
        );

        let lines: Vec<_> = c.diagnostics.iter().map(ToString::to_string).collect();
        assert_eq!(lines.len(), 2, "{lines:#?}");
        assert!(lines[0].starts_with(&format!("{}: invalid JSON", project.display())));
        assert_eq!(
            lines[1],
            format!(
                "OTEL_METRIC_EXPORT_INTERVAL=\"abc\" (user settings ({})) is not a whole number \
                 of milliseconds; using 60000",
                user.display()
            )
        );
        assert!(!format!("{c:?}").contains("s3cret"));
    }

    #[test]
    fn otlp_debug_hides_header_values_and_endpoint_credentials() {
        let otlp = OtlpConfig {
            endpoint: "https://user:pw-s3cret@collector:4318".to_owned(),
            protocol: Protocol::HttpProtobuf,
            headers: vec![("authorization".to_owned(), "Bearer s3cret".to_owned())],
            timeout: Duration::from_secs(10),
            compression: Compression::Gzip,
            tls: TlsFiles::default(),
            chosen_by: Trust::User,
            withheld: Vec::new(),
        };
        let shown = format!("{otlp:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("authorization"), "{shown}");
    }

    #[test]
    fn names_and_display() {
        assert_eq!(Signal::Metrics.name(), "metrics");
        assert_eq!(Signal::Logs.to_string(), "logs");
        assert_eq!(Signal::Traces.env_name(), "TRACES");
        assert_eq!(Protocol::HttpJson.to_string(), "http/json");
        assert!(Protocol::HttpProtobuf.is_http() && !Protocol::Grpc.is_http());
        assert_eq!(Compression::Zstd.to_string(), "zstd");
        assert_eq!(Temporality::LowMemory.to_string(), "lowmemory");
        assert_eq!(Exporter::Console.to_string(), "console");
    }
}
