//! From configuration to running providers and the tracing layers that feed them.

use std::sync::Arc;
use std::time::Duration;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogBatch, LogExporter, SdkLoggerProvider};
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{SdkMeterProvider, Temporality};
use opentelemetry_sdk::trace::{BatchSpanProcessor, SdkTracerProvider};
use tracing::Subscriber;
use tracing_subscriber::filter::{LevelFilter, filter_fn};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{Layer, Registry};

use crate::config::vars::{self, Role};
use crate::config::{Config, Diagnostic, Signal};
use crate::export::{self, Io};
use crate::pipeline::batched::Batches;
use crate::pipeline::guard::{CatchUp, Providers, TelemetryGuard};
use crate::pipeline::last::LastExport;
use crate::pipeline::layer::{Activation, HanLayer, StandardAttributes};
use crate::pipeline::queue::{
    Batching, DEFAULT_EVENT_QUEUE, DEFAULT_EXPORT_BATCH, EventQueue, Overload,
};
use crate::pipeline::reader::reader;
use crate::pipeline::{context, resource};
use crate::store::LocalStore;
use crate::warn;

/// Targets whose events and spans never reach our exporters: the exporters' own stack
/// (exporting its logs would loop) and the SDK's internal diagnostics.
const EXCLUDED_TARGETS: [&str; 7] = [
    "opentelemetry",
    "hyper",
    "h2",
    "tonic",
    "tower",
    "reqwest",
    "rustls",
];

fn exported(target: &str) -> bool {
    !EXCLUDED_TARGETS.iter().any(|t| target.starts_with(t))
}

/// Sets telemetry up from the environment and Claude Code's settings files, installs it as
/// the global tracing subscriber, and returns the guard that flushes it at exit.
///
/// The local metrics store ([`crate::store`]) records whatever the OpenTelemetry settings.
/// With telemetry off (`CLAUDE_CODE_ENABLE_TELEMETRY` unset or `0`, or `OTEL_SDK_DISABLED=true`)
/// only the store records; with the store off too (`HAN_METRICS_STORE=off`) nothing is
/// installed and every recording call costs one atomic load.
pub fn init() -> TelemetryGuard {
    TelemetryBuilder::from_env().install()
}

/// Configures telemetry before starting it.
#[derive(Debug, Clone)]
pub struct TelemetryBuilder {
    config: Config,
    service_version: String,
    standard: StandardAttributes,
    event_queue: Option<usize>,
    exporters: Option<OwnExporters>,
}

/// Exporters given to [`TelemetryBuilder::exporters`], with what builds the providers over
/// them.
#[derive(Clone)]
struct OwnExporters {
    build: Arc<BuildOwn>,
}

impl std::fmt::Debug for OwnExporters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OwnExporters")
    }
}

/// What builds the providers over [`OwnExporters`].
type BuildOwn = dyn Fn(&Production<'_>, &mut Built) + Send + Sync;

/// How the production pipeline puts exporters to work: a [`reader`] per metric exporter, an
/// [`EventQueue`] per log exporter, each exporting on the export's I/O runtime at exit.
struct Production<'a> {
    resource: &'a opentelemetry_sdk::Resource,
    config: &'a Config,
    capacity: usize,
    overload: &'a Arc<Overload>,
    io: &'a tokio::runtime::Handle,
}

/// The providers [`Production`] built, and their last exports for the guard.
#[derive(Default)]
struct Built {
    meter: Option<SdkMeterProvider>,
    /// What the pipeline's threads hold of its hooks' metrics, recorded by its readers.
    batches: Option<Arc<Batches>>,
    logger: Option<SdkLoggerProvider>,
    last: Vec<(Signal, Arc<dyn LastExport>)>,
}

