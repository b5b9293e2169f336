//! Checks of the whole capture: which metrics and events it holds, that it holds nothing at
//! all, and that nothing in it escaped the assertions.

use std::collections::BTreeSet;

use crate::names::{EventName, MetricName};
use crate::render;
use crate::snapshot::Telemetry;

use super::{fail, plural};

fn metric_name_set<N: Into<MetricName>>(names: impl IntoIterator<Item = N>) -> BTreeSet<String> {
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

/// `only` means "and nothing else", `absent` means "no such thing", as for every selector.
impl Telemetry {
    fn metric_names(&self) -> BTreeSet<String> {
        self.metrics.iter().map(|m| m.name.clone()).collect()
    }

    fn event_names(&self) -> BTreeSet<String> {
        self.events.iter().map(|e| e.name.clone()).collect()
    }

    /// Asserts that the metrics emitted are these and nothing else: each one present, no
    /// other.
    #[track_caller]
    pub fn assert_only_metrics<N: Into<MetricName>>(&self, names: impl IntoIterator<Item = N>) {
        self.check_exactly("metrics", &metric_name_set(names), &self.metric_names());
    }

    /// Asserts that no metric outside `names` was emitted; those named may be absent
    /// (e.g. `assert_only_metrics_among(metric::ALL)`: nothing outside the catalogue).
    #[track_caller]
    pub fn assert_only_metrics_among<N: Into<MetricName>>(
        &self,
        names: impl IntoIterator<Item = N>,
    ) {
        self.check_among("metrics", &metric_name_set(names), &self.metric_names());
    }

    /// Asserts that the events emitted are of these names and nothing else: each present,
    /// no other.
    #[track_caller]
    pub fn assert_only_events<N: Into<EventName>>(&self, names: impl IntoIterator<Item = N>) {
        self.check_exactly("events", &event_name_set(names), &self.event_names());
    }

    /// Asserts that no event outside `names` was emitted; those named may be absent.
    #[track_caller]
    pub fn assert_only_events_among<N: Into<EventName>>(&self, names: impl IntoIterator<Item = N>) {
        self.check_among("events", &event_name_set(names), &self.event_names());
    }

    #[track_caller]
    fn check_exactly(&self, what: &str, expected: &BTreeSet<String>, found: &BTreeSet<String>) {
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
    fn check_among(&self, what: &str, allowed: &BTreeSet<String>, found: &BTreeSet<String>) {
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
    pub fn assert_absent(&self) {
        if !(self.metrics.is_empty() && self.events.is_empty() && self.spans.is_empty()) {
            fail(self, "expected no telemetry at all, but some was emitted");
        }
    }

    /// Asserts that every metric data point and every event was matched by a passing
    /// `assert_*` call on this snapshot before: the final check that nothing unexpected
    /// happened. Reading (`points`, `value`, `merged`, `matching`, `count`) checks nothing.
    /// Spans are not included; check them with [`Telemetry::span`].
    ///
    /// A failure lists what no assertion matched, then everything the capture emitted:
    ///
    /// ```rust,should_panic
    /// use std::time::Duration;
    /// use han_telemetry::{catalogue::{event, metric}, record};
    /// use han_telemetry_testing::capture;
    ///
    /// let t = capture(|| {
    ///     record::hook_run("lint", "Stop", true, Duration::from_millis(4));
    ///     record::session_start();
    /// });
    /// t.counter(metric::HOOK_EXECUTION).assert_value(1);
    /// t.histogram(metric::HOOK_DURATION).assert_count(1);
    /// t.event(event::HOOK_RESULT).assert_one();
    /// assert_eq!(t.counter(metric::SESSION_START).value(), 1); // reading checks nothing
    /// t.assert_only_asserted();
    /// ```
    ///
    /// ```text
    /// expected nothing beyond what was asserted, but 1 item was never matched by an assertion:
    ///   han.session.start (counter, {session}) {} = 1
    ///
    /// Everything emitted in this capture:
    ///   metrics:
    ///     han.hook.execution (counter, {execution})
    ///       {hook_name="lint", hook_type="Stop", success=true} = 1
    ///     han.hook.duration_ms (histogram, ms)
    ///       {hook_name="lint", hook_type="Stop", success=true} count=1 sum=4.0 min=4.0 max=4.0 buckets: <=5.0: 1
    ///     han.session.start (counter, {session})
    ///       {} = 1
    ///   events:
    ///     han.hook_result INFO {hook_name="lint", success=true, duration_ms=4.0, hook_type="Stop"}
    ///   spans:
    ///     (none)
    ///   resource: {service.name="han"}
    /// ```
    #[track_caller]
    pub fn assert_only_asserted(&self) {
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
