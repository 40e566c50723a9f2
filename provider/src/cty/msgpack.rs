//! The msgpack form of cty values (`DynamicValue.msgpack`), as Terraform reads and writes it:
//! null = nil; unknown = any extension value (we write `d4 00 00`, we accept refined
//! unknowns, ext type 0x0c, and everything else); numbers as int, float64 or decimal string;
//! objects as maps holding every attribute in sorted key order; dynamic as `[type JSON, value]`.

use std::collections::BTreeMap;
use std::io::Write;

use rmp::encode;
use rmpv::Value as Mp;

use super::{CodecError, Number, Type, Value};

/// Encode `v` as type `ty`.
pub fn encode(v: &Value, ty: &Type) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::with_capacity(256);
    write(&mut out, v, ty, &mut Vec::new())?;
    Ok(out)
}

/// Decode msgpack bytes as type `ty`. Empty input (an absent DynamicValue) is null.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, CodecError> {
    if bytes.is_empty() {
        return Ok(Value::Null);
    }
    let mut rd = bytes;
    let mp = rmpv::decode::read_value(&mut rd).map_err(|e| CodecError::Msgpack(e.to_string()))?;
    if !rd.is_empty() {
        return Err(CodecError::Msgpack(format!("{} trailing bytes", rd.len())));
    }
    from_mp(&mp, ty, &mut Vec::new())
}

fn io(e: impl std::fmt::Display) -> CodecError {
    CodecError::Msgpack(e.to_string())
}

fn mismatch(path: &[String], expected: &Type, found: &str) -> CodecError {
    CodecError::Mismatch {
        path: if path.is_empty() {
            "(root)".into()
        } else {
            path.join("")
        },
        expected: expected.friendly(),
        found: found.to_string(),
    }
}

fn write(
    out: &mut Vec<u8>,
    v: &Value,
    ty: &Type,
    path: &mut Vec<String>,
) -> Result<(), CodecError> {
    match v {
        Value::Null => {
            encode::write_nil(out).map_err(io)?;
            return Ok(());
        }
        Value::Unknown => {
            // fixext1, type 0, one zero byte: the plain unknown.
            out.write_all(&[0xd4, 0x00, 0x00]).map_err(io)?;
            return Ok(());
        }
        _ => {}
    }
    match (ty, v) {
        (Type::Dynamic, Value::Typed(inner_ty, inner)) => {
            encode::write_array_len(out, 2).map_err(io)?;
            let tj = inner_ty.to_json_bytes();
            encode::write_bin(out, &tj).map_err(io)?;
            write(out, inner, inner_ty, path)
        }
        (Type::Dynamic, other) => {
            // A dynamic attribute holding an untyped value: infer a type from its shape.
            let inferred = infer_type(other);
            write(
                out,
                &Value::Typed(inferred, Box::new(other.clone())),
                ty,
                path,
            )
        }
        (Type::String, Value::String(s)) => encode::write_str(out, s).map_err(io),
        (Type::Bool, Value::Bool(b)) => encode::write_bool(out, *b).map_err(io),
        (Type::Number, Value::Number(n)) => match n.clone().canonical() {
            Number::Int(i) => encode::write_sint(out, i).map(|_| ()).map_err(io),
            Number::Float(f) => encode::write_f64(out, f).map_err(io),
            Number::Decimal(s) => encode::write_str(out, &s).map_err(io),
        },
        (Type::List(et), Value::List(items)) | (Type::Set(et), Value::Set(items)) => {
            encode::write_array_len(out, items.len() as u32).map_err(io)?;
            for (i, item) in items.iter().enumerate() {
                path.push(format!("[{i}]"));
                write(out, item, et, path)?;
                path.pop();
            }
            Ok(())
        }
        (Type::Tuple(ets), Value::Tuple(items)) if ets.len() == items.len() => {
            encode::write_array_len(out, items.len() as u32).map_err(io)?;
            for (i, (item, et)) in items.iter().zip(ets).enumerate() {
                path.push(format!("[{i}]"));
                write(out, item, et, path)?;
                path.pop();
            }
            Ok(())
        }
        (Type::Map(et), Value::Map(m)) => {
            encode::write_map_len(out, m.len() as u32).map_err(io)?;
            for (k, item) in m {
                encode::write_str(out, k).map_err(io)?;
                path.push(format!("[{k:?}]"));
                write(out, item, et, path)?;
                path.pop();
            }
            Ok(())
        }
        (Type::Object(attrs), Value::Object(m)) => {
            if let Some(extra) = m.keys().find(|k| !attrs.contains_key(*k)) {
                return Err(mismatch(
                    path,
                    ty,
                    &format!("unexpected attribute {extra:?}"),
                ));
            }
            encode::write_map_len(out, attrs.len() as u32).map_err(io)?;
            // BTreeMap iteration is sorted, as Terraform requires.
            for (k, at) in attrs {
                encode::write_str(out, k).map_err(io)?;
                path.push(format!(".{k}"));
                write(out, m.get(k).unwrap_or(&Value::Null), at, path)?;
                path.pop();
            }
            Ok(())
        }
        (ty, v) => Err(mismatch(path, ty, kind(v))),
    }
}

