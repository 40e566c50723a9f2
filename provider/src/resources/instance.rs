//! `incus_instance`: a container or virtual machine.
//!
//! Lifecycle (matches the Go provider): create stopped → upload files → start (if
//! `running`) → `wait_for`; a failure after the instance exists deletes it again, so a
//! failed create leaves nothing behind. Updates happen in place (stop → rename → PUT
//! config/devices/profiles → start → wait → files); `image`, `type`, `ephemeral`,
//! `project`, `remote` and `target` force replacement. Server-computed config keys
//! (`volatile.*`, `image.*`, ...) never show as drift.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use incus_client::{Client, FilePush, InstanceSource, InstancesPost};

use super::common::{self, opt_str};
use super::support::import_id::ImportSpec;
use crate::config::{ProviderData, api_error};
use crate::cty::{AttrPath, Type, Value};
use crate::framework::diag::{self, Diagnostics};
use crate::framework::schema::{Attribute, Block, NestedBlock, Nesting, Schema};
use crate::framework::{PlanRequest, Planned, Resource};

/// `terraform import` IDs: `[remote:][project/]name`[,image=<image>], as the Go provider.
const IMPORT: ImportSpec = ImportSpec {
    resource: "incus_instance",
    fields: &["name"],
    project: true,
    options: &["image"],
};

pub struct Instance;

/// Config keys the server owns; stripped from state unless the user sets them.
pub const COMPUTED_PREFIXES: &[&str] = &["volatile.", "image.", "environment.", "oci."];
const TYPES: &[&str] = &["container", "virtual-machine"];
const TRIGGERS: &[&str] = &["on_change", "once"];
const WAIT_TYPES: &[&str] = &["agent", "cloud-init", "delay", "ipv4", "ipv6", "ready"];
/// How long each `wait_for` condition may take, and how often it is polled.
const WAIT_TIMEOUT: Duration = Duration::from_secs(180);
const WAIT_POLL: Duration = Duration::from_secs(2);

pub fn schema() -> Schema {
    let file = Block::new(vec![
        Attribute::required("target_path", Type::String)
            .desc("Absolute path of the file inside the instance."),
        Attribute::optional("content", Type::String)
            .desc("File content (conflicts with `source_path`)."),
        Attribute::optional("source_path", Type::String)
            .desc("Local file to upload (conflicts with `content`)."),
        Attribute::optional("uid", Type::Number).desc("Owner user ID (default 0)."),
        Attribute::optional("gid", Type::Number).desc("Owner group ID (default 0)."),
        Attribute::optional("mode", Type::String)
            .desc("Octal permissions, e.g. `\"0644\"` (default `0755`).")
            .validate(validate_mode),
        Attribute::optional("create_directories", Type::Bool)
            .desc("Create missing parent directories."),
    ]);
    let wait_for = Block::new(vec![
        Attribute::required("type", Type::String)
            .desc("`ipv4`, `ipv6` (an address on any NIC or on `nic`), `ready`, `agent` (VMs), `cloud-init`, or `delay`.")
            .validate(crate::one_of!(WAIT_TYPES)),
        Attribute::optional("delay", Type::String).desc("Duration for `type = \"delay\"`, e.g. `\"10s\"`.").validate(validate_duration),
        Attribute::optional("nic", Type::String).desc("Interface name for `ipv4`/`ipv6` (default: any)."),
    ]);
    Schema::new(
        Block::new(vec![
            Attribute::required("name", Type::String).desc("Instance name (renamed in place).").validate(common::validate_instance_name),
            Attribute::optional("image", Type::String)
                .desc("Image alias or fingerprint, or `remote:alias` from an image-server remote.")
                .replace(),
            Attribute::optional_computed("type", Type::String)
                .desc("`container` or `virtual-machine`.")
                .default(Value::string("container"))
                .replace()
                .validate(crate::one_of!(TYPES)),
            Attribute::optional_computed("description", Type::String).default(Value::string("")).desc("Description."),
            Attribute::optional_computed("profiles", Type::list(Type::String))
                .default(Value::List(vec![Value::string("default")]))
                .desc("Profiles, in order. `[]` applies none."),
            Attribute::optional_computed("ephemeral", Type::Bool).default(Value::Bool(false)).replace().desc("Delete the instance when it stops."),
            Attribute::optional_computed("running", Type::Bool).default(Value::Bool(true)).desc("Whether the instance should be running."),
            Attribute::optional_computed("config", Type::map(Type::String))
                .default(Value::Map(BTreeMap::new()))
                .desc("Instance config (`limits.cpu`, `user.*`, `security.*`, ...). Server keys (`volatile.*`, `image.*`) are not tracked.")
                .validate(validate_config_keys),
            Attribute::optional("project", Type::String).replace().desc("Project (default: the remote's or provider's project, else `default`)."),
            Attribute::optional("remote", Type::String).replace().desc("Remote (default: the provider's default remote)."),
            Attribute::optional("target", Type::String).replace().desc("Cluster member to place the instance on."),
            Attribute::optional_computed("architecture", Type::String).replace().desc("Architecture (default: the server's)."),
            Attribute::nested_map(
                "exec",
                vec![
                    Attribute::required("command", Type::list(Type::String)).desc("argv of the command (no shell)."),
                    Attribute::optional("environment", Type::map(Type::String)).desc("Extra environment variables."),
                    Attribute::optional("working_dir", Type::String).desc("Working directory."),
                    Attribute::optional("uid", Type::Number).desc("User ID to run as (default 0)."),
                    Attribute::optional("gid", Type::Number).desc("Group ID to run as (default 0)."),
                    Attribute::optional("timeout", Type::String).desc("Go-style duration, e.g. `\"5m\"` (default: 5 minutes).").validate(validate_duration),
                    Attribute::optional("trigger", Type::String)
                        .desc("`on_change` (default: on create and whenever this entry changes) or `once` (on create only).")
                        .validate(crate::one_of!(TRIGGERS)),
                ],
            )
            .desc("Commands run after files are uploaded, in key order. A non-zero exit fails the apply with the output."),
            Attribute::computed("ipv4_address", Type::String).unknown_when_changed().desc("First global IPv4 address."),
            Attribute::computed("ipv6_address", Type::String).unknown_when_changed().desc("First global IPv6 address."),
            Attribute::computed("mac_address", Type::String).unknown_when_changed().desc("MAC address of the interface with that address (else `eth0`)."),
            Attribute::computed("location", Type::String).desc("Cluster member the instance runs on (`none` when not clustered)."),
            Attribute::computed("status", Type::String).unknown_when_changed().desc("Status reported by Incus (`Running`, `Stopped`, ...)."),
        ])
        .with_blocks(vec![
            common::device_block(),
            NestedBlock::new("file", Nesting::Set, file).desc("A file uploaded into the instance (write-only: not read back)."),
            NestedBlock::new("wait_for", Nesting::Set, wait_for).desc("Conditions to wait for after the instance starts (each up to 3 minutes)."),
        ])
        .desc("Manages an Incus instance (container or virtual machine)."),
    )
}

