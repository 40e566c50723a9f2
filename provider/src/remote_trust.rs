//! First contact with an HTTPS remote, as the Go provider (`lxc/incus`) does it:
//!
//! 1. `generate_client_certificates`: create `client.crt`/`client.key` in `config_dir` when
//!    missing (ECDSA P-384, 10 years, like `incus` itself), before anything connects.
//! 2. `accept_remote_certificate`: a server whose certificate is neither pinned
//!    (`servercerts/<remote>.crt`) nor verifiable by a CA gets its certificate fetched and
//!    pinned (trust on first use). Without the flag that is an error telling how to fix it.
//! 3. Remote `token`: when `GET /1.0` says `auth: "untrusted"`, redeem the one-time trust token
//!    with `POST /1.0/certificates` using the client certificate, then continue.
//!
//! Runs once per remote (the provider caches clients), on its own small runtime so it can be
//! called from the synchronous `ProviderData::client`.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use incus_client::cliconfig::CliConfig;
use incus_client::{Client, ServerTrust, TlsConfig};
use serde_json::{Value as Json, json};

/// The two provider-level switches (after env fallbacks).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TrustOptions {
    pub generate_client_certificates: bool,
    pub accept_remote_certificate: bool,
}

/// Why the first contact with a remote failed. Messages name the remote and the fix.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error("cannot write {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot generate the client certificate: {0}")]
    Generate(String),
    #[error(
        "remote {remote:?} ({addr}) presents a certificate that is not trusted and not pinned in {}. Either set accept_remote_certificate = true in the provider block (or INCUS_ACCEPT_SERVER_CERTIFICATE=true), or add the remote out of band (`incus remote add {remote} {addr}`)",
        pinned.display()
    )]
    UnknownServerCertificate {
        remote: String,
        addr: String,
        pinned: PathBuf,
    },
    #[error(
        "remote {remote:?} needs a client certificate to redeem its trust token, but {} is missing. Set generate_client_certificates = true in the provider block (or INCUS_GENERATE_CLIENT_CERTS=true), or create one with `incus remote list`",
        cert.display()
    )]
    NoClientCertificate { remote: String, cert: PathBuf },
    #[error(
        "remote {remote:?} rejected the trust token: {detail}. Tokens work once and expire; create a new one on the server with `incus config trust add <name>` and put it in the remote's `token`"
    )]
    TokenRejected { remote: String, detail: String },
    #[error(
        "remote {remote:?} does not trust this client ({}). Set `token` in its remote block (create one on the server with `incus config trust add <name>`), or trust the certificate there with `incus config trust add-certificate {}`",
        cert.display(),
        cert.display()
    )]
    Untrusted { remote: String, cert: PathBuf },
    #[error("remote {remote:?}: {source}")]
    Client {
        remote: String,
        // Boxed: the client error is large and this enum is returned everywhere.
        source: Box<incus_client::Error>,
    },
}

pub const CLIENT_CERT: &str = "client.crt";
pub const CLIENT_KEY: &str = "client.key";

/// Where the pinned certificate of `remote` lives in `config_dir`.
pub fn server_cert_path(config_dir: &Path, remote: &str) -> PathBuf {
    config_dir.join("servercerts").join(format!("{remote}.crt"))
}

/// Create `client.crt`/`client.key` in `config_dir` unless both exist. Returns whether it
/// created them. Key mode 0600; each file is written to a temp file and renamed, so a crash
/// never leaves a half-written identity.
pub fn ensure_client_certificate(config_dir: &Path) -> Result<bool, TrustError> {
    let (cert_path, key_path) = (config_dir.join(CLIENT_CERT), config_dir.join(CLIENT_KEY));
    if cert_path.exists() && key_path.exists() {
        return Ok(false);
    }
    create_dir(config_dir)?;
    let (cert_pem, key_pem) = generate_client_certificate()?;
    // Key first: a cert without its key is useless, and both must exist to be reused.
    write_atomic(&key_path, key_pem.as_bytes(), 0o600)?;
    write_atomic(&cert_path, cert_pem.as_bytes(), 0o644)?;
    Ok(true)
}

