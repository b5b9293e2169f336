//! The resource every signal carries: service name and version, OS and architecture (as
//! the semantic conventions spell them), then the user's `OTEL_RESOURCE_ATTRIBUTES`.

use opentelemetry::KeyValue;
use opentelemetry_sdk::Resource;

use crate::config::Config;

/// `os.type` as the semantic conventions name it (`macos` is `darwin`).
pub(crate) fn os_type() -> &'static str {
    match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    }
}

/// `host.arch` as the semantic conventions name it.
pub(crate) fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "arm" => "arm32",
        "powerpc64" => "ppc64",
        other => other,
    }
}

/// Builds the resource. The user's attributes come last and win, except `service.name`,
/// which `OTEL_SERVICE_NAME` (or its default, `han`) decides.
pub(crate) fn build(config: &Config, service_version: &str) -> Resource {
    let mut attributes = vec![
        KeyValue::new("service.version", service_version.to_owned()),
        KeyValue::new("os.type", os_type()),
        KeyValue::new("host.arch", host_arch()),
    ];
    attributes.extend(
        config
            .resource_attributes
            .iter()
            .filter(|(k, _)| k != "service.name")
            .map(|(k, v)| KeyValue::new(k.clone(), v.clone())),
    );
    Resource::builder_empty()
        .with_service_name(config.service_name.clone())
        .with_attributes(attributes)
        .build()
}
