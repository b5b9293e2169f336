//! Appending records: buffered in the process, written with one locked `O_APPEND` write.
//!
//! A hook records a handful of events and exits, so records are kept in memory and written
//! once, when the guard flushes at exit. A long-running process flushes every
//! [`FLUSH_BYTES`] or [`FLUSH_AGE`]. Records are buffered in a compact form of their own
//! (`store/compact.rs`: their fields copied as they are) and made into the format's JSON
//! lines when their batch is written: off the recording thread in a long-running process.
//! The write happens under an exclusive `flock` of the day file, so concurrent processes
//! append whole batches one after the other.
//!
//! Nothing here may block without bound or write through someone else's file: the lock is
//! waited for at most [`LOCK_WAIT`]; day files are opened without following links and
//! without blocking, and must be regular files of this user with no other name; the store
//! directory must be this user's and not writable by others (else the fallback directory
//! is used). A batch that cannot go to its day file goes to a pending file of its own in the
//! same directory, which readers read like a day file: nothing is lost.

use std::fs::{self, File, OpenOptions};
use std::hash::{BuildHasher, Hasher};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, mpsc};
use std::time::{Duration, Instant, SystemTime};

use super::record::{Entry, ExportOutcome, FORMAT_VERSION, MAX_LINE_BYTES};
use super::{compact, day};
use crate::file::{self, Refused};
use crate::warn;

/// Buffered bytes (of the compact form) that trigger a write in a long-running process:
/// about 700 hook records with a session id (95 bytes buffered, 225 as a line: about 160 KiB
/// of lines), 1 200 without. Each batch costs a hand-off to the background writer (a thread
/// wake-up, a few microseconds on this VM): at 24 KiB that was about 10 ns a record, the
/// largest part of a store-only call after its lock (BENCHMARKS.md, "fifth pass"). What a
/// killed process can lose is bounded by [`FLUSH_AGE`] first: only a process recording more
/// than about 140 records a second fills a buffer before it is 5 s old.
pub(crate) const FLUSH_BYTES: usize = 64 * 1024;
/// A returned buffer larger than this is not kept for a next batch (one that held a record
/// near the line limit): the buffers kept stay about [`FLUSH_BYTES`] each.
const SPARE_MAX: usize = 3 * FLUSH_BYTES;
/// Returned buffers kept for next batches at most: one for each batch the background writer
/// can hold and the one being filled, so that a long-running process's buffers go round
/// without an allocation (and its fresh pages) per batch.
const SPARES: usize = BACKGROUND_QUEUE + 1;
/// Age of the oldest buffered record that triggers a write.
pub(crate) const FLUSH_AGE: Duration = Duration::from_secs(5);
/// After a failed write, records are dropped (not buffered without bound) for this long.
const RETRY_AFTER: Duration = Duration::from_secs(60);
/// The longest a write waits for another process's lock on the day file. Writers hold it
/// for one `write` (microseconds); longer means something else holds it, and the batch goes
/// to a pending file instead. The store's own bound, whether telemetry is on or off.
pub const LOCK_WAIT: Duration = Duration::from_millis(200);

/// Han's data directory by its home rule (`~/.han`) and the older one Han 3.21.4 moves there
/// (`~/.claude/han`) the first time one of its commands needs its data.
///
/// While `to` does not exist and `from` does, Han has yet to move: what would go under `to`
/// goes under `from`, which Han's move carries along, and `to` is never created (Han moves
/// only when `to` does not exist, so creating it would strand Han's own data in `from`).
/// Nothing is created above the store inside `from` either, so a writer that meets the
/// directory gone (Han moved it meanwhile) does not recreate it: it looks again, finds `to`,
/// and writes there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HanMove {
    pub(crate) to: PathBuf,
    pub(crate) from: PathBuf,
}

impl HanMove {
    /// `path` where it is now, and whether that is inside `from`.
    fn place(&self, path: &Path) -> (PathBuf, Option<&Path>) {
        if let Ok(rest) = path.strip_prefix(&self.to)
            && !self.to.exists()
            && self.from.is_dir()
        {
            return (self.from.join(rest), Some(&self.from));
        }
        (path.to_path_buf(), None)
    }
}

/// Which missing directories a writer creates on the way to its store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Create<'a> {
    /// The store and every missing parent.
    Parents,
    /// What is missing below this existing directory, never the directory itself.
    Below(&'a Path),
    /// Nothing: the store exists (a replay's receipts go next to the records they are for).
    Nothing,
}

/// Appends records to the day files of one directory.
#[derive(Debug)]
pub(crate) struct Writer {
    dir: PathBuf,
    /// Where records go when `dir` cannot be used safely.
    fallback: Option<PathBuf>,
    /// Han's move of its data directory, when the store is under it.
    han_move: Option<HanMove>,
    /// Whether missing directories are created.
    creates: bool,
    retention_days: u32,
    id_prefix: String,
    /// What every line starts with: `{"v":1,"id":"<id_prefix>-`.
    line_head: String,
    pending_seq: AtomicU64,
    /// What every record is appended to, under a lock held for the append alone. A spin lock
    /// (yielding while another thread holds it): released by a plain store, where std's mutex
    /// spends a second atomic read-modify-write per record to look for sleepers; about a
    /// tenth of a store-only call (BENCHMARKS.md, "fifth pass"). Nothing holds it over I/O
    /// or anything that can panic.
    state: StateLock,
    /// The file side, locked apart from `state`, so that appending never waits for a write.
    io: Mutex<IoState>,
    /// Where a long-running process's full buffers go to be written, once it has one.
    background: Mutex<Background>,
    /// Batches whose lines an appending thread made because the writer was behind.
    #[cfg(test)]
    lines_by_appender: AtomicU64,
}

type StateLock = spin::mutex::SpinMutex<State, spin::relax::Yield>;

#[derive(Debug, Default)]
struct State {
    /// The sequence number of the next record (its `id` after the process's digits).
    seq: u64,
    /// The UTC day of the buffered records.
    day: u64,
    /// The buffered records, in their compact form.
    bytes: compact::Buffer,
    /// Empty buffers the background writer gave back, to take the place of the next batches
    /// taken (no allocation, no fresh pages to fault in); at most [`SPARES`].
    spares: Vec<compact::Buffer>,
    /// When the oldest buffered record was made, since the epoch.
    oldest: Option<Duration>,
    paused_until: Option<Instant>,
}

#[derive(Debug, Default)]
struct IoState {
    pruned: bool,
    /// The directory written to, once checked.
    target: Option<PathBuf>,
    /// `target` is inside Han's older data directory, which Han may move at any time.
    before_move: bool,
}

/// The thread that writes a long-running process's full buffers, so that recording a record
/// costs its encoding and never a file write. Started by the first full buffer; a hook
/// process, which writes once at exit, never starts it.
#[derive(Debug, Default)]
enum Background {
    /// No buffer has filled yet.
    #[default]
    NotStarted,
    Running(mpsc::SyncSender<Job>),
    /// Could not be started, or closed: buffers are written where they fill.
    Off,
}

/// Work for the background writer, in order.
#[derive(Debug)]
enum Job {
    Write {
        day: u64,
        bytes: compact::Buffer,
    },
    /// A batch whose lines the appending thread made, because the writer was behind.
    Lines {
        day: u64,
        lines: Vec<u8>,
    },
    /// Answers once everything sent before it is written.
    Barrier(mpsc::SyncSender<()>),
}

