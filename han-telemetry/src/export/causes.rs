//! Why an export failed: the likely cause and the fix, found from the error's words and the
//! configured destination (a protocol pointed at the other protocol's port, say). The hook's
//! exit line, `doctor` and `replay` all explain failures with this one table.

use crate::config::Protocol;

/// A likely cause of an export error: words to look for in the error text (lowercase), what
/// the failure shows about the server, what probably happened, and what the operator should
/// check or change.
#[derive(Debug)]
pub(crate) struct Cause {
    clues: &'static [&'static str],
    shows: Shows,
    pub(crate) cause: &'static str,
    pub(crate) fix: &'static str,
    /// The collector could not be reached at all (refused, unresolvable, unroutable, no
    /// answer in time, TLS handshake failed): what closes the export gate
    /// ([`crate::gate`]). A collector that answered (an error status, a rejection, a protocol
    /// mismatch, a closed connection) is reachable.
    pub(crate) unreachable: bool,
}

/// What a failed export shows about the server at the other end, as far as a protocol sent
/// to the other protocol's port explains it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shows {
    /// Nothing accepts connections.
    Refused,
    /// The server closed the connection without answering: what an HTTP/1 server does to
    /// gRPC's HTTP/2 preface, and a gRPC server to an HTTP/1.1 request.
    Closed,
    /// A gRPC call was answered, but not by an OTLP gRPC service: in HTTP/1, or in HTTP/2
    /// without the service (`Unimplemented`, what an OTLP/HTTP server that also speaks HTTP/2
    /// answers).
    NotGrpc,
    /// An HTTP/1.1 request was answered in HTTP/2 only: a gRPC server.
    Http2Only,
    /// Nothing about the protocol.
    Other,
}

/// The OTLP ports of the specification: gRPC, and HTTP.
const GRPC_PORT: u16 = 4317;
const HTTP_PORT: u16 = 4318;

/// What `probe` appends to an error when a gRPC export failed and the port, sent an HTTP/2
/// connection preface, answered in HTTP/1 (a clue of [`CAUSES`]).
#[cfg(any(test, feature = "tools"))]
pub(crate) const ANSWERS_HTTP1: &str = "the port answers an HTTP/2 connection preface in HTTP/1";
/// What `probe` appends to an error when an HTTP export failed and the port, sent an HTTP/1.1
/// request, answered with HTTP/2 frames (a clue of [`CAUSES`]).
#[cfg(any(test, feature = "tools"))]
pub(crate) const ANSWERS_HTTP2_ONLY: &str =
    "the port answers an HTTP/1.1 request in HTTP/2 only, as gRPC servers do";

/// Where an export went, as far as the likely cause of its failure depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Destination {
    pub(crate) protocol: Protocol,
    /// The endpoint's explicit port; `None` when it has none (80 or 443 by its scheme).
    pub(crate) port: Option<u16>,
}

impl Destination {
    pub(crate) fn new(protocol: Protocol, endpoint: &str) -> Self {
        Destination {
            protocol,
            port: endpoint
                .trim()
                .parse::<http::Uri>()
                .ok()
                .and_then(|uri| uri.port_u16()),
        }
    }
}

/// The usual mistake, named: gRPC (the default protocol) sent to 4318, the OTLP/HTTP port, or
/// OTLP/HTTP sent to 4317, the gRPC port, when the failure is what that mistake produces
/// (`shows`). `None` when the port is another one, or the failure says nothing about the
/// protocol (a timeout, a TLS or credentials error), where the general cause is the right one.
pub(crate) fn port_mismatch(
    protocol: Protocol,
    port: Option<u16>,
    shows: Shows,
) -> Option<&'static Cause> {
    match (protocol.is_http(), port?, shows) {
        (false, HTTP_PORT, Shows::Refused) => Some(&GRPC_AT_HTTP_PORT_REFUSED),
        (false, HTTP_PORT, Shows::Closed | Shows::NotGrpc) => Some(&GRPC_AT_HTTP_PORT),
        (true, GRPC_PORT, Shows::Refused) => Some(&HTTP_AT_GRPC_PORT_REFUSED),
        (true, GRPC_PORT, Shows::Closed | Shows::Http2Only) => Some(&HTTP_AT_GRPC_PORT),
        _ => None,
    }
}