fn validate_mode(v: &Value, path: &AttrPath, diags: &mut Diagnostics) {
    if let Some(s) = v.as_str()
        && parse_mode(s).is_none()
    {
        diags.error_at(
            path.clone(),
            format!("Invalid mode {s:?}"),
            "A mode is an octal number of up to 4 digits, e.g. \"0644\" or \"755\".",
        );
    }
}

fn parse_mode(s: &str) -> Option<u32> {
    let t = s.strip_prefix("0o").unwrap_or(s);
    if t.is_empty() || t.len() > 4 {
        return None;
    }
    u32::from_str_radix(t, 8).ok()
}

fn validate_duration(v: &Value, path: &AttrPath, diags: &mut Diagnostics) {
    if let Some(s) = v.as_str()
        && parse_duration(s).is_none()
    {
        diags.error_at(
            path.clone(),
            format!("Invalid duration {s:?}"),
            "Use a Go-style duration such as \"30s\", \"1m30s\" or \"500ms\".",
        );
    }
}

/// Go-style durations: a sequence of `<number><unit>` with units ms, s, m, h.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let mut total = Duration::ZERO;
    let mut rest = s.trim();
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let num_end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let n: f64 = rest[..num_end].parse().ok()?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let secs = match &rest[..unit_end] {
            "ms" => n / 1000.0,
            "s" => n,
            "m" => n * 60.0,
            "h" => n * 3600.0,
            _ => return None,
        };
        total += Duration::from_secs_f64(secs);
        rest = &rest[unit_end..];
    }
    Some(total)
}

fn validate_config_keys(v: &Value, path: &AttrPath, diags: &mut Diagnostics) {
    for k in v.entries().into_iter().flat_map(|m| m.keys()) {
        if k.starts_with("volatile.") || k.starts_with("image.") {
            diags.error_at(
                path.then_key(k),
                format!("Config key {k:?} is managed by Incus"),
                "Keys starting with `volatile.` or `image.` are set by the server and cannot be configured; remove it.",
            );
        }
    }
}

