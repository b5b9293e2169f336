//! OTLP over HTTP, protobuf or JSON, through a reqwest client that han-telemetry builds
//! itself (rustls with the ring provider, the system roots plus an optional private CA and
//! client identity) and runs on its one I/O thread, the runtime gRPC uses too: an export
//! waits on any thread, the requests of every signal share that thread, and nothing joins a
//! thread of the client's own at exit. The client sets the configured headers last (so they
//! win) and keeps the cause of the last network error, which the OTLP crate reduces to
//! "network error", for the one-line warning.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request, Response};
use opentelemetry_http::{HttpClient, HttpError};
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};

use super::tls::TlsMaterial;
use crate::config::{self, Compression, OtlpConfig, Signal};

/// The blocking client with the configured headers and an error slot.
#[derive(Debug, Clone)]
struct ObservedClient {
    inner: Arc<Lazy>,
    headers: Arc<Vec<(HeaderName, HeaderValue)>>,
    last_error: Arc<Mutex<Option<String>>>,
    /// The signal and encoding, to read a success answer's `partial_success`.
    signal: Signal,
    json: bool,
    partial: Arc<Mutex<Option<String>>>,
}

/// The error and its sources, one line: "error sending request: tcp connect error: ...",
/// without URL credentials or query values.
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        let next = s.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = s.source();
    }
    crate::mask::mask_urls_in(&text)
}

#[async_trait::async_trait]
impl HttpClient for ObservedClient {
    async fn send_bytes(&self, mut request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        for (name, value) in self.headers.iter() {
            request.headers_mut().insert(name.clone(), value.clone());
        }
        let result = match self.inner.get().await {
            // On the I/O runtime, whatever executor polls this export: the request and its
            // connection are tasks there. A runtime already shut down (an exit that gave up
            // waiting) cancels the request instead of leaving it waiting.
            Ok(client) => match self
                .inner
                .io
                .spawn(async move { client.send_bytes(request).await })
                .await
            {
                Ok(sent) => sent,
                Err(_) => Err("the export was cancelled: telemetry is shutting down".into()),
            },
            Err(e) => Err(e.into()),
        };
        match &result {
            Err(error) => {
                if let Ok(mut slot) = self.last_error.lock() {
                    *slot = Some(chain(error.as_ref()));
                }
            }
            Ok(response) if response.status().is_success() => {
                let partial = partial_success(self.signal, self.json, response.body());
                if let Ok(mut slot) = self.partial.lock() {
                    *slot = partial;
                }
            }
            Ok(_) => {}
        }
        result
    }
}

/// The `partial_success` of a successful OTLP/HTTP answer, as one line, when the collector
/// rejected part of the data. The OTLP crate does not look at the answer's body; the spec
/// asks for the rejection to be reported and the data not to be sent again.
fn partial_success(signal: Signal, json: bool, body: &[u8]) -> Option<String> {
    if body.is_empty() {
        return None;
    }
    let (rejected, message) = if json {
        partial_from_json(signal, body)?
    } else {
        partial_from_protobuf(signal, body)?
    };
    if rejected <= 0 && message.is_empty() {
        return None;
    }
    let what = match signal {
        Signal::Metrics => "data points",
        Signal::Logs => "log records",
        Signal::Traces => "spans",
    };
    // The message is the server's text: one line, bounded.
    let message: String = message
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect();
    Some(if message.is_empty() {
        format!("the collector accepted the export but rejected {rejected} {what}")
    } else {
        format!("the collector accepted the export but rejected {rejected} {what}: {message}")
    })
}

fn partial_from_protobuf(signal: Signal, body: &[u8]) -> Option<(i64, String)> {
    use opentelemetry_proto::tonic::collector::{logs, metrics, trace};
    use prost::Message as _;
    match signal {
        Signal::Metrics => metrics::v1::ExportMetricsServiceResponse::decode(body)
            .ok()?
            .partial_success
            .map(|p| (p.rejected_data_points, p.error_message)),
        Signal::Logs => logs::v1::ExportLogsServiceResponse::decode(body)
            .ok()?
            .partial_success
            .map(|p| (p.rejected_log_records, p.error_message)),
        Signal::Traces => trace::v1::ExportTraceServiceResponse::decode(body)
            .ok()?
            .partial_success
            .map(|p| (p.rejected_spans, p.error_message)),
    }
}

