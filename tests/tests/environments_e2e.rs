//! End to end (issue 7): a reduced cluster01 (one instance per service module that needs no
//! internet, bridge mode, image local/debian12, a throw-away project) applied with real
//! Terraform 1.0.3 and Floe's provider against the local daemon; the inventory from its outputs;
//! `make configure-*` with Floe's roles runner; the services' end state; a second configure run
//! with changed=0; `make destroy` leaves nothing behind.
//!
//! Everything goes through the user's entry points (make targets of mk/environments.mk, the
//! offline artifacts script), on a copy of modules/ and environments/ in a temp dir.

#[path = "environments_common/mod.rs"]
mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const ENV: &str = "cluster01";

struct Env {
    repo: PathBuf,
    env_dir: PathBuf,
    tf_dir: PathBuf,
    bins: PathBuf,
}

impl Env {
    /// `make <target> ENV=cluster01 ...` on the copy, with the freshly built binaries.
    fn make(&self, target: &str, vars: &[(&str, &str)], envs: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new("make");
        cmd.current_dir(&self.repo)
            .args(["--no-print-directory", target])
            .arg(format!("ENV={ENV}"))
            .arg(format!("ENV_DIR={}", self.env_dir.display()))
            .arg(format!("FLOE_BIN={}", self.bins.display()))
            .arg(format!("FLOE_TF_DIR={}", self.tf_dir.display()))
            .env("ANSIBLE_NOCOLOR", "1")
            .env("NO_COLOR", "1");
        for (k, v) in vars {
            cmd.arg(format!("{k}={v}"));
        }
        for (k, v) in envs {
            cmd.env(k, v);
        }
        run(&mut cmd)
    }

    #[track_caller]
    fn make_ok(&self, target: &str, vars: &[(&str, &str)], envs: &[(&str, &str)]) -> String {
        let out = self.make(target, vars, envs);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            out.status.success(),
            "make {target} ENV={ENV} failed ({}):\n--- stdout (tail) ---\n{}\n--- stderr (tail) ---\n{}",
            out.status,
            tail(&stdout, 80),
            tail(&stderr, 40)
        );
        format!("{stdout}\n{stderr}")
    }

    fn terraform(&self, args: &[&str]) -> Output {
        run(Command::new(terraform())
            .current_dir(&self.env_dir)
            .env("TF_CLI_CONFIG_FILE", self.tf_dir.join("terraformrc"))
            .env("TF_IN_AUTOMATION", "1")
            .args(args))
    }
}

