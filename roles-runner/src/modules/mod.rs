//! Modules, native in Rust: one file per module, all behind the [`Module`] trait.
//!
//! A module receives its templated arguments and a [`Ctx`] (the host's transport, check and
//! diff mode, variables) and returns Ansible's result dictionary (`changed`, `failed`, `msg`,
//! module-specific keys, `diff`). Host changes go through [`common`] helpers that write
//! files atomically (temporary file created with the final owner and mode, then renamed).

pub mod common;

mod apt;
mod assert;
mod blockinfile;
mod command;
mod copy;
mod debug;
mod diff;
mod fail;
mod fetch;
mod file;
mod find;
mod get_url;
mod getent;
mod group;
mod lineinfile;
mod pause;
mod replace;
mod set_fact;
mod setup;
mod slurp;
mod stat;
mod systemd;
mod template;
mod unarchive;
mod user;
mod validate_argument_spec;
mod wait_for;

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Map, Value as Json};

pub use common::{Ctx, HostConn, ModuleError, Res};

#[async_trait]
pub trait Module: Send + Sync {
    /// Canonical short name (`copy`).
    fn name(&self) -> &'static str;
    /// Accepted arguments; anything else is "Unsupported parameters".
    fn params(&self) -> &'static [&'static str];
    /// Arguments passed to the module untemplated (conditionals such as `assert.that`).
    fn raw_params(&self) -> &'static [&'static str] {
        &[]
    }
    /// Runs on the controller only (no connection needed; also in check mode).
    fn controller_only(&self) -> bool {
        false
    }
    async fn run(&self, ctx: &Ctx<'_>) -> Result<Res, ModuleError>;
}

/// Actions the engine handles itself (they change the task list, not a host).
pub const ENGINE_ACTIONS: &[&str] = &[
    "meta",
    "include_tasks",
    "import_tasks",
    "include_role",
    "import_role",
    "include_vars",
    "import_playbook",
    "add_host",
    "group_by",
    "set_stats",
];

static MODULES: &[&dyn Module] = &[
    &assert::Assert,
    &blockinfile::BlockInFile,
    &command::Command,
    &command::Shell,
    &command::Raw,
    &copy::Copy,
    &debug::Debug,
    &fail::Fail,
    &fetch::Fetch,
    &file::File,
    &find::Find,
    &get_url::GetUrl,
    &getent::Getent,
    &group::Group,
    &lineinfile::LineInFile,
    &pause::Pause,
    &replace::Replace,
    &set_fact::SetFact,
    &setup::Setup,
    &slurp::Slurp,
    &stat::Stat,
    &systemd::Systemd,
    &systemd::Service,
    &template::Template,
    &unarchive::Unarchive,
    &user::User,
    &validate_argument_spec::ValidateArgumentSpec,
    &wait_for::WaitFor,
    &apt::Apt,
    &apt::Package,
];

/// Short names that are aliases of another module.
const ALIASES: &[(&str, &str)] = &[
    ("systemd_service", "systemd"),
    ("gather_facts", "setup"),
    ("ping", "ping"),
    ("package", "package"),
    ("local_action", "local_action"),
];

/// `ansible.builtin.copy` / `ansible.legacy.copy` / `copy` -> `copy`; `None` when unknown.
pub fn canonical_name(written: &str) -> Option<String> {
    let short = written
        .strip_prefix("ansible.builtin.")
        .or_else(|| written.strip_prefix("ansible.legacy."))
        .or_else(|| written.strip_prefix("community.general."))
        .or_else(|| written.strip_prefix("ansible.posix."))
        .unwrap_or(written);
    if written.matches('.').count() >= 2 && short == written {
        return None; // an unknown collection
    }
    let short = ALIASES
        .iter()
        .find(|(a, _)| *a == short)
        .map(|(_, t)| *t)
        .unwrap_or(short);
    if ENGINE_ACTIONS.contains(&short)
        || MODULES.iter().any(|m| m.name() == short)
        || short == "ping"
    {
        return Some(short.to_string());
    }
    None
}

pub fn find(name: &str) -> Option<&'static dyn Module> {
    MODULES.iter().copied().find(|m| m.name() == name)
}

/// Where a module looks for `src` files and templates.
#[derive(Debug, Clone)]
pub struct Paths {
    pub role_path: Option<PathBuf>,
    pub playbook_dir: PathBuf,
    pub task_dir: PathBuf,
}

impl Paths {
    /// Ansible's search order for `src`: role `files/`/`templates/`, the task file's dir, the playbook.
    pub fn find(&self, subdir: &str, name: &str) -> Option<PathBuf> {
        let p = std::path::Path::new(name);
        if p.is_absolute() {
            return p.exists().then(|| p.to_path_buf());
        }
        let mut c = vec![];
        if let Some(r) = &self.role_path {
            c.push(r.join(subdir).join(name));
            c.push(r.join(name));
        }
        c.push(self.task_dir.join(subdir).join(name));
        c.push(self.task_dir.join(name));
        c.push(self.playbook_dir.join(subdir).join(name));
        c.push(self.playbook_dir.join(name));
        c.into_iter().find(|p| p.exists())
    }
}

/// Check the argument names against a module's parameters.
pub fn check_params(m: &dyn Module, args: &Map<String, Json>) -> Result<(), String> {
    let mut bad: Vec<&str> = args
        .keys()
        .filter(|k| !k.starts_with('_') && !m.params().contains(&k.as_str()))
        .map(String::as_str)
        .collect();
    if bad.is_empty() {
        return Ok(());
    }
    bad.sort();
    let mut supported: Vec<&str> = m.params().to_vec();
    supported.sort();
    Err(format!(
        "Unsupported parameters for ({}) module: {}. Supported parameters include: {}.",
        m.name(),
        bad.join(", "),
        supported.join(", ")
    ))
}

pub type SharedConn = Arc<HostConn>;
