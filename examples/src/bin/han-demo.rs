//! A scripted Han plugin session that emits every metric and event of the catalogue.
//!
//! Configure it like any Han process: `CLAUDE_CODE_ENABLE_TELEMETRY=1` plus the standard
//! `OTEL_*` variables (or the `env` block of Claude Code's settings files). With
//! `OTEL_TRACES_EXPORTER=otlp` (or `console`) it also emits a span around the session.

use std::process::ExitCode;
use std::time::Duration;

use han_telemetry::record::{self, TaskOutcome};
use han_telemetry::{StandardAttributes, TelemetryBuilder, catalogue};

fn main() -> ExitCode {
    let builder = TelemetryBuilder::from_env()
        .service_version(env!("CARGO_PKG_VERSION"))
        .standard_attributes(StandardAttributes {
            session_id: Some("han-demo-session".into()),
            app_version: Some(env!("CARGO_PKG_VERSION").into()),
            ..StandardAttributes::default()
        });
    let enabled = builder.config().enabled;
    let telemetry = builder.install();

    let session = tracing::info_span!("han-demo session");
    han_telemetry::adopt_remote_parent(&session);
    session.in_scope(run_session);
    drop(session);

    let report = telemetry.shutdown();
    if enabled {
        let list = |names: &[&str]| {
            if names.is_empty() {
                "none".to_owned()
            } else {
                names.join(", ")
            }
        };
        println!(
            "han-demo: emitted {} metrics and {} events; delivered: {}; failed: {}; abandoned: {} (shutdown took {} ms)",
            catalogue::metric::ALL.len(),
            catalogue::event::ALL.len(),
            list(&report.delivered),
            list(&report.failed),
            list(&report.abandoned),
            report.elapsed.as_millis(),
        );
    } else {
        println!("han-demo: telemetry is off; set CLAUDE_CODE_ENABLE_TELEMETRY=1 to export it");
    }
    ExitCode::SUCCESS
}

/// One plugin session: every catalogue entry at least once.
fn run_session() {
    record::session_start();

    record::hook_run("lint", "PostToolUse", true, Duration::from_millis(12));
    record::hook_run("lint", "PostToolUse", false, Duration::from_millis(48));
    record::hook_run("format-check", "PreToolUse", true, Duration::from_millis(3));

    record::plugin_install("jutsu-markdown", "project", true);
    record::plugin_install("jutsu-broken", "user", false);
    record::plugin_uninstall("jutsu-markdown", "project", true);

    record::task("fix", TaskOutcome::Success, 0.85);
    record::task("refactor", TaskOutcome::Partial, 0.6);
    record::task("implement", TaskOutcome::Failure, 0.9);

    record::validation("typecheck", true, 0);
    record::validation("lint", false, 3);

    record::mcp_tool_call("han_metrics_query", true);
    record::mcp_tool_call("han_metrics_query", false);

    record::frustration("high", 0.82);
}
