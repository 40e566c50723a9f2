//! Errors for unreachable or untrusted remotes name the remote and the fix.

use floe_provider::config::{ProviderData, api_error, schema};
use floe_provider::cty::Value;
use floe_provider::framework::Resource;
use floe_provider::resources::instance::Instance;

fn provider_block(remote_name: &str, address: &str) -> Value {
    let s = schema();
    let mut remote = Value::null_object(&s.block.blocks[0].block.ty());
    remote.set_attr("name", Value::string(remote_name));
    remote.set_attr("address", Value::string(address));
    let mut cfg = Value::null_object(&s.ty());
    cfg.set_attr("config_dir", Value::string("/nonexistent-floe-config"));
    cfg.set_attr("default_remote", Value::string(remote_name));
    cfg.set_attr("remote", Value::List(vec![remote]));
    cfg
}

#[tokio::test]
async fn unreachable_remote_names_remote_and_fix() {
    let (ctx, _) = ProviderData::configure(&provider_block("lab", "unix:///nonexistent/floe.sock"))
        .expect("configure");
    let mut state = Value::null_object(&floe_provider::resources::instance::schema().ty());
    state.set_attr("name", Value::string("c1"));
    let err = Instance.read(&ctx, &state).await.expect_err("must fail");
    let text = err.to_string();
    assert!(text.contains("\"lab\""), "{text}");
    assert!(text.contains("unreachable"), "{text}");
    assert!(text.contains("daemon is running"), "{text}");
}

#[test]
fn untrusted_remote_says_how_to_trust() {
    let (ctx, _) = ProviderData::configure(&provider_block("prod", "https://10.0.0.1:8443"))
        .expect("configure");
    let forbidden = incus_client::Error::Forbidden {
        method: "GET".into(),
        path: "/1.0/instances".into(),
        message: "not authorized".into(),
    };
    let text = api_error(&ctx, Some("prod"), "read instance", &forbidden).to_string();
    assert!(
        text.contains("\"prod\" does not trust this client"),
        "{text}"
    );
    assert!(
        text.contains("incus config trust add-certificate"),
        "{text}"
    );
    let tls = incus_client::Error::Transport {
        method: "GET".into(),
        path: "/1.0".into(),
        endpoint: "https://10.0.0.1:8443".into(),
        detail: "invalid peer certificate: UnknownIssuer".into(),
    };
    let text = api_error(&ctx, Some("prod"), "read instance", &tls).to_string();
    assert!(
        text.contains("incus remote add prod https://10.0.0.1:8443"),
        "{text}"
    );
}

#[test]
fn unknown_remote_on_a_resource_lists_known_ones() {
    let (ctx, _) = ProviderData::configure(&provider_block("lab", "unix://")).expect("configure");
    let err = ctx.client(Some("nope"), None).expect_err("unknown");
    let text = err.to_string();
    assert!(text.contains("Unknown remote \"nope\""), "{text}");
    assert!(text.contains("lab"), "{text}");
}
