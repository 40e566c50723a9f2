//! `assert`: evaluate conditionals on the controller.

use async_trait::async_trait;
use serde_json::{Value as Json, json};

use super::{Ctx, Module, ModuleError, Res};

pub struct Assert;

#[async_trait]
impl Module for Assert {
    fn name(&self) -> &'static str {
        "assert"
    }
    fn params(&self) -> &'static [&'static str] {
        &["that", "fail_msg", "msg", "success_msg", "quiet"]
    }
    fn raw_params(&self) -> &'static [&'static str] {
        &["that"]
    }
    fn controller_only(&self) -> bool {
        true
    }
    async fn run(&self, ctx: &Ctx<'_>) -> Result<Res, ModuleError> {
        let that = match ctx.raw_args.get("that") {
            Some(Json::Array(a)) => a.clone(),
            Some(other) => vec![other.clone()],
            None => return Err(super::common::fail("missing required arguments: that")),
        };
        let quiet = ctx.bool("quiet", false)?;
        let mut res = Res::new();
        res.insert("changed".into(), json!(false));
        for cond in &that {
            let ok = ctx
                .templar
                .eval_cond(cond, ctx.scope)
                .map_err(|e| super::common::fail(e.msg))?;
            if !ok {
                let msg = ctx
                    .get("fail_msg")
                    .or_else(|| ctx.get("msg"))
                    .cloned()
                    .unwrap_or(json!("Assertion failed"));
                let mut extra = Res::new();
                extra.insert("assertion".into(), cond.clone());
                extra.insert("evaluated_to".into(), json!(false));
                return Err(ModuleError::Failed {
                    msg: super::common::json_to_string(&msg),
                    extra,
                });
            }
        }
        if !quiet {
            res.insert(
                "msg".into(),
                ctx.get("success_msg")
                    .cloned()
                    .unwrap_or(json!("All assertions passed")),
            );
            // Like Ansible's assert action: the result is always shown unless quiet.
            res.insert("_ansible_verbose_always".into(), json!(true));
        }
        Ok(res)
    }
}
