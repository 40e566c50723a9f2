//! `incus_storage_pool`: a storage pool, HCL-compatible with the Go provider.
//!
//! ```hcl
//! resource "incus_storage_pool" "data" {
//!   name   = "data"
//!   driver = "dir"
//!   config = { "rsync.bwlimit" = "100MiB" }
//! }
//! ```
//!
//! On a cluster either write one resource per member with `target` (member-specific keys
//! such as `source`) plus one without `target` that `depends_on` them (the Go provider's
//! way), or just the one without `target`: it creates the per-member pending pools itself.
//! Driver-filled keys (`source`, `size`, `zfs.pool_name`…, `volatile.*`) are not tracked
//! unless set in HCL.

use async_trait::async_trait;
use incus_client::{Client, StoragePoolPut, StoragePoolsPost};

use crate::config::ProviderData;
use crate::cty::{AttrPath, Type, Value};
use crate::framework::diag::Diagnostics;
use crate::framework::{Attribute, Block, PlanRequest, Planned, Resource, Schema};

use super::support::attrs::{self, opt_str, req_str};
use super::support::cluster::{self, POOL_MEMBER_KEYS};
use super::support::config_map::{self, ComputedKeys};
use super::support::import_id::ImportSpec;

pub struct StoragePool;

/// A storage pool for the cluster-aware create in [`cluster::create`].
struct PoolApi<'a> {
    name: &'a str,
    driver: &'a str,
}

#[async_trait]
impl cluster::ClusterObject for PoolApi<'_> {
    const KIND: &'static str = "storage pool";
    fn name(&self) -> &str {
        self.name
    }
    fn is_member_key(&self, key: &str) -> bool {
        POOL_MEMBER_KEYS.contains(&key)
    }
    async fn status(&self, client: &Client) -> incus_client::Result<String> {
        Ok(client.get_storage_pool(self.name).await?.status)
    }
    async fn post(
        &self,
        client: &Client,
        config: incus_client::Config,
        description: &str,
    ) -> incus_client::Result<()> {
        let body = StoragePoolsPost {
            name: self.name.to_string(),
            driver: self.driver.to_string(),
            description: description.to_string(),
            config,
        };
        client.create_storage_pool(&body).await
    }
    async fn delete(&self, client: &Client) -> incus_client::Result<()> {
        client.delete_storage_pool(self.name).await
    }
}

const DRIVERS: &[&str] = &[
    "dir",
    "zfs",
    "lvm",
    "lvmcluster",
    "btrfs",
    "ceph",
    "cephfs",
    "cephobject",
    "linstor",
    "truenas",
];

const IMPORT: ImportSpec = ImportSpec {
    resource: "incus_storage_pool",
    fields: &["name"],
    project: true,
    options: &[],
};

/// Keys the driver fills in at creation (stripped unless the user set them).
pub fn computed_keys(driver: &str, clustered_global: bool) -> ComputedKeys {
    let keys: &[&str] = match driver {
        "dir" => &["source"],
        "zfs" => &["source", "size", "zfs.pool_name"],
        "lvm" => &["source", "size", "lvm.vg_name", "lvm.thinpool_name"],
        "lvmcluster" => &["source", "lvm.vg_name"],
        "btrfs" => &["source", "size"],
        "linstor" => &[
            "source",
            "linstor.resource_group.name",
            "linstor.resource_group.place_count",
            "linstor.resource_group.storage_pool",
            "linstor.volume.prefix",
            "drbd.auto_add_quorum_tiebreaker",
            "drbd.on_no_quorum",
        ],
        "truenas" => &["source", "truenas.dataset"],
        _ => &[],
    };
    let ck = ComputedKeys::new(keys.iter().copied()).with(["volatile."]);
    // Read without target, a cluster answers with the answering member's specific keys.
    if clustered_global {
        ck.with(POOL_MEMBER_KEYS.iter().copied())
    } else {
        ck
    }
}

