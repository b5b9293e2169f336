//! OTLP over HTTP, protobuf or JSON, through a blocking reqwest client that han-telemetry
//! builds itself: rustls with the ring provider, the system roots plus an optional private
//! CA and client identity. The client sets the configured headers last (so they win) and
//! keeps the cause of the last network error, which the OTLP crate reduces to "network
//! error", for the one-line warning.

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
    inner: reqwest::blocking::Client,
    headers: Arc<Vec<(HeaderName, HeaderValue)>>,
    last_error: Arc<Mutex<Option<String>>>,
}

/// The error and its sources, one line: "error sending request: tcp connect error: ...".
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
    text
}

#[async_trait::async_trait]
impl HttpClient for ObservedClient {
    async fn send_bytes(&self, mut request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        for (name, value) in self.headers.iter() {
            request.headers_mut().insert(name.clone(), value.clone());
        }
        let result = self.inner.send_bytes(request).await;
        if let Err(error) = &result
            && let Ok(mut slot) = self.last_error.lock()
        {
            *slot = Some(chain(error.as_ref()));
        }
        result
    }
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
}

pub(super) fn transport(_signal: Signal, cfg: &OtlpConfig) -> Result<HttpTransport, String> {
    let https = cfg.endpoint.starts_with("https://");
    // TLS files matter only for https://: a stale CA setting must not turn plain HTTP off.
    let material = if https {
        TlsMaterial::load(&cfg.tls)?
    } else {
        TlsMaterial::default()
    };
    let tls = material.rustls_config(https)?;
    let timeout = cfg.timeout;
    // The blocking client starts its own runtime; building it on a thread of its own keeps
    // that legal when init is called from inside the host's async runtime.
    let inner = std::thread::Builder::new()
        .name("han-telemetry-http-init".into())
        .spawn(move || {
            reqwest::blocking::Client::builder()
                .timeout(timeout)
                .connect_timeout(timeout.min(Duration::from_secs(5)))
                .tls_backend_preconfigured(tls)
                .build()
        })
        .map_err(|e| format!("cannot start the HTTP client: {e}"))?
        .join()
        .map_err(|_| "the HTTP client could not be built".to_owned())?
        .map_err(|e| format!("the HTTP client could not be built: {}", chain(&e)))?;
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
        },
        endpoint: cfg.endpoint.clone(),
        protocol,
        compression: cfg.compression,
        timeout: cfg.timeout,
    })
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
