//! Benchmark: `floe-inventory --list` on 1,000 hosts in 50 groups, side by side with an equivalent
//! minimal Python inventory script (the `terraform.py` it replaces), measured in the same run.
//!
//! Run: `cargo bench -p inventory --bench list_1000` (or `make bench-inventory`).
//! Scenarios:
//! 1. `--file`: both read the same saved `output -json` document (process start + parse + map + print);
//! 2. `--dir`: both run real Terraform (`$TERRAFORM`, 1.0.3) `output -json` on an applied state;
//! 3. the library in-process (what the roles runner pays): parse + map + render.
//!
//! Each process is run RUNS times, alternating the two programs; medians and the ratio are printed.
//! Both outputs are checked to describe the same inventory before anything is timed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const GROUPS: usize = 50;
const HOSTS_PER_GROUP: usize = 20;
const RUNS: usize = 31;
const LIB_RUNS: usize = 201;

/// The equivalent minimal Python script: same convention (lists or maps of objects, group vars),
/// same host vars, JSON on stdout. Deliberately minimal (no sanitising, no error handling) so it
/// is the fastest reasonable Python, not a strawman.
const PYTHON_INVENTORY: &str = r#"
import json, subprocess, sys

def load(argv):
    if argv[1] == "--file":
        with open(argv[2]) as f:
            return json.load(f)
    out = subprocess.run([argv[2], "output", "-json"], cwd=argv[3], check=True, capture_output=True).stdout
    return json.loads(out)

outputs = load(sys.argv)
inv = {"all": {"children": []}, "_meta": {"hostvars": {}}}
hostvars = inv["_meta"]["hostvars"]
for name, out in outputs.items():
    value = out["value"]
    if name.endswith("_instances"):
        group = name[: -len("_instances")]
        inv.setdefault(group, {})
        inv["all"]["children"].append(group)
        hosts = inv[group].setdefault("hosts", [])
        items = value.items() if isinstance(value, dict) else ((v, {}) for v in value)
        for host, attrs in items:
            hosts.append(host)
            hv = hostvars.setdefault(host, {"ansible_connection": "community.general.incus"})
            addr = attrs.get("ipv4_address")
            if addr:
                hv["ansible_host"] = addr
            hv["ansible_incus_host"] = host
            if attrs.get("project"):
                hv["ansible_incus_project"] = attrs["project"]
    elif name.endswith("_ansible_vars"):
        inv.setdefault(name[: -len("_ansible_vars")], {})["vars"] = value
print(json.dumps(inv))
"#;

fn main() {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_floe-inventory"));
    let python = real_python();
    let dir = tempfile::tempdir().expect("tempdir");
    let outputs_file = dir.path().join("outputs.json");
    std::fs::write(&outputs_file, outputs_json().to_string()).expect("write outputs");
    let script = dir.path().join("terraform_inventory.py");
    std::fs::write(&script, PYTHON_INVENTORY).expect("write python script");

    println!(
        "floe-inventory --list: {} hosts in {GROUPS} groups, {RUNS} runs per program (alternating), medians",
        GROUPS * HOSTS_PER_GROUP
    );
    println!(
        "  binary: {}\n  python: {}",
        bin.display(),
        python.display()
    );

    // 1. From a saved outputs document.
    let mut rust = Command::new(&bin);
    rust.arg("--list").arg("--file").arg(&outputs_file);
    let mut py = Command::new(&python);
    py.arg(&script).arg("--file").arg(&outputs_file);
    check_same_inventory(&mut rust, &mut py);
    let (r, p) = measure_pair(&mut rust, &mut py);
    report("--file (saved output -json)", r, p);

    // 2. Through real Terraform.
    match terraform_env(dir.path()) {
        Ok((tf, env)) => {
            let mut rust = Command::new(&bin);
            rust.arg("--list")
                .arg("--tool")
                .arg(&tf)
                .arg("--dir")
                .arg(&env);
            let mut py = Command::new(&python);
            py.arg(&script).arg("--dir").arg(&tf).arg(&env);
            for c in [&mut rust, &mut py] {
                c.env("CHECKPOINT_DISABLE", "1")
                    .env("TF_CLI_CONFIG_FILE", env.join("empty.tfrc"));
            }
            check_same_inventory(&mut rust, &mut py);
            let (r, p) = measure_pair(&mut rust, &mut py);
            report("--dir (terraform 1.0.3 output -json)", r, p);
        }
        Err(why) => println!("  --dir scenario not run: {why}"),
    }

    // 3. In-process, as the roles runner uses it, with the phases apart.
    let json = std::fs::read_to_string(&outputs_file).expect("read outputs");
    let options = inventory::Options::default();
    let (mut parse, mut map, mut render, mut total) = (vec![], vec![], vec![], vec![]);
    for _ in 0..LIB_RUNS {
        let t0 = Instant::now();
        let outputs = inventory::Outputs::parse(&json, "bench").expect("parse");
        let t1 = Instant::now();
        let inv = inventory::mapping::build_inventory(&outputs, "bench", &options).expect("map");
        let t2 = Instant::now();
        let text = serde_json::to_string(&inv.to_list_json()).expect("render");
        let t3 = Instant::now();
        std::hint::black_box(text);
        parse.push(t1 - t0);
        map.push(t2 - t1);
        render.push(t3 - t2);
        total.push(t3 - t0);
    }
    println!(
        "  library in-process, medians: parse {:.3} ms + map {:.3} ms + render --list {:.3} ms = {:.3} ms ({} bytes of JSON)",
        ms(median(&mut parse)),
        ms(median(&mut map)),
        ms(median(&mut render)),
        ms(median(&mut total)),
        json.len()
    );
}

