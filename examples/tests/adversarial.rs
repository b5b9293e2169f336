//! The real hook (`han-check-hook`) and the `han-telemetry` command against a hostile machine:
//! files of every type where settings files and the store are read or written, locks held by
//! other processes, symbolic links and directories of another user, clocks before 1970 and
//! far ahead (libfaketime), kills at random points, huge and binary store files, and a replay
//! killed mid-way. Whatever the machine does, every case checks what applies of:
//!
//! * exit code and stdout are those of a run with telemetry off on a clean machine;
//! * it exits within the exit budget (plus slack for a loaded machine: hanging, not speed);
//! * at most one `han-telemetry:` line on stderr, naming what it refused;
//! * no record lost or torn: the run's records are in the store (its day file, a pending
//!   file, or the fallback store);
//! * nothing written outside the store, and nothing in it readable by other users.

use std::fs::{self, File};
use std::os::unix::fs::{PermissionsExt as _, symlink};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use han_telemetry::store::{self, Entry, ExportOutcome, LocalStore};
use han_telemetry_test_support::faults::{Fault, FaultyCollector, Wire};
use han_telemetry_test_support::process::{self, Run};
use han_telemetry_test_support::scratch::Scratch;
use serde_json::Value;

const HOOK: &str = env!("CARGO_BIN_EXE_han-check-hook");
const SESSION: &str = "adversarial-session";
/// Slack for process start-up and scheduling on a loaded 2-core machine.
const SLACK: Duration = Duration::from_millis(2500);
const LIBFAKETIME: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";
/// Another user, for foreign owners.
const NOBODY: u32 = 65_534;

/// The `han-telemetry` command, built next to the hook by the workspace's tests.
fn cli() -> String {
    process::cli_beside(HOOK)
}

/// A Write of a file with a problem: the answer is a block decision on stdout.
fn input(scratch: &Scratch) -> Vec<u8> {
    process::write_input(scratch, "faulty.txt", "no final newline", SESSION)
}

fn in_dir(text: &str, scratch: &Scratch) -> String {
    text.replace(&scratch.path().display().to_string(), "<dir>")
}

/// The hook's answer with telemetry off on a clean machine.
fn baseline() -> &'static (Option<i32>, String) {
    static BASELINE: OnceLock<(Option<i32>, String)> = OnceLock::new();
    BASELINE.get_or_init(|| {
        let scratch = Scratch::new("adv-baseline");
        let run = process::run(HOOK, &[], &scratch, &[], &input(&scratch));
        assert_eq!(run.stderr, "", "{}", run.show());
        (run.code, in_dir(&run.stdout, &scratch))
    })
}

fn metrics(scratch: &Scratch) -> PathBuf {
    scratch.path().join("metrics")
}

fn fallback(scratch: &Scratch) -> PathBuf {
    scratch.path().join("home/.han/metrics-fallback")
}

/// Runs the hook, timed.
fn hook(scratch: &Scratch, vars: &[(&str, &str)]) -> (Run, Duration) {
    let started = Instant::now();
    let run = process::run(HOOK, &[], scratch, vars, &input(scratch));
    (run, started.elapsed())
}

/// The host saw nothing: baseline answer, in time, at most one line of ours.
fn assert_unaffected(case: &str, scratch: &Scratch, (run, elapsed): &(Run, Duration)) {
    let (code, stdout) = baseline();
    let context = format!("{case}:\n{}", run.show());
    assert_eq!(run.code, *code, "{context}");
    assert_eq!(&in_dir(&run.stdout, scratch), stdout, "{context}");
    assert!(
        *elapsed < Duration::from_secs(1) + SLACK,
        "{case}: took {elapsed:?}"
    );
    assert!(run.stderr.lines().count() <= 1, "{context}");
    for line in run.stderr.lines() {
        assert!(line.starts_with("han-telemetry: "), "{context}");
    }
}

/// The run's hook record is in `dir` (day file or pending file), whole.
fn assert_recorded(case: &str, dir: &Path) {
    assert_recorded_beside(case, dir, 0);
}

