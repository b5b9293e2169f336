//! OTLP exports as typed values: every metric, data point, log record, span and resource a
//! receiver got, decoded from the protobuf with `opentelemetry-proto` into named structs
//! whose fields say what they hold ([`ReceivedMetric::temporality`], [`DataPoint::value`],
//! [`ReceivedSpan::parent_span_id`], ...), with attribute values kept typed ([`Value`]).
//!
//! [`decode`] reads one OTLP/HTTP request (path, `content-encoding`, body); [`Received`]
//! gathers the requests of a receiver in arrival order.

use std::fmt;
use std::io::Read as _;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1 as common;
use opentelemetry_proto::tonic::logs::v1 as logs;
use opentelemetry_proto::tonic::metrics::v1 as metrics;
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1 as trace;
use prost::Message as _;

use crate::recording::Request;

// ---------------------------------------------------------------------------------------
// Values and attributes

/// An attribute value (OTLP's `AnyValue`), typed.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Value {
    Str(String),
    Bool(bool),
    Int(i64),
    Double(f64),
    Bytes(Vec<u8>),
    Array(Vec<Value>),
    Map(Attributes),
    /// No value (or a string-table index, which only profiles use).
    #[default]
    Empty,
}

impl Value {
    /// The text of a [`Value::Str`].
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(text) => Some(text),
            _ => None,
        }
    }

    fn from_proto(value: Option<&common::AnyValue>) -> Value {
        use common::any_value::Value as V;
        match value.and_then(|v| v.value.as_ref()) {
            Some(V::StringValue(s)) => Value::Str(s.clone()),
            Some(V::BoolValue(b)) => Value::Bool(*b),
            Some(V::IntValue(i)) => Value::Int(*i),
            Some(V::DoubleValue(d)) => Value::Double(*d),
            Some(V::BytesValue(b)) => Value::Bytes(b.clone()),
            Some(V::ArrayValue(a)) => Value::Array(
                a.values
                    .iter()
                    .map(|v| Value::from_proto(Some(v)))
                    .collect(),
            ),
            Some(V::KvlistValue(list)) => Value::Map(Attributes::from_proto(&list.values)),
            Some(V::StringValueStrindex(_)) | None => Value::Empty,
        }
    }
}

/// The value as a person reads it: `lint`, `3`, `2.5`, `true`, `[a, 1]`, `{k: v}`.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Str(s) => f.write_str(s),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Double(d) => write!(f, "{d}"),
            Value::Bytes(b) => write!(f, "{b:?}"),
            Value::Array(values) => {
                let items: Vec<String> = values.iter().map(Value::to_string).collect();
                write!(f, "[{}]", items.join(", "))
            }
            Value::Map(map) => {
                let items: Vec<String> = map.iter().map(|(k, v)| format!("{k}: {v}")).collect();
                write!(f, "{{{}}}", items.join(", "))
            }
            Value::Empty => f.write_str("(empty)"),
        }
    }
}

impl From<&str> for Value {
    fn from(value: &str) -> Value {
        Value::Str(value.to_owned())
    }
}

impl From<String> for Value {
    fn from(value: String) -> Value {
        Value::Str(value)
    }
}

impl From<bool> for Value {
    fn from(value: bool) -> Value {
        Value::Bool(value)
    }
}

impl From<i64> for Value {
    fn from(value: i64) -> Value {
        Value::Int(value)
    }
}

impl From<i32> for Value {
    fn from(value: i32) -> Value {
        Value::Int(i64::from(value))
    }
}

impl From<f64> for Value {
    fn from(value: f64) -> Value {
        Value::Double(value)
    }
}

/// Key-value pairs in the order they came (OTLP allows, but han never sends, a key twice).
#[derive(Clone, Default, PartialEq)]
pub struct Attributes(Vec<(String, Value)>);

