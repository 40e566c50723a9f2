//! Bad input gives a located, readable error and loses nothing: no orphan instance, no
//! half state, other resources stay in state.

use floe_e2e::terraform::Workspace;

fn good(ws: &Workspace) -> String {
    format!(
        r#"
resource "incus_profile" "keep" {{
  name    = "keep"
  project = "{}"
}}
"#,
        ws.project()
    )
}

#[test]
fn invalid_values_are_rejected_at_plan_time_with_their_location() {
    let ws = Workspace::new("bad");
    let p = ws.project();
    let image = floe_e2e::image();
    ws.write_main(&good(&ws));
    ws.apply().assert_success();

    // An invalid device type.
    ws.write_main(&format!(
        r#"{}
resource "incus_instance" "c" {{
  name    = "c1"
  project = "{p}"
  image   = "{image}"
  device {{
    name       = "d"
    type       = "floppy"
    properties = {{ path = "/x" }}
  }}
}}
"#,
        good(&ws)
    ));
    let out = ws.plan();
    out.assert_failure();
    let text = out.flat();
    assert!(text.contains(r#"Invalid value "floppy""#), "{text}");
    assert!(text.contains("must be one of: none, disk, nic"), "{text}");
    assert!(
        text.contains("on main.tf line"),
        "located in the source: {text}"
    );

    // A name with illegal characters.
    ws.write_main(&format!(
        r#"{}
resource "incus_instance" "c" {{
  name    = "web_1.example"
  project = "{p}"
  image   = "{image}"
}}
"#,
        good(&ws)
    ));
    let out = ws.plan();
    out.assert_failure();
    let text = out.flat();
    assert!(text.contains(r#"Invalid name "web_1.example""#), "{text}");
    assert!(text.contains("letters, digits and hyphens"), "{text}");
    assert!(
        text.contains("name = \"web_1.example\""),
        "points at the attribute: {text}"
    );

    // A server-owned config key.
    ws.write_main(&format!(
        r#"{}
resource "incus_instance" "c" {{
  name    = "c1"
  project = "{p}"
  image   = "{image}"
  config  = {{ "volatile.uuid" = "x" }}
}}
"#,
        good(&ws)
    ));
    let out = ws.plan();
    out.assert_failure();
    assert!(out.flat().contains("is managed by Incus"), "{}", out.all());

    // Nothing was lost.
    assert_eq!(ws.state_list(), vec!["incus_profile.keep".to_string()]);
    assert!(ws.project.instances().is_empty());
}

#[test]
fn unknown_image_and_duplicate_name_fail_at_apply_without_orphans() {
    let ws = Workspace::new("badapply");
    let p = ws.project();
    let image = floe_e2e::image();
    ws.write_main(&good(&ws));
    ws.apply().assert_success();

    // An unknown image.
    ws.write_main(&format!(
        r#"{}
resource "incus_instance" "c" {{
  name    = "c1"
  project = "{p}"
  image   = "no-such-image"
}}
"#,
        good(&ws)
    ));
    let out = ws.apply();
    out.assert_failure();
    let text = out.flat();
    assert!(
        text.contains(r#"Image "no-such-image" not found"#),
        "{text}"
    );
    assert!(
        text.contains("incus image list"),
        "says what is valid: {text}"
    );
    assert!(
        text.contains("image = \"no-such-image\""),
        "points at the attribute: {text}"
    );
    assert!(
        ws.project.instances().is_empty(),
        "no orphan: {:?}",
        ws.project.instances()
    );
    assert_eq!(
        ws.state_list(),
        vec!["incus_profile.keep".to_string()],
        "no half state"
    );

    // A duplicate name: the existing instance is not touched and not adopted.
    ws.project
        .incus(&["init", &image, "taken", "-c", "user.owner=someone-else"]);
    ws.write_main(&format!(
        r#"{}
resource "incus_instance" "c" {{
  name    = "taken"
  project = "{p}"
  image   = "{image}"
}}
"#,
        good(&ws)
    ));
    let out = ws.apply();
    out.assert_failure();
    let text = out.flat();
    assert!(
        text.contains(r#"Instance "taken" already exists"#),
        "{text}"
    );
    assert!(
        text.contains("terraform import"),
        "suggests the fix: {text}"
    );
    assert_eq!(
        ws.project
            .incus(&["config", "get", "taken", "user.owner"])
            .trim(),
        "someone-else"
    );
    assert_eq!(ws.state_list(), vec!["incus_profile.keep".to_string()]);

    // A failure after creation (file upload into a missing directory) removes the instance.
    let c3 = ws.project.unique_name("c3");
    ws.write_main(&format!(
        r#"{}
resource "incus_instance" "c" {{
  name    = "{c3}"
  project = "{p}"
  image   = "{image}"
  file {{
    target_path = "/no/such/dir/f"
    content     = "x"
  }}
}}
"#,
        good(&ws)
    ));
    let out = ws.apply();
    out.assert_failure();
    let text = out.flat();
    assert!(text.contains("Cannot upload"), "{text}");
    assert!(text.contains("create_directories"), "{text}");
    assert!(
        !ws.project.instances().contains(&c3),
        "no orphan: {:?}",
        ws.project.instances()
    );
    assert_eq!(ws.state_list(), vec!["incus_profile.keep".to_string()]);
}
