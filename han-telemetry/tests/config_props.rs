//! Property tests of the configuration sources: whatever the environment and the settings
//! files hold, building a [`Config`] never panics, the result is usable, every rejected value
//! is named by a diagnostic (and every accepted one by none), and secrets never reach a
//! diagnostic, the provenance or any `Debug` output.
//!
//! The variables come from the library's own table (`config::vars`), so the list cannot fall
//! behind the code; which values are valid is this test's own oracle, from the documentation.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt as _, OsStringExt as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use han_telemetry::config::{
    Compression, Config, Diagnostic, DiscoverOptions, Exporter, Protocol, Signal, Source, Sources,
    Temporality, vars,
};
use han_telemetry_test_support::scratch::Scratch;
use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;

// ---------------------------------------------------------------------------------------------
// The variables

/// What a variable holds, which decides which values are valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `1, true, yes, on` / `0, false, no, off`.
    Enable,
    /// `true` / `false` only.
    OtelBool,
    /// `true, false, 1, 0`.
    Include,
    /// A comma-separated list of `otlp`, `console`, or `none` alone.
    Exporters,
    Temporality,
    Protocol,
    Compression,
    /// Whole milliseconds in `min..=max`.
    Millis {
        min: u64,
        max: u64,
    },
    /// Whole days in `min..=max`.
    Days {
        min: u64,
        max: u64,
    },
    Endpoint,
    Headers,
    ResourceAttributes,
    /// Any text (a name or a path).
    Text,
    /// An absolute path (`HAN_METRICS_DIR`: a relative one is refused).
    Dir,
    /// A program to run (`otelHeadersHelper`): an absolute path, or `~/` and a path in the
    /// home directory.
    Program,
    TraceParent,
    TraceState,
    ClientCertificate,
    ClientKey,
}

const SIGNALS: [&str; 3] = ["METRICS", "LOGS", "TRACES"];

/// What a variable of the library's table holds, as this test tells valid values from
/// invalid ones (its own oracle, written from the documentation, not from the parsers).
fn kind_of(var: &vars::Var) -> Kind {
    let is = |setting: vars::OtlpSetting| setting.names.contains(&var.name);
    match var.kind {
        _ if is(vars::CLIENT_CERTIFICATE) => Kind::ClientCertificate,
        _ if is(vars::CLIENT_KEY) => Kind::ClientKey,
        vars::Kind::Switch { .. } => Kind::Enable,
        vars::Kind::Bool { .. } => Kind::OtelBool,
        vars::Kind::Include { .. } => Kind::Include,
        vars::Kind::Exporters { .. } => Kind::Exporters,
        vars::Kind::Protocol { .. } => Kind::Protocol,
        vars::Kind::Compression { .. } => Kind::Compression,
        vars::Kind::Temporality { .. } => Kind::Temporality,
        vars::Kind::Millis { min, max, .. } => Kind::Millis { min, max },
        vars::Kind::Days { min, max, .. } => Kind::Days { min, max },
        vars::Kind::Endpoint { .. } => Kind::Endpoint,
        vars::Kind::Headers => Kind::Headers,
        vars::Kind::ResourceAttributes => Kind::ResourceAttributes,
        vars::Kind::Text { .. } => Kind::Text,
        // A CA file may be any path; the store directory must be absolute.
        vars::Kind::Path if is(vars::CERTIFICATE) => Kind::Text,
        vars::Kind::Path if var.name == vars::HEADERS_HELPER.name => Kind::Program,
        vars::Kind::Path => Kind::Dir,
        vars::Kind::TraceParent => Kind::TraceParent,
        vars::Kind::TraceState => Kind::TraceState,
        // A kind this test does not know yet: fail, so that it learns it.
        _ => panic!(
            "config_props has no oracle for {}: {:?}",
            var.name, var.kind
        ),
    }
}

/// Every variable han-telemetry reads as a value (the library's own table), with its kind.
fn variables() -> Vec<(String, Kind)> {
    vars::every()
        .map(|var| (var.name.to_owned(), kind_of(&var)))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Values

/// A generated value, and whether the generator built it to be valid.
#[derive(Debug, Clone)]
struct Value {
    text: String,
    built_valid: bool,
}

fn valid(s: impl Strategy<Value = String> + 'static) -> BoxedStrategy<Value> {
    s.prop_map(|text| Value {
        text,
        built_valid: true,
    })
    .boxed()
}

/// Surrounding blanks, which every parser trims.
fn padded(s: impl Strategy<Value = String>) -> impl Strategy<Value = String> {
    ("[ \t]{0,2}", s, "[ \t]{0,2}").prop_map(|(a, s, b)| format!("{a}{s}{b}"))
}

/// One of `words`, in any ASCII case.
fn word_of(words: &'static [&'static str]) -> impl Strategy<Value = String> {
    (proptest::sample::select(words), any::<u64>()).prop_map(|(w, mask)| {
        w.chars()
            .enumerate()
            .map(|(i, c)| {
                if mask >> (i % 64) & 1 == 1 {
                    c.to_ascii_uppercase()
                } else {
                    c
                }
            })
            .collect()
    })
}

fn valid_value(kind: Kind) -> BoxedStrategy<Value> {
    match kind {
        Kind::Enable => valid(padded(word_of(&[
            "1", "true", "yes", "on", "0", "false", "no", "off",
        ]))),
        Kind::OtelBool => valid(padded(word_of(&["true", "false"]))),
        Kind::Include => valid(padded(word_of(&["true", "false", "1", "0"]))),
        Kind::Exporters => valid(prop_oneof![
            padded(word_of(&["none"])),
            proptest::collection::vec(padded(word_of(&["otlp", "console"])), 1..4)
                .prop_map(|v| v.join(",")),
        ]),
        Kind::Temporality => valid(padded(word_of(&["cumulative", "delta", "lowmemory"]))),
        Kind::Protocol => valid(padded(word_of(&["grpc", "http/protobuf", "http/json"]))),
        Kind::Compression => valid(padded(word_of(&["gzip", "zstd", "none"]))),
        Kind::Millis { min, max } | Kind::Days { min, max } => {
            valid(padded((min..=max).prop_map(|n| n.to_string())))
        }
        Kind::Endpoint => valid(
            (
                proptest::sample::select(&["http", "https", "HTTP"][..]),
                "[a-z][a-z0-9-]{0,12}(\\.[a-z]{2,5}){0,2}",
                proptest::option::of(1u16..),
                "(/[a-z0-9._-]{1,8}){0,3}/?",
            )
                .prop_map(|(scheme, host, port, path)| {
                    let port = port.map(|p| format!(":{p}")).unwrap_or_default();
                    format!("{scheme}://{host}{port}{path}")
                }),
        ),
        Kind::Headers => valid(
            proptest::collection::vec(
                (
                    "[A-Za-z][A-Za-z0-9-]{0,15}",
                    "[A-Za-z0-9 ._~:/+-]{0,20}(%20|%2C|%3D)?",
                ),
                0..4,
            )
            .prop_map(|pairs| {
                pairs
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(",")
            }),
        ),
        Kind::ResourceAttributes => valid(
            proptest::collection::vec(
                ("[a-z][a-z0-9._]{0,10}", "[A-Za-z0-9 ._'-]{0,12}(%20)?"),
                0..4,
            )
            .prop_map(|pairs| {
                pairs
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(",")
            }),
        ),
        Kind::Text | Kind::TraceState | Kind::ClientCertificate | Kind::ClientKey => {
            valid("[A-Za-z0-9/._ =-]{1,30}|\\PC{1,20}")
        }
        Kind::Dir => valid("/[A-Za-z0-9/._ =-]{0,30}|/\\PC{1,20}"),
        Kind::Program => valid("/[A-Za-z0-9/._ =-]{0,30}|/\\PC{1,20}|~/[A-Za-z0-9/._-]{1,20}"),
        Kind::TraceParent => valid(
            (
                "[0-9a-e][0-9a-f]",
                "[0-9a-f]{31}[1-9a-f]",
                "[1-9a-f][0-9a-f]{15}",
                "[0-9a-f]{2}",
            )
                .prop_map(|(v, t, p, f)| format!("{v}-{t}-{p}-{f}")),
        ),
    }
}

