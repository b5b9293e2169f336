//! What one instrumented hook call costs, against the baselines it must beat, in one run.
//!
//! Every path records the same telemetry (a counter, a histogram and one event with the
//! same attributes) into the same providers: a periodic metric reader whose interval never
//! elapses during the measurement, and simple log and span processors with a no-op exporter
//! (as the baselines in the design notes were measured; the export queue `init` uses adds a
//! second thread, the same for every path, and makes the numbers much noisier on two cores:
//! the `production` group measures it).
//! `scripts/bench-report` turns criterion's estimates into the ratios `BENCHMARKS.md` quotes.
//!
//! Run: `cargo bench -p han-telemetry --bench hot_path` (add `-- hook_call` for one group).

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use han_telemetry::config::{Config, Source, Sources};
use han_telemetry::store::LocalStore;
use han_telemetry::{Activation, HanLayer, TelemetryBuilder};
use han_telemetry_test_support::scratch::Scratch;
use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, LoggerProvider as _};
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry::{Key, KeyValue};
use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogBatch, LogExporter, SdkLoggerProvider};
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData, ResourceMetrics};
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider, Temporality};
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use tracing::Dispatch;
use tracing_subscriber::layer::SubscriberExt as _;

// ---------------------------------------------------------------- providers

/// Exports nothing, but counts what it is given: the records of every log batch, and the
/// total of `han.hook.execution` in the last metric export, so a threaded bench can check
/// that no call was lost.
#[derive(Debug, Clone, Default)]
struct NoExport {
    records: Arc<AtomicU64>,
    executions: Arc<AtomicU64>,
}

impl LogExporter for NoExport {
    async fn export(&self, batch: LogBatch<'_>) -> OTelSdkResult {
        let n = batch.iter().count();
        self.records.fetch_add(n as u64, Ordering::Relaxed);
        Ok(())
    }
}

impl PushMetricExporter for NoExport {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        let mut total = 0;
        for m in metrics.scope_metrics().flat_map(|s| s.metrics()) {
            if let (AggregatedMetrics::U64(MetricData::Sum(sum)), "han.hook.execution") =
                (m.data(), m.name())
            {
                total += sum.data_points().map(|p| p.value()).sum::<u64>();
            }
        }
        self.executions.store(total, Ordering::Relaxed);
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

impl SpanExporter for NoExport {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        black_box(batch);
        Ok(())
    }
}

/// Providers as `init` builds them for OTLP, minus the network.
struct Providers {
    meter: SdkMeterProvider,
    logger: SdkLoggerProvider,
    tracer: SdkTracerProvider,
    export: NoExport,
}

impl Providers {
    fn new() -> Self {
        let export = NoExport::default();
        let reader = PeriodicReader::builder(export.clone())
            .with_interval(Duration::from_secs(3_600))
            .build();
        Providers {
            meter: SdkMeterProvider::builder().with_reader(reader).build(),
            logger: SdkLoggerProvider::builder()
                .with_simple_exporter(export.clone())
                .build(),
            tracer: SdkTracerProvider::builder()
                .with_simple_exporter(export.clone())
                .build(),
            export,
        }
    }

    /// Panics unless exactly `calls` calls were counted and each emitted its event.
    fn assert_exact(&self, calls: u64, what: &str) {
        self.meter.force_flush().ok();
        let executions = self.export.executions.load(Ordering::Relaxed);
        let records = self.export.records.load(Ordering::Relaxed);
        assert_eq!(executions, calls, "{what}: han.hook.execution lost calls");
        assert_eq!(records, calls, "{what}: events lost");
    }

    fn han(&self, spans: bool, store: Option<LocalStore>) -> Dispatch {
        let mut han = HanLayer::builder()
            .meter_provider(self.meter.clone())
            .logger_provider(self.logger.clone())
            .spans(spans);
        if let Some(store) = store {
            han = han.local_store(store);
        }
        let registry = tracing_subscriber::registry().with(han.build());
        if spans {
            let tracer = self.tracer.tracer("bench");
            Dispatch::new(registry.with(tracing_opentelemetry::layer().with_tracer(tracer)))
        } else {
            Dispatch::new(registry)
        }
    }
}

fn store_only(store: LocalStore) -> Dispatch {
    Dispatch::new(
        tracing_subscriber::registry().with(HanLayer::builder().local_store(store).build()),
    )
}

