//! `apt` and `package` (Debian family): install/remove/upgrade with apt-get and dpkg in the
//! instance; `deb:` installs a local package file (pushed from the controller when it is
//! a controller path).

use async_trait::async_trait;
use serde_json::json;

use super::common::fail;
use super::{Ctx, Module, ModuleError, Res};
use crate::util::shq;

pub struct Apt;
pub struct Package;

#[async_trait]
impl Module for Apt {
    fn name(&self) -> &'static str {
        "apt"
    }
    fn params(&self) -> &'static [&'static str] {
        &[
            "name",
            "pkg",
            "package",
            "state",
            "update_cache",
            "update_cache_retries",
            "update_cache_retry_max_delay",
            "cache_valid_time",
            "purge",
            "default_release",
            "install_recommends",
            "force",
            "allow_unauthenticated",
            "allow_downgrade",
            "allow_change_held_packages",
            "upgrade",
            "dpkg_options",
            "deb",
            "autoremove",
            "autoclean",
            "only_upgrade",
            "fail_on_autoremove",
            "force_apt_get",
            "clean",
            "lock_timeout",
            "policy_rc_d",
        ]
    }
    async fn run(&self, ctx: &Ctx<'_>) -> Result<Res, ModuleError> {
        apt(ctx).await
    }
}

#[async_trait]
impl Module for Package {
    fn name(&self) -> &'static str {
        "package"
    }
    fn params(&self) -> &'static [&'static str] {
        &["name", "state", "use"]
    }
    async fn run(&self, ctx: &Ctx<'_>) -> Result<Res, ModuleError> {
        apt(ctx).await
    }
}

const ENV: &str = "DEBIAN_FRONTEND=noninteractive DEBCONF_NONINTERACTIVE_SEEN=true";