/// A client certificate like `incus` makes one. Returns (cert PEM, key PEM).
fn generate_client_certificate() -> Result<(String, String), TrustError> {
    let gen_err = |e: rcgen::Error| TrustError::Generate(e.to_string());
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).map_err(gen_err)?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let cert = client_certificate_params(now)
        .self_signed(&key)
        .map_err(gen_err)?;
    Ok((cert.pem(), key.serialize_pem()))
}

/// Organization "Linux Containers", CN `user@host`, client-auth usage, valid for 10 years
/// from `now` (time since the Unix epoch).
fn client_certificate_params(now: Duration) -> rcgen::CertificateParams {
    let mut params = rcgen::CertificateParams::default();
    let user = std::env::var("USER").unwrap_or_else(|_| "root".into());
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into());
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "Linux Containers");
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, format!("{user}@{host}"));
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::DigitalSignature,
        rcgen::KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    // rcgen takes calendar times; derive them from the epoch to avoid another dependency.
    let epoch = rcgen::date_time_ymd(1970, 1, 1);
    // Backdated a minute against small clock differences with the server.
    params.not_before = epoch + now.saturating_sub(Duration::from_secs(60));
    params.not_after = epoch + now + Duration::from_secs(TEN_YEARS_SECS);
    params
}

/// 10 years including leap days.
const TEN_YEARS_SECS: u64 = (10 * 365 + 3) * 24 * 3600;

fn create_dir(dir: &Path) -> Result<(), TrustError> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|source| TrustError::Io {
            path: dir.to_path_buf(),
            source,
        })
}

/// Write `bytes` to `path` through a temp file in the same directory + rename.
fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<(), TrustError> {
    let io = |source| TrustError::Io {
        path: path.to_path_buf(),
        source,
    };
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io)
}

/// Everything first contact needs about one remote.
pub struct Remote<'a> {
    pub name: &'a str,
    /// `https://host:port`.
    pub addr: &'a str,
    pub token: Option<&'a str>,
}

/// Steps 1-3 of the module doc for one HTTPS remote; afterwards `CliConfig::tls_for` yields
/// a configuration that connects pinned and trusted. Blocking: runs on a helper thread with
/// its own runtime, so it works from sync code inside or outside a Tokio runtime.
pub fn bootstrap_blocking(
    config_dir: &Path,
    remote: &Remote<'_>,
    opts: TrustOptions,
) -> Result<(), TrustError> {
    std::thread::scope(|s| {
        s.spawn(|| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|source| TrustError::Io {
                    path: config_dir.to_path_buf(),
                    source,
                })?;
            rt.block_on(bootstrap(config_dir, remote, opts))
        })
        .join()
        .unwrap_or_else(|_| Err(TrustError::Generate("bootstrap thread panicked".into())))
    })
}

