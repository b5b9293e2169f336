//! The small JSON files processes share beside the local store: the export gate's and the
//! headers helper's cache.
//!
//! Per kind and key, in the store's directory, with `<h>` 16 hex digits of a hash of the key
//! (a stable name, not a secret): `.<kind>-<h>.json`, the state, and `.<kind>-<h>.lock`, the
//! lock of the one process that refreshes it. The state is read bounded, never through a
//! link and only as a regular file of this user's; it is written whole, 0600, to a private
//! temporary file renamed over it (concurrent writers never tear it), and only into a store
//! directory that exists. Its times are Unix milliseconds, converted without a panic
//! whatever the clock says.

use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The longest text kept from a file (it may be hostile: its text reaches stderr).
const MAX_TEXT_CHARS: usize = 200;

/// The state and lock files of one key.
#[derive(Debug, Clone)]
pub(crate) struct StateFile {
    dir: PathBuf,
    /// The state, `.<kind>-<h>.json`.
    pub(crate) path: PathBuf,
    lock: PathBuf,
}

/// What taking a state file's lock gave.
#[derive(Debug)]
pub(crate) enum Lock {
    /// This process holds it until the file is dropped.
    Held(File),
    /// Another process holds it.
    Busy,
    /// There is no lock to be had (no store directory yet, a file in the way).
    Unavailable,
}

