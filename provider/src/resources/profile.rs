//! `incus_profile`: config and devices shared by instances. The full server config is
//! tracked (profiles have no server-computed keys). The `default` profile exists in every
//! project: "creating" it adopts and overwrites it, destroying it resets it to empty.

use std::collections::BTreeMap;

use async_trait::async_trait;
use incus_client::{Client, ProfilePut, ProfilesPost};

use super::common::{self, opt_str};
use super::support::import_id::ImportSpec;
use crate::config::{ProviderData, api_error};
use crate::cty::{AttrPath, Type, Value};
use crate::framework::diag::{self, Diagnostics};
use crate::framework::schema::{Attribute, Block, Schema};
use crate::framework::{PlanRequest, Planned, Resource};

/// `terraform import` IDs: `[remote:][project/]name`, as the Go provider.
const IMPORT: ImportSpec = ImportSpec {
    resource: "incus_profile",
    fields: &["name"],
    project: true,
    options: &[],
};

pub struct Profile;

pub fn schema() -> Schema {
    Schema::new(
        Block::new(vec![
            Attribute::required("name", Type::String)
                .replace()
                .desc("Profile name.")
                .validate(common::validate_object_name),
            Attribute::optional_computed("description", Type::String)
                .default(Value::string(""))
                .desc("Description."),
            Attribute::optional_computed("config", Type::map(Type::String))
                .default(Value::Map(BTreeMap::new()))
                .desc("Profile config (`limits.*`, `security.*`, `user.*`, `cloud-init.*`, ...)."),
            Attribute::optional("project", Type::String)
                .replace()
                .desc("Project (default: the remote's or provider's project, else `default`)."),
            Attribute::optional("remote", Type::String)
                .replace()
                .desc("Remote (default: the provider's default remote)."),
        ])
        .with_blocks(vec![common::device_block()])
        .desc("Manages an Incus profile."),
    )
}

fn client(ctx: &ProviderData, v: &Value) -> Result<Client, Diagnostics> {
    ctx.client(opt_str(v, "remote"), opt_str(v, "project"))
}

fn put_of(planned: &Value) -> ProfilePut {
    ProfilePut {
        description: planned
            .attr("description")
            .as_str()
            .unwrap_or_default()
            .to_string(),
        config: planned
            .attr("config")
            .string_map()
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .collect(),
        devices: common::devices_from_value(planned.attr("device")),
    }
}

async fn read_state(
    ctx: &ProviderData,
    client: &Client,
    base: &Value,
) -> Result<Option<Value>, Diagnostics> {
    let name = base.attr("name").as_str().unwrap_or_default();
    let p = match client.get_profile(name).await {
        Ok(p) => p,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => {
            return Err(api_error(
                ctx,
                opt_str(base, "remote"),
                &format!("read profile {name:?}"),
                &e,
            ));
        }
    };
    let mut s = base.clone();
    s.set_attr("name", Value::string(&p.name));
    s.set_attr("description", Value::string(&p.description));
    s.set_attr(
        "config",
        common::config_to_state(&p.config, base.attr("config"), &[]),
    );
    s.set_attr("device", common::devices_to_value(&p.devices));
    Ok(Some(s))
}

