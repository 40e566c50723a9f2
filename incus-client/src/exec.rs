//! Running commands in instances (`POST /1.0/instances/NAME/exec`).
//!
//! Two modes, chosen per call:
//! - **record-output** (no stdin, output wanted at the end): the daemon writes stdout/stderr to
//!   log files; we wait for the operation, read both files and delete them. Fewest moving parts.
//! - **websockets** (stdin given, or output streamed while the command runs): the daemon opens
//!   one websocket per fd (`0`, `1`, `2`); data is binary frames, EOF is an empty text frame.
//!
//! The command is an argv: nothing goes through a shell unless the caller asks for one with
//! [`ExecRequest::shell`].

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use reqwest::Method;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::api::instance;
use crate::api::operation::Operation;
use crate::client::{ApiResponse, Body, Call, Client};
use crate::error::{Error, Result};
use crate::ws;

mod session;
pub use session::ExecSession;

/// How [`Client::exec`] talks to the daemon.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ExecMode {
    /// Record-output when there is no stdin, websockets otherwise.
    #[default]
    Auto,
    /// Output written to log files, read and deleted afterwards (no stdin possible).
    RecordOutput,
    /// One websocket per fd (what the `incus` CLI does).
    WebSockets,
}

/// What to run.
#[derive(Debug, Clone, Default)]
pub struct ExecRequest {
    /// argv; `command[0]` is looked up in the instance's `PATH`.
    pub command: Vec<String>,
    /// Extra environment (the daemon defaults `LANG=C.UTF-8`, `PATH`, `HOME`...).
    pub env: BTreeMap<String, String>,
    pub cwd: Option<String>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    /// Bytes fed to stdin (then EOF). Forces websocket mode.
    pub stdin: Option<Vec<u8>>,
    /// Deadline for the whole command (default: the client's operation timeout).
    pub timeout: Option<Duration>,
    pub mode: ExecMode,
}

impl ExecRequest {
    /// Run `argv` directly (no shell).
    pub fn new<I, S>(argv: I) -> ExecRequest
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        ExecRequest {
            command: argv.into_iter().map(Into::into).collect(),
            ..Default::default()
        }
    }

    /// Run `script` with `/bin/sh -c` — only when a shell is really wanted.
    pub fn shell(script: impl Into<String>) -> ExecRequest {
        ExecRequest::new(["/bin/sh".to_string(), "-c".to_string(), script.into()])
    }

    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.insert(key.into(), value.into());
        self
    }

    pub fn cwd(mut self, cwd: impl Into<String>) -> Self {
        self.cwd = Some(cwd.into());
        self
    }

    pub fn uid(mut self, uid: u32) -> Self {
        self.uid = Some(uid);
        self
    }

    pub fn gid(mut self, gid: u32) -> Self {
        self.gid = Some(gid);
        self
    }

    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    pub fn mode(mut self, mode: ExecMode) -> Self {
        self.mode = mode;
        self
    }

    fn body(&self, websockets: bool) -> Value {
        let mut body = json!({
            "command": self.command,
            "environment": self.env,
            "interactive": false,
            "wait-for-websocket": websockets,
            "record-output": !websockets,
            "width": 0,
            "height": 0,
        });
        if let Some(cwd) = &self.cwd {
            body["cwd"] = json!(cwd);
        }
        if let Some(uid) = self.uid {
            body["user"] = json!(uid);
        }
        if let Some(gid) = self.gid {
            body["group"] = json!(gid);
        }
        body
    }
}

