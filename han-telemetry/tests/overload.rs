//! A process that records events faster than they are exported: the export queue overflows,
//! and that is said once on stderr, counted exactly in the shutdown report and in the store's
//! export receipt, while the store keeps every event. Not timed: the collector never answers,
//! so the queue cannot drain whatever the machine's speed.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, UNIX_EPOCH};

use han_telemetry::TelemetryBuilder;
use han_telemetry::config::{Config, Source, Sources};
use han_telemetry::record;
use han_telemetry::store::{self, Entry};
use han_telemetry_test_support::faults::{Fault, FaultyCollector, Wire};
use han_telemetry_test_support::scratch::Scratch;
use tracing_subscriber::layer::SubscriberExt as _;

const CHILD: &str = "HAN_TEST_OVERLOAD_CHILD";
const QUEUE: usize = 16;
const EVENTS: u64 = 1_000;

/// Not a test of its own: the body of the child process of
/// `an_overflowing_export_queue_is_said_once_and_counted_exactly`, which reads its stderr.
#[test]
fn overload_child() {
    let Some(dir) = std::env::var_os(CHILD) else {
        return;
    };
    let dir = PathBuf::from(dir);
    let collector = FaultyCollector::start(Wire::Http, Fault::Silent);
    let endpoint = collector.endpoint();
    let store_dir = dir.join("metrics");
    let config = Config::from_sources(&Sources::new().with_layer(
        Source::ProcessEnv,
        [
            ("CLAUDE_CODE_ENABLE_TELEMETRY", "1"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            ("OTEL_METRICS_EXPORTER", "none"),
            ("OTEL_LOGS_EXPORT_INTERVAL", "1"),
            ("HAN_TELEMETRY_EXIT_BUDGET_MS", "200"),
            ("HAN_METRICS_DIR", store_dir.to_str().expect("a UTF-8 path")),
        ],
    ));
    let (layer, guard) = TelemetryBuilder::new(config)
        .event_queue(QUEUE)
        .build()
        .into_layer();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for _ in 0..EVENTS {
            record::hook_run("lint", "PostToolUse", true, Duration::ZERO);
        }
    });
    let report = guard.shutdown();
    println!("events_dropped={}", report.events_dropped);
}

#[test]
fn an_overflowing_export_queue_is_said_once_and_counted_exactly() {
    if std::env::var_os(CHILD).is_some() {
        return;
    }
    let scratch = Scratch::new("overload");
    let output = Command::new(std::env::current_exe().expect("the test binary"))
        .args([
            "--exact",
            "overload_child",
            "--test-threads=1",
            "--nocapture",
        ])
        .env(CHILD, scratch.path())
        .output()
        .expect("run the child");
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let dropped: u64 = stdout
        .lines()
        .find_map(|l| l.split_once("events_dropped=").map(|(_, n)| n))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no count in {stdout}"));
    // At most a queue's worth can be in the exporter's hands (one export at a time, which
    // never ends) and a queue's worth waiting: the rest of the burst was left out.
    assert!(
        dropped >= EVENTS - 2 * QUEUE as u64,
        "dropped {dropped} of {EVENTS}"
    );
    assert!(dropped < EVENTS, "the queue took some: {dropped}");
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("export queue of 16 is full"))
        .collect();
    assert_eq!(lines.len(), 1, "said once: {stderr}");
    assert!(
        lines[0].contains("the local store keeps them all"),
        "{stderr}"
    );

    let records = store::scan(&scratch.path().join("metrics"), UNIX_EPOCH)
        .expect("scan the store")
        .records;
    let hooks = records
        .iter()
        .filter(|r| matches!(r.entry, Entry::Hook { .. }))
        .count();
    assert_eq!(hooks as u64, EVENTS, "the store keeps every event");
    let receipts: Vec<u64> = records
        .iter()
        .filter_map(|r| match r.entry {
            Entry::Export { logs_dropped, .. } => Some(logs_dropped),
            _ => None,
        })
        .collect();
    assert_eq!(
        receipts,
        [dropped],
        "the receipt counts what the report counts"
    );
}