/// The state of a pool as read from the daemon, given the prior/planned state `base`.
fn to_state(base: &Value, pool: &incus_client::StoragePool, clustered: bool) -> Value {
    let mut st = base.clone();
    let target = opt_str(base, "target");
    let user = base.attr("config");
    let config = if target.is_some() {
        // A per-member resource tracks member-specific keys (and whatever the user set);
        // the cluster-wide keys belong to the resource without target.
        let mut c = config_map::to_state(
            &pool.config,
            user,
            &computed_keys(&pool.driver, false),
            &config_map::exact,
        );
        if let Value::Map(m) = &mut c {
            let user_keys = user.entries().cloned().unwrap_or_default();
            m.retain(|k, _| POOL_MEMBER_KEYS.contains(&k.as_str()) || user_keys.contains_key(k));
        }
        c
    } else {
        config_map::to_state(
            &pool.config,
            user,
            &computed_keys(&pool.driver, clustered),
            &config_map::exact,
        )
    };
    st.set_attr("name", Value::string(&pool.name));
    st.set_attr("driver", Value::string(&pool.driver));
    st.set_attr("config", config);
    // Description belongs to the cluster-wide pool; a per-member resource keeps its own ("").
    if target.is_none() {
        st.set_attr("description", Value::string(&pool.description));
    } else if !base.attr("description").is_wholly_known() || base.attr("description").is_null() {
        st.set_attr("description", Value::string(""));
    }
    st
}

