//! incus_instance + incus_profile through a full lifecycle with the real Terraform 1.0.3:
//! create (profile, config, disk + proxy devices, file), no diff after apply, in-place
//! update, replacement on image change, out-of-band drift, destroy leaves nothing.

use floe_e2e::terraform::Workspace;

fn config(ws: &Workspace, image: &str, role: &str, extra_device: &str) -> String {
    let p = ws.project();
    let web1 = ws.project.unique_name("web1");
    format!(
        r#"
resource "incus_profile" "small" {{
  name    = "small"
  project = "{p}"
  config  = {{ "limits.memory" = "256MiB" }}
}}

resource "incus_instance" "web" {{
  name     = "{web1}"
  project  = "{p}"
  image    = "{image}"
  profiles = ["default", incus_profile.small.name]
  config = {{
    "user.role"  = "{role}"
    "limits.cpu" = 1
  }}
  device {{
    name       = "shared"
    type       = "disk"
    properties = {{ source = "/usr/share/common-licenses", path = "/mnt/licenses", readonly = "true" }}
  }}
  device {{
    name       = "http"
    type       = "proxy"
    properties = {{ listen = "tcp:127.0.0.1:0", connect = "tcp:127.0.0.1:80" }}
  }}
  {extra_device}
  file {{
    target_path        = "/etc/floe/motd"
    content            = "managed by terraform\n"
    mode               = "0640"
    create_directories = true
  }}
}}
"#
    )
}

