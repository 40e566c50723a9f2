//! Error paths a real daemon cannot be made to produce, against a small fake HTTP server on a
//! unix socket (and one over TLS for certificate pinning). Every test asserts the message a
//! user would see.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use incus_client::{Client, Error, ServerTrust, TlsConfig};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};

/// One request as the fake server saw it.
#[derive(Debug, Clone)]
struct Req {
    method: String,
    target: String,
}

/// What to answer.
struct Reply {
    status: u16,
    body: String,
    /// Wait before answering.
    delay: Duration,
    /// Never answer.
    hang: bool,
}

fn reply(status: u16, body: &str) -> Reply {
    Reply {
        status,
        body: body.to_string(),
        delay: Duration::ZERO,
        hang: false,
    }
}

type Handler = Arc<dyn Fn(&Req) -> Reply + Send + Sync>;

struct Fake {
    _dir: tempfile::TempDir,
    socket: std::path::PathBuf,
    seen: Arc<Mutex<Vec<Req>>>,
}

impl Fake {
    fn seen(&self) -> Vec<String> {
        self.seen
            .lock()
            .expect("lock")
            .iter()
            .map(|r| format!("{} {}", r.method, r.target))
            .collect()
    }
}

/// Serve HTTP/1.1 with keep-alive on `stream`, answering with `handler`.
async fn serve_conn<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    handler: Handler,
    seen: Arc<Mutex<Vec<Req>>>,
) {
    let mut stream = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if stream.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (method, target) = (
            parts.next().unwrap_or_default().to_string(),
            parts.next().unwrap_or_default().to_string(),
        );
        let mut content_length = 0usize;
        loop {
            let mut h = String::new();
            if stream.read_line(&mut h).await.unwrap_or(0) == 0 {
                return;
            }
            if h == "\r\n" {
                break;
            }
            if let Some((k, v)) = h.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                content_length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; content_length];
        if stream.read_exact(&mut body).await.is_err() {
            return;
        }
        let req = Req { method, target };
        seen.lock().expect("lock").push(req.clone());
        let r = handler(&req);
        if r.hang {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return;
        }
        tokio::time::sleep(r.delay).await;
        let head = format!(
            "HTTP/1.1 {} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            r.status,
            r.body.len()
        );
        let out = stream.get_mut();
        if out.write_all(head.as_bytes()).await.is_err()
            || out.write_all(r.body.as_bytes()).await.is_err()
        {
            return;
        }
    }
}

fn fake(handler: impl Fn(&Req) -> Reply + Send + Sync + 'static) -> Fake {
    let dir = tempfile::tempdir().expect("tempdir");
    let socket = dir.path().join("fake.sock");
    let listener = tokio::net::UnixListener::bind(&socket).expect("bind");
    let handler: Handler = Arc::new(handler);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    tokio::spawn(async move {
        while let Ok((conn, _)) = listener.accept().await {
            tokio::spawn(serve_conn(conn, handler.clone(), seen2.clone()));
        }
    });
    Fake {
        _dir: dir,
        socket,
        seen,
    }
}

const RUNNING_OP: &str = r#"{"id":"op1","class":"task","status":"Running","status_code":103,"metadata":null,"may_cancel":true,"err":""}"#;

fn async_created() -> String {
    format!(
        r#"{{"type":"async","status":"Operation created","status_code":100,"operation":"/1.0/operations/op1","metadata":{RUNNING_OP}}}"#
    )
}

