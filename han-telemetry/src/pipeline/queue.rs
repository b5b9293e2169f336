//! The events' export queue: a batch log processor of our own, so that no event is dropped
//! without being counted and said, and a short-lived process pays nothing up front.
//!
//! The SDK's `BatchLogProcessor` drops a record when its channel is full and tells nobody (it
//! counts the drop where nobody can read it), and it allocates every slot of that channel when
//! it is built: 16 bytes a slot, 1 MiB for the 65 536 a long-running process needs, about
//! 0.4 ms of page faults in every hook process (BENCHMARKS.md). [`EventQueue`] keeps waiting
//! records in shards that grow as they come (a thread pushes into its own, so threads
//! recording at once rarely meet on a lock) and exports them in tasks on the export's I/O
//! runtime, the thread the requests need anyway: no thread of the queue's own, so a hook
//! process starts none. A task is started by the record that fills a batch of
//! `OTEL_BLRP_MAX_EXPORT_BATCH_SIZE`, and a timer set up with the queue exports what waits
//! every `OTEL_LOGS_EXPORT_INTERVAL`. At exit the guard exports what is left
//! as a task too ([`LastExport`]), beside the metrics' last export; a flush exports it on the
//! calling thread.
//! A record that finds the queue full (records waiting plus those being exported) is counted
//! in [`Overload`], said once on stderr when it first happens, and its total goes into the
//! shutdown report and the store's export receipt. A shard takes its room from the capacity
//! a chunk at a time, so that threads recording at once do not write one shared count on
//! every event (the `production` benchmark's two threads spent a tenth of their time there).

use std::cell::Cell;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError, Weak};
use std::time::{Duration, Instant};

use opentelemetry::InstrumentationScope;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::logs::{LogBatch, LogExporter, LogProcessor, SdkLogRecord};

use super::last::{Exporting, LastExport};
use crate::warn;

/// The default capacity of the events' export queue, sized by the `production` benchmark
/// (BENCHMARKS.md): an annotated hook in a loop on one thread, ~1.3 M events/s sustained on
/// the loaded 2-core VM, dropped none with 65 536; 32 768 dropped 184 of 4.8 M, the SDK's
/// 2 048 two in five. Two threads at once, ~5 M events/s on both cores, dropped none in 37
/// of 38 runs and 10 226 of 35.8 M in one (counted and said). Nothing is allocated up front:
/// a waiting event takes about half a KiB.
pub const DEFAULT_EVENT_QUEUE: usize = 65_536;

/// The SDK's default export batch (`OTEL_BLRP_MAX_EXPORT_BATCH_SIZE`).
pub(crate) const DEFAULT_EXPORT_BATCH: usize = 512;

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

/// How the queue exports: its capacity, its batch and its delay.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Batching {
    /// At most this many records wait or are being exported.
    pub(crate) capacity: usize,
    /// At most this many records per export.
    pub(crate) batch: usize,
    /// A record waits at most this long for its batch to fill.
    pub(crate) delay: Duration,
}

/// A log processor exporting in batches from a queue that grows as records come. See the
/// module docs.
#[derive(Debug)]
pub(crate) struct EventQueue<E> {
    shared: Arc<Shared<E>>,
}

/// How many shards the waiting records are spread over: a thread pushes into the one it was
/// given at its first event, so threads recording at once rarely meet on a lock.
const SHARDS: usize = 8;

/// A record and its scope; `None` for the queue's first scope ([`Shared::scope`]), which is
/// every record's in a process that has one logger, so that a record does not carry (and the
/// export thread drop) a copy of it.
type Item = (SdkLogRecord, Option<InstrumentationScope>);

/// Records taken out of the shards for export, each shard's as they were.
#[derive(Default)]
struct Taking {
    shards: Vec<VecDeque<Item>>,
    len: usize,
}

