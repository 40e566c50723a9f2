//! `incus_network_lb`: a load balancer on an OVN network, HCL-compatible with the Go
//! provider (`backend` and `port` blocks; `listen_address` forces replacement).
//!
//! The listen address must come from the uplink's `ipv4.routes`/`ipv6.routes` (or the
//! project's `restricted.networks.subnets`); backends must be in the OVN network's subnet.
//! Both are checked by Incus at create time: the error points at `listen_address` and
//! nothing is created. Import (not in the Go provider): `[remote:][project]/network/address`.

use std::collections::BTreeMap;

use async_trait::async_trait;
use incus_client::{
    LoadBalancerBackend, LoadBalancerPort, NetworkLoadBalancerPut, NetworkLoadBalancersPost,
};

use crate::config::ProviderData;
use crate::cty::{AttrPath, Type, Value};
use crate::framework::diag::Diagnostics;
use crate::framework::{
    Attribute, Block, NestedBlock, Nesting, PlanRequest, Planned, Resource, Schema,
};

use super::support::attrs::{self, opt_str, req_str};
use super::support::config_map::{self, ComputedKeys};
use super::support::import_id::ImportSpec;

pub struct NetworkLb;

const IMPORT: ImportSpec = ImportSpec {
    resource: "incus_network_lb",
    fields: &["network", "listen_address"],
    project: true,
    options: &[],
};

fn backend_block() -> NestedBlock {
    NestedBlock::new(
        "backend",
        Nesting::Set,
        Block::new(vec![
            Attribute::required("name", Type::String)
                .desc("Backend name, referenced by `port.target_backend`."),
            Attribute::optional_computed("description", Type::String)
                .default(Value::string(""))
                .desc("Description of the backend."),
            Attribute::required("target_address", Type::String)
                .desc("Address of the backend, inside the OVN network's subnet."),
            Attribute::optional("target_port", Type::String)
                .desc("Target port(s), e.g. `8080` or `80,90-100`; default: the listen port."),
        ]),
    )
    .desc("A backend the load balancer forwards to.")
}

fn port_block() -> NestedBlock {
    NestedBlock::new(
        "port",
        Nesting::Set,
        Block::new(vec![
            Attribute::optional_computed("description", Type::String)
                .default(Value::string(""))
                .desc("Description of the port."),
            Attribute::optional_computed("protocol", Type::String)
                .default(Value::string("tcp"))
                .validate(crate::one_of!(&["tcp", "udp"]))
                .desc("`tcp` (default) or `udp`."),
            Attribute::required("listen_port", Type::String)
                .desc("Listen port(s), e.g. `80` or `80,8080-8090`."),
            Attribute::required("target_backend", Type::set(Type::String))
                .desc("Names of the backends to forward to."),
        ]),
    )
    .desc("A listen port and the backends it forwards to.")
}

/// Defaults of the optional+computed attributes inside the set blocks (the generic planner
/// does not look into sets).
fn fill_defaults(v: &mut Value, defaults: &[(&str, &str)]) {
    if let Value::Set(items) = v {
        for item in items {
            for (k, d) in defaults {
                if item.attr(k).is_null() {
                    item.set_attr(k, Value::string(*d));
                }
            }
        }
    }
}

fn backends_from(v: &Value) -> Vec<LoadBalancerBackend> {
    v.elements()
        .iter()
        .map(|b| LoadBalancerBackend {
            name: req_str(b, "name").to_string(),
            description: req_str(b, "description").to_string(),
            target_address: req_str(b, "target_address").to_string(),
            target_port: req_str(b, "target_port").to_string(),
        })
        .collect()
}

fn ports_from(v: &Value) -> Vec<LoadBalancerPort> {
    v.elements()
        .iter()
        .map(|p| LoadBalancerPort {
            description: req_str(p, "description").to_string(),
            protocol: opt_str(p, "protocol").unwrap_or("tcp").to_string(),
            listen_port: req_str(p, "listen_port").to_string(),
            target_backend: p
                .attr("target_backend")
                .elements()
                .iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect(),
        })
        .collect()
}

fn obj(pairs: Vec<(&str, Value)>) -> Value {
    Value::Object(
        pairs
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect::<BTreeMap<_, _>>(),
    )
}

fn non_empty(s: &str) -> Value {
    if s.is_empty() {
        Value::Null
    } else {
        Value::string(s)
    }
}

