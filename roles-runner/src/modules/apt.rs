//! `apt` and `package` (Debian family): the same decisions as Ansible's apt module, made
//! with apt-get, apt-mark, dpkg and dpkg-query in the instance (no python-apt):
//!
//! * `update_cache`/`cache_valid_time`: `apt-get update` unless the cache (the
//!   update-success stamp, else `/var/lib/apt/lists`) is younger than `cache_valid_time`;
//!   alone, the task is changed when the cache's mtime moved (always in check mode).
//! * `present`/`latest`/`absent` (+`purge`): one query of dpkg's state, then one apt-get
//!   call for what differs; installed names end up marked manual (as Ansible's apt-mark).
//! * `deb:` a path in the instance (or `file://`; http(s) is fetched by the controller and
//!   pushed): skipped when that version is installed; missing dependencies are installed
//!   through apt first, then `dpkg -i`.

use async_trait::async_trait;
use serde_json::json;

use super::common::fail;
use super::{Ctx, Module, ModuleError, Res};
use crate::transport::NewFile;
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
            "update-cache",
            "update_cache_retries",
            "update_cache_retry_max_delay",
            "cache_valid_time",
            "purge",
            "default_release",
            "default-release",
            "install_recommends",
            "install-recommends",
            "force",
            "allow_unauthenticated",
            "allow-unauthenticated",
            "allow_downgrade",
            "allow-downgrade",
            "allow_downgrades",
            "allow-downgrades",
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

/// What Ansible's apt module puts in the environment of its apt-get/dpkg calls.
const ENV: &str = "DEBIAN_FRONTEND=noninteractive DEBIAN_PRIORITY=critical LANG=C LC_ALL=C";
const STAMP: &str = "/var/lib/apt/periodic/update-success-stamp";
const LISTS: &str = "/var/lib/apt/lists";

/// The options of one apt call, read once from the task.
struct Opts {
    dpkg: String,
    apt_flags: String,
}

fn opts(ctx: &Ctx<'_>) -> Result<Opts, ModuleError> {
    let dpkg_raw = ctx
        .str("dpkg_options")
        .unwrap_or_else(|| "force-confdef,force-confold".into());
    let dpkg: Vec<String> = dpkg_raw
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|o| format!("-o Dpkg::Options::=--{o}"))
        .collect();
    let mut flags = String::new();
    if let Some(v) = ctx
        .get("install_recommends")
        .or(ctx.get("install-recommends"))
    {
        let yes = super::common::to_bool(v).unwrap_or(true);
        flags.push_str(if yes {
            " -o APT::Install-Recommends=yes"
        } else {
            " -o APT::Install-Recommends=no"
        });
    }
    if ctx.bool("force", false)? {
        flags.push_str(" --force-yes");
    }
    if ctx.bool("allow_unauthenticated", false)? {
        flags.push_str(" --allow-unauthenticated");
    }
    if ctx.bool("allow_downgrade", false)? || ctx.bool("allow_downgrades", false)? {
        flags.push_str(" --allow-downgrades");
    }
    if ctx.bool("allow_change_held_packages", false)? {
        flags.push_str(" --allow-change-held-packages");
    }
    if let Some(rel) = ctx.str("default_release") {
        flags.push_str(&format!(" -t {}", shq(&rel)));
    }
    Ok(Opts {
        dpkg: dpkg.join(" "),
        apt_flags: flags,
    })
}

fn failed(msg: String, out: &crate::transport::ExecOutput) -> ModuleError {
    let mut extra = Res::new();
    extra.insert("stdout".into(), json!(out.stdout_str()));
    extra.insert("stderr".into(), json!(out.stderr_str()));
    extra.insert("rc".into(), json!(out.rc));
    ModuleError::Failed { msg, extra }
}

