//! Bad input: every error names the file, the line and (for run-time errors) the task, and
//! the exit code follows ansible-playbook. Most cases need no instance; the unreachable one
//! asks the real Incus daemon for an instance that does not exist.

mod common;

use std::path::Path;
use std::process::Command;

fn write(dir: &Path, name: &str, text: &str) {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(p, text).expect("write");
}

/// Run the runner against localhost (local connection); returns (exit code, stdout+stderr).
fn run(dir: &Path, playbook: &str, extra: &[&str]) -> (i32, String) {
    write(
        dir,
        "inv.ini",
        "[web]\nlocalhost ansible_connection=local\n",
    );
    let out = Command::new(common::runner())
        .current_dir(dir)
        .args(["-i", "inv.ini", playbook])
        .args(extra)
        .output()
        .expect("runner");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn yaml_syntax_error_names_file_and_line() {
    let d = tempfile::tempdir().expect("tmp");
    write(
        d.path(),
        "pb.yml",
        "- hosts: web\n  tasks:\n    - name: broken\n      debug: {msg: [1, 2}\n",
    );
    let (code, out) = run(d.path(), "pb.yml", &[]);
    assert_eq!(code, 4, "{out}");
    assert!(out.contains("pb.yml': line 4"), "{out}");
    assert!(out.contains("Syntax Error while loading YAML"), "{out}");
}

#[test]
fn unknown_module_names_file_and_line() {
    let d = tempfile::tempdir().expect("tmp");
    write(
        d.path(),
        "pb.yml",
        "- hosts: web\n  gather_facts: false\n  tasks:\n    - name: ok\n      debug: msg=hi\n    - name: typo\n      ansible.builtin.copyy:\n        dest: /tmp/x\n",
    );
    let (code, out) = run(d.path(), "pb.yml", &[]);
    assert_eq!(code, 4, "{out}");
    assert!(
        out.contains("couldn't resolve module/action 'ansible.builtin.copyy'"),
        "{out}"
    );
    assert!(out.contains("pb.yml': line 6"), "{out}");
    // Nothing ran: the playbook is rejected before any task.
    assert!(!out.contains("TASK [ok]"), "{out}");
}

#[test]
fn unknown_keyword_names_file_and_line() {
    let d = tempfile::tempdir().expect("tmp");
    write(
        d.path(),
        "pb.yml",
        "- hosts: web\n  gather_facts: false\n  tasks:\n    - name: bad keyword\n      debug: msg=hi\n      whenn: true\n",
    );
    let (code, out) = run(d.path(), "pb.yml", &[]);
    assert_eq!(code, 4, "{out}");
    assert!(
        out.contains("'whenn' is not a valid attribute for a Task"),
        "{out}"
    );
    assert!(out.contains("pb.yml': line 6"), "{out}");
    write(
        d.path(),
        "pb2.yml",
        "- hosts: web\n  gather_fact: false\n  tasks: []\n",
    );
    let (code, out) = run(d.path(), "pb2.yml", &[]);
    assert_eq!(code, 4, "{out}");
    assert!(
        out.contains("'gather_fact' is not a valid attribute for a Play") && out.contains("line 2"),
        "{out}"
    );
}

#[test]
fn missing_role_names_file_and_line() {
    let d = tempfile::tempdir().expect("tmp");
    write(
        d.path(),
        "pb.yml",
        "- hosts: web\n  roles:\n    - exists\n    - nope\n",
    );
    write(d.path(), "roles/exists/tasks/main.yml", "- debug: msg=hi\n");
    let (code, out) = run(d.path(), "pb.yml", &[]);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("the role 'nope' was not found"), "{out}");
    assert!(out.contains("pb.yml': line 4"), "{out}");
}

#[test]
fn undefined_variable_fails_the_task_with_its_location() {
    let d = tempfile::tempdir().expect("tmp");
    let target = d.path().join("out.txt");
    write(
        d.path(),
        "pb.yml",
        &format!(
            "- hosts: web\n  gather_facts: false\n  tasks:\n    - name: write with undefined\n      copy:\n        content: \"{{{{ not_defined_anywhere }}}}\"\n        dest: {}\n",
            target.display()
        ),
    );
    let (code, out) = run(d.path(), "pb.yml", &[]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("TASK [write with undefined]"), "{out}");
    assert!(out.contains("fatal: [localhost]: FAILED!"), "{out}");
    assert!(out.contains("not_defined_anywhere"), "{out}");
    assert!(out.contains("pb.yml': line 4"), "{out}");
    assert!(!target.exists(), "no file may be written");
}

#[test]
fn template_error_fails_without_partial_file() {
    let d = tempfile::tempdir().expect("tmp");
    let target = d.path().join("rendered.conf");
    std::fs::write(&target, "old content\n").expect("seed");
    write(
        d.path(),
        "templates/bad.j2",
        "line1\n{% for x in items %}\n{{ x }\n{% endfor %}\n",
    );
    write(
        d.path(),
        "pb.yml",
        &format!(
            "- hosts: web\n  gather_facts: false\n  tasks:\n    - name: render broken template\n      template:\n        src: bad.j2\n        dest: {}\n",
            target.display()
        ),
    );
    let (code, out) = run(d.path(), "pb.yml", &[]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("TASK [render broken template]"), "{out}");
    assert!(out.contains("bad.j2"), "{out}");
    assert_eq!(
        std::fs::read_to_string(&target).expect("still there"),
        "old content\n",
        "the old file must be untouched"
    );
    let leftovers: Vec<_> = std::fs::read_dir(d.path())
        .expect("ls")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("floetmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left behind");
}

#[test]
fn argument_spec_violation_is_reported_by_the_validation_task() {
    let d = tempfile::tempdir().expect("tmp");
    write(
        d.path(),
        "pb.yml",
        "- hosts: web\n  gather_facts: false\n  roles:\n    - role: svc\n      svc_port: http\n",
    );
    write(
        d.path(),
        "roles/svc/tasks/main.yml",
        "- name: never reached\n  debug: msg=hi\n",
    );
    write(
        d.path(),
        "roles/svc/meta/argument_specs.yml",
        "argument_specs:\n  main:\n    options:\n      svc_port:\n        type: int\n      svc_name:\n        type: str\n        required: true\n",
    );
    let (code, out) = run(d.path(), "pb.yml", &[]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("TASK [svc : Validating arguments against arg spec 'main']"),
        "{out}"
    );
    assert!(
        out.contains("argument 'svc_port' is of type str and we were unable to convert to int"),
        "{out}"
    );
    assert!(
        out.contains("missing required arguments: svc_name"),
        "{out}"
    );
    assert!(!out.contains("TASK [svc : never reached]"), "{out}");
}

#[test]
fn unreachable_instance_exits_4() {
    let d = tempfile::tempdir().expect("tmp");
    let name = common::unique("rr-missing");
    write(
        d.path(),
        "inv.ini",
        &format!("[web]\n{name}\n[web:vars]\nansible_connection=community.general.incus\n"),
    );
    write(
        d.path(),
        "pb.yml",
        "- hosts: web\n  tasks:\n    - name: never\n      command: true\n",
    );
    let out = Command::new(common::runner())
        .current_dir(d.path())
        .args(["-i", "inv.ini", "pb.yml"])
        .output()
        .expect("runner");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(4), "{text}");
    assert!(
        text.contains(&format!("fatal: [{name}]: UNREACHABLE!")),
        "{text}"
    );
    assert!(text.contains("TASK [Gathering Facts]"), "{text}");
    assert!(text.contains("unreachable=1"), "{text}");
}
