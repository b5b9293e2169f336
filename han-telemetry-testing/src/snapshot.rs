//! What a capture saw, as plain named structs: easy to assert on, print and keep.

use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};

use opentelemetry::logs::Severity;
use opentelemetry::trace::{SpanId, TraceId};
use opentelemetry_sdk::logs::in_memory_exporter::LogDataWithResource;
use opentelemetry_sdk::metrics::data::{self, AggregatedMetrics, MetricData, ResourceMetrics};
use opentelemetry_sdk::trace::SpanData;

use crate::attributes::{AttrValue, Attributes};

/// Everything one capture emitted: metrics, events, spans and the resource.
///
/// Read it with the assertion methods ([`Telemetry::counter`], [`Telemetry::event`],
/// [`Telemetry::span`], ...) or directly through [`Telemetry::all_metrics`] and friends.
/// `Display` prints it the way failure messages do.
#[derive(Debug)]
pub struct Telemetry {
    pub(crate) metrics: Vec<Metric>,
    pub(crate) events: Vec<Event>,
    pub(crate) spans: Vec<Span>,
    pub(crate) resource: Attributes,
    /// Problems met while collecting (never expected; shown in failure messages).
    pub(crate) problems: Vec<String>,
    /// What passing assertions have matched so far, for
    /// [`Telemetry::assert_only_asserted`].
    pub(crate) checked: Mutex<Checked>,
}

/// Where a data point is in the snapshot: (metric index, point index).
pub(crate) type PointId = (usize, usize);

/// Data points and events (by index) some passing assertion matched.
#[derive(Debug, Clone, Default)]
pub(crate) struct Checked {
    pub(crate) points: HashSet<PointId>,
    pub(crate) events: HashSet<usize>,
}

impl Clone for Telemetry {
    fn clone(&self) -> Self {
        Telemetry {
            metrics: self.metrics.clone(),
            events: self.events.clone(),
            spans: self.spans.clone(),
            resource: self.resource.clone(),
            problems: self.problems.clone(),
            checked: Mutex::new(self.checked().clone()),
        }
    }
}

impl Telemetry {
    /// Every metric that has at least one data point, in the order the SDK reports them.
    pub fn all_metrics(&self) -> &[Metric] {
        &self.metrics
    }

    /// The metric named `name`, if it was emitted.
    pub fn metric(&self, name: impl Into<crate::MetricName>) -> Option<&Metric> {
        let name = name.into();
        self.metrics.iter().find(|m| m.name == name.as_str())
    }

    /// Every event, in the order emitted.
    pub fn all_events(&self) -> &[Event] {
        &self.events
    }

    /// Every span that ended inside the capture, in the order they ended.
    pub fn all_spans(&self) -> &[Span] {
        &self.spans
    }

    /// The resource attributes every signal carried.
    pub fn resource(&self) -> &Attributes {
        &self.resource
    }

    pub(crate) fn checked(&self) -> std::sync::MutexGuard<'_, Checked> {
        self.checked.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Notes data points a passing assertion matched.
    pub(crate) fn check_points(&self, points: impl IntoIterator<Item = PointId>) {
        self.checked().points.extend(points);
    }

    /// Notes events (by index) a passing assertion matched.
    pub(crate) fn check_events(&self, events: impl IntoIterator<Item = usize>) {
        self.checked().events.extend(events);
    }

    pub(crate) fn collect(
        metrics: Option<&ResourceMetrics>,
        logs: &[LogDataWithResource],
        spans: &[SpanData],
        resource: Attributes,
        problems: Vec<String>,
    ) -> Telemetry {
        Telemetry {
            metrics: metrics.map(convert_metrics).unwrap_or_default(),
            events: logs.iter().map(convert_event).collect(),
            spans: spans.iter().map(convert_span).collect(),
            resource,
            problems,
            checked: Mutex::default(),
        }
    }
}

/// One metric stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    /// The metric name, e.g. `han.hook.execution`.
    pub name: String,
    /// What instrument recorded it.
    pub kind: MetricKind,
    /// The unit, e.g. `ms` or `{execution}`.
    pub unit: String,
    /// The description.
    pub description: String,
    /// One data point per distinct attribute set.
    pub points: Vec<DataPoint>,
}

/// The aggregation a metric was exported with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetricKind {
    /// A monotonic sum.
    Counter,
    /// A non-monotonic sum.
    UpDownCounter,
    /// A gauge.
    Gauge,
    /// An explicit-bucket histogram.
    Histogram,
    /// An exponential histogram (its buckets are not kept).
    ExponentialHistogram,
}

