//! Under a `TRACEPARENT`, an annotated call made inside another keeps that call as its
//! parent: remote parent -> outer call -> inner call, with one trace id, for every
//! annotation nested in every other, in synchronous code, across `.await`s, and in threads
//! and tasks spawned with the current dispatcher and span.

mod support;

use han_telemetry::{
    instrument_hook, instrument_mcp_tool, instrument_plugin, instrument_task, instrument_validation,
};
use han_telemetry_testing::{Capture, Span, Telemetry};
use opentelemetry::trace::{SpanId, TraceId};
use support::TRACEPARENT;
use tracing::Instrument as _;
use tracing::instrument::WithSubscriber as _;

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const REMOTE: &str = "00f067aa0ba902b7";

fn remote() -> (TraceId, SpanId) {
    (
        TraceId::from_hex(TRACE).expect("trace id"),
        SpanId::from_hex(REMOTE).expect("span id"),
    )
}

/// The one span named `name`.
#[track_caller]
fn one<'t>(t: &'t Telemetry, name: &str) -> &'t Span {
    t.span(name).assert_one()
}

/// `chain[0]` is a child of the remote parent, each later span a child of the one before,
/// all in the remote trace; `others` more spans ended in the capture.
#[track_caller]
fn assert_chain(t: &Telemetry, chain: &[&str], others: usize) {
    let (trace, remote) = remote();
    assert_eq!(
        t.all_spans().len(),
        chain.len() + others,
        "other spans:\n{t}"
    );
    let mut parent: Option<&Span> = None;
    for name in chain {
        let span = one(t, name);
        assert_eq!(
            span.trace_id, trace,
            "{name} is not in the remote trace:\n{t}"
        );
        match parent {
            None => {
                assert_eq!(
                    span.parent_span_id,
                    Some(remote),
                    "{name} is not a child of the remote parent:\n{t}"
                );
                assert!(span.parent_is_remote, "{name}'s parent is not remote:\n{t}");
            }
            Some(p) => {
                assert_eq!(
                    span.parent_span_id,
                    Some(p.span_id),
                    "{name} is not a child of {}:\n{t}",
                    p.name
                );
                assert!(!span.parent_is_remote, "{name}'s parent is remote:\n{t}");
            }
        }
        parent = Some(span);
    }
}

fn under_traceparent<R>(f: impl FnOnce() -> R) -> (R, Telemetry) {
    Capture::new().traceparent(TRACEPARENT).run(f)
}

// ---------------------------------------------------------------- synchronous

#[instrument_hook(hook_type = "PostToolUse")]
fn outer_hook() -> Result<(), String> {
    install("jutsu", "project")
}

#[instrument_plugin(install, plugin_name = name, scope = scope)]
fn install(name: &str, scope: &str) -> Result<(), String> {
    let _ = (name, scope);
    Tools.read_file();
    Ok(())
}

struct Tools;

impl Tools {
    #[instrument_mcp_tool]
    fn read_file(&self) {
        assert!(Checker.lint().is_ok());
    }
}

struct Checker;

impl Checker {
    #[instrument_validation(validation_type = "lint")]
    fn lint(&self) -> Result<(), String> {
        refactor()
    }
}

#[instrument_task(task_type = "refactor")]
fn refactor() -> Result<(), String> {
    inner_hook("Stop");
    uninstall("jutsu")
}

/// A hook typed by a parameter: a call-site cache per distinct type.
#[instrument_hook(hook_name = "inner", hook_type = event)]
fn inner_hook(event: &str) {
    let _ = event;
}

#[instrument_plugin(uninstall, plugin_name = name, scope = "user")]
fn uninstall(name: &str) -> Result<(), String> {
    let _ = name;
    Ok(())
}

#[test]
fn every_annotation_nested_in_another_keeps_its_parent() {
    let (result, t) = under_traceparent(outer_hook);
    assert!(result.is_ok());
    assert_chain(
        &t,
        &[
            "hook outer_hook",
            "plugin install",
            "mcp tool read_file",
            "validation lint",
            "task refactor",
            "hook inner",
        ],
        1,
    );
    // The task's second child.
    let task = one(&t, "task refactor");
    assert_eq!(
        one(&t, "plugin uninstall").parent_span_id,
        Some(task.span_id),
        "{t}"
    );
}

