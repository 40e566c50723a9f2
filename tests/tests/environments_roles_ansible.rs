//! The roles under the reference, real Ansible (ansible-core from the testbed venv, connection
//! community.general.incus): each role installs offline from the artifacts, its service ends
//! up answering, and a second run reports changed=0. The roles runner must reach the same end
//! state (environments_e2e.rs runs the same roles with it).

#[path = "environments_common/mod.rs"]
mod common;

use common::*;
use std::process::Command;

#[test]
fn roles_converge_and_are_idempotent_under_real_ansible() {
    let venv = ansible_venv();
    let suffix = random_suffix(6);
    let project = format!("floe-roles-{suffix}");
    let sandbox = IncusSandbox::new(&project, &format!("floe-roles-{suffix}"));
    // The project has its own profiles: give it a root disk and no network (roles need none).
    incus_ok(&[
        "profile",
        "device",
        "add",
        "--project",
        &project,
        "default",
        "root",
        "disk",
        "path=/",
        &format!("pool={}", storage_pool()),
    ]);
    let hosts = ["prom", "am", "runner"];
    for h in hosts {
        sandbox.launch(h);
    }
    let artifacts = TempDir::new("floe-roles-artifacts");
    let extra_vars = offline_artifacts(artifacts.path());
    let files = artifact_files(artifacts.path());
    for h in hosts {
        sandbox.wait_booted(h);
        sandbox.push(h, &files, ARTIFACTS_IN_CONTAINER);
    }
    let work = TempDir::new("floe-roles-ansible");
    let inventory = work.path().join("inventory.ini");
    std::fs::write(
        &inventory,
        format!(
            "[prometheus]\nprom\n[alertmanager]\nam\n[forgejo_runner]\nrunner\n\n[all:vars]\n\
             ansible_connection=community.general.incus\nansible_incus_project={project}\n\
             ansible_python_interpreter=/usr/bin/python3\nforgejo_url=https://forgejo.invalid\n\
             prometheus_alertmanagers=[\"am:9093\"]\n"
        ),
    )
    .expect("inventory");
    let token = format!("roles-test-token-{suffix}");
    let playbook_run = || {
        // community.general.incus sometimes fails to create its remote temp dir on a busy
        // daemon (an upstream flake of the reference tool, not of the roles): retry that once.
        let mut attempt = 0;
        loop {
            attempt += 1;
            let out = run(Command::new(venv.join("bin/ansible-playbook"))
                .current_dir(repo_root().join("playbooks"))
                .env(
                    "PATH",
                    format!(
                        "{}:/usr/local/bin:/usr/bin:/bin",
                        venv.join("bin").display()
                    ),
                )
                .env("ANSIBLE_NOCOLOR", "1")
                .env("FORGEJO_RUNNER_TOKEN", &token)
                .arg("-i")
                .arg(&inventory)
                .arg("-e")
                .arg(format!("@{}", extra_vars.display()))
                .args(["-e", "forgejo_runner_register=true"])
                .args(["prometheus.yml", "alertmanager.yml", "forgejo-runner.yml"]));
            let text = format!(
                "{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(
                !text.contains(&token),
                "the registration token leaked into Ansible's output"
            );
            if !out.status.success()
                && attempt < 2
                && text.contains("failed to resolve remote temporary directory")
            {
                eprintln!("ansible's incus connection could not make its temp dir; retrying once");
                continue;
            }
            assert!(
                out.status.success(),
                "ansible-playbook failed:\n{}",
                tail(&text, 80)
            );
            return text;
        }
    };

    let first = playbook_run();
    assert_recap(&first, &hosts, false, "first run");
    let ready = http_get_inside(&sandbox, "prom", "http://127.0.0.1:9090/-/ready")
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(ready.contains("Ready"), "prometheus: {ready}");
    let ready = http_get_inside(&sandbox, "am", "http://127.0.0.1:9093/-/ready")
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(ready.contains("OK"), "alertmanager: {ready}");
    let active = sandbox.exec("runner", &["systemctl", "is-active", "forgejo-runner"]);
    assert!(active.status.success(), "forgejo-runner not active");
    let registered = sandbox.exec("runner", &["cat", "/var/lib/forgejo-runner/.runner"]);
    let registered = String::from_utf8_lossy(&registered.stdout).into_owned();
    assert!(
        registered.contains("\"name\": \"runner\"") && !registered.contains(&token),
        "registration file: {registered}"
    );

    let second = playbook_run();
    assert_recap(&second, &hosts, true, "second run");
}
