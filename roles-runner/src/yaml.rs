//! YAML loading with Ansible's (PyYAML's) YAML 1.1 semantics and line numbers.
//!
//! saphyr-parser gives us events with spans; we build our own tree so that plain scalars
//! are resolved the YAML 1.1 way (`yes`/`no`/`on`/`off` booleans, `0644` octal, `~` null)
//! while quoted scalars stay strings, and every node remembers its source line for errors.

use std::path::{Path, PathBuf};

use saphyr_parser::{Event, Parser, ScalarStyle, Span, SpannedEventReceiver};
use serde_json::{Map, Number, Value as Json};

/// A YAML node with the 1-based line where it starts.
#[derive(Debug, Clone)]
pub struct Node {
    pub line: usize,
    pub kind: NodeKind,
}

#[derive(Debug, Clone)]
pub enum NodeKind {
    Scalar(Json),
    Seq(Vec<Node>),
    Map(Vec<(String, Node)>),
}

impl Node {
    /// Plain data, dropping line numbers.
    pub fn to_json(&self) -> Json {
        match &self.kind {
            NodeKind::Scalar(v) => v.clone(),
            NodeKind::Seq(items) => Json::Array(items.iter().map(Node::to_json).collect()),
            NodeKind::Map(entries) => {
                let mut m = Map::new();
                for (k, v) in entries {
                    m.insert(k.clone(), v.to_json());
                }
                Json::Object(m)
            }
        }
    }
    pub fn as_map(&self) -> Option<&Vec<(String, Node)>> {
        match &self.kind {
            NodeKind::Map(m) => Some(m),
            _ => None,
        }
    }
    pub fn as_seq(&self) -> Option<&Vec<Node>> {
        match &self.kind {
            NodeKind::Seq(s) => Some(s),
            _ => None,
        }
    }
    pub fn is_null(&self) -> bool {
        matches!(self.kind, NodeKind::Scalar(Json::Null))
    }
}

/// A YAML error located in a file.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}:{col}: YAML syntax error: {msg}")]
pub struct YamlError {
    pub file: PathBuf,
    pub line: usize,
    pub col: usize,
    pub msg: String,
}

/// Parse every document of `text`; `file` is only used in error messages.
pub fn parse_str(text: &str, file: &Path) -> Result<Vec<Node>, YamlError> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    parser.load(&mut builder, true).map_err(|e| YamlError {
        file: file.to_path_buf(),
        line: e.marker().line(),
        col: e.marker().col() + 1,
        msg: e.info().to_string(),
    })?;
    if let Some((line, msg)) = builder.error {
        return Err(YamlError {
            file: file.to_path_buf(),
            line,
            col: 1,
            msg,
        });
    }
    Ok(builder.docs)
}

/// Parse the first document of a file (an empty file is `null`).
pub fn load_file(path: &Path) -> Result<Node, crate::Error> {
    let text = std::fs::read_to_string(path).map_err(|e| crate::Error::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    let mut docs = parse_str(&text, path)?;
    Ok(if docs.is_empty() {
        Node {
            line: 1,
            kind: NodeKind::Scalar(Json::Null),
        }
    } else {
        docs.swap_remove(0)
    })
}

/// YAML 1.1 resolution of a plain scalar, as PyYAML's SafeLoader does it.
pub fn resolve_plain(s: &str) -> Json {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Json::Null,
        "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" | "y" | "Y" => {
            // PyYAML does not treat y/Y as bool; keep them strings.
            if s == "y" || s == "Y" {
                return Json::String(s.to_string());
            }
            return Json::Bool(true);
        }
        "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Json::Bool(false);
        }
        _ => {}
    }
    if let Some(n) = resolve_int(s) {
        return Json::Number(n.into());
    }
    if let Some(f) = resolve_float(s)
        && let Some(n) = Number::from_f64(f)
    {
        return Json::Number(n);
    }
    Json::String(s.to_string())
}

