//! `find`: files matching patterns/age/size/type, via one `find -printf` exec.

use async_trait::async_trait;
use serde_json::{Value as Json, json};

use super::common::fail;
use super::{Ctx, Module, ModuleError, Res};
use crate::util::shq;

pub struct Find;

#[async_trait]
impl Module for Find {
    fn name(&self) -> &'static str {
        "find"
    }
    fn params(&self) -> &'static [&'static str] {
        &[
            "paths",
            "path",
            "name",
            "patterns",
            "pattern",
            "excludes",
            "exclude",
            "contains",
            "file_type",
            "recurse",
            "hidden",
            "follow",
            "depth",
            "age",
            "age_stamp",
            "size",
            "use_regex",
            "get_checksum",
            "read_whole_file",
            "mode",
            "exact_mode",
            "encoding",
        ]
    }
    async fn run(&self, ctx: &Ctx<'_>) -> Result<Res, ModuleError> {
        let paths = {
            let mut p = ctx.list("paths");
            p.extend(ctx.list("path"));
            p.extend(ctx.list("name"));
            p
        };
        if paths.is_empty() {
            return Err(fail("missing required arguments: paths"));
        }
        let mut patterns = ctx.list("patterns");
        patterns.extend(ctx.list("pattern"));
        let mut excludes = ctx.list("excludes");
        excludes.extend(ctx.list("exclude"));
        let use_regex = ctx.bool("use_regex", false)?;
        let recurse = ctx.bool("recurse", false)?;
        let hidden = ctx.bool("hidden", false)?;
        let file_type = ctx.str("file_type").unwrap_or_else(|| "file".into());
        let depth = if recurse {
            ctx.int("depth")?
                .map(|d| format!("-maxdepth {d}"))
                .unwrap_or_default()
        } else {
            "-maxdepth 1".into()
        };
        let ty = match file_type.as_str() {
            "file" => "-type f",
            "directory" => "-type d",
            "link" => "-type l",
            "any" => "",
            other => return Err(fail(format!("invalid file_type {other}"))),
        };
        let mut script = String::new();
        for p in &paths {
            script.push_str(&format!("find {} -mindepth 1 {depth} {ty} -printf '%p\\t%y\\t%m\\t%U\\t%G\\t%u\\t%g\\t%s\\t%T@\\t%A@\\n' 2>/dev/null;", shq(p)));
        }
        let out = ctx.sh(&script).await?;
        let pats: Vec<Box<dyn Fn(&str) -> bool + Send + Sync>> = patterns
            .iter()
            .map(|p| -> Box<dyn Fn(&str) -> bool + Send + Sync> {
                if use_regex {
                    let r = regex::Regex::new(&format!("^(?:{p})$")).ok();
                    Box::new(move |n: &str| r.as_ref().is_some_and(|r| r.is_match(n)))
                } else {
                    let g = glob::Pattern::new(p).ok();
                    Box::new(move |n: &str| g.as_ref().is_some_and(|g| g.matches(n)))
                }
            })
            .collect();
        let excl: Vec<glob::Pattern> = excludes
            .iter()
            .filter_map(|e| glob::Pattern::new(e).ok())
            .collect();
        let contains = ctx
            .str("contains")
            .map(|c| regex::Regex::new(&c))
            .transpose()
            .map_err(|e| fail(e.to_string()))?;
        let mut files = vec![];
        for line in out.stdout_str().lines() {
            let f: Vec<&str> = line.split('\t').collect();
            if f.len() < 10 {
                continue;
            }
            let name = f[0].rsplit('/').next().unwrap_or("");
            if !hidden && name.starts_with('.') {
                continue;
            }
            if !pats.is_empty() && !pats.iter().any(|p| p(name)) {
                continue;
            }
            if excl.iter().any(|e| e.matches(name)) {
                continue;
            }
            if let Some(c) = &contains {
                let data = ctx
                    .t()
                    .read_file(f[0])
                    .await?
                    .map(|(d, _)| String::from_utf8_lossy(&d).into_owned())
                    .unwrap_or_default();
                if !data.lines().any(|l| c.is_match(l)) {
                    continue;
                }
            }
            files.push(json!({
                "path": f[0], "isdir": f[1] == "d", "isreg": f[1] == "f", "islnk": f[1] == "l",
                "mode": format!("{:0>4}", f[2]), "uid": f[3].parse::<u64>().unwrap_or(0), "gid": f[4].parse::<u64>().unwrap_or(0),
                "pw_name": f[5], "gr_name": f[6], "size": f[7].parse::<u64>().unwrap_or(0),
                "mtime": f[8].parse::<f64>().unwrap_or(0.0), "atime": f[9].parse::<f64>().unwrap_or(0.0),
            }));
        }
        let mut res = Res::new();
        res.insert("changed".into(), json!(false));
        res.insert("matched".into(), json!(files.len()));
        res.insert("examined".into(), json!(out.stdout_str().lines().count()));
        res.insert("files".into(), Json::Array(files));
        res.insert("msg".into(), json!("All paths examined"));
        res.insert("skipped_paths".into(), json!({}));
        Ok(res)
    }
}
