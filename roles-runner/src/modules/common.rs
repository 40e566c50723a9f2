//! What modules share: the context, argument accessors, modes, owners, atomic writes, diffs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value as Json, json};

use super::Paths;
use crate::playbook::Task;
use crate::template::{Scope, Templar};
use crate::transport::{
    ExecOutput, ExecRequest, FileKind, FileStat, NewFile, Transport, TransportError,
};
use crate::util::shq;

pub type Res = Map<String, Json>;

#[derive(Debug, thiserror::Error)]
pub enum ModuleError {
    /// The module failed: `msg` plus extra result keys.
    #[error("{msg}")]
    Failed { msg: String, extra: Res },
    #[error(transparent)]
    Transport(#[from] TransportError),
}

pub fn fail(msg: impl Into<String>) -> ModuleError {
    ModuleError::Failed {
        msg: msg.into(),
        extra: Map::new(),
    }
}

/// A host's connection plus caches that save round trips (user/group ids).
pub struct HostConn {
    pub transport: Arc<dyn Transport>,
    ids: Mutex<Option<Arc<IdMaps>>>,
}

#[derive(Debug, Default)]
pub struct IdMaps {
    pub users: HashMap<String, u32>,
    pub groups: HashMap<String, u32>,
    pub user_names: HashMap<u32, String>,
    pub group_names: HashMap<u32, String>,
    /// user name -> primary gid
    pub user_gid: HashMap<String, u32>,
}

impl HostConn {
    pub fn new(transport: Arc<dyn Transport>) -> HostConn {
        HostConn {
            transport,
            ids: Mutex::new(None),
        }
    }

    /// Users and groups of the host, read once (2 file reads) and cached until invalidated.
    pub async fn ids(&self) -> Result<Arc<IdMaps>, TransportError> {
        if let Ok(g) = self.ids.lock()
            && let Some(m) = g.as_ref()
        {
            return Ok(m.clone());
        }
        let (passwd, group) = tokio::join!(
            self.transport.read_file("/etc/passwd"),
            self.transport.read_file("/etc/group")
        );
        let mut m = IdMaps::default();
        if let Some((data, _)) = passwd? {
            for line in String::from_utf8_lossy(&data).lines() {
                let f: Vec<&str> = line.split(':').collect();
                if f.len() >= 4
                    && let (Ok(uid), Ok(gid)) = (f[2].parse::<u32>(), f[3].parse::<u32>())
                {
                    m.users.insert(f[0].to_string(), uid);
                    m.user_names.entry(uid).or_insert_with(|| f[0].to_string());
                    m.user_gid.insert(f[0].to_string(), gid);
                }
            }
        }
        if let Some((data, _)) = group? {
            for line in String::from_utf8_lossy(&data).lines() {
                let f: Vec<&str> = line.split(':').collect();
                if f.len() >= 3
                    && let Ok(gid) = f[2].parse::<u32>()
                {
                    m.groups.insert(f[0].to_string(), gid);
                    m.group_names.entry(gid).or_insert_with(|| f[0].to_string());
                }
            }
        }
        let m = Arc::new(m);
        if let Ok(mut g) = self.ids.lock() {
            *g = Some(m.clone());
        }
        Ok(m)
    }

    /// Call after changing users or groups.
    pub fn invalidate_ids(&self) {
        if let Ok(mut g) = self.ids.lock() {
            *g = None;
        }
    }
}

pub struct Ctx<'a> {
    pub host: &'a str,
    pub conn: &'a HostConn,
    pub args: &'a Map<String, Json>,
    pub raw_args: &'a Map<String, Json>,
    pub check: bool,
    pub diff: bool,
    pub scope: &'a Arc<Scope>,
    pub templar: &'a Templar,
    pub paths: &'a Paths,
    pub task: &'a Task,
    pub env: Vec<(String, String)>,
    pub become_user: Option<String>,
    pub verbosity: u8,
}

