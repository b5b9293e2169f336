//! `OTEL_*_EXPORTER=console`: readable telemetry on stderr, stdout left to the program
//! (Claude Code reads a hook's stdout).

use std::process::Command;

use han_telemetry::catalogue::{event, metric};
use han_telemetry_test_support::scratch::Scratch;

#[test]
fn console_exporters_write_every_signal_to_stderr_and_nothing_to_stdout() {
    let dir = Scratch::new("console");
    let output = Command::new(env!("CARGO_BIN_EXE_han-demo"))
        .env_clear()
        .env("HOME", dir.path())
        .env("CLAUDE_PROJECT_DIR", dir.path())
        .env("CLAUDE_CODE_ENABLE_TELEMETRY", "1")
        .env("OTEL_METRICS_EXPORTER", "console")
        .env("OTEL_LOGS_EXPORTER", "console")
        .env("OTEL_TRACES_EXPORTER", "console")
        .output()
        .expect("run han-demo");
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);

    // stdout holds only the program's own summary: its first line, then indented guidance.
    assert!(stdout.starts_with("han-demo: "), "stdout: {stdout}");
    assert!(
        stdout.lines().skip(1).all(|l| l.starts_with("  ")),
        "stdout: {stdout}"
    );
    assert!(!stdout.contains("[han-telemetry]"), "stdout: {stdout}");
    assert!(
        stdout.contains("delivered: metrics, logs, traces"),
        "stdout: {stdout}"
    );

    for block in [
        "[han-telemetry] metrics",
        "[han-telemetry] events",
        "[han-telemetry] spans",
    ] {
        assert!(stderr.contains(block), "no {block:?} on stderr:\n{stderr}");
    }
    for m in metric::ALL {
        assert!(
            stderr.contains(m.name),
            "{} missing on stderr:\n{stderr}",
            m.name
        );
    }
    for e in event::ALL {
        assert!(
            stderr.contains(&format!("  {} {}", e.name, e.severity.text())),
            "{} missing:\n{stderr}",
            e.name
        );
    }
    // Attribute order within a data point is not guaranteed: look for both on one line.
    assert!(
        stderr
            .lines()
            .any(|l| l.contains(r#"hook_name="lint""#) && l.contains(r#"hook_type="PostToolUse""#)),
        "{stderr}"
    );
    assert!(stderr.contains("hook lint"), "span missing:\n{stderr}");
    assert!(
        !stderr.contains("han-telemetry: "),
        "no warnings expected:\n{stderr}"
    );
}

/// Each signal alone on the console: the others `none` must not switch it off (an absent
/// layer once hinted `OFF` as the maximum level, and no span was created).
#[test]
fn each_signal_alone_on_the_console_is_written() {
    let dir = Scratch::new("console-alone");
    for (alone, block, sample) in [
        ("OTEL_TRACES_EXPORTER", "[han-telemetry] spans", "hook lint"),
        (
            "OTEL_LOGS_EXPORTER",
            "[han-telemetry] events",
            "han.hook_result",
        ),
        (
            "OTEL_METRICS_EXPORTER",
            "[han-telemetry] metrics",
            "han.hook.execution",
        ),
    ] {
        let mut command = Command::new(env!("CARGO_BIN_EXE_han-demo"));
        command
            .env_clear()
            .env("HOME", dir.path())
            .env("CLAUDE_PROJECT_DIR", dir.path())
            .env("CLAUDE_CODE_ENABLE_TELEMETRY", "1");
        for var in [
            "OTEL_TRACES_EXPORTER",
            "OTEL_LOGS_EXPORTER",
            "OTEL_METRICS_EXPORTER",
        ] {
            command.env(var, if var == alone { "console" } else { "none" });
        }
        let output = command.output().expect("run han-demo");
        assert_eq!(output.status.code(), Some(0), "{alone}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(block), "{alone}: no {block:?}:\n{stderr}");
        assert!(stderr.contains(sample), "{alone}: no {sample:?}:\n{stderr}");
    }
}
