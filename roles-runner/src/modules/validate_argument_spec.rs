//! `validate_argument_spec`: check a role's variables against `meta/argument_specs.yml`
//! (types, `required`, `choices`, list `elements`, nested `options`), as Ansible does
//! before the first task of a role.

use async_trait::async_trait;
use serde_json::{Map, Value as Json, json};

use super::common::{to_bool, type_name};
use super::{Ctx, Module, ModuleError, Res};

pub struct ValidateArgumentSpec;

#[async_trait]
impl Module for ValidateArgumentSpec {
    fn name(&self) -> &'static str {
        "validate_argument_spec"
    }
    fn params(&self) -> &'static [&'static str] {
        &[
            "argument_spec",
            "provided_arguments",
            "validate_args_context",
        ]
    }
    fn controller_only(&self) -> bool {
        true
    }
    async fn run(&self, ctx: &Ctx<'_>) -> Result<Res, ModuleError> {
        let spec = ctx
            .get("argument_spec")
            .and_then(Json::as_object)
            .cloned()
            .unwrap_or_default();
        let provided = ctx
            .get("provided_arguments")
            .and_then(Json::as_object)
            .cloned()
            .unwrap_or_default();
        let mut values = Map::new();
        for name in spec.keys() {
            if let Some(v) = provided.get(name) {
                values.insert(name.clone(), v.clone());
            } else if ctx.scope.raw(name).is_some() {
                let v = ctx
                    .scope
                    .resolve(name)
                    .map_err(|e| super::common::fail(e.msg))?;
                if let Some(v) = v {
                    values.insert(name.clone(), v);
                }
            }
        }
        let mut errors = vec![];
        validate_options(&spec, &values, "", &mut errors);
        let mut res = Res::new();
        res.insert("changed".into(), json!(false));
        res.insert(
            "validate_args_context".into(),
            ctx.get("validate_args_context")
                .cloned()
                .unwrap_or(Json::Null),
        );
        res.insert("argument_spec_data".into(), Json::Object(spec));
        if errors.is_empty() {
            res.insert("msg".into(), json!("The arg spec validation passed"));
            return Ok(res);
        }
        let mut extra = res;
        extra.insert("argument_errors".into(), json!(errors));
        Err(ModuleError::Failed {
            msg: format!("Validation of arguments failed:\n{}", errors.join("\n")),
            extra,
        })
    }
}

fn validate_options(
    spec: &Map<String, Json>,
    values: &Map<String, Json>,
    context: &str,
    errors: &mut Vec<String>,
) {
    let found_in = if context.is_empty() {
        String::new()
    } else {
        format!(" found in {context}")
    };
    let mut missing: Vec<&str> = vec![];
    for (name, opt) in spec {
        let required = opt.get("required").and_then(to_bool).unwrap_or(false);
        let Some(value) = values.get(name).filter(|v| !v.is_null()) else {
            if required {
                missing.push(name);
            }
            continue;
        };
        let ty = opt.get("type").and_then(Json::as_str).unwrap_or("str");
        let converted = match check_type(ty, value) {
            Ok(v) => v,
            Err(()) => {
                errors.push(format!(
                    "argument '{name}' is of type {} and we were unable to convert to {ty}{found_in}",
                    type_name(value)
                ));
                continue;
            }
        };
        if let Some(Json::Array(choices)) = opt.get("choices") {
            let items: Vec<Json> = match &converted {
                Json::Array(a) if ty == "list" => a.clone(),
                other => vec![other.clone()],
            };
            for it in items {
                if !choices.iter().any(|c| {
                    c == &it
                        || super::common::json_to_string(c) == super::common::json_to_string(&it)
                }) {
                    let list: Vec<String> =
                        choices.iter().map(super::common::json_to_string).collect();
                    errors.push(format!(
                        "value of {name} must be one of: {}, got: {}{found_in}",
                        list.join(", "),
                        super::common::json_to_string(&it)
                    ));
                }
            }
        }
        let sub_ctx = if context.is_empty() {
            name.clone()
        } else {
            format!("{context}.{name}")
        };
        if ty == "list" {
            let elements = opt.get("elements").and_then(Json::as_str);
            if let (Some(el), Json::Array(items)) = (elements, &converted) {
                for (i, it) in items.iter().enumerate() {
                    if check_type(el, it).is_err() {
                        errors.push(format!(
                            "Elements value for option '{name}'{found_in} is of type {} and we were unable to convert to {el}",
                            type_name(it)
                        ));
                        continue;
                    }
                    if let (Some(Json::Object(sub)), Json::Object(iv)) = (opt.get("options"), it) {
                        validate_options(sub, iv, &format!("{sub_ctx}[{i}]"), errors);
                        check_unknown(sub, iv, &format!("{sub_ctx}[{i}]"), errors);
                    }
                }
            }
        } else if ty == "dict"
            && let (Some(Json::Object(sub)), Json::Object(v)) = (opt.get("options"), &converted)
        {
            validate_options(sub, v, &sub_ctx, errors);
            check_unknown(sub, v, &sub_ctx, errors);
        }
    }
    if !missing.is_empty() {
        errors.push(format!(
            "missing required arguments: {}{found_in}",
            missing.join(", ")
        ));
    }
}

