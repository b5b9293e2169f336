//! `han-demo` as a process, with a collector that is down or that never answers: it must
//! exit 0 within the exit budget, with one clear stderr line, never a flood.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use han_telemetry_test_support::scratch::Scratch;

/// Slack for process start-up and thread scheduling on a loaded 2-core machine. The bounds
/// below are about hanging versus not hanging (the SDK defaults take 5 s and more), not
/// about speed: speed is measured by the benchmarks.
const SLACK: Duration = Duration::from_millis(2500);

fn demo() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_han-demo"))
}

/// A scratch home and project directory, so no real settings file is read.
fn scratch() -> Scratch {
    Scratch::new("exit")
}

fn run_demo(endpoint: &str, protocol: &str, budget_ms: u64) -> (Output, Duration) {
    let dir = scratch();
    let start = Instant::now();
    let output = Command::new(demo())
        .env_clear()
        .env("HOME", dir.path())
        .env("CLAUDE_PROJECT_DIR", dir.path())
        .env("CLAUDE_CODE_ENABLE_TELEMETRY", "1")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", protocol)
        .env("OTEL_TRACES_EXPORTER", "otlp")
        .env("HAN_TELEMETRY_EXIT_BUDGET_MS", budget_ms.to_string())
        .output()
        .expect("run han-demo");
    (output, start.elapsed())
}

/// A port where nothing listens.
fn refused_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    addr
}

/// Accepts connections and never reads or answers; keeps them open while alive.
struct Silent {
    addr: SocketAddr,
    _held: Arc<Mutex<Vec<TcpStream>>>,
}

fn silent_listener() -> Silent {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let held = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&held);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            if let Ok(mut h) = sink.lock() {
                h.push(stream);
            }
        }
    });
    Silent { addr, _held: held }
}

fn stderr_lines(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .map(str::to_owned)
        .collect()
}

fn assert_refused(protocol: &str) {
    let addr = refused_port();
    let budget = 1000;
    let (output, elapsed) = run_demo(&format!("http://{addr}"), protocol, budget);
    let lines = stderr_lines(&output);
    assert_eq!(output.status.code(), Some(0), "stderr: {lines:#?}");
    assert!(
        elapsed < Duration::from_millis(budget) + SLACK,
        "took {elapsed:?}"
    );
    assert_eq!(lines.len(), 1, "one line, no flood; stderr: {lines:#?}");
    let line = &lines[0];
    assert!(line.starts_with("han-telemetry: "), "{line}");
    assert!(
        line.contains("metrics, logs and traces export to"),
        "{line}"
    );
    assert!(line.contains("is the collector running"), "{line}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("delivered: none; failed: metrics, logs, traces; abandoned: none"),
        "{stdout}"
    );
}

fn assert_unanswered(protocol: &str) {
    let silent = silent_listener();
    let budget = 800;
    let (output, elapsed) = run_demo(&format!("http://{}", silent.addr), protocol, budget);
    let lines = stderr_lines(&output);
    assert_eq!(output.status.code(), Some(0), "stderr: {lines:#?}");
    assert!(
        elapsed >= Duration::from_millis(budget),
        "cannot have waited for an answer: {elapsed:?}"
    );
    assert!(
        elapsed < Duration::from_millis(budget) + SLACK,
        "took {elapsed:?}"
    );
    let gave_up: Vec<_> = lines
        .iter()
        .filter(|l| l.contains("gave up exporting"))
        .collect();
    assert_eq!(gave_up.len(), 1, "stderr: {lines:#?}");
    assert!(gave_up[0].contains("800 ms exit budget"), "{}", gave_up[0]);
    assert!(lines.len() <= 4, "no flood expected; stderr: {lines:#?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("abandoned: metrics, logs, traces"),
        "{stdout}"
    );
}

#[test]
fn grpc_with_the_collector_refusing_connections_exits_0_quickly() {
    assert_refused("grpc");
}

#[test]
fn http_protobuf_with_the_collector_refusing_connections_exits_0_quickly() {
    assert_refused("http/protobuf");
}

#[test]
fn http_json_with_the_collector_refusing_connections_exits_0_quickly() {
    assert_refused("http/json");
}

#[test]
fn grpc_with_a_collector_that_never_answers_exits_0_within_the_budget() {
    assert_unanswered("grpc");
}

#[test]
fn http_with_a_collector_that_never_answers_exits_0_within_the_budget() {
    assert_unanswered("http/protobuf");
}

#[test]
fn telemetry_off_prints_nothing_on_stderr() {
    let dir = scratch();
    let output = Command::new(demo())
        .env_clear()
        .env("HOME", dir.path())
        .env("CLAUDE_PROJECT_DIR", dir.path())
        .output()
        .expect("run han-demo");
    assert_eq!(output.status.code(), Some(0));
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