fn to_state(base: &Value, lb: &incus_client::NetworkLoadBalancer) -> Value {
    let mut st = base.clone();
    st.set_attr("listen_address", Value::string(&lb.listen_address));
    st.set_attr("description", Value::string(&lb.description));
    st.set_attr(
        "config",
        config_map::to_state(
            &lb.config,
            base.attr("config"),
            &ComputedKeys::default(),
            &config_map::exact,
        ),
    );
    st.set_attr(
        "backend",
        Value::Set(
            lb.backends
                .iter()
                .map(|b| {
                    obj(vec![
                        ("name", Value::string(&b.name)),
                        ("description", Value::string(&b.description)),
                        ("target_address", Value::string(&b.target_address)),
                        ("target_port", non_empty(&b.target_port)),
                    ])
                })
                .collect(),
        ),
    );
    st.set_attr(
        "port",
        Value::Set(
            lb.ports
                .iter()
                .map(|p| {
                    obj(vec![
                        ("description", Value::string(&p.description)),
                        ("protocol", Value::string(&p.protocol)),
                        ("listen_port", Value::string(&p.listen_port)),
                        (
                            "target_backend",
                            Value::Set(p.target_backend.iter().map(Value::string).collect()),
                        ),
                    ])
                })
                .collect(),
        ),
    );
    st
}

/// Incus names the listen address in its complaints ("Listen address ... not allowed",
/// "... not within ..."): point there; backend complaints point at the backend blocks.
fn located(ctx: &ProviderData, st: &Value, what: &str, e: &incus_client::Error) -> Diagnostics {
    let msg = e.daemon_message().unwrap_or_default().to_lowercase();
    let path =
        if msg.contains("listen") || msg.contains(&req_str(st, "listen_address").to_lowercase()) {
            Some(AttrPath::attr("listen_address"))
        } else if msg.contains("backend") || msg.contains("target") {
            Some(AttrPath::attr("backend"))
        } else {
            attrs::config_key_path(e, st.attr("config"))
        };
    match path {
        Some(p) => attrs::api_err_at(ctx, st, p, what, e),
        None => attrs::api_err(ctx, st, what, e),
    }
}