async fn apt(ctx: &Ctx<'_>) -> Result<Res, ModuleError> {
    let mut names = ctx.list("name");
    names.extend(ctx.list("pkg"));
    names.extend(ctx.list("package"));
    let state = ctx.str("state").unwrap_or_else(|| "present".into());
    if !matches!(
        state.as_str(),
        "present" | "installed" | "latest" | "absent" | "removed" | "build-dep" | "fixed"
    ) {
        return Err(fail(format!(
            "value of state must be one of: absent, build-dep, latest, present, fixed, got: {state}"
        )));
    }
    let deb = ctx.str("deb");
    if deb.is_some() && !matches!(state.as_str(), "present" | "installed") {
        return Err(fail("deb only supports state=present"));
    }
    let upgrade = ctx
        .str("upgrade")
        .filter(|u| !matches!(u.as_str(), "no" | "false" | "False"));
    let o = opts(ctx)?;
    let mut res = Res::new();
    let mut log = String::new();

    if ctx.bool("update_cache", false)?
        || ctx.bool("update-cache", false)?
        || ctx.get("cache_valid_time").is_some()
    {
        let updated = update_cache(ctx).await?;
        res.insert("cache_updated".into(), json!(updated));
        if names.is_empty() && deb.is_none() && upgrade.is_none() {
            res.insert("changed".into(), json!(updated));
            return Ok(res);
        }
    }
    if ctx.bool("clean", false)? {
        // `apt-get clean`; alone, Ansible reports it as a change every time.
        if !ctx.check {
            let out = ctx.sh(&format!("{ENV} apt-get clean")).await?;
            if out.rc != 0 {
                return Err(failed("apt-get clean failed".into(), &out));
            }
        }
        if names.is_empty() && deb.is_none() && upgrade.is_none() {
            res.insert("changed".into(), json!(true));
            return Ok(res);
        }
    }
    let mut changed = false;
    if let Some(up) = &upgrade {
        // apt-get's commands for Ansible's upgrade modes (aptitude is not used).
        let verb = if up == "dist" || up == "full" {
            "dist-upgrade"
        } else {
            "upgrade --with-new-pkgs"
        };
        let sim = ctx
            .sh(&format!(
                "{ENV} apt-get -s -q {verb} | grep -c '^Inst' || true"
            ))
            .await?;
        if sim.stdout_str().trim().parse::<u32>().unwrap_or(0) > 0 {
            changed = true;
            if !ctx.check {
                let out = ctx
                    .sh(&format!("{ENV} apt-get -y -q {} {verb}", o.dpkg))
                    .await?;
                log.push_str(&out.stdout_str());
                if out.rc != 0 {
                    return Err(failed(
                        format!("'apt-get {verb}' failed: {}", out.stderr_str().trim()),
                        &out,
                    ));
                }
            }
        }
    }
    if let Some(deb) = &deb {
        changed |= install_deb(ctx, deb, &o, &mut log).await?;
    }
    if !names.is_empty() {
        changed |= packages(ctx, &names, &state, &o, &mut log).await?;
    }
    if ctx.bool("autoclean", false)? && names.is_empty() {
        // Changed when apt deletes an archive (its `Del ` lines), as Ansible decides.
        let sim = if ctx.check { " --simulate" } else { "" };
        let out = ctx
            .sh(&format!("{ENV} apt-get -y {} autoclean{sim}", o.dpkg))
            .await?;
        if out.rc != 0 {
            return Err(failed(
                format!("'apt-get autoclean' failed: {}", out.stderr_str().trim()),
                &out,
            ));
        }
        changed |= out.stdout_str().contains("Del ");
    }
    if ctx.bool("autoremove", false)? && names.is_empty() {
        let sim = ctx
            .sh(&format!(
                "{ENV} apt-get -s -q autoremove | grep -c '^Remv' || true"
            ))
            .await?;
        if sim.stdout_str().trim().parse::<u32>().unwrap_or(0) > 0 {
            changed = true;
            if !ctx.check {
                ctx.sh_ok(&format!("{ENV} apt-get -y -q {} autoremove", o.dpkg))
                    .await?;
            }
        }
    }
    res.insert("changed".into(), json!(changed));
    res.insert("stdout".into(), json!(log));
    Ok(res)
}

/// `apt-get update` unless the cache is younger than `cache_valid_time`; true when the
/// cache's mtime moved (or, in check mode, when an update would have run).
async fn update_cache(ctx: &Ctx<'_>) -> Result<bool, ModuleError> {
    let valid = ctx.int("cache_valid_time")?.unwrap_or(0).max(0);
    let mtime = format!(
        "if [ -e {STAMP} ]; then stat -c %Y {STAMP}; elif [ -e {LISTS} ]; then stat -c %Y {LISTS}; else echo 0; fi"
    );
    // One exec: mtime before, whether it is fresh enough, the update, mtime after.
    let update = if ctx.check {
        ":".to_string()
    } else {
        format!("{ENV} apt-get update -q >&2 || exit 99")
    };
    let script = format!(
        "before=$({mtime}); now=$(date +%s); \
         if [ $((before + {valid})) -ge \"$now\" ]; then echo fresh; exit 0; fi; \
         {update}; echo \"$before $({mtime})\""
    );
    let out = ctx.sh(&script).await?;
    if out.rc != 0 {
        return Err(failed(
            format!(
                "Failed to update apt cache after 1 retries: {}",
                out.stderr_str().trim()
            ),
            &out,
        ));
    }
    let text = out.stdout_str();
    let line = text.trim();
    if line == "fresh" {
        return Ok(false);
    }
    let mut it = line.split_whitespace();
    let (before, after) = (it.next(), it.next());
    Ok(ctx.check || before != after)
}

