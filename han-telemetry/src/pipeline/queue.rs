//! The events' export queue: the SDK's batch log processor, entered through a count of our
//! own, so that no event is dropped without being counted and said.
//!
//! The SDK's `BatchLogProcessor` puts each record into a bounded channel and, when the channel
//! is full, drops it; it counts the drop where nobody can read it and says so only through its
//! internal logs (off here). A long-running process that records faster than its collector
//! takes (or than the export thread gets the CPU, on a loaded machine) would lose events
//! silently. So every record passes [`Admitting`] first: a record enters only while fewer than
//! the queue's capacity are waiting, counted from entry until the exporter ([`Leaving`]) is
//! handed the batch that holds it. Records the worker has taken out of the channel but not yet
//! handed over still count, so our count is never below the channel's: the channel is never
//! full when a record enters, and the SDK never drops one. A record that cannot enter is
//! counted in [`Overload`], said once on stderr when it first happens, and its total goes into
//! the shutdown report and the store's export receipt.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use opentelemetry::InstrumentationScope;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogBatch, LogExporter, LogProcessor, SdkLogRecord};

use crate::warn;

/// The default capacity of the events' export queue, sized by the `production` benchmark
/// (BENCHMARKS.md): an annotated hook in a loop on one thread, ~1.3 M events/s sustained on
/// the loaded 2-core VM, drops none with 65 536; 32 768 dropped 184 of 4.8 M, the SDK's
/// 2 048 two in five. A slot is 16 bytes, allocated up front (1 MiB); a waiting event about
/// half a KiB.
pub const DEFAULT_EVENT_QUEUE: usize = 65_536;

/// Events that could not be queued for export, for the whole pipeline.
#[derive(Debug, Default)]
pub(crate) struct Overload {
    dropped: AtomicU64,
    /// The local store keeps every event, exported or not.
    stored: bool,
}

impl Overload {
    pub(crate) fn new(stored: bool) -> Arc<Self> {
        Arc::new(Overload {
            dropped: AtomicU64::new(0),
            stored,
        })
    }

    /// How many events were not exported because the queue was full.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    #[cold]
    fn drop_one(&self, capacity: usize) {
        if self.dropped.fetch_add(1, Ordering::Relaxed) == 0 {
            warn::warn_once("event-queue", &first_drop_line(capacity, self.stored));
        }
    }
}

/// The one line said when the first event is dropped.
pub(crate) fn first_drop_line(capacity: usize, stored: bool) -> String {
    let kept = if stored {
        "the local store keeps them all, and its export receipt counts those left out \
         (`logs_dropped`)"
    } else {
        "they are lost; the shutdown report counts them"
    };
    format!(
        "events are recorded faster than they are exported: the export queue of {capacity} is \
         full, so events are being left out of the export ({kept}). OTEL_BLRP_MAX_QUEUE_SIZE \
         sets the queue's size"
    )
}

/// One processor's count of waiting records.
#[derive(Debug)]
struct Queue {
    waiting: AtomicUsize,
    capacity: usize,
    overload: Arc<Overload>,
}

/// A log processor that admits a record into `inner` only while its queue has room.
#[derive(Debug)]
pub(crate) struct Admitting<P> {
    inner: P,
    queue: Arc<Queue>,
}

/// The exporter side of [`Admitting`]: a batch handed over leaves the queue.
#[derive(Debug)]
pub(crate) struct Leaving<E> {
    inner: E,
    queue: Arc<Queue>,
}

/// The two halves of one queue of `capacity`: wrap the exporter in the [`Leaving`], build the
/// SDK's processor (with a channel of at least `capacity`) over it, and give the processor to
/// the returned closure.
pub(crate) fn queue<E: LogExporter, P: LogProcessor>(
    exporter: E,
    capacity: usize,
    overload: &Arc<Overload>,
) -> (Leaving<E>, impl FnOnce(P) -> Admitting<P>) {
    let queue = Arc::new(Queue {
        waiting: AtomicUsize::new(0),
        capacity: capacity.max(1),
        overload: Arc::clone(overload),
    });
    let leaving = Leaving {
        inner: exporter,
        queue: Arc::clone(&queue),
    };
    (leaving, move |inner| Admitting { inner, queue })
}

