//! Shared helpers for the integration tests that run real `ansible-playbook` and the
//! runner side by side against fresh Incus containers (conformance, bad input).
//!
//! Prerequisites (installed by `scripts/testbed.sh`): the Incus daemon with the image
//! `$FLOE_IMAGE` (default `local/debian12`), the `incus` CLI, and a venv with ansible-core
//! and community.general at `$ANSIBLE_VENV` (default /var/cache/floe/ansible-venv).
//! A missing prerequisite fails the test loudly; nothing is skipped.
#![allow(dead_code)]

pub mod ansible_flakes;
pub mod debrepo;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// Directory of this crate's tests (`roles-runner/tests`).
pub fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}

pub fn ansible_playbook() -> PathBuf {
    let venv = std::env::var("ANSIBLE_VENV")
        .unwrap_or_else(|_| "/var/cache/floe/ansible-venv".to_string());
    let p = Path::new(&venv).join("bin/ansible-playbook");
    assert!(
        p.exists(),
        "ansible-playbook not found at {} (set ANSIBLE_VENV; scripts/testbed.sh installs it)",
        p.display()
    );
    p
}

pub fn runner() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_roles-runner"))
}

pub fn image() -> String {
    std::env::var("FLOE_IMAGE").unwrap_or_else(|_| "local/debian12".to_string())
}

/// A name no other test or helper uses: prefix, pid, counter, clock.
pub fn unique(prefix: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}-{:x}-{}-{:04x}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst),
        nanos & 0xffff
    )
}

/// A counting semaphore: container launches are throttled (two at a time on a 2-core box),
/// and so are ansible-playbook processes, which are CPU-bound on the controller.
pub struct Semaphore {
    free: Mutex<usize>,
    cv: Condvar,
}

pub struct Permit<'a>(&'a Semaphore);

impl Semaphore {
    pub const fn new(n: usize) -> Semaphore {
        Semaphore {
            free: Mutex::new(n),
            cv: Condvar::new(),
        }
    }
    pub fn acquire(&self) -> Permit<'_> {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        while *free == 0 {
            free = self.cv.wait(free).unwrap_or_else(|e| e.into_inner());
        }
        *free -= 1;
        Permit(self)
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut free = self.0.free.lock().unwrap_or_else(|e| e.into_inner());
        *free += 1;
        self.0.cv.notify_one();
    }
}

static LAUNCHES: Semaphore = Semaphore::new(2);
static ANSIBLE_RUNS: Semaphore = Semaphore::new(2);

fn incus(args: &[&str]) -> std::process::Output {
    Command::new("incus")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run the incus CLI ({e}); is Incus installed?"))
}

/// A container launched from the test image, deleted (forcefully) when dropped, so a
/// failing test leaves nothing behind.
pub struct Container {
    pub name: String,
}

impl Container {
    /// Launch and wait for boot; under load the daemon occasionally fails a start (a hook
    /// times out), so a failed launch is retried (twice) with a new name.
    pub fn launch(prefix: &str) -> Container {
        let mut last = String::new();
        for attempt in 0..3 {
            if attempt > 0 {
                std::thread::sleep(Duration::from_secs(3));
            }
            let c = Container {
                name: unique(prefix),
            };
            let out = {
                let _p = LAUNCHES.acquire();
                incus_timeout(
                    &["launch", &image(), &c.name, "-q"],
                    Duration::from_secs(120),
                )
            };
            match out {
                Some(o) if o.status.success() => match c.wait_booted() {
                    Ok(()) => return c,
                    Err(e) => last = e,
                },
                Some(o) => {
                    last = format!(
                        "incus launch {} {}: {}",
                        image(),
                        c.name,
                        String::from_utf8_lossy(&o.stderr)
                    )
                }
                None => last = format!("incus launch {} timed out", c.name),
            }
            eprintln!("support: {last}; retrying");
        }
        panic!("{last}");
    }

    /// Launch `n` containers, in parallel as far as the launch throttle allows.
    pub fn launch_many(prefix: &str, n: usize) -> Vec<Container> {
        std::thread::scope(|s| {
            let hs: Vec<_> = (0..n)
                .map(|_| s.spawn(|| Container::launch(prefix)))
                .collect();
            hs.into_iter()
                .map(|h| h.join().expect("container launch panicked"))
                .collect()
        })
    }

