//! Sending the local store's records again, once, after an export missed them: the
//! machinery of `han-telemetry replay` ([`crate::replay`], feature `tools`, which documents
//! it) and of a hook's catch-up at exit ([`catch_up`]). A hook compiles it: a successful
//! export sends what earlier processes could not.
#![cfg_attr(not(feature = "tools"), allow(dead_code, unreachable_pub))]

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use opentelemetry::InstrumentationScope;
use opentelemetry::logs::LogRecord as _;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::logs::{LogBatch, LogExporter as _, LogProcessor, SdkLogRecord};
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};

use crate::config::{Config, Exporter, Signal};
use crate::export::causes;
use crate::export::{self, FirstExport, Io, ProbeExporter, ProbeTarget, block_on};
use crate::instrument::record::{self, TaskOutcome};
use crate::pipeline::Pipeline;
use crate::pipeline::layer::{HanLayer, StandardAttributes};
use crate::store::{self, Entry, ExportOutcome, LocalStore, Record};

/// How many records one run sends at most, unless told otherwise.
pub const DEFAULT_MAX_RECORDS: usize = 10_000;

/// Events per export request: well under the 4 MiB a gRPC collector accepts by default.
const EVENTS_PER_BATCH: usize = 1_000;

/// What to send.
#[derive(Debug, Clone)]
pub struct Options {
    /// Only records at or after this time.
    pub since: SystemTime,
    /// At most this many records (whole processes, oldest first).
    pub max_records: usize,
    /// Only say what would be sent.
    pub dry_run: bool,
}

/// What a run sent, or would send.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// The store read.
    pub dir: PathBuf,
    /// Processes with pending records taken in this run.
    pub processes: usize,
    /// Records counted into metrics, and what became of that export.
    pub metrics: SignalReplay,
    /// Records sent as events, and what became of those exports.
    pub logs: SignalReplay,
    /// Pending records left for a later run by [`Options::max_records`].
    pub left_over: usize,
    /// Records of processes whose export was `rejected` or `mixed`: never sent again.
    pub not_resendable: usize,
}

/// One signal of a replay.
#[derive(Debug, Clone, PartialEq)]
pub struct SignalReplay {
    /// Records taken for this signal.
    pub records: usize,
    /// What happened to them.
    pub sent: Sent,
}

/// What happened to one signal's pending records.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Sent {
    /// Nothing was pending.
    Nothing,
    /// A dry run: they would be sent.
    WouldSend,
    /// The collector accepted all of them.
    Delivered,
    /// Telemetry is off or this signal has no OTLP exporter: they stay pending.
    NoExporter,
    /// An export failed; the records not delivered stay pending.
    Failed {
        /// Records delivered before the failure.
        delivered: usize,
        /// The error (secrets removed).
        error: String,
        /// The likely cause.
        cause: String,
        /// What to check or change.
        fix: String,
    },
}

impl Sent {
    /// Whether pending records of this signal remain because sending failed or could not
    /// be attempted.
    pub fn is_failure(&self) -> bool {
        matches!(self, Self::Failed { .. } | Self::NoExporter)
    }
}

/// Why a replay could not run at all.
#[derive(Debug)]
#[non_exhaustive]
pub enum ReplayError {
    /// Another replay of this store is running.
    Busy(PathBuf),
    /// The store could not be read, locked or written.
    Store(PathBuf, std::io::Error),
}

impl std::fmt::Display for ReplayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Busy(dir) => write!(
                f,
                "another `han-telemetry replay` is sending the records of {}; try again when it is done",
                dir.display()
            ),
            Self::Store(dir, e) => write!(f, "the local store {} failed: {e}", dir.display()),
        }
    }
}

impl std::error::Error for ReplayError {}

/// One process's pending records.
struct Process<'s> {
    id: &'s str,
    records: Vec<&'s Record<'static>>,
    metrics: bool,
    logs: bool,
}

/// Sends the pending records of the store in `dir` with the exporters `config` describes.
pub fn run(config: &Config, dir: &Path, options: &Options) -> Result<Summary, ReplayError> {
    run_until(config, dir, options, None)
}

