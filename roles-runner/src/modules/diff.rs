//! The `diff` entries file-changing modules return in diff mode, shaped like Ansible's so the
//! output (see `output::render_diff`) is the same text:
//!   * content: `ActionBase._get_diff_data` of copy/template (`before_header` only when the
//!     destination existed; "diff skipped" notes for binary or large files),
//!   * attributes: `set_*_if_different(..., diff)` — `owner`/`group` as numeric ids, `mode` as
//!     `'0%03o'`, with `path` and `state` for the `file` module (`initial_diff`).

use serde_json::{Map, Value as Json, json};

use super::common::{Attrs, HostConn, ModuleError, resolve_mode};
use crate::output::MAX_FILE_SIZE_FOR_DIFF;
use crate::transport::{FileKind, FileStat};

/// The attributes a file the module creates has before they are set: root and 0644 for a file
/// (Ansible's atomic_move gives new files the default 0666 & ~umask), 0755 for a directory.
pub fn fresh_stat(kind: FileKind) -> FileStat {
    FileStat {
        kind,
        mode: if kind == FileKind::Dir { 0o755 } else { 0o644 },
        uid: 0,
        gid: 0,
    }
}

/// Ansible's diff form of a mode: `'0%03o' % mode` (`0644`, `04755`).
pub fn mode_str(mode: u32) -> String {
    format!("0{mode:03o}")
}

/// The `before`/`after` keys for what `attrs` changes on a path now in state `st`:
/// `owner`/`group` as uid/gid, `mode` as a string; empty maps when nothing changes.
/// `follow == false` on a symlink: the mode is not touched (as `fix_commands`).
pub async fn attr_changes(
    attrs: &Attrs,
    conn: &HostConn,
    st: &FileStat,
    follow: bool,
) -> Result<(Map<String, Json>, Map<String, Json>), ModuleError> {
    let (mut before, mut after) = (Map::new(), Map::new());
    if let Some(uid) = attrs.uid(conn).await?
        && uid != st.uid
    {
        before.insert("owner".into(), json!(st.uid));
        after.insert("owner".into(), json!(uid));
    }
    if let Some(gid) = attrs.gid(conn).await?
        && gid != st.gid
    {
        before.insert("group".into(), json!(st.gid));
        after.insert("group".into(), json!(gid));
    }
    if let Some(m) = &attrs.mode
        && (follow || st.kind != FileKind::Symlink)
    {
        let want = resolve_mode(m, Some(st.mode), st.kind == FileKind::Dir)?;
        if want != st.mode {
            before.insert("mode".into(), json!(mode_str(st.mode)));
            after.insert("mode".into(), json!(mode_str(want)));
        }
    }
    Ok((before, after))
}

/// The file module's dict diff: `{"before": {"path": P, ...}, "after": {"path": P, ...}}`.
pub fn path_diff(path: &str, before: Map<String, Json>, after: Map<String, Json>) -> Json {
    let with_path = |mut m: Map<String, Json>| {
        m.insert("path".into(), json!(path));
        Json::Object(m)
    };
    json!({"before": with_path(before), "after": with_path(after)})
}

/// What Ansible's file peek calls binary: a NUL byte in the first 8192 bytes.
fn appears_binary(data: &[u8]) -> bool {
    data.iter().take(8192).any(|b| *b == 0)
}

/// copy/template content diff (`_get_diff_data`): `existing` is the destination's content
/// (`None`: absent), `after_header` what Ansible names the source: the destination for
/// `content:`, the controller file for `src:`, the rendered temporary file for templates.
pub fn content_diff(dest: &str, existing: Option<&[u8]>, new: &[u8], after_header: &str) -> Json {
    let mut d = Map::new();
    match existing {
        None => {
            d.insert("before".into(), json!(""));
        }
        Some(old) if appears_binary(old) => {
            d.insert("dst_binary".into(), json!(1));
        }
        Some(old) if old.len() > MAX_FILE_SIZE_FOR_DIFF => {
            d.insert("dst_larger".into(), json!(MAX_FILE_SIZE_FOR_DIFF));
        }
        Some(old) => {
            d.insert("before_header".into(), json!(dest));
            d.insert("before".into(), json!(String::from_utf8_lossy(old)));
        }
    }
    if new.len() > MAX_FILE_SIZE_FOR_DIFF {
        d.insert("src_larger".into(), json!(MAX_FILE_SIZE_FOR_DIFF));
    } else if new.contains(&0) {
        d.insert("src_binary".into(), json!(1));
    } else {
        d.insert("after_header".into(), json!(after_header));
        d.insert("after".into(), json!(String::from_utf8_lossy(new)));
    }
    Json::Object(d)
}