    /// `systemctl is-system-running --wait` (retried: right after start the bus may not exist yet).
    fn wait_booted(&self) -> Result<(), String> {
        let start = Instant::now();
        loop {
            let out = incus_timeout(
                &[
                    "exec",
                    &self.name,
                    "--",
                    "systemctl",
                    "is-system-running",
                    "--wait",
                ],
                Duration::from_secs(60),
            );
            let (state, err) = match &out {
                Some(o) => (
                    String::from_utf8_lossy(&o.stdout).trim().to_string(),
                    String::from_utf8_lossy(&o.stderr).trim().to_string(),
                ),
                None => ("timeout".to_string(), String::new()),
            };
            if state == "running" || state == "degraded" {
                return Ok(());
            }
            if start.elapsed() > Duration::from_secs(90) {
                return Err(format!("{} did not boot: {state} {err}", self.name));
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    pub fn exec(&self, cmd: &[&str]) -> std::process::Output {
        let mut args = vec!["exec", self.name.as_str(), "--"];
        args.extend_from_slice(cmd);
        incus(&args)
    }

    /// `sh -c SCRIPT` in the container; panics unless it succeeds.
    pub fn sh(&self, script: &str) -> String {
        let out = self.exec(&["sh", "-c", script]);
        assert!(
            out.status.success(),
            "{}: sh -c {script:?}: {}",
            self.name,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// End state of `paths` (and `unit:NAME` entries) as text lines, see support/digest.py.
    pub fn digest(&self, paths: &[&str]) -> String {
        let script = tests_dir().join("support/digest.py");
        let mut args = vec![
            "exec".to_string(),
            self.name.clone(),
            "--".into(),
            "python3".into(),
            "-B".into(),
            "-".into(),
            self.name.clone(),
        ];
        args.extend(paths.iter().map(|p| p.to_string()));
        let out = Command::new("incus")
            .args(&args)
            .stdin(std::fs::File::open(&script).expect("digest.py"))
            .output()
            .expect("incus exec digest");
        assert!(
            out.status.success(),
            "digest on {}: {}",
            self.name,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        // Bounded: a container whose start failed can hang in "Stopping" for many minutes;
        // the daemon finishes the delete on its own, the test does not wait for it.
        if incus_timeout(&["delete", "-f", &self.name], Duration::from_secs(60)).is_none() {
            eprintln!("support: incus delete -f {} timed out", self.name);
        }
    }
}

/// Run the incus CLI, killing it after `limit` (None then).
fn incus_timeout(args: &[&str], limit: Duration) -> Option<std::process::Output> {
    let mut child = Command::new("incus")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run the incus CLI ({e}); is Incus installed?"));
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => return child.wait_with_output().ok(),
            Ok(None) if start.elapsed() < limit => std::thread::sleep(Duration::from_millis(50)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
}

/// INI inventory of `hosts` in group `cf` with the Incus connection, plus extra `[cf:vars]`
/// lines (which may open further sections; `{host0}` stands for the first host's name).
pub fn write_inventory(dir: &Path, hosts: &[&str], vars: &str) -> PathBuf {
    let mut s = String::from("[cf]\n");
    for h in hosts {
        s.push_str(h);
        s.push('\n');
    }
    s.push_str("[cf:vars]\nansible_connection=community.general.incus\nansible_python_interpreter=/usr/bin/python3\n");
    for l in vars.lines() {
        s.push_str(
            &l.trim()
                .replace("{host0}", hosts.first().copied().unwrap_or("")),
        );
        s.push('\n');
    }
    let p = dir.join("inventory.ini");
    std::fs::write(&p, s).expect("write inventory");
    p
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tool {
    Ansible,
    Runner,
}

/// One task result, from the floe_events callback (Ansible) or `--json-log` (runner).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub host: String,
    pub task: String,
    pub status: String,
    pub ignored: bool,
}

#[derive(Debug)]
pub struct Run {
    pub tool: Tool,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub events: Vec<Event>,
    pub took: Duration,
}

impl Run {
    /// Status lines per host (hosts renamed to `host<N>` by their position in `hosts`), so the
    /// two tools' runs on differently named containers compare equal.
    pub fn statuses(&self, hosts: &[&str]) -> String {
        let mut per: BTreeMap<usize, Vec<String>> = BTreeMap::new();
        for e in &self.events {
            let idx = hosts
                .iter()
                .position(|h| *h == e.host)
                .unwrap_or(usize::MAX);
            let ign = if e.ignored { " (ignored)" } else { "" };
            per.entry(idx)
                .or_default()
                .push(format!("{} => {}{ign}", e.task, e.status));
        }
        let mut s = String::new();
        for (i, lines) in per {
            s.push_str(&format!("host{i}:\n"));
            for l in lines {
                s.push_str("  ");
                s.push_str(&l);
                s.push('\n');
            }
        }
        s
    }

    pub fn changed(&self) -> usize {
        self.events.iter().filter(|e| e.status == "changed").count()
    }

    pub fn output(&self) -> String {
        format!(
            "--- {:?} exit {} ---\n{}\n--- stderr ---\n{}",
            self.tool, self.code, self.stdout, self.stderr
        )
    }
}

fn parse_events(text: &str) -> Vec<Event> {
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["event"] == "task_result")
        .map(|v| Event {
            host: v["host"].as_str().unwrap_or_default().to_string(),
            task: v["task"].as_str().unwrap_or_default().to_string(),
            status: v["status"].as_str().unwrap_or_default().to_string(),
            ignored: v["ignored"].as_bool().unwrap_or(false),
        })
        .collect()
}

/// Run `playbook` (relative to `dir`, which is also the working directory) with `tool`.
pub fn run_playbook(
    tool: Tool,
    dir: &Path,
    playbook: &str,
    inventory: &Path,
    args: &[String],
) -> Run {
    let events = tempfile::NamedTempFile::new().expect("temp file");
    let mut cmd = match tool {
        Tool::Ansible => {
            let mut c = Command::new(ansible_playbook());
            c.env("ANSIBLE_PIPELINING", "True")
                .env(
                    "ANSIBLE_CALLBACK_PLUGINS",
                    tests_dir().join("support/callback_plugins"),
                )
                .env("ANSIBLE_CALLBACKS_ENABLED", "floe_events")
                .env("ANSIBLE_STDOUT_CALLBACK", "default")
                .env("FLOE_EVENTS", events.path());
            c
        }
        Tool::Runner => {
            let mut c = Command::new(runner());
            c.arg("--json-log").arg(events.path());
            c
        }
    };
    cmd.current_dir(dir)
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_FORCE_COLOR", "0")
        .env("ANSIBLE_RETRY_FILES_ENABLED", "False")
        .env("ANSIBLE_HOST_KEY_CHECKING", "False")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("COLUMNS", "80")
        .arg("-i")
        .arg(inventory)
        .args(args)
        .arg(playbook)
        .stdin(Stdio::null());
    let _permit = (tool == Tool::Ansible).then(|| ANSIBLE_RUNS.acquire());
    let start = Instant::now();
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {tool:?}: {e}"));
    let took = start.elapsed();
    let text = std::fs::read_to_string(events.path()).unwrap_or_default();
    Run {
        tool,
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        events: parse_events(&text),
        took,
    }
}

/// The unified-diff lines of a `--diff` run's screen output, with container names and
/// controller temp paths normalised.
pub fn diff_lines(stdout: &str, hosts: &[&str]) -> Vec<String> {
    let mut out = vec![];
    let mut in_diff = false;
    for l in stdout.lines() {
        if l.starts_with("--- ") || l.starts_with("+++ ") || l.starts_with("@@ ") {
            in_diff = true;
        } else if l.is_empty() || !(l.starts_with('+') || l.starts_with('-') || l.starts_with(' '))
        {
            in_diff = false;
            continue;
        }
        if in_diff {
            let mut s = l.to_string();
            for (i, h) in hosts.iter().enumerate() {
                s = s.replace(h, &format!("host{i}"));
            }
            out.push(normalise_diff_line(&s));
        }
    }
    out
}

/// What must differ between two runs' diffs, made equal: the rendered template's temporary
/// file (`+++ after: ~/.ansible/tmp/ansible-local-<pid+random>/tmp<random>/NAME`, random per
/// run) and touch's `"atime"`/`"mtime"` (the clock of each run).
fn normalise_diff_line(l: &str) -> String {
    if let Some(i) = l.find("/ansible-local-") {
        let rest = &l[i + 1..];
        // ansible-local-XXX/tmpYYY/NAME -> ansible-local-*/tmp*/NAME
        let parts: Vec<&str> = rest.splitn(3, '/').collect();
        if parts.len() == 3 && parts[1].starts_with("tmp") {
            return format!("{}/ansible-local-*/tmp*/{}", &l[..i], parts[2]);
        }
    }
    for key in ["\"atime\": ", "\"mtime\": "] {
        if let Some(i) = l.find(key) {
            let comma = if l.ends_with(',') { "," } else { "" };
            return format!("{}{key}<time>{comma}", &l[..i]);
        }
    }
    l.to_string()
}

/// Files under `dir` (relative path -> content with host names normalised).
pub fn tree(dir: &Path, hosts: &[&str]) -> BTreeMap<String, String> {
    fn walk(base: &Path, p: &Path, hosts: &[&str], out: &mut BTreeMap<String, String>) {
        let Ok(rd) = std::fs::read_dir(p) else { return };
        for e in rd.flatten() {
            let path = e.path();
            let mut rel = path
                .strip_prefix(base)
                .unwrap_or(&path)
                .display()
                .to_string();
            for (i, h) in hosts.iter().enumerate() {
                rel = rel.replace(h, &format!("host{i}"));
            }
            if path.is_dir() {
                out.insert(rel + "/", String::new());
                walk(base, &path, hosts, out);
            } else {
                let mut content =
                    String::from_utf8_lossy(&std::fs::read(&path).unwrap_or_default()).into_owned();
                for (i, h) in hosts.iter().enumerate() {
                    content = content.replace(h, &format!("host{i}"));
                }
                out.insert(rel, content);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, hosts, &mut out);
    out
}
