//! `incus_storage_volume`: a custom storage volume, HCL-compatible with the Go provider.
//!
//! Snapshot schedules are plain config keys (`snapshots.schedule`, `snapshots.expiry`,
//! `snapshots.pattern`): a change is an in-place update, and a malformed schedule fails at
//! plan time with the key highlighted. Keys inherited from the pool's `volume.*` defaults
//! and driver-filled keys are not tracked unless set in HCL.

use async_trait::async_trait;
use incus_client::{Client, StorageVolumePut, StorageVolumesPost};

use crate::config::ProviderData;
use crate::cty::{AttrPath, Type, Value};
use crate::framework::diag::Diagnostics;
use crate::framework::{Attribute, Block, PlanRequest, Planned, Resource, Schema};

use super::support::attrs::{self, opt_str, req_str};
use super::support::config_map::{self, ComputedKeys};
use super::support::import_id::ImportSpec;
use super::support::{cluster, snapshots};

pub struct StorageVolume;

const IMPORT: ImportSpec = ImportSpec {
    resource: "incus_storage_volume",
    fields: &["pool", "name"],
    project: true,
    options: &[],
};

const CONTENT_TYPES: &[&str] = &["filesystem", "block"];

/// Driver-filled keys, plus every key the pool passes down as `volume.<key>`.
async fn computed_keys(client: &Client, pool: &str) -> ComputedKeys {
    let mut ck = ComputedKeys::new(["block.filesystem", "block.mount_options", "volatile."]);
    // Without the pool (e.g. no permission) only the fixed keys are stripped.
    if let Ok(p) = client.without_target().get_storage_pool(pool).await {
        ck = ck.with(
            p.config
                .keys()
                .filter_map(|k| k.strip_prefix("volume."))
                .map(str::to_string)
                .collect::<Vec<_>>(),
        );
    }
    ck
}

/// A handle for the volume's member: `target` when set (local pools on a cluster need it).
fn scoped(client: &Client, st: &Value) -> Client {
    match opt_str(st, "target") {
        Some(t) => client.with_target(t),
        None => client.clone(),
    }
}

fn vtype(st: &Value) -> &str {
    opt_str(st, "type").unwrap_or("custom")
}

async fn to_state(client: &Client, base: &Value, vol: &incus_client::StorageVolume) -> Value {
    let pool = req_str(base, "pool");
    let ck = computed_keys(client, pool).await;
    let clustered = cluster::is_clustered(client).await.unwrap_or(false);
    let mut st = base.clone();
    st.set_attr("name", Value::string(&vol.name));
    st.set_attr("type", Value::string(&vol.volume_type));
    st.set_attr("content_type", Value::string(&vol.content_type));
    st.set_attr("description", Value::string(&vol.description));
    st.set_attr(
        "config",
        config_map::to_state(&vol.config, base.attr("config"), &ck, &config_map::exact),
    );
    st.set_attr("location", Value::string(&vol.location));
    if base.attr("target").is_null() || base.attr("target").is_unknown() {
        // Computed target: where the volume lives on a cluster, nothing otherwise.
        let on_member = clustered && !vol.location.is_empty() && vol.location != "none";
        st.set_attr(
            "target",
            if on_member {
                Value::string(&vol.location)
            } else {
                Value::Null
            },
        );
    }
    st
}

