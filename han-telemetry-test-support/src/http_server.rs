//! One configurable HTTP/1.1 server on a loopback port, for every test that needs something
//! at the other end of an HTTP connection: a collector that fails on purpose, one that wants
//! an API key, one that echoes what it was sent, or a plain OTLP/HTTP receiver.
//!
//! How it answers is data: a list of [`Rule`]s, the first whose [`When`] holds giving the
//! [`Answer`] (a status after a delay with a [`Body`], silence, or a connection dropped
//! mid-request); with no rule matching, `200` with an empty body, which is OTLP's full
//! success. Every request is recorded ([`Recorder`]): method, path, headers and body. A
//! rule may look at the body ([`When::BodyContains`]): the fake Messages API
//! ([`crate::messages_api`]) answers by what the conversation holds so far.
//!
//! Built on `hyper` (HTTP/1.1) in a runtime of its own, stopped when the server is dropped.

use std::fmt;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Response, StatusCode};
use hyper_util::rt::TokioIo;
use prost::Message as _;

use crate::recording::{Recorder, Request};

/// When a [`Rule`] applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum When {
    Always,
    /// The first `n` requests to each path (a retry is a later request to the same path).
    FirstPerPath(usize),
    /// Requests whose header `name` is missing or not `value`.
    HeaderIsNot {
        name: String,
        value: String,
    },
    /// Requests to exactly this path (the query is not part of it).
    Path(String),
    /// Requests whose body holds this text. With such a rule the body is read in full before
    /// any rule is chosen, so [`Answer::DropMidRequest`] then drops after the whole body.
    BodyContains(String),
    /// Requests for which every one of these holds.
    All(Vec<When>),
}

impl When {
    fn reads_body(&self) -> bool {
        match self {
            When::BodyContains(_) => true,
            When::All(all) => all.iter().any(When::reads_body),
            When::Always | When::FirstPerPath(_) | When::HeaderIsNot { .. } | When::Path(_) => {
                false
            }
        }
    }
}

/// How the server answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// `status` with `body`, after `delay`.
    Reply {
        status: u16,
        delay: Duration,
        body: Body,
    },
    /// Reads the whole request and never answers.
    Silent,
    /// Reads the head and at most the first chunk of the body, then closes the connection.
    DropMidRequest,
}

/// The body of a [`Answer::Reply`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// Empty, typed like the request (`application/x-protobuf` or `application/json`).
    Empty,
    /// Text, typed like the request.
    Text(String),
    /// Text with this `content-type` (`text/event-stream` for a server-sent event stream).
    Typed { content_type: String, text: String },
    /// `text/plain`: the request line and headers, credentials included.
    EchoHead,
    /// An OTLP export response whose `partial_success` rejects `rejected` items with
    /// `message`, encoded like the request (protobuf or JSON) for the request's signal.
    PartialSuccess { rejected: i64, message: String },
}

impl Answer {
    /// `status` at once, with an empty body.
    pub fn status(status: u16) -> Answer {
        Answer::Reply {
            status,
            delay: Duration::ZERO,
            body: Body::Empty,
        }
    }

    /// `status` at once, with `body`.
    pub fn with_body(status: u16, body: Body) -> Answer {
        Answer::Reply {
            status,
            delay: Duration::ZERO,
            body,
        }
    }

    /// `200` with an empty body after `delay`.
    pub fn ok_after(delay: Duration) -> Answer {
        Answer::Reply {
            status: 200,
            delay,
            body: Body::Empty,
        }
    }
}

/// `answer` for the requests `when` holds for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub when: When,
    pub answer: Answer,
}

impl Rule {
    pub fn new(when: When, answer: Answer) -> Rule {
        Rule { when, answer }
    }
}

/// A running server; dropping it stops it (open connections included).
pub struct HttpServer {
    port: u16,
    recorder: Recorder,
    runtime: Option<tokio::runtime::Runtime>,
}

impl fmt::Debug for HttpServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpServer")
            .field("port", &self.port)
            .field("requests", &self.recorder.requests().len())
            .finish()
    }
}

