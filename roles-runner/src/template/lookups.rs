//! `lookup()` / `query()`: `file`, `env`, `vars`, `template`, `first_found`, `items`, `list`,
//! `dict`, `fileglob`, `pipe`. Relative paths are searched in the role's `files/` or
//! `templates/` directory, then beside the playbook (the magic variables `role_path` and
//! `playbook_dir` tell where).

use std::path::{Path, PathBuf};

use minijinja::value::{Kwargs, Rest, Value};
use minijinja::{Environment, Error, ErrorKind, State};

use super::{to_json, to_value};

fn err(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

pub fn register(env: &mut Environment<'static>) {
    env.add_function(
        "lookup",
        |state: &State, name: String, terms: Rest<Value>, kw: Kwargs| {
            lookup(state, &name, terms.to_vec(), kw, false)
        },
    );
    env.add_function(
        "query",
        |state: &State, name: String, terms: Rest<Value>, kw: Kwargs| {
            lookup(state, &name, terms.to_vec(), kw, true)
        },
    );
    env.add_function(
        "q",
        |state: &State, name: String, terms: Rest<Value>, kw: Kwargs| {
            lookup(state, &name, terms.to_vec(), kw, true)
        },
    );
}

/// Directories searched for a relative path, most specific first.
pub fn search_dirs(
    role_path: Option<&str>,
    playbook_dir: Option<&str>,
    subdir: &str,
) -> Vec<PathBuf> {
    let mut dirs = vec![];
    if let Some(r) = role_path {
        dirs.push(Path::new(r).join(subdir));
        dirs.push(PathBuf::from(r));
    }
    if let Some(p) = playbook_dir {
        dirs.push(Path::new(p).join(subdir));
        dirs.push(PathBuf::from(p));
    }
    dirs
}

pub fn find_file(
    role_path: Option<&str>,
    playbook_dir: Option<&str>,
    subdir: &str,
    name: &str,
) -> Option<PathBuf> {
    if name.starts_with('/') {
        let p = PathBuf::from(name);
        return p.exists().then_some(p);
    }
    search_dirs(role_path, playbook_dir, subdir)
        .into_iter()
        .map(|d| d.join(name))
        .find(|p| p.exists())
}

fn magic(state: &State, name: &str) -> Option<String> {
    state
        .lookup(name)
        .and_then(|v| v.as_str().map(str::to_string))
}

fn flat_terms(terms: Vec<Value>) -> Vec<Value> {
    let mut out = vec![];
    for t in terms {
        if let Ok(it) = t.try_iter()
            && t.as_str().is_none()
            && t.kind() == minijinja::value::ValueKind::Seq
        {
            out.extend(it);
        } else {
            out.push(t);
        }
    }
    out
}

fn lookup(
    state: &State,
    name: &str,
    terms: Vec<Value>,
    kw: Kwargs,
    as_list: bool,
) -> Result<Value, Error> {
    let name = name.strip_prefix("ansible.builtin.").unwrap_or(name);
    let role_path = magic(state, "role_path");
    let playbook_dir = magic(state, "playbook_dir");
    let wantlist: bool = kw.get::<Option<bool>>("wantlist")?.unwrap_or(false) || as_list;
    let results: Vec<Value> = match name {
        "file" => {
            let lstrip: bool = kw.get::<Option<bool>>("lstrip")?.unwrap_or(false);
            let rstrip: bool = kw.get::<Option<bool>>("rstrip")?.unwrap_or(true);
            let mut out = vec![];
            for t in flat_terms(terms) {
                let n = t.to_string();
                let p = find_file(role_path.as_deref(), playbook_dir.as_deref(), "files", &n)
                    .ok_or_else(|| err(format!("could not locate file in lookup: {n}")))?;
                let mut s = std::fs::read_to_string(&p)
                    .map_err(|e| err(format!("{}: {e}", p.display())))?;
                if rstrip {
                    s = s.trim_end().to_string();
                }
                if lstrip {
                    s = s.trim_start().to_string();
                }
                out.push(Value::from(s));
            }
            out
        }
        "env" => {
            let default: Option<Value> = kw.get("default")?;
            flat_terms(terms)
                .into_iter()
                .map(|t| match std::env::var(t.to_string()) {
                    Ok(v) => Value::from(v),
                    Err(_) => default.clone().unwrap_or(Value::from("")),
                })
                .collect()
        }
        "vars" => {
            let default: Option<Value> = kw.get("default")?;
            let mut out = vec![];
            for t in flat_terms(terms) {
                let n = t.to_string();
                match state.lookup(&n).filter(|v| !v.is_undefined()) {
                    Some(v) => out.push(v),
                    None => match &default {
                        Some(d) => out.push(d.clone()),
                        None => {
                            return Err(Error::new(
                                ErrorKind::UndefinedError,
                                format!("No variable found with this name: {n}"),
                            ));
                        }
                    },
                }
            }
            out
        }
        "template" => {
            let mut out = vec![];
            let ctx = state.lookup("vars").unwrap_or(Value::from(()));
            for t in flat_terms(terms) {
                let n = t.to_string();
                let p = find_file(
                    role_path.as_deref(),
                    playbook_dir.as_deref(),
                    "templates",
                    &n,
                )
                .ok_or_else(|| err(format!("could not locate template in lookup: {n}")))?;
                let src = std::fs::read_to_string(&p)
                    .map_err(|e| err(format!("{}: {e}", p.display())))?;
                let text = state.env().render_str(&src, ctx.clone())?;
                out.push(Value::from(super::preserve_trailing_newlines(
                    &src, text, "\n",
                )));
            }
            out
        }
        "first_found" => {
            let mut files: Vec<String> = vec![];
            let mut paths: Vec<String> = vec![];
            for t in flat_terms(terms) {
                let j = to_json(&t);
                match j {
                    serde_json::Value::Object(m) => {
                        for key in ["files", "paths"] {
                            let target = if key == "files" {
                                &mut files
                            } else {
                                &mut paths
                            };
                            match m.get(key) {
                                Some(serde_json::Value::Array(a)) => target.extend(
                                    a.iter().filter_map(|x| x.as_str().map(str::to_string)),
                                ),
                                Some(serde_json::Value::String(s)) => {
                                    target.extend(s.split([',', ';']).map(|x| x.trim().to_string()))
                                }
                                _ => {}
                            }
                        }
                    }
                    serde_json::Value::String(s) => files.push(s),
                    _ => {}
                }
            }
            let skip: bool = kw.get::<Option<bool>>("skip")?.unwrap_or(false);
            let mut found = None;
            'outer: for f in &files {
                if paths.is_empty() {
                    if let Some(p) =
                        find_file(role_path.as_deref(), playbook_dir.as_deref(), "files", f)
                    {
                        found = Some(p);
                        break;
                    }
                } else {
                    for d in &paths {
                        let p = Path::new(d).join(f);
                        if p.exists() {
                            found = Some(p);
                            break 'outer;
                        }
                    }
                }
            }
            match found {
                Some(p) => vec![Value::from(p.display().to_string())],
                None if skip => vec![],
                None => return Err(err("No file was found when using first_found.")),
            }
        }
        "items" | "list" => flat_terms(terms),
        "dict" => {
            let mut out = vec![];
            for t in terms {
                if let serde_json::Value::Object(m) = to_json(&t) {
                    for (k, v) in m {
                        out.push(to_value(&serde_json::json!({"key": k, "value": v})));
                    }
                }
            }
            out
        }
        "fileglob" => {
            let mut out = vec![];
            for t in flat_terms(terms) {
                let pat = t.to_string();
                let full = if pat.starts_with('/') {
                    pat
                } else {
                    search_dirs(role_path.as_deref(), playbook_dir.as_deref(), "files")
                        .first()
                        .map(|d| d.join(&pat).display().to_string())
                        .unwrap_or(pat)
                };
                if let Ok(g) = glob::glob(&full) {
                    out.extend(
                        g.flatten()
                            .filter(|p| p.is_file())
                            .map(|p| Value::from(p.display().to_string())),
                    );
                }
            }
            out
        }
        "pipe" => {
            let mut out = vec![];
            for t in flat_terms(terms) {
                let o = std::process::Command::new("sh")
                    .arg("-c")
                    .arg(t.to_string())
                    .output()
                    .map_err(|e| err(e.to_string()))?;
                if !o.status.success() {
                    return Err(err(format!(
                        "lookup_plugin.pipe({t}) returned {}",
                        o.status.code().unwrap_or(-1)
                    )));
                }
                out.push(Value::from(
                    String::from_utf8_lossy(&o.stdout).trim_end().to_string(),
                ));
            }
            out
        }
        other => return Err(err(format!("lookup plugin '{other}' not found"))),
    };
    if wantlist {
        return Ok(Value::from(results));
    }
    Ok(match results.len() {
        1 => results.into_iter().next().unwrap_or(Value::from(())),
        _ if name == "first_found"
            || name == "file"
            || name == "env"
            || name == "template"
            || name == "pipe" =>
        {
            Value::from(
                results
                    .iter()
                    .map(|v| v.to_string())
                    .collect::<Vec<_>>()
                    .join(","),
            )
        }
        _ => Value::from(results),
    })
}
