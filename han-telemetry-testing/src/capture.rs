//! Running code with telemetry routed to in-memory exporters for that scope only.
//!
//! Each capture builds its own providers and installs them in a *scoped* tracing dispatcher
//! (`tracing::dispatcher::with_default`, or `WithSubscriber` for a future). han-telemetry's
//! recording calls look their pipeline up in the current dispatcher, so tests running in
//! parallel threads never see each other's telemetry and nothing global is set.
//!
//! Collection is deterministic: metrics are read with a `ManualReader` (no periodic thread),
//! and events and spans go into in-memory exporters in the call that makes them (`inline`:
//! no executor, so a hook polled by any executor records), so everything recorded before
//! the capture returns is in the snapshot.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use han_telemetry::config::{Config, IncludeAttributes};
use han_telemetry::{Activation, HanLayer, StandardAttributes};
use opentelemetry::KeyValue;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{InMemoryLogExporter, SdkLoggerProvider};
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::reader::MetricReader;
use opentelemetry_sdk::metrics::{
    InstrumentKind, ManualReader, Pipeline, SdkMeterProvider, Temporality,
};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use tracing::Dispatch;

use crate::inline::{InlineLogs, InlineSpans};
use tracing::instrument::WithSubscriber as _;
use tracing_subscriber::layer::SubscriberExt as _;

use crate::attributes::{AttrValue, Attributes};
use crate::interest::keep_interest_open;
use crate::snapshot::Telemetry;

/// Runs `f` with telemetry captured, and returns everything it emitted.
///
/// Uses the defaults of [`Capture::new`]; see [`Capture`] for options.
#[must_use = "the snapshot is what the test asserts on"]
pub fn capture(f: impl FnOnce()) -> Telemetry {
    Capture::new().run(f).1
}

/// Awaits `future` with telemetry captured, and returns everything it emitted.
///
/// Works under both tokio runtime flavours. A task spawned inside the future records into
/// this capture when it is instrumented with the current dispatcher
/// (`tokio::spawn(fut.with_current_subscriber())`, from
/// `tracing::instrument::WithSubscriber`) and finishes before `future` does.
pub async fn capture_async(future: impl Future<Output = ()>) -> Telemetry {
    Capture::new().run_async(future).await.1
}

/// Options of a capture: the standard attributes, include switches, trace context and
/// resource the runtime would have been configured with.
#[derive(Debug, Clone)]
pub struct Capture {
    standard: StandardAttributes,
    include: IncludeAttributes,
    traceparent: Option<String>,
    tracestate: Option<String>,
    service_name: String,
    resource: Vec<(String, AttrValue)>,
}

impl Default for Capture {
    fn default() -> Self {
        Self::new()
    }
}

impl Capture {
    /// No standard attributes, the `OTEL_METRICS_INCLUDE_*` defaults (session id and account
    /// UUID on, version off), no remote parent, and a resource of `service.name="han"`.
    pub fn new() -> Self {
        Capture {
            standard: StandardAttributes::default(),
            include: IncludeAttributes::default(),
            traceparent: None,
            tracestate: None,
            service_name: "han".to_owned(),
            resource: Vec::new(),
        }
    }

    /// Takes what a capture can reproduce from a runtime configuration: include switches,
    /// `TRACEPARENT`/`TRACESTATE`, `service.name` and `OTEL_RESOURCE_ATTRIBUTES`. Pair it with
    /// [`ConfigFixture`](crate::ConfigFixture) to test how code behaves in an environment.
    pub fn from_config(config: &Config) -> Self {
        Capture {
            include: config.include,
            traceparent: config.traceparent.clone(),
            tracestate: config.tracestate.clone(),
            service_name: config.service_name.clone(),
            resource: config
                .resource_attributes
                .iter()
                .map(|(k, v)| (k.clone(), AttrValue::Str(v.clone())))
                .collect(),
            ..Capture::new()
        }
    }

    /// Standard attributes known at start (session id, versions, account, ...).
    pub fn standard_attributes(mut self, values: StandardAttributes) -> Self {
        self.standard = values;
        self
    }

    /// Which standard attributes may be attached (`OTEL_METRICS_INCLUDE_*`).
    pub fn include(mut self, include: IncludeAttributes) -> Self {
        self.include = include;
        self
    }

    /// A W3C `TRACEPARENT` to join, as Claude Code passes it to a hook. Invalid values are
    /// ignored, as the runtime ignores them.
    pub fn traceparent(mut self, traceparent: impl Into<String>) -> Self {
        self.traceparent = Some(traceparent.into());
        self
    }

    /// The W3C `TRACESTATE` that goes with the traceparent.
    pub fn tracestate(mut self, tracestate: impl Into<String>) -> Self {
        self.tracestate = Some(tracestate.into());
        self
    }

