//! The output convention, on `terraform output -json` fixtures (library API, no subprocess).

use inventory::{Error, Inventory, Options};
use serde_json::{Value, json};

/// Wraps bare values the way `terraform output -json` does: `{name: {sensitive, type, value}}`.
fn outputs(pairs: &[(&str, Value)]) -> String {
    outputs_sensitive(pairs, &[])
}

fn outputs_sensitive(pairs: &[(&str, Value)], sensitive: &[&str]) -> String {
    let mut doc = serde_json::Map::new();
    for (name, value) in pairs {
        doc.insert(
            (*name).to_owned(),
            json!({"sensitive": sensitive.contains(name), "type": "dynamic", "value": value}),
        );
    }
    Value::Object(doc).to_string()
}

fn build(json: &str) -> Inventory {
    Inventory::from_outputs_json(json).expect("valid outputs")
}

fn err(json: &str) -> String {
    Inventory::from_outputs_json(json)
        .expect_err("must fail")
        .to_string()
}

fn hosts(inv: &Inventory, group: &str) -> Vec<String> {
    inv.group(group)
        .map(|g| g.hosts.iter().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn list_of_names_and_group_vars() {
    let inv = build(&outputs(&[
        ("web_instances", json!(["web-1", "web-2"])),
        (
            "web_ansible_vars",
            json!({"http_port": 8080, "tags": ["a"]}),
        ),
        ("unrelated", json!("ignored")),
    ]));
    assert_eq!(hosts(&inv, "web"), ["web-1", "web-2"]);
    assert_eq!(
        inv.group("web").expect("web").vars["http_port"],
        json!(8080)
    );
    let list = inv.to_list_json();
    assert_eq!(list["all"]["children"], json!(["web"]));
    assert_eq!(list["web"]["hosts"], json!(["web-1", "web-2"]));
    assert_eq!(
        list["_meta"]["hostvars"]["web-1"],
        json!({"ansible_connection": "community.general.incus", "ansible_incus_host": "web-1"})
    );
    assert!(list.get("unrelated").is_none());
}

#[test]
fn map_of_objects_gives_addresses_projects_and_remotes() {
    let inv = build(&outputs(&[(
        "db_instances",
        json!({
            "db-1": {"ipv4_address": "10.123.0.5", "ipv6_address": "fd42::5", "project": "prod", "remote": "cluster01",
                     "status": "Running", "vars": {"role": "primary"}, "ansible_user": "root"},
            "db-2": {"ipv4_address": "", "ipv6_address": "fd42::6"},
            "db-3": null,
            "db-4": "10.123.0.8",
        }),
    )]));
    assert_eq!(hosts(&inv, "db"), ["db-1", "db-2", "db-3", "db-4"]);
    let v = &inv.host("db-1").expect("db-1").vars;
    assert_eq!(
        v["ansible_host"],
        json!("10.123.0.5"),
        "ipv4 preferred over ipv6"
    );
    assert_eq!(
        v["ansible_incus_host"],
        json!("db-1"),
        "connection targets the instance, not the address"
    );
    assert_eq!(v["ansible_incus_project"], json!("prod"));
    assert_eq!(v["ansible_incus_remote"], json!("cluster01"));
    assert_eq!(v["role"], json!("primary"));
    assert_eq!(v["ansible_user"], json!("root"));
    assert!(
        v.get("status").is_none(),
        "unknown attributes are not copied"
    );
    assert_eq!(
        inv.host("db-2").expect("db-2").vars["ansible_host"],
        json!("fd42::6"),
        "an empty ipv4 is not an address"
    );
    assert!(
        inv.host("db-3")
            .expect("db-3")
            .vars
            .get("ansible_host")
            .is_none()
    );
    assert_eq!(
        inv.host("db-4").expect("db-4").vars["ansible_host"],
        json!("10.123.0.8")
    );
}

#[test]
fn list_of_objects_and_resource_shaped_maps_use_the_name_attribute() {
    // `value = incus_instance.web` with for_each: keys are for_each keys, `name` is the instance.
    let inv = build(&outputs(&[
        (
            "web_instances",
            json!({"a": {"name": "web-a", "ipv4_address": "10.0.0.1", "config": {"x": "y"}}}),
        ),
        (
            "app_instances",
            json!([{"name": "app-1", "groups": ["blue"]}, {"name": "app-2", "project": "p"}]),
        ),
    ]));
    assert_eq!(hosts(&inv, "web"), ["web-a"]);
    assert_eq!(hosts(&inv, "app"), ["app-1", "app-2"]);
    assert_eq!(hosts(&inv, "blue"), ["app-1"], "extra groups from `groups`");
    assert_eq!(
        inv.host("app-2").expect("app-2").vars["ansible_incus_project"],
        json!("p")
    );
}

#[test]
fn sets_tuples_null_and_empty_lists() {
    let inv = build(&outputs(&[
        ("a_instances", json!(["x", "y"])), // set(string) / tuple: JSON arrays too
        ("b_instances", json!([])),         // count = 0
        ("c_instances", Value::Null),       // conditional output
        ("c_ansible_vars", json!({})),
    ]));
    assert_eq!(hosts(&inv, "a"), ["x", "y"]);
    assert!(inv.group("b").expect("b exists").hosts.is_empty());
    assert!(inv.group("c").is_some());
    assert_eq!(inv.hosts().count(), 2);
}

#[test]
fn host_in_several_groups_and_all_group() {
    let inv = build(&outputs(&[
        ("all_ansible_vars", json!({"env": "prod"})),
        ("all_instances", json!(["bastion"])),
        ("web_instances", json!(["h1"])),
        (
            "monitored_instances",
            json!({"h1": {"ipv4_address": "10.0.0.9"}}),
        ),
    ]));
    assert_eq!(inv.all_vars()["env"], json!("prod"));
    assert_eq!(inv.ungrouped_hosts(), ["bastion"]);
    assert_eq!(
        inv.host("h1").expect("h1").vars["ansible_host"],
        json!("10.0.0.9")
    );
    let list = inv.to_list_json();
    assert_eq!(list["ungrouped"]["hosts"], json!(["bastion"]));
    assert_eq!(list["all"]["vars"]["env"], json!("prod"));
    assert_eq!(
        list["all"]["children"],
        json!(["ungrouped", "web", "monitored"])
    );
}

#[test]
fn children_nest_groups_and_vars_resolve_by_depth() {
    let inv = build(&outputs(&[
        ("web_instances", json!(["w1"])),
        ("db_instances", json!(["d1"])),
        ("prod_children", json!(["web", "db"])),
        ("prod_ansible_vars", json!({"tier": "prod", "port": 1})),
        ("web_ansible_vars", json!({"port": 80})),
    ]));
    assert_eq!(inv.top_level_groups(), ["prod"]);
    assert_eq!(inv.hosts_of_group("prod"), ["w1", "d1"]);
    let w1 = inv.resolved_host_vars("w1").expect("w1");
    assert_eq!(w1["port"], json!(80));
    assert_eq!(w1["tier"], json!("prod"));
    assert_eq!(
        inv.to_graph(),
        "@all:\n  |--@prod:\n  |  |--@web:\n  |  |  |--w1\n  |  |--@db:\n  |  |  |--d1\n"
    );
}

#[test]
fn structured_ansible_inventory_output() {
    let inv = build(&outputs(&[(
        "ansible_inventory",
        json!({
            "vars": {"ansible_python_interpreter": "/usr/bin/python3"},
            "hosts": {
                "web-1": {"ipv4_address": "10.0.0.1", "groups": ["web"], "vars": {"weight": 3}},
                "db-1": {"groups": ["db"], "project": "data"}
            },
            "groups": {
                "prod": {"children": ["web", "db"], "vars": {"tier": "prod"}},
                "web": {"vars": {"port": 80}, "hosts": ["web-2"]},
                "empty": null
            }
        }),
    )]));
    assert_eq!(hosts(&inv, "web"), ["web-2", "web-1"]);
    assert_eq!(hosts(&inv, "db"), ["db-1"]);
    assert_eq!(inv.group("prod").expect("prod").children.len(), 2);
    assert!(inv.group("empty").is_some());
    assert_eq!(
        inv.all_vars()["ansible_python_interpreter"],
        json!("/usr/bin/python3")
    );
    let w = &inv.host("web-1").expect("web-1").vars;
    assert_eq!(w["weight"], json!(3));
    assert_eq!(w["ansible_host"], json!("10.0.0.1"));
    assert_eq!(
        inv.host("db-1").expect("db-1").vars["ansible_incus_project"],
        json!("data")
    );
}

#[test]
fn unicode_names() {
    let inv = build(&outputs(&[
        ("café_instances", json!(["hôte-é", "服务器"])),
        ("base-données_instances", json!({"сервер": {}})),
    ]));
    // `café` is a valid Python identifier, `base-données` is not (the hyphen).
    assert_eq!(hosts(&inv, "café"), ["hôte-é", "服务器"]);
    assert_eq!(hosts(&inv, "base_données"), ["сервер"]);
    assert_eq!(inv.warnings().len(), 1);
    assert!(
        inv.warnings()[0].contains("`base-données`")
            && inv.warnings()[0].contains("`base_données`")
    );
    let yaml = inv.to_yaml().expect("yaml");
    assert!(yaml.contains("服务器"), "{yaml}");
}

#[test]
fn invalid_group_names_are_renamed_like_ansible() {
    let inv = build(&outputs(&[
        ("web-servers_instances", json!(["a"])),
        ("web-servers_ansible_vars", json!({"x": 1})),
        ("1st_instances", json!(["b"])),
        ("web.servers_instances", json!(["c"])),
    ]));
    assert_eq!(inv.group("web_servers").expect("g").vars["x"], json!(1));
    assert_eq!(hosts(&inv, "_st"), ["b"]);
    assert_eq!(
        hosts(&inv, "web_servers"),
        ["a", "c"],
        "names that collide are merged, like Ansible"
    );
    let w = inv.warnings();
    assert_eq!(w.len(), 3, "one per renamed group plus the merge: {w:?}");
    assert!(w[2].contains("`web-servers` and `web.servers`"), "{w:?}");
}

#[test]
fn options_and_incus_outputs_set_remote_and_project() {
    let json = outputs(&[
        ("incus_remote", json!("cluster01")),
        ("incus_project", json!("default-proj")),
        ("web_instances", json!({"w1": {"project": "own"}, "w2": {}})),
        ("db_instances", json!(["d1"])),
        (
            "db_ansible_vars",
            json!({"ansible_incus_project": "from-group"}),
        ),
    ]);
    let inv = build(&json);
    assert_eq!(
        inv.host("w1").expect("w1").vars["ansible_incus_project"],
        json!("own")
    );
    assert_eq!(
        inv.host("w2").expect("w2").vars["ansible_incus_project"],
        json!("default-proj")
    );
    assert_eq!(
        inv.host("w2").expect("w2").vars["ansible_incus_remote"],
        json!("cluster01")
    );
    // A group var must not be shadowed by a default written as a host var.
    assert!(
        inv.host("d1")
            .expect("d1")
            .vars
            .get("ansible_incus_project")
            .is_none()
    );
    assert_eq!(
        inv.resolved_host_vars("d1").expect("d1")["ansible_incus_project"],
        json!("from-group")
    );

    let opts = Options {
        incus_remote: Some("flag-remote".into()),
        incus_project: Some("flag-proj".into()),
        ..Options::default()
    };
    let inv = Inventory::from_outputs_json_with(&json, "t", &opts).expect("ok");
    for h in ["w1", "w2", "d1"] {
        let v = &inv.host(h).expect("host").vars;
        assert_eq!(v["ansible_incus_project"], json!("flag-proj"), "{h}");
        assert_eq!(v["ansible_incus_remote"], json!("flag-remote"), "{h}");
    }

    let opts = Options {
        connection: None,
        ..Options::default()
    };
    let inv = Inventory::from_outputs_json_with(&json, "t", &opts).expect("ok");
    assert!(
        inv.host("w2").expect("w2").vars.is_empty(),
        "no connection, no incus vars"
    );
}

#[test]
fn group_connection_var_is_not_overridden_by_host_default() {
    let inv = build(&outputs(&[
        ("legacy_instances", json!(["old"])),
        ("legacy_ansible_vars", json!({"ansible_connection": "ssh"})),
    ]));
    assert!(
        inv.host("old")
            .expect("old")
            .vars
            .get("ansible_connection")
            .is_none()
    );
    assert_eq!(
        inv.resolved_host_vars("old").expect("old")["ansible_connection"],
        json!("ssh")
    );
}

// ---- bad input --------------------------------------------------------------------------------

#[test]
fn no_outputs_names_the_fix() {
    let msg = err("{}");
    assert!(msg.contains("no outputs") && msg.contains("apply"), "{msg}");
}

#[test]
fn outputs_without_convention_are_listed() {
    let msg = err(&outputs(&[("project", json!("p")), ("url", json!("u"))]));
    assert!(msg.contains("found: project, url"), "{msg}");
    assert!(msg.contains("<group>_instances"), "{msg}");
}

#[test]
fn instances_that_is_a_number() {
    let msg = err(&outputs(&[("web_instances", json!(3))]));
    assert!(
        msg.contains("output `web_instances` has the wrong shape at `web_instances`"),
        "{msg}"
    );
    assert!(msg.contains("found a number"), "{msg}");
    assert!(msg.contains("Fix:"), "{msg}");
}

#[test]
fn wrong_shapes_inside_are_located() {
    let msg = err(&outputs(&[("web_instances", json!(["ok", 7]))]));
    assert!(
        msg.contains("`web_instances[1]`") && msg.contains("found a number"),
        "{msg}"
    );
    let msg = err(&outputs(&[("web_instances", json!({"w": {"project": 5}}))]));
    assert!(msg.contains("`web_instances[\"w\"].project`"), "{msg}");
    let msg = err(&outputs(&[(
        "web_instances",
        json!([{"ipv4_address": "1.2.3.4"}]),
    )]));
    assert!(msg.contains("without `name`"), "{msg}");
    let msg = err(&outputs(&[("web_instances", json!({"w": "running"}))]));
    assert!(msg.contains("not an IP address"), "{msg}");
    let msg = err(&outputs(&[("web_instances", json!([""]))]));
    assert!(msg.contains("empty"), "{msg}");
    let msg = err(&outputs(&[
        ("web_instances", json!([])),
        ("web_ansible_vars", json!(["x"])),
    ]));
    assert!(
        msg.contains("`web_ansible_vars`") && msg.contains("found a list"),
        "{msg}"
    );
    let msg = err(&outputs(&[("ansible_inventory", json!({"host": {}}))]));
    assert!(
        msg.contains("unknown key") && msg.contains(".host`"),
        "{msg}"
    );
    let msg = err(&outputs(&[
        ("web_instances", json!([])),
        ("web_children", json!(["all"])),
    ]));
    assert!(msg.contains("`all`"), "{msg}");
}

#[test]
fn group_cycles_are_rejected() {
    let msg = err(&outputs(&[
        ("a_instances", json!([])),
        ("a_children", json!(["b"])),
        ("b_children", json!(["a"])),
    ]));
    assert!(msg.contains("its own ancestor"), "{msg}");
    assert!(
        msg.contains("a -> b -> a") || msg.contains("b -> a -> b"),
        "{msg}"
    );
}

#[test]
fn errors_never_echo_sensitive_values_or_keys() {
    let secret = "hunter2-very-secret";
    let cases = [
        json!({ secret: "running" }),            // bad value under a secret key
        json!([{"name": secret, "project": 1}]), // bad attribute next to a secret name
        json!({ secret: {"vars": secret} }),     // vars not an object
    ];
    for value in cases {
        let json = outputs_sensitive(&[("web_instances", value.clone())], &["web_instances"]);
        let msg = err(&json);
        assert!(!msg.contains(secret), "leaked in: {msg}");
        assert!(msg.contains("web_instances"), "{msg}");
    }
    // A sensitive value with the wrong type: only its kind is named.
    let json = outputs_sensitive(
        &[
            ("web_instances", json!([])),
            ("web_ansible_vars", json!(secret)),
        ],
        &["web_ansible_vars"],
    );
    let msg = err(&json);
    assert!(
        !msg.contains(secret) && msg.contains("found a string"),
        "{msg}"
    );
}

#[test]
fn sensitive_values_are_used_unless_omitted() {
    let json = outputs_sensitive(
        &[
            ("web_instances", json!(["w"])),
            ("web_ansible_vars", json!({"token": "t0k"})),
        ],
        &["web_ansible_vars"],
    );
    let inv = build(&json);
    assert_eq!(inv.group("web").expect("web").vars["token"], json!("t0k"));
    let opts = Options {
        omit_sensitive: true,
        ..Options::default()
    };
    let inv = Inventory::from_outputs_json_with(&json, "t", &opts).expect("ok");
    assert!(inv.group("web").expect("web").vars.is_empty());
    assert!(
        inv.warnings()
            .iter()
            .any(|w| w.contains("`web_ansible_vars` is sensitive"))
    );
    assert!(!inv.warnings().iter().any(|w| w.contains("t0k")));
}

#[test]
fn host_json_and_unknown_host() {
    let inv = build(&outputs(&[(
        "web_instances",
        json!({"w": {"ipv4_address": "10.0.0.1"}}),
    )]));
    assert_eq!(
        inv.host_json("w").expect("w")["ansible_host"],
        json!("10.0.0.1")
    );
    match inv.host_json("nope") {
        Err(Error::UnknownHost { name, count }) => assert_eq!((name.as_str(), count), ("nope", 1)),
        other => panic!("expected UnknownHost, got {other:?}"),
    }
}

#[test]
fn yaml_has_every_group_once_and_hostvars_once() {
    let inv = build(&outputs(&[
        ("web_instances", json!({"w1": {"ipv4_address": "10.0.0.1"}})),
        ("db_instances", json!(["w1", "d1"])),
        ("prod_children", json!(["web", "db"])),
        ("dr_children", json!(["db"])),
        ("all_instances", json!(["lone"])),
    ]));
    let yaml = inv.to_yaml().expect("yaml");
    let doc: Value = serde_norway::from_str(&yaml).expect("valid yaml");
    let all = &doc["all"]["children"];
    assert_eq!(
        all["ungrouped"]["hosts"]["lone"]["ansible_incus_host"],
        json!("lone")
    );
    assert_eq!(
        all["prod"]["children"]["web"]["hosts"]["w1"]["ansible_host"],
        json!("10.0.0.1")
    );
    assert_eq!(
        all["prod"]["children"]["db"]["hosts"]["w1"],
        json!({}),
        "hostvars written once"
    );
    assert_eq!(
        all["dr"]["children"]["db"],
        json!({}),
        "group body written once"
    );
}
