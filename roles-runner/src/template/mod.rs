//! Jinja2 templating with Ansible's behaviour, on minijinja.
//!
//! - strings are templated lazily: a variable is rendered only when something reads it
//!   ([`Scope`] is a minijinja object that renders raw values on first access);
//! - a string that is exactly one `{{ expression }}` keeps the expression's native type;
//! - undefined variables are errors, except under `default` and `is defined`;
//! - `trim_blocks` on, trailing newlines kept (Ansible's template defaults).

mod filters;
mod lookups;
mod methods;
mod pyrandom;
mod syntax;
mod tests;

pub use syntax::{Setting, TemplateSyntax};

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use indexmap::IndexMap;
use minijinja::value::{Enumerator, Object, ObjectRepr, Value};
use minijinja::{Environment, UndefinedBehavior};
use serde_json::Value as Json;

/// The value of `omit`: module arguments equal to it are dropped.
pub const OMIT: &str = "__omit_place_holder__floe";

#[derive(Debug, thiserror::Error)]
#[error("{msg}")]
pub struct TemplateError {
    pub msg: String,
}

impl TemplateError {
    fn from_mj(e: minijinja::Error, source: &str, scope: Option<&Scope>) -> Self {
        let mut msg = e.to_string();
        if let Some(detail) = e.detail()
            && !msg.contains(detail)
        {
            msg = format!("{msg}: {detail}");
        }
        let mut cause = std::error::Error::source(&e);
        while let Some(c) = cause {
            msg.push_str(&format!(": {c}"));
            cause = c.source();
        }
        if let Some(scope) = scope
            && let Ok(errs) = scope.errors.lock()
            && let Some(first) = errs.first()
        {
            msg = format!("{msg} ({first})");
        }
        // minijinja quotes names with backticks, Jinja2 (and so Ansible) with single quotes.
        if let Ok(re) = regex::Regex::new(r"`([^`]+)` is undefined") {
            msg = re.replace_all(&msg, "'$1' is undefined").into_owned();
        }
        let shown: String = source.chars().take(200).collect();
        TemplateError {
            msg: format!("{msg}. The error was in: {shown}"),
        }
    }
}

/// A variable in a [`Scope`]: raw values still need templating; plain ones are final
/// (facts, registered results, loop items: Ansible marks them unsafe).
#[derive(Debug, Clone)]
pub enum Var {
    Raw(Json),
    Plain(Json),
}

impl Var {
    pub fn json(&self) -> &Json {
        match self {
            Var::Raw(j) | Var::Plain(j) => j,
        }
    }
}

/// The variables visible to one task on one host, rendered on access.
#[derive(Debug)]
pub struct Scope {
    vars: IndexMap<String, Var>,
    templar: Templar,
    cache: Mutex<HashMap<String, Value>>,
    resolving: Mutex<HashSet<String>>,
    errors: Mutex<Vec<String>>,
    hostvars: Option<Arc<HostVars>>,
}

impl Scope {
    pub fn new(
        templar: &Templar,
        vars: IndexMap<String, Var>,
        hostvars: Option<Arc<HostVars>>,
    ) -> Arc<Scope> {
        Arc::new(Scope {
            vars,
            templar: templar.clone(),
            cache: Mutex::new(HashMap::new()),
            resolving: Mutex::new(HashSet::new()),
            errors: Mutex::new(Vec::new()),
            hostvars,
        })
    }

    /// The same variables plus `extra` (higher precedence), e.g. loop items or template vars.
    pub fn child(&self, extra: IndexMap<String, Var>) -> Arc<Scope> {
        let mut vars = self.vars.clone();
        vars.extend(extra);
        Scope::new(&self.templar, vars, self.hostvars.clone())
    }

    pub fn vars(&self) -> &IndexMap<String, Var> {
        &self.vars
    }

