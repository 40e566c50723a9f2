//! `copy`: put `content` or a controller file (`src`) at `dest`, atomically, with owner/mode.

use async_trait::async_trait;
use serde_json::json;

use super::common::{Attrs, attr_result, fail, write_atomic};
use super::diff::{attr_changes, content_diff, path_diff};
use super::{Ctx, Module, ModuleError, Res};
use crate::transport::{FileKind, FileStat, NewFile};
use crate::util::{sha1_hex, shq};

pub struct Copy;

#[async_trait]
impl Module for Copy {
    fn name(&self) -> &'static str {
        "copy"
    }
    fn params(&self) -> &'static [&'static str] {
        &[
            "src",
            "content",
            "dest",
            "backup",
            "force",
            "validate",
            "remote_src",
            "directory_mode",
            "follow",
            "local_follow",
            "checksum",
            "decrypt",
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
        let dest = ctx.req_str("dest")?;
        let (data, src_name) = if let Some(c) = ctx.get("content") {
            let text = match c {
                serde_json::Value::String(s) => s.clone(),
                other => crate::template::filters_py_json(other),
            };
            (text.into_bytes(), None)
        } else if let Some(src) = ctx.str("src") {
            if ctx.bool("remote_src", false)? {
                let Some((data, _)) = ctx.t().read_file(&src).await? else {
                    return Err(fail(format!("Source {src} not found")));
                };
                (data, Some(src))
            } else {
                let path = ctx.paths.find("files", &src).ok_or_else(|| {
                    fail(format!(
                        "Could not find or access '{src}'\nSearched in:\n\t{}",
                        ctx.paths
                            .role_path
                            .as_ref()
                            .map(|r| r.join("files").join(&src).display().to_string())
                            .unwrap_or_default()
                    ))
                })?;
                if path.is_dir() {
                    return copy_tree(ctx, &path, &src, &dest).await;
                }
                let data =
                    std::fs::read(&path).map_err(|e| fail(format!("{}: {e}", path.display())))?;
                (data, Some(path.display().to_string()))
            }
        } else {
            return Err(fail("src (or content) is required"));
        };
        let mut dest = dest;
        let prefetched;
        if dest.ends_with('/') {
            let base = src_name
                .as_deref()
                .and_then(|s| s.rsplit('/').next())
                .ok_or_else(|| fail("can not use content with a dir as dest"))?;
            // Like Ansible: a trailing slash creates the missing directories.
            if ctx.t().stat(dest.trim_end_matches('/')).await?.is_none() {
                if ctx.check {
                    let mut res = Res::new();
                    res.insert("changed".into(), json!(true));
                    res.insert(
                        "msg".into(),
                        json!(format!("dest directory {dest} would be created")),
                    );
                    return Ok(res);
                }
                let mode = match ctx.get("directory_mode") {
                    Some(m) => format!(" -m {:04o}", super::common::resolve_mode(m, None, true)?),
                    None => String::new(),
                };
                ctx.sh_ok(&format!(
                    "mkdir -p{mode} {}",
                    shq(dest.trim_end_matches('/'))
                ))
                .await?;
            }
            dest = format!("{dest}{base}");
            prefetched = None;
        } else {
            // One read tells both whether dest is a directory and what it holds now.
            let current = ctx.t().read_file(&dest).await?;
            if current
                .as_ref()
                .is_some_and(|(_, st)| st.kind == FileKind::Dir)
            {
                let base = src_name
                    .as_deref()
                    .and_then(|s| s.rsplit('/').next())
                    .ok_or_else(|| fail("can not use content with a dir as dest"))?;
                dest = format!("{}/{base}", dest.trim_end_matches('/'));
                prefetched = None;
            } else {
                prefetched = Some(current);
            }
        }
        let attrs = Attrs::from_ctx(ctx);
        // Ansible's diff names the controller file for `src`, the destination for `content`.
        // (absolute, as Ansible's `source_full`).
        let source = match &src_name {
            Some(s) => std::path::absolute(s)
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| s.clone()),
            None => dest.clone(),
        };
        let existing = match prefetched {
            Some(current) => current,
            None => ctx.t().read_file(&dest).await?,
        };
        let force = ctx.bool("force", true)?;
        let mut res = put_content_over(ctx, &dest, &data, &attrs, force, &source, existing).await?;
        if ctx.bool("remote_src", false)? {
            // Ansible's remote copy module returns no diff.
            res.remove("diff");
        }
        if let Some(s) = src_name {
            res.insert("src".into(), json!(s));
        }
        Ok(res)
    }
}

