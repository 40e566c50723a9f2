//! The default callback's status lines, compared line for line with real `ansible-playbook`
//! on the controller (`ansible_connection=local`), for the cases whose wording depends on
//! more than the status: delegated tasks (`host -> delegate(address)`).

mod support;

use support::{Tool, run_playbook};

/// `ok:`/`changed:`/`skipping:`/`fatal:`/`failed:` lines, without the dumped results.
fn status_lines(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter(|l| {
            [
                "ok:",
                "changed:",
                "skipping:",
                "fatal:",
                "failed:",
                "...ignoring",
            ]
            .iter()
            .any(|p| l.starts_with(p))
        })
        .map(|l| l.split(" => {").next().unwrap_or(l).trim_end().to_string())
        .collect()
}

#[test]
fn delegated_task_lines_match_ansible() {
    let dir = support::tests_dir().join("output_lines");
    let tmp = tempfile::tempdir().expect("temp dir");
    let python = support::ansible_playbook().with_file_name("python3");
    let inventory = tmp.path().join("inventory.ini");
    std::fs::write(
        &inventory,
        format!(
            "web1 ansible_connection=local ansible_python_interpreter={p}\n\
             other ansible_connection=local ansible_host=127.0.0.1 ansible_python_interpreter={p}\n",
            p = python.display()
        ),
    )
    .expect("inventory");
    let ansible = run_playbook(Tool::Ansible, &dir, "delegated.yml", &inventory, &[]);
    let runner = run_playbook(Tool::Runner, &dir, "delegated.yml", &inventory, &[]);
    let expected = status_lines(&ansible.stdout);
    assert!(
        expected.iter().any(|l| l.contains("-> other(127.0.0.1)")),
        "{}",
        ansible.output()
    );
    assert_eq!(
        status_lines(&runner.stdout),
        expected,
        "\n{}\n{}",
        ansible.output(),
        runner.output()
    );
    assert_eq!(runner.code, ansible.code);
}