impl<P: LogProcessor> LogProcessor for Admitting<P> {
    #[inline]
    fn emit(&self, record: &mut SdkLogRecord, scope: &InstrumentationScope) {
        let q = &*self.queue;
        // Optimistic: most calls find room. A record that finds none gives its place back.
        if q.waiting.fetch_add(1, Ordering::AcqRel) >= q.capacity {
            q.waiting.fetch_sub(1, Ordering::AcqRel);
            q.overload.drop_one(q.capacity);
            return;
        }
        self.inner.emit(record, scope);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

impl<E: LogExporter> LogExporter for Leaving<E> {
    async fn export(&self, batch: LogBatch<'_>) -> OTelSdkResult {
        let n = batch.iter().count();
        self.queue.waiting.fetch_sub(n, Ordering::AcqRel);
        self.inner.export(batch).await
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::logs::{Logger as _, LoggerProvider as _};
    use opentelemetry_sdk::logs::{BatchConfigBuilder, BatchLogProcessor, SdkLoggerProvider};
    use std::sync::{Condvar, Mutex};

    /// Counts the records it is given; blocks every export until opened.
    #[derive(Debug, Clone, Default)]
    struct Gate {
        exported: Arc<AtomicU64>,
        open: Arc<(Mutex<bool>, Condvar)>,
    }

    impl Gate {
        fn open(&self) {
            let (lock, cv) = &*self.open;
            *lock.lock().unwrap_or_else(|p| p.into_inner()) = true;
            cv.notify_all();
        }
    }

    impl LogExporter for Gate {
        async fn export(&self, batch: LogBatch<'_>) -> OTelSdkResult {
            let (lock, cv) = &*self.open;
            let mut open = lock.lock().unwrap_or_else(|p| p.into_inner());
            while !*open {
                open = cv.wait(open).unwrap_or_else(|p| p.into_inner());
            }
            self.exported
                .fetch_add(batch.iter().count() as u64, Ordering::Relaxed);
            Ok(())
        }
    }

    /// A stalled exporter and a burst far past the queue: every record is either exported or
    /// counted as dropped, and the SDK itself drops none (its channel is as big as ours).
    #[test]
    fn every_record_is_exported_or_counted() {
        const CAPACITY: usize = 8;
        const EMITTED: u64 = 500;
        let gate = Gate::default();
        let overload = Overload::new(false);
        let (leaving, admitting) = queue(gate.clone(), CAPACITY, &overload);
        let config = BatchConfigBuilder::default()
            .with_max_queue_size(CAPACITY)
            .with_max_export_batch_size(2)
            .with_scheduled_delay(Duration::from_millis(1))
            .build();
        let processor = BatchLogProcessor::builder(leaving)
            .with_batch_config(config)
            .build();
        let provider = SdkLoggerProvider::builder()
            .with_log_processor(admitting(processor))
            .build();
        let logger = provider.logger("queue-test");
        for _ in 0..EMITTED {
            let record = logger.create_log_record();
            logger.emit(record);
        }
        let dropped = overload.dropped();
        gate.open();
        provider.shutdown().expect("shut down");
        let exported = gate.exported.load(Ordering::Relaxed);
        assert!(dropped > 0, "a stalled exporter must overflow a queue of 8");
        assert!(
            exported >= CAPACITY as u64,
            "the queue's records are exported"
        );
        assert_eq!(
            exported + dropped,
            EMITTED,
            "exported {exported}, dropped {dropped}"
        );
    }

    #[test]
    fn the_first_drop_line_says_where_the_events_are_and_what_to_set() {
        let kept = first_drop_line(65_536, true);
        assert!(kept.contains("queue of 65536 is full"), "{kept}");
        assert!(kept.contains("the local store keeps them all"), "{kept}");
        assert!(kept.contains("OTEL_BLRP_MAX_QUEUE_SIZE"), "{kept}");
        assert!(first_drop_line(8, false).contains("they are lost"));
        assert_eq!(kept.lines().count(), 1);
    }
}
