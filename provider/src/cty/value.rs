//! cty values. Collections keep their elements; objects and maps are sorted by key
//! (`BTreeMap`), which is also the order the msgpack encoding requires.

use std::collections::BTreeMap;

use super::types::Type;

/// A cty number. Terraform's msgpack uses an int when the number is an exact int64, a
/// float64 when it is exactly representable, and a decimal string otherwise.
#[derive(Debug, Clone)]
pub enum Number {
    Int(i64),
    Float(f64),
    /// Arbitrary-precision decimal kept verbatim (e.g. "1e400" or 30 significant digits).
    Decimal(String),
}

impl Number {
    /// Canonical form: integral floats that fit i64 become `Int`, so equality is by value.
    pub fn canonical(self) -> Number {
        match self {
            Number::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e18 => Number::Int(f as i64),
            Number::Decimal(s) => match s.parse::<i64>() {
                Ok(i) => Number::Int(i),
                Err(_) => match exact_float(&s) {
                    Some(f) => Number::Float(f).canonical(),
                    None => Number::Decimal(s),
                },
            },
            n => n,
        }
    }
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Number::Int(i) => Some(*i),
            Number::Float(f) if f.fract() == 0.0 => Some(*f as i64),
            Number::Decimal(s) => s.parse().ok(),
            _ => None,
        }
    }
}

/// `s` as an f64 when the f64 prints back as exactly `s` (shortest round-trip form), i.e.
/// nothing is lost by storing it as a float.
pub fn exact_float(s: &str) -> Option<f64> {
    let f: f64 = s.parse().ok()?;
    let printed = serde_json::Number::from_f64(f)?.to_string();
    (f.is_finite() && printed == s).then_some(f)
}

impl std::fmt::Display for Number {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Number::Int(i) => write!(f, "{i}"),
            Number::Float(x) => write!(f, "{x}"),
            Number::Decimal(s) => f.write_str(s),
        }
    }
}

impl PartialEq for Number {
    fn eq(&self, other: &Self) -> bool {
        match (self.clone().canonical(), other.clone().canonical()) {
            (Number::Int(a), Number::Int(b)) => a == b,
            (Number::Float(a), Number::Float(b)) => a == b || (a.is_nan() && b.is_nan()),
            (Number::Decimal(a), Number::Decimal(b)) => a == b,
            _ => false,
        }
    }
}

#[derive(Debug, Clone)]
pub enum Value {
    Null,
    /// Not known until apply. Refinements (Terraform >= 1.6) are accepted and dropped.
    Unknown,
    String(String),
    Number(Number),
    Bool(bool),
    List(Vec<Value>),
    /// Element order carries no meaning; equality is order-insensitive.
    Set(Vec<Value>),
    Map(BTreeMap<String, Value>),
    Object(BTreeMap<String, Value>),
    Tuple(Vec<Value>),
    /// A value of a `dynamic` attribute, carrying its concrete type.
    Typed(Type, Box<Value>),
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        use Value::*;
        match (self, other) {
            (Null, Null) | (Unknown, Unknown) => true,
            (String(a), String(b)) => a == b,
            (Number(a), Number(b)) => a == b,
            (Bool(a), Bool(b)) => a == b,
            (List(a), List(b)) | (Tuple(a), Tuple(b)) => a == b,
            (Set(a), Set(b)) => set_eq(a, b),
            (Map(a), Map(b)) | (Object(a), Object(b)) => a == b,
            (Typed(ta, a), Typed(tb, b)) => ta == tb && a == b,
            _ => false,
        }
    }
}

impl Value {
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }
    pub fn int(i: i64) -> Value {
        Value::Number(Number::Int(i))
    }
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown)
    }
    /// True when no unknown appears anywhere inside.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown => false,
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => {
                v.iter().all(Value::is_wholly_known)
            }
            Value::Map(m) | Value::Object(m) => m.values().all(Value::is_wholly_known),
            Value::Typed(_, v) => v.is_wholly_known(),
            _ => true,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
    /// Attribute of an object value (`Null` when absent or when self is not an object).
    pub fn attr(&self, name: &str) -> &Value {
        static NULL: Value = Value::Null;
        match self {
            Value::Object(m) => m.get(name).unwrap_or(&NULL),
            _ => &NULL,
        }
    }
    pub fn attr_mut(&mut self, name: &str) -> Option<&mut Value> {
        match self {
            Value::Object(m) => m.get_mut(name),
            _ => None,
        }
    }
    pub fn set_attr(&mut self, name: &str, v: Value) {
        if let Value::Object(m) = self {
            m.insert(name.to_string(), v);
        }
    }
    /// Elements of a list, set or tuple (empty for null/unknown/others).
    pub fn elements(&self) -> &[Value] {
        match self {
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => v,
            _ => &[],
        }
    }
    /// Entries of a map or object (None for null/unknown/others).
    pub fn entries(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Map(m) | Value::Object(m) => Some(m),
            _ => None,
        }
    }
    /// A `map(string)` as Rust strings, skipping null and unknown values.
    pub fn string_map(&self) -> BTreeMap<String, String> {
        self.entries()
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                    .collect()
            })
            .unwrap_or_default()
    }
    pub fn from_string_map<I: IntoIterator<Item = (String, String)>>(it: I) -> Value {
        Value::Map(it.into_iter().map(|(k, v)| (k, Value::String(v))).collect())
    }
    /// A null value of a type has the same shape for every type; an object of nulls is
    /// what a fresh resource state looks like before it is filled.
    pub fn null_object(ty: &Type) -> Value {
        match ty {
            Type::Object(attrs) => {
                Value::Object(attrs.keys().map(|k| (k.clone(), Value::Null)).collect())
            }
            _ => Value::Null,
        }
    }
}

/// Sets compare without regard to order. Also used by the plan consistency checks.
pub fn set_eq(a: &[Value], b: &[Value]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut used = vec![false; b.len()];
    'outer: for x in a {
        for (i, y) in b.iter().enumerate() {
            if !used[i] && x == y {
                used[i] = true;
                continue 'outer;
            }
        }
        return false;
    }
    true
}
