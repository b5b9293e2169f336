//! `--since`: a duration back from now, or a point in time.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The start of the reported window, as given on the command line.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Since {
    /// `24h`, `7d`, `30m`, `2w`: that long before now.
    Ago {
        /// The duration.
        span: Duration,
        /// As typed, for the report's heading.
        text: String,
    },
    /// A date (`2026-11-16`, midnight UTC) or an RFC 3339 date/time.
    At(SystemTime),
}

impl Since {
    /// The start of the window when the report runs at `now`.
    pub(crate) fn resolve(&self, now: SystemTime) -> SystemTime {
        match self {
            // The store has nothing before 1970: clamp there rather than overflow.
            Since::Ago { span, .. } => now
                .checked_sub(*span)
                .map_or(UNIX_EPOCH, |t| t.max(UNIX_EPOCH)),
            Since::At(at) => *at,
        }
    }

    /// The duration as typed, when the window was given as one.
    pub(crate) fn span_text(&self) -> Option<&str> {
        match self {
            Since::Ago { text, .. } => Some(text),
            Since::At(_) => None,
        }
    }
}

/// Parses `--since` (clap's value parser; its error is shown after clap's `invalid value`).
pub(crate) fn parse(value: &str) -> Result<Since, String> {
    let text = value.trim();
    if text.is_empty() {
        return Err(format!("empty; {EXPECTED}"));
    }
    if looks_like_a_date(text) {
        return parse_time(text).map(Since::At).map_err(|why| {
            format!("`{text}` is not a valid date or RFC 3339 time ({why}); {EXPECTED}")
        });
    }
    match humantime::parse_duration(text) {
        Ok(span) => Ok(Since::Ago {
            span,
            text: text.to_owned(),
        }),
        Err(why) => Err(format!("`{text}` is not a duration ({why}); {EXPECTED}")),
    }
}

const EXPECTED: &str = "expected a duration back from now such as `30m`, `24h`, `7d` or `2w`, \
    a UTC date such as `2026-11-16`, or an RFC 3339 time such as `2026-11-16T08:00:00Z`";

/// Starts like `YYYY-`: it is meant as a date, so errors are about dates, not durations.
fn looks_like_a_date(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() >= 5 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-'
}

/// `YYYY-MM-DD` (midnight UTC, the store's day boundary) or an RFC 3339 date/time. A time
/// without an offset is UTC; `Z`, `+HH:MM` and `-HH:MM` are honoured.
fn parse_time(text: &str) -> Result<SystemTime, String> {
    let text = text.to_ascii_uppercase();
    if text.len() == 10 {
        return humantime::parse_rfc3339(&format!("{text}T00:00:00Z")).map_err(|e| e.to_string());
    }
    let (local, offset) = split_offset(&text)?;
    let local = match (local.strip_suffix('Z'), &offset) {
        (Some(_), Some(_)) => return Err("both `Z` and an offset".to_owned()),
        (Some(local), None) => local,
        (None, _) => local,
    };
    if local
        .get(10..)
        .is_some_and(|time| time.contains(['+', '-', 'Z']))
    {
        return Err("the offset must be `Z`, `+HH:MM` or `-HH:MM`, at the end".to_owned());
    }
    let utc = humantime::parse_rfc3339_weak(local).map_err(|e| e.to_string())?;
    let shifted = match offset {
        None => Some(utc),
        Some(Offset::East(d)) => utc.checked_sub(d),
        Some(Offset::West(d)) => utc.checked_add(d),
    };
    shifted.ok_or_else(|| "out of range".to_owned())
}

enum Offset {
    /// `+HH:MM`: local time is ahead of UTC.
    East(Duration),
    /// `-HH:MM`.
    West(Duration),
}

