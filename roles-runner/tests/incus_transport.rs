//! The Incus transport against a real container: commands through the host's shell agent
//! (one exec for the whole run) must behave like one Incus exec per command — output byte
//! for byte, exit codes, environment, working directory, stdin, missing executables — and
//! the agent's file reads and writes must match the file API's, leave nothing half-written,
//! and survive the agent being killed.

mod support;

use roles_runner::transport::incus::IncusTransport;
use roles_runner::transport::{ExecRequest, FileKind, NewFile, Transport, TransportError};
use support::Container;

fn transport(c: &Container) -> IncusTransport {
    let client = incus_client::Client::local().expect("Incus socket");
    IncusTransport::new(&client, &c.name, None)
}

fn argv(a: &[&str]) -> ExecRequest {
    ExecRequest {
        argv: a.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn commands_through_the_agent_behave_like_separate_execs() {
    let c = Container::launch("rr-agent");
    let t = transport(&c);

    // Binary output with NULs and no trailing newline, stderr apart, exit code kept.
    let out = t
        .exec(argv(&[
            "/bin/sh",
            "-c",
            "printf 'a\\000b'; printf err >&2; exit 3",
        ]))
        .await
        .expect("exec");
    assert_eq!(
        (out.rc, out.stdout.as_slice(), out.stderr.as_slice()),
        (3, &b"a\0b"[..], &b"err"[..])
    );

    // Output far larger than one websocket frame.
    let out = t
        .exec(argv(&[
            "/bin/sh",
            "-c",
            "head -c 3000000 /dev/zero | tr '\\0' x",
        ]))
        .await
        .expect("exec");
    assert_eq!(out.stdout.len(), 3_000_000);
    assert!(out.stdout.iter().all(|&b| b == b'x'));

    // Arguments are not re-split or expanded; env and cwd apply to this command only.
    let req = ExecRequest {
        argv: vec![
            "/bin/sh".into(),
            "-c".into(),
            "pwd; printf '%s|' \"$X\" \"$1\"".into(),
            "sh".into(),
            "it's $HOME *".into(),
        ],
        env: vec![("X".into(), "a'b\nc".into())],
        cwd: Some("/etc".into()),
        ..Default::default()
    };
    let out = t.exec(req).await.expect("exec");
    assert_eq!(out.stdout_str(), "/etc\na'b\nc|it's $HOME *|");
    let out = t
        .exec(argv(&["/bin/sh", "-c", "pwd; echo \"${X-unset}\""]))
        .await
        .expect("exec");
    assert_eq!(
        out.stdout_str(),
        "/root\nunset\n",
        "cwd/env leaked into the next command"
    );

    // stdin is delivered (and its temporary file removed); without stdin a reader sees EOF.
    let out = t
        .exec(ExecRequest {
            stdin: Some(b"line1\nline2".to_vec()),
            ..argv(&["wc", "-l"])
        })
        .await
        .expect("exec");
    assert_eq!(out.stdout_str().trim(), "1");
    let out = t.exec(argv(&["cat"])).await.expect("exec");
    assert_eq!((out.rc, out.stdout.len()), (0, 0));
    let left = c.sh("ls -a /tmp | grep -c floe-stdin || true");
    assert_eq!(left.trim(), "0", "stdin temporary file left behind");

    // A missing executable is rc 127 with a message naming it, like a plain exec.
    let out = t.exec(argv(&["no-such-program", "x"])).await.expect("exec");
    assert_eq!(out.rc, 127);
    assert!(
        out.stderr_str()
            .contains("\"no-such-program\" does not exist"),
        "{}",
        out.stderr_str()
    );

    // Killing the agent fails only the command that killed it; the next one gets a new agent.
    let r = t
        .exec(argv(&["/bin/sh", "-c", "kill -9 $PPID; sleep 5"]))
        .await;
    assert!(matches!(r, Err(TransportError::Unreachable(_))), "{r:?}");
    let out = t
        .exec(argv(&["echo", "again"]))
        .await
        .expect("exec after agent death");
    assert_eq!(out.stdout_str(), "again\n");

    // Output that a background process of one command writes later never reaches another
    // command's result.
    let out = t
        .exec(argv(&[
            "/bin/sh",
            "-c",
            "(sleep 0.3; echo straggler; echo straggler >&2) & echo started",
        ]))
        .await
        .expect("exec");
    assert_eq!(out.stdout_str(), "started\n");
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    let out = t.exec(argv(&["echo", "clean"])).await.expect("exec");
    assert_eq!(
        (out.stdout_str().as_str(), out.stderr_str().as_str()),
        ("clean\n", "")
    );

    // A caller that gives up half-way (a task `timeout`) must not leave the late output of
    // its command to the next one.
    let slow = t.exec(argv(&["/bin/sh", "-c", "sleep 1; echo late"]));
    assert!(
        tokio::time::timeout(std::time::Duration::from_millis(200), slow)
            .await
            .is_err()
    );
    let out = t
        .exec(argv(&["echo", "fresh"]))
        .await
        .expect("exec after a cancelled one");
    assert_eq!(out.stdout_str(), "fresh\n");

    // One Incus exec per agent: the first, the one after the kill, the one after the cancel.
    let (_, _, execs) = t.counters().snapshot();
    assert_eq!(execs, 3);
    t.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn agent_file_reads_and_writes_match_the_file_api() {
    let c = Container::launch("rr-agentfs");
    let t = transport(&c);
    c.sh(
        "mkdir -p /srv/t && printf 'x' > /srv/t/f && chown 5:6 /srv/t/f && chmod 0640 /srv/t/f \
          && ln -s f /srv/t/link && mkfifo /srv/t/fifo",
    );

    let st = t.stat("/srv/t/f").await.expect("stat").expect("exists");
    assert_eq!(
        (st.kind, st.mode, st.uid, st.gid),
        (FileKind::File, 0o640, 5, 6)
    );
    assert_eq!(
        t.stat("/srv/t/link")
            .await
            .expect("stat")
            .expect("exists")
            .kind,
        FileKind::Symlink
    );
    assert!(t.stat("/srv/t/missing").await.expect("stat").is_none());
    assert!(
        t.stat("/srv/t/f/below-a-file")
            .await
            .expect("stat")
            .is_none()
    );

    let (data, st) = t
        .read_file("/srv/t/link")
        .await
        .expect("read")
        .expect("exists");
    assert_eq!((data.as_slice(), st.kind), (&b"f"[..], FileKind::Symlink));
    let (data, st) = t
        .read_file("/srv/t/fifo")
        .await
        .expect("read (must not block on a FIFO)")
        .expect("exists");
    assert_eq!((data.len(), st.kind), (0, FileKind::Other));
    let (_, st) = t.read_file("/srv/t").await.expect("read").expect("exists");
    assert_eq!(st.kind, FileKind::Dir);

    // Every byte value survives the trip, with owner and mode (special bits included).
    let all: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
    t.create_file(
        "/srv/t/bin",
        NewFile {
            data: &all,
            uid: 7,
            gid: 8,
            mode: 0o4750,
        },
    )
    .await
    .expect("create");
    let (data, st) = t
        .read_file("/srv/t/bin")
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(data, all);
    assert_eq!((st.mode, st.uid, st.gid), (0o4750, 7, 8));
    // create_file refuses to overwrite.
    let r = t
        .create_file(
            "/srv/t/bin",
            NewFile {
                data: b"other",
                uid: 0,
                gid: 0,
                mode: 0o644,
            },
        )
        .await;
    assert!(r.is_err(), "an existing file was overwritten");

    // replace_file: atomic rename; a missing directory fails and leaves nothing behind.
    t.replace_file(
        "/srv/t/.f.tmp",
        "/srv/t/f",
        NewFile {
            data: b"new\n",
            uid: 0,
            gid: 0,
            mode: 0o644,
        },
    )
    .await
    .expect("replace");
    assert_eq!(
        c.sh("stat -c '%a %u %g' /srv/t/f; cat /srv/t/f"),
        "644 0 0\nnew\n"
    );
    let r = t
        .replace_file(
            "/srv/none/.g.tmp",
            "/srv/none/g",
            NewFile {
                data: b"x",
                uid: 0,
                gid: 0,
                mode: 0o644,
            },
        )
        .await;
    let Err(TransportError::Failed(msg)) = r else {
        panic!("{r:?}")
    };
    assert!(msg.contains("No such file or directory"), "{msg}");
    // A file bigger than the inline limit goes through the file API, same result.
    let big = vec![b'z'; 100_000];
    t.replace_file(
        "/srv/t/.big.tmp",
        "/srv/t/big",
        NewFile {
            data: &big,
            uid: 0,
            gid: 0,
            mode: 0o600,
        },
    )
    .await
    .expect("replace big");
    assert_eq!(c.sh("stat -c '%a %s' /srv/t/big"), "600 100000\n");
    assert_eq!(
        c.sh("ls -a /srv/t | grep -c tmp || true").trim(),
        "0",
        "temporary files left"
    );
    t.close().await;
}
