//! The span selector: spans of one name, their count, status and place in the trace.

use opentelemetry::trace::{SpanId, TraceId};

use crate::render;
use crate::snapshot::{Span, SpanStatus, Telemetry};

use super::filter::{AttrFilter, attribute_filters};
use super::{fail, plural};

/// Spans of one name, narrowed by attributes. From [`Telemetry::span`]. Relationship and
/// status assertions require at least one matching span and check every one of them.
///
/// A failed assertion names the spans that do not hold, then lists everything the capture
/// emitted, spans as a tree with their ids:
///
/// ```rust,should_panic
/// use han_telemetry_testing::Capture;
///
/// const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
/// let ((), t) = Capture::new().traceparent(TRACEPARENT).run(|| {
///     let hook = tracing::info_span!("hook lint");
///     han_telemetry::adopt_remote_parent(&hook);
///     hook.in_scope(|| tracing::info_span!("step").in_scope(|| {}));
/// });
/// t.span("step").assert_child_of("hook lint");
/// t.span("hook lint").assert_root();
/// ```
///
/// ```text
/// expected the span "hook lint" to be a root span, but 1 span does not: "hook lint" {} [span 560140bccb9e9183, trace 4bf92f3577b34da6a3ce929d0e0e4736, remote parent 00f067aa0ba902b7]
///
/// Everything emitted in this capture:
///   metrics:
///     (none)
///   events:
///     (none)
///   spans:
///     "hook lint" {} [span 560140bccb9e9183, trace 4bf92f3577b34da6a3ce929d0e0e4736, remote parent 00f067aa0ba902b7]
///       "step" {} [span 71a1679b9c113df5, trace 4bf92f3577b34da6a3ce929d0e0e4736, parent 560140bccb9e9183]
///   resource: {service.name="han"}
/// ```
#[derive(Debug, Clone)]
#[must_use = "a query asserts nothing until an assert_* method is called"]
pub struct SpanQuery<'t> {
    pub(super) t: &'t Telemetry,
    pub(super) name: String,
    pub(super) filter: AttrFilter,
}

attribute_filters!(SpanQuery);

impl<'t> SpanQuery<'t> {
    /// `span "hook lint" where ...`, or `spans ...` when `n` is not 1.
    fn subject(&self, n: usize) -> String {
        let noun = if n == 1 { "span" } else { "spans" };
        format!("{noun} {:?}{}", self.name, self.filter.describe())
    }

    /// The spans that match, in the order they ended. Reading them checks nothing.
    pub fn matching(&self) -> Vec<&'t Span> {
        self.t
            .spans
            .iter()
            .filter(|s| s.name == self.name && self.filter.matches(&s.attributes, &[]))
            .collect()
    }

    /// Asserts that exactly `n` spans match.
    #[track_caller]
    pub fn assert_exactly(&self, n: usize) {
        let found = self.matching().len();
        if found != n {
            fail(
                self.t,
                &format!(
                    "expected exactly {n} {}, but found {found}",
                    self.subject(n)
                ),
            );
        }
    }

    /// Asserts that no span matches.
    #[track_caller]
    pub fn assert_absent(&self) {
        self.assert_exactly(0);
    }

    /// Asserts that exactly one span matches, and returns it for further checks.
    #[track_caller]
    pub fn assert_one(&self) -> &'t Span {
        match self.matching().as_slice() {
            [one] => one,
            others => fail(
                self.t,
                &format!(
                    "expected exactly 1 {}, but found {}",
                    self.subject(1),
                    others.len()
                ),
            ),
        }
    }

    /// Fails unless at least one span matches and `ok` holds for each; `expected` completes
    /// "expected the span ... to ...".
    #[track_caller]
    fn check_each(&self, expected: &str, ok: impl Fn(&Span) -> bool) {
        let spans = self.matching();
        if spans.is_empty() {
            fail(
                self.t,
                &format!(
                    "expected the {} to {expected}, but no such span ended in the capture",
                    self.subject(1)
                ),
            );
        }
        let wrong: Vec<String> = spans
            .iter()
            .filter(|s| !ok(s))
            .map(|s| render::span(s))
            .collect();
        if !wrong.is_empty() {
            fail(
                self.t,
                &format!(
                    "expected the {} to {expected}, but {} not: {}",
                    self.subject(1),
                    plural(wrong.len(), "span does", "spans do"),
                    wrong.join("; ")
                ),
            );
        }
    }

    /// Asserts that the span joined the trace of a W3C `TRACEPARENT`
    /// (`00-<trace id>-<parent id>-<flags>`): same trace id, that parent, and the parent
    /// marked remote.
    #[track_caller]
    pub fn assert_child_of_traceparent(&self, traceparent: &str) {
        let Some((trace, parent)) = parse_traceparent(traceparent) else {
            fail(
                self.t,
                &format!(
                    "assert_child_of_traceparent was given {traceparent:?}, which is not a W3C \
                     traceparent (00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>)"
                ),
            );
        };
        self.check_each(
            &format!("be a child of remote parent {parent} in trace {trace}"),
            |s| s.trace_id == trace && s.parent_span_id == Some(parent) && s.parent_is_remote,
        );
    }

    /// Asserts that the span's parent is a span named `parent` from the same capture.
    #[track_caller]
    pub fn assert_child_of(&self, parent: &str) {
        let parents: Vec<(SpanId, TraceId)> = self
            .t
            .spans
            .iter()
            .filter(|s| s.name == parent)
            .map(|s| (s.span_id, s.trace_id))
            .collect();
        self.check_each(&format!("be a child of span {parent:?}"), |s| {
            parents.iter().any(|(id, trace)| {
                s.parent_span_id == Some(*id) && s.trace_id == *trace && !s.parent_is_remote
            })
        });
    }

    /// Asserts the parent span id (16 hex digits).
    #[track_caller]
    pub fn assert_parent_span_id(&self, parent: &str) {
        let expected = SpanId::from_hex(parent).ok();
        self.check_each(&format!("have parent span id {parent}"), |s| {
            expected.is_some() && s.parent_span_id == expected
        });
    }

    /// Asserts the trace id (32 hex digits).
    #[track_caller]
    pub fn assert_in_trace(&self, trace_id: &str) {
        let expected = TraceId::from_hex(trace_id).ok();
        self.check_each(&format!("be in trace {trace_id}"), |s| {
            Some(s.trace_id) == expected
        });
    }

    /// Asserts that the span has no parent at all.
    #[track_caller]
    pub fn assert_root(&self) {
        self.check_each("be a root span", |s| s.parent_span_id.is_none());
    }

    /// Asserts the span status exactly.
    #[track_caller]
    pub fn assert_status(&self, status: SpanStatus) {
        self.check_each(&format!("have status {status:?}"), |s| s.status == status);
    }

    /// Asserts that the span's status is an error, whatever its description.
    #[track_caller]
    pub fn assert_error(&self) {
        self.check_each("have an error status", |s| {
            matches!(s.status, SpanStatus::Error { .. })
        });
    }
}

/// `(trace id, parent span id)` of a valid W3C traceparent.
fn parse_traceparent(traceparent: &str) -> Option<(TraceId, SpanId)> {
    let mut parts = traceparent.trim().split('-');
    let (version, trace, parent, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit());
    if !(hex(version, 2) && hex(trace, 32) && hex(parent, 16) && hex(flags, 2)) {
        return None;
    }
    let trace = TraceId::from_hex(trace)
        .ok()
        .filter(|t| *t != TraceId::INVALID)?;
    let parent = SpanId::from_hex(parent)
        .ok()
        .filter(|p| *p != SpanId::INVALID)?;
    Some((trace, parent))
}