#[async_trait]
impl Resource for Profile {
    fn type_name(&self) -> &'static str {
        "incus_profile"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        common::validate_device_names(config, diags);
    }

    fn modify_plan(&self, req: &PlanRequest<'_>, planned: &mut Planned, diags: &mut Diagnostics) {
        if req.prior.is_null() && planned.state.attr("name").as_str() == Some("default") {
            diags.warning_at(
                AttrPath::attr("name"),
                "The default profile will be adopted",
                "Every project has a `default` profile: it is overwritten with this configuration, and reset to empty (not deleted) on destroy.",
            );
        }
    }

    async fn create(&self, ctx: &ProviderData, planned: &Value) -> Result<Value, Diagnostics> {
        let c = client(ctx, planned)?;
        let remote = opt_str(planned, "remote");
        let name = planned
            .attr("name")
            .as_str()
            .unwrap_or_default()
            .to_string();
        let put = put_of(planned);
        let result = if name == "default" {
            c.update_profile(&name, &put, None).await
        } else {
            c.create_profile(&ProfilesPost {
                name: name.clone(),
                description: put.description.clone(),
                config: put.config.clone(),
                devices: put.devices.clone(),
            })
            .await
        };
        if let Err(e) = result {
            let mut d = api_error(ctx, remote, &format!("create profile {name:?}"), &e);
            let msg = e.daemon_message().unwrap_or_default().to_lowercase();
            let path = if msg.contains("exists") {
                d.0.iter_mut().for_each(|x| {
                    x.detail.push_str(
                        "\n\nChoose another name or import the profile with `terraform import`.",
                    )
                });
                Some(AttrPath::attr("name"))
            } else if msg.contains("device") {
                Some(AttrPath::attr("device"))
            } else if msg.contains("config") || msg.contains("key") {
                Some(AttrPath::attr("config"))
            } else {
                None
            };
            d.0.iter_mut().for_each(|x| x.path = path.clone());
            return Err(d);
        }
        read_state(ctx, &c, planned).await?.ok_or_else(|| {
            diag::error(
                format!("Profile {name:?} vanished after creation"),
                "Another client deleted it.",
            )
        })
    }

    async fn read(&self, ctx: &ProviderData, state: &Value) -> Result<Option<Value>, Diagnostics> {
        read_state(ctx, &client(ctx, state)?, state).await
    }

    async fn update(
        &self,
        ctx: &ProviderData,
        _prior: &Value,
        planned: &Value,
    ) -> Result<Value, Diagnostics> {
        let c = client(ctx, planned)?;
        let name = planned
            .attr("name")
            .as_str()
            .unwrap_or_default()
            .to_string();
        let (_, etag) = c.get_profile_with_etag(&name).await.map_err(|e| {
            api_error(
                ctx,
                opt_str(planned, "remote"),
                &format!("read profile {name:?}"),
                &e,
            )
        })?;
        c.update_profile(&name, &put_of(planned), etag.as_deref())
            .await
            .map_err(|e| {
                api_error(
                    ctx,
                    opt_str(planned, "remote"),
                    &format!("update profile {name:?}"),
                    &e,
                )
            })?;
        read_state(ctx, &c, planned).await?.ok_or_else(|| {
            diag::error(
                format!("Profile {name:?} vanished during the update"),
                "Another client deleted it.",
            )
        })
    }

    async fn delete(&self, ctx: &ProviderData, prior: &Value) -> Result<(), Diagnostics> {
        let c = client(ctx, prior)?;
        let name = prior.attr("name").as_str().unwrap_or_default();
        let result = if name == "default" {
            c.update_profile(name, &ProfilePut::default(), None).await
        } else {
            c.delete_profile(name).await
        };
        match result {
            Err(e) if !e.is_not_found() => {
                let mut d = api_error(
                    ctx,
                    opt_str(prior, "remote"),
                    &format!("delete profile {name:?}"),
                    &e,
                );
                if e.daemon_message().is_some_and(|m| m.contains("in use")) {
                    d.0.iter_mut().for_each(|x| {
                        x.detail.push_str(
                            "\n\nInstances still use this profile; remove it from them first.",
                        )
                    });
                }
                Err(d)
            }
            _ => Ok(()),
        }
    }

    async fn import(&self, ctx: &ProviderData, id: &str) -> Result<Value, Diagnostics> {
        let id = IMPORT.parse(id)?;
        let mut s = Value::null_object(&schema().ty());
        s.set_attr("name", Value::string(&id.fields[0]));
        s.set_attr("device", Value::Set(vec![]));
        if let Some(r) = common::import_remote(ctx, &id.remote) {
            s.set_attr("remote", Value::string(r));
        }
        if let Some(p) = id.project {
            s.set_attr("project", Value::string(p));
        }
        read_state(ctx, &client(ctx, &s)?, &s)
            .await?
            .ok_or_else(|| {
                diag::error(
                    format!("Profile {:?} not found", id.fields[0]),
                    "Check the name and the `project/` part of the import ID.",
                )
            })
    }
}
