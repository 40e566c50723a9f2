//! Data source `incus_storage_volume`: an existing storage volume (same attributes as the
//! Go provider's: `name`, `type` and `storage_pool` select it).

use async_trait::async_trait;

use crate::config::ProviderData;
use crate::cty::{AttrPath, Type, Value};
use crate::framework::DataSource;
use crate::framework::diag::{self, Diagnostics};
use crate::framework::schema::{Attribute, Block, Schema};
use crate::resources::support::attrs::{self, opt_str, req_str};

pub struct StorageVolumeData;

#[async_trait]
impl DataSource for StorageVolumeData {
    fn type_name(&self) -> &'static str {
        "incus_storage_volume"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new(vec![
                Attribute::required("name", Type::String).desc("Name of the volume."),
                Attribute::required("type", Type::String)
                    .desc("Volume type: `custom`, `container`, `virtual-machine` or `image`."),
                Attribute::required("storage_pool", Type::String).desc("Pool of the volume."),
                Attribute::optional("project", Type::String)
                    .validate(attrs::non_empty)
                    .desc("Project (default: the remote's, else `default`)."),
                Attribute::optional("remote", Type::String).desc("Provider remote."),
                Attribute::optional("target", Type::String)
                    .validate(attrs::non_empty)
                    .desc("Cluster member holding the volume (local pools)."),
                Attribute::optional_computed("description", Type::String)
                    .desc("Description of the volume."),
                Attribute::computed("config", Type::map(Type::String))
                    .desc("Full configuration of the volume."),
                Attribute::optional_computed("location", Type::String)
                    .desc("Cluster member of the volume (`none` when not clustered)."),
                Attribute::optional_computed("content_type", Type::String)
                    .desc("`filesystem`, `block` or `iso`."),
            ])
            .desc("Reads an existing Incus storage volume."),
        )
    }

    async fn read(&self, ctx: &ProviderData, config: &Value) -> Result<Value, Diagnostics> {
        let mut c = attrs::client(ctx, config)?;
        if let Some(t) = opt_str(config, "target") {
            c = c.with_target(t);
        }
        let (name, vtype, pool) = (
            req_str(config, "name"),
            req_str(config, "type"),
            req_str(config, "storage_pool"),
        );
        let v = c.get_storage_volume(pool, vtype, name).await.map_err(|e| {
            if e.is_not_found() {
                diag::error_at(
                    AttrPath::attr("name"),
                    format!("Storage volume {vtype}/{name} not found in pool {pool:?}"),
                    format!(
                        "Check `name`, `type`, `storage_pool` and `project` ({:?}).",
                        c.project().unwrap_or("default")
                    ),
                )
            } else {
                attrs::api_err(ctx, config, &format!("read storage volume {name:?}"), &e)
            }
        })?;
        let mut st = config.clone();
        st.set_attr("description", Value::string(&v.description));
        st.set_attr("config", Value::from_string_map(v.config.clone()));
        st.set_attr("location", Value::string(&v.location));
        st.set_attr("content_type", Value::string(&v.content_type));
        Ok(st)
    }
}

pub const EXAMPLE: &str = r#"
data "incus_storage_volume" "data" {
  name         = "app-data"
  type         = "custom"
  storage_pool = "default"
}
"#;
