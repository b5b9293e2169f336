//! Building the runtime's configuration from a made-up environment and settings files.

use std::time::Duration;

use han_telemetry::config::{Exporter, Protocol, Source};
use han_telemetry_testing::ConfigFixture;

#[test]
fn nothing_set_means_telemetry_off_and_defaults() {
    let c = ConfigFixture::new().build();
    assert!(!c.enabled);
    assert_eq!(c.service_name, "han");
    assert!(c.diagnostics.is_empty(), "{:?}", c.diagnostics);
}

#[test]
fn the_environment_is_the_given_one_only() {
    let c = ConfigFixture::new()
        .env("CLAUDE_CODE_ENABLE_TELEMETRY", "1")
        .env("OTEL_METRICS_EXPORTER", "console")
        .env("OTEL_EXPORTER_OTLP_TIMEOUT", "2500")
        .build();
    assert!(c.enabled);
    assert_eq!(c.metrics.exporters, vec![Exporter::Console]);
    assert_eq!(c.logs.otlp.timeout, Duration::from_millis(2500));
    assert_eq!(
        c.source_of("OTEL_METRICS_EXPORTER"),
        Some(&Source::ProcessEnv)
    );
}

#[test]
fn settings_files_follow_claude_codes_precedence() {
    // Project files come with the repository: they configure nothing by default.
    let untrusted = ConfigFixture::new()
        .user_settings(r#"{"env": {"OTEL_SERVICE_NAME": "user", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json", "CLAUDE_CODE_ENABLE_TELEMETRY": 1}}"#)
        .project_settings(r#"{"env": {"OTEL_SERVICE_NAME": "project"}}"#)
        .local_settings(r#"{"env": {"OTEL_SERVICE_NAME": "local"}}"#);
    let c = untrusted.build();
    assert_eq!(c.service_name, "user");
    assert_eq!(c.ignored.len(), 2, "{:?}", c.ignored);

    // Trusted from the user's side, they follow Claude Code's precedence.
    let fixture = untrusted.env("HAN_TELEMETRY_TRUST_PROJECT_SETTINGS", "1");
    let c = fixture.build();
    assert!(c.enabled);
    assert_eq!(c.service_name, "local");
    assert!(matches!(
        c.source_of("OTEL_SERVICE_NAME"),
        Some(Source::LocalSettings(_))
    ));
    assert_eq!(c.metrics.otlp.protocol, Protocol::HttpJson);
    assert!(matches!(
        c.source_of("OTEL_EXPORTER_OTLP_PROTOCOL"),
        Some(Source::UserSettings(_))
    ));

    let c = fixture.clone().env("OTEL_SERVICE_NAME", "env").build();
    assert_eq!(c.service_name, "env");

    let c = fixture
        .env("OTEL_SERVICE_NAME", "env")
        .managed_settings(r#"{"env": {"OTEL_SERVICE_NAME": "managed"}}"#)
        .build();
    assert_eq!(c.service_name, "managed");
    assert!(matches!(
        c.source_of("OTEL_SERVICE_NAME"),
        Some(Source::Managed(_))
    ));
}

#[test]
fn bad_values_and_broken_files_become_diagnostics() {
    let c = ConfigFixture::new()
        .env("OTEL_METRIC_EXPORT_INTERVAL", "soon")
        .project_settings("{ not json")
        .build();
    assert_eq!(c.metric_export_interval, Duration::from_secs(60));
    let lines: Vec<String> = c.diagnostics.iter().map(ToString::to_string).collect();
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert!(
        lines.iter().any(|l| l.contains("invalid JSON")),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("OTEL_METRIC_EXPORT_INTERVAL=\"soon\"")),
        "{lines:#?}"
    );
}

#[test]
fn sources_are_available_before_resolution() {
    let sources = ConfigFixture::new()
        .env("OTEL_SERVICE_NAME", "x")
        .env("PATH", "/bin")
        .try_sources()
        .expect("temp dir");
    assert_eq!(
        sources.get("OTEL_SERVICE_NAME"),
        Some(("x", &Source::ProcessEnv))
    );
    assert_eq!(
        sources.get("PATH"),
        None,
        "unrelated variables are not read"
    );
}

#[test]
fn debug_output_hides_values() {
    let fixture = ConfigFixture::new().env("OTEL_EXPORTER_OTLP_HEADERS", "authorization=s3cret");
    let shown = format!("{fixture:?}");
    assert!(!shown.contains("s3cret"), "{shown}");
    assert!(shown.contains("OTEL_EXPORTER_OTLP_HEADERS"), "{shown}");
}
