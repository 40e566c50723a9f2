//! Ansible's filters that minijinja lacks (or implements differently).

use minijinja::value::{Kwargs, Rest, Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind, State};
use serde_json::Value as Json;

use super::{to_json, to_value};

fn err(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

pub fn register(env: &mut Environment<'static>) {
    env.add_filter("d", minijinja::filters::default);
    env.add_filter("random", super::pyrandom::random_filter);
    env.add_filter("bool", to_bool);
    env.add_filter("ternary", ternary);
    env.add_filter("combine", combine);
    env.add_filter("dict2items", dict2items);
    env.add_filter("items2dict", items2dict);
    env.add_filter("to_json", to_json_filter);
    env.add_filter("to_nice_json", to_nice_json);
    env.add_filter("from_json", from_json);
    env.add_filter("to_yaml", to_yaml);
    env.add_filter("to_nice_yaml", to_yaml);
    env.add_filter("from_yaml", from_yaml);
    env.add_filter("regex_replace", regex_replace);
    env.add_filter("regex_search", regex_search);
    env.add_filter("regex_findall", regex_findall);
    env.add_filter("regex_escape", |s: String| regex::escape(&s));
    env.add_filter("basename", |s: String| {
        s.rsplit('/').next().unwrap_or("").to_string()
    });
    env.add_filter("dirname", dirname);
    env.add_filter("quote", quote);
    env.add_filter("mandatory", mandatory);
    env.add_filter("flatten", flatten);
    env.add_filter("difference", |a: Value, b: Value| {
        set_op(a, b, SetOp::Difference)
    });
    env.add_filter("intersect", |a: Value, b: Value| {
        set_op(a, b, SetOp::Intersect)
    });
    env.add_filter("union", |a: Value, b: Value| set_op(a, b, SetOp::Union));
    env.add_filter("symmetric_difference", |a: Value, b: Value| {
        set_op(a, b, SetOp::Symmetric)
    });
    env.add_filter("b64encode", |s: String| {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(s.as_bytes())
    });
    env.add_filter("b64decode", |s: String| -> Result<String, Error> {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(s.trim().as_bytes())
            .map_err(|e| err(e.to_string()))?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    });
    env.add_filter("hash", hash);
    env.add_filter("checksum", |s: String| hash(s, Some("sha1".into())));
    env.add_filter("sha1", |s: String| hash(s, Some("sha1".into())));
    env.add_filter("comment", comment);
    env.add_filter("type_debug", type_debug);
    env.add_filter("expanduser", |s: String| s);
    env.add_filter("splitext", |s: String| {
        let (base, ext) = match s.rfind('.') {
            Some(i) if i > s.rfind('/').map_or(0, |j| j + 1) => {
                (s[..i].to_string(), s[i..].to_string())
            }
            _ => (s.clone(), String::new()),
        };
        Value::from(vec![Value::from(base), Value::from(ext)])
    });
}

/// Ansible's `bool`: `yes/on/true/1` (any case) are true.
fn to_bool(v: Value) -> Result<bool, Error> {
    Ok(match v.kind() {
        ValueKind::Bool => v.is_true(),
        ValueKind::Number => v.as_i64().map(|n| n == 1).unwrap_or(false),
        ValueKind::String => {
            matches!(
                v.as_str()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
                    .as_str(),
                "yes" | "on" | "true" | "1" | "y"
            )
        }
        ValueKind::None | ValueKind::Undefined => false,
        _ => v.is_true(),
    })
}

fn ternary(v: Value, yes: Value, no: Value, none: Option<Value>) -> Value {
    if v.is_none()
        && let Some(n) = none
    {
        return n;
    }
    if v.is_true() { yes } else { no }
}

fn merge(a: &mut Json, b: &Json, recursive: bool, list_merge: &str) {
    match (a, b) {
        (Json::Object(am), Json::Object(bm)) => {
            for (k, bv) in bm {
                match am.get_mut(k) {
                    Some(av)
                        if recursive
                            && (av.is_object() && bv.is_object()
                                || av.is_array() && bv.is_array()) =>
                    {
                        merge(av, bv, recursive, list_merge)
                    }
                    _ => {
                        am.insert(k.clone(), bv.clone());
                    }
                }
            }
        }
        (Json::Array(al), Json::Array(bl)) => match list_merge {
            "append" => al.extend(bl.iter().cloned()),
            "prepend" => {
                let mut n = bl.clone();
                n.append(al);
                *al = n;
            }
            "append_rp" | "prepend_rp" => {
                al.retain(|x| !bl.contains(x));
                if list_merge == "append_rp" {
                    al.extend(bl.iter().cloned())
                } else {
                    let mut n = bl.clone();
                    n.append(al);
                    *al = n;
                }
            }
            "keep" => {}
            _ => *al = bl.clone(),
        },
        (a, b) => *a = b.clone(),
    }
}

fn combine(base: Value, others: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let recursive: bool = kwargs.get::<Option<bool>>("recursive")?.unwrap_or(false);
    let list_merge: String = kwargs
        .get::<Option<String>>("list_merge")?
        .unwrap_or_else(|| "replace".into());
    kwargs.assert_all_used()?;
    let mut acc = to_json(&base);
    if !acc.is_object() {
        return Err(err(format!(
            "combine expects dictionaries, got {}",
            base.kind()
        )));
    }
    let mut all: Vec<Value> = vec![];
    for o in others.iter() {
        if o.kind() == ValueKind::Seq {
            all.extend(o.try_iter()?);
        } else {
            all.push(o.clone());
        }
    }
    for o in all {
        let j = to_json(&o);
        if !j.is_object() {
            return Err(err(format!(
                "combine expects dictionaries, got {}",
                o.kind()
            )));
        }
        if recursive {
            merge(&mut acc, &j, true, &list_merge);
        } else if let (Json::Object(am), Json::Object(bm)) = (&mut acc, j) {
            for (k, v) in bm {
                am.insert(k, v);
            }
        }
    }
    Ok(to_value(&acc))
}

fn dict2items(v: Value, kwargs: Kwargs) -> Result<Value, Error> {
    let key_name: String = kwargs
        .get::<Option<String>>("key_name")?
        .unwrap_or_else(|| "key".into());
    let value_name: String = kwargs
        .get::<Option<String>>("value_name")?
        .unwrap_or_else(|| "value".into());
    kwargs.assert_all_used()?;
    let j = to_json(&v);
    let Json::Object(m) = j else {
        return Err(err(format!(
            "dict2items requires a dictionary, got {}",
            v.kind()
        )));
    };
    let items: Vec<Json> = m
        .into_iter()
        .map(|(k, v)| {
            let mut o = serde_json::Map::new();
            o.insert(key_name.clone(), Json::String(k));
            o.insert(value_name.clone(), v);
            Json::Object(o)
        })
        .collect();
    Ok(to_value(&Json::Array(items)))
}

fn items2dict(v: Value, kwargs: Kwargs) -> Result<Value, Error> {
    let key_name: String = kwargs
        .get::<Option<String>>("key_name")?
        .unwrap_or_else(|| "key".into());
    let value_name: String = kwargs
        .get::<Option<String>>("value_name")?
        .unwrap_or_else(|| "value".into());
    kwargs.assert_all_used()?;
    let mut out = serde_json::Map::new();
    if let Json::Array(items) = to_json(&v) {
        for item in items {
            let k = match item.get(&key_name) {
                Some(Json::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => return Err(err(format!("items2dict: item has no '{key_name}'"))),
            };
            out.insert(k, item.get(&value_name).cloned().unwrap_or(Json::Null));
        }
    }
    Ok(to_value(&Json::Object(out)))
}

/// Python's json.dumps: sort_keys, separators, indent, ensure_ascii.
pub fn py_json(v: &Json, indent: Option<usize>, sort_keys: bool) -> String {
    let mut out = String::new();
    write_json(v, indent, sort_keys, true, 0, &mut out);
    out
}

/// `json.dumps(..., ensure_ascii=False)`: non-ASCII characters as they are (how
/// ansible-core 2.19's callbacks dump results).
pub fn py_json_unicode(v: &Json, indent: Option<usize>, sort_keys: bool) -> String {
    let mut out = String::new();
    write_json(v, indent, sort_keys, false, 0, &mut out);
    out
}

fn write_json(
    v: &Json,
    indent: Option<usize>,
    sort: bool,
    ascii: bool,
    level: usize,
    out: &mut String,
) {
    let nl = |out: &mut String, level: usize| {
        if let Some(n) = indent {
            out.push('\n');
            out.push_str(&" ".repeat(n * level));
        }
    };
    match v {
        Json::Array(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                    if indent.is_none() {
                        out.push(' ');
                    }
                }
                nl(out, level + 1);
                write_json(item, indent, sort, ascii, level + 1, out);
            }
            nl(out, level);
            out.push(']');
        }
        Json::Object(m) => {
            if m.is_empty() {
                out.push_str("{}");
                return;
            }
            let mut keys: Vec<&String> = m.keys().collect();
            if sort {
                keys.sort();
            }
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                    if indent.is_none() {
                        out.push(' ');
                    }
                }
                nl(out, level + 1);
                write_str(k, ascii, out);
                out.push_str(": ");
                write_json(&m[k.as_str()], indent, sort, ascii, level + 1, out);
            }
            nl(out, level);
            out.push('}');
        }
        Json::String(s) => write_str(s, ascii, out),
        Json::Number(n) => {
            if let Some(f) = n.as_f64().filter(|_| n.is_f64()) {
                let s = format!("{f:?}");
                out.push_str(&s);
            } else {
                out.push_str(&n.to_string());
            }
        }
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Null => out.push_str("null"),
    }
}

