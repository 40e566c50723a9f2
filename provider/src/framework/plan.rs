//! Schema-driven validation and planning, plus Terraform's consistency rules as checks.
//!
//! Planning follows terraform's resource-instance-change lifecycle: a configured value is
//! planned exactly as configured; only computed attributes the user left null may get a
//! default, the prior value, or unknown; any change to a requires-replace attribute is
//! reported so Terraform turns the update into a replacement.

use crate::cty::{AttrPath, Value};

use super::diag::Diagnostics;
use super::schema::{Attribute, Block, NestedNesting, Nesting, Presence, Schema, WhenChanged};

/// Run every attribute validator on known, non-null configured values.
pub fn validate(block: &Block, config: &Value, path: &AttrPath, diags: &mut Diagnostics) {
    for a in &block.attributes {
        let v = config.attr(a.name);
        if let Some(f) = a.validator
            && !v.is_null()
            && v.is_wholly_known()
        {
            f(v, &path.then_attr(a.name), diags);
        }
        if let Some(n) = &a.nested {
            let nested = Block::new(n.attributes.clone());
            let apath = path.then_attr(a.name);
            match n.nesting {
                NestedNesting::Map => {
                    for (k, e) in v.entries().into_iter().flatten() {
                        validate(&nested, e, &apath.then_key(k), diags);
                    }
                }
                // Terraform cannot point into a set element: errors name the member only.
                NestedNesting::Set => {
                    for e in v.elements() {
                        validate(&nested, e, &apath, diags);
                    }
                }
                NestedNesting::List => {
                    for (i, e) in v.elements().iter().enumerate() {
                        validate(&nested, e, &apath.then_index(i), diags);
                    }
                }
            }
        }
    }
    for b in &block.blocks {
        let v = config.attr(b.type_name);
        let bpath = path.then_attr(b.type_name);
        match b.nesting {
            Nesting::Single => validate(&b.block, v, &bpath, diags),
            // Terraform cannot point into a set element, so set errors point at the block.
            Nesting::Set => v
                .elements()
                .iter()
                .for_each(|e| validate(&b.block, e, &bpath, diags)),
            Nesting::List => {
                for (i, e) in v.elements().iter().enumerate() {
                    validate(&b.block, e, &bpath.then_index(i), diags);
                }
            }
        }
    }
}

/// The result of generic planning.
pub struct Planned {
    pub state: Value,
    pub requires_replace: Vec<AttrPath>,
}

/// Plan a create (prior null) or an update. `proposed` is Terraform's proposed new state
/// (config merged with prior values of computed attributes).
pub fn plan(schema: &Schema, prior: &Value, proposed: &Value, config: &Value) -> Planned {
    if proposed.is_null() {
        return Planned {
            state: Value::Null,
            requires_replace: vec![],
        };
    }
    let creating = prior.is_null();
    let mut state = proposed.clone();
    fill_block(&schema.block, &mut state, config, creating);

    let mut requires_replace = Vec::new();
    if !creating {
        let changed =
            schema.block.attributes.iter().any(|a| {
                a.presence != Presence::Computed && state.attr(a.name) != prior.attr(a.name)
            }) || schema
                .block
                .blocks
                .iter()
                .any(|b| state.attr(b.type_name) != prior.attr(b.type_name));
        for a in &schema.block.attributes {
            if a.presence == Presence::Computed && a.when_changed == WhenChanged::Unknown && changed
            {
                state.set_attr(a.name, Value::Unknown);
            }
            if a.requires_replace && state.attr(a.name) != prior.attr(a.name) {
                requires_replace.push(AttrPath::attr(a.name));
            }
        }
    }
    Planned {
        state,
        requires_replace,
    }
}

/// Defaults of optional+computed members inside the elements of a nested set/list
/// attribute. Set elements cannot be matched to config elements, but a member that is null
/// in a planned element was left unset in the config (configured values are planned as
/// written), so it gets its default. Members without a default stay as proposed (null:
/// "the server's empty value").
fn fill_nested_elements(members: &[Attribute], v: &mut Value) {
    let items = match v {
        Value::Set(items) | Value::List(items) => items,
        _ => return,
    };
    for item in items.iter_mut() {
        if matches!(item, Value::Null | Value::Unknown) {
            continue;
        }
        for m in members {
            if let Some(d) = &m.default
                && m.is_computed()
                && item.attr(m.name).is_null()
            {
                item.set_attr(m.name, d.clone());
            }
        }
    }
}

