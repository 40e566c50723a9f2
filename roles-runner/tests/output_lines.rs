//! The default callback's status lines, compared line for line with real `ansible-playbook`
//! on the controller (`ansible_connection=local`), for the cases whose wording depends on
//! more than the status: delegated tasks (`host -> delegate(address)`), dynamic includes
//! (`included:` lines, looped ones with their item, and their `ok` counts in the recap).

mod support;

use support::{Tool, run_playbook};

/// `ok:`/`changed:`/`skipping:`/`fatal:`/`failed:`/`included:` lines and the recap, without
/// the dumped results.
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
                "included:",
                "web1 ",
                "other ",
            ]
            .iter()
            .any(|p| l.starts_with(p))
        })
        .map(|l| l.split(" => {").next().unwrap_or(l).trim_end().to_string())
        .collect()
}

/// Runs `playbook` under both tools with `args` and compares the lines. Ansible orders a
/// dynamic include's hosts by the arrival of their results, so multi-host cases use `-f 1`.
fn compare(playbook: &str, args: &[&str]) -> Vec<String> {
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
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let ansible = run_playbook(Tool::Ansible, &dir, playbook, &inventory, &args);
    let runner = run_playbook(Tool::Runner, &dir, playbook, &inventory, &args);
    let expected = status_lines(&ansible.stdout);
    assert_eq!(
        status_lines(&runner.stdout),
        expected,
        "\n{}\n{}",
        ansible.output(),
        runner.output()
    );
    assert_eq!(runner.code, ansible.code);
    expected
}

#[test]
fn delegated_task_lines_match_ansible() {
    let lines = compare("delegated.yml", &["-l", "web1"]);
    assert!(
        lines.iter().any(|l| l.contains("-> other(127.0.0.1)")),
        "{lines:?}"
    );
}

#[test]
fn include_lines_and_counts_match_ansible() {
    let lines = compare("includes.yml", &["-f", "1"]);
    assert!(lines.iter().any(|l| l.contains("=> (item=a)")), "{lines:?}");
}