fn partial_from_json(signal: Signal, body: &[u8]) -> Option<(i64, String)> {
    let answer: serde_json::Value = serde_json::from_slice(body).ok()?;
    let partial = answer
        .get("partialSuccess")
        .or_else(|| answer.get("partial_success"))?;
    let field = |camel: &str, snake: &str| partial.get(camel).or_else(|| partial.get(snake));
    let rejected = match signal {
        Signal::Metrics => field("rejectedDataPoints", "rejected_data_points"),
        Signal::Logs => field("rejectedLogRecords", "rejected_log_records"),
        Signal::Traces => field("rejectedSpans", "rejected_spans"),
    };
    // int64 is a string in OTLP/JSON; accept a number too.
    let rejected = match rejected {
        Some(serde_json::Value::String(s)) => s.parse().unwrap_or(0),
        Some(v) => v.as_i64().unwrap_or(0),
        None => 0,
    };
    let message = field("errorMessage", "error_message")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .to_owned();
    Some((rejected, message))
}

pub(super) struct HttpTransport {
    client: ObservedClient,
    endpoint: String,
    protocol: Protocol,
    compression: Compression,
    timeout: Duration,
}

impl HttpTransport {
    pub(super) fn last_error(&self) -> Arc<Mutex<Option<String>>> {
        Arc::clone(&self.client.last_error)
    }

    pub(super) fn partial_success(&self) -> Arc<Mutex<Option<String>>> {
        Arc::clone(&self.client.partial)
    }
}

/// A client being built on the I/O thread: set-up does not wait for it (it is built while
/// the hook works); the first export does.
#[derive(Debug)]
struct Lazy {
    io: tokio::runtime::Handle,
    building: Mutex<Option<tokio::task::JoinHandle<Result<reqwest::Client, String>>>>,
    built: tokio::sync::OnceCell<Result<reqwest::Client, String>>,
}

impl Lazy {
    /// The client (a handle to it: clones share its connections).
    async fn get(&self) -> Result<reqwest::Client, String> {
        self.built
            .get_or_init(|| async {
                let handle = self
                    .building
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .take();
                match handle {
                    Some(handle) => handle
                        .await
                        .unwrap_or_else(|_| Err("the HTTP client could not be built".to_owned())),
                    None => Err("the HTTP client is gone".to_owned()),
                }
            })
            .await
            .clone()
    }
}

/// Clients already built in this process, by what they were built from: signals that share
/// an endpoint's TLS settings and timeout share one client and its connections, instead of
/// one of each per signal.
#[derive(Debug, Default)]
pub(crate) struct Clients(Vec<((bool, config::TlsFiles, Duration), Arc<Lazy>)>);

pub(super) fn transport(
    signal: Signal,
    cfg: &OtlpConfig,
    clients: &mut Clients,
    io: &tokio::runtime::Handle,
) -> Result<HttpTransport, String> {
    let https = cfg.endpoint.starts_with("https://");
    let key = (https, cfg.tls.clone(), cfg.timeout);
    let inner = match clients.0.iter().find(|(k, _)| *k == key) {
        Some((_, client)) => Arc::clone(client),
        None => {
            let client = Arc::new(build_client(https, cfg, io)?);
            clients.0.push((key, Arc::clone(&client)));
            client
        }
    };
    let mut headers = Vec::with_capacity(cfg.headers.len());
    for (key, value) in &cfg.headers {
        let name = HeaderName::from_bytes(key.as_bytes())
            .map_err(|_| format!("header name {key:?} is not valid"))?;
        let value = HeaderValue::from_str(value)
            .map_err(|_| format!("the value of header {key} is not valid"))?;
        headers.push((name, value));
    }
    let protocol = match cfg.protocol {
        config::Protocol::HttpJson => Protocol::HttpJson,
        _ => Protocol::HttpBinary,
    };
    Ok(HttpTransport {
        client: ObservedClient {
            inner,
            headers: Arc::new(headers),
            last_error: Arc::default(),
            signal,
            json: protocol == Protocol::HttpJson,
            partial: Arc::default(),
        },
        endpoint: cfg.endpoint.clone(),
        protocol,
        compression: cfg.compression,
        timeout: cfg.timeout,
    })
}

