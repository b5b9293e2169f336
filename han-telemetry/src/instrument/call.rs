//! One instrumented call: what `#[instrument_hook]` and its family expand into.
//!
//! A [`Call`] is started before the body runs and finished with the outcome after it. If it
//! is dropped unfinished (the body panicked, or an async call was dropped before it
//! completed) it records a failure from `Drop`, so such a call is never counted as a
//! success and a panic continues unchanged. With telemetry off, starting a call is one
//! atomic load: no clock is read and no attribute value is computed.

use std::cell::{Cell, RefCell};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};

use opentelemetry::StringValue;

use crate::instrument::record::{self, TaskOutcome};
use crate::instrument::site::{NamedSite, Site, Text};
use crate::pipeline::{Pipeline, is_open, with_current};
use crate::store::Moment;

/// What is being called, with the attribute values the annotation names.
#[derive(Debug)]
pub enum Kind {
    /// A hook: `han.hook.execution`, `han.hook.duration_ms`, `han.hook_result`.
    Hook {
        /// `hook_name`.
        hook_name: StringValue,
        /// `hook_type`.
        hook_type: StringValue,
    },
    /// A plugin installation or removal.
    Plugin {
        /// `true` for install, `false` for uninstall.
        install: bool,
        /// `plugin_name`.
        plugin_name: StringValue,
        /// `scope`.
        scope: StringValue,
    },
    /// An MCP tool handler: `han.mcp.tool_call`.
    McpTool {
        /// `tool_name`.
        tool_name: StringValue,
    },
    /// A validation: `han.validation.run` (+ `han.validation_error` when it fails).
    Validation {
        /// `validation_type`.
        validation_type: StringValue,
    },
    /// A task: `han.task.completed`/`failed` and `han.task_outcome`.
    Task {
        /// `task_type`.
        task_type: StringValue,
    },
}

impl Kind {
    fn span_name(&self) -> String {
        match self {
            Kind::Hook { hook_name, .. } => format!("hook {}", hook_name.as_str()),
            Kind::Plugin { install: true, .. } => "plugin install".to_owned(),
            Kind::Plugin { install: false, .. } => "plugin uninstall".to_owned(),
            Kind::McpTool { tool_name } => format!("mcp tool {}", tool_name.as_str()),
            Kind::Validation { validation_type } => {
                format!("validation {}", validation_type.as_str())
            }
            Kind::Task { task_type } => format!("task {}", task_type.as_str()),
        }
    }

    fn takes_reports(&self) -> bool {
        matches!(self, Kind::Validation { .. } | Kind::Task { .. })
    }
}

/// Values the body reports through [`crate::instrument::report`] while the call runs.
#[derive(Debug)]
struct Reports {
    /// `f64` bits; NaN until reported.
    confidence: AtomicU64,
    /// `u64::MAX` until reported.
    error_count: AtomicU64,
    /// 0 until reported, then 1 + the `TaskOutcome` index.
    outcome: AtomicU8,
}

impl Default for Reports {
    fn default() -> Self {
        Reports {
            confidence: AtomicU64::new(f64::NAN.to_bits()),
            error_count: AtomicU64::new(u64::MAX),
            outcome: AtomicU8::new(0),
        }
    }
}

thread_local! {
    /// The calls whose bodies are running on this thread, innermost last.
    static CURRENT: RefCell<Vec<Arc<Reports>>> = const { RefCell::new(Vec::new()) };
}

fn with_innermost(f: impl FnOnce(&Reports)) {
    // `try_with`: reporting during thread teardown is silently dropped, never a panic.
    let _ = CURRENT.try_with(|stack| {
        if let Some(r) = stack.borrow().last() {
            f(r);
        }
    });
}

pub(crate) fn report_confidence(value: f64) {
    with_innermost(|r| r.confidence.store(value.to_bits(), Ordering::Relaxed));
}

pub(crate) fn report_error_count(count: u64) {
    with_innermost(|r| {
        r.error_count
            .store(count.min(u64::MAX - 1), Ordering::Relaxed)
    });
}

pub(crate) fn report_outcome(outcome: TaskOutcome) {
    let code = match outcome {
        TaskOutcome::Success => 1,
        TaskOutcome::Partial => 2,
        TaskOutcome::Failure => 3,
    };
    with_innermost(|r| r.outcome.store(code, Ordering::Relaxed));
}

