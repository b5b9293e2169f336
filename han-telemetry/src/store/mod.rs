#![doc = include_str!("README.md")]
#![doc = include_str!("format.md")]

mod compact;
mod day;
mod reader;
mod record;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub(crate) use day::Moment;
pub use day::{clamp_time, day_name, timestamp};
pub use reader::{Scan, Skipped, scan, scan_each};
pub use record::MAX_LINE_BYTES;
pub(crate) use record::unit_interval;
pub use record::{Entry, ExportOutcome, FORMAT_VERSION, Record};
pub use writer::LOCK_WAIT;
pub(crate) use writer::{Create, usable_dir};

use crate::config::StoreConfig;

/// The mark a process leaves in the store when its export receipt says its records are
/// worth sending again (`failed`, `abandoned`, `deferred`): the next hook whose export is
/// delivered takes it and catches up. Its presence is all it says.
pub const PENDING_MARK: &str = ".resend-pending";

/// Leaves the [`PENDING_MARK`] in `dir` (created 0600, never through a link). Failures are
/// silent: `han-telemetry replay` still finds the records.
pub(crate) fn mark_pending(dir: &Path) {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let _ = crate::file::open_store_file(&dir.join(PENDING_MARK), &mut options, true);
}

/// Whether `dir` has a [`PENDING_MARK`]: a look, so that a process with nothing to catch up
/// starts no thread for it.
pub(crate) fn has_pending_mark(dir: &Path) -> bool {
    dir.join(PENDING_MARK).symlink_metadata().is_ok()
}

/// Takes the [`PENDING_MARK`] of `dir`: whether it was there. Taken before the store is
/// read, so a mark left meanwhile by another process survives for the next run.
pub(crate) fn take_pending_mark(dir: &Path) -> bool {
    std::fs::remove_file(dir.join(PENDING_MARK)).is_ok()
}

/// The file `han-telemetry replay` locks so that two replays never send the same records;
/// readers pass over it.
pub const REPLAY_LOCK: &str = ".replay.lock";

/// A handle on the store a process appends to. Cheap to clone; the last clone dropped writes
/// out what is still buffered ([`crate::TelemetryGuard`] does so at exit).
#[derive(Debug, Clone)]
pub struct LocalStore {
    writer: Arc<Handle>,
}

/// What the clones of a [`LocalStore`] share: the last one dropped stops the background
/// writer (a long-running process's) and writes out what is buffered.
#[derive(Debug)]
struct Handle(Arc<writer::Writer>);

impl std::ops::Deref for Handle {
    type Target = Arc<writer::Writer>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.0.close();
    }
}

impl LocalStore {
    /// The store `config` asks for, or `None` when it is off or has no directory.
    pub fn open(config: &StoreConfig) -> Option<LocalStore> {
        let han_move = config
            .data_dir
            .clone()
            .zip(config.before_move.clone())
            .map(|(to, from)| writer::HanMove { to, from });
        config.active_dir().map(|dir| LocalStore {
            writer: Arc::new(Handle(writer::Writer::with_fallback(
                dir.to_path_buf(),
                config.fallback_dir.clone(),
                han_move,
                config.retention_days,
            ))),
        })
    }

    /// A store in `dir`, which exists, keeping `retention_days` days; it creates no
    /// directory, so a store moved away while it writes fails instead of being recreated
    /// (`han-telemetry replay` writes its receipts next to the records they are for).
    pub fn existing(dir: impl AsRef<Path>, retention_days: u32) -> LocalStore {
        LocalStore {
            writer: Arc::new(Handle(writer::Writer::existing(
                dir.as_ref().to_path_buf(),
                retention_days,
            ))),
        }
    }

    /// A store in `dir` keeping `retention_days` days. Nothing touches the disk until the
    /// first write.
    pub fn at(dir: impl AsRef<Path>, retention_days: u32) -> LocalStore {
        LocalStore {
            writer: Arc::new(Handle(writer::Writer::new(
                dir.as_ref().to_path_buf(),
                retention_days,
            ))),
        }
    }

    /// The directory written to.
    pub fn dir(&self) -> &Path {
        self.writer.dir()
    }

    /// Where this process's records went: [`LocalStore::dir`], or the fallback directory
    /// when the store could not be used safely.
    pub fn written_to(&self) -> PathBuf {
        self.writer.written_to()
    }

    /// Where the store is now, before anything is written (see the writer's placement in
    /// Han's older data directory): the export gate lives there.
    pub(crate) fn placed_dir(&self) -> PathBuf {
        self.writer.placed_dir()
    }

    /// The 16 hex digits that start the `id` of every record this process writes.
    pub fn process_id(&self) -> &str {
        self.writer.id_prefix()
    }

    /// Buffers one record (written at the next flush).
    pub fn append(&self, session_id: Option<&str>, entry: Entry<'_>) {
        self.writer.append(session_id, entry);
    }

    /// [`LocalStore::append`] of a record made at `at`.
    pub(crate) fn append_at(&self, session_id: Option<&str>, at: Moment, entry: Entry<'_>) {
        self.writer.append_at(session_id, at, entry);
    }

    /// Writes out what is buffered now. Failures are reported once on stderr, never returned:
    /// the store must not fail its host.
    pub fn flush(&self) {
        self.writer.flush();
    }

    /// Writes out what is buffered now and returns the error, if any, instead of printing
    /// it: for tools that must know the records are on disk (`han-telemetry replay`).
    pub fn try_flush(&self) -> std::io::Result<()> {
        self.writer.flush_checked()
    }
}
