//! Cluster-aware creation of storage pools and networks.
//!
//! On a cluster, Incus keeps two kinds of config for these objects: **member-specific** keys
//! (a pool's `source`, a network's `parent`…), set per member with `?target=MEMBER`, and
//! cluster-wide keys. Creating such an object is a two-step dance the API requires:
//! 1. `POST ?target=M` on every member with that member's specific keys → state `Pending`;
//! 2. `POST` without target with the cluster-wide keys → created everywhere.
//!
//! The Go provider leaves step 1 to the user (one resource per member with `target`, then
//! one without). We support that HCL unchanged, and when a cluster-wide resource finds no
//! pending object, we do step 1 ourselves (with its member-specific keys, the same on every
//! member): Incus refuses step 2 alone ("not pending on any node"). Member-specific keys
//! read back from the member that answers are stripped from a cluster-wide resource
//! (unless the user set them), and a targeted resource only tracks member-specific keys:
//! no perpetual diff either way.

use async_trait::async_trait;
use incus_client::{Client, Config, encode_segment};

use crate::config::ProviderData;
use crate::cty::Value;
use crate::framework::diag::{self, Diagnostics};

use super::attrs::{self, opt_str, req_str};

/// Member-specific storage pool keys (Incus `db.NodeSpecificStorageConfig`).
pub const POOL_MEMBER_KEYS: &[&str] = &[
    "size",
    "source",
    "source.wipe",
    "volatile.initial_source",
    "zfs.pool_name",
    "lvm.thinpool_name",
    "lvm.vg_name",
    "lvm.vg.force_reuse",
];

/// Member-specific network keys (Incus `db.NodeSpecificNetworkConfig`).
pub const NETWORK_MEMBER_KEYS: &[&str] = &[
    "bgp.ipv4.nexthop",
    "bgp.ipv6.nexthop",
    "bridge.external_interfaces",
    "parent",
];

/// Whether the daemon behind `client` is a cluster member.
pub async fn is_clustered(client: &Client) -> incus_client::Result<bool> {
    Ok(client.server().await?.environment.server_clustered)
}

/// Names of the cluster members.
pub async fn members(client: &Client) -> incus_client::Result<Vec<String>> {
    let urls: Vec<String> = client
        .without_scope()
        .get_json("/1.0/cluster/members")
        .await?;
    Ok(urls
        .iter()
        .filter_map(|u| u.rsplit('/').next())
        .map(decode_segment)
        .collect())
}

/// `(member-specific, cluster-wide)` parts of a config.
pub fn split(config: &Config, is_member_key: impl Fn(&str) -> bool) -> (Config, Config) {
    config
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .partition(|(k, _)| is_member_key(k))
}

/// One kind of cluster-aware object (storage pool, network): what [`create`] needs to look
/// it up, post it (on one member or cluster-wide) and remove it again.
#[async_trait]
pub trait ClusterObject: Sync {
    /// `"storage pool"`, `"network"`: used in messages.
    const KIND: &'static str;
    /// The object's name.
    fn name(&self) -> &str;
    /// Whether a config key is member-specific (set per member in step 1).
    fn is_member_key(&self, key: &str) -> bool;
    /// Its `status` as `client` sees it (`Pending`, `Created`…).
    async fn status(&self, client: &Client) -> incus_client::Result<String>;
    /// `POST` it with `config` and `description`, on `client`'s target when it has one.
    async fn post(
        &self,
        client: &Client,
        config: Config,
        description: &str,
    ) -> incus_client::Result<()>;
    /// Delete it everywhere (cleanup after a failed create).
    async fn delete(&self, client: &Client) -> incus_client::Result<()>;
}

