//! Helpers shared by the integration tests: the binary, the testbed's tools, unique names.
//! Missing prerequisites make tests FAIL with a message saying how to install them (never skip).

#![allow(dead_code)] // each test file uses a different subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_floe-inventory");

/// Terraform 1.0.3 from the testbed (`$TERRAFORM`, as exported by scripts/env.sh).
pub fn terraform() -> PathBuf {
    let p = std::env::var_os("TERRAFORM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/cache/floe/terraform-1.0.3/terraform"));
    assert!(
        p.is_file(),
        "Terraform 1.0.3 not found at {} — run `make testbed` or set TERRAFORM",
        p.display()
    );
    p
}

/// The Ansible virtualenv (`$ANSIBLE_VENV`).
pub fn ansible_bin(name: &str) -> PathBuf {
    let venv = std::env::var_os("ANSIBLE_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/cache/floe/ansible-venv"));
    let p = venv.join("bin").join(name);
    assert!(
        p.is_file(),
        "{} not found — run `make testbed` or set ANSIBLE_VENV",
        p.display()
    );
    p
}

/// A name nobody else on the shared daemon uses: prefix + pid + clock nanos.
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}-{}-{:x}", std::process::id(), nanos)
}

/// Terraform without network chatter or the host's CLI config (keeps tests hermetic).
pub fn tf_command(dir: &Path) -> Command {
    let mut c = Command::new(terraform());
    c.current_dir(dir)
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_IN_AUTOMATION", "1")
        .env("TF_INPUT", "0")
        .env("TF_CLI_CONFIG_FILE", dir.join("empty.tfrc"));
    std::fs::write(dir.join("empty.tfrc"), "").expect("write empty CLI config");
    c
}

/// `terraform init` + `apply -auto-approve` of `main_tf` in `dir`; panics with Terraform's output.
pub fn tf_apply(dir: &Path, main_tf: &str, vars: &[(&str, &str)]) {
    std::fs::write(dir.join("main.tf"), main_tf).expect("write main.tf");
    let init = tf_command(dir)
        .args(["init", "-no-color", "-input=false"])
        .output()
        .expect("run terraform init");
    assert_success("terraform init", &init);
    let mut apply = tf_command(dir);
    apply.args(["apply", "-no-color", "-input=false", "-auto-approve"]);
    for (k, v) in vars {
        apply.arg("-var").arg(format!("{k}={v}"));
    }
    let out = apply.output().expect("run terraform apply");
    assert_success("terraform apply", &out);
}

pub fn assert_success(what: &str, out: &Output) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The inventory binary with a clean environment for its own variables.
pub fn inventory() -> Command {
    let mut c = Command::new(BIN);
    for var in [
        "FLOE_INVENTORY_DIR",
        "FLOE_INVENTORY_FILE",
        "FLOE_INVENTORY_TOOL",
        "TF_INVENTORY_BIN",
        "FLOE_INCUS_REMOTE",
        "FLOE_INCUS_PROJECT",
        "FLOE_INVENTORY_CONNECTION",
        "FLOE_INVENTORY_OMIT_SENSITIVE",
        "FLOE_INVENTORY_QUIET",
    ] {
        c.env_remove(var);
    }
    c.stdin(Stdio::null());
    c
}

/// Runs a command that must fail: returns stderr after checking exit code 1 and an empty stdout.
pub fn expect_failure(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run floe-inventory");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(1),
        "expected exit 1; stderr: {stderr}"
    );
    assert!(
        out.stdout.is_empty(),
        "stdout must stay empty on error, got: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    stderr
}

/// Runs a command that must succeed and returns stdout.
pub fn expect_success(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run command");
    assert_success("command", &out);
    String::from_utf8(out.stdout).expect("utf-8 stdout")
}

/// Writes an executable wrapper script, as Ansible only passes `--list`/`--host`.
pub fn write_wrapper(path: &Path, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).expect("write wrapper");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod wrapper");
}

/// Single-quotes a string for /bin/sh.
pub fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}
