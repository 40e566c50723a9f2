//! TLS for HTTPS remotes, mirroring the incus CLI (`shared/tls`):
//! - TLS 1.3 only;
//! - a client certificate (the identity the server trusts);
//! - the server is trusted either through a pinned certificate (`servercerts/<remote>.crt`,
//!   compared byte for byte, and its handshake signature still checked) or through CA roots
//!   (an explicit CA file, else the platform's roots).
//!
//! The same `rustls::ClientConfig` serves reqwest and the exec websockets.

use std::path::Path;
use std::sync::Arc;

use rustls::DigitallySignedStruct;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};

use crate::error::{Error, Result};

pub use crate::tls_fetch::fetch_server_certificate;

/// How to trust the server of a remote.
#[derive(Clone, Debug, Default)]
pub enum ServerTrust {
    /// Accept exactly this certificate (PEM), like `servercerts/<remote>.crt`.
    Pinned(Vec<u8>),
    /// Verify the chain against these CA certificates (PEM, may hold several).
    Ca(Vec<u8>),
    /// Verify against the platform's root store.
    #[default]
    PlatformRoots,
}

/// TLS material for an HTTPS remote. All PEM bytes.
#[derive(Clone, Debug, Default)]
pub struct TlsConfig {
    pub client_cert: Option<Vec<u8>>,
    pub client_key: Option<Vec<u8>>,
    pub server: ServerTrust,
}

impl TlsConfig {
    /// Read a client certificate/key pair and an optional pinned server certificate from files.
    pub fn from_files(
        client_cert: Option<&Path>,
        client_key: Option<&Path>,
        pinned_server_cert: Option<&Path>,
    ) -> Result<TlsConfig> {
        let read = |p: &Path| {
            std::fs::read(p).map_err(|e| Error::Config {
                path: p.to_path_buf(),
                detail: format!("cannot read: {e}"),
            })
        };
        Ok(TlsConfig {
            client_cert: client_cert.map(read).transpose()?,
            client_key: client_key.map(read).transpose()?,
            server: match pinned_server_cert {
                Some(p) => ServerTrust::Pinned(read(p)?),
                None => ServerTrust::PlatformRoots,
            },
        })
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

fn cfg_err(what: &str, detail: impl std::fmt::Display) -> Error {
    Error::Config {
        path: what.into(),
        detail: detail.to_string(),
    }
}

fn parse_certs(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| cfg_err(what, format!("invalid PEM certificate: {e}")))?;
    if certs.is_empty() {
        return Err(cfg_err(what, "no certificate found in PEM data"));
    }
    Ok(certs)
}

/// Build the rustls configuration for a remote.
pub(crate) fn client_config(tls: &TlsConfig) -> Result<Arc<rustls::ClientConfig>> {
    let provider = provider();
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| cfg_err("tls", e))?;

    let builder = match &tls.server {
        ServerTrust::Pinned(pem) => {
            let pinned = parse_certs(pem, "pinned server certificate")?
                .into_iter()
                .next()
                .ok_or_else(|| cfg_err("pinned server certificate", "empty"))?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(PinnedVerifier {
                    pinned,
                    algorithms: provider.signature_verification_algorithms,
                }))
        }
        ServerTrust::Ca(pem) => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in parse_certs(pem, "CA certificate")? {
                roots
                    .add(cert)
                    .map_err(|e| cfg_err("CA certificate", format!("unusable: {e}")))?;
            }
            builder.with_root_certificates(roots)
        }
        ServerTrust::PlatformRoots => {
            let verifier = rustls_platform_verifier::Verifier::new(provider.clone())
                .map_err(|e| cfg_err("platform root certificates", e))?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(verifier))
        }
    };

    let config = match (&tls.client_cert, &tls.client_key) {
        (Some(cert), Some(key)) => {
            let certs = parse_certs(cert, "client certificate")?;
            let key = PrivateKeyDer::from_pem_slice(key)
                .map_err(|e| cfg_err("client key", format!("invalid PEM private key: {e}")))?;
            builder
                .with_client_auth_cert(certs, key)
                .map_err(|e| cfg_err("client certificate", e))?
        }
        (None, None) => builder.with_no_client_auth(),
        _ => {
            return Err(cfg_err(
                "client certificate",
                "a client certificate needs its key and vice versa",
            ));
        }
    };
    Ok(Arc::new(config))
}

/// Accepts exactly one server certificate, whatever name it carries: Incus servers usually
/// have self-signed certificates for a name that is not the address used to reach them.
/// The handshake signature is still verified, so the peer must hold the pinned key.
#[derive(Debug)]
struct PinnedVerifier {
    pinned: CertificateDer<'static>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for PinnedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.pinned.as_ref() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(
                "server certificate does not match the pinned certificate (servercerts/<remote>.crt)"
                    .into(),
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
