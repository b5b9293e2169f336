//! `han-telemetry report` against stores with known contents, written line by line in the
//! documented format (`han-telemetry/src/store/format.md`) or through `LocalStore`, read by the
//! real binary in a clean environment.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use han_telemetry::store::{Entry, LocalStore};
use serde_json::{Value, json};
use support::{Run, Scratch};

mod support;

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(86_400);

/// `han-telemetry ARGS` in a clean environment (support::run: only PATH, and HOME and
/// CLAUDE_PROJECT_DIR at an empty scratch directory, so no real settings file is read) plus
/// `vars`.
fn run(args: &[&str], vars: &[(&str, &str)]) -> Run {
    let home = Scratch::new("home");
    support::run(&home, vars, args)
}

/// Runs `report --json` and parses its one document; exit 0 is required.
fn report_json(args: &[&str], vars: &[(&str, &str)]) -> Value {
    let mut all = vec!["report", "--json"];
    all.extend_from_slice(args);
    run(&all, vars).assert_code(0).json()
}

fn rfc3339(ts: SystemTime) -> String {
    humantime::format_rfc3339_millis(ts).to_string()
}

fn epoch_day(ts: SystemTime) -> u64 {
    ts.duration_since(UNIX_EPOCH).expect("after 1970").as_secs() / 86_400
}

fn day_name(ts: SystemTime) -> String {
    rfc3339(ts)[..10].to_owned()
}

/// Day files being written: lines by UTC day of their record.
#[derive(Default)]
struct Files {
    days: BTreeMap<String, String>,
    next_id: u64,
}

impl Files {
    fn record(&mut self, ts: SystemTime, fields: Value) {
        self.next_id += 1;
        let mut record = json!({
            "v": 1,
            "id": format!("00000000000000ab-{}", self.next_id),
            "ts": rfc3339(ts),
            "session_id": "s-1",
        });
        record
            .as_object_mut()
            .expect("an object")
            .extend(fields.as_object().expect("an object").clone());
        self.line(ts, &record.to_string());
    }

    fn hook(&mut self, ts: SystemTime, name: &str, kind: &str, success: bool, ms: f64) {
        self.record(
            ts,
            json!({"kind": "hook", "hook_name": name, "hook_type": kind, "success": success, "duration_ms": ms}),
        );
    }

    fn line(&mut self, ts: SystemTime, line: &str) {
        let file = self.days.entry(day_name(ts)).or_default();
        file.push_str(line);
        file.push('\n');
    }

    fn write(&self, dir: &Path) {
        for (day, text) in &self.days {
            fs::write(dir.join(format!("{day}.jsonl")), text).expect("write a day file");
        }
    }
}

/// The store of the main tests, relative to `now`.
struct Fixture {
    dir: Scratch,
    /// 10 minutes ago: the "today" records.
    recent: SystemTime,
    /// 3 days ago.
    earlier: SystemTime,
    /// The one recent failure of `lint`/`PostToolUse`, its last failure.
    last_failure: SystemTime,
}