/// Splits a trailing `+HH:MM` / `-HH:MM` off a date/time.
fn split_offset(text: &str) -> Result<(&str, Option<Offset>), String> {
    let none = Ok((text, None));
    // The offset can only follow `YYYY-MM-DDTHH:MM:SS`.
    if text.len() < 19 + 6 {
        return none;
    }
    let (local, tail) = text.split_at(text.len() - 6);
    let b = tail.as_bytes();
    if !matches!(b[0], b'+' | b'-') {
        return none;
    }
    let digits = |i: usize| -> Option<u64> {
        let (hi, lo) = (b[i], b[i + 1]);
        (hi.is_ascii_digit() && lo.is_ascii_digit())
            .then(|| u64::from(hi - b'0') * 10 + u64::from(lo - b'0'))
    };
    let (Some(hours), b':', Some(minutes)) = (digits(1), b[3], digits(4)) else {
        return Err(format!("`{tail}` is not an offset of the form `+HH:MM`"));
    };
    if hours > 23 || minutes > 59 {
        return Err(format!("offset `{tail}` is out of range"));
    }
    let span = Duration::from_secs(hours * 3600 + minutes * 60);
    let offset = if b[0] == b'+' {
        Offset::East(span)
    } else {
        Offset::West(span)
    };
    Ok((local, Some(offset)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> SystemTime {
        match parse(text) {
            Ok(Since::At(t)) => t,
            other => panic!("{text}: {other:?}"),
        }
    }

    fn utc(text: &str) -> SystemTime {
        humantime::parse_rfc3339(text).unwrap()
    }

    #[test]
    fn durations_count_back_from_now() {
        let now = utc("2026-11-23T12:00:00Z");
        for (text, back) in [
            ("7d", "2026-11-16T12:00:00Z"),
            ("24h", "2026-11-22T12:00:00Z"),
            ("30m", "2026-11-23T11:30:00Z"),
            ("1w 1d", "2026-11-15T12:00:00Z"),
        ] {
            let since = parse(text).unwrap();
            assert_eq!(since.resolve(now), utc(back), "{text}");
            assert_eq!(since.span_text(), Some(text));
        }
        assert_eq!(parse("1000y").unwrap().resolve(now), UNIX_EPOCH);
    }

    #[test]
    fn dates_are_utc_midnight_and_times_honour_offsets() {
        assert_eq!(at("2026-11-16"), utc("2026-11-16T00:00:00Z"));
        assert_eq!(at("2026-11-16T08:30:00Z"), utc("2026-11-16T08:30:00Z"));
        assert_eq!(at("2026-11-16t08:30:00z"), utc("2026-11-16T08:30:00Z"));
        assert_eq!(at("2026-11-16 08:30:00"), utc("2026-11-16T08:30:00Z"));
        assert_eq!(
            at("2026-11-16T08:30:00.250Z"),
            utc("2026-11-16T08:30:00.250Z")
        );
        assert_eq!(at("2026-11-16T08:30:00+02:00"), utc("2026-11-16T06:30:00Z"));
        assert_eq!(
            at("2026-11-16T08:30:00.5-05:30"),
            utc("2026-11-16T14:00:00.5Z")
        );
        assert_eq!(at("2026-11-16T08:30:00+00:00"), utc("2026-11-16T08:30:00Z"));
        assert_eq!(parse("2026-11-16").unwrap().span_text(), None);
    }

    #[test]
    fn bad_values_say_what_is_expected() {
        for bad in [
            "",
            "  ",
            "7x",
            "seven days",
            "-7d",
            "7",
            "2026-13-01",
            "2026-02-30",
            "2026-11-16T25:00:00Z",
            "2026-11-16T08:30:00+0200",
            "2026-11-16T08:30:00+24:00",
            "2026-11-16T08:30:00.5+05:3x",
            "2026-11-16T08:30:00Z+02:00",
            "2026-11",
            "1969-12-31",
        ] {
            let err = parse(bad).expect_err(bad);
            assert!(err.contains("expected a duration"), "{bad}: {err}");
        }
        assert!(parse("7x").unwrap_err().contains("`7x` is not a duration"));
        assert!(
            parse("2026-13-01")
                .unwrap_err()
                .contains("not a valid date")
        );
    }
}
