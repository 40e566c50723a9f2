//! Ansible's Jinja tests: `match`, `search`, `regex`, `version`, task-result tests, sets.

use minijinja::value::{Kwargs, Value};
use minijinja::{Environment, Error, ErrorKind};

use super::to_json;

pub fn register(env: &mut Environment<'static>) {
    env.add_test("match", |s: String, p: String, kw: Kwargs| {
        regex_test(s, p, kw, true)
    });
    env.add_test("search", |s: String, p: String, kw: Kwargs| {
        regex_test(s, p, kw, false)
    });
    env.add_test("regex", |s: String, p: String, kw: Kwargs| {
        regex_test(s, p, kw, false)
    });
    env.add_test("version", version_test);
    env.add_test("version_compare", version_test);
    env.add_test("succeeded", |v: Value| !result_flag(&v, "failed"));
    env.add_test("success", |v: Value| !result_flag(&v, "failed"));
    env.add_test("failed", |v: Value| result_flag(&v, "failed"));
    env.add_test("failure", |v: Value| result_flag(&v, "failed"));
    env.add_test("changed", |v: Value| result_flag(&v, "changed"));
    env.add_test("change", |v: Value| result_flag(&v, "changed"));
    env.add_test("skipped", |v: Value| result_flag(&v, "skipped"));
    env.add_test("skip", |v: Value| result_flag(&v, "skipped"));
    env.add_test("subset", |a: Value, b: Value| subset(&a, &b));
    env.add_test("superset", |a: Value, b: Value| subset(&b, &a));
    env.add_test("contains", |a: Value, b: Value| {
        to_json(&a)
            .as_array()
            .is_some_and(|l| l.contains(&to_json(&b)))
    });
    env.add_test("abs", |s: String| s.starts_with('/'));
    env.add_test("truthy", |v: Value| v.is_true());
    env.add_test("falsy", |v: Value| !v.is_true());
}

fn regex_test(s: String, pattern: String, kw: Kwargs, anchored: bool) -> Result<bool, Error> {
    let ic: bool = kw.get::<Option<bool>>("ignorecase")?.unwrap_or(false);
    let ml: bool = kw.get::<Option<bool>>("multiline")?.unwrap_or(false);
    let p = if anchored {
        format!("^(?:{pattern})")
    } else {
        pattern
    };
    let re = regex::RegexBuilder::new(&p)
        .case_insensitive(ic)
        .multi_line(ml)
        .build()
        .map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))?;
    Ok(re.is_match(&s))
}

fn result_flag(v: &Value, key: &str) -> bool {
    v.get_attr(key).map(|x| x.is_true()).unwrap_or(false)
}

fn subset(a: &Value, b: &Value) -> bool {
    match (to_json(a), to_json(b)) {
        (serde_json::Value::Array(a), serde_json::Value::Array(b)) => {
            a.iter().all(|x| b.contains(x))
        }
        _ => false,
    }
}

/// LooseVersion-like comparison: split into numeric and alphabetic parts.
pub fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    fn parts(s: &str) -> Vec<Result<u64, String>> {
        let re = regex::Regex::new(r"\d+|[a-zA-Z]+").expect("valid regex");
        re.find_iter(s)
            .map(|m| {
                m.as_str()
                    .parse::<u64>()
                    .map_err(|_| m.as_str().to_string())
            })
            .collect()
    }
    let (pa, pb) = (parts(a), parts(b));
    for i in 0..pa.len().max(pb.len()) {
        let ord = match (pa.get(i), pb.get(i)) {
            (Some(Ok(x)), Some(Ok(y))) => x.cmp(y),
            (Some(Err(x)), Some(Err(y))) => x.cmp(y),
            (Some(Ok(_)), Some(Err(_))) => std::cmp::Ordering::Greater,
            (Some(Err(_)), Some(Ok(_))) => std::cmp::Ordering::Less,
            (Some(_), None) => std::cmp::Ordering::Greater,
            (None, Some(_)) => std::cmp::Ordering::Less,
            (None, None) => std::cmp::Ordering::Equal,
        };
        if ord != std::cmp::Ordering::Equal {
            return ord;
        }
    }
    std::cmp::Ordering::Equal
}

fn version_test(v: Value, other: Value, op: Option<String>, kw: Kwargs) -> Result<bool, Error> {
    let op = match op {
        Some(o) => o,
        None => kw
            .get::<Option<String>>("operator")?
            .unwrap_or_else(|| "eq".into()),
    };
    let _: Option<bool> = kw.get("strict")?;
    let _: Option<String> = kw.get("version_type")?;
    let ord = compare_versions(&v.to_string(), &other.to_string());
    use std::cmp::Ordering::*;
    Ok(match op.as_str() {
        "<" | "lt" => ord == Less,
        "<=" | "le" => ord != Greater,
        ">" | "gt" => ord == Greater,
        ">=" | "ge" => ord != Less,
        "==" | "=" | "eq" => ord == Equal,
        "!=" | "<>" | "ne" => ord != Equal,
        other => {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                format!("invalid version operator {other}"),
            ));
        }
    })
}
