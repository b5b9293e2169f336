//! OTLP exporter settings per signal.
//!
//! The generic `OTEL_EXPORTER_OTLP_*` variables are resolved once (so each of their problems is
//! reported once), then every signal's own `OTEL_EXPORTER_OTLP_<SIGNAL>_*` variables replace them
//! one by one, as the OTel spec prescribes.

use std::path::PathBuf;
use std::time::Duration;

use super::lookup::{Found, Resolver};
use super::model::{HeadersHelper, OtlpConfig, TlsFiles};
use super::parse;
use super::trust::{self, Trust};
use super::value::{Compression, Protocol, Signal};
use super::vars::{self, Kind, OtlpSetting};
use crate::mask::mask_url;

/// The URL used when no endpoint variable applies.
pub(crate) fn default_endpoint(protocol: Protocol, signal: Signal) -> String {
    let (grpc, http) = default_bases();
    if protocol.is_http() {
        parse::with_signal_path(http, signal)
    } else {
        grpc.to_owned()
    }
}

/// The default gRPC endpoint and HTTP base URL, from the table.
fn default_bases() -> (&'static str, &'static str) {
    match vars::ENDPOINT.kind {
        Kind::Endpoint { grpc, http } => (grpc, http),
        _ => ("", ""),
    }
}

/// The name of `setting`'s generic variable (`None`) or a signal's own.
fn name(setting: OtlpSetting, signal: Option<Signal>) -> &'static str {
    setting.var(signal).name
}

/// The generic variables, resolved once and inherited by every signal.
struct Generic<'a> {
    protocol: Protocol,
    /// The validated base URL and who chose it; per-signal paths are added later because
    /// protocol is per signal.
    endpoint: Option<(String, Trust)>,
    headers: Option<Headers<'a>>,
    timeout_ms: u64,
    compression: Compression,
    certificate: Option<Found<'a>>,
    /// Kept even when unpaired, because a signal may supply the missing half.
    client_certificate: Option<Found<'a>>,
    client_key: Option<Found<'a>>,
    insecure: bool,
    insecure_set_by: Option<Trust>,
    helper: Option<(HeadersHelper, Found<'a>)>,
}

/// Parsed headers and the variable they came from.
#[derive(Clone)]
struct Headers<'a> {
    list: Vec<(String, String)>,
    found: Found<'a>,
}

/// A credential left out of a signal's export because a less trusted source chose where it
/// would go.
struct Withheld<'a> {
    found: Found<'a>,
    signal: Signal,
    destination: String,
    chosen_by: Trust,
}

/// Metrics, logs and traces, in that order.
pub(crate) fn resolve_all(r: &mut Resolver<'_>) -> [OtlpConfig; 3] {
    let generic = generic(r);
    let mut withheld = Vec::new();
    let configs = Signal::ALL.map(|signal| for_signal(r, &generic, signal, &mut withheld));
    report_withheld(r, &withheld);
    configs
}

/// One diagnostic per credential variable that was withheld, naming every signal it was
/// withheld from.
fn report_withheld(r: &mut Resolver<'_>, withheld: &[Withheld<'_>]) {
    let mut names: Vec<&str> = Vec::new();
    for w in withheld {
        if !names.contains(&w.found.name.as_str()) {
            names.push(&w.found.name);
        }
    }
    for name in names {
        let of_name: Vec<&Withheld<'_>> =
            withheld.iter().filter(|w| w.found.name == name).collect();
        let first = of_name[0];
        let signals: Vec<&str> = of_name.iter().map(|w| w.signal.name()).collect();
        let (signals, verb) = match signals.split_last() {
            Some((last, [])) => ((*last).to_owned(), "is"),
            Some((last, init)) => (format!("{} and {last}", init.join(", ")), "are"),
            None => (String::new(), "is"),
        };
        let destinations: Vec<String> = of_name.iter().fold(Vec::new(), |mut all, w| {
            if !all.contains(&w.destination) {
                all.push(w.destination.clone());
            }
            all
        });
        r.report(
            &first.found,
            format!(
                "is a credential from {}, but {} chose the destination of {} ({}); a credential is \
                 only sent to a destination chosen by a source at least as trusted as its own \
                 (managed settings, then the user's environment and settings, then project \
                 settings)",
                first.found.source.trust().describe(),
                first.chosen_by.describe(),
                signals,
                destinations.join(", "),
            ),
            format!("{signals} {verb} sent without it"),
        );
    }
}