/// [`run`], starting no batch at or after `last_start`: what is left then counts in
/// [`Summary::left_over`].
fn run_until(
    config: &Config,
    dir: &Path,
    options: &Options,
    last_start: Option<Instant>,
) -> Result<Summary, ReplayError> {
    let store_error = |e| ReplayError::Store(dir.to_path_buf(), e);
    // No store yet: nothing can be pending, and a replay must not create one.
    if !dir.is_dir() {
        return Ok(Summary::empty(dir, 0, 0));
    }
    let _lock = lock(dir)?;
    let scan = store::scan(dir, options.since).map_err(store_error)?;
    let (mut pending, not_resendable) = pending(&scan.records);

    let mut taken = 0;
    let mut left_over = 0;
    pending.retain(|p| {
        if left_over == 0 && taken + p.records.len() <= options.max_records {
            taken += p.records.len();
            true
        } else {
            left_over += p.records.len();
            false
        }
    });
    let count = |signal: fn(&Process<'_>) -> bool| -> usize {
        pending
            .iter()
            .filter(|p| signal(p))
            .map(|p| p.records.len())
            .sum()
    };
    let mut summary = Summary {
        processes: pending.len(),
        metrics: SignalReplay::new(count(|p| p.metrics)),
        logs: SignalReplay::new(count(|p| p.logs)),
        ..Summary::empty(dir, left_over, not_resendable)
    };
    if options.dry_run {
        for s in [&mut summary.metrics, &mut summary.logs] {
            if s.records > 0 {
                s.sent = Sent::WouldSend;
            }
        }
        return Ok(summary);
    }

    // Batch by batch, each signal's receipts written (and on disk) as soon as that signal's
    // batch is delivered: a kill between a delivery and its receipt sends that one batch
    // again, never more, and a receipt is never written for what was not delivered.
    // Receipts go next to the records they are for: never into a store recreated after
    // this one was moved away (Han moves its data directory with the store inside).
    let ledger = LocalStore::existing(dir, config.store.retention_days);
    let mut metrics = SignalProgress::new(summary.metrics.records);
    let mut logs = SignalProgress::new(summary.logs.records);
    let all = batches(&pending);
    for (i, batch) in all.iter().enumerate() {
        if last_start.is_some_and(|last| Instant::now() >= last) {
            summary.left_over += all[i..]
                .iter()
                .flat_map(|b| b.iter())
                .map(|p| p.records.len())
                .sum::<usize>();
            break;
        }
        let of_metrics: Vec<&Process<'_>> = batch.iter().copied().filter(|p| p.metrics).collect();
        if metrics.going() && !of_metrics.is_empty() {
            match send_metrics(config, &of_metrics) {
                Sent::Delivered => {
                    receipts(&ledger, &of_metrics, Signal::Metrics).map_err(store_error)?;
                    metrics.delivered += of_metrics.iter().map(|p| p.records.len()).sum::<usize>();
                }
                other => metrics.stop(other),
            }
        }
        let of_logs: Vec<&Process<'_>> = batch.iter().copied().filter(|p| p.logs).collect();
        if logs.going() && !of_logs.is_empty() {
            let (sent, through) = send_events(config, &of_logs);
            let through: Vec<&Process<'_>> = of_logs
                .iter()
                .copied()
                .filter(|p| through.contains(&p.id))
                .collect();
            receipts(&ledger, &through, Signal::Logs).map_err(store_error)?;
            logs.delivered += through.iter().map(|p| p.records.len()).sum::<usize>();
            if sent != Sent::Delivered {
                logs.stop(sent);
            }
        }
        if !metrics.going() && !logs.going() {
            break;
        }
    }
    summary.metrics.sent = metrics.outcome();
    summary.logs.sent = logs.outcome();
    Ok(summary)
}

/// Records per replay batch (whole processes; a process with more records is a batch of its
/// own): what a kill in the middle of a replay can send twice, per signal.
pub const BATCH_RECORDS: usize = 100;