    pub fn raw(&self, name: &str) -> Option<&Var> {
        self.vars.get(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &String> {
        self.vars.keys()
    }

    /// The fully templated value of a variable.
    pub fn resolve(self: &Arc<Self>, name: &str) -> Result<Option<Json>, TemplateError> {
        match self.get_value(&Value::from(name)) {
            Some(v) => Ok(Some(to_json(&v))),
            None => {
                let errs = self.errors.lock().map(|e| e.clone()).unwrap_or_default();
                match errs.into_iter().next() {
                    Some(e) if self.vars.contains_key(name) => Err(TemplateError { msg: e }),
                    _ => Ok(None),
                }
            }
        }
    }
}

impl Object for Scope {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let name = key.as_str()?;
        if let Ok(cache) = self.cache.lock()
            && let Some(v) = cache.get(name)
        {
            return Some(v.clone());
        }
        let value = match self.vars.get(name) {
            Some(Var::Plain(j)) => to_value(j),
            Some(Var::Raw(j)) => {
                {
                    let mut resolving = self.resolving.lock().ok()?;
                    if !resolving.insert(name.to_string()) {
                        self.record(format!(
                            "recursive loop detected in template string for variable '{name}'"
                        ));
                        return None;
                    }
                }
                let rendered = self.templar.render_json(j, self);
                if let Ok(mut r) = self.resolving.lock() {
                    r.remove(name);
                }
                match rendered {
                    Ok(j) => to_value(&j),
                    Err(e) => {
                        self.record(format!(
                            "error while templating variable '{name}': {}",
                            e.msg
                        ));
                        return None;
                    }
                }
            }
            None => match name {
                "vars" => Value::from_dyn_object(self.clone()),
                "hostvars" => match &self.hostvars {
                    Some(h) => Value::from_dyn_object(h.clone()),
                    None => return None,
                },
                "omit" => Value::from(OMIT),
                _ => return None,
            },
        };
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(name.to_string(), value.clone());
        }
        Some(value)
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let keys: Vec<Value> = self.vars.keys().map(|k| Value::from(k.as_str())).collect();
        Enumerator::Values(keys)
    }
}

impl Scope {
    fn record(&self, msg: String) {
        if let Ok(mut e) = self.errors.lock() {
            e.push(msg);
        }
    }
}

/// `hostvars`: every host's variables, each rendered lazily in that host's own scope.
#[derive(Debug)]
pub struct HostVars {
    pub templar: Templar,
    pub hosts: IndexMap<String, IndexMap<String, Var>>,
    scopes: Mutex<HashMap<String, Arc<Scope>>>,
}

impl HostVars {
    pub fn new(templar: &Templar, hosts: IndexMap<String, IndexMap<String, Var>>) -> Arc<HostVars> {
        Arc::new(HostVars {
            templar: templar.clone(),
            hosts,
            scopes: Mutex::new(HashMap::new()),
        })
    }
}

impl Object for HostVars {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let name = key.as_str()?;
        let vars = self.hosts.get(name)?;
        let mut scopes = self.scopes.lock().ok()?;
        let scope = scopes
            .entry(name.to_string())
            .or_insert_with(|| Scope::new(&self.templar, vars.clone(), Some(self.clone())))
            .clone();
        Some(Value::from_dyn_object(scope))
    }
    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.hosts.keys().map(|k| Value::from(k.as_str())).collect())
    }
}

/// Where lookups and the template module search for files.
#[derive(Debug, Clone, Default)]
pub struct SearchPaths {
    pub playbook_dir: PathBuf,
}

/// The shared Jinja environment (cheap to clone).
#[derive(Clone)]
pub struct Templar {
    env: Arc<Environment<'static>>,
    /// Copies of `env` with another syntax (template module options), made once each.
    variants: Arc<std::sync::Mutex<HashMap<TemplateSyntax, Arc<Environment<'static>>>>>,
}

impl std::fmt::Debug for Templar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Templar")
    }
}

