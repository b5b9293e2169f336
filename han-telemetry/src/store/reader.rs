//! Reading the store back: every record since a time, and a count of what had to be skipped.
//!
//! Reading never fails on content: a truncated last line, a line that is not a record, a line
//! longer than [`MAX_LINE_BYTES`], a record from a newer format or a file that is not a day
//! file is skipped and counted, so `report` always has an answer and can say what it left
//! out. Files are read line by line, so memory stays bounded by the line limit whatever the
//! store holds; day files and pending files are opened without following links and without
//! blocking, and anything but a regular file is counted as unreadable, never waited on.

use std::fs::{self, OpenOptions};
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::Deserialize;

use super::day;
use super::record::MAX_LINE_BYTES;
use super::record::{Entry, FORMAT_VERSION, Record};
use crate::file;

/// File paths a scan lists at most; the rest are counted in [`Skipped::unlisted_files`].
const MAX_LISTED_FILES: usize = 100;

/// The records found, oldest first, and what was skipped.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scan {
    /// Records at or after the requested time, in file order (oldest day first; a day's
    /// pending files after its day file).
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
    /// Lines longer than [`MAX_LINE_BYTES`]: not read at all.
    pub oversized: usize,
    /// Records of a newer format version than this build reads.
    pub future_version: usize,
    /// Records of the current version with a kind this build does not know.
    pub unknown_kind: usize,
    /// Entries of the directory that are not day files (the first 100).
    pub foreign_files: Vec<PathBuf>,
    /// Day files that could not be read, with the reason (the first 100).
    pub unreadable_files: Vec<(PathBuf, String)>,
    /// Foreign and unreadable files past the first 100 of each, counted only.
    pub unlisted_files: usize,
}

impl Skipped {
    /// Whether anything was skipped.
    pub fn is_empty(&self) -> bool {
        *self == Skipped::default()
    }

    /// Skipped lines, all reasons together.
    pub fn lines(&self) -> usize {
        self.truncated + self.malformed + self.oversized + self.future_version + self.unknown_kind
    }

    fn foreign(&mut self, path: PathBuf) {
        if self.foreign_files.len() < MAX_LISTED_FILES {
            self.foreign_files.push(path);
        } else {
            self.unlisted_files += 1;
        }
    }

    fn unreadable(&mut self, path: PathBuf, why: String) {
        if self.unreadable_files.len() < MAX_LISTED_FILES {
            self.unreadable_files.push((path, why));
        } else {
            self.unlisted_files += 1;
        }
    }
}

/// Reads every record of `dir` recorded at or after `since`.
///
/// A missing directory is an empty store. The only error is a directory that exists and
/// cannot be listed.
pub fn scan(dir: &Path, since: SystemTime) -> io::Result<Scan> {
    let mut records = Vec::new();
    let skipped = scan_each(dir, since, |record| records.push(record))?;
    Ok(Scan { records, skipped })
}

/// Like [`scan`], but hands each record to `each` as it is read instead of keeping them:
/// memory stays bounded by the line limit, whatever the store holds.
pub fn scan_each(
    dir: &Path,
    since: SystemTime,
    mut each: impl FnMut(Record<'static>),
) -> io::Result<Skipped> {
    let mut skipped = Skipped::default();
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(skipped),
        Err(e) => return Err(e),
    };
    let first_day = day::epoch_day(since);
    let mut days = Vec::new();
    let mut foreign = Vec::new();
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        if name == super::REPLAY_LOCK {
            continue;
        }
        let name = name.to_str();
        let Some(file_day) = name.and_then(day::data_file_day) else {
            foreign.push(entry.path());
            continue;
        };
        if file_day >= first_day {
            // A day's own file first, then its pending files.
            let pending = name.and_then(day::parse_file_name).is_none();
            days.push((file_day, pending, entry.path()));
        }
    }
    days.sort();
    foreign.sort();
    for path in foreign {
        skipped.foreign(path);
    }
    for (_, _, path) in days {
        let mut options = OpenOptions::new();
        options.read(true);
        match file::open_store_file(&path, &mut options, false) {
            Ok((file, _)) => {
                if let Err(e) = read_lines(BufReader::new(file), since, &mut skipped, &mut each) {
                    skipped.unreadable(path, e.to_string());
                }
            }
            Err(e) => skipped.unreadable(path, e.to_string()),
        }
    }
    Ok(skipped)
}

