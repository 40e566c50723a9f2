//! Real Terraform 1.0.3 (`$TERRAFORM`): an outputs-only configuration is applied in a temp dir
//! (local backend) and `floe-inventory --tool $TERRAFORM --dir` reads it. Also the ways
//! `terraform output` itself fails, reproduced for real.

mod common;

use std::io::Read;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{expect_failure, expect_success, inventory, terraform, tf_apply, tf_command};
use serde_json::{Value, json};

const SECRET: &str = "tf-secret-7f3a9c";

/// Outputs covering every shape: tuple of names, set, map name => object with addresses, list of
/// objects, group vars (one sensitive), children, unicode and invalid group names.
const ENV_TF: &str = r#"
variable "token" {
  type      = string
  default   = "tf-secret-7f3a9c"
  sensitive = true
}

locals {
  db = {
    "db-1" = { ipv4_address = "10.123.0.11", project = "data" }
    "db-2" = { ipv4_address = "", ipv6_address = "fd42::12" }
  }
}

output "web_instances" { value = ["web-1", "web-2"] }
output "cache_instances" { value = toset(["cache-b", "cache-a"]) }
output "db_instances" { value = local.db }
output "app-tier_instances" { value = [for n in ["app-1"] : { name = n, groups = ["blue"] }] }
output "café_instances" { value = ["hôte-1"] }
output "prod_children" { value = ["web", "db"] }
output "web_ansible_vars" {
  value     = { http_port = 8080, api_token = var.token }
  sensitive = true
}
output "all_ansible_vars" { value = { ansible_python_interpreter = "/usr/bin/python3" } }
output "incus_project" { value = "floe" }
output "unrelated" { value = 42 }
"#;

#[test]
fn reads_outputs_of_a_real_terraform_state() {
    let dir = tempfile::tempdir().expect("tempdir");
    tf_apply(dir.path(), ENV_TF, &[]);
    let tf = terraform();

    let out = expect_success(
        inventory()
            .args(["--list", "--tool"])
            .arg(&tf)
            .arg("--dir")
            .arg(dir.path()),
    );
    let v: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["web"]["hosts"], json!(["web-1", "web-2"]));
    assert_eq!(
        v["cache"]["hosts"],
        json!(["cache-a", "cache-b"]),
        "set(string) is sorted by Terraform"
    );
    assert_eq!(v["db"]["hosts"], json!(["db-1", "db-2"]));
    assert_eq!(v["app_tier"]["hosts"], json!(["app-1"]));
    assert_eq!(v["blue"]["hosts"], json!(["app-1"]));
    assert_eq!(v["café"]["hosts"], json!(["hôte-1"]));
    assert_eq!(v["prod"]["children"], json!(["web", "db"]));
    assert_eq!(
        v["web"]["vars"]["api_token"],
        json!(SECRET),
        "mapped sensitive output is used"
    );
    assert_eq!(
        v["all"]["vars"]["ansible_python_interpreter"],
        json!("/usr/bin/python3")
    );
    let hv = &v["_meta"]["hostvars"];
    assert_eq!(hv["db-1"]["ansible_host"], json!("10.123.0.11"));
    assert_eq!(hv["db-1"]["ansible_incus_project"], json!("data"));
    assert_eq!(hv["db-2"]["ansible_host"], json!("fd42::12"));
    assert_eq!(hv["web-1"]["ansible_incus_project"], json!("floe"));
    assert_eq!(hv["web-1"]["ansible_incus_host"], json!("web-1"));
    assert!(v.get("unrelated").is_none());

    // Same through the environment variables (what an Ansible wrapper would set), in --graph form.
    let out = expect_success(
        inventory()
            .arg("--graph")
            .env("FLOE_INVENTORY_TOOL", &tf)
            .env("FLOE_INVENTORY_DIR", dir.path()),
    );
    assert!(out.starts_with("@all:\n"), "{out}");
    assert!(
        out.contains("  |--@prod:\n  |  |--@web:\n  |  |  |--web-1\n"),
        "{out}"
    );
    assert!(!out.contains(SECRET), "the graph never shows vars");

    // Default directory is the current one; TF_INVENTORY_BIN names the tool.
    let out = expect_success(
        inventory()
            .args(["--host", "web-2"])
            .current_dir(dir.path())
            .env("TF_INVENTORY_BIN", &tf),
    );
    assert_eq!(
        serde_json::from_str::<Value>(&out).expect("JSON")["ansible_incus_host"],
        json!("web-2")
    );
}