/// Full buffers waiting for the background writer at most; past them the appender waits for
/// it (the disk is slower than the records: memory stays bounded).
const BACKGROUND_QUEUE: usize = 4;

/// Where a batch went.
enum Written {
    /// Into its day file.
    Day,
    /// Into a pending file of its own, because of `why`.
    Pending { path: PathBuf, why: String },
}

impl Writer {
    pub(crate) fn new(dir: PathBuf, retention_days: u32) -> Arc<Self> {
        Self::with_fallback(dir, None, None, retention_days)
    }

    pub(crate) fn with_fallback(
        dir: PathBuf,
        fallback: Option<PathBuf>,
        han_move: Option<HanMove>,
        retention_days: u32,
    ) -> Arc<Self> {
        Self::build(dir, fallback, han_move, retention_days, true)
    }

    fn build(
        dir: PathBuf,
        fallback: Option<PathBuf>,
        han_move: Option<HanMove>,
        retention_days: u32,
        creates: bool,
    ) -> Arc<Self> {
        let id_prefix = format!("{:016x}", process_nonce());
        Arc::new(Writer {
            fallback: fallback.filter(|f| *f != dir),
            dir,
            han_move,
            creates,
            retention_days: retention_days.max(1),
            line_head: line_head(&id_prefix),
            id_prefix,
            pending_seq: AtomicU64::new(0),
            state: StateLock::new(State::default()),
            io: Mutex::new(IoState::default()),
            background: Mutex::new(Background::default()),
            #[cfg(test)]
            lines_by_appender: AtomicU64::new(0),
        })
    }

    /// A writer that creates no directory: for an existing store whose records must stay
    /// with what is written (a replay's receipts). A store moved away while it writes is
    /// an error, never recreated empty.
    pub(crate) fn existing(dir: PathBuf, retention_days: u32) -> Arc<Self> {
        Self::build(dir, None, None, retention_days, false)
    }

