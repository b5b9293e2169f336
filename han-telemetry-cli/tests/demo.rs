//! The README's first command, `scripts/demo`, on a machine with an empty home: the demo
//! session runs and its report is shown.

use std::path::Path;
use std::process::Command;

#[test]
fn scripts_demo_runs_the_session_and_shows_its_report() {
    let cli = Path::new(env!("CARGO_BIN_EXE_han-telemetry"));
    let bin_dir = cli.parent().expect("the binary's directory");
    assert!(
        bin_dir.join("han-demo").exists(),
        "han-demo is not built next to {}: run the workspace's tests (scripts/test), which build it",
        cli.display()
    );
    let scratch = std::env::temp_dir().join(format!("han-demo-test-{}", std::process::id()));
    let home = scratch.join("empty-home");
    std::fs::create_dir_all(&home).expect("scratch home");
    let store = scratch.join("metrics");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/demo");
    let output = Command::new(&script)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("HAN_DEMO_BIN_DIR", bin_dir)
        .env("HAN_METRICS_DIR", &store)
        .output()
        .expect("run scripts/demo");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let _ = std::fs::remove_dir_all(&scratch);
    assert!(
        output.status.success(),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stderr.is_empty(), "stderr:\n{stderr}");
    assert!(stdout.starts_with("han-demo: telemetry is off"), "{stdout}");
    assert!(stdout.contains(&format!(
        "local store: the session is in {}",
        store.display()
    )));
    assert!(stdout.lines().any(|l| l.starts_with("Confidence buckets")));
    for section in [
        "Hooks",
        "Plugins",
        "Tasks",
        "Validations",
        "MCP tools",
        "Frustration",
        "Skipped",
    ] {
        assert!(
            stdout.lines().any(|l| l == section),
            "no {section:?} section:\n{stdout}"
        );
    }
    // The demo's session: two lint runs, one failed; one plugin install that failed.
    let lint = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("lint "))
        .unwrap_or_else(|| panic!("no lint row:\n{stdout}"));
    let cells: Vec<_> = lint.split_whitespace().collect();
    assert_eq!(
        cells[..5],
        ["lint", "PostToolUse", "2", "1", "50.0%"],
        "{lint}"
    );
    assert!(stdout.contains("nothing: every line of every day file in the window was read"));
}