#[derive(Debug)]
struct Live {
    /// Found once at the start, so finishing needs no second dispatcher lookup.
    pipeline: Arc<Pipeline>,
    /// The call site's cache of bound instruments, for hooks.
    site: Option<SiteRef>,
    kind: Kind,
    start: Instant,
    span: tracing::Span,
    reports: Option<Arc<Reports>>,
}

/// A hook's call-site cache.
#[derive(Debug, Clone, Copy)]
enum SiteRef {
    /// Named and typed by literals.
    Literal(&'static Site),
    /// Named or typed by a parameter.
    Named(&'static NamedSite),
}

/// An instrumented call in progress. See the module docs.
#[derive(Debug)]
#[must_use = "a call records when finished or dropped"]
pub struct Call {
    /// Boxed so that the off path moves one pointer, not a span and two strings.
    live: Option<Box<Live>>,
}

impl Call {
    /// Starts a call. `kind` is evaluated only when telemetry is on.
    #[inline]
    pub fn start(kind: impl FnOnce() -> Kind) -> Call {
        if !is_open() {
            return Call { live: None };
        }
        Call::start_live(None, kind)
    }

    /// [`Call::start`] for a hook whose attribute values are literals, which its call site's
    /// cache of bound instruments holds.
    #[inline]
    pub fn start_at(site: &'static Site) -> Call {
        if !is_open() {
            return Call { live: None };
        }
        Call::start_live(Some(SiteRef::Literal(site)), || Kind::Hook {
            hook_name: StringValue::from(site.hook_name()),
            hook_type: StringValue::from(site.hook_type()),
        })
    }

    /// [`Call::start`] for a hook named or typed by a parameter, with its call site's cache
    /// of bound instruments per name. `hook_name` and `hook_type` are the values `kind`
    /// formats: a name the site already knows is not formatted into a new string.
    #[inline]
    pub fn start_named(
        site: &'static NamedSite,
        hook_name: Text<'_>,
        hook_type: Text<'_>,
        kind: impl FnOnce() -> Kind,
    ) -> Call {
        if !is_open() {
            return Call { live: None };
        }
        Call::start_named_live(site, hook_name, hook_type, kind)
    }

    #[cold]
    fn start_named_live(
        site: &'static NamedSite,
        hook_name: Text<'_>,
        hook_type: Text<'_>,
        kind: impl FnOnce() -> Kind,
    ) -> Call {
        match named_start(site, hook_name, hook_type, kind) {
            NamedStart::Known(known) => {
                Call::start_live(Some(SiteRef::Literal(known)), || Kind::Hook {
                    hook_name: StringValue::from(known.hook_name()),
                    hook_type: StringValue::from(known.hook_type()),
                })
            }
            NamedStart::Other(call) => call,
            NamedStart::Off => Call { live: None },
        }
    }

    #[cold]
    fn start_live(site: Option<SiteRef>, kind: impl FnOnce() -> Kind) -> Call {
        Call::start_live_at(|| (kind(), site))
    }

    /// Starts a live call; `kind` gives the attribute values and the call site, once the
    /// current dispatcher is known to have a pipeline.
    fn start_live_at(kind: impl FnOnce() -> (Kind, Option<SiteRef>)) -> Call {
        Call {
            live: live_at(kind).map(Box::new),
        }
    }

    /// Whether telemetry was off when the call started: nothing to record.
    #[inline(always)]
    pub fn is_off(&self) -> bool {
        self.live.is_none()
    }

    /// Enters the call for a synchronous body: its span becomes current and
    /// [`crate::instrument::report`] calls reach it, until the returned guard is dropped.
    #[inline]
    pub fn enter(&self) -> Entered<'_> {
        match &self.live {
            None => Entered {
                _span: None,
                pushed: false,
            },
            Some(live) => enter_live(live),
        }
    }

    /// Wraps the future of an async body: the span is entered and reports reach this call
    /// only while the future is being polled, never across an `.await` of the caller.
    pub fn instrument<F: std::future::Future>(&self, future: F) -> InCall<F> {
        let (span, reports) = match &self.live {
            Some(live) => (live.span.clone(), live.reports.clone()),
            None => (tracing::Span::none(), None),
        };
        InCall {
            future,
            span,
            reports,
        }
    }

    /// Runs a synchronous `body` inside this call (entered), then finishes it with the
    /// outcome `success` gives.
    pub(crate) fn run<R>(self, body: impl FnOnce() -> R, success: impl FnOnce(&R) -> bool) -> R {
        let ret = {
            let _entered = self.enter();
            body()
        };
        let ok = success(&ret);
        self.finish(ok);
        ret
    }

    /// Records the call with its outcome.
    #[inline]
    pub fn finish(mut self, success: bool) {
        if let Some(live) = self.live.take() {
            record_call(*live, success);
        }
    }
}

/// The state of a live call, once the current dispatcher is known to have a pipeline; `kind`
/// gives the attribute values and the call site.
fn live_at(kind: impl FnOnce() -> (Kind, Option<SiteRef>)) -> Option<Live> {
    // Another thread's pipeline may hold the gate open: look for ours before building any
    // attribute value.
    let mut found = None;
    with_current(|p| found = Some(Arc::clone(p)));
    let pipeline = found?;
    let spans = pipeline.spans;
    let (kind, site) = kind();
    let span = if spans {
        call_span(&pipeline, kind.span_name())
    } else {
        tracing::Span::none()
    };
    let reports = kind.takes_reports().then(Arc::default);
    Some(Live {
        pipeline,
        site,
        kind,
        start: Instant::now(),
        span,
        reports,
    })
}

/// A synchronous call of a hook named by literals, run by the out-of-line function the
/// annotation calls when telemetry is on: its state stays on that function's stack (no
/// allocation, unlike a [`Call`], which an `async` body carries across `.await`s) and is
/// never moved; the names are the site's.
pub(crate) fn run_at<R>(
    site: &'static Site,
    body: impl FnOnce() -> R,
    success: impl FnOnce(&R) -> bool,
) -> R {
    // The pipeline is looked up again to record, not held: a count on it would be one more
    // cache line that every thread calling a hook writes twice per call.
    let mut found = None;
    with_current(|p| found = Some(p.spans.then(|| Arc::clone(p))));
    let Some(spans) = found else {
        return body();
    };
    let span = match spans {
        Some(pipeline) => call_span(&pipeline, format!("hook {}", site.hook_name())),
        None => tracing::Span::none(),
    };
    let mut run = HookRun {
        site,
        start: Instant::now(),
        span,
        done: false,
    };
    let ret = {
        let _entered = (!run.span.is_none()).then(|| run.span.enter());
        body()
    };
    let ok = success(&ret);
    run.done = true;
    run.record(ok);
    ret
}

/// The span of an instrumented call named `otel_name`, a child of the current span or else
/// of the pipeline's remote parent.
#[cold]
fn call_span(pipeline: &Pipeline, otel_name: String) -> tracing::Span {
    let span = tracing::info_span!(
        target: "han_telemetry::call",
        "han_telemetry::call",
        otel.name = otel_name,
        otel.status_code = tracing::field::Empty,
    );
    crate::instrument::trace::adopt_remote_parent_in(pipeline, &span);
    span
}

/// The state of a [`run_at`] call. Dropped before it is done (the body or its outcome
/// panicked), it records a failure.
struct HookRun {
    site: &'static Site,
    start: Instant,
    span: tracing::Span,
    done: bool,
}

/// The end of a call started at `start`: its duration and wall-clock time, with its span
/// (if any) marked by the outcome and entered while the call records.
fn ended(
    start: Instant,
    span: &tracing::Span,
    success: bool,
) -> (Duration, Moment, Option<tracing::span::Entered<'_>>) {
    let end = Instant::now();
    let spanned = !span.is_none();
    if spanned && !success {
        span.record("otel.status_code", "ERROR");
    }
    let entered = spanned.then(|| span.enter());
    (
        end.saturating_duration_since(start),
        wall_time(end),
        entered,
    )
}

impl HookRun {
    fn record(&self, success: bool) {
        let (duration, at, _entered) = ended(self.start, &self.span, success);
        // The current dispatcher's pipeline, as at the start: the body's own subscriber
        // scopes have ended by now.
        with_current(|p| record::hook_run_at(p, self.site, success, duration, at));
    }
}

impl Drop for HookRun {
    fn drop(&mut self) {
        if !self.done {
            self.record(false);
        }
    }
}

/// How a call of a hook named or typed by a parameter starts: see [`NamedStart::new`].
#[derive(Debug)]
pub enum NamedStart {
    /// Telemetry is off: the body alone.
    Off,
    /// A (name, type) its site already knows, with the names as `&'static str`: the call runs
    /// as a hook named by literals, its state on the stack.
    Known(&'static Site),
    /// Any other: the call with its names formatted into strings.
    Other(Call),
}

impl NamedStart {
    /// Starts a synchronous call of a hook named or typed by a parameter: `hook_name` and
    /// `hook_type` are the values `kind` formats, looked up among the names `site` knows
    /// before the body takes the parameters.
    #[inline]
    pub fn new(
        site: &'static NamedSite,
        hook_name: Text<'_>,
        hook_type: Text<'_>,
        kind: impl FnOnce() -> Kind,
    ) -> NamedStart {
        if !is_open() {
            return NamedStart::Off;
        }
        named_start(site, hook_name, hook_type, kind)
    }

