//! Data source `incus_instance`: an existing instance, with its full (expanded-less) config.

use async_trait::async_trait;

use crate::config::{ProviderData, api_error};
use crate::cty::{Type, Value};
use crate::framework::DataSource;
use crate::framework::diag::{self, Diagnostics};
use crate::framework::schema::{Attribute, Block, Schema};
use crate::resources::common::opt_str;

pub struct InstanceData;

pub fn schema() -> Schema {
    Schema::new(
        Block::new(vec![
            Attribute::required("name", Type::String).desc("Instance name."),
            Attribute::optional("project", Type::String).desc("Project."),
            Attribute::optional("remote", Type::String).desc("Remote."),
            Attribute::computed("description", Type::String).desc("Description."),
            Attribute::computed("type", Type::String).desc("`container` or `virtual-machine`."),
            Attribute::computed("architecture", Type::String).desc("Architecture."),
            Attribute::computed("ephemeral", Type::Bool).desc("Whether the instance is ephemeral."),
            Attribute::computed("stateful", Type::Bool).desc("Whether the instance is stateful."),
            Attribute::computed("profiles", Type::list(Type::String)).desc("Profiles, in order."),
            Attribute::computed("config", Type::map(Type::String))
                .desc("Full instance config, including server keys."),
            Attribute::computed("devices", Type::map(Type::map(Type::String)))
                .desc("Local devices: name → properties (with `type`)."),
            Attribute::computed("status", Type::String).desc("Status."),
            Attribute::computed("location", Type::String).desc("Cluster member."),
            Attribute::computed("ipv4_address", Type::String).desc("First global IPv4 address."),
            Attribute::computed("ipv6_address", Type::String).desc("First global IPv6 address."),
            Attribute::computed("mac_address", Type::String)
                .desc("MAC address of the main interface."),
        ])
        .desc("Reads an existing Incus instance."),
    )
}

#[async_trait]
impl DataSource for InstanceData {
    fn type_name(&self) -> &'static str {
        "incus_instance"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn read(&self, ctx: &ProviderData, config: &Value) -> Result<Value, Diagnostics> {
        let remote = opt_str(config, "remote");
        let client = ctx.client(remote, opt_str(config, "project"))?;
        let name = config.attr("name").as_str().unwrap_or_default();
        let inst = client.get_instance_full(name).await.map_err(|e| {
            if e.is_not_found() {
                diag::error_at(
                    crate::cty::AttrPath::attr("name"),
                    format!("Instance {name:?} not found"),
                    format!(
                        "No instance {name:?} in project {:?}. Check `name` and `project`.",
                        client.project().unwrap_or("default")
                    ),
                )
            } else {
                api_error(ctx, remote, &format!("read instance {name:?}"), &e)
            }
        })?;
        let mut s = config.clone();
        s.set_attr("description", Value::string(&inst.description));
        s.set_attr("type", Value::string(&inst.instance_type));
        s.set_attr("architecture", Value::string(&inst.architecture));
        s.set_attr("ephemeral", Value::Bool(inst.ephemeral));
        s.set_attr("stateful", Value::Bool(inst.stateful));
        s.set_attr(
            "profiles",
            Value::List(inst.profiles.iter().map(Value::string).collect()),
        );
        s.set_attr("config", Value::from_string_map(inst.config.clone()));
        s.set_attr(
            "devices",
            Value::Map(
                inst.devices
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::from_string_map(v.clone())))
                    .collect(),
            ),
        );
        s.set_attr("status", Value::string(&inst.status));
        s.set_attr("location", Value::string(&inst.location));
        let ips = inst.state.as_ref();
        let v4 = ips.map(|s| s.addresses("inet")).unwrap_or_default();
        let v6 = ips.map(|s| s.addresses("inet6")).unwrap_or_default();
        s.set_attr(
            "ipv4_address",
            Value::string(v4.first().cloned().unwrap_or_default()),
        );
        s.set_attr(
            "ipv6_address",
            Value::string(v6.first().cloned().unwrap_or_default()),
        );
        let mac = ips
            .and_then(|s| s.network.as_ref())
            .and_then(|n| n.get("eth0").map(|e| e.hwaddr.clone()))
            .unwrap_or_default();
        s.set_attr("mac_address", Value::string(mac));
        Ok(s)
    }
}
