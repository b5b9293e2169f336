//! UTC days: the store's partition key, as day numbers and file names.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub(crate) const SECONDS_PER_DAY: u64 = 86_400;

/// The latest time RFC 3339 can write (four-digit years): 9999-12-31T23:59:59.999Z.
const LATEST: Duration = Duration::from_millis(253_402_300_799_999);

/// `ts` within what the store can write: a clock before 1970 reads as the epoch, one past
/// the year 9999 as its last millisecond. Nothing downstream (formatting, day numbers,
/// retention) ever sees a time it cannot represent, so no clock value can panic.
pub fn clamp_time(ts: SystemTime) -> SystemTime {
    let latest = UNIX_EPOCH + LATEST;
    if ts < UNIX_EPOCH {
        UNIX_EPOCH
    } else if ts > latest {
        latest
    } else {
        ts
    }
}

/// `ts` since the epoch, within what the store can write: `clamp_time(ts)` since the epoch,
/// in one subtraction and one comparison (the store reads it for every record).
pub(crate) fn since_epoch(ts: SystemTime) -> Duration {
    ts.duration_since(UNIX_EPOCH)
        .map_or(Duration::ZERO, |since| since.min(LATEST))
}

/// When a record was made, as time since the epoch within what the store can write: what an
/// annotated call carries from its clock to its store record and event, so that neither
/// subtracts the epoch again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Moment(Duration);

impl Moment {
    /// `ts`, clamped.
    pub(crate) fn of(ts: SystemTime) -> Moment {
        Moment(since_epoch(ts))
    }

    /// `since` the epoch, clamped.
    #[inline]
    pub(crate) fn since_epoch(since: Duration) -> Moment {
        Moment(since.min(LATEST))
    }

    /// Time since the epoch.
    #[inline]
    pub(crate) fn since(self) -> Duration {
        self.0
    }

    /// As a wall-clock time.
    pub(crate) fn system_time(self) -> SystemTime {
        UNIX_EPOCH + self.0
    }
}

/// `ts` as the store writes it: RFC 3339 in UTC with milliseconds, clamped to what RFC 3339
/// can say ([`clamp_time`]).
pub fn timestamp(ts: SystemTime) -> String {
    humantime::format_rfc3339_millis(clamp_time(ts)).to_string()
}

/// Days since 1970-01-01 (UTC) of `ts`; 0 for times before the epoch.
pub(crate) fn epoch_day(ts: SystemTime) -> u64 {
    clamp_time(ts)
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / SECONDS_PER_DAY)
}

/// The start of day `day` (the last day RFC 3339 can write for larger numbers).
pub(crate) fn start_of(day: u64) -> SystemTime {
    UNIX_EPOCH
        .checked_add(Duration::from_secs(day.saturating_mul(SECONDS_PER_DAY)))
        .map_or(UNIX_EPOCH + LATEST, clamp_time)
}

/// `YYYY-MM-DD` of day `day`.
pub fn day_name(day: u64) -> String {
    let stamp = humantime::format_rfc3339_seconds(start_of(day)).to_string();
    stamp.get(..10).unwrap_or("1970-01-01").to_owned()
}

/// `YYYY-MM-DD.jsonl`.
pub(crate) fn file_name(day: u64) -> String {
    format!("{}.jsonl", day_name(day))
}

/// The day of a file named `YYYY-MM-DD.jsonl`; `None` for any other name.
pub(crate) fn parse_file_name(name: &str) -> Option<u64> {
    let date = name.strip_suffix(".jsonl")?;
    let shape_ok = date.len() == 10
        && date.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shape_ok {
        return None;
    }
    let ts = humantime::parse_rfc3339(&format!("{date}T00:00:00Z")).ok()?;
    Some(epoch_day(ts))
}

/// `YYYY-MM-DD.<process id>-<n>.pending.jsonl`: a batch of day `day` that its process could
/// not append to the day file.
pub(crate) fn pending_name(day: u64, process: &str, n: u64) -> String {
    format!("{}.{process}-{n}{PENDING_SUFFIX}", day_name(day))
}

