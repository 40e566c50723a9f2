//! The plugin binary itself: run by hand, handshake line, install through `terraform init`.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use floe_e2e::terraform::{Workspace, provider_binary};

#[test]
fn run_by_hand_prints_a_human_message_and_exits_1() {
    let out = Command::new(provider_binary())
        .env_remove("TF_PLUGIN_MAGIC_COOKIE")
        .output()
        .expect("run provider");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "nothing on stdout");
    assert!(String::from_utf8_lossy(&out.stderr).contains("This binary is a plugin"));
}

#[test]
fn handshake_line_is_the_first_and_only_stdout_line() {
    let mut child = Command::new(provider_binary())
        .env(
            "TF_PLUGIN_MAGIC_COOKIE",
            "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2",
        )
        .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
        .env_remove("PLUGIN_CLIENT_CERT")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn provider");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read");
    let _ = child.kill();
    let _ = child.wait();
    let fields: Vec<&str> = line.trim_end().split('|').collect();
    assert_eq!(fields.len(), 6, "{line}");
    assert_eq!(&fields[..3], &["1", "6", "unix"]);
    assert!(fields[3].starts_with('/'), "socket path: {line}");
    assert_eq!(fields[4], "grpc");
    assert_eq!(fields[5], "", "no certificate without AutoMTLS");
}

#[test]
fn terraform_init_installs_from_a_mirror_and_plans_empty_config() {
    let ws = Workspace::new_with_init("init");
    ws.write_main("");
    ws.init().assert_success();
    assert!(ws.dir().join(".terraform.lock.hcl").exists());
    ws.assert_no_diff();
}