    /// Whether telemetry was off when the call started: nothing to record.
    #[inline(always)]
    pub fn is_off(&self) -> bool {
        match self {
            NamedStart::Off => true,
            NamedStart::Other(call) => call.is_off(),
            NamedStart::Known(_) => false,
        }
    }

    /// Runs `body` as this call, finished with the outcome `success` gives.
    pub(crate) fn run<R>(self, body: impl FnOnce() -> R, success: impl FnOnce(&R) -> bool) -> R {
        match self {
            NamedStart::Off => body(),
            NamedStart::Known(site) => run_at(site, body, success),
            NamedStart::Other(call) => call.run(body, success),
        }
    }
}

/// A pair of strings the site knows records as literals at once (`run_at` looks the pipeline
/// up, and a thread without one runs the body alone); anything else goes the slow way.
#[inline]
fn named_start(
    site: &'static NamedSite,
    hook_name: Text<'_>,
    hook_type: Text<'_>,
    kind: impl FnOnce() -> Kind,
) -> NamedStart {
    if let (Text::Str(name), Text::Str(kind_value)) = (hook_name, hook_type)
        && let Some(known) = site.known(name, kind_value)
    {
        return NamedStart::Known(known);
    }
    named_start_slow(site, hook_name, hook_type, kind)
}

/// Each value is formatted once, into the stack, and only under a pipeline; a known pair
/// records as literals.
#[cold]
fn named_start_slow(
    site: &'static NamedSite,
    hook_name: Text<'_>,
    hook_type: Text<'_>,
    kind: impl FnOnce() -> Kind,
) -> NamedStart {
    // Another thread's pipeline may hold the gate open: look for ours before formatting.
    let mut found = false;
    with_current(|_| found = true);
    if !found {
        return NamedStart::Off;
    }
    let (mut a, mut b) = ([0u8; 128], [0u8; 128]);
    let kind = match (hook_name.read(&mut a), hook_type.read(&mut b)) {
        (Some(name), Some(kind_value)) => match site.known(name, kind_value) {
            Some(known) => return NamedStart::Known(known),
            None => Kind::Hook {
                hook_name: StringValue::from(name.to_owned()),
                hook_type: StringValue::from(kind_value.to_owned()),
            },
        },
        _ => kind(),
    };
    NamedStart::Other(Call::start_live_at(|| (kind, Some(SiteRef::Named(site)))))
}

#[cold]
fn enter_live(live: &Live) -> Entered<'_> {
    let pushed = push(live.reports.as_ref());
    Entered {
        // Spans off: nothing to enter.
        _span: (!live.span.is_none()).then(|| live.span.enter()),
        pushed,
    }
}

impl Drop for Call {
    #[inline]
    fn drop(&mut self) {
        // Unfinished: the body panicked, or an async call was dropped before completing.
        if let Some(live) = self.live.take() {
            record_call(*live, false);
        }
    }
}

fn push(reports: Option<&Arc<Reports>>) -> bool {
    let Some(r) = reports else { return false };
    CURRENT
        .try_with(|stack| stack.borrow_mut().push(Arc::clone(r)))
        .is_ok()
}

fn pop() {
    let _ = CURRENT.try_with(|stack| stack.borrow_mut().pop());
}

/// Guard of [`Call::enter`].
#[derive(Debug)]
pub struct Entered<'a> {
    _span: Option<tracing::span::Entered<'a>>,
    pushed: bool,
}

