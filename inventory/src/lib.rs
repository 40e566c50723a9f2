//! Terraform/OpenTofu outputs → Ansible inventory.
//!
//! This crate is the bridge between provisioning and configuration: it reads the outputs of an
//! environment (`tofu output -json` / `terraform output -json`, a saved file, or stdin) and turns
//! them into an Ansible inventory whose hosts are reached with `community.general.incus`.
//! The `floe-inventory` binary is a thin CLI over it; the roles runner uses it directly.
//!
//! # Output convention (details in `docs/inventory.md` and [`mapping`])
//! - `<group>_instances`: list/set/tuple of instance names, list of objects with `name`, or map
//!   name => object (`ipv4_address`, `project`, `remote`, `vars`, `ansible_*`, …) → hosts of `<group>`;
//! - `<group>_ansible_vars`: object → vars of `<group>` (`all_ansible_vars` → every host);
//! - `<group>_children`: list of group names → nested groups;
//! - `ansible_inventory`: `{hosts = {...}, groups = {name = {hosts, vars, children}}, vars = {...}}`;
//! - `incus_remote`, `incus_project`: defaults for every host.
//!
//! Group names are rewritten the way Ansible does (`web-servers` → `web_servers`) and each rename is
//! reported in [`Inventory::warnings`].
//!
//! # Host vars
//! Every host gets `ansible_connection: community.general.incus`, `ansible_incus_host: <name>`
//! (the instance the plugin runs `incus exec` on), `ansible_incus_remote`/`ansible_incus_project`
//! when known (options > the host's `remote`/`project` > the `incus_remote`/`incus_project`
//! outputs), and `ansible_host: <address>` when an address is known. `ansible_incus_host` matters:
//! the plugin takes the instance name from the last set of `inventory_hostname`, `ansible_host`,
//! `ansible_incus_host`, so without it an address in `ansible_host` would become the instance name.
//!
//! # Sensitive outputs
//! Values of sensitive outputs are used like any other (a token in `web_ansible_vars` must reach
//! the role), unless [`Options::omit_sensitive`] is set. They never appear in errors or warnings:
//! messages name outputs and describe shapes, and keys of sensitive maps are hidden.
//!
//! # API for the roles runner
//! ```no_run
//! use inventory::{Inventory, Options};
//! # fn main() -> Result<(), inventory::Error> {
//! // Runs `tofu|terraform output -json` in the directory (blocking: call it from
//! // `tokio::task::spawn_blocking` in async code). Options::from_env() reads the same
//! // FLOE_INVENTORY_* / FLOE_INCUS_* variables as the binary.
//! let dir = std::path::Path::new("environments/iapetus");
//! assert!(inventory::is_environment_dir(dir));
//! let inv = Inventory::from_path(dir, &Options::from_env())?;
//! for host in inv.hosts_of_group("web") {
//!     let vars = inv.resolved_host_vars(host).unwrap_or_default(); // group + host vars, Ansible order
//!     println!("{host}: {:?}", vars.get("ansible_incus_project"));
//! }
//! for warning in inv.warnings() {
//!     eprintln!("warning: {warning}");
//! }
//! # Ok(()) }
//! ```
//! [`Inventory::from_outputs_json`] does the same from JSON text already in memory.

pub mod error;
pub mod mapping;
pub mod model;
pub mod names;
pub mod options;
pub mod outputs;
mod render;
pub mod source;
mod yaml;

use std::path::Path;

pub use error::{Error, Result};
pub use model::{ALL, Group, Host, Inventory, UNGROUPED, Vars};
pub use options::{INCUS_CONNECTION, Options, env};
pub use outputs::{Output, Outputs};

impl Inventory {
    /// Builds the inventory from the text printed by `terraform output -json`, with default options.
    pub fn from_outputs_json(json: &str) -> Result<Inventory> {
        Self::from_outputs_json_with(json, "the outputs JSON", &Options::default())
    }

    /// Same as [`Inventory::from_outputs_json`] with options; `origin` names the source in errors
    /// (a file name, "stdin", …).
    pub fn from_outputs_json_with(
        json: &str,
        origin: &str,
        options: &Options,
    ) -> Result<Inventory> {
        let outputs = Outputs::parse(json, origin)?;
        mapping::build_inventory(&outputs, origin, options)
    }

    /// Runs `<tool> output -json` in `dir` (tool: [`Options::tool`], else `tofu` if on PATH, else
    /// `terraform`) and builds the inventory. Blocking.
    pub fn from_environment_dir(dir: &Path, options: &Options) -> Result<Inventory> {
        let raw = source::run_output_json(dir, options.tool.as_deref())?;
        Self::from_outputs_json_with(&raw.json, &raw.origin, options)
    }

    /// What the roles runner calls with the path given as its inventory: an environment directory
    /// (see [`is_environment_dir`]) runs `<tool> output -json` there; a file is read as a saved
    /// `output -json` document.
    pub fn from_path(path: &Path, options: &Options) -> Result<Inventory> {
        if path.is_dir() {
            Self::from_environment_dir(path, options)
        } else {
            Self::from_outputs_file(path, options)
        }
    }

    /// Reads the outputs JSON from a file and builds the inventory.
    pub fn from_outputs_file(path: &Path, options: &Options) -> Result<Inventory> {
        let raw = source::read_file(path)?;
        Self::from_outputs_json_with(&raw.json, &raw.origin, options)
    }
}

/// Whether `dir` looks like a Terraform/OpenTofu root (contains a `*.tf` or `*.tf.json` file), so a
/// runner can tell it from an Ansible inventory directory before calling [`Inventory::from_path`].
pub fn is_environment_dir(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries.filter_map(|e| e.ok()).any(|e| {
                let name = e.file_name();
                let name = name.to_string_lossy();
                (name.ends_with(".tf") || name.ends_with(".tf.json")) && e.path().is_file()
            })
        })
        .unwrap_or(false)
}
