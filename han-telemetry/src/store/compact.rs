//! The form a record is buffered in: what appending one costs on the recording thread.
//!
//! Appending copies a record's fields into the writer's buffer as they are: each string
//! behind its length, numbers as their bytes, one byte per flag and per choice. Nothing is
//! escaped or formatted. The JSON line of the store's format is made from it when the batch
//! is written (the writer's `Line`, the one encoder of the format): on the background writer's
//! thread in a long-running process, by the flush at exit in a hook.
//!
//! A [`Buffer`] has two parts: `text`, the records' strings one after the other (a `String`,
//! so reading them back needs no UTF-8 check), and `fields`, everything else. A record's
//! fields, in order (integers little-endian):
//!
//! | field | bytes |
//! |---|---|
//! | sequence number | `u64` |
//! | time since the epoch, clamped | `u64` seconds, `u32` nanoseconds |
//! | session id | `0`, or `1` and a string |
//! | entry | its kind's [`Tag`], then its fields in declaration order |
//!
//! A string is its length in bytes (`u32`; the string itself is next in `text`); a `bool`
//! one byte (`0` or `1`); an `f64` its bits (`u64`); an optional number `0`, or `1` and the
//! number; an optional [`ExportOutcome`] one byte, `0` for none. The buffer lives only in
//! this process, so the form has no version: only this module writes and reads it, and a test
//! round-trips every kind.

use std::borrow::Cow;
use std::time::Duration;

use super::record::{Entry, ExportOutcome};

/// A buffered record read back, borrowing its strings from the buffer.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Compact<'a> {
    pub(super) seq: u64,
    /// When it was recorded, since the epoch, within what the format can write.
    pub(super) since: Duration,
    pub(super) session_id: Option<&'a str>,
    pub(super) entry: Entry<'a>,
}

/// A string longer than this is not buffered: its line would be longer still, over the line
/// limit (see `MAX_LINE_BYTES`, which is this). It also keeps every length
/// within a `u32`.
const MAX_STR: usize = super::record::MAX_LINE_BYTES;

/// A record holds a string over [`MAX_STR`]; nothing was appended.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct TooLong;

/// The kinds, one byte each.
#[repr(u8)]
enum Tag {
    Hook = 1,
    PluginInstall,
    PluginUninstall,
    Task,
    Validation,
    McpToolCall,
    SessionStart,
    Frustration,
    Export,
}

impl Tag {
    fn of(byte: u8) -> Option<Tag> {
        Some(match byte {
            1 => Tag::Hook,
            2 => Tag::PluginInstall,
            3 => Tag::PluginUninstall,
            4 => Tag::Task,
            5 => Tag::Validation,
            6 => Tag::McpToolCall,
            7 => Tag::SessionStart,
            8 => Tag::Frustration,
            9 => Tag::Export,
            _ => return None,
        })
    }
}

const OUTCOMES: [ExportOutcome; 6] = [
    ExportOutcome::Delivered,
    ExportOutcome::Failed,
    ExportOutcome::Rejected,
    ExportOutcome::Mixed,
    ExportOutcome::Abandoned,
    ExportOutcome::Deferred,
];

/// Buffered records, in the order they were appended.
#[derive(Debug, Default)]
pub(super) struct Buffer {
    fields: Vec<u8>,
    text: String,
}

impl Buffer {
    /// The bytes buffered.
    pub(super) fn len(&self) -> usize {
        self.fields.len() + self.text.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The bytes it holds without growing.
    pub(super) fn capacity(&self) -> usize {
        self.fields.capacity() + self.text.capacity()
    }

    /// Empties it, keeping its memory.
    pub(super) fn clear(&mut self) {
        self.fields.clear();
        self.text.clear();
    }

    /// Room for `bytes` more bytes of records without growing, however they split between
    /// strings and the rest (a hook's names are a quarter of its record, a session id makes
    /// them half): a part that grew mid-batch would copy itself and touch fresh pages on the
    /// recording thread. Only what is written is ever touched.
    pub(super) fn reserve(&mut self, bytes: usize) {
        self.fields.reserve(bytes);
        self.text.reserve(bytes);
    }

    /// Appends one record; on [`TooLong`], nothing is appended.
    pub(super) fn push(
        &mut self,
        seq: u64,
        since: Duration,
        session_id: Option<&str>,
        entry: &Entry<'_>,
    ) -> Result<(), TooLong> {
        let (fields, text) = (self.fields.len(), self.text.len());
        let result = push_into(
            &mut self.fields,
            &mut self.text,
            seq,
            since,
            session_id,
            entry,
        );
        if result.is_err() {
            self.fields.truncate(fields);
            self.text.truncate(text);
        }
        result
    }

    /// The records, read back.
    pub(super) fn records(&self) -> Records<'_> {
        Records {
            fields: &self.fields,
            text: &self.text,
        }
    }
}

