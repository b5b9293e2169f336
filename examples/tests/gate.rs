//! The export gate, with the real hook (`han-check-hook`) as processes, one after the other
//! and 40 at once, against a collector that never answers and a port that refuses: the
//! first run that cannot reach the collector closes the gate; within the cooldown no run
//! touches the network (the collector counts the requests), each keeps its records in the
//! store with a `deferred` receipt and says so in one line; after the cooldown exactly one
//! run probes. A collector that answers with an error is reachable: no gate.
//!
//! The cooldown is made to pass by moving the gate file's times back (its format is
//! documented in `han_telemetry::gate`), not by waiting. No timings are asserted here:
//! `scripts/bench-process` measures them (BENCHMARKS.md).

use std::collections::HashMap;
use std::net::TcpListener;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use han_telemetry::store::{self, Entry, ExportOutcome};
use han_telemetry_test_support::faults::{Fault, FaultyCollector, Wire};
use han_telemetry_test_support::otlp;
use han_telemetry_test_support::process::{self, Run};
use han_telemetry_test_support::scratch::Scratch;
use serde_json::{Value, json};

const HOOK: &str = env!("CARGO_BIN_EXE_han-check-hook");
const SESSION: &str = "gate-test-session";
const CONCURRENT: usize = 40;

fn run_hook(scratch: &Scratch, protocol: &str, endpoint: &str, budget_ms: u64) -> Run {
    let budget = budget_ms.to_string();
    let vars = [
        ("CLAUDE_CODE_ENABLE_TELEMETRY", "1"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
        ("OTEL_TRACES_EXPORTER", "otlp"),
        ("HAN_TELEMETRY_EXIT_BUDGET_MS", budget.as_str()),
    ];
    let input = process::write_input(scratch, "clean.txt", "clean\n", SESSION);
    process::run(HOOK, &[], scratch, &vars, &input)
}

/// `n` runs at once.
fn run_many(
    scratch: &Scratch,
    protocol: &str,
    endpoint: &str,
    budget_ms: u64,
    n: usize,
) -> Vec<Run> {
    std::thread::scope(|s| {
        let runs: Vec<_> = (0..n)
            .map(|_| s.spawn(|| run_hook(scratch, protocol, endpoint, budget_ms)))
            .collect();
        runs.into_iter()
            .map(|r| r.join().expect("a run's thread"))
            .collect()
    })
}

fn store_dir(scratch: &Scratch) -> PathBuf {
    scratch.path().join("metrics")
}

/// Every process's own receipt, per outcome of its metrics, and the hook runs kept.
fn receipts(scratch: &Scratch) -> (HashMap<ExportOutcome, usize>, usize) {
    let records = store::scan(&store_dir(scratch), UNIX_EPOCH)
        .expect("read the store")
        .records;
    let mut by_outcome = HashMap::new();
    for r in &records {
        if let Entry::Export {
            replay: false,
            metrics,
            logs,
            traces,
            ..
        } = &r.entry
        {
            assert!(
                metrics == logs && logs == traces,
                "one destination, one outcome: {:?}",
                r.entry
            );
            *by_outcome
                .entry(metrics.expect("a metrics receipt"))
                .or_default() += 1;
        }
    }
    let hooks = records
        .iter()
        .filter(|r| {
            matches!(r.entry, Entry::Hook { .. }) && r.session_id.as_deref() == Some(SESSION)
        })
        .count();
    (by_outcome, hooks)
}

fn count(receipts: &HashMap<ExportOutcome, usize>, outcome: ExportOutcome) -> usize {
    receipts.get(&outcome).copied().unwrap_or(0)
}

/// The gate files of the store.
fn gate_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("the store")
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            name.starts_with(".export-gate-") && name.ends_with(".json")
        })
        .collect();
    files.sort();
    files
}

/// The one gate of the store, as JSON.
fn gate(scratch: &Scratch) -> Value {
    let files = gate_files(&store_dir(scratch));
    assert_eq!(files.len(), 1, "one gate file: {files:?}");
    serde_json::from_slice(&std::fs::read(&files[0]).expect("read the gate")).expect("JSON")
}

