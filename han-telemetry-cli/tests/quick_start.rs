//! The README's install commands and quick start, followed as written on a machine with an
//! empty home: the commands name the workspace's crates as they will be published, the
//! settings file of step 3 configures telemetry as `doctor --no-probe` shows it, and
//! `report` shows a hook's runs from the local store with no configuration at all. The Rust
//! snippets of the quick start are the library's doc tests (the README is its crate docs);
//! `scripts/demo` is `demo.rs`; that the packaged command is this one is
//! `scripts/check-package`.

mod support;

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;
use support::{Run, Scratch, run};

const README: &str = include_str!("../../README.md");

/// The README section whose heading starts with `## {title}`, up to the next `## ` heading.
fn section(title: &str) -> &'static str {
    let heading = format!("\n## {title}");
    let start = README
        .find(&heading)
        .unwrap_or_else(|| panic!("the README has no `## {title}` section"));
    let body = &README[start + heading.len()..];
    &body[..body.find("\n## ").unwrap_or(body.len())]
}

/// `text` with every run of white space as one space, as Markdown reads it.
fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The fenced code blocks of `text` whose info string is `lang`.
fn code_blocks<'a>(text: &'a str, lang: &str) -> Vec<&'a str> {
    let fence = format!("```{lang}\n");
    text.match_indices(&fence)
        .map(|(at, _)| {
            let body = &text[at + fence.len()..];
            &body[..body.find("```").unwrap_or(body.len())]
        })
        .collect()
}

/// The inline code spans of `text` (`` `like this` ``).
fn code_spans(text: &str) -> Vec<&str> {
    let unfenced: Vec<&str> = text.split("```").step_by(2).collect();
    unfenced
        .iter()
        .flat_map(|part| part.split('`').skip(1).step_by(2))
        .collect()
}

/// The shell commands of the `sh` blocks of `text`, comments dropped.
fn commands(text: &str) -> Vec<String> {
    code_blocks(text, "sh")
        .iter()
        .flat_map(|block| block.lines())
        .map(|line| line.split('#').next().unwrap_or("").trim().to_owned())
        .filter(|line| !line.is_empty())
        .collect()
}

/// The workspace's packages, from `cargo metadata`.
fn workspace() -> Vec<Value> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--offline",
        ])
        .current_dir(&root)
        .output()
        .expect("run cargo metadata");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata is JSON");
    meta["packages"].as_array().expect("packages").clone()
}

fn package<'a>(packages: &'a [Value], name: &str) -> &'a Value {
    packages
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("the README names {name:?}, which is no workspace crate"))
}

/// Published: not `publish = false`.
fn published(p: &Value) -> bool {
    p["publish"] != serde_json::json!([])
}

fn bins(p: &Value) -> Vec<&str> {
    p["targets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| {
            t["kind"]
                .as_array()
                .is_some_and(|k| k.iter().any(|k| k == "bin"))
        })
        .filter_map(|t| t["name"].as_str())
        .collect()
}

#[test]
fn the_install_commands_name_the_crates_as_published_and_in_the_checkout() {
    let packages = workspace();
    let install = section("Install");
    let commands = commands(install);
    let mut added = Vec::new();
    let mut installed = Vec::new();
    for command in &commands {
        let words: Vec<&str> = command.split_whitespace().collect();
        match words.as_slice() {
            ["cargo", "add", "--dev", name] => added.push((*name, true)),
            ["cargo", "add", name] => added.push((*name, false)),
            ["cargo", "install", "--locked", name] => installed.push(*name),
            _ => panic!("an install command this test does not know: {command:?}"),
        }
    }
    // What the quick start's snippets use is what the install commands add, dev-only for
    // the testing crate.
    assert_eq!(
        added,
        [("han-telemetry", false), ("han-telemetry-testing", true)],
        "{commands:?}"
    );
    for (name, _) in &added {
        let p = package(&packages, name);
        assert!(published(p), "{name} is not published");
        assert!(
            p["targets"]
                .as_array()
                .is_some_and(|t| t.iter().any(|t| t["kind"][0] == "lib")),
            "{name} is no library"
        );
    }
    let quick_start = section("Quick start");
    for (crate_name, dev) in [("han_telemetry", false), ("han_telemetry_testing", true)] {
        assert!(quick_start.contains(&format!("use {crate_name}::")));
        let named = if dev {
            "`cargo add --dev han-telemetry-testing`"
        } else {
            "`cargo add han-telemetry`"
        };
        assert!(
            quick_start.contains(named),
            "the quick start does not name {named}"
        );
    }
    // The command the README runs, from the crate it installs.
    assert_eq!(installed, ["han-telemetry-cli"]);
    let cli = package(&packages, "han-telemetry-cli");
    assert!(published(cli));
    assert_eq!(bins(cli), ["han-telemetry"]);
    assert!(env!("CARGO_BIN_EXE_han-telemetry").ends_with("/han-telemetry"));

    // From a checkout: each `--path` names the crate's directory.
    let checkout_commands: Vec<&str> = code_spans(install)
        .into_iter()
        .filter(|span| span.contains("--path"))
        .collect();
    assert_eq!(checkout_commands.len(), 3, "{checkout_commands:?}");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for command in checkout_commands {
        let path = command
            .split_whitespace()
            .skip_while(|w| *w != "--path")
            .nth(1)
            .unwrap_or_else(|| panic!("no path in {command:?}"));
        let dir = path.trim_start_matches("<checkout>/");
        let manifest = root.join(dir).join("Cargo.toml");
        let p = packages
            .iter()
            .find(|p| {
                Path::new(p["manifest_path"].as_str().unwrap_or_default())
                    == manifest.canonicalize().unwrap_or_default()
            })
            .unwrap_or_else(|| panic!("{command:?}: no crate in {dir}"));
        assert!(published(p), "{command:?}");
        if command.starts_with("cargo add --dev") {
            assert_eq!(p["name"], "han-telemetry-testing");
        } else if command.starts_with("cargo add") {
            assert_eq!(p["name"], "han-telemetry");
        } else {
            assert!(
                command.starts_with("cargo install --locked --path"),
                "{command}"
            );
            assert_eq!(p["name"], "han-telemetry-cli");
        }
    }
}