fn push_into(
    out: &mut Vec<u8>,
    text: &mut String,
    seq: u64,
    since: Duration,
    session_id: Option<&str>,
    entry: &Entry<'_>,
) -> Result<(), TooLong> {
    let mut push_str = |out: &mut Vec<u8>, value: &str| push_str(out, text, value);
    let mut head = [0u8; 21];
    head[..8].copy_from_slice(&seq.to_le_bytes());
    head[8..16].copy_from_slice(&since.as_secs().to_le_bytes());
    head[16..20].copy_from_slice(&since.subsec_nanos().to_le_bytes());
    head[20] = u8::from(session_id.is_some());
    out.extend_from_slice(&head);
    if let Some(session_id) = session_id {
        push_str(out, session_id)?;
    }
    match entry {
        Entry::Hook {
            hook_name,
            hook_type,
            success,
            duration_ms,
        } => {
            out.push(Tag::Hook as u8);
            push_str(out, hook_name)?;
            push_str(out, hook_type)?;
            out.push(u8::from(*success));
            out.extend_from_slice(&duration_ms.to_bits().to_le_bytes());
        }
        Entry::PluginInstall {
            plugin_name,
            scope,
            success,
        } => {
            out.push(Tag::PluginInstall as u8);
            push_str(out, plugin_name)?;
            push_str(out, scope)?;
            out.push(u8::from(*success));
        }
        Entry::PluginUninstall {
            plugin_name,
            scope,
            success,
        } => {
            out.push(Tag::PluginUninstall as u8);
            push_str(out, plugin_name)?;
            push_str(out, scope)?;
            out.push(u8::from(*success));
        }
        Entry::Task {
            task_type,
            outcome,
            confidence,
        } => {
            out.push(Tag::Task as u8);
            push_str(out, task_type)?;
            push_str(out, outcome)?;
            push_number(out, *confidence);
        }
        Entry::Validation {
            validation_type,
            passed,
            error_count,
        } => {
            out.push(Tag::Validation as u8);
            push_str(out, validation_type)?;
            out.push(u8::from(*passed));
            out.extend_from_slice(&error_count.to_le_bytes());
        }
        Entry::McpToolCall { tool_name, success } => {
            out.push(Tag::McpToolCall as u8);
            push_str(out, tool_name)?;
            out.push(u8::from(*success));
        }
        Entry::SessionStart {} => out.push(Tag::SessionStart as u8),
        Entry::Frustration { level, score } => {
            out.push(Tag::Frustration as u8);
            push_str(out, level)?;
            push_number(out, *score);
        }
        Entry::Export {
            of,
            replay,
            metrics,
            logs,
            traces,
            logs_dropped,
        } => {
            out.push(Tag::Export as u8);
            push_str(out, of)?;
            out.extend_from_slice(&[
                u8::from(*replay),
                outcome_byte(*metrics),
                outcome_byte(*logs),
                outcome_byte(*traces),
            ]);
            out.extend_from_slice(&logs_dropped.to_le_bytes());
        }
    }
    Ok(())
}

fn push_str(out: &mut Vec<u8>, text: &mut String, value: &str) -> Result<(), TooLong> {
    let len = u32::try_from(value.len())
        .ok()
        .filter(|len| *len as usize <= MAX_STR)
        .ok_or(TooLong)?;
    out.extend_from_slice(&len.to_le_bytes());
    text.push_str(value);
    Ok(())
}

fn push_number(out: &mut Vec<u8>, value: Option<f64>) {
    match value {
        Some(value) => {
            out.push(1);
            out.extend_from_slice(&value.to_bits().to_le_bytes());
        }
        None => out.push(0),
    }
}

fn outcome_byte(outcome: Option<ExportOutcome>) -> u8 {
    match outcome {
        None => 0,
        Some(ExportOutcome::Delivered) => 1,
        Some(ExportOutcome::Failed) => 2,
        Some(ExportOutcome::Rejected) => 3,
        Some(ExportOutcome::Mixed) => 4,
        Some(ExportOutcome::Abandoned) => 5,
        Some(ExportOutcome::Deferred) => 6,
    }
}

/// The records of a buffer, in the order they were appended. A buffer that does not hold
/// whole records of this form (which only a bug could make) ends where it stops making
/// sense: nothing is read past it, and nothing panics.
pub(super) struct Records<'a> {
    fields: &'a [u8],
    text: &'a str,
}