fn generic<'a>(r: &mut Resolver<'a>) -> Generic<'a> {
    let protocol = r.setting(
        name(vars::PROTOCOL, None),
        parse::protocol,
        match vars::PROTOCOL.kind {
            Kind::Protocol { default } => default,
            _ => Protocol::Grpc,
        },
        true,
    );
    let endpoint = generic_endpoint(r, protocol);
    let headers = headers(r, None);
    let timeout_ms = r.amount(vars::TIMEOUT.var(None), None);
    let compression = r.setting(
        name(vars::COMPRESSION, None),
        parse::compression,
        match vars::COMPRESSION.kind {
            Kind::Compression { default } => default,
            _ => Compression::None,
        },
        true,
    );
    let certificate = path(r, vars::CERTIFICATE, None);
    let client_certificate = path(r, vars::CLIENT_CERTIFICATE, None);
    let client_key = path(r, vars::CLIENT_KEY, None);
    let insecure = r.setting(name(vars::INSECURE, None), parse::otel_bool, false, false);
    let insecure_set_by = r
        .lookup(name(vars::INSECURE, None))
        .map(|f| f.source.trust());
    report_unpaired(r, None, client_certificate.as_ref(), client_key.as_ref());
    let helper = headers_helper(r);
    Generic {
        protocol,
        endpoint,
        headers,
        timeout_ms,
        compression,
        certificate,
        client_certificate,
        client_key,
        insecure,
        insecure_set_by,
        helper,
    }
}

/// `otelHeadersHelper` and its debounce: an absolute program path (`~/` is the home
/// directory); a relative one would run whatever the hook's working directory (a
/// repository) holds under that name, so it is not run.
fn headers_helper<'a>(r: &mut Resolver<'a>) -> Option<(HeadersHelper, Found<'a>)> {
    let debounce = r.amount(vars::HEADERS_HELPER_DEBOUNCE, None);
    let found = r.lookup(vars::HEADERS_HELPER.name)?;
    // Not trimmed, like every path: a name may begin or end with a blank.
    let value = found.value;
    let program = match value.strip_prefix("~/") {
        Some(rest) => match r.sources().home() {
            Some(home) => home.join(rest),
            None => {
                r.report(
                    &found,
                    "starts with ~/ but the home directory is not known",
                    "the helper is not run",
                );
                return None;
            }
        },
        None => PathBuf::from(value),
    };
    if !program.is_absolute() {
        r.report(
            &found,
            "is not an absolute path (it is run as a program, without a shell, and a relative one \
             would run whatever the working directory holds)",
            "the helper is not run",
        );
        return None;
    }
    r.used(&found);
    let helper = HeadersHelper {
        program,
        source: found.source.clone(),
        debounce: Duration::from_millis(debounce),
    };
    Some((helper, found))
}

fn generic_endpoint(r: &mut Resolver<'_>, protocol: Protocol) -> Option<(String, Trust)> {
    let found = r.lookup(name(vars::ENDPOINT, None))?;
    match parse::endpoint(found.value) {
        Ok(endpoint) => {
            r.used(&found);
            if endpoint.scheme_added {
                report_scheme_added(r, &found, &endpoint.url);
            }
            Some((endpoint.url, found.source.trust()))
        }
        Err(problem) => {
            let (grpc, http) = default_bases();
            let default = if protocol.is_http() {
                format!("{http}/v1/<signal>")
            } else {
                grpc.to_owned()
            };
            r.report(&found, problem, format!("using the default ({default})"));
            None
        }
    }
}

fn for_signal<'a>(
    r: &mut Resolver<'a>,
    generic: &Generic<'a>,
    signal: Signal,
    withheld: &mut Vec<Withheld<'a>>,
) -> OtlpConfig {
    let some = Some(signal);
    let protocol = r.setting(
        name(vars::PROTOCOL, some),
        parse::protocol,
        generic.protocol,
        false,
    );
    let (endpoint, endpoint_chosen_by) = signal_endpoint(r, generic, signal, protocol);
    // A signal's headers replace the generic ones entirely: merging could send one backend's
    // credentials to another.
    let headers = headers(r, some).or_else(|| generic.headers.clone());
    let timeout_ms = r.amount(vars::TIMEOUT.var(some), Some(generic.timeout_ms));
    let compression = r.setting(
        name(vars::COMPRESSION, some),
        parse::compression,
        generic.compression,
        false,
    );
    let (mut tls, tls_chosen_by, client_found) = tls(r, generic, signal);
    // Where the data goes is chosen by the endpoint and by what decides whom the connection
    // trusts (the CA file, plaintext): the least trusted of the sources that set them.
    let chosen_by = endpoint_chosen_by.min(tls_chosen_by);
    let destination = mask_url(&endpoint);
    let mut left_out = Vec::new();
    let mut withhold = |found: &Found<'a>| {
        let keep = trust::may_carry(found.source, chosen_by);
        if !keep {
            left_out.push(found.name.clone());
            withheld.push(Withheld {
                found: found.clone(),
                signal,
                destination: destination.clone(),
                chosen_by,
            });
        }
        !keep
    };
    let headers = match headers {
        Some(h) if withhold(&h.found) => Vec::new(),
        Some(h) => h.list,
        None => Vec::new(),
    };
    let headers_helper = match &generic.helper {
        Some((_, found)) if withhold(found) => None,
        Some((helper, _)) => Some(helper.clone()),
        None => None,
    };
    // Both halves are looked at, so each one withheld is named.
    if client_found
        .iter()
        .fold(false, |any, found| withhold(found) | any)
    {
        tls.client_certificate = None;
        tls.client_key = None;
    }
    OtlpConfig {
        endpoint,
        protocol,
        headers,
        timeout: Duration::from_millis(timeout_ms),
        compression,
        tls,
        chosen_by,
        withheld: left_out,
        headers_helper,
    }
}

