//! The proof of issue 6: the public webstack role through the bench's own run-ansible.sh,
//! first with real ansible-playbook (the reference digest for THIS image, in this run),
//! then with the runner on 1 and on 3 containers: run 1 without failure, run 2 with
//! changed=0 everywhere, every digest equal to Ansible's.
//!
//! Needs the testbed (Incus daemon, image, Ansible venv); fails loudly without it.

mod common;

use std::path::Path;
use std::process::Command;

use common::{ansible_bin, bench_dir, runner, unique};

/// The image's fingerprint now: both tools must run on the same build even if the testbed
/// re-publishes the alias in the meantime.
fn pinned_image() -> String {
    let alias = common::image();
    let out = Command::new("incus")
        .args(["image", "info", &alias])
        .output()
        .expect("incus image info");
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("Fingerprint: "))
        .map(|f| f.trim().to_string())
        .unwrap_or_else(|| {
            panic!(
                "cannot resolve image {alias}: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
}

/// run-ansible.sh, retried once when it printed no RESULT line (a container launch the
/// shared daemon did not complete); a real failure of a tool always prints RESULT.
fn run_bench(
    n: usize,
    runner_cmd: Option<&str>,
    expected: &str,
    state: &Path,
    image: &str,
) -> (bool, String, String) {
    let mut last = (false, String::new(), String::new());
    for _ in 0..2 {
        last = run_bench_once(n, runner_cmd, expected, state, image);
        if !last.1.is_empty() {
            break;
        }
    }
    last
}

/// Run run-ansible.sh once; returns (success, RESULT line, stderr). The first container's
/// end-state listing is saved to `state`.
fn run_bench_once(
    n: usize,
    runner_cmd: Option<&str>,
    expected: &str,
    state: &Path,
    image: &str,
) -> (bool, String, String) {
    let prefix = unique("rrp");
    let mut cmd = Command::new(bench_dir().join("run-ansible.sh"));
    cmd.arg(n.to_string())
        .env("SAVE_STATE", state)
        .env("IMAGE", image)
        .env("PREFIX", &prefix)
        .env("EXPECTED_DIGEST", expected)
        .env(
            "PATH",
            format!(
                "{}:{}",
                ansible_bin().display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .env_remove("KEEP");
    match runner_cmd {
        Some(r) => cmd.env("RUNNER_CMD", r),
        None => cmd.env_remove("RUNNER_CMD"),
    };
    let out = cmd.output().expect("run-ansible.sh");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let result = stdout
        .lines()
        .find(|l| l.starts_with("RESULT "))
        .unwrap_or("")
        .to_string();
    (
        out.status.success(),
        result,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn field<'a>(result: &'a str, key: &str) -> &'a str {
    result
        .split_whitespace()
        .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
        .unwrap_or("")
}

#[test]
fn webstack_same_end_state_as_ansible_on_1_and_3_containers() {
    let image = pinned_image();
    let dir = tempfile::tempdir().expect("tmp");

    // 1. Reference: real Ansible on a fresh container of the same image.
    let ansible_state = dir.path().join("ansible.state");
    let (ok, result, err) = run_bench(1, None, "", &ansible_state, &image);
    assert!(ok, "ansible-playbook reference run failed: {result}\n{err}");
    let reference = field(&result, "digest").to_string();
    assert_eq!(
        reference.len(),
        64,
        "no digest from the reference run: {result}"
    );
    eprintln!("ansible reference: {result}");

    // 2. The runner on 1 container, then 3: same digest, idempotent second run.
    for n in [1, 3] {
        let runner_state = dir.path().join(format!("runner-{n}.state"));
        let (ok, result, err) = run_bench(n, Some(runner()), &reference, &runner_state, &image);
        eprintln!("runner n={n}: {result}");
        if field(&result, "digest") != reference && runner_state.exists() {
            // What differs from Ansible's end state (the script itself diffs against the stored listing).
            let diff = Command::new("diff")
                .arg(&ansible_state)
                .arg(&runner_state)
                .output()
                .expect("diff");
            eprintln!(
                "diff ansible runner:\n{}",
                String::from_utf8_lossy(&diff.stdout)
            );
        }
        assert!(
            ok,
            "runner on {n} container(s) did not pass run-ansible.sh: {result}\n{err}"
        );
        assert_eq!(field(&result, "changed1"), (22 * n).to_string(), "{result}");
        assert_eq!(field(&result, "changed2"), "0", "{result}");
        assert_eq!(field(&result, "idempotent"), "yes", "{result}");
        assert_eq!(field(&result, "digest"), reference, "{result}");
    }
}