/// Anything: empty, blank, control characters, separator soup, numbers out of every range,
/// arbitrary Unicode, and 100 KiB values.
fn junk() -> BoxedStrategy<String> {
    prop_oneof![
        2 => Just(String::new()),
        2 => "[ \t\r\n]{1,4}",
        4 => any::<String>(),
        3 => "[=,%a-z0-9 ]{0,30}",
        2 => "[\\x00-\\x1f\\x7f]{1,8}",
        3 => any::<i128>().prop_map(|n| n.to_string()),
        2 => "-?[0-9]{15,40}",
        2 => "\\PC{1,30}",
        2 => "[a-z]{1,8}://[^ ]{0,20}",
        1 => (any::<char>(), 0usize..16).prop_map(|(c, extra)| {
            c.to_string().repeat(100 * 1024 + extra)
        }),
        1 => proptest::sample::select(&["x", "a=", "%", ",", "=,"][..])
            .prop_map(|s| s.repeat(100 * 1024 / s.len())),
    ]
    .boxed()
}

/// A valid value spoiled: a character appended, inserted in front, or the value doubled.
fn near_miss(kind: Kind) -> BoxedStrategy<String> {
    (valid_value(kind), any::<char>(), 0..3u8)
        .prop_map(|(v, c, how)| match how {
            0 => format!("{}{c}", v.text),
            1 => format!("{c}{}", v.text),
            _ => format!("{0}{0}", v.text),
        })
        .boxed()
}

fn any_value(kind: Kind) -> BoxedStrategy<Value> {
    let unknown = |s: BoxedStrategy<String>| {
        s.prop_map(|text| Value {
            text,
            built_valid: false,
        })
    };
    prop_oneof![
        4 => valid_value(kind),
        4 => unknown(junk()),
        2 => unknown(near_miss(kind)),
    ]
    .boxed()
}

// ---------------------------------------------------------------------------------------------
// What each value should do (an independent statement of the documented rules)

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Blank: as if not set; nothing is said about it.
    Unset,
    /// Used as written; no diagnostic.
    Valid,
    /// At least one diagnostic names it.
    Invalid,
    /// Too intricate to restate here: used, or named by a diagnostic.
    UsedOrNamed,
}

fn is_blank(raw: &str) -> bool {
    raw.trim().is_empty()
}

fn word(raw: &str) -> String {
    raw.trim().to_ascii_lowercase()
}

fn one_of(raw: &str, words: &[&str]) -> Expect {
    if words.contains(&word(raw).as_str()) {
        Expect::Valid
    } else {
        Expect::Invalid
    }
}

/// `Some(value)` for whole numbers (clamped to `u64::MAX` when longer), `None` otherwise.
fn whole_number(raw: &str) -> Option<u64> {
    let digits = raw.trim();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(digits.parse::<u64>().unwrap_or(u64::MAX))
}

fn traceparent_ok(raw: &str) -> bool {
    let hex = |s: &str, n: usize| {
        s.len() == n
            && s.bytes().all(|b| b.is_ascii_hexdigit())
            && !s.bytes().any(|b| b.is_ascii_uppercase())
    };
    let fields: Vec<&str> = raw.trim().split('-').collect();
    if fields.len() < 4 {
        return false;
    }
    let (version, trace, parent, flags) = (fields[0], fields[1], fields[2], fields[3]);
    hex(version, 2)
        && hex(trace, 32)
        && hex(parent, 16)
        && hex(flags, 2)
        && version != "ff"
        && !(version == "00" && fields.len() > 4)
        && trace.bytes().any(|b| b != b'0')
        && parent.bytes().any(|b| b != b'0')
}

/// The exporters a value selects, or `None` when it falls back to the default.
fn exporter_effect(raw: &str) -> Option<Vec<Exporter>> {
    let mut list = Vec::new();
    let mut none = false;
    for entry in raw.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        match entry.to_ascii_lowercase().as_str() {
            "otlp" if !list.contains(&Exporter::Otlp) => list.push(Exporter::Otlp),
            "console" if !list.contains(&Exporter::Console) => list.push(Exporter::Console),
            "otlp" | "console" => {}
            "none" => none = true,
            _ => {}
        }
    }
    (!list.is_empty() || none).then_some(list)
}

fn exporters_expect(raw: &str) -> Expect {
    let entries: Vec<String> = raw
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    if entries.is_empty() {
        return Expect::Unset;
    }
    let known = |e: &String| matches!(e.as_str(), "otlp" | "console" | "none");
    let has_none = entries.iter().any(|e| e == "none");
    let has_other = entries.iter().any(|e| e != "none");
    if entries.iter().all(known) && !(has_none && has_other) {
        Expect::Valid
    } else {
        Expect::Invalid
    }
}

/// The environment of one case: each variable's value, if set.
struct Env<'a> {
    values: BTreeMap<&'a str, &'a str>,
}