impl Fixture {
    fn new() -> Fixture {
        let now = SystemTime::now();
        let dir = Scratch::new("store");
        let recent = now - 10 * MINUTE;
        let earlier = now - 3 * DAY;
        let at = |base: SystemTime, i: u64| base + Duration::from_secs(i);
        let mut files = Files::default();

        // lint/PostToolUse: 10 runs in the window, 3 failures. Sorted durations
        // 10 20 30 40 50 60 70 80 90 1000: nearest-rank p50 is the 5th (50), p95 the 10th.
        for (i, (ok, ms)) in [(true, 10.0), (false, 20.0), (true, 30.0), (false, 1000.0)]
            .into_iter()
            .enumerate()
        {
            files.hook(at(earlier, i as u64), "lint", "PostToolUse", ok, ms);
        }
        for (i, (ok, ms)) in [
            (true, 40.0),
            (true, 50.0),
            (false, 60.0),
            (true, 70.0),
            (true, 80.0),
            (true, 90.0),
        ]
        .into_iter()
        .enumerate()
        {
            files.hook(at(recent, i as u64), "lint", "PostToolUse", ok, ms);
        }
        let last_failure = at(recent, 2);
        files.hook(recent, "lint", "Stop", true, 5.0);
        files.hook(earlier, "fmt", "PreToolUse", false, 12.5);
        // Outside `--since 7d`: in an older day file, and (usually) in the window's first
        // day file but before the start of the window.
        files.hook(now - 10 * DAY, "lint", "PostToolUse", false, 99_999.0);
        files.hook(now - 7 * DAY - HOUR, "lint", "PostToolUse", false, 88_888.0);

        for (kind, scope, ok) in [
            ("plugin_install", "user", true),
            ("plugin_install", "user", false),
            ("plugin_uninstall", "user", true),
        ] {
            files.record(
                earlier,
                json!({"kind": kind, "plugin_name": "han-core", "scope": scope, "success": ok}),
            );
        }
        files.record(recent, json!({"kind": "plugin_install", "plugin_name": "jutsu", "scope": "project", "success": true}));

        // fix: |0.75-1| + |0.5-0| + |0.25-0| + |1-1| = 1.0 over 4: calibration 0.75.
        for (outcome, confidence) in [
            ("success", 0.75),
            ("partial", 0.5),
            ("failure", 0.25),
            ("success", 1.0),
        ] {
            files.record(recent, json!({"kind": "task", "task_type": "fix", "outcome": outcome, "confidence": confidence}));
        }
        // feature: one without a confidence, one partial at 0.875 (error 0.875).
        files.record(
            recent,
            json!({"kind": "task", "task_type": "feature", "outcome": "success"}),
        );
        files.record(earlier, json!({"kind": "task", "task_type": "feature", "outcome": "partial", "confidence": 0.875}));

        for (passed, errors) in [(true, 0), (false, 3), (false, 4)] {
            files.record(recent, json!({"kind": "validation", "validation_type": "lint", "passed": passed, "error_count": errors}));
        }
        for ok in [true, true, false, true] {
            files.record(
                recent,
                json!({"kind": "mcp_tool_call", "tool_name": "search", "success": ok}),
            );
        }
        files.record(recent, json!({"kind": "session_start"}));
        files.record(earlier, json!({"kind": "session_start"}));
        files.record(
            recent,
            json!({"kind": "frustration", "level": "high", "score": 0.5}),
        );
        files.record(
            recent,
            json!({"kind": "frustration", "level": "high", "score": 1.0}),
        );
        files.record(recent, json!({"kind": "frustration", "level": "low"}));

        // What the reader must skip and count.
        files.line(earlier, r#"{"v":2,"id":"x-1","ts":"2026-01-01T00:00:00.000Z","kind":"hook","hook_name":"lint","hook_type":"PostToolUse","success":false,"duration_ms":1}"#);
        files.line(earlier, "not json");
        files.line(
            earlier,
            &format!(
                r#"{{"v":1,"id":"x-2","ts":"{}","kind":"teleport"}}"#,
                rfc3339(earlier)
            ),
        );
        files.write(dir.path());
        // A writer killed mid-line: the last line of the newest file has no newline.
        let newest = dir.path().join(format!("{}.jsonl", day_name(recent)));
        let mut text = fs::read_to_string(&newest).expect("read the newest day file");
        text.push_str(r#"{"v":1,"id":"x-3","ts":"#);
        fs::write(&newest, text).expect("write the torn line");
        fs::write(dir.path().join("notes.txt"), "not a day file\n").expect("write a foreign file");

        Fixture {
            dir,
            recent,
            earlier,
            last_failure,
        }
    }

    fn dir(&self) -> &str {
        self.dir.path().to_str().expect("a UTF-8 temporary path")
    }
}

/// Records in the window of `--since 7d`: 10 + 1 + 1 hooks, 4 plugin, 6 task, 3 validation,
/// 4 MCP, 2 session and 3 frustration records.
const IN_WINDOW: u64 = 12 + 4 + 6 + 3 + 4 + 2 + 3;

fn find<'a>(list: &'a Value, key: &str, value: &str) -> &'a Value {
    list.as_array()
        .expect("an array")
        .iter()
        .find(|item| item[key] == value)
        .unwrap_or_else(|| panic!("no {key} = {value} in {list:#}"))
}

