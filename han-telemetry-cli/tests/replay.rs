//! `han-telemetry replay` end to end: the real hook (`han-check-hook`) runs while the
//! collector is down, its records stay in the local store with a receipt saying the export
//! failed, and `replay` later sends them to a real collector (rotel) once: the events with
//! their own timestamps and sessions, the metrics adding up to the right totals alongside
//! runs that exported live. A second replay sends nothing.

mod support;

use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, UNIX_EPOCH};

use han_telemetry::store::{self, Entry, ExportOutcome};
use han_telemetry_test_support::collector::Collector;
use han_telemetry_test_support::otlp::{self, Temporality};
use serde_json::{Value, json};
use support::{Run, Scratch, run};

const WAIT: Duration = Duration::from_secs(20);
const SESSION: &str = "replay-test-session";

/// `han-check-hook`, built next to this crate's binary by the workspace's tests.
fn hook_binary() -> PathBuf {
    let cli = Path::new(env!("CARGO_BIN_EXE_han-telemetry"));
    let hook = cli
        .parent()
        .expect("the binary's directory")
        .join("han-check-hook");
    assert!(
        hook.exists(),
        "han-check-hook is not built next to {}: run the workspace's tests (scripts/test)",
        cli.display()
    );
    hook
}

/// A port where nothing listens.
fn refused_endpoint() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// Telemetry on, to `endpoint` over `protocol`, with the store in `store`.
fn telemetry(endpoint: &str, protocol: &str, store: &Path) -> Vec<(String, String)> {
    [
        ("CLAUDE_CODE_ENABLE_TELEMETRY", "1"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
        ("HAN_METRICS_DIR", &store.display().to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

fn borrowed(vars: &[(String, String)]) -> Vec<(&str, &str)> {
    vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// Runs the hook on `file` (PostToolUse after a Write) and returns (exit code, stdout,
/// stderr).
fn run_hook(home: &Scratch, vars: &[(String, String)], file: &Path) -> (i32, String, String) {
    let input = json!({
        "session_id": SESSION,
        "transcript_path": home.path().join("t.jsonl"),
        "cwd": home.path(),
        "hook_event_name": "PostToolUse",
        "tool_name": "Write",
        "tool_input": {"file_path": file, "content": "x"},
        "tool_response": {"filePath": file, "success": true},
        "tool_use_id": "toolu_replay",
    });
    let mut child = Command::new(hook_binary())
        .env_clear()
        .env("HOME", home.path())
        .env("CLAUDE_PROJECT_DIR", home.path())
        .envs(vars.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start han-check-hook");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.to_string().as_bytes())
        .expect("write the hook's input");
    let out = child.wait_with_output().expect("wait for han-check-hook");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A clean and a faulty file to run the hook on.
fn files(home: &Scratch) -> (PathBuf, PathBuf) {
    (
        home.write("clean.txt", "fine\n"),
        home.write("faulty.txt", "no final newline"),
    )
}

fn replay(home: &Scratch, vars: &[(String, String)], args: &[&str]) -> Run {
    let mut all = vec!["--json", "replay"];
    all.extend_from_slice(args);
    run(home, &borrowed(vars), &all)
}

/// The export receipts in `store`, in order.
fn receipts(store: &Path) -> Vec<Entry<'static>> {
    store::scan(store, UNIX_EPOCH)
        .expect("scan the store")
        .records
        .into_iter()
        .map(|r| r.entry)
        .filter(|e| matches!(e, Entry::Export { .. }))
        .collect()
}

/// Sum of every received data point of the counter `name` with `success` = `success`.
fn counted(c: &Collector, name: &str, success: bool) -> i64 {
    c.metrics()
        .iter()
        .filter(|m| m.name == name)
        .flat_map(|m| m.points.iter())
        .filter(|p| p.attributes.has("success", success))
        .map(|p| p.value_int().expect("an integer sum"))
        .sum()
}

fn hook_results(c: &Collector) -> Vec<otlp::ReceivedLog> {
    c.logs()
        .into_iter()
        .filter(|l| l.event_name.as_deref() == Some("han.hook_result"))
        .collect()
}

/// Waits until the collector has received `n` hook results and `n` hook runs counted in
/// `han.hook.execution`: rotel forwards each signal on its own, so the events arriving say
/// nothing of the metrics.
fn wait_for_hook_results(c: &Collector, n: usize) {
    c.wait_for_received(&format!("{n} hook results and runs"), WAIT, |r| {
        let events = r
            .logs
            .iter()
            .filter(|l| l.event_name.as_deref() == Some("han.hook_result"))
            .count();
        let runs: i64 = r
            .metrics
            .iter()
            .filter(|m| m.name == "han.hook.execution")
            .flat_map(|m| m.points.iter())
            .filter_map(|p| p.value_int())
            .sum();
        (events >= n && usize::try_from(runs).is_ok_and(|runs| runs >= n)).then_some(())
    });
}

#[test]
fn failed_exports_are_replayed_once_and_add_up_with_live_runs() {
    let home = Scratch::new("replay");
    let store = home.path().join("metrics");
    let (clean, faulty) = files(&home);
    let down = telemetry(&refused_endpoint(), "http/protobuf", &store);

    // Three runs while the collector is down: the hook's answer is unchanged, one line says
    // where the data went.
    for file in [&clean, &faulty, &clean] {
        let (code, stdout, stderr) = run_hook(&home, &down, file);
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(stdout.is_empty(), file == &clean, "{stdout}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains("metrics and logs export to"), "{stderr}");
        assert!(stderr.contains("han-telemetry replay"), "{stderr}");
    }
    // The first run fails; it closes the export gate, so the next two do not try: deferred.
    let own = receipts(&store);
    assert_eq!(own.len(), 3, "{own:?}");
    for (i, r) in own.iter().enumerate() {
        let expected = Some(if i == 0 {
            ExportOutcome::Failed
        } else {
            ExportOutcome::Deferred
        });
        assert!(
            matches!(r, Entry::Export { replay: false, metrics, logs, traces: None, .. }
                if *metrics == expected && *logs == expected),
            "{r:?}"
        );
    }

    let c = Collector::start();
    let up = telemetry(&c.grpc_endpoint(), "grpc", &store);
    // One live run: delivered at once, never replayed. Without the store's pending mark
    // (taken here, as a store written before catch-up existed has none) it leaves the
    // earlier records to replay instead of catching up itself (examples/tests/gate.rs
    // covers the catch-up).
    assert!(
        std::fs::remove_file(store.join(store::PENDING_MARK)).is_ok(),
        "the failed runs left the pending mark"
    );
    let (code, _, stderr) = run_hook(&home, &up, &faulty);
    assert_eq!((code, stderr.as_str()), (0, ""));

    let dry = replay(&home, &up, &["--dry-run"]);
    dry.assert_code(0);
    let dry = dry.json();
    assert_eq!(dry["processes"], 3, "{dry}");
    assert_eq!(dry["metrics"]["sent"], "would_send", "{dry}");
    assert_eq!(dry["events"]["records"], 6, "{dry}");

    let sent = replay(&home, &up, &[]);
    sent.assert_code(0);
    let sent = sent.json();
    assert_eq!(sent["processes"], 3, "{sent}");
    for signal in ["metrics", "events"] {
        assert_eq!(sent[signal]["sent"], "delivered", "{sent}");
        assert_eq!(sent[signal]["delivered_records"], 6, "{sent}");
    }

    // Totals: 2 clean + 1 faulty replayed, 1 faulty live.
    wait_for_hook_results(&c, 4);
    assert_eq!(counted(&c, "han.hook.execution", true), 2);
    assert_eq!(counted(&c, "han.hook.execution", false), 2);
    assert_eq!(counted(&c, "han.validation.run", true), 0);
    for m in c
        .metrics()
        .iter()
        .filter(|m| m.name == "han.hook.execution")
    {
        assert_eq!(m.temporality, Some(Temporality::Delta), "{m:?}");
    }
    let histogram_count: u64 = c
        .metrics()
        .iter()
        .filter(|m| m.name == "han.hook.duration_ms")
        .flat_map(|m| m.points.iter())
        .filter_map(|p| p.count)
        .sum();
    assert_eq!(histogram_count, 4);

    // The replayed events keep the time they were recorded (the store keeps milliseconds;
    // the live run's event has the full precision) and their session.
    let recorded: Vec<u64> = store::scan(&store, UNIX_EPOCH)
        .expect("scan")
        .records
        .iter()
        .filter(|r| matches!(r.entry, Entry::Hook { .. }))
        .map(|r| {
            r.ts.duration_since(UNIX_EPOCH)
                .expect("after the epoch")
                .as_nanos() as u64
        })
        .collect();
    let results = hook_results(&c);
    assert_eq!(results.len(), 4);
    for log in &results {
        // A live event is stamped a few microseconds apart from its store record, which can
        // fall on either side of a millisecond: within 1 ms is the same time.
        let ms = log.time_unix_nano / 1_000_000 * 1_000_000;
        assert!(
            recorded.iter().any(|r| r.abs_diff(ms) <= 1_000_000),
            "event time {} is not a recorded time {recorded:?}",
            log.time_unix_nano
        );
        assert!(log.attributes.has("session.id", SESSION), "{log:?}");
    }

    // The ledger: one replay receipt per process and signal (each written as soon as that
    // signal's batch was delivered), and nothing left to send.
    let replayed: Vec<_> = receipts(&store)
        .into_iter()
        .filter(|e| matches!(e, Entry::Export { replay: true, .. }))
        .collect();
    assert_eq!(replayed.len(), 6, "{replayed:?}");
    let of_signal = |metrics: bool| {
        replayed
            .iter()
            .filter(|e| {
                matches!(e, Entry::Export { metrics: m, logs: l, .. }
                if m.is_some() == metrics && l.is_some() != metrics)
            })
            .count()
    };
    assert_eq!((of_signal(true), of_signal(false)), (3, 3), "{replayed:?}");
    let again = replay(&home, &up, &[]);
    again.assert_code(0);
    let again = again.json();
    assert_eq!(again["processes"], 0, "{again}");
    assert_eq!(again["metrics"]["sent"], "nothing", "{again}");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        hook_results(&c).len(),
        4,
        "the second replay sent something"
    );
}

#[test]
fn records_stay_pending_while_the_collector_is_still_down() {
    let home = Scratch::new("replay-down");
    let store = home.path().join("metrics");
    let (clean, _) = files(&home);
    let down = telemetry(&refused_endpoint(), "grpc", &store);
    let (code, _, stderr) = run_hook(&home, &down, &clean);
    assert_eq!(code, 0, "{stderr}");

    let still_down = replay(
        &home,
        &telemetry(&refused_endpoint(), "http/json", &store),
        &[],
    );
    still_down.assert_code(1);
    let json = still_down.json();
    assert_eq!(json["events"]["sent"], "failed", "{json}");
    assert_eq!(json["events"]["delivered_records"], 0, "{json}");
    assert!(
        json["events"]["fix"]
            .as_str()
            .is_some_and(|f| f.contains("collector running")),
        "{json}"
    );

    let text = run(
        &home,
        &borrowed(&telemetry(&refused_endpoint(), "http/json", &store)),
        &["replay"],
    );
    text.assert_code(1);
    assert!(
        text.stdout.contains("kept for the next run"),
        "{}",
        text.stdout
    );

    let off = run(
        &home,
        &[("HAN_METRICS_DIR", &store.display().to_string())],
        &["replay"],
    );
    off.assert_code(1);
    assert!(off.stdout.contains("telemetry is off"), "{}", off.stdout);

    let c = Collector::start();
    let up = replay(
        &home,
        &telemetry(&c.http_endpoint(), "http/protobuf", &store),
        &[],
    );
    up.assert_code(0);
    assert_eq!(up.json()["events"]["delivered_records"], 2);
    c.wait_for_log("han.hook_result", WAIT);
}

#[test]
fn a_run_is_bounded_and_the_rest_waits_for_the_next() {
    let home = Scratch::new("replay-bound");
    let store = home.path().join("metrics");
    let (clean, _) = files(&home);
    let down = telemetry(&refused_endpoint(), "http/protobuf", &store);
    for _ in 0..3 {
        assert_eq!(run_hook(&home, &down, &clean).0, 0);
    }
    let c = Collector::start();
    let up = telemetry(&c.grpc_endpoint(), "grpc", &store);
    // Two records per run: a hook and a validation. 5 fits two runs, not three.
    let first = replay(&home, &up, &["--max-records", "5"]);
    first.assert_code(0);
    let first = first.json();
    assert_eq!(first["processes"], 2, "{first}");
    assert_eq!(first["left_over"], 2, "{first}");
    let second = replay(&home, &up, &["--max-records", "5"]);
    second.assert_code(0);
    let second = second.json();
    assert_eq!(second["processes"], 1, "{second}");
    assert_eq!(second["left_over"], 0, "{second}");
    wait_for_hook_results(&c, 3);
    assert_eq!(counted(&c, "han.hook.execution", true), 3);

    for bad in ["0", "-1", "many"] {
        let usage = replay(&home, &up, &["--max-records", bad]);
        usage.assert_code(2);
    }
}

#[test]
fn rejected_mixed_and_unconfirmed_records_are_never_resent() {
    let home = Scratch::new("replay-never");
    let store = home.path().join("metrics");
    let day = humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string();
    let file = store.join(format!("{}.jsonl", &day[..10]));
    let line = |id: &str, kind: &str| -> Value {
        json!({"v": 1, "id": id, "ts": day, "kind": kind, "hook_name": "h",
               "hook_type": "Stop", "success": true, "duration_ms": 1.0})
    };
    let receipt = |of: &str, outcome: &str| -> Value {
        json!({"v": 1, "id": format!("{of}-9"), "ts": day, "kind": "export", "of": of,
               "metrics": outcome, "logs": outcome})
    };
    let lines = [
        line("aaaaaaaaaaaaaaaa-0", "hook"),
        receipt("aaaaaaaaaaaaaaaa", "rejected"),
        line("bbbbbbbbbbbbbbbb-0", "hook"),
        line("bbbbbbbbbbbbbbbb-1", "hook"),
        receipt("bbbbbbbbbbbbbbbb", "mixed"),
        // No receipt: telemetry was off, or the process died before its exit.
        line("cccccccccccccccc-0", "hook"),
        line("dddddddddddddddd-0", "hook"),
        receipt("dddddddddddddddd", "delivered"),
        line("eeeeeeeeeeeeeeee-0", "hook"),
        receipt("eeeeeeeeeeeeeeee", "abandoned"),
    ];
    std::fs::create_dir_all(&store).expect("store dir");
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&file, text).expect("write the store");

    let c = Collector::start();
    let up = telemetry(&c.grpc_endpoint(), "grpc", &store);
    let dry = replay(&home, &up, &["--dry-run"]);
    dry.assert_code(0);
    let dry = dry.json();
    assert_eq!(dry["processes"], 1, "only the abandoned one: {dry}");
    assert_eq!(dry["events"]["records"], 1, "{dry}");
    assert_eq!(dry["not_resendable"], 3, "{dry}");
    let text = run(&home, &borrowed(&up), &["replay", "--dry-run"]);
    assert!(
        text.stdout.contains("Never sent again: 3"),
        "{}",
        text.stdout
    );
}

#[test]
fn a_second_replay_of_the_same_store_at_once_is_refused() {
    let home = Scratch::new("replay-busy");
    let store = home.path().join("metrics");
    std::fs::create_dir_all(&store).expect("store dir");
    let held = std::fs::File::create(store.join(store::REPLAY_LOCK)).expect("lock file");
    held.lock().expect("hold the replay lock");
    let busy = replay(&home, &telemetry(&refused_endpoint(), "grpc", &store), &[]);
    busy.assert_code(1);
    assert!(
        busy.stderr.contains("another `han-telemetry replay`"),
        "{}",
        busy.stderr
    );
    drop(held);
    // The lock is not a foreign file to the report.
    let report = run(
        &home,
        &[("HAN_METRICS_DIR", &store.display().to_string())],
        &["--json", "report"],
    );
    report.assert_code(0);
    assert_eq!(report.json()["skipped"]["foreign_files"], json!([]));
}

/// `doctor` and `replay` are the user asking: a closed export gate (hooks skip the
/// collector) is shown by `doctor` and ignored by both. `doctor` probes the destination and
/// `replay` sends the deferred records the moment the collector is back, without waiting for
/// the cooldown.
#[test]
fn doctor_shows_the_gate_and_doctor_and_replay_ignore_it() {
    let home = Scratch::new("replay-gate");
    let store = home.path().join("metrics");
    let (clean, _) = files(&home);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let endpoint = format!("http://127.0.0.1:{port}");
    let vars = telemetry(&endpoint, "http/protobuf", &store);
    for _ in 0..3 {
        let (code, _, stderr) = run_hook(&home, &vars, &clean);
        assert_eq!(code, 0, "{stderr}");
    }
    let own = receipts(&store);
    assert!(
        matches!(
            own.last(),
            Some(Entry::Export {
                metrics: Some(ExportOutcome::Deferred),
                ..
            })
        ),
        "the gate is closed: {own:?}"
    );

    let doctor = run(&home, &borrowed(&vars), &["--json", "doctor"]);
    let report = doctor.json();
    assert_eq!(report["gates"][0]["state"], "paused", "{report}");
    assert_eq!(report["gates"][0]["failures"], 1, "{report}");
    assert_eq!(
        report["gates"][0]["destination"],
        format!("http/protobuf {endpoint}"),
        "{report}"
    );
    let text = run(&home, &borrowed(&vars), &["doctor"]);
    assert!(
        text.stdout.contains("paused until"),
        "{}",
        text.all_output()
    );
    // It probed all the same (and found nothing listening).
    assert_eq!(
        report["probe"]["results"][0]["status"], "failed",
        "{report}"
    );

    let collector = han_telemetry_test_support::faults::FaultyCollector::start_on(
        han_telemetry_test_support::faults::Wire::Http,
        han_telemetry_test_support::faults::Fault::Slow(Duration::ZERO),
        TcpListener::bind(("127.0.0.1", port)).expect("the collector comes back on its port"),
    );
    let sent = replay(&home, &vars, &[]);
    sent.assert_code(0);
    let sent = sent.json();
    assert_eq!(sent["processes"], 3, "{sent}");
    assert_eq!(sent["events"]["sent"], "delivered", "{sent}");
    assert!(collector.requests_for("logs") >= 1);
}