fn write_str(s: &str, ascii: bool, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (ascii && (c as u32) > 0x7e) => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn to_json_filter(v: Value, kwargs: Kwargs) -> Result<String, Error> {
    let indent: Option<usize> = kwargs.get("indent")?;
    let sort: bool = kwargs.get::<Option<bool>>("sort_keys")?.unwrap_or(false);
    Ok(py_json(&to_json(&v), indent, sort))
}

fn to_nice_json(v: Value, kwargs: Kwargs) -> Result<String, Error> {
    let indent: usize = kwargs.get::<Option<usize>>("indent")?.unwrap_or(4);
    let sort: bool = kwargs.get::<Option<bool>>("sort_keys")?.unwrap_or(true);
    Ok(py_json(&to_json(&v), Some(indent), sort))
}

fn from_json(s: String) -> Result<Value, Error> {
    let j: Json = serde_json::from_str(&s).map_err(|e| err(format!("from_json: {e}")))?;
    Ok(to_value(&j))
}

fn to_yaml(v: Value, _kwargs: Kwargs) -> Result<String, Error> {
    serde_norway::to_string(&to_json(&v)).map_err(|e| err(e.to_string()))
}

fn from_yaml(s: String) -> Result<Value, Error> {
    let docs = crate::yaml::parse_str(&s, std::path::Path::new("<from_yaml>"))
        .map_err(|e| err(e.to_string()))?;
    Ok(docs
        .first()
        .map(|d| to_value(&d.to_json()))
        .unwrap_or(Value::from(())))
}

fn build_regex(pattern: &str, ignorecase: bool, multiline: bool) -> Result<regex::Regex, Error> {
    regex::RegexBuilder::new(pattern)
        .case_insensitive(ignorecase)
        .multi_line(multiline)
        .build()
        .map_err(|e| err(format!("invalid regular expression: {e}")))
}

/// Python replacement syntax (`\1`, `\g<name>`) to the regex crate's (`${1}`).
pub fn py_replacement(rep: &str) -> String {
    let mut out = String::new();
    let mut chars = rep.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '$' => out.push_str("$$"),
            '\\' => match chars.peek().copied() {
                Some(d) if d.is_ascii_digit() => {
                    chars.next();
                    out.push_str(&format!("${{{d}}}"));
                }
                Some('g') => {
                    chars.next();
                    if chars.peek() == Some(&'<') {
                        chars.next();
                        let name: String = chars.by_ref().take_while(|c| *c != '>').collect();
                        out.push_str(&format!("${{{name}}}"));
                    } else {
                        out.push_str("\\g");
                    }
                }
                Some('n') => {
                    chars.next();
                    out.push('\n');
                }
                Some('t') => {
                    chars.next();
                    out.push('\t');
                }
                Some('\\') => {
                    chars.next();
                    out.push('\\');
                }
                _ => out.push('\\'),
            },
            c => out.push(c),
        }
    }
    out
}

