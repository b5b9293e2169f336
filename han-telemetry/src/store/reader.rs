//! Reading the store back: every record since a time, and a count of what had to be skipped.
//!
//! Reading never fails on content: a truncated last line, a line that is not a record, a record
//! from a newer format or a file that is not a day file is skipped and counted, so `report`
//! always has an answer and can say what it left out.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::Deserialize;

use super::day;
use super::record::{Entry, FORMAT_VERSION, Record};

/// The records found, oldest first, and what was skipped.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scan {
    /// Records at or after the requested time, in file order (oldest day first).
    pub records: Vec<Record<'static>>,
    /// What could not be read.
    pub skipped: Skipped,
}

/// What a scan skipped, so reports can say so instead of silently undercounting.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Skipped {
    /// Last lines of a file without their newline (a writer was killed mid-write).
    pub truncated: usize,
    /// Lines that are not a record of this format.
    pub malformed: usize,
    /// Records of a newer format version than this build reads.
    pub future_version: usize,
    /// Records of the current version with a kind this build does not know.
    pub unknown_kind: usize,
    /// Entries of the directory that are not day files.
    pub foreign_files: Vec<PathBuf>,
    /// Day files that could not be read, with the reason.
    pub unreadable_files: Vec<(PathBuf, String)>,
}

impl Skipped {
    /// Whether anything was skipped.
    pub fn is_empty(&self) -> bool {
        *self == Skipped::default()
    }

    /// Skipped lines, all reasons together.
    pub fn lines(&self) -> usize {
        self.truncated + self.malformed + self.future_version + self.unknown_kind
    }
}

/// Reads every record of `dir` recorded at or after `since`.
///
/// A missing directory is an empty store. The only error is a directory that exists and
/// cannot be listed.
pub fn scan(dir: &Path, since: SystemTime) -> io::Result<Scan> {
    let mut scan = Scan::default();
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(scan),
        Err(e) => return Err(e),
    };
    let first_day = day::epoch_day(since);
    let mut days = Vec::new();
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if entry.file_name() == super::REPLAY_LOCK {
            continue;
        }
        match entry.file_name().to_str().and_then(day::parse_file_name) {
            Some(file_day) if is_file => {
                if file_day >= first_day {
                    days.push((file_day, path));
                }
            }
            _ => scan.skipped.foreign_files.push(path),
        }
    }
    days.sort();
    scan.skipped.foreign_files.sort();
    for (_, path) in days {
        match fs::read(&path) {
            Ok(bytes) => read_day(&bytes, since, &mut scan),
            Err(e) => scan.skipped.unreadable_files.push((path, e.to_string())),
        }
    }
    Ok(scan)
}

/// Just enough of a line to decide whether this build can read it.
#[derive(Deserialize)]
struct Header<'a> {
    v: Option<u64>,
    #[serde(borrow)]
    kind: Option<std::borrow::Cow<'a, str>>,
}

fn read_day(bytes: &[u8], since: SystemTime, scan: &mut Scan) {
    let complete = bytes.ends_with(b"\n");
    let mut lines = bytes.split(|b| *b == b'\n').peekable();
    while let Some(line) = lines.next() {
        let is_last = lines.peek().is_none();
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match parse_line(line) {
            Ok(record) => {
                if record.ts >= since {
                    scan.records.push(record);
                }
            }
            Err(_) if is_last && !complete => scan.skipped.truncated += 1,
            Err(Unreadable::Malformed) => scan.skipped.malformed += 1,
            Err(Unreadable::FutureVersion) => scan.skipped.future_version += 1,
            Err(Unreadable::UnknownKind) => scan.skipped.unknown_kind += 1,
        }
    }
}

enum Unreadable {
    Malformed,
    FutureVersion,
    UnknownKind,
}

fn parse_line(line: &[u8]) -> Result<Record<'static>, Unreadable> {
    let header: Header<'_> = serde_json::from_slice(line).map_err(|_| Unreadable::Malformed)?;
    match header.v {
        Some(v) if v == u64::from(FORMAT_VERSION) => {}
        Some(v) if v > u64::from(FORMAT_VERSION) => return Err(Unreadable::FutureVersion),
        _ => return Err(Unreadable::Malformed),
    }
    match header.kind.as_deref() {
        Some(kind) if Entry::KINDS.contains(&kind) => {}
        Some(_) => return Err(Unreadable::UnknownKind),
        None => return Err(Unreadable::Malformed),
    }
    serde_json::from_slice(line).map_err(|_| Unreadable::Malformed)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    const HOOK: &str = r#"{"v":1,"id":"a-0","ts":"2026-11-23T16:23:30.123Z","kind":"hook","hook_name":"lint","hook_type":"PostToolUse","success":true,"duration_ms":12.5}"#;

    fn read(text: &str, since_ms: u64) -> Scan {
        let mut scan = Scan::default();
        let since = UNIX_EPOCH + Duration::from_millis(since_ms);
        read_day(text.as_bytes(), since, &mut scan);
        scan
    }

    #[test]
    fn reads_records_and_filters_by_time() {
        let scan = read(&format!("{HOOK}\n\n{HOOK}\n"), 0);
        assert_eq!(scan.records.len(), 2);
        assert!(scan.skipped.is_empty());
        assert!(
            read(&format!("{HOOK}\n"), 1_795_451_010_124)
                .records
                .is_empty()
        );
        assert_eq!(
            read(&format!("{HOOK}\n"), 1_795_451_010_123).records.len(),
            1
        );
    }

    #[test]
    fn counts_what_it_skips() {
        let future = HOOK.replace(r#""v":1"#, r#""v":2"#);
        let unknown = HOOK.replace(r#""kind":"hook""#, r#""kind":"teleport""#);
        let wrong_type = HOOK.replace(r#""success":true"#, r#""success":"yes""#);
        let no_version = HOOK.replace(r#""v":1,"#, "");
        let text = format!(
            "{future}\n{unknown}\nnot json\n\u{fffd}\n[1,2]\n{wrong_type}\n{no_version}\n{HOOK}\n{}",
            &HOOK[..40]
        );
        let scan = read(&text, 0);
        assert_eq!(scan.records.len(), 1);
        assert_eq!(
            scan.skipped,
            Skipped {
                truncated: 1,
                malformed: 5,
                future_version: 1,
                unknown_kind: 1,
                ..Skipped::default()
            }
        );
        assert_eq!(scan.skipped.lines(), 8);
    }

    #[test]
    fn a_complete_last_line_without_newline_is_read() {
        assert_eq!(read(HOOK, 0).records.len(), 1);
    }

    #[test]
    fn invalid_utf8_is_malformed_not_a_crash() {
        let mut bytes = HOOK.as_bytes().to_vec();
        bytes[30] = 0xff;
        bytes.push(b'\n');
        let mut scan = Scan::default();
        read_day(&bytes, UNIX_EPOCH, &mut scan);
        assert_eq!(scan.skipped.malformed, 1);
    }
}
