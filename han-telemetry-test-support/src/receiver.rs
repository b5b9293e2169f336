//! An OTLP/HTTP (protobuf) receiver on loopback: the [`HttpServer`] answering every export
//! with full success, read back as typed values ([`Received`]). rotel forwards to one in
//! [`crate::collector`]; tests of a pipeline built in-process send to one directly.

use std::fmt::Write as _;
use std::time::Duration;

use crate::http_server::{Answer, HttpServer};
use crate::otlp::{self, Received, ReceivedMetric, ReceivedSpan};
use crate::recording::Recorder;

/// A running receiver; stops when dropped.
#[derive(Debug)]
pub struct OtlpReceiver {
    server: HttpServer,
}

impl Default for OtlpReceiver {
    fn default() -> OtlpReceiver {
        OtlpReceiver::start()
    }
}

impl OtlpReceiver {
    pub fn start() -> OtlpReceiver {
        OtlpReceiver {
            server: HttpServer::answering(Answer::status(200)),
        }
    }

    /// `http://127.0.0.1:PORT`, the OTLP/HTTP base endpoint (signals at `/v1/<signal>`).
    pub fn endpoint(&self) -> String {
        self.server.endpoint()
    }

    pub fn recorder(&self) -> &Recorder {
        self.server.recorder()
    }

    /// Everything received so far.
    pub fn received(&self) -> Received {
        Received::from_requests(&self.server.requests())
    }

    /// Every span received, in arrival order.
    pub fn spans(&self) -> Vec<ReceivedSpan> {
        self.received().spans
    }

    /// The metrics of each metrics request, one list per request, in arrival order.
    pub fn metric_requests(&self) -> Vec<Vec<ReceivedMetric>> {
        self.server
            .requests()
            .iter()
            .filter(|r| r.path.ends_with("/v1/metrics") && r.body.is_some())
            .map(|r| Received::from_requests(std::slice::from_ref(r)).metrics)
            .collect()
    }

    /// Calls `f` with everything received, again after each request, until it returns
    /// `Some` (returned) or `timeout` passes (`None`).
    pub fn wait_for<T>(&self, timeout: Duration, f: impl Fn(&Received) -> Option<T>) -> Option<T> {
        self.recorder()
            .wait_for(timeout, |requests| f(&Received::from_requests(requests)))
    }

    /// Every request as text: its path and its decoded OTLP message in full (`Debug`, so
    /// bytes as decimal lists), in arrival order. What a search for a leaked value reads.
    pub fn text(&self) -> String {
        let mut text = String::new();
        for request in self.server.requests() {
            let _ = match otlp::decode(&request) {
                Ok(export) => writeln!(text, "{} {}\n{export:#?}", request.method, request.path),
                Err(why) => writeln!(text, "{} {}: {why}", request.method, request.path),
            };
        }
        text
    }
}
