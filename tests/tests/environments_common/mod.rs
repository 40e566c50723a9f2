//! Helpers of the environment tests (issue 7): real Terraform, Ansible, the roles runner and the
//! local Incus daemon, driven through the same scripts and make targets a user runs.
//! Private to the `environments_*` test files (`#[path]`-included), so they do not depend on the
//! shared harness in `tests/src`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The checkout (the parent of the `tests` crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

/// A prerequisite that is not there: the test fails (never skips) and says what to do.
#[track_caller]
pub fn missing(what: &str, fix: &str) -> ! {
    panic!("PREREQUISITE MISSING: {what}\n  fix: {fix}")
}

/// Terraform 1.0.3 from the testbed (`$TERRAFORM`, as `scripts/env.sh` exports it).
pub fn terraform() -> PathBuf {
    let p = PathBuf::from(env_or(
        "TERRAFORM",
        "/var/cache/floe/terraform-1.0.3/terraform",
    ));
    if !p.is_file() {
        missing(
            &format!("terraform at {}", p.display()),
            "make testbed (or set TERRAFORM)",
        );
    }
    p
}

/// The Ansible virtualenv of the testbed (`$ANSIBLE_VENV`).
pub fn ansible_venv() -> PathBuf {
    let p = PathBuf::from(env_or("ANSIBLE_VENV", "/var/cache/floe/ansible-venv"));
    if !p.join("bin/ansible-playbook").is_file() {
        missing(
            &format!("ansible-playbook in {}", p.display()),
            "make testbed (or set ANSIBLE_VENV)",
        );
    }
    p
}

pub fn image() -> String {
    env_or("FLOE_IMAGE", "local/debian12")
}

pub fn storage_pool() -> String {
    env_or("FLOE_POOL", "default")
}

/// Where cargo puts binaries for this build (honours CARGO_TARGET_DIR).
fn target_debug_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) => PathBuf::from(d).join("debug"),
        None => repo_root().join("target/debug"),
    }
}

/// Builds the binaries of the other crates this test needs (debug profile; a no-op when they
/// are up to date) and returns their directory. A crate that does not build, or a binary that
/// is not there, is reported as the missing piece.
pub fn floe_bin_dir(packages: &[(&str, &str)]) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(repo_root())
        .args(["build", "--locked", "--bins"]);
    for (pkg, _) in packages {
        cmd.args(["-p", pkg]);
    }
    let out = run(&mut cmd);
    if !out.status.success() {
        let names: Vec<&str> = packages.iter().map(|(p, _)| *p).collect();
        missing(
            &format!("the Floe crates {} do not build", names.join(", ")),
            &format!(
                "fix the build; cargo said:\n{}",
                tail(&String::from_utf8_lossy(&out.stderr), 40)
            ),
        );
    }
    let dir = target_debug_dir();
    for (pkg, bin) in packages {
        if !dir.join(bin).is_file() {
            missing(
                &format!("binary {bin} (package {pkg}) in {}", dir.display()),
                &format!("cargo build -p {pkg}"),
            );
        }
    }
    dir
}

/// Last `n` lines of a text.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Runs a command, returns its output whatever the exit code.
pub fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"))
}

/// Runs a command that must succeed; on failure the panic shows what it printed.
#[track_caller]
pub fn run_ok(cmd: &mut Command, what: &str) -> String {
    let out = run(cmd);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        panic!(
            "{what} failed ({}):\n--- stdout (tail) ---\n{}\n--- stderr (tail) ---\n{}",
            out.status,
            tail(&stdout, 80),
            tail(&String::from_utf8_lossy(&out.stderr), 40)
        );
    }
    stdout
}

/// The incus CLI, bounded by a timeout: on the shared daemon an operation on a broken instance
/// can hang, and a cleanup must not hang the test run with it.
pub fn incus(args: &[&str]) -> Output {
    run(Command::new("timeout").arg("180").arg("incus").args(args))
}

#[track_caller]
pub fn incus_ok(args: &[&str]) -> String {
    run_ok(
        Command::new("incus").args(args),
        &format!("incus {}", args.join(" ")),
    )
}

/// A short random lowercase hex string (names shared with other tests must not collide).
pub fn random_suffix(len: usize) -> String {
    let uuid = std::fs::read_to_string("/proc/sys/kernel/random/uuid").expect("kernel uuid");
    uuid.chars()
        .filter(|c| c.is_ascii_hexdigit())
        .take(len)
        .collect()
}