impl<'a> Iterator for Records<'a> {
    type Item = Compact<'a>;

    fn next(&mut self) -> Option<Compact<'a>> {
        if self.fields.is_empty() {
            return None;
        }
        let mut cursor = Cursor {
            fields: self.fields,
            text: self.text,
        };
        let record = cursor.record();
        // Past a record that does not read, nothing does.
        (self.fields, self.text) = match record {
            Some(_) => (cursor.fields, cursor.text),
            None => (&[][..], ""),
        };
        record
    }
}

struct Cursor<'a> {
    fields: &'a [u8],
    text: &'a str,
}

impl<'a> Cursor<'a> {
    fn record(&mut self) -> Option<Compact<'a>> {
        let seq = self.u64()?;
        let secs = self.u64()?;
        let nanos = u32::from_le_bytes(self.bytes()?);
        if nanos >= 1_000_000_000 {
            return None;
        }
        let session_id = match self.u8()? {
            0 => None,
            1 => Some(self.str()?),
            _ => return None,
        };
        let entry = match Tag::of(self.u8()?)? {
            Tag::Hook => Entry::Hook {
                hook_name: self.cow()?,
                hook_type: self.cow()?,
                success: self.bool()?,
                duration_ms: self.f64()?,
            },
            Tag::PluginInstall => Entry::PluginInstall {
                plugin_name: self.cow()?,
                scope: self.cow()?,
                success: self.bool()?,
            },
            Tag::PluginUninstall => Entry::PluginUninstall {
                plugin_name: self.cow()?,
                scope: self.cow()?,
                success: self.bool()?,
            },
            Tag::Task => Entry::Task {
                task_type: self.cow()?,
                outcome: self.cow()?,
                confidence: self.number()?,
            },
            Tag::Validation => Entry::Validation {
                validation_type: self.cow()?,
                passed: self.bool()?,
                error_count: self.u64()?,
            },
            Tag::McpToolCall => Entry::McpToolCall {
                tool_name: self.cow()?,
                success: self.bool()?,
            },
            Tag::SessionStart => Entry::SessionStart {},
            Tag::Frustration => Entry::Frustration {
                level: self.cow()?,
                score: self.number()?,
            },
            Tag::Export => Entry::Export {
                of: self.cow()?,
                replay: self.bool()?,
                metrics: self.outcome()?,
                logs: self.outcome()?,
                traces: self.outcome()?,
                logs_dropped: self.u64()?,
            },
        };
        Some(Compact {
            seq,
            since: Duration::new(secs, nanos),
            session_id,
            entry,
        })
    }

    fn bytes<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.fields.split_first_chunk::<N>()?;
        self.fields = rest;
        Some(*head)
    }

    fn u8(&mut self) -> Option<u8> {
        self.bytes::<1>().map(|[b]| b)
    }

    fn u64(&mut self) -> Option<u64> {
        self.bytes().map(u64::from_le_bytes)
    }

    fn f64(&mut self) -> Option<f64> {
        self.u64().map(f64::from_bits)
    }

    fn bool(&mut self) -> Option<bool> {
        match self.u8()? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }

    fn number(&mut self) -> Option<Option<f64>> {
        match self.u8()? {
            0 => Some(None),
            1 => self.f64().map(Some),
            _ => None,
        }
    }

    fn outcome(&mut self) -> Option<Option<ExportOutcome>> {
        match self.u8()? {
            0 => Some(None),
            n => OUTCOMES.get(usize::from(n) - 1).copied().map(Some),
        }
    }

    fn str(&mut self) -> Option<&'a str> {
        let len = usize::try_from(u32::from_le_bytes(self.bytes()?)).ok()?;
        // At char boundaries, or `None`: a `String` holds no invalid UTF-8 to check for.
        let (value, rest) = self.text.split_at_checked(len)?;
        self.text = rest;
        Some(value)
    }

    fn cow(&mut self) -> Option<Cow<'a, str>> {
        self.str().map(Cow::Borrowed)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// Every kind, every optional field both ways, and strings and numbers that are hard to
    /// write: also what the writer's test of the lines made from this form goes through.
    pub(in crate::store) fn every_entry() -> Vec<Entry<'static>> {
        let odd = "a \"quoted\" name\nwith \\ \t \u{1} \u{7f} \u{e9}\u{1f600}";
        vec![
            Entry::Hook {
                hook_name: odd.into(),
                hook_type: "PostToolUse".into(),
                success: true,
                duration_ms: 1.5,
            },
            Entry::Hook {
                hook_name: "".into(),
                hook_type: "".into(),
                success: false,
                duration_ms: f64::NAN,
            },
            Entry::Hook {
                hook_name: "inf".into(),
                hook_type: "Stop".into(),
                success: true,
                duration_ms: f64::NEG_INFINITY,
            },
            Entry::Hook {
                hook_name: "zero".into(),
                hook_type: "Stop".into(),
                success: true,
                duration_ms: -0.0,
            },
            Entry::PluginInstall {
                plugin_name: odd.into(),
                scope: "user".into(),
                success: true,
            },
            Entry::PluginUninstall {
                plugin_name: "p".into(),
                scope: "".into(),
                success: false,
            },
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
            Entry::Task {
                task_type: "fix".into(),
                outcome: "success".into(),
                confidence: Some(f64::INFINITY),
            },
            Entry::Validation {
                validation_type: odd.into(),
                passed: false,
                error_count: u64::MAX,
            },
            Entry::Validation {
                validation_type: "".into(),
                passed: true,
                error_count: 0,
            },
            Entry::McpToolCall {
                tool_name: "search".into(),
                success: true,
            },
            Entry::McpToolCall {
                tool_name: odd.into(),
                success: false,
            },
            Entry::SessionStart {},
            Entry::Frustration {
                level: "high".into(),
                score: Some(0.9),
            },
            Entry::Frustration {
                level: odd.into(),
                score: None,
            },
            Entry::Export {
                of: "3f9a0c2e7b1d4e85".into(),
                replay: false,
                metrics: Some(ExportOutcome::Failed),
                logs: None,
                traces: None,
                logs_dropped: 0,
            },
            Entry::Export {
                of: "".into(),
                replay: true,
                metrics: Some(ExportOutcome::Delivered),
                logs: Some(ExportOutcome::Rejected),
                traces: Some(ExportOutcome::Mixed),
                logs_dropped: 12,
            },
            Entry::Export {
                of: odd.into(),
                replay: false,
                metrics: None,
                logs: Some(ExportOutcome::Abandoned),
                traces: Some(ExportOutcome::Deferred),
                logs_dropped: u64::MAX,
            },
        ]
    }

    /// Equal, NaN to NaN and `-0.0` only to `-0.0`.
    fn same(a: &Compact<'_>, b: &Compact<'_>) -> bool {
        format!("{a:?}") == format!("{b:?}")
    }

    fn records() -> Vec<Compact<'static>> {
        let sessions = [None, Some(""), Some("s\u{e9}-\"1\"\n"), Some("abc")];
        let times = [
            Duration::ZERO,
            Duration::new(1_795_451_010, 7_000_000),
            Duration::new(253_402_300_799, 999_999_999),
            Duration::new(u64::MAX, 999_999_999),
        ];
        every_entry()
            .into_iter()
            .enumerate()
            .map(|(i, entry)| Compact {
                seq: if i == 0 { u64::MAX } else { i as u64 },
                since: times[i % times.len()],
                session_id: sessions[i % sessions.len()],
                entry,
            })
            .collect()
    }

    fn encode(records: &[Compact<'_>]) -> Buffer {
        let mut out = Buffer::default();
        for r in records {
            out.push(r.seq, r.since, r.session_id, &r.entry).unwrap();
        }
        out
    }

    #[test]
    fn every_kind_reads_back_as_it_was_appended() {
        let records = records();
        let buffer = encode(&records);
        let back: Vec<_> = buffer.records().collect();
        assert_eq!(back.len(), records.len());
        for (a, b) in records.iter().zip(&back) {
            assert!(same(a, b), "{a:?}\n{b:?}");
        }
        let mut kinds: Vec<_> = back
            .iter()
            .map(|r| match r.entry {
                Entry::Hook { .. } => "hook",
                Entry::PluginInstall { .. } => "plugin_install",
                Entry::PluginUninstall { .. } => "plugin_uninstall",
                Entry::Task { .. } => "task",
                Entry::Validation { .. } => "validation",
                Entry::McpToolCall { .. } => "mcp_tool_call",
                Entry::SessionStart {} => "session_start",
                Entry::Frustration { .. } => "frustration",
                Entry::Export { .. } => "export",
            })
            .collect();
        kinds.sort_unstable();
        kinds.dedup();
        let mut known = Entry::KINDS.to_vec();
        known.sort_unstable();
        assert_eq!(kinds, known);
    }

    #[test]
    fn a_string_at_the_limit_is_kept_and_one_over_it_appends_nothing() {
        let at_limit = "x".repeat(MAX_STR);
        let over = "y".repeat(MAX_STR + 1);
        let mut out = Buffer::default();
        let hook = |name: &str| Entry::Hook {
            hook_name: name.to_owned().into(),
            hook_type: "Stop".into(),
            success: true,
            duration_ms: 1.0,
        };
        out.push(1, Duration::ZERO, None, &hook(&at_limit)).unwrap();
        let kept = out.len();
        for (session, entry) in [
            (None, hook(&over)),
            // The string over the limit after one that was pushed: that one goes too.
            (Some("abc"), hook(&over)),
            (Some(over.as_str()), hook("a")),
            (
                None,
                Entry::Export {
                    of: over.clone().into(),
                    replay: false,
                    metrics: None,
                    logs: None,
                    traces: None,
                    logs_dropped: 0,
                },
            ),
        ] {
            assert_eq!(out.push(2, Duration::ZERO, session, &entry), Err(TooLong));
            assert_eq!(out.len(), kept);
        }
        let back: Vec<_> = out.records().collect();
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].entry, hook(&at_limit));
    }

    fn with(fields: &[u8], text: &str) -> Buffer {
        Buffer {
            fields: fields.to_vec(),
            text: text.to_owned(),
        }
    }

    #[test]
    fn a_buffer_cut_anywhere_reads_its_whole_records_and_stops() {
        let records = records();
        let buffer = encode(&records);
        let mut ends = vec![(0, 0)];
        for r in &records {
            let mut one = Buffer::default();
            one.push(r.seq, r.since, r.session_id, &r.entry).unwrap();
            let (fields, text) = *ends.last().unwrap();
            ends.push((fields + one.fields.len(), text + one.text.len()));
        }
        for cut in 0..buffer.fields.len() {
            let whole = ends.iter().filter(|(end, _)| *end <= cut).count() - 1;
            let cut = with(&buffer.fields[..cut], &buffer.text);
            assert_eq!(cut.records().count(), whole);
        }
        for cut in (0..buffer.text.len()).filter(|at| buffer.text.is_char_boundary(*at)) {
            // A record whose strings end past the cut does not read, nor any after it.
            let whole = ends.iter().take_while(|(_, end)| *end <= cut).count() - 1;
            let read = with(&buffer.fields, &buffer.text[..cut]).records().count();
            assert_eq!(read, whole, "cut at {cut}");
        }
    }

    #[test]
    fn bytes_that_are_no_record_read_as_none_without_panicking() {
        let buffer = encode(&records());
        // Each byte of the fields changed to a few values: whatever it reads as, nothing
        // panics, no string is cut inside a character, nothing is read past the buffer.
        for at in 0..buffer.fields.len() {
            for value in [0u8, 1, 2, 0x7f, 0xff] {
                let mut fields = buffer.fields.clone();
                fields[at] = value;
                for record in with(&fields, &buffer.text).records() {
                    std::hint::black_box(record);
                }
            }
        }
        assert_eq!(with(&[0xff; 64], "").records().count(), 0);
    }

    #[test]
    fn a_reserved_buffer_takes_a_batch_of_any_mix_without_growing() {
        // Records that are mostly fields (no session, short names) and mostly strings (a
        // session id, long names): a part that grows mid-batch copies itself on the
        // recording thread.
        let long = "a-hook-with-a-long-name-".repeat(4);
        let mixes = [
            (
                None,
                Entry::Hook {
                    hook_name: "lint".into(),
                    hook_type: "Stop".into(),
                    success: true,
                    duration_ms: 1.0,
                },
            ),
            (
                Some("9f1c2a34-5b6d-4e7f-8a9b-0c1d2e3f4a5b"),
                Entry::Hook {
                    hook_name: long.as_str().into(),
                    hook_type: "PostToolUse".into(),
                    success: true,
                    duration_ms: 1.0,
                },
            ),
        ];
        const BATCH: usize = 64 * 1024;
        for (session_id, entry) in &mixes {
            let mut buffer = Buffer::default();
            buffer.reserve(BATCH + 4 * 1024);
            let (fields, text) = (buffer.fields.capacity(), buffer.text.capacity());
            let mut seq = 0;
            while buffer.len() < BATCH {
                buffer
                    .push(seq, Duration::from_secs(1), *session_id, entry)
                    .expect("a short record");
                seq += 1;
            }
            assert_eq!(
                (buffer.fields.capacity(), buffer.text.capacity()),
                (fields, text),
                "{session_id:?}: grew after {seq} records"
            );
        }
    }
}