/// One package of dpkg's database as the query below prints it.
struct Installed {
    /// `install ok installed` (not `config-files`, `half-installed`, ...).
    installed: bool,
    /// Files left on disk (conffiles of a removed package): purge has work to do.
    has_files: bool,
    version: String,
    auto: bool,
}

async fn query(ctx: &Ctx<'_>, plain: &[String]) -> Result<Vec<Installed>, ModuleError> {
    let q: Vec<String> = plain.iter().map(|n| shq(n)).collect();
    let script = format!(
        "auto=$(apt-mark showauto {names} 2>/dev/null); \
         for p in {names}; do \
           printf '%s\\t%s\\t' \"$p\" \"$(dpkg-query -W -f='${{db:Status-Abbrev}}\\t${{Version}}' \"$p\" 2>/dev/null)\"; \
           if printf '%s\\n' \"$auto\" | grep -qxF \"$p\"; then echo auto; else echo manual; fi; \
         done",
        names = q.join(" ")
    );
    let out = ctx.sh(&script).await?;
    let text = out.stdout_str();
    let mut rows = text.lines().map(|l| l.split('\t').collect::<Vec<_>>());
    let mut found = vec![];
    for _ in plain {
        let row = rows.next().unwrap_or_default();
        // db:Status-Abbrev: want/status/error flags, e.g. "ii " installed, "rc " config-files.
        let abbrev = row.get(1).copied().unwrap_or("");
        let status = abbrev.chars().nth(1).unwrap_or('n');
        found.push(Installed {
            installed: status == 'i',
            has_files: status != 'n' && !abbrev.is_empty(),
            version: row.get(2).copied().unwrap_or("").to_string(),
            auto: row.get(3).copied() == Some("auto"),
        });
    }
    Ok(found)
}

/// `name`, `name=version` (version may be a glob, as Ansible's fnmatch), `name>=version`.
fn split_spec(spec: &str) -> (&str, Option<&str>) {
    if let Some((n, v)) = spec.split_once(">=") {
        return (n, Some(v));
    }
    match spec.split_once('=') {
        Some((n, v)) => (n, Some(v)),
        None => (spec, None),
    }
}

fn glob_match(pattern: &str, text: &str) -> bool {
    glob::Pattern::new(pattern).is_ok_and(|p| p.matches(text))
}

