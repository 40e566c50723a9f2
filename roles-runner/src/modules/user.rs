//! `user`: useradd/usermod/userdel inside the instance, idempotent against /etc/passwd and
//! /etc/group (read through the file API, no exec when nothing changes).

use async_trait::async_trait;
use serde_json::json;

use super::common::fail;
use super::{Ctx, Module, ModuleError, Res};
use crate::util::shq;

pub struct User;

struct PasswdEntry {
    uid: u32,
    gid: u32,
    gecos: String,
    home: String,
    shell: String,
}

#[async_trait]
impl Module for User {
    fn name(&self) -> &'static str {
        "user"
    }
    fn params(&self) -> &'static [&'static str] {
        &[
            "name",
            "uid",
            "group",
            "groups",
            "append",
            "comment",
            "home",
            "create_home",
            "createhome",
            "move_home",
            "shell",
            "system",
            "state",
            "remove",
            "force",
            "password",
            "update_password",
            "password_lock",
            "expires",
            "skeleton",
            "non_unique",
            "local",
            "umask",
            "generate_ssh_key",
            "ssh_key_bits",
            "ssh_key_type",
            "ssh_key_file",
            "ssh_key_comment",
            "ssh_key_passphrase",
            "seuser",
            "login_class",
            "hidden",
            "profile",
            "authorization",
            "role",
            "password_expire_max",
            "password_expire_min",
            "password_expire_warn",
            "uid_min",
            "uid_max",
        ]
    }
    async fn run(&self, ctx: &Ctx<'_>) -> Result<Res, ModuleError> {
        let name = ctx.req_str("name")?;
        let state = ctx.str("state").unwrap_or_else(|| "present".into());
        let (passwd, group) = tokio::join!(
            ctx.t().read_file("/etc/passwd"),
            ctx.t().read_file("/etc/group")
        );
        let passwd = passwd?
            .map(|(d, _)| String::from_utf8_lossy(&d).into_owned())
            .unwrap_or_default();
        let group = group?
            .map(|(d, _)| String::from_utf8_lossy(&d).into_owned())
            .unwrap_or_default();
        let entry = passwd.lines().find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() >= 7 && f[0] == name).then(|| PasswdEntry {
                uid: f[2].parse().unwrap_or(0),
                gid: f[3].parse().unwrap_or(0),
                gecos: f[4].to_string(),
                home: f[5].to_string(),
                shell: f[6].to_string(),
            })
        });
        let groups_by_name: Vec<(String, u32, Vec<String>)> = group
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                (f.len() >= 4).then(|| {
                    (
                        f[0].to_string(),
                        f[2].parse().unwrap_or(u32::MAX),
                        f[3].split(',')
                            .filter(|x| !x.is_empty())
                            .map(str::to_string)
                            .collect(),
                    )
                })
            })
            .collect();
        let gid_of = |g: &str| -> Option<u32> {
            g.parse().ok().or_else(|| {
                groups_by_name
                    .iter()
                    .find(|(n, _, _)| n == g)
                    .map(|(_, id, _)| *id)
            })
        };
        let mut res = Res::new();
        res.insert("name".into(), json!(name));
        res.insert("state".into(), json!(state));
        let mut cmd: Option<Vec<String>> = None;
        if state == "absent" {
            if entry.is_some() {
                let mut c = vec!["userdel".to_string()];
                if ctx.bool("force", false)? {
                    c.push("-f".into());
                }
                if ctx.bool("remove", false)? {
                    c.push("-r".into());
                }
                c.push(name.clone());
                cmd = Some(c);
            }
        } else if state == "present" {
            let uid = ctx.int("uid")?;
            let grp = ctx.str("group");
            let groups: Option<Vec<String>> = ctx.get("groups").map(|_| ctx.list("groups"));
            let append = ctx.bool("append", false)?;
            let comment = ctx.str("comment");
            let home = ctx.str("home");
            let shell = ctx.str("shell");
            let system = ctx.bool("system", false)?;
            let create_home = ctx.bool("create_home", ctx.bool("createhome", true)?)?;
            if let Some(gs) = &groups {
                for g in gs {
                    if gid_of(g).is_none() {
                        return Err(fail(format!("Group {g} does not exist")));
                    }
                }
            }
            if let Some(g) = &grp
                && gid_of(g).is_none()
            {
                return Err(fail(format!("Group {g} does not exist")));
            }
            match &entry {
                None => {
                    let mut c = vec!["useradd".to_string()];
                    if let Some(u) = uid {
                        c.extend(["-u".into(), u.to_string()]);
                        if ctx.bool("non_unique", false)? {
                            c.push("-o".into());
                        }
                    }
                    if let Some(g) = &grp {
                        c.extend(["-g".into(), g.clone()]);
                    } else if groups_by_name.iter().any(|(n, _, _)| *n == name) {
                        c.push("-N".into());
                    }
                    if let Some(gs) = groups.as_ref().filter(|g| !g.is_empty()) {
                        c.extend(["-G".into(), gs.join(",")]);
                    }
                    if let Some(cm) = &comment {
                        c.extend(["-c".into(), cm.clone()]);
                    }
                    if let Some(h) = &home {
                        c.extend(["-d".into(), h.clone()]);
                    }
                    if let Some(s) = &shell {
                        c.extend(["-s".into(), s.clone()]);
                    }
                    if let Some(p) = ctx.str("password") {
                        c.extend(["-p".into(), p]);
                    }
                    if create_home {
                        c.push("-m".into());
                        if let Some(sk) = ctx.str("skeleton") {
                            c.extend(["-k".into(), sk]);
                        }
                    } else {
                        c.push("-M".into());
                    }
                    if system {
                        c.push("-r".into());
                    }
                    c.push(name.clone());
                    cmd = Some(c);
                }
                Some(e) => {
                    let mut c = vec!["usermod".to_string()];
                    if let Some(u) = uid
                        && u as u32 != e.uid
                    {
                        c.extend(["-u".into(), u.to_string()]);
                    }
                    if let Some(g) = &grp
                        && gid_of(g) != Some(e.gid)
                    {
                        c.extend(["-g".into(), g.clone()]);
                    }
                    if let Some(gs) = &groups {
                        let current: Vec<&str> = groups_by_name
                            .iter()
                            .filter(|(_, _, m)| m.contains(&name))
                            .map(|(n, _, _)| n.as_str())
                            .collect();
                        let primary = grp.as_deref().and_then(gid_of).unwrap_or(e.gid);
                        let wanted: Vec<&String> =
                            gs.iter().filter(|g| gid_of(g) != Some(primary)).collect();
                        let missing = wanted.iter().any(|g| !current.contains(&g.as_str()));
                        let extra = !append && current.iter().any(|c| !gs.iter().any(|g| g == c));
                        if missing || extra {
                            if append {
                                c.push("-a".into());
                            }
                            c.extend(["-G".into(), gs.join(",")]);
                        }
                    }
                    if let Some(cm) = &comment
                        && *cm != e.gecos
                    {
                        c.extend(["-c".into(), cm.clone()]);
                    }
                    if let Some(h) = &home
                        && *h != e.home
                    {
                        c.extend(["-d".into(), h.clone()]);
                        if ctx.bool("move_home", false)? {
                            c.push("-m".into());
                        }
                    }
                    if let Some(s) = &shell
                        && *s != e.shell
                    {
                        c.extend(["-s".into(), s.clone()]);
                    }
                    if c.len() > 1 {
                        c.push(name.clone());
                        cmd = Some(c);
                    }
                }
            }
            res.insert("system".into(), json!(system));
            res.insert("create_home".into(), json!(create_home));
            if let Some(cm) = comment.or(entry.as_ref().map(|e| e.gecos.clone())) {
                res.insert("comment".into(), json!(cm));
            }
            if let Some(h) = home.or(entry.as_ref().map(|e| e.home.clone())) {
                res.insert("home".into(), json!(h));
            }
            if let Some(s) = shell.or(entry.as_ref().map(|e| e.shell.clone())) {
                res.insert("shell".into(), json!(s));
            }
            if let Some(gs) = &groups {
                res.insert("groups".into(), json!(gs.join(",")));
            }
            res.insert("append".into(), json!(append));
            if let Some(u) = uid.map(|u| u as u32).or(entry.as_ref().map(|e| e.uid)) {
                res.insert("uid".into(), json!(u));
            }
            if let Some(g) = grp
                .as_deref()
                .and_then(gid_of)
                .or(entry.as_ref().map(|e| e.gid))
            {
                res.insert("group".into(), json!(g));
            }
        } else {
            return Err(fail(format!(
                "value of state must be one of: absent, present, got: {state}"
            )));
        }
        let changed = cmd.is_some();
        if let Some(c) = cmd
            && !ctx.check
        {
            let line = c.iter().map(|a| shq(a)).collect::<Vec<_>>().join(" ");
            ctx.sh_ok(&line).await?;
            ctx.conn.invalidate_ids();
        }
        res.insert("changed".into(), json!(changed));
        Ok(res)
    }
}
