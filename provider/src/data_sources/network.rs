//! Data source `incus_network`: an existing network, managed or not (same attributes as
//! the Go provider's).

use async_trait::async_trait;

use crate::config::ProviderData;
use crate::cty::{AttrPath, Type, Value};
use crate::framework::DataSource;
use crate::framework::diag::{self, Diagnostics};
use crate::framework::schema::{Attribute, Block, Schema};
use crate::resources::support::attrs::{self, opt_str, req_str};

pub struct NetworkData;

#[async_trait]
impl DataSource for NetworkData {
    fn type_name(&self) -> &'static str {
        "incus_network"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new(vec![
                Attribute::required("name", Type::String).desc("Name of the network (or host interface)."),
                Attribute::optional("project", Type::String).validate(attrs::non_empty).desc("Project."),
                Attribute::optional("remote", Type::String).desc("Provider remote."),
                Attribute::optional("target", Type::String).validate(attrs::non_empty).desc("Cluster member whose view to read (member-specific keys such as `parent`)."),
                Attribute::optional_computed("description", Type::String).desc("Description."),
                Attribute::computed("config", Type::map(Type::String)).desc("Full configuration as the daemon reports it (including generated addresses)."),
                Attribute::optional_computed("status", Type::String).desc("`Created`, `Pending`, … (empty for unmanaged interfaces)."),
                Attribute::optional_computed("locations", Type::list(Type::String)).desc("Cluster members the network is defined on."),
                Attribute::optional_computed("type", Type::String).desc("`bridge`, `ovn`, `physical`, … or the interface type for unmanaged ones."),
                Attribute::optional_computed("managed", Type::Bool).desc("Whether Incus manages the network."),
            ])
            .desc("Reads an existing Incus network."),
        )
    }

    async fn read(&self, ctx: &ProviderData, config: &Value) -> Result<Value, Diagnostics> {
        let mut c = attrs::client(ctx, config)?;
        if let Some(t) = opt_str(config, "target") {
            c = c.with_target(t);
        }
        let name = req_str(config, "name");
        let n = c.get_network(name).await.map_err(|e| {
            if e.is_not_found() {
                diag::error_at(
                    AttrPath::attr("name"),
                    format!("Network {name:?} not found"),
                    "Check `name`, `project` and `remote`.",
                )
            } else {
                attrs::api_err(ctx, config, &format!("read network {name:?}"), &e)
            }
        })?;
        let mut st = config.clone();
        st.set_attr("description", Value::string(&n.description));
        st.set_attr("config", Value::from_string_map(n.config.clone()));
        st.set_attr("status", Value::string(&n.status));
        st.set_attr(
            "locations",
            Value::List(n.locations.iter().map(Value::string).collect()),
        );
        st.set_attr("type", Value::string(&n.network_type));
        st.set_attr("managed", Value::Bool(n.managed));
        Ok(st)
    }
}

pub const EXAMPLE: &str = r#"
data "incus_network" "lan" {
  name = "incusbr0"
}

output "lan_address" {
  value = data.incus_network.lan.config["ipv4.address"]
}
"#;
