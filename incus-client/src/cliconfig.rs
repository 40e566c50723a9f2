//! The incus CLI configuration directory, so users' existing remotes just work.
//!
//! Layout (`shared/cliconfig` in Incus):
//! ```text
//! $INCUS_CONF or ~/.config/incus/
//!   config.yml                 default-remote, remotes{NAME: {addr, protocol, auth_type, project, public}}
//!   client.crt  client.key     the client identity
//!   client.ca                  optional CA used to verify remotes that have no pinned cert
//!   clientcerts/NAME.crt|.key  per-remote identity override
//!   servercerts/NAME.crt       pinned server certificate of remote NAME
//! /etc/incus/ (or $INCUS_GLOBAL_CONF)  global config.yml + servercerts/, overridden by the user's
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::client::Client;
use crate::error::{Error, Result};
use crate::tls::{ServerTrust, TlsConfig};
use crate::transport::default_socket_path;

/// One entry of `remotes:` in `config.yml`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct Remote {
    pub addr: String,
    /// `incus` (a daemon), `simplestreams` or `oci` (image servers).
    pub protocol: String,
    /// `tls` or `oidc`.
    pub auth_type: String,
    /// Project used when none is given.
    pub project: String,
    pub public: bool,
    pub keepalive: u32,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ConfigFile {
    #[serde(rename = "default-remote")]
    default_remote: String,
    remotes: BTreeMap<String, Remote>,
}

/// A loaded CLI configuration.
#[derive(Debug, Clone)]
pub struct CliConfig {
    /// The user's configuration directory.
    pub dir: PathBuf,
    /// The global directory (`/etc/incus`), consulted for remotes and server certificates.
    pub global_dir: Option<PathBuf>,
    pub default_remote: String,
    pub remotes: BTreeMap<String, Remote>,
}

impl CliConfig {
    /// `$INCUS_CONF`, else `$XDG_CONFIG_HOME/incus`, else `$HOME/.config/incus`.
    pub fn default_dir() -> Option<PathBuf> {
        if let Some(d) = std::env::var_os("INCUS_CONF").filter(|d| !d.is_empty()) {
            return Some(d.into());
        }
        if let Some(d) = std::env::var_os("XDG_CONFIG_HOME").filter(|d| !d.is_empty()) {
            return Some(PathBuf::from(d).join("incus"));
        }
        std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(|h| PathBuf::from(h).join(".config").join("incus"))
    }

    /// Load `dir/config.yml` (a missing file gives the CLI's defaults: remote `local` on the
    /// unix socket). Remotes from the global config are included unless the user's file
    /// defines the same name.
    pub fn load(dir: &Path) -> Result<CliConfig> {
        let global_dir = std::env::var_os("INCUS_GLOBAL_CONF")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .or_else(|| Some(PathBuf::from("/etc/incus")));
        Self::load_with_global(dir, global_dir.as_deref())
    }

    pub(crate) fn load_with_global(dir: &Path, global_dir: Option<&Path>) -> Result<CliConfig> {
        let mut remotes = BTreeMap::new();
        remotes.insert(
            "local".to_string(),
            Remote {
                addr: "unix://".into(),
                protocol: "incus".into(),
                ..Remote::default()
            },
        );
        let mut default_remote = String::new();
        if let Some(g) = global_dir
            && let Some(file) = read_config(&g.join("config.yml"))?
        {
            remotes.extend(file.remotes);
            if !file.default_remote.is_empty() {
                default_remote = file.default_remote;
            }
        }
        if let Some(file) = read_config(&dir.join("config.yml"))? {
            remotes.extend(file.remotes);
            if !file.default_remote.is_empty() {
                default_remote = file.default_remote;
            }
        }
        if default_remote.is_empty() {
            default_remote = "local".into();
        }
        Ok(CliConfig {
            dir: dir.to_path_buf(),
            global_dir: global_dir.map(Path::to_path_buf),
            default_remote,
            remotes,
        })
    }

