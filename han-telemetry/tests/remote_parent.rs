//! A pipeline built from a configuration with `TRACEPARENT` (as `init()` builds it) exports
//! remote parent -> hook -> nested call, read back from OTLP/HTTP as a collector receives it:
//! in synchronous code, across `.await`s, in a thread spawned with the current dispatcher and
//! span, and in a tokio task spawned in the current span; with the telemetry as a layer of a
//! scoped subscriber and installed as the global one.

mod support;

use std::collections::HashMap;

use han_telemetry::{
    TelemetryBuilder, instrument_hook, instrument_mcp_tool, instrument_plugin, instrument_task,
    instrument_validation,
};
use han_telemetry_test_support::otlp::ReceivedSpan;
use han_telemetry_test_support::receiver::OtlpReceiver;
use support::{REMOTE_SPAN_ID, TRACE_ID, TRACEPARENT, otlp_config};
use tracing::Instrument as _;
use tracing::instrument::WithSubscriber as _;
use tracing_subscriber::layer::SubscriberExt as _;

struct Checker;

impl Checker {
    #[instrument_validation(validation_type = "sync_check")]
    fn sync_check(&self) -> Result<(), String> {
        refactor()
    }

    #[instrument_validation(validation_type = "async_check")]
    async fn async_check(&self) -> Result<(), String> {
        tokio::task::yield_now().await;
        refactor_async().await
    }

    #[instrument_validation(validation_type = "thread_check")]
    fn thread_check(&self) -> Result<(), String> {
        Ok(())
    }

    #[instrument_validation(validation_type = "task_check")]
    async fn task_check(&self) -> Result<(), String> {
        tokio::task::yield_now().await;
        Ok(())
    }
}

#[instrument_task(task_type = "refactor")]
fn refactor() -> Result<(), String> {
    install("jutsu")
}

#[instrument_plugin(install, plugin_name = name, scope = "project")]
fn install(name: &str) -> Result<(), String> {
    let _ = name;
    read_file();
    Ok(())
}

#[instrument_mcp_tool]
fn read_file() {}

#[instrument_task(task_type = "refactor_async")]
async fn refactor_async() -> Result<(), String> {
    tokio::task::yield_now().await;
    Ok(())
}

#[instrument_hook(hook_type = "PostToolUse")]
fn sync_hook() -> Result<(), String> {
    Checker.sync_check()
}

#[instrument_hook(hook_type = "Stop")]
async fn async_hook() -> Result<(), String> {
    tokio::task::yield_now().await;
    Checker.async_check().await
}

#[instrument_hook(hook_type = "PreToolUse")]
fn thread_hook() -> Result<(), String> {
    let dispatch = tracing::dispatcher::get_default(Clone::clone);
    let span = tracing::Span::current();
    std::thread::spawn(move || {
        tracing::dispatcher::with_default(&dispatch, || span.in_scope(|| Checker.thread_check()))
    })
    .join()
    .map_err(|_| "the worker panicked".to_owned())?
}

#[instrument_hook(hook_type = "SessionStart")]
async fn task_hook() -> Result<(), String> {
    tokio::spawn(
        async { Checker.task_check().await }
            .in_current_span()
            .with_current_subscriber(),
    )
    .await
    .map_err(|e| e.to_string())?
}

/// Calls every scenario's outer hook under the current dispatcher.
fn run_scenarios() {
    assert!(sync_hook().is_ok());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("a tokio runtime");
    assert!(
        runtime
            .block_on(async_hook().with_current_subscriber())
            .is_ok()
    );
    assert!(thread_hook().is_ok());
    assert!(
        runtime
            .block_on(task_hook().with_current_subscriber())
            .is_ok()
    );
}

