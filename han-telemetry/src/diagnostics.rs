//! One clear line on stderr per problem, never a flood.
//!
//! Hooks talk to Claude Code on stdout, so every message goes to stderr, prefixed with
//! `han-telemetry:`. Each distinct problem is printed once per process: a collector that is
//! down would otherwise produce a line per export attempt.

use std::collections::HashSet;
use std::io::Write as _;
use std::sync::Mutex;

static SEEN: Mutex<Option<HashSet<String>>> = Mutex::new(None);

/// Prints `message` unless a message with the same `key` was already printed.
pub(crate) fn warn_once(key: &str, message: &str) {
    let first = {
        let mut seen = SEEN.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        seen.get_or_insert_with(HashSet::new).insert(key.to_owned())
    };
    if first {
        // A closed stderr must not fail the host.
        let _ = writeln!(std::io::stderr().lock(), "han-telemetry: {message}");
    }
}

/// A likely cause of an export error: words to look for in the error text (lowercase), what
/// probably happened, and what the operator should check or change.
#[derive(Debug)]
pub(crate) struct Cause {
    clues: &'static [&'static str],
    pub(crate) cause: &'static str,
    pub(crate) fix: &'static str,
}

/// Likely causes of an export error, first match wins, so specific clues come before general
/// ones (an untrusted certificate before "TLS", a refused connection before "tcp connect").
/// Clues are lowercase and match the messages of tonic, hyper, reqwest, rustls and the OTLP
/// exporters; HTTP statuses are matched as `status code: NNN` so that a port number such as
/// 40123 never reads as a status.
const CAUSES: &[Cause] = &[
    Cause {
        clues: &["connection refused"],
        cause: "nothing accepts connections there",
        fix: "is the collector running, and is the port right (4317 gRPC, 4318 HTTP)?",
    },
    Cause {
        clues: &["dns", "failed to lookup", "name or service not known"],
        cause: "the host name does not resolve",
        fix: "check the endpoint's host",
    },
    Cause {
        clues: &[
            "no route to host",
            "network is unreachable",
            "host is unreachable",
        ],
        cause: "there is no network route to the host",
        fix: "check the endpoint's host, and the network, VPN or firewall between here and there",
    },
    Cause {
        clues: &["certificaterequired", "certificate required"],
        cause: "the server requires a client certificate (mutual TLS)",
        fix: "set OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and OTEL_EXPORTER_OTLP_CLIENT_KEY",
    },
    Cause {
        clues: &["invalidcontenttype", "corrupt message"],
        cause: "the server does not speak TLS there",
        fix: "use an http:// endpoint for a plaintext port, or the collector's TLS port",
    },
    Cause {
        clues: &[
            "unknownissuer",
            "unknown issuer",
            "caasendentity",
            "self-signed",
            "self signed",
        ],
        cause: "the server's certificate is not issued by a CA this machine trusts",
        fix: "set OTEL_EXPORTER_OTLP_CERTIFICATE to the PEM file of the CA that issued it",
    },
    Cause {
        clues: &["notvalidforname", "not valid for name"],
        cause: "the server's certificate is not issued for the endpoint's host name",
        fix: "use the host name the certificate names in the endpoint",
    },
    Cause {
        clues: &[
            "certificate expired",
            "peer certificate: expired",
            "notvalidyet",
            "not valid yet",
        ],
        cause: "the server's certificate has expired or is not valid yet",
        fix: "renew the collector's certificate, or check this machine's clock",
    },
    Cause {
        clues: &["certificate", "tls", "handshake"],
        cause: "TLS failed",
        fix: "for a private CA set OTEL_EXPORTER_OTLP_CERTIFICATE to its PEM file",
    },
    Cause {
        clues: &["unimplemented"],
        cause: "the server there does not serve OTLP over gRPC (it may be an OTLP/HTTP port such as 4318)",
        fix: "use the collector's gRPC port (usually 4317), or set OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf for an HTTP port",
    },
    Cause {
        clues: &[
            "unexpected message from connection",
            "http2 preface",
            "invalid http version",
        ],
        cause: "the server there speaks gRPC (HTTP/2), not OTLP/HTTP (it may be a gRPC port such as 4317)",
        fix: "use the collector's HTTP port (usually 4318), or set OTEL_EXPORTER_OTLP_PROTOCOL=grpc for a gRPC port",
    },
    Cause {
        clues: &[
            "broken pipe",
            "connection reset",
            "connection closed before message completed",
        ],
        cause: "the server closed the connection",
        fix: "if it requires a client certificate (mutual TLS), set OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and OTEL_EXPORTER_OTLP_CLIENT_KEY; if the port uses TLS, use https://; otherwise check the protocol",
    },
    Cause {
        clues: &[
            "status code: 401",
            "status code: 403",
            "unauthenticated",
            "permissiondenied",
            "permission denied",
        ],
        cause: "the collector rejected the credentials",
        fix: "check OTEL_EXPORTER_OTLP_HEADERS",
    },
    Cause {
        clues: &["status code: 404", "status code: 405"],
        cause: "the endpoint does not accept OTLP there",
        fix: "check the path and OTEL_EXPORTER_OTLP_PROTOCOL (OTEL_EXPORTER_OTLP_ENDPOINT gets /v1/<signal> appended for HTTP; OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT is used as is)",
    },
    Cause {
        clues: &["status code: 415", "status code: 400", "invalidargument"],
        cause: "the collector cannot decode what was sent",
        fix: "check OTEL_EXPORTER_OTLP_PROTOCOL (http/protobuf or http/json) and OTEL_EXPORTER_OTLP_COMPRESSION against what the collector accepts",
    },
    Cause {
        clues: &[
            "status code: 429",
            "status code: 503",
            "resourceexhausted",
            "grpc code: unavailable",
        ],
        cause: "the collector is overloaded or limiting the rate",
        fix: "retry later; check the collector's limits and logs",
    },
    Cause {
        clues: &["timed out", "deadline", "timeout"],
        cause: "no answer in time",
        fix: "check the endpoint or raise OTEL_EXPORTER_OTLP_TIMEOUT",
    },
    Cause {
        clues: &["tcp connect error"],
        cause: "the connection could not be opened",
        fix: "is the collector running, and is the port right (4317 gRPC, 4318 HTTP)?",
    },
];