#[async_trait]
impl Resource for StoragePool {
    fn type_name(&self) -> &'static str {
        "incus_storage_pool"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new(vec![
                Attribute::required("name", Type::String).replace().desc("Name of the storage pool."),
                Attribute::required("driver", Type::String)
                    .replace()
                    .validate(crate::one_of!(DRIVERS))
                    .desc("Storage driver: `dir`, `zfs`, `lvm`, `lvmcluster`, `btrfs`, `ceph`, `cephfs`, `cephobject`, `linstor` or `truenas`."),
                Attribute::optional_computed("description", Type::String)
                    .default(Value::string(""))
                    .desc("Description of the pool. Not allowed together with `target`."),
                Attribute::optional_computed("config", Type::map(Type::String))
                    .default(Value::Map(Default::default()))
                    .desc("Pool configuration (driver options such as `source`, `size`, `volume.*` defaults). Keys the driver fills in are only tracked when set here. On zfs, changing `source` forces a new pool."),
                attrs::project_attr(),
                Attribute::optional("target", Type::String)
                    .replace()
                    .validate(attrs::non_empty)
                    .desc("Cluster member: creates the member's pending pool with its member-specific keys (`source`, `size`, …). Declare one per member, plus one without `target` that depends on them."),
                attrs::remote_attr(),
            ])
            .desc("Manages an Incus storage pool."),
        )
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        if !config.attr("target").is_null() && !config.attr("description").is_null() {
            diags.error_at(
                AttrPath::attr("description"),
                "Conflicting attributes",
                "`description` belongs to the cluster-wide pool; set it on the resource without `target`.",
            );
        }
    }

    fn modify_plan(&self, req: &PlanRequest<'_>, planned: &mut Planned, _diags: &mut Diagnostics) {
        // A zfs pool cannot move to another dataset/device in place.
        if req.prior.is_null() || req.prior.attr("driver").as_str() != Some("zfs") {
            return;
        }
        let key = |v: &Value| {
            v.attr("config")
                .entries()
                .and_then(|m| m.get("source").cloned())
        };
        let (before, after) = (key(req.prior), key(&planned.state));
        if before != after && after.as_ref().is_none_or(Value::is_wholly_known) {
            planned
                .requires_replace
                .push(AttrPath::attr("config").then_key("source"));
        }
    }

    async fn create(&self, ctx: &ProviderData, planned: &Value) -> Result<Value, Diagnostics> {
        let client = attrs::client(ctx, planned)?;
        let name = req_str(planned, "name");
        let config = config_map::user_config(planned.attr("config"));
        let clustered = cluster::is_clustered(&client)
            .await
            .map_err(|e| attrs::api_err(ctx, planned, "query the server", &e))?;
        let api = PoolApi {
            name,
            driver: req_str(planned, "driver"),
        };
        cluster::create(ctx, planned, &client, clustered, &api, config).await?;

        let reader = match opt_str(planned, "target") {
            Some(t) => client.with_target(t),
            None => client.clone(),
        };
        let read = || async {
            reader.get_storage_pool_with_etag(name).await.map_err(|e| {
                attrs::api_err(
                    ctx,
                    planned,
                    &format!("read storage pool {name:?} after creating it"),
                    &e,
                )
            })
        };
        let (mut pool, etag) = read().await?;
        // The cluster-wide create of a pending pool ignores `description`: set it now.
        let description = req_str(planned, "description");
        if opt_str(planned, "target").is_none() && pool.description != description {
            let put = StoragePoolPut {
                description: description.to_string(),
                config: pool.config.clone(),
            };
            client
                .update_storage_pool(name, &put, etag.as_deref())
                .await
                .map_err(|e| cluster::create_failed(ctx, planned, &api, &client, &e))?;
            pool = read().await?.0;
        }
        Ok(to_state(planned, &pool, clustered))
    }

    async fn read(&self, ctx: &ProviderData, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let client = attrs::client(ctx, state)?;
        let name = req_str(state, "name");
        let reader = match opt_str(state, "target") {
            Some(t) => client.with_target(t),
            None => client.clone(),
        };
        let what = format!("read storage pool {name:?}");
        let result = reader.get_storage_pool(name).await;
        let Some(pool) = attrs::found_or_gone(ctx, state, &what, result)? else {
            return Ok(None);
        };
        let clustered = cluster::is_clustered(&client)
            .await
            .map_err(|e| attrs::api_err(ctx, state, "query the server", &e))?;
        Ok(Some(to_state(state, &pool, clustered)))
    }

    async fn update(
        &self,
        ctx: &ProviderData,
        _prior: &Value,
        planned: &Value,
    ) -> Result<Value, Diagnostics> {
        let client = attrs::client(ctx, planned)?;
        let name = req_str(planned, "name");
        let target = opt_str(planned, "target");
        let c = match target {
            Some(t) => client.with_target(t),
            None => client.clone(),
        };
        let clustered = cluster::is_clustered(&client)
            .await
            .map_err(|e| attrs::api_err(ctx, planned, "query the server", &e))?;
        let (pool, etag) = c.get_storage_pool_with_etag(name).await.map_err(|e| {
            attrs::api_err(ctx, planned, &format!("read storage pool {name:?}"), &e)
        })?;
        let mut config = config_map::merge_for_put(
            &pool.config,
            planned.attr("config"),
            &computed_keys(&pool.driver, clustered && target.is_none()),
            &config_map::exact,
        );
        let description = if target.is_some() {
            // Per-member updates may only carry member-specific keys.
            config.retain(|k, _| POOL_MEMBER_KEYS.contains(&k.as_str()));
            pool.description.clone()
        } else {
            req_str(planned, "description").to_string()
        };
        let put = StoragePoolPut {
            description,
            config,
        };
        c.update_storage_pool(name, &put, etag.as_deref())
            .await
            .map_err(|e| {
                let what = format!("update storage pool {name:?}");
                match attrs::config_key_path(&e, planned.attr("config")) {
                    Some(p) => attrs::api_err_at(ctx, planned, p, &what, &e),
                    None => attrs::api_err(ctx, planned, &what, &e),
                }
            })?;
        let pool = c.get_storage_pool(name).await.map_err(|e| {
            attrs::api_err(ctx, planned, &format!("read storage pool {name:?}"), &e)
        })?;
        Ok(to_state(planned, &pool, clustered))
    }

    async fn delete(&self, ctx: &ProviderData, prior: &Value) -> Result<(), Diagnostics> {
        let client = attrs::client(ctx, prior)?;
        let name = req_str(prior, "name");
        if opt_str(prior, "target").is_some() {
            // A member's part of a pool that exists cluster-wide cannot be removed on its
            // own; it goes when the cluster-wide pool is deleted. A still pending pool is
            // deleted (with the other members' pending entries: it was never usable).
            match client.get_storage_pool(name).await {
                Ok(p) if p.status == "Pending" => {}
                Ok(_) => return Ok(()),
                Err(e) if e.is_not_found() => return Ok(()),
                Err(e) => {
                    return Err(attrs::api_err(
                        ctx,
                        prior,
                        &format!("read storage pool {name:?}"),
                        &e,
                    ));
                }
            }
        }
        attrs::deleted_or_gone(
            ctx,
            prior,
            &format!("delete storage pool {name:?}"),
            client.delete_storage_pool(name).await,
        )
    }

    async fn import(&self, _ctx: &ProviderData, id: &str) -> Result<Value, Diagnostics> {
        let id = IMPORT.parse(id)?;
        Ok(IMPORT.state(&id, &self.schema().ty()))
    }
}

pub const EXAMPLE: &str = r#"
resource "incus_storage_pool" "data" {
  name        = "data"
  driver      = "dir"
  description = "Application data"
  config = {
    "rsync.bwlimit" = "100MiB"
  }
}
"#;