static GRPC_AT_HTTP_PORT: Cause = Cause {
    clues: &[],
    shows: Shows::NotGrpc,
    cause: "4318 is the OTLP/HTTP port, and the protocol is gRPC (the default)",
    fix: "set OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf, or use port 4317 for gRPC",
    unreachable: false,
};
static GRPC_AT_HTTP_PORT_REFUSED: Cause = Cause {
    clues: &[],
    shows: Shows::Refused,
    cause: "nothing accepts connections there, and 4318 is the OTLP/HTTP port while the \
            protocol is gRPC (the default)",
    fix: "use port 4317 for gRPC, or set OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf for a \
          collector's OTLP/HTTP port; and check that the collector is running",
    unreachable: true,
};
static HTTP_AT_GRPC_PORT: Cause = Cause {
    clues: &[],
    shows: Shows::Http2Only,
    cause: "4317 is the OTLP/gRPC port, and the protocol is OTLP/HTTP",
    fix: "set OTEL_EXPORTER_OTLP_PROTOCOL=grpc, or use port 4318 for OTLP/HTTP",
    unreachable: false,
};
static HTTP_AT_GRPC_PORT_REFUSED: Cause = Cause {
    clues: &[],
    shows: Shows::Refused,
    cause: "nothing accepts connections there, and 4317 is the OTLP/gRPC port while the \
            protocol is OTLP/HTTP",
    fix: "use port 4318 for OTLP/HTTP, or set OTEL_EXPORTER_OTLP_PROTOCOL=grpc for a \
          collector's gRPC port; and check that the collector is running",
    unreachable: true,
};

