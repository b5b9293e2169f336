//! TLS material for OTLP: the system roots, an optional private CA, an optional client
//! identity for mutual TLS. Files are read and checked here so a bad path or a PEM file
//! without a certificate gets a clear message before any connection is tried.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::TlsFiles;

/// PEM contents, validated.
#[derive(Debug, Default)]
pub(super) struct TlsMaterial {
    pub(super) ca_pem: Option<Vec<u8>>,
    pub(super) identity_pem: Option<(Vec<u8>, Vec<u8>)>,
}

/// What is wrong with a PEM file, in words that never quote it: the parser's own messages
/// print the offending bytes, and in a client key file those are the private key.
fn pem_problem(e: &rustls::pki_types::pem::Error) -> &'static str {
    use rustls::pki_types::pem::Error;
    match e {
        Error::MissingSectionEnd { .. } => {
            "a BEGIN line has no matching END line (were the file's line breaks lost?)"
        }
        Error::IllegalSectionStart { .. } => "a BEGIN line is malformed",
        Error::Base64Decode(_) => "the text between BEGIN and END is not valid base64",
        Error::NoItemsFound => "it holds no PEM section of the expected kind",
        Error::SectionTooLarge => "a PEM section is larger than 256 MB",
        _ => "it cannot be read as PEM",
    }
}

/// PEM files are small; a bigger one is a mistake (or not a PEM file at all).
const MAX_PEM_BYTES: u64 = 4 * 1024 * 1024;

/// Reads a PEM file without blocking on a FIFO or a device, which are refused.
fn read(path: &Path, what: &str) -> Result<Vec<u8>, String> {
    crate::file::read_regular(path, MAX_PEM_BYTES)
        .map_err(|e| format!("cannot read the {what} file {}: {e}", path.display()))
}

fn certificates(
    pem: &[u8],
    path: &Path,
    what: &str,
) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs: Vec<_> = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<_, _>>()
        .map_err(|e| {
            format!(
                "the {what} file {} is not valid PEM: {}",
                path.display(),
                pem_problem(&e)
            )
        })?;
    if certs.is_empty() {
        return Err(format!(
            "the {what} file {} holds no PEM certificate",
            path.display()
        ));
    }
    Ok(certs)
}

fn private_key(pem: &[u8], path: &Path) -> Result<PrivateKeyDer<'static>, String> {
    PrivateKeyDer::from_pem_slice(pem).map_err(|e| {
        format!(
            "the client key file {} holds no usable PEM private key: {}",
            path.display(),
            pem_problem(&e)
        )
    })
}

impl TlsMaterial {
    /// Reads and validates the files named by the configuration.
    pub(super) fn load(files: &TlsFiles) -> Result<Self, String> {
        let ca_pem = match &files.certificate {
            Some(path) => {
                let pem = read(path, "CA certificate")?;
                certificates(&pem, path, "CA certificate")?;
                Some(pem)
            }
            None => None,
        };
        let identity_pem = match (&files.client_certificate, &files.client_key) {
            (Some(cert_path), Some(key_path)) => {
                let cert = read(cert_path, "client certificate")?;
                certificates(&cert, cert_path, "client certificate")?;
                let key = read(key_path, "client key")?;
                private_key(&key, key_path)?;
                Some((cert, key))
            }
            _ => None,
        };
        Ok(TlsMaterial {
            ca_pem,
            identity_pem,
        })
    }

    /// A rustls client configuration (ring provider) for the HTTP client. The system roots
    /// are loaded only for `https://` endpoints.
    pub(super) fn rustls_config(&self, https: bool) -> Result<rustls::ClientConfig, String> {
        let mut roots = rustls::RootCertStore::empty();
        if https {
            let native = rustls_native_certs::load_native_certs();
            let (added, _ignored) = roots.add_parsable_certificates(native.certs);
            if added == 0 && self.ca_pem.is_none() {
                return Err("no system root certificates were found; set OTEL_EXPORTER_OTLP_CERTIFICATE to the collector's CA".into());
            }
        }
        if let Some(pem) = &self.ca_pem {
            for cert in CertificateDer::pem_slice_iter(pem).flatten() {
                roots
                    .add(cert)
                    .map_err(|e| format!("the CA certificate is not usable: {e}"))?;
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS setup failed: {e}"))?
            .with_root_certificates(roots);
        let mut config = match &self.identity_pem {
            Some((cert, key)) => {
                let chain = CertificateDer::pem_slice_iter(cert).flatten().collect();
                let key = PrivateKeyDer::from_pem_slice(key)
                    .map_err(|e| format!("the client key is not usable: {e}"))?;
                builder.with_client_auth_cert(chain, key).map_err(|e| {
                    format!("the client certificate and key do not form a usable identity: {e}")
                })?
            }
            None => builder.with_no_client_auth(),
        };
        // Signals share one client, so a second connection would resume the first one's TLS
        // session; servers that verify client certificates without a session id context
        // (OpenSSL's default, socat) refuse that resumption and the export fails. A hook makes
        // a few connections: each gets a full handshake, as with a client per signal.
        config.resumption = rustls::client::Resumption::disabled();
        Ok(config)
    }

    /// The tonic TLS configuration for a gRPC `https://` endpoint.
    ///
    /// OTLP/gRPC is always HTTP/2, so the connection goes ahead when the server does not
    /// answer ALPN: TLS terminators and proxies that do not negotiate `h2` (socat, some
    /// load balancers) would otherwise fail every export with "HTTP/2 was not negotiated".
    pub(super) fn tonic_config(&self) -> tonic::transport::ClientTlsConfig {
        let mut config = tonic::transport::ClientTlsConfig::new()
            .with_native_roots()
            .assume_http2(true);
        if let Some(pem) = &self.ca_pem {
            config = config.ca_certificate(tonic::transport::Certificate::from_pem(pem));
        }
        if let Some((cert, key)) = &self.identity_pem {
            config = config.identity(tonic::transport::Identity::from_pem(cert, key));
        }
        config
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::TempDir;

    #[test]
    fn a_missing_ca_file_is_named_in_the_error() {
        let files = TlsFiles {
            certificate: Some("/nonexistent/ca.pem".into()),
            ..TlsFiles::default()
        };
        let err = TlsMaterial::load(&files).expect_err("must fail");
        assert!(err.contains("/nonexistent/ca.pem"), "{err}");
    }

    #[test]
    fn a_ca_file_without_certificates_is_rejected() {
        let dir = TempDir::new("tls");
        let files = TlsFiles {
            certificate: Some(dir.write("empty.pem", "not a certificate\n")),
            ..TlsFiles::default()
        };
        let err = TlsMaterial::load(&files).expect_err("must fail");
        assert!(err.contains("no PEM certificate"), "{err}");
    }

    #[test]
    fn plain_http_needs_no_roots() {
        let config = TlsMaterial::default().rustls_config(false);
        assert!(config.is_ok());
    }
}
