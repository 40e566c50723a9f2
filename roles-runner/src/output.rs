//! Output in the shape of Ansible's default stdout callback (banners of asterisks, `ok:`,
//! `changed:`, `skipping:`, `fatal:` lines, item labels, diffs, PLAY RECAP) plus the
//! `--json-log` event stream (one JSON object per line).

use std::io::Write;
use std::sync::Mutex;

use indexmap::IndexMap;
use serde_json::{Map, Value as Json, json};

use crate::difflib::{splitlines_keepends, unified_diff};
use crate::progress::Progress;
use crate::template::{filters_py_json_indent, filters_py_json_results, json_truthy};

#[derive(Debug, Default, Clone)]
pub struct HostStats {
    pub ok: u32,
    pub changed: u32,
    pub unreachable: u32,
    pub failed: u32,
    pub skipped: u32,
    pub rescued: u32,
    pub ignored: u32,
}

pub struct Output {
    pub verbosity: u8,
    pub diff: bool,
    out: Mutex<Box<dyn Write + Send>>,
    json_log: Option<Mutex<std::fs::File>>,
    columns: usize,
    /// The live progress line (only on a terminal, see `progress::enabled`).
    progress: Option<Mutex<Progress>>,
}

/// Keys Ansible strips from results before showing them.
const INTERNAL: &[&str] = &[
    "_ansible_verbose_always",
    "_ansible_no_log",
    "_set_fact",
    "diff",
    "_ansible_item_label",
    "invocation",
];