/// [`assert_recorded`] in a store that also holds `foreign` lines that are not records.
fn assert_recorded_beside(case: &str, dir: &Path, foreign: usize) {
    let scan = store::scan(dir, UNIX_EPOCH).expect("scan the store");
    let hooks = scan
        .records
        .iter()
        .filter(|r| r.session_id.as_deref() == Some(SESSION))
        .filter(|r| matches!(r.entry, Entry::Hook { .. }))
        .count();
    assert_eq!(hooks, 1, "{case}: {:?}", scan);
    assert_eq!(scan.skipped.lines(), foreign, "{case}: {:?}", scan.skipped);
    assert_eq!(scan.skipped.truncated, 0, "{case}: {:?}", scan.skipped);
}

/// Nothing of ours under `dir` can be read by another user (a planted file of another user
/// is theirs).
fn assert_private(case: &str, dir: &Path) {
    use std::os::unix::fs::MetadataExt as _;
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let dir_meta = fs::symlink_metadata(dir).expect("stat");
    let mode = dir_meta.permissions().mode();
    assert_eq!(mode & 0o077, 0, "{case}: {} is {mode:o}", dir.display());
    for entry in entries.flatten() {
        let meta = entry.metadata().expect("stat");
        if meta.is_file() && meta.uid() == dir_meta.uid() {
            let mode = meta.permissions().mode();
            assert_eq!(mode & 0o077, 0, "{case}: {:?} is {mode:o}", entry.path());
        }
    }
}

fn mkfifo(path: &Path) {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).expect("parent");
    }
    let ok = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo")
        .success();
    assert!(ok, "mkfifo {}", path.display());
}

/// What may be found where a file should be.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Fifo,
    Socket,
    /// A link to `/dev/null`: a character device.
    Device,
    Directory,
}

const KINDS: [Kind; 4] = [Kind::Fifo, Kind::Socket, Kind::Device, Kind::Directory];

/// Puts a `kind` at `path`; keep the returned listener alive for a socket.
fn plant(path: &Path, kind: Kind) -> Option<UnixListener> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).expect("parent");
    }
    match kind {
        Kind::Fifo => mkfifo(path),
        Kind::Socket => return Some(UnixListener::bind(path).expect("bind a socket")),
        Kind::Device => symlink("/dev/null", path).expect("link /dev/null"),
        Kind::Directory => fs::create_dir_all(path).expect("directory"),
    }
    None
}

fn day_file(dir: &Path, at: SystemTime) -> PathBuf {
    let day = at.duration_since(UNIX_EPOCH).expect("after 1970").as_secs() / 86_400;
    dir.join(format!("{}.jsonl", store::day_name(day)))
}

fn today_file(dir: &Path) -> PathBuf {
    day_file(dir, SystemTime::now())
}

// -----------------------------------------------------------------------------------------
// 1. Settings files that are not files

#[test]
fn settings_files_of_every_type_never_block_the_hook_or_the_cli() {
    let places = [
        "project/.claude/settings.json",
        "project/.claude/settings.local.json",
        "home/.claude/settings.json",
    ];
    // Telemetry on without exporters: every configuration problem is reported, and nothing
    // else is printed.
    let on = [
        ("CLAUDE_CODE_ENABLE_TELEMETRY", "1"),
        ("OTEL_METRICS_EXPORTER", "none"),
        ("OTEL_LOGS_EXPORTER", "none"),
    ];
    for place in places {
        for kind in KINDS {
            for telemetry in [&on[..], &[]] {
                let case = format!("{kind:?} at {place}, telemetry {}", !telemetry.is_empty());
                let scratch = Scratch::new("adv-settings");
                let _socket = plant(&scratch.path().join(place), kind);
                let run = hook(&scratch, telemetry);
                assert_unaffected(&case, &scratch, &run);
                // Said with telemetry off too: the file may be what turned it off.
                assert_eq!(run.0.stderr.lines().count(), 1, "{case}: {}", run.0.show());
                assert!(
                    run.0.stderr.contains("not a regular file"),
                    "{case}: {}",
                    run.0.show()
                );
                assert_recorded(&case, &metrics(&scratch));
            }
        }
        // The CLI reads the same files: doctor, env and report must not hang either.
        let scratch = Scratch::new("adv-settings-cli");
        mkfifo(&scratch.path().join(place));
        for args in [
            &["doctor", "--no-probe"][..],
            &["env", "--endpoint", "http://127.0.0.1:4317"],
            &["report"],
        ] {
            let started = Instant::now();
            let run = process::run(&cli(), args, &scratch, &[], b"");
            assert!(started.elapsed() < SLACK * 2, "{args:?}: {}", run.show());
            assert!(matches!(run.code, Some(0 | 1)), "{args:?}: {}", run.show());
        }
    }
}

