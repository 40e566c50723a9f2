//! `stat`: facts about a path (file API: lstat + content for the checksum; no exec).

use async_trait::async_trait;
use serde_json::json;

use super::common::fail;
use super::{Ctx, Module, ModuleError, Res};
use crate::transport::FileKind;
use crate::util::sha1_hex;

pub struct Stat;

#[async_trait]
impl Module for Stat {
    fn name(&self) -> &'static str {
        "stat"
    }
    fn params(&self) -> &'static [&'static str] {
        &[
            "path",
            "dest",
            "name",
            "follow",
            "get_checksum",
            "checksum_algorithm",
            "get_mime",
            "get_attributes",
            "get_md5",
            "get_selinux_context",
        ]
    }
    async fn run(&self, ctx: &Ctx<'_>) -> Result<Res, ModuleError> {
        let path = ctx
            .str_any(&["path", "dest", "name"])
            .ok_or_else(|| fail("missing required arguments: path"))?;
        let follow = ctx.bool("follow", false)?;
        let get_checksum = ctx.bool("get_checksum", true)?;
        let mut res = Res::new();
        res.insert("changed".into(), json!(false));
        let mut target = path.clone();
        let mut entry = ctx.t().read_file(&target).await?;
        // follow: resolve symlinks (a few levels).
        let mut hops = 0;
        while follow && hops < 8 {
            match &entry {
                Some((data, st)) if st.kind == FileKind::Symlink => {
                    let t = String::from_utf8_lossy(data).into_owned();
                    target = if t.starts_with('/') {
                        t
                    } else {
                        format!("{}/{t}", target.rsplit_once('/').map(|x| x.0).unwrap_or(""))
                    };
                    entry = ctx.t().read_file(&target).await?;
                    hops += 1;
                }
                _ => break,
            }
        }
        let Some((data, st)) = entry else {
            res.insert("stat".into(), json!({"exists": false}));
            return Ok(res);
        };
        let ids = ctx.conn.ids().await?;
        let mode = st.mode;
        let mut s = serde_json::Map::new();
        s.insert("exists".into(), json!(true));
        s.insert("path".into(), json!(path));
        s.insert("mode".into(), json!(format!("{mode:04o}")));
        s.insert("isdir".into(), json!(st.kind == FileKind::Dir));
        s.insert("isreg".into(), json!(st.kind == FileKind::File));
        s.insert("islnk".into(), json!(st.kind == FileKind::Symlink));
        s.insert("isblk".into(), json!(false));
        s.insert("ischr".into(), json!(false));
        s.insert("isfifo".into(), json!(false));
        s.insert("issock".into(), json!(false));
        s.insert("uid".into(), json!(st.uid));
        s.insert("gid".into(), json!(st.gid));
        s.insert(
            "pw_name".into(),
            json!(
                ids.user_names
                    .get(&st.uid)
                    .cloned()
                    .unwrap_or_else(|| st.uid.to_string())
            ),
        );
        s.insert(
            "gr_name".into(),
            json!(
                ids.group_names
                    .get(&st.gid)
                    .cloned()
                    .unwrap_or_else(|| st.gid.to_string())
            ),
        );
        for (k, bit) in [
            ("rusr", 0o400),
            ("wusr", 0o200),
            ("xusr", 0o100),
            ("rgrp", 0o040),
            ("wgrp", 0o020),
            ("xgrp", 0o010),
            ("roth", 0o004),
            ("woth", 0o002),
            ("xoth", 0o001),
        ] {
            s.insert(k.into(), json!(mode & bit != 0));
        }
        s.insert("isuid".into(), json!(mode & 0o4000 != 0));
        s.insert("isgid".into(), json!(mode & 0o2000 != 0));
        s.insert("readable".into(), json!(true));
        s.insert("writeable".into(), json!(true));
        s.insert("executable".into(), json!(mode & 0o111 != 0));
        match st.kind {
            FileKind::File => {
                s.insert("size".into(), json!(data.len()));
                if get_checksum {
                    let algo = ctx
                        .str("checksum_algorithm")
                        .unwrap_or_else(|| "sha1".into());
                    let sum = match algo.as_str() {
                        "sha256" => crate::util::sha256_hex(&data),
                        _ => sha1_hex(&data),
                    };
                    s.insert("checksum".into(), json!(sum));
                }
            }
            FileKind::Symlink => {
                let t = String::from_utf8_lossy(&data).into_owned();
                s.insert("lnk_target".into(), json!(t));
                s.insert("lnk_source".into(), json!(t));
            }
            _ => {}
        }
        res.insert("stat".into(), serde_json::Value::Object(s));
        Ok(res)
    }
}
