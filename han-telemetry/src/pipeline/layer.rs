//! The recording pipeline: pre-built instruments and a logger, found through the current
//! tracing dispatcher.
//!
//! Recording looks the pipeline up in the dispatcher instead of a global, so a test that
//! installs its own subscriber with `tracing::subscriber::with_default` sees exactly its own
//! telemetry. A process-wide counter of open pipelines gates the lookup: with telemetry off
//! a recording call is one relaxed atomic load, and no clock is read.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::SystemTime;

use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, LoggerProvider as _};
use opentelemetry::metrics::{Counter, Histogram, Meter, MeterProvider as _};
use opentelemetry::{InstrumentationScope, Key, KeyValue};
use opentelemetry_sdk::logs::{SdkLogRecord, SdkLogger, SdkLoggerProvider};
use opentelemetry_sdk::metrics::SdkMeterProvider;
use tracing::Subscriber;
use tracing_subscriber::Layer;

use super::batched::Batches;
use crate::catalogue::{EventDef, MetricDef, MetricKind, attr, metric};
use crate::config::IncludeAttributes;
use crate::store::{Entry, LocalStore, Moment};

/// Number of pipelines whose owner (a [`crate::TelemetryGuard`] or a test capture) is alive.
static OPEN: AtomicUsize = AtomicUsize::new(0);

/// Keeps the recording gate open while alive. Held by whoever owns a pipeline's lifetime.
#[derive(Debug)]
pub struct Activation(());

impl Activation {
    /// Opens the gate until the returned value is dropped.
    pub fn new() -> Self {
        OPEN.fetch_add(1, Ordering::AcqRel);
        Activation(())
    }
}