fn regex_replace(
    s: String,
    pattern: String,
    replacement: Option<String>,
    kwargs: Kwargs,
) -> Result<String, Error> {
    let ic: bool = kwargs.get::<Option<bool>>("ignorecase")?.unwrap_or(false);
    let ml: bool = kwargs.get::<Option<bool>>("multiline")?.unwrap_or(false);
    let count: usize = kwargs.get::<Option<usize>>("count")?.unwrap_or(0);
    let re = build_regex(&pattern, ic, ml)?;
    let rep = py_replacement(&replacement.unwrap_or_default());
    Ok(re.replacen(&s, count, rep.as_str()).into_owned())
}

fn regex_search(
    s: String,
    pattern: String,
    groups: Rest<String>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let ic: bool = kwargs.get::<Option<bool>>("ignorecase")?.unwrap_or(false);
    let ml: bool = kwargs.get::<Option<bool>>("multiline")?.unwrap_or(false);
    let re = build_regex(&pattern, ic, ml)?;
    let Some(caps) = re.captures(&s) else {
        return Ok(Value::from(()));
    };
    if groups.is_empty() {
        return Ok(Value::from(caps.get(0).map(|m| m.as_str()).unwrap_or("")));
    }
    let mut out = vec![];
    for g in groups.iter() {
        let m = if let Some(n) = g.strip_prefix('\\') {
            n.parse::<usize>().ok().and_then(|i| caps.get(i))
        } else if let Some(name) = g.strip_prefix("\\g<").and_then(|x| x.strip_suffix('>')) {
            caps.name(name)
        } else {
            caps.name(g)
        };
        out.push(Value::from(m.map(|m| m.as_str()).unwrap_or("")));
    }
    Ok(Value::from(out))
}