#[test]
fn two_calls_in_a_row_are_siblings_under_their_caller() {
    #[instrument_hook(hook_type = "Stop")]
    fn twice() {
        assert!(Checker.lint_once().is_ok());
        assert!(Checker.lint_once().is_ok());
    }
    let ((), t) = under_traceparent(twice);
    let (trace, remote) = remote();
    let hook = one(&t, "hook twice");
    assert_eq!(hook.parent_span_id, Some(remote), "{t}");
    t.span("validation once").assert_exactly(2);
    t.span("validation once").assert_child_of("hook twice");
    t.span("validation once").assert_in_trace(TRACE);
    assert_eq!(hook.trace_id, trace);
}

#[test]
fn calls_after_the_outer_one_ends_join_the_remote_parent_again() {
    let ((), t) = under_traceparent(|| {
        inner_hook("Stop");
        assert!(Checker.lint_once_more().is_ok());
    });
    t.span("hook inner")
        .assert_child_of_traceparent(TRACEPARENT);
    t.span("validation again")
        .assert_child_of_traceparent(TRACEPARENT);
}

impl Checker {
    #[instrument_validation(validation_type = "once")]
    fn lint_once(&self) -> Result<(), String> {
        Ok(())
    }

    #[instrument_validation(validation_type = "again")]
    fn lint_once_more(&self) -> Result<(), String> {
        Ok(())
    }
}

#[test]
fn without_a_traceparent_the_outer_call_is_the_root() {
    let (result, t) = Capture::new().run(outer_hook);
    assert!(result.is_ok());
    t.span("hook outer_hook").assert_root();
    t.span("plugin install").assert_child_of("hook outer_hook");
    t.span("validation lint")
        .assert_child_of("mcp tool read_file");
    t.span("hook inner").assert_child_of("task refactor");
}

#[instrument_hook(hook_type = "Stop")]
fn hook_with_its_own_span() {
    let own = tracing::info_span!("own step");
    han_telemetry::adopt_remote_parent(&own);
    own.in_scope(|| inner_hook("Stop"));
}

/// A span of the program's own that asks to adopt the remote parent inside an annotated call
/// has a local parent, and keeps it.
#[test]
fn a_span_adopting_the_remote_parent_inside_a_call_keeps_its_local_parent() {
    let ((), t) = under_traceparent(hook_with_its_own_span);
    assert_chain(
        &t,
        &["hook hook_with_its_own_span", "own step", "hook inner"],
        0,
    );
}

// ---------------------------------------------------------------- across `.await`s

#[instrument_hook(hook_type = "Stop")]
async fn async_hook() -> Result<(), String> {
    tokio::task::yield_now().await;
    Checker.lint_async().await?;
    tokio::task::yield_now().await;
    async_tool().await;
    Ok(())
}

impl Checker {
    #[instrument_validation(validation_type = "async_lint")]
    async fn lint_async(&self) -> Result<(), String> {
        tokio::task::yield_now().await;
        async_task().await
    }
}

#[instrument_task(task_type = "async_task")]
async fn async_task() -> Result<(), String> {
    tokio::task::yield_now().await;
    Ok(())
}

#[instrument_mcp_tool(tool_name = "async_tool")]
async fn async_tool() {
    tokio::task::yield_now().await;
    inner_hook("Stop");
}

async fn check_async() {
    let (result, t) = Capture::new()
        .traceparent(TRACEPARENT)
        .run_async(async_hook())
        .await;
    assert!(result.is_ok());
    let (trace, remote) = remote();
    assert_chain_of(
        &t,
        &["hook async_hook", "validation async_lint"],
        (trace, remote),
    );
    let validation = one(&t, "validation async_lint");
    assert_eq!(
        one(&t, "task async_task").parent_span_id,
        Some(validation.span_id),
        "{t}"
    );
    let hook = one(&t, "hook async_hook");
    assert_eq!(
        one(&t, "mcp tool async_tool").parent_span_id,
        Some(hook.span_id),
        "{t}"
    );
    assert_eq!(
        one(&t, "hook inner").parent_span_id,
        Some(one(&t, "mcp tool async_tool").span_id),
        "{t}"
    );
    for s in t.all_spans() {
        assert_eq!(s.trace_id, trace, "{t}");
    }
}