/// Likely causes of an export error, first match wins, so specific clues come before general
/// ones (an untrusted certificate before "TLS", a refused connection before "tcp connect").
/// Clues are lowercase and match the messages of tonic, hyper, reqwest, rustls and the OTLP
/// exporters; HTTP statuses are matched as `status code: NNN` so that a port number such as
/// 40123 never reads as a status.
const CAUSES: &[Cause] = &[
    Cause {
        clues: &["connection refused"],
        shows: Shows::Refused,
        cause: "nothing accepts connections there",
        fix: "is the collector running, and is the port right (4317 gRPC, 4318 HTTP)?",
        unreachable: true,
    },
    Cause {
        clues: &["dns", "failed to lookup", "name or service not known"],
        shows: Shows::Other,
        cause: "the host name does not resolve",
        fix: "check the endpoint's host",
        unreachable: true,
    },
    Cause {
        clues: &[
            "no route to host",
            "network is unreachable",
            "host is unreachable",
        ],
        shows: Shows::Other,
        cause: "there is no network route to the host",
        fix: "check the endpoint's host, and the network, VPN or firewall between here and there",
        unreachable: true,
    },
    Cause {
        clues: &["certificaterequired", "certificate required"],
        shows: Shows::Other,
        cause: "the server requires a client certificate (mutual TLS)",
        fix: "set OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and OTEL_EXPORTER_OTLP_CLIENT_KEY",
        unreachable: true,
    },
    Cause {
        clues: &["invalidcontenttype", "corrupt message"],
        shows: Shows::Other,
        cause: "the server does not speak TLS there",
        fix: "use an http:// endpoint for a plaintext port, or the collector's TLS port",
        unreachable: true,
    },
    Cause {
        clues: &[
            "unknownissuer",
            "unknown issuer",
            "caasendentity",
            "self-signed",
            "self signed",
        ],
        shows: Shows::Other,
        cause: "the server's certificate is not issued by a CA this machine trusts",
        fix: "set OTEL_EXPORTER_OTLP_CERTIFICATE to the PEM file of the CA that issued it",
        unreachable: true,
    },
    Cause {
        clues: &["notvalidforname", "not valid for name"],
        shows: Shows::Other,
        cause: "the server's certificate is not issued for the endpoint's host name",
        fix: "use the host name the certificate names in the endpoint",
        unreachable: true,
    },
    Cause {
        clues: &[
            "certificate expired",
            "peer certificate: expired",
            "notvalidyet",
            "not valid yet",
        ],
        shows: Shows::Other,
        cause: "the server's certificate has expired or is not valid yet",
        fix: "renew the collector's certificate, or check this machine's clock",
        unreachable: true,
    },
    Cause {
        clues: &["certificate", "tls", "handshake"],
        shows: Shows::Other,
        cause: "TLS failed",
        fix: "for a private CA set OTEL_EXPORTER_OTLP_CERTIFICATE to its PEM file",
        unreachable: true,
    },
    Cause {
        clues: &[
            "unimplemented",
            "frame with invalid size",
            ANSWERS_HTTP1_CLUE,
        ],
        shows: Shows::NotGrpc,
        cause: "the server there does not serve OTLP over gRPC (it may be an OTLP/HTTP port such as 4318)",
        fix: "use the collector's gRPC port (usually 4317), or set OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf for an HTTP port",
        unreachable: false,
    },
    Cause {
        clues: &[
            "unexpected message from connection",
            "http2 preface",
            "invalid http version",
            ANSWERS_HTTP2_ONLY_CLUE,
        ],
        shows: Shows::Http2Only,
        cause: "the server there speaks gRPC (HTTP/2), not OTLP/HTTP (it may be a gRPC port such as 4317)",
        fix: "use the collector's HTTP port (usually 4318), or set OTEL_EXPORTER_OTLP_PROTOCOL=grpc for a gRPC port",
        unreachable: false,
    },
    Cause {
        clues: &[
            "broken pipe",
            "connection reset",
            "connection closed before message completed",
        ],
        shows: Shows::Closed,
        cause: "the server closed the connection",
        fix: "if it requires a client certificate (mutual TLS), set OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and OTEL_EXPORTER_OTLP_CLIENT_KEY; if the port uses TLS, use https://; otherwise check the protocol",
        unreachable: false,
    },
    Cause {
        clues: &[
            "status code: 401",
            "status code: 403",
            "unauthenticated",
            "permissiondenied",
            "permission denied",
        ],
        shows: Shows::Other,
        cause: CREDENTIALS_REFUSED,
        fix: "check OTEL_EXPORTER_OTLP_HEADERS (and what otelHeadersHelper prints, which is run \
              again by the next process)",
        unreachable: false,
    },
    Cause {
        clues: &["status code: 404", "status code: 405"],
        shows: Shows::Other,
        cause: "the endpoint does not accept OTLP there",
        fix: "check the path and OTEL_EXPORTER_OTLP_PROTOCOL (OTEL_EXPORTER_OTLP_ENDPOINT gets /v1/<signal> appended for HTTP; OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT is used as is)",
        unreachable: false,
    },
    Cause {
        clues: &["status code: 415", "status code: 400", "invalidargument"],
        shows: Shows::Other,
        cause: "the collector cannot decode what was sent",
        fix: "check OTEL_EXPORTER_OTLP_PROTOCOL (http/protobuf or http/json) and OTEL_EXPORTER_OTLP_COMPRESSION against what the collector accepts",
        unreachable: false,
    },
    Cause {
        clues: &[
            "status code: 429",
            "status code: 503",
            "resourceexhausted",
            "grpc code: unavailable",
        ],
        shows: Shows::Other,
        cause: "the collector is overloaded or limiting the rate",
        fix: "retry later; check the collector's limits and logs",
        unreachable: false,
    },
    Cause {
        clues: &["timed out", "deadline", "timeout"],
        shows: Shows::Other,
        cause: "no answer in time",
        fix: "check the endpoint or raise OTEL_EXPORTER_OTLP_TIMEOUT",
        unreachable: true,
    },
    Cause {
        clues: &["tcp connect error"],
        shows: Shows::Other,
        cause: "the connection could not be opened",
        fix: "is the collector running, and is the port right (4317 gRPC, 4318 HTTP)?",
        unreachable: true,
    },
];

// The probe's findings, as clues (lowercase).
const ANSWERS_HTTP1_CLUE: &str = "answers an http/2 connection preface in http/1";
const ANSWERS_HTTP2_ONLY_CLUE: &str = "answers an http/1.1 request in http/2 only";

/// The cause of a 401/403 (`UNAUTHENTICATED`, `PERMISSION_DENIED`): the collector was
/// reached and refused the credentials, which marks a headers helper's result stale.
pub(crate) const CREDENTIALS_REFUSED: &str = "the collector rejected the credentials";

impl Cause {
    /// Whether this is the collector refusing the credentials.
    pub(crate) fn refuses_credentials(&self) -> bool {
        self.cause == CREDENTIALS_REFUSED
    }
}

/// What to say when no clue matches.
const UNKNOWN_FIX: &str = "check the endpoint, protocol and headers";

/// An export error with its likely cause and fix.
#[derive(Debug)]
pub(crate) struct Explained {
    /// The error and the transport's detail, as one line.
    pub(crate) text: String,
    /// The matching entry of [`CAUSES`], if any.
    pub(crate) known: Option<&'static Cause>,
    /// What probably happened (for `doctor` and `replay`, which show it apart).
    #[cfg_attr(not(feature = "tools"), allow(dead_code))]
    pub(crate) cause: &'static str,
    /// What to check or change.
    #[cfg_attr(not(feature = "tools"), allow(dead_code))]
    pub(crate) fix: &'static str,
}