fn regex_findall(s: String, pattern: String, kwargs: Kwargs) -> Result<Value, Error> {
    let ic: bool = kwargs.get::<Option<bool>>("ignorecase")?.unwrap_or(false);
    let ml: bool = kwargs.get::<Option<bool>>("multiline")?.unwrap_or(false);
    let re = build_regex(&pattern, ic, ml)?;
    let out: Vec<Value> = re
        .captures_iter(&s)
        .map(|c| {
            if c.len() == 1 {
                Value::from(c.get(0).map(|m| m.as_str()).unwrap_or(""))
            } else if c.len() == 2 {
                Value::from(c.get(1).map(|m| m.as_str()).unwrap_or(""))
            } else {
                Value::from(
                    c.iter()
                        .skip(1)
                        .map(|m| Value::from(m.map(|m| m.as_str()).unwrap_or("")))
                        .collect::<Vec<_>>(),
                )
            }
        })
        .collect();
    Ok(Value::from(out))
}

fn dirname(s: String) -> String {
    match s.rfind('/') {
        Some(0) => "/".into(),
        Some(i) => s[..i].to_string(),
        None => String::new(),
    }
}

/// POSIX shell quoting as Python's shlex.quote.
pub fn quote(s: Value) -> String {
    let s = s.to_string();
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "@%+=:,./-_".contains(c))
    {
        return s;
    }
    if s.is_empty() {
        return "''".into();
    }
    format!("'{}'", s.replace('\'', "'\"'\"'"))
}

fn mandatory(state: &State, v: Value, msg: Option<String>) -> Result<Value, Error> {
    let _ = state;
    if v.is_undefined() {
        return Err(Error::new(
            ErrorKind::UndefinedError,
            msg.unwrap_or_else(|| "Mandatory variable not defined.".into()),
        ));
    }
    Ok(v)
}

