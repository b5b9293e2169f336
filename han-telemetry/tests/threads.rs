//! What a live pipeline costs a process in threads: one, the export's I/O thread. Every
//! thread start is paid by each of the dozens of hook processes a prompt runs (about 50 µs
//! each on the 2-core VM of BENCHMARKS.md), so the metrics' periodic export, the events'
//! queue and the exit's last exports all run as tasks there.
#![cfg(target_os = "linux")]

mod support;

use std::process::Command;
use std::time::Duration;

use han_telemetry::{TelemetryBuilder, record};
use han_telemetry_test_support::receiver::OtlpReceiver;
use support::otlp_config;
use tracing_subscriber::layer::SubscriberExt as _;

const CHILD: &str = "HAN_THREADS_CHILD";

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").map_or(0, |tasks| tasks.count())
}

/// Not a test of its own: the body of the child process of
/// `a_live_pipeline_runs_on_one_thread_of_its_own`, alone in its process so that no other
/// test's threads are counted.
#[test]
fn threads_child() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let receiver = OtlpReceiver::start();
    let config = otlp_config(&receiver.endpoint(), &["metrics", "logs"], &[]);
    let before = threads();
    let (layer, guard) = TelemetryBuilder::new(config).build().into_layer();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for _ in 0..3 {
            record::hook_run("lint", "PostToolUse", true, Duration::from_millis(2));
        }
        // Whatever starts lazily (a worker at the first event, a client at the first
        // export) has started by now.
        std::thread::sleep(Duration::from_millis(50));
    });
    let running = threads();
    let report = guard.shutdown();
    println!(
        "threads before {before} running {running} delivered {:?}",
        report.delivered
    );
}

#[test]
fn a_live_pipeline_runs_on_one_thread_of_its_own() {
    if std::env::var_os(CHILD).is_some() {
        return;
    }
    let exe = std::env::current_exe().expect("the test binary");
    let output = Command::new(exe)
        .args([
            "--exact",
            "threads_child",
            "--test-threads=1",
            "--nocapture",
        ])
        .env(CHILD, "1")
        .output()
        .expect("run the child");
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.find("threads before").map(|at| &l[at..]))
        .unwrap_or_else(|| panic!("the child's count: {output:?}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    let (before, running): (usize, usize) = (
        words[2].parse().expect("a count"),
        words[4].parse().expect("a count"),
    );
    assert_eq!(
        running,
        before + 1,
        "metrics and events export on the I/O thread alone: {line}"
    );
    assert!(
        line.ends_with(r#"delivered ["metrics", "logs"]"#),
        "and both are exported at exit: {line}"
    );
}