impl Attributes {
    fn from_proto(pairs: &[common::KeyValue]) -> Attributes {
        Attributes(
            pairs
                .iter()
                .map(|kv| (kv.key.clone(), Value::from_proto(kv.value.as_ref())))
                .collect(),
        )
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Whether `key` has exactly `value`, type included (`Str("true")` is not `Bool(true)`).
    pub fn has(&self, key: &str, value: impl Into<Value>) -> bool {
        self.get(key) == Some(&value.into())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Attributes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(k, v)| (k, v)))
            .finish()
    }
}

impl<K: Into<String>, V: Into<Value>> FromIterator<(K, V)> for Attributes {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(pairs: I) -> Attributes {
        Attributes(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// ---------------------------------------------------------------------------------------
// The received telemetry

/// Everything received, in arrival order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Received {
    pub metrics: Vec<ReceivedMetric>,
    pub logs: Vec<ReceivedLog>,
    pub spans: Vec<ReceivedSpan>,
    /// The attributes of every resource block (`ResourceMetrics`, `ResourceLogs`,
    /// `ResourceSpans`) in order, so usually repeated.
    pub resources: Vec<Attributes>,
}

/// The instrumentation scope a metric, log record or span came under.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scope {
    pub name: String,
    /// Empty when not set.
    pub version: String,
    pub attributes: Attributes,
}

/// Which kind of data a metric holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MetricKind {
    Sum,
    Gauge,
    Histogram,
    ExponentialHistogram,
    Summary,
    /// No data at all (what rotel forwards of a histogram it could not decode).
    #[default]
    Empty,
}

/// A sum's or histogram's aggregation temporality.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Temporality {
    Cumulative,
    Delta,
    Unspecified,
}

impl Temporality {
    fn from_proto(value: i32) -> Temporality {
        match metrics::AggregationTemporality::try_from(value) {
            Ok(metrics::AggregationTemporality::Cumulative) => Temporality::Cumulative,
            Ok(metrics::AggregationTemporality::Delta) => Temporality::Delta,
            _ => Temporality::Unspecified,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReceivedMetric {
    pub name: String,
    pub description: String,
    pub unit: String,
    pub kind: MetricKind,
    /// Sums only.
    pub monotonic: Option<bool>,
    /// Sums, histograms and exponential histograms.
    pub temporality: Option<Temporality>,
    pub points: Vec<DataPoint>,
    pub scope: Scope,
    pub resource: Attributes,
}

impl ReceivedMetric {
    /// The first data point with all of `attributes`.
    pub fn point(&self, attributes: &[(&str, Value)]) -> Option<&DataPoint> {
        self.points.iter().find(|p| {
            attributes
                .iter()
                .all(|(k, v)| p.attributes.get(k) == Some(v))
        })
    }
}

/// A sum's or gauge's value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    Int(i64),
    Double(f64),
}

/// One data point of any kind; the fields a kind does not have stay empty.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DataPoint {
    pub attributes: Attributes,
    pub start_time_unix_nano: u64,
    pub time_unix_nano: u64,
    /// Sums and gauges; `None` for a point without a value (what rotel forwards of an
    /// http/json `asInt` sent as a string).
    pub value: Option<Number>,
    /// Histograms, exponential histograms and summaries.
    pub count: Option<u64>,
    pub sum: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// Histogram explicit bounds, and the bucket counts (one more than the bounds).
    pub bounds: Vec<f64>,
    pub bucket_counts: Vec<u64>,
    /// Exponential histograms.
    pub exponential: Option<ExponentialBuckets>,
    /// Summaries.
    pub quantiles: Vec<Quantile>,
    pub exemplars: Vec<Exemplar>,
}

impl DataPoint {
    pub fn attr(&self, key: &str) -> Option<&Value> {
        self.attributes.get(key)
    }

    /// A sum's or gauge's value as `f64`, whichever its type.
    pub fn value_f64(&self) -> Option<f64> {
        match self.value? {
            Number::Int(i) => Some(i as f64),
            Number::Double(d) => Some(d),
        }
    }

