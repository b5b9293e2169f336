//! Assertions that read like the sentence the test means:
//! `telemetry.counter(..).with(..).assert_value(1)`.
//!
//! A query names what to look at (a metric, events or spans), narrows it with attribute
//! filters, and ends in an `assert_*` call. Attribute filters match a *subset* by default:
//! `.with("hook_name", "lint")` matches points that have that attribute, whatever else they
//! carry; `.only()` requires the filters to name every attribute. A failed assertion panics
//! with what was expected, then everything the capture emitted.

use std::collections::BTreeSet;

use han_telemetry::catalogue::attr;
use opentelemetry::logs::Severity;
use opentelemetry::trace::{SpanId, TraceId};

use crate::attributes::{AttrValue, Attributes};
use crate::names::{EventName, MetricName};
use crate::render;
use crate::snapshot::{
    DataPoint, Event, HistogramValue, Metric, MetricKind, PointValue, Span, SpanStatus, Telemetry,
};

#[track_caller]
fn fail(telemetry: &Telemetry, expectation: &str) -> ! {
    panic!("{}", render::failure(telemetry, expectation))
}

/// Attribute conditions shared by every query.
#[derive(Debug, Clone, Default)]
struct AttrFilter {
    wanted: Vec<(String, AttrValue)>,
    absent: Vec<String>,
    only: bool,
}

impl AttrFilter {
    /// Whether `attrs` passes; keys in `ignored` do not count against `only`.
    fn matches(&self, attrs: &Attributes, ignored: &[&str]) -> bool {
        let wanted = self
            .wanted
            .iter()
            .all(|(k, v)| attrs.get(k).is_some_and(|actual| v.matches(actual)));
        let absent = self.absent.iter().all(|k| attrs.get(k).is_none());
        let only = !self.only
            || attrs.iter().all(|a| {
                ignored.contains(&a.key.as_str()) || self.wanted.iter().any(|(k, _)| *k == a.key)
            });
        wanted && absent && only
    }

    /// ` where hook_name="lint", success=false, no session.id, and no other attributes`.
    fn describe(&self) -> String {
        let mut parts: Vec<String> = self
            .wanted
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        parts.extend(self.absent.iter().map(|k| format!("no {k}")));
        if self.only {
            parts.push(if self.wanted.is_empty() {
                "no attributes".to_owned()
            } else {
                "no other attributes".to_owned()
            });
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!(" where {}", parts.join(", "))
        }
    }
}

/// Adds `with`, `without` and `only` to a query type holding an `AttrFilter` in `filter`.
macro_rules! attribute_filters {
    ($ty:ident) => {
        impl $ty<'_> {
            /// Only items that carry attribute `key` with this value (other attributes are
            /// allowed unless [`only`](Self::only) is used). Integers and floats compare by
            /// value.
            pub fn with(mut self, key: impl Into<String>, value: impl Into<AttrValue>) -> Self {
                self.filter.wanted.push((key.into(), value.into()));
                self
            }

            /// Only items that do not carry attribute `key` at all.
            pub fn without(mut self, key: impl Into<String>) -> Self {
                self.filter.absent.push(key.into());
                self
            }

            /// Only items whose attributes are exactly those named with [`with`](Self::with),
            /// no others.
            pub fn only(mut self) -> Self {
                self.filter.only = true;
                self
            }
        }
    };
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

/// Floats compare equal up to rounding (relative 1e-9), so sums of durations can be checked.
fn close(actual: f64, expected: f64) -> bool {
    (actual - expected).abs() <= 1e-9 * expected.abs().max(1.0)
}

// ---------------------------------------------------------------------------------------------
// Metrics
// ---------------------------------------------------------------------------------------------

/// The metric found by name (if any) and those of its data points that pass the filters.
struct Matched<'t> {
    metric: Option<&'t Metric>,
    points: Vec<&'t DataPoint>,
}

/// The matching points of metric `name`; `Err` with a message when it has another kind.
fn match_metric<'t>(
    t: &'t Telemetry,
    name: &MetricName,
    kind: MetricKind,
    filter: &AttrFilter,
) -> Result<Matched<'t>, String> {
    let Some((mi, metric)) = t
        .metrics
        .iter()
        .enumerate()
        .find(|(_, m)| m.name == name.as_str())
    else {
        return Ok(Matched {
            metric: None,
            points: Vec::new(),
        });
    };
    if metric.kind != kind {
        return Err(format!(
            "{name} is a {}, not a {}",
            metric.kind.name(),
            kind.name()
        ));
    }
    let mut checked = t.checked();
    let points = metric
        .points
        .iter()
        .enumerate()
        .filter(|(_, p)| filter.matches(&p.attributes, &[]))
        .map(|(pi, p)| {
            checked.points.insert((mi, pi));
            p
        })
        .collect();
    Ok(Matched {
        metric: Some(metric),
        points,
    })
}

