//! `systemd` / `systemd_service` / `service`: unit state, enablement, masking, daemon-reload.
//! One exec reads the unit's state; one more applies every change.

use async_trait::async_trait;
use serde_json::{Map, Value as Json, json};

use super::common::fail;
use super::{Ctx, Module, ModuleError, Res};
use crate::util::shq;

pub struct Systemd;
pub struct Service;

#[async_trait]
impl Module for Systemd {
    fn name(&self) -> &'static str {
        "systemd"
    }
    fn params(&self) -> &'static [&'static str] {
        &[
            "name",
            "unit",
            "service",
            "state",
            "enabled",
            "masked",
            "daemon_reload",
            "daemon-reload",
            "daemon_reexec",
            "daemon-reexec",
            "scope",
            "no_block",
            "force",
        ]
    }
    async fn run(&self, ctx: &Ctx<'_>) -> Result<Res, ModuleError> {
        manage(ctx).await
    }
}

#[async_trait]
impl Module for Service {
    fn name(&self) -> &'static str {
        "service"
    }
    fn params(&self) -> &'static [&'static str] {
        &[
            "name",
            "state",
            "enabled",
            "sleep",
            "pattern",
            "arguments",
            "args",
            "runlevel",
            "use",
        ]
    }
    async fn run(&self, ctx: &Ctx<'_>) -> Result<Res, ModuleError> {
        manage(ctx).await
    }
}

async fn manage(ctx: &Ctx<'_>) -> Result<Res, ModuleError> {
    let name = ctx.str_any(&["name", "unit", "service"]);
    let state = ctx.str("state");
    let enabled = ctx
        .get("enabled")
        .map(|_| ctx.bool("enabled", false))
        .transpose()?;
    let masked = ctx
        .get("masked")
        .map(|_| ctx.bool("masked", false))
        .transpose()?;
    let daemon_reload = ctx.bool("daemon_reload", false)? || ctx.bool("daemon-reload", false)?;
    let daemon_reexec = ctx.bool("daemon_reexec", false)? || ctx.bool("daemon-reexec", false)?;
    let user_scope = ctx.str("scope").as_deref() == Some("user");
    let sc = if user_scope {
        "systemctl --user"
    } else {
        "systemctl"
    };
    let no_block = if ctx.bool("no_block", false).unwrap_or(false) {
        " --no-block"
    } else {
        ""
    };
    let mut res = Res::new();
    let mut changed = false;
    let mut pre = vec![];
    if daemon_reexec && !ctx.check {
        pre.push(format!("{sc} daemon-reexec"));
    }
    if daemon_reload && !ctx.check {
        pre.push(format!("{sc} daemon-reload"));
    }
    let Some(name) = name else {
        if state.is_some() || enabled.is_some() || masked.is_some() {
            return Err(fail("missing required arguments: name"));
        }
        if !pre.is_empty() {
            ctx.sh_ok(&pre.join(" && ")).await?;
        }
        res.insert("changed".into(), json!(false));
        return Ok(res);
    };
    let unit = if name.contains('.') {
        name.clone()
    } else {
        format!("{name}.service")
    };
    let q = shq(&unit);
    // Query (after a requested daemon-reload, in the same exec).
    let mut query = pre.clone();
    query.push(format!("{sc} show {q} -p LoadState -p ActiveState -p SubState -p UnitFileState -p Id 2>/dev/null; printf 'IsEnabled=%s\\n' \"$({sc} is-enabled {q} 2>/dev/null)\""));
    let out = ctx.sh(&query.join(" && ")).await?;
    let mut status = Map::new();
    for line in out.stdout_str().lines() {
        if let Some((k, v)) = line.split_once('=') {
            status.insert(k.to_string(), json!(v));
        }
    }
    let get = |k: &str| {
        status
            .get(k)
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_string()
    };
    let load = get("LoadState");
    let active = get("ActiveState");
    let is_enabled = get("IsEnabled");
    if load == "not-found" && (state.is_some() || enabled.is_some()) && masked != Some(true) {
        return Err(fail(format!(
            "Could not find the requested service {name}: host"
        )));
    }
    let mut actions: Vec<String> = vec![];
    if let Some(m) = masked {
        let is_masked = is_enabled == "masked" || load == "masked";
        if m != is_masked {
            actions.push(format!("{sc} {} {q}", if m { "mask" } else { "unmask" }));
        }
    }
    if let Some(e) = enabled {
        let now = matches!(
            is_enabled.as_str(),
            "enabled" | "enabled-runtime" | "static" | "alias" | "indirect" | "generated"
        );
        if e != now && !(is_enabled == "static" || is_enabled == "generated") {
            actions.push(format!("{sc} {} {q}", if e { "enable" } else { "disable" }));
        }
        res.insert("enabled".into(), json!(e));
    }
    let running = matches!(active.as_str(), "active" | "activating" | "reloading");
    if let Some(s) = &state {
        let verb = match s.as_str() {
            "started" if !running => Some("start"),
            "stopped" if running => Some("stop"),
            "restarted" => Some("restart"),
            "reloaded" => Some(if running { "reload" } else { "start" }),
            "started" | "stopped" => None,
            "running" if !running => Some("start"),
            "running" => None,
            other => {
                return Err(fail(format!(
                    "value of state must be one of: reloaded, restarted, started, stopped, got: {other}"
                )));
            }
        };
        if let Some(v) = verb {
            actions.push(format!("{sc}{no_block} {v} {q}"));
        }
        res.insert("state".into(), json!(s));
    }
    if !actions.is_empty() {
        changed = true;
        if !ctx.check {
            let out = ctx.sh(&actions.join(" && ")).await?;
            if out.rc != 0 {
                let verb = actions.last().cloned().unwrap_or_default();
                return Err(fail(format!(
                    "Unable to {}: {}",
                    verb.trim_start_matches("systemctl "),
                    out.stderr_str().trim()
                )));
            }
        }
    }
    res.insert("changed".into(), json!(changed));
    res.insert("name".into(), json!(name));
    res.insert("status".into(), Json::Object(status));
    Ok(res)
}
