//! Files inside instances (`/1.0/instances/NAME/files?path=...`).
//!
//! Gotchas of the daemon, handled or documented here:
//! - `X-Incus-mode` is parsed with Go's `ParseInt(s, 0, 0)`: `"644"` would be *decimal*. We
//!   always send octal with a leading zero (`"0644"`).
//! - **Owner and mode are applied only when the file is created.** Overwriting an existing file
//!   keeps its old uid/gid/mode; callers that manage permissions must fix them afterwards
//!   (e.g. `exec chmod/chown`) after comparing with [`Client::stat_file`].
//! - A directory created without a mode gets 0755.
//! - Recursive delete (`X-Incus-force`) needs the `file_delete_force` extension (absent on 6.0).

use bytes::Bytes;
use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::api::instance;
use crate::client::{Body, Client, encode_query};
use crate::error::{Error, Result};

/// `X-Incus-type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FileType {
    #[default]
    File,
    Directory,
    Symlink,
}

impl FileType {
    fn as_str(self) -> &'static str {
        match self {
            FileType::File => "file",
            FileType::Directory => "directory",
            FileType::Symlink => "symlink",
        }
    }
}

/// Metadata from the `X-Incus-*` response headers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FileMeta {
    pub uid: u32,
    pub gid: u32,
    /// Permission bits (e.g. `0o644`).
    pub mode: u32,
    pub file_type: FileType,
    /// `X-Incus-modified` as sent (e.g. `2026-11-23 01:11:25 +0000 UTC`), if present.
    pub modified: Option<String>,
}

/// A pulled file: raw content (for a symlink, its target; for a directory, the JSON listing —
/// use [`Client::list_dir`] instead) and metadata.
#[derive(Debug, Clone)]
pub struct PulledFile {
    pub content: Bytes,
    pub meta: FileMeta,
}

/// What to write with [`Client::push_file`].
#[derive(Debug, Clone, Default)]
pub struct FilePush {
    /// File content, or the target path for a symlink; ignored for a directory.
    pub content: Vec<u8>,
    pub file_type: FileType,
    /// Only applied when the path is created (see the module docs).
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    /// Permission bits, e.g. `0o644`. Only applied on creation.
    pub mode: Option<u32>,
    /// Append instead of overwrite (extension `file_append`).
    pub append: bool,
}

impl FilePush {
    pub fn file(content: impl Into<Vec<u8>>) -> FilePush {
        FilePush {
            content: content.into(),
            ..Default::default()
        }
    }

    pub fn directory() -> FilePush {
        FilePush {
            file_type: FileType::Directory,
            ..Default::default()
        }
    }

    pub fn symlink(target: impl Into<String>) -> FilePush {
        FilePush {
            content: target.into().into_bytes(),
            file_type: FileType::Symlink,
            ..Default::default()
        }
    }

    pub fn mode(mut self, mode: u32) -> Self {
        self.mode = Some(mode);
        self
    }

    pub fn owner(mut self, uid: u32, gid: u32) -> Self {
        self.uid = Some(uid);
        self.gid = Some(gid);
        self
    }

    pub fn append(mut self) -> Self {
        self.append = true;
        self
    }
}

/// Octal with a leading 0, the only form the daemon reads as octal.
pub(crate) fn mode_header(mode: u32) -> String {
    format!("0{:o}", mode & 0o7777)
}

fn files_path(instance: &str, path: &str) -> String {
    format!(
        "{}/files?path={}",
        instance::path(instance),
        encode_query(path)
    )
}

fn header(name: &'static str, value: &str) -> Result<(HeaderName, HeaderValue)> {
    Ok((
        HeaderName::from_static(name),
        HeaderValue::from_str(value)
            .map_err(|_| Error::InvalidInput(format!("bad header value {value:?}")))?,
    ))
}

fn parse_meta(headers: &HeaderMap) -> FileMeta {
    let get = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let num = |n: &str| {
        get(n)
            .and_then(|v| v.trim().parse::<u32>().ok())
            .unwrap_or(0)
    };
    FileMeta {
        uid: num("x-incus-uid"),
        gid: num("x-incus-gid"),
        mode: get("x-incus-mode")
            .and_then(|m| u32::from_str_radix(m.trim(), 8).ok())
            .unwrap_or(0),
        file_type: match get("x-incus-type").as_deref() {
            Some("directory") => FileType::Directory,
            Some("symlink") => FileType::Symlink,
            _ => FileType::File,
        },
        modified: get("x-incus-modified"),
    }
}