#[test]
fn instance_lifecycle_update_replace_drift_destroy() {
    let ws = Workspace::new("life");
    let image = floe_e2e::image();
    let web1 = ws.project.unique_name("web1");

    // Create.
    ws.write_main(&config(&ws, &image, "web", ""));
    ws.apply().assert_success();
    let ls = ws.project.incus(&[
        "exec",
        &web1,
        "--",
        "stat",
        "-c",
        "%a %U %s",
        "/etc/floe/motd",
    ]);
    assert_eq!(ls.trim(), "640 root 21", "file uploaded with its mode");
    let cfg = ws.project.incus(&["config", "get", &web1, "user.role"]);
    assert_eq!(cfg.trim(), "web");
    let profiles = ws.project.incus(&["list", &web1, "-f", "csv", "-c", "P"]);
    assert!(profiles.contains("small"), "{profiles}");
    let state = ws.resource_values("incus_instance.web").expect("in state");
    assert_eq!(state["status"], "Running");
    assert_eq!(state["running"], true);
    assert!(
        state["config"].get("volatile.base_image").is_none(),
        "server keys are not tracked"
    );
    ws.assert_no_diff();

    // In-place update: a config value and a new device.
    let extra = r#"device {
    name       = "tmp"
    type       = "disk"
    properties = { source = "/tmp", path = "/mnt/tmp" }
  }"#;
    ws.write_main(&config(&ws, &image, "api", extra));
    let plan = ws.plan();
    plan.assert_success();
    assert!(
        plan.stdout.contains("will be updated in-place"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("0 to add, 1 to change, 0 to destroy"),
        "{}",
        plan.stdout
    );
    let before = ws.project.incus(&["config", "get", &web1, "volatile.uuid"]);
    ws.apply().assert_success();
    assert_eq!(
        ws.project
            .incus(&["config", "get", &web1, "user.role"])
            .trim(),
        "api"
    );
    assert!(
        ws.project
            .incus(&["config", "device", "list", &web1])
            .contains("tmp")
    );
    assert_eq!(
        ws.project.incus(&["config", "get", &web1, "volatile.uuid"]),
        before,
        "same instance (not re-created)"
    );
    ws.assert_no_diff();

    // Out of band: stop it and change a config key. The plan shows exactly those two diffs.
    ws.project.incus(&["stop", &web1]);
    ws.project
        .incus(&["config", "set", &web1, "user.role=changed"]);
    let drift = ws.plan_exitcode();
    assert_eq!(drift.code, 2, "{}\n{}", drift.stdout, drift.stderr);
    assert!(
        drift
            .stdout
            .contains(r#"~ "user.role"  = "changed" -> "api""#),
        "{}",
        drift.stdout
    );
    assert!(
        drift.stdout.contains("~ running      = false -> true"),
        "{}",
        drift.stdout
    );
    assert!(
        drift.stdout.contains("0 to add, 1 to change, 0 to destroy"),
        "{}",
        drift.stdout
    );
    // Apart from computed values becoming "known after apply", exactly those two differ.
    let block = drift
        .stdout
        .split("will be updated in-place")
        .nth(1)
        .unwrap_or_default();
    let changed_lines: Vec<&str> = block
        .lines()
        .map(str::trim_start)
        .take_while(|l| !l.starts_with("Plan:"))
        .filter(|l| l.starts_with("~ ") || l.starts_with("+ ") || l.starts_with("- "))
        .filter(|l| {
            !l.starts_with("~ resource")
                && !l.starts_with("~ config")
                && !l.ends_with("(known after apply)")
        })
        .collect();
    assert_eq!(
        changed_lines.len(),
        2,
        "unexpected diffs: {changed_lines:#?}\n{}",
        drift.stdout
    );
    ws.apply().assert_success();
    assert_eq!(
        ws.project
            .incus(&["config", "get", &web1, "user.role"])
            .trim(),
        "api"
    );
    ws.assert_no_diff();

    // Image change forces a replacement.
    let other = ws.project.image_alias(&image);
    ws.write_main(&config(&ws, &other, "api", extra));
    let plan = ws.plan();
    assert!(plan.stdout.contains("must be replaced"), "{}", plan.stdout);
    assert!(
        plan.stdout.contains("# forces replacement"),
        "{}",
        plan.stdout
    );
    ws.apply().assert_success();
    assert_ne!(
        ws.project.incus(&["config", "get", &web1, "volatile.uuid"]),
        before,
        "re-created"
    );
    ws.assert_no_diff();

    // Destroy leaves nothing behind.
    ws.destroy().assert_success();
    assert!(
        ws.project.instances().is_empty(),
        "{:?}",
        ws.project.instances()
    );
    assert_eq!(ws.project.profiles(), vec!["default".to_string()]);
    assert!(ws.state_list().is_empty());
}

#[test]
fn deleted_out_of_band_is_planned_for_recreation() {
    let ws = Workspace::new("gone");
    ws.write_main(&format!(
        r#"
resource "incus_instance" "c" {{
  name    = "c1"
  project = "{}"
  image   = "{}"
  running = false
}}
"#,
        ws.project(),
        floe_e2e::image()
    ));
    ws.apply().assert_success();
    assert_eq!(
        ws.project
            .incus(&["list", "c1", "-f", "csv", "-c", "s"])
            .trim(),
        "STOPPED"
    );
    ws.assert_no_diff();
    ws.project.incus(&["delete", "c1"]);
    let plan = ws.plan_exitcode();
    assert_eq!(plan.code, 2, "{}", plan.stdout);
    assert!(plan.stdout.contains("will be created"), "{}", plan.stdout);
    assert!(
        plan.stdout.contains("1 to add, 0 to change, 0 to destroy"),
        "{}",
        plan.stdout
    );
}

#[test]
fn wait_for_ipv4_fills_the_address() {
    let ws = Workspace::new("wait");
    let image = floe_e2e::image();
    let w1 = ws.project.unique_name("w1");
    // Precondition: the testbed image runs a DHCP client (probe it with the CLI first, so a
    // failure here says what is wrong with the testbed rather than with the provider).
    ws.project.launch(&image, "probe", &[]);
    let mut has_v4 = false;
    for _ in 0..60 {
        // try_: the shared daemon sometimes times out an exec under load; just ask again.
        let out = ws
            .project
            .try_incus(&[
                "exec", "probe", "--", "ip", "-4", "-o", "addr", "show", "scope", "global",
            ])
            .unwrap_or_default();
        if out.contains("inet ") {
            has_v4 = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
    assert!(
        has_v4,
        "the image {image} gets no IPv4 address (no DHCP client); rebuild it with `make testbed`"
    );
    ws.project.incus(&["delete", "--force", "probe"]);

    ws.write_main(&format!(
        r#"
resource "incus_instance" "c" {{
  name    = "{w1}"
  project = "{}"
  image   = "{image}"
  wait_for {{
    type = "ipv4"
  }}
  wait_for {{
    type  = "delay"
    delay = "1s"
  }}
  exec = {{
    "greet" = {{
      command     = ["sh", "-c", "echo \"hello $WHO\" > /root/greeting"]
      environment = {{ WHO = "terraform" }}
    }}
  }}
}}

output "ip" {{
  value = incus_instance.c.ipv4_address
}}
"#,
        ws.project()
    ));
    ws.apply().assert_success();
    let out = ws.run(&["output", "-raw", "ip"]);
    let ip = out.stdout.trim();
    assert!(
        ip.starts_with("10.") || ip.contains('.'),
        "ipv4_address after wait_for: {ip:?}"
    );
    let cli = ws.project.incus(&["list", &w1, "-f", "csv", "-c", "4"]);
    assert!(cli.contains(ip), "{cli} should list {ip}");
    let greeting = ws
        .project
        .incus(&["exec", &w1, "--", "cat", "/root/greeting"]);
    assert_eq!(
        greeting.trim(),
        "hello terraform",
        "exec ran with its environment"
    );
    ws.assert_no_diff();
}
