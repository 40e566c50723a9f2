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