/// Defaults and unknowns for computed attributes the config leaves null.
fn fill_block(block: &Block, state: &mut Value, config: &Value, creating: bool) {
    for a in &block.attributes {
        if let Some(n) = &a.nested
            && matches!(n.nesting, NestedNesting::Set | NestedNesting::List)
            && !config.attr(a.name).is_null()
            && let Some(v) = state.attr_mut(a.name)
        {
            fill_nested_elements(&n.attributes, v);
        }
        if !a.is_computed() || !config.attr(a.name).is_null() {
            continue;
        }
        if let Some(d) = &a.default {
            state.set_attr(a.name, d.clone());
        } else if creating || state.attr(a.name).is_null() {
            state.set_attr(a.name, Value::Unknown);
        }
        // Otherwise the proposed value already holds the prior value.
    }
    for b in &block.blocks {
        let cfg = config.attr(b.type_name).clone();
        let Some(v) = state.attr_mut(b.type_name) else {
            continue;
        };
        match (b.nesting, v) {
            (Nesting::Single, v) if !v.is_null() => fill_block(&b.block, v, &cfg, creating),
            (Nesting::List, Value::List(items)) => {
                for (i, item) in items.iter_mut().enumerate() {
                    let c = cfg.elements().get(i).cloned().unwrap_or(Value::Null);
                    fill_block(&b.block, item, &c, creating);
                }
            }
            // Set elements cannot be matched to config reliably; blocks in sets have no
            // computed attributes in our schemas (checked by a test).
            _ => {}
        }
    }
}

/// Rule 1: a configured (non-null) value must be planned exactly as configured.
/// Returns the offending attribute paths.
pub fn check_plan_consistent(
    block: &Block,
    config: &Value,
    planned: &Value,
    path: &AttrPath,
) -> Vec<String> {
    let mut bad = Vec::new();
    for a in &block.attributes {
        let c = config.attr(a.name);
        let p = planned.attr(a.name);
        // Elements of a nested set/list may get defaults for computed members: only their
        // number must match.
        let members_computed = a.nested.as_ref().is_some_and(|n| {
            n.nesting != NestedNesting::Map && n.attributes.iter().any(|m| m.is_computed())
        });
        let must_equal = match a.presence {
            _ if members_computed => {
                if c.is_wholly_known() && !c.is_null() && c.elements().len() != p.elements().len() {
                    bad.push(format!("{}: element count changed", path.then_attr(a.name)));
                }
                false
            }
            Presence::Required | Presence::Optional => true,
            Presence::OptionalComputed => !c.is_null(),
            Presence::Computed => false,
        };
        if must_equal && c.is_wholly_known() && c != p {
            bad.push(format!(
                "{}: config {:?} planned {:?}",
                path.then_attr(a.name),
                c,
                p
            ));
        }
    }
    for b in &block.blocks {
        let (c, p) = (config.attr(b.type_name), planned.attr(b.type_name));
        if c.is_wholly_known() && c.elements().len() != p.elements().len() {
            bad.push(format!(
                "{}: block count changed",
                path.then_attr(b.type_name)
            ));
        }
    }
    bad
}

/// Rule 3: every value known in the plan must come back identical after apply, and no
/// unknown may remain. Returns the offending paths.
pub fn check_apply_consistent(planned: &Value, applied: &Value, path: &AttrPath) -> Vec<String> {
    let mut bad = Vec::new();
    walk_apply(planned, applied, path, &mut bad);
    bad
}

