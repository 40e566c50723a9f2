//! The controller itself: `delegate_to: localhost`, `ansible_connection=local`, tests.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::time::Instant;

use async_trait::async_trait;
use tokio::io::AsyncWriteExt;

use super::{
    Counters, ExecOutput, ExecRequest, FileKind, FileStat, NewFile, Transport, TransportError,
};

#[derive(Debug, Default)]
pub struct LocalTransport {
    counters: Counters,
}

impl LocalTransport {
    pub fn new() -> LocalTransport {
        LocalTransport::default()
    }
}

fn kind_of(m: &std::fs::Metadata) -> FileKind {
    let ft = m.file_type();
    if ft.is_symlink() {
        FileKind::Symlink
    } else if ft.is_dir() {
        FileKind::Dir
    } else if ft.is_file() {
        FileKind::File
    } else {
        FileKind::Other
    }
}

fn stat_of(m: &std::fs::Metadata) -> FileStat {
    FileStat {
        kind: kind_of(m),
        mode: m.mode() & 0o7777,
        uid: m.uid(),
        gid: m.gid(),
    }
}

#[async_trait]
impl Transport for LocalTransport {
    async fn exec(&self, req: ExecRequest) -> Result<ExecOutput, TransportError> {
        let start = Instant::now();
        let Some((prog, args)) = req.argv.split_first() else {
            return Err(TransportError::Failed("empty command".into()));
        };
        let mut cmd = if let Some(user) = &req.user {
            let mut c = tokio::process::Command::new("runuser");
            c.arg("-u").arg(user).arg("--").arg(prog).args(args);
            c
        } else {
            let mut c = tokio::process::Command::new(prog);
            c.args(args);
            c
        };
        cmd.envs(req.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        if let Some(cwd) = &req.cwd {
            cmd.current_dir(cwd);
        }
        cmd.stdin(if req.stdin.is_some() {
            std::process::Stdio::piped()
        } else {
            std::process::Stdio::null()
        });
        cmd.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd
            .spawn()
            .map_err(|e| TransportError::Failed(format!("[Errno 2] {prog}: {e}")))?;
        if let Some(data) = req.stdin
            && let Some(mut sin) = child.stdin.take()
        {
            sin.write_all(&data)
                .await
                .map_err(|e| TransportError::Failed(e.to_string()))?;
        }
        let fut = child.wait_with_output();
        let out = match req.timeout {
            Some(t) => tokio::time::timeout(t, fut)
                .await
                .map_err(|_| TransportError::Failed("command timed out".into()))?,
            None => fut.await,
        }
        .map_err(|e| TransportError::Failed(e.to_string()))?;
        self.counters.add(start.elapsed());
        self.counters
            .execs
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(ExecOutput {
            rc: out.status.code().unwrap_or(-1),
            stdout: out.stdout,
            stderr: out.stderr,
        })
    }

    async fn stat(&self, path: &str) -> Result<Option<FileStat>, TransportError> {
        let start = Instant::now();
        let r = match std::fs::symlink_metadata(path) {
            Ok(m) => Ok(Some(stat_of(&m))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) if e.raw_os_error() == Some(20) => Ok(None), // ENOTDIR
            Err(e) => Err(TransportError::Failed(format!("{path}: {e}"))),
        };
        self.counters.add(start.elapsed());
        r
    }

    async fn read_file(&self, path: &str) -> Result<Option<(Vec<u8>, FileStat)>, TransportError> {
        let Some(st) = self.stat(path).await? else {
            return Ok(None);
        };
        let data = match st.kind {
            FileKind::Symlink => {
                std::fs::read_link(path).map(|p| p.to_string_lossy().into_owned().into_bytes())
            }
            FileKind::File => std::fs::read(path),
            _ => Ok(vec![]),
        }
        .map_err(|e| TransportError::Failed(format!("{path}: {e}")))?;
        Ok(Some((data, st)))
    }

    async fn create_file(&self, path: &str, file: NewFile<'_>) -> Result<(), TransportError> {
        let start = Instant::now();
        let res = (|| -> std::io::Result<()> {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)?;
            f.write_all(file.data)?;
            std::os::unix::fs::chown(path, Some(file.uid), Some(file.gid))?;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(file.mode))?;
            Ok(())
        })();
        self.counters.add(start.elapsed());
        res.map_err(|e| TransportError::Failed(format!("{path}: {e}")))
    }

    async fn ping(&self) -> Result<(), TransportError> {
        Ok(())
    }

    fn counters(&self) -> &Counters {
        &self.counters
    }
}