impl Default for Activation {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Activation {
    fn drop(&mut self) {
        OPEN.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Whether any pipeline is open in this process. Cheap enough for every call.
#[inline]
pub(crate) fn is_open() -> bool {
    OPEN.load(Ordering::Relaxed) != 0
}

/// Runs `f` with the pipeline of the current dispatcher, if telemetry is on and the current
/// dispatcher has one.
#[inline]
pub(crate) fn with_current(f: impl FnOnce(&Arc<Pipeline>)) {
    if !is_open() {
        return;
    }
    let mut f = Some(f);
    tracing::dispatcher::get_default(|dispatch| {
        if let (Some(layer), Some(f)) = (dispatch.downcast_ref::<HanLayer>(), f.take()) {
            f(&layer.pipeline);
        }
    });
}

/// The instruments of the catalogue's metrics, each built on its first use: building one
/// costs the SDK about 10 to 30 µs in a fresh process, and a hook uses two of the ten.
macro_rules! instruments {
    ($($name:ident: $ty:ty = $build:ident($def:expr),)*) => {
        #[derive(Debug)]
        pub(crate) struct Instruments {
            meter: Meter,
            $($name: OnceLock<$ty>,)*
        }

        impl Instruments {
            fn new(meter: Meter) -> Self {
                Instruments { meter, $($name: OnceLock::new(),)* }
            }

            $(
                pub(crate) fn $name(&self) -> &$ty {
                    self.$name.get_or_init(|| $build(&self.meter, &$def))
                }
            )*
        }
    };
}

instruments! {
    hook_execution: Counter<u64> = counter(metric::HOOK_EXECUTION),
    hook_duration: Histogram<f64> = histogram(metric::HOOK_DURATION),
    plugin_install: Counter<u64> = counter(metric::PLUGIN_INSTALL),
    plugin_uninstall: Counter<u64> = counter(metric::PLUGIN_UNINSTALL),
    task_completed: Counter<u64> = counter(metric::TASK_COMPLETED),
    task_failed: Counter<u64> = counter(metric::TASK_FAILED),
    validation_run: Counter<u64> = counter(metric::VALIDATION_RUN),
    mcp_tool_call: Counter<u64> = counter(metric::MCP_TOOL_CALL),
    session_start: Counter<u64> = counter(metric::SESSION_START),
    frustration_detected: Counter<u64> = counter(metric::FRUSTRATION_DETECTED),
}

fn counter(meter: &Meter, def: &MetricDef) -> Counter<u64> {
    debug_assert_eq!(def.kind, MetricKind::Counter);
    meter
        .u64_counter(def.name)
        .with_unit(def.unit)
        .with_description(def.description)
        .build()
}

fn histogram(meter: &Meter, def: &MetricDef) -> Histogram<f64> {
    debug_assert_eq!(def.kind, MetricKind::Histogram);
    meter
        .f64_histogram(def.name)
        .with_unit(def.unit)
        .with_description(def.description)
        .with_boundaries(def.buckets.to_vec())
        .build()
}

/// Values of the standard attributes (session id, versions, account) known to the host.
///
/// Each is attached to every metric data point and event, subject to the
/// `OTEL_METRICS_INCLUDE_*` switches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StandardAttributes {
    /// Claude Code session id (`session_id` in a hook's input). `session.id`.
    pub session_id: Option<String>,
    /// Version of the application, e.g. the plugin's. `app.version`.
    pub app_version: Option<String>,
    /// Account UUID. `user.account_uuid`.
    pub account_uuid: Option<String>,
    /// Organization UUID. `organization.id`.
    pub organization_id: Option<String>,
    /// Terminal type, e.g. `vscode`. `terminal.type`.
    pub terminal_type: Option<String>,
}

impl StandardAttributes {
    fn to_key_values(&self, include: &IncludeAttributes) -> Vec<KeyValue> {
        let gated = [
            (attr::SESSION_ID, &self.session_id, include.session_id),
            (attr::APP_VERSION, &self.app_version, include.version),
            (attr::ACCOUNT_UUID, &self.account_uuid, include.account_uuid),
            (attr::ORGANIZATION_ID, &self.organization_id, true),
            (attr::TERMINAL_TYPE, &self.terminal_type, true),
        ];
        gated
            .into_iter()
            .filter(|(_, _, on)| *on)
            .filter_map(|(key, value, _)| {
                value
                    .as_ref()
                    .filter(|v| !v.is_empty())
                    .map(|v| KeyValue::new(key, v.clone()))
            })
            .collect()
    }
}

/// The standard attributes in force: as key-values for export (after the include switches)
/// and the session id for the local store (which never leaves the machine).
#[derive(Debug, Clone, Default)]
pub(crate) struct Standard {
    pub(crate) key_values: Arc<[KeyValue]>,
    pub(crate) session_id: Option<Arc<str>>,
    /// Bumped on every change, so caches built from an older set can tell.
    pub(crate) generation: u64,
}

impl Standard {
    fn new(values: &StandardAttributes, include: &IncludeAttributes) -> Self {
        Standard {
            key_values: values.to_key_values(include).into(),
            session_id: values
                .session_id
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(Arc::from),
            generation: 0,
        }
    }
}

/// Source of [`Pipeline::id`]: never reused within a process.
static NEXT_PIPELINE_ID: AtomicU64 = AtomicU64::new(1);

/// Everything a recording call needs.
#[derive(Debug)]
pub(crate) struct Pipeline {
    /// Tells call-site caches which pipeline their bound instruments belong to.
    pub(crate) id: u64,
    /// The generation of `standard`, readable without its lock.
    generation: AtomicU64,
    pub(crate) instruments: Option<Instruments>,
    /// Set when every reader of the meter provider records what threads hold
    /// ([`Batches::record_held`]): bound hooks then batch their metrics per thread.
    pub(crate) batches: Option<Arc<Batches>>,
    logger: Option<SdkLogger>,
    store: Option<LocalStore>,
    include: IncludeAttributes,
    standard: RwLock<Standard>,
    pub(crate) remote_parent: Option<opentelemetry::Context>,
    /// Whether a span layer is installed, so instrumented calls create spans.
    pub(crate) spans: bool,
}

impl Pipeline {
    pub(crate) fn read_standard<T>(&self, f: impl FnOnce(&Standard) -> T) -> T {
        match self.standard.read() {
            Ok(guard) => f(&guard),
            Err(poisoned) => f(&poisoned.into_inner()),
        }
    }

    /// The standard attributes currently in force.
    pub(crate) fn standard(&self) -> Arc<[KeyValue]> {
        self.read_standard(|s| Arc::clone(&s.key_values))
    }

    /// The generation of the standard attributes in force.
    #[inline]
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    fn set_standard(&self, values: &StandardAttributes) {
        let mut standard = Standard::new(values, &self.include);
        let mut guard = match self.standard.write() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        standard.generation = guard.generation + 1;
        self.generation
            .store(standard.generation, Ordering::Release);
        *guard = standard;
    }

    /// Appends `entry` to the local store, if there is one.
    pub(crate) fn store<'a>(&self, entry: impl FnOnce() -> Entry<'a>) {
        if let Some(store) = &self.store {
            let session = self.read_standard(|s| s.session_id.clone());
            store.append(session.as_deref(), entry());
        }
    }

