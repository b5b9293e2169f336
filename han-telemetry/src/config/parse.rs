//! Parsers for the text of single values.
//!
//! They know nothing about sources or fallbacks: each returns the parsed value or a problem
//! phrased to follow the variable name in a [`Diagnostic`](super::Diagnostic).

use http::{HeaderName, HeaderValue, Uri};
use percent_encoding::percent_decode_str;

use super::value::{Compression, Exporter, Protocol, Signal, Temporality};
use crate::mask::quoted;

/// A millisecond value that was accepted, possibly after clamping to the allowed maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Millis {
    InRange(u64),
    /// The value was above the maximum; the maximum is used.
    Clamped(u64),
}

/// A whole number of `unit` in `min..=max` (`short` names the unit in the minimum's message);
/// larger values (even beyond `u64`) clamp to `max`.
pub(crate) fn bounded(
    raw: &str,
    min: u64,
    max: u64,
    unit: &str,
    short: &str,
) -> Result<Millis, String> {
    let digits = raw.trim();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("is not a whole number of {unit}"));
    }
    let Ok(value) = digits.parse::<u64>() else {
        return Ok(Millis::Clamped(max));
    };
    if value < min {
        return Err(format!("is below the minimum of {min} {short}"));
    }
    if value > max {
        return Ok(Millis::Clamped(max));
    }
    Ok(Millis::InRange(value))
}

/// `CLAUDE_CODE_ENABLE_TELEMETRY`: the shell-style truthy words Claude Code users write.
pub(crate) fn enable_flag(raw: &str) -> Result<bool, String> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" | "" => Ok(false),
        _ => Err("expects 1, true, yes or on (or 0, false, no, off)".to_owned()),
    }
}

/// OTel-spec booleans: only `true`/`false`, case-insensitive.
pub(crate) fn otel_bool(raw: &str) -> Result<bool, String> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" | "" => Ok(false),
        _ => Err("expects true or false".to_owned()),
    }
}

/// Claude Code's `OTEL_METRICS_INCLUDE_*` switches, which are documented with `true`/`false`
/// but commonly set to `1`/`0`.
pub(crate) fn include_flag(raw: &str) -> Result<bool, String> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err("expects true, false, 1 or 0".to_owned()),
    }
}

/// What an `OTEL_*_EXPORTER` list contains, before defaults are applied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ExporterList {
    /// Recognised exporters other than `none`, in order, without duplicates.
    pub exporters: Vec<Exporter>,
    /// Whether `none` appeared.
    pub none: bool,
    /// Entries that name no exporter han-telemetry knows, as written.
    pub unknown: Vec<String>,
}

pub(crate) fn exporters(raw: &str) -> ExporterList {
    let mut list = ExporterList::default();
    for entry in raw.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        if entry.eq_ignore_ascii_case(Exporter::NONE) {
            list.none = true;
            continue;
        }
        match Exporter::ALL
            .into_iter()
            .find(|e| entry.eq_ignore_ascii_case(e.name()))
        {
            Some(exporter) if !list.exporters.contains(&exporter) => list.exporters.push(exporter),
            Some(_) => {}
            None => list.unknown.push(entry.to_owned()),
        }
    }
    list
}

/// `a, b or c`: the accepted spellings, for a problem's message.
pub(crate) fn one_of<'a>(words: impl IntoIterator<Item = &'a str>) -> String {
    let words: Vec<&str> = words.into_iter().collect();
    match words.split_last() {
        None => String::new(),
        Some((last, [])) => (*last).to_owned(),
        Some((last, init)) => format!("{} or {last}", init.join(", ")),
    }
}

/// One of `all`, spelled (case-insensitively) as `spelling` gives it.
fn choice<T: Copy>(
    raw: &str,
    all: &[T],
    spelling: fn(T) -> &'static str,
    what: &str,
) -> Result<T, String> {
    let raw = raw.trim();
    all.iter()
        .copied()
        .find(|v| raw.eq_ignore_ascii_case(spelling(*v)))
        .ok_or_else(|| {
            format!(
                "is not {what} (expected {})",
                one_of(all.iter().map(|v| spelling(*v)))
            )
        })
}

pub(crate) fn protocol(raw: &str) -> Result<Protocol, String> {
    choice(
        raw,
        &Protocol::ALL,
        Protocol::as_str,
        "a supported protocol",
    )
}

