//! The live progress line on a terminal: `[task 12/35] NAME — 2/3 hosts done`, on stderr,
//! rewritten in place (`\r` + erase to end of line) as hosts finish, erased before every
//! line of normal output and drawn again below it.
//!
//! Only when both stdout and stderr are terminals and the run is not verbose: logs, pipes
//! and tests see exactly Ansible's output, never a control character.

use std::io::IsTerminal;

use crate::playbook::Item;

/// Carriage return + "erase to end of line".
pub const ERASE: &str = "\r\x1b[K";

/// Whether a progress line may be shown at all.
pub fn enabled(verbosity: u8) -> bool {
    verbosity == 0
        && std::io::stdout().is_terminal()
        && std::io::stderr().is_terminal()
        && std::env::var("TERM").map_or(true, |t| t != "dumb")
}

/// Terminal width: `$COLUMNS` (what Ansible's banners use too), else 80.
pub fn width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse::<usize>().ok())
        .filter(|c| *c > 10)
        .unwrap_or(80)
}

/// Tasks in a list of items, blocks counted by their tasks (for the `/35`; includes add
/// tasks later, then the total grows).
pub fn count_tasks(items: &[Item]) -> usize {
    items
        .iter()
        .map(|i| match i {
            Item::Task(_) => 1,
            Item::Block(b) => {
                count_tasks(&b.block) + count_tasks(&b.rescue) + count_tasks(&b.always)
            }
        })
        .sum()
}

/// The line itself, cut to `width - 1` characters (a line that wraps could not be erased
/// with `\r`).
pub fn render_line(
    task_no: usize,
    total: usize,
    name: &str,
    done: usize,
    hosts: usize,
    width: usize,
) -> String {
    let host_word = if hosts == 1 { "host" } else { "hosts" };
    let line = format!("[task {task_no}/{total}] {name} — {done}/{hosts} {host_word} done");
    let max = width.saturating_sub(1).max(1);
    if line.chars().count() <= max {
        return line;
    }
    // Shorten the task name, keep the counters.
    let head = format!("[task {task_no}/{total}] ");
    let tail = format!(" — {done}/{hosts} {host_word} done");
    let room = max.saturating_sub(head.chars().count() + tail.chars().count());
    if room >= 2 {
        let cut: String = name.chars().take(room - 1).collect();
        format!("{head}{cut}…{tail}")
    } else {
        line.chars().take(max).collect()
    }
}

/// State of the line; [`crate::output::Output`] owns it and draws it.
#[derive(Debug, Default)]
pub struct Progress {
    task_no: usize,
    total: usize,
    name: String,
    hosts: usize,
    done: usize,
    /// A task is running (nothing is drawn between plays and after the recap).
    active: bool,
    /// The line is on the screen now.
    pub shown: bool,
    width: usize,
}

impl Progress {
    pub fn new(width: usize) -> Progress {
        Progress {
            width,
            ..Default::default()
        }
    }

    /// A new play with `total` tasks.
    pub fn plan(&mut self, total: usize) {
        self.task_no = 0;
        self.total = total;
        self.active = false;
    }

    /// Called with the task banner; drawn once its hosts are known.
    pub fn start_task(&mut self, name: &str) {
        self.task_no += 1;
        self.total = self.total.max(self.task_no);
        self.name = name.to_string();
        self.hosts = 0;
        self.done = 0;
        self.active = false;
    }

    pub fn set_hosts(&mut self, hosts: usize) {
        self.hosts = hosts;
        self.active = true;
    }

    pub fn host_done(&mut self) {
        self.done += 1;
        self.hosts = self.hosts.max(self.done);
    }

    /// No more line (end of the run).
    pub fn finish(&mut self) {
        self.active = false;
    }

    /// What to draw now, if anything.
    pub fn render(&self) -> Option<String> {
        self.active.then(|| {
            render_line(
                self.task_no,
                self.total,
                &self.name,
                self.done,
                self.hosts,
                self.width,
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_shape_and_cut() {
        assert_eq!(
            render_line(12, 35, "install nginx", 2, 3, 80),
            "[task 12/35] install nginx — 2/3 hosts done"
        );
        assert_eq!(
            render_line(1, 1, "x", 0, 1, 80),
            "[task 1/1] x — 0/1 host done"
        );
        let long = "a very long task name that does not fit on a narrow terminal at all";
        let l = render_line(3, 9, long, 1, 10, 40);
        assert_eq!(l.chars().count(), 39, "{l}");
        assert!(
            l.starts_with("[task 3/9] a very") && l.ends_with("… — 1/10 hosts done"),
            "{l}"
        );
        // Too narrow even for the counters: still one line, never wider.
        assert_eq!(render_line(3, 9, long, 1, 10, 12).chars().count(), 11);
    }

    #[test]
    fn state_follows_tasks_and_hosts() {
        let mut p = Progress::new(80);
        assert_eq!(p.render(), None);
        p.plan(2);
        p.start_task("first");
        assert_eq!(p.render(), None, "not before its hosts are known");
        p.set_hosts(3);
        p.host_done();
        assert_eq!(
            p.render().as_deref(),
            Some("[task 1/2] first — 1/3 hosts done")
        );
        p.start_task("second");
        p.start_task("included later");
        p.set_hosts(1);
        assert_eq!(
            p.render().as_deref(),
            Some("[task 3/3] included later — 0/1 host done")
        );
        p.finish();
        assert_eq!(p.render(), None);
    }

    #[test]
    fn never_enabled_without_a_terminal() {
        // Under the test harness stdout is captured (not a terminal).
        if !std::io::stdout().is_terminal() {
            assert!(!enabled(0));
        }
        assert!(!enabled(1));
    }
}
