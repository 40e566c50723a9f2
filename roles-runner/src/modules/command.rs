//! `command`, `shell`, `raw`: run a program in the instance.

use std::time::{Instant, SystemTime};

use async_trait::async_trait;
use serde_json::{Value as Json, json};

use super::common::{fail, json_to_string};
use super::{Ctx, Module, ModuleError, Res};
use crate::transport::ExecRequest;

pub struct Command;
pub struct Shell;
pub struct Raw;

const PARAMS: &[&str] = &[
    "_raw_params",
    "cmd",
    "argv",
    "chdir",
    "creates",
    "removes",
    "executable",
    "stdin",
    "stdin_add_newline",
    "strip_empty_ends",
    "expand_argument_vars",
    "free_form",
    "warn",
];

#[async_trait]
impl Module for Command {
    fn name(&self) -> &'static str {
        "command"
    }
    fn params(&self) -> &'static [&'static str] {
        PARAMS
    }
    async fn run(&self, ctx: &Ctx<'_>) -> Result<Res, ModuleError> {
        let argv: Vec<String> = if let Some(Json::Array(a)) = ctx.get("argv") {
            a.iter().map(json_to_string).collect()
        } else {
            let line = ctx
                .str_any(&["cmd", "_raw_params"])
                .ok_or_else(|| fail("no command given"))?;
            shlex_split(&line).ok_or_else(|| fail(format!("invalid quoting in command: {line}")))?
        };
        if argv.is_empty() {
            return Err(fail("no command given"));
        }
        run_command(ctx, argv.clone(), json!(argv)).await
    }
}

#[async_trait]
impl Module for Shell {
    fn name(&self) -> &'static str {
        "shell"
    }
    fn params(&self) -> &'static [&'static str] {
        PARAMS
    }
    async fn run(&self, ctx: &Ctx<'_>) -> Result<Res, ModuleError> {
        let line = ctx
            .str_any(&["cmd", "_raw_params"])
            .ok_or_else(|| fail("no command given"))?;
        let shell = ctx.str("executable").unwrap_or_else(|| "/bin/sh".into());
        run_command(ctx, vec![shell, "-c".into(), line.clone()], json!(line)).await
    }
}

#[async_trait]
impl Module for Raw {
    fn name(&self) -> &'static str {
        "raw"
    }
    fn params(&self) -> &'static [&'static str] {
        &["_raw_params", "executable"]
    }
    async fn run(&self, ctx: &Ctx<'_>) -> Result<Res, ModuleError> {
        let line = ctx
            .str("_raw_params")
            .ok_or_else(|| fail("no command given"))?;
        let shell = ctx.str("executable").unwrap_or_else(|| "/bin/sh".into());
        let out = ctx.exec(vec![shell, "-c".into(), line]).await?;
        let mut res = Res::new();
        res.insert("changed".into(), json!(true));
        res.insert("rc".into(), json!(out.rc));
        res.insert("stdout".into(), json!(out.stdout_str()));
        res.insert(
            "stdout_lines".into(),
            json!(out.stdout_str().lines().collect::<Vec<_>>()),
        );
        res.insert("stderr".into(), json!(out.stderr_str()));
        res.insert(
            "stderr_lines".into(),
            json!(out.stderr_str().lines().collect::<Vec<_>>()),
        );
        if out.rc != 0 {
            return Err(ModuleError::Failed {
                msg: "non-zero return code".into(),
                extra: res,
            });
        }
        Ok(res)
    }
}