/// A store in a scratch directory, removed when the directory is dropped.
fn scratch_store(label: &str) -> (Scratch, LocalStore) {
    let dir = Scratch::new(&format!("bench-{label}"));
    let store = LocalStore::at(dir.path(), 1);
    (dir, store)
}

// ---------------------------------------------------------------- the hook

fn check(input: u64) -> Result<u64, String> {
    if input == u64::MAX {
        Err("overflow".to_owned())
    } else {
        Ok(input + 1)
    }
}

#[inline(never)]
fn bare(input: u64) -> Result<u64, String> {
    check(input)
}

/// One annotated hook per scenario: a call site binds its instruments to the first pipeline
/// it records under (as in a hook process, which has one), so scenarios must not share one.
macro_rules! annotated_hooks {
    ($($name:ident),*) => {$(
        #[han_telemetry::instrument_hook(hook_name = "lint", hook_type = "PostToolUse")]
        #[inline(never)]
        fn $name(input: u64) -> Result<u64, String> {
            check(input)
        }
    )*};
}

annotated_hooks!(
    instrumented_off,
    instrumented,
    instrumented_spans,
    instrumented_store,
    instrumented_all,
    instrumented_threads,
    instrumented_production,
    instrumented_bursts,
    instrumented_store_bursts,
    instrumented_no_sink_bursts
);

/// The same, with the hook's name from a parameter: known only at run time.
macro_rules! named_hooks {
    ($($name:ident),*) => {$(
        #[han_telemetry::instrument_hook(hook_name = name, hook_type = "PostToolUse")]
        #[inline(never)]
        fn $name(name: &str, input: u64) -> Result<u64, String> {
            black_box(name);
            check(input)
        }
    )*};
}

named_hooks!(instrumented_named, instrumented_names);

/// The same telemetry written by hand against the SDK, attributes built once: the same
/// instruments, and an event record with the same fields as han-telemetry's.
struct ByHand {
    counter: opentelemetry::metrics::Counter<u64>,
    histogram: opentelemetry::metrics::Histogram<f64>,
    logger: opentelemetry_sdk::logs::SdkLogger,
    ok: [KeyValue; 3],
}

impl ByHand {
    fn new(p: &Providers) -> Self {
        let meter = p.meter.meter("bench");
        ByHand {
            counter: meter.u64_counter("han.hook.execution").build(),
            histogram: meter
                .f64_histogram("han.hook.duration_ms")
                .with_unit("ms")
                .build(),
            logger: p.logger.logger("bench"),
            ok: [
                KeyValue::new("hook_name", "lint"),
                KeyValue::new("hook_type", "PostToolUse"),
                KeyValue::new("success", true),
            ],
        }
    }

    #[inline(never)]
    fn call(&self, input: u64) -> Result<u64, String> {
        let start = Instant::now();
        let result = check(input);
        let ms = start.elapsed().as_secs_f64() * 1_000.0;
        // A real hand-written version would pick the `success=false` set on error.
        self.counter.add(1, &self.ok);
        self.histogram.record(ms, &self.ok);
        let mut record = self.logger.create_log_record();
        record.set_event_name("han.hook_result");
        record.set_severity_number(opentelemetry::logs::Severity::Info);
        record.set_severity_text("INFO");
        record.set_timestamp(std::time::SystemTime::now());
        record.set_body(AnyValue::from("han.hook_result"));
        record.add_attribute(Key::from_static_str("event.name"), "han.hook_result");
        record.add_attribute(Key::from_static_str("hook_name"), "lint");
        record.add_attribute(Key::from_static_str("success"), result.is_ok());
        record.add_attribute(Key::from_static_str("duration_ms"), AnyValue::Double(ms));
        record.add_attribute(Key::from_static_str("hook_type"), "PostToolUse");
        self.logger.emit(record);
        result
    }
}

/// [`ByHand`] as an expert writes it: the counter and histogram bound to their attribute set
/// once (the SDK's bound instruments), so a call neither sorts nor hashes attributes. The
/// floor `#[instrument_hook]` is measured against.
struct Bound {
    counter: opentelemetry::metrics::BoundCounter<u64>,
    histogram: opentelemetry::metrics::BoundHistogram<f64>,
    logger: opentelemetry_sdk::logs::SdkLogger,
}

