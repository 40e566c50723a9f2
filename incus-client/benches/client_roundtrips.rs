//! Round trips through the client versus the `incus` CLI, measured in the same run:
//! 200 × `exec true` and 200 × small-file push (`BENCH_ROUNDS` to change), interleaved (client, CLI, client, CLI...) so
//! both see the same daemon load. Prints median and p90 of each and the CLI/client ratio.
//!
//! `cargo bench -p incus-client --bench client_roundtrips` (or `make bench-client`).
//! Needs the testbed (local daemon + image `$FLOE_IMAGE`, default `local/debian12`).
//! Creates a throw-away project and container and deletes them at the end.

use std::process::Command;
use std::time::{Duration, Instant};

use incus_client::{Client, ExecMode, ExecRequest, FilePush, InstancesPost, ProjectsPost};

const ROUNDS: usize = 200;
const WARMUP: usize = 10;

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    let idx = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[idx]
}

fn ms(d: Duration) -> String {
    format!("{:8.2} ms", d.as_secs_f64() * 1000.0)
}

fn cli(project: &str, args: &[&str]) {
    let out = Command::new("incus")
        .arg("--project")
        .arg(project)
        .args(args)
        .output()
        .expect("run the incus CLI");
    assert!(
        out.status.success(),
        "incus {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

struct Row {
    name: &'static str,
    client: Vec<Duration>,
    cli: Vec<Duration>,
}

impl Row {
    fn print(&mut self) {
        let (c50, c90) = (
            percentile(&mut self.client, 0.5),
            percentile(&mut self.client, 0.9),
        );
        let (i50, i90) = (
            percentile(&mut self.cli, 0.5),
            percentile(&mut self.cli, 0.9),
        );
        println!(
            "{:<22} client median {} p90 {} | incus CLI median {} p90 {} | CLI/client median ratio {:5.1}x",
            self.name,
            ms(c50),
            ms(c90),
            ms(i50),
            ms(i90),
            i50.as_secs_f64() / c50.as_secs_f64()
        );
    }
}

async fn run(c: Client, project: String, name: String, rounds: usize) {
    let (project, name) = (project.as_str(), name.as_str());
    let small = vec![b'x'; 512];
    let local = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(local.path(), &small).expect("write temp file");
    let local_path = local.path().to_str().expect("utf-8 path").to_string();
    let cli_target = format!("{name}/root/cli-small.txt");
    let true_req = ExecRequest::new(["true"]);
    let ws_req = ExecRequest::new(["true"]).mode(ExecMode::WebSockets);
    let push = FilePush::file(small.clone()).mode(0o644);

    // Warm up both paths (connection pool, page cache, CLI binary).
    for _ in 0..WARMUP {
        c.exec(name, &true_req).await.expect("exec");
        c.exec(name, &ws_req).await.expect("exec ws");
        cli(project, &["exec", name, "--", "true"]);
        c.push_file(name, "/root/client-small.txt", &push)
            .await
            .expect("push");
        cli(project, &["file", "push", &local_path, &cli_target]);
    }

    let row = |name| Row {
        name,
        client: Vec::new(),
        cli: Vec::new(),
    };
    let (mut exec, mut files, mut exec_ws) = (
        row("exec true"),
        row("file push (512 B)"),
        row("exec true, websockets"),
    );
    let load_before = loadavg();
    let started = Instant::now();
    for _ in 0..rounds {
        let t = Instant::now();
        let out = c.exec(name, &true_req).await.expect("exec");
        exec.client.push(t.elapsed());
        assert_eq!(out.exit_code, 0);

        let t = Instant::now();
        cli(project, &["exec", name, "--", "true"]);
        exec.cli.push(t.elapsed());

        let t = Instant::now();
        c.push_file(name, "/root/client-small.txt", &push)
            .await
            .expect("push");
        files.client.push(t.elapsed());

        let t = Instant::now();
        cli(project, &["file", "push", &local_path, &cli_target]);
        files.cli.push(t.elapsed());

        // Websocket mode (what the CLI itself uses), for comparison with record-output.
        let t = Instant::now();
        let out = c.exec(name, &ws_req).await.expect("exec ws");
        exec_ws.client.push(t.elapsed());
        assert_eq!(out.exit_code, 0);
    }
    exec_ws.cli = exec.cli.clone();

    println!(
        "incus-client vs incus CLI, {rounds} round trips each, interleaved, same run ({:.0} s; load average before {load_before}, after {}):",
        started.elapsed().as_secs_f64(),
        loadavg()
    );
    exec.print();
    files.print();
    exec_ws.print();
}

/// 1-minute load average: the daemon is shared, so say how busy the machine was.
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes `--bench`; we take no options. BENCH_ROUNDS overrides 200.
    let rounds = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(ROUNDS);
    let image = std::env::var("FLOE_IMAGE").unwrap_or_else(|_| "local/debian12".into());
    let base = Client::local().expect("client");
    let suffix = &uuid::Uuid::new_v4().simple().to_string()[..8];
    let project = format!("bench-{suffix}");
    let name = format!("bench-{suffix}");

    let mut req = ProjectsPost {
        name: project.clone(),
        ..Default::default()
    };
    for key in [
        "features.profiles",
        "features.images",
        "features.storage.volumes",
        "features.networks",
    ] {
        req.config.insert(key.into(), "false".into());
    }
    base.create_project(&req)
        .await
        .expect("create bench project (is the testbed running? `make testbed`)");
    let c = base.with_project(&project);

    let mut create = InstancesPost::container_from_alias(&name, &image);
    create.start = true;
    let created = c.create_instance(&create).await;
    // Run in a task so that a panic still reaches the cleanup below.
    let outcome = match &created {
        Ok(()) => {
            // Let systemd settle so it does not compete with the measurements.
            let settle = ExecRequest::new(["systemctl", "is-system-running", "--wait"])
                .timeout(Duration::from_secs(60));
            let _ = c.exec(&name, &settle).await;
            tokio::spawn(run(c.clone(), project.clone(), name.clone(), rounds)).await
        }
        Err(_) => Ok(()),
    };

    if let Err(e) = c.force_delete_instance(&name).await {
        eprintln!("cleanup: {e}");
    }
    if let Err(e) = base.delete_project(&project).await {
        eprintln!("cleanup: {e}");
    }
    created.expect("create bench container");
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}
