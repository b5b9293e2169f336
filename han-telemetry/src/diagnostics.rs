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

/// Likely causes of an export error, first match wins: words to look for in the error
/// text (lowercase), and what to tell the operator.
const CAUSES: &[(&[&str], &str)] = &[
    (
        &["connection refused", "tcp connect error"],
        "nothing accepts connections there; is the collector running, and is the port right (4317 gRPC, 4318 HTTP)?",
    ),
    (
        &["dns", "failed to lookup", "name or service not known"],
        "the host name does not resolve; check the endpoint's host",
    ),
    (
        &["certificaterequired", "certificate required"],
        "the server requires a client certificate (mutual TLS); set OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and OTEL_EXPORTER_OTLP_CLIENT_KEY",
    ),
    (
        &["certificate", "tls", "handshake"],
        "TLS failed; for a private CA set OTEL_EXPORTER_OTLP_CERTIFICATE to its PEM file",
    ),
    (
        &["broken pipe", "connection reset"],
        "the server closed the connection; if it requires a client certificate (mutual TLS), set OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and OTEL_EXPORTER_OTLP_CLIENT_KEY, otherwise check the protocol",
    ),
    (
        &[
            "401",
            "403",
            "unauthenticated",
            "permissiondenied",
            "permission denied",
        ],
        "the collector rejected the credentials; check OTEL_EXPORTER_OTLP_HEADERS",
    ),
    (
        &["404", "unimplemented"],
        "the endpoint does not accept OTLP there; check the path and OTEL_EXPORTER_OTLP_PROTOCOL",
    ),
    (
        &["timed out", "deadline", "timeout"],
        "no answer in time; check the endpoint or raise OTEL_EXPORTER_OTLP_TIMEOUT",
    ),
];

/// Explains an export error in the terms an operator acts on. `detail` is the transport's
/// own description when known (the OTLP HTTP exporter reduces network errors to "network
/// error"; our client keeps the cause).
pub(crate) fn explain_export_error(error: &str, detail: Option<&str>) -> String {
    let text = match detail {
        Some(d) if !d.is_empty() => format!("{error}: {d}"),
        _ => error.to_owned(),
    };
    let lower = text.to_ascii_lowercase();
    let hint = CAUSES
        .iter()
        .find(|(clues, _)| clues.iter().any(|c| lower.contains(c)))
        .map_or("check the endpoint, protocol and headers", |(_, hint)| hint);
    format!("{text} ({hint})")
}

#[cfg(test)]
mod tests {
    use super::*;

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