impl Taking {
    fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// One shard's waiting records, oldest first, on cache lines of its own.
#[derive(Default)]
#[repr(align(128))]
struct Shard(Mutex<Waiting>);

/// What a shard holds under its lock.
#[derive(Default)]
struct Waiting {
    records: VecDeque<Item>,
    /// Room this shard took from the capacity (`Shared::held`) for its next records, so that
    /// threads recording at once do not write the one shared count on every event.
    room: usize,
}

struct Shared<E> {
    shards: [Shard; SHARDS],
    /// Room taken from the capacity: records in the shards, records being exported, and the
    /// shards' room for their next records ([`Waiting::room`]). It never passes the
    /// capacity, so neither do the records held.
    held: AtomicUsize,
    /// How much room a shard takes at a time: up to 64, and at most a sixteenth of the
    /// capacity over all the shards, so little of it can sit unused in idle shards (a
    /// queue of 128 or less takes room one record at a time, exactly).
    chunk: usize,
    /// The scope of the first record queued, shared by every record with the same scope.
    scope: OnceLock<InstrumentationScope>,
    /// Shut down: no record is taken any more.
    stopped: AtomicBool,
    /// Records taken out of the shards and not yet exported: they still take room.
    exporting: Mutex<usize>,
    /// Signalled when an export ends, for a flush waiting for a batch in flight.
    exported: Condvar,
    /// One export at a time. An asynchronous lock: the export tasks hold it across their
    /// requests, on the I/O runtime.
    exporter: tokio::sync::Mutex<E>,
    batching: Batching,
    overload: Arc<Overload>,
    /// The export's I/O runtime, where the export tasks run.
    io: tokio::runtime::Handle,
}

/// Never the exporter: its client holds the configured headers (credentials).
impl<E> std::fmt::Debug for Shared<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut out = f.debug_struct("EventQueue");
        out.field("held", &self.held.load(Ordering::Relaxed))
            .field("stopped", &self.stopped.load(Ordering::Relaxed));
        // `try_lock`: formatting never waits for (or deadlocks on) the queue's lock.
        if let Ok(exporting) = self.exporting.try_lock() {
            out.field("exporting", &*exporting);
        }
        out.field("batching", &self.batching)
            .field("dropped", &self.overload.dropped())
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

thread_local! {
    /// This thread's shard, given at its first event.
    static SHARD: Cell<usize> = const { Cell::new(usize::MAX) };
}

static NEXT_SHARD: AtomicUsize = AtomicUsize::new(0);

fn my_shard() -> usize {
    SHARD
        .try_with(|shard| {
            if shard.get() == usize::MAX {
                shard.set(NEXT_SHARD.fetch_add(1, Ordering::Relaxed) % SHARDS);
            }
            shard.get()
        })
        .unwrap_or(0)
}

impl<E: LogExporter + 'static> EventQueue<E> {
    /// A queue exporting to `exporter` in tasks on `io`.
    pub(crate) fn new(
        exporter: E,
        batching: Batching,
        overload: &Arc<Overload>,
        io: &tokio::runtime::Handle,
    ) -> Self {
        let capacity = batching.capacity.max(1);
        let shared = Arc::new(Shared {
            shards: Default::default(),
            held: AtomicUsize::new(0),
            scope: OnceLock::new(),
            chunk: (capacity / (SHARDS * 16)).clamp(1, 64),
            stopped: AtomicBool::new(false),
            exporting: Mutex::new(0),
            exported: Condvar::new(),
            exporter: tokio::sync::Mutex::new(exporter),
            batching: Batching {
                capacity,
                batch: batching.batch.clamp(1, capacity),
                delay: batching.delay,
            },
            overload: Arc::clone(overload),
            io: io.clone(),
        });
        io.spawn(every_delay(Arc::downgrade(&shared), batching.delay));
        EventQueue { shared }
    }

    /// The guard's handle, for the last export at exit.
    pub(crate) fn last(&self) -> Arc<dyn LastExport> {
        Arc::new(Last(Arc::clone(&self.shared)))
    }
}

/// Exports what waits every `delay`, so a record waits at most that long, until the queue
/// stops or is gone. One timer for the queue's life, set up with it: a record never starts
/// one (that would wake the I/O thread in the middle of a hook's work), and an idle
/// long-running process wakes once a delay.
async fn every_delay<E: LogExporter + 'static>(shared: Weak<Shared<E>>, delay: Duration) {
    let delay = delay.max(Duration::from_millis(1));
    let mut next = tokio::time::Instant::now() + delay;
    loop {
        tokio::time::sleep_until(next).await;
        next = tokio::time::Instant::now() + delay;
        let Some(shared) = shared.upgrade() else {
            return;
        };
        if shared.stopped() {
            return;
        }
        shared.export_waiting().await;
    }
}

