//! Bad input: each playbook in tests/bad_input/ is broken in one way. It runs under real
//! `ansible-playbook` and under roles-runner; both must exit with the same code, say the
//! same thing, and point at the same place (file and line Ansible reports in its `Origin:`,
//! the failing task's banner for run-time errors), and no half-written or temporary file may
//! be left in the output directory. Hosts are the controller (`ansible_connection=local`),
//! except for the unreachable case, which names an Incus instance that does not exist.

mod support;

use std::path::Path;

use support::{Run, Tool, run_playbook, unique};

struct Bad {
    playbook: &'static str,
    exit_code: i32,
    /// A phrase both tools' messages contain.
    phrase: &'static str,
    /// Where the runner must point.
    location: Loc,
    /// Run-time failures: the banner of the failing task that must precede the `fatal:` line.
    task: Option<&'static str>,
    /// Files the playbook must have written completely before failing (relative to `out`).
    written: &'static [(&'static str, &'static str)],
}

enum Loc {
    /// The file and line of Ansible's first `Origin:`.
    AsAnsible,
    /// This file and line.
    At(&'static str, usize),
    /// Neither tool names a line (the task banner and the phrase say where).
    TaskOnly,
}

const BASE: Bad = Bad {
    playbook: "",
    exit_code: 4,
    phrase: "",
    location: Loc::AsAnsible,
    task: None,
    written: &[],
};

fn dir() -> std::path::PathBuf {
    support::tests_dir().join("bad_input")
}

fn local_inventory(at: &Path) -> std::path::PathBuf {
    let python = support::ansible_playbook().with_file_name("python3");
    let p = at.join("inventory.ini");
    std::fs::write(
        &p,
        format!(
            "[all]\nlocalhost ansible_connection=local ansible_python_interpreter={}\n",
            python.display()
        ),
    )
    .expect("inventory");
    p
}

fn text(r: &Run) -> String {
    format!("{}\n{}", r.stdout, r.stderr)
}

/// `Origin: /path/file.yml:LINE:COL` (ansible-core >= 2.19), first occurrence.
fn ansible_origin(r: &Run) -> Option<(String, usize)> {
    let re = regex::Regex::new(r"Origin: (\S+?):(\d+):\d+").expect("regex");
    let all = text(r);
    let c = re.captures(&all)?;
    let file = Path::new(&c[1]).file_name()?.to_string_lossy().into_owned();
    Some((file, c[2].parse().ok()?))
}

/// Does the runner's output name `file` at `line` (Ansible's older wording
/// "appears to be in 'FILE': line N", or minijinja's "(in FILE:N)")?
fn names_location(out: &str, file: &str, line: usize) -> bool {
    let patterns = [
        format!(
            r"appears to be in '[^']*{}': line {line}\b",
            regex::escape(file)
        ),
        format!(r"\(in [^)]*{}:{line}\)", regex::escape(file)),
        format!(r"{}:{line}\b", regex::escape(file)),
    ];
    patterns
        .iter()
        .any(|p| regex::Regex::new(p).expect("regex").is_match(out))
}

/// Everything under `dir`, relative, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn check(b: Bad) {
    let run = |tool: Tool| {
        let tmp = tempfile::tempdir().expect("tempdir");
        let out = tmp.path().join("out");
        std::fs::create_dir(&out).expect("out dir");
        let inv = if b.playbook == "unreachable.yml" {
            // An Incus instance that does not exist: unreachable, not failed.
            let p = tmp.path().join("inventory.ini");
            std::fs::write(
                &p,
                format!(
                    "[all]\n{}\n[all:vars]\nansible_connection=community.general.incus\nansible_python_interpreter=/usr/bin/python3\n",
                    unique("cf-absent")
                ),
            )
            .expect("inventory");
            p
        } else {
            local_inventory(tmp.path())
        };
        let args = vec!["-e".to_string(), format!("out={}", out.display())];
        let r = run_playbook(tool, &dir(), b.playbook, &inv, &args);
        (r, listing(&out), tmp)
    };
    let ((ra, la, ta), (rr, lr, tr)) = std::thread::scope(|s| {
        let a = s.spawn(|| run(Tool::Ansible));
        let r = s.spawn(|| run(Tool::Runner));
        (a.join().expect("ansible"), r.join().expect("runner"))
    });
    let both = format!("{}\n{}", ra.output(), rr.output());
    assert_eq!(
        ra.code, b.exit_code,
        "{}: ansible-playbook's exit code (the case itself is off)\n{both}",
        b.playbook
    );
    assert_eq!(rr.code, ra.code, "{}: exit code\n{both}", b.playbook);
    for r in [&ra, &rr] {
        assert!(
            text(r).contains(b.phrase),
            "{}: {:?} does not say {:?}\n{both}",
            b.playbook,
            r.tool,
            b.phrase
        );
    }
    let at = match b.location {
        Loc::At(f, l) => Some((f.to_string(), l)),
        Loc::AsAnsible => Some(
            ansible_origin(&ra)
                .unwrap_or_else(|| panic!("{}: no Origin in Ansible's output\n{both}", b.playbook)),
        ),
        Loc::TaskOnly => None,
    };
    if let Some((file, line)) = at {
        assert!(
            names_location(&text(&rr), &file, line),
            "{}: the runner does not name {file} line {line}\n{both}",
            b.playbook
        );
    }
    if b.task.is_none() {
        // A load-time error: the playbook is rejected before any task runs, and the runner
        // shows it as ansible-core 2.19 does: `[ERROR]:`, the same `Origin:` line (file, line
        // and column) and the same annotated source lines.
        assert!(
            text(&rr).contains("[ERROR]: "),
            "{}: no [ERROR] line\n{both}",
            b.playbook
        );
        // The `Origin:` line, then (after one blank line) the annotated source lines.
        let origin_block = |r: &Run| -> Vec<String> {
            let t = text(r);
            let mut lines = t.lines().skip_while(|l| !l.starts_with("Origin: "));
            let origin = lines.next().map(str::to_string);
            let source = lines
                .skip(1)
                .take_while(|l| !l.is_empty())
                .map(str::to_string);
            origin.into_iter().chain(source).collect()
        };
        if text(&ra).contains("Origin: ") {
            assert_eq!(
                origin_block(&rr),
                origin_block(&ra),
                "{}: Origin and source lines\n{both}",
                b.playbook
            );
        }
        for r in [&ra, &rr] {
            assert!(
                !r.stdout.contains("TASK ["),
                "{:?} ran tasks\n{both}",
                r.tool
            );
        }
    }
    if let Some(task) = b.task {
        for r in [&ra, &rr] {
            let out = &r.stdout;
            let banner = out
                .find(&format!("TASK [{task}]"))
                .unwrap_or_else(|| panic!("{:?}: no banner for {task}\n{both}", r.tool));
            let rest = &out[banner..];
            let next = rest[1..].find("\nTASK [").map_or(rest.len(), |i| i + 1);
            assert!(
                rest[..next].contains("fatal: ["),
                "{:?}: the failure is not reported under TASK [{task}]\n{both}",
                r.tool
            );
        }
    }
    // Same files left behind as Ansible, all complete, no temporary files.
    let expected: Vec<String> = b.written.iter().map(|(f, _)| f.to_string()).collect();
    assert_eq!(la, expected, "{}: ansible left {la:?}", b.playbook);
    assert_eq!(
        lr, expected,
        "{}: the runner left {lr:?}\n{both}",
        b.playbook
    );
    for (f, content) in b.written {
        let got = std::fs::read_to_string(tr.path().join("out").join(f)).unwrap_or_default();
        assert_eq!(&got, content, "{}: {f} is incomplete", b.playbook);
    }
    drop(ta);
}

