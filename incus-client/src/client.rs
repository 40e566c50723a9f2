//! The `Client`: one shared connection pool, a per-handle scope (project, target, operation
//! timeout), raw JSON calls and the sync/async/error response envelope.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::OnceCell;

use crate::api::operation::Operation;
use crate::api::server::Server;
use crate::error::{Error, Result, chain};
use crate::tls::TlsConfig;
use crate::transport::{Endpoint, default_socket_path, parse_https_addr};

/// Default deadline for background operations (instance create, start, stop...).
pub const DEFAULT_OPERATION_TIMEOUT: Duration = Duration::from_secs(300);
/// Default deadline for one plain HTTP request.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    pub(crate) endpoint: Endpoint,
    server: OnceCell<Arc<Server>>,
}

/// Handle on an Incus daemon. Cheap to clone (an `Arc` plus the scope); all clones and scoped
/// handles share one connection pool and the cached server info. `Send + Sync`.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
    pub(crate) project: Option<Arc<str>>,
    pub(crate) target: Option<Arc<str>>,
    pub(crate) operation_timeout: Duration,
    pub(crate) request_timeout: Duration,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.inner.endpoint.describe())
            .field("project", &self.project)
            .field("target", &self.target)
            .finish()
    }
}

/// What the daemon answered to a call, before any operation wait.
#[derive(Debug, Clone)]
pub enum ApiResponse {
    /// `type: sync` — the `metadata` and the `ETag` header, if any.
    Sync {
        metadata: Value,
        etag: Option<String>,
    },
    /// `type: async` — a background operation was started.
    Async { operation: Operation },
}

/// A finished call: sync metadata, or the metadata of the operation it waited for.
#[derive(Debug, Clone, Default)]
pub struct Response {
    pub metadata: Value,
    pub etag: Option<String>,
    /// The finished operation, when the call was asynchronous.
    pub operation: Option<Operation>,
}

/// Method and path of a call, carried into error messages.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub(crate) method: String,
    pub(crate) path: String,
}

impl Call {
    pub(crate) fn err(&self, status: u16, message: String) -> Error {
        Error::from_status(&self.method, &self.path, status, message)
    }
    pub(crate) fn decode(&self, detail: impl std::fmt::Display) -> Error {
        Error::Decode {
            method: self.method.clone(),
            path: self.path.clone(),
            detail: detail.to_string(),
        }
    }
    pub(crate) fn timeout(&self, operation: Option<String>, after: Duration) -> Error {
        Error::Timeout {
            method: self.method.clone(),
            path: self.path.clone(),
            operation,
            after,
        }
    }
}

/// Body of a request.
pub(crate) enum Body {
    None,
    Json(Value),
    Bytes(Vec<u8>),
}

#[derive(serde::Deserialize)]
struct Envelope {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    error_code: u16,
    #[serde(default)]
    error: String,
    #[serde(default)]
    metadata: Value,
}

impl Client {
    // ---------------------------------------------------------------- constructors

    /// The local daemon through the default socket ([`default_socket_path`]). Nothing is
    /// connected yet: a missing socket shows up as a `Transport` error on the first call.
    pub fn local() -> Result<Client> {
        Client::unix(default_socket_path())
    }

    /// The local daemon through an explicit unix socket path.
    pub fn unix(socket: impl Into<PathBuf>) -> Result<Client> {
        let socket = socket.into();
        // No connection pool on the unix socket. incusd's unix listener peeks at the first
        // bytes of every new connection inside its accept loop, without a deadline, so a
        // connection that never sends a request stalls the whole daemon (every client, and
        // LXC's start hooks, which then fail after 30 s). A pooling client creates exactly
        // that: a request that was still connecting when another connection came back to
        // the pool is served by the pooled one, and the new connection is parked unused
        // until the idle timeout. A unix connect costs microseconds, so one connection per
        // request loses nothing measurable.
        let http = reqwest::Client::builder()
            .unix_socket(socket.clone())
            .pool_max_idle_per_host(0)
            .build()
            .map_err(|e| Error::Config {
                path: socket.clone(),
                detail: format!("cannot build HTTP client: {}", chain(&e)),
            })?;
        Ok(Client::from_parts(http, Endpoint::Unix { socket }))
    }

