//! Test support: a collector that misbehaves on purpose, on a loopback port, for OTLP/HTTP
//! (HTTP/1.1, protobuf or JSON) and OTLP/gRPC (HTTP/2, through the `h2` crate): it refuses
//! nothing but answers every export the way a [`Fault`] says (an error status, a partial
//! success, slowly, never, or by dropping the connection mid-request) and counts the
//! requests it got per path, so a test can tell a retry from no retry.
// Each integration test binary uses only part of it.
#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

/// How the collector answers an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Every export gets this HTTP status (HTTP) or gRPC status code (gRPC).
    Status(u16),
    /// The first `n` exports of each signal get `status`, later ones succeed.
    FailFirst { n: usize, status: u16 },
    /// Success, with a `partial_success` rejecting 2 items.
    PartialSuccess,
    /// Success, after this long.
    Slow(Duration),
    /// Accepts the connection and reads, but never answers.
    Silent,
    /// Reads the start of the request, then closes the connection.
    DropMidRequest,
}

/// Which OTLP transport the collector speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    Http,
    Grpc,
}

/// A running faulty collector; it stops serving when dropped (its threads end with the
/// test process).
#[derive(Debug)]
pub struct FaultyCollector {
    port: u16,
    wire: Wire,
    requests: Arc<Mutex<HashMap<String, usize>>>,
    headers: Arc<Mutex<Vec<Headers>>>,
    bodies: Arc<Bodies>,
}

/// One request's header names (lowercase) and values.
pub type Headers = Vec<(String, String)>;

/// Request bodies received, with their paths.
type Bodies = Mutex<Vec<(String, Vec<u8>)>>;

impl FaultyCollector {
    pub fn start(wire: Wire, fault: Fault) -> FaultyCollector {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = listener.local_addr().expect("local address").port();
        let requests = Arc::new(Mutex::new(HashMap::new()));
        let headers = Arc::new(Mutex::new(Vec::new()));
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let seen = Seen {
            counts: Arc::clone(&requests),
            headers: Arc::clone(&headers),
            bodies: Arc::clone(&bodies),
        };
        match wire {
            Wire::Http => {
                thread::spawn(move || {
                    for stream in listener.incoming().flatten() {
                        let seen = seen.clone();
                        thread::spawn(move || serve_http(stream, fault, &seen));
                    }
                });
            }
            Wire::Grpc => {
                listener
                    .set_nonblocking(true)
                    .expect("non-blocking listener");
                thread::spawn(move || serve_grpc(listener, fault, seen));
            }
        }
        FaultyCollector {
            port,
            wire,
            requests,
            headers,
            bodies,
        }
    }