pub(crate) fn compression(raw: &str) -> Result<Compression, String> {
    choice(
        raw,
        &Compression::ALL,
        Compression::as_str,
        "a supported compression",
    )
}

pub(crate) fn temporality(raw: &str) -> Result<Temporality, String> {
    choice(
        raw,
        &Temporality::ALL,
        Temporality::as_str,
        "a temporality preference",
    )
}

/// An endpoint URL that passed validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// The URL as given (trimmed), with `http://` prepended when it had no scheme.
    pub url: String,
    /// True when `http://` was prepended; the caller reports it, since it is probably a typo.
    pub scheme_added: bool,
}

/// An absolute `http`/`https` URL with a host. `host:port` forms get `http://` prepended, as
/// people often copy the collector's listen address.
pub(crate) fn endpoint(raw: &str) -> Result<Endpoint, String> {
    let trimmed = raw.trim();
    let (url, scheme_added) = if trimmed.contains("://") {
        (trimmed.to_owned(), false)
    } else {
        (format!("http://{trimmed}"), true)
    };
    let uri = Uri::try_from(url.as_str()).map_err(|err| format!("is not a valid URL ({err})"))?;
    match uri.scheme_str() {
        Some(scheme)
            if scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https") => {}
        Some(scheme) => {
            return Err(format!(
                "has scheme `{scheme}`; only http:// and https:// are supported"
            ));
        }
        None => return Err("is not an absolute URL".to_owned()),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err("has no host".to_owned());
    }
    // `Uri` accepts any text after the host's colon; exporters would fail on it later.
    if let Some(port) = uri.authority().and_then(|a| port_text(a.as_str()))
        && !port.is_empty()
        && port.parse::<u16>().is_err()
    {
        // Only digits are quoted: other text there is usually part of a password whose `/`
        // ended the authority early (`http://user:pa/ss@host`).
        if port.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("has an invalid port {port:?}"));
        }
        return Err("has an invalid port (not a number)".to_owned());
    }
    Ok(Endpoint { url, scheme_added })
}

/// The text after the port colon of an authority (`user@host:port`, `[::1]:port`), if any.
fn port_text(authority: &str) -> Option<&str> {
    let host_port = authority
        .rsplit_once('@')
        .map_or(authority, |(_, rest)| rest);
    let after_host = match host_port.strip_prefix('[') {
        Some(bracketed) => bracketed.split_once(']').map_or("", |(_, rest)| rest),
        None => host_port,
    };
    after_host.split_once(':').map(|(_, port)| port)
}

/// The per-signal URL derived from a generic HTTP endpoint: `<base>/v1/<signal>`, keeping any
/// query string after the path and never producing `//` at the join.
pub(crate) fn with_signal_path(base: &str, signal: Signal) -> String {
    let path_end = base.find(['?', '#']).unwrap_or(base.len());
    let (head, tail) = base.split_at_checked(path_end).unwrap_or((base, ""));
    format!("{}/v1/{}{tail}", head.trim_end_matches('/'), signal.name())
}

/// `OTEL_EXPORTER_OTLP_*HEADERS`: `key=value` pairs; returns the good pairs and one problem per
/// bad pair. Problems name keys only, never values.
pub(crate) fn headers(raw: &str) -> (Vec<(String, String)>, Vec<String>) {
    let mut good = Vec::new();
    let mut problems = Vec::new();
    let entries = raw.split(',').map(str::trim).filter(|e| !e.is_empty());
    for (index, entry) in entries.enumerate() {
        let position = index + 1;
        let Some((key, value)) = entry.split_once('=') else {
            problems.push(format!("has an entry (number {position}) without `=`"));
            continue;
        };
        let key = key.trim();
        if key.is_empty() {
            problems.push(format!(
                "has an entry (number {position}) with an empty header name"
            ));
            continue;
        }
        // Not quoted: an invalid name is often a credential pasted in curl syntax
        // (`Authorization: Basic <token>==` splits at the token's padding).
        let Ok(name) = HeaderName::from_bytes(key.as_bytes()) else {
            problems.push(format!(
                "has an entry (number {position}) whose name is not a valid HTTP header name"
            ));
            continue;
        };
        let decoded = match percent_decode_strict(value.trim()) {
            Ok(decoded) => decoded,
            Err(why) => {
                problems.push(format!("has a value for header {} that {why}", quoted(key)));
                continue;
            }
        };
        if HeaderValue::from_str(&decoded).is_err() {
            problems.push(format!(
                "has a value for header {} that is not a valid HTTP header value",
                quoted(key)
            ));
            continue;
        }
        good.push((name.as_str().to_owned(), decoded));
    }
    (good, problems)
}

