//! Accessors for the attributes every project-scoped resource has, and error helpers.

use incus_client::Client;

use crate::config::{self, ProviderData};
use crate::cty::{AttrPath, Type, Value};
use crate::framework::Diagnostics;
use crate::framework::schema::Attribute;

/// A non-empty string attribute, `None` when null, unknown or `""`.
pub fn opt_str<'a>(v: &'a Value, name: &str) -> Option<&'a str> {
    v.attr(name).as_str().filter(|s| !s.is_empty())
}

/// A string attribute that the schema makes required (empty string when absent).
pub fn req_str<'a>(v: &'a Value, name: &str) -> &'a str {
    v.attr(name).as_str().unwrap_or_default()
}

/// `remote` (optional, forces replacement), as in every Go provider resource.
pub fn remote_attr() -> Attribute {
    Attribute::optional("remote", Type::String)
        .replace()
        .desc("Name of the provider remote to use (default: the provider's default remote). Changing it forces a new resource.")
}

/// `project` (optional, forces replacement, non-empty).
pub fn project_attr() -> Attribute {
    Attribute::optional("project", Type::String)
        .replace()
        .validate(non_empty)
        .desc("Incus project (default: the remote's project, else `default`). Changing it forces a new resource.")
}

/// Validator: a configured string must not be empty.
pub fn non_empty(v: &Value, path: &AttrPath, diags: &mut Diagnostics) {
    if v.as_str() == Some("") {
        diags.error_at(
            path.clone(),
            "Empty value",
            format!("{path} must not be empty; leave it out instead."),
        );
    }
}

/// The client for a resource's `remote` and `project` attributes.
pub fn client(ctx: &ProviderData, state: &Value) -> Result<Client, Diagnostics> {
    ctx.client(opt_str(state, "remote"), opt_str(state, "project"))
}

/// A failed API call as a diagnostic naming the object and the remote.
pub fn api_err(
    ctx: &ProviderData,
    state: &Value,
    what: &str,
    err: &incus_client::Error,
) -> Diagnostics {
    config::api_error(ctx, opt_str(state, "remote"), what, err)
}

/// The outcome of a delete call: an object that is already gone counts as deleted
/// (someone removed it out of band; Terraform drops it from state either way); any other
/// failure becomes a diagnostic saying `what` failed.
pub fn deleted_or_gone(
    ctx: &ProviderData,
    state: &Value,
    what: &str,
    result: incus_client::Result<()>,
) -> Result<(), Diagnostics> {
    match result {
        Ok(()) => Ok(()),
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(api_err(ctx, state, what, &e)),
    }
}

/// The outcome of a read: the object, `None` when it is gone (Terraform then plans to
/// re-create it), or a diagnostic saying `what` failed.
pub fn found_or_gone<T>(
    ctx: &ProviderData,
    state: &Value,
    what: &str,
    result: incus_client::Result<T>,
) -> Result<Option<T>, Diagnostics> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(api_err(ctx, state, what, &e)),
    }
}

/// Like [`api_err`], but located at `path` (e.g. the config key Incus complained about).
pub fn api_err_at(
    ctx: &ProviderData,
    state: &Value,
    path: AttrPath,
    what: &str,
    err: &incus_client::Error,
) -> Diagnostics {
    let mut d = api_err(ctx, state, what, err);
    for x in &mut d.0 {
        x.path = Some(path.clone());
    }
    d
}

/// When Incus rejects a config key, point the error at `config["key"]`: Incus names the key
/// in its message (`Invalid value for config "snapshots.schedule"`, `Invalid option "x"`).
pub fn config_key_path(err: &incus_client::Error, config: &Value) -> Option<AttrPath> {
    let msg = err.daemon_message()?;
    let keys = config.entries()?;
    // Longest key first, so `snapshots.schedule.stopped` wins over `snapshots.schedule`.
    let mut ks: Vec<&String> = keys.keys().collect();
    ks.sort_by_key(|k| std::cmp::Reverse(k.len()));
    ks.into_iter()
        .find(|k| {
            msg.contains(&format!("\"{k}\""))
                || msg.contains(&format!("{k}:"))
                || msg.contains(&format!("'{k}'"))
        })
        .map(|k| AttrPath::attr("config").then_key(k))
}