    /// The headers (gRPC: metadata) of every request so far, in arrival order.
    pub fn headers(&self) -> Vec<Headers> {
        self.headers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The endpoint to give `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Requests received per path (`/v1/logs`, `/opentelemetry.proto.collector.logs.v1.LogsService/Export`).
    pub fn requests(&self) -> HashMap<String, usize> {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The bodies of every OTLP/HTTP request received in full, with their paths, whether
    /// or not it was answered yet: what a backend got.
    pub fn bodies(&self) -> Vec<(String, Vec<u8>)> {
        self.bodies
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Requests received for one signal (`metrics`, `logs` or `traces`).
    pub fn requests_for(&self, signal: &str) -> usize {
        let needle = match (self.wire, signal) {
            (Wire::Http, s) => format!("/v1/{s}"),
            (Wire::Grpc, "metrics") => "MetricsService".to_owned(),
            (Wire::Grpc, "logs") => "LogsService".to_owned(),
            (Wire::Grpc, _) => "TraceService".to_owned(),
        };
        self.requests()
            .iter()
            .filter(|(path, _)| path.contains(&needle))
            .map(|(_, n)| n)
            .sum()
    }
}

/// What the collector keeps of the requests it gets.
#[derive(Debug, Clone)]
struct Seen {
    counts: Arc<Mutex<HashMap<String, usize>>>,
    headers: Arc<Mutex<Vec<Headers>>>,
    bodies: Arc<Bodies>,
}

impl Seen {
    /// Notes a request to `path` with `headers` and returns how many came before it.
    fn count(&self, path: &str, headers: Headers) -> usize {
        self.headers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(headers);
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let n = counts.entry(path.to_owned()).or_default();
        *n += 1;
        *n - 1
    }
}

/// `ExportXServiceResponse { partial_success { rejected_* = 2, error_message } }`, encoded
/// by hand from the OTLP protos: field 1 (message) holding field 1 (int64) and field 2
/// (string). The same bytes for all three signals.
fn partial_success_protobuf() -> Vec<u8> {
    let message = b"2 items rejected by the test collector";
    let mut inner = vec![0x08, 0x02, 0x12, message.len() as u8];
    inner.extend_from_slice(message);
    let mut out = vec![0x0a, inner.len() as u8];
    out.extend_from_slice(&inner);
    out
}

fn partial_success_json(path: &str) -> String {
    let field = if path.ends_with("metrics") {
        "rejectedDataPoints"
    } else if path.ends_with("logs") {
        "rejectedLogRecords"
    } else {
        "rejectedSpans"
    };
    format!(
        r#"{{"partialSuccess":{{"{field}":"2","errorMessage":"2 items rejected by the test collector"}}}}"#
    )
}

// ---------------------------------------------------------------------------------------
// OTLP/HTTP

fn serve_http(stream: TcpStream, fault: Fault, seen: &Seen) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    // Keep-alive: one connection may carry several exports.
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
        let (mut length, mut json) = (0usize, false);
        let mut headers = Headers::new();
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            let lower = header.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
            if lower.starts_with("content-type:") && lower.contains("json") {
                json = true;
            }
            if let Some((name, value)) = header.split_once(':') {
                headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
            }
        }
        let before = seen.count(&path, headers);
        if fault == Fault::DropMidRequest {
            let mut some = vec![0u8; length.min(16)];
            let _ = reader.read_exact(&mut some);
            return;
        }
        let mut body = vec![0u8; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        seen.bodies
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((path.clone(), body.clone()));
        let (status, answer): (u16, Vec<u8>) = match fault {
            Fault::Status(status) => (status, b"refused by the test collector".to_vec()),
            Fault::FailFirst { n, status } if before < n => (status, Vec::new()),
            Fault::PartialSuccess if json => (200, partial_success_json(&path).into_bytes()),
            Fault::PartialSuccess => (200, partial_success_protobuf()),
            Fault::Slow(delay) => {
                thread::sleep(delay);
                (200, Vec::new())
            }
            Fault::Silent => loop {
                thread::sleep(Duration::from_secs(3600));
            },
            _ => (200, Vec::new()),
        };
        let content_type = if json {
            "application/json"
        } else {
            "application/x-protobuf"
        };
        let head = format!(
            "HTTP/1.1 {status} Test\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\r\n",
            answer.len()
        );
        if writer.write_all(head.as_bytes()).is_err() || writer.write_all(&answer).is_err() {
            return;
        }
    }
}

// ---------------------------------------------------------------------------------------
// OTLP/gRPC

fn serve_grpc(listener: TcpListener, fault: Fault, seen: Seen) {
    let Ok(runtime) = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
    else {
        return;
    };
    runtime.block_on(async move {
        let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
            return;
        };
        while let Ok((socket, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let Ok(mut connection) = h2::server::handshake(socket).await else {
                    return;
                };
                while let Some(Ok((request, respond))) = connection.accept().await {
                    let path = request.uri().path().to_owned();
                    let headers = request
                        .headers()
                        .iter()
                        .map(|(name, value)| {
                            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                            (name.as_str().to_owned(), value)
                        })
                        .collect();
                    let before = seen.count(&path, headers);
                    if fault == Fault::DropMidRequest {
                        // Returning drops the connection: the TCP stream closes mid-request.
                        return;
                    }
                    tokio::spawn(answer_grpc(request, respond, fault, before));
                }
            });
        }
    });
}

async fn answer_grpc(
    request: http::Request<h2::RecvStream>,
    mut respond: h2::server::SendResponse<bytes::Bytes>,
    fault: Fault,
    before: usize,
) {
    let mut body = request.into_body();
    while let Some(Ok(chunk)) = body.data().await {
        let _ = body.flow_control().release_capacity(chunk.len());
    }
    let ok_with = |message: Vec<u8>| {
        let mut framed = vec![0u8];
        framed.extend_from_slice(&(message.len() as u32).to_be_bytes());
        framed.extend_from_slice(&message);
        framed
    };
    let (code, message) = match fault {
        Fault::Status(code) => (code, None),
        Fault::FailFirst { n, status } if before < n => (status, None),
        Fault::PartialSuccess => (0, Some(ok_with(partial_success_protobuf()))),
        Fault::Slow(delay) => {
            tokio::time::sleep(delay).await;
            (0, Some(ok_with(Vec::new())))
        }
        Fault::Silent => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return;
        }
        _ => (0, Some(ok_with(Vec::new()))),
    };
    let head = http::Response::builder()
        .status(200)
        .header("content-type", "application/grpc");
    let Some(message) = message else {
        // Trailers-only: the status in the headers, no body.
        let Ok(response) = head.header("grpc-status", code.to_string()).body(()) else {
            return;
        };
        let _ = respond.send_response(response, true);
        return;
    };
    let Ok(response) = head.body(()) else { return };
    let Ok(mut stream) = respond.send_response(response, false) else {
        return;
    };
    let _ = stream.send_data(message.into(), false);
    let mut trailers = http::HeaderMap::new();
    trailers.insert("grpc-status", http::HeaderValue::from(code));
    let _ = stream.send_trailers(trailers);
}
