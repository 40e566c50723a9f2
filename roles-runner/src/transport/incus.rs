//! Incus instances through the project's `incus-client` (unix socket or a remote; one shared
//! client for every host). Commands, stats, reads and small writes go through one
//! long-lived shell per host ([`shell_agent`]); files over 16 KiB use the file API, and an
//! instance where the shell cannot start gets one exec per command. No SSH, no Python in
//! the instance.

use std::sync::atomic::Ordering;
use std::time::Instant;

use async_trait::async_trait;
use incus_client::{Client, FilePush, FileType};

use super::shell_agent::{self, Agent};
use super::{
    Counters, ExecOutput, ExecRequest, FileKind, FileStat, NewFile, Transport, TransportError,
};

pub struct IncusTransport {
    client: Client,
    instance: String,
    counters: Counters,
    agent: tokio::sync::Mutex<AgentSlot>,
}

/// The host's shell agent (see [`shell_agent`]).
enum AgentSlot {
    NotStarted,
    Running(Box<Agent>),
    /// Could not be started: every command is its own exec.
    Unavailable,
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
            agent: tokio::sync::Mutex::new(AgentSlot::NotStarted),
        }
    }

    /// One Incus exec per command (record-output mode).
    async fn exec_plain(
        &self,
        req: &ExecRequest,
        argv: Vec<String>,
    ) -> Result<ExecOutput, TransportError> {
        let start = Instant::now();
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
        self.counters.execs.fetch_add(1, Ordering::Relaxed);
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

    /// Run `script` through the host's shell agent, starting it on first use. `Ok(None)`
    /// when the agent cannot be started (no `/bin/sh`, old daemon): the caller falls back
    /// to a plain exec, and so do all later commands for this host.
    async fn exec_through_agent(&self, script: &str) -> Result<Option<ExecOutput>, TransportError> {
        let mut slot = self.agent.lock().await;
        if matches!(*slot, AgentSlot::Unavailable) {
            return Ok(None);
        }
        if let AgentSlot::Running(agent) = &*slot
            && !agent.usable()
        {
            // Dropping the session closes its websockets: the daemon ends that shell.
            *slot = AgentSlot::NotStarted;
        }
        if matches!(*slot, AgentSlot::NotStarted) {
            let start = Instant::now();
            let req = incus_client::ExecRequest::new(["/bin/sh", "-c", shell_agent::BOOT_SCRIPT]);
            let session = self.client.exec_session(&self.instance, &req).await;
            self.counters.add(start.elapsed());
            self.counters.execs.fetch_add(1, Ordering::Relaxed);
            match session {
                Ok(s) => *slot = AgentSlot::Running(Box::new(Agent::new(s))),
                Err(e) if e.is_transport() || (e.is_not_found() && !missing_path(&e)) => {
                    return Err(self.map_err(e));
                }
                Err(_) => {
                    *slot = AgentSlot::Unavailable;
                    return Ok(None);
                }
            }
        }
        let AgentSlot::Running(agent) = &mut *slot else {
            return Ok(None);
        };
        let start = Instant::now();
        let out = agent.run(script).await;
        self.counters.add(start.elapsed());
        match out {
            Ok(o) => Ok(Some(o)),
            Err(e) => {
                // The shell is gone (the instance stopped or restarted, or the command ended
                // it): start a new one for the next command; this command's outcome is unknown.
                *slot = AgentSlot::NotStarted;
                Err(TransportError::Unreachable(format!(
                    "instance {}: {e}",
                    self.instance
                )))
            }
        }
    }

    /// Write a small file through the agent (`rename_to`: then move it there). `None` when
    /// the file is too large for a request or there is no agent: use the file API.
    async fn write_through_agent(
        &self,
        path: &str,
        file: NewFile<'_>,
        rename_to: Option<&str>,
    ) -> Result<Option<Result<(), TransportError>>, TransportError> {
        if file.data.len() > shell_agent::MAX_INLINE_FILE {
            return Ok(None);
        }
        let script = shell_agent::write_script(path, file, rename_to);
        let out = self.exec_through_agent(&script).await?;
        Ok(out.map(|o| agent_write_result(&o)))
    }

    /// End the agent cleanly (EOF on its stdin) so the daemon does not kill it mid-write.
    pub async fn close_agent(&self) {
        let mut slot = self.agent.lock().await;
        if let AgentSlot::Running(agent) = std::mem::replace(&mut *slot, AgentSlot::NotStarted) {
            let _ = agent
                .into_session()
                .finish(std::time::Duration::from_secs(2))
                .await;
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

/// `stat -c '%f %u %g'` run through the agent: `None` when the path does not exist.
fn agent_stat_result(
    path: &str,
    out: &ExecOutput,
    line: &[u8],
) -> Result<Option<FileStat>, TransportError> {
    let text = String::from_utf8_lossy(line);
    if let Some(st) = FileStat::parse(&text) {
        return Ok(Some(st));
    }
    let err = out.stderr_str();
    if out.rc != 0 && (err.contains("No such file or directory") || err.contains("Not a directory"))
    {
        return Ok(None);
    }
    if out.rc != 0 {
        return Err(TransportError::Failed(format!(
            "stat {path}: {}",
            err.trim()
        )));
    }
    Err(TransportError::Failed(format!(
        "stat {path}: unexpected output {text:?}"
    )))
}

/// The write scripts' outcome; errors carry the shell's message (it names the path).
fn agent_write_result(out: &ExecOutput) -> Result<(), TransportError> {
    if out.rc == 0 {
        return Ok(());
    }
    Err(TransportError::Failed(out.stderr_str().trim().to_string()))
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
        // stdin: pushed as a temporary file that the command reads (and unlinks), so no
        // command needs a websocket of its own.
        let stdin_file = match &req.stdin {
            Some(data) => {
                let id = uuid::Uuid::new_v4().simple().to_string();
                let tmp = format!("/tmp/.floe-stdin-{}", &id[..12]);
                self.create_file(&tmp, NewFile::private(data)).await?;
                Some(tmp)
            }
            None => None,
        };
        // A timeout needs the daemon to enforce it (the agent cannot be interrupted).
        if req.timeout.is_none()
            && let Some(script) = shell_agent::command_script(&req, &argv, stdin_file.as_deref())
            && let Some(out) = self.exec_through_agent(&script).await?
        {
            return Ok(out);
        }
        if let Some(tmp) = stdin_file {
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
        self.exec_plain(&req, argv).await
    }

    async fn stat(&self, path: &str) -> Result<Option<FileStat>, TransportError> {
        let script = format!("exec {}\n", FileStat::command(&shell_agent::quote(path)));
        if let Some(out) = self.exec_through_agent(&script).await? {
            return agent_stat_result(path, &out, &out.stdout);
        }
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
        // First line: the lstat; then the content (a symlink's target; nothing for
        // directories, devices and FIFOs, which cat could block on).
        let script = format!(
            "p={}\n{} || exit 1\n\
             if [ -L \"$p\" ]; then exec readlink -- \"$p\"; elif [ -f \"$p\" ]; then exec cat -- \"$p\"; fi\n",
            shell_agent::quote(path),
            FileStat::command("\"$p\"")
        );
        if let Some(out) = self.exec_through_agent(&script).await? {
            let nl = out
                .stdout
                .iter()
                .position(|&b| b == b'\n')
                .unwrap_or(out.stdout.len());
            let Some(st) = agent_stat_result(path, &out, &out.stdout[..nl])? else {
                return Ok(None);
            };
            let mut content = out.stdout.get(nl + 1..).unwrap_or_default().to_vec();
            if st.kind == FileKind::Symlink && content.last() == Some(&b'\n') {
                content.pop();
            }
            if out.rc != 0 {
                return Err(TransportError::Failed(format!(
                    "reading {path}: {}",
                    out.stderr_str().trim()
                )));
            }
            return Ok(Some((content, st)));
        }
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

    async fn create_file(&self, path: &str, file: NewFile<'_>) -> Result<(), TransportError> {
        if let Some(written) = self.write_through_agent(path, file, None).await? {
            return written;
        }
        let start = Instant::now();
        let push = FilePush::file(file.data.to_vec())
            .mode(file.mode)
            .owner(file.uid, file.gid);
        let r = self.client.push_file(&self.instance, path, &push).await;
        self.counters.add(start.elapsed());
        r.map_err(|e| self.map_err(e))
    }

    async fn replace_file(
        &self,
        tmp: &str,
        path: &str,
        file: NewFile<'_>,
    ) -> Result<(), TransportError> {
        if let Some(written) = self.write_through_agent(tmp, file, Some(path)).await? {
            return written;
        }
        super::replace_by_rename(self, tmp, path, file).await
    }

    async fn close(&self) {
        self.close_agent().await;
    }

    async fn ping(&self) -> Result<(), TransportError> {
        self.stat("/").await.map(|_| ())
    }

    fn counters(&self) -> &Counters {
        &self.counters
    }
}
