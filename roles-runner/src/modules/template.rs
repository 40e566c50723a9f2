//! `template`: render a Jinja2 file from the role's `templates/` on the controller, then
//! put it like `copy` (trim_blocks on, trailing newline kept, `ansible_managed` defined).

use async_trait::async_trait;
use indexmap::IndexMap;
use serde_json::json;

use super::common::{Attrs, fail};
use super::copy::put_content_from;
use super::{Ctx, Module, ModuleError, Res};
use crate::template::{Setting, TemplateSyntax, Var};

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
        let text = ctx
            .templar
            .render_file_with(name, &source, &scope, &syntax_options(ctx)?)
            .map_err(|e| fail(format!("AnsibleError: {}", e.msg)))?;
        let attrs = Attrs::from_ctx(ctx);
        let mut res = put_content_from(
            ctx,
            &dest,
            text.as_bytes(),
            &attrs,
            ctx.bool("force", true)?,
            &rendered_tmp_name(name),
        )
        .await?;
        res.insert("src".into(), json!(path.display().to_string()));
        Ok(res)
    }
}

/// The module's Jinja options over Ansible's defaults (`trim_blocks` on).
fn syntax_options(ctx: &Ctx<'_>) -> Result<TemplateSyntax, ModuleError> {
    let mut syntax = TemplateSyntax::default();
    for key in [
        "trim_blocks",
        "lstrip_blocks",
        "newline_sequence",
        "block_start_string",
        "block_end_string",
        "variable_start_string",
        "variable_end_string",
        "comment_start_string",
        "comment_end_string",
    ] {
        let value = match ctx.get(key) {
            None => continue,
            Some(serde_json::Value::Bool(b)) => Setting::Bool(*b),
            Some(v) => {
                let s = super::common::json_to_string(v);
                // newline_sequence is written escaped in YAML single quotes: '\r\n'.
                Setting::Str(if key == "newline_sequence" {
                    s.replace("\\r", "\r").replace("\\n", "\n")
                } else {
                    s
                })
            }
        };
        syntax.set(key, value).map_err(fail)?;
    }
    Ok(syntax)
}

/// The name Ansible's diff gives a rendered template (`+++ after: NAME`): the temporary file
/// its template action writes and hands to copy,
/// `~/.ansible/tmp/ansible-local-<pid><8 chars>/tmp<8 chars>/<template file name>`. The
/// runner renders in memory, so no such file exists; the name keeps the output's shape (the
/// first part is per run, the `tmp` part per task, as in Ansible).
fn rendered_tmp_name(base: &str) -> String {
    static RUN_DIR: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let run_dir = RUN_DIR.get_or_init(|| {
        let local_tmp = std::env::var("ANSIBLE_LOCAL_TEMP").unwrap_or_else(|_| {
            let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
            format!("{home}/.ansible/tmp")
        });
        format!(
            "{}/ansible-local-{}{}",
            local_tmp.trim_end_matches('/'),
            std::process::id(),
            py_temp_chars()
        )
    });
    format!("{run_dir}/tmp{}/{base}", py_temp_chars())
}

/// Eight characters from Python tempfile's alphabet.
fn py_temp_chars() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789_";
    uuid::Uuid::new_v4()
        .as_bytes()
        .iter()
        .take(8)
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}