fn write_tfvars(env_dir: &Path, project: &str, prefix: &str, subnets: &[String; 3]) {
    let tfvars = format!(
        r#"{{
  "image": "{image}",
  "project": "{project}",
  "storage_pool": "{pool}",
  "name_prefix": "{prefix}",
  "network_mode": "bridge",
  "networks": {{ "production": "{p}", "management": "{m}", "gitops": "{g}" }},
  "instance_counts": {{
    "prometheus": 1, "alloy": 1, "mosquitto": 1, "coredns": 1, "alertmanager": 1, "forgejo_runner": 1
  }},
  "enable_data_persistence": true,
  "enable_snapshots": true,
  "snapshot_schedule": "0 3 * * *",
  "snapshots_expiry": "2d",
  "forgejo_url": "https://forgejo.invalid"
}}
"#,
        image = image(),
        pool = storage_pool(),
        p = subnets[0],
        m = subnets[1],
        g = subnets[2],
    );
    std::fs::write(env_dir.join("terraform.tfvars.json"), tfvars).expect("write tfvars");
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[test]
fn cluster01_reduced_apply_configure_reconfigure_destroy() {
    let repo = repo_root();
    let _ = terraform();
    let bins = floe_bin_dir(&[
        ("terraform-provider-incus", "terraform-provider-incus"),
        ("inventory", "floe-inventory"),
        ("roles-runner", "roles-runner"),
    ]);
    let help = run(Command::new(bins.join("roles-runner")).arg("--help"));
    if !help.status.success() || !String::from_utf8_lossy(&help.stdout).contains("-i") {
        missing(
            "roles-runner has no ansible-playbook CLI yet (`roles-runner --help` does not show -i)",
            "finish the roles runner (issue 6)",
        );
    }

    let suffix = random_suffix(4);
    // Bridge names are interface names: "e1a2b" + "management" = 15 characters.
    let prefix = format!("e{suffix}");
    let project = format!("floe-e2e-{suffix}");
    let work = TempDir::new("floe-env-e2e");
    let sandbox = IncusSandbox::new(&project, &prefix);
    copy_tree(&repo.join("modules"), &work.path().join("modules"));
    copy_tree(
        &repo.join("environments"),
        &work.path().join("environments"),
    );
    let env = Env {
        repo: repo.clone(),
        env_dir: work.path().join("environments").join(ENV),
        tf_dir: work.path().join("tf"),
        bins,
    };
    write_tfvars(&env.env_dir, &project, &prefix, &free_subnets(&suffix));

    // 1. apply
    // -parallelism=3: six containers unpacked and started at once on a 2-core machine shared
    // with other tests make LXC start hooks fail now and then.
    env.make_ok(
        "apply",
        &[("TF_ARGS", "-auto-approve -no-color -parallelism=3")],
        &[],
    );
    let expected = sorted(
        [
            "alertmanager",
            "alloy",
            "coredns",
            "forgejo-runner-1",
            "mosquitto",
            "prometheus",
        ]
        .map(String::from)
        .to_vec(),
    );
    assert_eq!(
        sorted(sandbox.instances()),
        expected,
        "instances after apply"
    );
    assert_eq!(
        sorted(sandbox.networks()),
        sorted(vec![
            format!("{prefix}gitops"),
            format!("{prefix}management"),
            format!("{prefix}production")
        ]),
        "bridge networks after apply"
    );
    assert_eq!(
        sorted(sandbox.custom_volumes()),
        sorted(vec![
            "alertmanager-data".into(),
            "mosquitto-data".into(),
            "prometheus-data".into()
        ]),
        "data volumes after apply"
    );
    let schedule = incus_ok(&[
        "storage",
        "volume",
        "get",
        &storage_pool(),
        "prometheus-data",
        "snapshots.schedule",
        "--project",
        &project,
    ]);
    assert_eq!(
        schedule.trim(),
        "0 3 * * *",
        "snapshot schedule of the data volume"
    );
    let autostart = incus_ok(&[
        "profile",
        "get",
        "--project",
        &project,
        &format!("{prefix}container-base"),
        "boot.autostart",
    ]);
    assert_eq!(autostart.trim(), "true", "base profile");
    let profiles = incus_ok(&["config", "show", "--project", &project, "prometheus"]);
    assert!(
        profiles.contains(&format!("- {prefix}container-base"))
            && profiles.contains(&format!("- {prefix}management-network")),
        "prometheus must use the base and management profiles, not default:\n{profiles}"
    );

    // 2. nothing to do right after apply
    let plan = env.terraform(&["plan", "-detailed-exitcode", "-no-color", "-input=false"]);
    assert_eq!(
        plan.status.code(),
        Some(0),
        "plan after apply is not empty:\n{}\n{}",
        tail(&String::from_utf8_lossy(&plan.stdout), 60),
        tail(&String::from_utf8_lossy(&plan.stderr), 20)
    );

    // 3. the inventory from the outputs
    let inventory = env.make_ok("show-inventory", &[], &[]);
    for needle in [
        "\"prometheus\"",
        "\"alertmanager\"",
        "\"forgejo_runner\"",
        "forgejo-runner-1",
        &project,
    ] {
        assert!(
            inventory.contains(needle),
            "inventory lacks {needle}:\n{inventory}"
        );
    }

    // 4. configure, offline: the roles download from file:// URLs pushed into the containers
    let artifacts = TempDir::new("floe-env-artifacts");
    let extra_vars = offline_artifacts(artifacts.path());
    let files = artifact_files(artifacts.path());
    for host in ["prometheus", "alertmanager", "forgejo-runner-1"] {
        sandbox.wait_booted(host);
        sandbox.push(host, &files, ARTIFACTS_IN_CONTAINER);
    }
    let extra = format!("-e @{}", extra_vars.display());
    let token = format!("floe-e2e-registration-token-{suffix}");
    let token_env = [("FORGEJO_RUNNER_TOKEN", token.as_str())];
    let vars = [("EXTRA_VARS", extra.as_str())];

    let out = env.make_ok("configure-prometheus", &vars, &[]);
    assert_recap(
        &out,
        &["prometheus"],
        false,
        "configure-prometheus (first run)",
    );
    let out = env.make_ok("configure-alertmanager", &vars, &[]);
    assert_recap(
        &out,
        &["alertmanager"],
        false,
        "configure-alertmanager (first run)",
    );
    let out = env.make_ok("configure-runner-register", &vars, &token_env);
    assert_recap(
        &out,
        &["forgejo-runner-1"],
        false,
        "configure-runner-register (first run)",
    );
    assert!(
        !out.contains(&token),
        "the registration token leaked into the output:\n{out}"
    );

    // 5. end state
    let ready = http_get_inside(&sandbox, "prometheus", "http://127.0.0.1:9090/-/ready")
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(ready.contains("Ready"), "prometheus /-/ready: {ready}");
    let config = http_get_inside(
        &sandbox,
        "prometheus",
        "http://127.0.0.1:9090/api/v1/status/config",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        config.contains("alertmanager:9093"),
        "prometheus is not pointed at the alertmanager (from Terraform's ansible_vars):\n{config}"
    );
    let mounts =
        String::from_utf8_lossy(&sandbox.exec("prometheus", &["cat", "/proc/mounts"]).stdout)
            .into_owned();
    assert!(
        mounts.contains(" /var/lib/prometheus "),
        "the data volume is not mounted at /var/lib/prometheus:\n{mounts}"
    );
    let tsdb = String::from_utf8_lossy(
        &sandbox
            .exec("prometheus", &["ls", "/var/lib/prometheus"])
            .stdout,
    )
    .into_owned();
    assert!(
        tsdb.contains("wal"),
        "prometheus writes no TSDB on its data volume: {tsdb}"
    );
    let ready = http_get_inside(&sandbox, "alertmanager", "http://127.0.0.1:9093/-/ready")
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(ready.contains("OK"), "alertmanager /-/ready: {ready}");
    let active = sandbox.exec(
        "forgejo-runner-1",
        &["systemctl", "is-active", "forgejo-runner"],
    );
    assert!(
        active.status.success(),
        "forgejo-runner is not active: {}",
        String::from_utf8_lossy(&active.stdout)
    );
    let runner_file = sandbox.exec(
        "forgejo-runner-1",
        &["stat", "-c", "%U %a", "/var/lib/forgejo-runner/.runner"],
    );
    assert_eq!(
        String::from_utf8_lossy(&runner_file.stdout).trim(),
        "forgejo-runner 600",
        "registration file"
    );
    let leaked = sandbox.exec(
        "forgejo-runner-1",
        &[
            "grep",
            "-rl",
            &token,
            "/etc",
            "/var/lib/forgejo-runner",
            "/opt",
        ],
    );
    assert!(
        !leaked.status.success(),
        "the token was written to disk: {}",
        String::from_utf8_lossy(&leaked.stdout)
    );

    // 6. again: nothing changes, the registration is skipped
    for (target, host, envs) in [
        ("configure-prometheus", "prometheus", &[][..]),
        ("configure-alertmanager", "alertmanager", &[][..]),
        (
            "configure-runner-register",
            "forgejo-runner-1",
            &token_env[..],
        ),
        ("configure-runner", "forgejo-runner-1", &[][..]),
    ] {
        let out = env.make_ok(target, &vars, envs);
        assert_recap(&out, &[host], true, &format!("{target} (second run)"));
    }

    // 7. destroy leaves nothing behind
    env.make_ok("destroy", &[("TF_ARGS", "-auto-approve -no-color")], &[]);
    assert!(
        sandbox.instances().is_empty(),
        "instances left: {:?}",
        sandbox.instances()
    );
    assert!(
        sandbox.networks().is_empty(),
        "networks left: {:?}",
        sandbox.networks()
    );
    assert!(
        sandbox.custom_volumes().is_empty(),
        "volumes left: {:?}",
        sandbox.custom_volumes()
    );
}
