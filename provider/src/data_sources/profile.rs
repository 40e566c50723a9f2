//! Data source `incus_profile`: an existing profile.

use async_trait::async_trait;

use crate::config::{ProviderData, api_error};
use crate::cty::{AttrPath, Type, Value};
use crate::framework::DataSource;
use crate::framework::diag::{self, Diagnostics};
use crate::framework::schema::{Attribute, Block, Schema};
use crate::resources::common::{self, opt_str};

pub struct ProfileData;

pub fn schema() -> Schema {
    Schema::new(
        Block::new(vec![
            Attribute::required("name", Type::String).desc("Profile name."),
            Attribute::optional("project", Type::String).desc("Project."),
            Attribute::optional("remote", Type::String).desc("Remote."),
            Attribute::computed("description", Type::String).desc("Description."),
            Attribute::computed("config", Type::map(Type::String)).desc("Profile config."),
            Attribute::computed(
                "device",
                Type::set(Type::object([
                    ("name", Type::String),
                    ("type", Type::String),
                    ("properties", Type::map(Type::String)),
                ])),
            )
            .desc("Devices: set of {name, type, properties}."),
            Attribute::computed("used_by", Type::list(Type::String))
                .desc("API URLs of the instances and profiles using it."),
        ])
        .desc("Reads an existing Incus profile."),
    )
}

#[async_trait]
impl DataSource for ProfileData {
    fn type_name(&self) -> &'static str {
        "incus_profile"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn read(&self, ctx: &ProviderData, config: &Value) -> Result<Value, Diagnostics> {
        let remote = opt_str(config, "remote");
        let client = ctx.client(remote, opt_str(config, "project"))?;
        let name = config.attr("name").as_str().unwrap_or_default();
        let p = client.get_profile(name).await.map_err(|e| {
            if e.is_not_found() {
                diag::error_at(
                    AttrPath::attr("name"),
                    format!("Profile {name:?} not found"),
                    format!(
                        "No profile {name:?} in project {:?}. Check `name` and `project`.",
                        client.project().unwrap_or("default")
                    ),
                )
            } else {
                api_error(ctx, remote, &format!("read profile {name:?}"), &e)
            }
        })?;
        let mut s = config.clone();
        s.set_attr("description", Value::string(&p.description));
        s.set_attr("config", Value::from_string_map(p.config.clone()));
        s.set_attr("device", common::devices_to_value(&p.devices));
        s.set_attr(
            "used_by",
            Value::List(p.used_by.iter().map(Value::string).collect()),
        );
        Ok(s)
    }
}
