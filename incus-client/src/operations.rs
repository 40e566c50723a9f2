//! Waiting for and cancelling background operations.
//!
//! Waiting uses `GET /1.0/operations/ID/wait?timeout=N` (the daemon holds the request until the
//! operation ends or N seconds pass) inside a client-side deadline, so a hung operation yields a
//! `Timeout` error naming the operation instead of blocking forever.

use std::time::{Duration, Instant};

use reqwest::Method;

use crate::api::operation::Operation;
use crate::client::{ApiResponse, Body, Call, Client, encode_segment};
use crate::error::{Error, Result};

/// Extra time given to the HTTP request beyond the server-side wait, so the daemon's own
/// timeout normally answers first.
const WAIT_SLACK: Duration = Duration::from_secs(5);

/// Accept `UUID` or `/1.0/operations/UUID`.
fn operation_id(id_or_path: &str) -> &str {
    id_or_path
        .rsplit_once('/')
        .map(|(_, id)| id)
        .unwrap_or(id_or_path)
}

impl Client {
    /// `GET /1.0/operations/ID`.
    pub async fn get_operation(&self, id: &str) -> Result<Operation> {
        self.get_json(&format!(
            "/1.0/operations/{}",
            encode_segment(operation_id(id))
        ))
        .await
    }

    /// List operation ids by status (`GET /1.0/operations`).
    pub async fn list_operations(&self) -> Result<Vec<Operation>> {
        let by_status: std::collections::BTreeMap<String, Vec<Operation>> =
            self.get_json("/1.0/operations?recursion=1").await?;
        Ok(by_status.into_values().flatten().collect())
    }

    /// `DELETE /1.0/operations/ID`: ask the daemon to cancel (only if `may_cancel`).
    pub async fn cancel_operation(&self, id: &str) -> Result<()> {
        let path = format!("/1.0/operations/{}", encode_segment(operation_id(id)));
        self.send_raw(Method::DELETE, &path, Body::None, None)
            .await
            .map(|_| ())
    }

    /// Wait for an operation to finish, within `timeout` (default: the handle's operation
    /// timeout). Failure and cancellation become `Error::OperationFailed` with the daemon's text.
    pub async fn wait_operation(&self, id: &str, timeout: Option<Duration>) -> Result<Operation> {
        let call = Call {
            method: "WAIT".into(),
            path: format!("/1.0/operations/{}", operation_id(id)),
        };
        self.wait_for(id, &call, timeout).await
    }

    /// Wait for `id`, attributing errors to the call (`origin`) that started it.
    pub(crate) async fn wait_for(
        &self,
        id: &str,
        origin: &Call,
        timeout: Option<Duration>,
    ) -> Result<Operation> {
        let id = operation_id(id).to_string();
        let timeout = timeout.unwrap_or(self.operation_timeout);
        let deadline = Instant::now() + timeout;
        let failed = |status: u16, message: String| Error::OperationFailed {
            method: origin.method.clone(),
            path: origin.path.clone(),
            operation: id.clone(),
            status,
            message,
        };
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(origin.timeout(Some(id.clone()), timeout));
            }
            // The daemon takes whole seconds; round up so we never busy-loop on 0.
            let secs = remaining.as_secs() + u64::from(remaining.subsec_nanos() > 0);
            let path = format!(
                "/1.0/operations/{}/wait?timeout={secs}",
                encode_segment(&id)
            );
            let http_timeout = remaining + WAIT_SLACK;
            let sent = self
                .http(
                    Method::GET,
                    &path,
                    Body::None,
                    Default::default(),
                    http_timeout,
                )
                .await;
            let (resp, call) = match sent {
                Ok(x) => x,
                Err(Error::Timeout { .. }) => {
                    return Err(origin.timeout(Some(id.clone()), timeout));
                }
                Err(e) => return Err(e),
            };
            // A body that stalls past the deadline is a timeout too.
            let answer = tokio::time::timeout(http_timeout, self.envelope(resp, &call)).await;
            let op = match answer {
                Err(_) => return Err(origin.timeout(Some(id.clone()), timeout)),
                Ok(Ok(ApiResponse::Sync { metadata, .. })) => {
                    serde_json::from_value::<Operation>(metadata).map_err(|e| call.decode(e))?
                }
                Ok(Ok(ApiResponse::Async { operation })) => operation,
                // The wait endpoint reports a failed operation as an error envelope whose
                // text is the operation's error (e.g. "Command not found").
                Ok(Err(e)) => {
                    let status = e.status().unwrap_or(500);
                    return match e {
                        Error::NotFound { .. }
                        | Error::Api { .. }
                        | Error::Conflict { .. }
                        | Error::Forbidden { .. } => Err(failed(
                            status,
                            e.daemon_message().unwrap_or_default().to_string(),
                        )),
                        other => Err(other),
                    };
                }
            };
            if op.is_success() {
                return Ok(op);
            }
            if op.is_failed() {
                let msg = if op.err.is_empty() {
                    op.status.clone()
                } else {
                    op.err.clone()
                };
                return Err(failed(op.status_code, msg));
            }
            // Still running: the server-side wait ran out; loop until our own deadline.
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids() {
        assert_eq!(super::operation_id("/1.0/operations/abc"), "abc");
        assert_eq!(super::operation_id("abc"), "abc");
    }
}
