//! `incus_storage_pool` and `incus_storage_volume` end to end with the real Terraform and
//! daemon: apply, empty plan, in-place update, out-of-band change detected and reverted,
//! import without diff, destroy leaving nothing; a volume with a snapshot schedule attached
//! to an instance in one apply; instance snapshot schedules through instance config; bad
//! input rejected with a located message and nothing half-created.

use floe_e2e::incus::{incus, try_incus};
use floe_e2e::terraform::Workspace;

/// Deletes a storage pool on drop (also when the test fails).
struct PoolGuard(String);
impl Drop for PoolGuard {
    fn drop(&mut self) {
        let _ = try_incus(&["storage", "delete", &self.0]);
    }
}

fn pool_get(pool: &str, key: &str) -> String {
    incus(&["storage", "get", pool, key]).trim().to_string()
}

#[test]
fn storage_pool_lifecycle_import_and_drift() {
    let ws = Workspace::new("pool");
    let pool = floe_e2e::unique("floe-e2e-pool");
    let _guard = PoolGuard(pool.clone());
    let hcl = |bwlimit: &str| {
        format!(
            r#"
resource "incus_storage_pool" "p" {{
  name        = "{pool}"
  driver      = "dir"
  description = "e2e pool"
  config      = {{ "rsync.bwlimit" = "{bwlimit}" }}
}}
"#
        )
    };
    ws.write_main(&hcl("10MiB"));
    ws.apply().assert_success();
    assert_eq!(pool_get(&pool, "rsync.bwlimit"), "10MiB");
    // `source` was filled in by the dir driver: not in state, no diff.
    assert!(!pool_get(&pool, "source").is_empty());
    ws.assert_no_diff();

    // In-place update (not a replacement).
    ws.write_main(&hcl("20MiB"));
    let plan = ws.plan();
    assert!(plan.flat().contains("updated in-place"), "{}", plan.all());
    ws.apply().assert_success();
    assert_eq!(pool_get(&pool, "rsync.bwlimit"), "20MiB");
    ws.assert_no_diff();

    // Out-of-band change: detected, then reverted by apply.
    incus(&["storage", "set", &pool, "rsync.compression=false"]);
    let drift = ws.plan_exitcode();
    assert_eq!(drift.code, 2, "{}", drift.all());
    assert!(
        drift
            .flat()
            .contains("\"rsync.compression\" = \"false\" -> null"),
        "{}",
        drift.all()
    );
    ws.apply().assert_success();
    assert_eq!(pool_get(&pool, "rsync.compression"), "");
    ws.assert_no_diff();

    // Import round trip.
    ws.run(&["state", "rm", "incus_storage_pool.p"])
        .assert_success();
    ws.import("incus_storage_pool.p", &pool).assert_success();
    ws.assert_no_diff();

    ws.destroy().assert_success();
    assert!(
        try_incus(&["storage", "show", &pool]).is_err(),
        "pool still exists after destroy"
    );
}