/// A concrete type for a value found under `dynamic` without one.
pub fn infer_type(v: &Value) -> Type {
    match v {
        Value::String(_) => Type::String,
        Value::Number(_) => Type::Number,
        Value::Bool(_) => Type::Bool,
        Value::List(items) => Type::list(items.first().map(infer_type).unwrap_or(Type::Dynamic)),
        Value::Set(items) => Type::set(items.first().map(infer_type).unwrap_or(Type::Dynamic)),
        Value::Tuple(items) => Type::Tuple(items.iter().map(infer_type).collect()),
        Value::Map(m) => Type::map(m.values().next().map(infer_type).unwrap_or(Type::Dynamic)),
        Value::Object(m) => {
            Type::Object(m.iter().map(|(k, v)| (k.clone(), infer_type(v))).collect())
        }
        Value::Typed(t, _) => t.clone(),
        Value::Null | Value::Unknown => Type::Dynamic,
    }
}

pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Unknown => "unknown",
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Bool(_) => "bool",
        Value::List(_) => "list",
        Value::Set(_) => "set",
        Value::Map(_) => "map",
        Value::Object(_) => "object",
        Value::Tuple(_) => "tuple",
        Value::Typed(..) => "dynamic value",
    }
}

fn mp_kind(m: &Mp) -> &'static str {
    match m {
        Mp::Nil => "nil",
        Mp::Boolean(_) => "bool",
        Mp::Integer(_) => "integer",
        Mp::F32(_) | Mp::F64(_) => "float",
        Mp::String(_) => "string",
        Mp::Binary(_) => "binary",
        Mp::Array(_) => "array",
        Mp::Map(_) => "map",
        Mp::Ext(..) => "extension",
    }
}

