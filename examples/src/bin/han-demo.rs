//! A scripted Han plugin session that emits every metric and event of the catalogue, then
//! says where the telemetry went and how to look at it.
//!
//! Configure it like any Han process: `CLAUDE_CODE_ENABLE_TELEMETRY=1` plus the standard
//! `OTEL_*` variables (or the `env` block of Claude Code's settings files). With
//! `OTEL_TRACES_EXPORTER=otlp` (or `console`) it also emits a span around the session.
//! Whatever those say, the session is also appended to the local metrics store
//! (`HAN_METRICS_DIR`), which `han-telemetry report` reads. `scripts/demo` runs both.

use std::path::Path;
use std::process::ExitCode;

use han_telemetry::record::{self, TaskOutcome};
use han_telemetry::{StandardAttributes, TelemetryBuilder, catalogue};
use han_telemetry::{
    instrument_hook, instrument_mcp_tool, instrument_plugin, instrument_task,
    instrument_validation, report,
};

fn main() -> ExitCode {
    let builder = TelemetryBuilder::from_env()
        .service_version(env!("CARGO_PKG_VERSION"))
        .standard_attributes(StandardAttributes {
            session_id: Some("han-demo-session".into()),
            app_version: Some(env!("CARGO_PKG_VERSION").into()),
            ..StandardAttributes::default()
        });
    let enabled = builder.config().enabled;
    let store = builder.config().store.active_dir().map(Path::to_path_buf);
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
            "han-demo: emitted {} metrics and {} events; delivered: {}; failed: {}; abandoned: {}; deferred: {} (shutdown took {} ms)",
            catalogue::metric::ALL.len(),
            catalogue::event::ALL.len(),
            list(&report.delivered),
            list(&report.failed),
            list(&report.abandoned),
            list(&report.deferred),
            report.elapsed.as_millis(),
        );
    } else {
        println!("han-demo: telemetry is off; set CLAUDE_CODE_ENABLE_TELEMETRY=1 to export it");
    }
    match store {
        Some(dir) => println!(
            "  local store: the session is in {dir}; see it with: han-telemetry report --dir {dir}",
            dir = dir.display()
        ),
        None => println!("  local store: off (HAN_METRICS_STORE=off, or no HOME to put it in)"),
    }
    if enabled {
        println!("  export: check the setup with: han-telemetry doctor");
    } else {
        println!(
            "  export: to send it to a collector too: CLAUDE_CODE_ENABLE_TELEMETRY=1 \
             OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4317 han-demo; han-telemetry doctor checks the setup"
        );
    }
    ExitCode::SUCCESS
}

/// One plugin session: every catalogue entry at least once, through the annotations where
/// they apply and the typed API for the rest.
fn run_session() {
    record::session_start();

    let _ = lint("src/main.rs", "fn main() {}\n");
    let _ = lint("src/lib.rs", "fn f() {\t}\n");
    format_check("README.md");

    let _ = install_plugin("jutsu-markdown", "project");
    let _ = install_plugin("", "user");
    let _ = uninstall_plugin("jutsu-markdown", "project");

    let _ = fix_task(&["src/a.rs", "src/b.rs"]);
    let _ = refactor_task(&["src/a.rs", "notes.txt"]);
    let _ = implement_task(&[]);

    let _ = typecheck("let x: number = 1;");
    let _ = typecheck("let x: any = 1; let y: any = 2; let z: any = 3;");

    let _ = metrics_query("hooks");
    let _ = metrics_query("");

    record::frustration("high", 0.82);
}

/// A PostToolUse check: the edited file must have no tabs.
#[instrument_hook(hook_type = "PostToolUse")]
fn lint(path: &str, contents: &str) -> Result<(), String> {
    match contents.find('\t') {
        Some(at) => Err(format!("{path}: tab at byte {at}")),
        None => Ok(()),
    }
}

/// A PreToolUse check that only looks at the path.
#[instrument_hook(hook_type = "PreToolUse", hook_name = "format-check")]
fn format_check(path: &str) -> bool {
    path.ends_with(".md")
}

#[instrument_plugin(install, plugin_name = name, scope = scope)]
fn install_plugin(name: &str, scope: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err(format!("no plugin name given for scope {scope}"));
    }
    Ok(())
}

#[instrument_plugin(uninstall, plugin_name = name, scope = scope)]
fn uninstall_plugin(name: &str, scope: &str) -> Result<(), String> {
    let _ = (name, scope);
    Ok(())
}

#[instrument_task(task_type = "fix")]
fn fix_task(files: &[&str]) -> Result<usize, String> {
    report::confidence(0.85);
    Ok(files.len())
}

#[instrument_task(task_type = "refactor")]
fn refactor_task(files: &[&str]) -> Result<usize, String> {
    let rust = files.iter().filter(|f| f.ends_with(".rs")).count();
    report::confidence(0.6);
    if rust < files.len() {
        report::outcome(TaskOutcome::Partial);
    }
    Ok(rust)
}

#[instrument_task(task_type = "implement")]
fn implement_task(files: &[&str]) -> Result<usize, String> {
    report::confidence(0.9);
    if files.is_empty() {
        return Err("nothing to implement".into());
    }
    Ok(files.len())
}

/// Counts `any` annotations as type errors.
#[instrument_validation(validation_type = "typecheck")]
fn typecheck(source: &str) -> Result<(), usize> {
    let errors = source.matches(": any").count();
    report::error_count(errors as u64);
    if errors == 0 { Ok(()) } else { Err(errors) }
}

#[instrument_mcp_tool(tool_name = "han_metrics_query")]
fn metrics_query(query: &str) -> Result<Vec<String>, String> {
    if query.is_empty() {
        return Err("empty query".into());
    }
    Ok(vec![format!("{query}: 3 runs")])
}