/// Moves the gate's times back by 11 minutes, past any cooldown: as if time had passed.
fn age_gate(scratch: &Scratch) {
    let files = gate_files(&store_dir(scratch));
    let mut g = gate(scratch);
    for field in ["since_ms", "until_ms"] {
        let at = g[field].as_u64().expect("a time");
        g[field] = json!(at - 660_000);
    }
    std::fs::write(&files[0], g.to_string()).expect("write the gate");
}

fn refused_endpoint() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
    drop(listener);
    endpoint
}

fn total_requests(collector: &FaultyCollector) -> usize {
    collector.requests().values().sum()
}

/// A run paused by the gate: one line naming the pause, until when and why, and where the
/// data is.
fn assert_paused_line(run: &Run, why: &str) {
    let context = run.show();
    assert_eq!(run.code, Some(0), "{context}");
    assert_eq!(run.stderr.lines().count(), 1, "{context}");
    for words in [
        "metrics, logs and traces export to",
        "is paused",
        why,
        "are kept in",
    ] {
        assert!(run.stderr.contains(words), "no {words:?}: {context}");
    }
}

#[test]
fn runs_one_after_the_other_against_a_collector_that_never_answers_try_once() {
    for (wire, protocol) in [(Wire::Grpc, "grpc"), (Wire::Http, "http/protobuf")] {
        let collector = FaultyCollector::start(wire, Fault::Silent);
        let scratch = Scratch::new("gate-silent");
        let first = run_hook(&scratch, protocol, &collector.endpoint(), 300);
        assert!(
            first.stderr.contains("gave up exporting"),
            "{}",
            first.show()
        );
        assert!(first.stderr.contains("skip the export"), "{}", first.show());
        let tried = total_requests(&collector);
        assert!(tried >= 1, "{protocol}: the first run tried");
        for _ in 0..4 {
            let run = run_hook(&scratch, protocol, &collector.endpoint(), 300);
            assert_paused_line(&run, "no answer within the 300 ms exit budget");
        }
        assert_eq!(
            total_requests(&collector),
            tried,
            "{protocol}: paused runs touched the network: {:?}",
            collector.requests()
        );
        let (receipts, hooks) = receipts(&scratch);
        assert_eq!(
            count(&receipts, ExportOutcome::Abandoned),
            1,
            "{receipts:?}"
        );
        assert_eq!(count(&receipts, ExportOutcome::Deferred), 4, "{receipts:?}");
        assert_eq!(hooks, 5, "every run's records are kept");
        let g = gate(&scratch);
        assert_eq!(g["failures"], 1, "{g}");
        assert_eq!(g["protocol"], protocol, "{g}");
    }
}

#[test]
fn runs_against_a_refused_port_fail_once_then_defer() {
    for protocol in ["grpc", "http/json"] {
        let endpoint = refused_endpoint();
        let scratch = Scratch::new("gate-refused");
        let first = run_hook(&scratch, protocol, &endpoint, 1000);
        assert!(
            first.stderr.contains("is the collector running"),
            "{}",
            first.show()
        );
        for _ in 0..4 {
            let run = run_hook(&scratch, protocol, &endpoint, 1000);
            assert_paused_line(&run, "nothing accepts connections there");
        }
        let (receipts, hooks) = receipts(&scratch);
        assert_eq!(count(&receipts, ExportOutcome::Failed), 1, "{receipts:?}");
        assert_eq!(count(&receipts, ExportOutcome::Deferred), 4, "{receipts:?}");
        assert_eq!(hooks, 5);
        // Nothing secret or per-signal in the file: the destination is scheme://host:port.
        let g = gate(&scratch);
        assert_eq!(g["endpoint"], endpoint.as_str(), "{g}");
    }
}