fn from_mp(m: &Mp, ty: &Type, path: &mut Vec<String>) -> Result<Value, CodecError> {
    match m {
        Mp::Nil => return Ok(Value::Null),
        // Any extension is an unknown; refinements (type 0x0c) are accepted and dropped.
        Mp::Ext(..) => return Ok(Value::Unknown),
        _ => {}
    }
    match (ty, m) {
        (Type::Dynamic, Mp::Array(a)) if a.len() == 2 => {
            let tj: &[u8] = match &a[0] {
                Mp::Binary(b) => b,
                Mp::String(s) => s.as_bytes(),
                other => return Err(mismatch(path, ty, mp_kind(other))),
            };
            let tjson: serde_json::Value =
                serde_json::from_slice(tj).map_err(|e| CodecError::TypeJson(e.to_string()))?;
            let inner_ty = Type::from_json(&tjson)?;
            let inner = from_mp(&a[1], &inner_ty, path)?;
            Ok(Value::Typed(inner_ty, Box::new(inner)))
        }
        (Type::String, Mp::String(s)) => Ok(Value::String(
            s.as_str()
                .ok_or_else(|| CodecError::Msgpack("string is not UTF-8".into()))?
                .to_string(),
        )),
        (Type::Bool, Mp::Boolean(b)) => Ok(Value::Bool(*b)),
        (Type::Number, Mp::Integer(i)) => Ok(Value::Number(match i.as_i64() {
            Some(x) => Number::Int(x),
            None => Number::Decimal(i.to_string()),
        })),
        (Type::Number, Mp::F64(f)) => Ok(Value::Number(Number::Float(*f).canonical())),
        (Type::Number, Mp::F32(f)) => Ok(Value::Number(Number::Float(f64::from(*f)).canonical())),
        (Type::Number, Mp::String(s)) => {
            let s = s.as_str().unwrap_or_default();
            if s.parse::<f64>().is_err() {
                return Err(mismatch(path, ty, &format!("string {s:?}")));
            }
            Ok(Value::Number(Number::Decimal(s.to_string()).canonical()))
        }
        (Type::List(et), Mp::Array(a)) | (Type::Set(et), Mp::Array(a)) => {
            let mut items = Vec::with_capacity(a.len());
            for (i, x) in a.iter().enumerate() {
                path.push(format!("[{i}]"));
                items.push(from_mp(x, et, path)?);
                path.pop();
            }
            Ok(if matches!(ty, Type::Set(_)) {
                Value::Set(items)
            } else {
                Value::List(items)
            })
        }
        (Type::Tuple(ets), Mp::Array(a)) if ets.len() == a.len() => {
            let mut items = Vec::with_capacity(a.len());
            for (i, (x, et)) in a.iter().zip(ets).enumerate() {
                path.push(format!("[{i}]"));
                items.push(from_mp(x, et, path)?);
                path.pop();
            }
            Ok(Value::Tuple(items))
        }
        (Type::Map(et), Mp::Map(entries)) => {
            let mut out = BTreeMap::new();
            for (k, x) in entries {
                let k = mp_key(k, path, ty)?;
                path.push(format!("[{k:?}]"));
                let v = from_mp(x, et, path)?;
                path.pop();
                out.insert(k, v);
            }
            Ok(Value::Map(out))
        }
        (Type::Object(attrs), Mp::Map(entries)) => {
            let mut out: BTreeMap<String, Value> =
                attrs.keys().map(|k| (k.clone(), Value::Null)).collect();
            for (k, x) in entries {
                let k = mp_key(k, path, ty)?;
                let Some(at) = attrs.get(&k) else {
                    return Err(mismatch(path, ty, &format!("unexpected attribute {k:?}")));
                };
                path.push(format!(".{k}"));
                let v = from_mp(x, at, path)?;
                path.pop();
                out.insert(k, v);
            }
            Ok(Value::Object(out))
        }
        (ty, m) => Err(mismatch(path, ty, mp_kind(m))),
    }
}