impl Ctx<'_> {
    pub fn t(&self) -> &dyn Transport {
        self.conn.transport.as_ref()
    }

    pub fn get(&self, k: &str) -> Option<&Json> {
        self.args.get(k).filter(|v| !v.is_null())
    }

    pub fn str(&self, k: &str) -> Option<String> {
        self.get(k).map(|v| match v {
            Json::String(s) => s.clone(),
            other => other.to_string(),
        })
    }

    pub fn req_str(&self, k: &str) -> Result<String, ModuleError> {
        self.str(k)
            .ok_or_else(|| fail(format!("missing required arguments: {k}")))
    }

    /// First of several aliases (`path`/`dest`/`name`).
    pub fn str_any(&self, keys: &[&str]) -> Option<String> {
        keys.iter().find_map(|k| self.str(k))
    }

    pub fn bool(&self, k: &str, default: bool) -> Result<bool, ModuleError> {
        match self.get(k) {
            None => Ok(default),
            Some(v) => to_bool(v).ok_or_else(|| {
                fail(format!(
                    "argument '{k}' is of type {} and we were unable to convert to bool",
                    type_name(v)
                ))
            }),
        }
    }

    pub fn int(&self, k: &str) -> Result<Option<i64>, ModuleError> {
        match self.get(k) {
            None => Ok(None),
            Some(Json::Number(n)) => Ok(n.as_i64()),
            Some(Json::String(s)) => s.trim().parse().map(Some).map_err(|_| {
                fail(format!(
                    "argument '{k}' is of type str and we were unable to convert to int"
                ))
            }),
            Some(v) => Err(fail(format!(
                "argument '{k}' is of type {} and we were unable to convert to int",
                type_name(v)
            ))),
        }
    }

    pub fn list(&self, k: &str) -> Vec<String> {
        match self.get(k) {
            Some(Json::Array(a)) => a.iter().map(json_to_string).collect(),
            Some(Json::String(s)) => s
                .split(',')
                .map(|x| x.trim().to_string())
                .filter(|x| !x.is_empty())
                .collect(),
            Some(other) => vec![json_to_string(other)],
            None => vec![],
        }
    }

    /// Run a command on the host with the task's environment and become_user.
    pub async fn exec(&self, argv: Vec<String>) -> Result<ExecOutput, ModuleError> {
        let req = ExecRequest {
            argv,
            env: self.env.clone(),
            user: self.become_user.clone(),
            ..Default::default()
        };
        Ok(self.t().exec(req).await?)
    }

    pub async fn sh(&self, script: &str) -> Result<ExecOutput, ModuleError> {
        self.exec(vec!["/bin/sh".into(), "-c".into(), script.into()])
            .await
    }

    /// Run a command and fail the module when it exits non-zero.
    pub async fn sh_ok(&self, script: &str) -> Result<ExecOutput, ModuleError> {
        let out = self.sh(script).await?;
        if out.rc != 0 {
            let mut extra = Map::new();
            extra.insert("rc".into(), json!(out.rc));
            extra.insert("stdout".into(), json!(out.stdout_str()));
            extra.insert("stderr".into(), json!(out.stderr_str()));
            extra.insert("cmd".into(), json!(script));
            let msg = out.stderr_str().trim().to_string();
            return Err(ModuleError::Failed {
                msg: if msg.is_empty() {
                    format!("command failed with rc {}", out.rc)
                } else {
                    msg
                },
                extra,
            });
        }
        Ok(out)
    }
}

pub fn json_to_string(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        Json::Null => String::new(),
        other => other.to_string(),
    }
}

pub fn type_name(v: &Json) -> &'static str {
    match v {
        Json::Null => "NoneType",
        Json::Bool(_) => "bool",
        Json::Number(n) if n.is_i64() || n.is_u64() => "int",
        Json::Number(_) => "float",
        Json::String(_) => "str",
        Json::Array(_) => "list",
        Json::Object(_) => "dict",
    }
}

/// Ansible's boolean conversion of module arguments.
pub fn to_bool(v: &Json) -> Option<bool> {
    match v {
        Json::Bool(b) => Some(*b),
        Json::Number(n) => match n.as_f64() {
            Some(x) if x == 1.0 => Some(true),
            Some(x) if x == 0.0 => Some(false),
            _ => None,
        },
        Json::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "yes" | "on" | "1" | "true" | "y" | "t" => Some(true),
            "no" | "off" | "0" | "false" | "n" | "f" | "" => Some(false),
            _ => None,
        },
        Json::Null => Some(false),
        _ => None,
    }
}