/// What to say when no clue matches.
const UNKNOWN_FIX: &str = "check the endpoint, protocol and headers";

/// An export error with its likely cause and fix.
#[derive(Debug)]
pub(crate) struct Explained {
    /// The error and the transport's detail, as one line.
    pub(crate) text: String,
    /// The matching entry of [`CAUSES`], if any.
    pub(crate) known: Option<&'static Cause>,
    /// What probably happened.
    pub(crate) cause: &'static str,
    /// What to check or change.
    pub(crate) fix: &'static str,
}

/// Finds the likely cause of an export error. `detail` is the transport's own description
/// when known (the OTLP HTTP exporter reduces network errors to "network error"; our client
/// keeps the cause).
pub(crate) fn classify_export_error(error: &str, detail: Option<&str>) -> Explained {
    let text = match detail {
        Some(d) if !d.is_empty() => format!("{error}: {d}"),
        _ => error.to_owned(),
    };
    let text = without_repeats(&text);
    let lower = text.to_ascii_lowercase();
    let known = CAUSES
        .iter()
        .find(|c| c.clues.iter().any(|clue| lower.contains(clue)));
    Explained {
        text,
        known,
        cause: known.map_or(
            "the export failed for a reason han-telemetry does not recognise",
            |c| c.cause,
        ),
        fix: known.map_or(UNKNOWN_FIX, |c| c.fix),
    }
}