// -----------------------------------------------------------------------------------------
// 3, 6, 7, 10. The day file: taken, replaced, linked, another user's

#[test]
fn a_day_file_locked_by_another_process_costs_a_bounded_wait_and_loses_nothing() {
    let scratch = Scratch::new("adv-lock");
    let dir = metrics(&scratch);
    fs::create_dir_all(&dir).expect("store");
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).expect("chmod");
    let day = today_file(&dir);
    let held = File::create(&day).expect("day file");
    fs::set_permissions(&day, fs::Permissions::from_mode(0o600)).expect("chmod");
    // `flock -x`, held by this process for the whole run: the hook is another process.
    held.lock().expect("lock the day file");
    let run = hook(&scratch, &[]);
    assert_unaffected("locked", &scratch, &run);
    assert!(
        run.0.stderr.contains("locked by another process"),
        "{}",
        run.0.show()
    );
    assert!(run.0.stderr.contains(".pending.jsonl"), "{}", run.0.show());
    held.unlock().expect("unlock");
    assert_recorded("locked", &dir);
    assert_eq!(fs::metadata(&day).expect("day file").len(), 0);
    assert_private("locked", &dir);

    // The next run writes its day file as usual; both runs' records are read.
    let run = hook(&scratch, &[]);
    assert_unaffected("after the lock", &scratch, &run);
    assert_eq!(run.0.stderr, "");
    let scan = store::scan(&dir, UNIX_EPOCH).expect("scan");
    let hooks = scan
        .records
        .iter()
        .filter(|r| matches!(r.entry, Entry::Hook { .. }));
    assert_eq!(hooks.count(), 2, "{scan:?}");
}

#[test]
fn a_day_file_that_is_not_a_regular_file_of_ours_is_never_written_through() {
    // A file outside the store that a link or a second name points at: it must not change.
    let scratch_outside = Scratch::new("adv-outside");
    let target = scratch_outside.write("root-only.txt", "untouched\n");
    fs::set_permissions(&target, fs::Permissions::from_mode(0o600)).expect("chmod");

    type Plant = fn(&Path, &Path) -> Option<UnixListener>;
    let cases: [(&str, Plant); 8] = [
        ("an empty FIFO", |day, _| plant(day, Kind::Fifo)),
        ("a socket", |day, _| plant(day, Kind::Socket)),
        ("a link to /dev/null", |day, _| plant(day, Kind::Device)),
        ("a directory", |day, _| plant(day, Kind::Directory)),
        ("a symbolic link to a root-only file", |day, target| {
            symlink(target, day).expect("link");
            None
        }),
        ("a dangling symbolic link", |day, target| {
            symlink(target.with_extension("missing"), day).expect("link");
            None
        }),
        ("a hard link to a root-only file", |day, target| {
            fs::hard_link(target, day).expect("hard link");
            None
        }),
        ("a file of another user", |day, _| {
            fs::write(day, "").expect("write");
            std::os::unix::fs::chown(day, Some(NOBODY), Some(NOBODY)).expect("chown");
            None
        }),
    ];
    for (what, plant_it) in cases {
        let scratch = Scratch::new("adv-dayfile");
        let dir = metrics(&scratch);
        fs::create_dir_all(&dir).expect("store");
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).expect("chmod");
        let _socket = plant_it(&today_file(&dir), &target);
        let run = hook(&scratch, &[]);
        assert_unaffected(what, &scratch, &run);
        assert_eq!(run.0.stderr.lines().count(), 1, "{what}: {}", run.0.show());
        assert!(
            run.0.stderr.contains(".pending.jsonl"),
            "{what}: {}",
            run.0.show()
        );
        assert_eq!(
            fs::read_to_string(&target).expect("target"),
            "untouched\n",
            "{what}"
        );
        assert!(!target.with_extension("missing").exists(), "{what}");
        // A second name of the outside file is read like any day file: one line, not ours.
        let foreign = usize::from(what.starts_with("a hard link"));
        assert_recorded_beside(what, &dir, foreign);
        assert_private(what, &dir);
    }
}