fn resolve_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if body.is_empty() {
        return None;
    }
    let clean: String = body.chars().filter(|c| *c != '_').collect();
    if clean.is_empty() || body.starts_with('_') {
        return None;
    }
    let v = if let Some(h) = clean.strip_prefix("0x") {
        i64::from_str_radix(h, 16).ok()?
    } else if let Some(b) = clean.strip_prefix("0b") {
        i64::from_str_radix(b, 2).ok()?
    } else if clean.len() > 1 && clean.starts_with('0') {
        // YAML 1.1: a leading zero means octal (0644 == 420).
        i64::from_str_radix(&clean[1..], 8).ok()?
    } else if clean.bytes().all(|b| b.is_ascii_digit()) {
        clean.parse().ok()?
    } else {
        return None;
    };
    Some(if neg { -v } else { v })
}

fn resolve_float(s: &str) -> Option<f64> {
    match s {
        ".inf" | ".Inf" | ".INF" | "+.inf" => return Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
        _ => {}
    }
    // [-+]?([0-9][0-9_]*)?\.[0-9_]*([eE][-+][0-9]+)?  (must contain a dot)
    let re = regex_float();
    if re.is_match(s) {
        return s.replace('_', "").parse().ok();
    }
    None
}

fn regex_float() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(r"^[-+]?([0-9][0-9_]*)?\.[0-9_]*([eE][-+]?[0-9]+)?$")
            .expect("valid regex")
    })
}

#[derive(Default)]
struct Builder {
    docs: Vec<Node>,
    /// Open collections; maps keep a pending key.
    stack: Vec<(Node, Option<String>)>,
    anchors: std::collections::HashMap<usize, Node>,
    /// anchor id of each open collection
    open_anchors: Vec<usize>,
    error: Option<(usize, String)>,
}

impl Builder {
    fn push_value(&mut self, node: Node) {
        match self.stack.last_mut() {
            None => self.docs.push(node),
            Some((parent, pending)) => match &mut parent.kind {
                NodeKind::Seq(items) => items.push(node),
                NodeKind::Map(entries) => match pending.take() {
                    None => {
                        let key = match &node.kind {
                            NodeKind::Scalar(Json::String(s)) => s.clone(),
                            NodeKind::Scalar(Json::Null) => String::new(),
                            NodeKind::Scalar(v) => v.to_string(),
                            _ => {
                                if self.error.is_none() {
                                    self.error = Some((
                                        node.line,
                                        "complex mapping keys are not supported".into(),
                                    ));
                                }
                                String::new()
                            }
                        };
                        *pending = Some(key);
                    }
                    Some(key) => {
                        // Last duplicate wins, as with PyYAML.
                        if let Some(slot) = entries.iter_mut().find(|(k, _)| *k == key) {
                            slot.1 = node;
                        } else if key == "<<" {
                            merge_keys(entries, node);
                        } else {
                            entries.push((key, node));
                        }
                    }
                },
                NodeKind::Scalar(_) => {}
            },
        }
    }
}

/// YAML merge key `<<: *anchor` (used by some roles).
fn merge_keys(entries: &mut Vec<(String, Node)>, node: Node) {
    let sources = match node.kind {
        NodeKind::Map(m) => vec![m],
        NodeKind::Seq(items) => items
            .into_iter()
            .filter_map(|n| match n.kind {
                NodeKind::Map(m) => Some(m),
                _ => None,
            })
            .collect(),
        NodeKind::Scalar(_) => vec![],
    };
    for m in sources {
        for (k, v) in m {
            if !entries.iter().any(|(ek, _)| *ek == k) {
                entries.push((k, v));
            }
        }
    }
}