#[test]
fn the_quick_start_settings_turn_telemetry_on_from_the_user_settings() {
    let quick_start = section("Quick start");
    let settings = code_blocks(quick_start, "json");
    assert_eq!(settings.len(), 1, "one settings file in the quick start");
    let settings: Value = serde_json::from_str(settings[0]).expect("the settings are JSON");
    assert!(flat(quick_start).contains("In your own `~/.claude/settings.json`"));
    assert!(quick_start.contains("`han-telemetry doctor --no-probe`"));

    let home = Scratch::new("quick-start");
    let file = home.write(".claude/settings.json", settings.to_string());
    let source = format!("user settings ({})", file.display());

    let text = run(&home, &[], &["doctor", "--no-probe"]);
    assert_quiet_success(&text);
    assert!(
        text.stdout.contains(&format!(
            "Telemetry: on: CLAUDE_CODE_ENABLE_TELEMETRY=1 ({source})"
        )),
        "{}",
        text.stdout
    );
    let report = run(&home, &[], &["doctor", "--no-probe", "--json"]);
    assert_quiet_success(&report);
    let report = report.json();
    let env = settings["env"].as_object().expect("an env block");
    assert!(!env.is_empty());
    for (name, value) in env {
        let variable = report["variables"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|v| v["name"] == name.as_str())
            .unwrap_or_else(|| panic!("{name} is not in effect: {report:#}"));
        assert_eq!(&variable["value"], value, "{variable:#}");
        assert_eq!(variable["source"]["kind"], "user_settings", "{variable:#}");
        assert_eq!(variable["source"]["description"], source.as_str());
    }
    assert_eq!(report["problems"], serde_json::json!([]));
    assert_eq!(report["verdict"]["ok"], true, "{report:#}");
}

#[test]
fn report_shows_a_hooks_runs_with_no_configuration_at_all() {
    let promise = "Without any of this, `han-telemetry report` already shows your hooks' runs, \
                   failures and durations from the local store (before any hook ran, it says \
                   the store is empty and where it will be)";
    assert!(flat(section("Quick start")).contains(promise));
    let home = Scratch::new("quick-start-report");
    let store = home.path().join(".han/metrics");

    // Before any hook ran: the store is empty, and it says where it will be.
    let empty = run(&home, &[], &["report"]);
    assert_quiet_success(&empty);
    assert!(
        empty.stdout.contains(&format!(
            "in {} (the directory does not exist yet)",
            store.display()
        )),
        "{}",
        empty.stdout
    );

    // The README's example hook, run as Claude Code runs it: one clean file, one without a
    // final newline (the hook blocks it, and its run fails).
    let clean = home.write("src/clean.rs", "fn main() {}\n");
    let dirty = home.write("src/dirty.rs", "fn main() {}");
    for file in [&clean, &dirty] {
        run_hook(&home, file);
    }

    let report = run(&home, &[], &["report"]);
    assert_quiet_success(&report);
    let row = report
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("han-check-hook "))
        .unwrap_or_else(|| panic!("no han-check-hook row:\n{}", report.stdout));
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        cells[..5],
        ["han-check-hook", "PostToolUse", "2", "1", "50.0%"],
        "{}",
        report.stdout
    );
    let json = run(&home, &[], &["report", "--json"]).json();
    let hook = &json["hooks"][0];
    assert_eq!(hook["hook_name"], "han-check-hook", "{json:#}");
    assert_eq!((&hook["runs"], &hook["failed"]), (&2.into(), &1.into()));
    for stat in ["p50", "p95", "max"] {
        assert!(hook["duration_ms"][stat].is_number(), "{json:#}");
    }
}

/// `han-check-hook` (built next to this binary by the workspace's tests) with the input
/// Claude Code writes after a `Write` of `file`, in `home` with nothing configured.
fn run_hook(home: &Scratch, file: &Path) {
    let cli = Path::new(env!("CARGO_BIN_EXE_han-telemetry"));
    let hook = cli.with_file_name("han-check-hook");
    assert!(
        hook.exists(),
        "han-check-hook is not built next to {}: run the workspace's tests (scripts/test), \
         which build it",
        cli.display()
    );
    let input = serde_json::json!({
        "session_id": "quick-start",
        "transcript_path": home.path().join("transcript.jsonl"),
        "cwd": home.path(),
        "hook_event_name": "PostToolUse",
        "tool_name": "Write",
        "tool_input": {"file_path": file, "content": "not read by the hook"},
        "tool_response": {"filePath": file, "success": true},
    });
    let mut child = Command::new(&hook)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .current_dir(home.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run han-check-hook");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.to_string().as_bytes())
        .expect("write the hook's input");
    let out = child.wait_with_output().expect("han-check-hook ran");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn assert_quiet_success(run: &Run) {
    run.assert_code(0);
    assert!(run.stderr.is_empty(), "{}", run.all_output());
}