impl Production<'_> {
    fn meter<E: PushMetricExporter + 'static>(&self, sinks: Vec<E>, built: &mut Built) {
        if sinks.is_empty() {
            return;
        }
        let mut builder = SdkMeterProvider::builder().with_resource(self.resource.clone());
        let batches = Arc::new(Batches::default());
        for sink in sinks {
            let interval = self.config.metric_export_interval;
            let (reader, last) = reader(sink, interval, self.io, &batches);
            builder = builder.with_reader(reader);
            built.last.push((Signal::Metrics, last));
        }
        built.meter = Some(builder.build());
        built.batches = Some(batches);
    }

    fn logger<E: LogExporter + 'static>(&self, sinks: Vec<E>, built: &mut Built) {
        if sinks.is_empty() {
            return;
        }
        let mut builder = SdkLoggerProvider::builder().with_resource(self.resource.clone());
        let batching = Batching {
            capacity: self.capacity,
            batch: whole_number_from_env("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", DEFAULT_EXPORT_BATCH),
            delay: self.config.logs_export_interval,
        };
        for sink in sinks {
            let queue = EventQueue::new(sink, batching, self.overload, self.io);
            built.last.push((Signal::Logs, queue.last()));
            builder = builder.with_log_processor(queue);
        }
        built.logger = Some(builder.build());
    }
}

impl TelemetryBuilder {
    /// Starts from the process environment and Claude Code's settings files.
    pub fn from_env() -> Self {
        crate::phase::mark("start");
        Self::new(Config::from_env())
    }

    /// Starts from a given configuration.
    pub fn new(config: Config) -> Self {
        TelemetryBuilder {
            config,
            service_version: env!("CARGO_PKG_VERSION").to_owned(),
            standard: StandardAttributes::default(),
            event_queue: None,
            exporters: None,
        }
    }

    /// `service.version` of the resource (default: han-telemetry's version). Pass your
    /// plugin's: `.service_version(env!("CARGO_PKG_VERSION"))`.
    pub fn service_version(mut self, version: impl Into<String>) -> Self {
        self.service_version = version.into();
        self
    }

    /// Standard attributes known at start, e.g. the session id from a hook's input.
    pub fn standard_attributes(mut self, values: StandardAttributes) -> Self {
        self.standard = values;
        self
    }

    /// How many events may wait for export (default: `OTEL_BLRP_MAX_QUEUE_SIZE`, else
    /// [`DEFAULT_EVENT_QUEUE`]). Past it an event is left out of the export, never silently:
    /// the first time says so on stderr, and the total goes into [`ShutdownReport`]'s
    /// `events_dropped` and the store's export receipt. The local store keeps every event
    /// whatever the queue. A long-running process recording faster than its collector takes
    /// may want more.
    ///
    /// [`ShutdownReport`]: crate::ShutdownReport
    pub fn event_queue(mut self, capacity: usize) -> Self {
        self.event_queue = Some(capacity.max(1));
        self
    }

    /// The production pipeline over your own exporters instead of the configured ones:
    /// everything else is as [`init`] builds it (metrics exported every
    /// `OTEL_METRIC_EXPORT_INTERVAL`, the events' export queue, the local store, the exit
    /// budget), and it
    /// is on whatever `CLAUDE_CODE_ENABLE_TELEMETRY` says. Spans are off. For a plugin author
    /// who benchmarks or tests their own instrumented code; [`Discard`] exports nothing.
    ///
    /// ```
    /// use han_telemetry::config::{Config, Sources};
    /// use han_telemetry::{Discard, TelemetryBuilder};
    ///
    /// #[han_telemetry::instrument_hook(hook_name = "lint", hook_type = "PostToolUse")]
    /// fn lint(input: &str) -> Result<(), String> {
    ///     if input.is_empty() { Err("empty".into()) } else { Ok(()) }
    /// }
    ///
    /// // The store off: only the pipeline is measured.
    /// let config = Config::from_sources(&Sources::new().with_layer(
    ///     han_telemetry::config::Source::ProcessEnv,
    ///     [("HAN_METRICS_STORE", "off")],
    /// ));
    /// let (layer, guard) = TelemetryBuilder::new(config)
    ///     .exporters(Discard, Discard)
    ///     .build()
    ///     .into_layer();
    /// use tracing_subscriber::layer::SubscriberExt as _;
    /// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    ///     for _ in 0..1_000 {
    ///         lint("x").unwrap(); // time this
    ///     }
    /// });
    /// assert_eq!(guard.shutdown().events_dropped, 0);
    /// ```
    pub fn exporters<M, L>(mut self, metrics: M, logs: L) -> Self
    where
        M: PushMetricExporter + Clone + Send + Sync + 'static,
        L: LogExporter + Clone + Send + Sync + 'static,
    {
        self.exporters = Some(OwnExporters {
            build: Arc::new(move |production, built| {
                production.meter(vec![metrics.clone()], built);
                production.logger(vec![logs.clone()], built);
            }),
        });
        self
    }

