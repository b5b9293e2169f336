//! Behaviour of the `#[instrument_hook]` family, observed through han-telemetry-testing:
//! every outcome rule, every supported shape, every catalogue entry an annotation reaches,
//! and that no argument is recorded unless the annotation names it.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};

use han_telemetry::catalogue::{event, metric};
use han_telemetry::record::TaskOutcome;
use han_telemetry::{
    instrument_hook, instrument_mcp_tool, instrument_plugin, instrument_task,
    instrument_validation, report,
};
use han_telemetry_testing::{Severity, capture, capture_async};

#[derive(Debug, PartialEq)]
struct LintError;

impl From<std::num::ParseIntError> for LintError {
    fn from(_: std::num::ParseIntError) -> Self {
        LintError
    }
}

#[instrument_hook(hook_type = "PostToolUse")]
fn parse_limit(input: &str) -> Result<u32, LintError> {
    if input == "early" {
        return Ok(0);
    }
    let n: u32 = input.parse()?;
    Ok(n)
}

type Aliased<T> = std::result::Result<T, String>;

#[instrument_hook(hook_type = "PreToolUse")]
fn aliased(ok: bool) -> Aliased<()> {
    if ok { Ok(()) } else { Err("no".into()) }
}

#[instrument_hook(hook_type = "Stop")]
fn with_anyhow(ok: bool) -> anyhow::Result<()> {
    anyhow::ensure!(ok, "not ok");
    Ok(())
}

fn success_of(t: &han_telemetry_testing::Telemetry, hook: &str, success: bool) -> u64 {
    t.counter(metric::HOOK_EXECUTION)
        .with("hook_name", hook)
        .with("success", success)
        .value()
}

#[test]
fn result_returns_succeed_on_ok_and_fail_on_err_including_question_mark_and_early_return() {
    let t = capture(|| {
        assert_eq!(parse_limit("12"), Ok(12));
        assert_eq!(parse_limit("early"), Ok(0));
        assert_eq!(parse_limit("x"), Err(LintError)); // `?`
    });
    assert_eq!(success_of(&t, "parse_limit", true), 2);
    assert_eq!(success_of(&t, "parse_limit", false), 1);
    t.histogram(metric::HOOK_DURATION)
        .with("hook_name", "parse_limit")
        .assert_count(3);
    t.event(event::HOOK_RESULT)
        .with("hook_name", "parse_limit")
        .with("success", false)
        .assert_exactly(1);
}

#[test]
fn result_is_detected_by_type_through_aliases() {
    let t = capture(|| {
        let _ = aliased(true);
        let _ = aliased(false);
        let _ = with_anyhow(true);
        let _ = with_anyhow(false);
    });
    for hook in ["aliased", "with_anyhow"] {
        assert_eq!(success_of(&t, hook, true), 1, "{hook}");
        assert_eq!(success_of(&t, hook, false), 1, "{hook}");
    }
}

#[instrument_hook(hook_type = "Stop")]
fn explode(message: &'static str) -> u32 {
    panic!("{}", message)
}

#[test]
fn a_panic_is_recorded_as_a_failure_and_resumed_unchanged() {
    let t = capture(|| {
        let payload = std::panic::catch_unwind(|| explode("boom-42")).expect_err("must panic");
        let text = payload
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default();
        assert_eq!(text, "boom-42");
    });
    assert_eq!(success_of(&t, "explode", false), 1);
    assert_eq!(success_of(&t, "explode", true), 0);
    t.event(event::HOOK_RESULT)
        .with("hook_name", "explode")
        .with("success", false)
        .assert_one();
}

#[instrument_hook(hook_type = "Stop")]
fn outer_hook() -> han_telemetry_testing::Telemetry {
    // A body with a capture of its own: what it records goes there, and the outer call still
    // goes to the capture it was called under.
    capture(|| {
        let _ = aliased(true);
    })
}

#[test]
fn a_body_with_its_own_subscriber_records_there_and_the_call_records_outside() {
    let mut inner = None;
    let outer = capture(|| inner = Some(outer_hook()));
    let inner = inner.expect("the body ran");
    assert_eq!(success_of(&inner, "aliased", true), 1);
    assert_eq!(success_of(&inner, "outer_hook", true), 0);
    assert_eq!(success_of(&outer, "outer_hook", true), 1);
    assert_eq!(success_of(&outer, "aliased", true), 0);
    outer
        .event(event::HOOK_RESULT)
        .with("hook_name", "outer_hook")
        .assert_one();
}

struct Verdict {
    clean: bool,
}