/// Result of a command that ran (whatever its exit code).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecOutput {
    pub exit_code: i32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl ExecOutput {
    pub fn success(&self) -> bool {
        self.exit_code == 0
    }
    pub fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    pub fn stderr_str(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

/// Which stream a chunk of streamed output came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputStream {
    Stdout,
    Stderr,
}

impl Client {
    /// Run a command and capture its output. Uses record-output mode when there is no stdin,
    /// websockets otherwise (override with [`ExecRequest::mode`]). A non-zero exit is *not* an error; a command that cannot be
    /// started (e.g. missing executable) is `Error::OperationFailed`.
    pub async fn exec(&self, instance: &str, req: &ExecRequest) -> Result<ExecOutput> {
        check(req)?;
        let record = match req.mode {
            ExecMode::Auto => req.stdin.is_none(),
            ExecMode::RecordOutput => true,
            ExecMode::WebSockets => false,
        };
        if record {
            // Under heavy load incusd sometimes loses the child before it learns its PID:
            // the command never started, so one retry is safe and spares callers a flake.
            return match self.exec_recorded(instance, req).await {
                Err(e) if is_child_not_started(&e) => {
                    tracing::debug!("exec in {instance} did not start ({e}); retrying once");
                    self.exec_recorded(instance, req).await
                }
                other => other,
            };
        }
        let mut out = ExecOutput::default();
        let (stdout, stderr) = (&mut out.stdout, &mut out.stderr);
        out.exit_code = self
            .exec_websockets(instance, req, |stream, chunk| match stream {
                OutputStream::Stdout => stdout.extend_from_slice(chunk),
                OutputStream::Stderr => stderr.extend_from_slice(chunk),
            })
            .await?;
        Ok(out)
    }

    /// Run a command, handing each chunk of output to `on_output` as it arrives (for long
    /// commands). Returns the exit code. Always uses websockets.
    pub async fn exec_streaming<F>(
        &self,
        instance: &str,
        req: &ExecRequest,
        on_output: F,
    ) -> Result<i32>
    where
        F: FnMut(OutputStream, &[u8]) + Send,
    {
        check(req)?;
        self.exec_websockets(instance, req, on_output).await
    }

    async fn start_exec(
        &self,
        instance: &str,
        req: &ExecRequest,
        ws: bool,
    ) -> Result<(Operation, Call)> {
        let path = format!("{}/exec", instance::path(instance));
        let call = self.call_for(&Method::POST, &path);
        match self
            .send_raw(Method::POST, &path, Body::Json(req.body(ws)), None)
            .await?
        {
            ApiResponse::Async { operation } => Ok((operation, call)),
            ApiResponse::Sync { .. } => {
                Err(call.decode("expected a background operation for exec"))
            }
        }
    }

    async fn exec_recorded(&self, instance: &str, req: &ExecRequest) -> Result<ExecOutput> {
        let (op, call) = self.start_exec(instance, req, false).await?;
        let op = self
            .wait_for(&op.id, &call, req.timeout)
            .await
            .map_err(|e| explain_start_failure(e, req))?;
        let exit_code = exit_code(&op, &call)?;
        let log = |fd: &str| {
            op.metadata
                .get("output")
                .and_then(|o| o.get(fd))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let (out_path, err_path) = (log("1"), log("2"));
        let (stdout, stderr) = tokio::try_join!(
            self.fetch_and_delete_log(out_path.as_deref()),
            self.fetch_and_delete_log(err_path.as_deref()),
        )?;
        Ok(ExecOutput {
            exit_code,
            stdout,
            stderr,
        })
    }

    /// Read a record-output log file, then delete it so logs do not pile up.
    async fn fetch_and_delete_log(&self, path: Option<&str>) -> Result<Vec<u8>> {
        let Some(path) = path else {
            return Ok(Vec::new());
        };
        let bytes = self.get_raw(path).await?;
        let (resp, call) = self
            .http(
                Method::DELETE,
                path,
                Body::None,
                Default::default(),
                self.request_timeout,
            )
            .await?;
        self.envelope(resp, &call).await?;
        Ok(bytes.to_vec())
    }

    /// GET a non-JSON resource; error statuses still decode the error envelope.
    pub(crate) async fn get_raw(&self, path: &str) -> Result<Bytes> {
        let (resp, call) = self
            .http(
                Method::GET,
                path,
                Body::None,
                Default::default(),
                self.request_timeout,
            )
            .await?;
        if !resp.status().is_success() {
            self.envelope(resp, &call).await?;
            return Err(call.decode("error status without error"));
        }
        resp.bytes()
            .await
            .map_err(|e| self.transport_err(&call, &e))
    }

    async fn exec_websockets<F>(
        &self,
        instance: &str,
        req: &ExecRequest,
        mut on_output: F,
    ) -> Result<i32>
    where
        F: FnMut(OutputStream, &[u8]) + Send,
    {
        let timeout = req.timeout.unwrap_or(self.operation_timeout);
        let (op, call) = self.start_exec(instance, req, true).await?;
        let posted = std::time::Instant::now();
        let connect_time = std::sync::Mutex::new(Duration::ZERO);
        let streams = async {
            let (mut stdin, mut stdout, mut stderr) = self.connect_fds(&op, &call).await?;
            if let Ok(mut t) = connect_time.lock() {
                *t = posted.elapsed();
            }
            let ws_err = |detail: String| Error::WebSocket {
                method: call.method.clone(),
                path: call.path.clone(),
                detail,
            };
            let feed = async {
                if let Some(data) = &req.stdin {
                    for chunk in data.chunks(128 * 1024) {
                        stdin
                            .send(Message::Binary(Bytes::copy_from_slice(chunk)))
                            .await
                            .map_err(|e| ws_err(format!("writing stdin: {e}")))?;
                    }
                }
                // EOF on stdin is an empty text frame.
                stdin
                    .send(Message::text(""))
                    .await
                    .map_err(|e| ws_err(format!("closing stdin: {e}")))?;
                Ok::<_, Error>(())
            };
            let drain = async {
                let (mut out_done, mut err_done) = (false, false);
                while !(out_done && err_done) {
                    tokio::select! {
                        m = stdout.next(), if !out_done => match m {
                            Some(Ok(Message::Binary(b))) => on_output(OutputStream::Stdout, &b),
                            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                            _ => out_done = true,
                        },
                        m = stderr.next(), if !err_done => match m {
                            Some(Ok(Message::Binary(b))) => on_output(OutputStream::Stderr, &b),
                            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                            _ => err_done = true,
                        },
                    }
                }
            };
            // A failing stdin write (the command exited without reading) must not lose output.
            let (fed, ()) = tokio::join!(feed, drain);
            if let Err(e) = fed {
                tracing::debug!("exec stdin: {e}");
            }
            // Close all three cleanly: a dropped connection makes the daemon log
            // "Unexpected read on stdout websocket, killing command".
            let _ = tokio::join!(stdin.close(None), stdout.close(None), stderr.close(None));
            Ok::<_, Error>(())
        };
        match tokio::time::timeout(timeout, streams).await {
            Err(_) => return Err(call.timeout(Some(op.id.clone()), timeout)),
            Ok(Err(e)) => return Err(self.websocket_failure(&op.id, &call, req, e).await),
            Ok(Ok(())) => {}
        }
        let connected_after = connect_time.lock().map(|t| *t).unwrap_or_default();
        let op = self
            .wait_for(&op.id, &call, Some(timeout))
            .await
            .map_err(|e| explain_start_failure(e, req))
            .map_err(|e| {
                // Incus abandons an exec whose websockets are not all connected within a few
                // seconds; on a stalled daemon the operation is then gone.
                if e.daemon_message() == Some("Operation not found") && connected_after > Duration::from_secs(4) {
                    e.with_hint(&format!(
                        "the daemon took {connected_after:.1?} to accept the exec websockets and gave up on the command; it may not have run"
                    ))
                } else {
                    e
                }
            })?;
        exit_code(&op, &call)
    }
}

impl Client {
    /// Connect the stdin, stdout and stderr websockets of an exec started in websocket
    /// mode; the daemon starts the command once all three are connected.
    async fn connect_fds(&self, op: &Operation, call: &Call) -> Result<(ws::Ws, ws::Ws, ws::Ws)> {
        let secret = |fd: &str| {
            op.metadata
                .get("fds")
                .and_then(|f| f.get(fd))
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| call.decode(format!("exec operation has no websocket for fd {fd}")))
        };
        let (s0, s1, s2) = (secret("0")?, secret("1")?, secret("2")?);
        tokio::try_join!(
            ws::connect(self, &op.id, &s0, call),
            ws::connect(self, &op.id, &s1, call),
            ws::connect(self, &op.id, &s2, call),
        )
    }

    /// The error to report when an exec's websockets failed: if the command never started,
    /// the operation has the real reason.
    async fn websocket_failure(
        &self,
        op_id: &str,
        call: &Call,
        req: &ExecRequest,
        e: Error,
    ) -> Error {
        match self
            .wait_for(op_id, call, Some(Duration::from_secs(5)))
            .await
        {
            Err(op_err) => explain_start_failure(op_err, req),
            Ok(_) => e,
        }
    }
}

fn check(req: &ExecRequest) -> Result<()> {
    if req.command.is_empty() || req.command[0].is_empty() {
        return Err(Error::InvalidInput("exec needs a non-empty command".into()));
    }
    if req.mode == ExecMode::RecordOutput && req.stdin.is_some() {
        return Err(Error::InvalidInput(
            "exec: stdin needs websocket mode, not record-output".into(),
        ));
    }
    Ok(())
}

fn exit_code(op: &Operation, call: &Call) -> Result<i32> {
    op.metadata
        .get("return")
        .and_then(Value::as_i64)
        .map(|c| c as i32)
        .ok_or_else(|| call.decode("exec operation finished without a return code"))
}

/// Incus says only "Command not found"; name the executable.
fn explain_start_failure(e: Error, req: &ExecRequest) -> Error {
    if e.daemon_message() == Some("Command not found") {
        let argv0 = req.command.first().map(String::as_str).unwrap_or_default();
        return e.with_hint(&format!(
            "executable {argv0:?} does not exist in the instance"
        ));
    }
    e
}

/// incusd's error when `forkexec` died before reporting the child's PID (seen on a starved
/// daemon): nothing ran in the instance.
fn is_child_not_started(e: &Error) -> bool {
    e.to_string()
        .contains("Failed to retrieve PID of executing child process")
}