    /// `service.name` of the resource (default `han`).
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = name.into();
        self
    }

    /// Adds a resource attribute, as `OTEL_RESOURCE_ATTRIBUTES` would.
    pub fn resource_attribute(
        mut self,
        key: impl Into<String>,
        value: impl Into<AttrValue>,
    ) -> Self {
        self.resource.push((key.into(), value.into()));
        self
    }

    /// Runs `f` with telemetry captured; returns its result and what it emitted.
    #[must_use = "the snapshot is what the test asserts on"]
    pub fn run<R>(self, f: impl FnOnce() -> R) -> (R, Telemetry) {
        let session = Session::start(self);
        let out = tracing::dispatcher::with_default(&session.dispatch, f);
        (out, session.finish())
    }

    /// Awaits `future` with telemetry captured; returns its output and what it emitted.
    /// See [`capture_async`] for spawned tasks.
    pub async fn run_async<F: Future>(self, future: F) -> (F::Output, Telemetry) {
        let session = Session::start(self);
        let out = future.with_subscriber(session.dispatch.clone()).await;
        (out, session.finish())
    }
}

/// A `ManualReader` shared between the meter provider (which owns its reader) and the
/// capture (which collects from it).
#[derive(Debug, Clone)]
struct SharedReader(Arc<ManualReader>);

impl MetricReader for SharedReader {
    fn register_pipeline(&self, pipeline: std::sync::Weak<Pipeline>) {
        self.0.register_pipeline(pipeline);
    }

    fn collect(&self, rm: &mut ResourceMetrics) -> OTelSdkResult {
        self.0.collect(rm)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.0.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }

    fn temporality(&self, kind: InstrumentKind) -> Temporality {
        self.0.temporality(kind)
    }
}

/// The providers, exporters and dispatcher of one capture.
struct Session {
    reader: SharedReader,
    // Kept so the pipelines stay alive until collected.
    _meter: SdkMeterProvider,
    _logger: SdkLoggerProvider,
    _tracer: SdkTracerProvider,
    logs: InMemoryLogExporter,
    spans: InMemorySpanExporter,
    dispatch: Dispatch,
    resource: Attributes,
    _open: Activation,
}

impl Session {
    fn start(options: Capture) -> Session {
        keep_interest_open();
        let mut resource_kvs = vec![KeyValue::new("service.name", options.service_name.clone())];
        resource_kvs.extend(
            options
                .resource
                .iter()
                .filter(|(k, _)| k != "service.name")
                .map(|(k, v)| KeyValue::new(k.clone(), otel_value(v))),
        );
        let resource = Resource::builder_empty()
            .with_attributes(resource_kvs.clone())
            .build();

        let reader = SharedReader(Arc::new(ManualReader::builder().build()));
        let meter = SdkMeterProvider::builder()
            .with_reader(reader.clone())
            .with_resource(resource.clone())
            .build();
        let logs = InMemoryLogExporter::default();
        let logger = SdkLoggerProvider::builder()
            .with_log_processor(InlineLogs::new(logs.clone()))
            .with_resource(resource.clone())
            .build();
        let spans = InMemorySpanExporter::default();
        let tracer = SdkTracerProvider::builder()
            .with_span_processor(InlineSpans::new(spans.clone()))
            .with_resource(resource)
            .build();

        let han = HanLayer::builder()
            .meter_provider(meter.clone())
            .logger_provider(logger.clone())
            .include(options.include)
            .standard_attributes(options.standard)
            .remote_parent(han_telemetry::remote_parent(
                options.traceparent.as_deref(),
                options.tracestate.as_deref(),
            ))
            .spans(true)
            .build();
        // Location, thread, target and busy/idle attributes are left out: they depend on
        // where and how fast the test runs, and would drown the attributes under test.
        let span_layer = tracing_opentelemetry::layer()
            .with_tracer(tracer.tracer("han-telemetry"))
            .with_location(false)
            .with_threads(false)
            .with_target(false)
            .with_tracked_inactivity(false);
        let subscriber = tracing_subscriber::registry().with(han).with(span_layer);

        Session {
            reader,
            _meter: meter,
            _logger: logger,
            _tracer: tracer,
            logs,
            spans,
            // Registering a new dispatcher rebuilds tracing's callsite interest cache; see
            // the `interest` module for why that is enough.
            dispatch: Dispatch::new(subscriber),
            resource: Attributes::from_key_values(&resource_kvs),
            _open: Activation::new(),
        }
    }

    fn finish(self) -> Telemetry {
        let mut problems = Vec::new();
        let mut rm = ResourceMetrics::default();
        let metrics = match self.reader.collect(&mut rm) {
            Ok(()) => Some(&rm),
            Err(e) => {
                problems.push(format!("collecting metrics failed: {e}"));
                None
            }
        };
        let logs = self.logs.get_emitted_logs().unwrap_or_else(|e| {
            problems.push(format!("reading events failed: {e}"));
            Vec::new()
        });
        let spans = self.spans.get_finished_spans().unwrap_or_else(|e| {
            problems.push(format!("reading spans failed: {e}"));
            Vec::new()
        });
        Telemetry::collect(metrics, &logs, &spans, self.resource, problems)
    }
}

fn otel_value(value: &AttrValue) -> opentelemetry::Value {
    match value {
        AttrValue::Str(s) => opentelemetry::Value::from(s.clone()),
        AttrValue::Int(i) => opentelemetry::Value::I64(*i),
        AttrValue::Float(f) => opentelemetry::Value::F64(*f),
        AttrValue::Bool(b) => opentelemetry::Value::Bool(*b),
    }
}