/// Creates the object that `planned` describes, the way its `target` and the server ask:
/// - `target` set: the member's pending entry, with `config` as is and no description;
/// - a cluster (`clustered`) without `target`: step 2, after doing step 1 (per member,
///   member-specific keys) unless pending entries exist already (made by targeted
///   resources); what this call created is removed again when a later step fails, so
///   nothing is left half-made;
/// - a standalone server: one plain create.
pub async fn create<O: ClusterObject>(
    ctx: &ProviderData,
    planned: &Value,
    client: &Client,
    clustered: bool,
    obj: &O,
    config: Config,
) -> Result<(), Diagnostics> {
    let kind = O::KIND;
    let name = obj.name();
    let description = req_str(planned, "description");
    let failed = |c: &Client, e: &incus_client::Error| create_failed(ctx, planned, obj, c, e);

    if let Some(target) = opt_str(planned, "target") {
        let c = client.with_target(target);
        return obj.post(&c, config, "").await.map_err(|e| failed(&c, &e));
    }
    if !clustered {
        return obj
            .post(client, config, description)
            .await
            .map_err(|e| failed(client, &e));
    }

    let (member_cfg, global_cfg) = split(&config, |k| obj.is_member_key(k));
    let pending = match obj.status(client).await {
        Ok(status) if status == "Pending" => true,
        Ok(_) => {
            let mut kind_title = kind.to_string();
            if let Some(first) = kind_title.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            return Err(diag::error(
                format!("{kind_title} {name:?} already exists"),
                format!("Import it instead: terraform import <address> {name}"),
            ));
        }
        Err(e) if e.is_not_found() => false,
        Err(e) => {
            return Err(attrs::api_err(
                ctx,
                planned,
                &format!("look up {kind} {name:?}"),
                &e,
            ));
        }
    };
    // Incus refuses a cluster-wide create unless the object is pending on every member
    // ("not pending on any node"): do that step with the member keys.
    let mut created_pending = false;
    if !pending {
        let members = members(client)
            .await
            .map_err(|e| attrs::api_err(ctx, planned, "list cluster members", &e))?;
        for m in members {
            let c = client.with_target(&m);
            if let Err(e) = obj.post(&c, member_cfg.clone(), "").await {
                let _ = obj.delete(client).await;
                return Err(failed(&c, &e));
            }
            created_pending = true;
        }
    }
    let body_cfg = if pending || created_pending {
        global_cfg
    } else {
        config
    };
    if let Err(e) = obj.post(client, body_cfg, description).await {
        // Nothing half-created: drop the pending entries we made.
        if created_pending {
            let _ = obj.delete(client).await;
        }
        return Err(failed(client, &e));
    }
    Ok(())
}

/// A failed create on `client` (its target names the member) as a diagnostic, located at
/// the config key Incus complained about when its message names one.
pub fn create_failed<O: ClusterObject>(
    ctx: &ProviderData,
    planned: &Value,
    obj: &O,
    client: &Client,
    err: &incus_client::Error,
) -> Diagnostics {
    let what = format!(
        "create {} {:?}{}",
        O::KIND,
        obj.name(),
        client
            .target()
            .map(|t| format!(" on member {t:?}"))
            .unwrap_or_default()
    );
    match attrs::config_key_path(err, planned.attr("config")) {
        Some(p) => attrs::api_err_at(ctx, planned, p, &what, err),
        None => attrs::api_err(ctx, planned, &what, err),
    }
}

/// Percent-decoding of one URL path segment (member names in `/1.0/cluster/members/NAME`).
fn decode_segment(s: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `/1.0/<collection>/<name>` with the name encoded, for raw calls.
pub fn object_path(collection: &str, name: &str) -> String {
    format!("/1.0/{collection}/{}", encode_segment(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_separates_member_keys() {
        let c: Config = [("source", "/a"), ("rsync.bwlimit", "1")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let (m, g) = split(&c, |k| POOL_MEMBER_KEYS.contains(&k));
        assert_eq!(m.keys().collect::<Vec<_>>(), vec!["source"]);
        assert_eq!(g.keys().collect::<Vec<_>>(), vec!["rsync.bwlimit"]);
    }

    #[test]
    fn member_names_are_decoded() {
        assert_eq!(decode_segment("node%201"), "node 1");
        assert_eq!(decode_segment("floe-node2"), "floe-node2");
    }
}