#[async_trait]
impl Resource for Instance {
    fn type_name(&self) -> &'static str {
        "incus_instance"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        common::validate_device_names(config, diags);
        let vm = config.attr("type").as_str() == Some("virtual-machine");
        if config.attr("ephemeral").as_bool() == Some(true)
            && config.attr("running").as_bool() == Some(false)
        {
            diags.error_at(
                AttrPath::attr("running"),
                "An ephemeral instance cannot be stopped",
                "Incus deletes ephemeral instances when they stop. Set `running = true` or `ephemeral = false`.",
            );
        }
        for w in config.attr("wait_for").elements() {
            let p = AttrPath::attr("wait_for");
            let ty = w.attr("type").as_str().unwrap_or_default();
            let has_delay = !w.attr("delay").is_null();
            if ty == "delay" && !has_delay && w.attr("delay").is_wholly_known() {
                diags.error_at(
                    p.clone(),
                    "wait_for of type \"delay\" needs `delay`",
                    "Add e.g. `delay = \"10s\"`.",
                );
            }
            if ty != "delay" && has_delay && !ty.is_empty() {
                diags.error_at(
                    p.clone(),
                    format!("`delay` is only valid with type \"delay\" (type is {ty:?})"),
                    "Remove `delay` or set `type = \"delay\"`.",
                );
            }
            if !w.attr("nic").is_null() && !matches!(ty, "ipv4" | "ipv6" | "") {
                diags.error_at(
                    p.clone(),
                    format!("`nic` is only valid with type \"ipv4\" or \"ipv6\" (type is {ty:?})"),
                    "Remove `nic`.",
                );
            }
            if ty == "agent" && !vm && config.attr("type").is_wholly_known() {
                diags.error_at(
                    p.clone(),
                    "wait_for \"agent\" needs a virtual machine",
                    "Containers have no agent; wait for \"ipv4\" or \"ready\" instead.",
                );
            }
        }
        for (k, e) in config.attr("exec").entries().into_iter().flatten() {
            let p = AttrPath::attr("exec").then_key(k);
            if e.attr("command").is_wholly_known() && e.attr("command").elements().is_empty() {
                diags.error_at(p.then_attr("command"), "Empty command", "Give the program and its arguments, e.g. `command = [\"systemctl\", \"restart\", \"nginx\"]`.");
            }
            if config.attr("running").as_bool() == Some(false) {
                diags.error_at(
                    p,
                    "exec needs a running instance",
                    "Remove `running = false` or this exec entry.",
                );
            }
        }
        for f in config.attr("file").elements() {
            let has_content = !f.attr("content").is_null();
            let has_source = !f.attr("source_path").is_null();
            if has_content == has_source
                && f.attr("content").is_wholly_known()
                && f.attr("source_path").is_wholly_known()
            {
                diags.error_at(
                    AttrPath::attr("file"),
                    format!(
                        "File {:?} needs exactly one of `content` or `source_path`",
                        f.attr("target_path").as_str().unwrap_or("?")
                    ),
                    "Set `content` for inline text or `source_path` for a local file, not both.",
                );
            }
            if let Some(t) = f.attr("target_path").as_str()
                && !t.starts_with('/')
            {
                diags.error_at(
                    AttrPath::attr("file"),
                    format!("target_path {t:?} is not absolute"),
                    "Use an absolute path such as \"/etc/motd\".",
                );
            }
        }
    }

    fn modify_plan(&self, req: &PlanRequest<'_>, planned: &mut Planned, _diags: &mut Diagnostics) {
        // The architecture is the server's default unless set: keep the prior value.
        if req.config.attr("architecture").is_null() && !req.prior.is_null() {
            planned
                .state
                .set_attr("architecture", req.prior.attr("architecture").clone());
        }
    }

    async fn create(&self, ctx: &ProviderData, planned: &Value) -> Result<Value, Diagnostics> {
        let remote = opt_str(planned, "remote");
        let client = scoped_client(ctx, planned)?;
        let name = planned
            .attr("name")
            .as_str()
            .unwrap_or_default()
            .to_string();
        let project = ctx.project_for(remote, opt_str(planned, "project"));

        // Refuse to touch an existing instance: it is not ours.
        match client.get_instance(&name).await {
            Ok(_) => {
                return Err(diag::error_at(
                    AttrPath::attr("name"),
                    format!("Instance {name:?} already exists in project {project:?}"),
                    format!(
                        "Choose another name, or bring the existing instance under Terraform with `terraform import <address> {}{project}/{name}`.",
                        remote.map(|r| format!("{r}:")).unwrap_or_default()
                    ),
                ));
            }
            Err(e) if e.is_not_found() => {}
            Err(e) => {
                return Err(api_error(
                    ctx,
                    remote,
                    &format!("look up instance {name:?}"),
                    &e,
                ));
            }
        }

        let source = match opt_str(planned, "image") {
            Some(image) => image_source(ctx, &client, remote, image).await?,
            None => InstanceSource {
                source_type: "none".into(),
                ..Default::default()
            },
        };
        let profiles = planned
            .attr("profiles")
            .elements()
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect();
        let req = InstancesPost {
            name: name.clone(),
            instance_type: planned
                .attr("type")
                .as_str()
                .unwrap_or("container")
                .to_string(),
            source,
            profiles: Some(profiles),
            config: common::config_for_put(
                planned.attr("config"),
                &Default::default(),
                COMPUTED_PREFIXES,
            ),
            devices: common::devices_from_value(planned.attr("device")),
            ephemeral: planned.attr("ephemeral").as_bool().unwrap_or(false),
            description: planned
                .attr("description")
                .as_str()
                .unwrap_or_default()
                .to_string(),
            start: false,
        };
        if let Err(e) = client.create_instance(&req).await {
            // The daemon may have created the record before failing (e.g. a bad device).
            let _ = client.force_delete_instance(&name).await;
            return Err(create_error(ctx, remote, &name, &e));
        }

        let finish = async {
            push_files(&client, &name, &Value::Set(vec![]), planned.attr("file")).await?;
            if planned.attr("running").as_bool() != Some(false) {
                start_instance(&client, &name)
                    .await
                    .map_err(|e| api_error(ctx, remote, &format!("start instance {name:?}"), &e))?;
                wait_for(ctx, &client, &name, planned.attr("wait_for")).await?;
            }
            run_exec(&client, &name, &Value::Null, planned.attr("exec"), true).await?;
            Ok::<(), Diagnostics>(())
        };
        if let Err(mut d) = finish.await {
            // No orphan: remove what we created, then report.
            match client.force_delete_instance(&name).await {
                Ok(()) => d.0.iter_mut().for_each(|x| {
                    x.detail.push_str(
                        "\n\nThe instance was deleted again, so nothing is left half-created.",
                    )
                }),
                Err(e) => d.error(
                    format!("Could not clean up instance {name:?}"),
                    format!("{e}. Delete it with `incus delete --force {name}`."),
                ),
            }
            return Err(d);
        }
        match read_state(ctx, &client, remote, &name, planned).await? {
            Some(v) => Ok(v),
            None => Err(diag::error(
                format!("Instance {name:?} vanished after creation"),
                "It may be ephemeral and have stopped.",
            )),
        }
    }

    async fn read(&self, ctx: &ProviderData, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let client = scoped_client(ctx, state)?;
        let name = state.attr("name").as_str().unwrap_or_default().to_string();
        read_state(ctx, &client, opt_str(state, "remote"), &name, state).await
    }

    async fn update(
        &self,
        ctx: &ProviderData,
        prior: &Value,
        planned: &Value,
    ) -> Result<Value, Diagnostics> {
        let remote = opt_str(planned, "remote");
        let client = scoped_client(ctx, planned)?;
        let err = |what: String| move |e: incus_client::Error| api_error(ctx, remote, &what, &e);
        let old_name = prior.attr("name").as_str().unwrap_or_default().to_string();
        let name = planned
            .attr("name")
            .as_str()
            .unwrap_or_default()
            .to_string();
        let want_running = planned.attr("running").as_bool() != Some(false);

        let inst = client
            .get_instance(&old_name)
            .await
            .map_err(err(format!("read instance {old_name:?}")))?;
        let mut running = inst.is_running();
        if name != old_name {
            // Incus renames only stopped instances.
            if running {
                client
                    .stop_instance(&old_name, false)
                    .await
                    .map_err(err(format!("stop instance {old_name:?} for the rename")))?;
                running = false;
            }
            client
                .rename_instance(&old_name, &name)
                .await
                .map_err(|e| {
                    let mut d = api_error(
                        ctx,
                        remote,
                        &format!("rename instance {old_name:?} to {name:?}"),
                        &e,
                    );
                    d.0.iter_mut()
                        .for_each(|x| x.path = Some(AttrPath::attr("name")));
                    d
                })?;
        }
        if !want_running && running {
            client
                .stop_instance(&name, false)
                .await
                .map_err(err(format!("stop instance {name:?}")))?;
            running = false;
        }

        let (inst, etag) = client
            .get_instance_with_etag(&name)
            .await
            .map_err(err(format!("read instance {name:?}")))?;
        let mut put = inst.writable();
        put.config =
            common::config_for_put(planned.attr("config"), &inst.config, COMPUTED_PREFIXES);
        put.devices = common::devices_from_value(planned.attr("device"));
        put.profiles = planned
            .attr("profiles")
            .elements()
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect();
        put.description = planned
            .attr("description")
            .as_str()
            .unwrap_or_default()
            .to_string();
        if put != inst.writable() {
            client
                .update_instance(&name, &put, etag.as_deref())
                .await
                .map_err(err(format!("update instance {name:?}")))?;
        }
        if want_running && !running {
            start_instance(&client, &name)
                .await
                .map_err(err(format!("start instance {name:?}")))?;
            wait_for(ctx, &client, &name, planned.attr("wait_for")).await?;
        }
        push_files(&client, &name, prior.attr("file"), planned.attr("file")).await?;
        run_exec(
            &client,
            &name,
            prior.attr("exec"),
            planned.attr("exec"),
            false,
        )
        .await?;
        match read_state(ctx, &client, remote, &name, planned).await? {
            Some(v) => Ok(v),
            None => Err(diag::error(
                format!("Instance {name:?} vanished during the update"),
                "It may be ephemeral and have stopped.",
            )),
        }
    }

    async fn delete(&self, ctx: &ProviderData, prior: &Value) -> Result<(), Diagnostics> {
        let client = scoped_client(ctx, prior)?;
        let name = prior.attr("name").as_str().unwrap_or_default();
        client.force_delete_instance(name).await.map_err(|e| {
            api_error(
                ctx,
                opt_str(prior, "remote"),
                &format!("delete instance {name:?}"),
                &e,
            )
        })
    }

    async fn import(&self, ctx: &ProviderData, id: &str) -> Result<Value, Diagnostics> {
        let id = IMPORT.parse(id)?;
        let name = &id.fields[0];
        let mut state = Value::null_object(&schema().ty());
        state.set_attr("name", Value::string(name));
        if let Some(r) = common::import_remote(ctx, &id.remote) {
            state.set_attr("remote", Value::string(r));
        }
        if let Some(p) = &id.project {
            state.set_attr("project", Value::string(p));
        }
        let client = scoped_client(ctx, &state)?;
        let inst = client.get_instance(name).await.map_err(|e| {
            if e.is_not_found() {
                diag::error(format!("Instance {:?} not found", name), format!("No such instance in project {:?}. Check the name and the `project/` part of the ID.", client.project().unwrap_or("default")))
            } else {
                api_error(ctx, id.remote.as_deref(), "import the instance", &e)
            }
        })?;
        // Round-trip `image` so that the next plan does not replace the instance.
        let image = match id.options.get("image") {
            Some(i) => Some(i.clone()),
            None => image_of(&client, &inst.config).await,
        };
        if let Some(i) = image {
            state.set_attr("image", Value::string(i));
        }
        for b in ["file", "wait_for", "device"] {
            state.set_attr(b, Value::Set(vec![]));
        }
        Ok(state)
    }
}

