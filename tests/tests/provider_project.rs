//! `incus_project` end to end (apply, empty plan, in-place update, drift, import without
//! diff, force_destroy of a non-empty project that leaves the default project alone) and the
//! data sources of this family reading what Terraform created.

use floe_e2e::incus::{incus, try_incus};
use floe_e2e::terraform::Workspace;

struct ProjectGuard(String);
impl Drop for ProjectGuard {
    fn drop(&mut self) {
        // Only when the test failed half-way: normally the project is already gone.
        let Ok(vols) = try_incus(&[
            "storage",
            "volume",
            "list",
            "default",
            "--project",
            &self.0,
            "-f",
            "csv",
            "-c",
            "tn",
        ]) else {
            return;
        };
        for v in vols.lines().filter_map(|l| l.strip_prefix("custom,")) {
            let _ = try_incus(&[
                "storage",
                "volume",
                "delete",
                "default",
                v,
                "--project",
                &self.0,
            ]);
        }
        let _ = try_incus(&["project", "delete", &self.0]);
    }
}

fn project_get(p: &str, key: &str) -> String {
    incus(&["project", "get", p, key]).trim().to_string()
}

#[test]
fn project_lifecycle_drift_import_force_destroy() {
    let ws = Workspace::new("proj");
    let name = floe_e2e::unique("floe-e2e-prj");
    let _guard = ProjectGuard(name.clone());
    let hcl = |limit: u32, force: bool| {
        format!(
            r#"
resource "incus_project" "p" {{
  name          = "{name}"
  description   = "e2e project"
  force_destroy = {force}
  config = {{
    "features.profiles" = false
    "limits.instances"  = {limit}
  }}
}}

data "incus_project" "p" {{
  name = incus_project.p.name
}}

output "features_images" {{
  value = data.incus_project.p.config["features.images"]
}}
"#
        )
    };
    ws.write_main(&hcl(5, false));
    ws.apply().assert_success();
    assert_eq!(project_get(&name, "limits.instances"), "5");
    assert_eq!(project_get(&name, "features.profiles"), "false");
    // Incus' own features.* defaults are not tracked: no diff. The data source sees them.
    let out = ws.run(&["output", "-raw", "features_images"]);
    assert_eq!(out.stdout.trim(), "true", "{}", out.all());
    ws.assert_no_diff();

    ws.write_main(&hcl(6, false));
    let plan = ws.plan();
    assert!(
        plan.flat()
            .contains("incus_project.p will be updated in-place"),
        "{}",
        plan.all()
    );
    ws.apply().assert_success();
    assert_eq!(project_get(&name, "limits.instances"), "6");
    ws.assert_no_diff();

    incus(&["project", "set", &name, "limits.cpu=4"]);
    let drift = ws.plan_exitcode();
    assert_eq!(drift.code, 2, "{}", drift.all());
    assert!(
        drift.flat().contains("\"limits.cpu\" = \"4\" -> null"),
        "{}",
        drift.all()
    );
    ws.apply().assert_success();
    assert_eq!(project_get(&name, "limits.cpu"), "");

    // Import: features.profiles=false differs from Incus' default, so it is tracked.
    ws.run(&["state", "rm", "incus_project.p"]).assert_success();
    ws.import("incus_project.p", &name).assert_success();
    ws.assert_no_diff();

    // Not empty: a plain destroy fails with advice; force_destroy empties it.
    incus(&[
        "storage",
        "volume",
        "create",
        "default",
        "leftover",
        "--project",
        &name,
    ]);
    let out = ws.destroy();
    out.assert_failure();
    assert!(out.flat().contains("force_destroy = true"), "{}", out.all());
    ws.write_main(&hcl(6, true));
    ws.apply().assert_success();
    let profiles_before = incus(&["profile", "list", "-f", "csv", "-c", "n"]);
    ws.destroy().assert_success();
    assert!(
        try_incus(&["project", "show", &name]).is_err(),
        "project left after destroy"
    );
    // The default project (whose profiles this project used) is untouched.
    assert_eq!(
        incus(&["profile", "list", "-f", "csv", "-c", "n"]),
        profiles_before
    );
}

#[test]
fn storage_and_network_data_sources() {
    let ws = Workspace::new("ds");
    let p = ws.project().to_string();
    ws.project.incus(&[
        "storage",
        "volume",
        "create",
        "default",
        "dsvol",
        "size=1GiB",
    ]);
    ws.write_main(&format!(
        r#"
data "incus_storage_pool" "default" {{
  name = "default"
}}

data "incus_storage_volume" "v" {{
  name         = "dsvol"
  type         = "custom"
  storage_pool = data.incus_storage_pool.default.name
  project      = "{p}"
}}

data "incus_network" "br" {{
  name = "incusbr0"
}}

output "driver" {{ value = data.incus_storage_pool.default.driver }}
output "size" {{ value = data.incus_storage_volume.v.config["size"] }}
output "content" {{ value = data.incus_storage_volume.v.content_type }}
output "net_type" {{ value = data.incus_network.br.type }}
output "managed" {{ value = data.incus_network.br.managed }}
"#
    ));
    ws.apply().assert_success();
    let out = |n: &str| ws.run(&["output", "-raw", n]).stdout.trim().to_string();
    // The testbed's pool is a `dir` pool (scripts/testbed.sh).
    assert_eq!(out("driver"), "dir");
    assert_eq!(out("size"), "1GiB");
    assert_eq!(out("content"), "filesystem");
    assert_eq!(out("net_type"), "bridge");
    assert_eq!(out("managed"), "true");

    // A missing object is a located error.
    ws.write_main(
        r#"
data "incus_network" "nope" {
  name = "floe-no-such-net"
}
"#,
    );
    let bad = ws.plan();
    bad.assert_failure();
    assert!(
        bad.flat()
            .contains("Network \"floe-no-such-net\" not found"),
        "{}",
        bad.all()
    );
    ws.project
        .incus(&["storage", "volume", "delete", "default", "dsvol"]);
}
