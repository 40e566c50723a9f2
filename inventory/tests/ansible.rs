//! Compatibility with real Ansible (`$ANSIBLE_VENV`): `ansible-inventory` runs the binary as an
//! executable inventory script, and `ansible -m ping` reaches a real container through
//! community.general.incus with the vars the inventory produced.

mod common;

use std::path::Path;
use std::process::Command;

use common::{
    BIN, ansible_bin, assert_success, inventory, sh_quote, tf_apply, unique, write_wrapper,
};
use inventory::Inventory;
use serde_json::{Value, json};

/// Ansible with a private temp dir, no colours, and inventory failures as hard errors (by default a
/// script that fails only produces a warning and an empty inventory, which would hide bugs).
fn ansible(tool: &str, tmp: &Path) -> Command {
    let mut c = Command::new(ansible_bin(tool));
    c.env("ANSIBLE_INVENTORY_UNPARSED_FAILED", "true")
        .env("ANSIBLE_INVENTORY_ENABLED", "script")
        .env("ANSIBLE_LOCAL_TEMP", tmp.join("ansible-tmp"))
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_PYTHON_INTERPRETER", "auto_silent")
        .env("LC_ALL", "C.UTF-8");
    c
}

/// Outputs with everything the mapping does: nesting, vars at several depths, a unicode group, a
/// renamed group, an ungrouped host, priorities, addresses and projects.
fn rich_outputs() -> String {
    let outputs = json!({
        "all_ansible_vars": {"sensitive": false, "type": "dynamic", "value": {"site": "lab", "port": 1,
            // Strings YAML 1.1 would turn into booleans, numbers, dates or null if left unquoted.
            "yaml_traps": {"a": "yes", "b": "on", "c": "0755", "d": "1_000", "e": "12:30", "f": "2001-01-01",
                           "g": "~", "h": "Off", "i": "", "j": "a: b", "k": "multi\nline", "l": [{"m": "no"}]},
            "big": 1e30, "ratio": 0.5}},
        "all_instances": {"sensitive": false, "type": "dynamic", "value": ["bastion"]},
        "web_instances": {"sensitive": false, "type": "dynamic", "value": {
            "web-1": {"ipv4_address": "10.123.0.21", "vars": {"weight": 1}},
            "web-2": {"ipv4_address": "10.123.0.22", "project": "shop"}
        }},
        "web_ansible_vars": {"sensitive": true, "type": "dynamic", "value": {"port": 80, "token": "t"}},
        "db_instances": {"sensitive": false, "type": "dynamic", "value": [{"name": "db-1", "groups": ["backup"]}]},
        "db_ansible_vars": {"sensitive": false, "type": "dynamic", "value": {"port": 5432, "ansible_group_priority": 5}},
        "backup_ansible_vars": {"sensitive": false, "type": "dynamic", "value": {"port": 9999}},
        "prod-eu_children": {"sensitive": false, "type": "dynamic", "value": ["web", "db"]},
        "prod-eu_ansible_vars": {"sensitive": false, "type": "dynamic", "value": {"tier": "prod", "port": 2}},
        "café_instances": {"sensitive": false, "type": "dynamic", "value": ["hôte-1"]},
        "incus_project": {"sensitive": false, "type": "string", "value": "default"}
    });
    outputs.to_string()
}