async fn apt(ctx: &Ctx<'_>) -> Result<Res, ModuleError> {
    let mut names = ctx.list("name");
    names.extend(ctx.list("pkg"));
    names.extend(ctx.list("package"));
    let state = ctx.str("state").unwrap_or_else(|| "present".into());
    let mut res = Res::new();
    let mut changed = false;
    let mut log = String::new();
    if ctx.bool("update_cache", false).unwrap_or(false) {
        if !ctx.check {
            let out = ctx.sh(&format!("{ENV} apt-get update -q")).await?;
            if out.rc != 0 {
                return Err(fail(format!(
                    "Failed to update apt cache: {}",
                    out.stderr_str().trim()
                )));
            }
        }
        res.insert("cache_updated".into(), json!(true));
    }
    if let Some(deb) = ctx.str("deb") {
        let remote = if let Some(local) = ctx
            .paths
            .find("files", &deb)
            .filter(|_| !deb.starts_with("/") || std::path::Path::new(&deb).exists())
        {
            let data =
                std::fs::read(&local).map_err(|e| fail(format!("{}: {e}", local.display())))?;
            let tmp = format!(
                "/tmp/.floe-{}.deb",
                &uuid::Uuid::new_v4().simple().to_string()[..12]
            );
            ctx.t().create_file(&tmp, &data, 0, 0, 0o600).await?;
            Some(tmp)
        } else {
            None
        };
        let path = remote.clone().unwrap_or_else(|| deb.clone());
        let q = shq(&path);
        let check = format!(
            "p=$(dpkg-deb -f {q} Package) && v=$(dpkg-deb -f {q} Version) && [ \"$(dpkg-query -W -f='${{Status}} ${{Version}}' \"$p\" 2>/dev/null)\" = \"install ok installed $v\" ]"
        );
        let installed = ctx.sh(&check).await?.rc == 0;
        if !installed {
            changed = true;
            if !ctx.check {
                let out = ctx
                    .sh(&format!("{ENV} dpkg -i {q} || {ENV} apt-get -f -y install"))
                    .await?;
                log.push_str(&out.stdout_str());
                if out.rc != 0 {
                    if let Some(t) = &remote {
                        let _ = ctx.sh(&format!("rm -f {}", shq(t))).await;
                    }
                    return Err(fail(format!("dpkg failed: {}", out.stderr_str().trim())));
                }
            }
        }
        if let Some(t) = &remote {
            ctx.sh(&format!("rm -f {}", shq(t))).await?;
        }
    }
    if !names.is_empty() {
        // One exec to learn what is installed.
        let plain: Vec<String> = names
            .iter()
            .map(|n| n.split('=').next().unwrap_or(n).to_string())
            .collect();
        let q: Vec<String> = plain.iter().map(|n| shq(n)).collect();
        let out = ctx.sh(&format!("for p in {}; do printf '%s\\t%s\\n' \"$p\" \"$(dpkg-query -W -f='${{Status}}' \"$p\" 2>/dev/null)\"; done", q.join(" "))).await?;
        let installed: Vec<String> = out
            .stdout_str()
            .lines()
            .filter_map(|l| l.split_once('\t'))
            .filter(|(_, s)| s.ends_with(" installed") && s.starts_with("install"))
            .map(|(p, _)| p.to_string())
            .collect();
        let (verb, todo): (&str, Vec<String>) = match state.as_str() {
            "present" | "installed" | "build-dep" | "fixed" => (
                "install",
                names
                    .iter()
                    .zip(&plain)
                    .filter(|(_, p)| !installed.contains(p))
                    .map(|(n, _)| n.clone())
                    .collect(),
            ),
            "latest" => {
                let out = ctx.sh(&format!("apt-get -s -q install --only-upgrade {} 2>/dev/null | grep -c '^Inst' || true", q.join(" "))).await?;
                let upgrades = out.stdout_str().trim().parse::<u32>().unwrap_or(0);
                let missing: Vec<String> = names
                    .iter()
                    .zip(&plain)
                    .filter(|(_, p)| !installed.contains(p))
                    .map(|(n, _)| n.clone())
                    .collect();
                if upgrades > 0 || !missing.is_empty() {
                    ("install", names.clone())
                } else {
                    ("install", vec![])
                }
            }
            "absent" | "removed" => (
                if ctx.bool("purge", false)? {
                    "purge"
                } else {
                    "remove"
                },
                plain
                    .iter()
                    .filter(|p| installed.contains(p))
                    .cloned()
                    .collect(),
            ),
            other => {
                return Err(fail(format!(
                    "value of state must be one of: absent, build-dep, fixed, latest, present, got: {other}"
                )));
            }
        };
        if !todo.is_empty() {
            changed = true;
            if !ctx.check {
                let recommends = if ctx.bool("install_recommends", true)? {
                    ""
                } else {
                    " --no-install-recommends"
                };
                let args: Vec<String> = todo.iter().map(|n| shq(n)).collect();
                let out = ctx.sh(&format!("{ENV} apt-get -y -q{recommends} -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold {verb} {}", args.join(" "))).await?;
                log.push_str(&out.stdout_str());
                if out.rc != 0 {
                    let mut extra = Res::new();
                    extra.insert("stdout".into(), json!(out.stdout_str()));
                    extra.insert("stderr".into(), json!(out.stderr_str()));
                    extra.insert("rc".into(), json!(out.rc));
                    return Err(super::ModuleError::Failed {
                        msg: format!(
                            "'apt-get {verb} {}' failed: {}",
                            todo.join(" "),
                            out.stderr_str().trim()
                        ),
                        extra,
                    });
                }
            }
        }
    }
    if let Some(up) = ctx.str("upgrade").filter(|u| u != "no" && u != "false") {
        let verb = if up == "dist" || up == "full" {
            "dist-upgrade"
        } else {
            "upgrade"
        };
        let sim = ctx
            .sh(&format!("apt-get -s -q {verb} | grep -c '^Inst' || true"))
            .await?;
        if sim.stdout_str().trim().parse::<u32>().unwrap_or(0) > 0 {
            changed = true;
            if !ctx.check {
                ctx.sh_ok(&format!("{ENV} apt-get -y -q {verb}")).await?;
            }
        }
    }
    if ctx.bool("autoremove", false)? && !ctx.check {
        let out = ctx.sh(&format!("{ENV} apt-get -y -q autoremove")).await?;
        if out.stdout_str().contains("Removing") {
            changed = true;
        }
    }
    res.insert("changed".into(), json!(changed));
    res.insert("stdout".into(), json!(log));
    Ok(res)
}
