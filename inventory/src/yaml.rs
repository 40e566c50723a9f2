//! A small YAML writer for JSON-shaped data, safe for Ansible's YAML 1.1 loader (PyYAML).
//!
//! General YAML serialisers target YAML 1.2 and leave `yes`, `on`, `N`, `1_000`, `12:30` or
//! `2001-01-01` unquoted; PyYAML (YAML 1.1) then reads them as booleans, integers, sexagesimals or
//! dates, silently changing the user's vars. So strings are written plain only when they are
//! unambiguous (ASCII identifier-like words that no YAML 1.1 resolver claims), and as JSON
//! double-quoted strings otherwise (valid YAML double-quoted scalars). Containers inside lists are
//! written in JSON flow style, which YAML also reads.

use serde_json::{Number, Value};

/// Renders a document (normally an object) as block YAML, ending with a newline.
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => write_map(map, 0, &mut out),
        other => {
            out.push_str(&scalar_or_flow(other));
            out.push('\n');
        }
    }
    out
}

fn write_map(map: &serde_json::Map<String, Value>, indent: usize, out: &mut String) {
    for (key, value) in map {
        push_indent(indent, out);
        out.push_str(&string(key));
        out.push(':');
        match value {
            Value::Object(m) if !m.is_empty() => {
                out.push('\n');
                write_map(m, indent + 2, out);
            }
            Value::Array(items) if !items.is_empty() => {
                out.push('\n');
                write_list(items, indent + 2, out);
            }
            other => {
                out.push(' ');
                out.push_str(&scalar_or_flow(other));
                out.push('\n');
            }
        }
    }
}

fn write_list(items: &[Value], indent: usize, out: &mut String) {
    for item in items {
        push_indent(indent, out);
        out.push_str("- ");
        out.push_str(&scalar_or_flow(item));
        out.push('\n');
    }
}

fn push_indent(indent: usize, out: &mut String) {
    out.extend(std::iter::repeat_n(' ', indent));
}

/// A scalar, or an (empty or nested) container in JSON flow style.
fn scalar_or_flow(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => number(n),
        Value::String(s) => string(s),
        Value::Array(_) | Value::Object(_) => flow(v),
    }
}

/// JSON flow style, but with numbers in YAML 1.1 form.
fn flow(v: &Value) -> String {
    match v {
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(flow).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Object(map) => {
            let parts: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", quoted(k), flow(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        Value::String(s) => quoted(s),
        other => scalar_or_flow(other),
    }
}

/// YAML 1.1 floats need a dot and a signed exponent (`1.0e+30`); JSON allows `1e30`, which PyYAML
/// would read as a string.
fn number(n: &Number) -> String {
    let text = n.to_string();
    if !n.is_f64() {
        return text;
    }
    match text.split_once(['e', 'E']) {
        Some((mantissa, exp)) => {
            let mantissa = if mantissa.contains('.') {
                mantissa.to_owned()
            } else {
                format!("{mantissa}.0")
            };
            let exp = if exp.starts_with(['-', '+']) {
                exp.to_owned()
            } else {
                format!("+{exp}")
            };
            format!("{mantissa}e{exp}")
        }
        None if text.contains('.') => text,
        None => format!("{text}.0"),
    }
}

/// Plain when unambiguous, JSON-quoted otherwise.
fn string(s: &str) -> String {
    if is_plain_safe(s) {
        s.to_owned()
    } else {
        quoted(s)
    }
}

fn quoted(s: &str) -> String {
    // A JSON string is a valid YAML double-quoted scalar (same escapes); it cannot fail for &str.
    serde_json::Value::String(s.to_owned()).to_string()
}

/// Words YAML 1.1 resolves to booleans or null.
const RESERVED: &[&str] = &["y", "n", "yes", "no", "on", "off", "true", "false", "null"];

/// ASCII word starting with a letter, `_` or `/`, made of letters, digits, `_`, `-`, `.`, `/` (no `:`,
/// `#`, spaces, quotes or flow indicators), and not a YAML 1.1 boolean/null word.
fn is_plain_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    (first.is_ascii_alphabetic() || first == '_' || first == '/')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'))
        && !RESERVED.contains(&s.to_ascii_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ambiguous_strings_are_quoted() {
        for s in [
            "yes",
            "On",
            "N",
            "y",
            "Off",
            "null",
            "~",
            "0755",
            "1_000",
            "12:30",
            "2001-01-01",
            "1e3",
            " lead",
            "#x",
            "*a",
            "+1",
            ".5",
            "",
            "a: b",
            "café",
            "[x]",
            "{x}",
            "multi\nline",
        ] {
            assert!(
                string(s).starts_with('"'),
                "{s:?} must be quoted, got {}",
                string(s)
            );
        }
        for s in [
            "web",
            "community.general.incus",
            "web-1",
            "/usr/bin/python3",
            "_x1",
            "v1.2.3",
        ] {
            assert_eq!(string(s), s, "{s:?} can stay plain");
        }
    }

    #[test]
    fn floats_use_yaml_11_form() {
        assert_eq!(number(&Number::from_f64(1e30).expect("f")), "1.0e+30");
        assert_eq!(number(&Number::from_f64(2.5).expect("f")), "2.5");
        assert_eq!(number(&Number::from(42)), "42");
        assert_eq!(number(&Number::from_f64(1.5e-7).expect("f")), "1.5e-7");
    }

    #[test]
    fn block_layout() {
        let doc = json!({"all": {"children": {"web": {"hosts": {"w1": {}, "w2": {"ansible_host": "10.0.0.1"}},
                                                       "vars": {"list": [1, "on", {"k": [true]}], "empty": []}}}}});
        assert_eq!(
            to_yaml(&doc),
            "all:\n  children:\n    web:\n      hosts:\n        w1: {}\n        w2:\n          ansible_host: \"10.0.0.1\"\n      \
             vars:\n        list:\n          - 1\n          - \"on\"\n          - {\"k\": [true]}\n        empty: []\n"
        );
    }
}