fn scoped_client(ctx: &ProviderData, v: &Value) -> Result<Client, Diagnostics> {
    let client = ctx.client(opt_str(v, "remote"), opt_str(v, "project"))?;
    Ok(match opt_str(v, "target") {
        Some(t) => client.with_target(t),
        None => client,
    })
}

/// The alias an instance was created from, through `volatile.base_image`: the alias if the
/// image has exactly one... or the first one, else the fingerprint.
async fn image_of(client: &Client, config: &incus_client::Config) -> Option<String> {
    let fp = config.get("volatile.base_image")?;
    match client.get_image(fp).await {
        Ok(img) => img
            .aliases
            .first()
            .map(|a| a.name.clone())
            .or_else(|| Some(fp.clone())),
        Err(_) => None,
    }
}

/// Build the image source for `image`, resolving `remote:alias` through configured remotes.
async fn image_source(
    ctx: &ProviderData,
    client: &Client,
    remote: Option<&str>,
    image: &str,
) -> Result<InstanceSource, Diagnostics> {
    let path = AttrPath::attr("image");
    if let Some((rname, alias)) = image.split_once(':')
        && let Some(r) = ctx.remotes.get(rname)
    {
        let own = ctx
            .remote(remote)
            .map(|d| d.name.clone())
            .unwrap_or_default();
        if r.is_image_server() {
            return Ok(InstanceSource {
                source_type: "image".into(),
                alias: alias.into(),
                server: r.address.clone(),
                protocol: r.protocol.clone(),
                mode: "pull".into(),
                ..Default::default()
            });
        }
        if r.name != own {
            return Err(diag::error_at(
                path,
                format!("Images from Incus remote {rname:?} are not supported"),
                format!(
                    "Copy the image to remote {own:?} first (`incus image copy {rname}:{alias} {own}:`), or use an image-server remote (simplestreams/oci)."
                ),
            ));
        }
        return local_image(client, alias, &path).await;
    }
    local_image(client, image, &path).await
}