async fn packages(
    ctx: &Ctx<'_>,
    names: &[String],
    state: &str,
    o: &Opts,
    log: &mut String,
) -> Result<bool, ModuleError> {
    let plain: Vec<String> = names.iter().map(|n| split_spec(n).0.to_string()).collect();
    let have = query(ctx, &plain).await?;
    let mut todo: Vec<String> = vec![];
    match state {
        "absent" | "removed" => {
            let purge = ctx.bool("purge", false)?;
            let rm: Vec<String> = plain
                .iter()
                .zip(&have)
                .filter(|(_, h)| h.installed || (purge && h.has_files))
                .map(|(p, _)| shq(p))
                .collect();
            if rm.is_empty() {
                return Ok(false);
            }
            if !ctx.check {
                let purge = if purge { " --purge" } else { "" };
                let auto = if ctx.bool("autoremove", false)? {
                    " --auto-remove"
                } else {
                    ""
                };
                let out = ctx
                    .sh(&format!(
                        "{ENV} apt-get -q -y {}{purge}{auto}{} remove {}",
                        o.dpkg,
                        o.apt_flags,
                        rm.join(" ")
                    ))
                    .await?;
                log.push_str(&out.stdout_str());
                if out.rc != 0 {
                    return Err(failed(
                        format!(
                            "'apt-get remove {}' failed: {}",
                            rm.join(" "),
                            out.stderr_str().trim()
                        ),
                        &out,
                    ));
                }
            }
            return Ok(true);
        }
        "latest" => {
            // Missing ones, and installed ones apt would upgrade (one simulation).
            let q: Vec<String> = plain.iter().map(|n| shq(n)).collect();
            let out = ctx
                .sh(&format!(
                    "{ENV} apt-get -s -q install --only-upgrade {} 2>/dev/null | sed -n 's/^Inst \\([^ ]*\\) .*/\\1/p'",
                    q.join(" ")
                ))
                .await?;
            let upgradable: Vec<String> = out.stdout_str().lines().map(str::to_string).collect();
            for ((spec, p), h) in names.iter().zip(&plain).zip(&have) {
                if !h.installed || upgradable.contains(p) {
                    todo.push(spec.clone());
                }
            }
        }
        "build-dep" => {
            // apt decides what the build dependencies are; changed unless it did nothing.
            let args: Vec<String> = names.iter().map(|n| shq(n)).collect();
            let sim = if ctx.check { " --simulate" } else { "" };
            let out = ctx
                .sh(&format!(
                    "{ENV} apt-get -y {}{}{sim} build-dep {}",
                    o.dpkg,
                    o.apt_flags,
                    args.join(" ")
                ))
                .await?;
            log.push_str(&out.stdout_str());
            if out.rc != 0 {
                return Err(failed(
                    format!(
                        "'apt-get build-dep {}' failed: {}",
                        names.join(" "),
                        out.stderr_str().trim()
                    ),
                    &out,
                ));
            }
            return Ok(!out
                .stdout_str()
                .contains("\n0 upgraded, 0 newly installed, 0 to remove"));
        }
        _ => {
            for (spec, h) in names.iter().zip(&have) {
                let need = match split_spec(spec) {
                    _ if !h.installed => true,
                    (_, None) => false,
                    (n, Some(v)) if spec.starts_with(&format!("{n}>=")) => {
                        !version_ge(ctx, &h.version, v).await?
                    }
                    (_, Some(v)) => !glob_match(v, &h.version),
                };
                if need {
                    todo.push(spec.clone());
                }
            }
        }
    }
    if ctx.bool("only_upgrade", false)? {
        let installed: Vec<&String> = plain
            .iter()
            .zip(&have)
            .filter(|(_, h)| h.installed)
            .map(|(p, _)| p)
            .collect();
        todo.retain(|spec| installed.iter().any(|p| *p == split_spec(spec).0));
    }
    // Ansible marks every requested package manual, also when nothing was installed.
    let mark: Vec<String> = plain
        .iter()
        .zip(&have)
        .filter(|(_, h)| h.installed && h.auto)
        .map(|(p, _)| shq(p))
        .collect();
    if todo.is_empty() {
        if !mark.is_empty() && !ctx.check {
            ctx.sh_ok(&format!("apt-mark manual {} >/dev/null", mark.join(" ")))
                .await?;
        }
        return Ok(false);
    }
    if ctx.check {
        return Ok(true);
    }
    let args: Vec<String> = todo.iter().map(|n| shq(n)).collect();
    let only_upgrade = if ctx.bool("only_upgrade", false)? {
        " --only-upgrade"
    } else {
        ""
    };
    let fixed = if state == "fixed" {
        " --fix-broken"
    } else {
        ""
    };
    let all: Vec<String> = plain.iter().map(|p| shq(p)).collect();
    let out = ctx
        .sh(&format!(
            "{ENV} apt-get -y {}{only_upgrade}{fixed}{} install {} && apt-mark manual {} >/dev/null",
            o.dpkg,
            o.apt_flags,
            args.join(" "),
            all.join(" ")
        ))
        .await?;
    log.push_str(&out.stdout_str());
    if out.rc != 0 {
        let err = out.stderr_str();
        if let Some(p) = err
            .lines()
            .find_map(|l| l.strip_prefix("E: Unable to locate package "))
        {
            return Err(failed(
                format!("No package matching '{}' is available", p.trim()),
                &out,
            ));
        }
        return Err(failed(
            format!(
                "'apt-get install {}' failed: {}",
                todo.join(" "),
                err.trim()
            ),
            &out,
        ));
    }
    Ok(true)
}

async fn version_ge(ctx: &Ctx<'_>, have: &str, want: &str) -> Result<bool, ModuleError> {
    Ok(ctx
        .sh(&format!(
            "dpkg --compare-versions {} ge {}",
            shq(have),
            shq(want)
        ))
        .await?
        .rc
        == 0)
}

