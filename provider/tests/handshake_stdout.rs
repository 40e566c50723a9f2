//! After the handshake line the provider closes its end of the stdout pipe, so Terraform's
//! go-plugin reader gets EOF while the provider still runs — not at exit, where newer
//! go-plugin (Terraform 1.6+) races `cmd.Wait` closing the pipe and logs
//! `[ERROR] error encountered while scanning stdout: read |0: file already closed`.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const COOKIE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// Starts the provider as Terraform does (with `client_cert` for AutoMTLS), returns the
/// handshake line and what followed it on stdout up to EOF, checking the provider was
/// still running when EOF came.
fn handshake_then_eof(client_cert: Option<&str>) -> (String, Vec<u8>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_terraform-provider-incus"));
    cmd.env("TF_PLUGIN_MAGIC_COOKIE", COOKIE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "6")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    match client_cert {
        Some(pem) => cmd.env("PLUGIN_CLIENT_CERT", pem),
        None => cmd.env_remove("PLUGIN_CLIENT_CERT"),
    };
    let mut child = cmd.spawn().expect("spawn provider");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let first = stdout.read_line(&mut line).map(|_| line);
        let mut rest = Vec::new();
        let eof = stdout.read_to_end(&mut rest).map(|_| rest);
        let _ = tx.send((first, eof));
    });
    let received = rx.recv_timeout(Duration::from_secs(20));
    let still_running = matches!(child.try_wait(), Ok(None));
    let _ = child.kill();
    let _ = child.wait();
    let (first, rest) = received.expect("no EOF on stdout within 20 s after the handshake");
    assert!(
        still_running,
        "the provider exited instead of only closing stdout"
    );
    (first.expect("read handshake"), rest.expect("read to EOF"))
}

#[test]
fn stdout_is_closed_after_the_handshake() {
    let (line, rest) = handshake_then_eof(None);
    assert!(line.starts_with("1|6|unix|/"), "{line}");
    assert!(rest.is_empty(), "more on stdout: {rest:?}");
}

#[test]
fn stdout_is_closed_after_the_handshake_with_automtls() {
    let client = rcgen::generate_simple_self_signed(vec!["localhost".to_string()])
        .expect("client certificate");
    let (line, rest) = handshake_then_eof(Some(&client.cert.pem()));
    let fields: Vec<&str> = line.trim_end().split('|').collect();
    assert_eq!(fields.len(), 6, "{line}");
    assert!(!fields[5].is_empty(), "no server certificate: {line}");
    assert!(rest.is_empty(), "more on stdout: {rest:?}");
}