/// Make `dest` hold `data` with `attrs` (get_url: like Ansible's, it returns no diff).
pub async fn put_content(
    ctx: &Ctx<'_>,
    dest: &str,
    data: &[u8],
    attrs: &Attrs,
    force: bool,
) -> Result<Res, ModuleError> {
    let mut res = put_content_from(ctx, dest, data, attrs, force, dest).await?;
    res.remove("diff");
    Ok(res)
}

/// Shared by copy and template: make `dest` hold `data` with `attrs`. Returns the result.
/// `source` is what the diff names as the new content (`+++ after: SOURCE`), see
/// `diff::content_diff`.
pub async fn put_content_from(
    ctx: &Ctx<'_>,
    dest: &str,
    data: &[u8],
    attrs: &Attrs,
    force: bool,
    source: &str,
) -> Result<Res, ModuleError> {
    let existing = ctx.t().read_file(dest).await?;
    put_content_over(ctx, dest, data, attrs, force, source, existing).await
}

/// [`put_content_from`] when dest has been read already (`existing`: its content and lstat).
async fn put_content_over(
    ctx: &Ctx<'_>,
    dest: &str,
    data: &[u8],
    attrs: &Attrs,
    force: bool,
    source: &str,
    existing: Option<(Vec<u8>, FileStat)>,
) -> Result<Res, ModuleError> {
    let mut res = Res::new();
    let checksum = sha1_hex(data);
    let mut changed = false;
    let mut final_stat = None;
    let mut written = None;
    match &existing {
        Some((_, st)) if st.kind == FileKind::Dir => {
            return Err(fail(format!("dest {dest} is a directory")));
        }
        Some((old, st)) if old == data || !force => {
            // Same content: only attributes may need fixing.
            let cmds = attrs.fix_commands(ctx.conn, dest, st, true).await?;
            if !cmds.is_empty() {
                changed = true;
                if !ctx.check {
                    ctx.sh_ok(&cmds.join(" && ")).await?;
                }
            }
            if ctx.diff && !cmds.is_empty() {
                // Ansible runs the file module here: its dict diff of the attributes.
                let (b, a) = attr_changes(attrs, ctx.conn, st, true).await?;
                res.insert("diff".into(), path_diff(dest, b, a));
            }
        }
        _ => {
            changed = true;
            if ctx.diff {
                let old = existing.as_ref().map(|(d, _)| d.as_slice());
                res.insert(
                    "diff".into(),
                    json!([content_diff(dest, old, data, source)]),
                );
            }
            if !ctx.check {
                if ctx.bool("backup", false)? && existing.is_some() {
                    let backup = backup_name(dest);
                    ctx.sh_ok(&format!("cp -p {} {}", shq(dest), shq(&backup)))
                        .await?;
                    res.insert("backup_file".into(), json!(backup));
                }
                if let Some(v) = ctx.str("validate") {
                    validate_content(ctx, dest, data, &v).await?;
                }
                written = Some(
                    write_atomic(ctx, dest, data, attrs, existing.as_ref().map(|(_, s)| s)).await?,
                );
            }
        }
    }
    if !ctx.check || existing.is_some() {
        final_stat = match written {
            Some(st) => Some(st),
            None if changed && !ctx.check => ctx.t().stat(dest).await?,
            None => existing.as_ref().map(|(_, s)| s.clone()),
        };
    }
    res.insert("changed".into(), json!(changed));
    res.insert("dest".into(), json!(dest));
    res.insert("checksum".into(), json!(checksum));
    res.insert("size".into(), json!(data.len()));
    let ids = ctx.conn.ids().await.ok();
    attr_result(&mut res, dest, final_stat.as_ref(), ids.as_deref());
    res.remove("path");
    Ok(res)
}

