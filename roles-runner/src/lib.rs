//! roles-runner: applies Ansible-format playbooks and roles to Incus instances through
//! the Incus API (exec + file API), with ansible-playbook's CLI, output and end state.
//!
//! Layers: [`yaml`] (YAML 1.1 loading with lines) -> [`playbook`] (plays, roles, tasks)
//! -> [`engine`] (linear strategy, variables, loops, handlers) -> [`modules`] (one file per
//! module) -> [`transport`] (Incus, local). [`output`] prints Ansible's default callback.

pub mod cli;
pub mod difflib;
pub mod engine;
pub mod include_vars;
pub mod inventory;
pub mod modules;
pub mod output;
pub mod playbook;
pub mod progress;
pub mod template;
pub mod transport;
pub mod util;
pub mod yaml;

use std::path::PathBuf;

/// Errors raised while loading playbooks, roles and inventories (task failures are
/// results, not errors).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Yaml(#[from] yaml::YamlError),
    /// A structural problem at a known place: `file:line: message`.
    #[error("{file}:{line}: {msg}")]
    Syntax {
        file: PathBuf,
        line: usize,
        msg: String,
    },
    #[error("{0}")]
    Other(String),
}

impl Error {
    pub fn syntax(file: &std::path::Path, line: usize, msg: impl Into<String>) -> Error {
        Error::Syntax {
            file: file.to_path_buf(),
            line,
            msg: msg.into(),
        }
    }
}