/// `pending` cut into batches of whole processes of at most [`BATCH_RECORDS`] records.
fn batches<'p, 's>(pending: &'p [Process<'s>]) -> Vec<Vec<&'p Process<'s>>> {
    let mut batches: Vec<Vec<&Process<'s>>> = Vec::new();
    let mut size = 0;
    for p in pending {
        match batches.last_mut() {
            Some(batch) if size + p.records.len() <= BATCH_RECORDS => batch.push(p),
            _ => {
                batches.push(vec![p]);
                size = 0;
            }
        }
        size += p.records.len();
    }
    batches
}

/// One signal's progress over the batches.
struct SignalProgress {
    records: usize,
    delivered: usize,
    stopped: Option<Sent>,
}

impl SignalProgress {
    fn new(records: usize) -> Self {
        SignalProgress {
            records,
            delivered: 0,
            stopped: None,
        }
    }

    fn going(&self) -> bool {
        self.records > 0 && self.stopped.is_none()
    }

    fn stop(&mut self, sent: Sent) {
        self.stopped = Some(match sent {
            Sent::Failed {
                error, cause, fix, ..
            } => Sent::Failed {
                delivered: self.delivered,
                error,
                cause,
                fix,
            },
            other => other,
        });
    }

    fn outcome(self) -> Sent {
        match self.stopped {
            Some(sent) => sent,
            None if self.records == 0 => Sent::Nothing,
            None => Sent::Delivered,
        }
    }
}

/// Writes a replay receipt for `signal` of each of `processes`, and makes sure it is on disk
/// before anything else is sent.
fn receipts(
    ledger: &LocalStore,
    processes: &[&Process<'_>],
    signal: Signal,
) -> std::io::Result<()> {
    if processes.is_empty() {
        return Ok(());
    }
    let delivered = |s: Signal| (s == signal).then_some(ExportOutcome::Delivered);
    for p in processes {
        ledger.append(
            None,
            Entry::Export {
                of: p.id.into(),
                replay: true,
                metrics: delivered(Signal::Metrics),
                logs: delivered(Signal::Logs),
                traces: None,
                logs_dropped: 0,
            },
        );
    }
    ledger.try_flush()
}

impl Summary {
    fn empty(dir: &Path, left_over: usize, not_resendable: usize) -> Summary {
        Summary {
            dir: dir.to_path_buf(),
            processes: 0,
            metrics: SignalReplay::new(0),
            logs: SignalReplay::new(0),
            left_over,
            not_resendable,
        }
    }
}

impl SignalReplay {
    fn new(records: usize) -> SignalReplay {
        SignalReplay {
            records,
            sent: Sent::Nothing,
        }
    }
}

/// Holds the store's replay lock until dropped.
fn lock(dir: &Path) -> Result<File, ReplayError> {
    let path = dir.join(store::REPLAY_LOCK);
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let (file, _) = crate::file::open_store_file(&path, &mut options, true).map_err(|e| {
        let e = match e {
            crate::file::Refused::Io(e) => e,
            other => std::io::Error::other(format!("{} {other}", path.display())),
        };
        ReplayError::Store(dir.to_path_buf(), e)
    })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(ReplayError::Busy(dir.to_path_buf())),
        Err(std::fs::TryLockError::Error(e)) => Err(ReplayError::Store(dir.to_path_buf(), e)),
    }
}

/// The writing process of a record: the part of its `id` before the `-`.
fn process_of<'r>(record: &'r Record<'_>) -> &'r str {
    record.id.split('-').next().unwrap_or_default()
}