/// `OTEL_RESOURCE_ATTRIBUTES` per the OTel spec: any error discards the whole variable, so the
/// problem names the offending entry. Later duplicates win but keep the first one's position.
pub(crate) fn resource_attributes(raw: &str) -> Result<Vec<(String, String)>, String> {
    let mut attributes: Vec<(String, String)> = Vec::new();
    let entries = raw.split(',').map(str::trim).filter(|e| !e.is_empty());
    for (index, entry) in entries.enumerate() {
        let position = index + 1;
        let Some((key, value)) = entry.split_once('=') else {
            return Err(format!("has an entry (number {position}) without `=`"));
        };
        let key = percent_decode_strict(key.trim())
            .map_err(|why| format!("has a key in entry number {position} that {why}"))?;
        if key.is_empty() {
            return Err(format!(
                "has an entry (number {position}) with an empty key"
            ));
        }
        let value = percent_decode_strict(value.trim()).map_err(|why| {
            format!(
                "has a value for key {} (entry number {position}) that {why}",
                quoted(&key)
            )
        })?;
        match attributes.iter_mut().find(|(k, _)| *k == key) {
            Some(existing) => existing.1 = value,
            None => attributes.push((key, value)),
        }
    }
    Ok(attributes)
}

/// Percent-decoding that rejects what the lenient decoder would pass through: a `%` not followed
/// by two hex digits, and bytes that are not UTF-8 once decoded. The problem follows "that".
fn percent_decode_strict(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    for (index, byte) in bytes.iter().enumerate() {
        if *byte != b'%' {
            continue;
        }
        let hex = |offset: usize| bytes.get(index + offset).is_some_and(u8::is_ascii_hexdigit);
        if !(hex(1) && hex(2)) {
            return Err("has invalid percent-encoding".to_owned());
        }
    }
    percent_decode_str(text)
        .decode_utf8()
        .map(std::borrow::Cow::into_owned)
        .map_err(|_| "is not valid UTF-8 after percent-decoding".to_owned())
}

/// A W3C `traceparent`: `version-traceid-parentid-flags` in lowercase hex, version not `ff`,
/// version `00` with exactly four fields, ids not all zero. Returns the trimmed header.
/// A W3C `traceparent` that passed validation, and its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TraceParent {
    /// The header as given, trimmed.
    pub header: String,
    pub trace_id: [u8; 16],
    pub parent_id: [u8; 8],
    /// The flags byte; only the sampled bit (`0x01`) is defined.
    pub flags: u8,
}

/// The one check of a `traceparent` (configuration and [`crate::remote_parent`] both use it).
pub(crate) fn traceparent(raw: &str) -> Result<TraceParent, String> {
    const SHAPE: &str = "is not a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>)";
    let value = raw.trim();
    let mut fields = value.split('-');
    let (Some(version), Some(trace_id), Some(parent_id), Some(flags)) =
        (fields.next(), fields.next(), fields.next(), fields.next())
    else {
        return Err(SHAPE.to_owned());
    };
    let extra = fields.next().is_some();
    let (Some(_), Some(trace), Some(parent), Some([flags])) = (
        hex::<1>(version),
        hex::<16>(trace_id),
        hex::<8>(parent_id),
        hex::<1>(flags),
    ) else {
        return Err(SHAPE.to_owned());
    };
    if version == "ff" {
        return Err("has the forbidden version ff".to_owned());
    }
    if version == "00" && extra {
        return Err("has extra fields, which version 00 does not allow".to_owned());
    }
    if trace == [0; 16] {
        return Err("has an all-zero trace id".to_owned());
    }
    if parent == [0; 8] {
        return Err("has an all-zero parent id".to_owned());
    }
    Ok(TraceParent {
        header: value.to_owned(),
        trace_id: trace,
        parent_id: parent,
        flags,
    })
}

