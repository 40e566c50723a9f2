//! Per-template Jinja settings: the template module's `trim_blocks`, `lstrip_blocks`,
//! `*_start_string`/`*_end_string` options and a template's own first line
//! `#jinja2: trim_blocks: False, lstrip_blocks: True` (Ansible's JINJA2_OVERRIDE, values are
//! Python literals). Applied in that order over Ansible's defaults (trim_blocks on).

use minijinja::syntax::SyntaxConfig;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TemplateSyntax {
    pub trim_blocks: bool,
    pub lstrip_blocks: bool,
    pub keep_trailing_newline: bool,
    pub block: (String, String),
    pub variable: (String, String),
    pub comment: (String, String),
    pub line_statement_prefix: Option<String>,
    pub line_comment_prefix: Option<String>,
    /// Output line ends (`\n`, `\r\n`, `\r`); applied after rendering.
    pub newline_sequence: String,
}

impl Default for TemplateSyntax {
    fn default() -> Self {
        TemplateSyntax {
            trim_blocks: true,
            lstrip_blocks: false,
            // Jinja's default; Ansible puts trailing newlines back itself.
            keep_trailing_newline: false,
            block: ("{%".into(), "%}".into()),
            variable: ("{{".into(), "}}".into()),
            comment: ("{#".into(), "#}".into()),
            line_statement_prefix: None,
            line_comment_prefix: None,
            newline_sequence: "\n".into(),
        }
    }
}

/// A setting of the `#jinja2:` line or the module's options.
#[derive(Debug, Clone, PartialEq)]
pub enum Setting {
    Bool(bool),
    Str(String),
    None,
}

impl TemplateSyntax {
    /// Set one option by its Jinja/Ansible name.
    pub fn set(&mut self, key: &str, value: Setting) -> Result<(), String> {
        let text = |v: &Setting| match v {
            Setting::Str(s) => Ok(s.clone()),
            other => Err(format!("{key} must be a string, got {other:?}")),
        };
        let flag = |v: &Setting| match v {
            Setting::Bool(b) => Ok(*b),
            Setting::Str(s) => match s.to_ascii_lowercase().as_str() {
                "yes" | "true" | "on" | "1" => Ok(true),
                "no" | "false" | "off" | "0" => Ok(false),
                _ => Err(format!("{key} must be a boolean, got {s:?}")),
            },
            Setting::None => Err(format!("{key} must be a boolean, got None")),
        };
        match key {
            "trim_blocks" => self.trim_blocks = flag(&value)?,
            "lstrip_blocks" => self.lstrip_blocks = flag(&value)?,
            "keep_trailing_newline" => self.keep_trailing_newline = flag(&value)?,
            "block_start_string" => self.block.0 = text(&value)?,
            "block_end_string" => self.block.1 = text(&value)?,
            "variable_start_string" => self.variable.0 = text(&value)?,
            "variable_end_string" => self.variable.1 = text(&value)?,
            "comment_start_string" => self.comment.0 = text(&value)?,
            "comment_end_string" => self.comment.1 = text(&value)?,
            "line_statement_prefix" => {
                self.line_statement_prefix = match value {
                    Setting::None => None,
                    v => Some(text(&v)?),
                }
            }
            "line_comment_prefix" => {
                self.line_comment_prefix = match value {
                    Setting::None => None,
                    v => Some(text(&v)?),
                }
            }
            "newline_sequence" => {
                let nl = text(&value)?;
                if !["\n", "\r\n", "\r"].contains(&nl.as_str()) {
                    return Err(format!(
                        "newline_sequence must be one of \\n, \\r\\n, \\r; got {nl:?}"
                    ));
                }
                self.newline_sequence = nl;
            }
            other => return Err(format!("Invalid '#jinja2:' override key '{other}'.")),
        }
        Ok(())
    }

    /// Strip and apply a `#jinja2:` first line; returns the rest of the template.
    pub fn apply_override_line<'a>(&mut self, source: &'a str) -> Result<&'a str, String> {
        let Some(rest) = source.strip_prefix("#jinja2:") else {
            return Ok(source);
        };
        let (line, body) = rest
            .split_once('\n')
            .ok_or("Missing newline after '#jinja2:' override.")?;
        for pair in split_pairs(line) {
            if pair.trim().is_empty() {
                return Err("Empty '#jinja2:' override pair not allowed.".into());
            }
            let (k, v) = pair.split_once(':').ok_or_else(|| {
                format!("Missing key-value separator `:` in '#jinja2:' override pair '{pair}'.")
            })?;
            let value = py_literal(v.trim())
                .ok_or_else(|| format!("failed to parse jinja2 override '{line}': {v}"))?;
            self.set(k.trim(), value)?;
        }
        Ok(body)
    }

    pub fn config(&self) -> Result<SyntaxConfig, String> {
        let mut b = SyntaxConfig::builder();
        b.block_delimiters(self.block.0.clone(), self.block.1.clone())
            .variable_delimiters(self.variable.0.clone(), self.variable.1.clone())
            .comment_delimiters(self.comment.0.clone(), self.comment.1.clone())
            .trim_blocks(self.trim_blocks)
            .lstrip_blocks(self.lstrip_blocks)
            .keep_trailing_newline(self.keep_trailing_newline);
        if let Some(p) = &self.line_statement_prefix {
            b.line_statement_prefix(p.clone());
        }
        if let Some(p) = &self.line_comment_prefix {
            b.line_comment_prefix(p.clone());
        }
        b.build().map_err(|e| e.to_string())
    }
}

/// `a: 'x,y', b: True` split at the commas outside quotes (Ansible splits at every comma;
/// quoted commas are kept here because splitting them can only produce a parse error).
fn split_pairs(line: &str) -> Vec<&str> {
    let mut out = vec![];
    let (mut start, mut quote) = (0, None);
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, ',') => {
                out.push(&line[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&line[start..]);
    out
}

/// The Python literals `ast.literal_eval` gives these settings: True/False/None and quoted
/// strings with backslash escapes.
fn py_literal(s: &str) -> Option<Setting> {
    match s {
        "True" => return Some(Setting::Bool(true)),
        "False" => return Some(Setting::Bool(false)),
        "None" => return Some(Setting::None),
        _ => {}
    }
    let q = s.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let inner = s.strip_prefix(q)?.strip_suffix(q)?;
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            other => out.push(other),
        }
    }
    Some(Setting::Str(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn override_line() {
        let mut s = TemplateSyntax::default();
        let body = s
            .apply_override_line(
                "#jinja2: trim_blocks: False, lstrip_blocks: True, variable_start_string: '[[', variable_end_string: \"]]\"\nx\n",
            )
            .expect("parse");
        assert_eq!(body, "x\n");
        assert!(!s.trim_blocks && s.lstrip_blocks);
        assert_eq!(s.variable, ("[[".to_string(), "]]".to_string()));
        assert!(s.apply_override_line("#jinja2: nonsense\n").is_err());
        assert!(
            TemplateSyntax::default()
                .apply_override_line("#jinja2: trim_blocks: maybe\n")
                .is_err()
        );
        let mut s = TemplateSyntax::default();
        assert_eq!(s.apply_override_line("no override\n"), Ok("no override\n"));
        assert_eq!(s, TemplateSyntax::default());
    }
}
