//! Inventories the way `ansible-playbook -i` reads them: INI, YAML, a directory of those,
//! `host1,host2,` lists, executable scripts (`--list` JSON), and Terraform environment
//! directories (through the `inventory` crate).

use std::path::Path;

use indexmap::{IndexMap, IndexSet};
use serde_json::{Map, Value as Json};

use crate::Error;

#[derive(Debug, Clone, Default)]
pub struct Group {
    pub hosts: IndexSet<String>,
    pub children: IndexSet<String>,
    pub vars: Map<String, Json>,
}

#[derive(Debug, Clone, Default)]
pub struct Inventory {
    pub hosts: IndexMap<String, Map<String, Json>>,
    pub groups: IndexMap<String, Group>,
}

impl Inventory {
    fn group(&mut self, name: &str) -> &mut Group {
        self.groups.entry(name.to_string()).or_default()
    }

    fn add_host(&mut self, host: &str, group: Option<&str>) {
        self.hosts.entry(host.to_string()).or_default();
        if let Some(g) = group {
            self.group(g).hosts.insert(host.to_string());
        }
    }

    /// Load and merge every source given with `-i`.
    pub fn load(sources: &[String]) -> Result<Inventory, Error> {
        let mut inv = Inventory::default();
        inv.group("all");
        inv.group("ungrouped");
        for s in sources {
            inv.load_source(s)?;
        }
        inv.finish();
        Ok(inv)
    }

    fn load_source(&mut self, source: &str) -> Result<(), Error> {
        let path = Path::new(source);
        if !path.exists() {
            if source.contains(',') {
                for h in source.split(',').map(str::trim).filter(|h| !h.is_empty()) {
                    self.add_host(h, None);
                }
                return Ok(());
            }
            return Err(Error::Other(format!(
                "the inventory source '{source}' does not exist"
            )));
        }
        if path.is_dir() {
            // A Terraform/OpenTofu environment: ask the inventory crate.
            if has_terraform_files(path) {
                return self.load_terraform_dir(path);
            }
            let mut entries: Vec<_> = std::fs::read_dir(path)
                .map_err(|e| Error::Io {
                    path: path.to_path_buf(),
                    source: e,
                })?
                .flatten()
                .map(|e| e.path())
                .collect();
            entries.sort();
            for e in entries {
                let name = e.file_name().and_then(|n| n.to_str()).unwrap_or("");
                if name.starts_with('.')
                    || name.ends_with('~')
                    || name.ends_with(".retry")
                    || name.ends_with(".md")
                {
                    continue;
                }
                if e.is_dir() && (name == "group_vars" || name == "host_vars") {
                    continue;
                }
                if e.is_file() {
                    self.load_file(&e)?;
                }
            }
            self.load_vars_dirs(path)?;
            return Ok(());
        }
        self.load_file(path)?;
        if let Some(dir) = path.parent() {
            self.load_vars_dirs(dir)?;
        }
        Ok(())
    }

    fn load_file(&mut self, path: &Path) -> Result<(), Error> {
        let is_exec = {
            use std::os::unix::fs::PermissionsExt;
            std::fs::metadata(path)
                .map(|m| m.permissions().mode() & 0o111 != 0)
                .unwrap_or(false)
        };
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if is_exec && !matches!(ext, "yml" | "yaml" | "ini" | "json") {
            let out = std::process::Command::new(path)
                .arg("--list")
                .output()
                .map_err(|e| Error::Io {
                    path: path.to_path_buf(),
                    source: e,
                })?;
            if !out.status.success() {
                return Err(Error::Other(format!(
                    "inventory script {} failed: {}",
                    path.display(),
                    String::from_utf8_lossy(&out.stderr).trim()
                )));
            }
            let j: Json = serde_json::from_slice(&out.stdout).map_err(|e| {
                Error::Other(format!(
                    "inventory script {} printed invalid JSON: {e}",
                    path.display()
                ))
            })?;
            self.load_list_json(&j);
            return Ok(());
        }
        let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        if matches!(ext, "yml" | "yaml" | "json")
            || text.trim_start().starts_with("all:")
            || text.trim_start().starts_with("---")
        {
            let node = crate::yaml::parse_str(&text, path)?;
            if let Some(doc) = node.first() {
                self.load_yaml(&doc.to_json(), path)?;
            }
            return Ok(());
        }
        self.load_ini(&text, path)
    }