#[test]
fn volume_with_schedule_attached_to_instance_and_instance_schedule() {
    let ws = Workspace::new("vol");
    let p = ws.project().to_string();
    let image = floe_e2e::image();
    let app1 = ws.project.unique_name("app1");
    let hcl = |schedule: &str| {
        format!(
            r#"
resource "incus_storage_volume" "data" {{
  name    = "data1"
  pool    = "default"
  project = "{p}"
  config = {{
    size                 = "1GiB"
    "snapshots.schedule" = "{schedule}"
    "snapshots.expiry"   = "2w"
    "snapshots.pattern"  = "auto%d"
  }}
}}

resource "incus_instance" "app" {{
  name    = "{app1}"
  project = "{p}"
  image   = "{image}"
  config = {{
    "snapshots.schedule" = "@daily"
    "snapshots.expiry"   = "1w"
    "snapshots.pattern"  = "daily%d"
  }}
  device {{
    name = "data"
    type = "disk"
    properties = {{
      pool   = incus_storage_volume.data.pool
      source = incus_storage_volume.data.name
      path   = "/srv/data"
    }}
  }}
}}
"#
        )
    };
    ws.write_main(&hcl("@daily"));
    ws.apply().assert_success();
    // The volume is mounted in the instance (attached in the same apply).
    let mounts = ws
        .project
        .incus(&["exec", &app1, "--", "cat", "/proc/mounts"]);
    assert!(mounts.contains("/srv/data"), "{mounts}");
    let vol = |key: &str| {
        ws.project
            .incus(&["storage", "volume", "get", "default", "data1", key])
            .trim()
            .to_string()
    };
    assert_eq!(vol("snapshots.schedule"), "@daily");
    // Instance schedules are plain config keys: applied and no drift.
    assert_eq!(
        ws.project
            .incus(&["config", "get", &app1, "snapshots.schedule"])
            .trim(),
        "@daily"
    );
    ws.assert_no_diff();

    // A schedule change is an in-place update.
    ws.write_main(&hcl("0 6 * * *"));
    let plan = ws.plan();
    assert!(
        plan.flat()
            .contains("incus_storage_volume.data will be updated in-place"),
        "{}",
        plan.all()
    );
    ws.apply().assert_success();
    assert_eq!(vol("snapshots.schedule"), "0 6 * * *");
    ws.assert_no_diff();

    // Out-of-band change detected.
    ws.project.incus(&[
        "storage",
        "volume",
        "set",
        "default",
        "data1",
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

    // Import with the Go provider's `[project]/pool/name` form.
    ws.run(&["state", "rm", "incus_storage_volume.data"])
        .assert_success();
    ws.import("incus_storage_volume.data", &format!("{p}/default/data1"))
        .assert_success();
    ws.assert_no_diff();

    ws.destroy().assert_success();
    let left = ws.project.incus(&[
        "storage", "volume", "list", "default", "-f", "csv", "-c", "tn",
    ]);
    assert!(
        !left.contains("custom,data1"),
        "volume left after destroy: {left}"
    );
}

#[test]
fn bad_schedule_and_missing_pool_fail_cleanly() {
    let ws = Workspace::new("volbad");
    let p = ws.project().to_string();
    ws.write_main(&format!(
        r#"
resource "incus_storage_volume" "v" {{
  name    = "bad1"
  pool    = "default"
  project = "{p}"
  config  = {{ "snapshots.schedule" = "every day" }}
}}
"#
    ));
    // Rejected at plan time, pointing at the key.
    let out = ws.plan();
    out.assert_failure();
    let flat = out.flat();
    assert!(flat.contains("Invalid snapshot schedule"), "{}", out.all());
    assert!(
        flat.contains("\"snapshots.schedule\" = \"every day\""),
        "{}",
        out.all()
    );
    assert!(
        flat.contains("<minute> <hour> <day-of-month> <month> <day-of-week>"),
        "{}",
        out.all()
    );

    let missing = floe_e2e::unique("floe-nopool");
    ws.write_main(&format!(
        r#"
resource "incus_storage_volume" "v" {{
  name    = "bad2"
  pool    = "{missing}"
  project = "{p}"
}}
"#
    ));
    let out = ws.apply();
    out.assert_failure();
    let flat = out.flat();
    assert!(
        flat.contains("Failed to create storage volume \"bad2\""),
        "{}",
        out.all()
    );
    assert!(
        flat.contains(&format!("pool = \"{missing}\"")),
        "error not located at pool: {}",
        out.all()
    );
    assert!(flat.contains("Storage pool not found"), "{}", out.all());
    // Nothing half-created: no state, no volume.
    assert!(
        ws.state_list().is_empty(),
        "state after failed create: {:?}",
        ws.state_list()
    );
    let vols = ws.project.incus(&[
        "storage", "volume", "list", "default", "-f", "csv", "-c", "tn",
    ]);
    assert!(!vols.contains("bad1") && !vols.contains("bad2"), "{vols}");
}

#[test]
fn instance_snapshot_lifecycle_and_import() {
    let ws = Workspace::new("snap");
    let p = ws.project().to_string();
    let image = floe_e2e::image();
    let snapc1 = ws.project.unique_name("snapc1");
    ws.write_main(&format!(
        r#"
resource "incus_instance" "c" {{
  name    = "{snapc1}"
  project = "{p}"
  image   = "{image}"
  running = false
}}

resource "incus_instance_snapshot" "s" {{
  instance = incus_instance.c.name
  name     = "before-upgrade"
  project  = "{p}"
}}
"#
    ));
    ws.apply().assert_success();
    // `incus query` takes the project in the URL, not as --project.
    let snaps = || {
        incus(&[
            "query",
            &format!("/1.0/instances/{snapc1}/snapshots?project={p}"),
        ])
    };
    assert!(snaps().contains("before-upgrade"), "{}", snaps());
    let st = ws
        .resource_values("incus_instance_snapshot.s")
        .expect("state");
    assert_eq!(st["stateful"], false);
    assert!(
        st["created_at"].as_i64().is_some_and(|t| t > 1_700_000_000),
        "created_at: {}",
        st["created_at"]
    );
    ws.assert_no_diff();

    // Deleted out of band: the next plan re-creates it.
    ws.project
        .incus(&["snapshot", "delete", &snapc1, "before-upgrade"]);
    let drift = ws.plan_exitcode();
    assert_eq!(drift.code, 2, "{}", drift.all());
    assert!(
        drift
            .flat()
            .contains("incus_instance_snapshot.s will be created"),
        "{}",
        drift.all()
    );
    ws.apply().assert_success();
    ws.assert_no_diff();

    // Import `[project]/instance/snapshot`.
    ws.run(&["state", "rm", "incus_instance_snapshot.s"])
        .assert_success();
    ws.import(
        "incus_instance_snapshot.s",
        &format!("{p}/{snapc1}/before-upgrade"),
    )
    .assert_success();
    ws.assert_no_diff();

    ws.destroy().assert_success();
    assert!(ws.project.instances().is_empty());
}
