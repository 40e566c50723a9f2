//! `unarchive`: unpack a tar/zip archive (from the controller, or `remote_src`) in the instance.
//! Idempotence through `creates`, or by comparing the archive's listing with what exists.

use async_trait::async_trait;
use serde_json::json;

use super::common::{Attrs, fail, resolve_mode};
use super::{Ctx, Module, ModuleError, Res};
use crate::transport::NewFile;
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
            ctx.t().create_file(&tmp, NewFile::private(&data)).await?;
            (tmp.clone(), Some(tmp))
        };
        let is_zip = src.ends_with(".zip");
        let opts = ctx.list("extra_opts");
        let (excludes, includes) = (ctx.list("exclude"), ctx.list("include"));
        if !excludes.is_empty() && !includes.is_empty() {
            return Err(fail("parameters are mutually exclusive: exclude|include"));
        }
        let tar = TarArgs {
            archive: &path,
            dest: &dest,
            opts: &opts,
            excludes: &excludes,
            includes: &includes,
            keep_newer: ctx.bool("keep_newer", false)?,
        };
        let attrs = Attrs::from_ctx(ctx);
        let result = async {
            let changed = if is_zip {
                zip_missing(ctx, &tar).await?
            } else {
                !tar_unarchived(ctx, &tar, &attrs).await?
            };
            if changed && !ctx.check {
                let cmd = if is_zip {
                    tar.unzip_command()
                } else {
                    tar.command("--extract", &attrs)
                };
                let r = ctx.sh(&cmd).await?;
                if r.rc != 0 {
                    return Err(fail(format!(
                        "Failed to unpack {src} into {dest}: {}",
                        r.stderr_str().trim()
                    )));
                }
            }
            // Owner/group/mode go on every member of the archive (not on the rest of dest).
            let mut attr_changed = false;
            let want_files = ctx.bool("list_files", false)?;
            let mut files = vec![];
            if (attrs.owner.is_some()
                || attrs.group.is_some()
                || attrs.mode.is_some()
                || want_files)
                && !(ctx.check && changed)
            {
                files = list_members(ctx, &tar, is_zip).await?;
                attr_changed = fix_member_attrs(ctx, &dest, &files, &attrs).await?;
            }
            Ok::<_, ModuleError>((changed || attr_changed, files))
        }
        .await;
        if let Some(t) = &tmp {
            ctx.sh(&format!("rm -f {}", shq(t))).await?;
        }
        let (changed, files) = result?;
        if ctx.bool("list_files", false)? {
            res.insert("files".into(), json!(files));
        }
        res.insert("changed".into(), json!(changed));
        res.insert("src".into(), json!(src));
        Ok(res)
    }
}

/// The parts of a tar command line Ansible's TgzArchive builds: `-C dest`, then
/// `--show-transformed-names` + `extra_opts` (so `--strip-components=1` and `--transform`
/// also apply to listings and `--diff`), `--exclude=PATTERN`s, `-f archive`, then the
/// `include` members. GNU tar detects the compression itself.
struct TarArgs<'a> {
    archive: &'a str,
    dest: &'a str,
    opts: &'a [String],
    excludes: &'a [String],
    includes: &'a [String],
    keep_newer: bool,
}