    fn load_terraform_dir(&mut self, dir: &Path) -> Result<(), Error> {
        let inv = inventory::Inventory::from_environment_dir(dir, &inventory::Options::default())
            .map_err(|e| Error::Other(format!("{}: {e}", dir.display())))?;
        self.load_list_json(&inv.to_list_json());
        Ok(())
    }

    /// The `--list` JSON of dynamic inventories.
    pub fn load_list_json(&mut self, j: &Json) {
        let Some(obj) = j.as_object() else { return };
        let hostvars = obj
            .get("_meta")
            .and_then(|m| m.get("hostvars"))
            .and_then(Json::as_object)
            .cloned()
            .unwrap_or_default();
        for (gname, g) in obj {
            if gname == "_meta" {
                continue;
            }
            match g {
                Json::Array(hosts) => {
                    for h in hosts.iter().filter_map(Json::as_str) {
                        self.add_host(h, Some(gname));
                    }
                }
                Json::Object(go) => {
                    self.group(gname);
                    for h in go
                        .get("hosts")
                        .and_then(Json::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(Json::as_str)
                    {
                        self.add_host(h, Some(gname));
                    }
                    for c in go
                        .get("children")
                        .and_then(Json::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(Json::as_str)
                    {
                        self.group(c);
                        self.group(gname).children.insert(c.to_string());
                    }
                    if let Some(vars) = go.get("vars").and_then(Json::as_object) {
                        self.group(gname).vars.extend(vars.clone());
                    }
                }
                _ => {}
            }
        }
        for (h, vars) in hostvars {
            if let Json::Object(v) = vars {
                self.hosts.entry(h).or_default().extend(v);
            }
        }
    }

    fn load_yaml(&mut self, j: &Json, path: &Path) -> Result<(), Error> {
        let Some(top) = j.as_object() else {
            return Err(Error::Other(format!(
                "{}: YAML inventory must be a mapping of groups",
                path.display()
            )));
        };
        for (gname, g) in top {
            self.load_yaml_group(gname, g);
        }
        Ok(())
    }

    fn load_yaml_group(&mut self, gname: &str, g: &Json) {
        self.group(gname);
        let Some(go) = g.as_object() else { return };
        if let Some(hosts) = go.get("hosts").and_then(Json::as_object) {
            for (h, hv) in hosts {
                for name in expand_range(h) {
                    self.add_host(&name, Some(gname));
                    if let Some(v) = hv.as_object() {
                        self.hosts.entry(name).or_default().extend(v.clone());
                    }
                }
            }
        }
        if let Some(vars) = go.get("vars").and_then(Json::as_object) {
            self.group(gname).vars.extend(vars.clone());
        }
        if let Some(children) = go.get("children").and_then(Json::as_object) {
            for (c, cv) in children {
                self.group(gname).children.insert(c.clone());
                self.load_yaml_group(c, cv);
            }
        }
    }

    fn load_ini(&mut self, text: &str, path: &Path) -> Result<(), Error> {
        enum Section {
            Hosts(String),
            Vars(String),
            Children(String),
        }
        let mut section = Section::Hosts("ungrouped".into());
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            if let Some(inner) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                section = match inner.split_once(':') {
                    Some((g, "vars")) => Section::Vars(g.to_string()),
                    Some((g, "children")) => Section::Children(g.to_string()),
                    Some((_, other)) => {
                        return Err(Error::syntax(
                            path,
                            i + 1,
                            format!("invalid section entry: '{other}'"),
                        ));
                    }
                    None => Section::Hosts(inner.to_string()),
                };
                let name = match &section {
                    Section::Hosts(g) | Section::Vars(g) | Section::Children(g) => g.clone(),
                };
                self.group(&name);
                continue;
            }
            match &section {
                Section::Hosts(g) => {
                    let parts = crate::util::split_args(line);
                    let Some(first) = parts.first() else { continue };
                    let mut vars = Map::new();
                    for p in &parts[1..] {
                        let Some((k, v)) = p.split_once('=') else {
                            return Err(Error::syntax(
                                path,
                                i + 1,
                                format!("expected key=value host variable assignment, got: {p}"),
                            ));
                        };
                        vars.insert(k.to_string(), ini_value(v));
                    }
                    for h in expand_range(first) {
                        self.add_host(&h, Some(g));
                        self.hosts.entry(h).or_default().extend(vars.clone());
                    }
                }
                Section::Vars(g) => {
                    let Some((k, v)) = line.split_once('=') else {
                        return Err(Error::syntax(
                            path,
                            i + 1,
                            format!("expected key=value, got: {line}"),
                        ));
                    };
                    // Group vars in INI are strings unless they look like Python literals.
                    self.group(g)
                        .vars
                        .insert(k.trim().to_string(), ini_value(v.trim()));
                }
                Section::Children(g) => {
                    let child = line.to_string();
                    self.group(&child);
                    self.group(g).children.insert(child);
                }
            }
        }
        Ok(())
    }

