//! `incus_project`: an Incus project, HCL-compatible with the Go provider.
//!
//! The `features.*` keys Incus sets on every new project (`features.images`,
//! `features.profiles`, `features.storage.volumes`, `features.storage.buckets`) are only
//! tracked when set in HCL. `force_destroy = true` deletes the project with everything
//! still in it (Incus' force-delete), which plain destroy refuses to do.

use async_trait::async_trait;
use incus_client::{Client, ProjectPut, ProjectsPost, encode_segment};

use crate::config::ProviderData;
use crate::cty::{Type, Value};
use crate::framework::diag::Diagnostics;
use crate::framework::{Attribute, Block, Resource, Schema};

use super::support::attrs::{self, opt_str, req_str};
use super::support::config_map::{self, ComputedKeys};
use super::support::import_id::ImportSpec;

pub struct Project;

const IMPORT: ImportSpec = ImportSpec {
    resource: "incus_project",
    fields: &["name"],
    project: false,
    options: &[],
};

fn computed_keys() -> ComputedKeys {
    // Incus sets these to "true" on every new project; "false" was someone's choice.
    [
        "features.images",
        "features.profiles",
        "features.storage.volumes",
        "features.storage.buckets",
    ]
    .into_iter()
    .fold(ComputedKeys::default(), |ck, k| ck.with_default(k, "true"))
}

/// Projects are global: the client must not carry `?project=`.
fn client(ctx: &ProviderData, st: &Value) -> Result<incus_client::Client, Diagnostics> {
    Ok(ctx.client(opt_str(st, "remote"), None)?.without_scope())
}

fn to_state(base: &Value, p: &incus_client::Project) -> Value {
    let mut st = base.clone();
    st.set_attr("name", Value::string(&p.name));
    st.set_attr("description", Value::string(&p.description));
    st.set_attr(
        "config",
        config_map::to_state(
            &p.config,
            base.attr("config"),
            &computed_keys(),
            &config_map::exact,
        ),
    );
    if !st.attr("force_destroy").is_wholly_known() || st.attr("force_destroy").is_null() {
        st.set_attr("force_destroy", Value::Bool(false));
    }
    st
}

fn located(ctx: &ProviderData, st: &Value, what: &str, e: &incus_client::Error) -> Diagnostics {
    match attrs::config_key_path(e, st.attr("config")) {
        Some(p) => attrs::api_err_at(ctx, st, p, what, e),
        None => attrs::api_err(ctx, st, what, e),
    }
}

#[async_trait]
impl Resource for Project {
    fn type_name(&self) -> &'static str {
        "incus_project"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new(vec![
                Attribute::required("name", Type::String).replace().desc("Name of the project."),
                Attribute::optional_computed("description", Type::String).default(Value::string("")).desc("Description of the project."),
                Attribute::optional_computed("config", Type::map(Type::String))
                    .default(Value::Map(Default::default()))
                    .desc("Project configuration: `features.*` (what the project keeps separate), `limits.*`, `restricted.*`, … The `features.*` defaults Incus sets are only tracked when set here."),
                Attribute::optional_computed("force_destroy", Type::Bool)
                    .default(Value::Bool(false))
                    .desc("Delete the project even if it still contains instances, images, volumes, networks or profiles (they are deleted too)."),
                attrs::remote_attr(),
            ])
            .desc("Manages an Incus project."),
        )
    }

    async fn create(&self, ctx: &ProviderData, planned: &Value) -> Result<Value, Diagnostics> {
        let c = client(ctx, planned)?;
        let name = req_str(planned, "name");
        let req = ProjectsPost {
            name: name.to_string(),
            description: req_str(planned, "description").to_string(),
            config: config_map::user_config(planned.attr("config")),
        };
        c.create_project(&req)
            .await
            .map_err(|e| located(ctx, planned, &format!("create project {name:?}"), &e))?;
        let p = c.get_project(name).await.map_err(|e| {
            attrs::api_err(
                ctx,
                planned,
                &format!("read project {name:?} after creating it"),
                &e,
            )
        })?;
        Ok(to_state(planned, &p))
    }

    async fn read(&self, ctx: &ProviderData, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let c = client(ctx, state)?;
        let name = req_str(state, "name");
        let what = format!("read project {name:?}");
        let found = attrs::found_or_gone(ctx, state, &what, c.get_project(name).await)?;
        Ok(found.map(|p| to_state(state, &p)))
    }

    async fn update(
        &self,
        ctx: &ProviderData,
        _prior: &Value,
        planned: &Value,
    ) -> Result<Value, Diagnostics> {
        let c = client(ctx, planned)?;
        let name = req_str(planned, "name");
        let (p, etag) = c
            .get_project_with_etag(name)
            .await
            .map_err(|e| attrs::api_err(ctx, planned, &format!("read project {name:?}"), &e))?;
        let put = ProjectPut {
            description: req_str(planned, "description").to_string(),
            config: config_map::merge_for_put(
                &p.config,
                planned.attr("config"),
                &computed_keys(),
                &config_map::exact,
            ),
        };
        c.update_project(name, &put, etag.as_deref())
            .await
            .map_err(|e| located(ctx, planned, &format!("update project {name:?}"), &e))?;
        let p = c
            .get_project(name)
            .await
            .map_err(|e| attrs::api_err(ctx, planned, &format!("read project {name:?}"), &e))?;
        Ok(to_state(planned, &p))
    }

    async fn delete(&self, ctx: &ProviderData, prior: &Value) -> Result<(), Diagnostics> {
        let c = client(ctx, prior)?;
        let name = req_str(prior, "name");
        let force = prior.attr("force_destroy").as_bool() == Some(true);
        if force {
            empty_project(&c, name).await.map_err(|(what, e)| {
                attrs::api_err(
                    ctx,
                    prior,
                    &format!("delete {what} while emptying project {name:?} (force_destroy)"),
                    &e,
                )
            })?;
        }
        match c.delete_project(name).await {
            Ok(()) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => {
                let mut d = attrs::api_err(ctx, prior, &format!("delete project {name:?}"), &e);
                if !force {
                    for x in &mut d.0 {
                        x.detail.push_str("\n\nThe project must be empty; set force_destroy = true to delete it with its content.");
                    }
                }
                Err(d)
            }
        }
    }

    async fn import(&self, _ctx: &ProviderData, id: &str) -> Result<Value, Diagnostics> {
        let id = IMPORT.parse(id)?;
        let mut st = IMPORT.state(&id, &self.schema().ty());
        st.set_attr("force_destroy", Value::Bool(false));
        Ok(st)
    }
}

