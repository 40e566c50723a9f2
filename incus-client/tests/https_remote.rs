//! The real daemon over HTTPS, configured like a user's incus CLI remote: `config.yml`,
//! `client.crt`/`client.key` (trusted by the daemon, restricted to a throw-away project) and
//! the pinned `servercerts/<remote>.crt`. Exercises TLS for REST calls and for the exec
//! websockets.
//!
//! If the daemon has no HTTPS listener yet, the test sets `core.https_address` to
//! `127.0.0.1:8443` (loopback only) and leaves it: other tests may rely on it meanwhile.

mod common;

use common::{TestProject, image, unique};
use incus_client::{Client, ExecMode, ExecRequest, FilePush, InstancesPost};
use sha2::Digest;

struct TrustGuard(Client, String);
impl Drop for TrustGuard {
    fn drop(&mut self) {
        let (c, fp) = (self.0.clone(), self.1.clone());
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                if let Err(e) = c.delete(&format!("/1.0/certificates/{fp}")).await {
                    eprintln!("cleanup: certificate {fp}: {e}");
                }
            })
        })
        .join();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_remote_from_cli_config() {
    let p = TestProject::new("ic-https").await;
    let local = p.client.without_scope();

    // An HTTPS listener on loopback.
    let server = local.server().await.expect("server");
    let mut addr = server
        .config
        .get("core.https_address")
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_string();
    if addr.is_empty() {
        addr = "127.0.0.1:8443".into();
        local
            .patch(
                "/1.0",
                &serde_json::json!({"config": {"core.https_address": addr}}),
                None,
            )
            .await
            .expect("enable the HTTPS listener");
    }
    let addr = addr
        .replace("0.0.0.0", "127.0.0.1")
        .replace("[::]", "127.0.0.1");
    let addr = if addr.starts_with(':') {
        format!("127.0.0.1{addr}")
    } else {
        addr
    };
    let server_pem = server
        .environment
        .extra
        .get("certificate")
        .and_then(|v| v.as_str())
        .expect("GET /1.0 shows the server certificate")
        .to_string();

    // A client identity, trusted for the test project only.
    let id =
        rcgen::generate_simple_self_signed(vec!["floe-test-client".to_string()]).expect("cert");
    let fingerprint = hex::encode(sha2::Sha256::digest(id.cert.der()));
    let body_b64 = id
        .cert
        .pem()
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<String>();
    local
        .post(
            "/1.0/certificates",
            &serde_json::json!({
                "name": unique("floe-test"),
                "type": "client",
                "certificate": body_b64,
                "restricted": true,
                "projects": [p.name],
            }),
        )
        .await
        .expect("trust the test client certificate");
    let _trust = TrustGuard(local.clone(), fingerprint);

    // The user's CLI configuration directory.
    let dir = tempfile::tempdir().expect("tempdir");
    let remote = "floe-https";
    std::fs::write(
        dir.path().join("config.yml"),
        format!(
            "default-remote: local\nremotes:\n  {remote}:\n    addr: https://{addr}\n    protocol: incus\n    auth_type: tls\n    project: {}\n",
            p.name
        ),
    )
    .expect("config.yml");
    std::fs::write(dir.path().join("client.crt"), id.cert.pem()).expect("client.crt");
    std::fs::write(
        dir.path().join("client.key"),
        id.signing_key.serialize_pem(),
    )
    .expect("client.key");
    std::fs::create_dir(dir.path().join("servercerts")).expect("servercerts");
    std::fs::write(
        dir.path().join("servercerts").join(format!("{remote}.crt")),
        &server_pem,
    )
    .expect("pinned cert");

    let c = Client::from_cli_config(Some(dir.path()), Some(remote)).expect("client from config");
    assert_eq!(c.project(), Some(p.name.as_str()));
    assert_eq!(c.endpoint(), format!("https://{addr}"));
    let info = c.server().await.expect("GET /1.0 over HTTPS");
    assert_eq!(info.auth, "trusted");

    // Restricted certificate: another project is refused with the daemon's reason.
    let err = c
        .with_project("default")
        .list_instances()
        .await
        .expect_err("restricted to the test project");
    // (Incus answers this with HTTP 500.)
    assert_eq!(
        err.to_string(),
        "GET /1.0/instances?recursion=1&project=default: HTTP 500: User does not have permissions for project \"default\""
    );

    // A container over HTTPS; exec in both modes (websockets ride on TLS too); a file.
    let name = unique("c");
    let mut req = InstancesPost::container_from_alias(&name, &image());
    req.start = true;
    c.create_instance(&req).await.expect("create over HTTPS");
    let out = c
        .exec(
            &name,
            &ExecRequest::new(["cat"]).stdin(b"over tls".to_vec()),
        )
        .await
        .expect("exec with stdin over wss");
    assert_eq!(out.stdout_str(), "over tls");
    let out = c
        .exec(
            &name,
            &ExecRequest::shell("echo $((6*7))").mode(ExecMode::RecordOutput),
        )
        .await
        .expect("exec record-output over HTTPS");
    assert_eq!(out.stdout_str(), "42\n");
    // A kept-open exec session: write, read the answer, write again, then EOF ends it.
    let mut session = c
        .exec_session(
            &name,
            &ExecRequest::new([
                "sh",
                "-c",
                "while read -r l; do echo \"got $l\"; done; exit 7",
            ]),
        )
        .await
        .expect("exec session over wss");
    for word in ["one", "two"] {
        session
            .write(format!("{word}\n").as_bytes())
            .await
            .expect("write");
        let mut got = Vec::new();
        while !got.ends_with(b"\n") {
            match session.read().await {
                Some((incus_client::OutputStream::Stdout, b)) => got.extend_from_slice(&b),
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(String::from_utf8_lossy(&got), format!("got {word}\n"));
    }
    let rc = session
        .finish(std::time::Duration::from_secs(10))
        .await
        .expect("finish");
    assert_eq!(rc, 7);
    c.push_file(&name, "/root/t", &FilePush::file("x").mode(0o600))
        .await
        .expect("push over HTTPS");
    assert_eq!(
        c.stat_file(&name, "/root/t")
            .await
            .expect("stat")
            .map(|m| m.mode),
        Some(0o600)
    );
    c.force_delete_instance(&name)
        .await
        .expect("delete over HTTPS");

    // A wrong pin is refused before any request is made.
    let other = rcgen::generate_simple_self_signed(vec!["x".to_string()]).expect("cert");
    std::fs::write(
        dir.path().join("servercerts").join(format!("{remote}.crt")),
        other.cert.pem(),
    )
    .expect("pinned cert");
    let err = Client::from_cli_config(Some(dir.path()), Some(remote))
        .expect("client")
        .server()
        .await
        .expect_err("wrong pin");
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!("GET /1.0 via https://{addr}: ")),
        "{msg}"
    );
    assert!(
        msg.contains("server certificate does not match the pinned certificate"),
        "{msg}"
    );
}
