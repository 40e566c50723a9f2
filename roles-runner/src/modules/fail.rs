//! `fail`: fail the task with a message.

use async_trait::async_trait;

use super::common::{fail, json_to_string};
use super::{Ctx, Module, ModuleError, Res};

pub struct Fail;

#[async_trait]
impl Module for Fail {
    fn name(&self) -> &'static str {
        "fail"
    }
    fn params(&self) -> &'static [&'static str] {
        &["msg"]
    }
    fn controller_only(&self) -> bool {
        true
    }
    async fn run(&self, ctx: &Ctx<'_>) -> Result<Res, ModuleError> {
        let msg = ctx
            .get("msg")
            .map(json_to_string)
            .unwrap_or_else(|| "Failed as requested from task".into());
        Err(fail(msg))
    }
}
