//! `lineinfile`: ensure a line is present (replacing the last `regexp` match) or absent.

use async_trait::async_trait;
use serde_json::json;

use super::common::{edit_file, fail};
use super::diff::EditDiff;
use super::{Ctx, Module, ModuleError, Res};

pub struct LineInFile;

fn lines_of(s: &str) -> Vec<String> {
    s.split_inclusive('\n').map(str::to_string).collect()
}

/// A line without its final newline: Python's `$` (what Ansible's regexps are written
/// for) also matches just before it, the regex crate's does not.
fn body(l: &str) -> &str {
    l.strip_suffix('\n').unwrap_or(l)
}

fn re(p: &str) -> Result<regex::Regex, ModuleError> {
    regex::Regex::new(p).map_err(|e| fail(format!("invalid regular expression {p}: {e}")))
}

#[async_trait]
impl Module for LineInFile {
    fn name(&self) -> &'static str {
        "lineinfile"
    }
    fn params(&self) -> &'static [&'static str] {
        &[
            "path",
            "dest",
            "destfile",
            "name",
            "regexp",
            "regex",
            "search_string",
            "state",
            "line",
            "value",
            "backrefs",
            "insertafter",
            "insertbefore",
            "create",
            "backup",
            "firstmatch",
            "validate",
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
        let state = ctx.str("state").unwrap_or_else(|| "present".into());
        let regexp = ctx
            .str_any(&["regexp", "regex"])
            .map(|r| re(&r))
            .transpose()?;
        let search = ctx.str("search_string");
        let line = ctx.str_any(&["line", "value"]);
        let backrefs = ctx.bool("backrefs", false)?;
        let firstmatch = ctx.bool("firstmatch", false)?;
        let insertafter = ctx.str("insertafter");
        let insertbefore = ctx.str("insertbefore");
        let create = ctx.bool("create", false)?;
        if state == "absent" {
            if ctx.t().stat(&path).await?.is_none() {
                let mut r = Res::new();
                r.insert("changed".into(), json!(false));
                r.insert("found".into(), json!(0));
                r.insert("msg".into(), json!("file not present"));
                return Ok(r);
            }
            let mut found = 0;
            let res = edit_file(ctx, &path, false, EditDiff::ContentAndAttributes, |old| {
                let lines = lines_of(old.unwrap_or(""));
                let kept: Vec<String> = lines
                    .into_iter()
                    .filter(|l| {
                        let bare = l.trim_end_matches(['\r', '\n']);
                        let m = match (&regexp, &search, &line) {
                            (Some(r), _, _) => r.is_match(body(l)),
                            (None, Some(s), _) => l.contains(s.as_str()),
                            (None, None, Some(li)) => bare == li,
                            _ => false,
                        };
                        if m {
                            found += 1;
                        }
                        !m
                    })
                    .collect();
                let msg = if found > 0 {
                    format!("{found} line(s) removed")
                } else {
                    String::new()
                };
                Ok((kept.concat(), msg))
            })
            .await?;
            let mut res = res;
            res.insert("found".into(), json!(found));
            return Ok(res);
        }
        let line = line.ok_or_else(|| fail("line is required with state=present"))?;
        let insertafter = if insertafter.is_none() && insertbefore.is_none() {
            Some("EOF".to_string())
        } else {
            insertafter
        };
        let ins_re = match (&insertafter, &insertbefore) {
            (Some(a), _) if a != "BOF" && a != "EOF" => Some(re(a)?),
            (_, Some(b)) if b != "BOF" => Some(re(b)?),
            _ => None,
        };
        let mut res = edit_file(ctx, &path, create, EditDiff::ContentAndAttributes, |old| {
            let mut lines = lines_of(old.unwrap_or(""));
            let mut index: [i64; 2] = [-1, -1];
            let mut matched: Option<String> = None; // the matched line (for backrefs)
            let mut exact = false;
            if let Some(r) = &regexp {
                for (i, l) in lines.iter().enumerate() {
                    if r.is_match(body(l)) {
                        index[0] = i as i64;
                        matched = Some(l.clone());
                        if firstmatch {
                            break;
                        }
                    }
                }
            }
            if let Some(s) = &search {
                for (i, l) in lines.iter().enumerate() {
                    if l.contains(s.as_str()) {
                        index[0] = i as i64;
                        matched = Some(l.clone());
                        if firstmatch {
                            break;
                        }
                    }
                }
            }
            if matched.is_none() {
                for (i, l) in lines.iter().enumerate() {
                    if l.trim_end_matches(['\r', '\n']) == line {
                        index[0] = i as i64;
                        exact = true;
                    } else if let Some(ir) = &ins_re
                        && ir.is_match(body(l))
                    {
                        if insertafter.is_some() {
                            index[1] = i as i64 + 1;
                            if firstmatch {
                                break;
                            }
                        }
                        if insertbefore.is_some() {
                            index[1] = i as i64;
                            if firstmatch {
                                break;
                            }
                        }
                    }
                }
            }
            let mut msg = String::new();
            let nl = |s: &str| s.trim_end_matches(['\r', '\n']).to_string();
            if index[0] != -1 {
                let mut new_line = match (&regexp, backrefs, &matched) {
                    (Some(r), true, Some(m)) => {
                        let caps = r
                            .captures(body(m))
                            .ok_or_else(|| fail("backrefs match vanished"))?;
                        let mut out = String::new();
                        caps.expand(&crate::template::py_replacement_pub(&line), &mut out);
                        out
                    }
                    _ => line.clone(),
                };
                if !new_line.ends_with('\n') {
                    new_line.push('\n');
                }
                let idx = index[0] as usize;
                if regexp.is_none() && search.is_none() && matched.is_none() && !exact {
                    // unreachable in practice (index[0] set means a match or exact line)
                } else if lines[idx] != new_line {
                    lines[idx] = new_line;
                    msg = "line replaced".into();
                }
            } else if backrefs {
            } else if insertbefore.as_deref() == Some("BOF")
                || insertafter.as_deref() == Some("BOF")
            {
                lines.insert(0, format!("{line}\n"));
                msg = "line added".into();
            } else if insertafter.as_deref() == Some("EOF") || index[1] == -1 {
                if let Some(last) = lines.last()
                    && !last.ends_with('\n')
                    && !last.ends_with('\r')
                {
                    lines.push("\n".into());
                }
                lines.push(format!("{line}\n"));
                msg = "line added".into();
            } else if insertafter.is_some() && index[1] != -1 {
                let i = index[1] as usize;
                if lines.len() == i {
                    if nl(&lines[i - 1]) != line {
                        lines.push(format!("{line}\n"));
                        msg = "line added".into();
                    }
                } else if nl(&lines[i]) != line {
                    lines.insert(i, format!("{line}\n"));
                    msg = "line added".into();
                }
            } else {
                lines.insert(index[1] as usize, format!("{line}\n"));
                msg = "line added".into();
            }
            Ok((lines.concat(), msg))
        })
        .await?;
        res.entry("backup").or_insert(json!(""));
        Ok(res)
    }
}
