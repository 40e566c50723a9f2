//! Unified diffs line for line like Python's `difflib.unified_diff`, which Ansible's default
//! callback uses for `--diff`. A generic LCS diff finds *a* shortest edit script; difflib's
//! `SequenceMatcher` (longest matching block first, recursively on both sides) often picks a
//! different one, and the hunks would then differ from Ansible's. So this follows
//! SequenceMatcher's documented algorithm: matching blocks, opcodes, grouped opcodes with
//! `n` lines of context, and `_format_range_unified`'s `start,length` ranges.

use std::collections::HashMap;

/// One opcode: (tag, a-range, b-range).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    Equal,
    Replace,
    Delete,
    Insert,
}

type Opcode = (Tag, usize, usize, usize, usize);

/// `SequenceMatcher(None, a, b)` (autojunk on, no junk function) over lines.
struct Matcher<'a> {
    a: &'a [&'a str],
    b: &'a [&'a str],
    /// Line -> its indices in `b`, without the "popular" lines (autojunk).
    b2j: HashMap<&'a str, Vec<usize>>,
}

impl<'a> Matcher<'a> {
    fn new(a: &'a [&'a str], b: &'a [&'a str]) -> Matcher<'a> {
        let mut b2j: HashMap<&str, Vec<usize>> = HashMap::new();
        for (j, line) in b.iter().enumerate() {
            b2j.entry(line).or_default().push(j);
        }
        // autojunk: in sequences of 200+ items, an item occurring more than 1% of the time
        // (plus one) is "popular" and never starts a match (it may still extend one).
        let n = b.len();
        if n >= 200 {
            let ntest = n / 100 + 1;
            b2j.retain(|_, idx| idx.len() <= ntest);
        }
        Matcher { a, b, b2j }
    }

    /// Longest matching block in a[alo..ahi] x b[blo..bhi]: earliest in `a`, then in `b`.
    fn longest_match(
        &self,
        alo: usize,
        ahi: usize,
        blo: usize,
        bhi: usize,
    ) -> (usize, usize, usize) {
        let (a, b) = (self.a, self.b);
        let (mut besti, mut bestj, mut bestsize) = (alo, blo, 0usize);
        // j2len[j] = length of the match ending at a[i-1], b[j].
        let mut j2len: HashMap<usize, usize> = HashMap::new();
        for (i, line) in a.iter().enumerate().take(ahi).skip(alo) {
            let mut new: HashMap<usize, usize> = HashMap::new();
            if let Some(js) = self.b2j.get(line) {
                for &j in js {
                    if j < blo {
                        continue;
                    }
                    if j >= bhi {
                        break;
                    }
                    let k = j
                        .checked_sub(1)
                        .and_then(|p| j2len.get(&p))
                        .copied()
                        .unwrap_or(0)
                        + 1;
                    new.insert(j, k);
                    if k > bestsize {
                        besti = i + 1 - k;
                        bestj = j + 1 - k;
                        bestsize = k;
                    }
                }
            }
            j2len = new;
        }
        // Extend with equal (popular) lines on both ends; there is no junk.
        while besti > alo && bestj > blo && a[besti - 1] == b[bestj - 1] {
            besti -= 1;
            bestj -= 1;
            bestsize += 1;
        }
        while besti + bestsize < ahi
            && bestj + bestsize < bhi
            && a[besti + bestsize] == b[bestj + bestsize]
        {
            bestsize += 1;
        }
        (besti, bestj, bestsize)
    }

    fn matching_blocks(&self) -> Vec<(usize, usize, usize)> {
        let (la, lb) = (self.a.len(), self.b.len());
        let mut queue = vec![(0, la, 0, lb)];
        let mut blocks = vec![];
        while let Some((alo, ahi, blo, bhi)) = queue.pop() {
            let (i, j, k) = self.longest_match(alo, ahi, blo, bhi);
            if k > 0 {
                blocks.push((i, j, k));
                if alo < i && blo < j {
                    queue.push((alo, i, blo, j));
                }
                if i + k < ahi && j + k < bhi {
                    queue.push((i + k, ahi, j + k, bhi));
                }
            }
        }
        blocks.sort_unstable();
        // Collapse adjacent blocks.
        let mut out = vec![];
        let (mut i1, mut j1, mut k1) = (0, 0, 0);
        for (i2, j2, k2) in blocks {
            if i1 + k1 == i2 && j1 + k1 == j2 {
                k1 += k2;
            } else {
                if k1 > 0 {
                    out.push((i1, j1, k1));
                }
                (i1, j1, k1) = (i2, j2, k2);
            }
        }
        if k1 > 0 {
            out.push((i1, j1, k1));
        }
        out.push((la, lb, 0));
        out
    }

    fn opcodes(&self) -> Vec<Opcode> {
        let (mut i, mut j) = (0, 0);
        let mut out = vec![];
        for (ai, bj, size) in self.matching_blocks() {
            let tag = match (i < ai, j < bj) {
                (true, true) => Some(Tag::Replace),
                (true, false) => Some(Tag::Delete),
                (false, true) => Some(Tag::Insert),
                _ => None,
            };
            if let Some(t) = tag {
                out.push((t, i, ai, j, bj));
            }
            i = ai + size;
            j = bj + size;
            if size > 0 {
                out.push((Tag::Equal, ai, i, bj, j));
            }
        }
        out
    }

    /// Hunks: runs of changes with up to `n` lines of context, split where more than 2n
    /// equal lines separate two changes.
    fn grouped_opcodes(&self, n: usize) -> Vec<Vec<Opcode>> {
        let mut codes = self.opcodes();
        if codes.is_empty() {
            codes.push((Tag::Equal, 0, 1, 0, 1));
        }
        if let Some(first) = codes.first_mut()
            && first.0 == Tag::Equal
        {
            let (t, i1, i2, j1, j2) = *first;
            *first = (
                t,
                i1.max(i2.saturating_sub(n)),
                i2,
                j1.max(j2.saturating_sub(n)),
                j2,
            );
        }
        if let Some(last) = codes.last_mut()
            && last.0 == Tag::Equal
        {
            let (t, i1, i2, j1, j2) = *last;
            *last = (t, i1, i2.min(i1 + n), j1, j2.min(j1 + n));
        }
        let mut groups = vec![];
        let mut group = vec![];
        for (tag, mut i1, i2, mut j1, j2) in codes {
            if tag == Tag::Equal && i2 - i1 > 2 * n {
                group.push((tag, i1, i2.min(i1 + n), j1, j2.min(j1 + n)));
                groups.push(std::mem::take(&mut group));
                i1 = i1.max(i2.saturating_sub(n));
                j1 = j1.max(j2.saturating_sub(n));
            }
            group.push((tag, i1, i2, j1, j2));
        }
        if !(group.is_empty() || group.len() == 1 && group[0].0 == Tag::Equal) {
            groups.push(group);
        }
        groups
    }
}