/// Run `validate` (with `%s` = a temporary copy) before replacing the file.
async fn validate_content(
    ctx: &Ctx<'_>,
    dest: &str,
    data: &[u8],
    validate: &str,
) -> Result<(), ModuleError> {
    if !validate.contains("%s") {
        return Err(fail(format!("validate must contain %s: {validate}")));
    }
    let id = uuid::Uuid::new_v4().simple().to_string();
    let tmp = format!("/tmp/.floe-validate-{}", &id[..12]);
    ctx.t().create_file(&tmp, NewFile::private(data)).await?;
    let cmd = validate.replace("%s", &shq(&tmp));
    let out = ctx
        .sh(&format!("{cmd}; rc=$?; rm -f {}; exit $rc", shq(&tmp)))
        .await?;
    if out.rc != 0 {
        let mut extra = Res::new();
        extra.insert("exit_status".into(), json!(out.rc));
        extra.insert("stdout".into(), json!(out.stdout_str()));
        extra.insert("stderr".into(), json!(out.stderr_str()));
        return Err(ModuleError::Failed {
            msg: format!("failed to validate {dest}"),
            extra,
        });
    }
    Ok(())
}

/// `file.1234.2026-11-23@01:02:03~` like Ansible's backup_local.
pub fn backup_name(dest: &str) -> String {
    let t = super::command::fmt_time(std::time::SystemTime::now());
    let stamp = t.split('.').next().unwrap_or("").replace(' ', "@");
    format!("{dest}.{}.{stamp}~", std::process::id())
}

/// Recursive `src` directory: `tree/` copies the contents, `tree` the directory itself.
async fn copy_tree(
    ctx: &Ctx<'_>,
    local: &std::path::Path,
    src: &str,
    dest: &str,
) -> Result<Res, ModuleError> {
    let base = if src.ends_with('/') {
        dest.trim_end_matches('/').to_string()
    } else {
        let name = local.file_name().and_then(|n| n.to_str()).unwrap_or("dir");
        format!("{}/{name}", dest.trim_end_matches('/'))
    };
    let mut dirs = vec![base.clone()];
    let mut files = vec![];
    let mut stack = vec![(local.to_path_buf(), base.clone())];
    while let Some((l, r)) = stack.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&l)
            .map_err(|e| fail(format!("{}: {e}", l.display())))?
            .flatten()
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let name = e.file_name().to_string_lossy().into_owned();
            let rp = format!("{r}/{name}");
            if e.path().is_dir() {
                dirs.push(rp.clone());
                stack.push((e.path(), rp));
            } else {
                files.push((e.path(), rp));
            }
        }
    }
    let mut changed = false;
    let mut missing = vec![];
    for d in &dirs {
        if ctx.t().stat(d).await?.is_none() {
            missing.push(shq(d));
        }
    }
    if !missing.is_empty() {
        changed = true;
        if !ctx.check {
            let mode = match ctx.get("directory_mode") {
                Some(m) => format!(" -m {:04o}", super::common::resolve_mode(m, None, true)?),
                None => String::new(),
            };
            ctx.sh_ok(&format!("mkdir -p{mode} {}", missing.join(" ")))
                .await?;
        }
    }
    let attrs = Attrs::from_ctx(ctx);
    for (l, r) in files {
        let data = std::fs::read(&l).map_err(|e| fail(format!("{}: {e}", l.display())))?;
        if ctx.check && ctx.t().stat(&r).await?.is_none() {
            changed = true;
            continue;
        }
        let res = put_content(ctx, &r, &data, &attrs, ctx.bool("force", true)?).await?;
        if res
            .get("changed")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false)
        {
            changed = true;
        }
    }
    let mut res = Res::new();
    res.insert("changed".into(), json!(changed));
    res.insert("dest".into(), json!(dest));
    res.insert("src".into(), json!(local.display().to_string()));
    Ok(res)
}