impl<E: LogExporter + 'static> Shared<E> {
    /// Exports what waits, in a task on the I/O runtime, now.
    fn export_soon(self: &Arc<Self>) {
        let shared = Arc::clone(self);
        drop(self.io.spawn(async move { shared.export_waiting().await }));
    }

    /// Failures are reported by the exporter (`export::Reporter`). Once stopped, the guard's
    /// last export or the shutdown takes what waits.
    /// While it took at least a batch (a flood), it takes again at once, as a worker thread
    /// would, rather than leaving the thread to sleep until the next batch's task wakes it.
    async fn export_waiting(&self) {
        while !self.stopped() {
            let taken = self.take();
            let full = taken.len >= self.batching.batch;
            if taken.is_empty() {
                return;
            }
            let _ = self.export_taken(taken).await;
            if !full {
                return;
            }
        }
    }
}

/// Frees the room of records taken for export once they are exported, or when their export
/// ends in a panic or is cancelled: a failed export loses its records, not the queue's room.
struct Taken<'a, E> {
    shared: &'a Shared<E>,
    left: usize,
}

impl<E> Taken<'_, E> {
    fn release(&mut self, n: usize) {
        let n = n.min(self.left);
        self.left -= n;
        let mut exporting = lock(&self.shared.exporting);
        *exporting = exporting.saturating_sub(n);
        self.shared.held.fetch_sub(n, Ordering::SeqCst);
        self.shared.exported.notify_all();
    }
}

impl<E> Drop for Taken<'_, E> {
    fn drop(&mut self) {
        if self.left > 0 {
            self.release(self.left);
        }
    }
}

impl<E: LogExporter> Shared<E> {
    /// Takes room for up to `chunk` records from the capacity; how much it got (0 when the
    /// queue is full).
    fn take_room(&self) -> usize {
        let mut held = self.held.load(Ordering::Relaxed);
        loop {
            let room = self.chunk.min(self.batching.capacity.saturating_sub(held));
            if room == 0 {
                return 0;
            }
            match self.held.compare_exchange_weak(
                held,
                held + room,
                Ordering::SeqCst,
                Ordering::Relaxed,
            ) {
                Ok(_) => return room,
                Err(now) => held = now,
            }
        }
    }

    fn stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }

    /// Takes every waiting record out of the shards, oldest shard order aside; they keep
    /// their room until exported.
    ///
    /// Each shard's records are taken whole, their buffer with them: the shard's lock is held
    /// for a swap, not for moving every record (half a KiB each) out one by one.
    fn take(&self) -> Taking {
        let mut exporting = lock(&self.exporting);
        let mut taken = Taking::default();
        for shard in &self.shards {
            let records = std::mem::take(&mut lock(&shard.0).records);
            if !records.is_empty() {
                taken.len += records.len();
                taken.shards.push(records);
            }
        }
        *exporting += taken.len;
        taken
    }

    /// Exports `taken` in batches (of each shard's records), each freeing its room once
    /// exported.
    async fn export_taken(&self, taken: Taking) -> OTelSdkResult {
        let mut room = Taken {
            shared: self,
            left: taken.len,
        };
        let mut result = Ok(());
        for records in &taken.shards {
            let (front, back) = records.as_slices();
            for batch in front
                .chunks(self.batching.batch)
                .chain(back.chunks(self.batching.batch))
            {
                result = result.and(self.export(batch).await);
                room.release(batch.len());
            }
        }
        result
    }

    async fn export(&self, records: &[Item]) -> OTelSdkResult {
        if records.is_empty() {
            return Ok(());
        }
        let Some(first) = self.scope.get() else {
            return Ok(()); // set by the first record queued
        };
        let refs: Vec<(&SdkLogRecord, &InstrumentationScope)> = records
            .iter()
            .map(|(r, s)| (r, s.as_ref().unwrap_or(first)))
            .collect();
        let exporter = self.exporter.lock().await;
        exporter.export(LogBatch::new(&refs)).await
    }

    /// Stops the queue and exports everything waiting without blocking the thread, then
    /// waits for a batch still in flight: the guard's last export, which the guard gives at
    /// most what is left of its budget. An event is queued under its shard's lock after
    /// seeing the queue not stopped, so once stopped, what `take` finds is all there is.
    async fn export_last(&self) -> OTelSdkResult {
        self.stopped.store(true, Ordering::SeqCst);
        let mut result = Ok(());
        loop {
            let taken = self.take();
            if !taken.is_empty() {
                result = result.and(self.export_taken(taken).await);
                continue;
            }
            if *lock(&self.exporting) == 0 {
                return result;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    /// Exports everything waiting on the calling thread, then waits for a batch in flight. A
    /// panicking exporter loses its batch, and the caller goes on.
    fn drain(&self, stop: bool, deadline: Option<Instant>) -> OTelSdkResult {
        if stop {
            self.stopped.store(true, Ordering::SeqCst);
        }
        let mut result = Ok(());
        loop {
            let taken = self.take();
            if !taken.is_empty() {
                let exported = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    futures_executor::block_on(self.export_taken(taken))
                }))
                .unwrap_or_else(|_| {
                    Err(OTelSdkError::InternalFailure(
                        "the log exporter panicked".into(),
                    ))
                });
                result = result.and(exported);
                continue;
            }
            let exporting = lock(&self.exporting);
            if *exporting == 0 {
                return result;
            }
            let left = match deadline {
                Some(d) => d.saturating_duration_since(Instant::now()),
                None => Duration::from_millis(10),
            };
            if left.is_zero() {
                return Err(OTelSdkError::Timeout(Duration::ZERO));
            }
            // A batch in flight.
            drop(
                self.exported
                    .wait_timeout(exporting, left.min(Duration::from_millis(1)))
                    .unwrap_or_else(PoisonError::into_inner),
            );
        }
    }
}