/// Pending records by process, oldest process first, and how many records will never be
/// sent again.
fn pending<'s>(records: &'s [Record<'static>]) -> (Vec<Process<'s>>, usize) {
    // What each process said of its own export, and what replays delivered since.
    let mut own: HashMap<&str, (Option<ExportOutcome>, Option<ExportOutcome>)> = HashMap::new();
    let mut replayed: HashMap<&str, (bool, bool)> = HashMap::new();
    for r in records {
        if let Entry::Export {
            of,
            replay,
            metrics,
            logs,
            ..
        } = &r.entry
        {
            if *replay {
                let done = replayed.entry(of.as_ref()).or_default();
                done.0 |= *metrics == Some(ExportOutcome::Delivered);
                done.1 |= *logs == Some(ExportOutcome::Delivered);
            } else {
                own.insert(of.as_ref(), (*metrics, *logs));
            }
        }
    }
    let mut order: Vec<&str> = Vec::new();
    let mut by_process: HashMap<&str, Vec<&Record<'static>>> = HashMap::new();
    for r in records {
        if matches!(r.entry, Entry::Export { .. }) {
            continue;
        }
        let id = process_of(r);
        by_process
            .entry(id)
            .or_insert_with(|| {
                order.push(id);
                Vec::new()
            })
            .push(r);
    }
    let mut pending = Vec::new();
    let mut never = 0;
    for id in order {
        let Some((metrics, logs)) = own.get(id) else {
            continue;
        };
        let records = by_process.remove(id).unwrap_or_default();
        let (metrics_done, logs_done) = replayed.get(id).copied().unwrap_or_default();
        let resend = |o: &Option<ExportOutcome>, done: bool| {
            !done && o.is_some_and(ExportOutcome::is_resendable)
        };
        let (m, l) = (resend(metrics, metrics_done), resend(logs, logs_done));
        let refused = |o: &Option<ExportOutcome>| {
            matches!(o, Some(ExportOutcome::Rejected | ExportOutcome::Mixed))
        };
        if !(m || l) {
            if refused(metrics) || refused(logs) {
                never += records.len();
            }
            continue;
        }
        pending.push(Process {
            id,
            records,
            metrics: m,
            logs: l,
        });
    }
    (pending, never)
}

/// Whether `signal` has an OTLP exporter to send through.
fn otlp_on(config: &Config, signal: Signal) -> bool {
    config.enabled && config.signal(signal).uses(Exporter::Otlp)
}

/// Records `entry` into `p` as the process that stored it did; false for kinds that are not
/// telemetry (export receipts) or values no recording call produces.
fn replay_entry(p: &Pipeline, entry: &Entry<'_>) -> bool {
    let s = |text: &str| text.to_owned();
    match entry {
        Entry::Hook {
            hook_name,
            hook_type,
            success,
            duration_ms,
        } => {
            let duration =
                Duration::try_from_secs_f64(duration_ms / 1_000.0).unwrap_or(Duration::ZERO);
            let now = crate::store::Moment::of(std::time::SystemTime::now());
            record::hook_run_in(p, s(hook_name), s(hook_type), *success, duration, now);
        }
        Entry::PluginInstall {
            plugin_name,
            scope,
            success,
        } => record::plugin_install_in(p, s(plugin_name), s(scope), *success),
        Entry::PluginUninstall {
            plugin_name,
            scope,
            success,
        } => record::plugin_uninstall_in(p, s(plugin_name), s(scope), *success),
        Entry::Task {
            task_type,
            outcome,
            confidence,
        } => {
            let outcome = match outcome.as_ref() {
                "success" => TaskOutcome::Success,
                "partial" => TaskOutcome::Partial,
                "failure" => TaskOutcome::Failure,
                _ => return false,
            };
            record::task_in(p, s(task_type), outcome, confidence.unwrap_or(f64::NAN));
        }
        Entry::Validation {
            validation_type,
            passed,
            error_count,
        } => record::validation_in(p, s(validation_type), *passed, *error_count),
        Entry::McpToolCall { tool_name, success } => {
            record::mcp_tool_call_in(p, s(tool_name), *success);
        }
        Entry::SessionStart {} => record::session_start_in(p),
        Entry::Frustration { level, score } => {
            record::frustration_in(p, s(level), score.unwrap_or(f64::NAN));
        }
        _ => return false,
    }
    true
}

/// Sets the standard attributes a record carries (its session) before replaying it.
fn as_recorded(layer: &HanLayer, record: &Record<'_>) {
    layer.set_standard_attributes(&StandardAttributes {
        session_id: record.session_id.as_deref().map(str::to_owned),
        ..StandardAttributes::default()
    });
}

/// An exporter that could not be built.
fn not_built(config: &Config, signal: Signal, error: &str) -> Sent {
    let (cause, fix) = causes::setup_cause(error);
    Sent::Failed {
        delivered: 0,
        error: config.signal(signal).otlp.scrub(error),
        cause: cause.to_owned(),
        fix: fix.to_owned(),
    }
}

