//! What a test server keeps of the requests it gets, shared by the HTTP server
//! ([`crate::http_server`]) and the gRPC side of the faulty collector ([`crate::faults`]): each
//! request's method, path, headers and (once read in full) body, in arrival order, with a way
//! to wait for the next one instead of polling.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// One request as the server saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// `/v1/metrics`, `/opentelemetry.proto.collector.logs.v1.LogsService/Export`, ...
    pub path: String,
    /// Header names in lowercase, in the order they came (gRPC: the metadata).
    pub headers: Vec<(String, String)>,
    /// `None` until the body was read in full, and for a request dropped before that.
    pub body: Option<Vec<u8>>,
}

impl Request {
    /// The value of header `name` (lowercase), if it came.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The request line and headers as HTTP/1.1 text, as a careless server would echo them.
    pub fn head(&self) -> String {
        let mut head = format!("{} {} HTTP/1.1\r\n", self.method, self.path);
        for (name, value) in &self.headers {
            let _ = write!(head, "{name}: {value}\r\n");
        }
        head
    }
}

/// Every request received so far; clones share the same list.
#[derive(Debug, Clone, Default)]
pub struct Recorder {
    shared: Arc<(Mutex<Vec<Request>>, Condvar)>,
}

/// Where a request stands in the recording: its index, and how many requests to the same
/// path came before it (what "fail the first n" goes by).
#[derive(Debug, Clone, Copy)]
pub struct Arrival {
    index: usize,
    pub earlier_on_path: usize,
}

impl Recorder {
    fn list(&self) -> MutexGuard<'_, Vec<Request>> {
        self.shared.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Notes a request whose head has arrived; its body comes with [`Recorder::body`].
    pub fn arrived(&self, method: &str, path: &str, headers: Vec<(String, String)>) -> Arrival {
        let mut list = self.list();
        let earlier_on_path = list.iter().filter(|r| r.path == path).count();
        list.push(Request {
            method: method.to_owned(),
            path: path.to_owned(),
            headers,
            body: None,
        });
        self.shared.1.notify_all();
        Arrival {
            index: list.len() - 1,
            earlier_on_path,
        }
    }

    /// Keeps the body of the request that [`Recorder::arrived`] noted as `arrival`.
    pub fn body(&self, arrival: Arrival, body: Vec<u8>) {
        if let Some(request) = self.list().get_mut(arrival.index) {
            request.body = Some(body);
        }
        self.shared.1.notify_all();
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Request> {
        self.list().clone()
    }

    /// Requests received per path.
    pub fn counts(&self) -> HashMap<String, usize> {
        let mut counts = HashMap::new();
        for request in self.list().iter() {
            *counts.entry(request.path.clone()).or_default() += 1;
        }
        counts
    }

    /// Calls `f` with the requests so far, again after each change, until it returns `Some`
    /// (returned) or `timeout` passes (`None`).
    pub fn wait_for<T>(
        &self,
        timeout: Duration,
        mut f: impl FnMut(&[Request]) -> Option<T>,
    ) -> Option<T> {
        let deadline = Instant::now() + timeout;
        let mut list = self.list();
        loop {
            if let Some(found) = f(&list) {
                return Some(found);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            list = self
                .shared
                .1
                .wait_timeout(list, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}
