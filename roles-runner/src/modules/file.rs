//! `file`: directories, symlinks, hard links, touch, absent, and attributes of existing paths.

use async_trait::async_trait;
use serde_json::json;

use super::common::{Attrs, attr_result, fail, resolve_mode};
use super::diff::{attr_changes, dir_content_order as walk_order, fresh_stat, path_diff};
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
        // For the diff: the state whose owner/group/mode the task compares (and whether it
        // follows a link), a relinked symlink's old target, and touch's timestamps.
        let mut attr_base: Option<(FileStat, bool)> = None;
        let mut old_link_target: Option<String> = None;
        let mut touch_times = false;
        match state.as_str() {
            "absent" => {
                if existing.is_some() {
                    script.push(format!("rm -rf {q}"));
                }
            }
            "directory" => match &existing {
                Some(st) if st.kind == FileKind::Dir => {
                    attr_base = Some((st.clone(), true));
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
                    let fresh = fresh_stat(FileKind::Dir);
                    attr_base = Some((fresh.clone(), true));
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
                                attr_base = Some((st.clone(), false));
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
                            old_link_target = current_target.clone();
                            attr_base = Some((fresh_stat(FileKind::Symlink), false));
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
                // In diff mode the times before and the time set are printed (Ansible's diff
                // shows them as floats); `touch -d @T` sets exactly the time reported.
                touch_times = ctx.diff && !ctx.check && !(preserve_m && preserve_a);
                let stamp = |flag: &str| {
                    if touch_times {
                        format!(
                            "stat -c '%.9X %.9Y' {q} && t=$(date +%s.%N) && touch {flag}-d @$t {q} && echo $t"
                        )
                    } else {
                        format!("touch {flag}{q}")
                    }
                };
                match &existing {
                    None => {
                        script.push(format!("touch {q}"));
                        if touch_times {
                            script.push(stamp(""));
                        }
                        let fresh = fresh_stat(FileKind::File);
                        attr_base = Some((fresh.clone(), true));
                        script.extend(attrs.fix_commands(ctx.conn, &path, &fresh, true).await?);
                    }
                    Some(st) => {
                        attr_base = Some((st.clone(), true));
                        let fix = attrs.fix_commands(ctx.conn, &path, st, true).await?;
                        if !(preserve_m && preserve_a) {
                            let flag = match (preserve_m, preserve_a) {
                                (true, false) => "-a ",
                                (false, true) => "-m ",
                                _ => "",
                            };
                            script.push(stamp(flag));
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
                    attr_base = Some((st.clone(), true));
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
        // Listed before `rm -rf`: the diff of removing a directory names what was in it.
        let path_content = if ctx.diff && state == "absent" && before_state == "directory" {
            Some(dir_content(ctx, &path).await?)
        } else {
            None
        };
        let mut out = None;
        // The result reports the path's attributes afterwards: the same command reads them.
        let mut stat_after = None;
        if changed && !ctx.check {
            let mut command = script.join(" && ");
            let want_stat = state != "absent";
            if want_stat {
                command.push_str(" && ");
                command.push_str(&FileStat::command(&q));
            }
            let mut o = ctx.sh_ok(&command).await?;
            if want_stat {
                let text = o.stdout_str();
                let body = text.trim_end_matches('\n');
                let (rest, last) = body.rsplit_once('\n').unwrap_or(("", body));
                stat_after = FileStat::parse(last);
                if stat_after.is_some() {
                    o.stdout = if rest.is_empty() {
                        vec![]
                    } else {
                        format!("{rest}\n").into_bytes()
                    };
                }
            }
            out = Some(o);
        }
        if ctx.diff && changed {
            // In check mode Ansible returns before setting the attributes of a path it
            // would create: the diff shows only the state.
            let attr_base = attr_base.filter(|_| !(ctx.check && existing.is_none()));
            let (mut before, mut after) = match &attr_base {
                Some((st, follow)) => attr_changes(&attrs, ctx.conn, st, *follow).await?,
                None => Default::default(),
            };
            if before_state != state {
                before.insert("state".into(), json!(before_state));
                after.insert("state".into(), json!(state));
            }
            if let Some(pc) = path_content {
                before.insert("path_content".into(), pc);
            }
            if let Some(old) = old_link_target {
                before.insert("src".into(), json!(old));
                after.insert("src".into(), json!(ctx.str("src")));
            }
            if touch_times && let Some(o) = &out {
                touch_diff(&o.stdout_str(), &mut before, &mut after, preserve(ctx));
            }
            res.insert("diff".into(), path_diff(&path, before, after));
        }
        res.insert("changed".into(), json!(changed));
        let final_stat = if state == "absent" || (ctx.check && changed) {
            None
        } else if changed {
            match stat_after {
                Some(st) => Some(st),
                None => ctx.t().stat(&path).await?,
            }
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

/// Which timestamps touch keeps: (modification_time, access_time) == "preserve".
fn preserve(ctx: &Ctx<'_>) -> (bool, bool) {
    (
        ctx.str("modification_time").as_deref() == Some("preserve"),
        ctx.str("access_time").as_deref() == Some("preserve"),
    )
}

/// touch's `atime`/`mtime` diff keys from the script's output: the last `stat` line (times
/// before) and the time set (floats, printed like Python's repr).
fn touch_diff(
    stdout: &str,
    before: &mut serde_json::Map<String, serde_json::Value>,
    after: &mut serde_json::Map<String, serde_json::Value>,
    (keep_m, keep_a): (bool, bool),
) {
    let lines: Vec<&str> = stdout.lines().collect();
    let [.., times, set] = lines.as_slice() else {
        return;
    };
    let mut it = times.split_whitespace().map(|t| t.parse::<f64>().ok());
    let (Some(Some(atime)), Some(Some(mtime)), Ok(t)) =
        (it.next(), it.next(), set.trim().parse::<f64>())
    else {
        return;
    };
    if !keep_a && atime != t {
        before.insert("atime".into(), json!(atime));
        after.insert("atime".into(), json!(t));
    }
    if !keep_m && mtime != t {
        before.insert("mtime".into(), json!(mtime));
        after.insert("mtime".into(), json!(t));
    }
}

/// `path_content` of a directory about to be removed: its subdirectories and files in
/// `os.walk` order (see `diff::dir_content_order`).
async fn dir_content(ctx: &Ctx<'_>, path: &str) -> Result<serde_json::Value, ModuleError> {
    let out = ctx
        .sh_ok(&format!(
            "find {} -mindepth 1 -printf '%Y%y %p\\0'",
            shq(path)
        ))
        .await?;
    let text = out.stdout_str();
    let entries: Vec<(bool, bool, String)> = text
        .split('\0')
        .filter_map(|e| {
            let (kind, p) = e.split_once(' ')?;
            let mut k = kind.chars();
            let (followed, own) = (k.next()?, k.next()?);
            Some((followed == 'd', own == 'l', p.to_string()))
        })
        .collect();
    let (dirs, files) = walk_order(path, &entries);
    Ok(json!({"directories": dirs, "files": files}))
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
