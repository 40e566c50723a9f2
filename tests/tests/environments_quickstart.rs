//! The quickstart as `make demo` runs it (examples/quickstart/run.sh): terraform apply with
//! Floe's provider -> floe-inventory -> roles-runner -> the web service answers inside both
//! containers -> `run.sh destroy` removes the project, the bridge and everything in them.

#[path = "environments_common/mod.rs"]
mod common;

use common::*;
use std::process::Command;

#[test]
fn quickstart_runs_end_to_end_and_destroys_cleanly() {
    let _ = terraform();
    let bins = floe_bin_dir(&[
        ("terraform-provider-incus", "terraform-provider-incus"),
        ("inventory", "floe-inventory"),
        ("roles-runner", "roles-runner"),
    ]);
    // "q" + 4 hex + "br0": a valid interface name; the project is "<prefix>-quickstart".
    let prefix = format!("q{}", random_suffix(4));
    let work = TempDir::new("floe-quickstart");
    let bridge = free_subnets(&random_suffix(2))[0].replace(".0/24", ".1/24");
    // Cleans up whatever Terraform left if the test fails half-way.
    let sandbox = IncusSandbox::adopt(&format!("{prefix}-quickstart"), &format!("{prefix}br0"));
    let script = repo_root().join("examples/quickstart/run.sh");
    let run_script = |action: &str| {
        run(Command::new("bash")
            .arg(&script)
            .arg(action)
            .env("QUICKSTART_DIR", work.path())
            .env("QUICKSTART_PREFIX", &prefix)
            .env("FLOE_BIN_DIR", &bins)
            .env("TERRAFORM", terraform())
            .env("FLOE_IMAGE", image())
            .env("QUICKSTART_BRIDGE_ADDRESS", &bridge))
    };

    let up = run_script("up");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&up.stdout),
        String::from_utf8_lossy(&up.stderr)
    );
    assert!(
        up.status.success(),
        "run.sh up failed:\n{}",
        tail(&text, 80)
    );
    for host in ["web-1", "web-2"] {
        assert!(
            text.contains(&format!("{host} answers on :8080")),
            "{host} was not checked by run.sh:\n{}",
            tail(&text, 40)
        );
        // Independently of the script: the page is there and names the host.
        let page = http_get_inside(&sandbox, host, "http://127.0.0.1:8080/")
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            page.contains(&format!("{host} was created by Terraform")),
            "{host}: {page}"
        );
    }
    assert!(
        text.contains("run.sh destroy"),
        "run.sh must say how to remove it all"
    );
    let schedule = incus_ok(&[
        "storage",
        "volume",
        "get",
        &storage_pool(),
        "web-content",
        "snapshots.schedule",
        "--project",
        &sandbox.project,
    ]);
    assert_eq!(schedule.trim(), "0 3 * * *");

    let down = run_script("destroy");
    assert!(
        down.status.success(),
        "run.sh destroy failed:\n{}",
        tail(&String::from_utf8_lossy(&down.stderr), 40)
    );
    assert!(
        !sandbox.project_exists(),
        "project {} still exists after destroy",
        sandbox.project
    );
    assert!(
        sandbox.networks().is_empty(),
        "bridge left: {:?}",
        sandbox.networks()
    );
}
