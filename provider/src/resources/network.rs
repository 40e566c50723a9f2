//! `incus_network`: a managed network (bridge, physical, ovn, macvlan, sriov), HCL-compatible
//! with the Go provider.
//!
//! Keys the daemon fills in (`ipv4.address`/`ipv6.address` generated for a bridge,
//! `ipv4.nat`, `bridge.mtu`, the OVN uplink `network`, `volatile.*`) are only tracked when
//! set in HCL. Unlike the Go provider, `ipv4.address = "auto"` (and `ipv6.address`) is
//! accepted: state keeps `"auto"` while the daemon holds the address it generated, so
//! there is no perpetual diff, and updates keep the generated address.
//!
//! On a cluster: a resource with `target` creates the member's pending network with the
//! member-specific keys (`parent`, `bridge.external_interfaces`, `bgp.ipv4.nexthop`,
//! `bgp.ipv6.nexthop`) and only tracks those; the resource without `target` creates the
//! network cluster-wide, doing the per-member pending step itself (with the member-specific
//! keys of its config) when nothing is pending yet.

use async_trait::async_trait;
use incus_client::{Client, NetworkPut, NetworksPost};

use crate::config::ProviderData;
use crate::cty::{AttrPath, Type, Value};
use crate::framework::diag::Diagnostics;
use crate::framework::{Attribute, Block, Resource, Schema};

use super::support::attrs::{self, opt_str, req_str};
use super::support::cluster::{self, NETWORK_MEMBER_KEYS};
use super::support::config_map::{self, ComputedKeys};
use super::support::import_id::ImportSpec;

pub struct Network;

/// A network for the cluster-aware create in [`cluster::create`].
struct NetworkApi<'a> {
    name: &'a str,
    network_type: &'a str,
}

#[async_trait]
impl cluster::ClusterObject for NetworkApi<'_> {
    const KIND: &'static str = "network";
    fn name(&self) -> &str {
        self.name
    }
    fn is_member_key(&self, key: &str) -> bool {
        is_member_key(key)
    }
    async fn status(&self, client: &Client) -> incus_client::Result<String> {
        Ok(client.get_network(self.name).await?.status)
    }
    async fn post(
        &self,
        client: &Client,
        config: incus_client::Config,
        description: &str,
    ) -> incus_client::Result<()> {
        let body = NetworksPost {
            name: self.name.to_string(),
            network_type: self.network_type.to_string(),
            description: description.to_string(),
            config,
        };
        retry_interface_race(|| client.create_network(&body)).await
    }
    async fn delete(&self, client: &Client) -> incus_client::Result<()> {
        client.delete_network(self.name).await
    }
}

const TYPES: &[&str] = &["bridge", "macvlan", "sriov", "ovn", "physical"];

const IMPORT: ImportSpec = ImportSpec {
    resource: "incus_network",
    fields: &["name"],
    project: true,
    options: &["target"],
};

fn computed_keys(clustered_global: bool) -> ComputedKeys {
    let ck = ComputedKeys::new([
        "bridge.mtu",
        "ipv4.address",
        "ipv4.nat",
        "ipv6.address",
        "ipv6.nat",
        "network",
        "tunnel.",
        "volatile.",
    ]);
    // Read without target, a cluster answers with the answering member's specific keys.
    if clustered_global {
        ck.with(NETWORK_MEMBER_KEYS.iter().copied())
    } else {
        ck
    }
}

/// Member-specific keys, including the dynamic `tunnel.NAME.interface|local`.
fn is_member_key(k: &str) -> bool {
    NETWORK_MEMBER_KEYS.contains(&k)
        || (k.starts_with("tunnel.")
            && (k.ends_with(".interface") || k.ends_with(".local"))
            && k.matches('.').count() == 2)
}

/// `auto` (or `none`) as written by the user stays while the daemon holds a generated
/// address for it.
fn keep_auto(key: &str, user: &str, server: &str) -> bool {
    matches!(key, "ipv4.address" | "ipv6.address") && user == "auto" && server.contains('/')
}

/// Incus 6.0 lists every host interface while it sets up or tears down a bridge; an
/// interface that disappears meanwhile (another bridge, a container's veth on a busy daemon)
/// fails the call with `Device "..." does not exist`. That race clears at once: retry.
async fn retry_interface_race<F, Fut>(mut call: F) -> incus_client::Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = incus_client::Result<()>>,
{
    let mut result = call().await;
    for _ in 0..5 {
        match &result {
            Err(e)
                if e.daemon_message().is_some_and(|m| {
                    m.contains("does not exist") && m.contains("Failed to run")
                }) =>
            {
                tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                result = call().await;
            }
            _ => break,
        }
    }
    result
}

fn scoped(client: &Client, st: &Value) -> Client {
    match opt_str(st, "target") {
        Some(t) => client.with_target(t),
        None => client.clone(),
    }
}