impl MetricKind {
    /// Lowercase name for messages: `counter`, `histogram`, ...
    pub fn name(self) -> &'static str {
        match self {
            MetricKind::Counter => "counter",
            MetricKind::UpDownCounter => "up-down counter",
            MetricKind::Gauge => "gauge",
            MetricKind::Histogram => "histogram",
            MetricKind::ExponentialHistogram => "exponential histogram",
        }
    }
}

/// One data point: an attribute set and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct DataPoint {
    /// The attributes that identify this point.
    pub attributes: Attributes,
    /// The value, cumulative since the capture started.
    pub value: PointValue,
}

/// The value of a data point.
#[derive(Debug, Clone, PartialEq)]
pub enum PointValue {
    /// A `u64` sum or gauge (han-telemetry's counters).
    Unsigned(u64),
    /// An `i64` sum or gauge.
    Signed(i64),
    /// An `f64` sum or gauge.
    Float(f64),
    /// A histogram.
    Histogram(HistogramValue),
}

impl PointValue {
    /// The number of a sum or gauge as `f64`; `None` for a histogram.
    #[allow(clippy::cast_precision_loss)] // a test value; exact below 2^53
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            PointValue::Unsigned(v) => Some(*v as f64),
            PointValue::Signed(v) => Some(*v as f64),
            PointValue::Float(v) => Some(*v),
            PointValue::Histogram(_) => None,
        }
    }
}

/// The value of a histogram data point.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramValue {
    /// Number of recorded values.
    pub count: u64,
    /// Sum of recorded values.
    pub sum: f64,
    /// Smallest recorded value.
    pub min: Option<f64>,
    /// Largest recorded value.
    pub max: Option<f64>,
    /// Upper bucket bounds (inclusive); the last bucket, above the last bound, is implied.
    pub bounds: Vec<f64>,
    /// Count per bucket: one more entry than `bounds`.
    pub bucket_counts: Vec<u64>,
}

/// One event: a log record emitted by han-telemetry.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The event name, e.g. `han.hook_result` (the record's event name, else its
    /// `event.name` attribute, else empty).
    pub name: String,
    /// The severity number.
    pub severity: Option<Severity>,
    /// The severity text, e.g. `WARN`.
    pub severity_text: Option<String>,
    /// The attributes, including `event.name` and any standard attributes.
    pub attributes: Attributes,
    /// The body.
    pub body: Option<AttrValue>,
    /// The trace of the span that was current when the event was emitted.
    pub trace_id: Option<TraceId>,
    /// The span that was current when the event was emitted.
    pub span_id: Option<SpanId>,
}

/// One span that ended inside the capture.
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    /// The span name (`otel.name` when set), e.g. `hook lint`.
    pub name: String,
    /// The attributes (tracing fields other than `otel.*`).
    pub attributes: Attributes,
    /// The status.
    pub status: SpanStatus,
    /// This span's id.
    pub span_id: SpanId,
    /// The parent's id; `None` for a root span.
    pub parent_span_id: Option<SpanId>,
    /// The trace id.
    pub trace_id: TraceId,
    /// Whether the parent came from another process (a `TRACEPARENT`).
    pub parent_is_remote: bool,
}

/// The status of a span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpanStatus {
    /// Not set (the default).
    Unset,
    /// Explicitly OK.
    Ok,
    /// An error, with its description (often empty).
    Error {
        /// The description.
        description: String,
    },
}

fn convert_metrics(rm: &ResourceMetrics) -> Vec<Metric> {
    rm.scope_metrics()
        .flat_map(|scope| scope.metrics())
        .filter_map(|m| {
            let (kind, points) = convert_data(m.data());
            (!points.is_empty()).then(|| Metric {
                name: m.name().to_owned(),
                kind,
                unit: m.unit().to_owned(),
                description: m.description().to_owned(),
                points,
            })
        })
        .collect()
}

fn convert_data(data: &AggregatedMetrics) -> (MetricKind, Vec<DataPoint>) {
    match data {
        AggregatedMetrics::U64(d) => convert_typed(d, PointValue::Unsigned),
        AggregatedMetrics::I64(d) => convert_typed(d, PointValue::Signed),
        AggregatedMetrics::F64(d) => convert_typed(d, PointValue::Float),
    }
}