/// A fresh directory under /tmp, removed on drop (kept when FLOE_KEEP=1, for debugging).
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("{prefix}-{}", random_suffix(8)));
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::env::var("FLOE_KEEP").as_deref() != Ok("1") {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// Copies a directory tree (symlinks are recreated as symlinks: the service modules link
/// their common variables).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("dir entry");
        let ty = entry.file_type().expect("file type");
        let name = entry.file_name();
        if name == ".terraform" || name.to_string_lossy().ends_with(".tfstate") {
            continue;
        }
        let dst = to.join(&name);
        if ty.is_symlink() {
            let target = std::fs::read_link(entry.path()).expect("readlink");
            std::os::unix::fs::symlink(target, &dst).expect("symlink");
        } else if ty.is_dir() {
            copy_tree(&entry.path(), &dst);
        } else {
            std::fs::copy(entry.path(), &dst).expect("copy");
        }
    }
}

/// A throw-away Incus project (images from `default`, own profiles and volumes), plus managed
/// networks whose names start with `network_prefix`. Everything is deleted on drop, also when
/// the test failed half-way.
pub struct IncusSandbox {
    pub project: String,
    pub network_prefix: String,
}

impl IncusSandbox {
    pub fn new(project: &str, network_prefix: &str) -> IncusSandbox {
        incus_ok(&[
            "project",
            "create",
            project,
            "--description",
            &floe_e2e::stale::marker(),
            "-c",
            "features.images=false",
            "-c",
            "features.profiles=true",
            "-c",
            "features.storage.volumes=true",
        ]);
        Self::adopt(project, network_prefix)
    }

    /// Cleans up a project (and networks) that something else, e.g. Terraform, creates.
    pub fn adopt(project: &str, network_prefix: &str) -> IncusSandbox {
        IncusSandbox {
            project: project.to_owned(),
            network_prefix: network_prefix.to_owned(),
        }
    }

    pub fn project_exists(&self) -> bool {
        incus(&["project", "show", &self.project]).status.success()
    }

    fn list(&self, args: &[&str]) -> Vec<String> {
        let out = incus(args);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split(',').next())
            .map(str::to_owned)
            .filter(|s| !s.is_empty())
            .collect()
    }

    pub fn instances(&self) -> Vec<String> {
        self.list(&["list", "--project", &self.project, "-f", "csv", "-c", "n"])
    }

    pub fn networks(&self) -> Vec<String> {
        self.list(&["network", "list", "-f", "csv"])
            .into_iter()
            .filter(|n| n.starts_with(&self.network_prefix))
            .collect()
    }

    pub fn custom_volumes(&self) -> Vec<String> {
        let out = incus(&[
            "storage",
            "volume",
            "list",
            &storage_pool(),
            "--project",
            &self.project,
            "-f",
            "csv",
        ]);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| {
                let mut f = l.split(',');
                match (f.next(), f.next()) {
                    (Some("custom"), Some(name)) => Some(name.to_owned()),
                    _ => None,
                }
            })
            .collect()
    }

    pub fn exec(&self, instance: &str, argv: &[&str]) -> Output {
        let mut args = vec!["exec", "--project", &self.project, instance, "--"];
        args.extend_from_slice(argv);
        incus(&args)
    }

    /// Creates and starts a container from the test image. The start is retried: on the shared
    /// daemon an lxc pre-start hook occasionally fails while other tests reconfigure things.
    pub fn launch(&self, name: &str) {
        incus_ok(&["init", &image(), name, "--project", &self.project]);
        let mut last = String::new();
        for _ in 0..3 {
            let out = incus(&["start", name, "--project", &self.project]);
            if out.status.success() {
                return;
            }
            last = String::from_utf8_lossy(&out.stderr).into_owned();
            std::thread::sleep(std::time::Duration::from_secs(2));
        }
        panic!(
            "incus start {name} (project {}) failed 3 times: {last}",
            self.project
        );
    }

    /// Waits until systemd in the instance has finished booting.
    pub fn wait_booted(&self, instance: &str) {
        let _ = self.exec(instance, &["systemctl", "is-system-running", "--wait"]);
    }

    /// Pushes host files into a directory of the instance (created if needed).
    pub fn push(&self, instance: &str, files: &[PathBuf], dir: &str) {
        let mut args: Vec<String> = vec!["file".into(), "push".into(), "-q".into(), "-p".into()];
        args.extend(files.iter().map(|f| f.display().to_string()));
        args.push("--project".into());
        args.push(self.project.clone());
        args.push(format!("{instance}{dir}/"));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        incus_ok(&refs);
    }
}

impl Drop for IncusSandbox {
    fn drop(&mut self) {
        if std::env::var("FLOE_KEEP").as_deref() == Ok("1") {
            eprintln!("FLOE_KEEP=1: project {} kept", self.project);
            return;
        }
        for i in self.instances() {
            let _ = incus(&["delete", "-f", "--project", &self.project, &i]);
        }
        for v in self.custom_volumes() {
            let _ = incus(&[
                "storage",
                "volume",
                "delete",
                &storage_pool(),
                &v,
                "--project",
                &self.project,
            ]);
        }
        for p in self.list(&["profile", "list", "--project", &self.project, "-f", "csv"]) {
            if p != "default" {
                let _ = incus(&["profile", "delete", "--project", &self.project, &p]);
            }
        }
        for n in self.networks() {
            let _ = incus(&["network", "delete", &n]);
        }
        let _ = incus(&["project", "delete", &self.project]);
    }
}

