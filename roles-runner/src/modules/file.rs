//! `file`: directories, symlinks, hard links, touch, absent, and attributes of existing paths.

use async_trait::async_trait;
use serde_json::json;

use super::common::{Attrs, attr_result, fail, resolve_mode};
use super::{Ctx, Module, ModuleError, Res};
use crate::transport::{FileKind, FileStat};
use crate::util::shq;

pub struct File;

fn state_name(st: Option<&FileStat>) -> &'static str {
    match st.map(|s| s.kind) {
        None => "absent",
        Some(FileKind::Dir) => "directory",
        Some(FileKind::Symlink) => "link",
        Some(_) => "file",
    }
}

#[async_trait]
impl Module for File {
    fn name(&self) -> &'static str {
        "file"
    }
    fn params(&self) -> &'static [&'static str] {
        &[
            "path",
            "dest",
            "name",
            "state",
            "src",
            "recurse",
            "force",
            "follow",
            "modification_time",
            "modification_time_format",
            "access_time",
            "access_time_format",
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
        let path = ctx
            .str_any(&["path", "dest", "name"])
            .ok_or_else(|| fail("missing required arguments: path"))?;
        let path = if path.len() > 1 {
            path.trim_end_matches('/').to_string()
        } else {
            path
        };
        let existing = ctx.t().stat(&path).await?;
        let state = ctx.str("state").unwrap_or_else(|| {
            if ctx.get("src").is_some() {
                "link".into()
            } else if existing
                .as_ref()
                .map(|s| s.kind == FileKind::Dir)
                .unwrap_or(false)
            {
                "directory".into()
            } else {
                "file".into()
            }
        });
        let attrs = Attrs::from_ctx(ctx);
        let mut script: Vec<String> = vec![];
        let q = shq(&path);
        let mut res = Res::new();
        let before_state = state_name(existing.as_ref());
        match state.as_str() {
            "absent" => {
                if existing.is_some() {
                    script.push(format!("rm -rf {q}"));
                }
            }
            "directory" => match &existing {
                Some(st) if st.kind == FileKind::Dir => {
                    script.extend(attrs.fix_commands(ctx.conn, &path, st, true).await?);
                    if ctx.bool("recurse", false)? {
                        script.extend(recurse_commands(ctx, &path, &attrs).await?);
                    }
                }
                Some(st) if st.kind == FileKind::Symlink && ctx.bool("follow", true)? => {
                    // A link to a directory is fine (Ansible follows it).
                }
                Some(_) => return Err(fail(format!("{path} already exists as a file"))),
                None => {
                    script.push(format!("mkdir -p {q}"));
                    let fresh = FileStat {
                        kind: FileKind::Dir,
                        mode: 0o755,
                        uid: 0,
                        gid: 0,
                    };
                    // Like Ansible, every directory this creates (not only the last one)
                    // gets the requested mode and owner.
                    let mut created = vec![path.clone()];
                    let mut cur = std::path::Path::new(&path).parent();
                    while let Some(p) = cur.and_then(|p| p.to_str()).filter(|p| p.len() > 1) {
                        if ctx.t().stat(p).await?.is_some() {
                            break;
                        }
                        created.push(p.to_string());
                        cur = std::path::Path::new(p).parent();
                    }
                    for p in created.iter().rev() {
                        script.extend(attrs.fix_commands(ctx.conn, p, &fresh, true).await?);
                    }
                }
            },
            "link" | "hard" => {
                let src = ctx.str("src").ok_or_else(|| {
                    fail(format!("src is required for creating the {state} {path}"))
                })?;
                let force = ctx.bool("force", false)?;
                // readlink, not the file API: that one follows a link whose target exists
                // (so `link -> touched` read as touched's content and never compared equal).
                let current_target = match &existing {
                    Some(st) if st.kind == FileKind::Symlink => {
                        let out = ctx.sh(&format!("readlink {q}")).await?;
                        (out.rc == 0).then(|| {
                            String::from_utf8_lossy(&out.stdout)
                                .trim_end_matches('\n')
                                .to_string()
                        })
                    }
                    _ => None,
                };
                if state == "link" {
                    match (&existing, &current_target) {
                        (Some(_), Some(t)) if *t == src => {
                            if let Some(st) = &existing {
                                script.extend(
                                    attrs
                                        .fix_commands(ctx.conn, &path, st, false)
                                        .await?
                                        .into_iter()
                                        .filter(|c| !c.starts_with("chmod")),
                                );
                            }
                        }
                        (Some(st), None) if st.kind == FileKind::Dir && !force => {
                            return Err(fail(format!(
                                "refusing to convert from directory to symlink for {path}"
                            )));
                        }
                        (Some(st), None) if st.kind != FileKind::Dir && !force => {
                            return Err(fail(format!(
                                "refusing to convert from file to symlink for {path}"
                            )));
                        }
                        _ => {
                            script.push(format!("ln -sfn {} {q}", shq(&src)));
                            let (u, g) = (attrs.uid(ctx.conn).await?, attrs.gid(ctx.conn).await?);
                            if let Some(u) = u {
                                script.push(format!("chown -h {u} {q}"));
                            }
                            if let Some(g) = g {
                                script.push(format!("chgrp -h {g} {q}"));
                            }
                        }
                    }
                } else {
                    let same = ctx.sh(&format!("[ {q} -ef {} ]", shq(&src))).await?.rc == 0;
                    if !same {
                        script.push(format!("ln -f {} {q}", shq(&src)));
                    }
                }
            }
            "touch" => {
                let preserve_m = ctx.str("modification_time").as_deref() == Some("preserve");
                let preserve_a = ctx.str("access_time").as_deref() == Some("preserve");
                match &existing {
                    None => {
                        script.push(format!("touch {q}"));
                        let fresh = FileStat {
                            kind: FileKind::File,
                            mode: 0o644,
                            uid: 0,
                            gid: 0,
                        };
                        script.extend(attrs.fix_commands(ctx.conn, &path, &fresh, true).await?);
                    }
                    Some(st) => {
                        let fix = attrs.fix_commands(ctx.conn, &path, st, true).await?;
                        if !(preserve_m && preserve_a) {
                            let flag = match (preserve_m, preserve_a) {
                                (true, false) => "-a ",
                                (false, true) => "-m ",
                                _ => "",
                            };
                            script.push(format!("touch {flag}{q}"));
                        }
                        script.extend(fix);
                    }
                }
            }
            "file" => match &existing {
                None => return Err(fail(format!("file ({path}) is absent, cannot continue"))),
                Some(st) => {
                    if st.kind == FileKind::Dir && ctx.get("mode").is_some() {
                        // fine: file state on a directory only changes attributes
                    }
                    script.extend(attrs.fix_commands(ctx.conn, &path, st, true).await?);
                }
            },
            other => {
                return Err(fail(format!(
                    "value of state must be one of: absent, directory, file, hard, link, touch, got: {other}"
                )));
            }
        }
        let changed = !script.is_empty();
        if changed && !ctx.check {
            ctx.sh_ok(&script.join(" && ")).await?;
        }
        if ctx.diff && changed {
            res.insert(
                "diff".into(),
                json!({"before": {"path": path, "state": before_state}, "after": {"path": path, "state": if state == "hard" { "hard" } else { state.as_str() }}}),
            );
        }
        res.insert("changed".into(), json!(changed));
        let final_stat = if state == "absent" || (ctx.check && changed) {
            None
        } else if changed {
            ctx.t().stat(&path).await?
        } else {
            existing.clone()
        };
        let ids = ctx.conn.ids().await.ok();
        attr_result(&mut res, &path, final_stat.as_ref(), ids.as_deref());
        res.insert(
            "state".into(),
            json!(if state == "absent" {
                "absent"
            } else {
                state_name(final_stat.as_ref())
            }),
        );
        if state == "link" {
            res.insert("src".into(), json!(ctx.str("src")));
        }
        if ctx.check && changed && state != "absent" {
            res.insert("state".into(), json!(state));
        }
        Ok(res)
    }
}

