//! `include_vars`: one file (`file`/free form, searched like Ansible's `vars/` lookups) or a
//! whole directory (`dir`, with `depth`, `files_matching`, `ignore_files`, `extensions`,
//! `ignore_unknown_extensions`), optionally under one `name`. The order of a directory is
//! Ansible's: directories sorted by path (walked, links followed), files sorted by name in
//! each, later files overriding earlier keys (a shallow update, as `dict.update`).

use std::path::{Path, PathBuf};

use serde_json::{Map, Value as Json};

use crate::modules::Paths;
use crate::modules::common::json_to_string;

const FILE_ARGS: &[&str] = &["file", "_raw_params"];
const DIR_ARGS: &[&str] = &[
    "dir",
    "depth",
    "files_matching",
    "ignore_files",
    "extensions",
    "ignore_unknown_extensions",
];
const ALL_ARGS: &[&str] = &["name", "hash_behaviour"];

#[derive(Debug, Default)]
pub struct Included {
    pub vars: Map<String, Json>,
    pub files: Vec<PathBuf>,
}

/// Load what the (templated) arguments name. Errors are Ansible's messages.
pub fn load(args: &Map<String, Json>, paths: &Paths) -> Result<Included, String> {
    let (mut dirs, mut files) = (0, 0);
    for k in args.keys() {
        if DIR_ARGS.contains(&k.as_str()) {
            dirs += 1;
        } else if FILE_ARGS.contains(&k.as_str()) {
            files += 1;
        } else if !ALL_ARGS.contains(&k.as_str()) {
            return Err(format!("{k} is not a valid option in include_vars"));
        }
    }
    if dirs > 0 && files > 0 {
        return Err(
            "You are mixing file only and dir only arguments, these are incompatible".into(),
        );
    }
    if let Some(h) = args.get("hash_behaviour").filter(|h| !h.is_null())
        && json_to_string(h) != "replace"
    {
        return Err(format!(
            "include_vars: hash_behaviour={} is not supported by the runner",
            json_to_string(h)
        ));
    }
    let mut inc = Included::default();
    if let Some(dir) = args.get("dir").filter(|d| !d.is_null()) {
        load_dir(&json_to_string(dir), args, paths, &mut inc)?;
    } else {
        let name = args
            .get("file")
            .or_else(|| args.get("_raw_params"))
            .map(json_to_string)
            .map(|s| s.trim_end_matches('\n').to_string())
            .filter(|s| !s.is_empty())
            .ok_or("include_vars needs a file or a dir")?;
        let path = paths
            .find("vars", &name)
            .ok_or_else(|| format!("Could not find or access '{name}'"))?;
        load_one(&path, &mut inc)?;
    }
    if let Some(ns) = args.get("name").filter(|n| !n.is_null()) {
        let mut wrapped = Map::new();
        wrapped.insert(
            json_to_string(ns),
            Json::Object(std::mem::take(&mut inc.vars)),
        );
        inc.vars = wrapped;
    }
    Ok(inc)
}

fn load_one(path: &Path, inc: &mut Included) -> Result<(), String> {
    let data = crate::yaml::load_file(path)
        .map_err(|e| e.to_string())?
        .to_json();
    match data {
        // An empty file is an empty dict.
        Json::Null => {}
        Json::Object(m) => inc.vars.extend(m),
        _ => {
            return Err(format!(
                "{} must be stored as a dictionary/hash",
                path.display()
            ));
        }
    }
    inc.files.push(path.to_path_buf());
    Ok(())
}

/// Where `dir` is: in a role, `vars/DIR` of the role (or `DIR` itself when it starts with
/// `vars/` and exists); elsewhere relative to the task file's directory.
fn root_dir(dir: &str, paths: &Paths) -> PathBuf {
    if Path::new(dir).is_absolute() {
        return PathBuf::from(dir);
    }
    match &paths.role_path {
        Some(role) => {
            if dir.split('/').next() == Some("vars") && role.join(dir).exists() {
                role.join(dir)
            } else {
                role.join("vars").join(dir)
            }
        }
        None => paths.task_dir.join(dir),
    }
}

