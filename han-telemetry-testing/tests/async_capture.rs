//! `capture_async` under both tokio runtime flavours, with spawned tasks.

use std::time::Duration;

use han_telemetry::catalogue::{event, metric};
use han_telemetry::record;
use han_telemetry_testing::{Capture, capture_async};
use tracing::instrument::WithSubscriber as _;

async fn hook_with_spawned_work(name: &'static str) {
    record::hook_run(name, "Stop", true, Duration::from_millis(2));
    tokio::time::sleep(Duration::from_millis(1)).await;
    let task = tokio::spawn(
        async move {
            tokio::task::yield_now().await;
            record::validation(name, false, 2);
            let _span = tracing::info_span!("spawned").entered();
        }
        .with_current_subscriber(),
    );
    task.await.expect("task");
    record::hook_run(name, "Stop", false, Duration::from_millis(4));
}

#[tokio::test(flavor = "current_thread")]
async fn current_thread_with_a_spawned_task() {
    let t = capture_async(hook_with_spawned_work("ct")).await;
    t.counter(metric::HOOK_EXECUTION)
        .with("hook_name", "ct")
        .assert_value(2);
    t.event(event::VALIDATION_ERROR)
        .with("validation_type", "ct")
        .assert_one();
    t.span("spawned").assert_one();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn multi_thread_with_a_spawned_task() {
    let t = capture_async(hook_with_spawned_work("mt")).await;
    t.counter(metric::HOOK_EXECUTION)
        .with("hook_name", "mt")
        .assert_value(2);
    t.counter(metric::VALIDATION_RUN)
        .with("validation_type", "mt")
        .assert_value(1);
    t.span("spawned").assert_one();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_captures_on_one_runtime_stay_apart() {
    let captures: Vec<_> = (0..16)
        .map(|i| {
            tokio::spawn(capture_async(async move {
                for _ in 0..=i {
                    record::mcp_tool_call(format!("tool-{i}"), true);
                    tokio::task::yield_now().await;
                }
            }))
        })
        .collect();
    for (i, handle) in captures.into_iter().enumerate() {
        let t = handle.await.expect("capture task");
        t.assert_only_metrics([metric::MCP_TOOL_CALL]);
        t.counter(metric::MCP_TOOL_CALL)
            .with("tool_name", format!("tool-{i}"))
            .only()
            .assert_value(0);
        t.counter(metric::MCP_TOOL_CALL)
            .with("tool_name", format!("tool-{i}"))
            .assert_value(u64::try_from(i).expect("small") + 1);
        t.counter(metric::MCP_TOOL_CALL)
            .assert_value(u64::try_from(i).expect("small") + 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_spawned_without_the_dispatcher_is_not_captured() {
    let (_, t) = Capture::new()
        .run_async(async {
            tokio::spawn(async { record::session_start() })
                .await
                .expect("task");
            record::mcp_tool_call("inside", true);
        })
        .await;
    t.assert_only_metrics([metric::MCP_TOOL_CALL]);
}

#[tokio::test(flavor = "current_thread")]
async fn run_async_returns_the_output() {
    let (out, t) = Capture::new()
        .run_async(async {
            record::session_start();
            "done"
        })
        .await;
    assert_eq!(out, "done");
    t.counter(metric::SESSION_START).assert_value(1);
}
