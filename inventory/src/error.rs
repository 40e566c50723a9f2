//! Errors of the inventory library.
//!
//! Rule for every message here: it names the output (and the place inside it) and says how to fix
//! the problem, but it NEVER contains a value taken from an output. Output values may be sensitive
//! (`terraform output -json` prints sensitive values in clear), so messages describe shapes
//! ("a number", "an object") and never echo content. Keys inside a sensitive output are hidden too
//! (see [`crate::outputs::ValuePath`]).

use std::path::PathBuf;

/// Everything that can go wrong between "where are the outputs" and "here is the inventory".
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The text is not JSON at all. serde_json's syntax errors carry a position, never input text.
    #[error(
        "malformed outputs JSON from {origin} (line {line}, column {column}): {reason}. \
         Fix: give the output of `terraform output -json` (or `tofu output -json`) unchanged"
    )]
    MalformedJson {
        origin: String,
        line: usize,
        column: usize,
        reason: String,
    },

    /// Valid JSON, but not the `{"name": {"sensitive":…, "type":…, "value":…}}` object.
    #[error(
        "outputs from {origin} are not in `terraform output -json` form: {problem}. \
         Fix: give the JSON printed by `terraform output -json` (all outputs, without an output name)"
    )]
    NotOutputsJson { origin: String, problem: String },

    /// `output -json` printed `{}`: no state yet, an empty state, or the wrong directory/workspace.
    #[error(
        "no outputs in {origin}: the state is absent or has no outputs. \
         Fix: run `terraform apply` (or `tofu apply`) in that environment first, or check the directory, \
         the backend and the selected workspace"
    )]
    NoOutputs { origin: String },

    /// Outputs exist, but none follows the inventory convention.
    #[error(
        "none of the outputs in {origin} describes an inventory (found: {found}). \
         Fix: add an output named `<group>_instances` (a list of instance names or a map name => object) \
         or one named `ansible_inventory` (see docs/inventory.md)"
    )]
    NoInventoryOutputs { origin: String, found: String },

    /// An output (or a part of it) has a shape the convention does not allow.
    #[error(
        "output `{output}` has the wrong shape at {path}: expected {expected}, found {found}. Fix: {fix}"
    )]
    WrongShape {
        output: String,
        path: String,
        expected: String,
        found: &'static str,
        fix: String,
    },

    /// Group nesting loops back on itself; Ansible rejects this as well.
    #[error(
        "group `{group}` is its own ancestor (children chain: {chain}), declared by output `{output}`. \
         Fix: remove one of the `children` links"
    )]
    GroupCycle {
        group: String,
        chain: String,
        output: String,
    },

    /// Neither `tofu` nor `terraform` is on PATH (or the configured tool does not exist).
    #[error(
        "cannot find {tool_desc}: {detail}. Fix: install OpenTofu or Terraform, or pass --tool PATH \
             (or set FLOE_INVENTORY_TOOL), or give the outputs with --file PATH / --file -"
    )]
    ToolNotFound { tool_desc: String, detail: String },

    /// The environment directory does not exist or is not a directory.
    #[error("environment directory {} {problem}. Fix: pass --dir (or set FLOE_INVENTORY_DIR) to the \
             directory where you run `terraform apply`", dir.display())]
    BadDirectory { dir: PathBuf, problem: String },

    /// `<tool> output -json` ran but failed. `stderr` is the tool's own diagnostic (it does not contain
    /// output values: the tool prints values only on stdout, which we never echo).
    #[error("`{tool} output -json` failed in {} ({status}): {stderr}. Fix: {fix}", dir.display())]
    ToolFailed {
        tool: String,
        dir: PathBuf,
        status: String,
        stderr: String,
        fix: String,
    },

    /// Reading a file, stdin, or starting the tool failed.
    #[error("cannot {action}: {source}")]
    Io {
        action: String,
        #[source]
        source: std::io::Error,
    },

    /// `--host NAME` for a host the inventory does not have.
    #[error(
        "no host named `{name}` in the inventory ({count} hosts). Fix: use a name printed by --list or --graph"
    )]
    UnknownHost { name: String, count: usize },

    /// Serialising the inventory failed (not expected with JSON-shaped data, but not hidden either).
    #[error("cannot render the inventory: {0}")]
    Render(String),
}

/// Short name for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
