//! Property tests: any value of any type survives msgpack encode → decode unchanged, and
//! the JSON state form decodes to the same value (for values without unknowns).

use std::collections::BTreeMap;

use floe_provider::cty::{Number, Type, Value, json, msgpack};
use proptest::prelude::*;

fn arb_type() -> impl Strategy<Value = Type> {
    let leaf = prop_oneof![
        Just(Type::String),
        Just(Type::Number),
        Just(Type::Bool),
        Just(Type::Dynamic)
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(Type::list),
            inner.clone().prop_map(Type::set),
            inner.clone().prop_map(Type::map),
            prop::collection::btree_map("[a-z_]{1,6}", inner.clone(), 0..4).prop_map(Type::Object),
            prop::collection::vec(inner, 0..3).prop_map(Type::Tuple),
        ]
    })
}

fn arb_number() -> impl Strategy<Value = Number> {
    prop_oneof![
        any::<i64>().prop_map(Number::Int),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| Number::Float(f).canonical()),
        "[1-9][0-9]{20,30}".prop_map(Number::Decimal),
    ]
}

/// A value conforming to `ty` (null and unknown allowed anywhere).
fn arb_value(ty: Type, allow_unknown: bool) -> BoxedStrategy<Value> {
    let special = if allow_unknown {
        prop_oneof![Just(Value::Null), Just(Value::Unknown)].boxed()
    } else {
        Just(Value::Null).boxed()
    };
    let concrete: BoxedStrategy<Value> = match ty {
        Type::String => ".{0,12}".prop_map(Value::String).boxed(),
        Type::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        Type::Number => arb_number().prop_map(Value::Number).boxed(),
        Type::Dynamic => prop_oneof![
            ".{0,6}".prop_map(|s| Value::Typed(Type::String, Box::new(Value::String(s)))),
            any::<bool>().prop_map(|b| Value::Typed(
                Type::list(Type::Bool),
                Box::new(Value::List(vec![Value::Bool(b)]))
            )),
        ]
        .boxed(),
        Type::List(et) => prop::collection::vec(arb_value(*et, allow_unknown), 0..4)
            .prop_map(Value::List)
            .boxed(),
        Type::Set(et) => prop::collection::vec(arb_value(*et, allow_unknown), 0..4)
            .prop_map(Value::Set)
            .boxed(),
        Type::Map(et) => {
            prop::collection::btree_map("[a-z.]{0,6}", arb_value(*et, allow_unknown), 0..4)
                .prop_map(Value::Map)
                .boxed()
        }
        Type::Tuple(ets) => ets
            .into_iter()
            .map(|t| arb_value(t, allow_unknown))
            .collect::<Vec<_>>()
            .prop_map(Value::Tuple)
            .boxed(),
        Type::Object(attrs) => attrs
            .into_iter()
            .map(|(k, t)| arb_value(t, allow_unknown).prop_map(move |v| (k.clone(), v)))
            .collect::<Vec<_>>()
            .prop_map(|kv| Value::Object(kv.into_iter().collect::<BTreeMap<_, _>>()))
            .boxed(),
    };
    prop_oneof![1 => special, 6 => concrete].boxed()
}

fn typed_value(allow_unknown: bool) -> impl Strategy<Value = (Type, Value)> {
    arb_type().prop_flat_map(move |t| {
        arb_value(t.clone(), allow_unknown).prop_map(move |v| (t.clone(), v))
    })
}

/// Terraform's JSON state cannot hold a typed null inside dynamic, nor unknowns.
fn to_state_json(v: &Value) -> serde_json::Value {
    json::to_json(v)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn msgpack_round_trip((ty, v) in typed_value(true)) {
        let bytes = msgpack::encode(&v, &ty).expect("encode");
        let back = msgpack::decode(&bytes, &ty).expect("decode");
        prop_assert_eq!(back, v);
    }

    #[test]
    fn msgpack_objects_have_sorted_complete_keys((ty, v) in typed_value(true)) {
        let bytes = msgpack::encode(&v, &ty).expect("encode");
        if let (Type::Object(attrs), Value::Object(_)) = (&ty, &v) {
            let mp = rmpv::decode::read_value(&mut bytes.as_slice()).expect("msgpack");
            let keys: Vec<String> = mp.as_map().expect("map").iter().map(|(k, _)| k.as_str().unwrap_or_default().to_string()).collect();
            prop_assert_eq!(keys, attrs.keys().cloned().collect::<Vec<_>>());
        }
    }

    #[test]
    fn json_state_decodes_like_msgpack((ty, v) in typed_value(false)) {
        let text = to_state_json(&v).to_string();
        let back = json::decode(text.as_bytes(), &ty).expect("json decode");
        prop_assert_eq!(back, v);
    }
}