/// A counter, narrowed by attributes. From [`Telemetry::counter`].
#[derive(Debug, Clone)]
#[must_use = "a query asserts nothing until an assert_* method is called"]
pub struct CounterQuery<'t> {
    t: &'t Telemetry,
    name: MetricName,
    filter: AttrFilter,
}

attribute_filters!(CounterQuery);

impl<'t> CounterQuery<'t> {
    fn subject(&self) -> String {
        format!("counter {}{}", self.name, self.filter.describe())
    }

    /// The matching points; fails the test when the metric is not a counter.
    #[track_caller]
    fn matched(&self) -> Matched<'t> {
        match_metric(self.t, &self.name, MetricKind::Counter, &self.filter).unwrap_or_else(|kind| {
            fail(self.t, &format!("expected {}, but {kind}", self.subject()))
        })
    }

    /// The data points that match (none when the metric is not a counter).
    pub fn points(&self) -> Vec<&'t DataPoint> {
        match_metric(self.t, &self.name, MetricKind::Counter, &self.filter)
            .map(|m| m.points)
            .unwrap_or_default()
    }

    /// The sum of the matching points (0 when none match).
    pub fn value(&self) -> u64 {
        self.points()
            .iter()
            .map(|p| match p.value {
                PointValue::Unsigned(v) => v,
                PointValue::Signed(v) => u64::try_from(v).unwrap_or(0),
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                PointValue::Float(v) => v.max(0.0) as u64,
                PointValue::Histogram(_) => 0,
            })
            .fold(0u64, u64::saturating_add)
    }

    /// Asserts that the matching points add up to `expected`. A counter that was never
    /// incremented has no points, so `assert_value(0)` also passes when nothing matches.
    #[track_caller]
    pub fn assert_value(&self, expected: u64) {
        let matched = self.matched();
        let found = self.value();
        if found == expected {
            return;
        }
        let detail = match (matched.metric, matched.points.len()) {
            (None, _) => format!("no metric named {} was emitted", self.name),
            (Some(_), 0) => "none of its data points matched".to_owned(),
            (Some(_), n) => format!(
                "found {found} (from {})",
                plural(n, "matching data point", "matching data points")
            ),
        };
        fail(
            self.t,
            &format!(
                "expected {} to have value {expected}, but {detail}",
                self.subject()
            ),
        );
    }

    /// Asserts that no data point matches.
    #[track_caller]
    pub fn assert_absent(&self) {
        let matched = self.matched();
        if !matched.points.is_empty() {
            let points: Vec<String> = matched.points.iter().map(|p| render::point(p)).collect();
            fail(
                self.t,
                &format!(
                    "expected no {}, but found: {}",
                    self.subject(),
                    points.join("; ")
                ),
            );
        }
    }
}

/// A histogram, narrowed by attributes. From [`Telemetry::histogram`]. Assertions look at
/// the matching points merged: counts and sums added, min and max over all.
#[derive(Debug, Clone)]
#[must_use = "a query asserts nothing until an assert_* method is called"]
pub struct HistogramQuery<'t> {
    t: &'t Telemetry,
    name: MetricName,
    filter: AttrFilter,
}

attribute_filters!(HistogramQuery);

impl<'t> HistogramQuery<'t> {
    fn subject(&self) -> String {
        format!("histogram {}{}", self.name, self.filter.describe())
    }