fn assert_main_numbers(report: &Value, fixture: &Fixture) {
    assert_eq!(report["report_version"], 1);
    assert_eq!(report["records"], IN_WINDOW, "{report:#}");
    assert_eq!(report["sessions_started"], 2);

    let hooks = &report["hooks"];
    assert_eq!(hooks.as_array().expect("an array").len(), 3, "{hooks:#}");
    // Sorted by name, then type.
    let keys: Vec<_> = hooks
        .as_array()
        .expect("an array")
        .iter()
        .map(|h| {
            format!(
                "{}/{}",
                h["hook_name"].as_str().expect("a string"),
                h["hook_type"].as_str().expect("a string")
            )
        })
        .collect();
    assert_eq!(keys, ["fmt/PreToolUse", "lint/PostToolUse", "lint/Stop"]);
    let lint = &hooks[1];
    assert_eq!(lint["runs"], 10);
    assert_eq!(lint["succeeded"], 7);
    assert_eq!(lint["failed"], 3);
    assert_eq!(lint["success_rate"], 0.7);
    assert_eq!(
        lint["duration_ms"],
        json!({"p50": 50.0, "p95": 1000.0, "max": 1000.0})
    );
    assert_eq!(lint["last_failure"], rfc3339(fixture.last_failure));
    let mut daily = BTreeMap::new();
    for (ts, runs, failures) in [(fixture.earlier, 4, 2), (fixture.recent, 6, 1)] {
        let day: &mut (u64, u64) = daily.entry(day_name(ts)).or_default();
        day.0 += runs;
        day.1 += failures;
    }
    let expected: Vec<Value> = daily
        .into_iter()
        .map(|(day, (runs, failures))| json!({"day": day, "runs": runs, "failures": failures}))
        .collect();
    assert_eq!(lint["daily"], json!(expected));
    let fmt = &hooks[0];
    assert_eq!(fmt["runs"], 1);
    assert_eq!(fmt["success_rate"], 0.0);
    assert_eq!(
        fmt["duration_ms"],
        json!({"p50": 12.5, "p95": 12.5, "max": 12.5})
    );
    assert_eq!(fmt["last_failure"], rfc3339(fixture.earlier));
    assert_eq!(hooks[2]["success_rate"], 1.0);
    assert_eq!(hooks[2]["last_failure"], Value::Null);

    assert_eq!(
        report["plugins"],
        json!([
            {"plugin_name": "han-core", "scope": "user",
             "installs": {"succeeded": 1, "failed": 1}, "uninstalls": {"succeeded": 1, "failed": 0}},
            {"plugin_name": "jutsu", "scope": "project",
             "installs": {"succeeded": 1, "failed": 0}, "uninstalls": {"succeeded": 0, "failed": 0}},
        ])
    );

    let tasks = &report["tasks"];
    let fix = find(&tasks["by_type"], "task_type", "fix");
    assert_eq!(fix["count"], 4);
    assert_eq!(
        fix["outcomes"],
        json!({"success": 2, "partial": 1, "failure": 1, "other": 0})
    );
    assert_eq!(fix["with_confidence"], 4);
    assert_eq!(fix["calibration_score"], 0.75);
    assert_eq!(
        fix["confidence_buckets"],
        json!([
            {"bucket": 0.2, "count": 1, "successes": 0, "success_rate": 0.0},
            {"bucket": 0.5, "count": 1, "successes": 0, "success_rate": 0.0},
            {"bucket": 0.7, "count": 1, "successes": 1, "success_rate": 1.0},
            {"bucket": 1.0, "count": 1, "successes": 1, "success_rate": 1.0},
        ])
    );
    let feature = find(&tasks["by_type"], "task_type", "feature");
    assert_eq!(feature["count"], 2);
    assert_eq!(feature["with_confidence"], 1);
    // A partial task scores as not succeeded: 1 - |0.875 - 0|.
    assert_eq!(feature["calibration_score"], 0.125);
    assert_eq!(
        feature["confidence_buckets"],
        json!([{"bucket": 0.8, "count": 1, "successes": 0, "success_rate": 0.0}])
    );
    let all = &tasks["all"];
    assert!(all.get("task_type").is_none());
    assert_eq!(all["count"], 6);
    assert_eq!(
        all["outcomes"],
        json!({"success": 3, "partial": 2, "failure": 1, "other": 0})
    );
    assert_eq!(all["with_confidence"], 5);
    // (0.25 + 0.5 + 0.25 + 0 + 0.875) / 5 = 0.375.
    assert_eq!(all["calibration_score"], 0.625);
    let buckets: Vec<_> = all["confidence_buckets"]
        .as_array()
        .expect("an array")
        .iter()
        .map(|b| {
            (
                b["bucket"].as_f64().expect("a number"),
                b["count"].as_u64().expect("a count"),
            )
        })
        .collect();
    assert_eq!(buckets, [(0.2, 1), (0.5, 1), (0.7, 1), (0.8, 1), (1.0, 1)]);

    assert_eq!(
        report["validations"],
        json!([{"validation_type": "lint", "runs": 3, "passed": 1, "failed": 2,
                "errors_total": 7, "errors_mean": 7.0 / 3.0}])
    );
    assert_eq!(
        report["mcp_tools"],
        json!([{"tool_name": "search", "calls": 4, "succeeded": 3, "failed": 1, "success_rate": 0.75}])
    );
    assert_eq!(
        report["frustration"],
        json!([
            {"level": "high", "count": 2, "with_score": 2, "score_mean": 0.75},
            {"level": "low", "count": 1, "with_score": 0, "score_mean": null},
        ])
    );

    let foreign = fixture.dir.path().join("notes.txt");
    assert_eq!(
        report["skipped"],
        json!({
            "lines": 4, "truncated": 1, "malformed": 1, "oversized": 0, "future_version": 1,
            "unknown_kind": 1, "foreign_files": [foreign.to_str().expect("a UTF-8 path")],
            "unreadable_files": [], "unlisted_files": 0,
        })
    );
}

