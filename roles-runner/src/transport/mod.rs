//! How the runner reaches a host: run a command, read/stat/write a file.
//!
//! Implementations: [`incus::IncusTransport`] (Incus REST API over the unix socket: exec
//! with recorded output, file API) and [`local::LocalTransport`] (`delegate_to: localhost`,
//! `ansible_connection=local`, tests). An SSH transport (russh + SFTP) slots in behind the
//! same trait later. Every raw round trip is counted in [`Counters`] for the benchmark.

pub mod incus;
pub mod local;
pub mod shell_agent;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;

#[derive(Debug, Clone, Default)]
pub struct ExecRequest {
    pub argv: Vec<String>,
    pub env: Vec<(String, String)>,
    pub cwd: Option<String>,
    /// Run as this user (name); `None` = the connection's user (root for Incus).
    pub user: Option<String>,
    pub stdin: Option<Vec<u8>>,
    pub timeout: Option<Duration>,
}

impl ExecRequest {
    pub fn sh(script: impl Into<String>) -> ExecRequest {
        ExecRequest {
            argv: vec!["/bin/sh".into(), "-c".into(), script.into()],
            ..Default::default()
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct ExecOutput {
    pub rc: i32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl ExecOutput {
    pub fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    pub fn stderr_str(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    File,
    Dir,
    Symlink,
    Other,
}

/// lstat() of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileStat {
    pub kind: FileKind,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

impl FileStat {
    /// The shell command whose output [`FileStat::parse`] reads (GNU and busybox `stat`).
    pub fn command(quoted_path: &str) -> String {
        format!("stat -c '%f %u %g' -- {quoted_path}")
    }

    /// `stat -c '%f %u %g'` output: raw mode in hex, uid, gid.
    pub fn parse(line: &str) -> Option<FileStat> {
        let mut fields = line.split_whitespace();
        let raw = u32::from_str_radix(fields.next()?, 16).ok()?;
        let uid = fields.next()?.parse().ok()?;
        let gid = fields.next()?.parse().ok()?;
        if fields.next().is_some() {
            return None;
        }
        let kind = match raw & 0o170000 {
            0o100000 => FileKind::File,
            0o040000 => FileKind::Dir,
            0o120000 => FileKind::Symlink,
            _ => FileKind::Other,
        };
        Some(FileStat {
            kind,
            mode: raw & 0o7777,
            uid,
            gid,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The host cannot be reached at all (instance missing or stopped, socket down).
    #[error("{0}")]
    Unreachable(String),
    #[error("{0}")]
    Failed(String),
}

/// Raw round trips to the host (HTTP requests for Incus, syscalls/processes for local).
#[derive(Debug, Default)]
pub struct Counters {
    pub requests: AtomicU64,
    pub nanos: AtomicU64,
    pub execs: AtomicU64,
}

impl Counters {
    pub fn add(&self, d: Duration) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.nanos.fetch_add(d.as_nanos() as u64, Ordering::Relaxed);
    }
    pub fn snapshot(&self) -> (u64, Duration, u64) {
        (
            self.requests.load(Ordering::Relaxed),
            Duration::from_nanos(self.nanos.load(Ordering::Relaxed)),
            self.execs.load(Ordering::Relaxed),
        )
    }
}

/// A file to create: content, owner and mode.
#[derive(Debug, Clone, Copy)]
pub struct NewFile<'a> {
    pub data: &'a [u8],
    pub uid: u32,
    pub gid: u32,
    pub mode: u32,
}

impl<'a> NewFile<'a> {
    /// root-owned, mode 0600: the runner's own temporary files.
    pub fn private(data: &'a [u8]) -> NewFile<'a> {
        NewFile {
            data,
            uid: 0,
            gid: 0,
            mode: 0o600,
        }
    }
}

/// [`Transport::replace_file`] from the other primitives: create `tmp`, then `mv` it.
/// Errors carry the command's own message; callers name the path.
pub async fn replace_by_rename<T: Transport + ?Sized>(
    t: &T,
    tmp: &str,
    path: &str,
    file: NewFile<'_>,
) -> Result<(), TransportError> {
    t.create_file(tmp, file).await?;
    let out = t
        .exec(ExecRequest::sh(format!(
            "mv -f {t} {p} || {{ rm -f {t}; exit 1; }}",
            t = shell_agent::quote(tmp),
            p = shell_agent::quote(path)
        )))
        .await?;
    if out.rc != 0 {
        return Err(TransportError::Failed(out.stderr_str().trim().to_string()));
    }
    Ok(())
}

#[async_trait]
pub trait Transport: Send + Sync {
    /// Run a command and wait for it.
    async fn exec(&self, req: ExecRequest) -> Result<ExecOutput, TransportError>;
    /// lstat(); `None` when the path does not exist.
    async fn stat(&self, path: &str) -> Result<Option<FileStat>, TransportError>;
    /// Content (symlinks: their target) and lstat; `None` when missing.
    async fn read_file(&self, path: &str) -> Result<Option<(Vec<u8>, FileStat)>, TransportError>;
    /// Create a NEW file (callers use a fresh temporary name) with owner and mode.
    async fn create_file(&self, path: &str, file: NewFile<'_>) -> Result<(), TransportError>;
    /// Write `path` atomically: `data` goes to the NEW file `tmp` (same directory) with its
    /// final owner and mode, which is then renamed over `path`; on failure nothing is left.
    async fn replace_file(
        &self,
        tmp: &str,
        path: &str,
        file: NewFile<'_>,
    ) -> Result<(), TransportError> {
        replace_by_rename(self, tmp, path, file).await
    }
    /// Release what the connection holds (end of the run).
    async fn close(&self) {}
    /// Check the host answers (used before the first task).
    async fn ping(&self) -> Result<(), TransportError>;
    fn counters(&self) -> &Counters;
}
