//! The words a variable can take (protocols, exporters, ...), each spelled once, and the
//! signals.

use std::fmt;

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
    /// Every exporter, in the order a list prints them.
    pub const ALL: [Exporter; 2] = [Exporter::Otlp, Exporter::Console];

    /// The word of an `OTEL_*_EXPORTER` list that means no exporter.
    pub const NONE: &'static str = "none";

    /// `otlp,console`, or `none` for an empty list.
    pub fn list(exporters: &[Exporter]) -> String {
        if exporters.is_empty() {
            return Self::NONE.to_owned();
        }
        exporters
            .iter()
            .map(|e| e.name())
            .collect::<Vec<_>>()
            .join(",")
    }

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
    /// Every protocol.
    pub const ALL: [Protocol; 3] = [Protocol::Grpc, Protocol::HttpProtobuf, Protocol::HttpJson];

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
    /// Every compression.
    pub const ALL: [Compression; 3] = [Compression::Gzip, Compression::Zstd, Compression::None];

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Temporality {
    /// Totals since start (what Prometheus needs).
    Cumulative,
    /// Changes since the last export.
    Delta,
    /// Delta for counters and histograms, cumulative for up-down counters.
    LowMemory,
}

impl Temporality {
    /// Every preference.
    pub const ALL: [Temporality; 3] = [
        Temporality::Cumulative,
        Temporality::Delta,
        Temporality::LowMemory,
    ];

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
