//! `slurp`: a remote file's content, base64-encoded.

use async_trait::async_trait;
use base64::Engine;
use serde_json::json;

use super::common::fail;
use super::{Ctx, Module, ModuleError, Res};

pub struct Slurp;

#[async_trait]
impl Module for Slurp {
    fn name(&self) -> &'static str {
        "slurp"
    }
    fn params(&self) -> &'static [&'static str] {
        &["src", "path"]
    }
    async fn run(&self, ctx: &Ctx<'_>) -> Result<Res, ModuleError> {
        let src = ctx
            .str_any(&["src", "path"])
            .ok_or_else(|| fail("missing required arguments: src"))?;
        let Some((data, _)) = ctx.t().read_file(&src).await? else {
            return Err(fail(format!("file not found: {src}")));
        };
        let mut res = Res::new();
        res.insert("changed".into(), json!(false));
        res.insert(
            "content".into(),
            json!(base64::engine::general_purpose::STANDARD.encode(&data)),
        );
        res.insert("encoding".into(), json!("base64"));
        res.insert("source".into(), json!(src));
        Ok(res)
    }
}