#[test]
fn a_day_file_of_ours_that_others_can_read_is_made_private_with_one_warning() {
    let scratch = Scratch::new("adv-mode");
    let dir = metrics(&scratch);
    fs::create_dir_all(&dir).expect("store");
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).expect("chmod");
    let day = today_file(&dir);
    fs::write(&day, "").expect("day file");
    fs::set_permissions(&day, fs::Permissions::from_mode(0o644)).expect("chmod");
    let run = hook(&scratch, &[]);
    assert_unaffected("0644 day file", &scratch, &run);
    assert!(
        run.0.stderr.contains("readable by you only"),
        "{}",
        run.0.show()
    );
    assert_recorded("0644 day file", &dir);
    assert_private("0644 day file", &dir);
}

#[test]
fn a_store_directory_that_is_not_safe_is_left_alone_and_records_go_to_the_fallback() {
    let scratch_outside = Scratch::new("adv-dir-outside");
    let target = scratch_outside.write("root-only.txt", "untouched\n");
    type Plant = fn(&Path, &Path);
    let cases: [(&str, Plant); 5] = [
        ("owned by another user", |dir, _| {
            fs::create_dir_all(dir).expect("store");
            std::os::unix::fs::chown(dir, Some(NOBODY), Some(NOBODY)).expect("chown");
        }),
        (
            "world-writable with another user's link planted",
            |dir, target| {
                fs::create_dir_all(dir).expect("store");
                fs::set_permissions(dir, fs::Permissions::from_mode(0o777)).expect("chmod");
                let day = today_file(dir);
                symlink(target, &day).expect("link");
                std::os::unix::fs::lchown(&day, Some(NOBODY), Some(NOBODY)).expect("lchown");
            },
        ),
        ("group-writable", |dir, _| {
            fs::create_dir_all(dir).expect("store");
            fs::set_permissions(dir, fs::Permissions::from_mode(0o770)).expect("chmod");
        }),
        ("a symbolic link of another user", |dir, target| {
            let real = target.with_file_name("real-store");
            fs::create_dir_all(&real).expect("real store");
            symlink(&real, dir).expect("link");
            std::os::unix::fs::lchown(dir, Some(NOBODY), Some(NOBODY)).expect("lchown");
        }),
        ("a FIFO", |dir, _| mkfifo(dir)),
    ];
    for (what, plant_it) in cases {
        let scratch = Scratch::new("adv-dir");
        let dir = metrics(&scratch);
        plant_it(&dir, &target);
        let before = listing(&dir);
        let run = hook(&scratch, &[]);
        assert_unaffected(what, &scratch, &run);
        assert_eq!(run.0.stderr.lines().count(), 1, "{what}: {}", run.0.show());
        assert!(
            run.0.stderr.contains("metrics-fallback"),
            "{what}: {}",
            run.0.show()
        );
        assert_eq!(listing(&dir), before, "{what}: the store was written");
        assert_eq!(
            fs::read_to_string(&target).expect("target"),
            "untouched\n",
            "{what}"
        );
        assert!(!target.with_file_name("real-store").join("x").exists());
        assert_recorded(what, &fallback(&scratch));
        assert_private(what, &fallback(&scratch));

        // `report` finds them without being told where.
        let report = process::run(&cli(), &["--json", "report"], &scratch, &[], b"");
        assert_eq!(report.code, Some(0), "{what}: {}", report.show());
        let report: Value = serde_json::from_str(&report.stdout).expect("report JSON");
        assert_eq!(report["hooks"][0]["runs"], 1, "{what}: {report}");
    }

    // A failed export's line names where the records really are.
    let scratch = Scratch::new("adv-dir-export");
    let dir = metrics(&scratch);
    fs::create_dir_all(&dir).expect("store");
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).expect("chmod");
    let refused = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let endpoint = format!("http://{}", refused.local_addr().expect("addr"));
    drop(refused);
    let run = hook(
        &scratch,
        &[
            ("CLAUDE_CODE_ENABLE_TELEMETRY", "1"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
        ],
    );
    let kept = format!("kept in {}", fallback(&scratch).display());
    assert!(run.0.stderr.contains(&kept), "{}", run.0.show());
}

