//! Load and concurrency: exact counts from thousands of tasks on a multi-thread runtime, a
//! flood of user-supplied names held to the cardinality limit, and nothing the runtime keeps
//! (store buffer, warnings) growing with its input.
//!
//! tests/call_site_cache.rs covers plain threads on one pipeline and tests/recording.rs the
//! flood of hook names; this file does not repeat them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, UNIX_EPOCH};

use han_telemetry::catalogue::{self, event, metric};
use han_telemetry::config::{Config, Source, Sources};
use han_telemetry::record::{self, TaskOutcome};
use han_telemetry::store::{self, Entry, LocalStore};
use han_telemetry::{
    TelemetryBuilder, instrument_hook, instrument_mcp_tool, instrument_plugin, instrument_task,
    instrument_validation, report,
};
use han_telemetry_test_support::scratch::Scratch;
use han_telemetry_testing::{AttrValue, Capture, MetricName, PointValue, Telemetry};
use tracing::instrument::WithSubscriber as _;
use tracing_subscriber::layer::SubscriberExt as _;

/// Runs `f` on its own thread and fails the test if it has not finished within `limit`, so a
/// deadlock fails instead of hanging the suite. A panic in `f` is passed on.
fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(value) => value,
        Err(mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => panic!("the worker ended without a result"),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("not finished after {limit:?}: a deadlock or a lost wake-up")
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_time()
        .build()
        .expect("a multi-thread tokio runtime")
}

// ---------------------------------------------------------------------------------------------
// Many tasks on a multi-thread runtime

#[instrument_hook(hook_name = "async-ok", hook_type = "PreToolUse")]
async fn async_ok(i: u64) -> Result<u64, String> {
    tokio::task::yield_now().await;
    Ok(i)
}

#[instrument_hook(hook_name = "async-fail", hook_type = "PreToolUse")]
async fn async_fail(i: u64) -> Result<u64, String> {
    tokio::task::yield_now().await;
    Err(format!("task {i}"))
}

#[instrument_hook(hook_name = "blocking", hook_type = "PostToolUse")]
fn blocking(i: u64) -> Result<u64, String> {
    if i.is_multiple_of(3) {
        Err("every third".into())
    } else {
        Ok(i)
    }
}

#[instrument_hook(hook_name = "cancelled", hook_type = "Stop")]
async fn never_finishes() {
    std::future::pending::<()>().await;
}

#[instrument_hook(hook_name = name, hook_type = "UserPromptSubmit")]
async fn sharded(name: &str, ok: bool) -> Result<(), String> {
    tokio::task::yield_now().await;
    if ok { Ok(()) } else { Err(name.to_owned()) }
}

/// What one task does, and the `(hook_name, success)` it must be counted under.
async fn one_task(i: u64) -> (String, bool) {
    match i % 5 {
        0 => ("async-ok".into(), async_ok(i).await.is_ok()),
        1 => ("async-fail".into(), async_fail(i).await.is_ok()),
        2 => {
            let dispatch = tracing::dispatcher::get_default(Clone::clone);
            let ok = tokio::task::spawn_blocking(move || {
                tracing::dispatcher::with_default(&dispatch, || blocking(i))
            })
            .await
            .expect("the blocking call")
            .is_ok();
            ("blocking".into(), ok)
        }
        3 => {
            // Dropped after its first poll: recorded as a failure.
            let done = tokio::time::timeout(Duration::from_millis(1), never_finishes()).await;
            assert!(done.is_err(), "it never finishes");
            ("cancelled".into(), false)
        }
        _ => {
            let name = format!("shard-{}", i % 8);
            let ok = i.is_multiple_of(2);
            assert_eq!(sharded(&name, ok).await.is_ok(), ok);
            (name, ok)
        }
    }
}