impl Default for Templar {
    fn default() -> Self {
        Self::new()
    }
}

impl Templar {
    pub fn new() -> Templar {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // trim_blocks on, lstrip_blocks off: Ansible's defaults. Trailing newlines are put
        // back after rendering, see `preserve_trailing_newlines`.
        env.set_syntax(TemplateSyntax::default().config().unwrap_or_default());
        env.set_unknown_method_callback(methods::unknown_method);
        // ansible-core 2.19 renders None as an empty string where it is part of a larger
        // text (`[{{ d.get('x') }}]` -> `[]`); inside lists/dicts it stays `None`.
        env.set_formatter(|out, state, value| {
            if value.is_none() {
                Ok(())
            } else {
                minijinja::escape_formatter(out, state, value)
            }
        });
        // Ansible never auto-escapes; minijinja would escape `*.json.j2`/`*.html.j2` by name.
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        filters::register(&mut env);
        tests::register(&mut env);
        lookups::register(&mut env);
        Templar {
            env: Arc::new(env),
            variants: Default::default(),
        }
    }

    pub fn env(&self) -> &Environment<'static> {
        &self.env
    }

    /// Template every string inside `value`.
    pub fn render_json(&self, value: &Json, scope: &Arc<Scope>) -> Result<Json, TemplateError> {
        match value {
            Json::String(s) => self.render_str_native(s, scope),
            Json::Array(items) => items
                .iter()
                .map(|v| self.render_json(v, scope))
                .collect::<Result<Vec<_>, _>>()
                .map(Json::Array),
            Json::Object(map) => {
                let mut out = serde_json::Map::new();
                for (k, v) in map {
                    let key = if is_template(k) {
                        self.render_string(k, scope)?
                    } else {
                        k.clone()
                    };
                    out.insert(key, self.render_json(v, scope)?);
                }
                Ok(Json::Object(out))
            }
            other => Ok(other.clone()),
        }
    }

    /// Template a string; a lone `{{ expr }}` keeps its native type.
    pub fn render_str_native(&self, s: &str, scope: &Arc<Scope>) -> Result<Json, TemplateError> {
        if !is_template(s) {
            return Ok(Json::String(s.to_string()));
        }
        if let Some(expr) = single_expression(s)
            && let Ok(compiled) = self.env.compile_expression(expr)
        {
            let v = compiled
                .eval(Value::from_dyn_object(scope.clone()))
                .map_err(|e| TemplateError::from_mj(e, s, Some(scope)))?;
            if v.is_undefined() {
                return Err(TemplateError {
                    msg: format!("'{}' is undefined. The error was in: {s}", expr.trim()),
                });
            }
            return Ok(to_json(&v));
        }
        self.render_string(s, scope).map(Json::String)
    }

    /// Template a string to a string.
    pub fn render_string(&self, s: &str, scope: &Arc<Scope>) -> Result<String, TemplateError> {
        if !is_template(s) {
            return Ok(s.to_string());
        }
        self.env
            .render_str(s, Value::from_dyn_object(scope.clone()))
            .map(|r| preserve_trailing_newlines(s, r, "\n"))
            .map_err(|e| TemplateError::from_mj(e, s, Some(scope)))
    }

    /// Render a template file's text (the template module).
    pub fn render_file(
        &self,
        name: &str,
        source: &str,
        scope: &Arc<Scope>,
    ) -> Result<String, TemplateError> {
        self.env
            .render_named_str(name, source, Value::from_dyn_object(scope.clone()))
            .map(|r| preserve_trailing_newlines(source, r, "\n"))
            .map_err(|e| TemplateError::from_mj(e, name, Some(scope)))
    }

    /// Render a template file's text with the template module's syntax options (and the
    /// file's own `#jinja2:` first line); `newline_sequence` is applied to the output.
    pub fn render_file_with(
        &self,
        name: &str,
        source: &str,
        scope: &Arc<Scope>,
        options: &TemplateSyntax,
    ) -> Result<String, TemplateError> {
        let mut syntax = options.clone();
        let body = syntax
            .apply_override_line(source)
            .map_err(|msg| TemplateError { msg })?;
        let env = if syntax == TemplateSyntax::default() {
            self.env.clone()
        } else {
            let mut variants = self.variants.lock().unwrap_or_else(|e| e.into_inner());
            match variants.get(&syntax) {
                Some(e) => e.clone(),
                None => {
                    let mut env = (*self.env).clone();
                    env.set_syntax(syntax.config().map_err(|msg| TemplateError { msg })?);
                    let env = Arc::new(env);
                    variants.insert(syntax.clone(), env.clone());
                    env
                }
            }
        };
        // Jinja's lexer turns every line end of the template text into newline_sequence.
        let body = if body.contains('\r') {
            std::borrow::Cow::Owned(body.replace("\r\n", "\n").replace('\r', "\n"))
        } else {
            std::borrow::Cow::Borrowed(body)
        };
        let text = env
            .render_named_str(name, &body, Value::from_dyn_object(scope.clone()))
            .map_err(|e| TemplateError::from_mj(e, name, Some(scope)))?;
        let text = if syntax.newline_sequence == "\n" {
            text
        } else {
            text.replace('\n', &syntax.newline_sequence)
        };
        Ok(preserve_trailing_newlines(
            &body,
            text,
            &syntax.newline_sequence,
        ))
    }

    /// Evaluate a conditional (`when`, `that`, `failed_when`, `changed_when`).
    pub fn eval_cond(&self, cond: &Json, scope: &Arc<Scope>) -> Result<bool, TemplateError> {
        match cond {
            Json::Bool(b) => Ok(*b),
            Json::Null => Ok(false),
            Json::Number(n) => Ok(n.as_f64().unwrap_or(0.0) != 0.0),
            Json::String(s) => {
                let mut expr = s.trim().to_string();
                if is_template(&expr) {
                    // Deprecated but common: `when: "{{ x }}"`; render, then evaluate the result.
                    let rendered = self.render_str_native(&expr, scope)?;
                    return match rendered {
                        Json::String(s) => self.eval_cond(&Json::String(s), scope),
                        other => Ok(json_truthy(&other)),
                    };
                }
                match expr.to_ascii_lowercase().as_str() {
                    "true" | "yes" => return Ok(true),
                    "false" | "no" | "" => return Ok(false),
                    _ => {}
                }
                if expr.contains('\n') {
                    // A multi-line conditional: newlines are whitespace, except inside string
                    // literals (`x == 'b\n'` from a double-quoted YAML string keeps its newline).
                    let mut quote = None;
                    expr = expr
                        .chars()
                        .map(|c| match (quote, c) {
                            (None, '\'' | '"') => {
                                quote = Some(c);
                                c
                            }
                            (Some(q), c) if c == q => {
                                quote = None;
                                c
                            }
                            (None, '\n') => ' ',
                            _ => c,
                        })
                        .collect();
                }
                let compiled = self
                    .env
                    .compile_expression(&expr)
                    .map_err(|e| TemplateError::from_mj(e, s, Some(scope)))?;
                let v = compiled
                    .eval(Value::from_dyn_object(scope.clone()))
                    .map_err(|e| TemplateError::from_mj(e, s, Some(scope)))?;
                if v.is_undefined() {
                    return Err(TemplateError {
                        msg: format!("The conditional check '{s}' failed: a variable is undefined"),
                    });
                }
                Ok(v.is_true())
            }
            other => Ok(json_truthy(other)),
        }
    }
}

