//! Python methods on values (`x.split(',')`, `d.get('k', 1)`, `l.index(v)`): Jinja in
//! Ansible calls the Python objects' own methods. minijinja-contrib's pycompat covers most
//! str/dict methods and `list.count`; the ones roles also use and pycompat lacks are here
//! (list `index`, str `index`/`rindex`/`rsplit`/`partition`/`rpartition`/`zfill`/`ljust`/
//! `rjust`/`center`/`removeprefix`/`removesuffix`/`swapcase`/`casefold`, dict/list `copy`),
//! falling back to pycompat for everything else. Mutating methods (`append`, `update`) cannot
//! work on minijinja's immutable values and stay unknown (a clear template error).

use minijinja::value::{Value, ValueKind, from_args};
use minijinja::{Error, ErrorKind, State};

pub fn unknown_method(
    state: &mut State,
    value: &Value,
    method: &str,
    args: &[Value],
) -> Result<Value, Error> {
    let handled = match value.kind() {
        ValueKind::Seq => seq_method(value, method, args)?,
        ValueKind::String => str_method(value, method, args)?,
        ValueKind::Map if method == "copy" => {
            let () = from_args(args)?;
            Some(value.clone())
        }
        _ => None,
    };
    match handled {
        Some(v) => Ok(v),
        None => minijinja_contrib::pycompat::unknown_method_callback(state, value, method, args),
    }
}

