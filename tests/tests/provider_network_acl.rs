//! `incus_network_acl` end to end with the real Terraform: ingress/egress rules as nested
//! attribute sets (apply, empty plan, in-place update, out-of-band rule detected as drift,
//! import `project/name` without diff, destroy), and a bad action rejected with a located
//! error before anything is created.

use floe_e2e::incus::try_incus;
use floe_e2e::terraform::Workspace;

/// Deletes the ACL on drop, also when the test fails half way.
struct AclGuard {
    name: String,
    project: String,
}
impl Drop for AclGuard {
    fn drop(&mut self) {
        let _ = try_incus(&[
            "network",
            "acl",
            "delete",
            &self.name,
            "--project",
            &self.project,
        ]);
    }
}

fn acl_json(name: &str, project: &str) -> serde_json::Value {
    let out = try_incus(&[
        "query",
        &format!("/1.0/network-acls/{name}?project={project}"),
    ])
    .expect("query ACL");
    serde_json::from_str(&out).expect("ACL json")
}

fn hcl(name: &str, project: &str, extra_ingress: &str) -> String {
    format!(
        r#"
resource "incus_network_acl" "web" {{
  name        = "{name}"
  project     = "{project}"
  description = "e2e acl"
  config = {{
    "user.owner" = "e2e"
  }}

  ingress = [
    {{
      action           = "allow"
      state            = "enabled"
      protocol         = "tcp"
      destination_port = "80,443"
      description      = "web"
    }},
    {{
      action = "reject"
      state  = "logged"
      source = "10.99.0.0/16"
    }},{extra_ingress}
  ]

  egress = [
    {{
      action           = "allow"
      state            = "enabled"
      protocol         = "udp"
      destination      = "10.123.0.1"
      destination_port = "53"
    }},
  ]
}}
"#
    )
}

#[test]
fn acl_lifecycle_drift_import_and_destroy() {
    let ws = Workspace::new("acl");
    let p = ws.project().to_string();
    let name = floe_e2e::unique("facl");
    let _g = AclGuard {
        name: name.clone(),
        project: p.clone(),
    };

    ws.write_main(&hcl(&name, &p, ""));
    ws.apply().assert_success();
    let acl = acl_json(&name, &p);
    assert_eq!(acl["description"], "e2e acl");
    assert_eq!(acl["config"]["user.owner"], "e2e");
    assert_eq!(acl["ingress"].as_array().unwrap().len(), 2, "{acl}");
    assert_eq!(acl["egress"][0]["destination_port"], "53");
    // Unset fields are empty (or omitted) on the server.
    assert_eq!(acl["egress"][0]["source"].as_str().unwrap_or(""), "");
    ws.assert_no_diff();

    // In place: one more ingress rule.
    let more = r#"
    {
      action           = "allow"
      state            = "enabled"
      protocol         = "icmp4"
      icmp_type        = "8"
    },"#;
    ws.write_main(&hcl(&name, &p, more));
    let plan = ws.plan();
    assert!(
        plan.flat()
            .contains("incus_network_acl.web will be updated in-place"),
        "{}",
        plan.all()
    );
    ws.apply().assert_success();
    let acl = acl_json(&name, &p);
    let ingress = acl["ingress"].as_array().unwrap();
    assert_eq!(ingress.len(), 3, "{acl}");
    assert!(
        ingress
            .iter()
            .any(|r| r["protocol"] == "icmp4" && r["icmp_type"] == "8")
    );
    ws.assert_no_diff();

    // Out of band: a rule added with the CLI is drift, and apply removes it.
    try_incus(&[
        "network",
        "acl",
        "rule",
        "add",
        &name,
        "egress",
        "action=drop",
        "protocol=tcp",
        "destination_port=25",
        "--project",
        &p,
    ])
    .expect("incus network acl rule add");
    let drift = ws.plan_exitcode();
    assert_eq!(drift.code, 2, "{}", drift.all());
    assert!(drift.flat().contains("\"25\""), "{}", drift.all());
    ws.apply().assert_success();
    assert_eq!(acl_json(&name, &p)["egress"].as_array().unwrap().len(), 1);
    ws.assert_no_diff();

    // Import by `project/name` plans clean.
    ws.run(&["state", "rm", "incus_network_acl.web"])
        .assert_success();
    ws.import("incus_network_acl.web", &format!("{p}/{name}"))
        .assert_success();
    ws.assert_no_diff();

    ws.destroy().assert_success();
    assert!(
        try_incus(&["network", "acl", "show", &name, "--project", &p]).is_err(),
        "ACL left after destroy"
    );
}