    pub(crate) fn id_prefix(&self) -> &str {
        &self.id_prefix
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the store is now (inside Han's older data directory until Han moves it),
    /// before anything is written: where the export gate lives.
    pub(crate) fn placed_dir(&self) -> PathBuf {
        self.place(&self.dir).0
    }

    /// Where records went: the store, or the fallback once it had to be used.
    pub(crate) fn written_to(&self) -> PathBuf {
        self.io().target.clone().unwrap_or_else(|| self.dir.clone())
    }

    fn state(&self) -> spin::mutex::SpinMutexGuard<'_, State, spin::relax::Yield> {
        self.state.lock()
    }

    fn io(&self) -> MutexGuard<'_, IoState> {
        self.io.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Buffers one record, writing the buffer out when it is due.
    pub(crate) fn append(self: &Arc<Self>, session_id: Option<&str>, entry: Entry<'_>) {
        self.append_at(session_id, day::Moment::of(SystemTime::now()), entry);
    }

    /// [`Writer::append`] of a record made at `at`.
    pub(crate) fn append_at(
        self: &Arc<Self>,
        session_id: Option<&str>,
        at: day::Moment,
        entry: Entry<'_>,
    ) {
        let since = at.since();
        let today = since.as_secs() / day::SECONDS_PER_DAY;
        let mut state = self.state();
        // Taken under the lock the record is buffered under (no atomic of its own), so the
        // buffer holds records in the order of their numbers.
        let seq = state.seq;
        state.seq = seq.wrapping_add(1);
        if state
            .paused_until
            .is_some_and(|until| Instant::now() < until)
        {
            return;
        }
        if state.day != today {
            if let Some(batch) = take_batch(&mut state) {
                drop(state);
                self.hand_off(batch);
                state = self.state();
            }
            state.day = today;
        }
        if state.bytes.push(seq, since, session_id, &entry).is_err() {
            // Its line would be longer still (a line holds more than its strings).
            drop(state);
            line_too_long();
            return;
        }
        let oldest = *state.oldest.get_or_insert(since);
        let age = since.checked_sub(oldest).unwrap_or(FLUSH_AGE);
        if (state.bytes.len() >= FLUSH_BYTES || age >= FLUSH_AGE)
            && let Some(batch) = take_batch(&mut state)
        {
            // A process that filled one buffer is likely to fill the next: no regrowing it.
            state.bytes.reserve(FLUSH_BYTES + 4 * 1024);
            drop(state);
            self.hand_off(batch);
        }
    }

    /// A full buffer: to the background writer (started on the first), which keeps batches in
    /// order; when it is [`BACKGROUND_QUEUE`] batches behind, this waits for it (memory stays
    /// bounded). Written here when it cannot run.
    fn hand_off(self: &Arc<Self>, (day, bytes): (u64, compact::Buffer)) {
        let tx = {
            let mut background = self
                .background
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if matches!(*background, Background::NotStarted) {
                *background = self.start_background();
            }
            match &*background {
                Background::Running(tx) => Some(tx.clone()),
                _ => None,
            }
        };
        let job = match tx {
            Some(tx) => match tx.try_send(Job::Write { day, bytes }) {
                Ok(()) => return,
                // The writer is behind (a flood of records): this thread makes the lines of
                // its batch, so the two threads share the work instead of this one waiting
                // for the writer to make them.
                Err(mpsc::TrySendError::Full(Job::Write { day, bytes })) => {
                    let mut lines = Vec::new();
                    self.encode_batch(&bytes, &mut lines);
                    self.give_back(bytes);
                    #[cfg(test)]
                    self.lines_by_appender.fetch_add(1, Ordering::Relaxed);
                    match tx.send(Job::Lines { day, lines }) {
                        Ok(()) => return,
                        Err(mpsc::SendError(job)) => job,
                    }
                }
                Err(mpsc::TrySendError::Full(job) | mpsc::TrySendError::Disconnected(job)) => job,
            },
            None => Job::Write { day, bytes },
        };
        match job {
            Job::Write { day, bytes } => self.write_batch(day, &bytes, &mut Vec::new()),
            Job::Lines { day, lines } => self.write_lines(day, &lines),
            Job::Barrier(_) => {}
        }
    }

    /// Keeps a buffer the background writer is done with for a next batch, unless
    /// [`SPARES`] are kept already.
    fn give_back(&self, mut bytes: compact::Buffer) {
        if bytes.capacity() > SPARE_MAX {
            return;
        }
        bytes.clear();
        let mut state = self.state();
        if state.spares.len() < SPARES {
            state.spares.push(bytes);
        }
    }

    /// The JSON lines of a taken batch (its compact records), into `lines`, emptied first.
    /// A record whose line would be longer than [`MAX_LINE_BYTES`] is left out, with one
    /// warning.
    fn encode_batch(&self, batch: &compact::Buffer, lines: &mut Vec<u8>) {
        lines.clear();
        // A record buffered is about 0.4 of its line.
        lines.reserve(batch.len() * 5 / 2);
        let mut clock = SecondClock::default();
        for record in batch.records() {
            let line = Line {
                head: &self.line_head,
                seq: record.seq,
                since: record.since,
                session_id: record.session_id,
                entry: &record.entry,
            };
            let before = lines.len();
            if line.encode(lines, &mut clock).is_ok() && lines.len() - before > MAX_LINE_BYTES {
                // No reader would take it back: say so instead of writing what is never read.
                lines.truncate(before);
                line_too_long();
            }
        }
    }

    fn start_background(self: &Arc<Self>) -> Background {
        let (tx, rx) = mpsc::sync_channel::<Job>(BACKGROUND_QUEUE);
        // Weak: the thread must not keep the store alive; the last handle's drop closes it.
        let writer = Arc::downgrade(self);
        let started = std::thread::Builder::new()
            .name("han-telemetry-store".to_owned())
            .spawn(move || {
                // The lines of each batch, made here: kept from one batch to the next.
                let mut lines = Vec::new();
                for job in rx {
                    match job {
                        Job::Write { day, bytes } => match writer.upgrade() {
                            Some(w) => {
                                w.write_batch(day, &bytes, &mut lines);
                                w.give_back(bytes);
                            }
                            None => return,
                        },
                        Job::Lines { day, lines } => match writer.upgrade() {
                            Some(w) => w.write_lines(day, &lines),
                            None => return,
                        },
                        Job::Barrier(done) => {
                            let _ = done.send(());
                        }
                    }
                }
            });
        match started {
            Ok(_) => Background::Running(tx),
            Err(_) => Background::Off,
        }
    }

    /// Waits until the background writer has written what it was given, and stops it when
    /// `close`: buffers are written where they fill from then on.
    fn drain_background(&self, close: bool) {
        let mut background = self
            .background
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Background::Running(tx) = &*background {
            let (done, wait) = mpsc::sync_channel(1);
            if tx.send(Job::Barrier(done)).is_ok() {
                let _ = wait.recv();
            }
        }
        if close {
            *background = Background::Off;
        }
    }

    /// Writes one taken batch (compact records), reporting what became of it; `lines` is
    /// where its lines are made.
    fn write_batch(&self, day: u64, batch: &compact::Buffer, lines: &mut Vec<u8>) {
        self.encode_batch(batch, lines);
        self.write_lines(day, lines);
    }

    /// Writes the lines of one batch, reporting what became of them.
    fn write_lines(&self, day: u64, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let count = || bytes.iter().filter(|b| **b == b'\n').count();
        let written = {
            let mut io = self.io();
            self.write_out(&mut io, day, bytes)
        };
        match written {
            Ok(Written::Day) => {}
            Ok(Written::Pending { path, why }) => warn::warn_once(
                "store-pending",
                &format!(
                    "{why}; {} record(s) are kept in {} instead (`han-telemetry report` \
                     and `replay` read it). The hook is unaffected",
                    count(),
                    path.display()
                ),
            ),
            Err(e) => {
                let lines = count();
                self.state().paused_until = Some(Instant::now() + RETRY_AFTER);
                warn::warn_once(
                    "store-write",
                    &format!(
                        "cannot write the local metrics store in {} ({e}); {lines} record(s) \
                         lost. The hook is unaffected. HAN_METRICS_DIR moves the store, \
                         HAN_METRICS_STORE=off turns it off",
                        self.dir.display()
                    ),
                );
            }
        }
    }

    /// Writes whatever is buffered, after what the background writer still has.
    pub(crate) fn flush(&self) {
        self.drain_background(false);
        let batch = take_batch(&mut self.state());
        if let Some((day, bytes)) = batch {
            self.write_batch(day, &bytes, &mut Vec::new());
        }
    }

    /// [`Writer::flush`], and stops the background writer: for the last handle's drop.
    pub(crate) fn close(&self) {
        self.drain_background(true);
        self.flush();
    }

    /// Writes whatever is buffered and says whether that worked, without the hook-facing
    /// warning: for a caller that reports the failure itself. A batch kept in a pending file
    /// is on disk, readers read it: that is success.
    pub(crate) fn flush_checked(&self) -> io::Result<()> {
        self.drain_background(false);
        let Some((day, compact)) = take_batch(&mut self.state()) else {
            return Ok(());
        };
        let mut lines = Vec::new();
        self.encode_batch(&compact, &mut lines);
        if lines.is_empty() {
            return Ok(());
        }
        let mut io = self.io();
        self.write_out(&mut io, day, &lines).map(|_| ())
    }

    /// Writes one batch: to its day file, else to a pending file; an error only when neither
    /// could be written. A batch meant for Han's older data directory that finds it gone
    /// (Han moved it meanwhile) is written again where the directory is now.
    fn write_out(&self, state: &mut IoState, day: u64, bytes: &[u8]) -> io::Result<Written> {
        match self.write_once(state, day, bytes) {
            Err(_)
                if state.before_move
                    && state.target.as_deref().is_some_and(|dir| !dir.is_dir()) =>
            {
                state.target = None;
                state.before_move = false;
                self.write_once(state, day, bytes)
            }
            written => written,
        }
    }

    fn write_once(&self, state: &mut IoState, day: u64, bytes: &[u8]) -> io::Result<Written> {
        let dir = self.target(state)?;
        let path = dir.join(day::file_name(day));
        let mut before = None;
        let written = match append_locked(&path, bytes) {
            Ok(changed) => {
                before = changed;
                Written::Day
            }
            Err(problem) => {
                let why = format!(
                    "the local metrics store's day file {} {problem}",
                    path.display()
                );
                match self.write_pending(&dir, day, bytes) {
                    Ok(path) => Written::Pending { path, why },
                    Err(e) => return Err(io::Error::other(format!("{why}, and {e}"))),
                }
            }
        };
        if !state.pruned {
            state.pruned = true;
            let today = day::epoch_day(SystemTime::now());
            self.prune(&dir, &path, before.map(day::epoch_day), today);
        }
        Ok(written)
    }

    /// The directory to write to: the store, when it is safe; else the fallback, with one
    /// warning. Checked once per process.
    fn target(&self, state: &mut IoState) -> io::Result<PathBuf> {
        if let Some(dir) = &state.target {
            return Ok(dir.clone());
        }
        let (dir, before_move) = match self.usable(&self.dir) {
            Ok(usable) => usable,
            Err(problem) => {
                let Some(fallback) = &self.fallback else {
                    return Err(io::Error::other(problem));
                };
                let (fallback, before_move) = self.usable(fallback).map_err(|also| {
                    io::Error::other(format!(
                        "{problem}; the fallback {} cannot be used either: {also}",
                        fallback.display()
                    ))
                })?;
                warn::warn_once(
                    "store-dir",
                    &format!(
                        "the local metrics store {} is not used: {problem}; records go to {} \
                         instead (`han-telemetry report` and `replay` read both). The hook is \
                         unaffected",
                        self.dir.display(),
                        fallback.display()
                    ),
                );
                (fallback, before_move)
            }
        };
        state.target = Some(dir.clone());
        state.before_move = before_move;
        Ok(dir)
    }

    /// `path` where it is now, checked (and created) for writing; whether it is inside Han's
    /// older data directory. Looked at once more if that directory went away meanwhile (Han
    /// moved it): the store is then where Han put it.
    fn usable(&self, path: &Path) -> Result<(PathBuf, bool), String> {
        let (placed, before_move) = self.place(path);
        match usable_dir(&placed, self.create(before_move)) {
            Ok(()) => Ok((placed, before_move.is_some())),
            Err(_) if before_move.is_some_and(|from| !from.is_dir()) => {
                let (placed, before_move) = self.place(path);
                usable_dir(&placed, self.create(before_move))
                    .map(|()| (placed, before_move.is_some()))
            }
            Err(problem) => Err(problem),
        }
    }

    /// `path` where it is now (see [`HanMove`]), and the older data directory it is in.
    fn place<'a>(&'a self, path: &Path) -> (PathBuf, Option<&'a Path>) {
        match &self.han_move {
            Some(han_move) => han_move.place(path),
            None => (path.to_path_buf(), None),
        }
    }

