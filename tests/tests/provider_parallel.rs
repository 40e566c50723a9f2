//! Dependent resources, data sources, and 10 instances applied with -parallelism=10.

use floe_e2e::terraform::Workspace;

#[test]
fn ten_instances_in_parallel_with_a_shared_profile() {
    let ws = Workspace::new("par");
    let p = ws.project();
    let image = floe_e2e::image();
    ws.write_main(&format!(
        r#"
resource "incus_profile" "shared" {{
  name    = "shared"
  project = "{p}"
  config  = {{ "user.fleet" = "yes" }}
}}

resource "incus_instance" "n" {{
  count    = 10
  name     = "n${{count.index}}"
  project  = "{p}"
  image    = "{image}"
  profiles = ["default", incus_profile.shared.name]
  running  = false
}}

data "incus_profile" "shared" {{
  name    = incus_profile.shared.name
  project = "{p}"
}}

data "incus_instance" "first" {{
  name    = incus_instance.n[0].name
  project = "{p}"
}}

output "fleet" {{
  value = data.incus_profile.shared.config["user.fleet"]
}}

output "first_profiles" {{
  value = data.incus_instance.first.profiles
}}
"#
    ));
    ws.apply_args(&["-parallelism=10"]).assert_success();
    let mut names = ws.project.instances();
    names.sort();
    assert_eq!(names.len(), 10, "{names:?}");
    let out = ws.run(&["output", "-json"]);
    let outputs: serde_json::Value = serde_json::from_str(&out.stdout).expect("output json");
    assert_eq!(outputs["fleet"]["value"], "yes");
    assert_eq!(
        outputs["first_profiles"]["value"],
        serde_json::json!(["default", "shared"])
    );
    ws.assert_no_diff();
    ws.run(&["destroy", "-auto-approve", "-no-color", "-parallelism=10"])
        .assert_success();
    assert!(ws.project.instances().is_empty());
    assert_eq!(ws.project.profiles(), vec!["default".to_string()]);
}