impl TarArgs<'_> {
    fn command(&self, op: &str, attrs: &Attrs) -> String {
        let mut v: Vec<String> = vec!["tar".into(), op.into(), "-C".into(), self.dest.into()];
        if !self.opts.is_empty() {
            v.push("--show-transformed-names".into());
            v.extend(self.opts.iter().cloned());
        }
        if op != "--list" {
            if let Some(o) = &attrs.owner {
                v.push(format!("--owner={o}"));
            }
            if let Some(g) = &attrs.group {
                v.push(format!("--group={g}"));
            }
            if self.keep_newer {
                v.push("--keep-newer-files".into());
            }
        }
        v.extend(self.excludes.iter().map(|e| format!("--exclude={e}")));
        v.push("-f".into());
        v.push(self.archive.into());
        v.extend(self.includes.iter().cloned());
        v.iter().map(|a| shq(a)).collect::<Vec<_>>().join(" ")
    }

    /// `unzip -o ARCHIVE [extra_opts] [include...] -x [exclude...] -d DEST`.
    fn unzip_command(&self) -> String {
        let mut v: Vec<String> = vec!["unzip".into(), "-o".into(), self.archive.into()];
        v.extend(self.opts.iter().cloned());
        v.extend(self.includes.iter().cloned());
        if !self.excludes.is_empty() {
            v.push("-x".into());
            v.extend(self.excludes.iter().cloned());
        }
        v.push("-d".into());
        v.push(self.dest.into());
        v.iter().map(|a| shq(a)).collect::<Vec<_>>().join(" ")
    }
}

/// Lines of `tar --diff` that mean "not unarchived" (Ansible's `is_unarchived`): missing
/// files, content/size/symlink/mtime differences, and owner/group/mode differences unless
/// the task sets those itself (they are fixed afterwards either way).
fn tar_diff_means_change(line: &str, attrs: &Attrs) -> bool {
    if line.ends_with(": : Warning: Cannot stat: No such file or directory") {
        // An empty name (from --strip-components): not a real member.
        return false;
    }
    (attrs.owner.is_none() && line.ends_with(": Uid differs"))
        || (attrs.group.is_none() && line.ends_with(": Gid differs"))
        || (attrs.mode.is_none() && line.ends_with(": Mode differs"))
        || [
            ": Mod time differs",
            ": Warning: Cannot stat: No such file or directory",
            ": Symlink differs",
            ": Contents differ",
            ": Size differs",
        ]
        .iter()
        .any(|end| line.ends_with(end))
        || line.contains(": Invalid owner")
        || line.contains(": Invalid group")
}

/// `tar --diff` against dest, read as Ansible does (C locale).
async fn tar_unarchived(
    ctx: &Ctx<'_>,
    tar: &TarArgs<'_>,
    attrs: &Attrs,
) -> Result<bool, ModuleError> {
    let out = ctx
        .sh(&format!("LC_ALL=C LANG=C {}", tar.command("--diff", attrs)))
        .await?;
    let text = format!("{}\n{}", out.stdout_str(), out.stderr_str());
    Ok(!text.lines().any(|l| tar_diff_means_change(l, attrs)))
}

/// zip: changed when a member is missing under dest.
async fn zip_missing(ctx: &Ctx<'_>, tar: &TarArgs<'_>) -> Result<bool, ModuleError> {
    let out = ctx
        .sh(&format!(
            "cd {} && unzip -Z1 {} | while IFS= read -r f; do [ -e \"$f\" ] || {{ echo missing; break; }}; done",
            shq(tar.dest),
            shq(tar.archive)
        ))
        .await?;
    Ok(out.stdout_str().contains("missing"))
}

/// The archive's members as extracted (transformed names), relative to dest.
async fn list_members(
    ctx: &Ctx<'_>,
    tar: &TarArgs<'_>,
    is_zip: bool,
) -> Result<Vec<String>, ModuleError> {
    let cmd = if is_zip {
        format!("unzip -Z1 {}", shq(tar.archive))
    } else {
        tar.command("--list", &Attrs::default())
    };
    let out = ctx.sh_ok(&cmd).await?;
    Ok(out
        .stdout_str()
        .lines()
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect())
}

