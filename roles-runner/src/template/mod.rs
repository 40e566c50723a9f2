//! Jinja2 templating with Ansible's behaviour, on minijinja.
//!
//! - strings are templated lazily: a variable is rendered only when something reads it
//!   ([`Scope`] is a minijinja object that renders raw values on first access);
//! - a string that is exactly one `{{ expression }}` keeps the expression's native type;
//! - undefined variables are errors, except under `default` and `is defined`;
//! - `trim_blocks` on, trailing newlines kept (Ansible's template defaults).

mod filters;
mod lookups;
mod tests;

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
        // trim_blocks on, lstrip_blocks off, trailing newline kept: Ansible's template defaults.
        let syntax = minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .keep_trailing_newline(true)
            .build()
            .unwrap_or_default();
        env.set_syntax(syntax);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        // Ansible never auto-escapes; minijinja would escape `*.json.j2`/`*.html.j2` by name.
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        filters::register(&mut env);
        tests::register(&mut env);
        lookups::register(&mut env);
        Templar { env: Arc::new(env) }
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
            .map_err(|e| TemplateError::from_mj(e, name, Some(scope)))
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

/// Python `json.dumps` of a value (copy's non-string `content`).
pub fn filters_py_json(v: &Json) -> String {
    filters::py_json(v, None, false)
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