impl Bound {
    fn new(p: &Providers) -> Self {
        let by_hand = ByHand::new(p);
        Bound {
            counter: by_hand.counter.bind(&by_hand.ok),
            histogram: by_hand.histogram.bind(&by_hand.ok),
            logger: by_hand.logger,
        }
    }

    #[inline(never)]
    fn call(&self, input: u64) -> Result<u64, String> {
        let start = Instant::now();
        let result = check(input);
        let ms = start.elapsed().as_secs_f64() * 1_000.0;
        self.counter.add(1);
        self.histogram.record(ms);
        let mut record = self.logger.create_log_record();
        record.set_event_name("han.hook_result");
        record.set_severity_number(opentelemetry::logs::Severity::Info);
        record.set_severity_text("INFO");
        record.set_timestamp(std::time::SystemTime::now());
        record.set_body(AnyValue::from("han.hook_result"));
        record.add_attribute(Key::from_static_str("event.name"), "han.hook_result");
        record.add_attribute(Key::from_static_str("hook_name"), "lint");
        record.add_attribute(Key::from_static_str("success"), result.is_ok());
        record.add_attribute(Key::from_static_str("duration_ms"), AnyValue::Double(ms));
        record.add_attribute(Key::from_static_str("hook_type"), "PostToolUse");
        self.logger.emit(record);
        result
    }
}

/// The same through tracing-opentelemetry's `MetricsLayer` and the log appender: one
/// tracing event carrying the counter, the histogram and the event's fields.
#[inline(never)]
fn via_tracing_layers(input: u64) -> Result<u64, String> {
    let start = Instant::now();
    let result = check(input);
    let ms = start.elapsed().as_secs_f64() * 1_000.0;
    tracing::info!(
        monotonic_counter.han.hook.execution = 1_u64,
        histogram.han.hook.duration_ms = ms,
        hook_name = "lint",
        hook_type = "PostToolUse",
        success = result.is_ok(),
        "han.hook_result"
    );
    result
}

fn tracing_layers(p: &Providers) -> Dispatch {
    Dispatch::new(
        tracing_subscriber::registry()
            .with(tracing_opentelemetry::MetricsLayer::new(p.meter.clone()))
            .with(OpenTelemetryTracingBridge::new(&p.logger)),
    )
}

// ---------------------------------------------------------------- groups

fn hook_call(c: &mut Criterion) {
    let p = Providers::new();
    let mut g = c.benchmark_group("hook_call");
    let input = 0_u64;

    g.bench_function("bare", |b| b.iter(|| bare(black_box(input))));
    g.bench_function("instrument_hook_off", |b| {
        b.iter(|| instrumented_off(black_box(input)))
    });

    let by_hand = ByHand::new(&p);
    let bound = Bound::new(&p);
    {
        let _open = Activation::new();
        g.bench_function("sdk_by_hand", |b| b.iter(|| by_hand.call(black_box(input))));
        g.bench_function("sdk_bound", |b| b.iter(|| bound.call(black_box(input))));
        tracing::dispatcher::with_default(&tracing_layers(&p), || {
            g.bench_function("tracing_metrics_layer_appender", |b| {
                b.iter(|| via_tracing_layers(black_box(input)))
            });
        });
        tracing::dispatcher::with_default(&p.han(false, None), || {
            g.bench_function("instrument_hook", |b| {
                b.iter(|| instrumented(black_box(input)))
            });
            g.bench_function("instrument_hook_named", |b| {
                b.iter(|| instrumented_named(black_box("lint"), black_box(input)))
            });
        });
        tracing::dispatcher::with_default(&p.han(true, None), || {
            g.bench_function("instrument_hook_spans", |b| {
                b.iter(|| instrumented_spans(black_box(input)))
            });
        });
        let (_dir, store) = scratch_store("store");
        tracing::dispatcher::with_default(&store_only(store.clone()), || {
            g.bench_function("instrument_hook_store_only", |b| {
                b.iter(|| instrumented_store(black_box(input)))
            });
        });
        store.flush();
        let (_dir, store) = scratch_store("all");
        tracing::dispatcher::with_default(&p.han(false, Some(store.clone())), || {
            g.bench_function("instrument_hook_and_store", |b| {
                b.iter(|| instrumented_all(black_box(input)))
            });
        });
        store.flush();
    }
    g.finish();
}