/// Which diff `common::edit_file` returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditDiff {
    /// lineinfile, blockinfile: see [`edit_diff`].
    ContentAndAttributes,
    /// replace: one entry under plain `PATH` headers, only when the text changed.
    Replace,
}

/// lineinfile/blockinfile: `[content, file attributes]`, both under `PATH (content)` /
/// `PATH (file attributes)` headers; an entry without `before`/`after` prints nothing.
pub fn edit_diff(
    path: &str,
    before: &str,
    after: &str,
    attrs: Option<(Map<String, Json>, Map<String, Json>)>,
) -> Json {
    let content = json!({
        "before": before, "after": after,
        "before_header": format!("{path} (content)"), "after_header": format!("{path} (content)"),
    });
    let mut attr = Map::new();
    if let Some((b, a)) = attrs
        && !b.is_empty()
    {
        attr.insert("before".into(), Json::Object(b));
        attr.insert("after".into(), Json::Object(a));
    }
    attr.insert(
        "before_header".into(),
        json!(format!("{path} (file attributes)")),
    );
    attr.insert(
        "after_header".into(),
        json!(format!("{path} (file attributes)")),
    );
    json!([content, Json::Object(attr)])
}

/// `os.walk` order of a directory listing (the file module's `path_content` when a directory
/// is removed): `entries` are `(is_dir, path)` in `find`'s order, which like `os.scandir` is
/// the directory's own order; a directory's subdirectories come first, then its files, then
/// the same for each subdirectory in turn. Symlinks are listed, never entered.
pub fn dir_content_order(
    root: &str,
    entries: &[(bool, bool, String)],
) -> (Vec<String>, Vec<String>) {
    use std::collections::HashMap;
    let mut children: HashMap<&str, Vec<&(bool, bool, String)>> = HashMap::new();
    for e in entries {
        let parent = e.2.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
        children.entry(parent).or_default().push(e);
    }
    let (mut dirs, mut files) = (vec![], vec![]);
    fn walk(
        dir: &str,
        children: &HashMap<&str, Vec<&(bool, bool, String)>>,
        dirs: &mut Vec<String>,
        files: &mut Vec<String>,
    ) {
        let Some(kids) = children.get(dir) else {
            return;
        };
        for (is_dir, _, p) in kids.iter().map(|e| (&e.0, &e.1, &e.2)) {
            if *is_dir {
                dirs.push(p.clone());
            } else {
                files.push(p.clone());
            }
        }
        for (is_dir, is_link, p) in kids.iter().map(|e| (e.0, e.1, &e.2)) {
            if is_dir && !is_link {
                walk(p, children, dirs, files);
            }
        }
    }
    walk(root, &children, &mut dirs, &mut files);
    (dirs, files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_diff_forms() {
        let d = content_diff("/d", None, b"x\n", "/d");
        assert_eq!(
            d,
            json!({"before": "", "after": "x\n", "after_header": "/d"})
        );
        let d = content_diff("/d", Some(b"a\n"), b"x\n", "/src/f");
        assert_eq!(
            d,
            json!({"before": "a\n", "before_header": "/d", "after": "x\n", "after_header": "/src/f"})
        );
        let d = content_diff("/d", Some(b"a\0"), b"x\0", "/d");
        assert_eq!(d, json!({"dst_binary": 1, "src_binary": 1}));
        let big = vec![b'a'; MAX_FILE_SIZE_FOR_DIFF + 1];
        let d = content_diff("/d", Some(&big), &big, "/d");
        assert_eq!(
            d,
            json!({"dst_larger": MAX_FILE_SIZE_FOR_DIFF, "src_larger": MAX_FILE_SIZE_FOR_DIFF})
        );
    }

    #[test]
    fn modes_as_ansible_prints_them() {
        assert_eq!(mode_str(0o644), "0644");
        assert_eq!(mode_str(0o4755), "04755");
        assert_eq!(mode_str(0o0), "0000");
    }

    #[test]
    fn walk_is_top_down_dirs_then_files() {
        let e = |d: bool, p: &str| (d, false, p.to_string());
        let entries = vec![
            e(false, "/r/f1"),
            e(true, "/r/a"),
            e(false, "/r/a/af"),
            e(true, "/r/a/deep"),
            e(true, "/r/b"),
            (true, true, "/r/linkdir".to_string()),
        ];
        let (dirs, files) = dir_content_order("/r", &entries);
        assert_eq!(dirs, vec!["/r/a", "/r/b", "/r/linkdir", "/r/a/deep"]);
        assert_eq!(files, vec!["/r/f1", "/r/a/af"]);
    }
}