#[test]
fn invalid_action_is_a_located_error_and_creates_nothing() {
    let ws = Workspace::new("aclbad");
    let p = ws.project().to_string();
    let name = floe_e2e::unique("facl");
    let _g = AclGuard {
        name: name.clone(),
        project: p.clone(),
    };
    ws.write_main(&format!(
        r#"
resource "incus_network_acl" "bad" {{
  name    = "{name}"
  project = "{p}"
  ingress = [
    {{
      action = "permit"
      state  = "enabled"
    }},
  ]
}}
"#
    ));
    let out = ws.apply();
    out.assert_failure();
    let all = out.all();
    assert!(all.contains("permit"), "{all}");
    assert!(
        all.contains("allow-stateless"),
        "lists the valid actions: {all}"
    );
    // Located: Terraform shows the resource and the attribute in the config.
    assert!(all.contains("incus_network_acl.bad"), "{all}");
    assert!(all.contains("on main.tf line"), "{all}");
    assert!(
        try_incus(&["network", "acl", "show", &name, "--project", &p]).is_err(),
        "ACL created despite the error"
    );
}

#[test]
fn data_source_reads_rules_made_with_the_cli() {
    let ws = Workspace::new("acldata");
    let p = ws.project().to_string();
    let name = floe_e2e::unique("facl");
    let _g = AclGuard {
        name: name.clone(),
        project: p.clone(),
    };
    try_incus(&["network", "acl", "create", &name, "--project", &p]).expect("acl create");
    try_incus(&[
        "network",
        "acl",
        "rule",
        "add",
        &name,
        "ingress",
        "action=allow",
        "state=enabled",
        "protocol=tcp",
        "destination_port=22",
        "--project",
        &p,
    ])
    .expect("rule add");
    ws.write_main(&format!(
        r#"
data "incus_network_acl" "a" {{
  name    = "{name}"
  project = "{p}"
}}

output "ingress" {{
  value = data.incus_network_acl.a.ingress
}}

output "egress_count" {{
  value = length(data.incus_network_acl.a.egress)
}}
"#
    ));
    ws.apply().assert_success();
    let out = ws.run(&["output", "-json"]);
    out.assert_success();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("output json");
    let ingress = &v["ingress"]["value"];
    assert_eq!(ingress.as_array().map(Vec::len), Some(1), "{v}");
    assert_eq!(ingress[0]["action"], "allow");
    assert_eq!(ingress[0]["destination_port"], "22");
    assert!(ingress[0]["source"].is_null(), "{v}");
    assert_eq!(v["egress_count"]["value"], 0);

    // A missing ACL is an error on `name`.
    ws.write_main(&format!(
        "data \"incus_network_acl\" \"a\" {{\n  name    = \"{name}-missing\"\n  project = \"{p}\"\n}}\n"
    ));
    let bad = ws.plan();
    bad.assert_failure();
    assert!(bad.all().contains("not found"), "{}", bad.all());
}

#[test]
fn rule_rejected_by_incus_points_at_the_direction_and_creates_nothing() {
    let ws = Workspace::new("aclsrv");
    let p = ws.project().to_string();
    let name = floe_e2e::unique("facl");
    let _g = AclGuard {
        name: name.clone(),
        project: p.clone(),
    };
    // Valid for the schema, rejected by Incus: a port without tcp/udp.
    ws.write_main(&format!(
        r#"
resource "incus_network_acl" "bad" {{
  name    = "{name}"
  project = "{p}"
  egress = [
    {{
      action           = "allow"
      state            = "enabled"
      destination_port = "80"
    }},
  ]
}}
"#
    ));
    let out = ws.apply();
    out.assert_failure();
    let all = out.all();
    assert!(all.contains("egress"), "{all}");
    assert!(
        all.contains(&format!("create network ACL \"{name}\"")),
        "{all}"
    );
    assert!(all.contains("on main.tf line"), "not located: {all}");
    assert!(
        try_incus(&["network", "acl", "show", &name, "--project", &p]).is_err(),
        "ACL created despite the error"
    );
    assert!(ws.state_list().is_empty(), "{:?}", ws.state_list());
}
