//! The provider block, compatible with the Go provider (`lxc/incus`):
//!
//! ```hcl
//! provider "incus" {
//!   config_dir                   = "~/.config/incus"   # the incus CLI config (remotes, certs)
//!   generate_client_certificates = false
//!   accept_remote_certificate    = false
//!   default_remote               = "local"
//!   project                      = "default"           # legacy (v1.0.x); default project
//!   remote {
//!     name    = "cluster"
//!     address = "https://10.0.0.1:8443"                # or unix:// ; legacy: scheme + port
//!     project = "web"                                   # per-remote default project
//!     default = false                                   # legacy: make it the default
//!     token   = "..."                                   # one-time trust token (sensitive)
//!   }
//! }
//! ```
//! Remotes are lazy: nothing connects until a resource needs the remote, and clients are
//! cached per remote. With nothing configured, the local unix socket is used. The first
//! connection to an HTTPS remote (client certificate generation, first-use server
//! certificate pinning, token redemption) is in [`crate::remote_trust`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use incus_client::Client;
use incus_client::cliconfig::CliConfig;

use crate::cty::{AttrPath, Type, Value};
use crate::framework::diag::{self, Diagnostics};
use crate::framework::schema::{Attribute, Block, NestedBlock, Nesting, Schema};
use crate::remote_trust::{self, TrustOptions};

pub fn schema() -> Schema {
    let remote = Block::new(vec![
        Attribute::required("name", Type::String).desc("Name of the remote, used by `remote` on resources and in `remote:alias` images."),
        Attribute::optional("address", Type::String)
            .desc("`https://host:8443` (comma-separated for clusters), `unix:///path`, or empty for the local socket. Legacy: a bare host with `scheme` and `port`."),
        Attribute::optional("protocol", Type::String)
            .desc("`incus` (default) for a daemon, `simplestreams` or `oci` for image servers.")
            .validate(crate::one_of!(PROTOCOLS)),
        Attribute::optional("authentication_type", Type::String).desc("`tls` (default). `oidc` is not supported."),
        Attribute::optional("token", Type::String).sensitive().desc("One-time trust token (`incus config trust add <name>` on the server), redeemed with the client certificate when the server does not trust it yet."),
        Attribute::optional("public", Type::Bool).desc("Image-only public server (no authentication)."),
        Attribute::optional("credentials_helper", Type::String).desc("OCI credentials helper (image servers only)."),
        Attribute::optional("project", Type::String).desc("Default project for resources on this remote."),
        Attribute::optional("scheme", Type::String).desc("Legacy (provider v0.5): `unix` or `https`."),
        Attribute::optional("port", Type::String).desc("Legacy (provider v0.5): port of an https remote (default 8443)."),
        Attribute::optional("default", Type::Bool).desc("Legacy (provider v0.5): make this the default remote."),
    ]);
    Schema::new(
        Block::new(vec![
            Attribute::optional("config_dir", Type::String)
                .desc("Directory of the incus CLI configuration (`config.yml`, `client.crt`, `servercerts/`). Default: `$INCUS_CONF`, else `~/.config/incus`."),
            Attribute::optional("generate_client_certificates", Type::Bool)
                .desc("Create `client.crt`/`client.key` in `config_dir` when missing (env `INCUS_GENERATE_CLIENT_CERTS`)."),
            Attribute::optional("accept_remote_certificate", Type::Bool)
                .desc("Trust an https remote's certificate on first use and store it in `servercerts/` (env `INCUS_ACCEPT_SERVER_CERTIFICATE`)."),
            Attribute::optional("default_remote", Type::String).desc("Remote used by resources without `remote`."),
            Attribute::optional("project", Type::String)
                .desc("Default project for resources without `project` (accepted for compatibility with provider v1.0.x, where it was ignored)."),
        ])
        .with_blocks(vec![NestedBlock::new("remote", Nesting::List, remote).desc("An Incus daemon or image server.")])
        .desc("Manages Incus instances, profiles and more through the Incus REST API."),
    )
}

const PROTOCOLS: &[&str] = &["incus", "simplestreams", "oci"];