/// 40 hooks at once with no gate all try (nothing told them not to) and count one failure
/// between them; after the cooldown, of 40 at once exactly one probes.
#[test]
fn forty_at_once_against_a_collector_that_never_answers_probe_once() {
    let collector = FaultyCollector::start(Wire::Grpc, Fault::Silent);
    let scratch = Scratch::new("gate-silent-40");
    let endpoint = collector.endpoint();
    for run in run_many(&scratch, "grpc", &endpoint, 500, CONCURRENT) {
        assert_eq!(run.code, Some(0), "{}", run.show());
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.show());
    }
    assert_eq!(
        gate(&scratch)["failures"],
        1,
        "failing together is one failure"
    );
    let (first, _) = receipts(&scratch);
    // A run that started after the first gate was written is already paused.
    assert_eq!(
        count(&first, ExportOutcome::Abandoned) + count(&first, ExportOutcome::Deferred),
        CONCURRENT,
        "{first:?}"
    );

    age_gate(&scratch);
    let before = total_requests(&collector);
    let runs = run_many(&scratch, "grpc", &endpoint, 500, CONCURRENT);
    for run in &runs {
        assert_eq!(run.code, Some(0), "{}", run.show());
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.show());
    }
    let (after, hooks) = receipts(&scratch);
    assert_eq!(
        count(&after, ExportOutcome::Abandoned) - count(&first, ExportOutcome::Abandoned),
        1,
        "one prober: {after:?}"
    );
    assert_eq!(
        count(&after, ExportOutcome::Deferred) - count(&first, ExportOutcome::Deferred),
        CONCURRENT - 1,
        "{after:?}"
    );
    assert_eq!(
        total_requests(&collector) - before,
        3,
        "one request per signal, from the one prober: {:?}",
        collector.requests()
    );
    assert_eq!(hooks, 2 * CONCURRENT, "every run's records are kept");
    assert_eq!(gate(&scratch)["failures"], 2, "the cooldown doubles");
    assert_eq!(
        runs.iter()
            .filter(|r| r.stderr.contains("is paused"))
            .count(),
        CONCURRENT - 1
    );
}

#[test]
fn forty_at_once_against_a_refused_port_probe_once() {
    let endpoint = refused_endpoint();
    let scratch = Scratch::new("gate-refused-40");
    run_many(&scratch, "http/protobuf", &endpoint, 1000, CONCURRENT);
    assert_eq!(gate(&scratch)["failures"], 1);
    let (first, _) = receipts(&scratch);
    age_gate(&scratch);
    run_many(&scratch, "http/protobuf", &endpoint, 1000, CONCURRENT);
    let (after, hooks) = receipts(&scratch);
    assert_eq!(
        count(&after, ExportOutcome::Failed) - count(&first, ExportOutcome::Failed),
        1,
        "one prober: {after:?}"
    );
    assert_eq!(
        count(&after, ExportOutcome::Deferred) - count(&first, ExportOutcome::Deferred),
        CONCURRENT - 1
    );
    assert_eq!(hooks, 2 * CONCURRENT);
    assert_eq!(gate(&scratch)["failures"], 2);
}

/// A collector that answers is reachable, whatever it answers: a rejection (400,
/// `INVALID_ARGUMENT`) or an overload (503, `UNAVAILABLE`) closes no gate, and the next
/// run exports again.
#[test]
fn an_answer_that_is_an_error_is_not_an_outage() {
    for (wire, protocol, status) in [
        (Wire::Http, "http/protobuf", 400),
        (Wire::Grpc, "grpc", 3),
        (Wire::Http, "http/json", 503),
    ] {
        let collector = FaultyCollector::start(wire, Fault::Status(status));
        let scratch = Scratch::new("gate-answer");
        run_hook(&scratch, protocol, &collector.endpoint(), 2000);
        let once = collector.requests_for("metrics");
        run_hook(&scratch, protocol, &collector.endpoint(), 2000);
        assert_eq!(
            collector.requests_for("metrics"),
            2 * once,
            "{protocol} {status}"
        );
        assert!(
            gate_files(&store_dir(&scratch)).is_empty(),
            "{protocol} {status}"
        );
        let (receipts, _) = receipts(&scratch);
        assert_eq!(count(&receipts, ExportOutcome::Deferred), 0, "{receipts:?}");
    }
}

