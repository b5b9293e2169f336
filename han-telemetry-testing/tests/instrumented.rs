//! Code instrumented with han-telemetry's attribute macros, checked end to end: the metrics,
//! event and span an annotated hook produces, joined to Claude Code's trace.

mod support;

use han_telemetry::catalogue::{event, metric};
use han_telemetry::instrument_hook;
use han_telemetry_testing::{Capture, Severity, capture_async};
use support::TRACEPARENT;

#[instrument_hook(hook_type = "PostToolUse")]
fn lint(path: &str) -> Result<(), String> {
    if path.ends_with(".rs") {
        Ok(())
    } else {
        Err(format!("cannot lint {path}"))
    }
}

#[instrument_hook(hook_type = "Stop")]
async fn summarize() -> usize {
    tokio::task::yield_now().await;
    3
}

#[test]
fn an_instrumented_hook_records_its_metrics_event_and_span() {
    let ((), t) = Capture::new().traceparent(TRACEPARENT).run(|| {
        let _ = lint("a.rs");
        let _ = lint("notes.txt");
    });
    t.counter(metric::HOOK_EXECUTION)
        .with("hook_name", "lint")
        .with("hook_type", "PostToolUse")
        .with("success", false)
        .assert_value(1);
    t.histogram(metric::HOOK_DURATION)
        .with("hook_name", "lint")
        .assert_count(2);
    t.event(event::HOOK_RESULT)
        .at_severity(Severity::Info)
        .with("success", true)
        .in_span("hook lint")
        .assert_one();
    t.span("hook lint").assert_exactly(2);
    t.span("hook lint").assert_child_of_traceparent(TRACEPARENT);
    t.assert_only_metrics([metric::HOOK_EXECUTION, metric::HOOK_DURATION]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instrumented_async_hook() {
    let t = capture_async(async {
        assert_eq!(summarize().await, 3);
    })
    .await;
    t.counter(metric::HOOK_EXECUTION)
        .with("hook_name", "summarize")
        .with("success", true)
        .assert_value(1);
    t.span("hook summarize").assert_root();
}