    /// The configuration in use.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Builds providers and layers without installing anything.
    pub fn build(self) -> Telemetry {
        let TelemetryBuilder {
            mut config,
            service_version,
            standard,
            event_queue,
            exporters,
        } = self;
        crate::phase::mark("configuration read");
        report_config(&config);
        let store = LocalStore::open(&config.store);
        if !config.enabled && exporters.is_none() {
            return Self::store_only(store, config.include, standard);
        }
        let resource = resource::build(&config, &service_version);
        let mut io = Io::default();
        // Your own exporters (a benchmark, a test) pass no gate and run no headers helper.
        if exporters.is_none() {
            let gate_dir = store.as_ref().map(LocalStore::placed_dir);
            io.gates = crate::gate::Gates::in_dir(gate_dir.as_deref());
            // The headers helper's headers join the static ones before any exporter (or a
            // catch-up's) is built from the configuration.
            io.headers_helper = crate::headers_helper::apply(&mut config, gate_dir.as_deref());
        }
        let config = &config;
        crate::phase::mark("resource, gates, headers helper");

        let capacity = event_queue.unwrap_or_else(event_queue_from_env);
        let overload = Overload::new(store.is_some());
        // The configured exporters are built first (an OTLP one starts the I/O runtime); every
        // export runs on that runtime, so console sinks and your own exporters need it too.
        let configured = exporters.is_none().then(|| {
            let metric_sinks = export::metric_sinks(
                &config.metrics,
                export::sdk_temporality(config.temporality),
                &mut io,
            );
            let log_sinks = export::log_sinks(&config.logs, &mut io);
            crate::phase::mark("exporters built");
            (metric_sinks, log_sinks)
        });
        let mut built = Built::default();
        let anything = configured
            .as_ref()
            .is_none_or(|(metrics, logs)| !metrics.is_empty() || !logs.is_empty());
        if anything {
            match io.handle() {
                Ok(handle) => {
                    let production = Production {
                        resource: &resource,
                        config,
                        capacity,
                        overload: &overload,
                        io: &handle,
                    };
                    match (&exporters, configured) {
                        (Some(own), _) => (own.build)(&production, &mut built),
                        (None, Some((metric_sinks, log_sinks))) => {
                            production.meter(metric_sinks, &mut built);
                            crate::phase::mark("meter provider built");
                            production.logger(log_sinks, &mut built);
                        }
                        (None, None) => {}
                    }
                }
                Err(why) => {
                    warn::warn_once("io", &format!("{why}; metrics and events are not exported"))
                }
            }
        }
        let Built {
            meter,
            batches,
            logger,
            last,
        } = built;

        crate::phase::mark("logger provider built (event queue)");
        let span_sinks = if exporters.is_some() {
            Vec::new()
        } else {
            export::span_sinks(&config.traces, &mut io)
        };
        let tracer = (!span_sinks.is_empty()).then(|| {
            let mut builder = SdkTracerProvider::builder().with_resource(resource.clone());
            for sink in span_sinks {
                builder = builder.with_span_processor(BatchSpanProcessor::builder(sink).build());
            }
            builder.build()
        });

        let remote_parent =
            context::remote_parent(config.traceparent.as_deref(), config.tracestate.as_deref());
        let mut han = HanLayer::builder()
            .include(config.include)
            .standard_attributes(standard)
            .remote_parent(remote_parent)
            .spans(tracer.is_some());
        if let Some(m) = &meter {
            han = han.meter_provider(m.clone());
        }
        if let Some(b) = batches {
            han = han.batches(b);
        }
        if let Some(l) = &logger {
            han = han.logger_provider(l.clone());
        }
        if let Some(s) = &store {
            han = han.local_store(s.clone());
        }
        let parts = Parts {
            han: han.build(),
            logger: logger.clone(),
            tracer: tracer.clone(),
        };
        // Catch-up resends through the configured exporters: not with your own.
        let catch_up = store.as_ref().filter(|_| exporters.is_none()).map(|_| {
            let config = config.clone();
            CatchUp(Box::new(
                move |dir: &std::path::Path, last_start, deadline| {
                    crate::resend::catch_up(&config, dir, last_start, deadline);
                },
            ))
        });
        let providers = Providers {
            meter,
            logger,
            tracer,
            io,
            activation: Some(Activation::new()),
            store,
            catch_up,
            overload: Some(overload),
            last,
            start_here: exporters.is_none(),
        };
        crate::phase::mark("layer built");
        Telemetry {
            parts: Some(parts),
            exporting: true,
            guard: TelemetryGuard::new(providers, config.exit_budget),
        }
    }