/// A gate file of garbage is no gate: the run exports, says one line about the file at
/// most, and the gate is written anew.
#[test]
fn a_garbage_gate_file_is_no_gate() {
    let endpoint = refused_endpoint();
    let scratch = Scratch::new("gate-garbage");
    run_hook(&scratch, "grpc", &endpoint, 1000);
    let file = gate_files(&store_dir(&scratch)).remove(0);
    for garbage in [&b"\x00\xffnot json"[..], b"{\"v\":1}", b"{\"v\":1,\"endpoint\":\"\",\"protocol\":\"\",\"failures\":4294967295,\"since_ms\":0,\"until_ms\":18446744073709551615}"] {
        std::fs::write(&file, garbage).expect("write garbage");
        let run = run_hook(&scratch, "grpc", &endpoint, 1000);
        assert_eq!(run.code, Some(0), "{}", run.show());
        assert!(run.stderr.lines().count() <= 2, "{}", run.show());
        assert!(run.stderr.contains("is the collector running"), "it exported: {}", run.show());
        assert_eq!(gate(&scratch)["v"], 1, "written anew");
    }
}

/// The `duration_ms` of every `han.hook_result` event the collector received: one value per
/// hook run (a duration in milliseconds with its fraction), so a repeat is a duplicate.
fn hook_results(collector: &FaultyCollector) -> Vec<String> {
    otlp::Received::from_requests(&collector.recorded())
        .logs
        .into_iter()
        .filter(|l| l.event_name.as_deref() == Some("han.hook_result"))
        .map(|l| format!("{:?}", l.attr("duration_ms")))
        .collect()
}

/// Processes whose own receipt asks for a resend, and the replay receipts delivered since,
/// per signal.
fn resends(scratch: &Scratch) -> (usize, HashMap<&'static str, HashMap<String, usize>>) {
    let records = store::scan(&store_dir(scratch), UNIX_EPOCH)
        .expect("read the store")
        .records;
    let mut pending = 0;
    let mut delivered: HashMap<&'static str, HashMap<String, usize>> = HashMap::new();
    for r in &records {
        if let Entry::Export {
            of,
            replay,
            metrics,
            logs,
            ..
        } = &r.entry
        {
            if !replay {
                pending += usize::from(metrics.is_some_and(ExportOutcome::is_resendable));
                continue;
            }
            for (signal, outcome) in [("metrics", metrics), ("logs", logs)] {
                if *outcome == Some(ExportOutcome::Delivered) {
                    *delivered
                        .entry(signal)
                        .or_default()
                        .entry(of.to_string())
                        .or_default() += 1;
                }
            }
        }
    }
    (pending, delivered)
}

/// The collector comes back: ordinary hook runs, not a person, deliver everything the runs
/// of the outage kept (in the store, `failed` or `deferred`), each record once, and each run
/// within its budget: each exits with nothing on stderr (a run cut off by its budget says
/// so), and every earlier process gets exactly one replay receipt per signal.
#[test]
fn when_the_collector_comes_back_ordinary_runs_catch_up_each_record_once() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let endpoint = format!("http://127.0.0.1:{port}");
    let scratch = Scratch::new("gate-catch-up");
    const DOWN: usize = 12;
    for run in run_many(&scratch, "http/protobuf", &endpoint, 1000, DOWN) {
        assert_eq!(run.code, Some(0), "{}", run.show());
    }
    let (pending, _) = resends(&scratch);
    assert_eq!(pending, DOWN, "every run of the outage kept its records");

    let collector = FaultyCollector::start_on(
        Wire::Http,
        Fault::Slow(std::time::Duration::ZERO),
        TcpListener::bind(("127.0.0.1", port)).expect("the collector comes back on its port"),
    );
    age_gate(&scratch);
    const UP: usize = 3;
    for _ in 0..UP {
        let run = run_hook(&scratch, "http/protobuf", &endpoint, 1000);
        assert_eq!(
            (run.code, run.stderr.as_str()),
            (Some(0), ""),
            "{}",
            run.show()
        );
    }
    let (_, delivered) = resends(&scratch);
    for signal in ["metrics", "logs"] {
        let once = delivered.get(signal).cloned().unwrap_or_default();
        assert_eq!(
            once.len(),
            DOWN,
            "{signal}: every earlier process: {once:?}"
        );
        assert!(
            once.values().all(|n| *n == 1),
            "{signal}: once each: {once:?}"
        );
    }
    let mut results = hook_results(&collector);
    assert_eq!(results.len(), DOWN + UP, "{results:?}");
    results.sort();
    results.dedup();
    assert_eq!(results.len(), DOWN + UP, "no hook run arrived twice");
    assert!(
        !store_dir(&scratch).join(store::PENDING_MARK).exists(),
        "nothing left pending"
    );
}

