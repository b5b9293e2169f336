//! OTLP over gRPC (tonic). The channel is built here, on han-telemetry's own I/O runtime,
//! with the configured endpoint, TLS and timeout; headers are added by an interceptor that
//! runs last, so the configured values win over anything the OTLP crate reads itself.

use std::str::FromStr;
use std::time::Duration;

use opentelemetry_otlp::{Protocol, WithExportConfig, WithTonicConfig};
use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};
use tonic::transport::Channel;

use super::tls::TlsMaterial;
use crate::config::{Compression, OtlpConfig, TlsFiles};

pub(super) struct GrpcTransport {
    channel: Channel,
    metadata: MetadataMap,
    compression: Compression,
    timeout: Duration,
}

/// Channels already built in this process, by what they were built from: signals sent to
/// one endpoint with the same TLS settings and timeout share one channel, so one connection
/// (one TCP and HTTP/2 handshake) carries all their requests. Headers are not part of a
/// channel: each exporter adds its own.
#[derive(Default)]
pub(crate) struct Channels(Vec<((String, TlsFiles, Duration), Channel)>);

/// Never the endpoints: one may carry credentials (`https://user:token@host`).
impl std::fmt::Debug for Channels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Channels")
            .field("count", &self.0.len())
            .finish()
    }
}

pub(super) fn transport(
    cfg: &OtlpConfig,
    io: &tokio::runtime::Handle,
    channels: &mut Channels,
) -> Result<GrpcTransport, String> {
    let key = (cfg.endpoint.clone(), cfg.tls.clone(), cfg.timeout);
    let channel = match channels.0.iter().find(|(k, _)| *k == key) {
        Some((_, channel)) => channel.clone(),
        None => {
            let channel = build_channel(cfg, io)?;
            channels.0.push((key, channel.clone()));
            channel
        }
    };
    let mut metadata = MetadataMap::new();
    for (key, value) in &cfg.headers {
        let key = MetadataKey::from_str(key)
            .map_err(|_| format!("header name {key:?} is not valid for gRPC"))?;
        let value = MetadataValue::try_from(value.as_str())
            .map_err(|_| format!("the value of header {key} is not valid for gRPC"))?;
        metadata.insert(key, value);
    }
    Ok(GrpcTransport {
        channel,
        metadata,
        compression: cfg.compression,
        timeout: cfg.timeout,
    })
}

fn build_channel(cfg: &OtlpConfig, io: &tokio::runtime::Handle) -> Result<Channel, String> {
    let mut endpoint = tonic::transport::Endpoint::from_shared(cfg.endpoint.clone())
        .map_err(|e| format!("invalid gRPC endpoint: {e}"))?
        .timeout(cfg.timeout)
        .connect_timeout(cfg.timeout.min(Duration::from_secs(5)));
    if cfg.endpoint.starts_with("https://") {
        let tls = TlsMaterial::load(&cfg.tls)?;
        endpoint = endpoint
            .tls_config(tls.tonic_config())
            .map_err(|e| format!("TLS setup failed: {e}"))?;
    }
    // connect_lazy spawns the channel's worker: it must run on our runtime.
    let _entered = io.enter();
    Ok(endpoint.connect_lazy())
}

fn tonic_compression(c: Compression) -> Option<opentelemetry_otlp::Compression> {
    match c {
        Compression::None => None,
        Compression::Gzip => Some(opentelemetry_otlp::Compression::Gzip),
        Compression::Zstd => Some(opentelemetry_otlp::Compression::Zstd),
    }
}

macro_rules! grpc_builder {
    ($t:expr, $builder:expr) => {{
        let metadata = $t.metadata;
        let mut b = $builder
            .with_tonic()
            .with_protocol(Protocol::Grpc)
            .with_channel($t.channel)
            .with_timeout($t.timeout)
            .with_retry_policy(super::retry_policy())
            .with_interceptor(move |mut req: tonic::Request<()>| {
                for kv in metadata.iter() {
                    if let tonic::metadata::KeyAndValueRef::Ascii(k, v) = kv {
                        req.metadata_mut().insert(k.clone(), v.clone());
                    }
                }
                Ok(req)
            });
        if let Some(c) = tonic_compression($t.compression) {
            b = b.with_compression(c);
        }
        b
    }};
}

impl GrpcTransport {
    pub(super) fn metric_exporter(
        self,
        temporality: opentelemetry_sdk::metrics::Temporality,
    ) -> Result<opentelemetry_otlp::MetricExporter, String> {
        grpc_builder!(self, opentelemetry_otlp::MetricExporter::builder())
            .with_temporality(temporality)
            .build()
            .map_err(|e| e.to_string())
    }

    pub(super) fn log_exporter(self) -> Result<opentelemetry_otlp::LogExporter, String> {
        grpc_builder!(self, opentelemetry_otlp::LogExporter::builder())
            .build()
            .map_err(|e| e.to_string())
    }

    pub(super) fn span_exporter(self) -> Result<opentelemetry_otlp::SpanExporter, String> {
        grpc_builder!(self, opentelemetry_otlp::SpanExporter::builder())
            .build()
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Protocol, Trust};

    fn otlp(endpoint: &str, header: &str) -> OtlpConfig {
        OtlpConfig {
            endpoint: endpoint.to_owned(),
            protocol: Protocol::Grpc,
            headers: vec![("x-signal".to_owned(), header.to_owned())],
            timeout: Duration::from_secs(10),
            compression: Compression::None,
            tls: TlsFiles::default(),
            chosen_by: Trust::User,
            withheld: Vec::new(),
            headers_helper: None,
        }
    }

    /// Metrics and events to one collector share one connection, each with its own headers;
    /// another endpoint gets a channel of its own.
    #[test]
    fn signals_to_one_endpoint_share_a_channel_not_their_headers() {
        let io = crate::test_support::io_runtime();
        let mut channels = Channels::default();
        let metrics = transport(
            &otlp("http://127.0.0.1:4317", "m"),
            io.handle(),
            &mut channels,
        )
        .expect("a transport");
        let logs = transport(
            &otlp("http://127.0.0.1:4317", "l"),
            io.handle(),
            &mut channels,
        )
        .expect("a transport");
        assert_eq!(channels.0.len(), 1);
        assert_eq!(
            metrics.metadata.get("x-signal").map(|v| v.to_str().ok()),
            Some(Some("m"))
        );
        assert_eq!(
            logs.metadata.get("x-signal").map(|v| v.to_str().ok()),
            Some(Some("l"))
        );
        transport(
            &otlp("http://127.0.0.1:4318", "t"),
            io.handle(),
            &mut channels,
        )
        .expect("a transport");
        assert_eq!(channels.0.len(), 2);
        assert!(
            !format!("{channels:?}").contains("127.0.0.1"),
            "no endpoint in Debug"
        );
    }
}
