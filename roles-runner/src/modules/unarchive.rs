//! `unarchive`: unpack a tar/zip archive (from the controller, or `remote_src`) in the instance.
//! Idempotence through `creates`, or by comparing the archive's listing with what exists.

use async_trait::async_trait;
use serde_json::json;

use super::common::{Attrs, fail};
use super::{Ctx, Module, ModuleError, Res};
use crate::util::shq;

pub struct Unarchive;

#[async_trait]
impl Module for Unarchive {
    fn name(&self) -> &'static str {
        "unarchive"
    }
    fn params(&self) -> &'static [&'static str] {
        &[
            "src",
            "dest",
            "remote_src",
            "copy",
            "creates",
            "list_files",
            "exclude",
            "include",
            "keep_newer",
            "extra_opts",
            "validate_certs",
            "decrypt",
            "io_buffer_size",
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
        let src = ctx.req_str("src")?;
        let dest = ctx.req_str("dest")?;
        let mut res = Res::new();
        res.insert("dest".into(), json!(dest));
        if let Some(c) = ctx.str("creates")
            && ctx.t().stat(&c).await?.is_some()
        {
            // Ansible's unarchive action reports this as skipped, not ok.
            res.insert("changed".into(), json!(false));
            res.insert("skipped".into(), json!(true));
            res.insert("msg".into(), json!(format!("skipped, since {c} exists")));
            return Ok(res);
        }
        if ctx.t().stat(&dest).await?.is_none() {
            return Err(fail(format!("dest '{dest}' must be an existing dir")));
        }
        let remote = ctx.bool("remote_src", false)? || !ctx.bool("copy", true)?;
        let (path, tmp) = if remote {
            (src.clone(), None)
        } else {
            let local = ctx
                .paths
                .find("files", &src)
                .ok_or_else(|| fail(format!("Could not find or access '{src}'")))?;
            let data =
                std::fs::read(&local).map_err(|e| fail(format!("{}: {e}", local.display())))?;
            let ext = if src.ends_with(".zip") {
                ".zip"
            } else {
                ".tar"
            };
            let tmp = format!(
                "/tmp/.floe-{}{ext}",
                &uuid::Uuid::new_v4().simple().to_string()[..12]
            );
            ctx.t().create_file(&tmp, &data, 0, 0, 0o600).await?;
            (tmp.clone(), Some(tmp))
        };
        let q = shq(&path);
        let d = shq(&dest);
        let is_zip = src.ends_with(".zip");
        // Changed when any listed entry is missing under dest.
        let probe = if is_zip {
            format!(
                "cd {d} && unzip -Z1 {q} | while IFS= read -r f; do [ -e \"$f\" ] || {{ echo missing; break; }}; done"
            )
        } else {
            format!(
                "cd {d} && tar -tf {q} | while IFS= read -r f; do [ -e \"$f\" ] || [ -L \"$f\" ] || {{ echo missing; break; }}; done"
            )
        };
        let out = ctx.sh(&probe).await?;
        let changed = out.stdout_str().contains("missing");
        if changed && !ctx.check {
            let cmd = if is_zip {
                format!("unzip -o {q} -d {d}")
            } else {
                format!("tar -xf {q} -C {d}")
            };
            let r = ctx.sh(&cmd).await?;
            if r.rc != 0 {
                if let Some(t) = &tmp {
                    let _ = ctx.sh(&format!("rm -f {}", shq(t))).await;
                }
                return Err(fail(format!(
                    "Failed to unpack {src} into {dest}: {}",
                    r.stderr_str().trim()
                )));
            }
            let attrs = Attrs::from_ctx(ctx);
            let mut fix = vec![];
            if let Some(u) = attrs.uid(ctx.conn).await? {
                fix.push(format!("chown -R {u} {d}"));
            }
            if let Some(g) = attrs.gid(ctx.conn).await? {
                fix.push(format!("chgrp -R {g} {d}"));
            }
            if !fix.is_empty() {
                ctx.sh_ok(&fix.join(" && ")).await?;
            }
        }
        if let Some(t) = &tmp {
            ctx.sh(&format!("rm -f {}", shq(t))).await?;
        }
        res.insert("changed".into(), json!(changed));
        res.insert("src".into(), json!(src));
        Ok(res)
    }
}