#[test]
fn thousands_of_async_and_blocking_calls_on_four_workers_count_exactly() {
    const TASKS: u64 = 4 * 2_000;
    let (expected, t) = within(Duration::from_secs(120), || {
        runtime().block_on(Capture::new().run_async(async {
            let handles: Vec<_> = (0..TASKS)
                .map(|i| tokio::spawn(one_task(i).with_current_subscriber()))
                .collect();
            let mut expected: BTreeMap<(String, bool), u64> = BTreeMap::new();
            for handle in handles {
                *expected.entry(handle.await.expect("a task")).or_default() += 1;
            }
            expected
        }))
    });
    assert_eq!(expected.values().sum::<u64>(), TASKS);
    assert_eq!(
        expected.len(),
        5 + 8,
        "every kind of call ran: {expected:?}"
    );
    for ((hook, success), n) in &expected {
        t.counter(metric::HOOK_EXECUTION)
            .with("hook_name", hook.as_str())
            .with("success", *success)
            .assert_value(*n);
        t.histogram(metric::HOOK_DURATION)
            .with("hook_name", hook.as_str())
            .with("success", *success)
            .assert_count(*n);
        t.event(event::HOOK_RESULT)
            .with("hook_name", hook.as_str())
            .with("success", *success)
            .assert_exactly(usize::try_from(*n).expect("a count"));
    }
    // Nothing recorded twice or under another name.
    assert_eq!(t.counter(metric::HOOK_EXECUTION).value(), TASKS);
    assert_eq!(t.all_events().len() as u64, TASKS);
}

#[instrument_task(task_type = kind)]
async fn reporting_task(kind: &str, confidence: f64, partial: bool) -> Result<(), String> {
    report::confidence(confidence);
    // Other tasks run on this worker between the polls: a report must still reach this call.
    tokio::task::yield_now().await;
    if partial {
        report::outcome(TaskOutcome::Partial);
    }
    tokio::task::yield_now().await;
    report::confidence(confidence);
    Ok(())
}

#[test]
fn reports_made_across_await_points_reach_their_own_call() {
    const TASKS: u64 = 4_000;
    const KINDS: u64 = 10;
    let confidence = |kind: u64| kind as f64 / 10.0 + 0.05;
    let ((), t) = within(Duration::from_secs(120), move || {
        runtime().block_on(Capture::new().run_async(async move {
            let handles: Vec<_> = (0..TASKS)
                .map(|i| {
                    let kind = i % KINDS;
                    tokio::spawn(
                        async move {
                            reporting_task(
                                &format!("kind-{kind}"),
                                confidence(kind),
                                (i / KINDS).is_multiple_of(4),
                            )
                            .await
                        }
                        .with_current_subscriber(),
                    )
                })
                .collect();
            for handle in handles {
                handle.await.expect("a task").expect("it succeeds");
            }
        }))
    });
    for kind in 0..KINDS {
        let name = format!("kind-{kind}");
        let bucket = catalogue::tenth_bucket(confidence(kind));
        let per_kind = TASKS / KINDS;
        let completed = |outcome: &str| {
            t.counter(metric::TASK_COMPLETED)
                .with("task_type", name.as_str())
                .with("outcome", outcome)
        };
        // Every point of this kind carries its own bucket: no report went to another task.
        completed("partial")
            .with("confidence_bucket", bucket)
            .assert_value(per_kind / 4);
        completed("success")
            .with("confidence_bucket", bucket)
            .assert_value(per_kind - per_kind / 4);
        assert_eq!(
            t.counter(metric::TASK_COMPLETED)
                .with("task_type", name.as_str())
                .value(),
            per_kind
        );
        let events = t
            .event(event::TASK_OUTCOME)
            .with("task_type", name.as_str())
            .matching();
        assert_eq!(events.len() as u64, per_kind);
        for e in events {
            assert_eq!(
                e.attributes.get("confidence"),
                Some(&AttrValue::Float(confidence(kind))),
                "{e:?}"
            );
        }
    }
    t.counter(metric::TASK_FAILED).assert_value(0);
}

// ---------------------------------------------------------------------------------------------
// A flood of user-supplied names

#[instrument_plugin(install, plugin_name = name, scope = scope)]
fn install(name: &str, scope: &str) -> Result<(), String> {
    let _ = (name, scope);
    Ok(())
}

#[instrument_mcp_tool(tool_name = tool)]
fn call_tool(tool: &str) -> Result<usize, String> {
    Ok(tool.len())
}

#[instrument_validation(validation_type = kind)]
fn validate(kind: &str, errors: u64) -> Result<(), String> {
    report::error_count(errors);
    if errors == 0 {
        Ok(())
    } else {
        Err(kind.to_owned())
    }
}