/// Check that a string value is one of `allowed` (use through [`one_of!`](crate::one_of)).
pub fn check_one_of(v: &Value, path: &AttrPath, diags: &mut Diagnostics, allowed: &[&str]) {
    if let Some(s) = v.as_str()
        && !allowed.contains(&s)
    {
        diags.error_at(
            path.clone(),
            format!("Invalid value {s:?}"),
            format!("{path} must be one of: {}.", allowed.join(", ")),
        );
    }
}

/// A schema validator accepting only the listed strings: `.validate(one_of!(LIST))`.
#[macro_export]
macro_rules! one_of {
    ($list:expr) => {
        |v: &$crate::cty::Value,
         p: &$crate::cty::AttrPath,
         d: &mut $crate::framework::Diagnostics| {
            $crate::config::check_one_of(v, p, d, $list)
        }
    };
}

/// Cross-field checks of the provider block.
pub fn validate(config: &Value, diags: &mut Diagnostics) {
    let mut names = BTreeMap::new();
    for (i, r) in config.attr("remote").elements().iter().enumerate() {
        let path = AttrPath::attr("remote").then_index(i);
        if let Some(n) = r.attr("name").as_str()
            && names.insert(n.to_string(), i).is_some()
        {
            diags.error_at(
                path.then_attr("name"),
                format!("Duplicate remote {n:?}"),
                "Each remote block needs a unique name.",
            );
        }
        if r.attr("authentication_type").as_str() == Some("oidc") {
            diags.error_at(
                path.then_attr("authentication_type"),
                "OIDC is not supported",
                "Use TLS client certificates (`authentication_type = \"tls\"`, the default).",
            );
        }
    }
    if let Some(d) = config.attr("default_remote").as_str()
        && !names.contains_key(d)
        && !names.is_empty()
        && d != "local"
    {
        diags.warning_at(
            AttrPath::attr("default_remote"),
            format!("default_remote {d:?} is not a remote block"),
            "It must name a remote block or a remote of the incus CLI configuration.",
        );
    }
}

/// A remote after merging provider blocks, the CLI config and defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteDef {
    pub name: String,
    /// `unix://...` or `https://host:port`.
    pub address: String,
    pub protocol: String,
    pub project: Option<String>,
    pub public: bool,
    /// One-time trust token (sensitive: never printed).
    pub token: Option<Secret>,
}

/// A string that `Debug` does not print (trust tokens).
#[derive(Clone, PartialEq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl RemoteDef {
    pub fn is_image_server(&self) -> bool {
        !self.protocol.is_empty() && self.protocol != "incus"
    }
}

/// Everything resources need: remotes and lazily built clients.
pub struct ProviderData {
    pub config_dir: PathBuf,
    pub cli: Option<CliConfig>,
    pub remotes: BTreeMap<String, RemoteDef>,
    pub default_remote: String,
    pub default_project: Option<String>,
    /// `generate_client_certificates` / `accept_remote_certificate` (after env fallbacks).
    pub trust: TrustOptions,
    clients: Mutex<BTreeMap<String, Client>>,
}

fn env_bool(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| matches!(v.to_lowercase().as_str(), "1" | "true" | "yes"))
}

fn expand_home(p: &str) -> PathBuf {
    match (p.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => Path::new(&home).join(rest),
        _ => PathBuf::from(p),
    }
}

