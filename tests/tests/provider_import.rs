//! `terraform import` with the Go provider's ID formats round-trips with no diff.

use floe_e2e::terraform::Workspace;

#[test]
fn import_cli_created_instance_and_profile_without_diff() {
    let ws = Workspace::new("imp");
    let image = floe_e2e::image();
    let cli1 = ws.project.unique_name("cli1");
    ws.project.incus(&["profile", "create", "extra"]);
    ws.project
        .incus(&["profile", "set", "extra", "user.tier=db"]);
    ws.project.launch(
        &image,
        &cli1,
        &[
            "--profile",
            "default",
            "--profile",
            "extra",
            "-c",
            "user.owner=cli",
        ],
    );

    let p = ws.project();
    ws.write_main(&format!(
        r#"
resource "incus_profile" "extra" {{
  name    = "extra"
  project = "{p}"
  config  = {{ "user.tier" = "db" }}
}}

resource "incus_instance" "cli1" {{
  name     = "{cli1}"
  project  = "{p}"
  image    = "{image}"
  profiles = ["default", "extra"]
  config   = {{ "user.owner" = "cli" }}
}}
"#
    ));
    // Bad IDs are explained.
    let bad = ws.import("incus_instance.cli1", "a/b/c,colour=blue");
    bad.assert_failure();
    assert!(bad.flat().contains("Invalid import ID"), "{}", bad.all());
    assert!(
        bad.flat().contains("[remote:][project/]name"),
        "{}",
        bad.all()
    );
    assert!(ws.state_list().is_empty(), "a failed import adds nothing");

    // `[remote:][project/]name` for both; the image is found through volatile.base_image.
    ws.import("incus_profile.extra", &format!("local:{p}/extra"))
        .assert_success();
    let out = ws.import("incus_instance.cli1", &format!("{p}/{cli1}"));
    out.assert_success();
    let state = ws.resource_values("incus_instance.cli1").expect("imported");
    assert_eq!(
        state["image"],
        image.as_str(),
        "image read back from volatile.base_image"
    );
    assert_eq!(state["status"], "Running");
    ws.assert_no_diff();
}

#[test]
fn import_with_explicit_image_option() {
    let ws = Workspace::new("impimg");
    let image = floe_e2e::image();
    let alias = ws.project.image_alias(&image);
    ws.project.incus(&["init", &image, "c2"]);
    let p = ws.project();
    ws.write_main(&format!(
        r#"
resource "incus_instance" "c2" {{
  name    = "c2"
  project = "{p}"
  image   = "{alias}"
  running = false
}}
"#
    ));
    ws.import("incus_instance.c2", &format!("{p}/c2,image={alias}"))
        .assert_success();
    ws.assert_no_diff();
}
