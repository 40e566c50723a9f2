//! `floe-inventory`: an Ansible executable inventory over Terraform/OpenTofu outputs.
//!
//! Ansible runs it as `floe-inventory --list` (and would run `--host NAME` if `_meta` were missing),
//! so everything else comes from the environment: `FLOE_INVENTORY_DIR`, `FLOE_INVENTORY_TOOL`, ….
//! The whole document is built in memory and printed at the end: on error, stdout stays empty and
//! the exit code is 1 (2 for bad usage).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgGroup, Parser};
use inventory::{INCUS_CONNECTION, Inventory, Options, source};

#[derive(Debug, Parser)]
#[command(
    name = "floe-inventory",
    version,
    about = "Ansible dynamic inventory from Terraform/OpenTofu outputs (`<group>_instances`, \
             `<group>_ansible_vars`, `ansible_inventory`), for hosts reached with community.general.incus",
    group(ArgGroup::new("mode").required(true).args(["list", "host", "graph", "yaml"]))
)]
struct Cli {
    /// Print the whole inventory as JSON, with `_meta.hostvars` (what Ansible asks for)
    #[arg(long)]
    list: bool,
    /// Print the vars of one host as JSON
    #[arg(long, value_name = "NAME")]
    host: Option<String>,
    /// Print the group/host tree, like `ansible-inventory --graph`
    #[arg(long)]
    graph: bool,
    /// Print a static YAML inventory
    #[arg(long)]
    yaml: bool,

    /// Environment directory in which to run `<tool> output -json` [default: current directory]
    #[arg(long, env = "FLOE_INVENTORY_DIR", value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Read the `output -json` document from this file instead (`-` for stdin)
    #[arg(
        long,
        env = "FLOE_INVENTORY_FILE",
        value_name = "PATH",
        conflicts_with = "dir"
    )]
    file: Option<PathBuf>,
    /// `tofu`, `terraform`, or a path [default: tofu if on PATH, else terraform; env FLOE_INVENTORY_TOOL or TF_INVENTORY_BIN]
    #[arg(long, value_name = "TOOL")]
    tool: Option<PathBuf>,

    /// `ansible_incus_remote` for every host (overrides the outputs)
    #[arg(long, env = "FLOE_INCUS_REMOTE", value_name = "REMOTE")]
    incus_remote: Option<String>,
    /// `ansible_incus_project` for every host (overrides the outputs)
    #[arg(long, env = "FLOE_INCUS_PROJECT", value_name = "PROJECT")]
    incus_project: Option<String>,
    /// `ansible_connection` for every host; `none` to leave it unset
    #[arg(long, env = "FLOE_INVENTORY_CONNECTION", value_name = "PLUGIN", default_value = INCUS_CONNECTION)]
    connection: String,
    /// Leave sensitive outputs out instead of using their values (e.g. with --yaml into a committed file)
    #[arg(long, env = "FLOE_INVENTORY_OMIT_SENSITIVE")]
    omit_sensitive: bool,
    /// Indent the JSON of --list / --host
    #[arg(long)]
    pretty: bool,
    /// Do not print warnings (renamed groups, omitted outputs) on stderr
    #[arg(long, short, env = "FLOE_INVENTORY_QUIET")]
    quiet: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(text) => {
            let mut stdout = std::io::stdout().lock();
            // One write of the complete document; a closed pipe is not worth a panic.
            if stdout
                .write_all(text.as_bytes())
                .and_then(|_| stdout.flush())
                .is_err()
            {
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("floe-inventory: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli) -> Result<String, inventory::Error> {
    let tool = cli.tool.clone().or_else(|| {
        [inventory::env::TOOL, inventory::env::TOOL_ALT]
            .iter()
            .filter_map(std::env::var_os)
            .find(|v| !v.is_empty())
            .map(PathBuf::from)
    });
    let options = Options {
        tool,
        incus_remote: cli.incus_remote.clone().filter(|s| !s.is_empty()),
        incus_project: cli.incus_project.clone().filter(|s| !s.is_empty()),
        connection: match cli.connection.as_str() {
            "" | "none" => None,
            c => Some(c.to_owned()),
        },
        omit_sensitive: cli.omit_sensitive,
    };

    let raw = match (&cli.file, &cli.dir) {
        (Some(f), _) if f.as_os_str() == "-" => {
            source::read_from(std::io::stdin().lock(), "stdin")?
        }
        (Some(f), _) => source::read_file(f)?,
        (None, Some(d)) => source::run_output_json(d, options.tool.as_deref())?,
        (None, None) => {
            let cwd = std::env::current_dir().map_err(|e| inventory::Error::Io {
                action: "find the current directory".into(),
                source: e,
            })?;
            source::run_output_json(&cwd, options.tool.as_deref())?
        }
    };
    let inv = Inventory::from_outputs_json_with(&raw.json, &raw.origin, &options)?;
    if !cli.quiet {
        for w in inv.warnings() {
            eprintln!("floe-inventory: warning: {w}");
        }
    }

    let json = |v: &serde_json::Value| -> Result<String, inventory::Error> {
        let mut s = if cli.pretty {
            serde_json::to_string_pretty(v)
        } else {
            serde_json::to_string(v)
        }
        .map_err(|e| inventory::Error::Render(e.to_string()))?;
        s.push('\n');
        Ok(s)
    };
    if cli.list {
        json(&inv.to_list_json())
    } else if let Some(h) = &cli.host {
        json(&inv.host_json(h)?)
    } else if cli.graph {
        Ok(inv.to_graph())
    } else {
        inv.to_yaml()
    }
}