fn string_list(v: Option<&Json>, split_words: bool) -> Result<Option<Vec<String>>, String> {
    Ok(match v.filter(|v| !v.is_null()) {
        None => None,
        Some(Json::Array(a)) => Some(a.iter().map(json_to_string).collect()),
        Some(Json::String(s)) if split_words => {
            Some(s.split_whitespace().map(String::from).collect())
        }
        // Ansible turns a string of extensions into its characters (`list("yml")`).
        Some(Json::String(s)) => Some(s.chars().map(String::from).collect()),
        Some(other) => return Err(format!("{other} must be a list")),
    })
}

fn load_dir(
    dir: &str,
    args: &Map<String, Json>,
    paths: &Paths,
    inc: &mut Included,
) -> Result<(), String> {
    let root = root_dir(dir, paths);
    if !root.exists() {
        return Err(format!("{} directory does not exist", root.display()));
    }
    if !root.is_dir() {
        return Err(format!("{} is not a directory", root.display()));
    }
    let depth = match args.get("depth").filter(|d| !d.is_null()) {
        None => 0,
        Some(d) => json_to_string(d)
            .trim()
            .parse::<usize>()
            .map_err(|_| format!("depth must be an integer, got {d}"))?,
    };
    let matcher = match args.get("files_matching").filter(|m| !m.is_null()) {
        None => None,
        Some(m) => Some(
            regex::Regex::new(&json_to_string(m))
                .map_err(|e| format!("Invalid regular expression: {e}"))?,
        ),
    };
    let ignore = string_list(args.get("ignore_files"), true)?
        .unwrap_or_default()
        .iter()
        .map(|p| {
            regex::Regex::new(&format!("{p}$"))
                .map_err(|_| format!("Invalid regular expression: {p}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let extensions = string_list(args.get("extensions"), false)?
        .unwrap_or_else(|| vec!["yaml".into(), "yml".into(), "json".into()]);
    let ignore_unknown = args
        .get("ignore_unknown_extensions")
        .and_then(crate::modules::common::to_bool)
        .unwrap_or(false);
    let valid_ext = |name: &str| {
        // os.path.splitext: the part after the last dot, unless the name starts with it.
        let stem = name.trim_start_matches('.');
        stem.rsplit_once('.')
            .is_some_and(|(_, ext)| extensions.iter().any(|e| e == ext))
    };
    let mut dirs = vec![];
    walk(&root, &mut dirs).map_err(|e| format!("{}: {e}", root.display()))?;
    // Python sorts the walk by the directory's path (code points of the string).
    dirs.sort_by(|a, b| a.0.as_os_str().cmp(b.0.as_os_str()));
    for (d, mut names) in dirs {
        // Depth 1 is the root itself.
        let level = d
            .strip_prefix(&root)
            .map(|r| r.components().count())
            .unwrap_or(0)
            + 1;
        if depth != 0 && level > depth {
            continue;
        }
        names.sort();
        for name in names {
            if matcher.as_ref().is_some_and(|m| !m.is_match(&name)) {
                continue;
            }
            if ignore.iter().any(|r| r.is_match(&name)) {
                continue;
            }
            if !valid_ext(&name) {
                if ignore_unknown {
                    continue;
                }
                return Err(format!(
                    "{} does not have a valid extension: {}",
                    d.join(&name).display(),
                    extensions.join(", ")
                ));
            }
            load_one(&d.join(&name), inc)?;
        }
    }
    Ok(())
}

/// Every directory under `dir` (links followed, as `os.walk(followlinks=True)`) with the
/// names of the files in it.
fn walk(dir: &Path, out: &mut Vec<(PathBuf, Vec<String>)>) -> std::io::Result<()> {
    let mut files = vec![];
    let mut subdirs = vec![];
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let p = e.path();
        if p.is_dir() {
            subdirs.push(p);
        } else {
            files.push(e.file_name().to_string_lossy().into_owned());
        }
    }
    out.push((dir.to_path_buf(), files));
    for s in subdirs {
        walk(&s, out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tree() -> tempfile::TempDir {
        let t = tempfile::tempdir().expect("tempdir");
        let w = |p: &str, s: &str| {
            let p = t.path().join(p);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(p, s).expect("write");
        };
        w("vars/all/b.yml", "x: b\nb: 1\n");
        w("vars/all/a.yml", "x: a\na: 1\n");
        w("vars/all/c.json", "{\"x\": \"c\", \"c\": 1}");
        w("vars/all/sub/z.yml", "x: sub\nz: 1\n");
        w("vars/all/sub/deeper/d.yml", "x: deep\n");
        w("vars/all/empty.yml", "");
        w("vars/all/notes.txt", "not vars");
        t
    }

    fn paths(t: &Path) -> Paths {
        Paths {
            role_path: None,
            playbook_dir: t.to_path_buf(),
            task_dir: t.to_path_buf(),
        }
    }

    fn args(v: Json) -> Map<String, Json> {
        v.as_object().cloned().expect("object")
    }

    #[test]
    fn dir_in_ansible_order() {
        let t = tree();
        let p = paths(t.path());
        // notes.txt has no valid extension: an error unless ignored.
        let e = load(&args(json!({"dir": "vars/all"})), &p).expect_err("txt");
        assert!(
            e.contains("notes.txt does not have a valid extension: yaml, yml, json"),
            "{e}"
        );
        let inc = load(
            &args(json!({"dir": "vars/all", "ignore_unknown_extensions": true})),
            &p,
        )
        .expect("load");
        // a, b, c.json, empty (root, sorted), then sub, then sub/deeper: the deepest wins.
        assert_eq!(inc.vars["x"], json!("deep"));
        let names: Vec<String> = inc
            .files
            .iter()
            .map(|f| {
                f.strip_prefix(t.path())
                    .expect("under")
                    .display()
                    .to_string()
            })
            .collect();
        assert_eq!(
            names,
            [
                "vars/all/a.yml",
                "vars/all/b.yml",
                "vars/all/c.json",
                "vars/all/empty.yml",
                "vars/all/sub/z.yml",
                "vars/all/sub/deeper/d.yml"
            ]
        );
    }

    #[test]
    fn depth_matching_ignore_extensions_name() {
        let t = tree();
        let p = paths(t.path());
        let inc = load(
            &args(json!({"dir": "vars/all", "depth": 1, "ignore_files": ["notes.txt", "c.json"]})),
            &p,
        )
        .expect("load");
        assert_eq!(inc.vars["x"], json!("b"));
        assert!(inc.vars.get("c").is_none() && inc.vars.get("z").is_none());
        let inc = load(
            &args(json!({"dir": "vars/all", "files_matching": "^[az]", "name": "ns"})),
            &p,
        )
        .expect("load");
        assert_eq!(
            inc.vars,
            json!({"ns": {"x": "sub", "a": 1, "z": 1}})
                .as_object()
                .cloned()
                .expect("o")
        );
        let inc = load(
            &args(
                json!({"dir": "vars/all", "extensions": ["json", "txt"], "ignore_unknown_extensions": true}),
            ),
            &p,
        );
        // notes.txt is now "valid" but not a mapping.
        assert!(
            inc.expect_err("txt")
                .contains("must be stored as a dictionary/hash")
        );
        let e = load(&args(json!({"dir": "vars/all", "file": "x.yml"})), &p).expect_err("mixed");
        assert!(e.contains("mixing file only and dir only"));
        let e = load(&args(json!({"dir": "nope"})), &p).expect_err("missing");
        assert!(e.ends_with("nope directory does not exist"), "{e}");
    }

    #[test]
    fn role_dirs_are_under_vars() {
        let t = tree();
        let p = Paths {
            role_path: Some(t.path().to_path_buf()),
            ..paths(Path::new("/nonexistent"))
        };
        let inc = load(
            &args(json!({"dir": "all", "depth": 1, "ignore_unknown_extensions": true})),
            &p,
        )
        .expect("role vars/all");
        assert_eq!(inc.vars["x"], json!("c"));
        let inc = load(&args(json!({"dir": "vars/all/sub"})), &p).expect("vars/ prefix");
        assert_eq!(inc.vars["x"], json!("deep"));
    }
}
