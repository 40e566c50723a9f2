//! `getent`: a database lookup, stored as the `getent_<database>` fact.

use async_trait::async_trait;
use serde_json::{Map, Value as Json, json};

use super::common::fail;
use super::{Ctx, Module, ModuleError, Res};
use crate::util::shq;

pub struct Getent;

#[async_trait]
impl Module for Getent {
    fn name(&self) -> &'static str {
        "getent"
    }
    fn params(&self) -> &'static [&'static str] {
        &["database", "key", "split", "fail_key", "service"]
    }
    async fn run(&self, ctx: &Ctx<'_>) -> Result<Res, ModuleError> {
        let db = ctx.req_str("database")?;
        let key = ctx.str("key");
        let split = ctx.str("split").unwrap_or_else(|| {
            if matches!(db.as_str(), "passwd" | "group" | "shadow" | "gshadow") {
                ":".into()
            } else {
                " ".into()
            }
        });
        let cmd = format!(
            "getent {} {}",
            shq(&db),
            key.as_deref().map(shq).unwrap_or_default()
        );
        let out = ctx.sh(&cmd).await?;
        if out.rc == 2 && ctx.bool("fail_key", true)? {
            return Err(fail(
                "One or more supplied key could not be found in the database.",
            ));
        }
        if out.rc == 1 {
            return Err(fail("Missing arguments, or database unknown."));
        }
        let mut map = Map::new();
        for line in out.stdout_str().lines() {
            let mut parts: Vec<String> = if split == " " {
                line.split_whitespace().map(str::to_string).collect()
            } else {
                line.split(split.as_str()).map(str::to_string).collect()
            };
            if parts.is_empty() {
                continue;
            }
            let k = parts.remove(0);
            map.entry(k).or_insert(json!(parts));
        }
        let mut facts = Map::new();
        facts.insert(format!("getent_{db}"), Json::Object(map));
        let mut res = Res::new();
        res.insert("changed".into(), json!(false));
        res.insert("ansible_facts".into(), Json::Object(facts));
        Ok(res)
    }
}
