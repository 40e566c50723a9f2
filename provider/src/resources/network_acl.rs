//! `incus_network_acl`: a network ACL with `ingress` and `egress` rules, HCL-compatible with
//! the Go provider (rules are protocol-6 nested attributes: `ingress = [{ ... }]`).
//!
//! Incus stores unset rule fields as `""`; state holds them as null, so a rule written with
//! only `action` and `state` imports and re-reads without a diff. The whole server object is
//! tracked (no computed config keys): out-of-band rules and keys show up as drift.
//! Import: `[remote:][project/]name`.

use std::collections::BTreeMap;

use async_trait::async_trait;
use incus_client::{NetworkAcl as ServerAcl, NetworkAclPut, NetworkAclRule, NetworkAclsPost};

use crate::config::ProviderData;
use crate::cty::{AttrPath, Type, Value};
use crate::framework::diag::Diagnostics;
use crate::framework::{Attribute, Block, Resource, Schema};

use super::common::validate_object_name;
use super::support::attrs::{self, opt_str, req_str};
use super::support::config_map::{self, ComputedKeys};
use super::support::import_id::ImportSpec;

pub struct NetworkAcl;

pub const ACTIONS: &[&str] = &["allow", "allow-stateless", "drop", "reject"];
pub const STATES: &[&str] = &["enabled", "disabled", "logged"];

const IMPORT: ImportSpec = ImportSpec {
    resource: "incus_network_acl",
    fields: &["name"],
    project: true,
    options: &[],
};

/// The optional string fields of a rule, in the order of the docs, with their descriptions.
const RULE_FIELDS: &[(&str, &str)] = &[
    (
        "source",
        "Comma-separated sources: CIDRs, IP ranges, ACL or network selectors (`@internal`, `@external`).",
    ),
    (
        "destination",
        "Comma-separated destinations (same forms as `source`).",
    ),
    ("source_port", "Source ports or ranges (`tcp`/`udp` only)."),
    (
        "destination_port",
        "Destination ports or ranges, e.g. `22` or `80,443,8000-8080` (`tcp`/`udp` only).",
    ),
    (
        "protocol",
        "`icmp4`, `icmp6`, `tcp` or `udp`; unset matches any protocol.",
    ),
    ("icmp_type", "ICMP message type (`icmp4`/`icmp6` only)."),
    ("icmp_code", "ICMP message code (`icmp4`/`icmp6` only)."),
    ("description", "Description of the rule."),
];

/// The members of one rule. The optional fields are plain optional (not optional+computed
/// as in the Go provider; HCL is the same): Incus has no server-side default for them
/// (`""` = unset = null), and a computed member would let Terraform carry a prior value
/// into the plan and hide an out-of-band change.
fn rule_attributes() -> Vec<Attribute> {
    let mut v = vec![
        Attribute::required("action", Type::String)
            .validate(crate::one_of!(ACTIONS))
            .desc("`allow`, `allow-stateless`, `drop` or `reject`."),
        Attribute::required("state", Type::String)
            .validate(crate::one_of!(STATES))
            .desc("`enabled`, `disabled` or `logged`."),
    ];
    for (name, desc) in RULE_FIELDS {
        v.push(Attribute::optional(name, Type::String).desc(desc));
    }
    v
}

/// A LIST of nested objects, not a set as in the Go provider (the HCL is the same,
/// `ingress = [{ ... }]`): Terraform 1.0.3 crashes rendering a plan in which a nested
/// attribute set goes from or to null (`HasElement on a nil value`, i.e. every create and
/// destroy). Incus keeps rules in the order written, so a list shows no spurious diff.
fn rules_attr(name: &'static str, desc: &'static str) -> Attribute {
    Attribute::nested_list(name, rule_attributes())
        .also_computed()
        .default(Value::List(Vec::new()))
        .desc(desc)
}

fn get<'a>(rule: &'a NetworkAclRule, field: &str) -> &'a str {
    match field {
        "source" => &rule.source,
        "destination" => &rule.destination,
        "source_port" => &rule.source_port,
        "destination_port" => &rule.destination_port,
        "protocol" => &rule.protocol,
        "icmp_type" => &rule.icmp_type,
        "icmp_code" => &rule.icmp_code,
        "description" => &rule.description,
        _ => unreachable!("unknown rule field {field}"),
    }
}

