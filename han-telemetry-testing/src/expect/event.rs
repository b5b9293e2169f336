//! The event selector: events of one name, by severity, attributes, body or enclosing span.

use han_telemetry::catalogue::attr;
use opentelemetry::logs::Severity;
use opentelemetry::trace::SpanId;

use crate::attributes::AttrValue;
use crate::names::EventName;
use crate::snapshot::{Event, Telemetry};

use super::fail;
use super::filter::{AttrFilter, attribute_filters};

/// Events of one name, narrowed by severity, attributes, body or enclosing span. From
/// [`Telemetry::event`].
///
/// A failed assertion says what was expected and how many matched, then lists everything
/// the capture emitted:
///
/// ```rust,should_panic
/// use han_telemetry::{catalogue::event, record};
/// use han_telemetry_testing::{Severity, capture};
///
/// let t = capture(|| record::plugin_install("jutsu-markdown", "project", false));
/// t.event(event::PLUGIN_EVENT)
///     .at_severity(Severity::Info)
///     .with("plugin_name", "jutsu-markdown")
///     .with("success", true)
///     .assert_one();
/// ```
///
/// ```text
/// expected exactly 1 event han.plugin_event at INFO where plugin_name="jutsu-markdown", success=true, but found 0
///
/// Everything emitted in this capture:
///   metrics:
///     han.plugin.install (counter, {install})
///       {plugin_name="jutsu-markdown", scope="project", success=false} = 1
///   events:
///     han.plugin_event INFO {action="install", plugin_name="jutsu-markdown", scope="project", success=false}
///   spans:
///     (none)
///   resource: {service.name="han"}
/// ```
#[derive(Debug, Clone)]
#[must_use = "a query asserts nothing until an assert_* method is called"]
pub struct EventQuery<'t> {
    pub(super) t: &'t Telemetry,
    pub(super) name: EventName,
    pub(super) severity: Option<Severity>,
    pub(super) body: Option<AttrValue>,
    pub(super) in_span: Option<String>,
    pub(super) filter: AttrFilter,
}

attribute_filters!(EventQuery);

impl<'t> EventQuery<'t> {
    /// Only events of this severity. A catalogue entry's is `event::X.severity.number()`.
    pub fn at_severity(mut self, severity: Severity) -> Self {
        self.severity = Some(severity);
        self
    }

    /// Only events with this body.
    pub fn with_body(mut self, body: impl Into<AttrValue>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// Only events emitted while a span of this name was current.
    pub fn in_span(mut self, span_name: impl Into<String>) -> Self {
        self.in_span = Some(span_name.into());
        self
    }

    fn subject(&self, n: Option<usize>) -> String {
        let noun = match n {
            Some(1) => "event",
            _ => "events",
        };
        let mut s = format!("{noun} {}", self.name);
        if let Some(sev) = self.severity {
            s.push_str(&format!(" at {}", sev.name()));
        }
        if let Some(span) = &self.in_span {
            s.push_str(&format!(" inside span {span:?}"));
        }
        s.push_str(&self.filter.describe());
        if let Some(body) = &self.body {
            s.push_str(&format!(" with body {body}"));
        }
        s
    }

    /// The matching events with their index in the snapshot. Reads only.
    fn matched(&self) -> Vec<(usize, &'t Event)> {
        let spans: Option<Vec<SpanId>> = self.in_span.as_ref().map(|name| {
            self.t
                .spans
                .iter()
                .filter(|s| s.name == *name)
                .map(|s| s.span_id)
                .collect()
        });
        self.t
            .events
            .iter()
            .enumerate()
            .filter(|(_, e)| {
                e.name == self.name.as_str()
                    && self.severity.is_none_or(|s| e.severity == Some(s))
                    && self
                        .body
                        .as_ref()
                        .is_none_or(|b| e.body.as_ref().is_some_and(|a| b.matches(a)))
                    && spans
                        .as_ref()
                        .is_none_or(|ids| e.span_id.is_some_and(|id| ids.contains(&id)))
                    && self.filter.matches(&e.attributes, &[attr::EVENT_NAME])
            })
            .collect()
    }

    /// Notes the matching events as checked: only a passing assertion calls this.
    fn checked(&self, matched: &[(usize, &Event)]) {
        self.t.check_events(matched.iter().map(|(i, _)| *i));
    }

    /// The events that match, in the order emitted. Reading them checks nothing: only an
    /// `assert_*` call counts for [`Telemetry::assert_only_asserted`].
    pub fn matching(&self) -> Vec<&'t Event> {
        self.matched().into_iter().map(|(_, e)| e).collect()
    }

    /// How many events match. Reading it checks nothing.
    pub fn count(&self) -> usize {
        self.matched().len()
    }

    /// Asserts that exactly `n` events match.
    #[track_caller]
    pub fn assert_exactly(&self, n: usize) {
        let matched = self.matched();
        let found = matched.len();
        if found != n {
            fail(
                self.t,
                &format!(
                    "expected exactly {} {}, but found {found}",
                    n,
                    self.subject(Some(n))
                ),
            );
        }
        self.checked(&matched);
    }

    /// Asserts that at least `n` events match.
    #[track_caller]
    pub fn assert_at_least(&self, n: usize) {
        let matched = self.matched();
        let found = matched.len();
        if found < n {
            fail(
                self.t,
                &format!(
                    "expected at least {} {}, but found {found}",
                    n,
                    self.subject(Some(n))
                ),
            );
        }
        self.checked(&matched);
    }

    /// Asserts that no event matches.
    #[track_caller]
    pub fn assert_absent(&self) {
        self.assert_exactly(0);
    }

    /// Asserts that exactly one event matches, and returns it for further checks.
    #[track_caller]
    pub fn assert_one(&self) -> &'t Event {
        let matched = self.matched();
        match matched.as_slice() {
            [(_, one)] => {
                self.checked(&matched);
                one
            }
            others => fail(
                self.t,
                &format!(
                    "expected exactly 1 {}, but found {}",
                    self.subject(Some(1)),
                    others.len()
                ),
            ),
        }
    }
}