#[instrument_hook(hook_type = "PostToolUse", success = |v: &Verdict| v.clean)]
fn judge(clean: bool) -> Verdict {
    Verdict { clean }
}

#[instrument_hook(hook_type = "Notification")]
fn notify() -> String {
    "done".into()
}

#[test]
fn other_returns_succeed_unless_a_success_predicate_says_otherwise() {
    let t = capture(|| {
        assert!(judge(true).clean);
        assert!(!judge(false).clean);
        assert_eq!(notify(), "done");
    });
    assert_eq!(success_of(&t, "judge", true), 1);
    assert_eq!(success_of(&t, "judge", false), 1);
    assert_eq!(success_of(&t, "notify", true), 1);
}

#[instrument_hook(hook_type = "Stop")]
async fn slow(ok: bool) -> Result<u32, String> {
    tokio::task::yield_now().await;
    if ok { Ok(1) } else { Err("failed".into()) }
}

#[instrument_hook(hook_type = "Stop")]
async fn never_finishes() {
    std::future::pending::<()>().await;
}

#[tokio::test(flavor = "current_thread")]
async fn async_calls_count_on_completion_and_a_dropped_future_is_not_a_success() {
    let t = capture_async(async {
        assert_eq!(slow(true).await, Ok(1));
        assert!(slow(false).await.is_err());
        // Polled once, then dropped before completing.
        let mut pending = Box::pin(never_finishes());
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        assert!(pending.as_mut().poll(&mut cx).is_pending());
        drop(pending);
        // Never polled: the call never started.
        drop(never_finishes());
    })
    .await;
    assert_eq!(success_of(&t, "slow", true), 1);
    assert_eq!(success_of(&t, "slow", false), 1);
    assert_eq!(success_of(&t, "never_finishes", true), 0);
    assert_eq!(success_of(&t, "never_finishes", false), 1);
    t.span("hook slow").assert_exactly(2);
}

struct Linter {
    runs: u32,
}

impl Linter {
    #[instrument_hook(hook_type = "PostToolUse")]
    fn by_ref(&self) -> u32 {
        self.runs
    }

    #[instrument_hook(hook_type = "PostToolUse")]
    fn by_mut(&mut self) {
        self.runs += 1;
    }

    #[instrument_hook(hook_type = "PostToolUse")]
    fn by_value(self) -> u32 {
        self.runs
    }

    #[instrument_hook(hook_type = "PostToolUse")]
    async fn by_ref_async(&self) -> u32 {
        self.runs
    }
}

#[instrument_hook(hook_type = "PreToolUse")]
fn generic<'a, T>(a: &'a T, b: &'a T) -> &'a T
where
    T: PartialOrd + ?Sized,
{
    if a >= b { a } else { b }
}

#[instrument_hook(hook_type = "PreToolUse")]
fn evens(limit: u32) -> impl Iterator<Item = u32> {
    (0..limit).filter(|n| n % 2 == 0)
}

trait Hook {
    fn run<'a>(
        &'a self,
        input: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<usize, String>> + Send + 'a>>;
}

struct TraitHook;

