//! The `floe-inventory` binary on saved outputs: modes, inputs, exit codes, clean stdout on error.

mod common;

use std::io::Write;
use std::process::Stdio;

use common::{expect_failure, expect_success, inventory};
use serde_json::{Value, json};

const OUTPUTS: &str = r#"{
  "web_instances": {"sensitive": false, "type": ["tuple", ["string", "string"]], "value": ["web-1", "web-2"]},
  "web_ansible_vars": {"sensitive": true, "type": ["object", {"token": "string"}], "value": {"token": "s3cret"}},
  "db_instances": {"sensitive": false, "type": "dynamic", "value": {"db-1": {"ipv4_address": "10.1.2.3"}}}
}"#;

fn outputs_file(dir: &tempfile::TempDir) -> std::path::PathBuf {
    let p = dir.path().join("outputs.json");
    std::fs::write(&p, OUTPUTS).expect("write outputs");
    p
}

#[test]
fn list_from_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = outputs_file(&dir);
    let out = expect_success(inventory().arg("--list").arg("--file").arg(&f));
    let v: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["web"]["hosts"], json!(["web-1", "web-2"]));
    assert_eq!(
        v["web"]["vars"]["token"],
        json!("s3cret"),
        "mapped sensitive vars are used"
    );
    assert_eq!(
        v["_meta"]["hostvars"]["db-1"]["ansible_host"],
        json!("10.1.2.3")
    );
}

#[test]
fn list_from_stdin_and_env_file() {
    let mut child = inventory()
        .args(["--list", "--file", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(OUTPUTS.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["db"]["hosts"], json!(["db-1"]));

    let dir = tempfile::tempdir().expect("tempdir");
    let f = outputs_file(&dir);
    let out = expect_success(inventory().arg("--graph").env("FLOE_INVENTORY_FILE", &f));
    assert_eq!(
        out,
        "@all:\n  |--@web:\n  |  |--web-1\n  |  |--web-2\n  |--@db:\n  |  |--db-1\n"
    );
}

#[test]
fn host_mode_and_flags_from_env() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = outputs_file(&dir);
    let out = expect_success(
        inventory()
            .args(["--host", "db-1", "--file"])
            .arg(&f)
            .env("FLOE_INCUS_PROJECT", "envproj")
            .arg("--incus-remote")
            .arg("flagremote"),
    );
    let v: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(
        v,
        json!({
            "ansible_connection": "community.general.incus",
            "ansible_host": "10.1.2.3",
            "ansible_incus_host": "db-1",
            "ansible_incus_remote": "flagremote",
            "ansible_incus_project": "envproj"
        })
    );
    let err = expect_failure(inventory().args(["--host", "nope", "--file"]).arg(&f));
    assert!(err.contains("no host named `nope`"), "{err}");
}

#[test]
fn yaml_mode_and_omit_sensitive() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = outputs_file(&dir);
    let out = expect_success(
        inventory()
            .args(["--yaml", "--omit-sensitive", "--file"])
            .arg(&f),
    );
    assert!(!out.contains("s3cret"), "{out}");
    let doc: Value = serde_norway::from_str(&out).expect("YAML");
    assert_eq!(
        doc["all"]["children"]["db"]["hosts"]["db-1"]["ansible_host"],
        json!("10.1.2.3")
    );
    let with = expect_success(inventory().args(["--yaml", "--file"]).arg(&f));
    assert!(with.contains("s3cret"));
}

#[test]
fn errors_exit_1_with_empty_stdout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).expect("write");
        p
    };
    let cases = [
        (write("empty.json", "{}"), "no outputs"),
        (
            write("bad.json", "{\"web_instances\": "),
            "malformed outputs JSON",
        ),
        (
            write(
                "num.json",
                r#"{"web_instances": {"sensitive": false, "value": 3}}"#,
            ),
            "output `web_instances` has the wrong shape",
        ),
        (
            write(
                "none.json",
                r#"{"url": {"sensitive": false, "value": "x"}}"#,
            ),
            "found: url",
        ),
        (dir.path().join("missing.json"), "cannot read outputs file"),
    ];
    for (path, expected) in cases {
        let err = expect_failure(inventory().arg("--list").arg("--file").arg(&path));
        assert!(err.contains(expected), "{}: {err}", path.display());
        assert!(err.starts_with("floe-inventory: error: "), "{err}");
    }
}

#[test]
fn sensitive_values_never_reach_stderr() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("s.json");
    std::fs::write(
        &p,
        r#"{"web_instances": {"sensitive": true, "value": {"topsecret-host": "topsecret-status"}}}"#,
    )
    .expect("write");
    let err = expect_failure(inventory().arg("--list").arg("--file").arg(&p));
    assert!(!err.contains("topsecret"), "{err}");
    assert!(err.contains("<hidden key>"), "{err}");
}

#[test]
fn usage_errors_exit_2() {
    let out = inventory().output().expect("run");
    assert_eq!(out.status.code(), Some(2), "a mode is required");
    assert!(out.stdout.is_empty());
    let out = inventory()
        .args(["--list", "--graph", "--file", "x"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "modes are exclusive");
}

#[test]
fn tool_missing_from_path() {
    let empty = tempfile::tempdir().expect("tempdir");
    let err = expect_failure(
        inventory()
            .arg("--list")
            .arg("--dir")
            .arg(empty.path())
            .env("PATH", empty.path()),
    );
    assert!(
        err.contains("cannot find `tofu` or `terraform`: neither is on PATH"),
        "{err}"
    );
    assert!(err.contains("--tool"), "{err}");
    let err = expect_failure(
        inventory()
            .args(["--list", "--tool", "/nonexistent/tofu", "--dir"])
            .arg(empty.path()),
    );
    assert!(err.contains("cannot find `/nonexistent/tofu`"), "{err}");
    let err = expect_failure(
        inventory()
            .arg("--list")
            .arg("--dir")
            .arg(empty.path())
            .env("TF_INVENTORY_BIN", "no-such-tool-floe"),
    );
    assert!(err.contains("cannot find `no-such-tool-floe`"), "{err}");
    let err = expect_failure(inventory().args(["--list", "--dir", "/nonexistent/env"]));
    assert!(
        err.contains("environment directory /nonexistent/env"),
        "{err}"
    );
}