/// difflib's `_format_range_unified`: `start,length`, just `start` for one line, and the
/// line before an empty range (`0,0` for an empty file).
fn range(start: usize, stop: usize) -> String {
    let len = stop - start;
    match len {
        1 => format!("{}", start + 1),
        0 => format!("{start},0"),
        _ => format!("{},{len}", start + 1),
    }
}

/// `difflib.unified_diff(a, b, fromfile, tofile, n=n)` with empty dates: the lines it
/// yields, concatenated (lines of `a`/`b` keep their own line ends; headers and `@@` lines
/// end in `\n`). Empty when there is no difference.
pub fn unified_diff(a: &[&str], b: &[&str], fromfile: &str, tofile: &str, n: usize) -> String {
    let m = Matcher::new(a, b);
    let mut out = String::new();
    for (gi, group) in m.grouped_opcodes(n).iter().enumerate() {
        if gi == 0 {
            out.push_str(&format!("--- {fromfile}\n+++ {tofile}\n"));
        }
        let (first, last) = (group[0], group[group.len() - 1]);
        out.push_str(&format!(
            "@@ -{} +{} @@\n",
            range(first.1, last.2),
            range(first.3, last.4)
        ));
        for &(tag, i1, i2, j1, j2) in group {
            if tag == Tag::Equal {
                for l in &a[i1..i2] {
                    out.push(' ');
                    out.push_str(l);
                }
                continue;
            }
            if matches!(tag, Tag::Replace | Tag::Delete) {
                for l in &a[i1..i2] {
                    out.push('-');
                    out.push_str(l);
                }
            }
            if matches!(tag, Tag::Replace | Tag::Insert) {
                for l in &b[j1..j2] {
                    out.push('+');
                    out.push_str(l);
                }
            }
        }
    }
    out
}

