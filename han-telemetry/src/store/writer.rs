//! Appending records: buffered in the process, written with one locked `O_APPEND` write.
//!
//! A hook records a handful of events and exits, so records are kept in memory and written
//! once, when the guard flushes at exit. A long-running process flushes every
//! [`FLUSH_BYTES`] or [`FLUSH_AGE`]. The write happens under an exclusive `flock` of the day
//! file, so concurrent processes append whole batches one after the other.

use std::fs::{self, File, OpenOptions};
use std::hash::{BuildHasher, Hasher};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use super::day;
use super::record::{Entry, FORMAT_VERSION};
use crate::diagnostics;

/// Buffered bytes that trigger a write in a long-running process.
pub(crate) const FLUSH_BYTES: usize = 64 * 1024;
/// Age of the oldest buffered record that triggers a write.
pub(crate) const FLUSH_AGE: Duration = Duration::from_secs(5);
/// After a failed write, records are dropped (not buffered without bound) for this long.
const RETRY_AFTER: Duration = Duration::from_secs(60);

/// Appends records to the day files of one directory.
#[derive(Debug)]
pub(crate) struct Writer {
    dir: PathBuf,
    retention_days: u32,
    id_prefix: String,
    seq: AtomicU64,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// The UTC day of the buffered records.
    day: u64,
    bytes: Vec<u8>,
    clock: SecondClock,
    oldest: Option<SystemTime>,
    paused_until: Option<Instant>,
    pruned: bool,
}

impl Writer {
    pub(crate) fn new(dir: PathBuf, retention_days: u32) -> Self {
        Writer {
            dir,
            retention_days: retention_days.max(1),
            id_prefix: format!("{:016x}", process_nonce()),
            seq: AtomicU64::new(0),
            state: Mutex::new(State::default()),
        }
    }

    pub(crate) fn id_prefix(&self) -> &str {
        &self.id_prefix
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Buffers one record, writing the buffer out when it is due.
    pub(crate) fn append(&self, session_id: Option<&str>, entry: Entry<'_>) {
        let ts = SystemTime::now();
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        let today = day::epoch_day(ts);
        let mut state = self.state();
        if state
            .paused_until
            .is_some_and(|until| Instant::now() < until)
        {
            return;
        }
        if state.day != today {
            self.flush_locked(&mut state);
            state.day = today;
        }
        let State { bytes, clock, .. } = &mut *state;
        let line = Line {
            id_prefix: &self.id_prefix,
            seq,
            ts,
            session_id,
            entry: &entry,
        };
        if line.encode(bytes, clock).is_err() {
            return;
        }
        let oldest = *state.oldest.get_or_insert(ts);
        let age = ts.duration_since(oldest).unwrap_or(FLUSH_AGE);
        if state.bytes.len() >= FLUSH_BYTES || age >= FLUSH_AGE {
            self.flush_locked(&mut state);
        }
    }

    /// Writes whatever is buffered.
    pub(crate) fn flush(&self) {
        let mut state = self.state();
        self.flush_locked(&mut state);
    }

    /// Writes whatever is buffered and says whether that worked, without the hook-facing
    /// warning: for a caller that reports the failure itself.
    pub(crate) fn flush_checked(&self) -> io::Result<()> {
        let mut state = self.state();
        if state.bytes.is_empty() {
            return Ok(());
        }
        let result = self.write_out(state.day, &state.bytes);
        state.bytes.clear();
        state.oldest = None;
        result
    }

    fn flush_locked(&self, state: &mut State) {
        if state.bytes.is_empty() {
            return;
        }
        let lines = state.bytes.iter().filter(|b| **b == b'\n').count();
        let result = self.write_out(state.day, &state.bytes);
        state.bytes.clear();
        state.oldest = None;
        match result {
            Ok(()) => {
                if !state.pruned {
                    state.pruned = true;
                    self.prune();
                }
            }
            Err(e) => {
                state.paused_until = Some(Instant::now() + RETRY_AFTER);
                diagnostics::warn_once(
                    "store-write",
                    &format!(
                        "cannot write the local metrics store in {} ({e}); {lines} record(s) lost. \
                         The hook is unaffected. HAN_METRICS_DIR moves the store, \
                         HAN_METRICS_STORE=off turns it off",
                        self.dir.display()
                    ),
                );
            }
        }
    }

    fn write_out(&self, day: u64, bytes: &[u8]) -> io::Result<()> {
        create_private_dir(&self.dir)?;
        let mut options = OpenOptions::new();
        options.read(true).append(true).create(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(self.dir.join(day::file_name(day)))?;
        // Released when `file` is closed at the end of this function.
        file.lock()?;
        if ends_mid_line(&file)? {
            // A writer died mid-write: start on a fresh line so this batch stays intact.
            let mut repaired = Vec::with_capacity(bytes.len() + 1);
            repaired.push(b'\n');
            repaired.extend_from_slice(bytes);
            (&file).write_all(&repaired)
        } else {
            (&file).write_all(bytes)
        }
    }

    /// Deletes day files older than the retention. Other files are left alone.
    fn prune(&self) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        let today = day::epoch_day(SystemTime::now());
        let Some(cutoff) = today.checked_sub(u64::from(self.retention_days)) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(file_day) = name.to_str().and_then(day::parse_file_name) else {
                continue;
            };
            if file_day <= cutoff {
                // Another process may have removed it first; nothing to report either way.
                let _ = fs::remove_file(entry.path());
            }
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.flush();
    }
}

/// One record as it is encoded on the hot path: the same JSON as `Record`'s `Serialize`
/// (a test holds them equal), without serde's `flatten`, which costs more than all the rest.
struct Line<'a> {
    id_prefix: &'a str,
    seq: u64,
    ts: SystemTime,
    session_id: Option<&'a str>,
    entry: &'a Entry<'a>,
}