/// A signal-specific endpoint is used as given; a generic one gets `/v1/<signal>` for HTTP.
/// Also says who chose it (a default was chosen by nobody less trusted than anyone).
fn signal_endpoint(
    r: &mut Resolver<'_>,
    generic: &Generic<'_>,
    signal: Signal,
    protocol: Protocol,
) -> (String, Trust) {
    let name = name(vars::ENDPOINT, Some(signal));
    let (inherited, inherited_from) = match &generic.endpoint {
        Some((base, trust)) if protocol.is_http() => {
            (parse::with_signal_path(base, signal), *trust)
        }
        Some((base, trust)) => (base.clone(), *trust),
        None => (default_endpoint(protocol, signal), Trust::Managed),
    };
    if let Some(found) = r.lookup(name) {
        match parse::endpoint(found.value) {
            Ok(endpoint) => {
                r.used(&found);
                if endpoint.scheme_added {
                    report_scheme_added(r, &found, &endpoint.url);
                }
                return (endpoint.url, found.source.trust());
            }
            Err(problem) => r.report(&found, problem, format!("using {}", mask_url(&inherited))),
        }
    }
    if generic.endpoint.is_none() {
        r.defaulted(name, &inherited);
    }
    (inherited, inherited_from)
}

fn report_scheme_added(r: &mut Resolver<'_>, found: &Found<'_>, url: &str) {
    r.report(
        found,
        "has no scheme (http:// or https://)",
        format!("treating it as {}", mask_url(url)),
    );
}

/// Parsed headers of the generic (`None`) or a signal's variable; `None` when it is unset.
fn headers<'a>(r: &mut Resolver<'a>, signal: Option<Signal>) -> Option<Headers<'a>> {
    let found = r.lookup(name(vars::HEADERS, signal))?;
    let (list, problems) = parse::headers(found.value);
    for problem in problems {
        r.report(&found, problem, "that header is skipped");
    }
    r.used(&found);
    Some(Headers { list, found })
}

/// A TLS file path variable; blank means unset. Paths are not opened here.
fn path<'a>(
    r: &mut Resolver<'a>,
    setting: OtlpSetting,
    signal: Option<Signal>,
) -> Option<Found<'a>> {
    let found = r.lookup(name(setting, signal))?;
    r.used(&found);
    Some(found)
}

fn to_path(found: Option<Found<'_>>) -> Option<PathBuf> {
    found.map(|found| PathBuf::from(found.value.trim()))
}

/// The signal's TLS files; who chose whom the connection trusts (the CA file and
/// plaintext); and the client certificate and key variables in use, which are credentials.
fn tls<'a>(
    r: &mut Resolver<'a>,
    generic: &Generic<'a>,
    signal: Signal,
) -> (TlsFiles, Trust, Vec<Found<'a>>) {
    let some = Some(signal);
    let certificate = path(r, vars::CERTIFICATE, some).or_else(|| generic.certificate.clone());
    let own_certificate = path(r, vars::CLIENT_CERTIFICATE, some);
    let own_key = path(r, vars::CLIENT_KEY, some);
    let insecure = r.setting(
        name(vars::INSECURE, some),
        parse::otel_bool,
        generic.insecure,
        false,
    );
    let insecure_set_by = r
        .lookup(name(vars::INSECURE, some))
        .map(|f| f.source.trust())
        .or(generic.insecure_set_by);
    let chosen_by = [
        certificate.as_ref().map(|f| f.source.trust()),
        insecure_set_by,
    ]
    .into_iter()
    .flatten()
    .min()
    .unwrap_or(Trust::Managed);

    let own_pair_part = own_certificate.is_some() || own_key.is_some();
    let client_certificate = own_certificate.or_else(|| generic.client_certificate.clone());
    let client_key = own_key.or_else(|| generic.client_key.clone());
    let paired = client_certificate.is_some() == client_key.is_some();
    if !paired && own_pair_part {
        // Only this signal's variables are new; a generic-only mismatch was reported once already.
        report_unpaired(r, some, client_certificate.as_ref(), client_key.as_ref());
    }
    let (client_found, client_certificate, client_key) = if paired {
        let found: Vec<Found<'a>> = client_certificate
            .iter()
            .chain(client_key.iter())
            .cloned()
            .collect();
        (found, to_path(client_certificate), to_path(client_key))
    } else {
        (Vec::new(), None, None)
    };
    let files = TlsFiles {
        certificate: to_path(certificate),
        client_certificate,
        client_key,
        insecure,
    };
    (files, chosen_by, client_found)
}

