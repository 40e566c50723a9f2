//! `set_fact`: host variables with high precedence (the engine stores `ansible_facts`).

use async_trait::async_trait;
use serde_json::{Value as Json, json};

use super::{Ctx, Module, ModuleError, Res};

pub struct SetFact;

#[async_trait]
impl Module for SetFact {
    fn name(&self) -> &'static str {
        "set_fact"
    }
    fn params(&self) -> &'static [&'static str] {
        &[]
    }
    fn controller_only(&self) -> bool {
        true
    }
    async fn run(&self, ctx: &Ctx<'_>) -> Result<Res, ModuleError> {
        let mut facts = serde_json::Map::new();
        for (k, v) in ctx.args {
            if k == "cacheable" {
                continue;
            }
            if k == "_raw_params" {
                return Err(super::common::fail(
                    "set_fact takes key=value pairs, not free-form text",
                ));
            }
            // Strings that look like booleans become booleans, as Ansible does.
            let v = match v {
                Json::String(s) if matches!(s.to_ascii_lowercase().as_str(), "yes" | "true") => {
                    json!(true)
                }
                Json::String(s) if matches!(s.to_ascii_lowercase().as_str(), "no" | "false") => {
                    json!(false)
                }
                other => other.clone(),
            };
            facts.insert(k.clone(), v);
        }
        if facts.is_empty() {
            return Err(super::common::fail(
                "No key/value pairs provided, at least one is required for this action to succeed",
            ));
        }
        let mut res = Res::new();
        res.insert("changed".into(), json!(false));
        res.insert("ansible_facts".into(), Json::Object(facts));
        res.insert("_set_fact".into(), json!(true));
        Ok(res)
    }
}

// Note: module args are checked against `params()` except for set_fact (any key is a fact).