impl Output {
    pub fn new(verbosity: u8, diff: bool, json_log: Option<std::fs::File>) -> Output {
        // Ansible: columns = max(79, terminal width - 1); 79 without a terminal.
        let columns = std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.parse::<usize>().ok())
            .map(|c| c.saturating_sub(1).max(79))
            .unwrap_or(79);
        Output {
            verbosity,
            diff,
            out: Mutex::new(Box::new(std::io::stdout())),
            json_log: json_log.map(Mutex::new),
            columns,
            progress: crate::progress::enabled(verbosity)
                .then(|| Mutex::new(Progress::new(crate::progress::width()))),
        }
    }

    /// Write to stdout with the progress line (stderr) erased first and drawn again after.
    fn write_out(&self, text: &[u8]) {
        let mut progress = self
            .progress
            .as_ref()
            .map(|p| p.lock().unwrap_or_else(|e| e.into_inner()));
        if let Some(p) = progress.as_deref_mut()
            && p.shown
        {
            eprint!("{}", crate::progress::ERASE);
            p.shown = false;
        }
        if let Ok(mut o) = self.out.lock() {
            let _ = o.write_all(text);
            let _ = o.flush();
        }
        if let Some(p) = progress.as_deref_mut() {
            Self::draw(p);
        }
    }

    fn draw(p: &mut Progress) {
        let mut err = std::io::stderr();
        let _ = match p.render() {
            Some(line) => {
                p.shown = true;
                write!(err, "{}{line}", crate::progress::ERASE)
            }
            None if p.shown => {
                p.shown = false;
                write!(err, "{}", crate::progress::ERASE)
            }
            None => Ok(()),
        };
        let _ = err.flush();
    }

    fn with_progress(&self, f: impl FnOnce(&mut Progress)) {
        if let Some(p) = &self.progress {
            let mut p = p.lock().unwrap_or_else(|e| e.into_inner());
            f(&mut p);
            Self::draw(&mut p);
        }
    }

    /// A play starts with `total` tasks (progress line).
    pub fn progress_plan(&self, total: usize) {
        self.with_progress(|p| p.plan(total));
    }

    /// The current task runs on `hosts` hosts (progress line).
    pub fn progress_hosts(&self, hosts: usize) {
        self.with_progress(|p| p.set_hosts(hosts));
    }

    /// One host finished the current task (progress line).
    pub fn progress_host_done(&self) {
        self.with_progress(|p| p.host_done());
    }

    fn raw(&self, s: &str, newline: bool) {
        let mut text = s.to_string();
        if newline {
            text.push('\n');
        }
        self.write_out(text.as_bytes());
    }

    pub fn line(&self, s: &str) {
        self.write_out(format!("{s}\n").as_bytes());
    }

    /// `\nTASK [name] *****...` padded to the terminal width (79 columns without a TTY, like Ansible).
    pub fn banner(&self, msg: &str) {
        let msg = msg.trim();
        let width = msg.chars().count();
        let stars = if self.columns > width + 3 {
            self.columns - width
        } else {
            3
        };
        self.line(&format!("\n{msg} {}", "*".repeat(stars)));
    }

    pub fn play(&self, name: &str, check: bool) {
        // The default callback's check_mode_markers option is off unless configured.
        let markers = std::env::var("ANSIBLE_CHECK_MODE_MARKERS")
            .ok()
            .and_then(|v| crate::modules::common::to_bool(&Json::String(v)))
            .unwrap_or(false);
        let mark = if check && markers {
            " [CHECK MODE]"
        } else {
            ""
        };
        if name.is_empty() {
            self.banner(&format!("PLAY{mark}"));
        } else {
            self.banner(&format!("PLAY [{name}]{mark}"));
        }
    }

    pub fn task(&self, prefix: &str, name: &str, path: Option<String>) {
        if let Some(p) = &self.progress {
            p.lock().unwrap_or_else(|e| e.into_inner()).start_task(name);
        }
        self.banner(&format!("{prefix} [{name}]"));
        if self.verbosity >= 2
            && let Some(p) = path
        {
            self.line(&format!("task path: {p}"));
        }
    }

    /// Ansible's `_dump_results`: cleaned result as sorted JSON (indented when verbose).
    pub fn dump(&self, result: &Map<String, Json>, indent: bool) -> String {
        let mut clean = Map::new();
        let no_log = result
            .get("_ansible_no_log")
            .and_then(Json::as_bool)
            .unwrap_or(false);
        for (k, v) in result {
            if INTERNAL.contains(&k.as_str()) {
                continue;
            }
            clean.insert(k.clone(), v.clone());
        }
        if no_log {
            clean = Map::new();
            clean.insert("censored".into(), json!("the output has been hidden due to the fact that 'no_log: true' was specified for this result"));
            clean.insert(
                "changed".into(),
                result.get("changed").cloned().unwrap_or(json!(false)),
            );
        }
        filters_py_json_results(
            &Json::Object(clean),
            if indent || self.verbosity > 2 {
                Some(4)
            } else {
                None
            },
        )
    }

    fn verbose(&self, result: &Map<String, Json>) -> bool {
        self.verbosity > 0
            || result
                .get("_ansible_verbose_always")
                .and_then(Json::as_bool)
                .unwrap_or(false)
    }

    /// The result of a task without loop, or of one loop item when `item_label` is set.
    pub fn result(
        &self,
        status: &str,
        host: &str,
        result: &Map<String, Json>,
        item_label: Option<&str>,
        ignored: bool,
    ) {
        self.diffs(result);
        let verbose = self.verbose(result);
        // ansible-core 2.19 indents a dumped result only for `_ansible_verbose_always`
        // (debug) and from -vvv on; `-v` prints it on one line.
        let indent = result
            .get("_ansible_verbose_always")
            .and_then(Json::as_bool)
            .unwrap_or(false);
        let line = match (status, item_label) {
            ("failed", None) => format!("fatal: [{host}]: FAILED! => {}", self.dump(result, false)),
            ("failed", Some(l)) => format!(
                "failed: [{host}] (item={l}) => {}",
                self.dump(result, false)
            ),
            ("unreachable", _) => format!(
                "fatal: [{host}]: UNREACHABLE! => {}",
                self.dump(result, false)
            ),
            ("skipped", Some(l)) => {
                let mut s = format!("skipping: [{host}] => (item={l}) ");
                if self.verbosity > 0 {
                    s.push_str(&format!(" => {}", self.dump(result, indent)));
                }
                s
            }
            ("skipped", None) => {
                let mut s = format!("skipping: [{host}]");
                if self.verbosity > 0 {
                    s.push_str(&format!(" => {}", self.dump(result, indent)));
                }
                s
            }
            (st, label) => {
                let mut s = match label {
                    Some(l) => format!("{st}: [{host}] => (item={l})"),
                    None => format!("{st}: [{host}]"),
                };
                if verbose {
                    s.push_str(&format!(" => {}", self.dump(result, indent)));
                }
                s
            }
        };
        self.line(&line);
        if ignored {
            self.line("...ignoring");
        }
    }

    /// The default callback's `v2_on_file_diff`: the `diff` of a changed result, before its
    /// status line. Modules only return `diff` in diff mode (`-D` or the task's `diff:`).
    fn diffs(&self, result: &Map<String, Json>) {
        let changed = result
            .get("changed")
            .and_then(Json::as_bool)
            .unwrap_or(false);
        let no_log = result
            .get("_ansible_no_log")
            .and_then(Json::as_bool)
            .unwrap_or(false);
        let Some(diff) = result.get("diff") else {
            return;
        };
        if !changed || no_log || !json_truthy(diff) {
            return;
        }
        let text = render_diff(diff);
        if !text.is_empty() {
            // Display.display adds a newline only when the text does not end in one.
            self.raw(&text, !text.ends_with('\n'));
        }
    }

    pub fn recap(&self, stats: &IndexMap<String, HostStats>) {
        self.with_progress(|p| p.finish());
        self.banner("PLAY RECAP");
        // The default callback lists hosts sorted by name.
        let mut hosts: Vec<(&String, &HostStats)> = stats.iter().collect();
        hosts.sort_by(|a, b| a.0.cmp(b.0));
        for (h, s) in hosts {
            self.line(&format!(
                "{:<26} : {} {} {} {} {} {} {}",
                h,
                col("ok", s.ok),
                col("changed", s.changed),
                col("unreachable", s.unreachable),
                col("failed", s.failed),
                col("skipped", s.skipped),
                col("rescued", s.rescued),
                col("ignored", s.ignored)
            ));
        }
        self.line("");
    }

    /// One JSON line in `--json-log`.
    pub fn event(&self, ev: Json) {
        if let Some(f) = &self.json_log
            && let Ok(mut f) = f.lock()
        {
            let _ = writeln!(f, "{ev}");
        }
    }
}