async fn run_command(
    ctx: &Ctx<'_>,
    argv: Vec<String>,
    cmd_shown: Json,
) -> Result<Res, ModuleError> {
    let mut res = Res::new();
    res.insert("cmd".into(), cmd_shown);
    let chdir = ctx.str("chdir");
    // creates/removes: relative paths are relative to chdir.
    let abs = |p: String| match (&chdir, p.starts_with('/')) {
        (Some(d), false) => format!("{}/{p}", d.trim_end_matches('/')),
        _ => p,
    };
    if let Some(c) = ctx.str("creates").map(abs)
        && ctx.t().stat(&c).await?.is_some()
    {
        return Ok(skipped_result(
            res,
            format!(
                "{} not run command since '{c}' exists",
                if ctx.check { "Would" } else { "Did" }
            ),
            format!("skipped, since {c} exists"),
        ));
    }
    if let Some(r) = ctx.str("removes").map(abs)
        && ctx.t().stat(&r).await?.is_none()
    {
        return Ok(skipped_result(
            res,
            format!(
                "{} not run command since '{r}' does not exist",
                if ctx.check { "Would" } else { "Did" }
            ),
            format!("skipped, since {r} does not exist"),
        ));
    }
    if ctx.check {
        // Ansible: with creates/removes the command "would have run" (changed); without
        // them check mode cannot predict anything and the task is skipped.
        let guarded = ctx.get("creates").is_some() || ctx.get("removes").is_some();
        res.insert("changed".into(), json!(guarded));
        if !guarded {
            res.insert("skipped".into(), json!(true));
        }
        res.insert("rc".into(), json!(0));
        res.insert(
            "msg".into(),
            json!("Command would have run if not in check mode"),
        );
        return Ok(res);
    }
    let stdin = ctx.str("stdin").map(|s| {
        let mut b = s.into_bytes();
        if ctx.bool("stdin_add_newline", true).unwrap_or(true) {
            b.push(b'\n');
        }
        b
    });
    let start_wall = SystemTime::now();
    let start = Instant::now();
    let req = ExecRequest {
        argv,
        env: ctx.env.clone(),
        cwd: chdir,
        user: ctx.become_user.clone(),
        stdin,
        timeout: None,
    };
    let out = ctx.t().exec(req).await?;
    let delta = start.elapsed();
    let strip = ctx.bool("strip_empty_ends", true)?;
    let (mut stdout, mut stderr) = (out.stdout_str(), out.stderr_str());
    if strip {
        stdout = stdout.trim_end_matches(['\r', '\n']).to_string();
        stderr = stderr.trim_end_matches(['\r', '\n']).to_string();
    }
    res.insert("changed".into(), json!(true));
    res.insert("rc".into(), json!(out.rc));
    res.insert("start".into(), json!(fmt_time(start_wall)));
    res.insert("end".into(), json!(fmt_time(start_wall + delta)));
    res.insert("delta".into(), json!(fmt_delta(delta)));
    res.insert(
        "stdout_lines".into(),
        json!(stdout.lines().collect::<Vec<_>>()),
    );
    res.insert(
        "stderr_lines".into(),
        json!(stderr.lines().collect::<Vec<_>>()),
    );
    res.insert("stdout".into(), json!(stdout));
    res.insert("stderr".into(), json!(stderr));
    res.insert("msg".into(), json!(""));
    if out.rc != 0 {
        let msg = if out.rc == 127 && out.stdout.is_empty() {
            format!(
                "[Errno 2] No such file or directory: {}",
                out.stderr_str().trim()
            )
        } else {
            "non-zero return code".into()
        };
        return Err(ModuleError::Failed { msg, extra: res });
    }
    Ok(res)
}

fn skipped_result(mut res: Res, msg: String, stdout: String) -> Res {
    res.insert("changed".into(), json!(false));
    res.insert("rc".into(), json!(0));
    res.insert("stdout".into(), json!(stdout));
    res.insert("stdout_lines".into(), json!([stdout]));
    res.insert("stderr".into(), json!(""));
    res.insert("stderr_lines".into(), json!([]));
    res.insert("msg".into(), json!(msg));
    res
}

/// POSIX shell-like word splitting (Python's shlex.split).
pub fn shlex_split(s: &str) -> Option<Vec<String>> {
    let mut out = vec![];
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '\'' => break,
                        x => cur.push(x),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => {
                            let n = chars.next()?;
                            if !matches!(n, '"' | '\\' | '$' | '`' | '\n') {
                                cur.push('\\');
                            }
                            cur.push(n);
                        }
                        x => cur.push(x),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    Some(out)
}

/// `2026-11-23 01:17:35.796658` (UTC).
pub fn fmt_time(t: SystemTime) -> String {
    let d = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    // civil_from_days (Howard Hinnant)
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let dd = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{dd:02} {:02}:{:02}:{:02}.{:06}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_micros()
    )
}

fn fmt_delta(d: std::time::Duration) -> String {
    let s = d.as_secs();
    format!(
        "{}:{:02}:{:02}.{:06}",
        s / 3600,
        s % 3600 / 60,
        s % 60,
        d.subsec_micros()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shlex() {
        assert_eq!(
            shlex_split("cp 'a b' \"c\\\"d\" e\\ f").expect("ok"),
            vec!["cp", "a b", "c\"d", "e f"]
        );
        assert!(shlex_split("echo 'x").is_none());
        assert!(fmt_time(SystemTime::UNIX_EPOCH).starts_with("1970-01-01 00:00:00"));
    }
}