impl Drop for Entered<'_> {
    #[inline]
    fn drop(&mut self) {
        if self.pushed {
            pop();
        }
    }
}

pin_project_lite::pin_project! {
    /// Future of [`Call::instrument`].
    #[derive(Debug)]
    pub struct InCall<F> {
        #[pin]
        future: F,
        span: tracing::Span,
        reports: Option<Arc<Reports>>,
    }
}

impl<F: std::future::Future> std::future::Future for InCall<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _span = this.span.enter();
        let pushed = push(this.reports.as_ref());
        let poll = this.future.poll(cx);
        if pushed {
            pop();
        }
        poll
    }
}

thread_local! {
    /// A monotonic and a wall-clock reading taken together, renewed every [`RENEW`].
    static BASE: Cell<Option<(Instant, Moment)>> = const { Cell::new(None) };
}

/// How long a thread's [`BASE`] is used: a step of the system clock shows within this.
const RENEW: Duration = Duration::from_secs(1);

/// The wall-clock time of `at`, without reading the wall clock on most calls: the end of a
/// call is read once, for its duration, and its event's and store record's time follow
/// from it, as time since the epoch (the store's form: no epoch to subtract per record).
fn wall_time(at: Instant) -> Moment {
    let now = || Moment::of(SystemTime::now());
    BASE.try_with(|base| match base.get() {
        Some((i, wall)) => match at.checked_duration_since(i) {
            Some(since) if since < RENEW => Moment::since_epoch(wall.since().saturating_add(since)),
            _ => {
                let wall = now();
                base.set(Some((at, wall)));
                wall
            }
        },
        None => {
            let wall = now();
            base.set(Some((at, wall)));
            wall
        }
    })
    .unwrap_or_else(|_| now())
}