/// Names and sizes of the entries of `dir` (empty when it cannot be listed).
fn listing(dir: &Path) -> Vec<(String, u64)> {
    let mut names: Vec<_> = fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| {
                    let len = e.metadata().map_or(0, |m| m.len());
                    (e.file_name().to_string_lossy().into_owned(), len)
                })
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn a_relative_store_directory_is_refused_with_one_warning_and_the_default_used() {
    let scratch = Scratch::new("adv-relative");
    let cwd = scratch.path().join("somewhere");
    fs::create_dir_all(&cwd).expect("cwd");
    let started = Instant::now();
    let run = process::Program::new(HOOK).cwd(&cwd).run(
        &[],
        &scratch,
        &[("HAN_METRICS_DIR", "relative/metrics")],
        &input(&scratch),
    );
    let run = (run, started.elapsed());
    assert_unaffected("relative", &scratch, &run);
    assert_eq!(run.0.stderr.lines().count(), 1, "{}", run.0.show());
    assert!(run.0.stderr.contains("HAN_METRICS_DIR"), "{}", run.0.show());
    assert!(run.0.stderr.contains("relative"), "{}", run.0.show());
    assert_eq!(
        listing(&cwd),
        vec![],
        "written relative to the working directory"
    );
    assert_recorded("relative", &scratch.path().join("home/.han/metrics"));

    // A relative HAN_DATA_DIR too: Han's own default is used.
    let scratch = Scratch::new("adv-relative-data");
    let project = scratch.path().join("project");
    let started = Instant::now();
    let run = process::Program::new(HOOK).default_store().run(
        &[],
        &scratch,
        &[("HAN_DATA_DIR", "relative/han")],
        &input(&scratch),
    );
    let run = (run, started.elapsed());
    assert_unaffected("relative data", &scratch, &run);
    assert_eq!(run.0.stderr.lines().count(), 1, "{}", run.0.show());
    assert!(run.0.stderr.contains("HAN_DATA_DIR"), "{}", run.0.show());
    assert!(
        !project.join("relative").exists(),
        "written relative to the working directory"
    );
    assert_recorded("relative data", &scratch.path().join("home/.han/metrics"));
}

// -----------------------------------------------------------------------------------------
// 4, 8. Clocks

/// Runs under libfaketime, or says loudly that it cannot.
fn faketime_available() -> bool {
    let there = Path::new(LIBFAKETIME).exists();
    if !there {
        eprintln!(
            "SKIPPED: {LIBFAKETIME} is missing (Debian package libfaketime; .ci/run installs \
             it): clock cases not run"
        );
    }
    there
}

