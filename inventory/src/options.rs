//! Settings shared by the library and the binary (the binary fills them from flags and env vars).

use std::path::PathBuf;

/// The connection plugin Floe hosts use: `incus exec` through the local Incus client.
pub const INCUS_CONNECTION: &str = "community.general.incus";

/// How to obtain the outputs and how to turn hosts into Ansible hosts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Program that prints the outputs (`tofu`, `terraform`, or a path). `None`: `tofu` if it is on
    /// PATH, else `terraform`.
    pub tool: Option<PathBuf>,
    /// `ansible_incus_remote` for every host; overrides what the outputs say.
    pub incus_remote: Option<String>,
    /// `ansible_incus_project` for every host; overrides what the outputs say.
    pub incus_project: Option<String>,
    /// `ansible_connection` for every host (`None`: do not set it). With
    /// [`INCUS_CONNECTION`] the Incus vars (`ansible_incus_host`, remote, project) are set too.
    pub connection: Option<String>,
    /// Drop sensitive outputs instead of using their values (e.g. before writing a static file
    /// with `--yaml` that will be committed). Each dropped output is reported as a warning.
    pub omit_sensitive: bool,
}

/// Environment variables read by [`Options::from_env`] and by the binary (same names, same meaning).
pub mod env {
    /// Program printing the outputs (`tofu`, `terraform`, or a path).
    pub const TOOL: &str = "FLOE_INVENTORY_TOOL";
    /// Alternative name for [`TOOL`], from the design notes; used when `FLOE_INVENTORY_TOOL` is unset.
    pub const TOOL_ALT: &str = "TF_INVENTORY_BIN";
    pub const INCUS_REMOTE: &str = "FLOE_INCUS_REMOTE";
    pub const INCUS_PROJECT: &str = "FLOE_INCUS_PROJECT";
    /// `ansible_connection` plugin; `none` (or empty) for no connection vars.
    pub const CONNECTION: &str = "FLOE_INVENTORY_CONNECTION";
    /// `1`/`true`/`yes` to leave sensitive outputs out.
    pub const OMIT_SENSITIVE: &str = "FLOE_INVENTORY_OMIT_SENSITIVE";
}

impl Options {
    /// Defaults overridden by the `FLOE_INVENTORY_*` / `FLOE_INCUS_*` environment variables, so the
    /// roles runner behaves like `floe-inventory` run in the same environment.
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`Options::from_env`] with an injectable lookup (tests, or a runner with its own environment).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name: &str| lookup(name).filter(|v| !v.is_empty());
        let connection = match lookup(env::CONNECTION) {
            None => Options::default().connection,
            Some(c) if c.is_empty() || c == "none" => None,
            Some(c) => Some(c),
        };
        Options {
            tool: get(env::TOOL)
                .or_else(|| get(env::TOOL_ALT))
                .map(PathBuf::from),
            incus_remote: get(env::INCUS_REMOTE),
            incus_project: get(env::INCUS_PROJECT),
            connection,
            omit_sensitive: get(env::OMIT_SENSITIVE).is_some_and(|v| {
                matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on")
            }),
        }
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            tool: None,
            incus_remote: None,
            incus_project: None,
            connection: Some(INCUS_CONNECTION.to_owned()),
            omit_sensitive: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_lookup_reads_the_binary_variables() {
        let vars = [
            ("TF_INVENTORY_BIN", "terraform"),
            ("FLOE_INCUS_PROJECT", "shop"),
            ("FLOE_INVENTORY_CONNECTION", "none"),
            ("FLOE_INVENTORY_OMIT_SENSITIVE", "true"),
        ];
        let o = Options::from_lookup(|n| {
            vars.iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| (*v).to_owned())
        });
        assert_eq!(o.tool.as_deref(), Some(std::path::Path::new("terraform")));
        assert_eq!(o.incus_project.as_deref(), Some("shop"));
        assert_eq!(o.incus_remote, None);
        assert_eq!(o.connection, None);
        assert!(o.omit_sensitive);
        let o = Options::from_lookup(|n| (n == "FLOE_INVENTORY_TOOL").then(|| "tofu".to_owned()));
        assert_eq!(o.tool.as_deref(), Some(std::path::Path::new("tofu")));
        assert_eq!(o.connection.as_deref(), Some(INCUS_CONNECTION));
    }
}