fn rule_from(v: &Value) -> NetworkAclRule {
    let s = |f: &str| opt_str(v, f).unwrap_or_default().to_string();
    NetworkAclRule {
        action: s("action"),
        state: s("state"),
        description: s("description"),
        source: s("source"),
        destination: s("destination"),
        protocol: s("protocol"),
        source_port: s("source_port"),
        destination_port: s("destination_port"),
        icmp_type: s("icmp_type"),
        icmp_code: s("icmp_code"),
    }
}

fn rules_from(v: &Value) -> Vec<NetworkAclRule> {
    v.elements().iter().map(rule_from).collect()
}

/// The object type of one rule (also the element type of the data source's rule lists).
pub fn rule_type() -> Type {
    Block::new(rule_attributes()).ty()
}

/// One server rule as a state value (`""` fields are null).
pub fn rule_to_value(rule: &NetworkAclRule) -> Value {
    let mut m = BTreeMap::new();
    m.insert("action".to_string(), Value::string(&rule.action));
    m.insert("state".to_string(), Value::string(&rule.state));
    for (f, _) in RULE_FIELDS {
        let s = get(rule, f);
        let v = if s.is_empty() {
            Value::Null
        } else {
            Value::string(s)
        };
        m.insert(f.to_string(), v);
    }
    Value::Object(m)
}

fn to_state(base: &Value, acl: &ServerAcl) -> Value {
    let mut st = base.clone();
    st.set_attr("name", Value::string(&acl.name));
    st.set_attr("description", Value::string(&acl.description));
    st.set_attr(
        "config",
        config_map::to_state(
            &acl.config,
            base.attr("config"),
            &ComputedKeys::default(),
            &config_map::exact,
        ),
    );
    st.set_attr(
        "ingress",
        Value::List(acl.ingress.iter().map(rule_to_value).collect()),
    );
    st.set_attr(
        "egress",
        Value::List(acl.egress.iter().map(rule_to_value).collect()),
    );
    st
}

/// Incus names the direction in rule errors ("Invalid ingress rule 0: ..."): point there;
/// config complaints point at the key.
fn located(ctx: &ProviderData, st: &Value, what: &str, e: &incus_client::Error) -> Diagnostics {
    let msg = e.daemon_message().unwrap_or_default().to_lowercase();
    let path = if msg.contains("ingress") {
        Some(AttrPath::attr("ingress"))
    } else if msg.contains("egress") {
        Some(AttrPath::attr("egress"))
    } else {
        attrs::config_key_path(e, st.attr("config"))
    };
    match path {
        Some(p) => attrs::api_err_at(ctx, st, p, what, e),
        None => attrs::api_err(ctx, st, what, e),
    }
}

