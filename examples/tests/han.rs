//! The real Han (3.21.4) on the same machine as a hook (`han-check-hook`), sharing one `HOME`.
//!
//! Han resolves its data directory as `HAN_DATA_DIR`, else `$CLAUDE_CONFIG_DIR/han`, else
//! `~/.han`, and the first of its commands that needs that directory (here
//! `han coordinator status`, which needs nothing else) renames `~/.claude/han` to `~/.han`
//! when only the former exists. Han's `keep` storage is under `~/.claude/han/keep` whatever
//! the data directory is, so `han keep save` makes a `~/.claude/han` on a fresh machine and
//! again after the move. han-telemetry's store is `metrics` in Han's data directory; each test
//! runs hooks and Han commands in turn and checks, from the files and from
//! `han-telemetry report`, that every run is in one directory, the one Han uses, and counted
//! once.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use han_telemetry::store::{self, Entry};
use han_telemetry_test_support::han;
use han_telemetry_test_support::process::{self, Run};
use han_telemetry_test_support::scratch::Scratch;
use serde_json::{Value, json};

const HOOK: &str = env!("CARGO_BIN_EXE_han-check-hook");

/// The `han-telemetry` command, built next to the hook by the workspace's tests.
fn cli() -> String {
    process::cli_beside(HOOK)
}

/// One run of the hook, as Claude Code runs it, with the store where it finds it itself;
/// its session id names the run. The hook answers as it would with telemetry off.
fn hook_run(scratch: &Scratch, session: &str, vars: &[(&str, &str)]) {
    let input = process::write_input(scratch, "project/notes.txt", "no final newline", session);
    let run = process::Program::new(HOOK)
        .default_store()
        .run(&[], scratch, vars, &input);
    assert_eq!(run.code, Some(0), "{session}: {}", run.show());
    assert!(
        run.stdout.contains(r#""decision":"block""#),
        "{session}: {}",
        run.show()
    );
    assert_eq!(run.stderr, "", "{session}: {}", run.show());
}

/// A Han command; it must succeed.
fn han(scratch: &Scratch, args: &[&str], vars: &[(&str, &str)]) -> Run {
    let run = han::run(scratch, args, vars);
    assert_eq!(run.code, Some(0), "han {args:?}: {}", run.show());
    run
}

/// `han coordinator status`: the coordinator is not running; it needs the data directory.
fn han_status(scratch: &Scratch, vars: &[(&str, &str)]) -> Run {
    let run = han(scratch, &["coordinator", "status"], vars);
    assert!(
        run.stdout.contains("Coordinator: not running"),
        "{}",
        run.show()
    );
    run
}

const MIGRATED: &str = "[han] Migrated data directory";

/// The sessions of the hook runs whose records are in `dir`.
fn runs_in(dir: &Path) -> BTreeSet<String> {
    if !dir.exists() {
        return BTreeSet::new();
    }
    store::scan(dir, UNIX_EPOCH)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .records
        .into_iter()
        .filter(
            |r| matches!(&r.entry, Entry::Hook { hook_name, .. } if hook_name == "han-check-hook"),
        )
        .filter_map(|r| r.session_id.map(|s| s.into_owned()))
        .collect()
}

fn sessions(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

/// `han-telemetry report --json` as the user runs it: no `--dir`.
fn report(scratch: &Scratch, vars: &[(&str, &str)]) -> Value {
    let cli = cli();
    let program = process::Program::new(&cli).default_store();
    let run = program.run(&["report", "--json"], scratch, vars, b"");
    assert_eq!(run.code, Some(0), "{}", run.show());
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.show()))
}

/// The report counts `runs` runs of the hook, reading the store at `dir`.
fn assert_report(report: &Value, dir: &Path, runs: usize) {
    assert_eq!(report["dir"], dir.display().to_string(), "{report:#}");
    let hooks = report["hooks"].as_array().expect("hooks");
    let hook = hooks
        .iter()
        .find(|h| h["hook_name"] == "han-check-hook")
        .unwrap_or_else(|| panic!("no han-check-hook in the report: {report:#}"));
    assert_eq!(hook["runs"], runs, "{report:#}");
}

fn home(scratch: &Scratch) -> PathBuf {
    scratch.path().join("home")
}