#[test]
fn json_numbers_are_exact_with_dir() {
    let fixture = Fixture::new();
    let report = report_json(&["--dir", fixture.dir()], &[]);
    assert_main_numbers(&report, &fixture);
    assert_eq!(report["dir"], fixture.dir());
    let since = humantime::parse_rfc3339(report["since"].as_str().expect("a string")).unwrap();
    let until = humantime::parse_rfc3339(report["until"].as_str().expect("a string")).unwrap();
    assert_eq!(until.duration_since(since).unwrap(), 7 * DAY);
}

#[test]
fn the_store_comes_from_han_metrics_dir_without_dir() {
    let fixture = Fixture::new();
    let report = report_json(&[], &[("HAN_METRICS_DIR", fixture.dir())]);
    assert_main_numbers(&report, &fixture);
    assert_eq!(report["dir"], fixture.dir());
    // `--dir` wins over the variable.
    let empty = Scratch::new("empty");
    let other = report_json(
        &["--dir", empty.path().to_str().unwrap()],
        &[("HAN_METRICS_DIR", fixture.dir())],
    );
    assert_eq!(other["records"], 0);
}

/// The store is `metrics` in Han's data directory (`~/.han`); what earlier versions kept in
/// `~/.claude/han/metrics` is read too, and a record in both (Han moved the directory while
/// the report read) counts once.
#[test]
fn the_default_store_is_in_hans_data_directory_and_the_older_place_is_read_too() {
    let fixture = Fixture::new();
    let home = Scratch::new("home-store");
    let store = home.path().join(".han/metrics");
    let older = home.path().join(".claude/han/metrics");
    fs::create_dir_all(older.parent().unwrap()).unwrap();
    fs::rename(fixture.dir.path(), &older).unwrap();
    let report = support::run(&home, &[], &["report", "--json"])
        .assert_code(0)
        .json();
    assert_eq!(report["dir"], store.to_str().unwrap());
    assert_eq!(report["legacy_dirs"], json!([older.to_str().unwrap()]));
    assert_eq!(report["records"], IN_WINDOW);

    // The same files in both places, and one record of the store's own.
    fs::create_dir_all(&store).unwrap();
    for file in fs::read_dir(&older).unwrap() {
        let file = file.unwrap();
        fs::copy(file.path(), store.join(file.file_name())).unwrap();
    }
    let own = LocalStore::at(&store, 30);
    own.append(None, Entry::SessionStart {});
    own.flush();
    let report = support::run(&home, &[], &["report", "--json"])
        .assert_code(0)
        .json();
    assert_eq!(report["records"], IN_WINDOW + 1, "{report:#}");
    let text = support::run(&home, &[], &["report"])
        .assert_code(0)
        .stdout
        .clone();
    assert!(
        text.contains(&format!("Also read: {}", older.display())),
        "{text}"
    );

    // `--dir` reads that directory alone.
    let alone = support::run(
        &home,
        &[],
        &["report", "--json", "--dir", store.to_str().unwrap()],
    )
    .assert_code(0)
    .json();
    assert_eq!(alone["records"], IN_WINDOW + 1);
    assert_eq!(alone["legacy_dirs"], json!([]));
}