impl Env<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).copied().filter(|v| !is_blank(v))
    }

    fn is_set(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    fn expect(&self, name: &str, kind: Kind, built_valid: bool) -> Expect {
        let Some(raw) = self.get(name) else {
            return Expect::Unset;
        };
        match kind {
            Kind::Enable => one_of(raw, &["1", "true", "yes", "on", "0", "false", "no", "off"]),
            Kind::OtelBool => one_of(raw, &["true", "false"]),
            Kind::Include => one_of(raw, &["true", "false", "1", "0"]),
            Kind::Exporters => exporters_expect(raw),
            Kind::Temporality => one_of(raw, &["cumulative", "delta", "lowmemory"]),
            Kind::Protocol => one_of(raw, &["grpc", "http/protobuf", "http/json"]),
            Kind::Compression => one_of(raw, &["gzip", "zstd", "none"]),
            Kind::Millis { min, max } | Kind::Days { min, max } => match whole_number(raw) {
                Some(n) if (min..=max).contains(&n) => Expect::Valid,
                _ => Expect::Invalid,
            },
            Kind::Text => Expect::Valid,
            Kind::Dir if Path::new(raw).is_absolute() => Expect::Valid,
            Kind::Dir => Expect::Invalid,
            Kind::Program if Path::new(raw).is_absolute() => Expect::Valid,
            // Used when the home directory is known, else named.
            Kind::Program if raw.starts_with("~/") => Expect::UsedOrNamed,
            Kind::Program => Expect::Invalid,
            Kind::TraceParent => {
                if traceparent_ok(raw) {
                    Expect::Valid
                } else {
                    Expect::Invalid
                }
            }
            Kind::TraceState => match self.get("TRACEPARENT") {
                Some(parent) if traceparent_ok(parent) => Expect::Valid,
                // The TRACEPARENT diagnostic says that TRACESTATE is ignored too.
                Some(_) => Expect::UsedOrNamed,
                None => Expect::Invalid,
            },
            Kind::ClientCertificate | Kind::ClientKey => {
                let partner = if kind == Kind::ClientKey {
                    name.replace("CLIENT_KEY", "CLIENT_CERTIFICATE")
                } else {
                    name.replace("CLIENT_CERTIFICATE", "CLIENT_KEY")
                };
                let generic_partner = SIGNALS
                    .iter()
                    .fold(partner.clone(), |p, s| p.replace(&format!("_{s}_"), "_"));
                if self.is_set(&partner) || self.is_set(&generic_partner) {
                    Expect::Valid
                } else {
                    Expect::Invalid
                }
            }
            Kind::Endpoint | Kind::Headers | Kind::ResourceAttributes => {
                if built_valid {
                    Expect::Valid
                } else {
                    Expect::UsedOrNamed
                }
            }
        }
    }

    /// The milliseconds in effect for `name`, `fallback` when unset or unusable.
    fn millis(&self, name: &str, min: u64, max: u64, fallback: u64) -> u64 {
        match self.get(name).and_then(whole_number) {
            Some(n) if n > max => max,
            Some(n) if n >= min => n,
            _ => fallback,
        }
    }

    fn parsed<T>(&self, name: &str, parse: impl Fn(&str) -> Option<T>, fallback: T) -> T {
        self.get(name)
            .and_then(|raw| parse(&word(raw)))
            .unwrap_or(fallback)
    }
}