/// Python's `str.splitlines(keepends=True)`: besides `\n`, `\r\n` and `\r` it breaks at
/// `\v`, `\f`, `\x1c`-`\x1e`, `\x85`, U+2028 and U+2029.
pub fn splitlines_keepends(s: &str) -> Vec<&str> {
    let mut out = vec![];
    let mut start = 0;
    let mut it = s.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        let end = match c {
            '\r' => match it.peek() {
                Some((_, '\n')) => {
                    it.next();
                    i + 2
                }
                _ => i + 1,
            },
            '\n' | '\u{0b}' | '\u{0c}' | '\u{1c}' | '\u{1d}' | '\u{1e}' | '\u{85}' | '\u{2028}'
            | '\u{2029}' => i + c.len_utf8(),
            _ => continue,
        };
        out.push(&s[start..end]);
        start = end;
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diff(a: &str, b: &str) -> String {
        unified_diff(
            &splitlines_keepends(a),
            &splitlines_keepends(b),
            "a",
            "b",
            3,
        )
    }

    // Expected texts below are what CPython 3.11's difflib.unified_diff prints for the same
    // input (checked with the testbed's python3).
    #[test]
    fn ranges_like_difflib() {
        assert_eq!(
            diff("", "x\ny\n"),
            "--- a\n+++ b\n@@ -0,0 +1,2 @@\n+x\n+y\n"
        );
        assert_eq!(diff("x\n", "y\n"), "--- a\n+++ b\n@@ -1 +1 @@\n-x\n+y\n");
        assert_eq!(diff("x\n", ""), "--- a\n+++ b\n@@ -1 +0,0 @@\n-x\n");
        assert_eq!(diff("same\n", "same\n"), "");
    }

    #[test]
    fn hunks_split_after_six_equal_lines() {
        let a: String = (1..=20).map(|i| format!("{i}\n")).collect();
        let b: String = (1..=20)
            .map(|i| match i {
                2 => "two\n".to_string(),
                18 => "eighteen\n".to_string(),
                i => format!("{i}\n"),
            })
            .collect();
        let want = "--- a\n+++ b\n@@ -1,5 +1,5 @@\n 1\n-2\n+two\n 3\n 4\n 5\n\
                    @@ -15,6 +15,6 @@\n 15\n 16\n 17\n-18\n+eighteen\n 19\n 20\n";
        assert_eq!(diff(&a, &b), want);
    }

    #[test]
    fn longest_block_first_not_lcs() {
        // difflib anchors on the longest block ("c d e") and reports the moved "a b" as
        // delete + insert; this is the case where a plain LCS walk can choose differently.
        let got = diff("a\nb\nc\nd\ne\n", "c\nd\ne\na\nb\n");
        assert_eq!(
            got,
            "--- a\n+++ b\n@@ -1,5 +1,5 @@\n-a\n-b\n c\n d\n e\n+a\n+b\n"
        );
    }

    /// Random small texts over a tiny alphabet (many repeated lines, where the choice of
    /// alignment matters) diffed here and by the testbed's python3 `difflib`; also 250-line
    /// texts, which trigger difflib's "popular line" heuristic.
    #[test]
    fn same_as_python_difflib() {
        let mut seed = 0x2545_f491_u64;
        let mut rnd = |m: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % m
        };
        let mut cases = vec![];
        for k in 0..300 {
            let len = if k % 30 == 0 { 250 } else { 12 };
            let mut text = |n: u64| -> String {
                (0..rnd(n) + if len > 100 { 200 } else { 0 })
                    .map(|_| format!("{}\n", ["a", "b", "c", "", "}"][rnd(5) as usize]))
                    .collect()
            };
            let a = text(len);
            let b = text(len);
            cases.push((a, b));
        }
        let input = serde_json::to_string(&cases).expect("json");
        let script = "import sys, json, difflib\nfor a, b in json.load(sys.stdin):\n    \
                      print(json.dumps(''.join(difflib.unified_diff(a.splitlines(True), \
                      b.splitlines(True), 'a', 'b', n=3))))\n";
        let mut child = std::process::Command::new("python3")
            .args(["-c", script])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3 is part of the testbed (needed to check against difflib)");
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write");
        let out = child.wait_with_output().expect("python3");
        assert!(out.status.success());
        let want: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).expect("line"))
            .collect();
        assert_eq!(want.len(), cases.len());
        for ((a, b), w) in cases.iter().zip(&want) {
            assert_eq!(&diff(a, b), w, "a={a:?} b={b:?}");
        }
    }

    #[test]
    fn python_splitlines() {
        assert_eq!(
            splitlines_keepends("a\r\nb\rc\nd"),
            vec!["a\r\n", "b\r", "c\n", "d"]
        );
        assert_eq!(splitlines_keepends("a\u{0c}b"), vec!["a\u{0c}", "b"]);
        assert!(splitlines_keepends("").is_empty());
    }
}