#[tokio::test]
async fn http_500_with_error_envelope() {
    let f = fake(|_| {
        reply(
            500,
            r#"{"type":"error","error":"Failed to begin transaction: database is locked","error_code":500}"#,
        )
    });
    let c = Client::unix(&f.socket).expect("client").with_project("p1");
    let err = c.get_instance("c1").await.expect_err("500");
    assert!(matches!(err, Error::Api { status: 500, .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "GET /1.0/instances/c1?project=p1: HTTP 500: Failed to begin transaction: database is locked"
    );
}

#[tokio::test]
async fn http_500_without_json() {
    let f = fake(|_| reply(502, "upstream exploded"));
    let c = Client::unix(&f.socket).expect("client");
    let err = c
        .get_json::<serde_json::Value>("/1.0")
        .await
        .expect_err("502");
    assert_eq!(err.status(), Some(502));
    assert_eq!(err.to_string(), "GET /1.0: HTTP 502: upstream exploded");
}

#[tokio::test]
async fn status_codes_map_to_variants() {
    let f = fake(|r| {
        let code: u16 = r
            .target
            .trim_start_matches("/1.0/x/")
            .parse()
            .unwrap_or(500);
        reply(
            code,
            &format!(r#"{{"type":"error","error":"daemon says {code}","error_code":{code}}}"#),
        )
    });
    let c = Client::unix(&f.socket).expect("client");
    type Check = fn(&Error) -> bool;
    let cases: [(u16, Check, &str); 4] = [
        (404, Error::is_not_found, "not found: daemon says 404"),
        (409, Error::is_conflict, "conflict: daemon says 409"),
        (
            412,
            Error::is_precondition_failed,
            "precondition failed (object changed since it was read): daemon says 412",
        ),
        (403, Error::is_forbidden, "forbidden: daemon says 403"),
    ];
    for (code, check, text) in cases {
        let err = c
            .put(
                &format!("/1.0/x/{code}"),
                &serde_json::json!({}),
                Some("\"etag\""),
            )
            .await
            .expect_err("error status");
        assert!(check(&err), "{code}: {err:?}");
        assert_eq!(err.to_string(), format!("PUT /1.0/x/{code}: {text}"));
    }
}

#[tokio::test]
async fn malformed_json_is_a_decode_error() {
    let f = fake(|r| match r.target.as_str() {
        "/1.0/instances/c1" => reply(200, r#"{"type":"sync","metadata":{"name":"c1""#),
        _ => reply(200, r#"{"type":"sync","metadata":{"name":42}}"#),
    });
    let c = Client::unix(&f.socket).expect("client");
    let err = c.get_instance("c1").await.expect_err("truncated JSON");
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.starts_with("GET /1.0/instances/c1: cannot decode the response: EOF while parsing"),
        "{msg}"
    );
    assert!(
        msg.ends_with(
            r#"(HTTP 200, body starts with "{\"type\":\"sync\",\"metadata\":{\"name\":\"c1\"")"#
        ),
        "{msg}"
    );

    let err = c.get_instance("c2").await.expect_err("wrong type");
    assert_eq!(
        err.to_string(),
        "GET /1.0/instances/c2: cannot decode the response: invalid type: integer `42`, expected a string"
    );
}

#[tokio::test]
async fn hanging_operation_hits_the_client_timeout() {
    // The daemon's server-side wait returns the still-running operation after `timeout`
    // seconds; this one never finishes.
    let f = fake(|r| {
        if r.method == "POST" {
            return reply(202, &async_created());
        }
        let mut rep = reply(
            200,
            &format!(r#"{{"type":"sync","status_code":200,"metadata":{RUNNING_OP}}}"#),
        );
        rep.delay = Duration::from_millis(300);
        rep
    });
    let c = Client::unix(&f.socket)
        .expect("client")
        .with_operation_timeout(Duration::from_secs(2));
    let started = std::time::Instant::now();
    let err = c
        .post("/1.0/instances", &serde_json::json!({"name": "c1"}))
        .await
        .expect_err("timeout");
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(
        err.to_string(),
        "POST /1.0/instances: timed out after 2s waiting for operation op1"
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "gave up near the deadline"
    );
    let seen = f.seen();
    assert_eq!(seen[0], "POST /1.0/instances");
    assert_eq!(seen[1], "GET /1.0/operations/op1/wait?timeout=2");
    assert!(
        seen.len() > 2,
        "kept waiting after the server-side timeout: {seen:?}"
    );

    c.cancel_operation("/1.0/operations/op1")
        .await
        .expect("cancel");
    assert_eq!(
        f.seen().last().map(String::as_str),
        Some("DELETE /1.0/operations/op1")
    );
}

#[tokio::test]
async fn wait_request_that_never_answers_times_out() {
    let f = fake(|r| {
        if r.method == "POST" {
            return reply(202, &async_created());
        }
        Reply {
            hang: true,
            ..reply(200, "")
        }
    });
    let c = Client::unix(&f.socket).expect("client");
    let err = c
        .wait_operation("op1", Some(Duration::from_secs(1)))
        .await
        .expect_err("timeout");
    assert_eq!(
        err.to_string(),
        "WAIT /1.0/operations/op1: timed out after 1s waiting for operation op1"
    );
}

#[tokio::test]
async fn operation_failure_text_is_surfaced() {
    let f = fake(|r| {
        if r.method == "PUT" {
            return reply(202, &async_created());
        }
        reply(
            200,
            r#"{"type":"sync","metadata":{"id":"op1","status":"Failure","status_code":400,"err":"Failed to start device \"eth0\": Parent device 'nope' doesn't exist"}}"#,
        )
    });
    let c = Client::unix(&f.socket).expect("client").with_project("p");
    let err = c.start_instance("c1").await.expect_err("failed");
    assert!(
        matches!(err, Error::OperationFailed { status: 400, .. }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "PUT /1.0/instances/c1/state?project=p: operation op1 failed: Failed to start device \"eth0\": Parent device 'nope' doesn't exist"
    );
}

#[tokio::test]
async fn socket_absent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let socket = dir.path().join("no-daemon.sock");
    let c = Client::unix(&socket).expect("constructing does not connect");
    let err = c.server().await.expect_err("no socket");
    assert!(err.is_transport(), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!("GET /1.0 via unix socket {}: ", socket.display())),
        "{msg}"
    );
    assert!(msg.contains("No such file or directory"), "{msg}");
}

/// An HTTPS fake with a self-signed certificate; returns its address.
async fn tls_fake(cert: &rcgen::CertifiedKey<rcgen::KeyPair>) -> String {
    use rustls_pki_types::pem::PemObject;
    let certs = vec![cert.cert.der().clone()];
    let key = rustls_pki_types::PrivateKeyDer::from_pem_slice(
        cert.signing_key.serialize_pem().as_bytes(),
    )
    .expect("key");
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let handler: Handler = Arc::new(|_| {
        reply(
            200,
            r#"{"type":"sync","metadata":{"api_version":"1.0","api_extensions":["fake_ext"]}}"#,
        )
    });
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, handler) = (acceptor.clone(), handler.clone());
            tokio::spawn(async move {
                if let Ok(tls) = acceptor.accept(tcp).await {
                    serve_conn(tls, handler, Arc::new(Mutex::new(Vec::new()))).await;
                }
            });
        }
    });
    format!("https://{addr}")
}