/// An export that failed; `detail` is the transport's own account of the last error.
fn failed(
    config: &Config,
    signal: Signal,
    delivered: usize,
    error: &str,
    detail: Option<&Mutex<Option<String>>>,
) -> Sent {
    let detail = detail.and_then(|slot| slot.lock().ok().and_then(|d| d.clone()));
    let otlp = &config.signal(signal).otlp;
    let to = causes::Destination::new(otlp.protocol, &otlp.endpoint);
    let explained = causes::classify_export_error(error, detail.as_deref(), Some(to));
    Sent::Failed {
        delivered,
        error: otlp.scrub(&explained.text),
        cause: explained.cause.to_owned(),
        fix: explained.fix.to_owned(),
    }
}

fn send_metrics(config: &Config, processes: &[&Process<'_>]) -> Sent {
    if !otlp_on(config, Signal::Metrics) {
        return Sent::NoExporter;
    }
    let mut io = Io::default();
    let temporality = export::sdk_temporality(config.temporality);
    let otlp = &config.metrics.otlp;
    let (exporter, detail) = match export::probe_target(Signal::Metrics, otlp, temporality, &mut io)
    {
        Ok(ProbeTarget {
            exporter: ProbeExporter::Metrics(e),
            detail,
        }) => (e, detail),
        Ok(_) => return not_built(config, Signal::Metrics, "no metric exporter"),
        Err(error) => {
            io.shutdown();
            return not_built(config, Signal::Metrics, &error);
        }
    };
    let (tx, rx) = mpsc::channel();
    // Only the flush below exports.
    let reader = PeriodicReader::builder(FirstExport::new(exporter, tx))
        .with_interval(Duration::from_secs(86_400))
        .build();
    let provider = SdkMeterProvider::builder()
        .with_resource(crate::pipeline::resource::build(
            config,
            env!("CARGO_PKG_VERSION"),
        ))
        .with_reader(reader)
        .build();
    let layer = HanLayer::builder()
        .meter_provider(provider.clone())
        .include(config.include)
        .build();
    for p in processes {
        for r in &p.records {
            as_recorded(&layer, r);
            replay_entry(layer.pipeline(), &r.entry);
        }
    }
    let flushed = provider.force_flush();
    let result = rx.try_recv().unwrap_or_else(|_| {
        Err(match flushed {
            Err(e) => format!("the metrics were not exported: {e}"),
            Ok(()) => "the metrics were not exported".to_owned(),
        })
    });
    drop(layer);
    drop(provider);
    io.shutdown();
    match result {
        Ok(()) => Sent::Delivered,
        Err(error) => failed(config, Signal::Metrics, 0, &error, detail.as_deref()),
    }
}

/// Keeps every emitted record, stamped with the time of the stored record being replayed.
#[derive(Debug, Default)]
struct Collect {
    at: Mutex<Option<SystemTime>>,
    records: Mutex<Vec<(SdkLogRecord, InstrumentationScope)>>,
}

#[derive(Debug, Clone, Default)]
struct Collector(Arc<Collect>);

impl LogProcessor for Collector {
    fn emit(&self, record: &mut SdkLogRecord, scope: &InstrumentationScope) {
        if let Some(at) = *self.0.at.lock().unwrap_or_else(PoisonError::into_inner) {
            record.set_timestamp(at);
        }
        self.0
            .records
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((record.clone(), scope.clone()));
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }
}

/// Sends the events of `processes` in batches of whole processes; returns what happened and
/// the processes whose events were all delivered.
fn send_events<'s>(config: &Config, processes: &[&Process<'s>]) -> (Sent, Vec<&'s str>) {
    if !otlp_on(config, Signal::Logs) {
        return (Sent::NoExporter, Vec::new());
    }
    let mut io = Io::default();
    let temporality = export::sdk_temporality(config.temporality);
    let (mut exporter, detail) =
        match export::probe_target(Signal::Logs, &config.logs.otlp, temporality, &mut io) {
            Ok(ProbeTarget {
                exporter: ProbeExporter::Logs(e),
                detail,
            }) => (e, detail),
            Ok(_) => return (not_built(config, Signal::Logs, "no log exporter"), vec![]),
            Err(error) => {
                io.shutdown();
                return (not_built(config, Signal::Logs, &error), Vec::new());
            }
        };
    exporter.set_resource(&crate::pipeline::resource::build(
        config,
        env!("CARGO_PKG_VERSION"),
    ));

    let collect = Collector::default();
    let provider = SdkLoggerProvider::builder()
        .with_log_processor(collect.clone())
        .build();
    let layer = HanLayer::builder()
        .logger_provider(provider.clone())
        .include(config.include)
        .build();
    // Where each process's events end, in order.
    let mut spans: Vec<(&'s str, usize)> = Vec::new();
    for p in processes {
        for r in &p.records {
            as_recorded(&layer, r);
            *collect.0.at.lock().unwrap_or_else(PoisonError::into_inner) = Some(r.ts);
            replay_entry(layer.pipeline(), &r.entry);
        }
        let end = collect.0.records.lock().map_or(0, |r| r.len());
        spans.push((p.id, end));
    }
    drop(layer);
    let events = std::mem::take(
        &mut *collect
            .0
            .records
            .lock()
            .unwrap_or_else(PoisonError::into_inner),
    );

    let mut through = Vec::new();
    let mut sent = 0;
    let mut batch_start = 0;
    let mut members: Vec<&'s str> = Vec::new();
    let mut outcome = Sent::Delivered;
    for (i, (id, end)) in spans.iter().enumerate() {
        members.push(id);
        let last = i + 1 == spans.len();
        if !last && end - batch_start < EVENTS_PER_BATCH {
            continue;
        }
        let data: Vec<(&SdkLogRecord, &InstrumentationScope)> = events
            .get(batch_start..*end)
            .unwrap_or_default()
            .iter()
            .map(|(r, s)| (r, s))
            .collect();
        let result = if data.is_empty() {
            Ok(())
        } else {
            block_on(exporter.export(LogBatch::new(&data)))
        };
        match result {
            Ok(()) => {
                sent += data.len();
                through.append(&mut members);
                batch_start = *end;
            }
            Err(e) => {
                outcome = failed(
                    config,
                    Signal::Logs,
                    sent,
                    &e.to_string(),
                    detail.as_deref(),
                );
                break;
            }
        }
    }
    let _ = exporter.shutdown();
    drop(provider);
    io.shutdown();
    (outcome, through)
}

/// Records one catch-up at a hook's exit sends at most (whole processes, oldest first).
pub(crate) const CATCH_UP_MAX_RECORDS: usize = 10 * BATCH_RECORDS;

/// A hook's catch-up, after its own export was delivered: when the store's pending mark
/// says earlier processes may have records to send again ([`store::PENDING_MARK`]), sends
/// them like [`run`] in batches of whole processes, starting no batch at or after
/// `last_start`, each export bounded by `deadline`. What is still pending then (the time,
/// [`CATCH_UP_MAX_RECORDS`], a failure) keeps the mark for the next run. Quiet: a hook's
/// stderr is not the place; `han-telemetry replay` says what it does.
pub(crate) fn catch_up(config: &Config, dir: &Path, last_start: Instant, deadline: Instant) {
    if !store::take_pending_mark(dir) {
        return;
    }
    let mut bounded = config.clone();
    let left = deadline.saturating_duration_since(Instant::now());
    for signal in [&mut bounded.metrics, &mut bounded.logs] {
        signal.otlp.timeout = signal.otlp.timeout.min(left);
    }
    let retention = Duration::from_secs(86_400 * u64::from(config.store.retention_days.max(1)));
    let options = Options {
        since: SystemTime::now()
            .checked_sub(retention)
            .unwrap_or(SystemTime::UNIX_EPOCH),
        max_records: CATCH_UP_MAX_RECORDS,
        dry_run: false,
    };
    let again = match run_until(&bounded, dir, &options, Some(last_start)) {
        Ok(summary) => {
            summary.left_over > 0
                || matches!(summary.metrics.sent, Sent::Failed { .. })
                || matches!(summary.logs.sent, Sent::Failed { .. })
        }
        // Another catch-up or a replay is sending; or the store failed: leave it to a later run.
        Err(_) => true,
    };
    if again {
        store::mark_pending(dir);
    }
}