#[test]
fn yaml_syntax_error() {
    check(Bad {
        playbook: "yaml_syntax.yml",
        phrase: "apping values are not allowed in this context",
        ..BASE
    });
}

#[test]
fn unknown_module() {
    check(Bad {
        playbook: "unknown_module.yml",
        phrase: "couldn't resolve module/action 'not_a_real_module'",
        ..BASE
    });
}

#[test]
fn unknown_keyword() {
    check(Bad {
        playbook: "unknown_keyword.yml",
        phrase: "'not_a_keyword' is not a valid attribute for a Block",
        ..BASE
    });
}

#[test]
fn missing_role() {
    check(Bad {
        playbook: "missing_role.yml",
        exit_code: 1,
        phrase: "the role 'no_such_role_anywhere' was not found in",
        ..BASE
    });
}

#[test]
fn undefined_variable() {
    check(Bad {
        playbook: "undefined_var.yml",
        exit_code: 2,
        phrase: "'not_defined_anywhere' is undefined",
        task: Some("uses an undefined variable"),
        written: &[("written", "ok\n")],
        ..BASE
    });
}

#[test]
fn template_error() {
    check(Bad {
        playbook: "template_error.yml",
        exit_code: 2,
        phrase: "broken.j2",
        // Ansible names the template file (no line) besides the task; the runner names the
        // template file and the line where the template ends unclosed.
        location: Loc::At("broken.j2", 3),
        task: Some("render a broken template"),
        ..BASE
    });
}

#[test]
fn argument_specs_violation() {
    check(Bad {
        playbook: "argspec.yml",
        exit_code: 2,
        phrase: "value of mode must be one of: fast, slow, got: medium",
        // Ansible names the role (validate_args_context) and the validation task, no line.
        location: Loc::TaskOnly,
        task: Some(
            "typed : Validating arguments against arg spec 'main' - A role with typed arguments",
        ),
        ..BASE
    });
}

#[test]
fn unreachable_instance() {
    check(Bad {
        playbook: "unreachable.yml",
        exit_code: 4,
        phrase: "UNREACHABLE!",
        location: Loc::TaskOnly,
        task: Some("needs the instance"),
        ..BASE
    });
}
