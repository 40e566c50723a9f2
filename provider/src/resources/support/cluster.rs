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

use incus_client::{Client, Config, encode_segment};

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
pub fn split(config: &Config, member_keys: &[&str]) -> (Config, Config) {
    config
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .partition(|(k, _)| member_keys.contains(&k.as_str()))
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
        let (m, g) = split(&c, POOL_MEMBER_KEYS);
        assert_eq!(m.keys().collect::<Vec<_>>(), vec!["source"]);
        assert_eq!(g.keys().collect::<Vec<_>>(), vec!["rsync.bwlimit"]);
    }

    #[test]
    fn member_names_are_decoded() {
        assert_eq!(decode_segment("node%201"), "node 1");
        assert_eq!(decode_segment("floe-node2"), "floe-node2");
    }
}