    /// What may be created on the way to a store inside `before_move`, or elsewhere.
    fn create<'a>(&self, before_move: Option<&'a Path>) -> Create<'a> {
        match (self.creates, before_move) {
            (false, _) => Create::Nothing,
            (true, Some(root)) => Create::Below(root),
            (true, None) => Create::Parents,
        }
    }

    /// Writes `bytes` to a new file of this process only, `YYYY-MM-DD.<id>-<n>.pending.jsonl`.
    fn write_pending(&self, dir: &Path, day: u64, bytes: &[u8]) -> io::Result<PathBuf> {
        let n = self.pending_seq.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(day::pending_name(day, &self.id_prefix, n));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        private_mode(&mut options);
        let (file, _) = file::open_store_file(&path, &mut options, true)
            .map_err(|e| io::Error::other(format!("cannot create {}: {e}", path.display())))?;
        (&file)
            .write_all(bytes)
            .map_err(|e| io::Error::other(format!("cannot write {}: {e}", path.display())))
            .map(|()| path)
    }

    /// Deletes day and pending files older than the retention. Other files are left alone.
    ///
    /// "Now" is the earlier of this process's clock and the newest change to any other data
    /// file (file times come from the kernel, not from a process's clock), and a file goes
    /// only when both its day and its last change are older than the retention: one process
    /// whose clock runs ahead (or a `faketime` run) deletes nothing a correct clock would keep.
    /// `written` is the file this process just wrote, `before` when it last changed before
    /// that (`None` for a file this process created): this process's own write says nothing
    /// about the time.
    fn prune(&self, dir: &Path, written: &Path, before: Option<u64>, today: u64) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        let mut files = Vec::new();
        let mut newest_change: Option<u64> = None;
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(file_day) = name.to_str().and_then(day::data_file_day) else {
                continue;
            };
            // Not followed: a link is not ours to judge.
            let Ok(meta) = entry.metadata() else {
                continue;
            };
            if !meta.is_file() || file::foreign_owner(&meta).is_some() {
                continue;
            }
            let path = entry.path();
            let changed = if path == written {
                before
            } else {
                Some(meta.modified().map_or(today, day::epoch_day))
            };
            if let Some(changed) = changed {
                newest_change = Some(newest_change.map_or(changed, |n| n.max(changed)));
                files.push((file_day, changed, path));
            }
        }
        let Some(newest) = newest_change else {
            return;
        };
        let Some(cutoff) = today
            .min(newest)
            .checked_sub(u64::from(self.retention_days))
        else {
            return;
        };
        for (file_day, changed, path) in files {
            if file_day <= cutoff && changed <= cutoff {
                // Another process may have removed it first; nothing to report either way.
                let _ = fs::remove_file(path);
            }
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // No waiting for the background writer: this may run on its thread (it held the last
        // strong handle for a moment). The last `LocalStore` closed it already.
        // Taken in a statement of its own: the lock's guard must be gone before the write,
        // whose failure takes the lock again (in an `if let`, it would live through the body).
        let batch = take_batch(&mut self.state());
        if let Some((day, bytes)) = batch {
            self.write_batch(day, &bytes, &mut Vec::new());
        }
    }
}

/// Takes the buffered records out of `state`, if any; a spare buffer, if there is one,
/// takes their place.
fn take_batch(state: &mut State) -> Option<(u64, compact::Buffer)> {
    if state.bytes.is_empty() {
        return None;
    }
    state.oldest = None;
    let spare = state.spares.pop().unwrap_or_default();
    Some((state.day, std::mem::replace(&mut state.bytes, spare)))
}

/// The one warning for a record too long to store.
fn line_too_long() {
    warn::warn_once(
        "store-line",
        &format!(
            "a record longer than the local metrics store's {} KiB line limit was not \
             stored (a name of that size is a bug in the caller)",
            MAX_LINE_BYTES / 1024
        ),
    );
}

/// Appends `bytes` to the day file at `path` under its lock, waited for at most
/// [`LOCK_WAIT`]; creates it (0600) if needed. Refuses what is not a regular file of this
/// user with no other name, and makes a file of ours that others could read private again.
/// Returns when the file last changed before this write, unless it was empty.
fn append_locked(path: &Path, bytes: &[u8]) -> Result<Option<SystemTime>, String> {
    let mut options = OpenOptions::new();
    options.read(true).append(true).create(true);
    private_mode(&mut options);
    let (file, meta) = file::open_store_file(path, &mut options, true).map_err(|e| match e {
        Refused::Io(e) => format!("cannot be opened ({e})"),
        other => other.to_string(),
    })?;
    make_private(&file, &meta, path)?;
    lock_within(&file, LOCK_WAIT)?;
    let before = file
        .metadata()
        .ok()
        .filter(|m| m.len() > 0)
        .and_then(|m| m.modified().ok());
    // Released when `file` is closed at the end of this function.
    let result = if ends_mid_line(&file).map_err(|e| format!("cannot be read ({e})"))? {
        // A writer died mid-write: start on a fresh line so this batch stays intact.
        let mut repaired = Vec::with_capacity(bytes.len() + 1);
        repaired.push(b'\n');
        repaired.extend_from_slice(bytes);
        (&file).write_all(&repaired)
    } else {
        (&file).write_all(bytes)
    };
    result
        .map(|()| before)
        .map_err(|e| format!("cannot be written ({e})"))
}

/// A day file of ours that others can read (created by hand, or by an old version under a
/// lax umask) is made 0600 again, with one warning.
fn make_private(file: &File, meta: &fs::Metadata, path: &Path) -> Result<(), String> {
    let mode = file::mode(meta);
    if mode & 0o077 == 0 {
        return Ok(());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        file.set_permissions(fs::Permissions::from_mode(0o600))
            .map_err(|e| {
                format!(
                    "can be read by other users (mode {mode:o}) and cannot be made private ({e})"
                )
            })?;
        warn::warn_once(
            "store-mode",
            &format!(
                "{} could be read by other users (mode {mode:o}); it is readable by you only again (0600)",
                path.display()
            ),
        );
    }
    #[cfg(not(unix))]
    let _ = (file, path);
    Ok(())
}

/// Takes `file`'s exclusive lock, waiting at most `wait`.
fn lock_within(file: &File, wait: Duration) -> Result<(), String> {
    let deadline = Instant::now() + wait;
    let mut pause = Duration::from_millis(1);
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(()),
            Err(fs::TryLockError::WouldBlock) => {}
            Err(fs::TryLockError::Error(e)) => return Err(format!("cannot be locked ({e})")),
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(format!(
                "is locked by another process for more than {} ms",
                wait.as_millis()
            ));
        }
        std::thread::sleep(pause.min(left));
        pause = (pause * 2).min(Duration::from_millis(10));
    }
}

