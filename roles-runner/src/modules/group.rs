//! `group`: groupadd/groupmod/groupdel inside the instance (state read from /etc/group).

use async_trait::async_trait;
use serde_json::json;

use super::common::fail;
use super::{Ctx, Module, ModuleError, Res};
use crate::util::shq;

pub struct Group;

#[async_trait]
impl Module for Group {
    fn name(&self) -> &'static str {
        "group"
    }
    fn params(&self) -> &'static [&'static str] {
        &[
            "name",
            "gid",
            "state",
            "system",
            "local",
            "non_unique",
            "force",
            "gid_min",
            "gid_max",
        ]
    }
    async fn run(&self, ctx: &Ctx<'_>) -> Result<Res, ModuleError> {
        let name = ctx.req_str("name")?;
        let state = ctx.str("state").unwrap_or_else(|| "present".into());
        let gid = ctx.int("gid")?;
        let system = ctx.bool("system", false)?;
        let ids = ctx.conn.ids().await?;
        let current = ids.groups.get(&name).copied();
        let mut cmd: Option<String> = None;
        match state.as_str() {
            "absent" => {
                if current.is_some() {
                    cmd = Some(format!("groupdel {}", shq(&name)));
                }
            }
            "present" => match current {
                None => {
                    let mut c = vec!["groupadd".to_string()];
                    if let Some(g) = gid {
                        c.push(format!("-g {g}"));
                        if ctx.bool("non_unique", false)? {
                            c.push("-o".into());
                        }
                    }
                    if system {
                        c.push("-r".into());
                    }
                    c.push(shq(&name));
                    cmd = Some(c.join(" "));
                }
                Some(cur) => {
                    if let Some(g) = gid
                        && g as u32 != cur
                    {
                        cmd = Some(format!("groupmod -g {g} {}", shq(&name)));
                    }
                }
            },
            other => {
                return Err(fail(format!(
                    "value of state must be one of: absent, present, got: {other}"
                )));
            }
        }
        let changed = cmd.is_some();
        if let Some(c) = cmd
            && !ctx.check
        {
            ctx.sh_ok(&c).await?;
            ctx.conn.invalidate_ids();
        }
        let mut res = Res::new();
        res.insert("changed".into(), json!(changed));
        res.insert("name".into(), json!(name));
        res.insert("state".into(), json!(state));
        res.insert("system".into(), json!(system));
        if state == "present" {
            let g = if changed && !ctx.check {
                ctx.conn.ids().await?.groups.get(&name).copied()
            } else {
                current.or(gid.map(|g| g as u32))
            };
            res.insert("gid".into(), json!(g));
        }
        Ok(res)
    }
}
