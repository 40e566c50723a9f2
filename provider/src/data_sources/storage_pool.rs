//! Data source `incus_storage_pool`: an existing storage pool (same attributes as the Go
//! provider's).

use async_trait::async_trait;

use crate::config::ProviderData;
use crate::cty::{AttrPath, Type, Value};
use crate::framework::DataSource;
use crate::framework::diag::{self, Diagnostics};
use crate::framework::schema::{Attribute, Block, Schema};
use crate::resources::support::attrs::{self, opt_str, req_str};

pub struct StoragePoolData;

#[async_trait]
impl DataSource for StoragePoolData {
    fn type_name(&self) -> &'static str {
        "incus_storage_pool"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new(vec![
                Attribute::required("name", Type::String).desc("Name of the pool."),
                Attribute::optional("remote", Type::String).desc("Provider remote (default: the default remote)."),
                Attribute::optional("target", Type::String).validate(attrs::non_empty).desc("Cluster member whose view of the pool to read (member-specific keys such as `source`)."),
                Attribute::optional_computed("description", Type::String).desc("Description of the pool."),
                Attribute::computed("config", Type::map(Type::String)).desc("Full configuration of the pool as the daemon reports it."),
                Attribute::optional_computed("status", Type::String).desc("`Created`, or `Pending` on a cluster before the pool exists everywhere."),
                Attribute::optional_computed("driver", Type::String).desc("Storage driver."),
            ])
            .desc("Reads an existing Incus storage pool."),
        )
    }

    async fn read(&self, ctx: &ProviderData, config: &Value) -> Result<Value, Diagnostics> {
        let mut c = ctx.client(opt_str(config, "remote"), None)?;
        if let Some(t) = opt_str(config, "target") {
            c = c.with_target(t);
        }
        let name = req_str(config, "name");
        let p = c.get_storage_pool(name).await.map_err(|e| {
            if e.is_not_found() {
                diag::error_at(
                    AttrPath::attr("name"),
                    format!("Storage pool {name:?} not found"),
                    "Check `name` (and `remote`).",
                )
            } else {
                attrs::api_err(ctx, config, &format!("read storage pool {name:?}"), &e)
            }
        })?;
        let mut st = config.clone();
        st.set_attr("description", Value::string(&p.description));
        st.set_attr("config", Value::from_string_map(p.config.clone()));
        st.set_attr("status", Value::string(&p.status));
        st.set_attr("driver", Value::string(&p.driver));
        Ok(st)
    }
}

pub const EXAMPLE: &str = r#"
data "incus_storage_pool" "default" {
  name = "default"
}

output "pool_driver" {
  value = data.incus_storage_pool.default.driver
}
"#;