/// A mode argument: an int (YAML 1.1 already made `0644` 420), an octal string, or symbolic.
pub fn resolve_mode(v: &Json, current: Option<u32>, is_dir: bool) -> Result<u32, ModuleError> {
    match v {
        Json::Number(n) => n
            .as_u64()
            .map(|x| x as u32 & 0o7777)
            .ok_or_else(|| fail(format!("invalid mode {n}"))),
        Json::String(s) => {
            let s = s.trim();
            if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) {
                return u32::from_str_radix(s, 8)
                    .map_err(|_| fail(format!("mode must be in octal or symbolic form: {s}")));
            }
            if let Some(o) = s.strip_prefix("0o") {
                return u32::from_str_radix(o, 8).map_err(|_| fail(format!("invalid mode {s}")));
            }
            symbolic_mode(s, current.unwrap_or(0), is_dir)
        }
        other => Err(fail(format!("invalid mode {other}"))),
    }
}

/// `u=rw,g=r,o=`, `a+x`, `u+X`... applied to `current`.
pub fn symbolic_mode(s: &str, current: u32, is_dir: bool) -> Result<u32, ModuleError> {
    let bad = || fail(format!("mode must be in octal or symbolic form: {s}"));
    let mut mode = current;
    for clause in s.split(',') {
        let op_pos = clause.find(['=', '+', '-']).ok_or_else(bad)?;
        let (who, rest) = clause.split_at(op_pos);
        let op = rest.chars().next().ok_or_else(bad)?;
        let perms = &rest[1..];
        let who = if who.is_empty() { "a" } else { who };
        let mut mask = 0u32;
        for w in who.chars() {
            mask |= match w {
                'u' => 0o4700,
                'g' => 0o2070,
                'o' => 0o1007,
                'a' => 0o7777,
                _ => return Err(bad()),
            };
        }
        let mut bits = 0u32;
        for p in perms.chars() {
            bits |= match p {
                'r' => 0o444,
                'w' => 0o222,
                'x' => 0o111,
                'X' => {
                    if is_dir || current & 0o111 != 0 {
                        0o111
                    } else {
                        0
                    }
                }
                's' => 0o6000,
                't' => 0o1000,
                _ => return Err(bad()),
            };
        }
        let bits = bits & mask;
        mode = match op {
            '=' => {
                (mode
                    & !(mask & 0o777
                        | if who.contains('a') || who.contains('u') {
                            0o4000
                        } else {
                            0
                        }
                        | if who.contains('a') || who.contains('g') {
                            0o2000
                        } else {
                            0
                        }))
                    | bits
            }
            '+' => mode | bits,
            _ => mode & !bits,
        };
    }
    Ok(mode & 0o7777)
}

/// Desired owner/group/mode of a path from the usual file arguments.
#[derive(Debug, Clone, Default)]
pub struct Attrs {
    pub owner: Option<String>,
    pub group: Option<String>,
    pub mode: Option<Json>,
}

impl Attrs {
    pub fn from_ctx(ctx: &Ctx<'_>) -> Attrs {
        Attrs {
            owner: ctx.str("owner"),
            group: ctx.str("group"),
            mode: ctx.get("mode").cloned(),
        }
    }

    pub async fn uid(&self, conn: &HostConn) -> Result<Option<u32>, ModuleError> {
        match &self.owner {
            None => Ok(None),
            Some(o) => {
                if let Ok(n) = o.parse::<u32>() {
                    return Ok(Some(n));
                }
                let ids = conn.ids().await?;
                ids.users
                    .get(o)
                    .copied()
                    .map(Some)
                    .ok_or_else(|| fail(format!("chown failed: failed to look up user {o}")))
            }
        }
    }

    pub async fn gid(&self, conn: &HostConn) -> Result<Option<u32>, ModuleError> {
        match &self.group {
            None => Ok(None),
            Some(g) => {
                if let Ok(n) = g.parse::<u32>() {
                    return Ok(Some(n));
                }
                let ids = conn.ids().await?;
                ids.groups
                    .get(g)
                    .copied()
                    .map(Some)
                    .ok_or_else(|| fail(format!("chgrp failed: failed to look up group {g}")))
            }
        }
    }