fn check_unknown(
    spec: &Map<String, Json>,
    values: &Map<String, Json>,
    context: &str,
    errors: &mut Vec<String>,
) {
    let mut unknown: Vec<&str> = values
        .keys()
        .filter(|k| !spec.contains_key(*k))
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        unknown.sort();
        let mut supported: Vec<&str> = spec.keys().map(String::as_str).collect();
        supported.sort();
        errors.push(format!(
            "{context}. Supported parameters include: {}. Unsupported parameters: {}",
            supported.join(", "),
            unknown.join(", ")
        ));
    }
}

/// Ansible's type checkers: the converted value, or Err when conversion is impossible.
fn check_type(ty: &str, v: &Json) -> Result<Json, ()> {
    match ty {
        "str" | "path" | "raw" | "jsonarg" | "json" => Ok(v.clone()),
        "int" => match v {
            Json::Number(n) if n.is_i64() || n.is_u64() => Ok(v.clone()),
            Json::Number(n) if n.as_f64().is_some_and(|f| f.fract() == 0.0) => Ok(v.clone()),
            Json::String(s) => s.trim().parse::<i64>().map(Json::from).map_err(|_| ()),
            _ => Err(()),
        },
        "float" => match v {
            Json::Number(_) => Ok(v.clone()),
            Json::String(s) => s.trim().parse::<f64>().map(|f| json!(f)).map_err(|_| ()),
            _ => Err(()),
        },
        "bool" => match v {
            Json::Bool(_) => Ok(v.clone()),
            other => to_bool(other).map(Json::Bool).ok_or(()),
        },
        "list" => match v {
            Json::Array(_) => Ok(v.clone()),
            Json::String(s) => Ok(Json::Array(s.split(',').map(|x| json!(x.trim())).collect())),
            Json::Number(_) => Ok(json!([v.to_string()])),
            _ => Err(()),
        },
        "dict" => match v {
            Json::Object(_) => Ok(v.clone()),
            Json::String(s) => serde_json::from_str::<Json>(s)
                .ok()
                .filter(Json::is_object)
                .ok_or(()),
            _ => Err(()),
        },
        _ => Ok(v.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_checks() {
        let spec: Map<String, Json> = serde_json::from_value(json!({
            "port": {"type": "int"},
            "level": {"type": "str", "choices": ["info", "warn"]},
            "sites": {"type": "list", "elements": "dict", "options": {"name": {"type": "str", "required": true}, "port": {"type": "int"}}}
        })).expect("spec");
        let good: Map<String, Json> = serde_json::from_value(
            json!({"port": "8080", "level": "info", "sites": [{"name": "a", "port": 1}]}),
        )
        .expect("v");
        let mut errs = vec![];
        validate_options(&spec, &good, "", &mut errs);
        assert!(errs.is_empty(), "{errs:?}");
        let bad: Map<String, Json> = serde_json::from_value(
            json!({"port": "http", "level": "loud", "sites": [{"port": "x"}]}),
        )
        .expect("v");
        validate_options(&spec, &bad, "", &mut errs);
        assert_eq!(errs.len(), 4, "{errs:?}");
        assert!(
            errs[0].contains("argument 'port' is of type str and we were unable to convert to int")
        );
        assert!(
            errs.iter()
                .any(|e| e.contains("missing required arguments: name found in sites[0]"))
        );
    }
}