    /// [`Pipeline::store`] with a session id and a time the caller already has.
    pub(crate) fn store_in_session_at<'a>(
        &self,
        session_id: Option<&str>,
        at: Moment,
        entry: impl FnOnce() -> Entry<'a>,
    ) {
        if let Some(store) = &self.store {
            store.append_at(session_id, at, entry());
        }
    }

    /// Emits one catalogue event with `attributes` plus `event.name` and the standard ones,
    /// made now.
    pub(crate) fn emit_event<const N: usize>(
        &self,
        def: &EventDef,
        attributes: [(&'static str, AnyValue); N],
        standard: &[KeyValue],
    ) {
        if self.logger.is_some() {
            self.emit_event_with(def, standard, Moment::of(SystemTime::now()), |record| {
                for (k, v) in attributes {
                    record.add_attribute(Key::from_static_str(k), v);
                }
            });
        }
    }

    /// [`Pipeline::emit_event`] made `at`, with the event's own attributes added by `own` in
    /// place (the hot path builds no array of them to copy into the record); `at` is also its
    /// observed time, so the SDK reads no clock either.
    #[inline]
    pub(crate) fn emit_event_with(
        &self,
        def: &EventDef,
        standard: &[KeyValue],
        at: Moment,
        own: impl FnOnce(&mut SdkLogRecord),
    ) {
        let Some(logger) = &self.logger else { return };
        let at = at.system_time();
        let mut record = logger.create_log_record();
        record.set_event_name(def.name);
        record.set_severity_number(def.severity.number());
        record.set_severity_text(def.severity.text());
        record.set_timestamp(at);
        record.set_observed_timestamp(at);
        record.set_body(AnyValue::from(def.name));
        record.add_attribute(Key::from_static_str(attr::EVENT_NAME), def.name);
        own(&mut record);
        for kv in standard {
            record.add_attribute(kv.key.clone(), value_to_any(kv.value.clone()));
        }
        // A provider given by hand may panic here: the SDK's simple processor exports with
        // `futures_executor::block_on`, which panics inside another `futures` executor. That
        // must not reach the hook (or an unfinished call's drop, while unwinding: an abort).
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| logger.emit(record))).is_err() {
            emit_panicked();
        }
    }
}

/// The one line for a log processor that panicked in `emit`.
#[cold]
fn emit_panicked() {
    crate::warn::warn_once(
        "event-emit-panicked",
        "the logger provider's processor panicked while emitting an event (the SDK's simple \
         processor does inside another `futures` executor: give the provider a batch \
         processor); events it cannot take are not exported, the local store keeps them. The \
         hook is unaffected",
    );
}

fn value_to_any(value: opentelemetry::Value) -> AnyValue {
    match value {
        opentelemetry::Value::Bool(b) => AnyValue::Boolean(b),
        opentelemetry::Value::I64(i) => AnyValue::Int(i),
        opentelemetry::Value::F64(f) => AnyValue::Double(f),
        opentelemetry::Value::String(s) => AnyValue::String(s),
        other => AnyValue::String(other.to_string().into()),
    }
}

/// A tracing layer that carries the han-telemetry pipeline.
///
/// Install it in a subscriber (as [`crate::init`] does) and every recording call made under
/// that subscriber goes to its providers, **while an [`Activation`] is alive**: with none,
/// every recording call is the one atomic load of telemetry off, whatever the subscriber
/// holds. [`crate::init`] and [`crate::Telemetry::into_layer`] keep one in their guard (and
/// drop it first at shutdown); a layer built here by hand needs its own, held for as long as
/// it records:
///
/// ```
/// use han_telemetry::{Activation, HanLayer};
/// use tracing_subscriber::layer::SubscriberExt as _;
///
/// let layer = HanLayer::builder().build(); // add .meter_provider(..), .logger_provider(..)
/// let subscriber = tracing_subscriber::registry().with(layer);
/// let _open = Activation::new(); // without it, nothing below records
/// tracing::subscriber::with_default(subscriber, || {
///     han_telemetry::record::session_start();
/// });
/// ```
///
/// To benchmark instrumented code with the production pipeline (events' export queue,
/// periodic reader, store) rather than providers of your own, use
/// [`crate::TelemetryBuilder::exporters`].
#[derive(Debug, Clone)]
pub struct HanLayer {
    pipeline: Arc<Pipeline>,
}

