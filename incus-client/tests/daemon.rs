//! Integration tests against the real local Incus daemon (the testbed). Each test works in
//! its own throw-away project with unique names, removed by a drop guard.

mod common;

use std::sync::Arc;

use common::{TestProject, client, image, unique};
use incus_client::{Error, ExecMode, ExecRequest, FilePush, FileType, InstancesPost, OutputStream};

/// Create (not started) a container from the testbed image.
async fn create_container(p: &TestProject, name: &str, start: bool) {
    let mut req = InstancesPost::container_from_alias(name, &image());
    req.start = start;
    p.client
        .create_instance(&req)
        .await
        .expect("create container from the local image");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn container_lifecycle_exec_and_files() {
    let p = TestProject::new("ic-life").await;
    let c = &p.client;
    let name = unique("c");

    create_container(&p, &name, false).await;
    let inst = c.get_instance(&name).await.expect("get");
    assert_eq!(inst.status, "Stopped");
    assert_eq!(inst.project, p.name);
    assert_eq!(inst.instance_type, "container");

    c.start_instance(&name).await.expect("start");
    let state = c.get_instance_state(&name).await.expect("state");
    assert_eq!(state.status, "Running");
    let full = c.get_instance_full(&name).await.expect("recursion=1");
    assert!(full.state.is_some(), "recursion=1 embeds the state");

    // exec, record-output mode: argv, exit code, both streams.
    let out = c
        .exec(&name, &ExecRequest::new(["true"]))
        .await
        .expect("exec true");
    assert_eq!(out.exit_code, 0);
    let out = c
        .exec(&name, &ExecRequest::shell("echo out; echo err >&2; exit 3"))
        .await
        .expect("exec sh");
    assert_eq!(
        (out.exit_code, out.stdout_str(), out.stderr_str()),
        (3, "out\n".to_string(), "err\n".to_string())
    );
    // Both transports give the same result; record-output cannot carry stdin.
    let ws = c
        .exec(
            &name,
            &ExecRequest::shell("echo out; echo err >&2; exit 3").mode(ExecMode::WebSockets),
        )
        .await
        .expect("exec sh over websockets");
    assert_eq!(ws, out);
    let err = c
        .exec(
            &name,
            &ExecRequest::new(["cat"])
                .stdin(b"x".to_vec())
                .mode(ExecMode::RecordOutput),
        )
        .await
        .expect_err("stdin with record-output");
    assert_eq!(
        err.to_string(),
        "invalid input: exec: stdin needs websocket mode, not record-output"
    );

    // Large output through the record-output log files and through websockets.
    for mode in [ExecMode::RecordOutput, ExecMode::WebSockets] {
        let out = c
            .exec(&name, &ExecRequest::new(["seq", "1", "200000"]).mode(mode))
            .await
            .expect("exec seq");
        assert_eq!(out.stdout.len(), 1_288_895, "{mode:?}");
        assert!(out.stdout_str().ends_with("\n199999\n200000\n"), "{mode:?}");
    }

    // argv is not a shell: the `$HOME` and `;` reach echo untouched.
    let out = c
        .exec(&name, &ExecRequest::new(["echo", "$HOME;", "a  b"]))
        .await
        .expect("exec echo");
    assert_eq!(out.stdout_str(), "$HOME; a  b\n");
    // env, cwd, uid/gid.
    let out = c
        .exec(
            &name,
            &ExecRequest::new(["sh", "-c", "echo $FLOE_X; pwd; id -u; id -g"])
                .env("FLOE_X", "hello")
                .cwd("/tmp")
                .uid(65534)
                .gid(65534),
        )
        .await
        .expect("exec env/cwd/uid");
    assert_eq!(out.stdout_str(), "hello\n/tmp\n65534\n65534\n");

    // exec with stdin (websocket mode), binary-safe and larger than one frame.
    let payload: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let out = c
        .exec(&name, &ExecRequest::new(["cat"]).stdin(payload.clone()))
        .await
        .expect("exec cat with stdin");
    assert_eq!(out.exit_code, 0);
    assert!(
        out.stdout == payload,
        "stdin came back unchanged through cat"
    );
    let out = c
        .exec(
            &name,
            &ExecRequest::shell("read x; echo got:$x; echo e >&2; exit 5").stdin(b"abc\n".to_vec()),
        )
        .await
        .expect("exec read");
    assert_eq!(
        (out.exit_code, out.stdout_str(), out.stderr_str()),
        (5, "got:abc\n".into(), "e\n".into())
    );

    // Streamed output arrives in pieces, in order.
    let mut lines = Vec::new();
    let code = c
        .exec_streaming(
            &name,
            &ExecRequest::shell("for i in 1 2 3; do echo line$i; sleep 0.2; done"),
            |stream, chunk| {
                assert_eq!(stream, OutputStream::Stdout);
                lines.push(String::from_utf8_lossy(chunk).into_owned());
            },
        )
        .await
        .expect("exec streaming");
    assert_eq!(code, 0);
    assert_eq!(lines.concat(), "line1\nline2\nline3\n");
    assert!(lines.len() >= 2, "output arrived while running: {lines:?}");

    // Files: push with owner and mode, pull, stat.
    c.push_file(
        &name,
        "/root/a.txt",
        &FilePush::file("hello\n").mode(0o640).owner(1000, 1001),
    )
    .await
    .expect("push");
    let pulled = c.pull_file(&name, "/root/a.txt").await.expect("pull");
    assert_eq!(&pulled.content[..], b"hello\n");
    assert_eq!(
        (
            pulled.meta.uid,
            pulled.meta.gid,
            pulled.meta.mode,
            pulled.meta.file_type
        ),
        (1000, 1001, 0o640, FileType::File)
    );
    let out = c
        .exec(
            &name,
            &ExecRequest::new(["stat", "-c", "%a %u %g", "/root/a.txt"]),
        )
        .await
        .expect("stat in container");
    assert_eq!(
        out.stdout_str(),
        "640 1000 1001\n",
        "mode was sent as octal"
    );

    // The documented gotcha: overwriting keeps the original owner and mode.
    c.push_file(
        &name,
        "/root/a.txt",
        &FilePush::file("v2\n").mode(0o600).owner(0, 0),
    )
    .await
    .expect("overwrite");
    let meta = c
        .stat_file(&name, "/root/a.txt")
        .await
        .expect("stat")
        .expect("exists");
    assert_eq!(
        (meta.mode, meta.uid),
        (0o640, 1000),
        "Incus applies owner/mode only on create"
    );
    assert_eq!(
        &c.pull_file(&name, "/root/a.txt")
            .await
            .expect("pull")
            .content[..],
        b"v2\n"
    );

    c.push_file(&name, "/root/a.txt", &FilePush::file("v3\n").append())
        .await
        .expect("append");
    assert_eq!(
        &c.pull_file(&name, "/root/a.txt")
            .await
            .expect("pull")
            .content[..],
        b"v2\nv3\n"
    );

    assert_eq!(
        c.stat_file(&name, "/root/nope")
            .await
            .expect("stat missing"),
        None
    );

    c.mkdir(&name, "/root/d", Some(0o700), None)
        .await
        .expect("mkdir");
    c.push_file(&name, "/root/d/link", &FilePush::symlink("/root/a.txt"))
        .await
        .expect("symlink");
    let meta = c
        .stat_file(&name, "/root/d")
        .await
        .expect("stat dir")
        .expect("exists");
    assert_eq!((meta.file_type, meta.mode), (FileType::Directory, 0o700));
    assert_eq!(
        c.list_dir(&name, "/root/d").await.expect("list"),
        vec!["link".to_string()]
    );
    let link = c
        .stat_file(&name, "/root/d/link")
        .await
        .expect("stat link")
        .expect("exists");
    assert_eq!(link.file_type, FileType::Symlink);

    c.delete_file(&name, "/root/d/link")
        .await
        .expect("delete link");
    c.delete_file(&name, "/root/d").await.expect("delete dir");
    assert_eq!(c.stat_file(&name, "/root/d").await.expect("stat"), None);

    // Rename and snapshots while we have a container.
    c.create_instance_snapshot(
        &name,
        &incus_client::InstanceSnapshotsPost {
            name: "s1".into(),
            ..Default::default()
        },
    )
    .await
    .expect("snapshot");
    let snaps = c.list_instance_snapshots(&name).await.expect("snapshots");
    assert_eq!(
        snaps.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        ["s1"]
    );
    c.delete_instance_snapshot(&name, "s1")
        .await
        .expect("delete snapshot");

    c.stop_instance(&name, true).await.expect("stop");
    assert_eq!(c.get_instance(&name).await.expect("get").status, "Stopped");
    let renamed = unique("r");
    c.rename_instance(&name, &renamed).await.expect("rename");
    c.delete_instance(&renamed).await.expect("delete");

    let err = c.get_instance(&renamed).await.expect_err("deleted");
    assert!(err.is_not_found());
    assert_eq!(
        err.to_string(),
        format!(
            "GET /1.0/instances/{renamed}?project={0}: not found: Failed to fetch instance \"{renamed}\" in project \"{0}\": Instance not found",
            p.name
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_a_user_sees() {
    let p = TestProject::new("ic-err").await;
    let c = &p.client;

    // Bad image alias.
    let err = c
        .create_instance(&InstancesPost::container_from_alias(
            &unique("c"),
            "floe/no-such-image",
        ))
        .await
        .expect_err("bad alias");
    assert!(err.is_not_found(), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!("POST /1.0/instances?project={}: not found: image alias \"floe/no-such-image\" not found (", p.name)),
        "{msg}"
    );

    // Name conflict.
    let name = unique("c");
    create_container(&p, &name, true).await;
    let err = c
        .create_instance(&InstancesPost::container_from_alias(&name, &image()))
        .await
        .expect_err("duplicate name");
    assert!(err.is_conflict(), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!(
            "POST /1.0/instances?project={}: conflict: instance \"{name}\" already exists (",
            p.name
        )),
        "{msg}"
    );

    // Deleting a running instance: the daemon's own text comes through.
    let err = c.delete_instance(&name).await.expect_err("running");
    assert_eq!(err.status(), Some(400));
    assert!(err.to_string().contains("Instance is running"), "{err}");

    // Exec of a missing binary: websocket and record-output modes say the same.
    for req in [
        ExecRequest::new(["/usr/bin/floe-missing"]),
        ExecRequest::new(["/usr/bin/floe-missing"]).stdin(b"x".to_vec()),
    ] {
        let err = c.exec(&name, &req).await.expect_err("missing binary");
        let msg = err.to_string();
        assert!(matches!(err, Error::OperationFailed { .. }), "{err:?}");
        assert!(
            msg.starts_with(&format!(
                "POST /1.0/instances/{name}/exec?project={}: operation ",
                p.name
            )),
            "{msg}"
        );
        assert!(
            msg.ends_with(
                "failed: Command not found (executable \"/usr/bin/floe-missing\" does not exist in the instance)"
            ),
            "{msg}"
        );
    }

    // A file in a missing directory.
    let err = c
        .push_file(&name, "/nonexistent/dir/f.txt", &FilePush::file("x"))
        .await
        .expect_err("missing directory");
    assert!(err.is_not_found());
    assert_eq!(
        err.to_string(),
        format!(
            "POST /1.0/instances/{name}/files?path=/nonexistent/dir/f.txt&project={}: not found: Not Found (parent directory /nonexistent/dir does not exist in the instance)",
            p.name
        )
    );

    // stat on a missing instance is an error, not "file absent".
    let err = c
        .stat_file("floe-no-such-instance", "/etc")
        .await
        .expect_err("no instance");
    assert!(err.to_string().ends_with(": Instance not found"), "{err}");

    // ETag mismatch: a stale If-Match is refused with 412.
    let (inst, etag) = c
        .get_instance_with_etag(&name)
        .await
        .expect("get with etag");
    let etag = etag.expect("daemon sends an ETag");
    let mut put = inst.writable();
    // The instance ETag covers architecture, config, devices, ephemeral and profiles — not
    // the description — so change config.
    put.config.insert("user.floe".into(), "first".into());
    c.update_instance(&name, &put, Some(&etag))
        .await
        .expect("update with fresh etag");
    put.config.insert("user.floe".into(), "second".into());
    let err = c
        .update_instance(&name, &put, Some(&etag))
        .await
        .expect_err("stale etag");
    assert!(err.is_precondition_failed(), "{err:?}");
    assert!(
        err.to_string().starts_with(&format!(
            "PUT /1.0/instances/{name}?project={}: precondition failed",
            p.name
        )),
        "{err}"
    );
    let config = c.get_instance(&name).await.expect("get").config;
    assert_eq!(config.get("user.floe").map(String::as_str), Some("first"));
}

#[tokio::test]
async fn server_info_is_read_once_and_gates_features() {
    let c = client();
    let a = c.server().await.expect("server");
    let b = c
        .with_project("whatever")
        .server()
        .await
        .expect("server again");
    assert!(
        Arc::ptr_eq(&a, &b),
        "api_extensions are fetched once and shared"
    );
    assert!(c.has_extension("instance_create_start").await.expect("ext"));
    assert!(
        !c.has_extension("floe_no_such_extension")
            .await
            .expect("ext")
    );
    assert_eq!(a.api_version, "1.0");
}

#[tokio::test]
async fn cli_config_local_remote() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("config.yml"),
        "default-remote: mine\nremotes:\n  mine:\n    addr: unix://\n    protocol: incus\n    project: default\n",
    )
    .expect("write config");
    let c = incus_client::Client::from_cli_config(Some(dir.path()), None).expect("from config");
    assert_eq!(c.project(), Some("default"));
    let projects = c.list_projects().await.expect("list projects");
    assert!(projects.iter().any(|p| p.name == "default"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn project_update_with_etag() {
    let c = client();
    let name = unique("ic-proj");
    c.create_project(&incus_client::ProjectsPost {
        name: name.clone(),
        ..Default::default()
    })
    .await
    .expect("create project");
    let result = async {
        let (proj, etag) = c.get_project_with_etag(&name).await?;
        let mut put = proj.writable();
        put.config.insert("user.floe".into(), "1".into());
        c.update_project(&name, &put, etag.as_deref()).await?;
        assert_eq!(
            c.get_project(&name)
                .await?
                .config
                .get("user.floe")
                .map(String::as_str),
            Some("1")
        );
        let err = c
            .update_project(&name, &put, etag.as_deref())
            .await
            .expect_err("stale");
        assert!(err.is_precondition_failed(), "{err}");
        Ok::<_, Error>(())
    }
    .await;
    c.delete_project(&name).await.expect("delete project");
    result.expect("project calls");
    let err = c.get_project(&name).await.expect_err("gone");
    assert_eq!(
        err.to_string(),
        format!("GET /1.0/projects/{name}: not found: Project not found")
    );
}

/// incusd's unix-socket listener peeks at the first bytes of each new connection inside its
/// accept loop (to detect STARTTLS), with no deadline: one connection that never sends a
/// request blocks every other client of the daemon — the CLI, LXC's start hooks (which
/// then fail after 30 s with "forkstart ... exit status 1") — until it is closed. A pooling
/// HTTP client makes exactly such a connection when a request that was connecting gets
/// served by a connection that came back to the pool first: the new one is parked unused.
/// After bursts of concurrent requests (which provoke that race), an independent client
/// must still get an answer at once while our client is alive.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_bursts_leave_no_silent_connection_that_blocks_the_daemon() {
    let c = client();
    for round in 0..40u64 {
        // Staggered starts: requests begin while others finish, so some find no idle
        // connection, start connecting, and are then served by one coming back.
        let calls: Vec<_> = (0..24u64)
            .map(|i| {
                let c = c.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(std::time::Duration::from_micros(
                        (i * 37 + round * 11) % 900,
                    ))
                    .await;
                    c.get_project("default").await.map(|_| ())
                })
            })
            .collect();
        for call in calls {
            call.await
                .expect("join")
                .expect("GET /1.0/projects/default");
        }
    }
    // With the client still alive, it holds no connection to the daemon (none could be a
    // silent one).
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let held = connections_to_daemon_held_by_this_process();
    assert_eq!(
        held, 0,
        "the client keeps {held} idle unix-socket connection(s) to incusd; an unused one blocks the daemon's accept loop"
    );
    // A fresh connection, outside our client's pool, like any other process would open.
    let socket = incus_client::default_socket_path();
    let probe = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::UnixStream::connect(&socket).await?;
        s.write_all(b"GET /1.0 HTTP/1.0\r\nHost: incus\r\n\r\n")
            .await?;
        let mut head = [0u8; 12];
        s.read_exact(&mut head).await?;
        Ok::<_, std::io::Error>(String::from_utf8_lossy(&head).into_owned())
    })
    .await;
    let answer = probe
        .expect("the daemon did not answer another client within 10 s: a connection of ours is blocking its accept loop")
        .expect("GET /1.0 on a fresh connection");
    assert!(answer.starts_with("HTTP/1."), "{answer}");
    drop(c);
}

/// Unix-socket connections from this process whose peer is incusd's socket, read from
/// `ss -xpn` (client ends are unnamed; the server end carries the socket path).
fn connections_to_daemon_held_by_this_process() -> usize {
    let socket = incus_client::default_socket_path();
    let out = std::process::Command::new("ss")
        .args(["-xpn"])
        .output()
        .expect("ss (iproute2) is needed by this test");
    let text = String::from_utf8_lossy(&out.stdout);
    // Columns: Netid State Recv-Q Send-Q Local-Address Port Peer-Address Port [Process]
    let rows: Vec<Vec<&str>> = text
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    let server_inodes: std::collections::HashSet<&str> = rows
        .iter()
        .filter(|r| r.len() >= 8 && r[4] == socket.to_string_lossy())
        .map(|r| r[5])
        .collect();
    let me = format!("pid={},", std::process::id());
    rows.iter()
        .filter(|r| r.len() >= 9 && r[8..].join(" ").contains(&me))
        .filter(|r| server_inodes.contains(r[7]))
        .count()
}
