//! Scratch directories: a [`tempfile::TempDir`] with the one helper most tests want,
//! [`Scratch::write`]. Removed on drop.

use std::path::{Path, PathBuf};

/// A new, empty directory under the system temp directory, removed on drop.
#[derive(Debug)]
pub struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    /// A directory whose name starts with `han-<label>-`, unique to this call.
    pub fn new(label: &str) -> Scratch {
        let dir = tempfile::Builder::new()
            .prefix(&format!("han-{label}-"))
            .tempdir()
            .expect("create a scratch directory");
        Scratch { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `relative` under this directory.
    pub fn join(&self, relative: impl AsRef<Path>) -> PathBuf {
        self.dir.path().join(relative)
    }

    /// Writes `contents` to `relative` (creating parent directories); returns the full path.
    pub fn write(&self, relative: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create a parent directory");
        }
        std::fs::write(&path, contents).expect("write a scratch file");
        path
    }
}