fn flatten(v: Value, levels: Option<usize>) -> Result<Value, Error> {
    fn go(j: &Json, depth: Option<usize>, out: &mut Vec<Json>) {
        match j {
            Json::Array(items) => {
                for i in items {
                    match (i, depth) {
                        (Json::Array(_), Some(0)) => out.push(i.clone()),
                        (Json::Array(_), d) => go(i, d.map(|d| d - 1), out),
                        (Json::Null, _) => {}
                        _ => out.push(i.clone()),
                    }
                }
            }
            other => out.push(other.clone()),
        }
    }
    let mut out = vec![];
    go(&to_json(&v), levels.map(|l| l.saturating_sub(1)), &mut out);
    Ok(to_value(&Json::Array(out)))
}

enum SetOp {
    Difference,
    Intersect,
    Union,
    Symmetric,
}

fn set_op(a: Value, b: Value, op: SetOp) -> Result<Value, Error> {
    let (Json::Array(a), Json::Array(b)) = (to_json(&a), to_json(&b)) else {
        return Err(err("set operations need lists"));
    };
    let mut out: Vec<Json> = vec![];
    let mut push = |x: &Json| {
        if !out.contains(x) {
            out.push(x.clone())
        }
    };
    match op {
        SetOp::Difference => a.iter().filter(|x| !b.contains(x)).for_each(&mut push),
        SetOp::Intersect => a.iter().filter(|x| b.contains(x)).for_each(&mut push),
        SetOp::Union => a.iter().chain(b.iter()).for_each(&mut push),
        SetOp::Symmetric => {
            a.iter().filter(|x| !b.contains(x)).for_each(&mut push);
            b.iter().filter(|x| !a.contains(x)).for_each(&mut push);
        }
    }
    Ok(to_value(&Json::Array(out)))
}

fn hash(s: String, algo: Option<String>) -> Result<String, Error> {
    use sha2::Digest;
    match algo.as_deref().unwrap_or("sha1") {
        "sha256" => Ok(hex::encode(sha2::Sha256::digest(s.as_bytes()))),
        "sha512" => Ok(hex::encode(sha2::Sha512::digest(s.as_bytes()))),
        "sha224" => Ok(hex::encode(sha2::Sha224::digest(s.as_bytes()))),
        "sha384" => Ok(hex::encode(sha2::Sha384::digest(s.as_bytes()))),
        "sha1" => Ok(crate::util::sha1_hex(s.as_bytes())),
        other => Err(err(format!("unsupported hash type {other}"))),
    }
}

/// `comment` filter, plain style only (`# ` prefix, blank decoration lines).
fn comment(s: String, style: Option<String>, kwargs: Kwargs) -> Result<String, Error> {
    let decoration: Option<String> = kwargs.get("decoration")?;
    let (prefix, deco) = match style.as_deref().unwrap_or("plain") {
        "c" => ("// ", decoration.unwrap_or_else(|| "// ".into())),
        "erlang" => ("% ", decoration.unwrap_or_else(|| "% ".into())),
        _ => ("# ", decoration.unwrap_or_else(|| "# ".into())),
    };
    let _ = prefix;
    let mut out = String::new();
    out.push_str(deco.trim_end());
    out.push('\n');
    for line in s.lines() {
        out.push_str(&deco);
        out.push_str(line);
        out.push('\n');
    }
    out.push_str(deco.trim_end());
    Ok(out)
}

fn type_debug(v: Value) -> &'static str {
    match v.kind() {
        ValueKind::Undefined => "AnsibleUndefined",
        ValueKind::None => "NoneType",
        ValueKind::Bool => "bool",
        ValueKind::Number => {
            if v.as_i64().is_some() {
                "int"
            } else {
                "float"
            }
        }
        ValueKind::String => "str",
        ValueKind::Seq => "list",
        ValueKind::Map => "dict",
        _ => "object",
    }
}
