//! First contact with an HTTPS remote through real Terraform and the real daemon over
//! `https://127.0.0.1:8443`: an empty `config_dir` gets a generated client certificate,
//! the server certificate is pinned on first use (`accept_remote_certificate`), and a
//! one-time trust token (`incus config trust add`) makes the daemon trust the new client.
//! Without `accept_remote_certificate` the provider refuses and says how to fix it.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use floe_e2e::incus::{incus, try_incus};
use floe_e2e::terraform::{PROVIDER_SOURCE, Workspace};

/// Make the daemon listen on HTTPS (left in place: other tests rely on it too) and return
/// the loopback address to reach it.
fn https_address() -> String {
    let mut listen = incus(&["config", "get", "core.https_address"])
        .trim()
        .to_string();
    if listen.is_empty() {
        incus(&["config", "set", "core.https_address", "127.0.0.1:8443"]);
        listen = "127.0.0.1:8443".into();
    }
    let port = listen
        .rsplit_once(':')
        .map(|(_, p)| p.to_string())
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "8443".into());
    format!("https://127.0.0.1:{port}")
}

/// Removes the trust-store entry (or the unused token) named `name`, also on failure.
struct TrustGuard {
    name: String,
}

impl TrustGuard {
    /// `incus config trust add NAME` → the token (last line of the output).
    fn new_token(name: &str) -> (TrustGuard, String) {
        let out = incus(&["config", "trust", "add", name]);
        let token = out
            .lines()
            .map(str::trim)
            .rfind(|l| !l.is_empty())
            .unwrap_or_else(|| panic!("no token in `incus config trust add` output: {out:?}"))
            .to_string();
        (
            TrustGuard {
                name: name.to_string(),
            },
            token,
        )
    }

    /// Fingerprints of trusted certificates carrying this name.
    fn fingerprints(&self) -> Vec<String> {
        let json = incus(&["config", "trust", "list", "-f", "json"]);
        let list: serde_json::Value = serde_json::from_str(&json).expect("trust list json");
        list.as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["name"] == self.name.as_str())
            .filter_map(|c| c["fingerprint"].as_str().map(str::to_string))
            .collect()
    }
}

impl Drop for TrustGuard {
    fn drop(&mut self) {
        for fp in self.fingerprints() {
            let _ = try_incus(&["config", "trust", "remove", &fp]);
        }
        let _ = try_incus(&["config", "trust", "revoke-token", &self.name]);
    }
}

/// main.tf with our own provider block (the harness header has an empty one).
fn write_config(ws: &Workspace, provider: &str, resources: &str) {
    ws.write(
        "main.tf",
        &format!(
            "terraform {{\n  required_providers {{\n    incus = {{ source = \"{PROVIDER_SOURCE}\" }}\n  }}\n}}\n\nprovider \"incus\" {{\n{provider}\n}}\n\n{resources}\n"
        ),
    );
}

fn provider_block(config_dir: &Path, addr: &str, token: &str, accept: bool) -> String {
    format!(
        r#"  config_dir                   = "{}"
  generate_client_certificates = true
  accept_remote_certificate    = {accept}
  remote {{
    name    = "tls"
    address = "{addr}"
    token   = "{token}"
    default = true
  }}"#,
        config_dir.display()
    )
}

/// The base64 body of a PEM file, whitespace removed (to compare certificates).
fn pem_body(pem: &str) -> String {
    pem.lines()
        .filter(|l| !l.starts_with("-----"))
        .flat_map(|l| l.split_whitespace())
        .collect()
}

#[test]
fn token_and_first_use_certificates_over_https() {
    let addr = https_address();
    let ws = Workspace::new("trust");
    let trust_name = floe_e2e::unique("floe-e2e-trust");
    let (guard, token) = TrustGuard::new_token(&trust_name);
    let conf = tempfile::tempdir().expect("temp dir");
    let config_dir = conf.path().join("incus");
    let profile = floe_e2e::unique("tls-prof");
    let resources = format!(
        r#"resource "incus_profile" "p" {{
  name        = "{profile}"
  project     = "{project}"
  description = "created over https"
  config = {{
    "limits.cpu" = "1"
  }}
}}"#,
        project = ws.project()
    );

    // 1. Without accept_remote_certificate: refused, with the fix in the message.
    write_config(
        &ws,
        &provider_block(&config_dir, &addr, &token, false),
        &resources,
    );
    let out = ws.apply();
    out.assert_failure();
    let msg = out.flat();
    assert!(
        msg.contains("accept_remote_certificate = true") && msg.contains("incus remote add tls"),
        "{msg}"
    );
    assert!(!config_dir.join("servercerts/tls.crt").exists());
    assert!(
        guard.fingerprints().is_empty(),
        "nothing may be trusted yet"
    );

    // 2. With it: certificates created, server pinned, token redeemed, profile created.
    write_config(
        &ws,
        &provider_block(&config_dir, &addr, &token, true),
        &resources,
    );
    ws.apply().assert_success();
    let key = config_dir.join("client.key");
    let crt = config_dir.join("client.crt");
    assert!(crt.exists(), "client.crt not created");
    let mode = std::fs::metadata(&key)
        .expect("client.key created")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600, "client.key mode {mode:o}");
    let pinned = std::fs::read_to_string(config_dir.join("servercerts/tls.crt"))
        .expect("servercerts/tls.crt created");
    let server = std::fs::read_to_string("/var/lib/incus/server.crt").expect("server.crt");
    assert_eq!(
        pem_body(&pinned),
        pem_body(&server),
        "pinned certificate is the daemon's"
    );
    assert_eq!(
        guard.fingerprints().len(),
        1,
        "the token added exactly one trusted client"
    );
    let desc = ws
        .project
        .incus(&["profile", "get", &profile, "description", "--property"]);
    assert_eq!(desc.trim(), "created over https");

    // 3. The token is spent; the next run reuses the identity and the pin: no diff.
    let crt_before = std::fs::read(&crt).unwrap();
    ws.assert_no_diff();
    assert_eq!(
        std::fs::read(&crt).unwrap(),
        crt_before,
        "client.crt reused"
    );

    // 4. A spent token on an untrusted identity is rejected with a readable error.
    let other = conf.path().join("other");
    write_config(
        &ws,
        &provider_block(&other, &addr, &token, true),
        "data \"incus_profile\" \"d\" {\n  name = \"default\"\n}\n",
    );
    let out = ws.run(&["plan", "-input=false", "-no-color", "-refresh=false"]);
    out.assert_failure();
    let msg = out.flat();
    assert!(
        msg.contains("rejected the trust token") && msg.contains("incus config trust add"),
        "{msg}"
    );

    // Clean up through Terraform with the trusted identity.
    write_config(
        &ws,
        &provider_block(&config_dir, &addr, &token, true),
        &resources,
    );
    ws.destroy().assert_success();
    assert!(
        ws.project
            .try_incus(&["profile", "show", &profile])
            .is_err(),
        "profile left behind"
    );
}