    /// The matching points; fails the test when the metric is not a histogram.
    #[track_caller]
    fn matched(&self) -> Matched<'t> {
        match_metric(self.t, &self.name, MetricKind::Histogram, &self.filter).unwrap_or_else(
            |kind| fail(self.t, &format!("expected {}, but {kind}", self.subject())),
        )
    }

    /// The data points that match (none when the metric is not a histogram).
    pub fn points(&self) -> Vec<&'t DataPoint> {
        match_metric(self.t, &self.name, MetricKind::Histogram, &self.filter)
            .map(|m| m.points)
            .unwrap_or_default()
    }

    /// The matching points merged into one; `None` when none match. Bucket counts are
    /// added only when every point has the same bounds; otherwise they are left empty.
    pub fn merged(&self) -> Option<HistogramValue> {
        merge(self.points())
    }

    #[track_caller]
    fn check(
        &self,
        what: &str,
        expected: &str,
        found: impl FnOnce(&HistogramValue) -> Result<(), String>,
    ) {
        let matched = self.matched();
        let Some(merged) = merge(matched.points) else {
            let why = if matched.metric.is_none() {
                format!("no metric named {} was emitted", self.name)
            } else {
                "none of its data points matched".to_owned()
            };
            fail(
                self.t,
                &format!(
                    "expected {} to have {what} {expected}, but {why}",
                    self.subject()
                ),
            );
        };
        if let Err(found) = found(&merged) {
            fail(
                self.t,
                &format!(
                    "expected {} to have {what} {expected}, but found {found}",
                    self.subject()
                ),
            );
        }
    }

    /// Asserts how many values were recorded. `assert_count(0)` passes when nothing matches.
    #[track_caller]
    pub fn assert_count(&self, expected: u64) {
        if expected == 0 && merge(self.matched().points).is_none() {
            return;
        }
        self.check("count", &expected.to_string(), |h| {
            (h.count == expected)
                .then_some(())
                .ok_or_else(|| h.count.to_string())
        });
    }

    /// Asserts the sum of recorded values (equal up to rounding).
    #[track_caller]
    pub fn assert_sum(&self, expected: f64) {
        self.check("sum", &format!("{expected:?}"), |h| {
            close(h.sum, expected)
                .then_some(())
                .ok_or_else(|| format!("{:?}", h.sum))
        });
    }

    /// Asserts the smallest recorded value.
    #[track_caller]
    pub fn assert_min(&self, expected: f64) {
        self.check("min", &format!("{expected:?}"), |h| match h.min {
            Some(min) if close(min, expected) => Ok(()),
            Some(min) => Err(format!("{min:?}")),
            None => Err("none recorded".to_owned()),
        });
    }

    /// Asserts the largest recorded value.
    #[track_caller]
    pub fn assert_max(&self, expected: f64) {
        self.check("max", &format!("{expected:?}"), |h| match h.max {
            Some(max) if close(max, expected) => Ok(()),
            Some(max) => Err(format!("{max:?}")),
            None => Err("none recorded".to_owned()),
        });
    }

    /// Asserts the bucket bounds, e.g. `catalogue::HOOK_DURATION_BUCKETS_MS`.
    #[track_caller]
    pub fn assert_bounds(&self, expected: &[f64]) {
        self.check("bucket bounds", &format!("{expected:?}"), |h| {
            (h.bounds == expected)
                .then_some(())
                .ok_or_else(|| format!("{:?}", h.bounds))
        });
    }

    /// Asserts the count in every bucket (one more entry than the bounds: the last bucket
    /// is above the last bound).
    #[track_caller]
    pub fn assert_bucket_counts(&self, expected: &[u64]) {
        self.check("bucket counts", &format!("{expected:?}"), |h| {
            (h.bucket_counts == expected)
                .then_some(())
                .ok_or_else(|| format!("{:?}", h.bucket_counts))
        });
    }

    /// Asserts that no data point matches.
    #[track_caller]
    pub fn assert_absent(&self) {
        let matched = self.matched();
        if !matched.points.is_empty() {
            let points: Vec<String> = matched.points.iter().map(|p| render::point(p)).collect();
            fail(
                self.t,
                &format!(
                    "expected no {}, but found: {}",
                    self.subject(),
                    points.join("; ")
                ),
            );
        }
    }
}

/// Matching histogram points merged into one: counts and sums added, min and max over all,
/// bucket counts added when the bounds agree (else left empty).
fn merge(points: Vec<&DataPoint>) -> Option<HistogramValue> {
    let mut values = points.into_iter().filter_map(|p| match &p.value {
        PointValue::Histogram(h) => Some(h),
        _ => None,
    });
    let mut merged = values.next()?.clone();
    for h in values {
        merged.count += h.count;
        merged.sum += h.sum;
        merged.min = pick(merged.min, h.min, f64::min);
        merged.max = pick(merged.max, h.max, f64::max);
        if merged.bounds == h.bounds && merged.bucket_counts.len() == h.bucket_counts.len() {
            for (total, c) in merged.bucket_counts.iter_mut().zip(&h.bucket_counts) {
                *total += c;
            }
        } else {
            merged.bucket_counts.clear();
        }
    }
    Some(merged)
}