    /// OpenTelemetry is off: only the local store records, if it is on.
    fn store_only(
        store: Option<LocalStore>,
        include: crate::config::IncludeAttributes,
        standard: StandardAttributes,
    ) -> Telemetry {
        let Some(store) = store else {
            return Telemetry {
                parts: None,
                exporting: false,
                guard: TelemetryGuard::inert(),
            };
        };
        let han = HanLayer::builder()
            .include(include)
            .standard_attributes(standard)
            .local_store(store.clone())
            .build();
        let providers = Providers {
            activation: Some(Activation::new()),
            store: Some(store),
            ..Providers::default()
        };
        Telemetry {
            parts: Some(Parts {
                han,
                logger: None,
                tracer: None,
            }),
            exporting: false,
            guard: TelemetryGuard::new(providers, Duration::ZERO),
        }
    }

    /// Builds and installs as the global tracing subscriber.
    pub fn install(self) -> TelemetryGuard {
        self.build().install()
    }
}

/// `OTEL_BLRP_MAX_QUEUE_SIZE` (the SDK's variable, read from the process environment as the
/// SDK reads it), else [`DEFAULT_EVENT_QUEUE`].
fn event_queue_from_env() -> usize {
    whole_number_from_env("OTEL_BLRP_MAX_QUEUE_SIZE", DEFAULT_EVENT_QUEUE)
}

/// One of the SDK's batch variables, read from the process environment as the SDK reads
/// them: a whole number above 0, else `default` with one warning.
fn whole_number_from_env(var: &str, default: usize) -> usize {
    whole_number(var, std::env::var(var).ok(), default)
}

fn whole_number(var: &str, value: Option<String>, default: usize) -> usize {
    let Some(value) = value else {
        return default;
    };
    match value.trim().parse::<usize>() {
        Ok(n) if n > 0 => n,
        _ => {
            warn::warn_once(
                &format!("config:{var}"),
                &format!("{var}={value:?} is not a whole number above 0; using {default}"),
            );
            default
        }
    }
}

/// Prints configuration problems, once each. When telemetry is off only the problems that
/// decided it, and those of the local store, are relevant; the rest would be noise in every
/// hook's stderr. A settings file that cannot be read at all (broken, a FIFO) may be what
/// turned telemetry off or moved the store, so it is always said.
fn report_config(config: &Config) {
    let relevant = |d: &Diagnostic| {
        config.enabled
            || d.is_about_file()
            || vars::named(&d.subject)
                .is_some_and(|v| matches!(v.role, Role::Switch | Role::Trust | Role::Store))
    };
    for d in config.diagnostics.iter().filter(|d| relevant(d)) {
        let line = d.to_string();
        warn::warn_once(&format!("config:{line}"), &line);
    }
}

#[derive(Debug)]
struct Parts {
    han: HanLayer,
    logger: Option<SdkLoggerProvider>,
    tracer: Option<SdkTracerProvider>,
}

/// Built telemetry: tracing layers plus the guard that shuts their providers down.
#[derive(Debug)]
pub struct Telemetry {
    parts: Option<Parts>,
    exporting: bool,
    guard: TelemetryGuard,
}