async fn bootstrap(
    config_dir: &Path,
    remote: &Remote<'_>,
    opts: TrustOptions,
) -> Result<(), TrustError> {
    let client_err = |source| TrustError::Client {
        remote: remote.name.to_string(),
        source: Box::new(source),
    };
    if opts.generate_client_certificates {
        ensure_client_certificate(config_dir)?;
    }
    let mut tls = tls_for(config_dir, remote.name).map_err(client_err)?;

    // Server trust: pinned or CA-verifiable, else fetch-and-pin (only if accepted).
    if matches!(tls.server, ServerTrust::PlatformRoots) {
        let probe = Client::https(remote.addr, &tls)
            .map_err(client_err)?
            .get_json::<Json>("/1.0")
            .await;
        match probe {
            Ok(_) => {}
            Err(e) if e.is_transport() && !opts.accept_remote_certificate => {
                tracing::debug!(remote = remote.name, error = %e, "server certificate not trusted");
                return Err(TrustError::UnknownServerCertificate {
                    remote: remote.name.to_string(),
                    addr: remote.addr.to_string(),
                    pinned: server_cert_path(config_dir, remote.name),
                });
            }
            Err(e) if e.is_transport() => {
                let addr = remote.addr.to_string();
                let pem = tokio::task::spawn_blocking(move || {
                    incus_client::tls::fetch_server_certificate(&addr)
                })
                .await
                .map_err(|e| TrustError::Generate(format!("certificate fetch panicked: {e}")))?
                .map_err(client_err)?;
                let path = server_cert_path(config_dir, remote.name);
                create_dir(path.parent().unwrap_or(config_dir))?;
                write_atomic(&path, &pem, 0o644)?;
                tracing::info!(remote = remote.name, path = %path.display(), "pinned the server certificate");
                tls.server = ServerTrust::Pinned(pem);
            }
            Err(e) => return Err(client_err(e)),
        }
    }

    // Client trust: redeem the token if the server does not know us yet.
    let info: Json = Client::https(remote.addr, &tls)
        .map_err(client_err)?
        .get_json("/1.0")
        .await
        .map_err(client_err)?;
    if info.get("auth").and_then(Json::as_str) == Some("trusted") {
        return Ok(());
    }
    let cert = config_dir.join(CLIENT_CERT);
    let Some(token) = remote.token.filter(|t| !t.is_empty()) else {
        return Err(TrustError::Untrusted {
            remote: remote.name.to_string(),
            cert,
        });
    };
    if tls.client_cert.is_none() {
        return Err(TrustError::NoClientCertificate {
            remote: remote.name.to_string(),
            cert,
        });
    }
    let body = trust_request(token);
    let rejected = |detail: String| TrustError::TokenRejected {
        remote: remote.name.to_string(),
        detail,
    };
    Client::https(remote.addr, &tls)
        .map_err(client_err)?
        .post("/1.0/certificates", &body)
        .await
        .map_err(|e| {
            rejected(
                e.daemon_message()
                    .map_or_else(|| e.to_string(), str::to_string),
            )
        })?;
    // A fresh connection, so the answer reflects the new trust.
    let after: Json = Client::https(remote.addr, &tls)
        .map_err(client_err)?
        .get_json("/1.0")
        .await
        .map_err(client_err)?;
    if after.get("auth").and_then(Json::as_str) != Some("trusted") {
        return Err(rejected(
            "the server accepted the request but still reports this client as untrusted".into(),
        ));
    }
    tracing::info!(
        remote = remote.name,
        "client certificate trusted through the token"
    );
    Ok(())
}

/// `POST /1.0/certificates` body redeeming `token`: Incus reads the token from `trust_token`
/// (checked against Incus 6.0.4, whose `password` field does not accept tokens).
fn trust_request(token: &str) -> Json {
    json!({"type": "client", "trust_token": token})
}