/// Ansible's `MAX_FILE_SIZE_FOR_DIFF` default: larger files are not diffed.
pub const MAX_FILE_SIZE_FOR_DIFF: usize = 104_448;

/// Ansible's `DIFF_CONTEXT` default.
const DIFF_CONTEXT: usize = 3;

/// The default callback's `_get_diff`: each entry of a result's `diff` (a dict or a list of
/// dicts) becomes the "diff skipped" notes it carries, plus a unified diff of `before` and
/// `after` (dicts serialised as sorted, 4-space indented JSON, like `_serialize_diff`) under
/// `--- before[: before_header]` / `+++ after[: after_header]`, then a blank line; then its
/// `prepared` text as is.
pub fn render_diff(diff: &Json) -> String {
    let entries = match diff {
        Json::Array(a) => a.iter().collect::<Vec<_>>(),
        other => vec![other],
    };
    let mut out = String::new();
    for d in entries {
        let Json::Object(d) = d else { continue };
        if d.contains_key("dst_binary") {
            out.push_str("diff skipped: destination file appears to be binary\n");
        }
        if d.contains_key("src_binary") {
            out.push_str("diff skipped: source file appears to be binary\n");
        }
        if let Some(n) = d.get("dst_larger") {
            out.push_str(&format!(
                "diff skipped: destination file size is greater than {}\n",
                crate::modules::common::json_to_string(n)
            ));
        }
        if let Some(n) = d.get("src_larger") {
            out.push_str(&format!(
                "diff skipped: source file size is greater than {}\n",
                crate::modules::common::json_to_string(n)
            ));
        }
        if let (Some(before), Some(after)) = (d.get("before"), d.get("after")) {
            let text = |v: &Json| match v {
                Json::String(s) => s.clone(),
                Json::Null => String::new(),
                other => format!("{}\n", filters_py_json_indent(other, Some(4))),
            };
            let header = |key: &str, word: &str| match d.get(key) {
                Some(h) => format!("{word}: {}", crate::modules::common::json_to_string(h)),
                None => word.to_string(),
            };
            let (before, after) = (text(before), text(after));
            let lines = |t: &str| -> Vec<String> {
                let mut l: Vec<String> = splitlines_keepends(t)
                    .into_iter()
                    .map(String::from)
                    .collect();
                if let Some(last) = l.last_mut()
                    && !last.ends_with('\n')
                {
                    last.push_str("\n\\ No newline at end of file\n");
                }
                l
            };
            let (a, b) = (lines(&before), lines(&after));
            let a: Vec<&str> = a.iter().map(String::as_str).collect();
            let b: Vec<&str> = b.iter().map(String::as_str).collect();
            let u = unified_diff(
                &a,
                &b,
                &header("before_header", "before"),
                &header("after_header", "after"),
                DIFF_CONTEXT,
            );
            if !u.is_empty() {
                out.push_str(&u);
                out.push('\n');
            }
        }
        if let Some(p) = d.get("prepared") {
            out.push_str(&crate::modules::common::json_to_string(p));
        }
    }
    out
}