/// `child` is `parent`'s child in the remote trace.
#[track_caller]
fn assert_parent(by_name: &HashMap<String, &ReceivedSpan>, child: &str, parent: &str, all: &str) {
    let child_span = by_name
        .get(child)
        .unwrap_or_else(|| panic!("no span {child:?} exported: {all}"));
    let parent_id = if parent == "remote" {
        REMOTE_SPAN_ID.to_owned()
    } else {
        let parent_span = by_name
            .get(parent)
            .unwrap_or_else(|| panic!("no span {parent:?} exported: {all}"));
        parent_span.span_id.clone()
    };
    assert_eq!(
        child_span.parent_span_id, parent_id,
        "{child:?} is not a child of {parent:?}: {all}"
    );
    assert_eq!(
        child_span.trace_id, TRACE_ID,
        "{child:?} is not in the remote trace: {all}"
    );
}

fn assert_trees(receiver: &OtlpReceiver, how: &str) {
    let spans = receiver.spans();
    let all: Vec<String> = spans
        .iter()
        .map(|s| {
            format!(
                "{:?} span={} parent={}",
                s.name, s.span_id, s.parent_span_id
            )
        })
        .collect();
    let all = format!("{how}:\n  {}", all.join("\n  "));
    let mut by_name = HashMap::new();
    for span in &spans {
        assert!(
            by_name.insert(span.name.clone(), span).is_none(),
            "{:?} exported twice: {all}",
            span.name
        );
    }
    for (child, parent) in [
        ("hook sync_hook", "remote"),
        ("validation sync_check", "hook sync_hook"),
        ("task refactor", "validation sync_check"),
        ("plugin install", "task refactor"),
        ("mcp tool read_file", "plugin install"),
        ("hook async_hook", "remote"),
        ("validation async_check", "hook async_hook"),
        ("task refactor_async", "validation async_check"),
        ("hook thread_hook", "remote"),
        ("validation thread_check", "hook thread_hook"),
        ("hook task_hook", "remote"),
        ("validation task_check", "hook task_hook"),
    ] {
        assert_parent(&by_name, child, parent, &all);
    }
    assert_eq!(spans.len(), 12, "{all}");
}

/// Installed as the global subscriber, as `init()` does: the only test in this binary that
/// installs one, and none of the others spawn threads without a dispatcher, so nothing else
/// records here.
#[test]
fn installed_globally_nested_calls_stay_under_their_caller_below_the_remote_parent() {
    let receiver = OtlpReceiver::start();
    let config = otlp_config(
        &receiver.endpoint(),
        &["traces"],
        &[("TRACEPARENT", TRACEPARENT)],
    );
    let guard = TelemetryBuilder::new(config).install();
    run_scenarios();
    drop(guard);
    assert_trees(&receiver, "installed as the global subscriber");
}

/// As a layer of the program's own (here scoped) subscriber, with logs off too.
#[test]
fn as_a_layer_nested_calls_stay_under_their_caller_below_the_remote_parent() {
    let receiver = OtlpReceiver::start();
    let config = otlp_config(
        &receiver.endpoint(),
        &["traces"],
        &[("TRACEPARENT", TRACEPARENT)],
    );
    let (layer, guard) = TelemetryBuilder::new(config).build().into_layer();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), run_scenarios);
    drop(guard);
    assert_trees(&receiver, "as a layer of a scoped subscriber");
}

#[instrument_hook(hook_type = "Stop")]
fn lone_hook() {}

/// Whichever other signals are on, traces are exported (with logs off, the layer stack used
/// to tell tracing that no span was wanted).
#[test]
fn spans_are_exported_whatever_other_signals_are_on() {
    for signals in [
        &["traces"][..],
        &["traces", "logs"],
        &["traces", "metrics"],
        &["traces", "metrics", "logs"],
    ] {
        let receiver = OtlpReceiver::start();
        let config = otlp_config(&receiver.endpoint(), signals, &[]);
        let (layer, guard) = TelemetryBuilder::new(config).build().into_layer();
        tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
            lone_hook();
            let _own = tracing::info_span!("own span").entered();
        });
        drop(guard);
        let names: Vec<String> = receiver.spans().into_iter().map(|s| s.name).collect();
        assert_eq!(names.len(), 2, "{signals:?}: {names:?}");
        for name in ["hook lone_hook", "own span"] {
            assert!(names.iter().any(|n| n == name), "{signals:?}: {names:?}");
        }
    }
}