/// Exactly `2 * N` lowercase hex digits, as bytes.
fn hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    let digits = text.as_bytes();
    if digits.len() != 2 * N {
        return None;
    }
    let nibble = |d: u8| match d {
        b'0'..=b'9' => Some(d - b'0'),
        b'a'..=b'f' => Some(d - b'a' + 10),
        _ => None,
    };
    let mut out = [0u8; N];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = nibble(pair[0])? << 4 | nibble(pair[1])?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn millis(raw: &str, min: u64, max: u64) -> Result<Millis, String> {
        bounded(raw, min, max, "milliseconds", "ms")
    }

    #[test]
    fn millis_accepts_whole_numbers_in_range() {
        assert_eq!(millis(" 250 ", 1, 1000), Ok(Millis::InRange(250)));
        assert_eq!(millis("0", 0, 10), Ok(Millis::InRange(0)));
    }

    #[test]
    fn millis_rejects_non_numbers_and_values_below_minimum() {
        for bad in ["", "abc", "1.5", "-1", "10s", "1e3", "+5", " "] {
            assert!(millis(bad, 1, 1000).is_err(), "{bad:?}");
        }
        assert!(millis("0", 1, 1000).is_err());
    }

    #[test]
    fn millis_clamps_large_values_even_beyond_u64() {
        assert_eq!(millis("1001", 1, 1000), Ok(Millis::Clamped(1000)));
        assert_eq!(
            millis("99999999999999999999999999", 1, 1000),
            Ok(Millis::Clamped(1000))
        );
    }

    #[test]
    fn enable_flag_words() {
        for on in ["1", "true", "TRUE", " yes ", "On"] {
            assert_eq!(enable_flag(on), Ok(true), "{on:?}");
        }
        for off in ["0", "false", "No", "OFF", "", "  "] {
            assert_eq!(enable_flag(off), Ok(false), "{off:?}");
        }
        assert!(enable_flag("2").is_err());
        assert!(enable_flag("enabled").is_err());
    }

    #[test]
    fn otel_bool_is_strict() {
        assert_eq!(otel_bool("TRUE"), Ok(true));
        assert_eq!(otel_bool("false"), Ok(false));
        assert_eq!(otel_bool(""), Ok(false));
        assert!(otel_bool("1").is_err());
        assert!(otel_bool("yes").is_err());
    }

    #[test]
    fn include_flag_accepts_digits() {
        assert_eq!(include_flag("1"), Ok(true));
        assert_eq!(include_flag("False"), Ok(false));
        assert!(include_flag("yes").is_err());
        assert!(include_flag("").is_err());
    }

    #[test]
    fn exporter_lists() {
        let list = exporters(" OTLP , console,otlp,, ");
        assert_eq!(list.exporters, vec![Exporter::Otlp, Exporter::Console]);
        assert!(!list.none);
        assert!(list.unknown.is_empty());

        let list = exporters("none,prometheus,otpl");
        assert!(list.none);
        assert_eq!(list.unknown, vec!["prometheus", "otpl"]);
    }

    #[test]
    fn enumerated_values() {
        assert_eq!(protocol(" HTTP/Protobuf "), Ok(Protocol::HttpProtobuf));
        assert_eq!(protocol("http/json"), Ok(Protocol::HttpJson));
        assert_eq!(protocol("grpc"), Ok(Protocol::Grpc));
        assert!(protocol("http").is_err());
        assert_eq!(compression("GZIP"), Ok(Compression::Gzip));
        assert_eq!(compression("zstd"), Ok(Compression::Zstd));
        assert_eq!(compression("none"), Ok(Compression::None));
        assert!(compression("brotli").is_err());
        assert_eq!(temporality("Delta"), Ok(Temporality::Delta));
        assert_eq!(temporality("LOWMEMORY"), Ok(Temporality::LowMemory));
        assert_eq!(temporality("cumulative"), Ok(Temporality::Cumulative));
        assert!(temporality("low_memory").is_err());
    }

    #[test]
    fn endpoints_with_scheme_are_kept_as_given() {
        let ep = endpoint(" https://collector.example:4318/otlp ").unwrap();
        assert_eq!(ep.url, "https://collector.example:4318/otlp");
        assert!(!ep.scheme_added);
        assert!(endpoint("http://[::1]:4317").is_ok());
        assert!(endpoint("http://[::1]").is_ok());
        assert!(endpoint("http://u@h:1").is_ok());
    }

    #[test]
    fn endpoints_without_scheme_get_http() {
        let ep = endpoint("localhost:4317").unwrap();
        assert_eq!(ep.url, "http://localhost:4317");
        assert!(ep.scheme_added);
        assert_eq!(
            endpoint("collector:4318/path").unwrap().url,
            "http://collector:4318/path"
        );
    }

    #[test]
    fn bad_endpoints_are_rejected() {
        for bad in [
            "ftp://host",
            "unix:///tmp/sock",
            "http://",
            "http:// spaced",
            "https://host:notaport",
            "http://host:65536",
            "http://[::1]:x",
            "not a url",
            "",
        ] {
            assert!(endpoint(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn signal_paths_are_appended_without_double_slashes() {
        assert_eq!(
            with_signal_path("http://h:4318", Signal::Metrics),
            "http://h:4318/v1/metrics"
        );
        assert_eq!(
            with_signal_path("http://h:4318/", Signal::Logs),
            "http://h:4318/v1/logs"
        );
        assert_eq!(
            with_signal_path("https://h/otlp/", Signal::Traces),
            "https://h/otlp/v1/traces"
        );
        assert_eq!(
            with_signal_path("https://h/otlp?tenant=a", Signal::Metrics),
            "https://h/otlp/v1/metrics?tenant=a"
        );
    }

    #[test]
    fn headers_are_decoded_and_lowercased() {
        let (good, problems) = headers(" Authorization = Basic%20abc%3D%3D , x-team=core,, ");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            good,
            vec![
                ("authorization".to_owned(), "Basic abc==".to_owned()),
                ("x-team".to_owned(), "core".to_owned()),
            ]
        );
    }

    #[test]
    fn bad_header_pairs_are_skipped_and_never_show_values() {
        let (good, problems) =
            headers("bare-s3cret,=s3cret,bad key=s3cret,ok=1,pct=s3cret%zz,ctl=s3cret%0A,utf=%FF");
        assert_eq!(good, vec![("ok".to_owned(), "1".to_owned())]);
        assert_eq!(problems.len(), 6, "{problems:?}");
        for problem in &problems {
            assert!(!problem.contains("s3cret"), "{problem}");
        }
        assert!(
            problems
                .iter()
                .any(|p| p.contains("number 3") && p.contains("not a valid HTTP header name"))
        );
    }

    #[test]
    fn resource_attributes_follow_the_spec_example() {
        assert_eq!(
            resource_attributes("org.name=John%27s%20Organization").unwrap(),
            vec![("org.name".to_owned(), "John's Organization".to_owned())]
        );
    }

    #[test]
    fn resource_attributes_keep_order_quotes_and_let_later_duplicates_win() {
        assert_eq!(
            resource_attributes(" a = 1 , b=\"x y\", a=2, c=,").unwrap(),
            vec![
                ("a".to_owned(), "2".to_owned()),
                ("b".to_owned(), "\"x y\"".to_owned()),
                ("c".to_owned(), String::new()),
            ]
        );
        assert_eq!(
            resource_attributes("k%2Ey=v").unwrap(),
            vec![("k.y".to_owned(), "v".to_owned())]
        );
    }

    #[test]
    fn resource_attribute_errors_name_the_entry() {
        let err = resource_attributes("a=1,broken").unwrap_err();
        assert!(err.contains("number 2"), "{err}");
        let err = resource_attributes("a=1,=x").unwrap_err();
        assert!(err.contains("empty key"), "{err}");
        let err = resource_attributes("team=a%2").unwrap_err();
        assert!(err.contains("\"team\"") && err.contains("percent"), "{err}");
        let err = resource_attributes("team=%C3%28").unwrap_err();
        assert!(err.contains("UTF-8"), "{err}");
    }

    #[test]
    fn traceparent_validation() {
        let good = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let parsed = traceparent(&format!(" {good}\n")).unwrap();
        assert_eq!(parsed.header, good);
        assert_eq!(parsed.trace_id[0], 0x4b);
        assert_eq!(parsed.parent_id[7], 0xb7);
        assert_eq!(parsed.flags, 1);
        assert!(
            traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra").is_ok(),
            "future versions may add fields"
        );
        for bad in [
            "",
            "garbage",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
        ] {
            assert!(traceparent(bad).is_err(), "{bad:?}");
        }
    }
}