impl HanLayer {
    /// Starts a layer over the given providers; either may be absent (that signal is off).
    pub fn builder() -> HanLayerBuilder {
        HanLayerBuilder::default()
    }

    /// Replaces the standard attributes attached to everything recorded from now on.
    pub fn set_standard_attributes(&self, values: &StandardAttributes) {
        self.pipeline.set_standard(values);
    }

    pub(crate) fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }
}

/// Builds a [`HanLayer`]. Used by [`crate::init`] and by test harnesses that bring their own
/// in-memory providers.
#[derive(Debug, Default)]
pub struct HanLayerBuilder {
    meter_provider: Option<SdkMeterProvider>,
    logger_provider: Option<SdkLoggerProvider>,
    include: Option<IncludeAttributes>,
    standard: StandardAttributes,
    remote_parent: Option<opentelemetry::Context>,
    spans: bool,
    store: Option<LocalStore>,
    batches: Option<Arc<Batches>>,
}

/// The instrumentation scope of everything han-telemetry records.
pub(crate) fn scope() -> InstrumentationScope {
    InstrumentationScope::builder("han-telemetry")
        .with_version(env!("CARGO_PKG_VERSION"))
        .build()
}

impl HanLayerBuilder {
    /// Bound hooks batch their metrics per thread in `batches`, which every reader of the
    /// meter provider records before it collects (the production pipeline's).
    pub(crate) fn batches(mut self, batches: Arc<Batches>) -> Self {
        self.batches = Some(batches);
        self
    }

    /// Records metrics into this provider.
    pub fn meter_provider(mut self, provider: SdkMeterProvider) -> Self {
        self.meter_provider = Some(provider);
        self
    }

    /// Emits events into this provider.
    pub fn logger_provider(mut self, provider: SdkLoggerProvider) -> Self {
        self.logger_provider = Some(provider);
        self
    }

    /// Which standard attributes may be attached (default: the `OTEL_METRICS_INCLUDE_*`
    /// defaults, session id and account UUID on, version off).
    pub fn include(mut self, include: IncludeAttributes) -> Self {
        self.include = Some(include);
        self
    }

    /// Initial standard attribute values.
    pub fn standard_attributes(mut self, values: StandardAttributes) -> Self {
        self.standard = values;
        self
    }

    /// A remote parent (from `TRACEPARENT`) for hook spans that have no local parent.
    pub fn remote_parent(mut self, cx: Option<opentelemetry::Context>) -> Self {
        self.remote_parent = cx;
        self
    }

    /// Whether instrumented calls create spans: set it when the subscriber also has a span
    /// layer (tracing-opentelemetry). Off, no span is created at all, which keeps the
    /// registry's span bookkeeping off the hot path.
    pub fn spans(mut self, on: bool) -> Self {
        self.spans = on;
        self
    }

    /// Also appends every record to this local store (see [`crate::store`]). [`crate::init`]
    /// opens the one the configuration names; test harnesses normally leave it out.
    pub fn local_store(mut self, store: LocalStore) -> Self {
        self.store = Some(store);
        self
    }

    /// Builds the layer.
    pub fn build(self) -> HanLayer {
        let include = self.include.unwrap_or(IncludeAttributes {
            session_id: true,
            version: false,
            account_uuid: true,
        });
        let instruments = self
            .meter_provider
            .as_ref()
            .map(|p| Instruments::new(p.meter_with_scope(scope())));
        let logger = self
            .logger_provider
            .as_ref()
            .map(|p| p.logger_with_scope(scope()));
        let standard = Standard::new(&self.standard, &include);
        HanLayer {
            pipeline: Arc::new(Pipeline {
                id: NEXT_PIPELINE_ID.fetch_add(1, Ordering::Relaxed),
                generation: AtomicU64::new(0),
                instruments,
                batches: self.batches,
                logger,
                store: self.store,
                include,
                standard: RwLock::new(standard),
                remote_parent: self.remote_parent,
                spans: self.spans,
            }),
        }
    }
}

/// The layer only carries the pipeline; recording calls find it with `downcast_ref`.
impl<S: Subscriber> Layer<S> for HanLayer {}

/// Sets the standard attributes on the pipeline of the current dispatcher.
///
/// A hook calls this once it has read its input, e.g. with the `session_id` Claude Code
/// passes on stdin. Values switched off by `OTEL_METRICS_INCLUDE_*` are dropped here.
pub fn set_standard_attributes(values: &StandardAttributes) {
    with_current(|p| p.set_standard(values));
}
