//! Temporary directories for tests, so no test reads the real home or settings files: the
//! shared test support's `Scratch` (a `tempfile` directory), with text files.

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