impl<'input> SpannedEventReceiver<'input> for Builder {
    fn on_event(&mut self, ev: Event<'input>, span: Span) {
        let line = span.start.line();
        match ev {
            Event::Scalar(value, style, anchor, tag) => {
                let tag_suffix = tag.as_ref().map(|t| t.suffix.clone());
                let json = match (style, tag_suffix.as_deref()) {
                    (_, Some("str")) | (_, Some("unsafe")) | (_, Some("vault")) => {
                        Json::String(value.to_string())
                    }
                    (_, Some("int")) => resolve_int(&value)
                        .map(Json::from)
                        .unwrap_or(Json::String(value.to_string())),
                    (_, Some("bool")) => resolve_plain(&value),
                    (ScalarStyle::Plain, _) => resolve_plain(&value),
                    _ => Json::String(value.to_string()),
                };
                let node = Node {
                    line,
                    kind: NodeKind::Scalar(json),
                };
                if anchor > 0 {
                    self.anchors.insert(anchor, node.clone());
                }
                self.push_value(node);
            }
            Event::SequenceStart(anchor, _) => {
                self.stack.push((
                    Node {
                        line,
                        kind: NodeKind::Seq(vec![]),
                    },
                    None,
                ));
                self.open_anchors.push(anchor);
            }
            Event::MappingStart(anchor, _) => {
                self.stack.push((
                    Node {
                        line,
                        kind: NodeKind::Map(vec![]),
                    },
                    None,
                ));
                self.open_anchors.push(anchor);
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some((node, _)) = self.stack.pop() {
                    let anchor = self.open_anchors.pop().unwrap_or(0);
                    if anchor > 0 {
                        self.anchors.insert(anchor, node.clone());
                    }
                    self.push_value(node);
                }
            }
            Event::Alias(id) => {
                let node = self.anchors.get(&id).cloned().unwrap_or(Node {
                    line,
                    kind: NodeKind::Scalar(Json::Null),
                });
                self.push_value(node);
            }
            Event::DocumentEnd => {
                // An empty document yields nothing; load_file maps that to null.
            }
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentStart(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(s: &str) -> Json {
        parse_str(s, Path::new("t.yml")).expect("parses")[0].to_json()
    }

    #[test]
    fn yaml11_scalars() {
        let v = one(
            "a: yes\nb: no\nc: on\nd: Off\ne: 0644\nf: '0644'\ng: ~\nh:\ni: 1.5\nj: True\nk: 0x1F\nl: 1_000\nm: u=rw,g=r\n",
        );
        assert_eq!(v["a"], Json::Bool(true));
        assert_eq!(v["b"], Json::Bool(false));
        assert_eq!(v["c"], Json::Bool(true));
        assert_eq!(v["d"], Json::Bool(false));
        assert_eq!(v["e"], Json::from(420));
        assert_eq!(v["f"], Json::from("0644"));
        assert_eq!(v["g"], Json::Null);
        assert_eq!(v["h"], Json::Null);
        assert_eq!(v["i"], Json::from(1.5));
        assert_eq!(v["j"], Json::Bool(true));
        assert_eq!(v["k"], Json::from(31));
        assert_eq!(v["l"], Json::from(1000));
        assert_eq!(v["m"], Json::from("u=rw,g=r"));
    }

    #[test]
    fn lines_and_errors() {
        let docs = parse_str(
            "---\n- name: a\n  debug: msg=x\n\n- name: b\n",
            Path::new("t.yml"),
        )
        .expect("parses");
        let seq = docs[0].as_seq().expect("seq");
        assert_eq!(seq[0].line, 2);
        assert_eq!(seq[1].line, 5);
        let err = parse_str("- name: a\n  x: [1, 2\n", Path::new("bad.yml")).expect_err("error");
        assert!(err.to_string().starts_with("bad.yml:"), "{err}");
    }

    #[test]
    fn anchors_and_merge() {
        let v = one("base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\n");
        assert_eq!(v["other"]["x"], Json::from(1));
        assert_eq!(v["other"]["y"], Json::from(3));
    }
}
