//! The outputs of an environment, as printed by `terraform output -json` / `tofu output -json`:
//! `{"<name>": {"sensitive": bool, "type": <cty type JSON>, "value": <value>}, …}`.
//!
//! Only `sensitive` and `value` matter here; the `type` is ignored because the value itself tells
//! lists, sets and tuples (all JSON arrays) from maps and objects (all JSON objects).

use indexmap::IndexMap;
use serde_json::Value;

use crate::error::{Error, Result};

/// One output: its value and whether Terraform marked it sensitive.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    pub sensitive: bool,
    pub value: Value,
}

/// All outputs of an environment, in the order the tool printed them (alphabetical for Terraform).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outputs {
    pub outputs: IndexMap<String, Output>,
}

impl Outputs {
    /// Parses the JSON printed by `terraform output -json`. `origin` says where it came from
    /// (a file name, "stdin", "`terraform output -json` in DIR") and only appears in errors.
    pub fn parse(json: &str, origin: &str) -> Result<Self> {
        // Parse to a generic Value first: serde_json's syntax errors carry a position and never any
        // input text, whereas typed deserialisation errors may quote a (possibly sensitive) value.
        let root: Value = serde_json::from_str(json).map_err(|e| Error::MalformedJson {
            origin: origin.to_owned(),
            line: e.line(),
            column: e.column(),
            reason: syntax_reason(&e),
        })?;
        let Value::Object(map) = root else {
            return Err(Error::NotOutputsJson {
                origin: origin.to_owned(),
                problem: format!("the top level is {}, not an object", kind(&root)),
            });
        };
        let mut outputs = IndexMap::with_capacity(map.len());
        for (name, entry) in map {
            let Value::Object(mut entry) = entry else {
                return Err(Error::NotOutputsJson {
                    origin: origin.to_owned(),
                    problem: format!(
                        "output `{name}` is {} instead of an object with `value` \
                         (this looks like `output -json NAME` or a hand-written file)",
                        kind(&entry)
                    ),
                });
            };
            let Some(value) = entry.remove("value") else {
                return Err(Error::NotOutputsJson {
                    origin: origin.to_owned(),
                    problem: format!("output `{name}` has no `value` field"),
                });
            };
            let sensitive = match entry.get("sensitive") {
                None | Some(Value::Null) => false,
                Some(Value::Bool(b)) => *b,
                Some(other) => {
                    return Err(Error::NotOutputsJson {
                        origin: origin.to_owned(),
                        problem: format!(
                            "output `{name}` has a `sensitive` field that is {} instead of true/false",
                            kind(other)
                        ),
                    });
                }
            };
            outputs.insert(name, Output { sensitive, value });
        }
        Ok(Outputs { outputs })
    }

    pub fn is_empty(&self) -> bool {
        self.outputs.is_empty()
    }

    pub fn get(&self, name: &str) -> Option<&Output> {
        self.outputs.get(name)
    }
}

/// serde_json's message without its trailing " at line L column C" (we print those separately).
fn syntax_reason(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

/// Describes the JSON type of a value for error messages ("a number", "an object", …), never its content.
pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A location inside an output, for error messages: `web_instances[2].name`,
/// `db_instances["db-1"].ipv4_address`. Keys of a sensitive output print as `[<hidden key>]`, because
/// in a sensitive map even the keys can be secret.
#[derive(Debug, Clone)]
pub struct ValuePath {
    text: String,
    sensitive: bool,
}

impl ValuePath {
    pub fn root(output: &str, sensitive: bool) -> Self {
        ValuePath {
            text: format!("`{output}`"),
            sensitive,
        }
    }

    pub fn index(&self, i: usize) -> Self {
        self.push(&format!("[{i}]"))
    }

    /// A map key chosen by the user (may be secret in a sensitive output).
    pub fn key(&self, key: &str) -> Self {
        if self.sensitive {
            self.push("[<hidden key>]")
        } else {
            self.push(&format!("[{key:?}]"))
        }
    }

    /// A field name fixed by the convention (`name`, `vars`, …): always safe to print.
    pub fn field(&self, field: &str) -> Self {
        self.push(&format!(".{field}"))
    }

    fn push(&self, suffix: &str) -> Self {
        // Paths are built only on the error path, so the clone is not a cost that matters.
        let inner = self.text.trim_end_matches('`');
        ValuePath {
            text: format!("{inner}{suffix}`"),
            sensitive: self.sensitive,
        }
    }
}

impl std::fmt::Display for ValuePath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_terraform_output_json() {
        let json = r#"{"b_instances":{"sensitive":false,"type":["list","string"],"value":["x"]},
                       "a":{"sensitive":true,"type":"string","value":"s"}}"#;
        let outs = Outputs::parse(json, "test").expect("parses");
        // Order of the document is kept (preserve_order), not sorted.
        let names: Vec<_> = outs.outputs.keys().cloned().collect();
        assert_eq!(names, ["b_instances", "a"]);
        assert!(outs.get("a").expect("a").sensitive);
        assert_eq!(
            outs.get("b_instances").expect("b").value,
            serde_json::json!(["x"])
        );
    }

    #[test]
    fn malformed_json_reports_position_without_content() {
        let err = Outputs::parse("{\"tok\": {\"value\": \"hunter2\"", "f.json").expect_err("bad");
        let msg = err.to_string();
        assert!(msg.contains("malformed outputs JSON from f.json"), "{msg}");
        assert!(msg.contains("line 1"), "{msg}");
        assert!(!msg.contains("hunter2"), "{msg}");
    }

    #[test]
    fn bare_values_are_rejected_with_a_hint() {
        let err = Outputs::parse(r#"{"web_instances": ["a"]}"#, "f").expect_err("bare");
        let msg = err.to_string();
        assert!(
            msg.contains("`web_instances`") && msg.contains("output -json NAME"),
            "{msg}"
        );
        let err = Outputs::parse(r#"[1]"#, "f").expect_err("array");
        assert!(err.to_string().contains("top level is a list"), "{err}");
        let err = Outputs::parse(r#"{"x": {"sensitive": false}}"#, "f").expect_err("no value");
        assert!(err.to_string().contains("no `value`"), "{err}");
    }

    #[test]
    fn paths_hide_keys_of_sensitive_outputs() {
        let p = ValuePath::root("db_instances", false)
            .key("db-1")
            .field("ipv4_address");
        assert_eq!(p.to_string(), "`db_instances[\"db-1\"].ipv4_address`");
        let p = ValuePath::root("db_instances", true)
            .key("secret-host")
            .index(0);
        assert_eq!(p.to_string(), "`db_instances[<hidden key>][0]`");
    }
}