#[test]
fn no_clock_value_fails_the_hook_or_report() {
    if !faketime_available() {
        return;
    }
    let refused = refused_endpoint();
    let on = [
        ("CLAUDE_CODE_ENABLE_TELEMETRY", "1"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", refused.as_str()),
        ("OTEL_TRACES_EXPORTER", "otlp"),
    ];
    for (clock, stamp) in [
        ("@1969-12-31 23:00:00", "1970-01-01T00:00:00.000Z"),
        ("@1960-01-01 00:00:00", "1970-01-01T00:00:00.000Z"),
        ("+3000000d", "9999-12-31T23:59:59.999Z"),
    ] {
        for telemetry in [&[][..], &on[..]] {
            let case = format!("clock {clock}, telemetry {}", !telemetry.is_empty());
            let scratch = Scratch::new("adv-clock");
            let mut vars = vec![("LD_PRELOAD", LIBFAKETIME), ("FAKETIME", clock)];
            vars.extend_from_slice(telemetry);
            let run = hook(&scratch, &vars);
            assert_unaffected(&case, &scratch, &run);
            assert!(
                !run.0.stderr.contains("panicked"),
                "{case}: {}",
                run.0.show()
            );
            if telemetry.is_empty() {
                assert_eq!(run.0.stderr, "", "{case}");
            }
            assert_recorded(&case, &metrics(&scratch));
            let text = fs::read_dir(metrics(&scratch))
                .expect("store")
                .flatten()
                .map(|e| fs::read_to_string(e.path()).unwrap_or_default())
                .collect::<String>();
            assert!(
                text.contains(stamp),
                "{case}: the clock was not faked: {text}"
            );

            for args in [&["report", "--since", "100000d"][..], &["--json", "report"]] {
                let report = process::run(&cli(), args, &scratch, &vars, b"");
                assert_eq!(report.code, Some(0), "{case} {args:?}: {}", report.show());
                assert!(
                    !report.stderr.contains("panicked"),
                    "{case}: {}",
                    report.show()
                );
            }
        }
    }
}

#[test]
fn a_clock_far_ahead_deletes_no_day_file_a_correct_clock_keeps() {
    if !faketime_available() {
        return;
    }
    let scratch = Scratch::new("adv-skew");
    let dir = metrics(&scratch);
    fs::create_dir_all(&dir).expect("store");
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).expect("chmod");
    let now = SystemTime::now();
    let mut kept = Vec::new();
    for age in [0_u64, 1, 5, 20, 29] {
        let at = now - Duration::from_secs(age * 86_400);
        let path = day_file(&dir, at);
        let file = File::create(&path).expect("day file");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).expect("chmod");
        file.set_modified(at).expect("mtime");
        kept.push(path);
    }
    for clock in ["+400d", "+401d", "+4000d"] {
        let vars = [("LD_PRELOAD", LIBFAKETIME), ("FAKETIME", clock)];
        let run = hook(&scratch, &vars);
        assert_unaffected(clock, &scratch, &run);
        for path in &kept {
            assert!(path.exists(), "{clock} deleted {}", path.display());
        }
    }
    let scan = store::scan(&dir, UNIX_EPOCH).expect("scan");
    let hooks = scan
        .records
        .iter()
        .filter(|r| matches!(r.entry, Entry::Hook { .. }));
    assert_eq!(hooks.count(), 3);
}

// -----------------------------------------------------------------------------------------
// Kills

#[test]
fn writers_killed_at_random_points_tear_at_most_their_own_last_line() {
    let scratch = Scratch::new("adv-kill");
    let dir = metrics(&scratch);
    let mut seed = u64::from(std::process::id()) ^ 0x9e37_79b9_7f4a_7c15;
    let mut kills = 0;
    for _ in 0..16 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let delay = Duration::from_micros(seed % 30_000);
        let mut child = Command::new(HOOK)
            .env_clear()
            .env("HOME", scratch.path().join("home"))
            .env("HAN_METRICS_DIR", &dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the hook");
        if let Some(mut stdin) = child.stdin.take() {
            use std::io::Write as _;
            let _ = stdin.write_all(&input(&scratch));
        }
        std::thread::sleep(delay);
        if child.kill().is_ok() {
            kills += 1;
        }
        let _ = child.wait();
    }
    // After every kill, a clean run's records are whole and read.
    let run = hook(&scratch, &[]);
    assert_unaffected("after kills", &scratch, &run);
    let scan = store::scan(&dir, UNIX_EPOCH).expect("scan");
    assert!(scan.skipped.lines() <= kills, "{:?}", scan.skipped);
    assert!(
        scan.skipped.unreadable_files.is_empty(),
        "{:?}",
        scan.skipped
    );
    let last = scan.records.last().expect("the clean run's records");
    let last_process = last.id.split('-').next().unwrap_or_default().to_owned();
    let of_last = scan
        .records
        .iter()
        .filter(|r| r.id.starts_with(&last_process))
        .count();
    assert_eq!(
        of_last, 2,
        "the clean run's hook and validation records: {scan:?}"
    );
}