pub const EXAMPLE: &str = r#"
resource "incus_project" "staging" {
  name        = "staging"
  description = "Staging environment"
  config = {
    "features.profiles"        = false # use the default project's profiles
    "features.storage.volumes" = true
    "restricted"               = true
    "restricted.containers.nesting" = "block"
    "limits.instances"         = 20
  }
}
"#;

/// Delete everything that belongs to project `name` (what `force_destroy` promises).
///
/// Not Incus' own `DELETE ?force=1`: on Incus 6.0 that also goes after objects the project
/// merely *sees* through a disabled feature (e.g. the `default` project's profiles when
/// `features.profiles=false`), which on a shared daemon is not acceptable. Here only
/// objects whose `project` is this project are deleted: instances first (they use the
/// rest), then custom volumes, images, profiles, network ACLs and networks.
async fn empty_project(c: &Client, name: &str) -> Result<(), (String, incus_client::Error)> {
    let p = c.with_project(name);
    let owned = |items: Vec<serde_json::Value>| -> Vec<serde_json::Value> {
        items
            .into_iter()
            .filter(|i| i.get("project").and_then(|v| v.as_str()) == Some(name))
            .collect()
    };
    let field = |i: &serde_json::Value, k: &str| {
        i.get(k)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    };
    let list = |path: &'static str| {
        let p = p.clone();
        async move {
            p.get_json::<Vec<serde_json::Value>>(path)
                .await
                .map_err(|e| (path.to_string(), e))
        }
    };

    for i in list("/1.0/instances?recursion=1").await? {
        let n = field(&i, "name");
        p.force_delete_instance(&n)
            .await
            .map_err(|e| (format!("instance {n:?}"), e))?;
    }
    let pools = list("/1.0/storage-pools?recursion=1").await?;
    for pool in pools.iter().map(|x| field(x, "name")) {
        let vols: Vec<serde_json::Value> = p
            .get_json(&format!(
                "/1.0/storage-pools/{}/volumes/custom?recursion=1",
                encode_segment(&pool)
            ))
            .await
            .map_err(|e| (format!("volumes of pool {pool:?}"), e))?;
        for v in owned(vols) {
            let n = field(&v, "name");
            let target = field(&v, "location");
            let pc = if target.is_empty() || target == "none" {
                p.clone()
            } else {
                p.with_target(&target)
            };
            pc.delete_storage_volume(&pool, "custom", &n)
                .await
                .map_err(|e| (format!("volume {pool}/{n}"), e))?;
        }
    }
    for i in owned(list("/1.0/images?recursion=1").await?) {
        let fp = field(&i, "fingerprint");
        p.delete(&format!("/1.0/images/{}", encode_segment(&fp)))
            .await
            .map_err(|e| (format!("image {fp}"), e))?;
    }
    for i in owned(list("/1.0/profiles?recursion=1").await?) {
        let n = field(&i, "name");
        if n != "default" {
            p.delete_profile(&n)
                .await
                .map_err(|e| (format!("profile {n:?}"), e))?;
        }
    }
    for i in owned(list("/1.0/network-acls?recursion=1").await?) {
        let n = field(&i, "name");
        p.delete_network_acl(&n)
            .await
            .map_err(|e| (format!("network ACL {n:?}"), e))?;
    }
    for i in owned(list("/1.0/networks?recursion=1").await?) {
        let n = field(&i, "name");
        if i.get("managed").and_then(|v| v.as_bool()) == Some(true) {
            p.delete_network(&n)
                .await
                .map_err(|e| (format!("network {n:?}"), e))?;
        }
    }
    Ok(())
}