async fn local_image(
    client: &Client,
    image: &str,
    path: &AttrPath,
) -> Result<InstanceSource, Diagnostics> {
    if client.get_image_alias(image).await.is_ok() {
        return Ok(InstanceSource {
            source_type: "image".into(),
            alias: image.into(),
            ..Default::default()
        });
    }
    let looks_like_fp = image.len() >= 12 && image.chars().all(|c| c.is_ascii_hexdigit());
    if looks_like_fp && client.get_image(image).await.is_ok() {
        return Ok(InstanceSource {
            source_type: "image".into(),
            fingerprint: image.into(),
            ..Default::default()
        });
    }
    Err(diag::error_at(
        path.clone(),
        format!("Image {image:?} not found"),
        format!(
            "There is no image alias or fingerprint {image:?} in project {:?}. Valid: an alias or fingerprint listed by `incus image list`, or `remote:alias` for an image-server remote configured in the provider.",
            client.project().unwrap_or("default")
        ),
    ))
}

/// Map a create failure to the attribute that caused it.
fn create_error(
    ctx: &ProviderData,
    remote: Option<&str>,
    name: &str,
    e: &incus_client::Error,
) -> Diagnostics {
    let msg = e.daemon_message().unwrap_or_default().to_lowercase();
    let mut d = api_error(ctx, remote, &format!("create instance {name:?}"), e);
    let path = if msg.contains("device") {
        Some(AttrPath::attr("device"))
    } else if msg.contains("profile") {
        Some(AttrPath::attr("profiles"))
    } else if msg.contains("config") || msg.contains("key") {
        Some(AttrPath::attr("config"))
    } else if msg.contains("image") {
        Some(AttrPath::attr("image"))
    } else if msg.contains("name") || msg.contains("exists") {
        Some(AttrPath::attr("name"))
    } else {
        None
    };
    d.0.iter_mut().for_each(|x| x.path = path.clone());
    d
}

