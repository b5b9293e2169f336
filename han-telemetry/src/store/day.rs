//! UTC days: the store's partition key, as day numbers and file names.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

const SECONDS_PER_DAY: u64 = 86_400;

/// Days since 1970-01-01 (UTC) of `ts`; 0 for times before the epoch.
pub(crate) fn epoch_day(ts: SystemTime) -> u64 {
    ts.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / SECONDS_PER_DAY)
}

/// The start of day `day`.
pub(crate) fn start_of(day: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(day.saturating_mul(SECONDS_PER_DAY))
}

/// `YYYY-MM-DD.jsonl`.
pub(crate) fn file_name(day: u64) -> String {
    let stamp = humantime::format_rfc3339_seconds(start_of(day)).to_string();
    format!("{}.jsonl", stamp.get(..10).unwrap_or("1970-01-01"))
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
