//! go-plugin glue: the process side of Terraform's plugin protocol. `serve` checks the magic
//! cookie, listens on a unix socket (TLS when Terraform asks for AutoMTLS), prints the
//! handshake line and serves the tfplugin6 provider, health and controller services.

pub mod controller;
pub mod handshake;
pub mod logging;
pub mod tls;

use std::path::PathBuf;

use anyhow::Context;
use tokio::net::UnixListener;
use tokio_stream::wrappers::{ReceiverStream, UnixListenerStream};
use tonic::transport::Server;

use crate::framework::server::ProviderService;
use crate::proto::tfplugin6::provider_server::ProviderServer;
use controller::Controller;

/// Message size limit: Terraform asks for large schemas and states (terraform-plugin-go uses 256 MiB).
const MAX_MESSAGE: usize = 256 << 20;

/// Run as a plugin launched by Terraform/OpenTofu. Returns when the client shuts us down.
pub async fn serve(service: ProviderService) -> anyhow::Result<()> {
    let client_cert = std::env::var(handshake::CLIENT_CERT_ENV)
        .ok()
        .filter(|s| !s.trim().is_empty());
    let socket = SocketFile::new()?;
    let listener =
        UnixListener::bind(&socket.0).with_context(|| format!("binding {}", socket.0.display()))?;
    let (controller, shutdown) = Controller::new();
    let router = routes(service, controller).await;

    match client_cert {
        Some(pem) => {
            let tls = tls::ServerTls::new(&pem)?;
            handshake::print_line(&socket.0, Some(&tls.cert_der))?;
            handshake::detach_stdout().context("redirecting stdout after the handshake")?;
            // TLS is terminated here (tonic's own TLS rejects Terraform's CA-flagged client
            // cert); each accepted TLS stream is handed to tonic.
            let (tx, rx) = tokio::sync::mpsc::channel(16);
            let acceptor = tls.acceptor;
            tokio::spawn(async move {
                loop {
                    let Ok((sock, _)) = listener.accept().await else {
                        break;
                    };
                    let acceptor = acceptor.clone();
                    let tx = tx.clone();
                    tokio::spawn(async move {
                        match acceptor.accept(sock).await {
                            Ok(stream) => {
                                let _ = tx.send(Ok::<_, std::io::Error>(stream)).await;
                            }
                            Err(e) => {
                                tracing::warn!("TLS handshake with the plugin client failed: {e}")
                            }
                        }
                    });
                }
            });
            router
                .serve_with_incoming_shutdown(ReceiverStream::new(rx), shutdown)
                .await
                .context("gRPC server")?;
        }
        None => {
            handshake::print_line(&socket.0, None)?;
            handshake::detach_stdout().context("redirecting stdout after the handshake")?;
            router
                .serve_with_incoming_shutdown(UnixListenerStream::new(listener), shutdown)
                .await
                .context("gRPC server")?;
        }
    }
    Ok(())
}

/// `--debug`: serve plaintext on a unix socket and print `TF_REATTACH_PROVIDERS` so that a
/// Terraform started elsewhere attaches to this process (useful under a debugger).
pub async fn serve_debug(service: ProviderService, provider_address: &str) -> anyhow::Result<()> {
    let socket = SocketFile::new()?;
    let listener = UnixListener::bind(&socket.0)?;
    let router = routes(service, Controller::persistent()).await;
    let reattach = serde_json::json!({
        provider_address: {
            "Protocol": "grpc",
            "ProtocolVersion": 6,
            "Pid": std::process::id(),
            "Test": true,
            "Addr": {"Network": "unix", "String": socket.0.display().to_string()},
        }
    });
    println!("Provider started. To attach Terraform, set this in the shell that runs it:\n");
    println!("\tTF_REATTACH_PROVIDERS='{reattach}'\n");
    println!("Stop the provider with Ctrl-C.");
    let stop = async move {
        let _ = tokio::signal::ctrl_c().await;
    };
    router
        .serve_with_incoming_shutdown(UnixListenerStream::new(listener), stop)
        .await?;
    Ok(())
}

async fn routes(
    service: ProviderService,
    controller: Controller,
) -> tonic::transport::server::Router {
    let (reporter, health) = tonic_health::server::health_reporter();
    // go-plugin's client pings the "plugin" service.
    reporter
        .set_service_status("plugin", tonic_health::ServingStatus::Serving)
        .await;
    let provider = ProviderServer::new(service)
        .max_decoding_message_size(MAX_MESSAGE)
        .max_encoding_message_size(MAX_MESSAGE);
    Server::builder()
        .add_service(health)
        .add_service(
            crate::proto::plugin::grpc_controller_server::GrpcControllerServer::new(controller),
        )
        .add_service(provider)
}

static SOCKET_PATH: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// Remove the socket file before a hard exit (Drop does not run on `process::exit`).
pub(crate) fn remove_socket_file() {
    if let Some(p) = SOCKET_PATH.get() {
        let _ = std::fs::remove_file(p);
    }
}

/// The socket path, removed when the server stops.
struct SocketFile(PathBuf);

impl SocketFile {
    fn new() -> anyhow::Result<Self> {
        let dir = std::env::var_os("PLUGIN_UNIX_SOCKET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        let path = dir.join(format!(
            "plugin-incus-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        let _ = SOCKET_PATH.set(path.clone());
        Ok(SocketFile(path))
    }
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

pub use handshake::check_magic_cookie;
