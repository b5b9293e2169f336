//! Metric selectors: a counter's value, a histogram's count, sum, min, max and buckets.

use crate::names::MetricName;
use crate::render;
use crate::snapshot::{
    DataPoint, HistogramValue, Metric, MetricKind, PointId, PointValue, Telemetry,
};

use super::filter::{AttrFilter, attribute_filters};
use super::{fail, plural};

/// Floats compare equal up to rounding (relative 1e-9), so sums of durations can be checked.
fn close(actual: f64, expected: f64) -> bool {
    (actual - expected).abs() <= 1e-9 * expected.abs().max(1.0)
}

/// The metric found by name (if any) and those of its data points that pass the filters.
struct Matched<'t> {
    metric: Option<&'t Metric>,
    points: Vec<(PointId, &'t DataPoint)>,
}

impl<'t> Matched<'t> {
    fn points(&self) -> Vec<&'t DataPoint> {
        self.points.iter().map(|(_, p)| *p).collect()
    }

    /// Notes the matching points as checked: only a passing assertion calls this.
    fn checked(&self, t: &Telemetry) {
        t.check_points(self.points.iter().map(|(id, _)| *id));
    }
}

/// The matching points of metric `name`; `Err` with a message when it has another kind.
/// Reads only: nothing is noted as checked.
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
    let points = metric
        .points
        .iter()
        .enumerate()
        .filter(|(_, p)| filter.matches(&p.attributes, &[]))
        .map(|(pi, p)| ((mi, pi), p))
        .collect();
    Ok(Matched {
        metric: Some(metric),
        points,
    })
}

/// Fails unless no point matched: `expected no <subject>, but found: <points>`.
#[track_caller]
fn assert_no_points(t: &Telemetry, subject: &str, matched: &Matched<'_>) {
    if !matched.points.is_empty() {
        let points: Vec<String> = matched.points().iter().map(|p| render::point(p)).collect();
        fail(
            t,
            &format!("expected no {subject}, but found: {}", points.join("; ")),
        );
    }
}

/// A counter, narrowed by attributes. From [`Telemetry::counter`].
///
/// Its value is the sum of the matching data points. A failed assertion says what was
/// expected, then lists everything the capture emitted:
///
/// ```rust,should_panic
/// use std::time::Duration;
/// use han_telemetry::{catalogue::metric, record};
/// use han_telemetry_testing::capture;
///
/// let t = capture(|| record::hook_run("lint", "Stop", false, Duration::from_millis(4)));
/// t.counter(metric::HOOK_EXECUTION)
///     .with("hook_name", "lint")
///     .with("success", true)
///     .assert_value(1);
/// ```
///
/// ```text
/// expected counter han.hook.execution where hook_name="lint", success=true to have value 1, but none of its data points matched
///
/// Everything emitted in this capture:
///   metrics:
///     han.hook.execution (counter, {execution})
///       {hook_name="lint", hook_type="Stop", success=false} = 1
///     han.hook.duration_ms (histogram, ms)
///       {hook_name="lint", hook_type="Stop", success=false} count=1 sum=4.0 min=4.0 max=4.0 buckets: <=5.0: 1
///   events:
///     han.hook_result INFO {hook_name="lint", success=false, duration_ms=4.0, hook_type="Stop"}
///   spans:
///     (none)
///   resource: {service.name="han"}
/// ```
#[derive(Debug, Clone)]
#[must_use = "a query asserts nothing until an assert_* method is called"]
pub struct CounterQuery<'t> {
    pub(super) t: &'t Telemetry,
    pub(super) name: MetricName,
    pub(super) filter: AttrFilter,
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

    /// The data points that match (none when the metric is not a counter). Reading them
    /// checks nothing: only an `assert_*` call counts for
    /// [`Telemetry::assert_only_asserted`].
    pub fn points(&self) -> Vec<&'t DataPoint> {
        match_metric(self.t, &self.name, MetricKind::Counter, &self.filter)
            .map(|m| m.points())
            .unwrap_or_default()
    }

    /// The sum of the matching points (0 when none match). Reading it checks nothing.
    pub fn value(&self) -> u64 {
        sum(&self.points())
    }

    /// Asserts that the matching points add up to `expected`. A counter that was never
    /// incremented has no points, so `assert_value(0)` also passes when nothing matches.
    #[track_caller]
    pub fn assert_value(&self, expected: u64) {
        let matched = self.matched();
        let found = sum(&matched.points());
        if found == expected {
            matched.checked(self.t);
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
        assert_no_points(self.t, &self.subject(), &self.matched());
    }
}