impl Telemetry {
    /// Whether OpenTelemetry export is on (providers were built).
    pub fn is_enabled(&self) -> bool {
        self.exporting
    }

    /// Whether anything records: export, the local store, or both.
    pub fn is_recording(&self) -> bool {
        self.parts.is_some()
    }

    /// Splits into a layer for your own subscriber and the guard. Use this when the program
    /// already builds a `tracing_subscriber::registry()` (with a `fmt` layer, say):
    /// `registry().with(layer).with(fmt::layer()).init()`.
    pub fn into_layer<S>(self) -> (Box<dyn Layer<S> + Send + Sync>, TelemetryGuard)
    where
        S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync,
    {
        let Some(parts) = self.parts else {
            return (
                Box::new(tracing_subscriber::layer::Identity::new()),
                self.guard,
            );
        };
        let traces = parts.tracer.map(|provider| {
            tracing_opentelemetry::layer()
                .with_tracer(provider.tracer_with_scope(crate::pipeline::scope()))
                // The span macro of an instrumented call sits in han-telemetry, not in the
                // user's code: its source location would mislead.
                .with_location(false)
                .with_filter(filter_fn(|m| exported(m.target())))
        });
        let logs = parts.logger.map(|provider| {
            OpenTelemetryTracingBridge::new(&provider).with_filter(filter_fn(|m| {
                *m.level() <= tracing::Level::INFO && exported(m.target())
            }))
        });
        // No `Option` layers: an absent one hints `LevelFilter::OFF`, and in this stack
        // (tracing-subscriber 0.3.23) that hint won over the span layer's per-layer filter,
        // so with traces on and logs off no span was ever recorded.
        let han = parts.han;
        let layer: Box<dyn Layer<S> + Send + Sync> = match (traces, logs) {
            (Some(traces), Some(logs)) => Box::new(han.and_then(traces).and_then(logs)),
            (Some(traces), None) => Box::new(han.and_then(traces)),
            (None, Some(logs)) => Box::new(han.and_then(logs)),
            // Nothing here takes spans or events: tracing may skip them all.
            (None, None) => Box::new(han.with_filter(LevelFilter::OFF)),
        };
        (layer, self.guard)
    }

    /// Installs as the global tracing subscriber and returns the guard. If another global
    /// subscriber is already set, prints one line and records nothing (use
    /// [`Telemetry::into_layer`] to add telemetry to that subscriber instead).
    pub fn install(self) -> TelemetryGuard {
        if self.parts.is_none() {
            return self.guard;
        }
        let (layer, guard) = self.into_layer::<Registry>();
        if tracing::subscriber::set_global_default(Registry::default().with(layer)).is_err() {
            warn::warn_once(
                "global-subscriber",
                "a global tracing subscriber is already installed, so han-telemetry records nothing; add the layer from Telemetry::into_layer to that subscriber instead",
            );
        }
        crate::phase::mark("subscriber installed");
        guard
    }
}

/// Exports nothing, successfully: a metric and log exporter for
/// [`TelemetryBuilder::exporters`], to measure the pipeline without a collector.
#[derive(Debug, Clone, Copy, Default)]
pub struct Discard;

impl LogExporter for Discard {
    async fn export(&self, batch: LogBatch<'_>) -> OTelSdkResult {
        std::hint::black_box(batch);
        Ok(())
    }
}

impl PushMetricExporter for Discard {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        std::hint::black_box(metrics);
        Ok(())
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }

    fn temporality(&self) -> Temporality {
        Temporality::Cumulative
    }
}

/// The default exit budget, for documentation and tests.
pub const DEFAULT_EXIT_BUDGET: Duration = Duration::from_millis(1000);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_variable_is_a_whole_number_above_zero_or_the_default() {
        let var = "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE";
        assert_eq!(whole_number(var, None, 512), 512);
        assert_eq!(whole_number(var, Some(" 64 ".into()), 512), 64);
        for bad in ["0", "-1", "1.5", "lots", ""] {
            assert_eq!(whole_number(var, Some(bad.into()), 512), 512, "{bad:?}");
        }
    }
}
