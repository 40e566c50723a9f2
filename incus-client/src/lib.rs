//! Incus REST API client: unix socket and HTTPS remotes, projects/targets, background
//! operations, typed errors, typed models, exec and files. No Terraform or Ansible knowledge.
//!
//! ```no_run
//! use incus_client::{Client, ExecRequest, FilePush, InstancesPost};
//! # async fn demo() -> incus_client::Result<()> {
//! // Local daemon ($INCUS_SOCKET, $INCUS_DIR/unix.socket, /var/lib/incus/unix.socket, /run/incus/unix.socket)
//! let incus = Client::local()?;
//! // ...or a remote of the incus CLI config (~/.config/incus or $INCUS_CONF):
//! // let incus = Client::from_cli_config(None, Some("prod"))?;
//!
//! // Scoped handles are cheap and share the connection pool: ?project=demo on every call.
//! let c = incus.with_project("demo");
//! if c.has_extension("instance_create_start").await? { /* feature gate */ }
//!
//! let mut req = InstancesPost::container_from_alias("web1", "local/debian12");
//! req.start = true;
//! c.create_instance(&req).await?;                    // waits for the operation
//!
//! let out = c.exec("web1", &ExecRequest::new(["uname", "-r"])).await?;
//! assert_eq!(out.exit_code, 0);
//! let out = c.exec("web1", &ExecRequest::new(["cat"]).stdin(b"hi".to_vec())).await?;
//! assert_eq!(out.stdout, b"hi");
//!
//! c.push_file("web1", "/etc/motd", &FilePush::file("hello\n").mode(0o644).owner(0, 0)).await?;
//! let f = c.pull_file("web1", "/etc/motd").await?;   // f.content, f.meta.{uid,gid,mode,file_type}
//! let meta = c.stat_file("web1", "/etc/nope").await?; // None: does not exist
//! # let _ = (f, meta);
//!
//! // Read-modify-write guarded by the ETag (412 -> Error::PreconditionFailed):
//! let (inst, etag) = c.get_instance_with_etag("web1").await?;
//! let mut put = inst.writable();
//! put.config.insert("user.role".into(), "web".into());
//! c.update_instance("web1", &put, etag.as_deref()).await?;
//!
//! // Any endpoint, raw: sync/async envelopes and operation waits are handled.
//! let names: Vec<String> = c.get_json("/1.0/instances").await?;
//! c.patch("/1.0/instances/web1", &serde_json::json!({"description": "x"}), None).await?;
//! # let _ = names;
//!
//! match c.get_instance("nope").await {
//!     Err(e) if e.is_not_found() => {}               // "GET /1.0/instances/nope?project=demo: not found: Instance not found"
//!     other => { other?; }
//! }
//! c.stop_instance("web1", true).await?;
//! c.delete_instance("web1").await?;
//! # Ok(()) }
//! ```
//!
//! Errors: [`Error`] names the method, the path (with `?project=`) and the daemon's text.
//! Operations: calls that start one wait for it (`/1.0/operations/ID/wait`) up to the
//! handle's [`Client::with_operation_timeout`] (default 300 s); see also
//! [`Client::send`], [`Client::wait_operation`], [`Client::cancel_operation`].
//! Files: owner and mode are applied by Incus **only when a file is created** (see [`files`]).
//! Exec: [`ExecMode::Auto`] uses record-output without stdin and websockets with stdin;
//! [`Client::exec_streaming`] hands output to a callback as it arrives. On a timeout in
//! websocket mode the daemon kills the command (its streams close); in record-output mode the
//! command keeps running.
//!
//! Daemon behaviour seen on Incus 6.0.4 (tests in `tests/` pin it down):
//! - The instance `ETag` covers architecture, config, devices, ephemeral and profiles, **not
//!   the description**: a concurrent description change does not trigger 412.
//! - Several refusals come back as HTTP 500: validation errors, "User does not have
//!   permissions for project", and "... already exists" (mapped to [`Error::Conflict`]).
//! - A duplicate instance name fails inside the create operation ("UNIQUE constraint
//!   failed"); [`Client::create_instance`] reports it as `Conflict`. An unknown image alias
//!   fails as "Image not provided for instance creation"; `create_instance` reports it as
//!   `NotFound` naming the alias.
//! - Exec of a missing executable fails the operation with "Command not found" (the error
//!   adds the executable's name). A push into a missing directory is a bare 404 "Not Found"
//!   (the error adds the parent directory).
//! - A websocket dropped without a Close frame makes the daemon kill the command; exec
//!   closes all three cleanly.

pub mod api;
pub mod cliconfig;
mod client;
pub mod error;
pub mod exec;
pub mod files;
mod operations;
pub mod tls;
mod tls_fetch;
mod transport;
mod ws;

pub use api::image::{Image, ImageAlias, ImageAliasEntry};
pub use api::instance::{
    Instance, InstancePut, InstanceSnapshot, InstanceSnapshotsPost, InstanceSource, InstanceState,
    InstanceStatePut, InstancesPost,
};
pub use api::load_balancer::{
    LoadBalancerBackend, LoadBalancerPort, NetworkLoadBalancer, NetworkLoadBalancerPut,
    NetworkLoadBalancersPost,
};
pub use api::network::{Network, NetworkPut, NetworksPost};
pub use api::network_acl::{NetworkAcl, NetworkAclPut, NetworkAclRule, NetworkAclsPost};
pub use api::operation::Operation;
pub use api::profile::{Profile, ProfilePut, ProfilesPost};
pub use api::project::{Project, ProjectPut, ProjectsPost};
pub use api::server::{Server, ServerEnvironment};
pub use api::storage::{
    StoragePool, StoragePoolPut, StoragePoolsPost, StorageVolume, StorageVolumePut,
    StorageVolumeSnapshot, StorageVolumeSnapshotPut, StorageVolumeSnapshotsPost,
    StorageVolumesPost,
};
pub use api::{Config, Devices};
pub use cliconfig::{CliConfig, Remote};
pub use client::{
    ApiResponse, Client, DEFAULT_OPERATION_TIMEOUT, DEFAULT_REQUEST_TIMEOUT, Response,
    encode_segment,
};
pub use error::{Error, Result};
pub use exec::{ExecMode, ExecOutput, ExecRequest, ExecSession, OutputStream};
pub use files::{FileMeta, FilePush, FileType, PulledFile};
pub use reqwest::Method;
pub use tls::{ServerTrust, TlsConfig};
pub use transport::default_socket_path;
