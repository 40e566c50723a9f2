//! Where the daemon is and how to open a raw byte stream to it (for websockets, which need a
//! connection of their own outside reqwest's pool).

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite};

/// A bidirectional byte stream (unix socket, or TLS over TCP).
pub(crate) trait RawStream: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> RawStream for T {}
pub(crate) type BoxStream = Pin<Box<dyn RawStream>>;

#[derive(Debug)]
pub(crate) enum Endpoint {
    /// Local daemon. URLs are `http://incus/1.0/...`; the host part is ignored by the socket.
    Unix { socket: PathBuf },
    /// Remote daemon over HTTPS (`https://host:port`).
    Https {
        base: String,
        host: String,
        port: u16,
        tls: Arc<rustls::ClientConfig>,
    },
}

impl Endpoint {
    pub(crate) fn base_url(&self) -> &str {
        match self {
            Endpoint::Unix { .. } => "http://incus",
            Endpoint::Https { base, .. } => base,
        }
    }

    /// Base URL for websockets (`ws://` / `wss://`).
    pub(crate) fn ws_base_url(&self) -> String {
        match self {
            Endpoint::Unix { .. } => "ws://incus".to_string(),
            Endpoint::Https { host, port, .. } => format!("wss://{}:{port}", bracket_ipv6(host)),
        }
    }

    /// Human description used in transport errors.
    pub(crate) fn describe(&self) -> String {
        match self {
            Endpoint::Unix { socket } => format!("unix socket {}", socket.display()),
            Endpoint::Https { base, .. } => base.clone(),
        }
    }

    /// Open a fresh connection to the daemon.
    pub(crate) async fn connect_raw(&self) -> std::io::Result<BoxStream> {
        match self {
            Endpoint::Unix { socket } => {
                let s = tokio::net::UnixStream::connect(socket).await?;
                Ok(Box::pin(s))
            }
            Endpoint::Https {
                host, port, tls, ..
            } => {
                let tcp = tokio::net::TcpStream::connect((host.as_str(), *port)).await?;
                tcp.set_nodelay(true)?;
                let name = rustls_pki_types::ServerName::try_from(host.clone())
                    .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
                let stream = tokio_rustls::TlsConnector::from(tls.clone())
                    .connect(name, tcp)
                    .await?;
                Ok(Box::pin(stream))
            }
        }
    }
}

fn bracket_ipv6(host: &str) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

/// The local socket path, resolved like the incus CLI does:
/// `$INCUS_SOCKET`, else `$INCUS_DIR/unix.socket`, else `/var/lib/incus/unix.socket` when it
/// exists, else `/run/incus/unix.socket`.
pub fn default_socket_path() -> PathBuf {
    resolve_socket_path(
        std::env::var_os("INCUS_SOCKET").map(PathBuf::from),
        std::env::var_os("INCUS_DIR").map(PathBuf::from),
        |p| p.exists(),
    )
}

pub(crate) fn resolve_socket_path(
    incus_socket: Option<PathBuf>,
    incus_dir: Option<PathBuf>,
    exists: impl Fn(&Path) -> bool,
) -> PathBuf {
    if let Some(s) = incus_socket.filter(|s| !s.as_os_str().is_empty()) {
        return s;
    }
    if let Some(d) = incus_dir.filter(|d| !d.as_os_str().is_empty()) {
        return d.join("unix.socket");
    }
    let var_lib = PathBuf::from("/var/lib/incus/unix.socket");
    if exists(&var_lib) {
        return var_lib;
    }
    PathBuf::from("/run/incus/unix.socket")
}

/// Split `https://host:port` (port defaults to 8443) into host and port.
pub(crate) fn parse_https_addr(addr: &str) -> Option<(String, u16)> {
    let rest = addr.strip_prefix("https://")?;
    let rest = rest.trim_end_matches('/');
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
        Some((h, p)) => Some((h.to_string(), p.parse().ok()?)),
        None => Some((rest.to_string(), 8443)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_resolution_order() {
        let none = |_: &Path| false;
        assert_eq!(
            resolve_socket_path(Some("/a".into()), Some("/d".into()), none),
            PathBuf::from("/a")
        );
        assert_eq!(
            resolve_socket_path(None, Some("/d".into()), none),
            PathBuf::from("/d/unix.socket")
        );
        assert_eq!(
            resolve_socket_path(None, None, |_| true),
            PathBuf::from("/var/lib/incus/unix.socket")
        );
        assert_eq!(
            resolve_socket_path(None, None, none),
            PathBuf::from("/run/incus/unix.socket")
        );
    }

    #[test]
    fn https_addresses() {
        assert_eq!(
            parse_https_addr("https://10.0.0.1:8443"),
            Some(("10.0.0.1".into(), 8443))
        );
        assert_eq!(
            parse_https_addr("https://host"),
            Some(("host".into(), 8443))
        );
        assert_eq!(
            parse_https_addr("https://[fd00::1]:9000/"),
            Some(("fd00::1".into(), 9000))
        );
        assert_eq!(parse_https_addr("unix://"), None);
    }
}