/// A fresh machine: the user saves something with `han keep` (which makes `~/.claude/han`),
/// a hook runs, a Han command moves `~/.claude/han` to `~/.han`, a hook runs again, `han keep`
/// makes `~/.claude/han` again, a third hook runs. Every run ends up in `~/.han/metrics`,
/// where Han keeps its data, and the report counts three.
#[test]
fn the_store_moves_with_hans_data_directory_and_nothing_is_split() {
    let scratch = Scratch::new("han-move");
    let home = home(&scratch);
    let (older, data) = (home.join(".claude/han"), home.join(".han"));
    han(
        &scratch,
        &["keep", "save", "--global", "greeting", "hello"],
        &[],
    );
    assert!(
        older.join("keep").is_dir(),
        "Han's keep is not where it was"
    );
    assert!(!data.exists(), "Han made ~/.han before it moved anything");

    hook_run(&scratch, "run-1", &[]);
    assert_eq!(runs_in(&older.join("metrics")), sessions(&["run-1"]));
    assert!(
        !data.exists(),
        "the hook made ~/.han: Han would then never move ~/.claude/han"
    );

    let moved = han_status(&scratch, &[]);
    assert!(moved.stderr.contains(MIGRATED), "{}", moved.show());
    assert!(!older.exists(), "Han did not move ~/.claude/han");
    assert_eq!(runs_in(&data.join("metrics")), sessions(&["run-1"]));
    assert!(
        data.join("keep/global").is_dir(),
        "Han's own data did not move"
    );

    hook_run(&scratch, "run-2", &[]);
    han(&scratch, &["keep", "save", "--global", "again", "hi"], &[]);
    assert!(
        older.join("keep").is_dir(),
        "Han's keep no longer makes ~/.claude/han"
    );
    hook_run(&scratch, "run-3", &[]);

    let store = data.join("metrics");
    assert_eq!(runs_in(&store), sessions(&["run-1", "run-2", "run-3"]));
    assert!(
        !older.join("metrics").exists(),
        "a run went to ~/.claude/han/metrics"
    );
    let report = report(&scratch, &[]);
    assert_report(&report, &store, 3);
    assert_eq!(report["legacy_dirs"], json!([]), "{report:#}");
    // Han moves nothing more.
    let again = han_status(&scratch, &[]);
    assert!(!again.stderr.contains(MIGRATED), "{}", again.show());
}

/// The issue's sequence with an earlier han-telemetry, whose store was always
/// `~/.claude/han/metrics` (a run with `HAN_METRICS_DIR` set there stands for it): a run, the
/// move, a run that made `~/.claude/han/metrics` again; then this version. Nothing is lost:
/// the report reads the older place too and counts every run once.
#[test]
fn what_an_earlier_version_left_at_the_older_place_is_counted_once() {
    let scratch = Scratch::new("han-legacy");
    let home = home(&scratch);
    let older = home.join(".claude/han/metrics");
    let earlier = [(
        "HAN_METRICS_DIR",
        older.to_str().expect("UTF-8 scratch path"),
    )];
    hook_run(&scratch, "earlier-1", &earlier);
    let moved = han_status(&scratch, &[]);
    assert!(moved.stderr.contains(MIGRATED), "{}", moved.show());
    hook_run(&scratch, "earlier-2", &earlier);
    hook_run(&scratch, "now", &[]);

    let store = home.join(".han/metrics");
    assert_eq!(runs_in(&store), sessions(&["earlier-1", "now"]));
    assert_eq!(runs_in(&older), sessions(&["earlier-2"]));
    let report = report(&scratch, &[]);
    assert_report(&report, &store, 3);
    assert_eq!(
        report["legacy_dirs"],
        json!([older.display().to_string()]),
        "{report:#}"
    );
}

/// `~/.han` there first (Han made it) and `~/.claude/han` too (Han's keep): the store is
/// `~/.han/metrics` from the first run, and Han moves nothing.
#[test]
fn with_han_dot_han_present_first_the_store_is_there() {
    let scratch = Scratch::new("han-first");
    let home = home(&scratch);
    let data = home.join(".han");
    fs::create_dir_all(&data).expect("create ~/.han");
    han(
        &scratch,
        &["keep", "save", "--global", "greeting", "hello"],
        &[],
    );

    hook_run(&scratch, "run-1", &[]);
    let status = han_status(&scratch, &[]);
    assert!(!status.stderr.contains(MIGRATED), "{}", status.show());
    hook_run(&scratch, "run-2", &[]);

    let store = data.join("metrics");
    assert_eq!(runs_in(&store), sessions(&["run-1", "run-2"]));
    assert!(!home.join(".claude/han/metrics").exists());
    assert_report(&report(&scratch, &[]), &store, 2);
}

/// `HAN_DATA_DIR` (Han's own override), and `CLAUDE_CONFIG_DIR` (Han's data directory is
/// `$CLAUDE_CONFIG_DIR/han`): the store is `metrics` in it, Han moves nothing (a
/// `~/.claude/han` is there to be moved), and nothing is written to `~/.han`.
#[test]
fn han_data_dir_and_claude_config_dir_place_the_store_where_han_has_its_data() {
    for (label, var, data_of) in [
        (
            "data-dir",
            "HAN_DATA_DIR",
            (|dir: &Path| dir.to_path_buf()) as fn(&Path) -> PathBuf,
        ),
        ("config-dir", "CLAUDE_CONFIG_DIR", |dir: &Path| {
            dir.join("han")
        }),
    ] {
        let scratch = Scratch::new(&format!("han-{label}"));
        let home = home(&scratch);
        let chosen = scratch.path().join("chosen");
        let value = chosen.to_str().expect("UTF-8 scratch path");
        let vars = [(var, value)];
        fs::create_dir_all(home.join(".claude/han")).expect("create ~/.claude/han");

        hook_run(&scratch, "run-1", &vars);
        let status = han_status(&scratch, &vars);
        assert!(
            !status.stderr.contains(MIGRATED),
            "{label}: {}",
            status.show()
        );
        hook_run(&scratch, "run-2", &vars);

        let store = data_of(&chosen).join("metrics");
        assert_eq!(runs_in(&store), sessions(&["run-1", "run-2"]), "{label}");
        assert!(!home.join(".han").exists(), "{label}: ~/.han was made");
        assert!(
            home.join(".claude/han").is_dir(),
            "{label}: ~/.claude/han was moved"
        );
        assert_report(&report(&scratch, &vars), &store, 2);
    }
}
