//! Typed errors. Every variant that comes from a call names the HTTP method and the path
//! (with its query, e.g. `?project=p`) and carries the daemon's own error text, so a message
//! shown to a user says what was attempted and what Incus answered.

use std::path::PathBuf;
use std::time::Duration;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong talking to Incus.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// HTTP 404 (or an error envelope with `error_code: 404`).
    #[error("{method} {path}: not found: {message}")]
    NotFound {
        method: String,
        path: String,
        message: String,
    },
    /// HTTP 409, or a create that failed because the name is taken.
    #[error("{method} {path}: conflict: {message}")]
    Conflict {
        method: String,
        path: String,
        message: String,
    },
    /// HTTP 412: the `If-Match` ETag no longer matches (someone else changed the object).
    #[error("{method} {path}: precondition failed (object changed since it was read): {message}")]
    PreconditionFailed {
        method: String,
        path: String,
        message: String,
    },
    /// HTTP 403.
    #[error("{method} {path}: forbidden: {message}")]
    Forbidden {
        method: String,
        path: String,
        message: String,
    },
    /// Any other error status from the daemon.
    #[error("{method} {path}: HTTP {status}: {message}")]
    Api {
        method: String,
        path: String,
        status: u16,
        message: String,
    },
    /// The request never got an HTTP answer (socket absent, connection refused, TLS failure...).
    #[error("{method} {path} via {endpoint}: {detail}")]
    Transport {
        method: String,
        path: String,
        endpoint: String,
        detail: String,
    },
    /// A background operation finished with status Failure or Cancelled.
    #[error("{method} {path}: operation {operation} failed: {message}")]
    OperationFailed {
        method: String,
        path: String,
        operation: String,
        /// HTTP-like status of the failure (400 failure, 401 cancelled, or the error envelope's code).
        status: u16,
        message: String,
    },
    /// A client-side deadline passed (HTTP request or operation wait).
    #[error("{method} {path}: timed out after {after:?}{}", operation.as_ref().map(|o| format!(" waiting for operation {o}")).unwrap_or_default())]
    Timeout {
        method: String,
        path: String,
        operation: Option<String>,
        after: Duration,
    },
    /// The daemon answered something that is not the expected JSON.
    #[error("{method} {path}: cannot decode the response: {detail}")]
    Decode {
        method: String,
        path: String,
        detail: String,
    },
    /// A websocket (exec streams) failed.
    #[error("{method} {path}: websocket: {detail}")]
    WebSocket {
        method: String,
        path: String,
        detail: String,
    },
    /// Local configuration problem (CLI config, certificates, socket path).
    #[error("{}: {detail}", path.display())]
    Config { path: PathBuf, detail: String },
    /// The caller passed something that cannot be sent.
    #[error("invalid input: {0}")]
    InvalidInput(String),
}

impl Error {
    /// The HTTP status the daemon gave, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::NotFound { .. } => Some(404),
            Error::Conflict { .. } => Some(409),
            Error::PreconditionFailed { .. } => Some(412),
            Error::Forbidden { .. } => Some(403),
            Error::Api { status, .. } | Error::OperationFailed { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound { .. })
    }

    pub fn is_conflict(&self) -> bool {
        matches!(self, Error::Conflict { .. })
    }

    pub fn is_precondition_failed(&self) -> bool {
        matches!(self, Error::PreconditionFailed { .. })
    }

    pub fn is_forbidden(&self) -> bool {
        matches!(self, Error::Forbidden { .. })
    }

    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout { .. })
    }

    pub fn is_transport(&self) -> bool {
        matches!(self, Error::Transport { .. })
    }

    /// The daemon's own error text, when the error came from the daemon.
    pub fn daemon_message(&self) -> Option<&str> {
        match self {
            Error::NotFound { message, .. }
            | Error::Conflict { message, .. }
            | Error::PreconditionFailed { message, .. }
            | Error::Forbidden { message, .. }
            | Error::Api { message, .. }
            | Error::OperationFailed { message, .. } => Some(message),
            _ => None,
        }
    }

    /// Map an HTTP status plus daemon text to the right variant.
    ///
    /// Incus reports some name clashes as HTTP 500 ("... already exists"); those are
    /// `Conflict` too, so callers can rely on `is_conflict()`.
    pub(crate) fn from_status(method: &str, path: &str, status: u16, message: String) -> Error {
        let (method, path) = (method.to_string(), path.to_string());
        let status = if status == 500 && message.contains("already exists") {
            409
        } else {
            status
        };
        match status {
            404 => Error::NotFound {
                method,
                path,
                message,
            },
            409 => Error::Conflict {
                method,
                path,
                message,
            },
            412 => Error::PreconditionFailed {
                method,
                path,
                message,
            },
            403 => Error::Forbidden {
                method,
                path,
                message,
            },
            _ => Error::Api {
                method,
                path,
                status,
                message,
            },
        }
    }

    /// Append a hint to the daemon text (used where Incus' own text is terse, e.g. "Not Found").
    pub(crate) fn with_hint(mut self, hint: &str) -> Error {
        match &mut self {
            Error::NotFound { message, .. }
            | Error::Conflict { message, .. }
            | Error::PreconditionFailed { message, .. }
            | Error::Forbidden { message, .. }
            | Error::Api { message, .. }
            | Error::OperationFailed { message, .. } => {
                message.push_str(" (");
                message.push_str(hint);
                message.push(')');
            }
            _ => {}
        }
        self
    }
}

/// Render an error and its `source()` chain as one line ("a: b: c").
pub(crate) fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        let s = e.to_string();
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        cur = e.source();
    }
    out
}