#[test]
fn since_takes_durations_dates_and_rfc3339_times() {
    let fixture = Fixture::new();
    let lint_runs = |since: &str| -> u64 {
        let report = report_json(&["--dir", fixture.dir(), "--since", since], &[]);
        find(&report["hooks"], "hook_type", "PostToolUse")["runs"]
            .as_u64()
            .unwrap()
    };
    // 8 days reaches back past the 7d+1h record, not the 10-day one.
    assert_eq!(lint_runs("8d"), 11);
    assert_eq!(lint_runs("30d"), 12);
    assert_eq!(lint_runs("7d"), 10);
    assert_eq!(lint_runs("1h"), 6);
    // A date is midnight UTC: two days ago leaves out the records of three days ago.
    assert_eq!(lint_runs(&day_name(SystemTime::now() - 2 * DAY)), 6);
    assert_eq!(lint_runs(&day_name(fixture.earlier)), 10);
    // An RFC 3339 time with an offset: a minute before the earlier records, written in
    // UTC+02:00. Read as UTC it would start two hours later and miss them.
    let start = fixture.earlier - MINUTE;
    let local = rfc3339(start + 2 * HOUR).replace('Z', "+02:00");
    assert_eq!(lint_runs(&local), 10);
    assert_eq!(lint_runs(&rfc3339(start)), 10);
    assert_eq!(lint_runs(&rfc3339(fixture.earlier + MINUTE)), 6);
}

#[test]
fn bad_since_values_are_usage_errors() {
    let store = Scratch::new("bad-since");
    for bad in [
        "7x",
        "seven",
        "2026-13-01",
        "2026-11-16T08:00:00+0200",
        "",
        "5",
    ] {
        let out = run(
            &[
                "report",
                "--dir",
                store.path().to_str().unwrap(),
                "--since",
                bad,
            ],
            &[],
        );
        assert_eq!(out.code, Some(2), "{bad}: {}", out.stderr);
        let err = out.stderr;
        assert!(err.contains("--since"), "{bad}: {err}");
        assert!(err.contains("such as `30m`, `24h`, `7d`"), "{bad}: {err}");
        assert!(out.stdout.is_empty());
    }
    let out = run(
        &[
            "report",
            "--dir",
            store.path().to_str().unwrap(),
            "--since",
            "2999-01-01",
        ],
        &[],
    );
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("in the future"), "{}", out.stderr);
}