#[async_trait]
impl Resource for StorageVolume {
    fn type_name(&self) -> &'static str {
        "incus_storage_volume"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new(vec![
                Attribute::required("name", Type::String).replace().desc("Name of the volume."),
                Attribute::required("pool", Type::String).replace().desc("Storage pool of the volume."),
                Attribute::optional_computed("type", Type::String)
                    .replace()
                    .default(Value::string("custom"))
                    .validate(crate::one_of!(&["custom"]))
                    .desc("Volume type; only `custom` volumes can be managed."),
                Attribute::optional_computed("content_type", Type::String)
                    .replace()
                    .default(Value::string("filesystem"))
                    .validate(crate::one_of!(CONTENT_TYPES))
                    .desc("`filesystem` (default) or `block`."),
                Attribute::optional_computed("description", Type::String).default(Value::string("")).desc("Description of the volume."),
                Attribute::optional_computed("config", Type::map(Type::String))
                    .default(Value::Map(Default::default()))
                    .desc("Volume configuration: `size`, `snapshots.schedule` (cron or `@daily`…), `snapshots.expiry` (e.g. `2w`), `snapshots.pattern`, … Keys inherited from the pool (`volume.*`) are only tracked when set here."),
                attrs::project_attr(),
                Attribute::optional_computed("target", Type::String)
                    .validate(attrs::non_empty)
                    .desc("Cluster member to create the volume on (local pools). Changing a configured target forces a new volume."),
                attrs::remote_attr(),
                Attribute::computed("location", Type::String).desc("Cluster member the volume is on (`none` when not clustered)."),
            ])
            .desc("Manages a custom storage volume in an Incus storage pool."),
        )
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        snapshots::validate_config(config.attr("config"), diags);
    }

    fn modify_plan(&self, req: &PlanRequest<'_>, planned: &mut Planned, _diags: &mut Diagnostics) {
        // RequiresReplace only when the user configured target (a computed one may change).
        let cfg = req.config.attr("target");
        if !req.prior.is_null() && !cfg.is_null() && cfg != req.prior.attr("target") {
            planned.requires_replace.push(AttrPath::attr("target"));
        }
        // Not clustered, the computed target is null; keep it so rather than "known after apply".
        if !req.prior.is_null() && cfg.is_null() && req.prior.attr("target").is_null() {
            planned.state.set_attr("target", Value::Null);
        }
    }

    async fn create(&self, ctx: &ProviderData, planned: &Value) -> Result<Value, Diagnostics> {
        let client = attrs::client(ctx, planned)?;
        let c = scoped(&client, planned);
        let (pool, name) = (req_str(planned, "pool"), req_str(planned, "name"));
        let req = StorageVolumesPost {
            name: name.to_string(),
            volume_type: vtype(planned).to_string(),
            content_type: opt_str(planned, "content_type")
                .unwrap_or("filesystem")
                .to_string(),
            description: req_str(planned, "description").to_string(),
            config: config_map::user_config(planned.attr("config")),
        };
        c.create_storage_volume(pool, &req).await.map_err(|e| {
            let what = format!("create storage volume {name:?} in pool {pool:?}");
            if e.is_not_found() {
                return attrs::api_err_at(ctx, planned, AttrPath::attr("pool"), &what, &e);
            }
            match attrs::config_key_path(&e, planned.attr("config")) {
                Some(p) => attrs::api_err_at(ctx, planned, p, &what, &e),
                None => attrs::api_err(ctx, planned, &what, &e),
            }
        })?;
        let vol = c
            .get_storage_volume(pool, vtype(planned), name)
            .await
            .map_err(|e| {
                attrs::api_err(
                    ctx,
                    planned,
                    &format!("read storage volume {name:?} after creating it"),
                    &e,
                )
            })?;
        Ok(to_state(&client, planned, &vol).await)
    }

    async fn read(&self, ctx: &ProviderData, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let client = attrs::client(ctx, state)?;
        let (pool, name) = (req_str(state, "pool"), req_str(state, "name"));
        let what = format!("read storage volume {name:?} in pool {pool:?}");
        let result = scoped(&client, state)
            .get_storage_volume(pool, vtype(state), name)
            .await;
        let Some(vol) = attrs::found_or_gone(ctx, state, &what, result)? else {
            return Ok(None);
        };
        Ok(Some(to_state(&client, state, &vol).await))
    }

    async fn update(
        &self,
        ctx: &ProviderData,
        _prior: &Value,
        planned: &Value,
    ) -> Result<Value, Diagnostics> {
        let client = attrs::client(ctx, planned)?;
        let c = scoped(&client, planned);
        let (pool, name) = (req_str(planned, "pool"), req_str(planned, "name"));
        let read_err = |e: incus_client::Error| {
            attrs::api_err(
                ctx,
                planned,
                &format!("read storage volume {name:?} in pool {pool:?}"),
                &e,
            )
        };
        let (vol, etag) = c
            .get_storage_volume_with_etag(pool, vtype(planned), name)
            .await
            .map_err(read_err)?;
        let ck = computed_keys(&client, pool).await;
        let put = StorageVolumePut {
            description: req_str(planned, "description").to_string(),
            config: config_map::merge_for_put(
                &vol.config,
                planned.attr("config"),
                &ck,
                &config_map::exact,
            ),
        };
        c.update_storage_volume(pool, vtype(planned), name, &put, etag.as_deref())
            .await
            .map_err(|e| {
                let what = format!("update storage volume {name:?} in pool {pool:?}");
                match attrs::config_key_path(&e, planned.attr("config")) {
                    Some(p) => attrs::api_err_at(ctx, planned, p, &what, &e),
                    None => attrs::api_err(ctx, planned, &what, &e),
                }
            })?;
        let vol = c
            .get_storage_volume(pool, vtype(planned), name)
            .await
            .map_err(read_err)?;
        Ok(to_state(&client, planned, &vol).await)
    }

    async fn delete(&self, ctx: &ProviderData, prior: &Value) -> Result<(), Diagnostics> {
        let client = attrs::client(ctx, prior)?;
        let (pool, name) = (req_str(prior, "pool"), req_str(prior, "name"));
        attrs::deleted_or_gone(
            ctx,
            prior,
            &format!("delete storage volume {name:?} in pool {pool:?}"),
            scoped(&client, prior)
                .delete_storage_volume(pool, vtype(prior), name)
                .await,
        )
    }

    async fn import(&self, _ctx: &ProviderData, id: &str) -> Result<Value, Diagnostics> {
        let id = IMPORT.parse(id)?;
        let mut st = IMPORT.state(&id, &self.schema().ty());
        st.set_attr("type", Value::string("custom"));
        Ok(st)
    }
}

pub const EXAMPLE: &str = r#"
resource "incus_storage_volume" "data" {
  name = "app-data"
  pool = "default"
  config = {
    size                 = "2GiB"
    "snapshots.schedule" = "@daily"
    "snapshots.expiry"   = "2w"
    "snapshots.pattern"  = "daily-%d"
  }
}

# Attached to an instance through a disk device, in the same apply.
resource "incus_instance" "app" {
  name  = "app1"
  image = "local/debian12"
  device {
    name = "data"
    type = "disk"
    properties = {
      pool   = incus_storage_volume.data.pool
      source = incus_storage_volume.data.name
      path   = "/srv/data"
    }
  }
}
"#;
