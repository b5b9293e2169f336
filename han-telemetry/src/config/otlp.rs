//! OTLP exporter settings per signal.
//!
//! The generic `OTEL_EXPORTER_OTLP_*` variables are resolved once (so each of their problems is
//! reported once), then every signal's own `OTEL_EXPORTER_OTLP_<SIGNAL>_*` variables replace them
//! one by one, as the OTel spec prescribes.

use std::path::PathBuf;
use std::time::Duration;

use super::diagnostic::mask_url_userinfo;
use super::parse;
use super::resolve::{Found, Resolver};
use super::{Compression, OtlpConfig, Protocol, Signal, TlsFiles};

const DEFAULT_TIMEOUT_MS: u64 = 10_000;
const MAX_TIMEOUT_MS: u64 = 600_000;
const DEFAULT_GRPC_ENDPOINT: &str = "http://localhost:4317";
const DEFAULT_HTTP_BASE: &str = "http://localhost:4318";

/// `OTEL_EXPORTER_OTLP_<setting>`, or `OTEL_EXPORTER_OTLP_<SIGNAL>_<setting>`.
pub(crate) fn var(signal: Option<Signal>, setting: &str) -> String {
    match signal {
        None => format!("OTEL_EXPORTER_OTLP_{setting}"),
        Some(signal) => format!("OTEL_EXPORTER_OTLP_{}_{setting}", signal.env_name()),
    }
}

/// The URL used when no endpoint variable applies.
pub(crate) fn default_endpoint(protocol: Protocol, signal: Signal) -> String {
    if protocol.is_http() {
        parse::with_signal_path(DEFAULT_HTTP_BASE, signal)
    } else {
        DEFAULT_GRPC_ENDPOINT.to_owned()
    }
}

/// The generic variables, resolved once and inherited by every signal.
struct Generic<'a> {
    protocol: Protocol,
    /// The validated base URL; per-signal paths are added later because protocol is per signal.
    endpoint: Option<String>,
    headers: Vec<(String, String)>,
    timeout_ms: u64,
    compression: Compression,
    certificate: Option<Found<'a>>,
    /// Kept even when unpaired, because a signal may supply the missing half.
    client_certificate: Option<Found<'a>>,
    client_key: Option<Found<'a>>,
    insecure: bool,
}

/// Metrics, logs and traces, in that order.
pub(crate) fn resolve_all(r: &mut Resolver<'_>) -> [OtlpConfig; 3] {
    let generic = generic(r);
    Signal::ALL.map(|signal| for_signal(r, &generic, signal))
}

fn generic<'a>(r: &mut Resolver<'a>) -> Generic<'a> {
    let protocol = r.setting(
        &var(None, "PROTOCOL"),
        parse::protocol,
        Protocol::Grpc,
        true,
    );
    let endpoint = generic_endpoint(r, protocol);
    let headers = headers(r, None).unwrap_or_default();
    let timeout_ms = r.millis(
        &var(None, "TIMEOUT"),
        1,
        MAX_TIMEOUT_MS,
        DEFAULT_TIMEOUT_MS,
        true,
    );
    let compression = r.setting(
        &var(None, "COMPRESSION"),
        parse::compression,
        Compression::None,
        true,
    );
    let certificate = path(r, None, "CERTIFICATE");
    let client_certificate = path(r, None, "CLIENT_CERTIFICATE");
    let client_key = path(r, None, "CLIENT_KEY");
    let insecure = r.setting(&var(None, "INSECURE"), parse::otel_bool, false, false);
    report_unpaired(r, None, client_certificate.as_ref(), client_key.as_ref());
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
    }
}

fn generic_endpoint(r: &mut Resolver<'_>, protocol: Protocol) -> Option<String> {
    let found = r.lookup(&var(None, "ENDPOINT"))?;
    match parse::endpoint(found.value) {
        Ok(endpoint) => {
            r.used(&found);
            if endpoint.scheme_added {
                report_scheme_added(r, &found, &endpoint.url);
            }
            Some(endpoint.url)
        }
        Err(problem) => {
            let default = if protocol.is_http() {
                format!("{DEFAULT_HTTP_BASE}/v1/<signal>")
            } else {
                DEFAULT_GRPC_ENDPOINT.to_owned()
            };
            r.report(&found, problem, format!("using the default ({default})"));
            None
        }
    }
}

