//! A collector that misbehaves on purpose, on a loopback port, for OTLP/HTTP (the
//! [`HttpServer`], HTTP/1.1, protobuf or JSON) and OTLP/gRPC (HTTP/2 through `h2`): it
//! refuses nothing but answers every export the way a [`Fault`] says (an error status, a
//! partial success, slowly, never, or by dropping the connection mid-request) and records
//! every request ([`Recorder`]), so a test can tell a retry from no retry.

use std::collections::HashMap;
use std::net::TcpListener;
use std::time::Duration;

use crate::http_server::{Answer, Body, HttpServer, Rule, When};
use crate::recording::{Recorder, Request};

/// What the partial success of [`Fault::PartialSuccess`] says.
pub const PARTIAL_SUCCESS_MESSAGE: &str = "2 items rejected by the test collector";

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

impl Fault {
    /// The same fault, as rules of the HTTP server.
    fn rules(self) -> Vec<Rule> {
        let refused = |status| {
            Answer::with_body(
                status,
                Body::Text("refused by the test collector".to_owned()),
            )
        };
        let always = |answer| vec![Rule::new(When::Always, answer)];
        match self {
            Fault::Status(status) => always(refused(status)),
            Fault::FailFirst { n, status } => {
                vec![Rule::new(When::FirstPerPath(n), Answer::status(status))]
            }
            Fault::PartialSuccess => always(Answer::with_body(
                200,
                Body::PartialSuccess {
                    rejected: 2,
                    message: PARTIAL_SUCCESS_MESSAGE.to_owned(),
                },
            )),
            Fault::Slow(delay) => always(Answer::ok_after(delay)),
            Fault::Silent => always(Answer::Silent),
            Fault::DropMidRequest => always(Answer::DropMidRequest),
        }
    }
}

/// Which OTLP transport the collector speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    Http,
    Grpc,
}

/// A running faulty collector; it stops serving when dropped.
#[derive(Debug)]
pub struct FaultyCollector {
    port: u16,
    wire: Wire,
    recorder: Recorder,
    /// Whichever serves: the HTTP server, or the gRPC server's runtime.
    _http: Option<HttpServer>,
    _grpc: Option<GrpcRuntime>,
}

/// One request's header names (lowercase) and values.
pub type Headers = Vec<(String, String)>;

impl FaultyCollector {
    pub fn start(wire: Wire, fault: Fault) -> FaultyCollector {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        FaultyCollector::start_on(wire, fault, listener)
    }

    /// A collector that checks a credential: a request whose header `name` is not `value`
    /// gets 401 (HTTP) or `UNAUTHENTICATED` (gRPC); the others succeed.
    pub fn requiring(wire: Wire, name: &str, value: &str) -> FaultyCollector {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let require = (name.to_ascii_lowercase(), value.to_owned());
        FaultyCollector::serve(wire, Fault::Slow(Duration::ZERO), listener, Some(require))
    }

    /// [`FaultyCollector::start`] on a listener of the caller's: a collector that comes back
    /// on the port where nothing listened.
    pub fn start_on(wire: Wire, fault: Fault, listener: TcpListener) -> FaultyCollector {
        FaultyCollector::serve(wire, fault, listener, None)
    }

    fn serve(
        wire: Wire,
        fault: Fault,
        listener: TcpListener,
        require: Option<(String, String)>,
    ) -> FaultyCollector {
        match wire {
            Wire::Http => {
                let mut rules = fault.rules();
                if let Some((name, value)) = &require {
                    let when = When::HeaderIsNot {
                        name: name.clone(),
                        value: value.clone(),
                    };
                    rules.insert(0, Rule::new(when, Answer::status(401)));
                }
                let server = HttpServer::start_on(rules, listener);
                FaultyCollector {
                    port: server.port(),
                    wire,
                    recorder: server.recorder().clone(),
                    _http: Some(server),
                    _grpc: None,
                }
            }
            Wire::Grpc => {
                let recorder = Recorder::default();
                let (port, runtime) = grpc::start(fault, recorder.clone(), listener, require);
                FaultyCollector {
                    port,
                    wire,
                    recorder,
                    _http: None,
                    _grpc: Some(GrpcRuntime(Some(runtime))),
                }
            }
        }
    }

    /// The endpoint to give `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Every request so far, in arrival order.
    pub fn recorded(&self) -> Vec<Request> {
        self.recorder.requests()
    }

