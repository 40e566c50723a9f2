//! The tfplugin6 service driven in-process through the generated gRPC client: schema,
//! validation diagnostics with attribute paths, and the consistency rules of plans.

use floe_provider::cty::{AttrPath, Type, Value, msgpack};
use floe_provider::framework::plan;
use floe_provider::framework::server::ProviderService;
use floe_provider::proto::tfplugin6 as pb;
use floe_provider::proto::tfplugin6::provider_client::ProviderClient;
use floe_provider::proto::tfplugin6::provider_server::ProviderServer;
use tonic::transport::{Endpoint, Server};

async fn client() -> ProviderClient<tonic::transport::Channel> {
    // Loopback TCP keeps the test free of extra connector crates.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = Server::builder()
            .add_service(ProviderServer::new(ProviderService::with_registry()))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener))
            .await;
    });
    let channel = Endpoint::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .connect()
        .await
        .expect("connect");
    ProviderClient::new(channel)
}

fn instance_type() -> Type {
    floe_provider::resources::instance::schema().ty()
}

fn obj(pairs: &[(&str, Value)]) -> Value {
    let mut v = Value::null_object(&instance_type());
    for (k, x) in pairs {
        v.set_attr(k, x.clone());
    }
    for b in ["device", "file", "wait_for"] {
        if v.attr(b).is_null() {
            v.set_attr(b, Value::Set(vec![]));
        }
    }
    v
}

fn dv(v: &Value) -> Option<pb::DynamicValue> {
    Some(pb::DynamicValue {
        msgpack: msgpack::encode(v, &instance_type()).expect("encode"),
        json: vec![],
    })
}