fn pick(a: Option<f64>, b: Option<f64>, pick: fn(f64, f64) -> f64) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(pick(a, b)),
        (a, b) => a.or(b),
    }
}

// ---------------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------------

/// Events of one name, narrowed by severity, attributes, body or enclosing span. From
/// [`Telemetry::events`].
#[derive(Debug, Clone)]
#[must_use = "a query asserts nothing until an assert_* method is called"]
pub struct EventQuery<'t> {
    t: &'t Telemetry,
    name: EventName,
    severity: Option<Severity>,
    body: Option<AttrValue>,
    in_span: Option<String>,
    filter: AttrFilter,
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

    /// The events that match, in the order emitted.
    pub fn matching(&self) -> Vec<&'t Event> {
        let spans: Option<Vec<SpanId>> = self.in_span.as_ref().map(|name| {
            self.t
                .spans
                .iter()
                .filter(|s| s.name == *name)
                .map(|s| s.span_id)
                .collect()
        });
        let mut checked = self.t.checked();
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
            .map(|(i, e)| {
                checked.events.insert(i);
                e
            })
            .collect()
    }

    /// How many events match.
    pub fn count(&self) -> usize {
        self.matching().len()
    }

    /// Asserts that exactly `n` events match.
    #[track_caller]
    pub fn assert_exactly(&self, n: usize) {
        let found = self.count();
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
    }

    /// Asserts that at least `n` events match.
    #[track_caller]
    pub fn assert_at_least(&self, n: usize) {
        let found = self.count();
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
    }

    /// Asserts that no event matches.
    #[track_caller]
    pub fn assert_none(&self) {
        self.assert_exactly(0);
    }

    /// Asserts that exactly one event matches, and returns it for further checks.
    #[track_caller]
    pub fn assert_one(&self) -> &'t Event {
        match self.matching().as_slice() {
            [one] => one,
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

// ---------------------------------------------------------------------------------------------
// Spans
// ---------------------------------------------------------------------------------------------

/// Spans of one name, narrowed by attributes. From [`Telemetry::span`]. Relationship and
/// status assertions require at least one matching span and check every one of them.
#[derive(Debug, Clone)]
#[must_use = "a query asserts nothing until an assert_* method is called"]
pub struct SpanQuery<'t> {
    t: &'t Telemetry,
    name: String,
    filter: AttrFilter,
}

attribute_filters!(SpanQuery);

impl<'t> SpanQuery<'t> {
    /// `span "hook lint" where ...`, or `spans ...` when `n` is not 1.
    fn subject(&self, n: usize) -> String {
        let noun = if n == 1 { "span" } else { "spans" };
        format!("{noun} {:?}{}", self.name, self.filter.describe())
    }

    /// The spans that match, in the order they ended.
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
    pub fn assert_none(&self) {
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

// ---------------------------------------------------------------------------------------------
// Whole-capture checks
// ---------------------------------------------------------------------------------------------

fn name_set<N: Into<MetricName>>(names: impl IntoIterator<Item = N>) -> BTreeSet<String> {
    names
        .into_iter()
        .map(|n| n.into().as_str().to_owned())
        .collect()
}

fn event_name_set<N: Into<EventName>>(names: impl IntoIterator<Item = N>) -> BTreeSet<String> {
    names
        .into_iter()
        .map(|n| n.into().as_str().to_owned())
        .collect()
}

fn list(names: &BTreeSet<String>) -> String {
    names.iter().cloned().collect::<Vec<_>>().join(", ")
}

impl Telemetry {
    /// The counter named `name` (a `&str` or a catalogue entry such as
    /// `metric::HOOK_EXECUTION`).
    pub fn counter(&self, name: impl Into<MetricName>) -> CounterQuery<'_> {
        CounterQuery {
            t: self,
            name: name.into(),
            filter: AttrFilter::default(),
        }
    }

    /// The histogram named `name`.
    pub fn histogram(&self, name: impl Into<MetricName>) -> HistogramQuery<'_> {
        HistogramQuery {
            t: self,
            name: name.into(),
            filter: AttrFilter::default(),
        }
    }

