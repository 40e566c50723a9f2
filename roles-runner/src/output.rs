//! Output in the shape of Ansible's default stdout callback (banners of asterisks, `ok:`,
//! `changed:`, `skipping:`, `fatal:` lines, item labels, diffs, PLAY RECAP) plus the
//! `--json-log` event stream (one JSON object per line).

use std::io::Write;
use std::sync::Mutex;

use indexmap::IndexMap;
use serde_json::{Map, Value as Json, json};

use crate::template::filters_py_json_indent;

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
        }
    }

    pub fn line(&self, s: &str) {
        if let Ok(mut o) = self.out.lock() {
            let _ = writeln!(o, "{s}");
            let _ = o.flush();
        }
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
        let mark = if check { " [CHECK MODE]" } else { "" };
        if name.is_empty() {
            self.banner(&format!("PLAY{mark}"));
        } else {
            self.banner(&format!("PLAY [{name}]{mark}"));
        }
    }

    pub fn task(&self, prefix: &str, name: &str, path: Option<String>) {
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
        filters_py_json_indent(
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
        if self.diff {
            self.diffs(result);
        }
        let verbose = self.verbose(result);
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
                    s.push_str(&format!(" => {}", self.dump(result, true)));
                }
                s
            }
            ("skipped", None) => {
                let mut s = format!("skipping: [{host}]");
                if self.verbosity > 0 {
                    s.push_str(&format!(" => {}", self.dump(result, true)));
                }
                s
            }
            (st, label) => {
                let mut s = match label {
                    Some(l) => format!("{st}: [{host}] => (item={l})"),
                    None => format!("{st}: [{host}]"),
                };
                if verbose {
                    s.push_str(&format!(" => {}", self.dump(result, true)));
                }
                s
            }
        };
        self.line(&line);
        if ignored {
            self.line("...ignoring");
        }
    }

    fn diffs(&self, result: &Map<String, Json>) {
        if !result
            .get("changed")
            .and_then(Json::as_bool)
            .unwrap_or(false)
        {
            return;
        }
        let entries = match result.get("diff") {
            Some(Json::Array(a)) => a.clone(),
            Some(d @ Json::Object(_)) => vec![d.clone()],
            _ => return,
        };
        for d in entries {
            let text = |k: &str| match d.get(k) {
                Some(Json::String(s)) => s.clone(),
                Some(Json::Object(o)) => {
                    let mut s = String::new();
                    for (k, v) in o {
                        s.push_str(&format!(
                            "{k}: {}\n",
                            crate::modules::common::json_to_string(v)
                        ));
                    }
                    s
                }
                Some(other) => format!("{other}\n"),
                None => String::new(),
            };
            let bh = d
                .get("before_header")
                .and_then(Json::as_str)
                .unwrap_or("before")
                .to_string();
            let ah = d
                .get("after_header")
                .and_then(Json::as_str)
                .unwrap_or("after")
                .to_string();
            let u = crate::modules::common::unified_diff(&text("before"), &text("after"), &bh, &ah);
            if !u.is_empty() {
                self.line(u.trim_end_matches('\n'));
                self.line("");
            }
        }
    }

    pub fn recap(&self, stats: &IndexMap<String, HostStats>) {
        self.banner("PLAY RECAP");
        for (h, s) in stats {
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

fn col(name: &str, n: u32) -> String {
    format!("{name}={:<4}", n)
}

#[cfg(test)]
mod tests {
    use super::*;

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