#[tokio::test]
async fn schema_lists_resources_and_data_sources() {
    let mut c = client().await;
    let s = c
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("rpc")
        .into_inner();
    assert!(s.resource_schemas.contains_key("incus_instance"));
    assert!(s.resource_schemas.contains_key("incus_profile"));
    assert!(s.data_source_schemas.contains_key("incus_instance"));
    let inst = &s.resource_schemas["incus_instance"];
    let block = inst.block.as_ref().expect("block");
    let config = block
        .attributes
        .iter()
        .find(|a| a.name == "config")
        .expect("config");
    assert_eq!(config.r#type, br#"["map","string"]"#);
    assert!(config.optional && config.computed);
    assert!(block.block_types.iter().any(|b| b.type_name == "device"));
}

#[tokio::test]
async fn validation_errors_carry_attribute_paths() {
    let mut c = client().await;
    let mut cfg = obj(&[
        ("name", Value::string("bad_name")),
        ("image", Value::string("x")),
    ]);
    cfg.set_attr(
        "config",
        Value::from_string_map([("volatile.x".to_string(), "1".to_string())]),
    );
    let r = c
        .validate_resource_config(pb::validate_resource_config::Request {
            type_name: "incus_instance".into(),
            config: dv(&cfg),
            client_capabilities: None,
        })
        .await
        .expect("rpc")
        .into_inner();
    let paths: Vec<Vec<String>> = r
        .diagnostics
        .iter()
        .map(|d| {
            d.attribute
                .as_ref()
                .map(|p| {
                    p.steps
                        .iter()
                        .map(|s| format!("{:?}", s.selector))
                        .collect()
                })
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(r.diagnostics.len(), 2, "{:?}", r.diagnostics);
    assert!(
        paths.iter().any(|p| p.len() == 1 && p[0].contains("name")),
        "{paths:?}"
    );
    assert!(
        paths
            .iter()
            .any(|p| p.len() == 2 && p[1].contains("volatile.x")),
        "{paths:?}"
    );
}

#[tokio::test]
async fn plans_obey_terraforms_consistency_rules() {
    let mut c = client().await;
    let schema = floe_provider::resources::instance::schema();
    // Create: configured values planned as written, computed ones unknown or defaulted.
    let cfg = obj(&[
        ("name", Value::string("c1")),
        ("image", Value::string("local/debian12")),
        (
            "config",
            Value::from_string_map([("limits.cpu".to_string(), "2".to_string())]),
        ),
    ]);
    let r = c
        .plan_resource_change(pb::plan_resource_change::Request {
            type_name: "incus_instance".into(),
            prior_state: dv(&Value::Null),
            proposed_new_state: dv(&cfg),
            config: dv(&cfg),
            ..Default::default()
        })
        .await
        .expect("rpc")
        .into_inner();
    let planned = msgpack::decode(&r.planned_state.expect("planned").msgpack, &instance_type())
        .expect("decode");
    assert!(
        plan::check_plan_consistent(&schema.block, &cfg, &planned, &AttrPath::root()).is_empty()
    );
    assert_eq!(planned.attr("running"), &Value::Bool(true));
    assert_eq!(planned.attr("status"), &Value::Unknown);
    assert!(r.requires_replace.is_empty());

    // An applied state that keeps every known planned value passes the apply rule...
    let mut applied = planned.clone();
    for (k, v) in [
        ("status", "Running"),
        ("ipv4_address", ""),
        ("ipv6_address", ""),
        ("mac_address", "m"),
        ("location", "none"),
        ("architecture", "x86_64"),
    ] {
        applied.set_attr(k, Value::string(v));
    }
    assert!(plan::check_apply_consistent(&planned, &applied, &AttrPath::root()).is_empty());

    // ...and an image change is an update that requires replacement.
    let mut cfg2 = cfg.clone();
    cfg2.set_attr("image", Value::string("other"));
    let mut proposed = applied.clone();
    proposed.set_attr("image", Value::string("other"));
    let r = c
        .plan_resource_change(pb::plan_resource_change::Request {
            type_name: "incus_instance".into(),
            prior_state: dv(&applied),
            proposed_new_state: dv(&proposed),
            config: dv(&cfg2),
            ..Default::default()
        })
        .await
        .expect("rpc")
        .into_inner();
    let planned2 = msgpack::decode(&r.planned_state.expect("planned").msgpack, &instance_type())
        .expect("decode");
    assert!(
        plan::check_plan_consistent(&schema.block, &cfg2, &planned2, &AttrPath::root()).is_empty()
    );
    assert_eq!(r.requires_replace.len(), 1);
    // Unchanged computed values the change cannot affect keep their prior value.
    assert_eq!(planned2.attr("location"), &Value::string("none"));
    assert_eq!(planned2.attr("architecture"), &Value::string("x86_64"));

    // No change at all: the plan is the prior state, so Terraform shows no diff.
    let r = c
        .plan_resource_change(pb::plan_resource_change::Request {
            type_name: "incus_instance".into(),
            prior_state: dv(&applied),
            proposed_new_state: dv(&applied),
            config: dv(&cfg),
            ..Default::default()
        })
        .await
        .expect("rpc")
        .into_inner();
    let planned3 = msgpack::decode(&r.planned_state.expect("planned").msgpack, &instance_type())
        .expect("decode");
    assert_eq!(planned3, applied);
}

#[tokio::test]
async fn upgrade_state_converts_json_to_msgpack() {
    let mut c = client().await;
    let r = c
        .upgrade_resource_state(pb::upgrade_resource_state::Request {
            type_name: "incus_profile".into(),
            version: 0,
            raw_state: Some(pb::RawState {
                json: br#"{"name":"p","config":{"a":"b"},"device":[]}"#.to_vec(),
                flatmap: Default::default(),
            }),
        })
        .await
        .expect("rpc")
        .into_inner();
    let ty = floe_provider::resources::profile::schema().ty();
    let v = msgpack::decode(&r.upgraded_state.expect("state").msgpack, &ty).expect("decode");
    assert_eq!(v.attr("name"), &Value::string("p"));
    assert!(r.diagnostics.is_empty());
}

#[tokio::test]
async fn unimplemented_newer_rpcs_answer_unimplemented() {
    let mut c = client().await;
    let err = c
        .call_function(pb::call_function::Request {
            name: "anything".into(),
            arguments: vec![],
        })
        .await
        .expect_err("unimplemented");
    assert_eq!(err.code(), tonic::Code::Unimplemented);
    let err = c
        .upgrade_resource_identity(pb::upgrade_resource_identity::Request {
            type_name: "incus_instance".into(),
            ..Default::default()
        })
        .await
        .expect_err("unimplemented");
    assert_eq!(err.code(), tonic::Code::Unimplemented);
}

/// Newer clients ask for functions (6.5) and identity schemas (6.9) separately: both are
/// answered with the documented empty reply (we declare none).
#[tokio::test]
async fn functions_and_identity_schemas_are_empty() {
    let mut c = client().await;
    let f = c
        .get_functions(pb::get_functions::Request {})
        .await
        .expect("rpc")
        .into_inner();
    assert!(f.functions.is_empty() && f.diagnostics.is_empty());
    let i = c
        .get_resource_identity_schemas(pb::get_resource_identity_schemas::Request {})
        .await
        .expect("rpc")
        .into_inner();
    assert!(i.identity_schemas.is_empty() && i.diagnostics.is_empty());
}

/// What Terraform 1.11 sends (client capabilities) and 1.12 adds (prior identity) changes
/// nothing in a plan: the same planned state, no deferral, no identity in the answer.
#[tokio::test]
async fn plan_with_client_capabilities_and_identity_is_unchanged() {
    let mut c = client().await;
    let cfg = obj(&[
        ("name", Value::string("c1")),
        ("image", Value::string("local/debian12")),
    ]);
    let base = pb::plan_resource_change::Request {
        type_name: "incus_instance".into(),
        prior_state: dv(&Value::Null),
        proposed_new_state: dv(&cfg),
        config: dv(&cfg),
        ..Default::default()
    };
    let newer = pb::plan_resource_change::Request {
        client_capabilities: Some(pb::ClientCapabilities {
            deferral_allowed: true,
            write_only_attributes_allowed: true,
        }),
        prior_identity: Some(pb::ResourceIdentityData {
            identity_data: Some(pb::DynamicValue {
                msgpack: b"\x80".to_vec(),
                json: vec![],
            }),
        }),
        ..base.clone()
    };
    let old = c
        .plan_resource_change(base)
        .await
        .expect("rpc")
        .into_inner();
    let new = c
        .plan_resource_change(newer)
        .await
        .expect("rpc")
        .into_inner();
    assert!(new.diagnostics.is_empty(), "{:?}", new.diagnostics);
    assert_eq!(new.planned_state, old.planned_state);
    assert_eq!(new.requires_replace, old.requires_replace);
    assert!(new.deferred.is_none() && new.planned_identity.is_none());
}