fn to_state(base: &Value, net: &incus_client::Network, clustered: bool) -> Value {
    let mut st = base.clone();
    let targeted = opt_str(base, "target").is_some();
    // Right after an import nothing is known about what the user sets: take every key but
    // volatile.*, tunnel.* and bridge.mtu (which the daemon always fills in for OVN) as set
    // by the user. Explicitly configured networks (the usual case) then
    // plan clean; keys the daemon generated and the HCL leaves out show once as removed
    // (the apply keeps them on the server) and are stripped from then on.
    let imported;
    let user = if base.attr("config").is_null() {
        imported = Value::from_string_map(
            net.config
                .iter()
                .filter(|(k, _)| {
                    !k.starts_with("volatile.")
                        && !k.starts_with("tunnel.")
                        && k.as_str() != "bridge.mtu"
                })
                .map(|(k, v)| (k.clone(), v.clone())),
        );
        &imported
    } else {
        base.attr("config")
    };
    let mut config = config_map::to_state(
        &net.config,
        user,
        &computed_keys(clustered && !targeted),
        &keep_auto,
    );
    if targeted && clustered {
        // A per-member resource only owns member-specific keys (and what the user set).
        let user_keys = user.entries().cloned().unwrap_or_default();
        if let Value::Map(m) = &mut config {
            m.retain(|k, _| is_member_key(k) || user_keys.contains_key(k));
        }
    }
    st.set_attr("name", Value::string(&net.name));
    st.set_attr("type", Value::string(&net.network_type));
    st.set_attr("managed", Value::Bool(net.managed));
    st.set_attr("config", config);
    st.set_attr(
        "description",
        Value::string(if targeted {
            ""
        } else {
            net.description.as_str()
        }),
    );
    st
}

fn located(ctx: &ProviderData, st: &Value, what: &str, e: &incus_client::Error) -> Diagnostics {
    match attrs::config_key_path(e, st.attr("config")) {
        Some(p) => attrs::api_err_at(ctx, st, p, what, e),
        None => attrs::api_err(ctx, st, what, e),
    }
}