/// Numbers a histogram may hold, as `f64`.
trait AsF64: Copy {
    fn as_f64(self) -> f64;
}

impl AsF64 for f64 {
    fn as_f64(self) -> f64 {
        self
    }
}

#[allow(clippy::cast_precision_loss)] // test values; exact below 2^53
impl AsF64 for u64 {
    fn as_f64(self) -> f64 {
        self as f64
    }
}

#[allow(clippy::cast_precision_loss)]
impl AsF64 for i64 {
    fn as_f64(self) -> f64 {
        self as f64
    }
}

fn convert_typed<T: AsF64>(
    data: &MetricData<T>,
    number: fn(T) -> PointValue,
) -> (MetricKind, Vec<DataPoint>) {
    match data {
        MetricData::Sum(sum) => {
            let kind = if sum.is_monotonic() {
                MetricKind::Counter
            } else {
                MetricKind::UpDownCounter
            };
            let points = sum
                .data_points()
                .map(|p| point(p.attributes(), number(p.value())))
                .collect();
            (kind, points)
        }
        MetricData::Gauge(gauge) => {
            let points = gauge
                .data_points()
                .map(|p| point(p.attributes(), number(p.value())))
                .collect();
            (MetricKind::Gauge, points)
        }
        MetricData::Histogram(h) => (
            MetricKind::Histogram,
            h.data_points().map(histogram_point).collect(),
        ),
        MetricData::ExponentialHistogram(h) => (
            MetricKind::ExponentialHistogram,
            h.data_points()
                .map(|p| {
                    let value = HistogramValue {
                        count: u64::try_from(p.count()).unwrap_or(u64::MAX),
                        sum: p.sum().as_f64(),
                        min: p.min().map(AsF64::as_f64),
                        max: p.max().map(AsF64::as_f64),
                        bounds: Vec::new(),
                        bucket_counts: Vec::new(),
                    };
                    point(p.attributes(), PointValue::Histogram(value))
                })
                .collect(),
        ),
    }
}

fn histogram_point<T: AsF64>(p: &data::HistogramDataPoint<T>) -> DataPoint {
    let value = HistogramValue {
        count: p.count(),
        sum: p.sum().as_f64(),
        min: p.min().map(AsF64::as_f64),
        max: p.max().map(AsF64::as_f64),
        bounds: p.bounds().collect(),
        bucket_counts: p.bucket_counts().collect(),
    };
    point(p.attributes(), PointValue::Histogram(value))
}

fn point<'a>(
    attributes: impl Iterator<Item = &'a opentelemetry::KeyValue>,
    value: PointValue,
) -> DataPoint {
    DataPoint {
        attributes: Attributes::from_key_values(attributes),
        value,
    }
}

fn convert_event(log: &LogDataWithResource) -> Event {
    let r = &log.record;
    let attributes = Attributes::from_pairs(
        r.attributes_iter()
            .map(|(k, v)| (k.as_str().to_owned(), AttrValue::from_any(v))),
    );
    let name = match r.event_name() {
        Some(name) => name.to_owned(),
        None => attributes
            .get(han_telemetry::catalogue::attr::EVENT_NAME)
            .and_then(AttrValue::as_str)
            .unwrap_or_default()
            .to_owned(),
    };
    let context = r.trace_context();
    Event {
        name,
        severity: r.severity_number(),
        severity_text: r.severity_text().map(str::to_owned),
        attributes,
        body: r.body().map(AttrValue::from_any),
        trace_id: context
            .map(|c| c.trace_id)
            .filter(|id| *id != TraceId::INVALID),
        span_id: context
            .map(|c| c.span_id)
            .filter(|id| *id != SpanId::INVALID),
    }
}

fn convert_span(span: &SpanData) -> Span {
    Span {
        name: span.name.to_string(),
        attributes: Attributes::from_key_values(&span.attributes),
        status: match &span.status {
            opentelemetry::trace::Status::Unset => SpanStatus::Unset,
            opentelemetry::trace::Status::Ok => SpanStatus::Ok,
            opentelemetry::trace::Status::Error { description } => SpanStatus::Error {
                description: description.to_string(),
            },
        },
        span_id: span.span_context.span_id(),
        parent_span_id: (span.parent_span_id != SpanId::INVALID).then_some(span.parent_span_id),
        trace_id: span.span_context.trace_id(),
        parent_is_remote: span.parent_span_is_remote,
    }
}