    /// The shell commands needed to bring `st` to these attributes (empty = nothing to do).
    pub async fn fix_commands(
        &self,
        conn: &HostConn,
        path: &str,
        st: &FileStat,
        follow: bool,
    ) -> Result<Vec<String>, ModuleError> {
        let mut cmds = vec![];
        let is_link = st.kind == FileKind::Symlink;
        let h = if is_link && !follow { "-h " } else { "" };
        if let Some(uid) = self.uid(conn).await?
            && uid != st.uid
        {
            cmds.push(format!("chown {h}{uid} {}", shq(path)));
        }
        if let Some(gid) = self.gid(conn).await?
            && gid != st.gid
        {
            cmds.push(format!("chgrp {h}{gid} {}", shq(path)));
        }
        if let Some(m) = &self.mode
            && !is_link
        {
            let want = resolve_mode(m, Some(st.mode), st.kind == FileKind::Dir)?;
            if want != st.mode {
                cmds.push(format!("chmod {:04o} {}", want, shq(path)));
            }
        }
        Ok(cmds)
    }
}

/// Ansible's file-attribute result keys.
pub fn attr_result(res: &mut Res, path: &str, st: Option<&FileStat>, ids: Option<&IdMaps>) {
    res.insert("path".into(), json!(path));
    if let Some(st) = st {
        res.insert("mode".into(), json!(format!("{:04o}", st.mode)));
        res.insert("uid".into(), json!(st.uid));
        res.insert("gid".into(), json!(st.gid));
        if let Some(ids) = ids {
            res.insert(
                "owner".into(),
                json!(
                    ids.user_names
                        .get(&st.uid)
                        .cloned()
                        .unwrap_or_else(|| st.uid.to_string())
                ),
            );
            res.insert(
                "group".into(),
                json!(
                    ids.group_names
                        .get(&st.gid)
                        .cloned()
                        .unwrap_or_else(|| st.gid.to_string())
                ),
            );
        }
        res.insert(
            "state".into(),
            json!(match st.kind {
                FileKind::Dir => "directory",
                FileKind::Symlink => "link",
                FileKind::File => "file",
                FileKind::Other => "file",
            }),
        );
    }
}

