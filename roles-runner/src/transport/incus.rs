//! Incus instances through the project's `incus-client` (unix socket; one shared client and
//! connection pool for every host): exec with recorded output, file API for reads, stats and
//! writes. No SSH, no Python in the instance.

use std::time::Instant;

use async_trait::async_trait;
use incus_client::{Client, FilePush, FileType};

use super::{Counters, ExecOutput, ExecRequest, FileKind, FileStat, Transport, TransportError};

pub struct IncusTransport {
    client: Client,
    instance: String,
    counters: Counters,
}

impl IncusTransport {
    /// `client` is shared (cloned) across hosts; `project` selects `?project=`.
    pub fn new(client: &Client, instance: &str, project: Option<&str>) -> IncusTransport {
        let client = match project {
            Some(p) if !p.is_empty() => client.with_project(p),
            _ => client.clone(),
        };
        IncusTransport {
            client,
            instance: instance.to_string(),
            counters: Counters::default(),
        }
    }

    fn map_err(&self, e: incus_client::Error) -> TransportError {
        let msg = e.to_string();
        if e.is_transport() || (e.is_not_found() && !missing_path(&e)) {
            TransportError::Unreachable(format!("instance {}: {msg}", self.instance))
        } else {
            TransportError::Failed(msg)
        }
    }
}

/// 404 for the path itself (the daemon says "Not Found"), not for the instance.
fn missing_path(e: &incus_client::Error) -> bool {
    // A missing instance says 'Failed to fetch instance "x" ...: Instance not found'.
    e.is_not_found()
        && !e
            .daemon_message()
            .is_some_and(|m| m.to_ascii_lowercase().contains("instance not found"))
}

fn kind_of(t: FileType) -> FileKind {
    match t {
        FileType::File => FileKind::File,
        FileType::Directory => FileKind::Dir,
        FileType::Symlink => FileKind::Symlink,
    }
}

#[async_trait]
impl Transport for IncusTransport {
    async fn exec(&self, req: ExecRequest) -> Result<ExecOutput, TransportError> {
        let start = Instant::now();
        let mut argv = req.argv.clone();
        if let Some(user) = &req.user {
            // become_user: switch inside the instance (root can).
            let mut wrapped = vec![
                "runuser".to_string(),
                "-u".into(),
                user.clone(),
                "--".into(),
            ];
            wrapped.append(&mut argv);
            argv = wrapped;
        }
        // stdin: pushed as a temporary file and redirected by a tiny shell wrapper, so every
        // exec uses the recorded-output mode (the websocket mode stalls on this daemon).
        if let Some(data) = &req.stdin {
            let id = uuid::Uuid::new_v4().simple().to_string();
            let tmp = format!("/tmp/.floe-stdin-{}", &id[..12]);
            self.create_file(&tmp, data, 0, 0, 0o600).await?;
            let mut wrapped = vec![
                "/bin/sh".to_string(),
                "-c".into(),
                "f=$1; shift; \"$@\" < \"$f\"; rc=$?; rm -f \"$f\"; exit $rc".into(),
                "sh".into(),
                tmp,
            ];
            wrapped.append(&mut argv);
            argv = wrapped;
        }
        let mut r = incus_client::ExecRequest::new(argv);
        for (k, v) in &req.env {
            r = r.env(k.clone(), v.clone());
        }
        if let Some(cwd) = &req.cwd {
            r = r.cwd(cwd.clone());
        }
        if let Some(t) = req.timeout {
            r = r.timeout(t);
        }
        let out = self.client.exec(&self.instance, &r).await;
        self.counters.add(start.elapsed());
        self.counters
            .execs
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        match out {
            Ok(o) => Ok(ExecOutput {
                rc: o.exit_code,
                stdout: o.stdout,
                stderr: o.stderr,
            }),
            Err(e) => {
                // A command that cannot start (missing executable) is rc 127 / 126 like a shell.
                if matches!(e, incus_client::Error::OperationFailed { .. }) {
                    let msg = e.to_string();
                    let rc = if msg.contains("ermission") { 126 } else { 127 };
                    return Ok(ExecOutput {
                        rc,
                        stdout: vec![],
                        stderr: msg.into_bytes(),
                    });
                }
                Err(self.map_err(e))
            }
        }
    }

    async fn stat(&self, path: &str) -> Result<Option<FileStat>, TransportError> {
        let start = Instant::now();
        let r = self.client.stat_file(&self.instance, path).await;
        self.counters.add(start.elapsed());
        match r {
            Ok(Some(m)) => Ok(Some(FileStat {
                kind: kind_of(m.file_type),
                mode: m.mode & 0o7777,
                uid: m.uid,
                gid: m.gid,
            })),
            Ok(None) => Ok(None),
            Err(e) if missing_path(&e) => Ok(None),
            Err(e) => Err(self.map_err(e)),
        }
    }

    async fn read_file(&self, path: &str) -> Result<Option<(Vec<u8>, FileStat)>, TransportError> {
        let start = Instant::now();
        let r = self.client.pull_file(&self.instance, path).await;
        self.counters.add(start.elapsed());
        match r {
            Ok(f) => Ok(Some((
                f.content.to_vec(),
                FileStat {
                    kind: kind_of(f.meta.file_type),
                    mode: f.meta.mode & 0o7777,
                    uid: f.meta.uid,
                    gid: f.meta.gid,
                },
            ))),
            Err(e) if missing_path(&e) => Ok(None),
            Err(e) => Err(self.map_err(e)),
        }
    }

    async fn create_file(
        &self,
        path: &str,
        data: &[u8],
        uid: u32,
        gid: u32,
        mode: u32,
    ) -> Result<(), TransportError> {
        let start = Instant::now();
        let push = FilePush::file(data.to_vec()).mode(mode).owner(uid, gid);
        let r = self.client.push_file(&self.instance, path, &push).await;
        self.counters.add(start.elapsed());
        r.map_err(|e| self.map_err(e))
    }

    async fn ping(&self) -> Result<(), TransportError> {
        self.stat("/").await.map(|_| ())
    }

    fn counters(&self) -> &Counters {
        &self.counters
    }
}