/// Whether `dir` may be written: created (0700) if missing, as far as `create` allows; else
/// it must be a directory of this user that no one else can write, reached through no
/// symbolic link of another user.
pub(crate) fn usable_dir(dir: &Path, create: Create<'_>) -> Result<(), String> {
    let created = match create {
        Create::Parents => create_private_dir(dir),
        Create::Below(root) => create_private_dir_below(root, dir),
        Create::Nothing => Ok(()),
    };
    created.map_err(|e| format!("cannot be created ({e})"))?;
    let link = fs::symlink_metadata(dir).map_err(|e| format!("cannot be read ({e})"))?;
    if link.file_type().is_symlink()
        && let Some(uid) = file::foreign_owner(&link).filter(|uid| *uid != 0)
    {
        return Err(format!("it is a symbolic link of another user (uid {uid})"));
    }
    let meta = fs::metadata(dir).map_err(|e| format!("cannot be read ({e})"))?;
    if !meta.is_dir() {
        return Err(format!(
            "it is {}, not a directory",
            file::kind_of(meta.file_type())
        ));
    }
    if let Some(uid) = file::foreign_owner(&meta) {
        return Err(format!("it belongs to another user (uid {uid})"));
    }
    let mode = file::mode(&meta);
    if mode & 0o022 != 0 {
        return Err(format!(
            "other users can write to it (mode {mode:o}), so they could plant links or files \
             there; `chmod 700` it"
        ));
    }
    Ok(())
}

fn private_mode(options: &mut OpenOptions) {
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(options, 0o600);
    #[cfg(not(unix))]
    let _ = options;
}

/// One record as a line of the store, made when its batch is written: the same JSON as
/// `Record`'s `Serialize` (a test holds them equal for every kind), written field by field:
/// serde's `flatten`, its per-key escaping and its per-field calls cost more than all the rest.
struct Line<'a> {
    /// [`line_head`] of the writer's id prefix.
    head: &'a str,
    seq: u64,
    /// When it was recorded, since the epoch, within what the format can write
    /// ([`day::clamp_time`]).
    since: Duration,
    session_id: Option<&'a str>,
    entry: &'a Entry<'a>,
}

impl Line<'_> {
    /// Appends the line and its newline to `out`, or leaves `out` as it was.
    fn encode(&self, out: &mut Vec<u8>, clock: &mut SecondClock) -> Result<(), ()> {
        let start = out.len();
        let result = self.encode_into(out, clock);
        if result.is_err() {
            out.truncate(start);
        }
        result
    }

    fn encode_into(&self, out: &mut Vec<u8>, clock: &mut SecondClock) -> Result<(), ()> {
        out.extend_from_slice(self.head.as_bytes());
        push_u64(out, self.seq);
        clock.push_ts_field(out, self.since);
        if let Some(session_id) = self.session_id {
            out.extend_from_slice(b"\"session_id\":");
            push_str(out, session_id)?;
            out.push(b',');
        }
        push_entry(out, self.entry)?;
        out.extend_from_slice(b"}\n");
        Ok(())
    }
}

/// `{"v":1,"id":"<id_prefix>-`: the start of every line a writer of `id_prefix` writes.
fn line_head(id_prefix: &str) -> String {
    format!("{{\"v\":{FORMAT_VERSION},\"id\":\"{id_prefix}-")
}

/// `"kind":...` and the fields of `entry`, in the order (and with the omissions) of its
/// `Serialize`.
fn push_entry(out: &mut Vec<u8>, entry: &Entry<'_>) -> Result<(), ()> {
    fn kind(out: &mut Vec<u8>, kind: &[u8]) {
        out.extend_from_slice(b"\"kind\":\"");
        out.extend_from_slice(kind);
        out.push(b'"');
    }
    fn key(out: &mut Vec<u8>, key: &[u8]) {
        out.extend_from_slice(b",\"");
        out.extend_from_slice(key);
        out.extend_from_slice(b"\":");
    }
    fn boolean(out: &mut Vec<u8>, name: &[u8], value: bool) {
        key(out, name);
        out.extend_from_slice(if value { b"true" } else { b"false" });
    }
    fn string(out: &mut Vec<u8>, name: &[u8], value: &str) -> Result<(), ()> {
        key(out, name);
        push_str(out, value)
    }
    fn number(out: &mut Vec<u8>, name: &[u8], value: f64) -> Result<(), ()> {
        key(out, name);
        push_f64(out, value)
    }
    fn outcome(out: &mut Vec<u8>, name: &[u8], value: Option<ExportOutcome>) {
        if let Some(value) = value {
            key(out, name);
            out.push(b'"');
            out.extend_from_slice(value.as_str().as_bytes());
            out.push(b'"');
        }
    }
    match entry {
        Entry::Hook {
            hook_name,
            hook_type,
            success,
            duration_ms,
        } => {
            kind(out, b"hook");
            string(out, b"hook_name", hook_name)?;
            string(out, b"hook_type", hook_type)?;
            boolean(out, b"success", *success);
            number(out, b"duration_ms", *duration_ms)?;
        }
        Entry::PluginInstall {
            plugin_name,
            scope,
            success,
        } => {
            kind(out, b"plugin_install");
            string(out, b"plugin_name", plugin_name)?;
            string(out, b"scope", scope)?;
            boolean(out, b"success", *success);
        }
        Entry::PluginUninstall {
            plugin_name,
            scope,
            success,
        } => {
            kind(out, b"plugin_uninstall");
            string(out, b"plugin_name", plugin_name)?;
            string(out, b"scope", scope)?;
            boolean(out, b"success", *success);
        }
        Entry::Task {
            task_type,
            outcome,
            confidence,
        } => {
            kind(out, b"task");
            string(out, b"task_type", task_type)?;
            string(out, b"outcome", outcome)?;
            if let Some(confidence) = confidence {
                number(out, b"confidence", *confidence)?;
            }
        }
        Entry::Validation {
            validation_type,
            passed,
            error_count,
        } => {
            kind(out, b"validation");
            string(out, b"validation_type", validation_type)?;
            boolean(out, b"passed", *passed);
            key(out, b"error_count");
            push_u64(out, *error_count);
        }
        Entry::McpToolCall { tool_name, success } => {
            kind(out, b"mcp_tool_call");
            string(out, b"tool_name", tool_name)?;
            boolean(out, b"success", *success);
        }
        Entry::SessionStart {} => kind(out, b"session_start"),
        Entry::Frustration { level, score } => {
            kind(out, b"frustration");
            string(out, b"level", level)?;
            if let Some(score) = score {
                number(out, b"score", *score)?;
            }
        }
        Entry::Export {
            of,
            replay,
            metrics,
            logs,
            traces,
            logs_dropped,
        } => {
            kind(out, b"export");
            string(out, b"of", of)?;
            if *replay {
                boolean(out, b"replay", true);
            }
            outcome(out, b"metrics", *metrics);
            outcome(out, b"logs", *logs);
            outcome(out, b"traces", *traces);
            if *logs_dropped > 0 {
                key(out, b"logs_dropped");
                push_u64(out, *logs_dropped);
            }
        }
    }
    Ok(())
}

