//! The proof of issue 6: the public webstack role through the bench's own run-ansible.sh,
//! first with real ansible-playbook (the reference end state for THIS image, in this run),
//! then with the runner on 1 and on 3 containers: run 1 without failure, run 2 with
//! changed=0 everywhere, every end state equal to Ansible's.
//!
//! The end states are compared on the listings verify.sh writes, minus DHCP lease files
//! (`/var/lib/dhcp/`): since the testbed image got a DHCP client, every container's lease
//! differs (address, times), so run-ansible.sh's raw digests differ between ANY two containers,
//! Ansible's included. Everything else (the whole root filesystem and the units) must match.
//!
//! Needs the testbed (Incus daemon, image, Ansible venv); fails loudly without it.

#[path = "support/ansible_flakes.rs"]
mod ansible_flakes;
mod common;

use std::path::PathBuf;
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

/// One run-ansible.sh invocation with KEEP=1; containers and work dir removed on drop.
struct BenchRun {
    ok: bool,
    result: String,
    stderr: String,
    names: Vec<String>,
    work: Option<PathBuf>,
}

impl Drop for BenchRun {
    fn drop(&mut self) {
        for n in &self.names {
            let _ = Command::new("incus").args(["delete", "-f", n]).output();
        }
        if let Some(w) = &self.work {
            let _ = std::fs::remove_dir_all(w);
        }
    }
}

impl BenchRun {
    fn field(&self, key: &str) -> &str {
        self.result
            .split_whitespace()
            .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
            .unwrap_or("")
    }

    /// `[run-ansible] run N: rc=0 ... failed+unreachable=0`
    fn run_clean(&self, n: u32) -> bool {
        self.stderr.lines().any(|l| {
            l.starts_with(&format!("[run-ansible] run {n}: rc=0 "))
                && l.ends_with("failed+unreachable=0")
        })
    }

