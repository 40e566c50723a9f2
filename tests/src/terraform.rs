//! Running the real Terraform against the provider built from this workspace.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::incus::TestProject;

/// Registry address of the provider in test configurations (`source = "floe/incus"`).
pub const PROVIDER_SOURCE: &str = "floe/incus";
/// Version the filesystem mirror advertises (used only by [`Workspace::new_with_init`]).
pub const MIRROR_VERSION: &str = "0.1.0";

/// The `terraform` block every test configuration starts with.
pub fn required_providers() -> String {
    format!(
        "terraform {{\n  required_providers {{\n    incus = {{ source = \"{PROVIDER_SOURCE}\" }}\n  }}\n}}\n\nprovider \"incus\" {{}}\n"
    )
}

/// `$TERRAFORM`, else the testbed's default path. Panics when missing (run `make testbed`).
pub fn terraform_bin() -> PathBuf {
    let p = std::env::var_os("TERRAFORM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/cache/floe/terraform-1.0.3/terraform"));
    assert!(
        p.exists(),
        "Terraform not found at {} (set TERRAFORM or run `make testbed`)",
        p.display()
    );
    p
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// The provider binary: `$FLOE_PROVIDER_BIN` if set, else built once per test process
/// with `cargo build -p terraform-provider-incus` (so tests never run a stale binary).
pub fn provider_binary() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(p) = std::env::var_os("FLOE_PROVIDER_BIN") {
            return PathBuf::from(p);
        }
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args([
                "build",
                "-p",
                "terraform-provider-incus",
                "--bin",
                "terraform-provider-incus",
            ])
            .current_dir(workspace_root())
            .status()
            .expect("cannot run cargo to build the provider");
        assert!(status.success(), "building terraform-provider-incus failed");
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace_root().join("target"));
        let bin = target.join("debug").join("terraform-provider-incus");
        assert!(bin.exists(), "provider binary missing at {}", bin.display());
        bin
    })
    .clone()
}