/// The sum of counter points.
fn sum(points: &[&DataPoint]) -> u64 {
    points
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

/// A histogram, narrowed by attributes. From [`Telemetry::histogram`]. Assertions look at
/// the matching points merged: counts and sums added, min and max over all.
///
/// A failed assertion says what was expected and what was found, then lists everything the
/// capture emitted:
///
/// ```rust,should_panic
/// use std::time::Duration;
/// use han_telemetry::{catalogue::metric, record};
/// use han_telemetry_testing::capture;
///
/// let t = capture(|| {
///     record::hook_run("lint", "Stop", true, Duration::from_millis(4));
///     record::hook_run("lint", "Stop", true, Duration::from_millis(30));
/// });
/// t.histogram(metric::HOOK_DURATION).with("hook_name", "lint").assert_max(20.0);
/// ```
///
/// ```text
/// expected histogram han.hook.duration_ms where hook_name="lint" to have max 20.0, but found 30.0
///
/// Everything emitted in this capture:
///   metrics:
///     han.hook.execution (counter, {execution})
///       {hook_name="lint", hook_type="Stop", success=true} = 2
///     han.hook.duration_ms (histogram, ms)
///       {hook_name="lint", hook_type="Stop", success=true} count=2 sum=34.0 min=4.0 max=30.0 buckets: <=5.0: 1, <=50.0: 1
///   events:
///     han.hook_result INFO {hook_name="lint", success=true, duration_ms=4.0, hook_type="Stop"}
///     han.hook_result INFO {hook_name="lint", success=true, duration_ms=30.0, hook_type="Stop"}
///   spans:
///     (none)
///   resource: {service.name="han"}
/// ```
#[derive(Debug, Clone)]
#[must_use = "a query asserts nothing until an assert_* method is called"]
pub struct HistogramQuery<'t> {
    pub(super) t: &'t Telemetry,
    pub(super) name: MetricName,
    pub(super) filter: AttrFilter,
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

    /// The data points that match (none when the metric is not a histogram). Reading them
    /// checks nothing: only an `assert_*` call counts for
    /// [`Telemetry::assert_only_asserted`].
    pub fn points(&self) -> Vec<&'t DataPoint> {
        match_metric(self.t, &self.name, MetricKind::Histogram, &self.filter)
            .map(|m| m.points())
            .unwrap_or_default()
    }

    /// The matching points merged into one; `None` when none match. Bucket counts are
    /// added only when every point has the same bounds; otherwise they are left empty.
    /// Reading it checks nothing.
    pub fn merged(&self) -> Option<HistogramValue> {
        merge(self.points())
    }

    /// Fails unless some point matches and `found` accepts the merged value; on success the
    /// matching points are checked.
    #[track_caller]
    fn check(
        &self,
        what: &str,
        expected: &str,
        found: impl FnOnce(&HistogramValue) -> Result<(), String>,
    ) {
        let matched = self.matched();
        let Some(merged) = merge(matched.points()) else {
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
        matched.checked(self.t);
    }

    /// Asserts how many values were recorded. `assert_count(0)` passes when nothing matches.
    #[track_caller]
    pub fn assert_count(&self, expected: u64) {
        if expected == 0 && self.matched().points.is_empty() {
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
        assert_no_points(self.t, &self.subject(), &self.matched());
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