    /// The tool's output of both runs (run-ansible.sh keeps them in its work dir).
    fn logs(&self) -> String {
        let Some(work) = &self.work else {
            return String::new();
        };
        ["run1.log", "run2.log"]
            .iter()
            .filter_map(|f| std::fs::read_to_string(work.join(f)).ok())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The listing of each container, without DHCP leases and the digest line.
    fn states(&self) -> Vec<(String, String)> {
        let work = self.work.as_ref().expect("work dir of run-ansible.sh");
        self.names
            .iter()
            .map(|n| {
                let text =
                    std::fs::read_to_string(work.join(format!("{n}.state"))).unwrap_or_default();
                let kept: Vec<&str> = text
                    .lines()
                    .filter(|l| !l.contains(" /var/lib/dhcp/") && !l.starts_with("DIGEST "))
                    .collect();
                (n.clone(), kept.join("\n"))
            })
            .collect()
    }
}

/// Run run-ansible.sh, once more when it printed no RESULT (a container launch the shared
/// daemon did not complete; a real failure of a tool always prints RESULT) or when the
/// reference run hit a known failure of Ansible's incus connection plugin. The runner is
/// never given a second chance for its own failures.
fn run_bench(n: usize, runner_cmd: Option<&str>, image: &str) -> BenchRun {
    let mut last = run_bench_once(n, runner_cmd, image);
    let reference_failed = runner_cmd.is_none() && !(last.run_clean(1) && last.run_clean(2));
    let flake = reference_failed
        .then(|| ansible_flakes::ansible_flake(&last.logs()))
        .flatten();
    if let Some(f) = flake {
        eprintln!("ansible reference hit community.general.incus's {f:?}; running it again");
    }
    if last.result.is_empty() || flake.is_some() {
        drop(last);
        last = run_bench_once(n, runner_cmd, image);
    }
    last
}

fn run_bench_once(n: usize, runner_cmd: Option<&str>, image: &str) -> BenchRun {
    let prefix = unique("rrp");
    let names: Vec<String> = (1..=n).map(|i| format!("{prefix}-{i}")).collect();
    let mut cmd = Command::new(bench_dir().join("run-ansible.sh"));
    cmd.arg(n.to_string())
        .env("IMAGE", image)
        .env("PREFIX", &prefix)
        .env("EXPECTED_DIGEST", "")
        .env("KEEP", "1")
        .env(
            "PATH",
            format!(
                "{}:{}",
                ansible_bin().display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        );
    match runner_cmd {
        Some(r) => cmd.env("RUNNER_CMD", r),
        None => cmd.env_remove("RUNNER_CMD"),
    };
    let out = cmd.output().expect("run-ansible.sh");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let result = stdout
        .lines()
        .find(|l| l.starts_with("RESULT "))
        .unwrap_or("")
        .to_string();
    // "[run-ansible] KEEP=1: containers and /tmp/webstack-bench.XXXX kept"
    let work = stderr
        .lines()
        .find_map(|l| l.split("containers and ").nth(1))
        .and_then(|rest| rest.strip_suffix(" kept"))
        .map(PathBuf::from);
    BenchRun {
        ok: out.status.success(),
        result,
        stderr,
        names,
        work,
    }
}

fn diff(a: &str, b: &str) -> String {
    let dir = tempfile::tempdir().expect("tmp");
    let (pa, pb) = (dir.path().join("ansible"), dir.path().join("runner"));
    std::fs::write(&pa, a).expect("write");
    std::fs::write(&pb, b).expect("write");
    let out = Command::new("diff")
        .arg(&pa)
        .arg(&pb)
        .output()
        .expect("diff");
    String::from_utf8_lossy(&out.stdout)
        .chars()
        .take(4000)
        .collect()
}

fn assert_clean(run: &BenchRun, who: &str, n: usize, changed1: usize) {
    assert!(
        !run.result.is_empty(),
        "{who}: run-ansible.sh printed no RESULT:\n{}",
        run.stderr
    );
    assert!(
        run.run_clean(1),
        "{who}: run 1 failed: {}\n{}\n{}",
        run.result,
        run.stderr,
        run.logs()
    );
    assert!(
        run.run_clean(2),
        "{who}: run 2 failed: {}\n{}\n{}",
        run.result,
        run.stderr,
        run.logs()
    );
    assert_eq!(
        run.field("changed1"),
        changed1.to_string(),
        "{who} on {n}: {}",
        run.result
    );
    assert_eq!(run.field("changed2"), "0", "{who} on {n}: {}", run.result);
    assert_eq!(
        run.field("idempotent"),
        "yes",
        "{who} on {n}: {}",
        run.result
    );
}

#[test]
fn webstack_same_end_state_as_ansible_on_1_and_3_containers() {
    let image = pinned_image();

    // 1. Reference: real Ansible on a fresh container of the same image.
    let reference = run_bench(1, None, &image);
    eprintln!("ansible reference: {}", reference.result);
    assert_clean(&reference, "ansible-playbook", 1, 22);
    assert!(
        reference.ok,
        "run-ansible.sh failed for Ansible:\n{}",
        reference.stderr
    );
    let (_, want) = reference.states().remove(0);
    assert!(
        want.lines().count() > 1000,
        "the reference listing looks empty"
    );

    // 2. The runner on 1 container, then 3: idempotent, and every container's end state
    //    equal to Ansible's.
    for n in [1, 3] {
        let run = run_bench(n, Some(runner()), &image);
        eprintln!("runner n={n}: {}", run.result);
        assert_clean(&run, "roles-runner", n, 22 * n);
        if n == 1 {
            // One container: run-ansible.sh's own verdict must be PASS as well.
            assert!(
                run.ok,
                "run-ansible.sh failed for the runner:\n{}",
                run.stderr
            );
        }
        for (name, got) in run.states() {
            assert!(
                got == want,
                "end state of {name} differs from Ansible's (DHCP leases ignored):\n{}",
                diff(&want, &got)
            );
        }
    }
}
