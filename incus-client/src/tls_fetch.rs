//! Trust on first use: read a server's certificate without trusting it, so a caller that was
//! told to accept it (`accept_remote_certificate`, `incus remote add --accept-certificate`) can
//! store it as `servercerts/<remote>.crt` and then connect pinned.
//!
//! Kept apart from [`crate::tls`] on purpose: this is the only place that accepts any
//! certificate, and it never sends a request — it completes a handshake, copies the leaf
//! certificate and closes.

use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use rustls::DigitallySignedStruct;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use crate::error::{Error, Result};

const TIMEOUT: Duration = Duration::from_secs(10);

/// Connect to `addr` (`https://host[:port]` or `host[:port]`, port 8443 by default), finish a
/// TLS handshake accepting whatever certificate the server shows, and return that leaf
/// certificate as PEM. Blocking (std sockets): callable from sync code and from a
/// `spawn_blocking`/helper thread.
pub fn fetch_server_certificate(addr: &str) -> Result<Vec<u8>> {
    let fail = |detail: String| Error::Config {
        path: addr.into(),
        detail: format!("cannot fetch the server certificate: {detail}"),
    };
    let (host, port) = split_host_port(addr)
        .ok_or_else(|| fail("address must look like https://host[:port]".into()))?;

    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| fail(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAnyLeaf {
            algorithms: provider.signature_verification_algorithms,
        }))
        .with_no_client_auth();
    let name =
        ServerName::try_from(host.clone()).map_err(|e| fail(format!("bad host {host:?}: {e}")))?;
    let mut conn =
        rustls::ClientConnection::new(Arc::new(config), name).map_err(|e| fail(e.to_string()))?;

    let sockaddr = (host.as_str(), port)
        .to_socket_addrs()
        .map_err(|e| fail(format!("cannot resolve {host}: {e}")))?
        .next()
        .ok_or_else(|| fail(format!("{host} resolves to no address")))?;
    let mut sock = TcpStream::connect_timeout(&sockaddr, TIMEOUT)
        .map_err(|e| fail(format!("cannot connect to {sockaddr}: {e}")))?;
    sock.set_read_timeout(Some(TIMEOUT))
        .map_err(|e| fail(e.to_string()))?;
    sock.set_write_timeout(Some(TIMEOUT))
        .map_err(|e| fail(e.to_string()))?;
    while conn.is_handshaking() {
        conn.complete_io(&mut sock)
            .map_err(|e| fail(format!("TLS handshake with {sockaddr} failed: {e}")))?;
    }
    let leaf = conn
        .peer_certificates()
        .and_then(|c| c.first())
        .ok_or_else(|| fail("the server sent no certificate".into()))?;
    let pem = to_pem(leaf.as_ref());
    // Polite close; the certificate is already in hand, so errors here don't matter.
    conn.send_close_notify();
    let _ = conn.complete_io(&mut sock);
    Ok(pem.into_bytes())
}

/// `https://host:port`, `host:port`, `host`, `[v6]:port` → (host, port).
fn split_host_port(addr: &str) -> Option<(String, u16)> {
    let rest = addr.strip_prefix("https://").unwrap_or(addr);
    let rest = rest.split('/').next()?;
    if rest.is_empty() {
        return None;
    }
    if let Some(v6) = rest.strip_prefix('[') {
        let (host, after) = v6.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None if after.is_empty() => 8443,
            None => return None,
        };
        return Some((host.to_string(), port));
    }
    match rest.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => Some((h.to_string(), p.parse().ok()?)),
        Some(_) => Some((rest.to_string(), 8443)), // bare IPv6 without brackets
        None => Some((rest.to_string(), 8443)),
    }
}

/// DER → PEM `CERTIFICATE` block with 64-column lines (what the incus CLI writes).
fn to_pem(der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

/// Accepts any leaf certificate (the caller is about to pin it) but still checks the
/// handshake signature, so the peer must own the key of the certificate we store.
#[derive(Debug)]
struct AcceptAnyLeaf {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AcceptAnyLeaf {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rustls_pki_types::pem::PemObject;

    #[test]
    fn addresses() {
        assert_eq!(
            split_host_port("https://10.0.0.1:8444"),
            Some(("10.0.0.1".into(), 8444))
        );
        assert_eq!(split_host_port("https://h"), Some(("h".into(), 8443)));
        assert_eq!(split_host_port("[::1]:9"), Some(("::1".into(), 9)));
        assert_eq!(split_host_port("https://"), None);
        assert_eq!(split_host_port("h:notaport"), None);
    }

    #[test]
    fn pem_round_trips() {
        let der: Vec<u8> = (0..200u8).collect();
        let pem = to_pem(&der);
        assert!(pem.lines().all(|l| l.len() <= 64));
        let back = CertificateDer::from_pem_slice(pem.as_bytes()).unwrap();
        assert_eq!(back.as_ref(), der.as_slice());
    }

    #[test]
    fn unreachable_address_is_an_error_naming_it() {
        // Port 1 on loopback: nothing listens there.
        let err = fetch_server_certificate("https://127.0.0.1:1")
            .unwrap_err()
            .to_string();
        assert!(err.contains("127.0.0.1:1"), "{err}");
    }
}
