//! For unit tests: temporary directories, so no test reads the real home or settings files
//! (the shared test support's `Scratch`, a `tempfile` directory, with text files), and an
//! I/O runtime like the one `start` builds.

use std::path::{Path, PathBuf};

use han_telemetry_test_support::scratch::Scratch;

/// A unique directory under the system temp dir, removed on drop.
pub(crate) struct TempDir(Scratch);

impl TempDir {
    pub(crate) fn new(label: &str) -> Self {
        Self(Scratch::new(label))
    }

    pub(crate) fn path(&self) -> &Path {
        self.0.path()
    }

    /// Writes `contents` at `relative`, creating parent directories; returns the full path.
    pub(crate) fn write(&self, relative: &str, contents: &str) -> PathBuf {
        self.0.write(relative, contents)
    }
}

/// An I/O runtime of the test's own, as `export::Io` builds one (one worker thread): an
/// exporter a test blocks blocks only that test.
pub(crate) fn io_runtime() -> tokio::runtime::Runtime {
    io_runtime_with(1)
}

/// The same with `workers` threads, for a test whose exporter blocks one on purpose.
pub(crate) fn io_runtime_with(workers: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("a runtime")
}