fn enable_flag(w: &str) -> Option<bool> {
    match w {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

fn otel_bool(w: &str) -> Option<bool> {
    match w {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

fn include_flag(w: &str) -> Option<bool> {
    match w {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

fn protocol(w: &str) -> Option<Protocol> {
    match w {
        "grpc" => Some(Protocol::Grpc),
        "http/protobuf" => Some(Protocol::HttpProtobuf),
        "http/json" => Some(Protocol::HttpJson),
        _ => None,
    }
}

fn compression(w: &str) -> Option<Compression> {
    match w {
        "none" => Some(Compression::None),
        "gzip" => Some(Compression::Gzip),
        "zstd" => Some(Compression::Zstd),
        _ => None,
    }
}

fn temporality(w: &str) -> Option<Temporality> {
    match w {
        "cumulative" => Some(Temporality::Cumulative),
        "delta" => Some(Temporality::Delta),
        "lowmemory" => Some(Temporality::LowMemory),
        _ => None,
    }
}

fn otlp_var(signal: Option<&str>, setting: &str) -> String {
    match signal {
        None => format!("OTEL_EXPORTER_OTLP_{setting}"),
        Some(signal) => format!("OTEL_EXPORTER_OTLP_{signal}_{setting}"),
    }
}

fn signal_named(name: &str) -> Signal {
    match name {
        "METRICS" => Signal::Metrics,
        "LOGS" => Signal::Logs,
        _ => Signal::Traces,
    }
}

fn about<'c>(config: &'c Config, name: &str) -> Vec<&'c Diagnostic> {
    config
        .diagnostics
        .iter()
        .filter(|d| d.subject == name)
        .collect()
}

/// Whether `uri` is an absolute http(s) URL with a host, as exporters need.
fn usable_endpoint(url: &str) -> bool {
    url.parse::<http::Uri>().is_ok_and(|uri| {
        matches!(
            uri.scheme_str().map(str::to_ascii_lowercase).as_deref(),
            Some("http" | "https")
        ) && uri.host().is_some_and(|h| !h.is_empty())
    })
}

/// The promises every configuration keeps, whatever it was built from.
fn assert_usable(c: &Config) -> Result<(), TestCaseError> {
    prop_assert!(
        c.exit_budget <= Duration::from_secs(60),
        "{:?}",
        c.exit_budget
    );
    for interval in [c.metric_export_interval, c.logs_export_interval] {
        prop_assert!(
            (Duration::from_millis(1)..=Duration::from_secs(86_400)).contains(&interval),
            "{interval:?}"
        );
    }
    prop_assert!((1..=3_650).contains(&c.store.retention_days));
    prop_assert!(!c.service_name.is_empty());
    prop_assert!(
        c.resource_attributes
            .iter()
            .all(|(k, _)| !k.is_empty() && k != "service.name")
    );
    if let Some(parent) = &c.traceparent {
        prop_assert!(traceparent_ok(parent), "{parent:?}");
    }
    prop_assert!(c.tracestate.is_none() || c.traceparent.is_some());
    for signal in Signal::ALL {
        let s = c.signal(signal);
        let mut exporters = s.exporters.clone();
        exporters.dedup();
        prop_assert_eq!(exporters.len(), s.exporters.len(), "duplicate exporters");
        let otlp = &s.otlp;
        prop_assert!(
            usable_endpoint(&otlp.endpoint),
            "{signal} endpoint {:?} is not a usable URL",
            otlp.endpoint
        );
        prop_assert!(
            (Duration::from_millis(1)..=Duration::from_secs(600)).contains(&otlp.timeout),
            "{:?}",
            otlp.timeout
        );
        for (name, value) in &otlp.headers {
            let parsed = http::HeaderName::from_bytes(name.as_bytes());
            prop_assert!(
                parsed.is_ok_and(|n| n.as_str() == name),
                "header name {name:?} is not a valid lowercase HTTP header name"
            );
            prop_assert!(http::HeaderValue::from_str(value).is_ok());
        }
        prop_assert_eq!(
            otlp.tls.client_certificate.is_some(),
            otlp.tls.client_key.is_some(),
            "mTLS needs both halves or neither"
        );
    }
    let mut per_subject: BTreeMap<&str, usize> = BTreeMap::new();
    for d in &c.diagnostics {
        let line = d.to_string();
        prop_assert!(
            !line.contains(['\n', '\r']),
            "a diagnostic spans several lines: {line:?}"
        );
        // Values and quoted parts are cut at 200 characters; escaped (`\u{10f0ce}` is 10
        // bytes), a value and a quoted part of it stay under 8 KiB whatever the input size.
        prop_assert!(line.len() <= 8_192, "a {}-byte diagnostic", line.len());
        *per_subject.entry(d.subject.as_str()).or_default() += 1;
    }
    // A few problems per variable, then one line counting the rest: never a flood.
    for (subject, n) in per_subject {
        prop_assert!(n <= 6, "{n} diagnostics about {subject}");
    }
    Ok(())
}

fn cases(n: u32) -> ProptestConfig {
    ProptestConfig {
        cases: n,
        // Shrinking 100 KiB values through 50 variables is slow and rarely needed to read a
        // failure; a few hundred steps are enough.
        max_shrink_iters: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// One variable of a case: its name, its kind, and its value if set, with whether it is set
/// in the upper layer (the process environment) or the lower one (user settings).
type Setting = (String, Kind, Option<(bool, Value)>);

/// Each variable unset, or set in one of two layers.
fn environment() -> impl Strategy<Value = Vec<Setting>> {
    let vars = variables();
    let strategies: Vec<_> = vars
        .iter()
        .map(|(_, kind)| proptest::option::weighted(0.6, (any::<bool>(), any_value(*kind))))
        .collect();
    strategies.prop_map(move |values| {
        vars.iter()
            .zip(values)
            .map(|((name, kind), value)| (name.clone(), *kind, value))
            .collect()
    })
}

proptest! {
    #![proptest_config(cases(192))]

    /// Every variable han-telemetry reads, set to anything, in the process environment or a
    /// settings file: the config is usable, each value is used or named by a diagnostic
    /// (precisely: rejected ⇔ named, for every variable whose rule is simple to restate), and
    /// the values in effect are the documented ones.
    #[test]
    fn any_values_give_a_usable_config_and_name_every_rejected_value(
        env in environment(),
    ) {
        let user = Source::UserSettings(PathBuf::from("/home/u/.claude/settings.json"));
        let in_layer = |upper: bool| -> Vec<(String, String)> {
            env.iter()
                .filter_map(|(name, _, v)| match v {
                    Some((u, value)) if *u == upper => Some((name.clone(), value.text.clone())),
                    _ => None,
                })
                .collect()
        };
        let sources = Sources::new()
            .with_layer(Source::ProcessEnv, in_layer(true))
            .with_layer(user.clone(), in_layer(false));
        let c = Config::from_sources(&sources);
        assert_usable(&c)?;

        let values = Env {
            values: env
                .iter()
                .filter_map(|(n, _, v)| v.as_ref().map(|(_, v)| (n.as_str(), v.text.as_str())))
                .collect(),
        };
        let source_of = |name: &str| -> Source {
            match env.iter().find(|(n, _, _)| n == name) {
                Some((_, _, Some((true, _)))) => Source::ProcessEnv,
                _ => user.clone(),
            }
        };

        // Diagnostics name only variables that are set, with the source they came from.
        for d in &c.diagnostics {
            prop_assert!(values.is_set(&d.subject), "diagnostic about an unset variable: {d}");
            prop_assert_eq!(&d.source, &source_of(&d.subject), "{}", d);
        }

        for (name, kind, value) in &env {
            let built_valid = value.as_ref().is_some_and(|(_, v)| v.built_valid);
            let expect = values.expect(name, *kind, built_valid);
            let named = about(&c, name);
            let used = c.provenance.iter().any(|p| p.variable == *name && p.source == source_of(name));
            match expect {
                Expect::Unset => prop_assert!(named.is_empty(), "{name} is unset: {named:?}"),
                Expect::Valid => {
                    prop_assert!(named.is_empty(), "{name}={:?} is valid: {named:#?}", values.get(name));
                    prop_assert!(used, "{name} is valid but not used: {:#?}", c.provenance);
                }
                Expect::Invalid => prop_assert!(
                    !named.is_empty(),
                    "{name}={:?} is invalid but no diagnostic names it", values.get(name)
                ),
                Expect::UsedOrNamed => {
                    let parent_says = *name == "TRACESTATE"
                        && about(&c, "TRACEPARENT").iter().any(|d| d.fallback.contains("TRACESTATE"));
                    prop_assert!(
                        used || !named.is_empty() || parent_says,
                        "{name}={:?} is neither used nor named", values.get(name)
                    );
                }
            }
        }

        // The values in effect.
        let defaults = Config::disabled();
        prop_assert_eq!(
            c.enabled,
            values.parsed("CLAUDE_CODE_ENABLE_TELEMETRY", enable_flag, false)
                && !values.parsed("OTEL_SDK_DISABLED", otel_bool, false)
        );
        prop_assert_eq!(c.store.enabled, values.parsed("HAN_METRICS_STORE", enable_flag, true));
        prop_assert_eq!(
            c.exit_budget,
            Duration::from_millis(values.millis("HAN_TELEMETRY_EXIT_BUDGET_MS", 0, 60_000, 1_000))
        );
        prop_assert_eq!(
            c.metric_export_interval,
            Duration::from_millis(values.millis("OTEL_METRIC_EXPORT_INTERVAL", 1, 86_400_000, 60_000))
        );
        prop_assert_eq!(
            c.logs_export_interval,
            Duration::from_millis(values.millis("OTEL_LOGS_EXPORT_INTERVAL", 1, 86_400_000, 5_000))
        );
        prop_assert_eq!(
            u64::from(c.store.retention_days),
            values.millis("HAN_METRICS_RETENTION_DAYS", 1, 3_650, 30)
        );
        prop_assert_eq!(
            c.temporality,
            values.parsed(
                "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
                temporality,
                defaults.temporality
            )
        );
        prop_assert_eq!(
            c.include.session_id,
            values.parsed("OTEL_METRICS_INCLUDE_SESSION_ID", include_flag, true)
        );
        prop_assert_eq!(
            c.include.version,
            values.parsed("OTEL_METRICS_INCLUDE_VERSION", include_flag, false)
        );
        prop_assert_eq!(
            c.include.account_uuid,
            values.parsed("OTEL_METRICS_INCLUDE_ACCOUNT_UUID", include_flag, true)
        );
        if let Some(name) = values.get("OTEL_SERVICE_NAME") {
            prop_assert_eq!(c.service_name.as_str(), name.trim());
        }
        // Han's data directory holds the fallback store, and the store unless HAN_METRICS_DIR
        // (absolute) moves it.
        if let Some(data) = values.get("HAN_DATA_DIR").filter(|d| Path::new(d).is_absolute()) {
            let data = PathBuf::from(data);
            prop_assert_eq!(c.store.fallback_dir.clone(), Some(data.join("metrics-fallback")));
            if values.get("HAN_METRICS_DIR").is_none_or(|d| !Path::new(d).is_absolute()) {
                prop_assert_eq!(c.store.dir.clone(), Some(data.join("metrics")));
            }
        }
        if let Some(dir) = values.get("HAN_METRICS_DIR") {
            let expected = Path::new(dir)
                .is_absolute()
                .then(|| PathBuf::from(dir))
                .or_else(|| c.store.fallback_dir.as_deref().and_then(Path::parent).map(|han| han.join("metrics")));
            prop_assert_eq!(c.store.dir.clone(), expected);
        }
        let generic_timeout = values.millis(&otlp_var(None, "TIMEOUT"), 1, 600_000, 10_000);
        let generic_protocol = values.parsed(&otlp_var(None, "PROTOCOL"), protocol, Protocol::Grpc);
        let generic_compression =
            values.parsed(&otlp_var(None, "COMPRESSION"), compression, Compression::None);
        let generic_insecure = values.parsed(&otlp_var(None, "INSECURE"), otel_bool, false);
        for signal in SIGNALS {
            let s = c.signal(signal_named(signal));
            let var = |setting| otlp_var(Some(signal), setting);
            prop_assert_eq!(
                s.otlp.timeout,
                Duration::from_millis(values.millis(&var("TIMEOUT"), 1, 600_000, generic_timeout))
            );
            prop_assert_eq!(s.otlp.protocol, values.parsed(&var("PROTOCOL"), protocol, generic_protocol));
            prop_assert_eq!(
                s.otlp.compression,
                values.parsed(&var("COMPRESSION"), compression, generic_compression)
            );
            prop_assert_eq!(s.otlp.tls.insecure, values.parsed(&var("INSECURE"), otel_bool, generic_insecure));
            let exporters_var = format!("OTEL_{signal}_EXPORTER");
            let default_exporters = defaults.signal(signal_named(signal)).exporters.clone();
            let expected = values
                .get(&exporters_var)
                .and_then(exporter_effect)
                .unwrap_or(default_exporters);
            prop_assert_eq!(&s.exporters, &expected, "{}", exporters_var);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Secrets

/// Every secret of a case contains this (compared in lowercase); nothing else does.
const MARK: &str = "s3cr3t";

fn secret() -> impl Strategy<Value = String> {
    "[A-Za-z0-9]{4,12}".prop_map(|s| format!("{MARK}{s}"))
}

/// Text that is never a secret (keys, hosts).
fn plain(pattern: &'static str) -> impl Strategy<Value = String> {
    pattern.prop_filter("not the secret mark", |s| {
        !s.to_ascii_lowercase().contains(MARK)
    })
}

/// One entry of a headers variable that holds a secret somewhere it must not be shown.
fn secret_header_entry() -> impl Strategy<Value = String> {
    prop_oneof![
        // key=secret, the normal form (the key is shown, the value never).
        (plain("[A-Za-z][A-Za-z0-9-]{0,12}"), secret()).prop_map(|(k, s)| format!("{k}={s}")),
        (plain("[A-Za-z][A-Za-z0-9-]{0,12}"), secret())
            .prop_map(|(k, s)| format!("{k}=Bearer%20{s}")),
        // A bare token pasted without a name.
        secret(),
        secret().prop_map(|s| format!("Bearer {s}")),
        // curl syntax, with base64 padding: the "key" is then `Authorization: Basic <secret>`.
        (secret(), "={0,2}").prop_map(|(s, pad)| format!("Authorization: Basic {s}{pad}")),
        (secret(), "={0,2}").prop_map(|(s, pad)| format!("Authorization: Bearer {s}{pad}")),
        // A broken value: bad percent-encoding or a control character around the secret.
        (plain("[a-z]{1,8}"), secret()).prop_map(|(k, s)| format!("{k}={s}%zz")),
        (plain("[a-z]{1,8}"), secret()).prop_map(|(k, s)| format!("{k}=%ff{s}")),
        (plain("[a-z]{1,8}"), secret()).prop_map(|(k, s)| format!("{k}={s}\u{1}")),
    ]
}

fn secret_headers() -> impl Strategy<Value = String> {
    (
        proptest::collection::vec(
            prop_oneof![
                3 => secret_header_entry(),
                1 => plain("[=,% a-z]{0,10}"),
            ],
            1..5,
        ),
        proptest::sample::select(&[",", " , ", ",,"][..]),
    )
        .prop_map(|(entries, sep)| entries.join(sep))
}

/// An endpoint with `user:secret@` in it, well-formed or not. Besides what RFC 3986 allows in
/// userinfo, the password may hold a `/` (base64 tokens do), which ends the authority early;
/// `?` and `#` would make the rest a query, which no reader can tell from one.
fn secret_endpoint() -> impl Strategy<Value = String> {
    let password =
        (secret(), "[!$&'()*+;=._~/-]{0,3}[a-z]{0,2}").prop_map(|(s, x)| format!("{s}{x}"));
    (
        proptest::sample::select(&["http://", "https://", "", "ftp://", "HTTP://"][..]),
        plain("[a-z]{1,8}"),
        password,
        plain("[a-z][a-z0-9.-]{0,10}| |[a-z]+ [a-z]+"),
        proptest::sample::select(&["", ":4317", ":99999", ":port", ":", ":-1"][..]),
        proptest::sample::select(&["", "/", "/v1/traces", "?q=1", "#frag", " x"][..]),
    )
        .prop_map(|(scheme, user, password, host, port, tail)| {
            format!("{scheme}{user}:{password}@{host}{port}{tail}")
        })
}

/// Names of credentials that han-telemetry does not read but that match its prefixes, so
/// they enter [`Sources`] (and its `Debug`).
const CREDENTIAL_NAMES: [&str; 4] = [
    "HAN_API_KEY",
    "CLAUDE_CODE_OAUTH_TOKEN",
    "OTEL_EXPORTER_OTLP_PASSWORD",
    "HAN_SECRET",
];

fn assert_no_secret(what: &str, text: &str) -> Result<(), TestCaseError> {
    prop_assert!(
        !text.to_ascii_lowercase().contains(MARK),
        "a secret leaked into {what}: {text}"
    );
    Ok(())
}

proptest! {
    #![proptest_config(cases(256))]

    /// Header values, bare tokens, credentials in malformed header names, endpoint passwords
    /// and credential-named variables never appear in a diagnostic, the provenance, or the
    /// `Debug` of the config or the sources, whether the value is valid or not.
    #[test]
    fn secrets_never_reach_diagnostics_provenance_or_debug_output(
        headers in proptest::collection::vec(proptest::option::of(secret_headers()), 4),
        endpoints in proptest::collection::vec(proptest::option::of(secret_endpoint()), 4),
        credentials in proptest::collection::vec(proptest::option::of(secret()), 4),
        protocol in proptest::sample::select(&["grpc", "http/protobuf", "bogus"][..]),
        in_settings_file in any::<bool>(),
    ) {
        let mut vars: Vec<(String, String)> = vec![
            ("CLAUDE_CODE_ENABLE_TELEMETRY".into(), "1".into()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL".into(), protocol.into()),
        ];
        let prefixes = [None, Some("METRICS"), Some("LOGS"), Some("TRACES")];
        for (i, prefix) in prefixes.iter().enumerate() {
            if let Some(h) = &headers[i] {
                vars.push((otlp_var(*prefix, "HEADERS"), h.clone()));
            }
            if let Some(e) = &endpoints[i] {
                vars.push((otlp_var(*prefix, "ENDPOINT"), e.clone()));
            }
        }
        for (name, value) in CREDENTIAL_NAMES.iter().zip(&credentials) {
            if let Some(value) = value {
                vars.push(((*name).to_owned(), value.clone()));
            }
        }
        let source = if in_settings_file {
            Source::ProjectSettings(PathBuf::from("/p/.claude/settings.json"))
        } else {
            Source::ProcessEnv
        };
        let sources = Sources::new().with_layer(source, vars);
        let c = Config::from_sources(&sources);
        assert_usable(&c)?;
        for d in &c.diagnostics {
            assert_no_secret("a diagnostic", &d.to_string())?;
            assert_no_secret("a diagnostic's Debug", &format!("{d:?}"))?;
        }
        for p in &c.provenance {
            assert_no_secret("the provenance", &p.value)?;
        }
        assert_no_secret("the config's Debug", &format!("{c:?}"))?;
        assert_no_secret("the sources' Debug", &format!("{sources:?}"))?;
    }
}

// ---------------------------------------------------------------------------------------------
// Settings files

/// What one settings file holds.
#[derive(Debug, Clone)]
enum Body {
    Absent,
    /// `{"env": {...}}` with this layer's values.
    Good,
    /// The good file behind a byte-order mark.
    Bom,
    /// Arbitrary bytes.
    Bytes(Vec<u8>),
    /// The good file cut short: never valid JSON.
    Truncated(proptest::sample::Index),
    /// Valid JSON whose top level is no object.
    NotObject(&'static str),
    /// An object whose `env` is no object.
    EnvNotObject(&'static str),
    /// The good file plus relevant keys of types the env block cannot hold.
    WrongTypes(Vec<&'static str>),
    /// More than the 1 MiB a settings file may have (valid JSON otherwise).
    Huge(usize),
    /// The good file with an invalid UTF-8 byte inside a string.
    InvalidUtf8,
    /// A directory where the file should be.
    Directory,
}

fn body() -> impl Strategy<Value = Body> {
    let json = |values: &'static [&'static str]| proptest::sample::select(values);
    prop_oneof![
        3 => Just(Body::Absent),
        3 => Just(Body::Good),
        1 => Just(Body::Bom),
        3 => proptest::collection::vec(any::<u8>(), 0..200).prop_map(Body::Bytes),
        2 => any::<proptest::sample::Index>().prop_map(Body::Truncated),
        1 => json(&["[]", "[{\"env\":{}}]", "1", "\"env\"", "null", "true"]).prop_map(Body::NotObject),
        2 => json(&["1", "\"OTEL_SERVICE_NAME=x\"", "[1,2]", "null", "false", "[{\"OTEL_SERVICE_NAME\":\"x\"}]"])
            .prop_map(Body::EnvNotObject),
        2 => proptest::collection::vec(json(&["null", "[]", "[\"x\"]", "{}", "{\"a\":{\"b\":1}}"]), 1..4)
            .prop_map(Body::WrongTypes),
        1 => (0usize..4096).prop_map(Body::Huge),
        1 => Just(Body::InvalidUtf8),
        1 => Just(Body::Directory),
    ]
}

/// The five layers in precedence order, and the variable each sets to a value of its own.
const LAYERS: [(&str, &str, &str); 5] = [
    ("managed", "OTEL_METRIC_EXPORT_INTERVAL", "1111"),
    ("env", "OTEL_LOGS_EXPORT_INTERVAL", "2222"),
    ("local", "OTEL_EXPORTER_OTLP_TIMEOUT", "3333"),
    ("project", "HAN_TELEMETRY_EXIT_BUDGET_MS", "444"),
    ("user", "HAN_METRICS_RETENTION_DAYS", "55"),
];

/// The `i`th key of a wrong type: every other one holds a newline, which a diagnostic must
/// escape. `json` gives it as written in the file, else as decoded.
fn wrong_key(i: usize, json: bool) -> String {
    match (i % 2, json) {
        (0, _) => format!("OTEL_WRONG_{i}"),
        (_, true) => format!("OTEL_WRONG_{i}\\nhan-telemetry: forged"),
        (_, false) => format!("OTEL_WRONG_{i}\nhan-telemetry: forged"),
    }
}

fn good_json(layer: &str, own: &str, value: &str, extra: &str) -> String {
    format!(
        "{{\"model\": \"opus\", \"env\": {{\"OTEL_SERVICE_NAME\": \"{layer}\", \"{own}\": {value}{extra}, \
         \"UNRELATED\": [1]}}}}"
    )
}

/// Whether discovery must reject the file as a whole.
fn rejected(body: &Body, bytes: &[u8]) -> bool {
    match body {
        Body::Absent | Body::Good | Body::Bom | Body::WrongTypes(_) => false,
        Body::Bytes(_) => {
            let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
            match serde_json::from_slice::<serde_json::Value>(bytes) {
                Ok(serde_json::Value::Object(root)) => {
                    root.get("env").is_some_and(|e| !e.is_object())
                }
                _ => true,
            }
        }
        Body::Truncated(_)
        | Body::NotObject(_)
        | Body::EnvNotObject(_)
        | Body::Huge(_)
        | Body::InvalidUtf8
        | Body::Directory => true,
    }
}

/// Writes `body` at `path`; returns the bytes written (empty for none).
fn write_body(path: &Path, body: &Body, layer: &str, own: &str, value: &str) -> Vec<u8> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create the settings directory");
    }
    let good = good_json(layer, own, value, "");
    let bytes: Vec<u8> = match body {
        Body::Absent => return Vec::new(),
        Body::Directory => {
            std::fs::create_dir_all(path).expect("create a directory in the file's place");
            return Vec::new();
        }
        Body::Good => good.into_bytes(),
        Body::Bom => [b"\xEF\xBB\xBF".as_slice(), good.as_bytes()].concat(),
        Body::Bytes(bytes) => bytes.clone(),
        Body::Truncated(at) => good.as_bytes()[..at.index(good.len())].to_vec(),
        Body::NotObject(json) => json.as_bytes().to_vec(),
        Body::EnvNotObject(json) => format!("{{\"env\": {json}}}").into_bytes(),
        Body::WrongTypes(kinds) => {
            let extra: String = kinds
                .iter()
                .enumerate()
                .map(|(i, json)| format!(", \"{}\": {json}", wrong_key(i, true)))
                .collect();
            good_json(layer, own, value, &extra).into_bytes()
        }
        Body::Huge(extra) => {
            let padding = " ".repeat(1024 * 1024 + extra);
            format!("{{{padding}\"env\": {{}}}}").into_bytes()
        }
        Body::InvalidUtf8 => {
            // The first byte of the layer's name, inside the OTEL_SERVICE_NAME string.
            let at = good.find(layer).expect("the layer name is in the file");
            let mut bytes = good.into_bytes();
            bytes[at] = 0xff;
            bytes
        }
    };
    std::fs::write(path, &bytes).expect("write a settings file");
    bytes
}

proptest! {
    #![proptest_config(cases(96))]

    /// Managed, local, project and user settings files holding anything (arbitrary bytes,
    /// broken or wrongly shaped JSON, values of the wrong type, more than 1 MiB, invalid
    /// UTF-8, a directory): discovery never panics, each bad file or key gets its own
    /// diagnostic, and every good layer still applies in Claude Code's precedence.
    #[test]
    fn broken_settings_files_are_named_and_good_layers_still_apply(
        bodies in proptest::collection::vec(body(), 4),
        env_present in any::<bool>(),
        projects_trusted in any::<bool>(),
    ) {
        let scratch = Scratch::new("files");
        let dir = scratch.path();
        let paths = [
            dir.join("managed-settings.json"),
            PathBuf::new(),
            dir.join("project/.claude/settings.local.json"),
            dir.join("project/.claude/settings.json"),
            dir.join("home/.claude/settings.json"),
        ];
        let file_layers = [0usize, 2, 3, 4];
        let mut written = Vec::new();
        for (body, &layer) in bodies.iter().zip(&file_layers) {
            let (name, own, value) = LAYERS[layer];
            written.push(write_body(&paths[layer], body, name, own, value));
        }
        let mut env = vec![(OsString::from("PATH"), OsString::from("/bin"))];
        if projects_trusted {
            env.push(("HAN_TELEMETRY_TRUST_PROJECT_SETTINGS".into(), "1".into()));
        }
        if env_present {
            let (name, own, value) = LAYERS[1];
            env.push((OsString::from("OTEL_SERVICE_NAME"), OsString::from(name)));
            env.push((OsString::from(own), OsString::from(value)));
        }
        let opts = DiscoverOptions {
            env,
            cwd: Some(dir.join("project")),
            home: Some(dir.join("home")),
            managed_settings: Some(paths[0].clone()),
        };
        let c = Config::from_sources(&Sources::discover_with(&opts));
        assert_usable(&c)?;

        let source = |layer: usize| match layer {
            0 => Source::Managed(paths[0].clone()),
            1 => Source::ProcessEnv,
            2 => Source::LocalSettings(paths[2].clone()),
            3 => Source::ProjectSettings(paths[3].clone()),
            _ => Source::UserSettings(paths[4].clone()),
        };
        let mut expected_diagnostics = 0;
        // Which layers contribute their values, in precedence order.
        let mut applies = [false; 5];
        applies[1] = env_present;
        for ((body, bytes), &layer) in bodies.iter().zip(&written).zip(&file_layers) {
            let src = source(layer);
            let about_file: Vec<_> = c.diagnostics.iter().filter(|d| d.source == src).collect();
            if rejected(body, bytes) {
                prop_assert_eq!(about_file.len(), 1, "{:?}: {:#?}", body, c.diagnostics);
                prop_assert_eq!(&about_file[0].subject, &paths[layer].display().to_string());
                prop_assert!(about_file[0].fallback.contains("ignored"));
                expected_diagnostics += 1;
            } else if let Body::WrongTypes(kinds) = body {
                prop_assert_eq!(about_file.len(), kinds.len(), "{:#?}", c.diagnostics);
                for (i, d) in about_file.iter().enumerate() {
                    prop_assert_eq!(&d.subject, &wrong_key(i, false));
                    prop_assert!(d.value.is_none());
                }
                expected_diagnostics += kinds.len();
                applies[layer] = true;
            } else {
                prop_assert!(about_file.is_empty(), "{:?}: {:#?}", body, about_file);
                applies[layer] = matches!(body, Body::Good | Body::Bom);
            }
        }
        prop_assert_eq!(c.diagnostics.len(), expected_diagnostics, "{:#?}", c.diagnostics);
        // Untrusted project files are read (and their problems named) but configure nothing;
        // what they set is listed as ignored.
        if !projects_trusted {
            for layer in [2, 3] {
                let listed = c.ignored.iter().any(|i| i.source == source(layer));
                prop_assert_eq!(listed, applies[layer], "{:?}", c.ignored);
                applies[layer] = false;
            }
        } else {
            prop_assert!(c.ignored.is_empty(), "{:?}", c.ignored);
        }

        // Every layer that applies sets its own variable; the others leave it at its default.
        let own = |layer: usize| applies[layer];
        prop_assert_eq!(
            c.metric_export_interval,
            Duration::from_millis(if own(0) { 1111 } else { 60_000 })
        );
        prop_assert_eq!(
            c.logs_export_interval,
            Duration::from_millis(if own(1) { 2222 } else { 5_000 })
        );
        prop_assert_eq!(
            c.metrics.otlp.timeout,
            Duration::from_millis(if own(2) { 3333 } else { 10_000 })
        );
        prop_assert_eq!(c.exit_budget, Duration::from_millis(if own(3) { 444 } else { 1_000 }));
        prop_assert_eq!(c.store.retention_days, if own(4) { 55 } else { 30 });
        for layer in 0..5 {
            let (_, own_var, _) = LAYERS[layer];
            if applies[layer] {
                prop_assert_eq!(c.source_of(own_var), Some(&source(layer)));
            }
        }
        // The shared variable comes from the highest layer that applies.
        let winner = (0..5).find(|&l| applies[l]);
        prop_assert_eq!(
            c.service_name.as_str(),
            winner.map_or("han", |l| LAYERS[l].0)
        );
        if let Some(l) = winner {
            prop_assert_eq!(c.source_of("OTEL_SERVICE_NAME"), Some(&source(l)));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Invalid UTF-8 in the process environment

/// A name for an environment entry: one han-telemetry reads, a relevant-looking one with
/// arbitrary bytes (often invalid UTF-8), or anything at all.
fn env_name() -> impl Strategy<Value = Vec<u8>> {
    let names: Vec<String> = variables()
        .into_iter()
        .map(|(n, _)| n)
        .filter(|n| n != "OTEL_METRIC_EXPORT_INTERVAL")
        .collect();
    prop_oneof![
        4 => proptest::sample::select(names).prop_map(String::into_bytes),
        2 => (
            proptest::sample::select(&["OTEL_", "HAN_", "CLAUDE_CODE_", "TRACE"][..]),
            proptest::collection::vec(any::<u8>(), 0..12),
        )
            .prop_map(|(prefix, tail)| [prefix.as_bytes(), &tail].concat()),
        // A name that would forge a log line if printed as is.
        1 => (
            proptest::sample::select(&["OTEL_", "HAN_X"][..]),
            proptest::sample::select(&["\n", "\r", "\u{1b}[2J", "\u{85}"][..]),
        )
            .prop_map(|(prefix, control)| format!("{prefix}{control}han-telemetry: forged").into_bytes()),
        1 => proptest::collection::vec(any::<u8>(), 1..12),
    ]
    .prop_filter("no `=` or NUL, as in a real environment", |n| {
        !n.contains(&b'=') && !n.contains(&0)
    })
}

fn env_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => proptest::collection::vec(any::<u8>(), 0..40),
        1 => (proptest::collection::vec(any::<u8>(), 0..8), "[a-z0-9]{0,8}")
            .prop_map(|(bytes, text)| [text.as_bytes(), &[0xff, 0xfe], &bytes].concat()),
        2 => any::<String>().prop_map(String::into_bytes),
    ]
}

fn is_relevant(name: &str) -> bool {
    ["OTEL_", "CLAUDE_CODE_", "HAN_"]
        .iter()
        .any(|p| name.starts_with(p))
        || name == "TRACEPARENT"
        || name == "TRACESTATE"
}

proptest! {
    #![proptest_config(cases(192))]

    /// Invalid UTF-8 in the names and values of the process environment: no panic; a value
    /// of a variable han-telemetry reads is reported once per occurrence and ignored, so lower
    /// layers apply; other names are left alone; the rest of the config still resolves.
    #[test]
    fn invalid_utf8_in_the_environment_is_reported_and_the_rest_resolves(
        entries in proptest::collection::vec((env_name(), env_value()), 0..24),
    ) {
        let scratch = Scratch::new("utf8");
        let dir = scratch.path();
        let user = dir.join("home/.claude/settings.json");
        std::fs::create_dir_all(dir.join("home/.claude")).expect("user settings dir");
        std::fs::write(&user, r#"{"env": {"OTEL_SERVICE_NAME": "from-user"}}"#)
            .expect("user settings");
        let mut env: Vec<(OsString, OsString)> = entries
            .iter()
            .map(|(n, v)| (OsString::from_vec(n.clone()), OsString::from_vec(v.clone())))
            .collect();
        env.push(("OTEL_METRIC_EXPORT_INTERVAL".into(), "4321".into()));
        let opts = DiscoverOptions {
            env,
            cwd: Some(dir.join("project")),
            home: Some(dir.join("home")),
            managed_settings: Some(dir.join("managed-settings.json")),
        };
        let sources = Sources::discover_with(&opts);
        let c = Config::from_sources(&sources);
        assert_usable(&c)?;

        // One diagnostic per relevant UTF-8 name with a value that is not UTF-8, in order.
        let expected: Vec<String> = entries
            .iter()
            .filter_map(|(n, v)| {
                let name = std::str::from_utf8(n).ok().filter(|n| is_relevant(n))?;
                std::str::from_utf8(v).is_err().then(|| name.to_owned())
            })
            .collect();
        let reported: Vec<String> = sources.diagnostics().iter().map(|d| d.subject.clone()).collect();
        prop_assert_eq!(&reported, &expected);
        for d in sources.diagnostics() {
            prop_assert_eq!(&d.source, &Source::ProcessEnv);
            prop_assert!(d.value.is_none());
            prop_assert!(d.problem.contains("not valid UTF-8"));
        }

        // The last occurrence of a name decides; a non-UTF-8 one leaves lower layers in effect.
        let last = |name: &str| {
            entries.iter().rev().find(|(n, _)| n.as_slice() == name.as_bytes()).map(|(_, v)| v)
        };
        let resource_set = last("OTEL_RESOURCE_ATTRIBUTES")
            .is_some_and(|v| std::str::from_utf8(v).is_ok_and(|t| !is_blank(t)));
        let service = match last("OTEL_SERVICE_NAME").map(|v| std::str::from_utf8(v)) {
            None | Some(Err(_)) => Some("from-user".to_owned()),
            Some(Ok(text)) if !is_blank(text) => Some(text.trim().to_owned()),
            // Blank shadows the user's file; the resource attributes may then name it.
            Some(Ok(_)) => (!resource_set).then(|| "han".to_owned()),
        };
        if let Some(service) = service {
            prop_assert_eq!(&c.service_name, &service);
        }
        prop_assert_eq!(c.metric_export_interval, Duration::from_millis(4321));
        prop_assert_eq!(
            c.source_of("OTEL_METRIC_EXPORT_INTERVAL"),
            Some(&Source::ProcessEnv)
        );
    }

    /// Discovery's own directories (`CLAUDE_PROJECT_DIR`, `CLAUDE_CONFIG_DIR`, `HOME`) may be
    /// any bytes, as paths may: no panic, no diagnostic, and the store goes in Han's data
    /// directory under the configuration directory or the home given.
    #[test]
    fn directories_from_the_environment_may_be_any_bytes(
        project in proptest::option::of(proptest::collection::vec(any::<u8>(), 1..16)),
        config_dir in proptest::option::of(proptest::collection::vec(any::<u8>(), 1..16)),
        home in proptest::option::of(proptest::collection::vec(any::<u8>(), 1..16)),
    ) {
        let scratch = Scratch::new("dirs");
        // One component under the scratch directory, so no real settings file is ever read.
        let under = |bytes: &Vec<u8>| -> Option<PathBuf> {
            let name: Vec<u8> = bytes.iter().copied().filter(|b| *b != b'/' && *b != 0).collect();
            if name.is_empty() || name == b"." || name == b".." {
                return None;
            }
            Some(scratch.path().join(std::ffi::OsStr::from_bytes(&name)))
        };
        let mut env = Vec::new();
        let mut config_path = None;
        let mut home_path = None;
        for (var, value) in [("CLAUDE_PROJECT_DIR", &project), ("CLAUDE_CONFIG_DIR", &config_dir), ("HOME", &home)] {
            if let Some(path) = value.as_ref().and_then(under) {
                if var == "CLAUDE_CONFIG_DIR" {
                    config_path = Some(path.clone());
                }
                if var == "HOME" {
                    home_path = Some(path.clone());
                }
                env.push((OsString::from(var), path.into_os_string()));
            }
        }
        let opts = DiscoverOptions {
            env,
            cwd: Some(scratch.path().join("cwd")),
            home: None,
            managed_settings: Some(scratch.path().join("managed-settings.json")),
        };
        let sources = Sources::discover_with(&opts);
        prop_assert!(sources.diagnostics().is_empty(), "{:?}", sources.diagnostics());
        let c = Config::from_sources(&sources);
        assert_usable(&c)?;
        prop_assert!(c.diagnostics.is_empty());
        if let Some(dir) = config_path {
            prop_assert_eq!(c.store.dir, Some(dir.join("han").join("metrics")));
        } else if let Some(home) = home_path {
            prop_assert_eq!(c.store.dir, Some(home.join(".han").join("metrics")));
        }
    }
}