/// Set owner/group/mode on the members that differ; true when something changed (in check
/// mode: would change).
async fn fix_member_attrs(
    ctx: &Ctx<'_>,
    dest: &str,
    files: &[String],
    attrs: &Attrs,
) -> Result<bool, ModuleError> {
    if files.is_empty() || (attrs.owner.is_none() && attrs.group.is_none() && attrs.mode.is_none())
    {
        return Ok(false);
    }
    let (uid, gid) = (attrs.uid(ctx.conn).await?, attrs.gid(ctx.conn).await?);
    let list: String = files.iter().map(|f| format!("{f}\n")).collect();
    // One stat for all members: "uid gid octal-permissions hex-raw-mode path".
    let id = uuid::Uuid::new_v4().simple().to_string();
    let tmp = format!("/tmp/.floe-members-{}", &id[..12]);
    ctx.t()
        .create_file(&tmp, NewFile::private(list.as_bytes()))
        .await?;
    let out = ctx
        .sh(&format!(
            "cd {} && xargs -d '\\n' stat -c '%u %g %a %f %n' -- < {t}; rc=$?; rm -f {t}; exit $rc",
            shq(dest),
            t = shq(&tmp)
        ))
        .await?;
    let mut cmds = vec![];
    for line in out.stdout_str().lines() {
        let mut f = line.splitn(5, ' ');
        let (Some(u), Some(g), Some(m), Some(raw), Some(name)) =
            (f.next(), f.next(), f.next(), f.next(), f.next())
        else {
            continue;
        };
        let (u, g, m) = (
            u.parse::<u32>().unwrap_or(0),
            g.parse::<u32>().unwrap_or(0),
            u32::from_str_radix(m, 8).unwrap_or(0),
        );
        let kind = u32::from_str_radix(raw, 16).unwrap_or(0) & 0o170000;
        let (is_dir, is_link) = (kind == 0o040000, kind == 0o120000);
        let p = format!("{}/{}", dest.trim_end_matches('/'), name);
        let h = if is_link { "-h " } else { "" };
        if let Some(want) = uid
            && want != u
        {
            cmds.push(format!("chown {h}{want} {}", shq(&p)));
        }
        if let Some(want) = gid
            && want != g
        {
            cmds.push(format!("chgrp {h}{want} {}", shq(&p)));
        }
        if let Some(mode) = &attrs.mode
            && !is_link
        {
            let want = resolve_mode(mode, Some(m), is_dir)?;
            if want != m {
                cmds.push(format!("chmod {want:04o} {}", shq(&p)));
            }
        }
    }
    if !cmds.is_empty() && !ctx.check {
        ctx.sh_ok(&cmds.join(" && ")).await?;
    }
    Ok(!cmds.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tar_command_like_ansible() {
        let opts = vec!["--strip-components=1".to_string()];
        let ex = vec!["*.md".to_string()];
        let t = TarArgs {
            archive: "/tmp/a.tgz",
            dest: "/opt/x y",
            opts: &opts,
            excludes: &ex,
            includes: &[],
            keep_newer: true,
        };
        let attrs = Attrs {
            owner: Some("daemon".into()),
            ..Default::default()
        };
        assert_eq!(
            t.command("--extract", &attrs),
            "tar --extract -C '/opt/x y' --show-transformed-names --strip-components=1 --owner=daemon --keep-newer-files '--exclude=*.md' -f /tmp/a.tgz"
        );
        assert_eq!(
            t.command("--list", &attrs),
            "tar --list -C '/opt/x y' --show-transformed-names --strip-components=1 '--exclude=*.md' -f /tmp/a.tgz"
        );
    }

    #[test]
    fn diff_lines_that_mean_change() {
        let none = Attrs::default();
        let mode = Attrs {
            mode: Some(serde_json::json!("0600")),
            ..Default::default()
        };
        assert!(tar_diff_means_change("pkg/README: Contents differ", &none));
        assert!(tar_diff_means_change(
            "tar: pkg/bin/tool: Warning: Cannot stat: No such file or directory",
            &none
        ));
        assert!(!tar_diff_means_change(
            "tar: : Warning: Cannot stat: No such file or directory",
            &none
        ));
        assert!(tar_diff_means_change("pkg/README: Mode differs", &none));
        assert!(!tar_diff_means_change("pkg/README: Mode differs", &mode));
        assert!(!tar_diff_means_change(
            "tar: Exiting with failure status",
            &none
        ));
    }
}