impl StateFile {
    /// The files of `key` of `kind` (`export-gate`, `headers-helper`) in the store directory
    /// `dir`.
    pub(crate) fn new(dir: &Path, kind: &str, key: &str) -> StateFile {
        // FNV-1a: a stable name, not a secret.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in key.bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        StateFile {
            dir: dir.to_path_buf(),
            path: dir.join(format!(".{kind}-{hash:016x}.json")),
            lock: dir.join(format!(".{kind}-{hash:016x}.lock")),
        }
    }

    /// The state's bytes, at most `limit`: `Ok(None)` when there is no file, `Err`
    /// when it cannot be used (too large, a link, not a regular file, another user's...).
    pub(crate) fn read(&self, limit: u64) -> Result<Option<Vec<u8>>, String> {
        let mut options = OpenOptions::new();
        options.read(true);
        match crate::file::open_store_file(&self.path, &mut options, true)
            .and_then(|(file, meta)| crate::file::read_bounded(file, &meta, limit))
        {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.is_missing() => Ok(None),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Writes `state` as one line of JSON, whole, 0600, by renaming a private temporary
    /// file over the state; only into a store directory that exists (a state file never
    /// creates one: the store's own rules decide where it lives and when it is made).
    pub(crate) fn write(&self, state: &impl serde::Serialize) -> std::io::Result<()> {
        crate::store::usable_dir(&self.dir, crate::store::Create::Nothing)
            .map_err(std::io::Error::other)?;
        let mut bytes = serde_json::to_vec(state).map_err(std::io::Error::other)?;
        bytes.push(b'\n');
        let nonce = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let tmp = self
            .path
            .with_extension(format!("{}-{nonce}.tmp", std::process::id()));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let written = crate::file::open_store_file(&tmp, &mut options, true)
            .map_err(|e| std::io::Error::other(e.to_string()))
            .and_then(|(mut file, _)| file.write_all(&bytes))
            .and_then(|()| fs::rename(&tmp, &self.path));
        if written.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        written
    }

    /// Tries the lock, without waiting: the process that holds it refreshes the state.
    pub(crate) fn try_lock(&self) -> Lock {
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match crate::file::open_store_file(&self.lock, &mut options, true) {
            Ok((lock, _)) if lock.try_lock().is_ok() => Lock::Held(lock),
            Ok(_) => Lock::Busy,
            Err(_) => Lock::Unavailable,
        }
    }
}

/// `t` in Unix milliseconds: 0 before 1970, `u64::MAX` past what a `u64` holds.
pub(crate) fn millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Unix milliseconds `ms` as a time (the epoch past what the system's time holds).
pub(crate) fn at_millis(ms: u64) -> SystemTime {
    UNIX_EPOCH
        .checked_add(Duration::from_millis(ms))
        .unwrap_or(UNIX_EPOCH)
}

/// Printable text only, bounded: a file's text is shown on stderr.
pub(crate) fn clean(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control())
        .take(MAX_TEXT_CHARS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::TempDir;

    #[test]
    fn a_key_has_stable_names() {
        let file = StateFile::new(Path::new("/s"), "k", "key");
        assert_eq!(file.path, Path::new("/s/.k-3dc94a19365b10ec.json"));
        assert_eq!(file.lock, Path::new("/s/.k-3dc94a19365b10ec.lock"));
    }

    #[test]
    fn a_write_replaces_the_state_whole_and_privately() {
        let dir = TempDir::new("state-file-write");
        let file = StateFile::new(dir.path(), "k", "key");
        assert_eq!(file.read(100), Ok(None));
        file.write(&serde_json::json!({"n": 1})).unwrap();
        let reader = File::open(&file.path).unwrap();
        file.write(&serde_json::json!({"n": 22})).unwrap();
        assert_eq!(file.read(100), Ok(Some(b"{\"n\":22}\n".to_vec())));
        // A new file renamed over the old: a reader of the old one reads it whole.
        assert_eq!(std::io::read_to_string(reader).unwrap(), "{\"n\":1}\n");
        let entries = fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(entries, 1, "no temporary left");
        #[cfg(unix)]
        assert_eq!(crate::file::mode(&fs::metadata(&file.path).unwrap()), 0o600);
        // Never into a directory that is not there.
        let gone = StateFile::new(&dir.path().join("none"), "k", "key");
        assert!(gone.write(&1).is_err());
        assert!(!dir.path().join("none").exists());
    }

    #[test]
    fn reads_are_bounded_and_never_through_a_link() {
        let dir = TempDir::new("state-file-read");
        let file = StateFile::new(dir.path(), "k", "key");
        fs::write(&file.path, vec![b' '; 4097]).unwrap();
        assert_eq!(file.read(4096).unwrap_err(), "it is larger than 4096 bytes");
        assert_eq!(file.read(4097).map(|b| b.map(|b| b.len())), Ok(Some(4097)));
        #[cfg(unix)]
        {
            let target = dir.write("target", "{}");
            fs::remove_file(&file.path).unwrap();
            std::os::unix::fs::symlink(&target, &file.path).unwrap();
            let why = file.read(100).unwrap_err();
            assert!(why.contains("symbolic link"), "{why}");
            assert!(file.write(&1).is_ok(), "replaces the link, not its target");
            assert_eq!(fs::read_to_string(&target).unwrap(), "{}");
        }
    }

    #[test]
    fn one_process_holds_the_lock() {
        let dir = TempDir::new("state-file-lock");
        let file = StateFile::new(dir.path(), "k", "key");
        let held = file.try_lock();
        assert!(matches!(held, Lock::Held(_)), "{held:?}");
        assert!(matches!(file.try_lock(), Lock::Busy));
        drop(held);
        assert!(matches!(file.try_lock(), Lock::Held(_)));
        let gone = StateFile::new(&dir.path().join("none"), "k", "key");
        assert!(matches!(gone.try_lock(), Lock::Unavailable));
    }

    #[test]
    fn no_clock_panics() {
        let before_1970 = UNIX_EPOCH - Duration::from_secs(1);
        assert_eq!(millis(before_1970), 0);
        assert_eq!(millis(UNIX_EPOCH + Duration::from_millis(1234)), 1234);
        let year_9999 = 253_402_300_799_999;
        assert_eq!(millis(at_millis(year_9999)), year_9999);
        // Past the year 9999 and past what the system holds: no panic either way.
        let far = at_millis(u64::MAX);
        assert!(far == UNIX_EPOCH || millis(far) == u64::MAX);
        assert_eq!(clean("a\u{1b}[31m\nb"), "a[31mb");
        assert_eq!(clean(&"x".repeat(500)).len(), MAX_TEXT_CHARS);
    }
}
