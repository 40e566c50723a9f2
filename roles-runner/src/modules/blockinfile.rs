//! `blockinfile`: a marked block of lines, inserted, updated or removed.

use async_trait::async_trait;

use super::common::{edit_file, fail};
use super::diff::EditDiff;
use super::{Ctx, Module, ModuleError, Res};

pub struct BlockInFile;

#[async_trait]
impl Module for BlockInFile {
    fn name(&self) -> &'static str {
        "blockinfile"
    }
    fn params(&self) -> &'static [&'static str] {
        &[
            "path",
            "dest",
            "destfile",
            "name",
            "state",
            "marker",
            "block",
            "content",
            "insertafter",
            "insertbefore",
            "create",
            "backup",
            "validate",
            "marker_begin",
            "marker_end",
            "append_newline",
            "prepend_newline",
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
        let present = ctx.str("state").as_deref() != Some("absent");
        if !present && ctx.t().stat(&path).await?.is_none() {
            let mut r = Res::new();
            r.insert("changed".into(), serde_json::json!(false));
            r.insert(
                "msg".into(),
                serde_json::json!(format!("File {path} not present")),
            );
            return Ok(r);
        }
        let marker = ctx
            .str("marker")
            .unwrap_or_else(|| "# {mark} ANSIBLE MANAGED BLOCK".into());
        let mut block = ctx.str_any(&["block", "content"]).unwrap_or_default();
        let insertafter = ctx.str("insertafter");
        let insertbefore = ctx.str("insertbefore");
        let marker0 = format!(
            "{}\n",
            marker.replace(
                "{mark}",
                &ctx.str("marker_begin").unwrap_or_else(|| "BEGIN".into())
            )
        );
        let marker1 = format!(
            "{}\n",
            marker.replace(
                "{mark}",
                &ctx.str("marker_end").unwrap_or_else(|| "END".into())
            )
        );
        let append_nl = ctx.bool("append_newline", false)?;
        let prepend_nl = ctx.bool("prepend_newline", false)?;
        let insertafter = if insertafter.is_none() && insertbefore.is_none() {
            Some("EOF".to_string())
        } else {
            insertafter
        };
        let insert_re = match (&insertafter, &insertbefore) {
            (Some(a), _) if a != "EOF" => {
                Some(regex::Regex::new(a).map_err(|e| fail(e.to_string()))?)
            }
            (_, Some(b)) if b != "BOF" => {
                Some(regex::Regex::new(b).map_err(|e| fail(e.to_string()))?)
            }
            _ => None,
        };
        edit_file(
            ctx,
            &path,
            ctx.bool("create", false)?,
            EditDiff::ContentAndAttributes,
            |old| {
                let mut lines: Vec<String> = old
                    .unwrap_or("")
                    .split_inclusive('\n')
                    .map(str::to_string)
                    .collect();
                let blocklines: Vec<String> = if present && !block.is_empty() {
                    if !block.ends_with('\n') {
                        block.push('\n');
                    }
                    let mut v = vec![marker0.clone()];
                    v.extend(block.split_inclusive('\n').map(str::to_string));
                    v.push(marker1.clone());
                    v
                } else {
                    vec![]
                };
                let (mut n0, mut n1) = (None, None);
                for (i, l) in lines.iter().enumerate() {
                    if *l == marker0 {
                        n0 = Some(i);
                    }
                    if *l == marker1 {
                        n1 = Some(i);
                    }
                }
                let mut at = match (n0, n1) {
                    (Some(a), Some(b)) if a < b => {
                        lines.drain(a..=b);
                        a
                    }
                    (Some(a), Some(b)) => {
                        lines.drain(b..=a);
                        b
                    }
                    _ => {
                        if let Some(r) = &insert_re {
                            let mut found = None;
                            for (i, l) in lines.iter().enumerate() {
                                if r.is_match(l) {
                                    found = Some(i);
                                }
                            }
                            match found {
                                None => lines.len(),
                                Some(i) if insertafter.is_some() => i + 1,
                                Some(i) => i,
                            }
                        } else if insertbefore.is_some() {
                            0
                        } else {
                            lines.len()
                        }
                    }
                };
                if at > 0 && !lines[at - 1].ends_with('\n') {
                    lines[at - 1].push('\n');
                }
                if prepend_nl && present && at != 0 && lines[at - 1] != "\n" {
                    lines.insert(at, "\n".into());
                    at += 1;
                }
                let n = blocklines.len();
                let empty_block = blocklines.is_empty();
                lines.splice(at..at, blocklines);
                if append_nl && present {
                    let after = at + n;
                    if after < lines.len() && lines[after] != "\n" {
                        lines.insert(after, "\n".into());
                    }
                }
                let result = lines.concat();
                let msg = if old == Some(result.as_str()) {
                    ""
                } else if old.is_none() {
                    "File created"
                } else if empty_block {
                    "Block removed"
                } else {
                    "Block inserted"
                };
                Ok((result, msg.to_string()))
            },
        )
        .await
    }
}