/// Asserts that `name` kept at most the SDK's cardinality limit of series, put the rest in
/// one series marked `otel.metric.overflow=true`, and lost no count.
fn assert_bounded(t: &Telemetry, name: impl Into<MetricName>, calls: u64) {
    let name = name.into();
    let metric = t
        .metric(name.as_str())
        .unwrap_or_else(|| panic!("no metric {name}"));
    let points = &metric.points;
    // The SDK's default limit of 2000 series per instrument, and at most the overflow one.
    assert!(points.len() <= 2_001, "{name}: {} series", points.len());
    let overflow: Vec<_> = points
        .iter()
        .filter(|p| p.attributes.get("otel.metric.overflow") == Some(&AttrValue::Bool(true)))
        .collect();
    assert_eq!(overflow.len(), 1, "{name}: one overflow series");
    assert_eq!(
        overflow[0].attributes.len(),
        1,
        "{name}: the overflow series carries no user data"
    );
    let total: u64 = points
        .iter()
        .map(|p| match p.value {
            PointValue::Unsigned(v) => v,
            ref other => panic!("{name}: not a counter point: {other:?}"),
        })
        .sum();
    assert_eq!(total, calls, "{name}: every call counted once");
}

#[test]
fn a_flood_of_user_supplied_names_stays_within_the_cardinality_limit() {
    const DISTINCT: u64 = 5_000;
    let ((), t) = within(Duration::from_secs(120), || {
        Capture::new().run(|| {
            for i in 0..DISTINCT {
                install(&format!("plugin-{i}"), "project").expect("install");
                record::plugin_uninstall(format!("plugin-{i}"), "user", i % 2 == 0);
                call_tool(&format!("tool-{i}")).expect("tool");
                let _ = validate(&format!("check-{i}"), i % 3);
                record::task(format!("task-{i}"), TaskOutcome::Success, 0.5);
                record::frustration(format!("level-{i}"), 0.5);
            }
        })
    });
    for name in [
        metric::PLUGIN_INSTALL,
        metric::PLUGIN_UNINSTALL,
        metric::MCP_TOOL_CALL,
        metric::VALIDATION_RUN,
        metric::TASK_COMPLETED,
        metric::FRUSTRATION_DETECTED,
    ] {
        assert_bounded(&t, name, DISTINCT);
    }
    // Events are not aggregated: each keeps its own names.
    let n = usize::try_from(DISTINCT).expect("a count");
    t.event(event::PLUGIN_EVENT).assert_exactly(2 * n);
    t.event(event::TASK_OUTCOME).assert_exactly(n);
    t.event(event::VALIDATION_ERROR)
        .assert_exactly(n - n.div_ceil(3));
}

// ---------------------------------------------------------------------------------------------
// Nothing of ours grows with its input

/// Bytes of every file in `dir` (the store's day files).
fn bytes_on_disk(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .filter(std::fs::Metadata::is_file)
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

fn distinct_hook(i: u64) -> Entry<'static> {
    Entry::Hook {
        hook_name: format!("hook-{i:06}-from-user-input").into(),
        hook_type: "PostToolUse".into(),
        success: i.is_multiple_of(2),
        duration_ms: 1.0,
    }
}

/// What the store holds in the process at most, in bytes of lines: the buffer, whose largest
/// size a write is due at (64 KiB of the compact form), with room for the record that crosses
/// it, plus the full buffers its background writer has (4 waiting, one being written; past
/// them the appender waits: writer.rs). A line of these records is at most 2.5 times its
/// buffered form (77 bytes buffered, about 180 as a line).
const BUFFER_BOUND: u64 = 6 * (64 * 1024 * 5 / 2) + 4 * 1024;

