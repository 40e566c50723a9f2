//! `fetch`: copy a remote file to the controller (`dest/<host>/<path>` unless `flat`).

use async_trait::async_trait;
use serde_json::json;

use super::common::fail;
use super::{Ctx, Module, ModuleError, Res};
use crate::util::sha1_hex;

pub struct Fetch;

#[async_trait]
impl Module for Fetch {
    fn name(&self) -> &'static str {
        "fetch"
    }
    fn params(&self) -> &'static [&'static str] {
        &[
            "src",
            "dest",
            "flat",
            "fail_on_missing",
            "validate_checksum",
        ]
    }
    async fn run(&self, ctx: &Ctx<'_>) -> Result<Res, ModuleError> {
        let src = ctx.req_str("src")?;
        let dest = ctx.req_str("dest")?;
        let flat = ctx.bool("flat", false)?;
        let local = if flat {
            if dest.ends_with('/') {
                format!("{dest}{}", src.rsplit('/').next().unwrap_or(""))
            } else {
                dest.clone()
            }
        } else {
            format!(
                "{}/{}/{}",
                dest.trim_end_matches('/'),
                ctx.host,
                src.trim_start_matches('/')
            )
        };
        let mut res = Res::new();
        let Some((data, _)) = ctx.t().read_file(&src).await? else {
            if ctx.bool("fail_on_missing", true)? {
                return Err(fail(format!(
                    "the remote file does not exist, not transferring, ignored: {src}"
                )));
            }
            res.insert("changed".into(), json!(false));
            res.insert(
                "msg".into(),
                json!("the remote file does not exist, not transferring, ignored"),
            );
            return Ok(res);
        };
        let old = std::fs::read(&local).ok();
        let changed = old.as_deref() != Some(&data[..]);
        if changed && !ctx.check {
            if let Some(parent) = std::path::Path::new(&local).parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| fail(format!("{}: {e}", parent.display())))?;
            }
            let tmp = format!("{local}.floetmp");
            std::fs::write(&tmp, &data)
                .and_then(|_| std::fs::rename(&tmp, &local))
                .map_err(|e| fail(format!("{local}: {e}")))?;
        }
        res.insert("changed".into(), json!(changed));
        res.insert("dest".into(), json!(local));
        res.insert("checksum".into(), json!(sha1_hex(&data)));
        res.insert("remote_checksum".into(), json!(sha1_hex(&data)));
        Ok(res)
    }
}