#[tokio::test]
async fn https_with_pinned_server_certificate() {
    let server_cert =
        rcgen::generate_simple_self_signed(vec!["incus-fake".to_string()]).expect("cert");
    let addr = tls_fake(&server_cert).await;
    let client_id =
        rcgen::generate_simple_self_signed(vec!["floe-client".to_string()]).expect("cert");

    // Pinned to the server's own certificate: works although the name does not match.
    let tls = TlsConfig {
        client_cert: Some(client_id.cert.pem().into_bytes()),
        client_key: Some(client_id.signing_key.serialize_pem().into_bytes()),
        server: ServerTrust::Pinned(server_cert.cert.pem().into_bytes()),
    };
    let c = Client::https(&addr, &tls).expect("client");
    assert!(
        c.has_extension("fake_ext")
            .await
            .expect("server info over TLS")
    );

    // Pinned to another certificate: refused, and the message says why.
    let other = rcgen::generate_simple_self_signed(vec!["incus-fake".to_string()]).expect("cert");
    let tls = TlsConfig {
        server: ServerTrust::Pinned(other.cert.pem().into_bytes()),
        ..tls
    };
    let err = Client::https(&addr, &tls)
        .expect("client")
        .server()
        .await
        .expect_err("pin mismatch");
    let msg = err.to_string();
    assert!(msg.starts_with(&format!("GET /1.0 via {addr}: ")), "{msg}");
    assert!(
        msg.contains("server certificate does not match the pinned certificate"),
        "{msg}"
    );

    // No pin and a self-signed server: CA verification fails.
    let err = Client::https(&addr, &TlsConfig::default())
        .expect("client")
        .server()
        .await
        .expect_err("untrusted");
    assert!(err.is_transport(), "{err:?}");
}