    /// A remote daemon at `https://host[:port]` (port 8443 by default).
    pub fn https(addr: &str, tls: &TlsConfig) -> Result<Client> {
        let (host, port) = parse_https_addr(addr).ok_or_else(|| Error::Config {
            path: addr.into(),
            detail: "remote address must look like https://host[:port]".into(),
        })?;
        let config = crate::tls::client_config(tls)?;
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured((*config).clone())
            .pool_idle_timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| Error::Config {
                path: addr.into(),
                detail: format!("cannot build HTTPS client: {}", chain(&e)),
            })?;
        let base = format!(
            "https://{}:{port}",
            if host.contains(':') {
                format!("[{host}]")
            } else {
                host.clone()
            }
        );
        Ok(Client::from_parts(
            http,
            Endpoint::Https {
                base,
                host,
                port,
                tls: config,
            },
        ))
    }

    fn from_parts(http: reqwest::Client, endpoint: Endpoint) -> Client {
        Client {
            inner: Arc::new(Inner {
                http,
                endpoint,
                server: OnceCell::new(),
            }),
            project: None,
            target: None,
            operation_timeout: DEFAULT_OPERATION_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
        }
    }

    // ---------------------------------------------------------------- scope

    /// A handle whose calls all carry `?project=NAME`. Shares the pool.
    pub fn with_project(&self, project: impl AsRef<str>) -> Client {
        let mut c = self.clone();
        let p = project.as_ref();
        c.project = (!p.is_empty()).then(|| Arc::from(p));
        c
    }

    /// A handle whose calls all carry `?target=MEMBER` (cluster placement).
    pub fn with_target(&self, target: impl AsRef<str>) -> Client {
        let mut c = self.clone();
        let t = target.as_ref();
        c.target = (!t.is_empty()).then(|| Arc::from(t));
        c
    }

    /// A handle with no `?target=`.
    pub fn without_target(&self) -> Client {
        let mut c = self.clone();
        c.target = None;
        c
    }

    /// A handle with neither project nor target (for global objects such as projects).
    pub fn without_scope(&self) -> Client {
        let mut c = self.clone();
        c.project = None;
        c.target = None;
        c
    }

    /// How long to wait for background operations (default 300 s).
    pub fn with_operation_timeout(&self, timeout: Duration) -> Client {
        let mut c = self.clone();
        c.operation_timeout = timeout;
        c
    }

    /// Deadline of one plain HTTP request (default 120 s).
    pub fn with_request_timeout(&self, timeout: Duration) -> Client {
        let mut c = self.clone();
        c.request_timeout = timeout;
        c
    }

    pub fn project(&self) -> Option<&str> {
        self.project.as_deref()
    }

    pub fn target(&self) -> Option<&str> {
        self.target.as_deref()
    }

    pub fn operation_timeout(&self) -> Duration {
        self.operation_timeout
    }

    /// "unix socket /var/lib/incus/unix.socket" or "https://host:8443".
    pub fn endpoint(&self) -> String {
        self.inner.endpoint.describe()
    }

    // ---------------------------------------------------------------- server info

    /// `GET /1.0`, read once per connection and cached (shared by all scoped handles).
    pub async fn server(&self) -> Result<Arc<Server>> {
        self.inner
            .server
            .get_or_try_init(|| async {
                // The server info is global: no project/target.
                let c = Client {
                    project: None,
                    target: None,
                    ..self.clone()
                };
                c.get_json::<Server>("/1.0").await.map(Arc::new)
            })
            .await
            .cloned()
    }

    /// Whether the daemon lists `name` in `api_extensions`.
    pub async fn has_extension(&self, name: &str) -> Result<bool> {
        Ok(self.server().await?.has_extension(name))
    }

    // ---------------------------------------------------------------- raw calls

    /// `GET path` and decode the sync `metadata` as `T`.
    pub async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        Ok(self.get_json_with_etag(path).await?.0)
    }

    /// `GET path`, decode `metadata` as `T` and return the `ETag` for a later `If-Match`.
    pub async fn get_json_with_etag<T: DeserializeOwned>(
        &self,
        path: &str,
    ) -> Result<(T, Option<String>)> {
        let call = self.call_for(&Method::GET, path);
        match self.send_raw(Method::GET, path, Body::None, None).await? {
            ApiResponse::Sync { metadata, etag } => {
                let v = serde_json::from_value(metadata).map_err(|e| call.decode(e))?;
                Ok((v, etag))
            }
            ApiResponse::Async { .. } => Err(call.decode("expected a sync response to GET")),
        }
    }

    /// `PUT path` with a JSON body (optionally `If-Match: etag`); waits for the operation if the
    /// daemon answers asynchronously.
    pub async fn put<B: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
        if_match: Option<&str>,
    ) -> Result<Response> {
        self.call_and_wait(Method::PUT, path, Some(to_value(body)?), if_match)
            .await
    }

    /// `PATCH path` (merge semantics), optionally with `If-Match`; waits if asynchronous.
    pub async fn patch<B: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
        if_match: Option<&str>,
    ) -> Result<Response> {
        self.call_and_wait(Method::PATCH, path, Some(to_value(body)?), if_match)
            .await
    }

    /// `POST path` with a JSON body; waits if asynchronous.
    pub async fn post<B: Serialize + ?Sized>(&self, path: &str, body: &B) -> Result<Response> {
        self.call_and_wait(Method::POST, path, Some(to_value(body)?), None)
            .await
    }

    /// `DELETE path`; waits if asynchronous.
    pub async fn delete(&self, path: &str) -> Result<Response> {
        self.call_and_wait(Method::DELETE, path, None, None).await
    }

    /// Any call, without waiting for a background operation.
    pub async fn send<B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
        if_match: Option<&str>,
    ) -> Result<ApiResponse> {
        let body = match body {
            Some(b) => Body::Json(to_value(b)?),
            None => Body::None,
        };
        self.send_raw(method, path, body, if_match).await
    }

    pub(crate) async fn call_and_wait(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        if_match: Option<&str>,
    ) -> Result<Response> {
        let call = self.call_for(&method, path);
        let body = body.map(Body::Json).unwrap_or(Body::None);
        match self.send_raw(method, path, body, if_match).await? {
            ApiResponse::Sync { metadata, etag } => Ok(Response {
                metadata,
                etag,
                operation: None,
            }),
            ApiResponse::Async { operation } => {
                let op = self.wait_for(&operation.id, &call, None).await?;
                Ok(Response {
                    metadata: op.metadata.clone(),
                    etag: None,
                    operation: Some(op),
                })
            }
        }
    }

    // ---------------------------------------------------------------- plumbing

    /// Full URL and the path shown in errors (`/1.0/x?project=p`).
    pub(crate) fn url_for(&self, path: &str) -> (String, String) {
        let mut shown = path.to_string();
        let has_param = |name: &str| {
            path.split_once('?')
                .is_some_and(|(_, q)| q.split('&').any(|kv| kv.split('=').next() == Some(name)))
        };
        let mut add = |name: &str, value: &str| {
            shown.push(if shown.contains('?') { '&' } else { '?' });
            shown.push_str(name);
            shown.push('=');
            shown.push_str(&encode_query(value));
        };
        if let Some(p) = &self.project
            && !has_param("project")
        {
            add("project", p);
        }
        if let Some(t) = &self.target
            && !has_param("target")
        {
            add("target", t);
        }
        (
            format!("{}{}", self.inner.endpoint.base_url(), shown),
            shown,
        )
    }

    pub(crate) fn call_for(&self, method: &Method, path: &str) -> Call {
        Call {
            method: method.to_string(),
            path: self.url_for(path).1,
        }
    }

    pub(crate) fn transport_err(&self, call: &Call, e: &reqwest::Error) -> Error {
        if e.is_timeout() {
            return call.timeout(None, self.request_timeout);
        }
        Error::Transport {
            method: call.method.clone(),
            path: call.path.clone(),
            endpoint: self.inner.endpoint.describe(),
            detail: chain(e),
        }
    }

    /// Send a request and return the raw HTTP response (status not yet checked).
    pub(crate) async fn http(
        &self,
        method: Method,
        path: &str,
        body: Body,
        headers: HeaderMap,
        timeout: Duration,
    ) -> Result<(reqwest::Response, Call)> {
        let (url, shown) = self.url_for(path);
        let call = Call {
            method: method.to_string(),
            path: shown,
        };
        let mut req = self
            .inner
            .http
            .request(method, &url)
            .headers(headers)
            .timeout(timeout);
        req = match body {
            Body::None => req,
            Body::Json(v) => req.json(&v),
            Body::Bytes(b) => req.body(b),
        };
        tracing::debug!(method = %call.method, path = %call.path, "incus request");
        let resp = req
            .send()
            .await
            .map_err(|e| self.transport_err(&call, &e))?;
        Ok((resp, call))
    }

    pub(crate) async fn send_raw(
        &self,
        method: Method,
        path: &str,
        body: Body,
        if_match: Option<&str>,
    ) -> Result<ApiResponse> {
        let mut headers = HeaderMap::new();
        if let Some(etag) = if_match {
            headers.insert(
                reqwest::header::IF_MATCH,
                HeaderValue::from_str(etag)
                    .map_err(|_| Error::InvalidInput(format!("invalid ETag {etag:?}")))?,
            );
        }
        let (resp, call) = self
            .http(method, path, body, headers, self.request_timeout)
            .await?;
        self.envelope(resp, &call).await
    }

    /// Decode the standard envelope; errors become typed `Error`s.
    pub(crate) async fn envelope(
        &self,
        resp: reqwest::Response,
        call: &Call,
    ) -> Result<ApiResponse> {
        let status = resp.status().as_u16();
        let etag = header_str(resp.headers(), &reqwest::header::ETAG);
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| self.transport_err(call, &e))?;
        let env: Envelope = match serde_json::from_slice(&bytes) {
            Ok(env) => env,
            Err(e) => {
                if status >= 400 {
                    return Err(call.err(status, non_json_message(&bytes, status)));
                }
                return Err(call.decode(format!(
                    "{e} (HTTP {status}, body starts with {:?})",
                    snippet(&bytes)
                )));
            }
        };
        match env.kind.as_str() {
            "sync" if status < 400 => Ok(ApiResponse::Sync {
                metadata: env.metadata,
                etag,
            }),
            "async" if status < 400 => {
                let operation: Operation =
                    serde_json::from_value(env.metadata).map_err(|e| call.decode(e))?;
                Ok(ApiResponse::Async { operation })
            }
            "error" | "sync" | "async" => {
                let code = if env.error_code != 0 {
                    env.error_code
                } else {
                    status
                };
                let message = if env.error.is_empty() {
                    reason(status)
                } else {
                    env.error
                };
                Err(call.err(code, message))
            }
            other => Err(call.decode(format!("unknown response type {other:?}"))),
        }
    }

    pub(crate) fn ws_base(&self) -> String {
        self.inner.endpoint.ws_base_url()
    }
}