const PENDING_SUFFIX: &str = ".pending.jsonl";

/// The day of a pending file's name; `None` for any other name.
pub(crate) fn parse_pending_name(name: &str) -> Option<u64> {
    let stem = name.strip_suffix(PENDING_SUFFIX)?;
    let (date, owner) = stem.split_once('.')?;
    let (process, n) = owner.split_once('-')?;
    let owner_ok = process.len() == 16
        && process.bytes().all(|b| b.is_ascii_hexdigit())
        && !n.is_empty()
        && n.bytes().all(|b| b.is_ascii_digit());
    if !owner_ok {
        return None;
    }
    parse_file_name(&format!("{date}.jsonl"))
}

/// The day of a day file or a pending file, the files that hold records.
pub(crate) fn data_file_day(name: &str) -> Option<u64> {
    parse_file_name(name).or_else(|| parse_pending_name(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_days_round_trip() {
        let ts = UNIX_EPOCH + Duration::from_millis(1_795_451_010_123);
        let day = epoch_day(ts);
        assert_eq!(file_name(day), "2026-11-23.jsonl");
        assert_eq!(parse_file_name("2026-11-23.jsonl"), Some(day));
        assert_eq!(parse_file_name("1970-01-01.jsonl"), Some(0));
        assert!(start_of(day) <= ts && ts < start_of(day + 1));
    }

    #[test]
    fn pending_files_are_named_for_their_day_and_process() {
        let name = pending_name(20_425, "0123456789abcdef", 3);
        assert_eq!(name, "2025-12-03.0123456789abcdef-3.pending.jsonl");
        assert_eq!(parse_pending_name(&name), Some(20_425));
        assert_eq!(data_file_day(&name), Some(20_425));
        assert_eq!(parse_file_name(&name), None);
        for other in [
            "2025-12-04.0123456789abcdef.pending.jsonl",
            "2025-12-04.0123456789abcdeg-3.pending.jsonl",
            "2025-12-04.0123456789abcdef-.pending.jsonl",
            "2025-13-04.0123456789abcdef-3.pending.jsonl",
            "2025-12-04.jsonl.pending.jsonl",
        ] {
            assert_eq!(data_file_day(other), None, "{other}");
        }
    }

    #[test]
    fn no_clock_value_panics() {
        let before = UNIX_EPOCH - Duration::from_secs(3_600);
        assert_eq!(timestamp(before), "1970-01-01T00:00:00.000Z");
        assert_eq!(epoch_day(before), 0);
        let year_10000 = UNIX_EPOCH + Duration::from_secs(253_402_300_800);
        let far = UNIX_EPOCH + Duration::from_secs(1 << 40);
        for ts in [year_10000, far] {
            assert_eq!(timestamp(ts), "9999-12-31T23:59:59.999Z");
            assert_eq!(file_name(epoch_day(ts)), "9999-12-31.jsonl");
        }
        assert_eq!(file_name(u64::MAX), "9999-12-31.jsonl");
        for ts in [
            before,
            UNIX_EPOCH,
            UNIX_EPOCH + Duration::from_nanos(1_795_451_010_123_456_789),
            UNIX_EPOCH + LATEST,
            UNIX_EPOCH + LATEST + Duration::from_nanos(1),
            year_10000,
            far,
        ] {
            let clamped = clamp_time(ts).duration_since(UNIX_EPOCH).unwrap();
            assert_eq!(since_epoch(ts), clamped, "{ts:?}");
        }
        assert_eq!(epoch_day(start_of(u64::MAX)), epoch_day(far));
    }

    #[test]
    fn other_names_are_not_day_files() {
        for name in [
            "2026-11-23.json",
            "2026-11-23.jsonl.tmp",
            "notes.txt",
            "2026-1-23.jsonl",
            "2026-13-01.jsonl",
            "2026-02-30.jsonl",
            "abcd-ef-gh.jsonl",
            ".jsonl",
        ] {
            assert_eq!(parse_file_name(name), None, "{name}");
        }
    }
}