/// Reads records line by line; a line longer than [`MAX_LINE_BYTES`] is skipped without
/// being kept.
fn read_lines(
    mut input: impl BufRead,
    since: SystemTime,
    skipped: &mut Skipped,
    each: &mut impl FnMut(Record<'static>),
) -> io::Result<()> {
    let mut line = Vec::new();
    let mut oversized = false;
    loop {
        let chunk = match input.fill_buf() {
            Ok(chunk) => chunk,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            // The end: a last line without its newline.
            if oversized {
                skipped.oversized += 1;
            } else if !line.iter().all(u8::is_ascii_whitespace) {
                match parse_line(&line) {
                    Ok(record) => keep(record, since, each),
                    Err(_) => skipped.truncated += 1,
                }
            }
            return Ok(());
        }
        let (part, complete) = match chunk.iter().position(|b| *b == b'\n') {
            Some(end) => (&chunk[..end], true),
            None => (chunk, false),
        };
        if !oversized {
            if line.len() + part.len() > MAX_LINE_BYTES {
                oversized = true;
                line = Vec::new();
            } else {
                line.extend_from_slice(part);
            }
        }
        let used = part.len() + usize::from(complete);
        input.consume(used);
        if complete {
            if oversized {
                skipped.oversized += 1;
            } else if !line.iter().all(u8::is_ascii_whitespace) {
                match parse_line(&line) {
                    Ok(record) => keep(record, since, each),
                    Err(Unreadable::Malformed) => skipped.malformed += 1,
                    Err(Unreadable::FutureVersion) => skipped.future_version += 1,
                    Err(Unreadable::UnknownKind) => skipped.unknown_kind += 1,
                }
            }
            line.clear();
            oversized = false;
        }
    }
}

fn keep(record: Record<'static>, since: SystemTime, each: &mut impl FnMut(Record<'static>)) {
    if record.ts >= since {
        each(record);
    }
}

/// Just enough of a line to decide whether this build can read it.
#[derive(Deserialize)]
struct Header<'a> {
    v: Option<u64>,
    #[serde(borrow)]
    kind: Option<std::borrow::Cow<'a, str>>,
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

    fn read_bytes(bytes: &[u8], since_ms: u64) -> Scan {
        let mut scan = Scan::default();
        let since = UNIX_EPOCH + Duration::from_millis(since_ms);
        let mut records = Vec::new();
        read_lines(bytes, since, &mut scan.skipped, &mut |r| records.push(r)).unwrap();
        scan.records = records;
        scan
    }

    fn read(text: &str, since_ms: u64) -> Scan {
        read_bytes(text.as_bytes(), since_ms)
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
    fn a_line_over_the_limit_is_skipped_without_being_kept() {
        // Small reads, so the long line arrives in many pieces, as from a real file.
        let long = "x".repeat(MAX_LINE_BYTES + 1);
        let text = format!("{HOOK}\n{long}\n{HOOK}\n{long}");
        let reader = BufReader::with_capacity(4096, text.as_bytes());
        let mut skipped = Skipped::default();
        let mut records = 0;
        read_lines(reader, UNIX_EPOCH, &mut skipped, &mut |_| records += 1).unwrap();
        assert_eq!(records, 2);
        assert_eq!(
            skipped,
            Skipped {
                oversized: 2,
                ..Skipped::default()
            }
        );
        // A line of exactly the limit is still read (and here, malformed).
        let at_limit = "y".repeat(MAX_LINE_BYTES);
        assert_eq!(read(&format!("{at_limit}\n"), 0).skipped.malformed, 1);
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
        assert_eq!(read_bytes(&bytes, 0).skipped.malformed, 1);
    }
}