/// The cells (separated by two or more spaces) of the first table row starting with `start`.
fn row(text: &str, start: &[&str]) -> Vec<String> {
    text.lines()
        .map(|line| {
            line.split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .find(|cells| cells.len() >= start.len() && cells[..start.len()] == *start)
        .unwrap_or_else(|| panic!("no row {start:?} in\n{text}"))
}

#[test]
fn text_output_has_the_key_rows_and_charts() {
    let fixture = Fixture::new();
    let out = run(&["report", "--dir", fixture.dir()], &[]);
    out.assert_code(0);
    let text = out.stdout;
    assert!(
        !text.contains('\u{1b}'),
        "no colour, no cursor movement:\n{text}"
    );
    assert!(text.contains("in the last 7d (since "), "{text}");
    assert!(text.contains(&format!("from {}", fixture.dir())), "{text}");
    assert!(
        text.contains(&format!("{IN_WINDOW} records, sessions started: 2")),
        "{text}"
    );

    let cells = |start: &[&str]| row(&text, start);
    // HOOK TYPE RUNS FAILED SUCCESS P50 P95 MAX LAST FAILURE RUNS/DAY FAILED/DAY
    let lint = cells(&["lint", "PostToolUse"]);
    let last = rfc3339(fixture.last_failure);
    let last = format!("{} {}Z", &last[..10], &last[11..16]);
    assert_eq!(
        lint[..9],
        [
            "lint",
            "PostToolUse",
            "10",
            "3",
            "70.0%",
            "50 ms",
            "1.0 s",
            "1.0 s",
            last.as_str()
        ]
    );
    // One column per UTC day of the window (8 days), scaled to the busiest day (6 runs):
    // 4 runs ▆, 6 runs █; failures on the same scale: 2 ▃, 1 ▂.
    let first = epoch_day(SystemTime::now() - 7 * DAY);
    let mut runs = vec!['·'; 8];
    let mut failed = vec!['·'; 8];
    let slot = |ts| usize::try_from(epoch_day(ts) - first).unwrap();
    runs[slot(fixture.earlier)] = '▆';
    failed[slot(fixture.earlier)] = '▃';
    runs[slot(fixture.recent)] = '█';
    failed[slot(fixture.recent)] = '▂';
    let (runs, failed): (String, String) =
        (runs.into_iter().collect(), failed.into_iter().collect());
    assert_eq!(lint[9..], [runs, failed], "{text}");
    assert!(text.contains("RUNS/DAY"), "{text}");
    assert!(text.contains("percentiles: nearest rank"), "{text}");

    assert_eq!(
        cells(&["han-core"])[..6],
        ["han-core", "user", "1", "1", "1", "0"]
    );
    // TASK TYPE TASKS SUCCESS PARTIAL FAILURE OTHER CALIBRATION WITH CONFIDENCE
    assert_eq!(
        cells(&["fix", "4"])[..8],
        ["fix", "4", "2", "1", "1", "0", "0.750", "4"]
    );
    assert_eq!(
        cells(&["(all)", "6"])[..8],
        ["(all)", "6", "3", "2", "1", "0", "0.625", "5"]
    );
    assert_eq!(
        cells(&["fix", "0.7"])[..5],
        ["fix", "0.7", "1", "1", "100%"]
    );
    assert_eq!(
        cells(&["lint", "3"])[..6],
        ["lint", "3", "1", "2", "7", "2.3"]
    );
    assert_eq!(cells(&["search"])[..4], ["search", "4", "1", "75.0%"]);
    assert_eq!(cells(&["high"])[..3], ["high", "2", "0.75"]);
    assert_eq!(cells(&["low"])[..3], ["low", "1", "-"]);

    let skipped = &text[text.find("\nSkipped\n").expect("a Skipped section")..];
    for what in [
        "truncated last lines (a writer stopped mid-write)",
        "malformed lines",
        "records of a newer format version (upgrade han-telemetry)",
        "records of an unknown kind",
        "files that are not day files",
    ] {
        assert_eq!(row(skipped, &[what]), [what, "1"]);
    }
    let foreign = fixture.dir.path().join("notes.txt");
    assert!(
        skipped.contains(&format!("not a day file: {}", foreign.display())),
        "{skipped}"
    );
}

#[test]
fn a_window_inside_one_day_has_no_chart() {
    let fixture = Fixture::new();
    let out = run(&["report", "--dir", fixture.dir(), "--since", "1m"], &[]);
    out.assert_code(0);
    let text = out.stdout;
    // Nothing in the last minute, unless midnight fell within it.
    if epoch_day(SystemTime::now()) == epoch_day(SystemTime::now() - MINUTE) {
        assert!(
            text.contains("No Han metrics recorded in the last 1m"),
            "{text}"
        );
    }
    let out = run(
        &[
            "report",
            "--dir",
            fixture.dir(),
            "--since",
            &rfc3339(fixture.recent - MINUTE),
        ],
        &[],
    );
    let text = out.stdout;
    if epoch_day(fixture.recent - MINUTE) == epoch_day(SystemTime::now()) {
        assert!(!text.contains("RUNS/DAY"), "{text}");
        assert_eq!(row(&text, &["lint", "PostToolUse"])[2], "6", "{text}");
    }
}

#[test]
fn an_empty_store_says_where_it_is_and_how_to_fill_it() {
    let store = Scratch::new("empty");
    let dir = store.path().to_str().unwrap();
    let out = run(&["report", "--dir", dir], &[]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let text = out.stdout;
    assert!(
        text.starts_with("No Han metrics recorded in the last 7d (since "),
        "{text}"
    );
    assert!(text.contains(&format!("in {dir}.")), "{text}");
    assert!(text.contains("han-telemetry"), "{text}");
    assert!(text.contains("HAN_METRICS_STORE"), "{text}");
    assert!(text.contains("Skipped\n  nothing"), "{text}");

    let missing = store.path().join("not-yet");
    let out = run(&["report", "--dir", missing.to_str().unwrap()], &[]);
    assert_eq!(out.code, Some(0));
    assert!(
        out.stdout.contains("(the directory does not exist yet)"),
        "{}",
        out.stdout
    );

    let report = report_json(&["--dir", dir], &[]);
    assert_eq!(report["records"], 0);
    assert_eq!(report["hooks"], json!([]));
    assert_eq!(report["tasks"]["all"]["calibration_score"], Value::Null);
    assert_eq!(report["skipped"]["lines"], 0);
}

#[test]
fn a_store_turned_off_is_said_and_still_read() {
    let fixture = Fixture::new();
    let env = [
        ("HAN_METRICS_DIR", fixture.dir()),
        ("HAN_METRICS_STORE", "off"),
    ];
    let out = run(&["report"], &env);
    out.assert_code(0);
    let text = out.stdout;
    assert!(
        text.starts_with("note: the local metrics store is turned off by HAN_METRICS_STORE"),
        "{text}"
    );
    assert!(text.contains(&format!("{IN_WINDOW} records")), "{text}");
    // JSON stays one clean document; the note goes to stderr.
    let out = run(&["report", "--json"], &env);
    let report = out.assert_code(0).json();
    assert_eq!(report["records"], IN_WINDOW);
    assert!(out.stderr.contains("turned off"), "{}", out.stderr);
}

#[test]
fn no_store_directory_at_all_is_a_usage_error() {
    let output = Command::new(env!("CARGO_BIN_EXE_han-telemetry"))
        .args(["report"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--dir"), "{stderr}");
}

#[test]
fn records_written_through_the_local_store_come_back() {
    let store_dir = Scratch::new("round-trip");
    let store = LocalStore::at(store_dir.path(), 30);
    for (success, ms) in [(true, 3.0), (true, 7.0), (false, 11.0)] {
        store.append(
            Some("session-1"),
            Entry::Hook {
                hook_name: "check".into(),
                hook_type: "Stop".into(),
                success,
                duration_ms: ms,
            },
        );
    }
    store.append(
        Some("session-1"),
        Entry::Task {
            task_type: "refactor".into(),
            outcome: "success".into(),
            confidence: Some(0.5),
        },
    );
    store.append(None, Entry::SessionStart {});
    store.flush();

    let report = report_json(&["--dir", store_dir.path().to_str().unwrap()], &[]);
    assert_eq!(report["records"], 5, "{report:#}");
    assert_eq!(report["sessions_started"], 1);
    let hook = find(&report["hooks"], "hook_name", "check");
    assert_eq!(hook["runs"], 3);
    assert_eq!(hook["failed"], 1);
    assert_eq!(
        hook["duration_ms"],
        json!({"p50": 7.0, "p95": 11.0, "max": 11.0})
    );
    let task = find(&report["tasks"]["by_type"], "task_type", "refactor");
    assert_eq!(task["calibration_score"], 0.5);
    assert_eq!(report["skipped"]["lines"], 0);
}