/// The state of an instance: server values for what Incus owns, `base` (prior or planned)
/// for write-only and as-written attributes. `None` when the instance is gone.
async fn read_state(
    ctx: &ProviderData,
    client: &Client,
    remote: Option<&str>,
    name: &str,
    base: &Value,
) -> Result<Option<Value>, Diagnostics> {
    let inst = match client.get_instance_full(name).await {
        Ok(i) => i,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => {
            return Err(api_error(
                ctx,
                remote,
                &format!("read instance {name:?}"),
                &e,
            ));
        }
    };
    let mut s = base.clone();
    if s.is_null() {
        s = Value::null_object(&schema().ty());
    }
    s.set_attr("name", Value::string(&inst.name));
    s.set_attr("description", Value::string(&inst.description));
    s.set_attr("type", Value::string(&inst.instance_type));
    s.set_attr("ephemeral", Value::Bool(inst.ephemeral));
    s.set_attr(
        "profiles",
        Value::List(inst.profiles.iter().map(Value::string).collect()),
    );
    s.set_attr(
        "config",
        common::config_to_state(&inst.config, base.attr("config"), COMPUTED_PREFIXES),
    );
    s.set_attr("device", common::devices_to_value(&inst.devices));
    s.set_attr(
        "running",
        Value::Bool(matches!(inst.status.as_str(), "Running" | "Ready")),
    );
    s.set_attr("architecture", Value::string(&inst.architecture));
    s.set_attr("location", Value::string(&inst.location));
    s.set_attr("status", Value::string(&inst.status));
    let (v4, v6, mac) = addresses(&inst);
    s.set_attr("ipv4_address", Value::string(v4));
    s.set_attr("ipv6_address", Value::string(v6));
    s.set_attr("mac_address", Value::string(mac));
    for b in ["file", "wait_for"] {
        if s.attr(b).is_null() {
            s.set_attr(b, Value::Set(vec![]));
        }
    }
    Ok(Some(s))
}

/// (IPv4, IPv6, MAC): global addresses of the `user.access_interface` NIC if set, else of
/// the first interface (by name, `lo` excluded) that has one.
fn addresses(inst: &incus_client::Instance) -> (String, String, String) {
    let Some(nets) = inst.state.as_ref().and_then(|s| s.network.as_ref()) else {
        return Default::default();
    };
    let preferred = inst.config.get("user.access_interface");
    let mut names: Vec<&String> = nets.keys().filter(|n| n.as_str() != "lo").collect();
    names.sort_by_key(|n| (Some(*n) != preferred, n.as_str() != "eth0", n.to_string()));
    let first = |family: &str| {
        names.iter().find_map(|n| {
            nets[*n]
                .addresses
                .iter()
                .find(|a| a.family == family && a.scope == "global")
                .map(|a| (a.address.clone(), nets[*n].hwaddr.clone()))
        })
    };
    let v4 = first("inet");
    let v6 = first("inet6");
    let mac = v4
        .as_ref()
        .or(v6.as_ref())
        .map(|(_, m)| m.clone())
        .or_else(|| names.first().map(|n| nets[*n].hwaddr.clone()))
        .unwrap_or_default();
    (
        v4.map(|x| x.0).unwrap_or_default(),
        v6.map(|x| x.0).unwrap_or_default(),
        mac,
    )
}

