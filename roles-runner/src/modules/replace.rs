//! `replace`: regular-expression substitution over a whole file (Python `re.MULTILINE`).

use async_trait::async_trait;

use super::common::{edit_file, fail};
use super::diff::EditDiff;
use super::{Ctx, Module, ModuleError, Res};

pub struct Replace;

#[async_trait]
impl Module for Replace {
    fn name(&self) -> &'static str {
        "replace"
    }
    fn params(&self) -> &'static [&'static str] {
        &[
            "path",
            "dest",
            "destfile",
            "name",
            "regexp",
            "replace",
            "after",
            "before",
            "backup",
            "validate",
            "encoding",
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
        let path = ctx
            .str_any(&["path", "dest", "destfile", "name"])
            .ok_or_else(|| fail("missing required arguments: path"))?;
        let pattern = ctx.req_str("regexp")?;
        let re = regex::RegexBuilder::new(&pattern)
            .multi_line(true)
            .build()
            .map_err(|e| fail(format!("invalid regexp: {e}")))?;
        let rep = crate::template::py_replacement_pub(&ctx.str("replace").unwrap_or_default());
        let after = ctx
            .str("after")
            .map(|a| {
                regex::RegexBuilder::new(&a)
                    .dot_matches_new_line(true)
                    .build()
            })
            .transpose()
            .map_err(|e| fail(e.to_string()))?;
        let before = ctx
            .str("before")
            .map(|b| {
                regex::RegexBuilder::new(&b)
                    .dot_matches_new_line(true)
                    .build()
            })
            .transpose()
            .map_err(|e| fail(e.to_string()))?;
        if ctx.t().stat(&path).await?.is_none() {
            let mut extra = Res::new();
            extra.insert("rc".into(), serde_json::json!(257));
            return Err(super::ModuleError::Failed {
                msg: format!("Path {path} does not exist !"),
                extra,
            });
        }
        edit_file(ctx, &path, false, EditDiff::Replace, |old| {
            let text = old.unwrap_or("");
            // Restrict to the section between `after` and `before`.
            let start = after
                .as_ref()
                .and_then(|a| a.find(text))
                .map(|m| m.end())
                .unwrap_or(0);
            let end = before
                .as_ref()
                .and_then(|b| b.find(&text[start..]))
                .map(|m| start + m.start())
                .unwrap_or(text.len());
            let section = &text[start..end];
            let count = re.find_iter(section).count();
            let replaced = re.replace_all(section, rep.as_str());
            let result = format!("{}{}{}", &text[..start], replaced, &text[end..]);
            let msg = if count > 0 && result != text {
                format!("{count} replacements made")
            } else {
                String::new()
            };
            Ok((result, msg))
        })
        .await
    }
}
