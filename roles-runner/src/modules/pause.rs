//! `pause`: sleep for `seconds`/`minutes` (no interactive prompt without a TTY).

use async_trait::async_trait;
use serde_json::json;

use super::{Ctx, Module, ModuleError, Res};

pub struct Pause;

#[async_trait]
impl Module for Pause {
    fn name(&self) -> &'static str {
        "pause"
    }
    fn params(&self) -> &'static [&'static str] {
        &["seconds", "minutes", "prompt", "echo"]
    }
    fn controller_only(&self) -> bool {
        true
    }
    async fn run(&self, ctx: &Ctx<'_>) -> Result<Res, ModuleError> {
        let secs = ctx.int("seconds")?.unwrap_or(0) + ctx.int("minutes")?.unwrap_or(0) * 60;
        let start = std::time::Instant::now();
        if secs > 0 {
            tokio::time::sleep(std::time::Duration::from_secs(secs as u64)).await;
        }
        let mut res = Res::new();
        res.insert("changed".into(), json!(false));
        res.insert("delta".into(), json!(start.elapsed().as_secs()));
        res.insert("user_input".into(), json!(""));
        Ok(res)
    }
}