type Hook = Arc<dyn Fn(u64) -> Result<u64, String> + Send + Sync>;

/// Wall time for each of `threads` threads to make `iters` calls at once; adds the calls
/// made to `calls`.
fn on_threads(
    threads: usize,
    iters: u64,
    dispatch: &Dispatch,
    f: &Hook,
    calls: &AtomicU64,
) -> Duration {
    let barrier = Arc::new(Barrier::new(threads + 1));
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let barrier = Arc::clone(&barrier);
            let dispatch = dispatch.clone();
            let f = Arc::clone(f);
            std::thread::spawn(move || {
                tracing::dispatcher::with_default(&dispatch, || {
                    barrier.wait();
                    for i in 0..iters {
                        black_box(f(black_box(i)).ok());
                    }
                });
            })
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    for w in workers {
        w.join().expect("a bench thread panicked");
    }
    calls.fetch_add(threads as u64 * iters, Ordering::Relaxed);
    start.elapsed()
}

/// 1 and 2 threads calling at once, for the bound-instrument floor and the annotated hook,
/// each on providers of its own; afterwards the counts must be exact.
fn threads(c: &mut Criterion) {
    let _open = Activation::new();
    let mut g = c.benchmark_group("threads");
    let floor = Providers::new();
    let bound = Arc::new(Bound::new(&floor));
    let sdk: Hook = Arc::new(move |i| bound.call(i));
    let ours = Providers::new();
    let annotated: Hook = Arc::new(instrumented_threads);
    let cases = [
        ("sdk_bound", &floor, Dispatch::none(), sdk),
        ("instrument_hook", &ours, ours.han(false, None), annotated),
    ];
    for (name, providers, dispatch, f) in &cases {
        let calls = AtomicU64::new(0);
        for n in [1, 2] {
            g.bench_function(format!("{name}_{n}_threads"), |b| {
                b.iter_custom(|iters| on_threads(n, iters, dispatch, f, &calls))
            });
        }
        providers.assert_exact(calls.load(Ordering::Relaxed), name);
    }
    g.finish();
}

/// The production pipeline (`TelemetryBuilder::exporters`: the metrics' reader, the events'
/// export queue), store off, on 1 and 2 threads. Afterwards every call
/// must be counted and every event either exported or counted as dropped; the drops are
/// printed (a queue sized for these rates drops none).
fn production(c: &mut Criterion) {
    let mut g = c.benchmark_group("production");
    let queue = std::env::var("HAN_BENCH_EVENT_QUEUE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(han_telemetry::DEFAULT_EVENT_QUEUE);
    let export = NoExport::default();
    let config = Config::from_sources(&Sources::new().with_layer(
        Source::ProcessEnv,
        [
            ("HAN_METRICS_STORE", "off"),
            ("OTEL_LOGS_EXPORT_INTERVAL", "1000"),
        ],
    ));
    let (layer, guard) = TelemetryBuilder::new(config)
        .exporters(export.clone(), export.clone())
        .event_queue(queue)
        .build()
        .into_layer();
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
    let annotated: Hook = Arc::new(instrumented_production);
    let calls = AtomicU64::new(0);
    for n in [1, 2] {
        g.bench_function(format!("instrument_hook_{n}_threads"), |b| {
            b.iter_custom(|iters| on_threads(n, iters, &dispatch, &annotated, &calls))
        });
    }
    g.finish();
    drop(dispatch);
    let report = guard.shutdown();
    let calls = calls.load(Ordering::Relaxed);
    let records = export.records.load(Ordering::Relaxed);
    eprintln!(
        "production: {calls} calls, {records} events exported, {} dropped (queue {queue})",
        report.events_dropped
    );
    assert_eq!(
        records + report.events_dropped,
        calls,
        "an event went missing"
    );
    assert_eq!(
        export.executions.load(Ordering::Relaxed),
        calls,
        "han.hook.execution lost calls"
    );
}

fn cardinality(c: &mut Criterion) {
    const DISTINCT: usize = 5_000;
    let names: Vec<String> = (0..DISTINCT).map(|i| format!("hook-{i}")).collect();
    let p = Providers::new();
    let _open = Activation::new();
    let mut g = c.benchmark_group("cardinality");
    tracing::dispatcher::with_default(&p.han(false, None), || {
        g.bench_function("one_name", |b| {
            b.iter(|| instrumented_names(black_box("hook-0"), 1))
        });
        let mut i = 0;
        g.bench_function("5000_names", |b| {
            b.iter(|| {
                i = (i + 1) % DISTINCT;
                instrumented_names(black_box(&names[i]), 1)
            })
        });
    });
    g.finish();
}

/// The local store's part of a store-only call: one `LocalStore::append` of a hook record
/// (its clock read included), a long-running process's buffers going to the background
/// writer as they fill.
fn store(c: &mut Criterion) {
    let mut g = c.benchmark_group("store");
    let (_dir, store) = scratch_store("append");
    let session = "9f1c2a34-5b6d-4e7f-8a9b-0c1d2e3f4a5b";
    g.bench_function("append", |b| {
        b.iter(|| {
            store.append(
                Some(black_box(session)),
                han_telemetry::store::Entry::Hook {
                    hook_name: black_box("lint").into(),
                    hook_type: "PostToolUse".into(),
                    success: true,
                    duration_ms: black_box(1.25),
                },
            )
        })
    });
    g.finish();
    store.flush();
}

/// Calls made in a row before the idle time: fewer than the store holds before its appender
/// waits for the disk (the buffer being filled and the 4 its background writer queues, about
/// 1 200 of these records each).
const BURST: u64 = 4_096;

/// `iters` calls of `call` in bursts of [`BURST`], each followed by `idle` (not measured):
/// the time of the bursts alone.
fn in_bursts(iters: u64, mut call: impl FnMut(), mut idle: impl FnMut()) -> Duration {
    let mut measured = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(BURST);
        let start = Instant::now();
        for _ in 0..n {
            call();
        }
        measured += start.elapsed();
        left -= n;
        idle();
    }
    measured
}