/// 50 groups `gNN_instances` as maps name => {ipv4_address, project}, each with `gNN_ansible_vars`.
fn outputs_json() -> Value {
    let mut outputs = serde_json::Map::new();
    for g in 0..GROUPS {
        let mut hosts = serde_json::Map::new();
        for h in 0..HOSTS_PER_GROUP {
            let n = g * HOSTS_PER_GROUP + h;
            hosts.insert(
                format!("g{g:02}-h{h:02}"),
                json!({"ipv4_address": format!("10.{}.{}.{}", n / 65536, (n / 256) % 256, n % 256 + 1),
                       "project": "default"}),
            );
        }
        outputs.insert(
            format!("g{g:02}_instances"),
            json!({"sensitive": false, "type": "dynamic", "value": hosts}),
        );
        outputs.insert(
            format!("g{g:02}_ansible_vars"),
            json!({"sensitive": false, "type": "dynamic",
                   "value": {"service_port": 8000 + g, "service_version": "1.2.3", "labels": ["a", "b"]}}),
        );
    }
    Value::Object(outputs)
}

/// The same outputs produced by Terraform: an outputs-only config, applied once.
fn terraform_env(tmp: &Path) -> Result<(PathBuf, PathBuf), String> {
    let tf = std::env::var_os("TERRAFORM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/cache/floe/terraform-1.0.3/terraform"));
    if !tf.is_file() {
        return Err(format!("{} not found (run `make testbed`)", tf.display()));
    }
    let env = tmp.join("env");
    std::fs::create_dir_all(&env).map_err(|e| e.to_string())?;
    std::fs::write(env.join("empty.tfrc"), "").map_err(|e| e.to_string())?;
    let mut main_tf = String::new();
    for g in 0..GROUPS {
        main_tf.push_str(&format!(
            "output \"g{g:02}_instances\" {{\n  value = {{ for h in range({HOSTS_PER_GROUP}) : format(\"g{g:02}-h%02d\", h) => \
             {{ ipv4_address = \"10.0.{g}.${{h + 1}}\", project = \"default\" }} }}\n}}\n\
             output \"g{g:02}_ansible_vars\" {{\n  value = {{ service_port = {}, service_version = \"1.2.3\", labels = [\"a\", \"b\"] }}\n}}\n",
            8000 + g
        ));
    }
    std::fs::write(env.join("main.tf"), main_tf).map_err(|e| e.to_string())?;
    for args in [
        &["init", "-input=false", "-no-color"][..],
        &["apply", "-auto-approve", "-input=false", "-no-color"][..],
    ] {
        let out = Command::new(&tf)
            .args(args)
            .current_dir(&env)
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_CLI_CONFIG_FILE", env.join("empty.tfrc"))
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!(
                "terraform {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    Ok((tf, env))
}

/// Both programs must describe the same groups, hosts and host vars, or the comparison means nothing.
fn check_same_inventory(rust: &mut Command, py: &mut Command) {
    let parse = |c: &mut Command| -> Value {
        let out = c.output().expect("run");
        assert!(
            out.status.success(),
            "{:?} failed: {}",
            c,
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("JSON")
    };
    let r = parse(rust);
    let p = parse(py);
    assert_eq!(
        r["_meta"]["hostvars"], p["_meta"]["hostvars"],
        "hostvars differ"
    );
    assert_eq!(
        r["_meta"]["hostvars"].as_object().map(|m| m.len()),
        Some(GROUPS * HOSTS_PER_GROUP)
    );
    for g in 0..GROUPS {
        let name = format!("g{g:02}");
        assert_eq!(r[&name]["hosts"], p[&name]["hosts"], "hosts of {name}");
        assert_eq!(r[&name]["vars"], p[&name]["vars"], "vars of {name}");
    }
}

fn measure_pair(a: &mut Command, b: &mut Command) -> (Duration, Duration) {
    let mut ta = Vec::with_capacity(RUNS);
    let mut tb = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        ta.push(time(a));
        tb.push(time(b));
    }
    (median(&mut ta), median(&mut tb))
}

fn time(c: &mut Command) -> Duration {
    let start = Instant::now();
    let out = c.output().expect("run");
    let elapsed = start.elapsed();
    assert!(out.status.success());
    elapsed
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn report(scenario: &str, rust: Duration, python: Duration) {
    println!(
        "  {scenario:<40} floe-inventory {:>8.2} ms | python {:>8.2} ms | python/rust = {:.2}x",
        ms(rust),
        ms(python),
        python.as_secs_f64() / rust.as_secs_f64()
    );
}

/// The interpreter itself, not a pyenv shim (a shim adds a shell start to every Python run).
fn real_python() -> PathBuf {
    let out = Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .expect("python3 must be on PATH for the comparison");
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}