/// Replace `path` atomically: a temporary file beside it, created with its final owner and
/// mode, then renamed over it. Attributes: the requested ones, else those of the file it
/// replaces, else root and 0644 (Ansible's default for new files). Returns the new lstat.
pub async fn write_atomic(
    ctx: &Ctx<'_>,
    path: &str,
    data: &[u8],
    attrs: &Attrs,
    existing: Option<&FileStat>,
) -> Result<FileStat, ModuleError> {
    let (dir, base) = match path.rfind('/') {
        Some(0) => ("/".to_string(), &path[1..]),
        Some(i) => (path[..i].to_string(), &path[i + 1..]),
        None => (".".to_string(), path),
    };
    let uid = match attrs.uid(ctx.conn).await? {
        Some(u) => u,
        None => existing.map(|s| s.uid).unwrap_or(0),
    };
    let gid = match attrs.gid(ctx.conn).await? {
        Some(g) => g,
        None => existing.map(|s| s.gid).unwrap_or(0),
    };
    let base_mode = existing.map(|s| s.mode).unwrap_or(0o644);
    let mode = match &attrs.mode {
        Some(m) => resolve_mode(m, Some(base_mode), false)?,
        None => base_mode,
    };
    let id = uuid::Uuid::new_v4().simple().to_string();
    let tmp = format!(
        "{}/.{}.{}.floetmp",
        dir.trim_end_matches('/'),
        base,
        &id[..12]
    );
    match ctx
        .t()
        .replace_file(
            &tmp,
            path,
            NewFile {
                data,
                uid,
                gid,
                mode,
            },
        )
        .await
    {
        Ok(()) => {}
        Err(TransportError::Failed(m)) if m.contains("ot found") || m.contains("No such file") => {
            return Err(fail(format!("Destination directory {dir} does not exist")));
        }
        Err(TransportError::Failed(m)) => {
            return Err(fail(format!("failed to replace {path}: {m}")));
        }
        Err(e) => return Err(e.into()),
    }
    Ok(FileStat {
        kind: FileKind::File,
        mode,
        uid,
        gid,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes() {
        assert_eq!(resolve_mode(&json!(416), None, false).expect("ok"), 0o640);
        assert_eq!(
            resolve_mode(&json!("0644"), None, false).expect("ok"),
            0o644
        );
        assert_eq!(resolve_mode(&json!("644"), None, false).expect("ok"), 0o644);
        assert_eq!(
            resolve_mode(&json!("u=rw,g=r,o="), Some(0o777), false).expect("ok"),
            0o640
        );
        assert_eq!(
            resolve_mode(&json!("a+x"), Some(0o644), false).expect("ok"),
            0o755
        );
        assert_eq!(
            resolve_mode(&json!("go-w"), Some(0o666), false).expect("ok"),
            0o644
        );
        assert_eq!(
            resolve_mode(&json!("u+X"), Some(0o644), true).expect("ok"),
            0o744
        );
    }
}

/// Read-modify-write for lineinfile/blockinfile/replace: `edit` maps the old text (None when
/// the file is missing) to the new text and a message. Writes atomically, keeps the file's
/// owner/mode unless asked otherwise, then fixes attributes.
pub async fn edit_file<F>(
    ctx: &Ctx<'_>,
    path: &str,
    create: bool,
    diff_style: super::diff::EditDiff,
    edit: F,
) -> Result<Res, ModuleError>
where
    F: FnOnce(Option<&str>) -> Result<(String, String), ModuleError>,
{
    let existing = ctx.t().read_file(path).await?;
    if let Some((_, st)) = &existing
        && st.kind == FileKind::Dir
    {
        let mut extra = Res::new();
        extra.insert("rc".into(), json!(256));
        return Err(ModuleError::Failed {
            msg: format!("Path {path} is a directory !"),
            extra,
        });
    }
    if existing.is_none() && !create {
        let mut extra = Res::new();
        extra.insert("rc".into(), json!(257));
        return Err(ModuleError::Failed {
            msg: format!("Destination {path} does not exist !"),
            extra,
        });
    }
    let old = existing
        .as_ref()
        .map(|(d, _)| String::from_utf8_lossy(d).into_owned());
    let (new, mut msg) = edit(old.as_deref())?;
    let attrs = Attrs::from_ctx(ctx);
    let mut res = Res::new();
    let content_changed =
        old.as_deref() != Some(new.as_str()) && !(old.is_none() && new.is_empty() && !create);
    let mut changed = content_changed;
    if ctx.diff {
        let before = old.clone().unwrap_or_default();
        let d = match diff_style {
            super::diff::EditDiff::Replace => content_changed.then(|| {
                json!({"before_header": path, "before": before, "after_header": path, "after": new})
            }),
            super::diff::EditDiff::ContentAndAttributes => {
                // Ansible leaves the attributes part out when check mode stops before the
                // file exists.
                let attr = match &existing {
                    _ if ctx.check && existing.is_none() => None,
                    Some((_, st)) => Some(super::diff::attr_changes(&attrs, ctx.conn, st, true).await?),
                    None => {
                        let fresh = super::diff::fresh_stat(FileKind::File);
                        Some(super::diff::attr_changes(&attrs, ctx.conn, &fresh, true).await?)
                    }
                };
                Some(super::diff::edit_diff(path, &before, &new, attr))
            }
        };
        if let Some(d) = d {
            res.insert("diff".into(), d);
        }
    }
    if content_changed && !ctx.check {
        if ctx.bool("backup", false)? && existing.is_some() {
            let backup = super::copy::backup_name(path);
            ctx.sh_ok(&format!("cp -p {} {}", shq(path), shq(&backup)))
                .await?;
            res.insert("backup".into(), json!(backup));
        }
        if existing.is_none()
            && let Some(dir) = path
                .rfind('/')
                .map(|i| &path[..i])
                .filter(|d| !d.is_empty())
            && ctx.t().stat(dir).await?.is_none()
        {
            ctx.sh_ok(&format!("mkdir -p {}", shq(dir))).await?;
        }
        write_atomic(
            ctx,
            path,
            new.as_bytes(),
            &attrs,
            existing.as_ref().map(|(_, s)| s),
        )
        .await?;
    } else if let Some((_, st)) = &existing {
        let cmds = attrs.fix_commands(ctx.conn, path, st, true).await?;
        if !cmds.is_empty() {
            changed = true;
            msg = if msg.is_empty() {
                "ownership, perms or SE linux context changed".into()
            } else {
                format!("{msg} and ownership, perms or SE linux context changed")
            };
            if !ctx.check {
                ctx.sh_ok(&cmds.join(" && ")).await?;
            }
        }
    }
    res.insert("changed".into(), json!(changed));
    res.insert("msg".into(), json!(msg));
    Ok(res)
}