/// `value` as a JSON string, as serde_json writes it: copied as it is unless it holds a
/// character JSON must escape (`"`, `\\`, a control character), which serde_json escapes.
fn push_str(out: &mut Vec<u8>, value: &str) -> Result<(), ()> {
    // Every byte looked at, no early exit: the compiler checks many at a time.
    let plain = !value.bytes().fold(false, |any, b| {
        any | (b < 0x20) | (b == b'"') | (b == b'\\')
    });
    if plain {
        out.push(b'"');
        out.extend_from_slice(value.as_bytes());
        out.push(b'"');
        Ok(())
    } else {
        serde_json::to_writer(&mut *out, value).map_err(|_| ())
    }
}

/// `value` as serde_json writes an `f64`: its shortest form, `null` when not finite.
fn push_f64(out: &mut Vec<u8>, value: f64) -> Result<(), ()> {
    use serde_json::ser::{CompactFormatter, Formatter as _};
    if value.is_finite() {
        CompactFormatter.write_f64(out, value).map_err(|_| ())
    } else {
        out.extend_from_slice(b"null");
        Ok(())
    }
}

fn push_u64(out: &mut Vec<u8>, n: u64) {
    use serde_json::ser::{CompactFormatter, Formatter as _};
    // Into a `Vec`: cannot fail.
    let _ = CompactFormatter.write_u64(out, n);
}

/// The `ts` field (RFC 3339 in UTC with milliseconds), its date and time formatted once per
/// second.
#[derive(Debug, Default)]
struct SecondClock {
    second: Option<u64>,
    /// `","ts":"YYYY-MM-DDTHH:MM:SS.`
    text: String,
}

impl SecondClock {
    /// `","ts":"<since>",` for `since` (since the epoch, already within
    /// [`day::clamp_time`]).
    fn push_ts_field(&mut self, out: &mut Vec<u8>, since: Duration) {
        let second = since.as_secs();
        if self.second != Some(second) {
            let ts = day::clamp_time(SystemTime::UNIX_EPOCH + Duration::from_secs(second));
            let full = humantime::format_rfc3339_seconds(ts).to_string();
            self.text = format!("\",\"ts\":\"{}.", full.trim_end_matches('Z'));
            self.second = Some(second);
        }
        out.extend_from_slice(self.text.as_bytes());
        let millis = since.subsec_millis();
        out.extend_from_slice(&[
            b'0' + (millis / 100) as u8,
            b'0' + (millis / 10 % 10) as u8,
            b'0' + (millis % 10) as u8,
            b'Z',
            b'"',
            b',',
        ]);
    }
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|e| {
        if e.kind() == io::ErrorKind::AlreadyExists {
            io::Error::other("a file is in the way: it is not a directory")
        } else {
            e
        }
    })
}