#[test]
fn warnings_name_renamed_groups_but_no_values() {
    let dir = tempfile::tempdir().expect("tempdir");
    tf_apply(dir.path(), ENV_TF, &[]);
    let out = inventory()
        .args(["--list", "--tool"])
        .arg(terraform())
        .arg("--dir")
        .arg(dir.path())
        .output()
        .expect("run");
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("group name `app-tier`") && stderr.contains("`app_tier`"),
        "{stderr}"
    );
    assert!(!stderr.contains(SECRET), "{stderr}");
}

#[test]
fn state_absent_means_no_outputs() {
    // Configuration present, never applied: `terraform output -json` prints `{}` and exits 0.
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("main.tf"), ENV_TF).expect("write");
    let err = expect_failure(
        inventory()
            .args(["--list", "--tool"])
            .arg(terraform())
            .arg("--dir")
            .arg(dir.path()),
    );
    assert!(
        err.contains("no outputs in `terraform output -json` in"),
        "{err}"
    );
    assert!(err.contains("run `terraform apply`"), "{err}");
}

#[test]
fn backend_not_initialized() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("main.tf"),
        "terraform {\n  backend \"local\" {\n    path = \"state/env.tfstate\"\n  }\n}\noutput \"web_instances\" { value = [\"w\"] }\n",
    )
    .expect("write");
    let err = expect_failure(
        inventory()
            .args(["--list", "--tool"])
            .arg(terraform())
            .arg("--dir")
            .arg(dir.path())
            .env("TF_CLI_CONFIG_FILE", "/dev/null"),
    );
    assert!(err.contains("`terraform output -json` failed in"), "{err}");
    assert!(err.contains("Backend initialization required"), "{err}");
    assert!(err.contains("Fix: run `terraform init` in"), "{err}");
}

#[test]
fn unreadable_state() {
    let dir = tempfile::tempdir().expect("tempdir");
    tf_apply(dir.path(), ENV_TF, &[]);
    // A state truncated mid-write (disk full, killed copy): Terraform refuses to load it.
    let state = dir.path().join("terraform.tfstate");
    let text = std::fs::read_to_string(&state).expect("state");
    std::fs::write(&state, &text[..text.len() / 2]).expect("truncate");
    let err = expect_failure(
        inventory()
            .args(["--list", "--tool"])
            .arg(terraform())
            .arg("--dir")
            .arg(dir.path()),
    );
    assert!(err.contains("Failed to load state"), "{err}");
    assert!(err.contains("restore it"), "{err}");
    assert!(
        !err.contains(SECRET),
        "the state holds the secret; the error must not: {err}"
    );
}

#[test]
fn wrong_shapes_from_real_outputs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tf = format!(
        "output \"web_instances\" {{ value = 3 }}\n\
         output \"db_instances\" {{\n  value = {{ \"{SECRET}\" = \"running\" }}\n  sensitive = true\n}}\n"
    );
    tf_apply(dir.path(), &tf, &[]);
    let err = expect_failure(
        inventory()
            .args(["--list", "--tool"])
            .arg(terraform())
            .arg("--dir")
            .arg(dir.path()),
    );
    // Outputs are sorted, so db_instances (sensitive, wrong) is reported first, with its key hidden.
    assert!(
        err.contains("output `db_instances` has the wrong shape at `db_instances[<hidden key>]`"),
        "{err}"
    );
    assert!(!err.contains(SECRET), "{err}");

    std::fs::write(
        dir.path().join("main.tf"),
        "output \"web_instances\" { value = 3 }\n",
    )
    .expect("write");
    let apply = tf_command(dir.path())
        .args(["apply", "-no-color", "-auto-approve"])
        .output()
        .expect("apply");
    common::assert_success("terraform apply", &apply);
    let err = expect_failure(
        inventory()
            .args(["--list", "--tool"])
            .arg(terraform())
            .arg("--dir")
            .arg(dir.path()),
    );
    assert!(
        err.contains("output `web_instances` has the wrong shape at `web_instances`"),
        "{err}"
    );
    assert!(err.contains("found a number"), "{err}");
}