// -----------------------------------------------------------------------------------------
// 9. Huge and binary store files

#[test]
fn report_reads_a_huge_line_and_binary_files_in_bounded_memory_and_output() {
    let scratch = Scratch::new("adv-huge");
    let dir = metrics(&scratch);
    let local = LocalStore::at(&dir, 30);
    local.append(
        Some(SESSION),
        Entry::Hook {
            hook_name: "good".into(),
            hook_type: "PostToolUse".into(),
            success: true,
            duration_ms: 1.0,
        },
    );
    local.try_flush().expect("write a record");
    // A 96 MiB line of NULs (sparse: costs no disk) appended to today's file, and a day
    // file of pseudo-random bytes.
    let day = today_file(&dir);
    let len = fs::metadata(&day).expect("day file").len();
    File::options()
        .append(true)
        .open(&day)
        .expect("open")
        .set_len(len + (96 << 20))
        .expect("grow");
    let mut noise = Vec::with_capacity(8 << 20);
    let mut x: u32 = 0x1234_5678;
    while noise.len() < 8 << 20 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        noise.extend_from_slice(&x.to_le_bytes());
    }
    fs::write(dir.join("2020-01-01.jsonl"), &noise).expect("noise");
    // Memory is capped below the line (the CLI runs in under 32 MiB): a reader that holds
    // the line dies. How long it takes is not asserted (a loaded machine decides that);
    // `process::run` still fails a run that hangs.
    for args in ["report --since 100000d", "--json report --since 100000d"] {
        let run = process::run(
            "/bin/sh",
            &["-c", &format!("ulimit -v 65536 && exec {} {args}", cli())],
            &scratch,
            &[],
            b"",
        );
        assert_eq!(run.code, Some(0), "{args}: {}", run.show());
        assert!(
            run.stdout.len() < 64 * 1024,
            "{args}: printed {} bytes",
            run.stdout.len()
        );
        assert!(run.stdout.contains("good"), "{args}: {}", run.show());
        if args.starts_with("--json") {
            let report: Value = serde_json::from_str(&run.stdout).expect("JSON");
            assert!(
                report["skipped"]["oversized"].as_u64() >= Some(1),
                "{report}"
            );
            assert_eq!(report["hooks"][0]["runs"], 1, "{report}");
        }
    }
}

// -----------------------------------------------------------------------------------------
// 5. A replay killed mid-way

fn refused_endpoint() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    format!("http://127.0.0.1:{port}")
}

/// Hook executions counted in OTLP/JSON metrics bodies, and `han.hook_result` events in
/// logs bodies.
fn received(c: &FaultyCollector) -> (u64, u64) {
    let (mut executions, mut events) = (0, 0);
    for (path, body) in c.bodies() {
        let Ok(doc) = serde_json::from_slice::<Value>(&body) else {
            continue;
        };
        let items = |key: &str, inner: &str, leaf: &str| -> Vec<Value> {
            doc[key]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|r| r[inner].as_array().cloned().unwrap_or_default())
                .flat_map(|s| s[leaf].as_array().cloned().unwrap_or_default())
                .collect()
        };
        if path.ends_with("/v1/metrics") {
            for m in items("resourceMetrics", "scopeMetrics", "metrics") {
                if m["name"] == "han.hook.execution" {
                    for p in m["sum"]["dataPoints"].as_array().into_iter().flatten() {
                        let n = &p["asInt"];
                        executions += n
                            .as_u64()
                            .or_else(|| n.as_str().and_then(|s| s.parse().ok()))
                            .unwrap_or(0);
                    }
                }
            }
        } else if path.ends_with("/v1/logs") {
            events += items("resourceLogs", "scopeLogs", "logRecords")
                .iter()
                .filter(|l| l["eventName"] == "han.hook_result")
                .count() as u64;
        }
    }
    (executions, events)
}

