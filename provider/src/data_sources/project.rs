//! Data source `incus_project`: an existing project (same attributes as the Go provider's).

use async_trait::async_trait;

use crate::config::ProviderData;
use crate::cty::{AttrPath, Type, Value};
use crate::framework::DataSource;
use crate::framework::diag::{self, Diagnostics};
use crate::framework::schema::{Attribute, Block, Schema};
use crate::resources::support::attrs::{self, opt_str, req_str};

pub struct ProjectData;

#[async_trait]
impl DataSource for ProjectData {
    fn type_name(&self) -> &'static str {
        "incus_project"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new(vec![
                Attribute::required("name", Type::String).desc("Name of the project."),
                Attribute::optional("remote", Type::String).desc("Provider remote."),
                Attribute::optional_computed("description", Type::String).desc("Description."),
                Attribute::computed("config", Type::map(Type::String))
                    .desc("Full configuration (`features.*`, `limits.*`, `restricted.*`, …)."),
            ])
            .desc("Reads an existing Incus project."),
        )
    }

    async fn read(&self, ctx: &ProviderData, config: &Value) -> Result<Value, Diagnostics> {
        let c = ctx.client(opt_str(config, "remote"), None)?.without_scope();
        let name = req_str(config, "name");
        let p = c.get_project(name).await.map_err(|e| {
            if e.is_not_found() {
                diag::error_at(
                    AttrPath::attr("name"),
                    format!("Project {name:?} not found"),
                    "Check `name` and `remote`.",
                )
            } else {
                attrs::api_err(ctx, config, &format!("read project {name:?}"), &e)
            }
        })?;
        let mut st = config.clone();
        st.set_attr("description", Value::string(&p.description));
        st.set_attr("config", Value::from_string_map(p.config.clone()));
        Ok(st)
    }
}

pub const EXAMPLE: &str = r#"
data "incus_project" "default" {
  name = "default"
}
"#;
