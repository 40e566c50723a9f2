//! A long-running exec whose stdin can be written and whose output can be read piece by
//! piece while it runs (the websocket mode kept open). Callers build request/response
//! protocols on top of it, e.g. one shell per host that runs many short commands for the
//! price of a single exec.

use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

use super::{OutputStream, check, exit_code};
use crate::client::{Call, Client};
use crate::error::{Error, Result};
use crate::exec::ExecRequest;
use crate::ws::Ws;

/// An exec started in websocket mode and left open. Dropping it closes the websockets
/// abruptly, which makes the daemon kill the command; [`ExecSession::finish`] ends it cleanly.
pub struct ExecSession {
    client: Client,
    op_id: String,
    call: Call,
    stdin: Ws,
    stdout: Option<Ws>,
    stderr: Option<Ws>,
}

impl Client {
    /// Start `req` (stdin in the request is ignored) and return it connected.
    pub async fn exec_session(&self, instance: &str, req: &ExecRequest) -> Result<ExecSession> {
        check(req)?;
        let (op, call) = self.start_exec(instance, req, true).await?;
        let (stdin, stdout, stderr) = match self.connect_fds(&op, &call).await {
            Ok(fds) => fds,
            Err(e) => return Err(self.websocket_failure(&op.id, &call, req, e).await),
        };
        Ok(ExecSession {
            client: self.clone(),
            op_id: op.id,
            call,
            stdin,
            stdout: Some(stdout),
            stderr: Some(stderr),
        })
    }
}

impl ExecSession {
    fn ws_err(&self, detail: String) -> Error {
        Error::WebSocket {
            method: self.call.method.clone(),
            path: self.call.path.clone(),
            detail,
        }
    }

    /// Write bytes to the command's stdin.
    pub async fn write(&mut self, data: &[u8]) -> Result<()> {
        for chunk in data.chunks(128 * 1024) {
            let sent = self
                .stdin
                .send(Message::Binary(Bytes::copy_from_slice(chunk)))
                .await;
            sent.map_err(|e| self.ws_err(format!("writing stdin: {e}")))?;
        }
        Ok(())
    }

    /// The next piece of output from either stream; `None` once both have ended (the
    /// command exited or closed them).
    pub async fn read(&mut self) -> Option<(OutputStream, Bytes)> {
        loop {
            let (out_open, err_open) = (self.stdout.is_some(), self.stderr.is_some());
            if !out_open && !err_open {
                return None;
            }
            let next = tokio::select! {
                m = next_message(&mut self.stdout), if out_open => (OutputStream::Stdout, m),
                m = next_message(&mut self.stderr), if err_open => (OutputStream::Stderr, m),
            };
            match next {
                (stream, Some(Message::Binary(b))) => return Some((stream, b)),
                (_, Some(Message::Ping(_) | Message::Pong(_))) => {}
                (OutputStream::Stdout, _) => self.stdout = None,
                (OutputStream::Stderr, _) => self.stderr = None,
            }
        }
    }

    /// Close stdin (EOF), let the command finish within `timeout`, and return its exit code.
    pub async fn finish(mut self, timeout: Duration) -> Result<i32> {
        let _ = self.stdin.send(Message::text("")).await;
        let drained =
            tokio::time::timeout(timeout, async { while self.read().await.is_some() {} }).await;
        let _ = self.stdin.close(None).await;
        if drained.is_err() {
            return Err(self.call.timeout(Some(self.op_id.clone()), timeout));
        }
        let op = self
            .client
            .wait_for(&self.op_id, &self.call, Some(timeout))
            .await?;
        exit_code(&op, &self.call)
    }
}

async fn next_message(ws: &mut Option<Ws>) -> Option<Message> {
    match ws {
        Some(ws) => ws.next().await.and_then(|m| m.ok()),
        None => None,
    }
}