/// The guard's handle on a queue.
#[derive(Debug)]
struct Last<E>(Arc<Shared<E>>);

impl<E: LogExporter + 'static> LastExport for Last<E> {
    fn last_export(&self) -> Exporting {
        let shared = Arc::clone(&self.0);
        Box::pin(async move { shared.export_last().await })
    }
}

impl<E: LogExporter + 'static> LogProcessor for EventQueue<E> {
    fn emit(&self, record: &mut SdkLogRecord, scope: &InstrumentationScope) {
        let shared = &*self.shared;
        if shared.stopped() {
            return;
        }
        // Copied before the lock, so that the lock is held for a push, not for the copy.
        let own_scope =
            (shared.scope.get_or_init(|| scope.clone()) != scope).then(|| scope.clone());
        let item = (record.clone(), own_scope);
        let mut shard = lock(&shared.shards[my_shard()].0);
        // Under the shard's lock: a drain that stopped the queue takes this shard after, so
        // it either finds this record or this sees it stopped.
        if shared.stopped() {
            return;
        }
        if shard.room == 0 {
            shard.room = shared.take_room();
            if shard.room == 0 {
                drop(shard);
                shared.overload.drop_one(shared.batching.capacity);
                return;
            }
        }
        shard.room -= 1;
        shard.records.push_back(item);
        // A task (and the wake-up of the runtime's thread) only for each batch's worth in a
        // shard; the rest goes at the next delay's tick.
        let full = shard.records.len().is_multiple_of(shared.batching.batch);
        drop(shard);
        if full {
            self.shared.export_soon();
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.shared.drain(false, None)
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        let deadline = Instant::now().checked_add(timeout);
        let drained = self.shared.drain(true, deadline);
        let left = deadline.map_or(timeout, |d| d.saturating_duration_since(Instant::now()));
        // Never waits for the exporter: an export that got no answer in time still holds
        // it, until the I/O runtime's shutdown ends that request.
        let shut = match self.shared.exporter.try_lock() {
            Ok(exporter) => exporter.shutdown_with_timeout(left),
            Err(_) => Ok(()),
        };
        drained.and(shut)
    }

    fn set_resource(&mut self, resource: &Resource) {
        // Called while the provider is built, before any export can hold the exporter.
        if let Ok(mut exporter) = self.shared.exporter.try_lock() {
            exporter.set_resource(resource);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::logs::{Logger as _, LoggerProvider as _};
    use opentelemetry_sdk::logs::{SdkLogger, SdkLoggerProvider};

    /// Counts the records it is given and the threads it was called on; blocks every export
    /// while closed; panics on the first export when told to.
    #[derive(Debug, Clone)]
    struct Gate {
        exported: Arc<AtomicU64>,
        open: Arc<(Mutex<bool>, Condvar)>,
        threads: Arc<Mutex<Vec<std::thread::ThreadId>>>,
        resource: Arc<Mutex<Option<Resource>>>,
        shut_down: Arc<AtomicU64>,
        panic_once: Arc<std::sync::atomic::AtomicBool>,
    }

    impl Gate {
        fn new(open: bool) -> Self {
            Gate {
                exported: Arc::default(),
                open: Arc::new((Mutex::new(open), Condvar::new())),
                threads: Arc::default(),
                resource: Arc::default(),
                shut_down: Arc::default(),
                panic_once: Arc::default(),
            }
        }

        fn open(&self) {
            let (lock, cv) = &*self.open;
            *lock.lock().unwrap_or_else(|p| p.into_inner()) = true;
            cv.notify_all();
        }

        fn exported(&self) -> u64 {
            self.exported.load(Ordering::Relaxed)
        }

        /// Waits (at most a minute, so a broken queue fails instead of hanging) until `n`
        /// records were exported.
        fn wait_for(&self, n: u64) -> u64 {
            let end = Instant::now() + Duration::from_secs(60);
            while self.exported() < n && Instant::now() < end {
                std::thread::sleep(Duration::from_millis(1));
            }
            self.exported()
        }
    }

    impl LogExporter for Gate {
        async fn export(&self, batch: LogBatch<'_>) -> OTelSdkResult {
            if self.panic_once.swap(false, Ordering::Relaxed) {
                panic!("an exporter panics");
            }
            let (lock, cv) = &*self.open;
            let mut open = lock.lock().unwrap_or_else(|p| p.into_inner());
            while !*open {
                open = cv.wait(open).unwrap_or_else(|p| p.into_inner());
            }
            lock_threads(&self.threads).push(std::thread::current().id());
            self.exported
                .fetch_add(batch.iter().count() as u64, Ordering::Relaxed);
            Ok(())
        }

        fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
            self.shut_down.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }

        fn set_resource(&mut self, resource: &Resource) {
            *lock_threads(&self.resource) = Some(resource.clone());
        }
    }

    fn lock_threads<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
        m.lock().unwrap_or_else(PoisonError::into_inner)
    }

    use crate::test_support::io_runtime as io;

    fn provider(
        gate: &Gate,
        batching: Batching,
        overload: &Arc<Overload>,
        io: &tokio::runtime::Runtime,
    ) -> SdkLoggerProvider {
        SdkLoggerProvider::builder()
            .with_resource(
                Resource::builder_empty()
                    .with_service_name("queue-test")
                    .build(),
            )
            .with_log_processor(EventQueue::new(
                gate.clone(),
                batching,
                overload,
                io.handle(),
            ))
            .build()
    }

    fn emit(logger: &SdkLogger, n: u64) {
        for _ in 0..n {
            logger.emit(logger.create_log_record());
        }
    }

    const HOUR: Duration = Duration::from_secs(3_600);

    const fn batching(capacity: usize, batch: usize, delay: Duration) -> Batching {
        Batching {
            capacity,
            batch,
            delay,
        }
    }

    /// A stalled exporter and a burst far past the queue: every record is either exported or
    /// counted as dropped, and records being exported keep their room.
    #[test]
    fn every_record_is_exported_or_counted() {
        const CAPACITY: usize = 8;
        const EMITTED: u64 = 500;
        let gate = Gate::new(false);
        let overload = Overload::new(false);
        let batching = batching(CAPACITY, 2, Duration::from_millis(1));
        let io = io();
        let provider = provider(&gate, batching, &overload, &io);
        let logger = provider.logger("queue-test");
        emit(&logger, EMITTED);
        let dropped = overload.dropped();
        gate.open();
        provider.shutdown().expect("shut down");
        let exported = gate.exported();
        assert_eq!(
            dropped,
            EMITTED - CAPACITY as u64,
            "exactly the room is kept"
        );
        assert_eq!(
            exported, CAPACITY as u64,
            "the queue's records are exported"
        );
        assert_eq!(gate.shut_down.load(Ordering::Relaxed), 1);
    }

    /// One event, then shutdown at once: it is exported by the thread that shuts down, not
    /// left to the delay.
    #[test]
    fn shutdown_exports_what_waits_on_the_calling_thread() {
        let gate = Gate::new(true);
        let overload = Overload::new(false);
        let batching = batching(64, 16, HOUR);
        let io = io();
        let provider = provider(&gate, batching, &overload, &io);
        let logger = provider.logger("queue-test");
        emit(&logger, 3);
        provider.shutdown().expect("shut down");
        assert_eq!(gate.exported(), 3);
        assert_eq!(
            *lock_threads(&gate.threads),
            vec![std::thread::current().id()]
        );
        // After shutdown nothing is queued, and nothing is counted as an overload.
        emit(&logger, 2);
        assert_eq!(gate.exported(), 3);
        assert_eq!(overload.dropped(), 0);
        let resource = lock_threads(&gate.resource).clone().expect("resource set");
        assert!(
            resource
                .iter()
                .any(|(k, v)| k.as_str() == "service.name" && v.as_str() == "queue-test")
        );
    }

    /// A long-running process: a lone record is exported after the delay, a full batch at
    /// once, both in tasks on the I/O runtime, not on the recording thread.
    #[test]
    fn tasks_export_after_the_delay_or_a_full_batch() {
        let gate = Gate::new(true);
        let overload = Overload::new(false);
        let io = io();
        let lone = provider(
            &gate,
            batching(64, 16, Duration::from_millis(20)),
            &overload,
            &io,
        );
        emit(&lone.logger("queue-test"), 1);
        assert_eq!(
            gate.wait_for(1),
            1,
            "the delay passed, the record is exported"
        );

        let full = Gate::new(true);
        let batched = provider(&full, batching(64, 4, HOUR), &overload, &io);
        emit(&batched.logger("queue-test"), 4);
        assert_eq!(
            full.wait_for(4),
            4,
            "a full batch does not wait for the delay"
        );
        let main = std::thread::current().id();
        assert!(lock_threads(&full.threads).iter().all(|t| *t != main));
        lone.shutdown().expect("shut down");
        batched.shutdown().expect("shut down");
    }

    /// A queue whose first export task is stalled in the (closed) gate: `emit` records, then
    /// wait until a task has taken them. Two I/O threads: the stalled export blocks one (a
    /// test exporter blocks its thread).
    struct Stalled {
        io: tokio::runtime::Runtime,
        last: Arc<dyn LastExport>,
        provider: SdkLoggerProvider,
        logger: SdkLogger,
    }

    impl Stalled {
        fn new(gate: &Gate, batching: Batching, emitted: u64) -> Self {
            let overload = Overload::new(false);
            let io = crate::test_support::io_runtime_with(2);
            let queue = EventQueue::new(gate.clone(), batching, &overload, io.handle());
            let last = queue.last();
            let shared = Arc::clone(&queue.shared);
            let provider = SdkLoggerProvider::builder()
                .with_log_processor(queue)
                .build();
            let logger = provider.logger("queue-test");
            emit(&logger, emitted);
            let end = Instant::now() + Duration::from_secs(60);
            while *lock(&shared.exporting) == 0 && Instant::now() < end {
                std::thread::sleep(Duration::from_millis(1));
            }
            Stalled {
                io,
                last,
                provider,
                logger,
            }
        }
    }

    /// Exit: the guard's last export, a task on the I/O runtime, exports what waits and then
    /// waits for a batch still in flight, so what it reports covers every record.
    #[test]
    fn the_last_export_waits_for_a_batch_in_flight() {
        let gate = Gate::new(false);
        // A full batch goes to an export task (stalled), two more wait in the queue.
        let Stalled {
            io,
            last,
            provider,
            logger,
        } = Stalled::new(&gate, batching(64, 4, HOUR), 6);
        let exporting = io.spawn(last.last_export());
        std::thread::sleep(Duration::from_millis(20));
        assert!(!exporting.is_finished(), "it waits for the stalled batch");
        gate.open();
        io.block_on(exporting)
            .expect("the task ran")
            .expect("exported");
        assert_eq!(gate.exported(), 6, "the batch in flight and the rest");
        emit(&logger, 1);
        assert_eq!(gate.exported(), 6, "the queue is stopped");
        provider.shutdown().expect("shut down");
    }

    /// A record that comes while a batch is being exported is still exported within the
    /// delay, not left for exit.
    #[test]
    fn a_record_that_comes_during_an_export_waits_at_most_the_delay() {
        let gate = Gate::new(false);
        let stalled = Stalled::new(&gate, batching(64, 2, Duration::from_millis(20)), 2);
        let (provider, logger) = (&stalled.provider, &stalled.logger);
        // The delay's tick has gone off (with nothing left to take) by now.
        std::thread::sleep(Duration::from_millis(100));
        emit(logger, 1);
        gate.open();
        assert_eq!(
            gate.wait_for(3),
            3,
            "the late record is exported after the delay"
        );
        provider.shutdown().expect("shut down");
    }

    #[test]
    fn a_flush_returns_after_every_earlier_record_is_exported() {
        let gate = Gate::new(false);
        let overload = Overload::new(false);
        let io = io();
        let provider = provider(&gate, batching(64, 4, HOUR), &overload, &io);
        let logger = provider.logger("queue-test");
        // A full batch goes to an export task (stalled), two more wait in the queue.
        emit(&logger, 6);
        let flushing = {
            let provider = provider.clone();
            std::thread::spawn(move || provider.force_flush())
        };
        std::thread::sleep(Duration::from_millis(20));
        gate.open();
        flushing.join().expect("flush thread").expect("flushed");
        assert_eq!(gate.exported(), 6, "the task's batch and the rest");
        provider.shutdown().expect("shut down");
    }

    /// Room is taken a chunk at a time (64 here): with the export stalled, threads emitting
    /// far past the capacity never get more than it queued, and the room their shards took
    /// but did not use is less than a chunk each.
    #[test]
    fn room_taken_in_chunks_never_passes_the_capacity() {
        const CAPACITY: usize = 1 << 16;
        const THREADS: usize = 3;
        let gate = Gate::new(false);
        let overload = Overload::new(false);
        let io = io();
        let provider = provider(&gate, batching(CAPACITY, 1 << 20, HOUR), &overload, &io);
        std::thread::scope(|s| {
            for t in 0..THREADS {
                let provider = &provider;
                // Each thread ends at another point of its chunk.
                s.spawn(move || {
                    emit(
                        &provider.logger("queue-test"),
                        (CAPACITY / 2 + t * 7) as u64,
                    )
                });
            }
        });
        let emitted = (0..THREADS)
            .map(|t| (CAPACITY / 2 + t * 7) as u64)
            .sum::<u64>();
        let queued = emitted - overload.dropped();
        assert!(queued <= CAPACITY as u64, "{queued} queued");
        assert!(
            queued > (CAPACITY - THREADS * 64) as u64,
            "only {queued} of {CAPACITY} queued"
        );
        gate.open();
        provider.shutdown().expect("shut down");
        assert_eq!(gate.exported(), queued, "what was queued is exported");
    }

    /// Threads emitting at once while tasks export full batches: every record is
    /// exported exactly once, or counted as dropped when the queue is small.
    #[test]
    fn threads_emitting_at_once_lose_nothing_uncounted() {
        const THREADS: u64 = 4;
        const EACH: u64 = 5_000;
        for capacity in [1_usize << 20, 64] {
            let gate = Gate::new(true);
            let overload = Overload::new(false);
            let io = io();
            let provider = provider(
                &gate,
                batching(capacity, 32, Duration::from_millis(2)),
                &overload,
                &io,
            );
            std::thread::scope(|s| {
                for _ in 0..THREADS {
                    s.spawn(|| emit(&provider.logger("queue-test"), EACH));
                }
            });
            provider.shutdown().expect("shut down");
            let (exported, dropped) = (gate.exported(), overload.dropped());
            assert_eq!(exported + dropped, THREADS * EACH, "capacity {capacity}");
            if capacity > (THREADS * EACH) as usize {
                assert_eq!(dropped, 0, "a queue with room drops nothing");
            }
        }
    }

    #[test]
    fn a_panicking_exporter_loses_its_batch_not_the_queue() {
        let gate = Gate::new(true);
        gate.panic_once.store(true, Ordering::Relaxed);
        let overload = Overload::new(false);
        let io = io();
        let provider = provider(&gate, batching(64, 1, HOUR), &overload, &io);
        let logger = provider.logger("queue-test");
        emit(&logger, 1);
        let end = Instant::now() + Duration::from_secs(60);
        while gate.panic_once.load(Ordering::Relaxed) && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(1));
        }
        emit(&logger, 2);
        provider.shutdown().expect("shut down");
        assert_eq!(gate.exported(), 2);
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