/// Creates what is missing of `dir` below `root` (0700), one directory at a time and never
/// `root` itself: if `root` is moved meanwhile, the next step fails instead of recreating it.
fn create_private_dir_below(root: &Path, dir: &Path) -> io::Result<()> {
    let below = dir
        .strip_prefix(root)
        .map_err(|_| io::Error::other(format!("it is not inside {}", root.display())))?;
    let mut builder = fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    let mut at = root.to_path_buf();
    for part in below.components() {
        at.push(part);
        match builder.create(&at) {
            Err(e) if e.kind() != io::ErrorKind::AlreadyExists => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(unix)]
fn ends_mid_line(file: &File) -> io::Result<bool> {
    use std::os::unix::fs::FileExt as _;
    let len = file.metadata()?.len();
    if len == 0 {
        return Ok(false);
    }
    let mut last = [0u8; 1];
    file.read_exact_at(&mut last, len - 1)?;
    Ok(last[0] != b'\n')
}

#[cfg(not(unix))]
fn ends_mid_line(_file: &File) -> io::Result<bool> {
    Ok(false)
}

/// A value unique to this process, for record ids: the standard library's per-process random
/// hash keys, mixed with the pid and the time.
fn process_nonce() -> u64 {
    let mut hasher = std::hash::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    if let Ok(since) = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH) {
        hasher.write_u128(since.as_nanos());
    }
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::store::scan;
    use crate::test_support::TempDir;

    fn hook(name: &str) -> Entry<'_> {
        Entry::Hook {
            hook_name: name.into(),
            hook_type: "PostToolUse".into(),
            success: true,
            duration_ms: 1.5,
        }
    }

    fn today_file(dir: &Path) -> PathBuf {
        dir.join(day::file_name(day::epoch_day(SystemTime::now())))
    }

    /// The hook names of the records in `dir`, in file order; nothing may be skipped.
    fn hook_names(dir: &Path) -> Vec<String> {
        let scan = scan(dir, SystemTime::UNIX_EPOCH).unwrap();
        assert!(scan.skipped.is_empty(), "{:?}", scan.skipped);
        scan.records
            .iter()
            .map(|r| match &r.entry {
                Entry::Hook { hook_name, .. } => hook_name.to_string(),
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn lines_made_from_buffered_records_are_the_record_format() {
        use std::time::{Duration, UNIX_EPOCH};

        use crate::store::Record;

        let mut entries = compact::tests::every_entry();
        for (name, ms) in [("big", 1.0e300), ("tiny", 1.234_567_890_123e-7)] {
            entries.push(Entry::Hook {
                hook_name: name.into(),
                hook_type: "Stop".into(),
                success: true,
                duration_ms: ms,
            });
        }
        // Each record buffered as the hot path buffers it, and its line made as a batch's
        // lines are made: alone, and all in one batch.
        let writer = Writer::new(PathBuf::from("unused"), 30);
        let (mut batch, mut expected_batch) = (compact::Buffer::default(), String::new());
        for (i, entry) in entries.into_iter().enumerate() {
            for (ms, session_id) in [
                (0, None),
                (1_795_451_010_007, Some("s\u{e9}-\"1\"")),
                (1_795_451_010_999, Some("")),
                (1_795_451_011_000, Some("\n")),
                (253_402_300_799_999, None),
            ] {
                let ts = UNIX_EPOCH + Duration::from_millis(ms);
                let seq = if i == 0 { u64::MAX } else { i as u64 };
                let mut one = compact::Buffer::default();
                let since = day::since_epoch(ts);
                one.push(seq, since, session_id, &entry).unwrap();
                batch.push(seq, since, session_id, &entry).unwrap();
                let mut out = Vec::new();
                writer.encode_batch(&one, &mut out);
                let record = Record {
                    v: FORMAT_VERSION,
                    id: format!("{}-{seq}", writer.id_prefix()).into(),
                    ts,
                    session_id: session_id.map(Into::into),
                    entry: entry.clone(),
                };
                let expected = serde_json::to_string(&record).unwrap() + "\n";
                assert_eq!(String::from_utf8(out).unwrap(), expected);
                expected_batch.push_str(&expected);
            }
        }
        let mut out = Vec::new();
        writer.encode_batch(&batch, &mut out);
        assert_eq!(String::from_utf8(out).unwrap(), expected_batch);
    }

    #[test]
    fn nothing_touches_the_disk_before_a_flush() {
        let tmp = TempDir::new("store-lazy");
        let dir = tmp.path().join("metrics");
        let writer = Writer::new(dir.clone(), 30);
        writer.append(Some("s-1"), hook("lint"));
        assert!(!dir.exists());
        writer.flush();
        let scan = scan(&dir, SystemTime::UNIX_EPOCH).unwrap();
        assert_eq!(scan.records.len(), 1);
        assert_eq!(scan.records[0].session_id.as_deref(), Some("s-1"));
        assert_eq!(scan.records[0].entry, hook("lint").into_owned());
    }

    #[cfg(unix)]
    #[test]
    fn directory_and_files_are_private() {
        use std::os::unix::fs::PermissionsExt as _;
        let tmp = TempDir::new("store-perms");
        let dir = tmp.path().join("a").join("metrics");
        let writer = Writer::new(dir.clone(), 30);
        writer.append(None, hook("lint"));
        writer.flush();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&today_file(&dir)), 0o600);
    }

    #[test]
    fn ids_are_unique_and_drop_flushes() {
        let tmp = TempDir::new("store-ids");
        let dir = tmp.path().to_path_buf();
        {
            let writer = Writer::new(dir.clone(), 30);
            for _ in 0..3 {
                writer.append(None, Entry::SessionStart {});
            }
        }
        let other = Writer::new(dir.clone(), 30);
        other.append(None, Entry::SessionStart {});
        other.flush();
        let scan = scan(&dir, SystemTime::UNIX_EPOCH).unwrap();
        let mut ids: Vec<_> = scan.records.iter().map(|r| r.id.to_string()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 4, "{ids:?}");
    }

    #[test]
    fn a_long_running_process_writes_when_the_buffer_fills() {
        let tmp = TempDir::new("store-fill");
        let dir = tmp.path().to_path_buf();
        let writer = Writer::new(dir.clone(), 30);
        let mut appended = 0;
        loop {
            writer.append(None, hook("a-hook-with-a-reasonably-long-name"));
            appended += 1;
            assert!(appended < 10_000, "no write after {appended} records");
            // Handed to the background writer.
            if writer.state().bytes.is_empty() {
                break;
            }
        }
        assert!(
            matches!(*writer.background.lock().unwrap(), Background::Running(_)),
            "the full buffer went to the background writer"
        );
        writer.drain_background(false);
        let written = scan(&dir, SystemTime::UNIX_EPOCH).unwrap().records.len();
        assert_eq!(written, appended);
        assert!(fs::metadata(today_file(&dir)).unwrap().len() as usize >= FLUSH_BYTES);
        // The written buffer came back for the next batch.
        assert!(
            writer
                .state()
                .spares
                .iter()
                .any(|spare| spare.capacity() >= FLUSH_BYTES)
        );
    }

    #[test]
    fn a_record_over_the_line_limit_is_left_out_and_the_others_are_kept() {
        let tmp = TempDir::new("store-line-limit");
        let dir = tmp.path().to_path_buf();
        let writer = Writer::new(dir.clone(), 30);
        writer.append(None, hook("before"));
        // Over the limit only as a line (`\u0001` escaped is six bytes): buffered, then
        // left out when the batch's lines are made (on the background writer: the buffer
        // is full).
        writer.append(None, hook(&"\u{1}".repeat(MAX_LINE_BYTES / 6 + 1)));
        // Over the limit as it is: never buffered.
        writer.append(None, hook(&"x".repeat(MAX_LINE_BYTES + 1)));
        writer.append(Some(&"s".repeat(MAX_LINE_BYTES + 1)), hook("long session"));
        // A line just within it.
        let fits = "y".repeat(MAX_LINE_BYTES - 200);
        writer.append(None, hook(&fits));
        writer.append(None, hook("after"));
        writer.flush();
        assert_eq!(
            hook_names(&dir),
            ["before".to_owned(), fits, "after".to_owned()]
        );
        assert!(warn::was_warned("store-line"));
    }

    #[test]
    fn threads_appending_at_once_lose_nothing() {
        let tmp = TempDir::new("store-threads");
        let dir = tmp.path().to_path_buf();
        let writer = Arc::new(Writer::new(dir.clone(), 30));
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let writer = Arc::clone(&writer);
                std::thread::spawn(move || {
                    for i in 0..2_000 {
                        writer.append(None, hook(&format!("t{t}-{i}")));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        writer.flush();
        let scan = scan(&dir, SystemTime::UNIX_EPOCH).unwrap();
        assert!(scan.skipped.is_empty(), "{:?}", scan.skipped);
        assert_eq!(scan.records.len(), 8_000);
    }

    #[test]
    fn a_writer_behind_gets_lines_made_by_the_appender_and_nothing_is_lost() {
        let tmp = TempDir::new("store-behind");
        let dir = tmp.path().to_path_buf();
        let writer = Arc::new(Writer::new(dir.clone(), 30));
        // The background writer waits for the file side while this is held: its queue fills.
        let io = writer.io();
        let appender = {
            let writer = Arc::clone(&writer);
            std::thread::spawn(move || {
                let mut n = 0;
                while writer.lines_by_appender.load(Ordering::Relaxed) == 0 {
                    writer.append(None, hook(&format!("record-{n}")));
                    n += 1;
                }
                n
            })
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while writer.lines_by_appender.load(Ordering::Relaxed) == 0 {
            assert!(Instant::now() < deadline, "the appender never made lines");
            std::thread::sleep(Duration::from_millis(1));
        }
        drop(io);
        let appended = appender.join().unwrap();
        writer.flush();
        let mut names = hook_names(&dir);
        names.sort();
        let mut expected: Vec<_> = (0..appended).map(|n| format!("record-{n}")).collect();
        expected.sort();
        assert_eq!(names, expected);
    }

    #[test]
    fn a_torn_last_line_does_not_swallow_the_next_batch() {
        let tmp = TempDir::new("store-torn");
        let dir = tmp.path().to_path_buf();
        fs::write(today_file(&dir), br#"{"v":1,"id":"x-0","ts":"2026-"#).unwrap();
        let writer = Writer::new(dir.clone(), 30);
        writer.append(None, hook("after"));
        writer.flush();
        let scan = scan(&dir, SystemTime::UNIX_EPOCH).unwrap();
        assert_eq!(scan.records.len(), 1);
        assert_eq!(scan.skipped.malformed, 1);
    }

    /// Day files of `ages` days ago, each last changed on its own day.
    fn aged_day_files(dir: &Path, today: u64, ages: &[u64]) {
        for age in ages {
            let path = dir.join(day::file_name(today - age));
            let file = File::create(&path).unwrap();
            file.set_modified(day::start_of(today - age)).unwrap();
        }
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut left: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        left
    }

    #[test]
    fn old_day_files_go_and_foreign_files_stay() {
        let tmp = TempDir::new("store-retention");
        let dir = tmp.path().to_path_buf();
        let today = day::epoch_day(SystemTime::now());
        aged_day_files(&dir, today, &[0, 1, 6, 7, 30]);
        // Today's file was written by an earlier run today.
        fs::write(dir.join(day::file_name(today)), "\n").unwrap();
        fs::write(dir.join("notes.txt"), "mine").unwrap();
        let writer = Writer::new(dir.clone(), 7);
        writer.append(None, Entry::SessionStart {});
        writer.flush();
        let mut expected: Vec<_> = [0, 1, 6].map(|age| day::file_name(today - age)).to_vec();
        expected.push("notes.txt".to_owned());
        expected.sort();
        assert_eq!(names(&dir), expected);
    }

    #[test]
    fn a_clock_far_ahead_deletes_nothing_a_correct_clock_keeps() {
        let tmp = TempDir::new("store-skew");
        let dir = tmp.path().to_path_buf();
        let today = day::epoch_day(SystemTime::now());
        aged_day_files(&dir, today, &[0, 1, 6, 29, 31]);
        let writer = Writer::new(dir.clone(), 30);
        let ahead = today + 400;
        let written = dir.join(day::file_name(ahead));
        File::create(&written).unwrap();
        writer.prune(&dir, &written, None, ahead);
        // What a correct clock deletes (31 days old), and nothing more.
        let mut expected: Vec<_> = [0, 1, 6, 29]
            .map(|age| day::file_name(today - age))
            .to_vec();
        expected.push(day::file_name(ahead));
        expected.sort();
        assert_eq!(names(&dir), expected);

        // A file named for a long-gone day but written recently (a clock before 1970
        // writes 1970-01-01) holds recent records: kept.
        let epoch_file = dir.join(day::file_name(0));
        File::create(&epoch_file).unwrap();
        writer.prune(&dir, &written, None, today);
        assert!(epoch_file.exists());
    }

    #[test]
    fn an_unwritable_store_pauses_instead_of_growing() {
        let tmp = TempDir::new("store-broken");
        // A file where the directory should be: every write fails, even for root.
        let dir = tmp.write("metrics", "not a directory");
        let writer = Writer::new(dir.clone(), 30);
        writer.append(None, hook("lint"));
        writer.flush();
        for _ in 0..100 {
            writer.append(None, hook("lint"));
        }
        assert!(writer.state().bytes.is_empty());
        assert!(writer.state().paused_until.is_some());
        assert_eq!(fs::read_to_string(&dir).unwrap(), "not a directory");
    }

    #[test]
    fn a_writer_dropped_with_records_and_an_unwritable_store_returns() {
        let tmp = TempDir::new("store-drop-broken");
        let dir = tmp.write("metrics", "not a directory");
        let writer = Writer::new(dir, 30);
        writer.append(None, hook("lint"));
        let (done, finished) = std::sync::mpsc::channel();
        // The drop writes the buffered record, fails, and pauses the store: under the lock
        // its write was taken under, that waited forever.
        std::thread::spawn(move || {
            drop(writer);
            let _ = done.send(());
        });
        assert!(
            finished.recv_timeout(Duration::from_secs(20)).is_ok(),
            "the drop of a writer whose write fails did not return"
        );
    }

    /// A home where Han 3.21.4 has its data in `~/.claude/han` (`from`) and may move it to
    /// `~/.han` (`to`), and a writer of the default store, `~/.han/metrics`.
    struct Home {
        _tmp: TempDir,
        to: PathBuf,
        from: PathBuf,
    }

    impl Home {
        fn new(label: &str) -> Self {
            let tmp = TempDir::new(label);
            let home = tmp.path().to_path_buf();
            Home {
                to: home.join(".han"),
                from: home.join(".claude").join("han"),
                _tmp: tmp,
            }
        }

        fn writer(&self) -> Arc<Writer> {
            Writer::with_fallback(
                self.to.join("metrics"),
                Some(self.to.join("metrics-fallback")),
                Some(HanMove {
                    to: self.to.clone(),
                    from: self.from.clone(),
                }),
                30,
            )
        }

        /// What Han does: `rename(~/.claude/han, ~/.han)`.
        fn han_moves(&self) {
            fs::rename(&self.from, &self.to).unwrap();
        }
    }

    fn hooks_in(dir: &Path) -> usize {
        let scan = scan(dir, SystemTime::UNIX_EPOCH).unwrap();
        assert!(scan.skipped.is_empty(), "{:?}", scan.skipped);
        scan.records.len()
    }

    #[test]
    fn before_han_moves_its_data_the_store_is_inside_it_and_the_new_directory_is_never_created() {
        let home = Home::new("store-before-move");
        fs::create_dir_all(home.from.join("keep")).unwrap();
        let writer = home.writer();
        writer.append(None, hook("lint"));
        writer.flush();
        assert!(
            !home.to.exists(),
            "~/.han was created: Han would not move its data"
        );
        assert_eq!(hooks_in(&home.from.join("metrics")), 1);
        assert_eq!(writer.written_to(), home.from.join("metrics"));

        // Han's move carries the store along; the next process writes where it is now.
        home.han_moves();
        let next = home.writer();
        next.append(None, hook("lint"));
        next.flush();
        assert_eq!(hooks_in(&home.to.join("metrics")), 2);
        assert!(!home.from.exists(), "the old directory was recreated");
    }

    #[test]
    fn a_writer_that_finds_the_old_directory_moved_writes_where_han_put_it() {
        let home = Home::new("store-moved-meanwhile");
        fs::create_dir_all(&home.from).unwrap();
        let writer = home.writer();
        writer.append(None, hook("lint"));
        writer.flush();
        // Han moves its data while the process runs; then Han's `keep` makes
        // `~/.claude/han/keep` again (Han 3.21.4 keeps that one under Claude's directory).
        home.han_moves();
        fs::create_dir_all(home.from.join("keep")).unwrap();
        writer.append(None, hook("lint"));
        writer.flush();
        assert_eq!(hooks_in(&home.to.join("metrics")), 2);
        assert!(
            !home.from.join("metrics").exists(),
            "a second store was made"
        );
        assert_eq!(writer.written_to(), home.to.join("metrics"));
    }

    #[test]
    fn with_the_new_directory_present_the_old_one_is_left_alone() {
        let home = Home::new("store-both");
        fs::create_dir_all(&home.from).unwrap();
        fs::create_dir_all(&home.to).unwrap();
        let writer = home.writer();
        writer.append(None, hook("lint"));
        writer.flush();
        assert_eq!(hooks_in(&home.to.join("metrics")), 1);
        assert_eq!(names(&home.from), Vec::<String>::new());

        // Neither exists: the store and `~/.han` are created as for any store.
        let fresh = Home::new("store-fresh");
        let writer = fresh.writer();
        writer.append(None, hook("lint"));
        writer.flush();
        assert_eq!(hooks_in(&fresh.to.join("metrics")), 1);
        assert!(!fresh.from.exists());
    }

    #[test]
    fn nothing_is_created_above_the_store_inside_the_old_directory() {
        let home = Home::new("store-below");
        let inside = home.from.join("metrics");
        let missing = create_private_dir_below(&home.from, &inside).unwrap_err();
        assert_eq!(missing.kind(), io::ErrorKind::NotFound, "{missing}");
        assert!(!home.from.exists());
        fs::create_dir_all(&home.from).unwrap();
        create_private_dir_below(&home.from, &inside.join("deeper")).unwrap();
        assert!(inside.join("deeper").is_dir());
    }

    #[test]
    fn a_replay_ledger_never_recreates_a_store_moved_away() {
        let tmp = TempDir::new("store-existing");
        let dir = tmp.path().join("metrics");
        fs::create_dir_all(&dir).unwrap();
        let ledger = Writer::existing(dir.clone(), 30);
        ledger.append(None, Entry::SessionStart {});
        ledger.flush_checked().unwrap();
        fs::rename(&dir, tmp.path().join("moved")).unwrap();
        ledger.append(None, Entry::SessionStart {});
        assert!(ledger.flush_checked().is_err());
        assert!(!dir.exists(), "the store was recreated empty");
        assert_eq!(hooks_in(&tmp.path().join("moved")), 1);
    }
}