fn col(name: &str, n: u32) -> String {
    format!("{name}={:<4}", n)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected texts: what ansible-core 2.19's default callback printed for these results
    // (tests/conformance/diff.yml compares whole runs against it).
    #[test]
    fn content_diff_headers() {
        let d = json!({"before": "", "after": "alpha\nbeta\n", "after_header": "/opt/x"});
        assert_eq!(
            render_diff(&d),
            "--- before\n+++ after: /opt/x\n@@ -0,0 +1,2 @@\n+alpha\n+beta\n\n"
        );
        let d = json!([{"before": "x", "after": "x\ny", "before_header": "/f (content)", "after_header": "/f (content)"}, {"before_header": "/f (file attributes)", "after_header": "/f (file attributes)"}]);
        assert_eq!(
            render_diff(&d),
            "--- before: /f (content)\n+++ after: /f (content)\n@@ -1 +1,2 @@\n-x\n\\ No newline at end of file\n+x\n+y\n\\ No newline at end of file\n\n"
        );
    }

    #[test]
    fn dict_diff_is_sorted_indented_json() {
        let d = json!({"before": {"path": "/opt/d/sub", "state": "absent", "mode": "0755"},
                       "after": {"path": "/opt/d/sub", "state": "directory", "mode": "0700"}});
        assert_eq!(
            render_diff(&d),
            "--- before\n+++ after\n@@ -1,5 +1,5 @@\n {\n-    \"mode\": \"0755\",\n+    \"mode\": \"0700\",\n     \"path\": \"/opt/d/sub\",\n-    \"state\": \"absent\"\n+    \"state\": \"directory\"\n }\n\n"
        );
    }

    #[test]
    fn skipped_notes_and_no_change() {
        let d = json!({"dst_binary": 1, "src_larger": 104448});
        assert_eq!(
            render_diff(&d),
            "diff skipped: destination file appears to be binary\ndiff skipped: source file size is greater than 104448\n"
        );
        assert_eq!(render_diff(&json!({"before": "a\n", "after": "a\n"})), "");
    }

    #[test]
    fn recap_columns() {
        assert_eq!(
            format!(
                "{:<26} : {} {}",
                "ab-bench-1",
                col("ok", 35),
                col("changed", 22)
            ),
            "ab-bench-1                 : ok=35   changed=22  "
        );
    }
}
