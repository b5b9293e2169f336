//! TEMPORARY: type skeleton until the real module lands.
#![allow(missing_docs, dead_code)]
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source { Managed(PathBuf), ProcessEnv, LocalSettings(PathBuf), ProjectSettings(PathBuf), UserSettings(PathBuf), Default }
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub enabled: bool,
    pub metrics: SignalConfig,
    pub logs: SignalConfig,
    pub traces: SignalConfig,
    pub temporality: Temporality,
    pub metric_export_interval: Duration,
    pub logs_export_interval: Duration,
    pub service_name: String,
    pub resource_attributes: Vec<(String, String)>,
    pub include: IncludeAttributes,
    pub exit_budget: Duration,
    pub traceparent: Option<String>,
    pub tracestate: Option<String>,
    pub provenance: Vec<Provenance>,
    pub diagnostics: Vec<Diagnostic>,
}
impl Config { pub fn from_env() -> Config { unimplemented!() } }
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncludeAttributes { pub session_id: bool, pub version: bool, pub account_uuid: bool }
#[derive(Debug, Clone, PartialEq)]
pub struct SignalConfig { pub exporters: Vec<Exporter>, pub otlp: OtlpConfig }
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exporter { Otlp, Console }
#[derive(Debug, Clone, PartialEq)]
pub struct OtlpConfig { pub endpoint: String, pub protocol: Protocol, pub headers: Vec<(String, String)>, pub timeout: Duration, pub compression: Compression, pub tls: TlsFiles }
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TlsFiles { pub certificate: Option<PathBuf>, pub client_certificate: Option<PathBuf>, pub client_key: Option<PathBuf>, pub insecure: bool }
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol { Grpc, HttpProtobuf, HttpJson }
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression { None, Gzip, Zstd }
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Temporality { Cumulative, Delta, LowMemory }
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal { Metrics, Logs, Traces }
impl Signal { pub fn name(self) -> &'static str { match self { Signal::Metrics => "metrics", Signal::Logs => "logs", Signal::Traces => "traces" } } }
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance { pub variable: String, pub value: String, pub source: Source }
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic { pub subject: String, pub value: Option<String>, pub source: Source, pub problem: String, pub fallback: String }
impl std::fmt::Display for Diagnostic { fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { write!(f, "{} {}", self.subject, self.problem) } }