/// Starts building the client on the I/O thread; TLS files are read (and their problems
/// reported) now, the client itself is waited for at the first export.
fn build_client(
    https: bool,
    cfg: &OtlpConfig,
    io: &tokio::runtime::Handle,
) -> Result<Lazy, String> {
    // TLS files matter only for https://: a stale CA setting must not turn plain HTTP off.
    let material = if https {
        TlsMaterial::load(&cfg.tls)?
    } else {
        TlsMaterial::default()
    };
    let tls = material.rustls_config(https)?;
    let timeout = cfg.timeout;
    let building = io.spawn(async move {
        detect_cpu_features();
        reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .tls_backend_preconfigured(tls)
            .build()
            .map_err(|e| format!("the HTTP client could not be built: {}", chain(&e)))
    });
    Ok(Lazy {
        io: io.clone(),
        building: Mutex::new(Some(building)),
        built: tokio::sync::OnceCell::new(),
    })
}

/// Has the standard library detect the CPU's features now, on the I/O thread while the hook
/// works: httparse asks at the first answer it parses, and the detection
/// executes `cpuid` a dozen times, each a trap to the hypervisor in a virtual machine (about
/// 60 µs in all on the machine `BENCHMARKS.md` was measured on), which would otherwise sit
/// between the collector's answer and the export's end.
fn detect_cpu_features() {
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    {
        let _ = std::arch::is_x86_feature_detected!("sse4.2");
    }
}

fn http_compression(c: Compression) -> Option<opentelemetry_otlp::Compression> {
    match c {
        Compression::None => None,
        Compression::Gzip => Some(opentelemetry_otlp::Compression::Gzip),
        Compression::Zstd => Some(opentelemetry_otlp::Compression::Zstd),
    }
}

macro_rules! http_builder {
    ($t:expr, $builder:expr) => {{
        let mut b = $builder
            .with_http()
            .with_protocol($t.protocol)
            .with_endpoint($t.endpoint)
            .with_timeout($t.timeout)
            .with_http_client($t.client)
            .with_retry_policy(super::retry_policy());
        if let Some(c) = http_compression($t.compression) {
            b = b.with_compression(c);
        }
        b
    }};
}

impl HttpTransport {
    pub(super) fn metric_exporter(
        self,
        temporality: opentelemetry_sdk::metrics::Temporality,
    ) -> Result<opentelemetry_otlp::MetricExporter, String> {
        http_builder!(self, opentelemetry_otlp::MetricExporter::builder())
            .with_temporality(temporality)
            .build()
            .map_err(|e| e.to_string())
    }

    pub(super) fn log_exporter(self) -> Result<opentelemetry_otlp::LogExporter, String> {
        http_builder!(self, opentelemetry_otlp::LogExporter::builder())
            .build()
            .map_err(|e| e.to_string())
    }

    pub(super) fn span_exporter(self) -> Result<opentelemetry_otlp::SpanExporter, String> {
        http_builder!(self, opentelemetry_otlp::SpanExporter::builder())
            .build()
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry_proto::tonic::collector::logs::v1::{
        ExportLogsPartialSuccess, ExportLogsServiceResponse,
    };
    use prost::Message as _;

    use super::*;

    #[test]
    fn a_protobuf_partial_success_is_read() {
        let answer = ExportLogsServiceResponse {
            partial_success: Some(ExportLogsPartialSuccess {
                rejected_log_records: 2,
                error_message: "too old\nreally".into(),
            }),
        }
        .encode_to_vec();
        assert_eq!(
            partial_success(Signal::Logs, false, &answer).as_deref(),
            Some("the collector accepted the export but rejected 2 log records: too old really")
        );
    }

    #[test]
    fn a_json_partial_success_is_read_with_int64_as_a_string() {
        let answer = br#"{"partialSuccess":{"rejectedDataPoints":"3","errorMessage":"bad"}}"#;
        assert_eq!(
            partial_success(Signal::Metrics, true, answer).as_deref(),
            Some("the collector accepted the export but rejected 3 data points: bad")
        );
        let spans = br#"{"partialSuccess":{"rejectedSpans":1}}"#;
        assert_eq!(
            partial_success(Signal::Traces, true, spans).as_deref(),
            Some("the collector accepted the export but rejected 1 spans")
        );
    }

    #[test]
    fn a_full_success_or_an_unreadable_body_is_not_a_partial_success() {
        assert_eq!(partial_success(Signal::Logs, false, b""), None);
        assert_eq!(partial_success(Signal::Logs, true, b"{}"), None);
        assert_eq!(
            partial_success(Signal::Logs, true, br#"{"partialSuccess":{}}"#),
            None
        );
        assert_eq!(partial_success(Signal::Logs, true, b"not json"), None);
        assert_eq!(partial_success(Signal::Metrics, false, b"\xff\xff"), None);
    }
}
