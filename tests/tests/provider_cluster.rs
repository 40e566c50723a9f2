//! A 3-member cluster (`scripts/cluster-sim.sh up`, members in their own network and mount
//! namespaces) driven over HTTPS with a trusted client certificate from a private client
//! config dir: a storage pool and a bridge network created per member then cluster-wide
//! (Go provider HCL: targeted resources + one without target), a cluster-wide pool and
//! network created in one resource (the provider does the per-member step), an instance
//! placed with `target`; no perpetual diff from member-specific keys; in-place update;
//! destroy leaves nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use floe_e2e::terraform::Workspace;

fn cluster_up() -> BTreeMap<String, String> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/cluster-sim.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg("up")
        .output()
        .expect("run cluster-sim.sh");
    assert!(
        out.status.success(),
        "scripts/cluster-sim.sh up failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The incus CLI against the cluster, over HTTPS with the test client config.
fn cl(conf: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new("incus")
        .args(args)
        .env("INCUS_CONF", conf)
        .output()
        .expect("run incus");
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// Removes what a failed run may leave in the cluster.
struct ClusterGuard {
    conf: String,
    instance: String,
    pools: Vec<String>,
    networks: Vec<String>,
}
impl Drop for ClusterGuard {
    fn drop(&mut self) {
        let _ = cl(&self.conf, &["delete", "-f", &self.instance]);
        for n in &self.networks {
            let _ = cl(&self.conf, &["network", "delete", n]);
        }
        for p in &self.pools {
            let _ = cl(&self.conf, &["storage", "delete", p]);
        }
    }
}

#[test]
fn cluster_pools_networks_and_targeted_instance_over_https() {
    let env = cluster_up();
    let conf = env["FLOE_CLUSTER_CONF"].clone();
    let remote = env["FLOE_CLUSTER_REMOTE"].clone();
    let members: Vec<String> = env["FLOE_CLUSTER_MEMBERS"]
        .split(',')
        .map(str::to_string)
        .collect();
    assert_eq!(members.len(), 3);
    let image = env["FLOE_CLUSTER_IMAGE"].clone();
    let pool = floe_e2e::unique("cp");
    let pool2 = floe_e2e::unique("cq");
    let net = floe_e2e::unique("cn");
    let net2 = floe_e2e::unique("co");
    let inst = floe_e2e::unique("cc");
    let _guard = ClusterGuard {
        conf: conf.clone(),
        instance: inst.clone(),
        pools: vec![pool.clone(), pool2.clone()],
        networks: vec![net.clone(), net2.clone()],
    };
    // Member-specific dir sources: the members share this host's filesystem.
    let base = Path::new("/var/lib/floe-cluster/pools").join(&pool);
    for m in &members {
        std::fs::create_dir_all(base.join(m)).expect("pool source dir");
    }
    let members_hcl = members
        .iter()
        .map(|m| format!("\"{m}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let octet = 100 + u32::from_str_radix(&net[3..5], 16).unwrap_or(0) % 100;
    let hcl = |bwlimit: &str| {
        format!(
            r#"
terraform {{
  required_providers {{
    incus = {{ source = "floe/incus" }}
  }}
}}

provider "incus" {{
  config_dir     = "{conf}"
  default_remote = "{remote}"
}}

locals {{
  members = toset([{members_hcl}])
}}

# Go provider style: one pending pool per member (member-specific source), then the pool.
resource "incus_storage_pool" "member" {{
  for_each = local.members
  name     = "{pool}"
  driver   = "dir"
  target   = each.key
  config   = {{ source = "{base}/${{each.key}}" }}
}}

resource "incus_storage_pool" "pool" {{
  name        = "{pool}"
  driver      = "dir"
  description = "cluster pool"
  config      = {{ "rsync.bwlimit" = "{bwlimit}" }}
  depends_on  = [incus_storage_pool.member]
}}

# One resource: the provider does the per-member pending step itself.
resource "incus_storage_pool" "simple" {{
  name   = "{pool2}"
  driver = "dir"
}}

resource "incus_network" "member" {{
  for_each = local.members
  name     = "{net}"
  target   = each.key
}}

resource "incus_network" "net" {{
  name = "{net}"
  config = {{
    "ipv4.address" = "10.251.{octet}.1/24"
    "ipv4.nat"     = "true"
    "ipv6.address" = "none"
  }}
  depends_on = [incus_network.member]
}}

resource "incus_network" "simple" {{
  name   = "{net2}"
  config = {{ "ipv4.address" = "none", "ipv6.address" = "none" }}
}}

resource "incus_instance" "c" {{
  name    = "{inst}"
  image   = "{image}"
  target  = "{target}"
  running = false
}}
"#,
            base = base.display(),
            target = members[1],
        )
    };
    let ws = Workspace::new("cluster");
    ws.write("main.tf", &hcl("10MiB"));
    ws.apply().assert_success();

    let show = |args: &[&str]| cl(&conf, args).unwrap_or_else(|e| panic!("incus {args:?}: {e}"));
    for p in [&pool, &pool2] {
        let s = show(&["storage", "show", p]);
        assert!(s.contains("status: Created"), "{s}");
        for m in &members {
            assert!(s.contains(&format!("- {m}")), "pool {p} not on {m}: {s}");
        }
    }
    let src = show(&["storage", "get", &pool, "source", "--target", &members[2]]);
    assert_eq!(src.trim(), base.join(&members[2]).display().to_string());
    for n in [&net, &net2] {
        let s = show(&["network", "show", n]);
        assert!(s.contains("status: Created"), "{s}");
    }
    let loc = show(&["list", &inst, "-f", "csv", "-c", "L"]);
    assert_eq!(loc.trim(), members[1], "instance not placed on its target");
    // No perpetual diff from member-specific or generated keys.
    ws.assert_no_diff();

    // In-place update of the cluster-wide pool.
    ws.write("main.tf", &hcl("20MiB"));
    let plan = ws.plan();
    assert!(
        plan.flat()
            .contains("incus_storage_pool.pool will be updated in-place"),
        "{}",
        plan.all()
    );
    assert!(!plan.flat().contains("must be replaced"), "{}", plan.all());
    ws.apply().assert_success();
    assert_eq!(
        show(&["storage", "get", &pool, "rsync.bwlimit"]).trim(),
        "20MiB"
    );
    ws.assert_no_diff();

    ws.destroy().assert_success();
    assert!(
        cl(&conf, &["storage", "show", &pool]).is_err(),
        "pool left after destroy"
    );
    assert!(
        cl(&conf, &["storage", "show", &pool2]).is_err(),
        "pool left after destroy"
    );
    assert!(
        cl(&conf, &["network", "show", &net]).is_err(),
        "network left after destroy"
    );
    assert!(
        cl(&conf, &["info", &inst]).is_err(),
        "instance left after destroy"
    );
    let _ = std::fs::remove_dir_all(&base);
}