/// Python replacement syntax (`\\1`) to the regex crate's.
pub fn py_replacement_pub(rep: &str) -> String {
    filters::py_replacement(rep)
}

/// Python `json.dumps(v, indent=..., sort_keys=True)` (the callback's result dumps).
pub fn filters_py_json_indent(v: &Json, indent: Option<usize>) -> String {
    filters::py_json(v, indent, true)
}

/// Python `json.dumps(v, indent=..., sort_keys=True, ensure_ascii=False)`: how the callback
/// dumps results (diffs keep `ensure_ascii`, see `output::render_diff`).
pub fn filters_py_json_results(v: &Json, indent: Option<usize>) -> String {
    filters::py_json_unicode(v, indent, true)
}

/// Python `json.dumps` of a value (copy's non-string `content`).
pub fn filters_py_json(v: &Json) -> String {
    filters::py_json(v, None, false)
}

/// Ansible renders without Jinja's keep_trailing_newline, then appends newline_sequence for
/// each trailing `\n` of the template the result lacks (so `{% endif %}\n` at the end
/// still ends the output with a newline, and a line ending in a block keeps one).
pub(crate) fn preserve_trailing_newlines(
    template: &str,
    mut result: String,
    newline: &str,
) -> String {
    let count = |s: &str| s.bytes().rev().take_while(|b| *b == b'\n').count();
    let (want, have) = (count(template), count(&result));
    for _ in have..want {
        result.push_str(newline);
    }
    result
}