/// A store the outage left with more than one run can send: 30 processes of 50 hook records
/// each, `failed` (1 500 records, 15 batches of two processes). Each ordinary run sends at
/// least one batch and at most 1 000 records, so everything arrives within 15 runs (the
/// documented bound: one per batch), each record once.
#[test]
fn a_large_backlog_goes_in_bounded_runs_each_record_once() {
    const PROCESSES: usize = 30;
    const RECORDS: usize = 50;
    let scratch = Scratch::new("gate-backlog");
    let dir = store_dir(&scratch);
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&dir)
        .expect("the store");
    let now = store::timestamp(std::time::SystemTime::now());
    let mut lines = String::new();
    for p in 0..PROCESSES {
        let id = format!("{:016x}", 0xbacc_0000_u64 + p as u64);
        for r in 0..RECORDS {
            lines += &json!({
                "v": 1, "id": format!("{id}-{r}"), "ts": now, "session_id": SESSION,
                "kind": "hook", "hook_name": "backlog", "hook_type": "PostToolUse",
                "success": true, "duration_ms": (p * 1000 + r) as f64 + 0.5,
            })
            .to_string();
            lines.push('\n');
        }
        lines += &json!({
            "v": 1, "id": format!("{id}-{RECORDS}"), "ts": now, "kind": "export",
            "of": id, "metrics": "failed", "logs": "failed",
        })
        .to_string();
        lines.push('\n');
    }
    let day = format!("{}.jsonl", &now[..10]);
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(dir.join(day))
        .and_then(|mut f| std::io::Write::write_all(&mut f, lines.as_bytes()))
        .expect("write the backlog");
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(dir.join(store::PENDING_MARK))
        .expect("the pending mark");

    let collector = FaultyCollector::start(Wire::Http, Fault::Slow(std::time::Duration::ZERO));
    let mut runs = 0;
    loop {
        let run = run_hook(&scratch, "http/protobuf", &collector.endpoint(), 1000);
        assert_eq!(
            (run.code, run.stderr.as_str()),
            (Some(0), ""),
            "{}",
            run.show()
        );
        runs += 1;
        let (_, delivered) = resends(&scratch);
        let logs = delivered.get("logs").cloned().unwrap_or_default();
        assert!(logs.values().all(|n| *n == 1), "once each: {logs:?}");
        if runs == 1 {
            assert!(
                (2..=20).contains(&logs.len()),
                "a run sends at least one batch and at most 1 000 records: {}",
                logs.len()
            );
        }
        if logs.len() == PROCESSES && delivered.get("metrics").map_or(0, HashMap::len) == PROCESSES
        {
            break;
        }
        assert!(
            runs < 15,
            "not caught up within 15 runs: {} of {PROCESSES}",
            logs.len()
        );
    }
    let backlog: Vec<String> = otlp::Received::from_requests(&collector.recorded())
        .logs
        .into_iter()
        .filter(|l| l.attr("hook_name") == Some(&otlp::Value::from("backlog")))
        .map(|l| format!("{:?}", l.attr("duration_ms")))
        .collect();
    let mut distinct = backlog.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(backlog.len(), PROCESSES * RECORDS, "every record arrived");
    assert_eq!(distinct.len(), PROCESSES * RECORDS, "none twice");
    assert!(!dir.join(store::PENDING_MARK).exists());
}