/// Upload files that are new or changed between `prior` and `planned`; delete removed ones.
async fn push_files(
    client: &Client,
    name: &str,
    prior: &Value,
    planned: &Value,
) -> Result<(), Diagnostics> {
    let path = AttrPath::attr("file");
    let key = |v: &Value| {
        v.attr("target_path")
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let planned_paths: Vec<String> = planned.elements().iter().map(key).collect();
    for old in prior.elements() {
        let t = key(old);
        if !planned_paths.contains(&t) {
            match client.delete_file(name, &t).await {
                Err(e) if !e.is_not_found() => {
                    return Err(diag::error_at(
                        path.clone(),
                        format!("Cannot delete file {t:?} from instance {name:?}"),
                        e.to_string(),
                    ));
                }
                _ => {}
            }
        }
    }
    for f in planned.elements() {
        if prior.elements().contains(f) {
            continue;
        }
        let target = key(f);
        let content: Vec<u8> = match (f.attr("content").as_str(), f.attr("source_path").as_str()) {
            (Some(c), _) => c.as_bytes().to_vec(),
            (None, Some(src)) => std::fs::read(src).map_err(|e| {
                diag::error_at(
                    path.clone(),
                    format!("Cannot read source_path {src:?} for {target:?}"),
                    format!("{e}. source_path must be a readable local file."),
                )
            })?,
            (None, None) => vec![],
        };
        let num = |n: &str| match f.attr(n) {
            Value::Number(x) => x.as_i64().map(|i| i as u32),
            _ => None,
        };
        let mode = f
            .attr("mode")
            .as_str()
            .and_then(parse_mode)
            .unwrap_or(0o755);
        let (uid, gid) = (num("uid").unwrap_or(0), num("gid").unwrap_or(0));
        if f.attr("create_directories").as_bool() == Some(true) {
            let mut dir = String::new();
            let parents: Vec<&str> = target.trim_start_matches('/').split('/').collect();
            for part in &parents[..parents.len().saturating_sub(1)] {
                dir.push('/');
                dir.push_str(part);
                if client.stat_file(name, &dir).await.ok().flatten().is_none() {
                    client
                        .mkdir(name, &dir, Some(0o755), Some((uid, gid)))
                        .await
                        .map_err(|e| {
                            diag::error_at(
                                path.clone(),
                                format!("Cannot create directory {dir:?} in instance {name:?}"),
                                e.to_string(),
                            )
                        })?;
                }
            }
        }
        // Incus applies owner and mode only when a file is created: replace it.
        let _ = client.delete_file(name, &target).await;
        client
            .push_file(name, &target, &FilePush::file(content).mode(mode).owner(uid, gid))
            .await
            .map_err(|e| {
                diag::error_at(
                    path.clone(),
                    format!("Cannot upload {target:?} to instance {name:?}"),
                    format!("{e}. Check that the parent directory exists or set `create_directories = true`."),
                )
            })?;
    }
    Ok(())
}

/// Start an instance, retrying when LXC's start hooks fail transiently (seen on a busy
/// daemon: `forkstart ... exit status 1` with a failed pre-start hook callback).
async fn start_instance(client: &Client, name: &str) -> Result<(), incus_client::Error> {
    let mut attempt = 1;
    loop {
        match client.start_instance(name).await {
            Err(e) if attempt < 3 && e.to_string().contains("forkstart") => {
                tracing::warn!(
                    instance = name,
                    attempt,
                    "start failed in LXC hooks, retrying: {e}"
                );
                attempt += 1;
                tokio::time::sleep(Duration::from_secs(2 * attempt)).await;
            }
            other => return other,
        }
    }
}

/// Run `exec` entries in key order: all on create; on update only `on_change` entries that
/// are new or differ from the prior state.
async fn run_exec(
    client: &Client,
    name: &str,
    prior: &Value,
    planned: &Value,
    creating: bool,
) -> Result<(), Diagnostics> {
    for (key, e) in planned.entries().into_iter().flatten() {
        let trigger = e.attr("trigger").as_str().unwrap_or("on_change");
        let changed = prior.entries().and_then(|m| m.get(key)) != Some(e);
        if !(creating || (trigger == "on_change" && changed)) {
            continue;
        }
        let path = AttrPath::attr("exec").then_key(key);
        let argv: Vec<String> = e
            .attr("command")
            .elements()
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect();
        let mut req = incus_client::ExecRequest::new(argv.clone());
        for (k, v) in e.attr("environment").string_map() {
            req = req.env(k, v);
        }
        if let Some(d) = e.attr("working_dir").as_str() {
            req = req.cwd(d);
        }
        let num = |n: &str| match e.attr(n) {
            Value::Number(x) => x.as_i64().map(|i| i as u32),
            _ => None,
        };
        if let Some(u) = num("uid") {
            req = req.uid(u);
        }
        if let Some(g) = num("gid") {
            req = req.gid(g);
        }
        let timeout = e
            .attr("timeout")
            .as_str()
            .and_then(parse_duration)
            .unwrap_or(Duration::from_secs(300));
        req = req.timeout(timeout);
        let out = client.exec(name, &req).await.map_err(|err| {
            diag::error_at(
                path.clone(),
                format!("exec {key:?} could not run in instance {name:?}"),
                err.to_string(),
            )
        })?;
        if !out.success() {
            return Err(diag::error_at(
                path,
                format!(
                    "exec {key:?} failed in instance {name:?} with exit code {}",
                    out.exit_code
                ),
                format!(
                    "command: {argv:?}\n--- stdout\n{}\n--- stderr\n{}",
                    out.stdout_str(),
                    out.stderr_str()
                ),
            ));
        }
    }
    Ok(())
}

/// Wait for every `wait_for` condition in turn.
async fn wait_for(
    ctx: &ProviderData,
    client: &Client,
    name: &str,
    waits: &Value,
) -> Result<(), Diagnostics> {
    let path = AttrPath::attr("wait_for");
    for w in waits.elements() {
        let ty = w.attr("type").as_str().unwrap_or_default();
        if ty == "delay" {
            let d = w
                .attr("delay")
                .as_str()
                .and_then(parse_duration)
                .unwrap_or_default();
            tokio::time::sleep(d).await;
            continue;
        }
        if ty == "cloud-init" {
            let out = client
                .exec(
                    name,
                    &incus_client::ExecRequest::new(["cloud-init", "status", "--wait"])
                        .timeout(WAIT_TIMEOUT),
                )
                .await
                .map_err(|e| {
                    diag::error_at(path.clone(), "Waiting for cloud-init failed", e.to_string())
                })?;
            if !out.success() {
                return Err(diag::error_at(
                    path.clone(),
                    format!(
                        "cloud-init reported an error in instance {name:?} (exit {})",
                        out.exit_code
                    ),
                    format!(
                        "{}{}\nIf the image has no cloud-init, remove this wait_for.",
                        out.stdout_str(),
                        out.stderr_str()
                    ),
                ));
            }
            continue;
        }
        let nic = w.attr("nic").as_str();
        let deadline = tokio::time::Instant::now() + WAIT_TIMEOUT;
        loop {
            let ok = match client.get_instance_full(name).await {
                Ok(inst) => {
                    let st = inst.state.clone().unwrap_or_default();
                    match ty {
                        "ready" => inst.status == "Ready",
                        "agent" => st.processes > 0,
                        "ipv4" | "ipv6" => {
                            let fam = if ty == "ipv4" { "inet" } else { "inet6" };
                            st.network.iter().flatten().any(|(n, net)| {
                                n != "lo"
                                    && nic.is_none_or(|x| x == n)
                                    && net.addresses.iter().any(|a| a.family == fam)
                            })
                        }
                        _ => true,
                    }
                }
                Err(e) => {
                    return Err(api_error(
                        ctx,
                        None,
                        &format!("check instance {name:?}"),
                        &e,
                    ));
                }
            };
            if ok {
                break;
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(diag::error_at(
                    path.clone(),
                    format!(
                        "Timed out after {}s waiting for {ty} on instance {name:?}",
                        WAIT_TIMEOUT.as_secs()
                    ),
                    match ty {
                        "ipv4" | "ipv6" => format!(
                            "No {ty} address appeared on {}. Check the instance's network device and that the image runs a DHCP client.",
                            nic.unwrap_or("any interface")
                        ),
                        _ => "The condition never became true.".to_string(),
                    },
                ));
            }
            tokio::time::sleep(WAIT_POLL).await;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_modes() {
        assert_eq!(parse_duration("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("10"), None);
        assert_eq!(parse_mode("0644"), Some(0o644));
        assert_eq!(parse_mode("755"), Some(0o755));
        assert_eq!(parse_mode("9"), None);
    }

    #[test]
    fn blocks_in_sets_have_no_computed_attributes() {
        // The planner cannot match set elements to config, so nested computed values there
        // would produce inconsistent plans.
        for b in &schema().block.blocks {
            assert!(
                b.block.attributes.iter().all(|a| !a.is_computed()),
                "{}",
                b.type_name
            );
        }
    }

    #[test]
    fn config_validator_rejects_server_keys_with_path() {
        let mut d = Diagnostics::new();
        let v = Value::from_string_map([("volatile.eth0.hwaddr".to_string(), "x".to_string())]);
        validate_config_keys(&v, &AttrPath::attr("config"), &mut d);
        assert_eq!(
            d.0[0].path.as_ref().map(|p| p.to_string()).as_deref(),
            Some("config[\"volatile.eth0.hwaddr\"]")
        );
    }
}