impl Line<'_> {
    /// Appends the line and its newline to `out`, or leaves `out` as it was.
    fn encode(&self, out: &mut Vec<u8>, clock: &mut SecondClock) -> Result<(), ()> {
        let start = out.len();
        out.extend_from_slice(b"{\"v\":");
        push_u64(out, u64::from(FORMAT_VERSION));
        out.extend_from_slice(b",\"id\":\"");
        out.extend_from_slice(self.id_prefix.as_bytes());
        out.push(b'-');
        push_u64(out, self.seq);
        out.extend_from_slice(b"\",\"ts\":\"");
        clock.push_rfc3339_millis(out, self.ts);
        out.extend_from_slice(b"\",");
        if let Some(session_id) = self.session_id {
            out.extend_from_slice(b"\"session_id\":");
            if serde_json::to_writer(&mut *out, session_id).is_err() {
                out.truncate(start);
                return Err(());
            }
            out.push(b',');
        }
        // The entry serialises as `{"kind":...}`: drop its brace to continue this object.
        let entry_start = out.len();
        if serde_json::to_writer(&mut *out, self.entry).is_err() {
            out.truncate(start);
            return Err(());
        }
        out.remove(entry_start);
        out.push(b'\n');
        Ok(())
    }
}

fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// RFC 3339 timestamps, the date and time formatted once per second.
#[derive(Debug, Default)]
struct SecondClock {
    second: Option<u64>,
    /// `YYYY-MM-DDTHH:MM:SS`.
    text: String,
}

impl SecondClock {
    fn push_rfc3339_millis(&mut self, out: &mut Vec<u8>, ts: SystemTime) {
        let since = ts
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        let second = since.as_secs();
        if self.second != Some(second) {
            let full = humantime::format_rfc3339_seconds(ts).to_string();
            self.text = full.trim_end_matches('Z').to_owned();
            self.second = Some(second);
        }
        out.extend_from_slice(self.text.as_bytes());
        let millis = since.subsec_millis();
        out.extend_from_slice(&[
            b'.',
            b'0' + (millis / 100) as u8,
            b'0' + (millis / 10 % 10) as u8,
            b'0' + (millis % 10) as u8,
            b'Z',
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

    #[test]
    fn the_hot_path_encoding_is_the_record_format() {
        use std::time::{Duration, UNIX_EPOCH};

        use crate::store::Record;

        let entries = [
            hook("a \"quoted\" name\nwith a newline"),
            Entry::Task {
                task_type: "fix".into(),
                outcome: "partial".into(),
                confidence: Some(0.25),
            },
            Entry::Task {
                task_type: "fix".into(),
                outcome: "failure".into(),
                confidence: None,
            },
            Entry::SessionStart {},
            Entry::Validation {
                validation_type: "lint".into(),
                passed: false,
                error_count: u64::MAX,
            },
        ];
        let mut clock = SecondClock::default();
        for (i, entry) in entries.into_iter().enumerate() {
            for (ms, session_id) in [(0, None), (1_795_451_010_007, Some("s\u{e9}-\"1\""))] {
                let ts = UNIX_EPOCH + Duration::from_millis(ms);
                let seq = if i == 0 { u64::MAX } else { i as u64 };
                let mut out = Vec::new();
                let line = Line {
                    id_prefix: "0123456789abcdef",
                    seq,
                    ts,
                    session_id,
                    entry: &entry,
                };
                line.encode(&mut out, &mut clock).unwrap();
                let record = Record {
                    v: FORMAT_VERSION,
                    id: format!("0123456789abcdef-{seq}").into(),
                    ts,
                    session_id: session_id.map(Into::into),
                    entry: entry.clone(),
                };
                let expected = serde_json::to_string(&record).unwrap() + "\n";
                assert_eq!(String::from_utf8(out).unwrap(), expected);
            }
        }
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
        while !today_file(&dir).exists() {
            writer.append(None, hook("a-hook-with-a-reasonably-long-name"));
            appended += 1;
            assert!(appended < 10_000, "no write after {appended} records");
        }
        let written = scan(&dir, SystemTime::UNIX_EPOCH).unwrap().records.len();
        assert_eq!(written, appended);
        assert!(fs::metadata(today_file(&dir)).unwrap().len() as usize >= FLUSH_BYTES);
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

    #[test]
    fn old_day_files_go_and_foreign_files_stay() {
        let tmp = TempDir::new("store-retention");
        let dir = tmp.path().to_path_buf();
        let today = day::epoch_day(SystemTime::now());
        for age in [0, 1, 6, 7, 30] {
            fs::write(dir.join(day::file_name(today - age)), "").unwrap();
        }
        fs::write(dir.join("notes.txt"), "mine").unwrap();
        let writer = Writer::new(dir.clone(), 7);
        writer.append(None, Entry::SessionStart {});
        writer.flush();
        let mut left: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        let mut expected: Vec<_> = [0, 1, 6].map(|age| day::file_name(today - age)).to_vec();
        expected.push("notes.txt".to_owned());
        expected.sort();
        assert_eq!(left, expected);
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
}
