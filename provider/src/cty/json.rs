//! The JSON form of cty values, used for stored state (`RawState.json`) in
//! `UpgradeResourceState`. No type information is stored except for `dynamic` values,
//! which are stored as `{"value": ..., "type": ...}`. JSON cannot express unknowns.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::{CodecError, Number, Type, Value};

pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, CodecError> {
    let j: Json = serde_json::from_slice(bytes).map_err(|e| CodecError::Json(e.to_string()))?;
    from_json(&j, ty, "")
}

fn mismatch(path: &str, ty: &Type, j: &Json) -> CodecError {
    CodecError::Mismatch {
        path: if path.is_empty() {
            "(root)".into()
        } else {
            path.to_string()
        },
        expected: ty.friendly(),
        found: j.to_string().chars().take(60).collect(),
    }
}

pub fn from_json(j: &Json, ty: &Type, path: &str) -> Result<Value, CodecError> {
    if j.is_null() {
        return Ok(Value::Null);
    }
    match (ty, j) {
        (Type::Dynamic, Json::Object(m)) if m.contains_key("type") => {
            let inner_ty = Type::from_json(&m["type"])?;
            let v = from_json(m.get("value").unwrap_or(&Json::Null), &inner_ty, path)?;
            Ok(Value::Typed(inner_ty, Box::new(v)))
        }
        (Type::String, Json::String(s)) => Ok(Value::String(s.clone())),
        // Stored state may hold primitives in their string form (cty converts them).
        (Type::String, Json::Number(n)) => Ok(Value::String(n.to_string())),
        (Type::String, Json::Bool(b)) => Ok(Value::String(b.to_string())),
        (Type::Bool, Json::Bool(b)) => Ok(Value::Bool(*b)),
        (Type::Bool, Json::String(s)) if s == "true" || s == "false" => {
            Ok(Value::Bool(s == "true"))
        }
        (Type::Number, Json::Number(n)) => Ok(Value::Number(
            match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => Number::Int(i),
                // Parse the text ourselves: serde_json's own float parsing may be off by an ulp.
                (None, Some(_)) => match super::value::exact_float(&n.to_string()) {
                    Some(f) => Number::Float(f),
                    None => Number::Decimal(n.to_string()),
                },
                _ => Number::Decimal(n.to_string()),
            }
            .canonical(),
        )),
        (Type::Number, Json::String(s)) if s.parse::<f64>().is_ok() => {
            Ok(Value::Number(Number::Decimal(s.clone()).canonical()))
        }
        (Type::List(et), Json::Array(a)) | (Type::Set(et), Json::Array(a)) => {
            let items = a
                .iter()
                .enumerate()
                .map(|(i, x)| from_json(x, et, &format!("{path}[{i}]")))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(if matches!(ty, Type::Set(_)) {
                Value::Set(items)
            } else {
                Value::List(items)
            })
        }
        (Type::Tuple(ets), Json::Array(a)) if a.len() == ets.len() => Ok(Value::Tuple(
            a.iter()
                .zip(ets)
                .enumerate()
                .map(|(i, (x, et))| from_json(x, et, &format!("{path}[{i}]")))
                .collect::<Result<_, _>>()?,
        )),
        (Type::Map(et), Json::Object(m)) => {
            let mut out = BTreeMap::new();
            for (k, x) in m {
                out.insert(k.clone(), from_json(x, et, &format!("{path}[{k:?}]"))?);
            }
            Ok(Value::Map(out))
        }
        (Type::Object(attrs), Json::Object(m)) => {
            let mut out = BTreeMap::new();
            for (k, at) in attrs {
                let v = match m.get(k) {
                    Some(x) => from_json(x, at, &format!("{path}.{k}"))?,
                    None => Value::Null,
                };
                out.insert(k.clone(), v);
            }
            // Attributes that are no longer in the schema are dropped (state upgrade).
            Ok(Value::Object(out))
        }
        _ => Err(mismatch(path, ty, j)),
    }
}

/// JSON form of a known value (used for docs and tests). Unknown becomes null.
pub fn to_json(v: &Value) -> Json {
    match v {
        Value::Null | Value::Unknown => Json::Null,
        Value::String(s) => Json::String(s.clone()),
        Value::Bool(b) => Json::Bool(*b),
        Value::Number(Number::Int(i)) => Json::from(*i),
        Value::Number(Number::Float(f)) => Json::from(*f),
        Value::Number(Number::Decimal(s)) => Json::String(s.clone()),
        Value::List(a) | Value::Set(a) | Value::Tuple(a) => {
            Json::Array(a.iter().map(to_json).collect())
        }
        Value::Map(m) | Value::Object(m) => {
            Json::Object(m.iter().map(|(k, v)| (k.clone(), to_json(v))).collect())
        }
        Value::Typed(t, v) => serde_json::json!({"value": to_json(v), "type": t.to_json()}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_state_with_dropped_and_missing_attributes() {
        let ty = Type::object([
            ("name", Type::String),
            ("config", Type::map(Type::String)),
            ("running", Type::Bool),
            ("n", Type::Number),
        ]);
        let v = decode(br#"{"name":"c1","config":{"a":"1"},"gone":5,"n":3}"#, &ty).unwrap();
        assert_eq!(v.attr("name"), &Value::string("c1"));
        assert_eq!(v.attr("running"), &Value::Null);
        assert_eq!(v.attr("n"), &Value::int(3));
        assert_eq!(
            v.attr("config").string_map().get("a").map(String::as_str),
            Some("1")
        );
    }

    #[test]
    fn dynamic_values_carry_their_type() {
        let v = decode(
            br#"{"value":["a"],"type":["list","string"]}"#,
            &Type::Dynamic,
        )
        .unwrap();
        assert_eq!(
            v,
            Value::Typed(
                Type::list(Type::String),
                Box::new(Value::List(vec![Value::string("a")]))
            )
        );
    }

    #[test]
    fn wrong_shape_is_an_error_with_path() {
        let ty = Type::object([("l", Type::list(Type::Bool))]);
        let err = decode(br#"{"l":[true,"x"]}"#, &ty).unwrap_err().to_string();
        assert!(err.contains(".l[1]"), "{err}");
    }
}