impl ProviderData {
    /// Build from the provider block. Errors name the attribute and the fix.
    pub fn configure(config: &Value) -> Result<(ProviderData, Diagnostics), Diagnostics> {
        let warnings = Diagnostics::new();
        let config_dir = match config.attr("config_dir").as_str() {
            Some(d) if !d.is_empty() => expand_home(d),
            _ => CliConfig::default_dir().unwrap_or_else(|| PathBuf::from("/root/.config/incus")),
        };
        let cli = if config_dir.join("config.yml").exists() {
            match CliConfig::load(&config_dir) {
                Ok(c) => Some(c),
                Err(e) => {
                    return Err(diag::error_at(
                        AttrPath::attr("config_dir"),
                        "Cannot read the incus CLI configuration",
                        format!(
                            "{e}. Fix or remove {}, or point config_dir elsewhere.",
                            config_dir.join("config.yml").display()
                        ),
                    ));
                }
            }
        } else {
            None
        };
        let generate = config
            .attr("generate_client_certificates")
            .as_bool()
            .unwrap_or_else(|| env_bool("INCUS_GENERATE_CLIENT_CERTS"));
        let accept = config
            .attr("accept_remote_certificate")
            .as_bool()
            .unwrap_or_else(|| env_bool("INCUS_ACCEPT_SERVER_CERTIFICATE"));
        let trust = TrustOptions {
            generate_client_certificates: generate,
            accept_remote_certificate: accept,
        };

        let mut remotes: BTreeMap<String, RemoteDef> = BTreeMap::new();
        // The CLI's remotes come first, so existing `incus remote add` setups just work.
        if let Some(cli) = &cli {
            for (name, r) in &cli.remotes {
                remotes.insert(
                    name.clone(),
                    RemoteDef {
                        name: name.clone(),
                        address: r.addr.clone(),
                        protocol: r.protocol.clone(),
                        project: Some(r.project.clone()).filter(|p| !p.is_empty()),
                        public: r.public,
                        token: None,
                    },
                );
            }
        }
        remotes.entry("local".into()).or_insert_with(|| RemoteDef {
            name: "local".into(),
            address: "unix://".into(),
            protocol: "incus".into(),
            project: None,
            public: false,
            token: None,
        });
        let mut default_remote = cli
            .as_ref()
            .map(|c| c.default_remote.clone())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "local".into());
        if let Ok(r) = std::env::var("INCUS_REMOTE")
            && !r.is_empty()
        {
            default_remote = r;
        }
        for (i, r) in config.attr("remote").elements().iter().enumerate() {
            let path = AttrPath::attr("remote").then_index(i);
            let name = r.attr("name").as_str().unwrap_or_default().to_string();
            let address = legacy_address(r).map_err(|msg| {
                diag::error_at(path.then_attr("address"), "Invalid remote address", msg)
            })?;
            if r.attr("default").as_bool() == Some(true) {
                default_remote = name.clone();
            }
            remotes.insert(
                name.clone(),
                RemoteDef {
                    name,
                    address,
                    protocol: r.attr("protocol").as_str().unwrap_or("incus").to_string(),
                    project: r.attr("project").as_str().map(str::to_string),
                    public: r.attr("public").as_bool().unwrap_or(false),
                    token: r
                        .attr("token")
                        .as_str()
                        .filter(|t| !t.is_empty())
                        .map(|t| Secret(t.to_string())),
                },
            );
        }
        if let Some(d) = config.attr("default_remote").as_str() {
            default_remote = d.to_string();
        }
        if !remotes.contains_key(&default_remote) {
            return Err(diag::error_at(
                AttrPath::attr("default_remote"),
                format!("Unknown default remote {default_remote:?}"),
                format!(
                    "Known remotes: {}. Add a remote block with this name or choose one of these.",
                    remotes.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        Ok((
            ProviderData {
                config_dir,
                cli,
                remotes,
                default_remote,
                default_project: config.attr("project").as_str().map(str::to_string),
                trust,
                clients: Mutex::new(BTreeMap::new()),
            },
            warnings,
        ))
    }

    /// For tests: the local socket only.
    pub fn local() -> ProviderData {
        // An empty provider block is always valid.
        match ProviderData::configure(&Value::null_object(&schema().ty())) {
            Ok((d, _)) => d,
            Err(_) => ProviderData {
                config_dir: PathBuf::new(),
                cli: None,
                remotes: BTreeMap::new(),
                default_remote: "local".into(),
                default_project: None,
                trust: TrustOptions::default(),
                clients: Mutex::new(BTreeMap::new()),
            },
        }
    }

    pub fn remote(&self, name: Option<&str>) -> Result<&RemoteDef, Diagnostics> {
        let name = name
            .filter(|s| !s.is_empty())
            .unwrap_or(&self.default_remote);
        self.remotes.get(name).ok_or_else(|| {
            diag::error_at(
                AttrPath::attr("remote"),
                format!("Unknown remote {name:?}"),
                format!(
                    "Known remotes: {}. Add `remote {{ name = \"{name}\" ... }}` to the provider block or `incus remote add {name} ...`.",
                    self.remotes.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            )
        })
    }

    /// The project a resource uses: its own, else the remote's, else the provider's, else `default`.
    pub fn project_for(&self, remote: Option<&str>, project: Option<&str>) -> String {
        if let Some(p) = project.filter(|p| !p.is_empty()) {
            return p.to_string();
        }
        let rp = self.remote(remote).ok().and_then(|r| r.project.clone());
        rp.or_else(|| self.default_project.clone())
            .unwrap_or_else(|| "default".into())
    }

    /// A client for `remote` (None = default) scoped to `project`.
    pub fn client(
        &self,
        remote: Option<&str>,
        project: Option<&str>,
    ) -> Result<Client, Diagnostics> {
        let def = self.remote(remote)?;
        let project = self.project_for(remote, project);
        if def.is_image_server() {
            return Err(diag::error_at(
                AttrPath::attr("remote"),
                format!("Remote {:?} is an image server", def.name),
                format!(
                    "Its protocol is {:?}; it can only be used as an image source (`image = \"{}:alias\"`). Use an Incus daemon remote here.",
                    def.protocol, def.name
                ),
            ));
        }
        let mut cache = self
            .clients
            .lock()
            .map_err(|_| diag::error("Internal error", "client cache poisoned"))?;
        if let Some(c) = cache.get(&def.name) {
            return Ok(c.with_project(&project));
        }
        let client = self.build_client(def)?;
        cache.insert(def.name.clone(), client.clone());
        Ok(client.with_project(&project))
    }

    fn build_client(&self, def: &RemoteDef) -> Result<Client, Diagnostics> {
        let fail = |e: incus_client::Error| {
            diag::error(
                format!("Cannot set up remote {:?}", def.name),
                format!(
                    "{e}. Check the remote's address and certificates (provider remote block or {}).",
                    self.config_dir.join("config.yml").display()
                ),
            )
        };
        let addr = def.address.split(',').next().unwrap_or("").trim();
        if addr.is_empty() || addr == "unix://" {
            return Client::local().map_err(fail);
        }
        if let Some(path) = addr.strip_prefix("unix://") {
            return Client::unix(path).map_err(fail);
        }
        if addr.starts_with("https://") {
            // First contact: client certificate, server certificate pinning, trust token.
            let remote = remote_trust::Remote {
                name: &def.name,
                addr,
                token: def.token.as_ref().map(|t| t.0.as_str()),
            };
            remote_trust::bootstrap_blocking(&self.config_dir, &remote, self.trust).map_err(
                |e| {
                    diag::error(
                        format!("Cannot connect to remote {:?}", def.name),
                        format!("{e}."),
                    )
                },
            )?;
            // Certificates come from the CLI config dir (re-read: bootstrap may have written
            // client.crt or servercerts/<name>.crt).
            let cli = CliConfig::load(&self.config_dir).map_err(fail)?;
            let tls = cli.tls_for(&def.name).map_err(fail)?;
            return Client::https(addr, &tls).map_err(fail);
        }
        Err(diag::error(
            format!("Unsupported address for remote {:?}", def.name),
            format!("{addr:?} is neither unix:// nor https://. Use e.g. `https://{addr}:8443`."),
        ))
    }
}

/// Address of a remote block, accepting the v0.5 form (`scheme` + host `address` + `port`).
fn legacy_address(r: &Value) -> Result<String, String> {
    let addr = r
        .attr("address")
        .as_str()
        .unwrap_or_default()
        .trim()
        .to_string();
    let scheme = r.attr("scheme").as_str().unwrap_or_default();
    let port = r.attr("port").as_str().unwrap_or_default();
    if addr.contains("://") || (scheme.is_empty() && port.is_empty()) {
        if !addr.is_empty() && !addr.contains("://") {
            // A bare host (with optional port) means https, as in the CLI.
            let with_port = if addr.contains(':') {
                addr.clone()
            } else {
                format!("{addr}:8443")
            };
            return Ok(format!("https://{with_port}"));
        }
        return Ok(addr);
    }
    match scheme {
        "unix" | "" if addr.is_empty() && port.is_empty() => Ok("unix://".into()),
        "unix" => Ok(format!("unix://{addr}")),
        "https" | "" => {
            if addr.is_empty() {
                return Err("an https remote needs an address (host name or IP)".into());
            }
            let port = if port.is_empty() { "8443" } else { port };
            Ok(format!("https://{addr}:{port}"))
        }
        other => Err(format!(
            "scheme {other:?} is not valid; use \"unix\" or \"https\""
        )),
    }
}

/// Turn a client error into a diagnostic that says which remote/object and what to do.
pub fn api_error(
    ctx: &ProviderData,
    remote: Option<&str>,
    what: &str,
    err: &incus_client::Error,
) -> Diagnostics {
    let name = remote
        .filter(|s| !s.is_empty())
        .unwrap_or(&ctx.default_remote);
    let addr = ctx
        .remotes
        .get(name)
        .map(|r| r.address.clone())
        .unwrap_or_default();
    let fix = match err {
        incus_client::Error::Transport { detail, .. }
            if detail.to_lowercase().contains("certificate") =>
        {
            format!(
                "The TLS certificate of remote {name:?} ({addr}) is not trusted. Either set accept_remote_certificate = true in the provider block, or accept it once with `incus remote add {name} {addr}` (it is stored in {}), then retry.",
                ctx.config_dir.join("servercerts").display()
            )
        }
        incus_client::Error::Transport { .. } => format!(
            "Remote {name:?} ({}) is unreachable. Check that the Incus daemon is running and the address is right.",
            if addr.is_empty() || addr == "unix://" {
                "local unix socket".to_string()
            } else {
                addr.clone()
            }
        ),
        incus_client::Error::Forbidden { .. } => format!(
            "Remote {name:?} does not trust this client. Add the client certificate on the server (`incus config trust add-certificate {}`), or use a trust token.",
            ctx.config_dir.join("client.crt").display()
        ),
        _ => String::new(),
    };
    diag::error(
        format!("Failed to {what}"),
        if fix.is_empty() {
            err.to_string()
        } else {
            format!("{err}\n\n{fix}")
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remote(pairs: &[(&str, Value)]) -> Value {
        let mut v = Value::null_object(&schema().block.blocks[0].block.ty());
        for (k, x) in pairs {
            v.set_attr(k, x.clone());
        }
        v
    }

    #[test]
    fn legacy_remote_forms() {
        assert_eq!(legacy_address(&remote(&[])).unwrap(), "");
        assert_eq!(
            legacy_address(&remote(&[("scheme", Value::string("unix"))])).unwrap(),
            "unix://"
        );
        assert_eq!(
            legacy_address(&remote(&[
                ("scheme", Value::string("https")),
                ("address", Value::string("10.0.0.1"))
            ]))
            .unwrap(),
            "https://10.0.0.1:8443"
        );
        assert_eq!(
            legacy_address(&remote(&[("address", Value::string("https://h:1"))])).unwrap(),
            "https://h:1"
        );
        assert!(
            legacy_address(&remote(&[
                ("scheme", Value::string("ftp")),
                ("address", Value::string("h"))
            ]))
            .is_err()
        );
    }

    #[test]
    fn unknown_default_remote_is_a_located_error() {
        let mut cfg = Value::null_object(&schema().ty());
        cfg.set_attr("config_dir", Value::string("/nonexistent"));
        cfg.set_attr("default_remote", Value::string("nope"));
        let err = ProviderData::configure(&cfg).err().unwrap();
        assert_eq!(err.0[0].path, Some(AttrPath::attr("default_remote")));
        assert!(err.0[0].detail.contains("local"));
    }
}