fn to_value<B: Serialize + ?Sized>(body: &B) -> Result<Value> {
    serde_json::to_value(body).map_err(|e| Error::InvalidInput(format!("cannot encode body: {e}")))
}

pub(crate) fn header_str(headers: &HeaderMap, name: &HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn reason(status: u16) -> String {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("error")
        .to_string()
}

/// Message for an error response whose body is not the JSON envelope (e.g. a proxy's HTML).
fn non_json_message(bytes: &[u8], status: u16) -> String {
    let text = snippet(bytes);
    if text.trim().is_empty() {
        reason(status)
    } else {
        text
    }
}

pub(crate) fn snippet(bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]);
    s.trim().to_string()
}

/// Percent-encode a query value (RFC 3986 unreserved characters and `/` stay as they are).
pub(crate) fn encode_query(s: &str) -> String {
    encode(s, b"-._~/")
}

/// Percent-encode one path segment (a name may contain `/`, e.g. image aliases).
pub fn encode_segment(s: &str) -> String {
    encode(s, b"-._~")
}

fn encode(s: &str, keep: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || keep.contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_is_added_once() {
        let c = Client::unix("/nonexistent.sock").expect("client");
        let p = c.with_project("p 1").with_target("m1");
        assert_eq!(
            p.url_for("/1.0/instances").1,
            "/1.0/instances?project=p%201&target=m1"
        );
        assert_eq!(
            p.url_for("/1.0/instances?recursion=1&project=other").1,
            "/1.0/instances?recursion=1&project=other&target=m1"
        );
        assert_eq!(c.url_for("/1.0").0, "http://incus/1.0");
    }

    #[test]
    fn segment_encoding() {
        assert_eq!(encode_segment("local/debian12"), "local%2Fdebian12");
        assert_eq!(encode_segment("10.0.0.1"), "10.0.0.1");
        assert_eq!(encode_segment("fd00::1"), "fd00%3A%3A1");
    }

    fn assert_send_sync<T: Send + Sync + Clone>() {}
    #[test]
    fn client_is_send_sync_clone() {
        assert_send_sync::<Client>();
    }
}
