//! Data source `incus_network_acl`: an existing network ACL with its rules.

use async_trait::async_trait;

use crate::config::ProviderData;
use crate::cty::{AttrPath, Type, Value};
use crate::framework::DataSource;
use crate::framework::diag::{self, Diagnostics};
use crate::framework::schema::{Attribute, Block, Schema};
use crate::resources::network_acl::{rule_to_value, rule_type};
use crate::resources::support::attrs::{self, req_str};

pub struct NetworkAclData;

#[async_trait]
impl DataSource for NetworkAclData {
    fn type_name(&self) -> &'static str {
        "incus_network_acl"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new(vec![
                Attribute::required("name", Type::String).desc("Name of the ACL."),
                Attribute::optional("project", Type::String)
                    .desc("Incus project (default: the remote's project, else `default`)."),
                Attribute::optional("remote", Type::String).desc("Provider remote."),
                Attribute::computed("description", Type::String).desc("Description."),
                Attribute::computed("config", Type::map(Type::String)).desc("Configuration."),
                // Plain computed types (not nested attributes): nothing here is configurable.
                Attribute::computed("ingress", Type::list(rule_type()))
                    .desc("Ingress rules, in server order (same fields as the resource's)."),
                Attribute::computed("egress", Type::list(rule_type()))
                    .desc("Egress rules, in server order (same fields as the resource's)."),
            ])
            .desc("Reads an existing Incus network ACL."),
        )
    }

    async fn read(&self, ctx: &ProviderData, config: &Value) -> Result<Value, Diagnostics> {
        let c = attrs::client(ctx, config)?;
        let name = req_str(config, "name");
        let acl = c.get_network_acl(name).await.map_err(|e| {
            if e.is_not_found() {
                diag::error_at(
                    AttrPath::attr("name"),
                    format!("Network ACL {name:?} not found"),
                    "Check `name`, `project` and `remote`.",
                )
            } else {
                attrs::api_err(ctx, config, &format!("read network ACL {name:?}"), &e)
            }
        })?;
        let mut st = config.clone();
        st.set_attr("description", Value::string(&acl.description));
        st.set_attr("config", Value::from_string_map(acl.config.clone()));
        st.set_attr(
            "ingress",
            Value::List(acl.ingress.iter().map(rule_to_value).collect()),
        );
        st.set_attr(
            "egress",
            Value::List(acl.egress.iter().map(rule_to_value).collect()),
        );
        Ok(st)
    }
}

pub const EXAMPLE: &str = r#"
data "incus_network_acl" "web" {
  name = "web"
}
"#;