    /// A sum's or gauge's integer value.
    pub fn value_int(&self) -> Option<i64> {
        match self.value? {
            Number::Int(i) => Some(i),
            Number::Double(_) => None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExponentialBuckets {
    pub scale: i32,
    pub zero_count: u64,
    /// `(offset, counts)` of the positive and negative ranges.
    pub positive: (i32, Vec<u64>),
    pub negative: (i32, Vec<u64>),
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Quantile {
    pub quantile: f64,
    pub value: f64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Exemplar {
    /// Lowercase hex; empty when not set.
    pub trace_id: String,
    pub span_id: String,
    pub time_unix_nano: u64,
    pub value: Option<Number>,
    pub filtered_attributes: Attributes,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReceivedLog {
    pub observed_time_unix_nano: u64,
    pub time_unix_nano: u64,
    /// Empty when not set.
    pub severity_text: String,
    /// OTLP's severity number (`9` is INFO, `13` WARN); 0 when not set.
    pub severity_number: i32,
    /// `None` when empty.
    pub event_name: Option<String>,
    pub body: Value,
    pub attributes: Attributes,
    /// Lowercase hex; empty when not set.
    pub trace_id: String,
    pub span_id: String,
    pub flags: u32,
    pub scope: Scope,
    pub resource: Attributes,
}

impl ReceivedLog {
    pub fn attr(&self, key: &str) -> Option<&Value> {
        self.attributes.get(key)
    }

    /// The body's text; empty unless the body is a string.
    pub fn body_text(&self) -> &str {
        self.body.as_str().unwrap_or_default()
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SpanKind {
    #[default]
    Unspecified,
    Internal,
    Server,
    Client,
    Producer,
    Consumer,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StatusCode {
    /// Also a span without a status at all.
    #[default]
    Unset,
    Ok,
    Error,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReceivedSpan {
    pub name: String,
    /// Lowercase hex; `parent_span_id` is empty for a root span.
    pub trace_id: String,
    pub span_id: String,
    pub parent_span_id: String,
    pub kind: SpanKind,
    pub trace_state: String,
    pub start_time_unix_nano: u64,
    pub end_time_unix_nano: u64,
    pub status_code: StatusCode,
    pub status_message: String,
    pub attributes: Attributes,
    pub events: Vec<SpanEvent>,
    pub links: Vec<SpanLink>,
    pub scope: Scope,
    pub resource: Attributes,
}

impl ReceivedSpan {
    pub fn attr(&self, key: &str) -> Option<&Value> {
        self.attributes.get(key)
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpanEvent {
    pub name: String,
    pub time_unix_nano: u64,
    pub dropped_attributes_count: u32,
    pub attributes: Attributes,
}

impl SpanEvent {
    pub fn attr(&self, key: &str) -> Option<&Value> {
        self.attributes.get(key)
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpanLink {
    pub trace_id: String,
    pub span_id: String,
    pub trace_state: String,
    pub dropped_attributes_count: u32,
    pub attributes: Attributes,
}

// ---------------------------------------------------------------------------------------
// Decoding

/// One decoded OTLP export request.
#[derive(Debug, Clone, PartialEq)]
pub enum Export {
    Metrics(ExportMetricsServiceRequest),
    Logs(ExportLogsServiceRequest),
    Traces(ExportTraceServiceRequest),
}

/// Decodes one OTLP/HTTP protobuf request by its path (`.../v1/metrics`, `/v1/logs`,
/// `/v1/traces`), gunzipping it first when `content-encoding` says `gzip`.
pub fn decode(request: &Request) -> Result<Export, String> {
    let body = request
        .body
        .as_deref()
        .ok_or_else(|| format!("{}: the body was not received in full", request.path))?;
    let body = match request.header("content-encoding") {
        Some("gzip") => {
            let mut plain = Vec::new();
            flate2::read::GzDecoder::new(body)
                .read_to_end(&mut plain)
                .map_err(|e| format!("{}: cannot gunzip the body: {e}", request.path))?;
            plain
        }
        None | Some("identity") => body.to_vec(),
        Some(other) => {
            return Err(format!(
                "{}: unknown content-encoding {other:?}",
                request.path
            ));
        }
    };
    let bad =
        |e: prost::DecodeError| format!("{}: not an OTLP protobuf request: {e}", request.path);
    let path = request.path.as_str();
    if path.ends_with("/v1/metrics") {
        ExportMetricsServiceRequest::decode(body.as_slice())
            .map(Export::Metrics)
            .map_err(bad)
    } else if path.ends_with("/v1/logs") {
        ExportLogsServiceRequest::decode(body.as_slice())
            .map(Export::Logs)
            .map_err(bad)
    } else if path.ends_with("/v1/traces") {
        ExportTraceServiceRequest::decode(body.as_slice())
            .map(Export::Traces)
            .map_err(bad)
    } else {
        Err(format!("{path}: not an OTLP/HTTP signal path"))
    }
}

impl Received {
    /// Everything in `requests` that was received in full, decoded; panics naming a request
    /// that is not OTLP protobuf.
    pub fn from_requests(requests: &[Request]) -> Received {
        let mut received = Received::default();
        for request in requests.iter().filter(|r| r.body.is_some()) {
            match decode(request) {
                Ok(export) => received.add(&export),
                Err(why) => panic!("the OTLP receiver got a request it cannot read: {why}"),
            }
        }
        received
    }

    /// Adds what one export request holds.
    pub fn add(&mut self, export: &Export) {
        match export {
            Export::Metrics(request) => {
                for block in &request.resource_metrics {
                    let resource = self.resource(block.resource.as_ref());
                    let items = block
                        .scope_metrics
                        .iter()
                        .map(|s| (s.scope.as_ref(), &s.metrics));
                    self.metrics
                        .extend(scoped(items, &resource, ReceivedMetric::from_proto));
                }
            }
            Export::Logs(request) => {
                for block in &request.resource_logs {
                    let resource = self.resource(block.resource.as_ref());
                    let items = block
                        .scope_logs
                        .iter()
                        .map(|s| (s.scope.as_ref(), &s.log_records));
                    self.logs
                        .extend(scoped(items, &resource, ReceivedLog::from_proto));
                }
            }
            Export::Traces(request) => {
                for block in &request.resource_spans {
                    let resource = self.resource(block.resource.as_ref());
                    let items = block
                        .scope_spans
                        .iter()
                        .map(|s| (s.scope.as_ref(), &s.spans));
                    self.spans
                        .extend(scoped(items, &resource, ReceivedSpan::from_proto));
                }
            }
        }
    }

    fn resource(&mut self, resource: Option<&Resource>) -> Attributes {
        let attributes = resource.map_or_else(Attributes::default, |r| {
            Attributes::from_proto(&r.attributes)
        });
        self.resources.push(attributes.clone());
        attributes
    }
}

/// `make(item, scope, resource)` for every item of every `(scope, items)` of one resource.
fn scoped<'a, I: 'a, T>(
    scopes: impl Iterator<Item = (Option<&'a common::InstrumentationScope>, &'a Vec<I>)>,
    resource: &Attributes,
    make: fn(&I, &Scope, &Attributes) -> T,
) -> Vec<T> {
    let mut out = Vec::new();
    for (scope, items) in scopes {
        let scope = Scope::from_proto(scope);
        out.extend(items.iter().map(|item| make(item, &scope, resource)));
    }
    out
}

impl Scope {
    fn from_proto(scope: Option<&common::InstrumentationScope>) -> Scope {
        scope.map_or_else(Scope::default, |s| Scope {
            name: s.name.clone(),
            version: s.version.clone(),
            attributes: Attributes::from_proto(&s.attributes),
        })
    }
}

impl ReceivedMetric {
    fn from_proto(
        metric: &metrics::Metric,
        scope: &Scope,
        resource: &Attributes,
    ) -> ReceivedMetric {
        use metrics::metric::Data;
        let mut received = ReceivedMetric {
            name: metric.name.clone(),
            description: metric.description.clone(),
            unit: metric.unit.clone(),
            scope: scope.clone(),
            resource: resource.clone(),
            ..ReceivedMetric::default()
        };
        match &metric.data {
            Some(Data::Sum(sum)) => {
                received.kind = MetricKind::Sum;
                received.monotonic = Some(sum.is_monotonic);
                received.temporality = Some(Temporality::from_proto(sum.aggregation_temporality));
                received.points = sum.data_points.iter().map(DataPoint::number).collect();
            }
            Some(Data::Gauge(gauge)) => {
                received.kind = MetricKind::Gauge;
                received.points = gauge.data_points.iter().map(DataPoint::number).collect();
            }
            Some(Data::Histogram(histogram)) => {
                received.kind = MetricKind::Histogram;
                received.temporality =
                    Some(Temporality::from_proto(histogram.aggregation_temporality));
                received.points = histogram
                    .data_points
                    .iter()
                    .map(DataPoint::histogram)
                    .collect();
            }
            Some(Data::ExponentialHistogram(histogram)) => {
                received.kind = MetricKind::ExponentialHistogram;
                received.temporality =
                    Some(Temporality::from_proto(histogram.aggregation_temporality));
                received.points = histogram
                    .data_points
                    .iter()
                    .map(DataPoint::exponential)
                    .collect();
            }
            Some(Data::Summary(summary)) => {
                received.kind = MetricKind::Summary;
                received.points = summary.data_points.iter().map(DataPoint::summary).collect();
            }
            None => {}
        }
        received
    }
}

fn number(value: Option<&metrics::number_data_point::Value>) -> Option<Number> {
    use metrics::number_data_point::Value as V;
    match value? {
        V::AsInt(i) => Some(Number::Int(*i)),
        V::AsDouble(d) => Some(Number::Double(*d)),
    }
}

impl DataPoint {
    fn number(point: &metrics::NumberDataPoint) -> DataPoint {
        DataPoint {
            attributes: Attributes::from_proto(&point.attributes),
            start_time_unix_nano: point.start_time_unix_nano,
            time_unix_nano: point.time_unix_nano,
            value: number(point.value.as_ref()),
            exemplars: point.exemplars.iter().map(Exemplar::from_proto).collect(),
            ..DataPoint::default()
        }
    }

    fn histogram(point: &metrics::HistogramDataPoint) -> DataPoint {
        DataPoint {
            attributes: Attributes::from_proto(&point.attributes),
            start_time_unix_nano: point.start_time_unix_nano,
            time_unix_nano: point.time_unix_nano,
            count: Some(point.count),
            sum: point.sum,
            min: point.min,
            max: point.max,
            bounds: point.explicit_bounds.clone(),
            bucket_counts: point.bucket_counts.clone(),
            exemplars: point.exemplars.iter().map(Exemplar::from_proto).collect(),
            ..DataPoint::default()
        }
    }

    fn exponential(point: &metrics::ExponentialHistogramDataPoint) -> DataPoint {
        let range = |buckets: Option<&metrics::exponential_histogram_data_point::Buckets>| {
            buckets.map_or_else(Default::default, |b| (b.offset, b.bucket_counts.clone()))
        };
        DataPoint {
            attributes: Attributes::from_proto(&point.attributes),
            start_time_unix_nano: point.start_time_unix_nano,
            time_unix_nano: point.time_unix_nano,
            count: Some(point.count),
            sum: point.sum,
            min: point.min,
            max: point.max,
            exponential: Some(ExponentialBuckets {
                scale: point.scale,
                zero_count: point.zero_count,
                positive: range(point.positive.as_ref()),
                negative: range(point.negative.as_ref()),
            }),
            exemplars: point.exemplars.iter().map(Exemplar::from_proto).collect(),
            ..DataPoint::default()
        }
    }

    fn summary(point: &metrics::SummaryDataPoint) -> DataPoint {
        DataPoint {
            attributes: Attributes::from_proto(&point.attributes),
            start_time_unix_nano: point.start_time_unix_nano,
            time_unix_nano: point.time_unix_nano,
            count: Some(point.count),
            sum: Some(point.sum),
            quantiles: point
                .quantile_values
                .iter()
                .map(|q| Quantile {
                    quantile: q.quantile,
                    value: q.value,
                })
                .collect(),
            ..DataPoint::default()
        }
    }
}

impl Exemplar {
    fn from_proto(exemplar: &metrics::Exemplar) -> Exemplar {
        use metrics::exemplar::Value as V;
        Exemplar {
            trace_id: hex(&exemplar.trace_id),
            span_id: hex(&exemplar.span_id),
            time_unix_nano: exemplar.time_unix_nano,
            value: exemplar.value.as_ref().map(|v| match v {
                V::AsInt(i) => Number::Int(*i),
                V::AsDouble(d) => Number::Double(*d),
            }),
            filtered_attributes: Attributes::from_proto(&exemplar.filtered_attributes),
        }
    }
}

impl ReceivedLog {
    fn from_proto(record: &logs::LogRecord, scope: &Scope, resource: &Attributes) -> ReceivedLog {
        ReceivedLog {
            observed_time_unix_nano: record.observed_time_unix_nano,
            time_unix_nano: record.time_unix_nano,
            severity_text: record.severity_text.clone(),
            severity_number: record.severity_number,
            event_name: Some(record.event_name.clone()).filter(|name| !name.is_empty()),
            body: Value::from_proto(record.body.as_ref()),
            attributes: Attributes::from_proto(&record.attributes),
            trace_id: hex(&record.trace_id),
            span_id: hex(&record.span_id),
            flags: record.flags,
            scope: scope.clone(),
            resource: resource.clone(),
        }
    }
}

impl ReceivedSpan {
    fn from_proto(span: &trace::Span, scope: &Scope, resource: &Attributes) -> ReceivedSpan {
        use trace::span::SpanKind as K;
        use trace::status::StatusCode as C;
        let kind = match K::try_from(span.kind) {
            Ok(K::Internal) => SpanKind::Internal,
            Ok(K::Server) => SpanKind::Server,
            Ok(K::Client) => SpanKind::Client,
            Ok(K::Producer) => SpanKind::Producer,
            Ok(K::Consumer) => SpanKind::Consumer,
            Ok(K::Unspecified) | Err(_) => SpanKind::Unspecified,
        };
        let status = span.status.as_ref();
        let status_code = match status.map(|s| C::try_from(s.code)) {
            Some(Ok(C::Ok)) => StatusCode::Ok,
            Some(Ok(C::Error)) => StatusCode::Error,
            _ => StatusCode::Unset,
        };
        ReceivedSpan {
            name: span.name.clone(),
            trace_id: hex(&span.trace_id),
            span_id: hex(&span.span_id),
            parent_span_id: hex(&span.parent_span_id),
            kind,
            trace_state: span.trace_state.clone(),
            start_time_unix_nano: span.start_time_unix_nano,
            end_time_unix_nano: span.end_time_unix_nano,
            status_code,
            status_message: status.map(|s| s.message.clone()).unwrap_or_default(),
            attributes: Attributes::from_proto(&span.attributes),
            events: span
                .events
                .iter()
                .map(|e| SpanEvent {
                    name: e.name.clone(),
                    time_unix_nano: e.time_unix_nano,
                    dropped_attributes_count: e.dropped_attributes_count,
                    attributes: Attributes::from_proto(&e.attributes),
                })
                .collect(),
            links: span
                .links
                .iter()
                .map(|l| SpanLink {
                    trace_id: hex(&l.trace_id),
                    span_id: hex(&l.span_id),
                    trace_state: l.trace_state.clone(),
                    dropped_attributes_count: l.dropped_attributes_count,
                    attributes: Attributes::from_proto(&l.attributes),
                })
                .collect(),
            scope: scope.clone(),
            resource: resource.clone(),
        }
    }
}