/// Finds the likely cause of an export error. `detail` is the transport's own description
/// when known (the OTLP HTTP exporter reduces network errors to "network error"; our client
/// keeps the cause). `to`, where the export went, names the usual mistake when the port is
/// the other protocol's ([`port_mismatch`]).
pub(crate) fn classify_export_error(
    error: &str,
    detail: Option<&str>,
    to: Option<Destination>,
) -> Explained {
    let text = match detail {
        Some(d) if !d.is_empty() => format!("{error}: {d}"),
        _ => error.to_owned(),
    };
    let text = without_repeats(&text);
    let lower = text.to_ascii_lowercase();
    let mut known = CAUSES
        .iter()
        .find(|c| c.clues.iter().any(|clue| lower.contains(clue)));
    if let Some(to) = to {
        let shows = known.map_or(Shows::Other, |c| c.shows);
        known = port_mismatch(to.protocol, to.port, shows).or(known);
    }
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
    /// What the failure shows about the server.
    #[cfg(any(test, feature = "tools"))]
    pub(crate) fn shows(&self) -> Shows {
        self.known.map_or(Shows::Other, |c| c.shows)
    }

    /// Whether what the port speaks could tell more: the server closed the connection, or
    /// the error is not recognised.
    #[cfg(any(test, feature = "tools"))]
    pub(crate) fn protocol_unclear(&self) -> bool {
        self.known.is_none() || self.shows() == Shows::Closed
    }

    /// `<error>: <detail> (<cause>; <fix>)`, one line.
    pub(crate) fn line(&self) -> String {
        match self.known {
            Some(c) => format!("{} ({}; {})", self.text, c.cause, c.fix),
            None => format!("{} ({UNKNOWN_FIX})", self.text),
        }
    }
}

