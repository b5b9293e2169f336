//! The README's first command, `scripts/demo`, on a machine with an empty home: the demo
//! session runs and its report is shown, from prebuilt binaries or from where cargo builds
//! them (`$CARGO_TARGET_DIR` included).

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use han_telemetry_test_support::scratch::Scratch;

/// Where this test run's binaries are (`han-telemetry` and, built by the workspace's tests,
/// `han-demo`).
fn bin_dir() -> PathBuf {
    let cli = Path::new(env!("CARGO_BIN_EXE_han-telemetry"));
    let bin_dir = cli.parent().expect("the binary's directory");
    assert!(
        bin_dir.join("han-demo").exists(),
        "han-demo is not built next to {}: run the workspace's tests (scripts/test), which build it",
        cli.display()
    );
    bin_dir.to_path_buf()
}

/// Runs `scripts/demo` with an empty home, `PATH` and `vars` only.
fn demo(home: &Path, path: &str, vars: &[(&str, &Path)]) -> Output {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/demo");
    Command::new(&script)
        .env_clear()
        .env("PATH", path)
        .env("HOME", home)
        .envs(vars.iter().copied())
        .output()
        .expect("run scripts/demo")
}

fn path_var() -> String {
    std::env::var("PATH").unwrap_or_default()
}

/// The demo ran and showed its session's report, read from `store`.
fn assert_shows_the_session(output: &Output, store: &Path) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stderr.is_empty(), "stderr:\n{stderr}");
    assert!(stdout.starts_with("han-demo: telemetry is off"), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "local store: the session is in {}",
            store.display()
        )),
        "{stdout}"
    );
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

#[test]
fn scripts_demo_runs_the_session_and_shows_its_report() {
    let scratch = Scratch::new("demo-test");
    let home = scratch.join("empty-home");
    std::fs::create_dir_all(&home).expect("scratch home");
    let store = scratch.join("metrics");
    let output = demo(
        &home,
        &path_var(),
        &[
            ("HAN_DEMO_BIN_DIR", &bin_dir()),
            ("HAN_METRICS_DIR", &store),
        ],
    );
    assert_shows_the_session(&output, &store);
}

/// Writes an executable shell script at `path`.
fn script(path: &Path, text: &str) {
    std::fs::write(path, text).expect("write a script");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .expect("make the script executable");
}

/// With `CARGO_TARGET_DIR` set, the script runs the binaries cargo put there and keeps its
/// store there too. The test stands in for what cargo does so that it builds nothing: a
/// `cargo` on `PATH` that notes its arguments, and a target directory whose `debug/han-demo`
/// and `debug/han-telemetry` note that they ran and hand over to this run's binaries.
#[test]
fn scripts_demo_finds_its_binaries_under_cargo_target_dir() {
    let scratch = Scratch::new("demo-target-dir");
    let home = scratch.join("empty-home");
    let tools = scratch.join("tools");
    let target = scratch.join("elsewhere/target");
    for dir in [&home, &tools, &target.join("debug")] {
        std::fs::create_dir_all(dir).expect("scratch directories");
    }
    let log = scratch.join("ran.log");
    let log_text = log.display();
    script(
        &tools.join("cargo"),
        &format!("#!/bin/sh\necho \"cargo $*\" >> '{log_text}'\n"),
    );
    for name in ["han-demo", "han-telemetry"] {
        let real = bin_dir().join(name);
        script(
            &target.join("debug").join(name),
            &format!(
                "#!/bin/sh\necho \"ran {name}\" >> '{log_text}'\nexec '{}' \"$@\"\n",
                real.display()
            ),
        );
    }
    let path = format!("{}:{}", tools.display(), path_var());
    let output = demo(&home, &path, &[("CARGO_TARGET_DIR", &target)]);
    assert_shows_the_session(&output, &target.join("demo/metrics"));
    let ran = std::fs::read_to_string(&log).expect("what ran");
    let lines: Vec<&str> = ran.lines().collect();
    assert_eq!(lines.len(), 3, "{ran}");
    assert!(lines[0].starts_with("cargo build "), "{ran}");
    assert_eq!(lines[1..], ["ran han-demo", "ran han-telemetry"], "{ran}");
}
