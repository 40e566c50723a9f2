//! Shared helpers for the integration tests: tool discovery (fails loudly when the testbed
//! is missing), throw-away containers with a Drop guard, runs of ansible-playbook and of the
//! runner, and end-state digests with the bench's verify.sh.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn bench_dir() -> PathBuf {
    if let Ok(d) = std::env::var("WEBSTACK_BENCH_DIR") {
        return PathBuf::from(d);
    }
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/bench");
    assert!(
        d.join("run-ansible.sh").is_file(),
        "the webstack bench is missing at {} (set WEBSTACK_BENCH_DIR)",
        d.display()
    );
    d.canonicalize().unwrap_or(d)
}

pub fn ansible_bin() -> PathBuf {
    let venv =
        std::env::var("ANSIBLE_VENV").unwrap_or_else(|_| "/var/cache/floe/ansible-venv".into());
    let bin = Path::new(&venv).join("bin");
    assert!(
        bin.join("ansible-playbook").is_file(),
        "ansible-playbook not found in {} (run `make testbed` or set ANSIBLE_VENV)",
        bin.display()
    );
    bin
}

pub fn image() -> String {
    std::env::var("FLOE_IMAGE").unwrap_or_else(|_| "local/debian12".into())
}

pub fn runner() -> &'static str {
    env!("CARGO_BIN_EXE_roles-runner")
}

/// A unique name prefix for this test run.
pub fn unique(prefix: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}-{}", &id[..8])
}

/// Containers deleted on drop (also when the test panics).
pub struct Containers {
    pub names: Vec<String>,
}

impl Containers {
    /// Launch `n` containers from the testbed image and wait for systemd.
    pub fn launch(prefix: &str, n: usize) -> Containers {
        let names: Vec<String> = (1..=n).map(|i| format!("{prefix}-{i}")).collect();
        let guard = Containers {
            names: names.clone(),
        };
        for name in &names {
            let out = Command::new("incus")
                .args(["launch", &image(), name])
                .output()
                .expect("incus CLI");
            assert!(
                out.status.success(),
                "incus launch {name} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        for name in &names {
            let _ = Command::new("incus")
                .args([
                    "exec",
                    name,
                    "--",
                    "systemctl",
                    "is-system-running",
                    "--wait",
                ])
                .output();
        }
        guard
    }

    pub fn inventory(&self, dir: &Path) -> PathBuf {
        let p = dir.join("inventory.ini");
        let mut s = String::from("[web]\n");
        for n in &self.names {
            s.push_str(n);
            s.push('\n');
        }
        s.push_str("\n[web:vars]\nansible_connection=community.general.incus\nansible_python_interpreter=/usr/bin/python3\n");
        std::fs::write(&p, s).expect("write inventory");
        p
    }

    /// verify.sh digest and listing of one container.
    pub fn digest(&self, name: &str, units: &str) -> (String, String) {
        let tmp = tempfile::NamedTempFile::new().expect("tmp");
        let out = Command::new(bench_dir().join("verify.sh"))
            .args([name, &tmp.path().display().to_string(), units])
            .output()
            .expect("verify.sh");
        assert!(
            out.status.success(),
            "verify.sh failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let listing = std::fs::read_to_string(tmp.path()).unwrap_or_default();
        (
            String::from_utf8_lossy(&out.stdout).trim().to_string(),
            listing,
        )
    }
}

impl Drop for Containers {
    fn drop(&mut self) {
        for n in &self.names {
            let _ = Command::new("incus").args(["delete", "-f", n]).output();
        }
    }
}

/// Run ansible-playbook (the reference) or the runner with the same arguments.
pub fn run_tool(ansible: bool, dir: &Path, args: &[&str]) -> Output {
    let mut cmd = if ansible {
        Command::new(ansible_bin().join("ansible-playbook"))
    } else {
        Command::new(runner())
    };
    if ansible {
        let path = format!(
            "{}:{}",
            ansible_bin().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        cmd.env("PATH", path)
            .env("ANSIBLE_HOST_KEY_CHECKING", "False")
            .env("ANSIBLE_NOCOLOR", "1")
            .env("ANSIBLE_FORCE_COLOR", "0");
    }
    cmd.current_dir(dir)
        .args(args)
        .env_remove("ANSIBLE_CONFIG")
        .output()
        .expect("run playbook tool")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Per-task statuses from default-callback output: (task banner, host, status) in order.
pub fn statuses(out: &str) -> Vec<(String, String, String)> {
    let mut task = String::new();
    let mut v = vec![];
    for line in out.lines() {
        if let Some(rest) = line
            .strip_prefix("TASK [")
            .or_else(|| line.strip_prefix("RUNNING HANDLER ["))
        {
            task = rest
                .rsplit_once("] ")
                .map(|x| x.0)
                .unwrap_or(rest)
                .to_string();
            continue;
        }
        for st in ["ok", "changed", "skipping", "fatal", "failed"] {
            if let Some(rest) = line.strip_prefix(&format!("{st}: [")) {
                let host = rest.split(']').next().unwrap_or("").to_string();
                let item = line
                    .find("(item=")
                    .map(|i| line[i..].split(')').next().unwrap_or("").to_string())
                    .unwrap_or_default();
                v.push((
                    format!("{task} {item}").trim().to_string(),
                    host,
                    st.to_string(),
                ));
            }
        }
    }
    v
}

/// `host : ok=.. changed=..` lines after PLAY RECAP, spaces collapsed.
pub fn recap(out: &str) -> Vec<String> {
    let mut in_recap = false;
    let mut v = vec![];
    for line in out.lines() {
        if line.starts_with("PLAY RECAP") {
            in_recap = true;
            continue;
        }
        if in_recap && line.contains(" : ok=") {
            v.push(line.split_whitespace().collect::<Vec<_>>().join(" "));
        }
    }
    v
}