fn for_signal(r: &mut Resolver<'_>, generic: &Generic<'_>, signal: Signal) -> OtlpConfig {
    let some = Some(signal);
    let protocol = r.setting(
        &var(some, "PROTOCOL"),
        parse::protocol,
        generic.protocol,
        false,
    );
    let endpoint = signal_endpoint(r, generic, signal, protocol);
    // A signal's headers replace the generic ones entirely: merging could send one backend's
    // credentials to another.
    let headers = headers(r, some).unwrap_or_else(|| generic.headers.clone());
    let timeout_ms = r.millis(
        &var(some, "TIMEOUT"),
        1,
        MAX_TIMEOUT_MS,
        generic.timeout_ms,
        false,
    );
    let compression = r.setting(
        &var(some, "COMPRESSION"),
        parse::compression,
        generic.compression,
        false,
    );
    let tls = tls(r, generic, signal);
    OtlpConfig {
        endpoint,
        protocol,
        headers,
        timeout: Duration::from_millis(timeout_ms),
        compression,
        tls,
    }
}

/// A signal-specific endpoint is used as given; a generic one gets `/v1/<signal>` for HTTP.
fn signal_endpoint(
    r: &mut Resolver<'_>,
    generic: &Generic<'_>,
    signal: Signal,
    protocol: Protocol,
) -> String {
    let name = var(Some(signal), "ENDPOINT");
    let inherited = match &generic.endpoint {
        Some(base) if protocol.is_http() => parse::with_signal_path(base, signal),
        Some(base) => base.clone(),
        None => default_endpoint(protocol, signal),
    };
    if let Some(found) = r.lookup(&name) {
        match parse::endpoint(found.value) {
            Ok(endpoint) => {
                r.used(&found);
                if endpoint.scheme_added {
                    report_scheme_added(r, &found, &endpoint.url);
                }
                return endpoint.url;
            }
            Err(problem) => r.report(
                &found,
                problem,
                format!("using {}", mask_url_userinfo(&inherited)),
            ),
        }
    }
    if generic.endpoint.is_none() {
        r.defaulted(&name, &inherited);
    }
    inherited
}

fn report_scheme_added(r: &mut Resolver<'_>, found: &Found<'_>, url: &str) {
    r.report(
        found,
        "has no scheme (http:// or https://)",
        format!("treating it as {}", mask_url_userinfo(url)),
    );
}

/// Parsed headers of the generic (`None`) or a signal's variable; `None` when it is unset.
fn headers(r: &mut Resolver<'_>, signal: Option<Signal>) -> Option<Vec<(String, String)>> {
    let found = r.lookup(&var(signal, "HEADERS"))?;
    let (headers, problems) = parse::headers(found.value);
    for problem in problems {
        r.report(&found, problem, "that header is skipped");
    }
    r.used(&found);
    Some(headers)
}

/// A TLS file path variable; blank means unset. Paths are not opened here.
fn path<'a>(r: &mut Resolver<'a>, signal: Option<Signal>, setting: &str) -> Option<Found<'a>> {
    let found = r.lookup(&var(signal, setting))?;
    r.used(&found);
    Some(found)
}

fn to_path(found: Option<Found<'_>>) -> Option<PathBuf> {
    found.map(|found| PathBuf::from(found.value.trim()))
}

fn tls(r: &mut Resolver<'_>, generic: &Generic<'_>, signal: Signal) -> TlsFiles {
    let some = Some(signal);
    let certificate = path(r, some, "CERTIFICATE").or_else(|| generic.certificate.clone());
    let own_certificate = path(r, some, "CLIENT_CERTIFICATE");
    let own_key = path(r, some, "CLIENT_KEY");
    let insecure = r.setting(
        &var(some, "INSECURE"),
        parse::otel_bool,
        generic.insecure,
        false,
    );

    let own_pair_part = own_certificate.is_some() || own_key.is_some();
    let client_certificate = own_certificate.or_else(|| generic.client_certificate.clone());
    let client_key = own_key.or_else(|| generic.client_key.clone());
    let paired = client_certificate.is_some() == client_key.is_some();
    if !paired && own_pair_part {
        // Only this signal's variables are new; a generic-only mismatch was reported once already.
        report_unpaired(r, some, client_certificate.as_ref(), client_key.as_ref());
    }
    let (client_certificate, client_key) = if paired {
        (to_path(client_certificate), to_path(client_key))
    } else {
        (None, None)
    };
    TlsFiles {
        certificate: to_path(certificate),
        client_certificate,
        client_key,
        insecure,
    }
}

/// mTLS needs both halves; one without the other is reported on the half that is set.
fn report_unpaired(
    r: &mut Resolver<'_>,
    signal: Option<Signal>,
    certificate: Option<&Found<'_>>,
    key: Option<&Found<'_>>,
) {
    let (present, missing) = match (certificate, key) {
        (Some(certificate), None) => (certificate, "CLIENT_KEY"),
        (None, Some(key)) => (key, "CLIENT_CERTIFICATE"),
        _ => return,
    };
    let missing = match signal {
        Some(signal) => format!("{} (or {})", var(Some(signal), missing), var(None, missing)),
        None => var(None, missing),
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
}