#[async_trait]
impl Resource for NetworkAcl {
    fn type_name(&self) -> &'static str {
        "incus_network_acl"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new(vec![
                Attribute::required("name", Type::String)
                    .replace()
                    .validate(validate_object_name)
                    .desc("Name of the ACL. Changing it forces a new ACL."),
                Attribute::optional_computed("description", Type::String)
                    .default(Value::string(""))
                    .desc("Description of the ACL."),
                Attribute::optional_computed("config", Type::map(Type::String))
                    .default(Value::Map(Default::default()))
                    .desc("ACL configuration (`user.*` keys)."),
                rules_attr(
                    "ingress",
                    "Rules for traffic entering the instances the ACL applies to.",
                ),
                rules_attr(
                    "egress",
                    "Rules for traffic leaving the instances the ACL applies to.",
                ),
                attrs::project_attr(),
                attrs::remote_attr(),
            ])
            .desc("Manages an Incus network ACL (attach it with a network's or NIC's `security.acls`)."),
        )
    }

    async fn create(&self, ctx: &ProviderData, planned: &Value) -> Result<Value, Diagnostics> {
        let c = attrs::client(ctx, planned)?;
        let name = req_str(planned, "name");
        let req = NetworkAclsPost {
            name: name.to_string(),
            description: req_str(planned, "description").to_string(),
            config: config_map::user_config(planned.attr("config")),
            ingress: rules_from(planned.attr("ingress")),
            egress: rules_from(planned.attr("egress")),
        };
        c.create_network_acl(&req)
            .await
            .map_err(|e| located(ctx, planned, &format!("create network ACL {name:?}"), &e))?;
        let acl = c.get_network_acl(name).await.map_err(|e| {
            attrs::api_err(
                ctx,
                planned,
                &format!("read network ACL {name:?} after creating it"),
                &e,
            )
        })?;
        Ok(to_state(planned, &acl))
    }

    async fn read(&self, ctx: &ProviderData, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let c = attrs::client(ctx, state)?;
        let name = req_str(state, "name");
        let what = format!("read network ACL {name:?}");
        let found = attrs::found_or_gone(ctx, state, &what, c.get_network_acl(name).await)?;
        Ok(found.map(|acl| to_state(state, &acl)))
    }

    async fn update(
        &self,
        ctx: &ProviderData,
        _prior: &Value,
        planned: &Value,
    ) -> Result<Value, Diagnostics> {
        let c = attrs::client(ctx, planned)?;
        let name = req_str(planned, "name");
        let (acl, etag) = c
            .get_network_acl_with_etag(name)
            .await
            .map_err(|e| attrs::api_err(ctx, planned, &format!("read network ACL {name:?}"), &e))?;
        let put = NetworkAclPut {
            description: req_str(planned, "description").to_string(),
            config: config_map::merge_for_put(
                &acl.config,
                planned.attr("config"),
                &ComputedKeys::default(),
                &config_map::exact,
            ),
            ingress: rules_from(planned.attr("ingress")),
            egress: rules_from(planned.attr("egress")),
        };
        c.update_network_acl(name, &put, etag.as_deref())
            .await
            .map_err(|e| located(ctx, planned, &format!("update network ACL {name:?}"), &e))?;
        let acl = c
            .get_network_acl(name)
            .await
            .map_err(|e| attrs::api_err(ctx, planned, &format!("read network ACL {name:?}"), &e))?;
        Ok(to_state(planned, &acl))
    }

    async fn delete(&self, ctx: &ProviderData, prior: &Value) -> Result<(), Diagnostics> {
        let c = attrs::client(ctx, prior)?;
        let name = req_str(prior, "name");
        attrs::deleted_or_gone(
            ctx,
            prior,
            &format!(
                "delete network ACL {name:?} (is it still in a network's or NIC's security.acls?)"
            ),
            c.delete_network_acl(name).await,
        )
    }

    async fn import(&self, _ctx: &ProviderData, id: &str) -> Result<Value, Diagnostics> {
        let id = IMPORT.parse(id)?;
        Ok(IMPORT.state(&id, &self.schema().ty()))
    }
}

pub const EXAMPLE: &str = r#"
resource "incus_network_acl" "web" {
  name        = "web"
  description = "HTTP in, DNS out"

  ingress = [
    {
      action           = "allow"
      state            = "enabled"
      protocol         = "tcp"
      destination_port = "80,443"
      description      = "web"
    },
  ]

  egress = [
    {
      action           = "allow"
      state            = "enabled"
      protocol         = "udp"
      destination      = "10.123.0.1"
      destination_port = "53"
    },
  ]
}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_server_fields_are_null_and_round_trip() {
        let rule = NetworkAclRule {
            action: "allow".into(),
            state: "enabled".into(),
            protocol: "tcp".into(),
            destination_port: "22".into(),
            ..Default::default()
        };
        let v = rule_to_value(&rule);
        assert_eq!(v.attr("source"), &Value::Null);
        assert_eq!(v.attr("description"), &Value::Null);
        assert_eq!(v.attr("destination_port"), &Value::string("22"));
        assert_eq!(rule_from(&v), rule);
    }

    #[test]
    fn schema_rules_are_nested_lists_with_every_field() {
        let s = NetworkAcl.schema();
        for dir in ["ingress", "egress"] {
            let a = s.block.attribute(dir).unwrap();
            let n = a.nested.as_ref().unwrap();
            assert_eq!(n.nesting, crate::framework::NestedNesting::List);
            assert_eq!(n.attributes.len(), 2 + RULE_FIELDS.len());
        }
    }
}