/// [`assert_chain`] over the first spans of a tree with more spans.
#[track_caller]
fn assert_chain_of(t: &Telemetry, chain: &[&str], (trace, remote): (TraceId, SpanId)) {
    let mut parent = remote;
    for name in chain {
        let span = one(t, name);
        assert_eq!(span.trace_id, trace, "{name}:\n{t}");
        assert_eq!(span.parent_span_id, Some(parent), "{name}:\n{t}");
        parent = span.span_id;
    }
}

#[tokio::test(flavor = "current_thread")]
async fn async_calls_keep_their_parent_on_a_current_thread_runtime() {
    check_async().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_calls_keep_their_parent_on_a_multi_thread_runtime() {
    check_async().await;
}

// ---------------------------------------------------------------- spawned

#[instrument_hook(hook_type = "PreToolUse")]
fn spawning_hook() -> Result<(), String> {
    let dispatch = tracing::dispatcher::get_default(Clone::clone);
    let span = tracing::Span::current();
    let worker = std::thread::spawn(move || {
        tracing::dispatcher::with_default(&dispatch, || span.in_scope(|| Checker.lint_once()))
    });
    worker
        .join()
        .map_err(|_| "the worker panicked".to_owned())?
}

#[test]
fn a_call_in_a_thread_spawned_with_the_dispatcher_and_span_keeps_its_parent() {
    let (result, t) = under_traceparent(spawning_hook);
    assert!(result.is_ok());
    assert_chain(&t, &["hook spawning_hook", "validation once"], 0);
}

#[instrument_hook(hook_type = "PreToolUse")]
fn spawning_without_the_span() -> Result<(), String> {
    let dispatch = tracing::dispatcher::get_default(Clone::clone);
    let worker = std::thread::spawn(move || {
        tracing::dispatcher::with_default(&dispatch, || Checker.lint_once())
    });
    worker
        .join()
        .map_err(|_| "the worker panicked".to_owned())?
}

/// A thread given only the dispatcher has no local parent: its call joins the remote parent
/// directly, as a call outside any other does.
#[test]
fn a_call_in_a_thread_given_only_the_dispatcher_joins_the_remote_parent() {
    let (result, t) = under_traceparent(spawning_without_the_span);
    assert!(result.is_ok());
    t.span("hook spawning_without_the_span")
        .assert_child_of_traceparent(TRACEPARENT);
    t.span("validation once")
        .assert_child_of_traceparent(TRACEPARENT);
}

#[instrument_hook(hook_type = "Stop")]
async fn hook_spawning_tasks() -> Result<(), String> {
    let in_span = tokio::spawn(
        async { Checker.lint_async().await }
            .in_current_span()
            .with_current_subscriber(),
    );
    let instrumented = tokio::spawn(
        async { async_tool().await }
            .instrument(tracing::Span::current())
            .with_current_subscriber(),
    );
    in_span.await.map_err(|e| e.to_string())??;
    instrumented.await.map_err(|e| e.to_string())?;
    Ok(())
}

async fn check_tasks() {
    let (result, t) = Capture::new()
        .traceparent(TRACEPARENT)
        .run_async(hook_spawning_tasks())
        .await;
    assert!(result.is_ok());
    let (trace, remote) = remote();
    let hook = one(&t, "hook hook_spawning_tasks");
    assert_eq!(hook.parent_span_id, Some(remote), "{t}");
    for child in ["validation async_lint", "mcp tool async_tool"] {
        assert_eq!(
            one(&t, child).parent_span_id,
            Some(hook.span_id),
            "{child}:\n{t}"
        );
    }
    t.span("task async_task")
        .assert_child_of("validation async_lint");
    t.span("hook inner").assert_child_of("mcp tool async_tool");
    for s in t.all_spans() {
        assert_eq!(s.trace_id, trace, "{t}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_spawned_in_the_current_span_keep_their_parent() {
    check_tasks().await;
}

#[tokio::test(flavor = "current_thread")]
async fn tasks_spawned_in_the_current_span_keep_their_parent_on_one_thread() {
    check_tasks().await;
}
