//! `debug`: print a message or a variable.

use async_trait::async_trait;
use serde_json::{Value as Json, json};

use super::{Ctx, Module, ModuleError, Res};

pub struct Debug;

#[async_trait]
impl Module for Debug {
    fn name(&self) -> &'static str {
        "debug"
    }
    fn params(&self) -> &'static [&'static str] {
        &["msg", "var", "verbosity"]
    }
    fn raw_params(&self) -> &'static [&'static str] {
        &["var"]
    }
    fn controller_only(&self) -> bool {
        true
    }
    async fn run(&self, ctx: &Ctx<'_>) -> Result<Res, ModuleError> {
        let mut res = Res::new();
        let verbosity = ctx.int("verbosity")?.unwrap_or(0);
        if i64::from(ctx.verbosity) < verbosity {
            res.insert(
                "skipped_reason".into(),
                json!("Verbosity threshold not met."),
            );
            res.insert("skipped".into(), json!(true));
            return Ok(res);
        }
        res.insert("changed".into(), json!(false));
        if let Some(Json::String(var)) = ctx.raw_args.get("var") {
            let expr = format!("{{{{ {var} }}}}");
            let value = match ctx.templar.render_str_native(&expr, ctx.scope) {
                Ok(v) => v,
                Err(_) => json!("VARIABLE IS NOT DEFINED!"),
            };
            res.insert(var.clone(), value);
        } else {
            res.insert(
                "msg".into(),
                ctx.get("msg").cloned().unwrap_or(json!("Hello world!")),
            );
        }
        res.insert("_ansible_verbose_always".into(), json!(true));
        Ok(res)
    }
}
