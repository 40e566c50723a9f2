//! `get_url`: download to the instance. `file://` URLs are read on the instance (as Ansible
//! does, the module runs there); http(s) is fetched by the controller and pushed.

use async_trait::async_trait;
use serde_json::json;

use super::common::{Attrs, fail};
use super::copy::put_content;
use super::{Ctx, Module, ModuleError, Res};
use crate::util::{sha1_hex, sha256_hex};

pub struct GetUrl;

#[async_trait]
impl Module for GetUrl {
    fn name(&self) -> &'static str {
        "get_url"
    }
    fn params(&self) -> &'static [&'static str] {
        &[
            "url",
            "dest",
            "checksum",
            "force",
            "backup",
            "timeout",
            "headers",
            "url_username",
            "url_password",
            "validate_certs",
            "use_proxy",
            "http_agent",
            "force_basic_auth",
            "client_cert",
            "client_key",
            "tmp_dest",
            "decompress",
            "unredirected_headers",
            "use_gssapi",
            "use_netrc",
            "ciphers",
            "owner",
            "group",
            "mode",
            "seuser",
            "serole",
            "setype",
            "selevel",
            "unsafe_writes",
            "attributes",
        ]
    }
    async fn run(&self, ctx: &Ctx<'_>) -> Result<Res, ModuleError> {
        let url = ctx.req_str("url")?;
        let mut dest = ctx.req_str("dest")?;
        let force = ctx.bool("force", false)?;
        let checksum = ctx.str("checksum");
        if dest.ends_with('/')
            || ctx
                .t()
                .stat(&dest)
                .await?
                .is_some_and(|s| s.kind == crate::transport::FileKind::Dir)
        {
            dest = format!(
                "{}/{}",
                dest.trim_end_matches('/'),
                url.rsplit('/').next().unwrap_or("index.html")
            );
        }
        // An existing file with the right checksum (or any file without force) is kept.
        if let Some((data, _)) = ctx.t().read_file(&dest).await?
            && !force
        {
            let ok = match &checksum {
                Some(c) => verify(c, &data).is_ok(),
                None => true,
            };
            if ok {
                let attrs = Attrs::from_ctx(ctx);
                let mut res = put_content(ctx, &dest, &data, &attrs, true).await?;
                res.insert("msg".into(), json!("file already exists"));
                res.insert("url".into(), json!(url));
                return Ok(res);
            }
        }
        let data = if let Some(path) = url.strip_prefix("file://") {
            ctx.t()
                .read_file(path)
                .await?
                .map(|(d, _)| d)
                .ok_or_else(|| fail(format!("Request failed: file not found: {path}")))?
        } else if url.starts_with("http://") || url.starts_with("https://") {
            let timeout = std::time::Duration::from_secs(ctx.int("timeout")?.unwrap_or(10) as u64);
            let client = reqwest::Client::builder()
                .timeout(timeout)
                .build()
                .map_err(|e| fail(e.to_string()))?;
            let resp = client
                .get(&url)
                .send()
                .await
                .map_err(|e| fail(format!("Request failed: {e}")))?;
            if !resp.status().is_success() {
                return Err(fail(format!(
                    "Request failed: HTTP Error {}",
                    resp.status()
                )));
            }
            resp.bytes()
                .await
                .map_err(|e| fail(e.to_string()))?
                .to_vec()
        } else {
            return Err(fail(format!("unsupported URL scheme: {url}")));
        };
        if let Some(c) = &checksum {
            verify(c, &data)?;
        }
        let attrs = Attrs::from_ctx(ctx);
        let mut res = put_content(ctx, &dest, &data, &attrs, true).await?;
        res.insert("url".into(), json!(url));
        res.insert("status_code".into(), json!(200));
        res.insert("msg".into(), json!("OK"));
        Ok(res)
    }
}

fn verify(spec: &str, data: &[u8]) -> Result<(), ModuleError> {
    let (algo, want) = spec
        .split_once(':')
        .ok_or_else(|| fail("The checksum parameter has to be in format <algorithm>:<checksum>"))?;
    let got = match algo {
        "sha256" => sha256_hex(data),
        "sha1" => sha1_hex(data),
        other => return Err(fail(format!("unsupported checksum algorithm {other}"))),
    };
    if !got.eq_ignore_ascii_case(want.trim()) {
        return Err(fail(format!(
            "The checksum for the downloaded file did not match; expected: {want} got: {got}"
        )));
    }
    Ok(())
}