fn walk_apply(p: &Value, a: &Value, path: &AttrPath, bad: &mut Vec<String>) {
    if !a.is_wholly_known() {
        bad.push(format!("{path}: still unknown after apply"));
        return;
    }
    match (p, a) {
        (Value::Unknown, _) => {}
        (Value::Object(pm), Value::Object(am)) => {
            for (k, pv) in pm {
                walk_apply(
                    pv,
                    am.get(k).unwrap_or(&Value::Null),
                    &path.then_attr(k),
                    bad,
                );
            }
        }
        (Value::List(pl), Value::List(al)) if pl.len() == al.len() => {
            for (i, (pv, av)) in pl.iter().zip(al).enumerate() {
                walk_apply(pv, av, &path.then_index(i), bad);
            }
        }
        (Value::Map(pm), Value::Map(am)) if pm.len() == am.len() && pm.keys().eq(am.keys()) => {
            for (k, pv) in pm {
                walk_apply(pv, &am[k], &path.then_key(k), bad);
            }
        }
        (p, a) if p.is_wholly_known() => {
            if p != a {
                bad.push(format!("{path}: planned {p:?}, applied {a:?}"));
            }
        }
        // Partially unknown sets etc.: only the shape can be compared.
        (Value::Set(pl), Value::Set(al)) if pl.len() == al.len() => {}
        (p, a) => bad.push(format!("{path}: planned {p:?}, applied {a:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cty::Type;
    use crate::framework::schema::Attribute;

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::Object(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    fn schema() -> Schema {
        Schema::new(Block::new(vec![
            Attribute::required("name", Type::String),
            Attribute::optional("image", Type::String).replace(),
            Attribute::optional_computed("running", Type::Bool).default(Value::Bool(true)),
            Attribute::optional_computed("description", Type::String),
            Attribute::computed("status", Type::String).unknown_when_changed(),
            Attribute::computed("location", Type::String),
        ]))
    }

    #[test]
    fn create_plans_defaults_and_unknowns() {
        let cfg = obj(&[
            ("name", Value::string("a")),
            ("image", Value::string("img")),
        ]);
        let p = plan(&schema(), &Value::Null, &cfg, &cfg);
        assert_eq!(p.state.attr("running"), &Value::Bool(true));
        assert_eq!(p.state.attr("description"), &Value::Unknown);
        assert_eq!(p.state.attr("status"), &Value::Unknown);
        assert!(p.requires_replace.is_empty());
        assert!(
            check_plan_consistent(&schema().block, &cfg, &p.state, &AttrPath::root()).is_empty()
        );
    }

    #[test]
    fn unchanged_update_keeps_prior_computed_values() {
        let prior = obj(&[
            ("name", Value::string("a")),
            ("image", Value::string("img")),
            ("running", Value::Bool(true)),
            ("description", Value::string("")),
            ("status", Value::string("Running")),
            ("location", Value::string("none")),
        ]);
        let cfg = obj(&[
            ("name", Value::string("a")),
            ("image", Value::string("img")),
        ]);
        // Terraform's proposed new state copies prior values of unset computed attributes.
        let p = plan(&schema(), &prior, &prior, &cfg);
        assert_eq!(p.state, prior);
    }

    #[test]
    fn change_marks_volatile_computed_unknown_and_replace_paths() {
        let prior = obj(&[
            ("name", Value::string("a")),
            ("image", Value::string("img")),
            ("running", Value::Bool(true)),
            ("description", Value::string("")),
            ("status", Value::string("Running")),
            ("location", Value::string("none")),
        ]);
        let mut proposed = prior.clone();
        proposed.set_attr("image", Value::string("img2"));
        proposed.set_attr("running", Value::Null);
        let cfg = obj(&[
            ("name", Value::string("a")),
            ("image", Value::string("img2")),
        ]);
        let p = plan(&schema(), &prior, &proposed, &cfg);
        assert_eq!(p.state.attr("status"), &Value::Unknown);
        assert_eq!(p.state.attr("location"), &Value::string("none"));
        assert_eq!(p.state.attr("running"), &Value::Bool(true));
        assert_eq!(p.requires_replace, vec![AttrPath::attr("image")]);
    }

    fn rule_schema() -> Schema {
        Schema::new(Block::new(vec![
            Attribute::nested_set(
                "rule",
                vec![
                    Attribute::required("action", Type::String)
                        .validate(crate::one_of!(&["allow", "drop"])),
                    Attribute::optional_computed("state", Type::String)
                        .default(Value::string("enabled")),
                    Attribute::optional("port", Type::String),
                ],
            )
            .also_computed()
            .default(Value::Set(vec![])),
        ]))
    }

    fn rule(action: &str, state: Value, port: Value) -> Value {
        obj(&[
            ("action", Value::string(action)),
            ("state", state),
            ("port", port),
        ])
    }

    #[test]
    fn nested_set_members_get_defaults_and_set_order_does_not_matter() {
        let s = rule_schema();
        let cfg = obj(&[(
            "rule",
            Value::Set(vec![
                rule("allow", Value::Null, Value::string("22")),
                rule("drop", Value::string("disabled"), Value::Null),
            ]),
        )]);
        let p = plan(&s, &Value::Null, &cfg, &cfg);
        let expected = Value::Set(vec![
            rule("drop", Value::string("disabled"), Value::Null),
            rule("allow", Value::string("enabled"), Value::string("22")),
        ]);
        // Same elements in another order: equal.
        assert_eq!(p.state.attr("rule"), &expected);
        assert!(check_plan_consistent(&s.block, &cfg, &p.state, &AttrPath::root()).is_empty());

        // An update with the rules reordered in config plans no change.
        let reordered = obj(&[(
            "rule",
            Value::Set(vec![
                rule("drop", Value::string("disabled"), Value::Null),
                rule("allow", Value::Null, Value::string("22")),
            ]),
        )]);
        let p2 = plan(&s, &p.state, &reordered, &reordered);
        assert_eq!(p2.state, p.state);

        // Unset set: the default (empty set), not unknown.
        let none = obj(&[("rule", Value::Null)]);
        let p3 = plan(&s, &Value::Null, &none, &none);
        assert_eq!(p3.state.attr("rule"), &Value::Set(vec![]));
    }

    #[test]
    fn nested_set_element_count_must_match_config() {
        let s = rule_schema();
        let cfg = obj(&[(
            "rule",
            Value::Set(vec![rule("allow", Value::Null, Value::Null)]),
        )]);
        let planned = obj(&[("rule", Value::Set(vec![]))]);
        assert_eq!(
            check_plan_consistent(&s.block, &cfg, &planned, &AttrPath::root()).len(),
            1
        );
    }

    #[test]
    fn nested_set_and_list_members_are_validated() {
        let s = rule_schema();
        let cfg = obj(&[(
            "rule",
            Value::Set(vec![
                rule("allow", Value::Null, Value::Null),
                rule("reject", Value::Null, Value::Null),
            ]),
        )]);
        let mut d = Diagnostics::default();
        validate(&s.block, &cfg, &AttrPath::root(), &mut d);
        assert_eq!(d.0.len(), 1, "{d:?}");
        // No element index into a set: the path names the member attribute.
        assert_eq!(
            d.0[0].path,
            Some(AttrPath::attr("rule").then_attr("action"))
        );

        let list = Block::new(vec![Attribute::nested_list(
            "rule",
            vec![
                Attribute::required("action", Type::String)
                    .validate(crate::one_of!(&["allow", "drop"])),
            ],
        )]);
        let cfg = obj(&[(
            "rule",
            Value::List(vec![
                obj(&[("action", Value::string("allow"))]),
                obj(&[("action", Value::string("bad"))]),
            ]),
        )]);
        let mut d = Diagnostics::default();
        validate(&list, &cfg, &AttrPath::root(), &mut d);
        assert_eq!(d.0.len(), 1);
        assert_eq!(
            d.0[0].path,
            Some(AttrPath::attr("rule").then_index(1).then_attr("action"))
        );
    }

    #[test]
    fn nested_set_schema_encodes_set_nesting() {
        use crate::proto::tfplugin6 as pb;
        let proto = rule_schema().to_proto();
        let a = &proto.block.unwrap().attributes[0];
        let n = a.nested_type.as_ref().expect("nested_type");
        assert_eq!(n.nesting, pb::schema::object::NestingMode::Set as i32);
        assert!(a.r#type.is_empty());
        assert!(a.optional && a.computed);
        let names: Vec<_> = n.attributes.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["action", "state", "port"]);
        assert!(n.attributes[1].optional && n.attributes[1].computed);
    }

    #[test]
    fn apply_check_catches_changed_known_values() {
        let planned = obj(&[("a", Value::string("x")), ("b", Value::Unknown)]);
        let ok = obj(&[("a", Value::string("x")), ("b", Value::string("y"))]);
        assert!(check_apply_consistent(&planned, &ok, &AttrPath::root()).is_empty());
        let bad = obj(&[("a", Value::string("z")), ("b", Value::string("y"))]);
        assert_eq!(
            check_apply_consistent(&planned, &bad, &AttrPath::root()).len(),
            1
        );
        let unknown = obj(&[("a", Value::string("x")), ("b", Value::Unknown)]);
        assert_eq!(
            check_apply_consistent(&planned, &unknown, &AttrPath::root()).len(),
            1
        );
    }
}