impl Hook for TraitHook {
    // The shape `#[async_trait]` expands a method into.
    #[instrument_hook(hook_type = "PostToolUse", hook_name = "trait_hook")]
    fn run<'a>(
        &'a self,
        input: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<usize, String>> + Send + 'a>> {
        Box::pin(async move {
            tokio::task::yield_now().await;
            if input.is_empty() {
                Err("empty".into())
            } else {
                Ok(input.len())
            }
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_supported_shape_records_one_call_per_invocation() {
    let t = capture_async(async {
        let mut l = Linter { runs: 0 };
        l.by_mut();
        assert_eq!(l.by_ref(), 1);
        assert_eq!(l.by_ref_async().await, 1);
        assert_eq!(l.by_value(), 1);
        assert_eq!(generic("a", "b"), "b");
        assert_eq!(evens(5).count(), 3);
        assert_eq!(TraitHook.run("abc").await, Ok(3));
        assert!(TraitHook.run("").await.is_err());
    })
    .await;
    for hook in [
        "by_mut",
        "by_ref",
        "by_ref_async",
        "by_value",
        "generic",
        "evens",
    ] {
        assert_eq!(success_of(&t, hook, true), 1, "{hook}");
    }
    assert_eq!(success_of(&t, "trait_hook", true), 1);
    assert_eq!(success_of(&t, "trait_hook", false), 1);
}

#[instrument_hook(hook_type = event, hook_name = name)]
fn dispatch(event: &str, name: String, secret_input: &str) -> usize {
    secret_input.len()
}

#[test]
fn runtime_values_come_from_named_parameters_and_nothing_else_is_recorded() {
    let t = capture(|| {
        dispatch(
            "UserPromptSubmit",
            "prompt-guard".to_owned(),
            "SECRET-PROMPT-TEXT",
        );
    });
    t.counter(metric::HOOK_EXECUTION)
        .with("hook_name", "prompt-guard")
        .with("hook_type", "UserPromptSubmit")
        .with("success", true)
        .only()
        .assert_value(1);
    let everything = t.to_string();
    assert!(
        !everything.contains("SECRET-PROMPT-TEXT"),
        "an undeclared argument was recorded:\n{everything}"
    );
}

#[instrument_plugin(install, plugin_name = name, scope = scope)]
fn install(name: &str, scope: &str) -> Result<(), String> {
    if name.is_empty() {
        Err("no name".into())
    } else {
        Ok(())
    }
}

#[instrument_plugin(uninstall, plugin_name = name, scope = "user")]
fn uninstall(name: &str) -> Result<(), String> {
    let _ = name;
    Ok(())
}

#[instrument_mcp_tool]
fn search(query: &str) -> Result<Vec<String>, String> {
    if query.is_empty() {
        Err("empty".into())
    } else {
        Ok(vec![query.to_owned()])
    }
}

#[instrument_validation(validation_type = "typecheck")]
fn typecheck(source: &str) -> Result<(), usize> {
    let errors = source.matches("any").count();
    report::error_count(errors as u64);
    if errors == 0 { Ok(()) } else { Err(errors) }
}

#[instrument_validation]
fn unreported(ok: bool) -> Result<(), ()> {
    if ok { Ok(()) } else { Err(()) }
}

#[instrument_task(task_type = "refactor")]
fn refactor(files: &[&str]) -> Result<usize, String> {
    report::confidence(0.73);
    let rust = files.iter().filter(|f| f.ends_with(".rs")).count();
    if rust == 0 {
        return Err("nothing to do".into());
    }
    if rust < files.len() {
        report::outcome(TaskOutcome::Partial);
    }
    Ok(rust)
}

#[test]
fn plugin_mcp_validation_and_task_annotations_record_their_catalogue_entries() {
    let t = capture(|| {
        install("jutsu-markdown", "project").expect("installs");
        assert!(install("", "user").is_err());
        uninstall("jutsu-markdown").expect("uninstalls");
        assert!(search("q").is_ok());
        assert!(search("").is_err());
        assert!(typecheck("x: number").is_ok());
        assert_eq!(typecheck("a: any, b: any"), Err(2));
        assert!(unreported(false).is_err());
        assert_eq!(refactor(&["a.rs", "b.rs"]), Ok(2));
        assert_eq!(refactor(&["a.rs", "notes.md"]), Ok(1));
        assert!(refactor(&["notes.md"]).is_err());
    });
    t.counter(metric::PLUGIN_INSTALL)
        .with("plugin_name", "jutsu-markdown")
        .with("scope", "project")
        .with("success", true)
        .assert_value(1);
    t.counter(metric::PLUGIN_INSTALL)
        .with("success", false)
        .assert_value(1);
    t.counter(metric::PLUGIN_UNINSTALL)
        .with("plugin_name", "jutsu-markdown")
        .only()
        .with("success", true)
        .assert_value(1);
    t.event(event::PLUGIN_EVENT)
        .with("action", "uninstall")
        .with("scope", "user")
        .assert_one();
    t.counter(metric::MCP_TOOL_CALL)
        .with("tool_name", "search")
        .with("success", true)
        .assert_value(1);
    t.counter(metric::MCP_TOOL_CALL)
        .with("tool_name", "search")
        .with("success", false)
        .assert_value(1);
    t.counter(metric::VALIDATION_RUN)
        .with("validation_type", "typecheck")
        .with("passed", false)
        .with("error_count", 2)
        .assert_value(1);
    t.counter(metric::VALIDATION_RUN)
        .with("validation_type", "typecheck")
        .with("passed", true)
        .with("error_count", 0)
        .assert_value(1);
    t.counter(metric::VALIDATION_RUN)
        .with("validation_type", "unreported")
        .with("error_count", 1)
        .assert_value(1);
    t.event(event::VALIDATION_ERROR)
        .at_severity(Severity::Warn)
        .with("error_count", 2)
        .assert_one();
    t.counter(metric::TASK_COMPLETED)
        .with("outcome", "success")
        .with("confidence_bucket", "0.7")
        .assert_value(1);
    t.counter(metric::TASK_COMPLETED)
        .with("outcome", "partial")
        .assert_value(1);
    t.counter(metric::TASK_FAILED)
        .with("task_type", "refactor")
        .with("outcome", "failure")
        .assert_value(1);
    t.event(event::TASK_OUTCOME)
        .with("confidence", 0.73)
        .assert_exactly(3);
}

struct CountingDisplay<'a>(&'a AtomicUsize);

impl std::fmt::Display for CountingDisplay<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fetch_add(1, Ordering::SeqCst);
        f.write_str("counted")
    }
}