#[test]
fn ansible_inventory_reads_the_script_like_we_do() {
    let dir = tempfile::tempdir().expect("tempdir");
    let outputs = rich_outputs();
    let file = dir.path().join("outputs.json");
    std::fs::write(&file, &outputs).expect("write outputs");
    let wrapper = dir.path().join("inventory.sh");
    write_wrapper(
        &wrapper,
        &format!(
            "exec {} --quiet --file {} \"$@\"",
            sh_quote(BIN),
            sh_quote(&file.to_string_lossy())
        ),
    );

    let out = ansible("ansible-inventory", dir.path())
        .arg("-i")
        .arg(&wrapper)
        .arg("--list")
        .output()
        .expect("run ansible-inventory");
    assert_success("ansible-inventory --list", &out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("Invalid characters were found in group names"),
        "our group names must already be valid for Ansible: {stderr}"
    );
    let theirs: Value = serde_json::from_slice(&out.stdout).expect("ansible-inventory JSON");

    let ours = Inventory::from_outputs_json(&outputs).expect("our inventory");
    // Groups, hosts and children as Ansible understood them.
    for g in ours.groups().filter(|g| g.name != "all") {
        let hosts: Vec<&String> = g.hosts.iter().collect();
        let their_hosts = theirs[&g.name].get("hosts").cloned().unwrap_or(json!([]));
        assert_eq!(their_hosts, json!(hosts), "hosts of {}", g.name);
        let children: Vec<&String> = g.children.iter().collect();
        let their_children = theirs[&g.name]
            .get("children")
            .cloned()
            .unwrap_or(json!([]));
        assert_eq!(their_children, json!(children), "children of {}", g.name);
    }
    assert_eq!(theirs["ungrouped"]["hosts"], json!(["bastion"]));
    assert_eq!(
        theirs["café"]["hosts"],
        json!(["hôte-1"]),
        "unicode group kept as is"
    );
    assert!(
        theirs.get("prod_eu").is_some(),
        "renamed group present: {theirs}"
    );
    // ansible-inventory --list merges group vars into hostvars: this checks our variable
    // precedence (depth, priority, name, host) against Ansible's own.
    let their_hostvars = theirs["_meta"]["hostvars"].as_object().expect("hostvars");
    assert_eq!(their_hostvars.len(), ours.hosts().count());
    for h in ours.hosts() {
        let resolved = ours.resolved_host_vars(&h.name).expect("resolved");
        assert_eq!(
            their_hostvars[&h.name],
            Value::Object(resolved),
            "vars of {}",
            h.name
        );
    }
    assert_eq!(
        their_hostvars["db-1"]["port"],
        json!(5432),
        "priority 5 beats `backup`"
    );
    assert_eq!(their_hostvars["web-1"]["port"], json!(80));

    // --graph: same text as Ansible's.
    let out = ansible("ansible-inventory", dir.path())
        .arg("-i")
        .arg(&wrapper)
        .arg("--graph")
        .output()
        .expect("run ansible-inventory --graph");
    assert_success("ansible-inventory --graph", &out);
    let ours_graph = common::expect_success(inventory().args(["--graph", "--file"]).arg(&file));
    assert_eq!(ours_graph, String::from_utf8_lossy(&out.stdout));

    // --yaml: a static file Ansible's yaml plugin reads into the same inventory.
    let yaml = common::expect_success(inventory().args(["--yaml", "--file"]).arg(&file));
    let yaml_file = dir.path().join("static.yml");
    std::fs::write(&yaml_file, yaml).expect("write yaml");
    let out = ansible("ansible-inventory", dir.path())
        .env("ANSIBLE_INVENTORY_ENABLED", "yaml")
        .arg("-i")
        .arg(&yaml_file)
        .arg("--list")
        .output()
        .expect("run ansible-inventory on yaml");
    assert_success("ansible-inventory -i static.yml --list", &out);
    let from_yaml: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(from_yaml["_meta"]["hostvars"], theirs["_meta"]["hostvars"]);
    for g in ours.groups().filter(|g| g.name != "all") {
        assert_eq!(
            from_yaml[&g.name], theirs[&g.name],
            "group {} from YAML",
            g.name
        );
    }
}

/// A throw-away Incus project with one container; deleted on drop, also when the test fails.
struct Container {
    project: String,
    name: String,
}

