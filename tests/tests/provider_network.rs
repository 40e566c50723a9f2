//! `incus_network` end to end: a bridge (apply, empty plan, in-place update, drift,
//! import without diff, `auto` address without perpetual diff, destroy) and a physical
//! network on a veth pair attached to a container.

use std::path::PathBuf;
use std::process::Command;

use floe_e2e::incus::{incus, try_incus};
use floe_e2e::terraform::Workspace;

/// Deletes a network on drop (declare it before the Workspace, so instances go first).
struct NetworkGuard(String);
impl Drop for NetworkGuard {
    fn drop(&mut self) {
        let _ = try_incus(&["network", "delete", &self.0]);
    }
}

/// A veth pair from `scripts/veth.sh`, deleted on drop.
struct Veth(String);
impl Veth {
    fn create(name: &str) -> Veth {
        let out = Command::new("bash")
            .arg(script("veth.sh"))
            .args(["add", name])
            .output()
            .expect("run veth.sh");
        assert!(
            out.status.success(),
            "veth.sh add {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Veth(name.to_string())
    }
}
impl Drop for Veth {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(script("veth.sh"))
            .args(["del", &self.0])
            .status();
    }
}

fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("scripts")
        .join(name)
}

fn net_get(net: &str, key: &str) -> String {
    incus(&["network", "get", net, key]).trim().to_string()
}

fn link_exists(name: &str) -> bool {
    Command::new("ip")
        .args(["link", "show", name])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn bridge_lifecycle_drift_import_and_auto_address() {
    // Interface names are at most 15 characters.
    let net = floe_e2e::unique("fb");
    let auto = floe_e2e::unique("fa");
    let _g1 = NetworkGuard(net.clone());
    let _g2 = NetworkGuard(auto.clone());
    let ws = Workspace::new("netbr");
    let octet = 100 + (u32::from_str_radix(&net[3..5], 16).unwrap_or(0) % 100);
    let hcl = |dhcp: &str| {
        format!(
            r#"
resource "incus_network" "br" {{
  name        = "{net}"
  description = "e2e bridge"
  config = {{
    "ipv4.address" = "10.252.{octet}.1/24"
    "ipv4.nat"     = "true"
    "ipv4.dhcp"    = "{dhcp}"
    "ipv6.address" = "none"
  }}
}}

resource "incus_network" "auto" {{
  name = "{auto}"
  config = {{
    "ipv4.address" = "none"
    "ipv6.address" = "auto"
  }}
}}
"#
        )
    };
    ws.write_main(&hcl("true"));
    ws.apply().assert_success();
    assert_eq!(
        net_get(&net, "ipv4.address"),
        format!("10.252.{octet}.1/24")
    );
    // The daemon generated the IPv6 address: state keeps "auto", no diff.
    assert!(
        net_get(&auto, "ipv6.address").contains('/'),
        "no generated address"
    );
    let st = ws.resource_values("incus_network.auto").expect("state");
    assert_eq!(st["config"]["ipv6.address"], "auto");
    assert_eq!(st["type"], "bridge");
    assert_eq!(st["managed"], true);
    ws.assert_no_diff();

    // In-place update.
    ws.write_main(&hcl("false"));
    let plan = ws.plan();
    assert!(
        plan.flat()
            .contains("incus_network.br will be updated in-place"),
        "{}",
        plan.all()
    );
    ws.apply().assert_success();
    assert_eq!(net_get(&net, "ipv4.dhcp"), "false");
    // The generated address survived the update of the other network and of this one.
    ws.assert_no_diff();

    // Drift.
    incus(&["network", "set", &net, "user.note=oob"]);
    let drift = ws.plan_exitcode();
    assert_eq!(drift.code, 2, "{}", drift.all());
    assert!(
        drift.flat().contains("\"user.note\" = \"oob\" -> null"),
        "{}",
        drift.all()
    );
    ws.apply().assert_success();
    assert_eq!(net_get(&net, "user.note"), "");
    ws.assert_no_diff();

    // Import of the explicitly configured bridge plans clean.
    ws.run(&["state", "rm", "incus_network.br"])
        .assert_success();
    ws.import("incus_network.br", &net).assert_success();
    ws.assert_no_diff();

    ws.destroy().assert_success();
    assert!(try_incus(&["network", "show", &net]).is_err());
    assert!(try_incus(&["network", "show", &auto]).is_err());
}

#[test]
fn physical_network_on_veth_attached_to_container() {
    let net = floe_e2e::unique("fp");
    let veth = floe_e2e::unique("fv");
    let _veth = Veth::create(&veth);
    let _g = NetworkGuard(net.clone());
    let ws = Workspace::new("netphys");
    let p = ws.project().to_string();
    let phys1 = ws.project.unique_name("phys1");
    let image = floe_e2e::image();
    ws.write_main(&format!(
        r#"
resource "incus_network" "phys" {{
  name = "{net}"
  type = "physical"
  config = {{
    parent = "{veth}"
  }}
}}

resource "incus_instance" "c" {{
  name    = "{phys1}"
  project = "{p}"
  image   = "{image}"
  device {{
    name = "eth1"
    type = "nic"
    properties = {{
      network = incus_network.phys.name
      name    = "eth1"
    }}
  }}
}}
"#
    ));
    ws.apply().assert_success();
    // The veth end moved into the container as eth1.
    let links = ws
        .project
        .incus(&["exec", &phys1, "--", "ip", "-o", "link", "show", "eth1"]);
    assert!(links.contains("eth1"), "{links}");
    assert!(
        !link_exists(&veth),
        "{veth} still on the host while attached"
    );
    ws.assert_no_diff();

    ws.destroy().assert_success();
    assert!(
        try_incus(&["network", "show", &net]).is_err(),
        "network left after destroy"
    );
    // Detached, the interface is back on the host (the guard removes it).
    assert!(link_exists(&veth), "{veth} did not come back to the host");
}