#[instrument_hook(hook_type = "Stop", hook_name = name)]
fn named(name: CountingDisplay<'_>) -> u8 {
    let _ = name;
    1
}

#[test]
fn without_a_pipeline_no_attribute_value_is_computed() {
    static FORMATTED: AtomicUsize = AtomicUsize::new(0);
    // A thread whose dispatcher has no pipeline (other tests may be capturing meanwhile, so
    // the process-wide gate may be open): the attribute value is never built.
    std::thread::spawn(|| assert_eq!(named(CountingDisplay(&FORMATTED)), 1))
        .join()
        .expect("thread");
    assert_eq!(FORMATTED.load(Ordering::SeqCst), 0);
    let t = capture(|| {
        assert_eq!(named(CountingDisplay(&FORMATTED)), 1);
    });
    t.counter(metric::HOOK_EXECUTION)
        .with("hook_name", "counted")
        .assert_value(1);
    assert_eq!(FORMATTED.load(Ordering::SeqCst), 1);
}

/// A name whose `Display` is not its inner string: it is shown, never read as a string.
struct Prefixed(String);

impl std::fmt::Display for Prefixed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "plugin/{}", self.0)
    }
}

#[instrument_hook(hook_type = "Stop", hook_name = name)]
fn by_str(name: &str) -> u8 {
    let _ = name;
    1
}

#[instrument_hook(hook_type = kind, hook_name = name)]
fn by_owned(name: String, kind: std::borrow::Cow<'static, str>) -> u8 {
    let _ = (name, kind);
    1
}

#[instrument_hook(hook_type = "Stop", hook_name = name)]
fn by_shared(name: std::sync::Arc<str>) -> u8 {
    let _ = name;
    1
}

#[instrument_hook(hook_type = "Stop", hook_name = name)]
fn by_boxed(name: Box<str>) -> u8 {
    let _ = name;
    1
}

#[instrument_hook(hook_type = "Stop", hook_name = name)]
fn by_number(name: u32) -> u8 {
    let _ = name;
    1
}

#[instrument_hook(hook_type = "Stop", hook_name = name)]
fn by_display(name: Prefixed) -> u8 {
    let _ = name;
    1
}

#[instrument_hook(hook_type = "Stop", hook_name = name)]
async fn by_str_async(name: &str) -> u8 {
    let _ = name;
    1
}

#[test]
fn a_name_of_any_string_type_or_display_records_as_its_text() {
    let t = capture(|| {
        for _ in 0..2 {
            by_str("lint");
            by_owned("format".to_owned(), "PreToolUse".into());
            by_shared("audit".into());
            by_boxed(Box::from("scan"));
            by_number(42);
            by_display(Prefixed("guard".to_owned()));
            futures_executor::block_on(by_str_async("async-lint"));
        }
    });
    for (name, kind) in [
        ("lint", "Stop"),
        ("format", "PreToolUse"),
        ("audit", "Stop"),
        ("scan", "Stop"),
        ("42", "Stop"),
        ("plugin/guard", "Stop"),
        ("async-lint", "Stop"),
    ] {
        t.counter(metric::HOOK_EXECUTION)
            .with("hook_name", name)
            .with("hook_type", kind)
            .assert_value(2);
        t.event(event::HOOK_RESULT)
            .with("hook_name", name)
            .assert_exactly(2);
    }
}

#[test]
fn an_async_hook_polled_by_a_futures_executor_records_its_span_and_event() {
    // The SDK's simple processors export with `futures_executor::block_on`, which panics
    // inside another `futures` executor (and again in the unfinished call's drop: an abort);
    // a capture's processors export in the call without one.
    let t = capture(|| {
        assert_eq!(futures_executor::block_on(by_str_async("in-executor")), 1);
    });
    t.span("hook in-executor").assert_one();
    t.event(event::HOOK_RESULT)
        .with("hook_name", "in-executor")
        .assert_one();
    t.counter(metric::HOOK_EXECUTION)
        .with("hook_name", "in-executor")
        .assert_value(1);
}