impl Container {
    fn launch() -> Container {
        let image = std::env::var("FLOE_IMAGE").unwrap_or_else(|_| "local/debian12".into());
        // The guard exists before anything is created, so a failure half-way is cleaned up too.
        // (Drop runs while unwinding from a panic in here.)
        let c = Container {
            project: unique("floe-inv"),
            name: unique("inv-ping"),
        };
        // Images and profiles come from the default project (image alias, root disk, NIC).
        incus(&[
            "project",
            "create",
            &c.project,
            // Marked like the e2e harness's projects so `make test` sweeps a killed run's.
            "--description",
            &format!(
                "floe-test created={}",
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0)
            ),
            "-c",
            "features.images=false",
            "-c",
            "features.profiles=false",
        ]);
        incus(&["init", &image, &c.name, "--project", &c.project]);
        // The shared daemon sometimes fails a start when many instances start at once (its start
        // hook times out); that is not what this test is about, so a failed start is retried.
        let mut attempt = 0;
        loop {
            attempt += 1;
            let out = Command::new("incus")
                .args(["start", &c.name, "--project", &c.project])
                .output()
                .expect("run incus start");
            if out.status.success() {
                break;
            }
            assert!(
                attempt < 4,
                "incus start {} failed {attempt} times: {}",
                c.name,
                String::from_utf8_lossy(&out.stderr)
            );
            std::thread::sleep(std::time::Duration::from_secs(5));
        }
        // A marker only this container has (the image's /etc/hostname is the same everywhere).
        incus(&[
            "exec",
            &c.name,
            "--project",
            &c.project,
            "--",
            "sh",
            "-c",
            &format!("echo {} > /etc/floe-inventory-marker", c.name),
        ]);
        c
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        // A container whose start just failed can stay busy for a while (hooks time out), so retry.
        let run = |args: &[&str]| {
            Command::new("incus")
                .args(args)
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false)
        };
        for attempt in 0..10 {
            let instance_gone = run(&["delete", "--force", &self.name, "--project", &self.project])
                || !run(&["info", &self.name, "--project", &self.project]);
            if instance_gone && run(&["project", "delete", &self.project]) {
                return;
            }
            if attempt < 9 {
                std::thread::sleep(std::time::Duration::from_secs(3));
            }
        }
        eprintln!(
            "cleanup failed: remove it by hand: incus delete --force {} --project {} && incus project delete {}",
            self.name, self.project, self.project
        );
    }
}

fn incus(args: &[&str]) {
    let out = Command::new("incus")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run incus {args:?} (is Incus installed? `make testbed`): {e}"));
    assert_success(&format!("incus {}", args.join(" ")), &out);
}

#[test]
fn ansible_ping_reaches_a_container_through_the_inventory() {
    let container = Container::launch();
    let dir = tempfile::tempdir().expect("tempdir");
    let env = dir.path().join("env");
    std::fs::create_dir(&env).expect("mkdir env");
    // The address is deliberately one nothing answers on (TEST-NET-1): the incus connection must use
    // the instance name (`ansible_incus_host`), not `ansible_host`, to reach the container.
    let main_tf = r#"
variable "name" { type = string }
variable "project" { type = string }
output "pinged_instances" {
  value = { (var.name) = { ipv4_address = "192.0.2.10", project = var.project } }
}
output "pinged_ansible_vars" { value = { ansible_python_interpreter = "/usr/bin/python3" } }
"#;
    tf_apply(
        &env,
        main_tf,
        &[("name", &container.name), ("project", &container.project)],
    );
    let wrapper = dir.path().join("inventory.sh");
    write_wrapper(
        &wrapper,
        &format!(
            "export CHECKPOINT_DISABLE=1 TF_CLI_CONFIG_FILE={cfg}\nexec {bin} --quiet --tool {tf} --dir {env} \"$@\"",
            cfg = sh_quote(&env.join("empty.tfrc").to_string_lossy()),
            bin = sh_quote(BIN),
            tf = sh_quote(&common::terraform().to_string_lossy()),
            env = sh_quote(&env.to_string_lossy()),
        ),
    );

    let out = ansible("ansible", dir.path())
        .arg("-i")
        .arg(&wrapper)
        .args(["all", "-m", "ping", "-o"])
        .output()
        .expect("run ansible");
    assert_success("ansible all -m ping", &out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("{} | SUCCESS", container.name))
            && stdout.contains("\"ping\": \"pong\""),
        "{stdout}"
    );

    // And the command really ran inside that container (in its project): it sees the marker.
    let out = ansible("ansible", dir.path())
        .arg("-i")
        .arg(&wrapper)
        .args([
            "all",
            "-m",
            "command",
            "-a",
            "cat /etc/floe-inventory-marker",
            "-o",
        ])
        .output()
        .expect("run ansible command");
    assert_success("ansible all -m command -a 'cat marker'", &out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("(stdout) {}", container.name)),
        "{stdout}"
    );
}