pub fn is_template(s: &str) -> bool {
    s.contains("{{") || s.contains("{%") || s.contains("{#")
}

/// `{{ expr }}` with nothing around it and no second expression inside.
fn single_expression(s: &str) -> Option<&str> {
    let inner = s.strip_prefix("{{")?.strip_suffix("}}")?;
    let inner = inner.strip_prefix('-').unwrap_or(inner);
    let inner = inner.strip_suffix('-').unwrap_or(inner);
    // `{{ a }} and {{ b }}` is not one expression; `{{ {'a': {'b': 1}} }}` is (checked by
    // compiling the inner text).
    if inner.contains("{%") || inner.contains("{#") {
        return None;
    }
    Some(inner)
}

pub fn json_truthy(v: &Json) -> bool {
    match v {
        Json::Null => false,
        Json::Bool(b) => *b,
        Json::Number(n) => n.as_f64().unwrap_or(0.0) != 0.0,
        Json::String(s) => !s.is_empty(),
        Json::Array(a) => !a.is_empty(),
        Json::Object(o) => !o.is_empty(),
    }
}

pub fn to_value(j: &Json) -> Value {
    Value::from(minijinja::value::Serde(j))
}

pub fn to_json(v: &Value) -> Json {
    serde_json::to_value(v).unwrap_or(Json::Null)
}

#[cfg(test)]
mod unit {
    use super::*;
    use serde_json::json;

    fn scope(t: &Templar, v: Json) -> Arc<Scope> {
        let mut m = IndexMap::new();
        if let Json::Object(o) = v {
            for (k, v) in o {
                m.insert(k, Var::Raw(v));
            }
        }
        Scope::new(t, m, None)
    }

    #[test]
    fn trailing_newlines_as_ansible() {
        let t = Templar::new();
        let s = scope(&t, json!({}));
        // The newline after a final block is eaten by trim_blocks, Ansible puts it back.
        assert_eq!(
            t.render_file("f", "{% if true %}y{% endif %}\n", &s)
                .expect("ok"),
            "y\n"
        );
        assert_eq!(t.render_file("f", "a\n\n", &s).expect("ok"), "a\n\n");
        assert_eq!(t.render_file("f", "a", &s).expect("ok"), "a");
        let mut o = TemplateSyntax::default();
        o.set("newline_sequence", Setting::Str("\r\n".into()))
            .expect("ok");
        assert_eq!(
            t.render_file_with("f", "a\nb\n", &s, &o).expect("ok"),
            "a\r\nb\r\n"
        );
        o.set("lstrip_blocks", Setting::Bool(true)).expect("ok");
        o.set("trim_blocks", Setting::Bool(false)).expect("ok");
        assert_eq!(
            t.render_file_with("f", "x\n    {% if true %}\ny\n    {% endif %}\n", &s, &o)
                .expect("ok"),
            // Jinja drops the last newline; the result still ends in one, nothing is added.
            "x\r\n\r\ny\r\n"
        );
    }