/// The TLS material for `remote` as the incus CLI would use it (re-read from disk, since
/// the steps above may just have written files).
fn tls_for(config_dir: &Path, remote: &str) -> incus_client::Result<TlsConfig> {
    CliConfig::load(config_dir)?.tls_for(remote)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};

    #[test]
    fn generates_a_usable_client_identity_once() {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("incus");
        assert!(ensure_client_certificate(&conf).unwrap());
        let key_path = conf.join(CLIENT_KEY);
        let cert_path = conf.join(CLIENT_CERT);
        let mode = std::fs::metadata(&key_path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "key mode {mode:o}");
        let cert = std::fs::read(&cert_path).unwrap();
        let key = std::fs::read(&key_path).unwrap();
        CertificateDer::from_pem_slice(&cert).expect("certificate parses");
        PrivateKeyDer::from_pem_slice(&key).expect("key parses");
        // rustls accepts them as a client identity (the real use).
        let tls = TlsConfig {
            client_cert: Some(cert.clone()),
            client_key: Some(key.clone()),
            server: ServerTrust::Pinned(cert.clone()),
        };
        Client::https("https://127.0.0.1:1", &tls).expect("usable as a client identity");
        // No temp files left behind.
        let names: Vec<_> = std::fs::read_dir(&conf)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");

        // Second call reuses the pair.
        assert!(!ensure_client_certificate(&conf).unwrap());
        assert_eq!(std::fs::read(&cert_path).unwrap(), cert);
        assert_eq!(std::fs::read(&key_path).unwrap(), key);
    }

    #[test]
    fn generated_certificate_is_p384_and_valid_ten_years() {
        let (_, key_pem) = generate_client_certificate().unwrap();
        let key = rcgen::KeyPair::from_pem(&key_pem).unwrap();
        assert!(key.is_compatible(&rcgen::PKCS_ECDSA_P384_SHA384));
        let now = Duration::from_secs(1_700_000_000);
        let params = client_certificate_params(now);
        let days = (params.not_after - params.not_before).whole_days();
        assert!((3652..=3654).contains(&days), "{days} days");
        assert_eq!(
            params.not_before,
            rcgen::date_time_ymd(2023, 11, 14) + Duration::from_secs(22 * 3600 + 12 * 60 + 20)
        );
    }

    #[test]
    fn unwritable_config_dir_is_an_error_naming_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("not-a-dir");
        std::fs::write(&file, "x").unwrap();
        let err = ensure_client_certificate(&file.join("incus"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("not-a-dir"), "{err}");
    }

    #[test]
    fn error_texts_name_the_remote_and_the_fix() {
        let e = TrustError::UnknownServerCertificate {
            remote: "tls".into(),
            addr: "https://127.0.0.1:8443".into(),
            pinned: PathBuf::from("/c/servercerts/tls.crt"),
        }
        .to_string();
        assert!(e.contains("accept_remote_certificate = true"), "{e}");
        assert!(
            e.contains("incus remote add tls https://127.0.0.1:8443"),
            "{e}"
        );
        assert!(e.contains("/c/servercerts/tls.crt"), "{e}");
        let e = TrustError::TokenRejected {
            remote: "tls".into(),
            detail: "No matching cluster join secret or token found".into(),
        }
        .to_string();
        assert!(
            e.contains("\"tls\"") && e.contains("incus config trust add"),
            "{e}"
        );
        let e = TrustError::NoClientCertificate {
            remote: "r".into(),
            cert: PathBuf::from("/c/client.crt"),
        }
        .to_string();
        assert!(e.contains("generate_client_certificates = true"), "{e}");
    }

    #[test]
    fn trust_request_sends_the_token_as_trust_token() {
        assert_eq!(
            trust_request("T"),
            json!({"type": "client", "trust_token": "T"})
        );
    }

    #[test]
    fn refuses_an_unpinned_server_without_accept() {
        // A TLS server with a self-signed certificate: the platform roots reject it.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = format!("https://{}", listener.local_addr().unwrap());
        let ck = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let server_cfg = std::sync::Arc::new(
            rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
                rustls::crypto::aws_lc_rs::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![ck.cert.der().clone()],
                PrivateKeyDer::from_pem_slice(ck.signing_key.serialize_pem().as_bytes()).unwrap(),
            )
            .unwrap(),
        );
        let expected_der = ck.cert.der().to_vec();
        let server = std::thread::spawn(move || {
            // Serve handshakes until the listener's two expected clients are done.
            for _ in 0..2 {
                let (mut sock, _) = listener.accept().unwrap();
                let mut conn = rustls::ServerConnection::new(server_cfg.clone()).unwrap();
                while conn.is_handshaking() {
                    if conn.complete_io(&mut sock).is_err() {
                        break;
                    }
                }
            }
        });
        let dir = tempfile::tempdir().unwrap();
        let remote = Remote {
            name: "fake",
            addr: &addr,
            token: None,
        };
        let err = bootstrap_blocking(dir.path(), &remote, TrustOptions::default()).unwrap_err();
        assert!(
            matches!(err, TrustError::UnknownServerCertificate { .. }),
            "{err}"
        );
        assert!(!server_cert_path(dir.path(), "fake").exists());
        // The fetch half on the same server returns exactly its certificate.
        let pem = incus_client::tls::fetch_server_certificate(&addr).unwrap();
        let der = CertificateDer::from_pem_slice(&pem).unwrap();
        assert_eq!(der.as_ref(), expected_der.as_slice());
        server.join().unwrap();
    }
}