impl Client {
    /// Create or replace a file, directory or symlink. Owner/mode only apply on creation.
    /// A missing parent directory is `Error::NotFound` with a hint.
    pub async fn push_file(&self, instance: &str, path: &str, file: &FilePush) -> Result<()> {
        let mut headers = HeaderMap::new();
        let mut set = |name: &'static str, value: String| -> Result<()> {
            let (n, v) = header(name, &value)?;
            headers.insert(n, v);
            Ok(())
        };
        set("x-incus-type", file.file_type.as_str().to_string())?;
        if let Some(uid) = file.uid {
            set("x-incus-uid", uid.to_string())?;
        }
        if let Some(gid) = file.gid {
            set("x-incus-gid", gid.to_string())?;
        }
        if let Some(mode) = file.mode {
            set("x-incus-mode", mode_header(mode))?;
        }
        set(
            "x-incus-write",
            if file.append { "append" } else { "overwrite" }.to_string(),
        )?;
        let body = match file.file_type {
            FileType::Directory => Vec::new(),
            _ => file.content.clone(),
        };
        let (resp, call) = self
            .http(
                Method::POST,
                &files_path(instance, path),
                Body::Bytes(body),
                headers,
                self.request_timeout,
            )
            .await?;
        self.envelope(resp, &call)
            .await
            .map(|_| ())
            .map_err(|e| hint_missing_parent(e, path))
    }

    /// Create a directory (mode defaults to 0755 on the daemon side).
    pub async fn mkdir(
        &self,
        instance: &str,
        path: &str,
        mode: Option<u32>,
        owner: Option<(u32, u32)>,
    ) -> Result<()> {
        let mut push = FilePush::directory();
        push.mode = mode;
        if let Some((uid, gid)) = owner {
            push = push.owner(uid, gid);
        }
        self.push_file(instance, path, &push).await
    }

    /// Read a file: content and metadata.
    pub async fn pull_file(&self, instance: &str, path: &str) -> Result<PulledFile> {
        let (resp, call) = self
            .http(
                Method::GET,
                &files_path(instance, path),
                Body::None,
                HeaderMap::new(),
                self.request_timeout,
            )
            .await?;
        if !resp.status().is_success() {
            self.envelope(resp, &call).await?;
            return Err(call.decode("error status without error"));
        }
        let meta = parse_meta(resp.headers());
        let content = resp
            .bytes()
            .await
            .map_err(|e| self.transport_err(&call, &e))?;
        Ok(PulledFile { content, meta })
    }

    /// Metadata of a path, `None` if it does not exist (a missing *instance* is still an error).
    pub async fn stat_file(&self, instance: &str, path: &str) -> Result<Option<FileMeta>> {
        let (resp, call) = self
            .http(
                Method::HEAD,
                &files_path(instance, path),
                Body::None,
                HeaderMap::new(),
                self.request_timeout,
            )
            .await?;
        let status = resp.status().as_u16();
        if resp.status().is_success() {
            return Ok(Some(parse_meta(resp.headers())));
        }
        if status != 404 {
            return Err(call.err(status, format!("HEAD answered HTTP {status}")));
        }
        // HEAD carries no error text; a GET tells a missing file from a missing instance.
        match self.pull_file(instance, path).await {
            Err(e) if e.daemon_message() == Some("Not Found") => Ok(None),
            Err(e) => Err(e),
            Ok(f) => Ok(Some(f.meta)),
        }
    }

    /// Entry names of a directory.
    pub async fn list_dir(&self, instance: &str, path: &str) -> Result<Vec<String>> {
        let call = self.call_for(&Method::GET, &files_path(instance, path));
        let pulled = self.pull_file(instance, path).await?;
        if pulled.meta.file_type != FileType::Directory {
            return Err(Error::InvalidInput(format!(
                "{}: {path} is not a directory",
                call.path
            )));
        }
        // A directory comes back as the standard envelope with a list of names.
        let env: serde_json::Value =
            serde_json::from_slice(&pulled.content).map_err(|e| call.decode(e))?;
        serde_json::from_value(env.get("metadata").cloned().unwrap_or_default())
            .map_err(|e| call.decode(e))
    }

    /// Delete a file, a symlink or an empty directory.
    pub async fn delete_file(&self, instance: &str, path: &str) -> Result<()> {
        let (resp, call) = self
            .http(
                Method::DELETE,
                &files_path(instance, path),
                Body::None,
                HeaderMap::new(),
                self.request_timeout,
            )
            .await?;
        self.envelope(resp, &call).await.map(|_| ())
    }
}

fn hint_missing_parent(e: Error, path: &str) -> Error {
    if e.is_not_found() && e.daemon_message() == Some("Not Found") {
        let parent = std::path::Path::new(path)
            .parent()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "/".into());
        return e.with_hint(&format!(
            "parent directory {parent} does not exist in the instance"
        ));
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_always_have_a_leading_zero() {
        assert_eq!(mode_header(0o644), "0644");
        assert_eq!(mode_header(0o4755), "04755");
        assert_eq!(mode_header(0o0), "00");
        assert_eq!(mode_header(0o100644), "0644");
    }

    #[test]
    fn metadata_from_headers() {
        let mut h = HeaderMap::new();
        h.insert("x-incus-uid", HeaderValue::from_static("1000"));
        h.insert("x-incus-gid", HeaderValue::from_static("100"));
        h.insert("x-incus-mode", HeaderValue::from_static("0640"));
        h.insert("x-incus-type", HeaderValue::from_static("directory"));
        let m = parse_meta(&h);
        assert_eq!(
            (m.uid, m.gid, m.mode, m.file_type),
            (1000, 100, 0o640, FileType::Directory)
        );
    }
}