#[async_trait]
impl Resource for Network {
    fn type_name(&self) -> &'static str {
        "incus_network"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new(vec![
                Attribute::required("name", Type::String).replace().desc("Name of the network."),
                Attribute::optional_computed("type", Type::String)
                    .replace()
                    .validate(crate::one_of!(TYPES))
                    .desc("`bridge` (the daemon's default), `physical`, `ovn`, `macvlan` or `sriov`."),
                Attribute::optional_computed("description", Type::String)
                    .default(Value::string(""))
                    .desc("Description of the network. Not allowed together with `target`."),
                Attribute::optional_computed("config", Type::map(Type::String)).desc(
                    "Network configuration, e.g. `ipv4.address` (CIDR, `auto` or `none`), `ipv4.nat`, `ipv6.address`, `ipv4.dhcp.ranges` (bridge); `parent`, `ipv4.gateway`, `ipv4.ovn.ranges`, `ipv4.routes` (physical uplink); `network` = uplink (ovn). Values the daemon fills in are only tracked when set here.",
                ),
                attrs::project_attr(),
                Attribute::optional("target", Type::String)
                    .replace()
                    .validate(attrs::non_empty)
                    .desc("Cluster member: creates the member's pending network with its member-specific keys (`parent`, `bridge.external_interfaces`, …). Declare one per member plus one without `target` that depends on them."),
                attrs::remote_attr(),
                Attribute::computed("managed", Type::Bool).desc("Whether Incus manages the network (always true for networks created here)."),
            ])
            .desc("Manages an Incus network: a bridge, a physical uplink, an OVN network, macvlan or SR-IOV."),
        )
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        if !config.attr("target").is_null() && !config.attr("description").is_null() {
            diags.error_at(
                AttrPath::attr("description"),
                "Conflicting attributes",
                "`description` belongs to the cluster-wide network; set it on the resource without `target`.",
            );
        }
        // An OVN network needs its uplink; say so before anything is created.
        let cfg = config.attr("config");
        if config.attr("type").as_str() == Some("ovn")
            && cfg.is_wholly_known()
            && cfg
                .entries()
                .is_none_or(|m| m.get("network").is_none_or(Value::is_null))
        {
            diags.error_at(
                AttrPath::attr("config"),
                "OVN network without uplink",
                "An OVN network needs config key `network` naming its uplink (a physical or bridge network with `ipv4.ovn.ranges`), e.g. config = { network = \"uplink\" }.",
            );
        }
    }

    async fn create(&self, ctx: &ProviderData, planned: &Value) -> Result<Value, Diagnostics> {
        let client = attrs::client(ctx, planned)?;
        let name = req_str(planned, "name");
        let config = config_map::user_config(planned.attr("config"));
        let clustered = cluster::is_clustered(&client)
            .await
            .map_err(|e| attrs::api_err(ctx, planned, "query the server", &e))?;
        let description = req_str(planned, "description");
        let api = NetworkApi {
            name,
            network_type: opt_str(planned, "type").unwrap_or_default(),
        };
        cluster::create(ctx, planned, &client, clustered, &api, config).await?;

        let reader = scoped(&client, planned);
        let read = || async {
            reader.get_network_with_etag(name).await.map_err(|e| {
                attrs::api_err(
                    ctx,
                    planned,
                    &format!("read network {name:?} after creating it"),
                    &e,
                )
            })
        };
        let (mut net, etag) = read().await?;
        // The cluster-wide create of a pending network ignores `description`: set it now.
        if opt_str(planned, "target").is_none() && net.description != description {
            let put = NetworkPut {
                description: description.to_string(),
                config: net.config.clone(),
            };
            retry_interface_race(|| client.update_network(name, &put, etag.as_deref()))
                .await
                .map_err(|e| {
                    located(
                        ctx,
                        planned,
                        &format!("set the description of network {name:?}"),
                        &e,
                    )
                })?;
            net = read().await?.0;
        }
        Ok(to_state(planned, &net, clustered))
    }

    async fn read(&self, ctx: &ProviderData, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let client = attrs::client(ctx, state)?;
        let name = req_str(state, "name");
        let what = format!("read network {name:?}");
        let result = scoped(&client, state).get_network(name).await;
        let Some(net) = attrs::found_or_gone(ctx, state, &what, result)? else {
            return Ok(None);
        };
        let clustered = cluster::is_clustered(&client)
            .await
            .map_err(|e| attrs::api_err(ctx, state, "query the server", &e))?;
        Ok(Some(to_state(state, &net, clustered)))
    }

    async fn update(
        &self,
        ctx: &ProviderData,
        _prior: &Value,
        planned: &Value,
    ) -> Result<Value, Diagnostics> {
        let client = attrs::client(ctx, planned)?;
        let c = scoped(&client, planned);
        let name = req_str(planned, "name");
        let targeted = opt_str(planned, "target").is_some();
        let clustered = cluster::is_clustered(&client)
            .await
            .map_err(|e| attrs::api_err(ctx, planned, "query the server", &e))?;
        let (net, etag) = c
            .get_network_with_etag(name)
            .await
            .map_err(|e| attrs::api_err(ctx, planned, &format!("read network {name:?}"), &e))?;
        let mut config = config_map::merge_for_put(
            &net.config,
            planned.attr("config"),
            &computed_keys(clustered && !targeted),
            &keep_auto,
        );
        let description = if targeted && clustered {
            // Per-member updates may only carry member-specific keys.
            config.retain(|k, _| is_member_key(k));
            net.description.clone()
        } else {
            req_str(planned, "description").to_string()
        };
        let put = NetworkPut {
            description,
            config,
        };
        retry_interface_race(|| c.update_network(name, &put, etag.as_deref()))
            .await
            .map_err(|e| located(ctx, planned, &format!("update network {name:?}"), &e))?;
        let net = c
            .get_network(name)
            .await
            .map_err(|e| attrs::api_err(ctx, planned, &format!("read network {name:?}"), &e))?;
        Ok(to_state(planned, &net, clustered))
    }

    async fn delete(&self, ctx: &ProviderData, prior: &Value) -> Result<(), Diagnostics> {
        let client = attrs::client(ctx, prior)?;
        let name = req_str(prior, "name");
        if opt_str(prior, "target").is_some() {
            // A member's part of a network that exists cluster-wide goes with it; a still
            // pending network is deleted (it was never usable).
            match client.get_network(name).await {
                Ok(n) if n.status == "Pending" => {}
                Ok(_) => return Ok(()),
                Err(e) if e.is_not_found() => return Ok(()),
                Err(e) => {
                    return Err(attrs::api_err(
                        ctx,
                        prior,
                        &format!("read network {name:?}"),
                        &e,
                    ));
                }
            }
        }
        attrs::deleted_or_gone(
            ctx,
            prior,
            &format!("delete network {name:?}"),
            retry_interface_race(|| client.delete_network(name)).await,
        )
    }

    async fn import(&self, _ctx: &ProviderData, id: &str) -> Result<Value, Diagnostics> {
        let id = IMPORT.parse(id)?;
        let mut st = IMPORT.state(&id, &self.schema().ty());
        st.set_attr(
            "target",
            id.options
                .get("target")
                .map(Value::string)
                .unwrap_or(Value::Null),
        );
        Ok(st)
    }
}

pub const EXAMPLE: &str = r#"
# A NAT bridge.
resource "incus_network" "lan" {
  name = "lan0"
  config = {
    "ipv4.address" = "10.150.19.1/24"
    "ipv4.nat"     = "true"
    "ipv6.address" = "none"
  }
}

# A physical uplink for OVN, and an OVN network on it.
resource "incus_network" "uplink" {
  name = "uplink"
  type = "physical"
  config = {
    parent            = "eth1"
    "ipv4.gateway"    = "192.0.2.1/24"
    "ipv4.ovn.ranges" = "192.0.2.100-192.0.2.199"
    "ipv4.routes"     = "198.51.100.0/24"
  }
}

resource "incus_network" "ovn" {
  name = "app-ovn"
  type = "ovn"
  config = {
    network        = incus_network.uplink.name
    "ipv4.address" = "10.10.10.1/24"
    "ipv4.nat"     = "true"
  }
}
"#;