    /// The events named `name` (a `&str` or a catalogue entry such as
    /// `event::HOOK_RESULT`). With [`EventQuery::only`], the `event.name` attribute, which
    /// repeats the name on every event, does not need to be listed.
    pub fn events(&self, name: impl Into<EventName>) -> EventQuery<'_> {
        EventQuery {
            t: self,
            name: name.into(),
            severity: None,
            body: None,
            in_span: None,
            filter: AttrFilter::default(),
        }
    }

    /// The spans named `name`, e.g. `"hook lint"`.
    pub fn span(&self, name: impl Into<String>) -> SpanQuery<'_> {
        SpanQuery {
            t: self,
            name: name.into(),
            filter: AttrFilter::default(),
        }
    }

    fn metric_names(&self) -> BTreeSet<String> {
        self.metrics.iter().map(|m| m.name.clone()).collect()
    }

    fn event_names(&self) -> BTreeSet<String> {
        self.events.iter().map(|e| e.name.clone()).collect()
    }

    /// Asserts that the metrics emitted are exactly these: each one present, no other.
    #[track_caller]
    pub fn assert_only_metrics<N: Into<MetricName>>(&self, names: impl IntoIterator<Item = N>) {
        self.check_only("metrics", &name_set(names), &self.metric_names());
    }

    /// Asserts that no metric outside `names` was emitted (those named may be absent).
    #[track_caller]
    pub fn assert_no_other_metrics<N: Into<MetricName>>(&self, names: impl IntoIterator<Item = N>) {
        self.check_no_other("metrics", &name_set(names), &self.metric_names());
    }

    /// Asserts that the events emitted are of exactly these names: each present, no other.
    #[track_caller]
    pub fn assert_only_events<N: Into<EventName>>(&self, names: impl IntoIterator<Item = N>) {
        self.check_only("events", &event_name_set(names), &self.event_names());
    }

    /// Asserts that no event outside `names` was emitted (those named may be absent).
    #[track_caller]
    pub fn assert_no_other_events<N: Into<EventName>>(&self, names: impl IntoIterator<Item = N>) {
        self.check_no_other("events", &event_name_set(names), &self.event_names());
    }

    #[track_caller]
    fn check_only(&self, what: &str, expected: &BTreeSet<String>, found: &BTreeSet<String>) {
        if expected != found {
            let missing: BTreeSet<_> = expected.difference(found).cloned().collect();
            let extra: BTreeSet<_> = found.difference(expected).cloned().collect();
            fail(
                self,
                &format!(
                    "expected exactly the {what} [{}], but {}",
                    list(expected),
                    difference(&missing, &extra)
                ),
            );
        }
    }

    #[track_caller]
    fn check_no_other(&self, what: &str, allowed: &BTreeSet<String>, found: &BTreeSet<String>) {
        let extra: BTreeSet<_> = found.difference(allowed).cloned().collect();
        if !extra.is_empty() {
            fail(
                self,
                &format!(
                    "expected no {what} other than [{}], but also found [{}]",
                    list(allowed),
                    list(&extra)
                ),
            );
        }
    }

    /// Asserts that nothing at all was emitted: no metric, event or span.
    #[track_caller]
    pub fn assert_empty(&self) {
        if !(self.metrics.is_empty() && self.events.is_empty() && self.spans.is_empty()) {
            fail(self, "expected no telemetry at all, but some was emitted");
        }
    }

    /// Asserts that every metric data point and every event was matched by an earlier query
    /// on this snapshot: the final check that nothing unexpected happened. Spans are not
    /// included; check them with [`Telemetry::span`].
    #[track_caller]
    pub fn assert_nothing_else(&self) {
        let checked = self.checked().clone();
        let mut unchecked = Vec::new();
        for (mi, m) in self.metrics.iter().enumerate() {
            for (pi, p) in m.points.iter().enumerate() {
                if !checked.points.contains(&(mi, pi)) {
                    unchecked.push(format!(
                        "{} {}",
                        render::metric_heading(m),
                        render::point(p)
                    ));
                }
            }
        }
        for (i, e) in self.events.iter().enumerate() {
            if !checked.events.contains(&i) {
                unchecked.push(format!("event {}", render::event(e)));
            }
        }
        if !unchecked.is_empty() {
            fail(
                self,
                &format!(
                    "expected nothing beyond what was asserted, but {} never matched by an assertion:\n  {}",
                    plural(unchecked.len(), "item was", "items were"),
                    unchecked.join("\n  ")
                ),
            );
        }
    }
}

fn difference(missing: &BTreeSet<String>, extra: &BTreeSet<String>) -> String {
    match (missing.is_empty(), extra.is_empty()) {
        (false, false) => format!(
            "[{}] are missing and [{}] are unexpected",
            list(missing),
            list(extra)
        ),
        (false, true) => format!("[{}] are missing", list(missing)),
        _ => format!("[{}] are unexpected", list(extra)),
    }
}