/// mTLS needs both halves; one without the other is reported on the half that is set.
fn report_unpaired(
    r: &mut Resolver<'_>,
    signal: Option<Signal>,
    certificate: Option<&Found<'_>>,
    key: Option<&Found<'_>>,
) {
    let (present, missing) = match (certificate, key) {
        (Some(certificate), None) => (certificate, vars::CLIENT_KEY),
        (None, Some(key)) => (key, vars::CLIENT_CERTIFICATE),
        _ => return,
    };
    let missing = match signal {
        Some(signal) => format!(
            "{} (or {})",
            name(missing, Some(signal)),
            name(missing, None)
        ),
        None => name(missing, None).to_owned(),
    };
    r.report(
        present,
        format!("is set but {missing} is not"),
        "mTLS is off: neither the client certificate nor the key is used",
    );
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::super::{Config, Diagnostic, Source, Sources};
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Config {
        Config::from_sources(&Sources::new().with_layer(Source::ProcessEnv, vars.iter().copied()))
    }

    fn about<'c>(config: &'c Config, var: &str) -> Vec<&'c Diagnostic> {
        config
            .diagnostics
            .iter()
            .filter(|d| d.subject == var)
            .collect()
    }

    fn endpoints(config: &Config) -> [&str; 3] {
        [
            config.metrics.otlp.endpoint.as_str(),
            config.logs.otlp.endpoint.as_str(),
            config.traces.otlp.endpoint.as_str(),
        ]
    }

    #[test]
    fn defaults_are_grpc_localhost_4317() {
        let c = Config::disabled();
        for signal in Signal::ALL {
            let otlp = &c.signal(signal).otlp;
            assert_eq!(otlp.protocol, Protocol::Grpc);
            assert_eq!(otlp.endpoint, "http://localhost:4317");
            assert!(otlp.headers.is_empty());
            assert_eq!(otlp.timeout, Duration::from_millis(10_000));
            assert_eq!(otlp.compression, Compression::None);
            assert_eq!(otlp.tls, TlsFiles::default());
        }
        assert_eq!(
            c.source_of("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
            Some(&Source::Default)
        );
    }

    #[test]
    fn http_defaults_have_signal_paths() {
        let c = config(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")]);
        assert_eq!(
            endpoints(&c),
            [
                "http://localhost:4318/v1/metrics",
                "http://localhost:4318/v1/logs",
                "http://localhost:4318/v1/traces"
            ]
        );
    }

    #[test]
    fn grpc_uses_the_generic_endpoint_as_given() {
        let c = config(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector:4317/")]);
        assert_eq!(endpoints(&c), ["https://collector:4317/"; 3]);
    }

    #[test]
    fn http_appends_signal_paths_to_the_generic_endpoint_only() {
        let c = config(&[
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "https://gw.example/otlp/"),
            (
                "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
                "https://logs.example/custom",
            ),
        ]);
        assert_eq!(
            endpoints(&c),
            [
                "https://gw.example/otlp/v1/metrics",
                "https://logs.example/custom",
                "https://gw.example/otlp/v1/traces"
            ]
        );
        assert!(c.diagnostics.is_empty(), "{:#?}", c.diagnostics);
    }

    #[test]
    fn signal_protocol_overrides_generic_and_decides_the_path() {
        let c = config(&[
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/protobuf"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
        ]);
        assert_eq!(c.metrics.otlp.protocol, Protocol::HttpProtobuf);
        assert_eq!(c.logs.otlp.protocol, Protocol::Grpc);
        assert_eq!(c.metrics.otlp.endpoint, "http://c:4318/v1/metrics");
        assert_eq!(c.logs.otlp.endpoint, "http://c:4318");
    }

    #[test]
    fn bad_protocols_fall_back_generic_then_grpc() {
        let c = config(&[
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "thrift"),
        ]);
        assert_eq!(c.traces.otlp.protocol, Protocol::HttpProtobuf);
        let d = about(&c, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL");
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].fallback, "using http/protobuf");

        let c = config(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "http")]);
        assert_eq!(c.metrics.otlp.protocol, Protocol::Grpc);
        assert_eq!(
            about(&c, "OTEL_EXPORTER_OTLP_PROTOCOL").len(),
            1,
            "reported once"
        );
        assert_eq!(c.diagnostics.len(), 1);
    }

    #[test]
    fn endpoint_without_scheme_gets_http_with_one_diagnostic() {
        let c = config(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "localhost:4317")]);
        assert_eq!(endpoints(&c), ["http://localhost:4317"; 3]);
        let d = about(&c, "OTEL_EXPORTER_OTLP_ENDPOINT");
        assert_eq!(d.len(), 1);
        assert_eq!(
            d[0].to_string(),
            "OTEL_EXPORTER_OTLP_ENDPOINT=\"localhost:4317\" (process environment) has no scheme \
             (http:// or https://); treating it as http://localhost:4317"
        );

        let c = config(&[
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318/path"),
        ]);
        assert_eq!(c.logs.otlp.endpoint, "http://collector:4318/path/v1/logs");
        assert_eq!(c.diagnostics.len(), 1);
    }

    #[test]
    fn bad_generic_endpoint_uses_the_default() {
        for bad in ["ftp://collector", "http://", "https://h:port", "a b"] {
            let c = config(&[("OTEL_EXPORTER_OTLP_ENDPOINT", bad)]);
            assert_eq!(endpoints(&c), ["http://localhost:4317"; 3], "{bad}");
            let d = about(&c, "OTEL_EXPORTER_OTLP_ENDPOINT");
            assert_eq!(d.len(), 1, "{bad}");
            assert_eq!(d[0].fallback, "using the default (http://localhost:4317)");
        }
    }

    #[test]
    fn bad_signal_endpoint_falls_back_to_the_generic_one() {
        let c = config(&[
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "https://gw"),
            ("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "mailto://x"),
        ]);
        assert_eq!(c.metrics.otlp.endpoint, "https://gw/v1/metrics");
        let d = about(&c, "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT");
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].fallback, "using https://gw/v1/metrics");
    }

    #[test]
    fn endpoint_credentials_never_reach_diagnostics() {
        let c = config(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "user:s3cret@host:4317")]);
        let all = format!("{c:?} {}", c.diagnostics[0]);
        assert!(!all.contains("s3cret"), "{all}");
    }

    #[test]
    fn signal_headers_replace_generic_headers() {
        let c = config(&[
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                "authorization=Bearer%20a,x-team=core",
            ),
            ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "x-honeycomb-team=b"),
        ]);
        let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        assert_eq!(
            c.metrics.otlp.headers,
            vec![pair("authorization", "Bearer a"), pair("x-team", "core")]
        );
        assert_eq!(c.logs.otlp.headers, c.metrics.otlp.headers);
        assert_eq!(c.traces.otlp.headers, vec![pair("x-honeycomb-team", "b")]);
    }

    #[test]
    fn bad_header_pairs_are_skipped_and_reported_by_key() {
        let c = config(&[(
            "OTEL_EXPORTER_OTLP_HEADERS",
            "Authorization=Bearer s3cret,bad key=s3cret,s3cret-only",
        )]);
        assert_eq!(
            c.metrics.otlp.headers,
            vec![("authorization".to_owned(), "Bearer s3cret".to_owned())]
        );
        let d = about(&c, "OTEL_EXPORTER_OTLP_HEADERS");
        assert_eq!(d.len(), 2, "reported once, not per signal");
        assert_eq!(
            d[0].to_string(),
            "OTEL_EXPORTER_OTLP_HEADERS=\"Authorization=***,***,***\" (process environment) has \
             an entry (number 2) whose name is not a valid HTTP header name; that header is skipped"
        );
        assert!(d[1].problem.contains("number 3"), "{}", d[1]);
    }

    #[test]
    fn no_header_secret_in_any_output() {
        let c = config(&[
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                "authorization=Bearer%20s3cret,x y=s3cret",
            ),
            ("OTEL_EXPORTER_OTLP_LOGS_HEADERS", "api-key=s3cret,=s3cret"),
        ]);
        let mut shown = format!("{c:?}");
        for d in &c.diagnostics {
            shown.push_str(&d.to_string());
        }
        for p in &c.provenance {
            shown.push_str(&format!("{p:?}"));
        }
        assert!(!shown.contains("s3cret"), "{shown}");
        let provenance = c
            .provenance
            .iter()
            .find(|p| p.variable == "OTEL_EXPORTER_OTLP_HEADERS")
            .unwrap();
        // `x y` is no header name, so it may be a pasted credential: not shown either.
        assert_eq!(provenance.value, "authorization=***,***");
    }

    #[test]
    fn timeouts() {
        let c = config(&[
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "2000"),
            ("OTEL_EXPORTER_OTLP_LOGS_TIMEOUT", "500"),
        ]);
        assert_eq!(c.metrics.otlp.timeout, Duration::from_millis(2000));
        assert_eq!(c.logs.otlp.timeout, Duration::from_millis(500));
        assert!(c.diagnostics.is_empty());
    }

    #[test]
    fn bad_timeouts_fall_back_and_large_ones_clamp() {
        let c = config(&[
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "3000"),
            ("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "0"),
            ("OTEL_EXPORTER_OTLP_LOGS_TIMEOUT", "5s"),
            ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "700000"),
        ]);
        assert_eq!(c.metrics.otlp.timeout, Duration::from_millis(3000));
        assert_eq!(c.logs.otlp.timeout, Duration::from_millis(3000));
        assert_eq!(c.traces.otlp.timeout, Duration::from_millis(600_000));
        assert_eq!(c.diagnostics.len(), 3, "{:#?}", c.diagnostics);
        assert_eq!(
            about(&c, "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT")[0].fallback,
            "using 3000"
        );

        let c = config(&[("OTEL_EXPORTER_OTLP_TIMEOUT", "-1")]);
        assert_eq!(c.logs.otlp.timeout, Duration::from_millis(10_000));
        assert_eq!(c.diagnostics.len(), 1);
    }

    #[test]
    fn compression() {
        let c = config(&[
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
            ("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "ZSTD"),
            ("OTEL_EXPORTER_OTLP_LOGS_COMPRESSION", "lz4"),
        ]);
        assert_eq!(c.metrics.otlp.compression, Compression::Gzip);
        assert_eq!(c.logs.otlp.compression, Compression::Gzip);
        assert_eq!(c.traces.otlp.compression, Compression::Zstd);
        assert_eq!(
            about(&c, "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION")[0].fallback,
            "using gzip"
        );
        let c = config(&[("OTEL_EXPORTER_OTLP_COMPRESSION", "br")]);
        assert_eq!(c.metrics.otlp.compression, Compression::None);
        assert_eq!(c.diagnostics.len(), 1);
    }

    #[test]
    fn tls_paths_and_insecure() {
        let c = config(&[
            ("OTEL_EXPORTER_OTLP_CERTIFICATE", "/ca.pem"),
            ("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "/client.pem"),
            ("OTEL_EXPORTER_OTLP_CLIENT_KEY", "/client.key"),
            ("OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE", "/logs-ca.pem"),
            ("OTEL_EXPORTER_OTLP_INSECURE", "TRUE"),
            ("OTEL_EXPORTER_OTLP_TRACES_INSECURE", "false"),
        ]);
        assert!(c.diagnostics.is_empty(), "{:#?}", c.diagnostics);
        let p = |s: &str| Some(PathBuf::from(s));
        assert_eq!(
            c.metrics.otlp.tls,
            TlsFiles {
                certificate: p("/ca.pem"),
                client_certificate: p("/client.pem"),
                client_key: p("/client.key"),
                insecure: true,
            }
        );
        assert_eq!(c.logs.otlp.tls.certificate, p("/logs-ca.pem"));
        assert!(!c.traces.otlp.tls.insecure);
    }

    #[test]
    fn empty_tls_path_means_unset() {
        let c = config(&[
            ("OTEL_EXPORTER_OTLP_CERTIFICATE", "/ca.pem"),
            ("OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE", ""),
        ]);
        assert_eq!(
            c.metrics.otlp.tls.certificate,
            Some(PathBuf::from("/ca.pem"))
        );
    }

    #[test]
    fn bad_insecure_is_reported() {
        let c = config(&[
            ("OTEL_EXPORTER_OTLP_INSECURE", "yes"),
            ("OTEL_EXPORTER_OTLP_METRICS_INSECURE", "1"),
        ]);
        assert!(!c.metrics.otlp.tls.insecure);
        assert_eq!(c.diagnostics.len(), 2);
    }

    #[test]
    fn unpaired_generic_client_certificate_disables_mtls_once() {
        let c = config(&[("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "/client.pem")]);
        for signal in Signal::ALL {
            let tls = &c.signal(signal).otlp.tls;
            assert_eq!((&tls.client_certificate, &tls.client_key), (&None, &None));
        }
        assert_eq!(c.diagnostics.len(), 1, "{:#?}", c.diagnostics);
        assert_eq!(
            c.diagnostics[0].to_string(),
            "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE=\"/client.pem\" (process environment) is set \
             but OTEL_EXPORTER_OTLP_CLIENT_KEY is not; mTLS is off: neither the client \
             certificate nor the key is used"
        );
    }

    #[test]
    fn signal_can_complete_or_break_the_generic_pair() {
        let c = config(&[
            ("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "/client.pem"),
            ("OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY", "/logs.key"),
            ("OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY", ""),
        ]);
        assert_eq!(c.logs.otlp.tls.client_key, Some(PathBuf::from("/logs.key")));
        assert_eq!(
            c.logs.otlp.tls.client_certificate,
            Some(PathBuf::from("/client.pem"))
        );
        assert_eq!(c.traces.otlp.tls.client_key, None);
        assert_eq!(c.diagnostics.len(), 1, "only the generic mismatch");

        let c = config(&[("OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY", "/m.key")]);
        assert_eq!(c.metrics.otlp.tls.client_key, None);
        let d = about(&c, "OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY");
        assert_eq!(d.len(), 1);
        assert!(d[0].problem.contains(
            "OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE (or \
             OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE)"
        ));
    }

    #[test]
    fn settings_from_lower_layers_fill_in_per_variable() {
        let sources = Sources::new()
            .with_layer(
                Source::ProcessEnv,
                [("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://env:4317")],
            )
            .with_layer(
                Source::UserSettings(PathBuf::from("/u")),
                [
                    ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://user:4317"),
                    (
                        "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
                        "http://user-metrics:4317",
                    ),
                ],
            );
        let c = Config::from_sources(&sources);
        assert_eq!(c.metrics.otlp.endpoint, "http://env:4317");
        assert_eq!(c.logs.otlp.endpoint, "http://user:4317");
        assert_eq!(
            c.source_of("OTEL_EXPORTER_OTLP_ENDPOINT"),
            Some(&Source::UserSettings(PathBuf::from("/u")))
        );
        assert_eq!(
            c.source_of("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"),
            Some(&Source::ProcessEnv)
        );
    }

    /// Layers in Claude Code's precedence: managed, a project trusted by the user's
    /// settings, the user's settings.
    fn trusted_project(
        managed: &[(&str, &str)],
        user: &[(&str, &str)],
        project: &[(&str, &str)],
    ) -> Config {
        let mut user = user.to_vec();
        user.push((vars::TRUST_PROJECT_SETTINGS.name, "1"));
        Config::from_sources(
            &Sources::new()
                .with_layer(
                    Source::Managed(PathBuf::from("/m")),
                    managed.iter().copied(),
                )
                .with_layer(
                    Source::ProjectSettings(PathBuf::from("/p")),
                    project.iter().copied(),
                )
                .with_layer(Source::UserSettings(PathBuf::from("/u")), user),
        )
    }

    const HEADERS: &str = "OTEL_EXPORTER_OTLP_HEADERS";
    const ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";

    fn pair(k: &str, v: &str) -> (String, String) {
        (k.to_owned(), v.to_owned())
    }

    #[test]
    fn credentials_never_go_where_a_less_trusted_source_points() {
        let c = trusted_project(
            &[],
            &[
                (ENDPOINT, "https://collector.example"),
                (HEADERS, "authorization=Bearer s3cret"),
            ],
            &[(ENDPOINT, "http://127.0.0.1:47999")],
        );
        for signal in Signal::ALL {
            let otlp = &c.signal(signal).otlp;
            assert_eq!(otlp.endpoint, "http://127.0.0.1:47999");
            assert!(otlp.headers.is_empty(), "{signal:?}");
            assert_eq!(otlp.chosen_by, Trust::Project);
        }
        let about = about(&c, HEADERS);
        assert_eq!(about.len(), 1, "one diagnostic for all signals: {about:?}");
        let line = about[0].to_string();
        assert!(
            line.starts_with("OTEL_EXPORTER_OTLP_HEADERS=\"authorization=***\" (user settings (/u)) is a credential from the user's environment and settings, but project settings chose the destination of metrics, logs and traces (http://127.0.0.1:47999)"),
            "{line}"
        );
        assert!(
            line.ends_with("; metrics, logs and traces are sent without it"),
            "{line}"
        );
        assert!(!line.contains("s3cret"));
    }

    #[test]
    fn credentials_from_the_source_that_chose_the_destination_or_below_are_sent() {
        // The project's own headers to the project's endpoint.
        let c = trusted_project(
            &[],
            &[(HEADERS, "authorization=user")],
            &[
                (ENDPOINT, "http://team:4317"),
                (HEADERS, "authorization=team"),
            ],
        );
        assert_eq!(c.metrics.otlp.headers, vec![pair("authorization", "team")]);
        // The user's headers to a managed endpoint, or to the default one.
        let c = trusted_project(
            &[(ENDPOINT, "http://corp:4317")],
            &[(HEADERS, "authorization=user")],
            &[],
        );
        assert_eq!(c.metrics.otlp.headers, vec![pair("authorization", "user")]);
        assert_eq!(c.metrics.otlp.chosen_by, Trust::Managed);
        let c = trusted_project(&[], &[(HEADERS, "authorization=user")], &[]);
        assert_eq!(c.logs.otlp.headers, vec![pair("authorization", "user")]);
        assert!(c.diagnostics.is_empty(), "{:?}", c.diagnostics);
    }

    #[test]
    fn managed_credentials_do_not_follow_a_users_endpoint() {
        let c = trusted_project(
            &[(HEADERS, "authorization=corp")],
            &[(ENDPOINT, "http://mine:4317")],
            &[],
        );
        assert!(c.traces.otlp.headers.is_empty());
        assert_eq!(c.traces.otlp.chosen_by, Trust::User);
        assert_eq!(about(&c, HEADERS).len(), 1);
    }

    #[test]
    fn a_signal_endpoint_from_the_project_withholds_credentials_from_that_signal_only() {
        let c = trusted_project(
            &[],
            &[
                (ENDPOINT, "http://mine:4317"),
                (HEADERS, "authorization=user"),
            ],
            &[("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://evil:4317")],
        );
        assert!(c.metrics.otlp.headers.is_empty());
        assert_eq!(c.logs.otlp.headers, vec![pair("authorization", "user")]);
        assert_eq!(c.traces.otlp.headers, vec![pair("authorization", "user")]);
        let line = about(&c, HEADERS)[0].to_string();
        assert!(
            line.contains("chose the destination of metrics (http://evil:4317)"),
            "{line}"
        );
    }

    #[test]
    fn a_project_ca_or_plaintext_switch_withholds_the_users_credentials() {
        let client = [
            ("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "/u/cert.pem"),
            ("OTEL_EXPORTER_OTLP_CLIENT_KEY", "/u/key.pem"),
            (HEADERS, "authorization=user"),
            (ENDPOINT, "https://mine:4317"),
        ];
        for project in [
            ("OTEL_EXPORTER_OTLP_CERTIFICATE", "/p/ca.pem"),
            ("OTEL_EXPORTER_OTLP_INSECURE", "true"),
        ] {
            let c = trusted_project(&[], &client, &[project]);
            for signal in Signal::ALL {
                let otlp = &c.signal(signal).otlp;
                assert_eq!(otlp.chosen_by, Trust::Project, "{project:?}");
                assert!(otlp.headers.is_empty(), "{project:?}");
                assert_eq!(otlp.tls.client_certificate, None, "{project:?}");
                assert_eq!(otlp.tls.client_key, None, "{project:?}");
            }
            for var in [
                HEADERS,
                "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
                "OTEL_EXPORTER_OTLP_CLIENT_KEY",
            ] {
                assert_eq!(about(&c, var).len(), 1, "{project:?} {var}");
            }
        }
    }

    #[test]
    fn untrusted_project_files_change_nothing() {
        let c = Config::from_sources(
            &Sources::new()
                .with_layer(
                    Source::UserSettings(PathBuf::from("/u")),
                    [
                        (ENDPOINT, "http://mine:4317"),
                        (HEADERS, "authorization=user"),
                    ],
                )
                .with_layer(
                    Source::LocalSettings(PathBuf::from("/p/l")),
                    [
                        (ENDPOINT, "http://evil:4317"),
                        ("OTEL_EXPORTER_OTLP_INSECURE", "true"),
                    ],
                ),
        );
        assert_eq!(c.metrics.otlp.endpoint, "http://mine:4317");
        assert_eq!(c.metrics.otlp.headers, vec![pair("authorization", "user")]);
        assert_eq!(c.metrics.otlp.chosen_by, Trust::User);
        assert_eq!(c.ignored.len(), 2);
        assert!(c.diagnostics.is_empty(), "{:?}", c.diagnostics);
    }
}