/// `a: b: b: c` as `a: b: c`: error chains often repeat a layer's message (tonic's
/// "tcp connect error: tcp connect error: Connection refused").
fn without_repeats(text: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in text.split(": ") {
        if parts.last() != Some(&part) {
            parts.push(part);
        }
    }
    parts.join(": ")
}

impl Explained {
    /// `<error>: <detail> (<cause>; <fix>)`, one line.
    pub(crate) fn line(&self) -> String {
        match self.known {
            Some(c) => format!("{} ({}; {})", self.text, c.cause, c.fix),
            None => format!("{} ({UNKNOWN_FIX})", self.text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn explain_export_error(error: &str, detail: Option<&str>) -> String {
        classify_export_error(error, detail).line()
    }

    #[test]
    fn a_layer_repeating_its_message_is_said_once() {
        let e = classify_export_error(
            "transport error: tcp connect error: tcp connect error: Connection refused (os error 111)",
            None,
        );
        assert_eq!(
            e.text,
            "transport error: tcp connect error: Connection refused (os error 111)"
        );
    }

    #[test]
    fn explains_refused_connections_and_keeps_the_detail() {
        let line = explain_export_error(
            "HTTP export failed: network error",
            Some("tcp connect error: Connection refused (os error 111)"),
        );
        assert!(line.contains("Connection refused"), "{line}");
        assert!(line.contains("is the collector running"), "{line}");
    }

    #[test]
    fn explains_auth_and_tls_failures() {
        assert!(
            explain_export_error("HTTP export failed with status code: 401", None)
                .contains("OTEL_EXPORTER_OTLP_HEADERS")
        );
        assert!(
            explain_export_error("x", Some("invalid peer certificate: UnknownIssuer"))
                .contains("OTEL_EXPORTER_OTLP_CERTIFICATE")
        );
    }

    #[test]
    fn status_codes_are_not_confused_with_ports() {
        let line = explain_export_error(
            "HTTP export failed: network error",
            Some(
                "error sending request for url (http://127.0.0.1:40123/v1/metrics): operation timed out",
            ),
        );
        assert!(line.contains("no answer in time"), "{line}");
    }

    #[test]
    fn explains_protocol_mismatches() {
        let grpc_to_http = classify_export_error(
            "TonicMetricsClient export failed with gRPC code: Unimplemented",
            None,
        );
        assert!(grpc_to_http.fix.contains("4317"), "{grpc_to_http:?}");
        let http_to_grpc = classify_export_error(
            "HTTP export failed: network error",
            Some("client error (SendRequest): received unexpected message from connection"),
        );
        assert!(http_to_grpc.fix.contains("4318"), "{http_to_grpc:?}");
        let https_to_plain = classify_export_error(
            "x",
            Some("received corrupt message of type InvalidContentType"),
        );
        assert!(https_to_plain.fix.contains("http://"), "{https_to_plain:?}");
    }

    #[test]
    fn explains_untrusted_certificates() {
        let e = classify_export_error("x", Some("invalid peer certificate: UnknownIssuer"));
        assert!(e.cause.contains("not issued by a CA"), "{e:?}");
        assert!(e.fix.contains("OTEL_EXPORTER_OTLP_CERTIFICATE"), "{e:?}");
    }

    #[test]
    fn unknown_errors_get_the_general_advice() {
        let e = classify_export_error("something odd", None);
        assert!(e.known.is_none());
        assert_eq!(
            explain_export_error("something odd", None),
            "something odd (check the endpoint, protocol and headers)"
        );
    }

    #[test]
    fn explains_a_missing_client_certificate() {
        let alert = explain_export_error("x", Some("received fatal alert: CertificateRequired"));
        assert!(
            alert.contains("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE"),
            "{alert}"
        );
        let pipe = explain_export_error(
            "transport error: stream closed because of a broken pipe",
            None,
        );
        assert!(pipe.contains("mutual TLS"), "{pipe}");
    }
}