/// Python's ValueError, as a template error.
fn value_error(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

/// Python slice bounds (negative from the end, clamped).
fn bound(i: Option<i64>, len: usize, default: usize) -> usize {
    match i {
        None => default,
        Some(i) if i < 0 => len.saturating_sub(i.unsigned_abs() as usize),
        Some(i) => (i as usize).min(len),
    }
}

fn seq_method(value: &Value, method: &str, args: &[Value]) -> Result<Option<Value>, Error> {
    Ok(match method {
        "index" => {
            let (what, start, stop): (&Value, Option<i64>, Option<i64>) = from_args(args)?;
            let items: Vec<Value> = value.try_iter()?.collect();
            let (lo, hi) = (
                bound(start, items.len(), 0),
                bound(stop, items.len(), items.len()),
            );
            let pos = (lo..hi.max(lo)).find(|&i| items[i] == *what);
            match pos {
                Some(i) => Some(Value::from(i)),
                None => return Err(value_error(format!("{what} is not in list"))),
            }
        }
        "copy" => {
            let () = from_args(args)?;
            Some(value.clone())
        }
        _ => None,
    })
}

/// Python's `str.ljust`/`rjust`/`center` pad (counted in characters).
fn pad(s: &str, width: usize, fill: char, how: &str) -> String {
    let len = s.chars().count();
    if width <= len {
        return s.to_string();
    }
    let total = width - len;
    // CPython's center puts the odd extra character on the left when the width is odd.
    let left = match how {
        "ljust" => 0,
        "rjust" => total,
        _ => total / 2 + (total & width & 1),
    };
    let f = |n: usize| fill.to_string().repeat(n);
    format!("{}{s}{}", f(left), f(total - left))
}

fn str_method(value: &Value, method: &str, args: &[Value]) -> Result<Option<Value>, Error> {
    let Some(s) = value.as_str() else {
        return Ok(None);
    };
    Ok(Some(match method {
        "index" | "rindex" => {
            let (sub,): (&str,) = from_args(args)?;
            let pos = if method == "index" {
                s.find(sub)
            } else {
                s.rfind(sub)
            };
            match pos {
                Some(b) => Value::from(s[..b].chars().count()),
                None => return Err(value_error("substring not found")),
            }
        }
        "rsplit" => {
            let (sep, maxsplit): (Option<&str>, Option<i64>) = from_args(args)?;
            let max = maxsplit.filter(|m| *m >= 0).map(|m| m as usize);
            let mut parts: Vec<String> = match (sep, max) {
                (Some(""), _) => return Err(value_error("empty separator")),
                (Some(sep), Some(m)) => s.rsplitn(m + 1, sep).map(String::from).collect(),
                (Some(sep), None) => s.rsplit(sep).map(String::from).collect(),
                // No separator: runs of whitespace, ends trimmed; the rest stays whole.
                (None, m) => {
                    let mut out = vec![];
                    let mut rest = s.trim_end();
                    while !rest.is_empty() {
                        if m.is_some_and(|m| out.len() == m) {
                            out.push(rest.to_string());
                            break;
                        }
                        match rest.rfind(char::is_whitespace) {
                            Some(i) => {
                                let w = rest[i..].chars().next().map_or(1, char::len_utf8);
                                out.push(rest[i + w..].to_string());
                                rest = rest[..i].trim_end();
                            }
                            None => {
                                out.push(rest.to_string());
                                break;
                            }
                        }
                    }
                    out
                }
            };
            parts.reverse();
            Value::from(parts)
        }
        "partition" | "rpartition" => {
            let (sep,): (&str,) = from_args(args)?;
            if sep.is_empty() {
                return Err(value_error("empty separator"));
            }
            let found = if method == "partition" {
                s.split_once(sep)
            } else {
                s.rsplit_once(sep)
            };
            let t: [&str; 3] = match (found, method) {
                (Some((a, b)), _) => [a, sep, b],
                (None, "partition") => [s, "", ""],
                (None, _) => ["", "", s],
            };
            Value::from(t.iter().map(|x| Value::from(*x)).collect::<Vec<_>>())
        }
        "zfill" => {
            let (width,): (usize,) = from_args(args)?;
            let len = s.chars().count();
            if width <= len {
                Value::from(s)
            } else {
                let (sign, digits) = match s.chars().next() {
                    Some(c @ ('+' | '-')) => (c.to_string(), &s[1..]),
                    _ => (String::new(), s),
                };
                Value::from(format!("{sign}{}{digits}", "0".repeat(width - len)))
            }
        }
        "ljust" | "rjust" | "center" => {
            let (width, fill): (usize, Option<&str>) = from_args(args)?;
            let fill = match fill {
                None => ' ',
                Some(f) if f.chars().count() == 1 => f.chars().next().unwrap_or(' '),
                Some(_) => {
                    return Err(Error::new(
                        ErrorKind::InvalidOperation,
                        "The fill character must be exactly one character long",
                    ));
                }
            };
            Value::from(pad(s, width, fill, method))
        }
        "removeprefix" => {
            let (p,): (&str,) = from_args(args)?;
            Value::from(s.strip_prefix(p).unwrap_or(s))
        }
        "removesuffix" => {
            let (p,): (&str,) = from_args(args)?;
            Value::from(s.strip_suffix(p).unwrap_or(s))
        }
        "swapcase" => {
            let () = from_args(args)?;
            Value::from(
                s.chars()
                    .flat_map(|c| {
                        if c.is_uppercase() {
                            c.to_lowercase().collect::<Vec<_>>()
                        } else {
                            c.to_uppercase().collect::<Vec<_>>()
                        }
                    })
                    .collect::<String>(),
            )
        }
        "casefold" => {
            let () = from_args(args)?;
            Value::from(s.to_lowercase())
        }
        _ => return Ok(None),
    }))
}

#[cfg(test)]
mod tests {
    use crate::template::{Scope, Templar, Var};
    use indexmap::IndexMap;
    use serde_json::json;

    /// Each expression as Ansible (Python) evaluates it; all run through the runner's Templar.
    #[test]
    fn python_methods_roles_use() {
        let t = Templar::new();
        let mut vars = IndexMap::new();
        vars.insert("l".to_string(), Var::Raw(json!(["a", "b", "c", "b"])));
        vars.insert("s".to_string(), Var::Raw(json!("  Web-01.example.org  ")));
        vars.insert("d".to_string(), Var::Raw(json!({"k": 1, "z": [2]})));
        let scope = Scope::new(&t, vars, None);
        let cases: &[(&str, serde_json::Value)] = &[
            // list
            ("{{ l.index('b') }}", json!(1)),
            ("{{ l.index('b', 2) }}", json!(3)),
            ("{{ l.count('b') }}", json!(2)),
            ("{{ l.copy() }}", json!(["a", "b", "c", "b"])),
            // str (pycompat)
            ("{{ s.split() }}", json!(["Web-01.example.org"])),
            (
                "{{ s.strip().split('.') }}",
                json!(["Web-01", "example", "org"]),
            ),
            (
                "{{ s.strip().split('.', 1) }}",
                json!(["Web-01", "example.org"]),
            ),
            ("{{ s.strip() }}", json!("Web-01.example.org")),
            ("{{ s.strip().startswith('Web') }}", json!(true)),
            ("{{ s.strip().startswith(('x', 'We')) }}", json!(true)),
            ("{{ s.strip().endswith('.org') }}", json!(true)),
            (
                "{{ s.strip().replace('-', '_') }}",
                json!("Web_01.example.org"),
            ),
            ("{{ s.strip().lower() }}", json!("web-01.example.org")),
            ("{{ s.strip().upper() }}", json!("WEB-01.EXAMPLE.ORG")),
            ("{{ '{}:{}'.format('h', 80) }}", json!("h:80")),
            ("{{ '{0}-{name}'.format('a', name='b') }}", json!("a-b")),
            ("{{ ','.join(l) }}", json!("a,b,c,b")),
            // str (here)
            ("{{ s.strip().index('.') }}", json!(6)),
            ("{{ s.strip().rindex('.') }}", json!(14)),
            (
                "{{ s.strip().rsplit('.', 1) }}",
                json!(["Web-01.example", "org"]),
            ),
            ("{{ ' a  b c '.rsplit(None, 1) }}", json!([" a  b", "c"])),
            (
                "{{ s.strip().partition('.') }}",
                json!(["Web-01", ".", "example.org"]),
            ),
            ("{{ 'abc'.rpartition('.') }}", json!(["", "", "abc"])),
            ("{{ '42'.zfill(5) }}", json!("00042")),
            ("{{ '-42'.zfill(5) }}", json!("-0042")),
            ("{{ 'ab'.ljust(4, '.') ~ '|' }}", json!("ab..|")),
            ("{{ 'ab'.rjust(4) }}", json!("  ab")),
            ("{{ 'ab'.center(5, '*') }}", json!("**ab*")),
            ("{{ 'abc'.center(6, '*') }}", json!("*abc**")),
            ("{{ 'v1.2'.removeprefix('v') }}", json!("1.2")),
            ("{{ 'a.conf'.removesuffix('.conf') }}", json!("a")),
            ("{{ 'aBc'.swapcase() }}", json!("AbC")),
            // dict (pycompat)
            ("{{ d.get('k') }}", json!(1)),
            ("{{ d.get('x', 'dflt') }}", json!("dflt")),
            ("{{ d.get('x') is none }}", json!(true)),
            ("{{ d.keys() | list }}", json!(["k", "z"])),
            ("{{ d.values() | list }}", json!([1, [2]])),
            ("{{ d.items() | list }}", json!([["k", 1], ["z", [2]]])),
            ("{{ d.copy() }}", json!({"k": 1, "z": [2]})),
            (
                "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}",
                json!("k=1;z=[2];"),
            ),
        ];
        for (expr, want) in cases {
            let got = t.render_str_native(expr, &scope);
            assert_eq!(got.as_ref().ok(), Some(want), "{expr}: {got:?}");
        }
        for bad in [
            "{{ l.index('zz') }}",
            "{{ s.index('zz') }}",
            "{{ l.append(1) }}",
        ] {
            assert!(t.render_str_native(bad, &scope).is_err(), "{bad}");
        }
    }
}