    #[test]
    fn lazy_and_native() {
        let t = Templar::new();
        let s = scope(
            &t,
            json!({"root": "/srv", "dirs": [{"path": "{{ root }}/x"}], "n": "{{ 1 + 2 }}", "l": "{{ dirs | map(attribute='path') | list }}"}),
        );
        assert_eq!(t.render_json(&json!("{{ n }}"), &s).expect("ok"), json!(3));
        assert_eq!(
            t.render_json(&json!("{{ n }} and {{ n }}"), &s)
                .expect("ok"),
            json!("3 and 3")
        );
        assert_eq!(
            t.render_json(&json!("{{ {'a': {'b': n}} }}"), &s)
                .expect("ok"),
            json!({"a": {"b": 3}})
        );
        assert_eq!(
            t.render_json(&json!("{{ l }}"), &s).expect("ok"),
            json!(["/srv/x"])
        );
        assert_eq!(
            t.render_json(&json!("a {{ n }}"), &s).expect("ok"),
            json!("a 3")
        );
        let err = t
            .render_json(&json!("{{ nope }}"), &s)
            .expect_err("undefined");
        assert!(err.msg.contains("undefined"), "{}", err.msg);
        assert_eq!(
            t.render_json(&json!("{{ nope | default('d') }}"), &s)
                .expect("ok"),
            json!("d")
        );
        assert!(t.eval_cond(&json!("nope is not defined"), &s).expect("ok"));
    }

    #[test]
    fn templates_are_never_auto_escaped() {
        let t = Templar::new();
        let s = scope(&t, json!({"v": "a\"<b>"}));
        let out = t
            .render_file("sites.json.j2", "{{ v }}", &s)
            .expect("renders");
        assert_eq!(out, "a\"<b>");
        let out = t
            .render_file("index.html.j2", "{{ v }}", &s)
            .expect("renders");
        assert_eq!(out, "a\"<b>");
    }

    #[test]
    fn ansible_filters() {
        let t = Templar::new();
        let s = scope(
            &t,
            json!({"a": {"x": {"y": 1, "z": 2}}, "b": {"x": {"y": 3}}, "d": {"k": "v"}, "flag": "yes"}),
        );
        assert_eq!(
            t.render_json(&json!("{{ a | combine(b, recursive=True) }}"), &s)
                .expect("ok"),
            json!({"x": {"y": 3, "z": 2}})
        );
        assert_eq!(
            t.render_json(&json!("{{ a | combine(b) }}"), &s)
                .expect("ok"),
            json!({"x": {"y": 3}})
        );
        assert_eq!(
            t.render_json(&json!("{{ d | dict2items }}"), &s)
                .expect("ok"),
            json!([{"key": "k", "value": "v"}])
        );
        assert_eq!(
            t.render_json(&json!("{{ flag | bool }}"), &s).expect("ok"),
            json!(true)
        );
        assert_eq!(
            t.render_json(&json!("{{ true | ternary('on', 'off') }}"), &s)
                .expect("ok"),
            json!("on")
        );
        assert_eq!(
            t.render_json(
                &json!("{{ {'b': 1, 'a': [1, 2]} | to_nice_json(indent=2) }}"),
                &s
            )
            .expect("ok"),
            json!("{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": 1\n}")
        );
        assert_eq!(
            t.render_json(&json!("{{ 'abc' | regex_replace('b', 'X') }}"), &s)
                .expect("ok"),
            json!("aXc")
        );
        assert!(
            t.eval_cond(&json!("'2.10' is version('2.9', '>')"), &s)
                .expect("ok")
        );
    }
}