#[test]
fn a_replay_killed_at_any_point_sends_at_most_one_batch_twice_and_loses_nothing() {
    const RUNS: u64 = 300;
    let batch = han_telemetry::replay::BATCH_RECORDS as u64;
    let mut seed = u64::from(std::process::id()) | 1;
    // A fixed early and a fixed late kill, and random ones between.
    let mut kill_after = vec![Duration::from_millis(150), Duration::from_millis(1400)];
    for _ in 0..2 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        kill_after.push(Duration::from_millis(100 + seed % 1400));
    }
    for kill in kill_after {
        let scratch = Scratch::new("adv-replay");
        let dir = metrics(&scratch);
        for _ in 0..RUNS {
            let process = LocalStore::at(&dir, 30);
            process.append(
                Some(SESSION),
                Entry::Hook {
                    hook_name: "replayed".into(),
                    hook_type: "PostToolUse".into(),
                    success: false,
                    duration_ms: 3.0,
                },
            );
            process.append(
                None,
                Entry::Export {
                    of: process.process_id().to_owned().into(),
                    replay: false,
                    metrics: Some(ExportOutcome::Failed),
                    logs: Some(ExportOutcome::Failed),
                    traces: None,
                    logs_dropped: 0,
                },
            );
            process.try_flush().expect("write the store");
        }
        // Each export takes 150 ms: the replay runs long enough to be killed in the middle.
        let slow = FaultyCollector::start(Wire::Http, Fault::Slow(Duration::from_millis(150)));
        let vars = |endpoint: String| -> Vec<(String, String)> {
            vec![
                ("CLAUDE_CODE_ENABLE_TELEMETRY".into(), "1".into()),
                ("OTEL_EXPORTER_OTLP_ENDPOINT".into(), endpoint),
                ("OTEL_EXPORTER_OTLP_PROTOCOL".into(), "http/json".into()),
            ]
        };
        let mut child = Command::new(cli())
            .args(["replay", "--since", "1d"])
            .env_clear()
            .env("HOME", scratch.path().join("home"))
            .env("HAN_METRICS_DIR", &dir)
            .envs(vars(slow.endpoint()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start replay");
        std::thread::sleep(kill);
        let _ = child.kill();
        let _ = child.wait();

        let fast = FaultyCollector::start(Wire::Http, Fault::Slow(Duration::ZERO));
        let owned = vars(fast.endpoint());
        let again: Vec<(&str, &str)> = owned
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let run = process::run(&cli(), &["replay", "--since", "1d"], &scratch, &again, b"");
        assert_eq!(run.code, Some(0), "killed after {kill:?}: {}", run.show());
        let (first, second) = (received(&slow), received(&fast));
        let (executions, events) = (first.0 + second.0, first.1 + second.1);
        let context = format!("killed after {kill:?}: first {first:?}, then {second:?}");
        assert!(
            executions >= RUNS && executions <= RUNS + batch,
            "{context}"
        );
        assert!(events >= RUNS && events <= RUNS + batch, "{context}");
        // And a third replay has nothing left to send.
        let run = process::run(
            &cli(),
            &["--json", "replay", "--since", "1d"],
            &scratch,
            &again,
            b"",
        );
        let summary: Value = serde_json::from_str(&run.stdout).expect("JSON");
        assert_eq!(summary["processes"], 0, "{context}: {summary}");
    }
}