    /// The headers (gRPC: metadata) of every request so far, in arrival order.
    pub fn headers(&self) -> Vec<Headers> {
        self.recorder
            .requests()
            .into_iter()
            .map(|r| r.headers)
            .collect()
    }

    /// Requests received per path (`/v1/logs`, `/opentelemetry.proto.collector.logs.v1.LogsService/Export`).
    pub fn requests(&self) -> HashMap<String, usize> {
        self.recorder.counts()
    }

    /// The bodies of every request received in full, with their paths, whether or not it
    /// was answered yet: what a backend got (gRPC: the length-prefixed messages).
    pub fn bodies(&self) -> Vec<(String, Vec<u8>)> {
        self.recorder
            .requests()
            .into_iter()
            .filter_map(|r| Some((r.path, r.body?)))
            .collect()
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

/// The gRPC server's runtime, shut down (its connections with it) on drop.
struct GrpcRuntime(Option<tokio::runtime::Runtime>);

impl std::fmt::Debug for GrpcRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GrpcRuntime")
    }
}

impl Drop for GrpcRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

mod grpc {
    //! OTLP/gRPC over `h2`: the fault's status in the trailers (or trailers-only), the
    //! partial success as the response message.

    use super::*;

    pub(super) fn start(
        fault: Fault,
        recorder: Recorder,
        listener: TcpListener,
        require: Option<(String, String)>,
    ) -> (u16, tokio::runtime::Runtime) {
        let port = listener.local_addr().expect("local address").port();
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("test-grpc-server")
            .enable_all()
            .build()
            .expect("a runtime for the gRPC test server");
        runtime.spawn(async move {
            let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                return;
            };
            while let Ok((socket, _)) = listener.accept().await {
                let _ = socket.set_nodelay(true);
                let recorder = recorder.clone();
                let require = require.clone();
                tokio::spawn(async move {
                    let Ok(mut connection) = h2::server::handshake(socket).await else {
                        return;
                    };
                    while let Some(Ok((request, respond))) = connection.accept().await {
                        let path = request.uri().path().to_owned();
                        // UNAUTHENTICATED without the credential.
                        let fault = match &require {
                            Some((name, value))
                                if request
                                    .headers()
                                    .get(name.as_str())
                                    .is_none_or(|v| v.as_bytes() != value.as_bytes()) =>
                            {
                                Fault::Status(16)
                            }
                            _ => fault,
                        };
                        let headers = request
                            .headers()
                            .iter()
                            .map(|(name, value)| {
                                let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                                (name.as_str().to_owned(), value)
                            })
                            .collect();
                        let arrival = recorder.arrived(request.method().as_str(), &path, headers);
                        if fault == Fault::DropMidRequest {
                            // Returning drops the connection: the TCP stream closes mid-request.
                            return;
                        }
                        let recorder = recorder.clone();
                        tokio::spawn(async move {
                            let body = read_body(request).await;
                            recorder.body(arrival, body);
                            answer(&path, respond, fault, arrival.earlier_on_path).await;
                        });
                    }
                });
            }
        });
        (port, runtime)
    }

    async fn read_body(request: http::Request<h2::RecvStream>) -> Vec<u8> {
        let mut body = request.into_body();
        let mut bytes = Vec::new();
        while let Some(Ok(chunk)) = body.data().await {
            let _ = body.flow_control().release_capacity(chunk.len());
            bytes.extend_from_slice(&chunk);
        }
        bytes
    }

    async fn answer(
        path: &str,
        mut respond: h2::server::SendResponse<bytes::Bytes>,
        fault: Fault,
        earlier: usize,
    ) {
        let framed = |message: Vec<u8>| {
            let mut framed = vec![0u8];
            let length = u32::try_from(message.len()).unwrap_or(u32::MAX);
            framed.extend_from_slice(&length.to_be_bytes());
            framed.extend_from_slice(&message);
            framed
        };
        let (code, message) = match fault {
            Fault::Status(code) => (code, None),
            Fault::FailFirst { n, status } if earlier < n => (status, None),
            Fault::PartialSuccess => {
                let message =
                    crate::http_server::partial_success(path, false, 2, PARTIAL_SUCCESS_MESSAGE);
                (0, Some(framed(message)))
            }
            Fault::Slow(delay) => {
                tokio::time::sleep(delay).await;
                (0, Some(framed(Vec::new())))
            }
            Fault::Silent => std::future::pending().await,
            _ => (0, Some(framed(Vec::new()))),
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
}
