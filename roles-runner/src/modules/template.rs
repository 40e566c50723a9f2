//! `template`: render a Jinja2 file from the role's `templates/` on the controller, then
//! put it like `copy` (trim_blocks on, trailing newline kept, `ansible_managed` defined).

use async_trait::async_trait;
use indexmap::IndexMap;
use serde_json::json;

use super::common::{Attrs, fail};
use super::copy::put_content;
use super::{Ctx, Module, ModuleError, Res};
use crate::template::Var;

pub struct Template;

#[async_trait]
impl Module for Template {
    fn name(&self) -> &'static str {
        "template"
    }
    fn params(&self) -> &'static [&'static str] {
        &[
            "src",
            "dest",
            "backup",
            "force",
            "validate",
            "newline_sequence",
            "trim_blocks",
            "lstrip_blocks",
            "block_start_string",
            "block_end_string",
            "variable_start_string",
            "variable_end_string",
            "comment_start_string",
            "comment_end_string",
            "output_encoding",
            "follow",
            "owner",
            "group",
            "mode",
            "seuser",
            "serole",
            "setype",
            "selevel",
            "unsafe_writes",
            "attributes",
        ]
    }
    async fn run(&self, ctx: &Ctx<'_>) -> Result<Res, ModuleError> {
        let src = ctx.req_str("src")?;
        let dest = ctx.req_str("dest")?;
        let path = ctx
            .paths
            .find("templates", &src)
            .ok_or_else(|| fail(format!("Could not find or access '{src}'")))?;
        let source =
            std::fs::read_to_string(&path).map_err(|e| fail(format!("{}: {e}", path.display())))?;
        let mut extra = IndexMap::new();
        if ctx.scope.raw("ansible_managed").is_none() {
            extra.insert(
                "ansible_managed".to_string(),
                Var::Plain(json!("Ansible managed")),
            );
        }
        extra.insert(
            "template_path".to_string(),
            Var::Plain(json!(path.display().to_string())),
        );
        extra.insert(
            "template_fullpath".to_string(),
            Var::Plain(json!(path.display().to_string())),
        );
        extra.insert("template_destpath".to_string(), Var::Plain(json!(dest)));
        extra.insert("template_host".to_string(), Var::Plain(json!(ctx.host)));
        let scope = ctx.scope.child(extra);
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("template");
        let mut text = ctx
            .templar
            .render_file(name, &source, &scope)
            .map_err(|e| fail(format!("AnsibleError: {}", e.msg)))?;
        if let Some(nl) = ctx.str("newline_sequence")
            && nl != "\n"
            && nl != "\\n"
        {
            let seq = nl.replace("\\r", "\r").replace("\\n", "\n");
            text = text.replace('\n', &seq);
        }
        let attrs = Attrs::from_ctx(ctx);
        let mut res = put_content(
            ctx,
            &dest,
            text.as_bytes(),
            &attrs,
            ctx.bool("force", true)?,
        )
        .await?;
        res.insert("src".into(), json!(path.display().to_string()));
        Ok(res)
    }
}