/// Likely cause and fix of an exporter that could not be built (the messages come from
/// `export`: TLS files, header names and values, the endpoint).
pub(crate) fn setup_cause(error: &str) -> (&'static str, &'static str) {
    let lower = error.to_ascii_lowercase();
    if lower.contains("cannot read the") {
        (
            "a TLS file named in the configuration cannot be read",
            "check the paths in OTEL_EXPORTER_OTLP_CERTIFICATE, OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE \
             and OTEL_EXPORTER_OTLP_CLIENT_KEY",
        )
    } else if lower.contains("pem") || lower.contains("identity") || lower.contains("tls") {
        (
            "a TLS file does not hold what it should",
            "OTEL_EXPORTER_OTLP_CERTIFICATE must name a PEM CA certificate, \
             OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE a PEM certificate and \
             OTEL_EXPORTER_OTLP_CLIENT_KEY its PEM private key",
        )
    } else if lower.contains("header") {
        (
            "a header cannot be sent with this protocol",
            "check OTEL_EXPORTER_OTLP_HEADERS (gRPC needs lowercase ASCII names and printable \
             ASCII values)",
        )
    } else if lower.contains("endpoint") {
        (
            "the endpoint is not usable with this protocol",
            "check OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_EXPORTER_OTLP_PROTOCOL",
        )
    } else {
        (
            "the exporter could not be set up",
            "see the error; check the endpoint, protocol, headers and TLS files",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn explain_export_error(error: &str, detail: Option<&str>) -> String {
        classify_export_error(error, detail, None).line()
    }

    #[test]
    fn a_layer_repeating_its_message_is_said_once() {
        let e = classify_export_error(
            "transport error: tcp connect error: tcp connect error: Connection refused (os error 111)",
            None,
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
            None,
        );
        assert!(grpc_to_http.fix.contains("4317"), "{grpc_to_http:?}");
        let http_to_grpc = classify_export_error(
            "HTTP export failed: network error",
            Some("client error (SendRequest): received unexpected message from connection"),
            None,
        );
        assert!(http_to_grpc.fix.contains("4318"), "{http_to_grpc:?}");
        let https_to_plain = classify_export_error(
            "x",
            Some("received corrupt message of type InvalidContentType"),
            None,
        );
        assert!(https_to_plain.fix.contains("http://"), "{https_to_plain:?}");
    }

    #[test]
    fn explains_untrusted_certificates() {
        let e = classify_export_error("x", Some("invalid peer certificate: UnknownIssuer"), None);
        assert!(e.cause.contains("not issued by a CA"), "{e:?}");
        assert!(e.fix.contains("OTEL_EXPORTER_OTLP_CERTIFICATE"), "{e:?}");
    }

    #[test]
    fn unknown_errors_get_the_general_advice() {
        let e = classify_export_error("something odd", None, None);
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

    // Transport errors as they come, from the loopback listeners of the probe's and doctor's
    // tests and from rotel.
    const GRPC_UNIMPLEMENTED: &str =
        "TonicMetricsClient export failed with gRPC code: Unimplemented";
    const GRPC_BROKEN_PIPE: &str = "TonicMetricsClient export failed with gRPC code: Unknown: \
        transport error: connection error: stream closed because of a broken pipe";
    const GRPC_HTTP1_ANSWER: &str = "TonicMetricsClient export failed with gRPC code: Unknown: \
        transport error: http2 error: connection error detected: frame with invalid size";
    const GRPC_REFUSED: &str = "TonicMetricsClient export failed with gRPC code: Unavailable: \
        transport error: tcp connect error: Connection refused (os error 111)";
    const HTTP_FAILED: &str = "HTTP export failed: network error";
    const HTTP_H2_ANSWER: &str = "error sending request for url (http://127.0.0.1:4317/v1/logs): \
        client error (SendRequest): received unexpected message from connection";
    const HTTP_CLOSED: &str = "error sending request for url (http://127.0.0.1:4317/v1/logs): \
        client error (SendRequest): connection closed before message completed";
    const HTTP_REFUSED: &str = "error sending request for url (http://127.0.0.1:4317/v1/logs): \
        client error (Connect): tcp connect error: Connection refused (os error 111)";

    const HTTP_PROTOCOLS: [Protocol; 2] = [Protocol::HttpProtobuf, Protocol::HttpJson];

    #[test]
    fn grpc_at_the_http_port_is_named_when_the_failure_is_what_that_mistake_gives() {
        for shows in [Shows::Closed, Shows::NotGrpc] {
            let c = port_mismatch(Protocol::Grpc, Some(4318), shows).expect("named");
            assert!(std::ptr::eq(c, &GRPC_AT_HTTP_PORT), "{shows:?}: {c:?}");
        }
        let refused = port_mismatch(Protocol::Grpc, Some(4318), Shows::Refused).expect("named");
        assert!(
            std::ptr::eq(refused, &GRPC_AT_HTTP_PORT_REFUSED),
            "{refused:?}"
        );
        // What the mistake never gives, and the other ports.
        for shows in [Shows::Http2Only, Shows::Other] {
            assert!(port_mismatch(Protocol::Grpc, Some(4318), shows).is_none());
        }
        for port in [Some(4317), Some(14318), Some(43180), Some(80), None] {
            for shows in [Shows::Refused, Shows::Closed, Shows::NotGrpc, Shows::Other] {
                assert!(
                    port_mismatch(Protocol::Grpc, port, shows).is_none(),
                    "{port:?} {shows:?}"
                );
            }
        }
    }

    #[test]
    fn http_at_the_grpc_port_is_named_when_the_failure_is_what_that_mistake_gives() {
        for protocol in HTTP_PROTOCOLS {
            for shows in [Shows::Closed, Shows::Http2Only] {
                let c = port_mismatch(protocol, Some(4317), shows).expect("named");
                assert!(std::ptr::eq(c, &HTTP_AT_GRPC_PORT), "{protocol} {shows:?}");
            }
            let refused = port_mismatch(protocol, Some(4317), Shows::Refused).expect("named");
            assert!(
                std::ptr::eq(refused, &HTTP_AT_GRPC_PORT_REFUSED),
                "{protocol}"
            );
            for shows in [Shows::NotGrpc, Shows::Other] {
                assert!(port_mismatch(protocol, Some(4317), shows).is_none());
            }
            for port in [Some(4318), Some(14317), Some(443), None] {
                for shows in [
                    Shows::Refused,
                    Shows::Closed,
                    Shows::Http2Only,
                    Shows::Other,
                ] {
                    assert!(
                        port_mismatch(protocol, port, shows).is_none(),
                        "{protocol} {port:?} {shows:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_port_is_the_endpoints_explicit_one() {
        for (endpoint, port) in [
            ("http://localhost:4318", Some(4318)),
            ("http://localhost:4318/v1/metrics", Some(4318)),
            (" http://collector:4317 ", Some(4317)),
            ("https://user:pw@otel.example.com:4317/base?k=v", Some(4317)),
            ("http://[::1]:4318/v1/logs", Some(4318)),
            ("https://api.honeycomb.io", None),
            ("http://localhost/v1/logs", None),
            ("not a url", None),
            ("", None),
        ] {
            let to = Destination::new(Protocol::Grpc, endpoint);
            assert_eq!(to.port, port, "{endpoint:?}");
        }
    }

    #[test]
    fn the_line_says_which_port_it_is_and_what_to_set() {
        let to = Destination::new(Protocol::Grpc, "http://localhost:4318");
        for error in [GRPC_UNIMPLEMENTED, GRPC_BROKEN_PIPE, GRPC_HTTP1_ANSWER] {
            let line = classify_export_error(error, None, Some(to)).line();
            assert!(
                line.ends_with(
                    "(4318 is the OTLP/HTTP port, and the protocol is gRPC (the default); \
                     set OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf, or use port 4317 for gRPC)"
                ),
                "{line}"
            );
        }
        let refused = classify_export_error(GRPC_REFUSED, None, Some(to));
        assert!(
            refused.cause.contains("4318 is the OTLP/HTTP port"),
            "{refused:?}"
        );
        assert!(
            refused.fix.starts_with("use port 4317 for gRPC"),
            "{refused:?}"
        );
        for protocol in HTTP_PROTOCOLS {
            let to = Destination::new(protocol, "http://127.0.0.1:4317/v1/logs");
            for detail in [HTTP_H2_ANSWER, HTTP_CLOSED] {
                let line = classify_export_error(HTTP_FAILED, Some(detail), Some(to)).line();
                assert!(
                    line.ends_with(
                        "(4317 is the OTLP/gRPC port, and the protocol is OTLP/HTTP; \
                         set OTEL_EXPORTER_OTLP_PROTOCOL=grpc, or use port 4318 for OTLP/HTTP)"
                    ),
                    "{protocol}: {line}"
                );
            }
            let refused = classify_export_error(HTTP_FAILED, Some(HTTP_REFUSED), Some(to));
            assert!(
                refused.fix.starts_with("use port 4318 for OTLP/HTTP"),
                "{refused:?}"
            );
        }
    }

    #[test]
    fn elsewhere_the_general_cause_stays() {
        // The right protocol at the standard port, and the mistake's failures at another port.
        let grpc = Destination::new(Protocol::Grpc, "http://localhost:4317");
        let refused = classify_export_error(GRPC_REFUSED, None, Some(grpc));
        assert_eq!(refused.cause, "nothing accepts connections there");
        let other = Destination::new(Protocol::Grpc, "http://localhost:24318");
        let e = classify_export_error(GRPC_UNIMPLEMENTED, None, Some(other));
        assert!(e.cause.contains("does not serve OTLP over gRPC"), "{e:?}");
        // A timeout says nothing about the protocol, whatever the port.
        let http_port = Destination::new(Protocol::Grpc, "http://localhost:4318");
        let e = classify_export_error("operation timed out", None, Some(http_port));
        assert_eq!(e.cause, "no answer in time");
    }

    #[test]
    fn what_the_probe_finds_out_is_the_mismatch() {
        assert!(
            ANSWERS_HTTP1
                .to_ascii_lowercase()
                .contains(ANSWERS_HTTP1_CLUE)
        );
        assert!(
            ANSWERS_HTTP2_ONLY
                .to_ascii_lowercase()
                .contains(ANSWERS_HTTP2_ONLY_CLUE)
        );
        // Without the finding, a closed connection is only that.
        let closed = classify_export_error(GRPC_BROKEN_PIPE, None, None);
        assert_eq!(closed.shows(), Shows::Closed);
        assert!(closed.protocol_unclear());
        let found =
            classify_export_error(&format!("{GRPC_BROKEN_PIPE}; {ANSWERS_HTTP1}"), None, None);
        assert_eq!(found.shows(), Shows::NotGrpc, "{found:?}");
        assert!(found.fix.contains("4317"), "{found:?}");
        assert!(!found.protocol_unclear());
        let found = classify_export_error(
            HTTP_FAILED,
            Some(&format!("{HTTP_CLOSED}; {ANSWERS_HTTP2_ONLY}")),
            None,
        );
        assert_eq!(found.shows(), Shows::Http2Only, "{found:?}");
        assert!(found.fix.contains("4318"), "{found:?}");
    }
}