/// The idle time between bursts: 1 ms, for every row alike (the caches cool the same).
fn pause() {
    std::thread::sleep(Duration::from_millis(1));
}

/// A long-running process whose calls come in bursts with idle time between them (an MCP
/// server, a watcher): the OTel path, the store-only path and the call with neither, each in
/// bursts of [`BURST`] calls. Unlike `hook_call`'s flood, the store's background writer does
/// its I/O in the idle time, as it does in such a process: the store-only row's idle time
/// lasts until the store is written (`LocalStore::flush`, what a process idle for the
/// store's flush age has done), so the rows measure what the calling thread pays, whatever
/// the disk's speed. A burst that outgrows what the store holds still waits, and that is
/// measured.
fn bursts(c: &mut Criterion) {
    let p = Providers::new();
    let mut g = c.benchmark_group("bursts");
    let input = 0_u64;
    {
        let _open = Activation::new();
        tracing::dispatcher::with_default(&p.han(false, None), || {
            g.bench_function("instrument_hook", |b| {
                b.iter_custom(|iters| {
                    in_bursts(
                        iters,
                        || {
                            let _ = black_box(instrumented_bursts(black_box(input)));
                        },
                        pause,
                    )
                })
            });
        });
        let (_dir, store) = scratch_store("bursts");
        tracing::dispatcher::with_default(&store_only(store.clone()), || {
            g.bench_function("instrument_hook_store_only", |b| {
                b.iter_custom(|iters| {
                    in_bursts(
                        iters,
                        || {
                            let _ = black_box(instrumented_store_bursts(black_box(input)));
                        },
                        || {
                            store.flush();
                            pause();
                        },
                    )
                })
            });
        });
        store.flush();
        // Neither OpenTelemetry nor a store: what the call itself costs, for the store's
        // share of the row above.
        let no_sink =
            Dispatch::new(tracing_subscriber::registry().with(HanLayer::builder().build()));
        tracing::dispatcher::with_default(&no_sink, || {
            g.bench_function("instrument_hook_no_sink", |b| {
                b.iter_custom(|iters| {
                    in_bursts(
                        iters,
                        || {
                            let _ = black_box(instrumented_no_sink_bursts(black_box(input)));
                        },
                        pause,
                    )
                })
            });
        });
    }
    g.finish();
}

criterion_group!(
    benches,
    hook_call,
    threads,
    production,
    cardinality,
    store,
    bursts
);
criterion_main!(benches);