#[cold]
fn record_call(live: Live, success: bool) {
    let p = &*live.pipeline;
    let (duration, at, _entered) = ended(live.start, &live.span, success);
    match live.kind {
        Kind::Hook {
            hook_name,
            hook_type,
        } => {
            let site = match live.site {
                Some(SiteRef::Literal(site)) => Some(site),
                Some(SiteRef::Named(named)) => named.site(hook_name.as_str(), hook_type.as_str()),
                None => None,
            };
            match site {
                Some(site) => record::hook_run_at(p, site, success, duration, at),
                None => record::hook_run_in(p, hook_name, hook_type, success, duration, at),
            }
        }
        Kind::Plugin {
            install: true,
            plugin_name,
            scope,
        } => record::plugin_install_in(p, plugin_name, scope, success),
        Kind::Plugin {
            install: false,
            plugin_name,
            scope,
        } => record::plugin_uninstall_in(p, plugin_name, scope, success),
        Kind::McpTool { tool_name } => record::mcp_tool_call_in(p, tool_name, success),
        Kind::Validation { validation_type } => {
            let reported = live
                .reports
                .as_ref()
                .map(|r| r.error_count.load(Ordering::Relaxed));
            let errors = match reported {
                Some(n) if n != u64::MAX => n,
                _ => u64::from(!success),
            };
            record::validation_in(p, validation_type, success, errors);
        }
        Kind::Task { task_type } => {
            let (confidence, reported) = live.reports.as_ref().map_or((f64::NAN, 0), |r| {
                (
                    f64::from_bits(r.confidence.load(Ordering::Relaxed)),
                    r.outcome.load(Ordering::Relaxed),
                )
            });
            let outcome = match (success, reported) {
                (false, _) => TaskOutcome::Failure,
                (true, 2) => TaskOutcome::Partial,
                (true, 3) => TaskOutcome::Failure,
                (true, _) => TaskOutcome::Success,
            };
            record::task_in(p, task_type, outcome, confidence);
        }
    }
}