#[test]
fn the_store_buffer_stays_bounded_under_100k_distinct_records() {
    const RECORDS: u64 = 100_000;
    let scratch = Scratch::new("buffer");
    let local = LocalStore::at(scratch.path(), 30);
    // (records appended, bytes on disk then), every 1 000 records.
    let mut checkpoints = Vec::new();
    for i in 0..RECORDS {
        local.append(None, distinct_hook(i));
        if i % 1_000 == 999 {
            checkpoints.push((i + 1, bytes_on_disk(scratch.path())));
        }
    }
    local.flush();
    // Once everything is written, the end of the n-th line is what n appends had produced;
    // what was not on disk at that point was in the buffer.
    let mut files: Vec<PathBuf> = std::fs::read_dir(scratch.path())
        .expect("the store directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    let written: Vec<u8> = files
        .iter()
        .flat_map(|f| std::fs::read(f).expect("a day file"))
        .collect();
    let line_ends: Vec<u64> = written
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .map(|(at, _)| at as u64 + 1)
        .collect();
    assert_eq!(line_ends.len() as u64, RECORDS, "one line per record");
    let largest_backlog = checkpoints
        .iter()
        .map(|&(appended, on_disk)| line_ends[appended as usize - 1] - on_disk)
        .max()
        .expect("checkpoints");
    assert!(
        largest_backlog <= BUFFER_BOUND,
        "{largest_backlog} bytes were buffered at once"
    );
    assert!(
        written.len() as u64 > 15 * BUFFER_BOUND,
        "the records outgrow the buffer many times over"
    );
    let scan = store::scan(scratch.path(), UNIX_EPOCH).expect("scan the store");
    assert!(scan.skipped.is_empty(), "{:?}", scan.skipped);
    assert_eq!(scan.records.len() as u64, RECORDS, "nothing lost");
}

#[test]
fn a_store_that_cannot_write_drops_records_instead_of_buffering_them() {
    const RECORDS: u64 = 100_000;
    let scratch = Scratch::new("unwritable");
    // The store's directory cannot be created: a file stands where its parent should be.
    let blocker = scratch.path().join("blocked");
    std::fs::write(&blocker, "not a directory").expect("write the blocker");
    let dir = blocker.join("metrics");
    let local = LocalStore::at(&dir, 30);
    for i in 0..RECORDS {
        local.append(None, distinct_hook(i));
    }
    // Writable again: what would be written now is what the store kept in memory.
    std::fs::remove_file(&blocker).expect("remove the blocker");
    local.flush();
    let kept = bytes_on_disk(&dir);
    assert!(
        kept <= BUFFER_BOUND,
        "{kept} bytes of records were kept in memory while the store could not write"
    );
}

const CHILD: &str = "HAN_LOAD_TEST_WARNINGS_CHILD";

/// Not a test of its own: the body of the child process of
/// `warnings_stay_bounded_under_100k_distinct_inputs`, which reads its stderr.
#[test]
fn warnings_child() {
    let Some(dir) = std::env::var_os(CHILD) else {
        return;
    };
    let dir = PathBuf::from(dir);
    // Nothing listens there: every export fails, over and over, while names flood in.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let endpoint = format!("http://127.0.0.1:{port}");
    let store_dir = dir.join("metrics");
    let config = Config::from_sources(&Sources::new().with_layer(
        Source::ProcessEnv,
        [
            ("CLAUDE_CODE_ENABLE_TELEMETRY", "1"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            ("OTEL_METRIC_EXPORT_INTERVAL", "50"),
            ("OTEL_LOGS_EXPORT_INTERVAL", "50"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "200"),
            ("HAN_TELEMETRY_EXIT_BUDGET_MS", "500"),
            ("HAN_METRICS_DIR", store_dir.to_str().expect("a UTF-8 path")),
            // One configuration problem, printed once however often it matters.
            ("HAN_METRICS_RETENTION_DAYS", "a month"),
        ],
    ));
    let (layer, guard) = TelemetryBuilder::new(config).build().into_layer();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for i in 0..100_000u64 {
            match i % 3 {
                0 => record::hook_run(format!("hook-{i}"), "PreToolUse", false, Duration::ZERO),
                1 => record::plugin_install(format!("plugin-{i}"), "user", false),
                _ => record::mcp_tool_call(format!("tool-{i}"), false),
            }
        }
    });
    drop(guard);
}

#[test]
fn warnings_stay_bounded_under_100k_distinct_inputs() {
    if std::env::var_os(CHILD).is_some() {
        return;
    }
    let scratch = Scratch::new("warnings");
    let exe = std::env::current_exe().expect("the test binary");
    let output = within(Duration::from_secs(120), move || {
        Command::new(exe)
            .args([
                "--exact",
                "warnings_child",
                "--test-threads=1",
                "--nocapture",
            ])
            .env(CHILD, scratch.path())
            .output()
            .expect("run the child")
    });
    assert!(output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Each warning is printed once per key (diagnostics::warn_once), so the lines are the keys
    // the process remembered: they must not grow with the 100 000 distinct names.
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("han-telemetry:"))
        .collect();
    assert!(
        warnings
            .iter()
            .any(|l| l.contains("HAN_METRICS_RETENTION_DAYS")),
        "the configuration problem is reported: {warnings:#?}"
    );
    assert!(
        warnings.iter().any(|l| l.contains("export")),
        "the failed exports are reported: {warnings:#?}"
    );
    assert!(
        warnings.len() <= 8,
        "{} warnings for one configuration: {warnings:#?}",
        warnings.len()
    );
    assert!(
        warnings
            .iter()
            .all(|l| !l.contains("hook-") && !l.contains("plugin-") && !l.contains("tool-")),
        "no warning is keyed by a recorded name: {warnings:#?}"
    );
}
