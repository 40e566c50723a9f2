//! OVN through Terraform: `scripts/ovn-setup.sh` (idempotent) prepares OVS/OVN and the
//! uplink, then an OVN network, a container on it and an `incus_network_lb` with a backend
//! and a port are applied; the load balancer's address answers HTTP from the host with the
//! container's page. Plus drift, in-place update, import, destroy, and bad input (OVN
//! network without uplink, listen address outside the uplink's routes).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use floe_e2e::incus::{incus, try_incus};
use floe_e2e::terraform::Workspace;

/// `scripts/ovn-setup.sh`, returning its KEY=VALUE output. Fails the test loudly.
fn ovn_setup() -> BTreeMap<String, String> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/ovn-setup.sh");
    let out = Command::new("bash")
        .arg(&script)
        .output()
        .expect("run ovn-setup.sh");
    assert!(
        out.status.success(),
        "scripts/ovn-setup.sh failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Removes a network (with its load balancers) on drop; declared before the Workspace so
/// the instances on it are gone first.
struct OvnGuard(String);
impl Drop for OvnGuard {
    fn drop(&mut self) {
        if let Ok(list) = try_incus(&[
            "network",
            "load-balancer",
            "list",
            &self.0,
            "-f",
            "csv",
            "-c",
            "l",
        ]) {
            for lb in list.lines().filter(|l| !l.is_empty()) {
                let _ = try_incus(&["network", "load-balancer", "delete", &self.0, lb]);
            }
        }
        let _ = try_incus(&["network", "delete", &self.0]);
    }
}

/// An address from the uplink's routes (first three octets of the route) that parallel runs
/// are unlikely to share.
fn listen_address(routes: &str, seed: &str) -> String {
    let base = routes.split('/').next().unwrap_or("10.251.20.0");
    let prefix = base.rsplit_once('.').map(|(p, _)| p).unwrap_or("10.251.20");
    let n = 100 + u32::from_str_radix(&seed[seed.len() - 2..], 16).unwrap_or(0) % 150;
    format!("{prefix}.{n}")
}

#[test]
fn ovn_network_container_and_load_balancer() {
    let env = ovn_setup();
    let uplink = env["FLOE_OVN_UPLINK"].clone();
    let net = floe_e2e::unique("fo");
    let _guard = OvnGuard(net.clone());
    let ws = Workspace::new("ovn");
    let p = ws.project().to_string();
    let image = floe_e2e::image();
    let lb_ip = listen_address(&env["FLOE_OVN_ROUTES"], &net);
    let hcl = |extra_port: &str| {
        format!(
            r#"
resource "incus_network" "ovn" {{
  name = "{net}"
  type = "ovn"
  config = {{
    network        = "{uplink}"
    "ipv4.address" = "10.251.40.1/24"
    "ipv4.nat"     = "true"
    "ipv6.address" = "none"
  }}
}}

resource "incus_instance" "web" {{
  name    = "web1"
  project = "{p}"
  image   = "{image}"
  device {{
    name = "eth0"
    type = "nic"
    properties = {{
      network        = incus_network.ovn.name
      "ipv4.address" = "10.251.40.10"
    }}
  }}
}}

resource "incus_network_lb" "web" {{
  network        = incus_network.ovn.name
  listen_address = "{lb_ip}"
  description    = "e2e"
  # OVN answers ARP for the listen address only if the backend's port exists first.
  depends_on = [incus_instance.web]

  backend {{
    name           = "web1"
    target_address = "10.251.40.10"
    target_port    = "8080"
  }}

  port {{
    listen_port    = "80"
    target_backend = ["web1"]
  }}
  {extra_port}
}}
"#
        )
    };
    ws.write_main(&hcl(""));
    ws.apply().assert_success();
    ws.assert_no_diff();

    // Serve a page from the container (static address: works with or without a DHCP client).
    ws.project.incus(&[
        "exec",
        "web1",
        "--",
        "sh",
        "-c",
        "ip link set eth0 up; ip addr replace 10.251.40.10/24 dev eth0; ip route replace default via 10.251.40.1; \
         mkdir -p /srv/www; echo floe-lb-ok > /srv/www/index.html; cd /srv/www; \
         nohup python3 -c 'import http.server as h, socketserver as s; s.TCPServer((\"\", 8080), h.SimpleHTTPRequestHandler).serve_forever()' >/dev/null 2>&1 &",
    ]);
    let fetch = |url: &str| {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let out = Command::new("curl")
                .args(["-s", "-m", "2", url])
                .output()
                .expect("curl");
            let body = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if body == "floe-lb-ok" || Instant::now() > deadline {
                return body;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    };
    assert_eq!(
        fetch(&format!("http://{lb_ip}/")),
        "floe-lb-ok",
        "load balancer {lb_ip}:80 did not reach the container"
    );

    // In-place update: a second port.
    ws.write_main(&hcl(
        "port {\n    listen_port    = \"8081\"\n    target_backend = [\"web1\"]\n  }",
    ));
    let plan = ws.plan();
    assert!(
        plan.flat()
            .contains("incus_network_lb.web will be updated in-place"),
        "{}",
        plan.all()
    );
    ws.apply().assert_success();
    assert_eq!(fetch(&format!("http://{lb_ip}:8081/")), "floe-lb-ok");
    ws.assert_no_diff();

    // Drift.
    incus(&[
        "network",
        "load-balancer",
        "set",
        &net,
        &lb_ip,
        "user.note=oob",
    ]);
    let drift = ws.plan_exitcode();
    assert_eq!(drift.code, 2, "{}", drift.all());
    assert!(
        drift.flat().contains("\"user.note\" = \"oob\" -> null"),
        "{}",
        drift.all()
    );
    ws.apply().assert_success();
    ws.assert_no_diff();

    // Import (`[project]/network/listen_address`) and the network itself.
    ws.run(&["state", "rm", "incus_network_lb.web", "incus_network.ovn"])
        .assert_success();
    ws.import("incus_network_lb.web", &format!("/{net}/{lb_ip}"))
        .assert_success();
    ws.import("incus_network.ovn", &net).assert_success();
    ws.assert_no_diff();

    ws.destroy().assert_success();
    assert!(
        try_incus(&["network", "show", &net]).is_err(),
        "OVN network left after destroy"
    );
}

#[test]
fn ovn_bad_input_is_located_and_nothing_half_created() {
    let env = ovn_setup();
    let uplink = env["FLOE_OVN_UPLINK"].clone();
    let net = floe_e2e::unique("fo");
    let _guard = OvnGuard(net.clone());
    let ws = Workspace::new("ovnbad");

    // An OVN network without uplink: rejected at plan time.
    ws.write_main(&format!(
        r#"
resource "incus_network" "ovn" {{
  name   = "{net}"
  type   = "ovn"
  config = {{ "ipv4.address" = "10.251.41.1/24" }}
}}
"#
    ));
    let out = ws.plan();
    out.assert_failure();
    assert!(
        out.flat().contains("OVN network without uplink"),
        "{}",
        out.all()
    );
    assert!(try_incus(&["network", "show", &net]).is_err());

    // A listen address outside the uplink's routes: the load balancer fails, pointing at
    // listen_address; the network (valid) is created and tracked, no load balancer exists.
    ws.write_main(&format!(
        r#"
resource "incus_network" "ovn" {{
  name = "{net}"
  type = "ovn"
  config = {{
    network        = "{uplink}"
    "ipv4.address" = "10.251.41.1/24"
    "ipv4.nat"     = "true"
    "ipv6.address" = "none"
  }}
}}

resource "incus_network_lb" "bad" {{
  network        = incus_network.ovn.name
  listen_address = "10.251.99.5"
}}
"#
    ));
    let out = ws.apply();
    out.assert_failure();
    let flat = out.flat();
    assert!(
        flat.contains("Failed to create load balancer 10.251.99.5"),
        "{}",
        out.all()
    );
    assert!(
        flat.contains("listen_address = \"10.251.99.5\""),
        "error not located: {}",
        out.all()
    );
    assert!(flat.contains("in its routes"), "{}", out.all());
    assert_eq!(ws.state_list(), vec!["incus_network.ovn".to_string()]);
    let lbs = incus(&["network", "load-balancer", "list", &net, "-f", "csv"]);
    assert!(lbs.trim().is_empty(), "load balancer half-created: {lbs}");

    ws.destroy().assert_success();
    assert!(try_incus(&["network", "show", &net]).is_err());
}
