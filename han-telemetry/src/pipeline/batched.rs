//! A bound hook's two metrics, held per thread and recorded into the SDK a batch at a time,
//! in the production pipeline.
//!
//! The SDK's bound counter and histogram for one attribute set are one atomic and one lock
//! that every thread writes: two threads running the same hook at once spent a third of
//! their time passing those cache lines between cores (`perf`, BENCHMARKS.md). Here each
//! thread keeps the durations of its last runs under a lock of its own, and records
//! [`BATCH`] of them at a time: the shared lines move once a batch instead of once a call.
//!
//! Nothing held is ever missing from an export: the production reader
//! ([`super::reader`]) records what every thread holds ([`Batches::record_held`]) before
//! each collection, periodic, flushed or last. A pipeline whose meter provider has other
//! readers (providers given to [`super::HanLayer`] by hand, a test's capture) records
//! every call directly, as before.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use opentelemetry::metrics::{BoundCounter, BoundHistogram};
use thread_local::ThreadLocal;

/// How many runs a thread holds before recording them: the shared lines move once per this
/// many calls, and a thread's slot is 256 bytes (14 gave the same two-thread throughput
/// within the noise, and a slower single thread: more flushes).
pub(crate) const BATCH: usize = 30;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Every batched binding of one pipeline, for its readers to record what the threads hold
/// before they collect.
#[derive(Debug, Default)]
pub(crate) struct Batches {
    hooks: Mutex<Vec<Arc<HookBatches>>>,
}

impl Batches {
    /// Batches runs of `execution` and `duration` (bound to one attribute set) from now on.
    pub(crate) fn hook(
        &self,
        execution: BoundCounter<u64>,
        duration: BoundHistogram<f64>,
    ) -> Arc<HookBatches> {
        let hook = Arc::new(HookBatches {
            execution,
            duration,
            threads: ThreadLocal::new(),
        });
        lock(&self.hooks).push(Arc::clone(&hook));
        hook
    }

    /// Records into the SDK what every thread holds, so that a collection that follows
    /// finds every run made before this call.
    pub(crate) fn record_held(&self) {
        for hook in lock(&self.hooks).iter() {
            for held in hook.threads.iter() {
                hook.record(&mut lock(&held.0));
            }
        }
    }
}

/// `han.hook.execution` and `han.hook.duration_ms` bound to one attribute set, with what
/// each thread holds of them.
pub(crate) struct HookBatches {
    execution: BoundCounter<u64>,
    duration: BoundHistogram<f64>,
    threads: ThreadLocal<Held>,
}

impl std::fmt::Debug for HookBatches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HookBatches").finish_non_exhaustive()
    }
}

/// One thread's runs not yet recorded, on cache lines of their own (`ThreadLocal` keeps the
/// threads' values side by side).
#[derive(Default)]
#[repr(align(128))]
struct Held(Mutex<Durations>);

#[derive(Default)]
struct Durations {
    len: usize,
    ms: [f64; BATCH],
}

impl HookBatches {
    /// One run that took `ms`.
    #[inline]
    pub(crate) fn run(&self, ms: f64) {
        let mut held = lock(&self.threads.get_or_default().0);
        let len = held.len;
        if let Some(slot) = held.ms.get_mut(len) {
            *slot = ms;
            held.len = len + 1;
        }
        if held.len == BATCH {
            self.record(&mut held);
        }
    }

    /// Records the runs held, and holds none.
    fn record(&self, held: &mut Durations) {
        if held.len == 0 {
            return;
        }
        self.execution.add(held.len as u64);
        for &ms in &held.ms[..held.len] {
            self.duration.record(ms);
        }
        held.len = 0;
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::KeyValue;
    use opentelemetry::metrics::MeterProvider as _;
    use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
    use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};

    use super::*;

    /// A binding of a provider whose exporter keeps every (cumulative) collection.
    struct Hook {
        hook: Arc<HookBatches>,
        provider: SdkMeterProvider,
        exporter: InMemoryMetricExporter,
    }

    impl Hook {
        fn new(batches: &Batches) -> Self {
            let exporter = InMemoryMetricExporter::default();
            let provider = SdkMeterProvider::builder()
                .with_reader(PeriodicReader::builder(exporter.clone()).build())
                .build();
            let meter = provider.meter("batched-test");
            let attrs = [KeyValue::new("hook.name", "lint")];
            let hook = batches.hook(
                meter.u64_counter("runs").build().bind(&attrs),
                meter.f64_histogram("ms").build().bind(&attrs),
            );
            Hook {
                hook,
                provider,
                exporter,
            }
        }

        /// The count, and the histogram's count and sum, collected now.
        fn collected(&self) -> (u64, u64, f64) {
            self.provider.force_flush().expect("flushed");
            let exported = self.exporter.get_finished_metrics().expect("exported");
            let (mut runs, mut count, mut sum) = (0, 0, 0.0);
            let last = exported.last().expect("a collection");
            for metric in last.scope_metrics().flat_map(|s| s.metrics()) {
                match metric.data() {
                    AggregatedMetrics::U64(MetricData::Sum(s)) => {
                        runs += s.data_points().map(|p| p.value()).sum::<u64>();
                    }
                    AggregatedMetrics::F64(MetricData::Histogram(h)) => {
                        for p in h.data_points() {
                            count += p.count();
                            sum += p.sum();
                        }
                    }
                    _ => {}
                }
            }
            (runs, count, sum)
        }
    }

    /// Runs short of a batch wait in their threads until the reader records them; a full
    /// batch is recorded by the thread that fills it.
    #[test]
    fn what_threads_hold_is_recorded_before_a_collection() {
        let batches = Batches::default();
        let h = Hook::new(&batches);
        let hook = &h.hook;
        std::thread::scope(|s| {
            for _ in 0..3 {
                s.spawn(|| {
                    for _ in 0..BATCH + 3 {
                        hook.run(2.0);
                    }
                });
            }
        });
        let runs = 3 * (BATCH as u64 + 3);
        assert_eq!(
            h.collected(),
            (3 * BATCH as u64, 3 * BATCH as u64, 6.0 * BATCH as f64),
            "full batches are recorded as they fill, the rest is held"
        );
        batches.record_held();
        assert_eq!(
            h.collected(),
            (runs, runs, 2.0 * runs as f64),
            "every run is in the collection"
        );
        batches.record_held();
        assert_eq!(h.collected(), (runs, runs, 2.0 * runs as f64));
    }

    /// Threads recording while the reader records what they hold: no run counted twice or
    /// lost.
    #[test]
    fn recording_beside_the_reader_is_exact() {
        const RUNS: u64 = 20_000;
        let batches = Batches::default();
        let h = Hook::new(&batches);
        let hook = &h.hook;
        let done = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|s| {
            let workers: Vec<_> = (0..2)
                .map(|_| {
                    s.spawn(|| {
                        for _ in 0..RUNS {
                            hook.run(1.0);
                        }
                    })
                })
                .collect();
            s.spawn(|| {
                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                    batches.record_held();
                    std::thread::yield_now();
                }
            });
            for w in workers {
                w.join().expect("a worker panicked");
            }
            done.store(true, std::sync::atomic::Ordering::Relaxed);
        });
        batches.record_held();
        assert_eq!(h.collected(), (2 * RUNS, 2 * RUNS, 2.0 * RUNS as f64));
    }
}
