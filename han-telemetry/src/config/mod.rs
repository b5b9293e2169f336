//! Configuration for han-telemetry: the OpenTelemetry variables Claude Code users already set,
//! read from the process environment and from Claude Code's settings files.
//!
//! [`Config`] is plain data built from [`Sources`], never from the global environment directly,
//! so every rule is unit-testable. Building it never fails: each unusable value yields one
//! [`Diagnostic`] and a documented fallback, because a hook must keep working when telemetry is
//! misconfigured.
//!
//! The flow, one module each: [`vars`] (every variable, once) and [`Source`]s; settings files
//! and the environment read into [`Sources`]; [`trust`](Trust) decides what a source may set;
//! values are looked up, parsed and resolved into the [`Config`] model.
//!
#![doc = include_str!("variables.md")]

mod diagnostic;
mod lookup;
mod model;
mod otlp;
mod parse;
mod resolve;
mod settings_file;
mod source;
mod sources;
mod trust;
mod value;
pub mod vars;

pub use diagnostic::Diagnostic;
pub use model::{
    Config, HeadersHelper, IncludeAttributes, OtlpConfig, Provenance, SignalConfig, StoreConfig,
    TlsFiles,
};
pub use source::Source;
pub use sources::{DiscoverOptions, Sources, default_managed_settings};
pub use trust::{Ignored, ProjectTrust, Trust};
pub use value::{Compression, Exporter, Protocol, Signal, Temporality};

pub(crate) use parse::traceparent as parse_traceparent;

#[cfg(test)]
mod tests {
    use std::ffi::OsString;
    use std::time::Duration;

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
            headers_helper: None,
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