/// `recurse: yes`: fix owner/group/mode below a directory (only reports change if needed).
async fn recurse_commands(
    ctx: &Ctx<'_>,
    path: &str,
    attrs: &Attrs,
) -> Result<Vec<String>, ModuleError> {
    let mut cond = vec![];
    let mut cmds = vec![];
    let q = shq(path);
    if let Some(u) = attrs.uid(ctx.conn).await? {
        cond.push(format!("! -uid {u}"));
        cmds.push(format!("chown -R {u} {q}"));
    }
    if let Some(g) = attrs.gid(ctx.conn).await? {
        cond.push(format!("! -gid {g}"));
        cmds.push(format!("chgrp -R {g} {q}"));
    }
    if let Some(m) = &attrs.mode {
        match m {
            serde_json::Value::String(s) if !s.chars().all(|c| c.is_ascii_digit()) => {
                cmds.push(format!("chmod -R {} {q}", shq(s)));
                cond.push("-true".into());
            }
            other => {
                let mode = resolve_mode(other, None, false)?;
                cond.push(format!("! -perm {mode:04o}"));
                cmds.push(format!("chmod -R {mode:04o} {q}"));
            }
        }
    }
    if cmds.is_empty() {
        return Ok(vec![]);
    }
    let probe = format!(
        "find {q} -mindepth 1 \\( {} \\) -print -quit",
        cond.join(" -o ")
    );
    let out = ctx.sh(&probe).await?;
    if out.stdout.is_empty() {
        return Ok(vec![]);
    }
    Ok(cmds)
}
