//! Helpers shared by the test binaries: a minimal OTLP/HTTP (protobuf) receiver, so a
//! pipeline installed from a configuration can be read back as the collector receives it.

#![allow(dead_code)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex, PoisonError};

use han_telemetry::config::{Config, Source, Sources};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::Metric;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message as _;

/// The trace context Claude Code would pass to a hook.
pub(crate) const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
pub(crate) const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
pub(crate) const REMOTE_SPAN_ID: &str = "00f067aa0ba902b7";

/// Request bodies by path.
type Requests = Mutex<Vec<(String, Vec<u8>)>>;

/// Accepts OTLP/HTTP protobuf exports on a loopback port, answers each with success, and
/// keeps every request body by path (`/v1/traces`, `/v1/metrics`, ...).
pub(crate) struct Receiver {
    endpoint: String,
    requests: Arc<Requests>,
}

impl Receiver {
    pub(crate) fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let endpoint = format!(
            "http://{}",
            listener.local_addr().expect("the receiver's address")
        );
        let requests = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&requests);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let kept = Arc::clone(&kept);
                std::thread::spawn(move || serve(stream, &kept));
            }
        });
        Receiver { endpoint, requests }
    }

    pub(crate) fn endpoint(&self) -> &str {
        &self.endpoint
    }

    fn bodies(&self, path: &str) -> Vec<Vec<u8>> {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, body)| body.clone())
            .collect()
    }

    /// Every span received, in the order of the requests.
    pub(crate) fn spans(&self) -> Vec<Span> {
        self.bodies("/v1/traces")
            .iter()
            .flat_map(|body| {
                ExportTraceServiceRequest::decode(body.as_slice())
                    .expect("an OTLP trace request")
                    .resource_spans
            })
            .flat_map(|r| r.scope_spans)
            .flat_map(|s| s.spans)
            .collect()
    }

    /// The metrics of each request received, in order.
    pub(crate) fn metric_requests(&self) -> Vec<Vec<Metric>> {
        self.bodies("/v1/metrics")
            .iter()
            .map(|body| {
                ExportMetricsServiceRequest::decode(body.as_slice())
                    .expect("an OTLP metrics request")
                    .resource_metrics
                    .into_iter()
                    .flat_map(|r| r.scope_metrics)
                    .flat_map(|s| s.metrics)
                    .collect()
            })
            .collect()
    }
}

/// Serves HTTP/1.1 requests on one connection until the client closes it.
fn serve(stream: TcpStream, kept: &Requests) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let path = request_line
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_owned();
        let mut length = 0;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        kept.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((path, body));
        // An empty protobuf body is the export response with no partial success.
        let answer =
            "HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n";
        if writer.write_all(answer.as_bytes()).is_err() {
            return;
        }
    }
}

/// A configuration exporting `signals` (`metrics`, `logs`, `traces`) over OTLP/HTTP to
/// `endpoint` and nothing else, with the local store off, plus `extra` variables.
pub(crate) fn otlp_config(endpoint: &str, signals: &[&str], extra: &[(&str, &str)]) -> Config {
    let exporter = |signal: &str| {
        if signals.contains(&signal) {
            "otlp"
        } else {
            "none"
        }
    };
    let mut vars = vec![
        ("CLAUDE_CODE_ENABLE_TELEMETRY", "1"),
        ("OTEL_METRICS_EXPORTER", exporter("metrics")),
        ("OTEL_LOGS_EXPORTER", exporter("logs")),
        ("OTEL_TRACES_EXPORTER", exporter("traces")),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        ("HAN_METRICS_STORE", "off"),
        // Shutdown waits for the receiver's answers; this only bounds a broken run.
        ("HAN_TELEMETRY_EXIT_BUDGET_MS", "30000"),
    ];
    vars.extend_from_slice(extra);
    Config::from_sources(&Sources::new().with_layer(Source::ProcessEnv, vars))
}

/// Lowercase hex of an id's bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