/// One line of Ansible's PLAY RECAP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recap {
    pub host: String,
    pub ok: u32,
    pub changed: u32,
    pub unreachable: u32,
    pub failed: u32,
}

/// Parses the PLAY RECAP lines (`host : ok=3 changed=1 unreachable=0 failed=0 ...`). Several
/// plays in one run give several recaps; all lines are returned.
pub fn recaps(output: &str) -> Vec<Recap> {
    let mut in_recap = false;
    let mut out = Vec::new();
    for line in output.lines() {
        if line.starts_with("PLAY RECAP") {
            in_recap = true;
            continue;
        }
        if line.starts_with("PLAY [") {
            in_recap = false;
        }
        if !in_recap {
            continue;
        }
        let Some((host, counters)) = line.split_once(" : ") else {
            continue;
        };
        if !counters.contains("ok=") {
            continue;
        }
        let get = |key: &str| -> u32 {
            counters
                .split_whitespace()
                .find_map(|kv| {
                    kv.strip_prefix(&format!("{key}="))
                        .and_then(|v| v.parse().ok())
                })
                .unwrap_or(0)
        };
        out.push(Recap {
            host: host.trim().to_owned(),
            ok: get("ok"),
            changed: get("changed"),
            unreachable: get("unreachable"),
            failed: get("failed"),
        });
    }
    out
}

/// Asserts that a playbook run reached `hosts`, with no failure and (when `idempotent`)
/// nothing changed.
#[track_caller]
pub fn assert_recap(output: &str, hosts: &[&str], idempotent: bool, what: &str) {
    let recaps = recaps(output);
    for h in hosts {
        let Some(r) = recaps.iter().find(|r| r.host == *h) else {
            panic!(
                "{what}: host {h} is not in the PLAY RECAP:\n{}",
                tail(output, 60)
            );
        };
        assert!(
            r.failed == 0 && r.unreachable == 0,
            "{what}: {h} failed: {r:?}\n{}",
            tail(output, 80)
        );
        if idempotent {
            let changed: Vec<&str> = output
                .lines()
                .filter(|l| l.starts_with("changed:"))
                .collect();
            assert_eq!(
                r.changed,
                0,
                "{what}: {h} is not idempotent ({r:?}); changed tasks:\n{}",
                changed.join("\n")
            );
        }
    }
}

/// Body of an HTTP GET made inside the instance (python3 is in the image), retried while the
/// service starts.
pub fn http_get_inside(
    sandbox: &IncusSandbox,
    instance: &str,
    url: &str,
) -> Result<String, String> {
    let script = format!(
        "import urllib.request,sys; sys.stdout.write(urllib.request.urlopen('{url}', timeout=3).read().decode())"
    );
    let mut last = String::new();
    for _ in 0..40 {
        let out = sandbox.exec(instance, &["python3", "-c", &script]);
        if out.status.success() {
            return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
        }
        last = tail(&String::from_utf8_lossy(&out.stderr), 2);
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    Err(format!("{instance}: GET {url} failed: {last}"))
}

/// Builds the offline artifacts (release archives from Debian packages, the runner stand-in)
/// with examples/offline/make-artifacts.sh; returns the extra-vars file.
pub fn offline_artifacts(dir: &Path) -> PathBuf {
    let out = run_ok(
        Command::new("bash")
            .arg(repo_root().join("examples/offline/make-artifacts.sh"))
            .arg(dir),
        "examples/offline/make-artifacts.sh",
    );
    PathBuf::from(out.trim())
}

/// The artifact files to push into the containers.
pub fn artifact_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("artifacts dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().is_some_and(|n| n != "extra-vars.json"))
        .collect();
    files.sort();
    files
}

pub const ARTIFACTS_IN_CONTAINER: &str = "/var/cache/floe-artifacts";

/// Three /24s for production, management and gitops in a 10.x range no route uses yet.
pub fn free_subnets(seed: &str) -> [String; 3] {
    let routes =
        String::from_utf8_lossy(&run(Command::new("ip").args(["-4", "route"])).stdout).into_owned();
    let start = u32::from_str_radix(&seed[..2], 16).unwrap_or(0);
    for i in 0..150 {
        let octet = 100 + (start + i) % 150;
        if !routes.contains(&format!("10.{octet}.")) {
            return [10, 20, 30].map(|third| format!("10.{octet}.{third}.0/24"));
        }
    }
    panic!("no free 10.x.0.0/16 range for the test networks:\n{routes}")
}