impl HttpServer {
    /// A server answering every request with `answer`.
    pub fn answering(answer: Answer) -> HttpServer {
        HttpServer::start(vec![Rule::new(When::Always, answer)])
    }

    /// A server answering each request with the first of `rules` that applies (none: `200`
    /// with an empty body).
    pub fn start(rules: Vec<Rule>) -> HttpServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        HttpServer::start_on(rules, listener)
    }

    /// [`HttpServer::start`] on a listener of the caller's (a port a client already uses,
    /// say).
    pub fn start_on(rules: Vec<Rule>, listener: TcpListener) -> HttpServer {
        let port = listener.local_addr().expect("the server's address").port();
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("test-http-server")
            .enable_all()
            .build()
            .expect("a runtime for the test server");
        let recorder = Recorder::default();
        let rules = Arc::new(rules);
        let seen = recorder.clone();
        runtime.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
            while let Ok((stream, _)) = listener.accept().await {
                // Answers go out at once, not after the peer's delayed ACK.
                let _ = stream.set_nodelay(true);
                let (rules, seen) = (Arc::clone(&rules), seen.clone());
                tokio::spawn(async move {
                    let service = service_fn(move |request| {
                        let (rules, seen) = (Arc::clone(&rules), seen.clone());
                        async move { answer(request, &rules, &seen).await }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        HttpServer {
            port,
            recorder,
            runtime: Some(runtime),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// What the server has recorded (a handle that stays valid after the server is dropped).
    pub fn recorder(&self) -> &Recorder {
        &self.recorder
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Request> {
        self.recorder.requests()
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// The connection is closed without an answer (hyper closes it when the service fails).
#[derive(Debug)]
struct Dropped;

impl fmt::Display for Dropped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection dropped mid-request on purpose")
    }
}

impl std::error::Error for Dropped {}

async fn answer(
    request: hyper::Request<Incoming>,
    rules: &[Rule],
    seen: &Recorder,
) -> Result<Response<Full<Bytes>>, Dropped> {
    let (parts, body) = request.into_parts();
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            (name.as_str().to_owned(), value)
        })
        .collect();
    let path = parts.uri.path().to_owned();
    let arrival = seen.arrived(parts.method.as_str(), &path, headers.clone());
    // Either the body was read to choose the rule, or it is still to be read.
    let (read, mut unread) = if rules.iter().any(|rule| rule.when.reads_body()) {
        let Ok(collected) = body.collect().await else {
            return Err(Dropped);
        };
        let bytes = collected.to_bytes().to_vec();
        seen.body(arrival, bytes.clone());
        (Some(bytes), None)
    } else {
        (None, Some(body))
    };
    let request = Seen {
        path: &path,
        headers: &headers,
        earlier_on_path: arrival.earlier_on_path,
        body: read.as_deref(),
    };
    let chosen = rules
        .iter()
        .find(|rule| request.satisfies(&rule.when))
        .map_or(Answer::status(200), |rule| rule.answer.clone());
    if chosen == Answer::DropMidRequest {
        if let Some(body) = unread.as_mut() {
            let _ = body.frame().await;
        }
        return Err(Dropped);
    }
    if let Some(body) = unread {
        let Ok(collected) = body.collect().await else {
            return Err(Dropped);
        };
        seen.body(arrival, collected.to_bytes().to_vec());
    }
    let (status, delay, reply) = match chosen {
        Answer::Reply {
            status,
            delay,
            body,
        } => (status, delay, body),
        Answer::Silent | Answer::DropMidRequest => std::future::pending().await,
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let json = headers
        .iter()
        .any(|(n, v)| n == "content-type" && v.contains("json"));
    let like_request = if json {
        "application/json"
    } else {
        "application/x-protobuf"
    };
    let (content_type, bytes) = match reply {
        Body::Empty => (like_request.to_owned(), Vec::new()),
        Body::Text(text) => (like_request.to_owned(), text.into_bytes()),
        Body::Typed { content_type, text } => (content_type, text.into_bytes()),
        Body::EchoHead => {
            let request = Request {
                method: parts.method.as_str().to_owned(),
                path,
                headers,
                body: None,
            };
            ("text/plain".to_owned(), request.head().into_bytes())
        }
        Body::PartialSuccess { rejected, message } => (
            like_request.to_owned(),
            partial_success(&path, json, rejected, &message),
        ),
    };
    let mut response = Response::new(Full::new(Bytes::from(bytes)));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    if let Ok(value) = content_type.parse() {
        response.headers_mut().insert("content-type", value);
    }
    Ok(response)
}

/// What the rules look at of one request.
struct Seen<'a> {
    path: &'a str,
    headers: &'a [(String, String)],
    earlier_on_path: usize,
    /// `None` unless a rule reads the body.
    body: Option<&'a [u8]>,
}

impl Seen<'_> {
    fn satisfies(&self, when: &When) -> bool {
        match when {
            When::Always => true,
            When::FirstPerPath(n) => self.earlier_on_path < *n,
            When::HeaderIsNot { name, value } => !self
                .headers
                .iter()
                .any(|(n, v)| n == name && v.trim() == value.as_str()),
            When::Path(path) => self.path == path,
            When::BodyContains(text) => self.body.is_some_and(|body| {
                text.is_empty() || body.windows(text.len()).any(|w| w == text.as_bytes())
            }),
            When::All(all) => all.iter().all(|when| self.satisfies(when)),
        }
    }
}

/// The export response of `path`'s signal (an OTLP/HTTP or gRPC path) with a partial
/// success, as protobuf or JSON.
pub(crate) fn partial_success(path: &str, json: bool, rejected: i64, message: &str) -> Vec<u8> {
    use opentelemetry_proto::tonic::collector::{logs, metrics, trace};
    let error_message = message.to_owned();
    let path = path.to_ascii_lowercase();
    if json {
        let field = if path.contains("metrics") {
            "rejectedDataPoints"
        } else if path.contains("logs") {
            "rejectedLogRecords"
        } else {
            "rejectedSpans"
        };
        // OTLP/JSON writes 64-bit integers as strings.
        return format!(
            r#"{{"partialSuccess":{{"{field}":"{rejected}","errorMessage":{message:?}}}}}"#
        )
        .into_bytes();
    }
    if path.contains("metrics") {
        metrics::v1::ExportMetricsServiceResponse {
            partial_success: Some(metrics::v1::ExportMetricsPartialSuccess {
                rejected_data_points: rejected,
                error_message,
            }),
        }
        .encode_to_vec()
    } else if path.contains("logs") {
        logs::v1::ExportLogsServiceResponse {
            partial_success: Some(logs::v1::ExportLogsPartialSuccess {
                rejected_log_records: rejected,
                error_message,
            }),
        }
        .encode_to_vec()
    } else {
        trace::v1::ExportTraceServiceResponse {
            partial_success: Some(trace::v1::ExportTracePartialSuccess {
                rejected_spans: rejected,
                error_message,
            }),
        }
        .encode_to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_client::{post, post_for_content_type};
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceResponse;

    const PROTOBUF: (&str, &str) = ("content-type", "application/x-protobuf");

    #[test]
    fn no_rule_answers_full_success_and_every_request_is_recorded() {
        let server = HttpServer::start(Vec::new());
        let answer = post(server.port(), "/v1/logs", &[PROTOBUF], b"abc".to_vec());
        assert_eq!(answer, Some((200, Vec::new())));
        let requests = server.requests();
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0].method, "POST");
        assert_eq!(requests[0].path, "/v1/logs");
        assert_eq!(requests[0].header("content-type"), Some(PROTOBUF.1));
        assert_eq!(requests[0].body.as_deref(), Some(&b"abc"[..]));
    }

    #[test]
    fn the_first_rule_that_applies_answers() {
        let server = HttpServer::start(vec![
            Rule::new(When::FirstPerPath(1), Answer::status(503)),
            Rule::new(
                When::HeaderIsNot {
                    name: "x-api-key".to_owned(),
                    value: "k".to_owned(),
                },
                Answer::with_body(401, Body::Text("no".to_owned())),
            ),
        ]);
        let port = server.port();
        let status = |path: &str, headers: &[(&str, &str)]| {
            post(port, path, headers, Vec::new()).map(|(status, _)| status)
        };
        assert_eq!(status("/v1/metrics", &[("x-api-key", "k")]), Some(503));
        assert_eq!(status("/v1/metrics", &[("x-api-key", "k")]), Some(200));
        assert_eq!(status("/v1/metrics", &[("x-api-key", "wrong")]), Some(401));
        assert_eq!(status("/v1/logs", &[]), Some(503), "counted per path");
        assert_eq!(status("/v1/logs", &[]), Some(401));
        assert_eq!(server.recorder().counts()["/v1/metrics"], 3);
    }

    #[test]
    fn rules_can_look_at_the_path_and_the_body_and_answer_with_any_type() {
        let stream = Body::Typed {
            content_type: "text/event-stream".to_owned(),
            text: "event: ping\ndata: {}\n\n".to_owned(),
        };
        let server = HttpServer::start(vec![
            Rule::new(
                When::All(vec![
                    When::Path("/v1/messages".to_owned()),
                    When::BodyContains("tool_result".to_owned()),
                ]),
                Answer::with_body(200, Body::Text("second".to_owned())),
            ),
            Rule::new(
                When::Path("/v1/messages".to_owned()),
                Answer::with_body(200, stream),
            ),
        ]);
        let port = server.port();
        let first = post_for_content_type(port, "/v1/messages?beta=true", &[], b"{}".to_vec());
        assert_eq!(
            first,
            Some((
                200,
                "text/event-stream".to_owned(),
                b"event: ping\ndata: {}\n\n".to_vec()
            ))
        );
        let later = post(port, "/v1/messages", &[], b"[tool_result]".to_vec());
        assert_eq!(later, Some((200, b"second".to_vec())));
        let elsewhere = post(port, "/v1/other", &[], b"tool_result".to_vec());
        assert_eq!(elsewhere, Some((200, Vec::new())), "no rule: 200, empty");
        let requests = server.requests();
        assert_eq!(
            requests[0].path, "/v1/messages",
            "the query is not the path"
        );
        assert_eq!(requests[1].body.as_deref(), Some(&b"[tool_result]"[..]));
    }

    #[test]
    fn echo_head_answers_with_the_request_line_and_headers() {
        let server = HttpServer::answering(Answer::with_body(401, Body::EchoHead));
        let (status, body) = post(
            server.port(),
            "/v1/traces",
            &[("authorization", "Bearer t0ken")],
            Vec::new(),
        )
        .expect("an answer");
        assert_eq!(status, 401);
        let head = String::from_utf8(body).expect("text");
        assert!(head.starts_with("POST /v1/traces HTTP/1.1\r\n"), "{head}");
        assert!(head.contains("authorization: Bearer t0ken\r\n"), "{head}");
    }

    #[test]
    fn a_partial_success_is_encoded_like_the_request() {
        let server = HttpServer::answering(Answer::with_body(
            200,
            Body::PartialSuccess {
                rejected: 2,
                message: "two".to_owned(),
            },
        ));
        let (_, body) =
            post(server.port(), "/v1/logs", &[PROTOBUF], Vec::new()).expect("an answer");
        let partial = ExportLogsServiceResponse::decode(body.as_slice())
            .expect("a logs export response")
            .partial_success
            .expect("a partial success");
        assert_eq!(
            (partial.rejected_log_records, partial.error_message.as_str()),
            (2, "two")
        );
        let json = ("content-type", "application/json");
        let (_, body) = post(server.port(), "/v1/metrics", &[json], Vec::new()).expect("an answer");
        assert_eq!(
            String::from_utf8(body).expect("text"),
            r#"{"partialSuccess":{"rejectedDataPoints":"2","errorMessage":"two"}}"#
        );
    }

    #[test]
    fn a_dropped_request_gets_no_answer_and_keeps_no_body() {
        let server = HttpServer::answering(Answer::DropMidRequest);
        assert_eq!(post(server.port(), "/v1/logs", &[], vec![7; 64]), None);
        let requests = server.requests();
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0].body, None);
    }
}