fn mp_key(k: &Mp, path: &[String], ty: &Type) -> Result<String, CodecError> {
    match k {
        Mp::String(s) => s
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| CodecError::Msgpack("key is not UTF-8".into())),
        other => Err(mismatch(path, ty, &format!("{} map key", mp_kind(other)))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter()
            .map(|x| format!("{x:02x}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn golden_unknown_null_and_scalars() {
        assert_eq!(
            hex(&encode(&Value::Unknown, &Type::String).unwrap()),
            "d4 00 00"
        );
        assert_eq!(hex(&encode(&Value::Null, &Type::Bool).unwrap()), "c0");
        assert_eq!(
            hex(&encode(&Value::string("ab"), &Type::String).unwrap()),
            "a2 61 62"
        );
        assert_eq!(hex(&encode(&Value::int(1), &Type::Number).unwrap()), "01");
        assert_eq!(hex(&encode(&Value::int(-1), &Type::Number).unwrap()), "ff");
        assert_eq!(
            hex(&encode(&Value::int(300), &Type::Number).unwrap()),
            "cd 01 2c"
        );
        assert_eq!(
            hex(&encode(&Value::Number(Number::Float(1.5)), &Type::Number).unwrap()),
            "cb 3f f8 00 00 00 00 00 00"
        );
        // Integral floats are written as ints, as cty does.
        assert_eq!(
            hex(&encode(&Value::Number(Number::Float(2.0)), &Type::Number).unwrap()),
            "02"
        );
        assert_eq!(
            hex(&encode(
                &Value::Number(Number::Decimal("1e400".into())),
                &Type::Number
            )
            .unwrap()),
            "a5 31 65 34 30 30"
        );
    }

    #[test]
    fn golden_object_is_sorted_and_complete() {
        let ty = Type::object([
            ("output", Type::String),
            ("input", Type::String),
            ("nested", Type::Bool),
        ]);
        let v = Value::Object(
            [("input".to_string(), Value::string("x"))]
                .into_iter()
                .collect(),
        );
        // {input:"x", nested:nil, output:nil} in sorted order.
        assert_eq!(
            hex(&encode(&v, &ty).unwrap()),
            "83 a5 69 6e 70 75 74 a1 78 a6 6e 65 73 74 65 64 c0 a6 6f 75 74 70 75 74 c0"
        );
    }

    #[test]
    fn refined_unknown_and_any_ext_decode_as_unknown() {
        // ext 0x0c with a refinement map {1: true} (not null).
        let refined = [0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc3];
        assert_eq!(decode(&refined, &Type::String).unwrap(), Value::Unknown);
        assert_eq!(
            decode(&[0xd4, 0x00, 0x00], &Type::list(Type::String)).unwrap(),
            Value::Unknown
        );
        assert_eq!(
            decode(&[0xd4, 0x05, 0x07], &Type::Number).unwrap(),
            Value::Unknown
        );
    }

    #[test]
    fn numbers_decode_from_int_float_and_string() {
        assert_eq!(
            decode(&[0xcd, 0x01, 0x2c], &Type::Number).unwrap(),
            Value::int(300)
        );
        let f = encode(&Value::Number(Number::Float(0.25)), &Type::Number).unwrap();
        assert_eq!(
            decode(&f, &Type::Number).unwrap(),
            Value::Number(Number::Float(0.25))
        );
        let s = [0xa2, 0x34, 0x32];
        assert_eq!(decode(&s, &Type::Number).unwrap(), Value::int(42));
        let big = [0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(
            decode(&big, &Type::Number).unwrap(),
            Value::Number(Number::Decimal("18446744073709551615".into()))
        );
    }

    #[test]
    fn golden_dynamic() {
        let v = Value::Typed(Type::String, Box::new(Value::string("a")));
        // [bin "\"string\"", "a"]
        assert_eq!(
            hex(&encode(&v, &Type::Dynamic).unwrap()),
            "92 c4 08 22 73 74 72 69 6e 67 22 a1 61"
        );
        assert_eq!(
            decode(&encode(&v, &Type::Dynamic).unwrap(), &Type::Dynamic).unwrap(),
            v
        );
        assert_eq!(
            hex(&encode(&Value::Unknown, &Type::Dynamic).unwrap()),
            "d4 00 00"
        );
    }

    #[test]
    fn type_mismatch_names_the_path() {
        let ty = Type::object([("a", Type::list(Type::String))]);
        let v = Value::Object(
            [("a".to_string(), Value::List(vec![Value::Bool(true)]))]
                .into_iter()
                .collect(),
        );
        let err = encode(&v, &ty).unwrap_err().to_string();
        assert!(err.contains(".a[0]"), "{err}");
    }
}