/// `deb:`: nothing when the file's version is installed; otherwise install the missing
/// dependencies through apt (marked manual, as Ansible does) and `dpkg -i` the file.
async fn install_deb(
    ctx: &Ctx<'_>,
    deb: &str,
    o: &Opts,
    log: &mut String,
) -> Result<bool, ModuleError> {
    let pushed = if deb.starts_with("http://") || deb.starts_with("https://") {
        let data = download(deb).await?;
        let tmp = format!(
            "/tmp/.floe-{}.deb",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        ctx.t().create_file(&tmp, NewFile::private(&data)).await?;
        Some(tmp)
    } else {
        None
    };
    let path = pushed
        .clone()
        .unwrap_or_else(|| deb.strip_prefix("file://").unwrap_or(deb).to_string());
    let result = install_deb_file(ctx, &path, o, log).await;
    if let Some(t) = &pushed {
        let _ = ctx.sh(&format!("rm -f {}", shq(t))).await;
    }
    result
}

async fn download(url: &str) -> Result<Vec<u8>, ModuleError> {
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(|e| fail(e.to_string()))?;
    let resp = client
        .get(url)
        .send()
        .await
        .map_err(|e| fail(format!("Failure downloading {url}, {e}")))?;
    if !resp.status().is_success() {
        return Err(fail(format!(
            "Failure downloading {url}, HTTP Error {}",
            resp.status()
        )));
    }
    Ok(resp
        .bytes()
        .await
        .map_err(|e| fail(e.to_string()))?
        .to_vec())
}

async fn install_deb_file(
    ctx: &Ctx<'_>,
    path: &str,
    o: &Opts,
    log: &mut String,
) -> Result<bool, ModuleError> {
    let q = shq(path);
    // Package, version, installed version, dependency field: one exec.
    let out = ctx
        .sh(&format!(
            "p=$(dpkg-deb -f {q} Package) && v=$(dpkg-deb -f {q} Version) || exit 3; \
             printf '%s\\n%s\\n%s\\n' \"$p\" \"$v\" \"$(dpkg-query -W -f='${{db:Status-Abbrev}} ${{Version}}' \"$p\" 2>/dev/null)\"; \
             dpkg-deb -f {q} Pre-Depends Depends | sed 's/^[A-Za-z-]*: //' | tr '\\n' ','"
        ))
        .await?;
    if out.rc != 0 {
        return Err(failed(
            format!("Unable to install package: {}", out.stderr_str().trim()),
            &out,
        ));
    }
    let text = out.stdout_str();
    let mut lines = text.lines();
    let (_name, version, have, depends) = (
        lines.next().unwrap_or(""),
        lines.next().unwrap_or(""),
        lines.next().unwrap_or(""),
        lines.next().unwrap_or(""),
    );
    if let Some(v) = have.strip_prefix("ii ")
        && v.trim() == version
    {
        return Ok(false);
    }
    if ctx.check {
        return Ok(true);
    }
    // First alternative of every dependency group that is not installed (python-apt's
    // DebPackage.missing_deps); apt installs them (and what they need) in one call.
    let first: Vec<String> = depends
        .split(',')
        .filter_map(|g| g.split('|').next())
        .map(|d| {
            d.split(['(', ' ', ':'])
                .find(|s| !s.is_empty())
                .unwrap_or("")
                .to_string()
        })
        .filter(|d| !d.is_empty())
        .collect();
    let mut missing = vec![];
    if !first.is_empty() {
        for (d, h) in first.iter().zip(query(ctx, &first).await?) {
            if !h.installed {
                missing.push(shq(d));
            }
        }
    }
    let deps = if missing.is_empty() {
        String::new()
    } else {
        format!(
            "{ENV} apt-get -y {}{} install {} && apt-mark manual {} >/dev/null && ",
            o.dpkg,
            o.apt_flags,
            missing.join(" "),
            missing.join(" ")
        )
    };
    let dpkg_opts: Vec<String> = ctx
        .str("dpkg_options")
        .unwrap_or_else(|| "force-confdef,force-confold".into())
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| format!("--{s}"))
        .collect();
    let force = if ctx.bool("force", false)? {
        " --force-all"
    } else {
        ""
    };
    let out = ctx
        .sh(&format!(
            "{deps}{ENV} dpkg {}{force} -i {q}",
            dpkg_opts.join(" ")
        ))
        .await?;
    log.push_str(&out.stdout_str());
    if out.rc != 0 {
        return Err(failed(
            format!("dpkg -i {path} failed: {}", out.stderr_str().trim()),
            &out,
        ));
    }
    Ok(true)
}
