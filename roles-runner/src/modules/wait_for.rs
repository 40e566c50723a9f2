//! `wait_for`: a path (or a string in it), or a TCP port, present/absent within a timeout.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::json;

use super::common::fail;
use super::{Ctx, Module, ModuleError, Res};
use crate::util::shq;

pub struct WaitFor;

#[async_trait]
impl Module for WaitFor {
    fn name(&self) -> &'static str {
        "wait_for"
    }
    fn params(&self) -> &'static [&'static str] {
        &[
            "host",
            "port",
            "path",
            "search_regex",
            "state",
            "timeout",
            "delay",
            "sleep",
            "connect_timeout",
            "msg",
            "exclude_hosts",
            "active_connection_states",
        ]
    }
    async fn run(&self, ctx: &Ctx<'_>) -> Result<Res, ModuleError> {
        let timeout = Duration::from_secs(ctx.int("timeout")?.unwrap_or(300) as u64);
        let delay = Duration::from_secs(ctx.int("delay")?.unwrap_or(0) as u64);
        let sleep = Duration::from_secs(ctx.int("sleep")?.unwrap_or(1).max(1) as u64);
        let state = ctx.str("state").unwrap_or_else(|| "started".into());
        let absent = matches!(state.as_str(), "absent" | "stopped" | "drained");
        let probe = if let Some(p) = ctx.str("path") {
            match ctx.str("search_regex") {
                Some(r) => format!("grep -Eq {} {} 2>/dev/null", shq(&r), shq(&p)),
                None => format!("test -e {}", shq(&p)),
            }
        } else if let Some(port) = ctx.int("port")? {
            let host = ctx.str("host").unwrap_or_else(|| "127.0.0.1".into());
            format!(
                "(exec 3<>/dev/tcp/{host}/{port}) 2>/dev/null || (command -v ss >/dev/null && ss -ltn | grep -q ':{port} ')"
            )
        } else {
            tokio::time::sleep(timeout).await;
            let mut res = Res::new();
            res.insert("changed".into(), json!(false));
            res.insert("elapsed".into(), json!(timeout.as_secs()));
            return Ok(res);
        };
        tokio::time::sleep(delay).await;
        let start = Instant::now();
        loop {
            let ok = ctx
                .exec(vec!["/bin/bash".into(), "-c".into(), probe.clone()])
                .await?
                .rc
                == 0;
            if ok != absent {
                let mut res = Res::new();
                res.insert("changed".into(), json!(false));
                res.insert("elapsed".into(), json!(start.elapsed().as_secs()));
                res.insert("state".into(), json!(state));
                return Ok(res);
            }
            if start.elapsed() >= timeout {
                return Err(fail(ctx.str("msg").unwrap_or_else(|| {
                    format!(
                        "Timeout when waiting for {}",
                        ctx.str("path").or(ctx.str("port")).unwrap_or_default()
                    )
                })));
            }
            tokio::time::sleep(sleep).await;
        }
    }
}