/// Kills the pending `terraform apply` even if the test fails.
struct KillOnDrop(Child);
impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn locked_state_does_not_block_reading_outputs() {
    // `terraform apply` waiting at its "Enter a value" prompt holds the state lock. Terraform 1.0.3's
    // `output` does not take the lock (it only reads), so the inventory must still work and show the
    // last applied outputs, not the pending ones.
    let dir = tempfile::tempdir().expect("tempdir");
    let tf =
        "variable \"n\" {\n  default = \"old\"\n}\noutput \"web_instances\" { value = [var.n] }\n";
    tf_apply(dir.path(), tf, &[]);
    let mut apply = tf_command(dir.path());
    apply
        .args(["apply", "-no-color", "-var", "n=new"])
        .env("TF_INPUT", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut guard = KillOnDrop(apply.spawn().expect("spawn terraform apply"));
    let lock = dir.path().join(".terraform.tfstate.lock.info");
    let start = Instant::now();
    while !lock.exists() {
        if let Ok(Some(status)) = guard.0.try_wait() {
            let mut stderr = String::new();
            if let Some(mut e) = guard.0.stderr.take() {
                let _ = e.read_to_string(&mut stderr);
            }
            panic!("terraform apply exited ({status}) before locking: {stderr}");
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "terraform apply never took the lock"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Prove the lock is real: a second apply must fail to acquire it.
    let second = tf_command(dir.path())
        .args(["apply", "-no-color", "-auto-approve", "-lock-timeout=0s"])
        .output()
        .expect("second apply");
    assert!(!second.status.success());
    assert!(String::from_utf8_lossy(&second.stderr).contains("Error acquiring the state lock"));

    let out = expect_success(
        inventory()
            .args(["--list", "--tool"])
            .arg(terraform())
            .arg("--dir")
            .arg(dir.path()),
    );
    let v: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["web"]["hosts"], json!(["old"]));
    drop(guard);
}

/// Without --tool, `tofu` is preferred when it is on PATH, else `terraform`. Both are the real
/// Terraform 1.0.3 here (OpenTofu is not installable on this machine): `tofu` is a wrapper that
/// records that it was called.
#[test]
fn default_tool_is_tofu_then_terraform_from_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let env = dir.path().join("env");
    std::fs::create_dir(&env).expect("mkdir");
    tf_apply(&env, "output \"web_instances\" { value = [\"w\"] }\n", &[]);
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).expect("mkdir bin");
    std::os::unix::fs::symlink(terraform(), bin.join("terraform")).expect("symlink terraform");

    let list = |path: &std::path::Path| {
        let out = expect_success(
            inventory()
                .arg("--list")
                .current_dir(&env)
                .env("PATH", path)
                .env("TF_CLI_CONFIG_FILE", env.join("empty.tfrc")),
        );
        serde_json::from_str::<Value>(&out).expect("JSON")
    };
    assert_eq!(
        list(&bin)["web"]["hosts"],
        json!(["w"]),
        "terraform found on PATH"
    );

    let marker = dir.path().join("tofu-was-called");
    common::write_wrapper(
        &bin.join("tofu"),
        &format!(
            "touch {}\nexec {} \"$@\"",
            common::sh_quote(&marker.to_string_lossy()),
            common::sh_quote(&terraform().to_string_lossy())
        ),
    );
    // The wrapper needs `touch` from the system PATH; terraform stays reachable through bin/.
    let path = std::env::join_paths([bin.clone(), "/usr/bin".into(), "/bin".into()]).expect("PATH");
    assert_eq!(
        list(std::path::Path::new(&path))["web"]["hosts"],
        json!(["w"])
    );
    assert!(marker.exists(), "tofu must be preferred over terraform");
}

/// The roles runner's entry point: the library on an environment directory, no subprocess of ours.
#[test]
fn library_reads_an_environment_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    tf_apply(dir.path(), ENV_TF, &[]);
    assert!(inventory::is_environment_dir(dir.path()));
    let options = inventory::Options {
        tool: Some(terraform()),
        incus_remote: Some("cluster01".into()),
        ..inventory::Options::default()
    };
    let inv = inventory::Inventory::from_path(dir.path(), &options).expect("inventory");
    assert_eq!(
        inv.hosts_of_group("prod"),
        ["web-1", "web-2", "db-1", "db-2"]
    );
    let vars = inv.resolved_host_vars("web-1").expect("web-1");
    assert_eq!(vars["http_port"], json!(8080));
    assert_eq!(vars["ansible_incus_remote"], json!("cluster01"));
    assert_eq!(
        vars["ansible_python_interpreter"],
        json!("/usr/bin/python3")
    );

    // A saved `output -json` file goes through the same path.
    let saved = dir.path().join("outputs.json");
    let out = tf_command(dir.path())
        .args(["output", "-json"])
        .output()
        .expect("output");
    std::fs::write(&saved, &out.stdout).expect("save");
    let from_file = inventory::Inventory::from_path(&saved, &options).expect("from file");
    assert_eq!(from_file, inv);
    let empty = tempfile::tempdir().expect("tempdir");
    assert!(!inventory::is_environment_dir(empty.path()));
}