    /// The remote called `name` (error lists the known names).
    pub fn remote(&self, name: &str) -> Result<&Remote> {
        self.remotes.get(name).ok_or_else(|| Error::Config {
            path: self.dir.join("config.yml"),
            detail: format!(
                "no remote named {name:?} (known: {})",
                self.remotes.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        })
    }

    /// The TLS material for remote `name`: `clientcerts/NAME.{crt,key}` or `client.{crt,key}`;
    /// server trust from `servercerts/NAME.crt` (user dir, then global), else `client.ca`,
    /// else the platform roots.
    pub fn tls_for(&self, name: &str) -> Result<TlsConfig> {
        let read = |p: &Path| {
            std::fs::read(p).map_err(|e| Error::Config {
                path: p.to_path_buf(),
                detail: format!("cannot read: {e}"),
            })
        };
        let per_remote = (
            self.dir.join("clientcerts").join(format!("{name}.crt")),
            self.dir.join("clientcerts").join(format!("{name}.key")),
        );
        let (cert, key) = if per_remote.0.exists() && per_remote.1.exists() {
            per_remote
        } else {
            (self.dir.join("client.crt"), self.dir.join("client.key"))
        };
        let (client_cert, client_key) = if cert.exists() && key.exists() {
            (Some(read(&cert)?), Some(read(&key)?))
        } else {
            (None, None)
        };
        let mut pinned_candidates = vec![self.dir.join("servercerts").join(format!("{name}.crt"))];
        if let Some(g) = &self.global_dir {
            pinned_candidates.push(g.join("servercerts").join(format!("{name}.crt")));
        }
        let server = if let Some(p) = pinned_candidates.iter().find(|p| p.exists()) {
            ServerTrust::Pinned(read(p)?)
        } else if self.dir.join("client.ca").exists() {
            ServerTrust::Ca(read(&self.dir.join("client.ca"))?)
        } else {
            ServerTrust::PlatformRoots
        };
        Ok(TlsConfig {
            client_cert,
            client_key,
            server,
        })
    }

    /// Build a client for remote `name`, scoped to the remote's `project` if it has one.
    pub fn client_for(&self, name: &str) -> Result<Client> {
        let remote = self.remote(name)?;
        let bad = |detail: String| Error::Config {
            path: self.dir.join("config.yml"),
            detail: format!("remote {name:?}: {detail}"),
        };
        if !remote.protocol.is_empty() && remote.protocol != "incus" {
            return Err(bad(format!(
                "protocol {:?} is an image server, not an Incus daemon",
                remote.protocol
            )));
        }
        if remote.auth_type == "oidc" {
            return Err(bad("OIDC authentication is not supported".into()));
        }
        // HEAD accepts several comma-separated addresses; use the first.
        let addr = remote.addr.split(',').next().unwrap_or("").trim();
        let client = if let Some(path) = addr.strip_prefix("unix://") {
            if path.is_empty() {
                Client::unix(default_socket_path())?
            } else {
                Client::unix(path)?
            }
        } else if addr.starts_with("https://") {
            Client::https(addr, &self.tls_for(name)?)?
        } else {
            return Err(bad(format!("unsupported address {addr:?}")));
        };
        Ok(if remote.project.is_empty() {
            client
        } else {
            client.with_project(&remote.project)
        })
    }
}

fn read_config(path: &Path) -> Result<Option<ConfigFile>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Error::Config {
                path: path.to_path_buf(),
                detail: format!("cannot read: {e}"),
            });
        }
    };
    serde_norway::from_str(&text)
        .map(Some)
        .map_err(|e| Error::Config {
            path: path.to_path_buf(),
            detail: format!("invalid YAML: {e}"),
        })
}

impl Client {
    /// A client for a remote of the incus CLI configuration.
    ///
    /// `config_dir`: `None` means [`CliConfig::default_dir`]. `remote`: `None` means
    /// `$INCUS_REMOTE`, else the file's `default-remote`, else `local`.
    pub fn from_cli_config(config_dir: Option<&Path>, remote: Option<&str>) -> Result<Client> {
        let dir = match config_dir {
            Some(d) => d.to_path_buf(),
            None => CliConfig::default_dir().ok_or_else(|| Error::Config {
                path: "~/.config/incus".into(),
                detail: "cannot locate the incus configuration directory (set INCUS_CONF or HOME)"
                    .into(),
            })?,
        };
        let config = CliConfig::load(&dir)?;
        let name = match remote {
            Some(r) if !r.is_empty() => r.to_string(),
            _ => std::env::var("INCUS_REMOTE")
                .ok()
                .filter(|r| !r.is_empty())
                .unwrap_or_else(|| config.default_remote.clone()),
        };
        config.client_for(&name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_remotes_and_certs() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        std::fs::write(
            dir.path().join("config.yml"),
            "default-remote: prod\nremotes:\n  prod:\n    addr: https://10.1.2.3:8443\n    protocol: incus\n    auth_type: tls\n    project: web\n  images:\n    addr: https://images.linuxcontainers.org\n    protocol: simplestreams\n    public: true\n",
        )?;
        std::fs::create_dir(dir.path().join("servercerts"))?;
        std::fs::write(dir.path().join("servercerts/prod.crt"), b"PINNED")?;
        std::fs::write(dir.path().join("client.crt"), b"CERT")?;
        std::fs::write(dir.path().join("client.key"), b"KEY")?;
        let cfg = CliConfig::load_with_global(dir.path(), None)?;
        assert_eq!(cfg.default_remote, "prod");
        assert_eq!(cfg.remote("prod")?.project, "web");
        assert_eq!(cfg.remote("local")?.addr, "unix://");
        let tls = cfg.tls_for("prod")?;
        assert!(matches!(tls.server, ServerTrust::Pinned(ref p) if p == b"PINNED"));
        assert_eq!(tls.client_cert.as_deref(), Some(&b"CERT"[..]));

        let err = cfg.remote("nope").expect_err("unknown remote");
        assert!(
            err.to_string()
                .contains("no remote named \"nope\" (known: images, local, prod)"),
            "{err}"
        );
        let err = cfg.client_for("images").expect_err("image server");
        assert!(
            err.to_string()
                .contains("remote \"images\": protocol \"simplestreams\" is an image server"),
            "{err}"
        );
        Ok(())
    }

    #[test]
    fn per_remote_client_cert_wins() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        std::fs::create_dir(dir.path().join("clientcerts"))?;
        std::fs::write(dir.path().join("client.crt"), b"GLOBAL")?;
        std::fs::write(dir.path().join("client.key"), b"GLOBALKEY")?;
        std::fs::write(dir.path().join("clientcerts/r.crt"), b"MINE")?;
        std::fs::write(dir.path().join("clientcerts/r.key"), b"MINEKEY")?;
        let cfg = CliConfig::load_with_global(dir.path(), None)?;
        let tls = cfg.tls_for("r")?;
        assert_eq!(tls.client_cert.as_deref(), Some(&b"MINE"[..]));
        assert!(matches!(tls.server, ServerTrust::PlatformRoots));
        Ok(())
    }

    #[test]
    fn invalid_yaml_is_located() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        std::fs::write(dir.path().join("config.yml"), "remotes: [unclosed")?;
        let err = CliConfig::load_with_global(dir.path(), None).expect_err("bad yaml");
        let msg = err.to_string();
        assert!(msg.contains("config.yml: invalid YAML"), "{msg}");
        Ok(())
    }
}