#[async_trait]
impl Resource for NetworkLb {
    fn type_name(&self) -> &'static str {
        "incus_network_lb"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new(vec![
                Attribute::required("network", Type::String).replace().desc("The OVN network the load balancer belongs to."),
                Attribute::required("listen_address", Type::String)
                    .replace()
                    .desc("Address to listen on, from the uplink's `ipv4.routes`/`ipv6.routes`. Changing it forces a new load balancer."),
                Attribute::optional_computed("description", Type::String).default(Value::string("")).desc("Description of the load balancer."),
                Attribute::optional_computed("config", Type::map(Type::String))
                    .default(Value::Map(Default::default()))
                    .desc("Load balancer configuration, e.g. `healthcheck`, `healthcheck.interval`, `user.*`."),
                attrs::project_attr(),
                attrs::remote_attr(),
            ])
            .with_blocks(vec![backend_block(), port_block()])
            .desc("Manages a load balancer on an Incus OVN network.\n\nMake it depend on the backend instances (`depends_on`, or reference them): with OVN 23.03 the listen address only answers ARP on the uplink when the backends' ports existed at creation time."),
        )
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        // Every target_backend must name a backend block.
        let names: Vec<&str> = config
            .attr("backend")
            .elements()
            .iter()
            .filter_map(|b| b.attr("name").as_str())
            .collect();
        if !config.attr("backend").is_wholly_known() {
            return;
        }
        for p in config.attr("port").elements() {
            for t in p
                .attr("target_backend")
                .elements()
                .iter()
                .filter_map(Value::as_str)
            {
                if !names.contains(&t) {
                    diags.error_at(
                        AttrPath::attr("port"),
                        format!("Unknown backend {t:?}"),
                        format!("port.target_backend names {t:?}, but no backend block has that name (backends: {}).", names.join(", ")),
                    );
                }
            }
        }
    }

    fn modify_plan(&self, _req: &PlanRequest<'_>, planned: &mut Planned, _diags: &mut Diagnostics) {
        if let Some(v) = planned.state.attr_mut("backend") {
            fill_defaults(v, &[("description", "")]);
        }
        if let Some(v) = planned.state.attr_mut("port") {
            fill_defaults(v, &[("description", ""), ("protocol", "tcp")]);
        }
    }

    async fn create(&self, ctx: &ProviderData, planned: &Value) -> Result<Value, Diagnostics> {
        let c = attrs::client(ctx, planned)?;
        let (net, listen) = (
            req_str(planned, "network"),
            req_str(planned, "listen_address"),
        );
        let req = NetworkLoadBalancersPost {
            listen_address: listen.to_string(),
            description: req_str(planned, "description").to_string(),
            config: config_map::user_config(planned.attr("config")),
            backends: backends_from(planned.attr("backend")),
            ports: ports_from(planned.attr("port")),
        };
        c.create_network_load_balancer(net, &req)
            .await
            .map_err(|e| {
                located(
                    ctx,
                    planned,
                    &format!("create load balancer {listen} on network {net:?}"),
                    &e,
                )
            })?;
        let lb = c
            .get_network_load_balancer(net, listen)
            .await
            .map_err(|e| {
                attrs::api_err(
                    ctx,
                    planned,
                    &format!("read load balancer {listen} after creating it"),
                    &e,
                )
            })?;
        Ok(to_state(planned, &lb))
    }

    async fn read(&self, ctx: &ProviderData, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let c = attrs::client(ctx, state)?;
        let (net, listen) = (req_str(state, "network"), req_str(state, "listen_address"));
        let what = format!("read load balancer {listen} on network {net:?}");
        let found = attrs::found_or_gone(
            ctx,
            state,
            &what,
            c.get_network_load_balancer(net, listen).await,
        )?;
        Ok(found.map(|lb| to_state(state, &lb)))
    }

    async fn update(
        &self,
        ctx: &ProviderData,
        _prior: &Value,
        planned: &Value,
    ) -> Result<Value, Diagnostics> {
        let c = attrs::client(ctx, planned)?;
        let (net, listen) = (
            req_str(planned, "network"),
            req_str(planned, "listen_address"),
        );
        let (lb, etag) = c
            .get_network_load_balancer_with_etag(net, listen)
            .await
            .map_err(|e| {
                attrs::api_err(
                    ctx,
                    planned,
                    &format!("read load balancer {listen} on network {net:?}"),
                    &e,
                )
            })?;
        let put = NetworkLoadBalancerPut {
            description: req_str(planned, "description").to_string(),
            config: config_map::merge_for_put(
                &lb.config,
                planned.attr("config"),
                &ComputedKeys::default(),
                &config_map::exact,
            ),
            backends: backends_from(planned.attr("backend")),
            ports: ports_from(planned.attr("port")),
        };
        c.update_network_load_balancer(net, listen, &put, etag.as_deref())
            .await
            .map_err(|e| {
                located(
                    ctx,
                    planned,
                    &format!("update load balancer {listen} on network {net:?}"),
                    &e,
                )
            })?;
        let lb = c
            .get_network_load_balancer(net, listen)
            .await
            .map_err(|e| {
                attrs::api_err(ctx, planned, &format!("read load balancer {listen}"), &e)
            })?;
        Ok(to_state(planned, &lb))
    }

    async fn delete(&self, ctx: &ProviderData, prior: &Value) -> Result<(), Diagnostics> {
        let c = attrs::client(ctx, prior)?;
        let (net, listen) = (req_str(prior, "network"), req_str(prior, "listen_address"));
        attrs::deleted_or_gone(
            ctx,
            prior,
            &format!("delete load balancer {listen} on network {net:?}"),
            c.delete_network_load_balancer(net, listen).await,
        )
    }

    async fn import(&self, _ctx: &ProviderData, id: &str) -> Result<Value, Diagnostics> {
        let id = IMPORT.parse(id)?;
        Ok(IMPORT.state(&id, &self.schema().ty()))
    }
}

pub const EXAMPLE: &str = r#"
resource "incus_network_lb" "web" {
  network        = incus_network.ovn.name
  listen_address = "198.51.100.10" # from the uplink's ipv4.routes
  depends_on     = [incus_instance.web1]

  backend {
    name           = "web1"
    target_address = "10.10.10.2"
    target_port    = "8080"
  }

  port {
    listen_port    = "80"
    target_backend = ["web1"]
  }
}
"#;