    /// `group_vars/` and `host_vars/` beside the inventory.
    fn load_vars_dirs(&mut self, dir: &Path) -> Result<(), Error> {
        for (sub, is_group) in [("group_vars", true), ("host_vars", false)] {
            let d = dir.join(sub);
            let Ok(rd) = std::fs::read_dir(&d) else {
                continue;
            };
            let mut entries: Vec<_> = rd.flatten().map(|e| e.path()).collect();
            entries.sort();
            for e in entries {
                let stem = e
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or("")
                    .to_string();
                let files: Vec<std::path::PathBuf> = if e.is_dir() {
                    let mut f: Vec<_> = std::fs::read_dir(&e)
                        .into_iter()
                        .flatten()
                        .flatten()
                        .map(|x| x.path())
                        .collect();
                    f.sort();
                    f
                } else {
                    vec![e.clone()]
                };
                let name = if e.is_dir() {
                    e.file_name()
                        .and_then(|s| s.to_str())
                        .unwrap_or("")
                        .to_string()
                } else {
                    stem
                };
                for f in files {
                    let ext = f.extension().and_then(|x| x.to_str()).unwrap_or("");
                    if !matches!(ext, "yml" | "yaml" | "json" | "") {
                        continue;
                    }
                    let node = crate::yaml::load_file(&f)?;
                    if let Json::Object(m) = node.to_json() {
                        if is_group {
                            self.group(&name).vars.extend(m);
                        } else {
                            self.hosts.entry(name.clone()).or_default().extend(m);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// `all` contains every group; hosts in no group are `ungrouped`.
    fn finish(&mut self) {
        let names: Vec<String> = self
            .groups
            .keys()
            .filter(|g| *g != "all")
            .cloned()
            .collect();
        let child_of_someone: IndexSet<String> = self
            .groups
            .iter()
            .filter(|(n, _)| *n != "all")
            .flat_map(|(_, g)| g.children.iter().cloned())
            .collect();
        for n in names {
            if !child_of_someone.contains(&n) {
                self.group("all").children.insert(n);
            }
        }
        let hosts: Vec<String> = self.hosts.keys().cloned().collect();
        for h in hosts {
            let in_group = self
                .groups
                .iter()
                .any(|(n, g)| n != "all" && n != "ungrouped" && g.hosts.contains(&h));
            if !in_group {
                self.group("ungrouped").hosts.insert(h.clone());
            }
            self.group("all").hosts.insert(h);
        }
    }

    /// Every host of a group, children included.
    pub fn hosts_in(&self, group: &str) -> IndexSet<String> {
        let mut out = IndexSet::new();
        let mut seen = IndexSet::new();
        self.collect(group, &mut out, &mut seen);
        if group == "all" {
            // Keep inventory order for `all`.
            return self.hosts.keys().cloned().collect();
        }
        out
    }

    fn collect(&self, group: &str, out: &mut IndexSet<String>, seen: &mut IndexSet<String>) {
        if !seen.insert(group.to_string()) {
            return;
        }
        if let Some(g) = self.groups.get(group) {
            out.extend(g.hosts.iter().cloned());
            for c in &g.children {
                self.collect(c, out, seen);
            }
        }
    }

    /// Groups a host belongs to, ordered by depth then name (Ansible's var merge order), `all` first.
    pub fn groups_of(&self, host: &str) -> Vec<String> {
        let mut depth: IndexMap<String, usize> = IndexMap::new();
        fn walk(inv: &Inventory, g: &str, d: usize, depth: &mut IndexMap<String, usize>) {
            let e = depth.entry(g.to_string()).or_insert(d);
            if *e < d {
                *e = d;
            }
            if let Some(grp) = inv.groups.get(g) {
                for c in &grp.children {
                    if d < 50 {
                        walk(inv, c, d + 1, depth);
                    }
                }
            }
        }
        walk(self, "all", 0, &mut depth);
        let mut gs: Vec<(usize, String)> = depth
            .into_iter()
            .filter(|(g, _)| self.hosts_in(g).contains(host))
            .map(|(g, d)| (d, g))
            .collect();
        gs.sort();
        gs.into_iter().map(|(_, g)| g).collect()
    }

    /// Group vars then host vars, in Ansible's precedence order.
    pub fn host_vars(&self, host: &str) -> Map<String, Json> {
        let mut out = Map::new();
        for g in self.groups_of(host) {
            if let Some(grp) = self.groups.get(&g) {
                out.extend(grp.vars.clone());
            }
        }
        if let Some(h) = self.hosts.get(host) {
            out.extend(h.clone());
        }
        out
    }

    /// Resolve a `hosts:`/`--limit` pattern: groups, hosts, globs, `a:b`, `a:&b`, `a:!b`, `all`.
    pub fn select(&self, pattern: &str) -> Vec<String> {
        let mut result: IndexSet<String> = IndexSet::new();
        let parts: Vec<&str> = pattern
            .split([':', ','])
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect();
        let mut first = true;
        for p in parts {
            let (op, name) = if let Some(n) = p.strip_prefix('!') {
                ('!', n)
            } else if let Some(n) = p.strip_prefix('&') {
                ('&', n)
            } else {
                ('|', p)
            };
            let matched = self.match_one(name);
            match op {
                '!' => result.retain(|h| !matched.contains(h)),
                '&' => result.retain(|h| matched.contains(h)),
                _ => result.extend(matched),
            }
            first = false;
        }
        let _ = first;
        // Keep inventory order.
        self.hosts
            .keys()
            .filter(|h| result.contains(*h))
            .cloned()
            .collect()
    }

    fn match_one(&self, name: &str) -> IndexSet<String> {
        if name == "all" || name == "*" {
            return self.hosts.keys().cloned().collect();
        }
        if self.groups.contains_key(name) {
            return self.hosts_in(name);
        }
        if self.hosts.contains_key(name) {
            return std::iter::once(name.to_string()).collect();
        }
        if name.contains('*') || name.contains('?') || name.contains('[') {
            if let Ok(pat) = glob::Pattern::new(name) {
                let mut out: IndexSet<String> = self
                    .hosts
                    .keys()
                    .filter(|h| pat.matches(h))
                    .cloned()
                    .collect();
                for g in self.groups.keys().filter(|g| pat.matches(g)) {
                    out.extend(self.hosts_in(g));
                }
                return out;
            }
        }
        if let Some(re) = name.strip_prefix('~')
            && let Ok(re) = regex::Regex::new(re)
        {
            return self
                .hosts
                .keys()
                .filter(|h| re.is_match(h))
                .cloned()
                .collect();
        }
        IndexSet::new()
    }
}

fn has_terraform_files(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.ends_with(".tf") || n == "terraform.tfstate")
        })
}

/// `web[1:3]` -> web1, web2, web3 (also zero-padded `[01:10]`).
fn expand_range(name: &str) -> Vec<String> {
    let (Some(open), Some(close)) = (name.find('['), name.find(']')) else {
        return vec![name.to_string()];
    };
    let inner = &name[open + 1..close];
    let Some((a, b)) = inner.split_once(':') else {
        return vec![name.to_string()];
    };
    let (Ok(start), Ok(end)) = (a.parse::<u64>(), b.parse::<u64>()) else {
        return vec![name.to_string()];
    };
    let width = if a.starts_with('0') { a.len() } else { 0 };
    (start..=end)
        .map(|i| {
            format!(
                "{}{:0width$}{}",
                &name[..open],
                i,
                &name[close + 1..],
                width = width
            )
        })
        .collect()
}

/// INI values: Python literals become typed, the rest stay strings.
fn ini_value(v: &str) -> Json {
    let v = v.trim();
    if (v.starts_with('"') && v.ends_with('"') || v.starts_with('\'') && v.ends_with('\''))
        && v.len() >= 2
    {
        return Json::String(v[1..v.len() - 1].to_string());
    }
    match v {
        "True" | "true" => return Json::Bool(true),
        "False" | "false" => return Json::Bool(false),
        _ => {}
    }
    if let Ok(i) = v.parse::<i64>() {
        return Json::from(i);
    }
    Json::String(v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ini_groups_and_vars() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("inv.ini");
        std::fs::write(&p, "[web]\nab-1\nab-2 x=1\n\n[web:vars]\nansible_connection=community.general.incus\n[db]\ndb[1:2]\n[prod:children]\nweb\n")
            .expect("write");
        let inv = Inventory::load(&[p.display().to_string()]).expect("loads");
        assert_eq!(inv.select("web"), vec!["ab-1", "ab-2"]);
        assert_eq!(inv.select("prod:&web:!ab-1"), vec!["ab-2"]);
        assert_eq!(inv.select("db*"), vec!["db1", "db2"]);
        assert_eq!(inv.host_vars("ab-2")["x"], Json::from(1));
        assert_eq!(
            inv.host_vars("ab-1")["ansible_connection"],
            Json::from("community.general.incus")
        );
        assert!(inv.groups_of("ab-1").contains(&"prod".to_string()));
        let y = dir.path().join("inv.yml");
        std::fs::write(&y, "all:\n  children:\n    app:\n      hosts:\n        a1:\n          port: 80\n      vars:\n        tier: front\n").expect("write");
        let inv3 = Inventory::load(&[y.display().to_string()]).expect("yaml");
        assert_eq!(inv3.select("app"), vec!["a1"]);
        assert_eq!(inv3.host_vars("a1")["tier"], Json::from("front"));
        assert_eq!(inv3.host_vars("a1")["port"], Json::from(80));
        let script = dir.path().join("dyn.sh");
        std::fs::write(&script, "#!/bin/sh\necho '{\"web\": {\"hosts\": [\"w1\"], \"vars\": {\"x\": 1}}, \"_meta\": {\"hostvars\": {\"w1\": {\"y\": 2}}}}'\n").expect("write");
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))
                .expect("chmod");
        }
        let inv4 = Inventory::load(&[script.display().to_string()]).expect("script");
        assert_eq!(inv4.select("web"), vec!["w1"]);
        assert_eq!(inv4.host_vars("w1")["x"], Json::from(1));
        assert_eq!(inv4.host_vars("w1")["y"], Json::from(2));
        let inv2 = Inventory::load(&["h1,h2,".to_string()]).expect("list");
        assert_eq!(inv2.select("all"), vec!["h1", "h2"]);
    }
}
