//! OTLP over gRPC (tonic). The channel is built here, on han-telemetry's own I/O runtime,
//! with the configured endpoint, TLS and timeout; headers are added by an interceptor that
//! runs last, so the configured values win over anything the OTLP crate reads itself.

use std::str::FromStr;
use std::time::Duration;

use opentelemetry_otlp::{Protocol, WithExportConfig, WithTonicConfig};
use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};
use tonic::transport::Channel;

use super::tls::TlsMaterial;
use crate::config::{Compression, OtlpConfig};

pub(super) struct GrpcTransport {
    channel: Channel,
    metadata: MetadataMap,
    compression: Compression,
    timeout: Duration,
}

pub(super) fn transport(
    cfg: &OtlpConfig,
    io: &tokio::runtime::Handle,
) -> Result<GrpcTransport, String> {
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
    let channel = {
        let _entered = io.enter();
        endpoint.connect_lazy()
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