/// Output of one terraform command.
#[derive(Debug)]
pub struct TfOutput {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl TfOutput {
    /// Panics with the full output unless the command succeeded.
    #[track_caller]
    pub fn assert_success(&self) -> &Self {
        assert_eq!(
            self.code, 0,
            "terraform failed:\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }
    /// Panics unless the command failed.
    #[track_caller]
    pub fn assert_failure(&self) -> &Self {
        assert_ne!(
            self.code, 0,
            "terraform unexpectedly succeeded:\n{}",
            self.stdout
        );
        self
    }
    /// stdout and stderr together.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
    /// stdout and stderr with all whitespace runs collapsed to one space (Terraform wraps
    /// diagnostic text at 78 columns), for matching messages.
    pub fn flat(&self) -> String {
        self.all().split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

/// One test's Terraform working directory, CLI config and Incus project.
pub struct Workspace {
    // Field order matters for Drop: destroy via Terraform first (see Drop), then the project.
    dir: tempfile::TempDir,
    cli_config: PathBuf,
    pub project: TestProject,
}

impl Workspace {
    /// A workspace whose CLI config uses `dev_overrides` (no `terraform init` needed).
    pub fn new(prefix: &str) -> Workspace {
        let bin = provider_binary();
        let dir = tempfile::Builder::new()
            .prefix(&format!("floe-e2e-{prefix}-"))
            .tempdir()
            .expect("temp dir");
        let cli_config = dir.path().join("cli.tfrc");
        let bin_dir = bin.parent().expect("binary dir");
        std::fs::write(
            &cli_config,
            format!(
                "provider_installation {{\n  dev_overrides {{\n    \"{PROVIDER_SOURCE}\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
                bin_dir.display()
            ),
        )
        .expect("write CLI config");
        let project = TestProject::create(prefix);
        Workspace {
            dir,
            cli_config,
            project,
        }
    }

    /// A workspace that installs the provider with `terraform init` from a local
    /// filesystem mirror (the path real users take), instead of `dev_overrides`.
    pub fn new_with_init(prefix: &str) -> Workspace {
        let ws = Workspace::new(prefix);
        let mirror = ws.dir.path().join("mirror");
        let plat = ws.dir.path().join(format!(
            "mirror/registry.terraform.io/{PROVIDER_SOURCE}/{MIRROR_VERSION}/linux_amd64"
        ));
        std::fs::create_dir_all(&plat).expect("mirror dir");
        std::fs::copy(
            provider_binary(),
            plat.join(format!("terraform-provider-incus_v{MIRROR_VERSION}")),
        )
        .expect("copy provider");
        std::fs::write(
            &ws.cli_config,
            format!(
                "provider_installation {{\n  filesystem_mirror {{\n    path    = \"{}\"\n    include = [\"{PROVIDER_SOURCE}\"]\n  }}\n  direct {{\n    exclude = [\"{PROVIDER_SOURCE}\"]\n  }}\n}}\n",
                mirror.display()
            ),
        )
        .expect("write CLI config");
        ws
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The test project's name.
    pub fn project(&self) -> &str {
        &self.project.name
    }

    /// Write `main.tf`: the required_providers header followed by `body`.
    pub fn write_main(&self, body: &str) {
        self.write("main.tf", &format!("{}\n{body}", required_providers()));
    }

    pub fn write(&self, name: &str, content: &str) {
        std::fs::write(self.dir.path().join(name), content).expect("write file");
    }

    /// Run `terraform ARGS` in the workspace (TF_IN_AUTOMATION, no colour, no input).
    pub fn run(&self, args: &[&str]) -> TfOutput {
        self.run_with(&terraform_bin(), args)
    }

    pub fn init(&self) -> TfOutput {
        self.run(&["init", "-input=false", "-no-color"])
    }

    pub fn apply(&self) -> TfOutput {
        self.run(&["apply", "-auto-approve", "-input=false", "-no-color"])
    }

    pub fn apply_args(&self, extra: &[&str]) -> TfOutput {
        let mut a = vec!["apply", "-auto-approve", "-input=false", "-no-color"];
        a.extend_from_slice(extra);
        self.run(&a)
    }

    pub fn plan(&self) -> TfOutput {
        self.run(&["plan", "-input=false", "-no-color"])
    }

    /// `plan -detailed-exitcode`: code 0 = no changes, 2 = changes, 1 = error.
    pub fn plan_exitcode(&self) -> TfOutput {
        self.run(&["plan", "-detailed-exitcode", "-input=false", "-no-color"])
    }

    /// Panics with the plan unless it is empty.
    #[track_caller]
    pub fn assert_no_diff(&self) {
        let p = self.plan_exitcode();
        assert_eq!(
            p.code, 0,
            "expected an empty plan, got exit {}:\n{}\n{}",
            p.code, p.stdout, p.stderr
        );
    }

    pub fn import(&self, address: &str, id: &str) -> TfOutput {
        self.run(&["import", "-input=false", "-no-color", address, id])
    }

    pub fn destroy(&self) -> TfOutput {
        self.run(&["destroy", "-auto-approve", "-input=false", "-no-color"])
    }

    /// `terraform show -json` of the state.
    pub fn state_json(&self) -> serde_json::Value {
        let out = self.run(&["show", "-json", "-no-color"]);
        out.assert_success();
        serde_json::from_str(&out.stdout).expect("show -json output")
    }

    /// Attribute values of resource `address` in the state (None if absent).
    pub fn resource_values(&self, address: &str) -> Option<serde_json::Value> {
        let s = self.state_json();
        let resources = s
            .pointer("/values/root_module/resources")?
            .as_array()?
            .clone();
        resources
            .into_iter()
            .find(|r| r["address"] == address)
            .map(|r| r["values"].clone())
    }

    /// Addresses of all resources in the state.
    pub fn state_list(&self) -> Vec<String> {
        let out = self.run(&["state", "list"]);
        out.stdout
            .lines()
            .map(str::to_string)
            .filter(|l| !l.is_empty())
            .collect()
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        // Best effort: let Terraform remove what it manages (the project drop then removes
        // anything left, e.g. after a failed test).
        if self.dir.path().join("terraform.tfstate").exists() {
            let _ = self.destroy();
        }
    }
}

// ---------------------------------------------------------------------------------------
// A second, newer Terraform (or OpenTofu) binary, for checking the provider under the
// protocol features newer clients use (tests/tests/provider_newer_terraform.rs).

/// Environment variable naming the newer Terraform/OpenTofu binary.
pub const NEWER_TERRAFORM_ENV: &str = "FLOE_TERRAFORM_NEW";
/// Where the newer binary is looked for when [`NEWER_TERRAFORM_ENV`] is unset.
pub const NEWER_TERRAFORM_DEFAULT: &str = "/usr/local/bin/terraform";

/// The newer Terraform binary: `$FLOE_TERRAFORM_NEW`, which must exist (panics otherwise:
/// someone asked for it), else [`NEWER_TERRAFORM_DEFAULT`] when it exists, else `None`
/// (the machine has no newer Terraform; the caller says so).
pub fn newer_terraform_bin() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(NEWER_TERRAFORM_ENV) {
        let p = PathBuf::from(p);
        assert!(
            p.is_file(),
            "{NEWER_TERRAFORM_ENV}={} does not exist: install that Terraform/OpenTofu or unset {NEWER_TERRAFORM_ENV}",
            p.display()
        );
        return Some(p);
    }
    let default = PathBuf::from(NEWER_TERRAFORM_DEFAULT);
    default.is_file().then_some(default)
}

/// `(major, minor, patch)` of a Terraform or OpenTofu binary (`version -json`, which both
/// print with the key `terraform_version`). Panics with the output when it cannot tell.
pub fn terraform_version(bin: &Path) -> (u32, u32, u32) {
    let out = Command::new(bin)
        .args(["version", "-json"])
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_CLI_CONFIG_FILE", "/dev/null")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let v: serde_json::Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{} version -json: {e}\n{stdout}", bin.display()));
    let s = v["terraform_version"].as_str().unwrap_or_default();
    let mut parts = s
        .split(|c: char| !c.is_ascii_digit())
        .map(|n| n.parse::<u32>().ok());
    match (parts.next(), parts.next(), parts.next()) {
        (Some(Some(a)), Some(Some(b)), Some(Some(c))) => (a, b, c),
        _ => panic!("{}: unexpected version {s:?}", bin.display()),
    }
}

impl Workspace {
    /// Like [`Workspace::run`], with the Terraform binary `bin` instead of `$TERRAFORM`.
    pub fn run_with(&self, bin: &Path, args: &[&str]) -> TfOutput {
        let out = Command::new(bin)
            .args(args)
            .current_dir(self.dir.path())
            .env("TF_CLI_CONFIG_FILE", &self.cli_config)
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0")
            .env("CHECKPOINT_DISABLE", "1")
            .env_remove("TF_LOG")
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
        TfOutput {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}
