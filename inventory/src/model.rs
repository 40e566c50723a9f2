//! The inventory itself: hosts with their own vars, groups with hosts, vars and child groups.
//!
//! It is deliberately the same model as Ansible's (`all` is the root of every group, a host that is in
//! no other group is "ungrouped", group vars are merged by depth then name, host vars win), so the
//! roles runner can resolve variables without Ansible and the renderers in [`crate::render`] print
//! exactly what Ansible would read.

use std::collections::{HashMap, HashSet};

use indexmap::{IndexMap, IndexSet};
use serde_json::Value;

/// Variables: a JSON object, keys in insertion order.
pub type Vars = serde_json::Map<String, Value>;

/// Name of the root group Ansible puts every host and group under.
pub const ALL: &str = "all";
/// Name of the group Ansible gives hosts that belong to no other group.
pub const UNGROUPED: &str = "ungrouped";

/// One host: its inventory name and its own vars (`_meta.hostvars[name]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Host {
    pub name: String,
    pub vars: Vars,
}

/// One group: the hosts listed directly in it, its vars and its child groups (names).
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub name: String,
    pub hosts: IndexSet<String>,
    pub vars: Vars,
    pub children: IndexSet<String>,
}

impl Group {
    fn new(name: &str) -> Self {
        Group {
            name: name.to_owned(),
            hosts: IndexSet::new(),
            vars: Vars::new(),
            children: IndexSet::new(),
        }
    }
}

/// A whole inventory. Build one with [`Inventory::from_outputs_json`] or
/// [`Inventory::from_environment_dir`]; render it with the methods of [`crate::render`].
#[derive(Debug, Clone, PartialEq)]
pub struct Inventory {
    /// Every group, `all` first, then in the order the outputs declared them.
    pub(crate) groups: IndexMap<String, Group>,
    /// Every host, in the order the outputs declared them.
    pub(crate) hosts: IndexMap<String, Host>,
    /// Things the user should know but that are not errors (renamed groups, skipped outputs).
    /// Never contain output values.
    pub(crate) warnings: Vec<String>,
}

impl Default for Inventory {
    fn default() -> Self {
        Self::new()
    }
}

impl Inventory {
    /// An empty inventory with only the `all` group.
    pub fn new() -> Self {
        let mut groups = IndexMap::new();
        groups.insert(ALL.to_owned(), Group::new(ALL));
        Inventory {
            groups,
            hosts: IndexMap::new(),
            warnings: Vec::new(),
        }
    }

    // ---- reading -------------------------------------------------------------------------------

    /// All hosts, in declaration order.
    pub fn hosts(&self) -> impl Iterator<Item = &Host> {
        self.hosts.values()
    }

    pub fn host(&self, name: &str) -> Option<&Host> {
        self.hosts.get(name)
    }

    /// All groups including `all` (first); `ungrouped` only if an output named it explicitly
    /// (use [`Inventory::ungrouped_hosts`] for Ansible's implicit one).
    pub fn groups(&self) -> impl Iterator<Item = &Group> {
        self.groups.values()
    }

    pub fn group(&self, name: &str) -> Option<&Group> {
        self.groups.get(name)
    }

    /// Vars of the `all` group.
    pub fn all_vars(&self) -> &Vars {
        &self.groups[ALL].vars
    }

    /// Non-fatal notes produced while reading the outputs (renamed groups, skipped sensitive outputs).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Hosts that are in no group other than `all` (Ansible's implicit `ungrouped`).
    pub fn ungrouped_hosts(&self) -> Vec<&str> {
        let mut grouped: IndexSet<&str> = IndexSet::new();
        for g in self.groups.values().filter(|g| g.name != ALL) {
            grouped.extend(g.hosts.iter().map(String::as_str));
        }
        self.hosts
            .keys()
            .map(String::as_str)
            .filter(|h| !grouped.contains(h))
            .collect()
    }

    /// Groups directly under `all`: those that are no other group's child.
    pub fn top_level_groups(&self) -> Vec<&str> {
        let mut is_child: IndexSet<&str> = IndexSet::new();
        for g in self.groups.values().filter(|g| g.name != ALL) {
            is_child.extend(g.children.iter().map(String::as_str));
        }
        self.groups
            .keys()
            .map(String::as_str)
            .filter(|g| *g != ALL && !is_child.contains(g))
            .collect()
    }

    /// Every host of `group`, including the hosts of its descendants (what a play on `group` targets).
    /// `all` gives every host. Unknown group: empty.
    pub fn hosts_of_group(&self, group: &str) -> Vec<&str> {
        if group == ALL {
            return self.hosts.keys().map(String::as_str).collect();
        }
        let mut out: IndexSet<&str> = IndexSet::new();
        let mut seen: IndexSet<&str> = IndexSet::new();
        let mut stack = vec![group];
        while let Some(name) = stack.pop() {
            if !seen.insert(name) {
                continue;
            }
            if let Some(g) = self.groups.get(name) {
                out.extend(g.hosts.iter().map(String::as_str));
                // Reverse so that the first child is visited first (keeps output order stable).
                stack.extend(g.children.iter().rev().map(String::as_str));
            }
        }
        out.into_iter().collect()
    }

    /// Every group `host` belongs to, directly or through a child group, plus `all`,
    /// in Ansible's variable order: by depth, then `ansible_group_priority`, then name.
    pub fn groups_of_host(&self, host: &str) -> Vec<&str> {
        let parents = self.parents();
        let mut member: IndexSet<&str> = IndexSet::new();
        member.insert(ALL);
        let mut stack: Vec<&str> = self
            .groups
            .values()
            .filter(|g| g.hosts.contains(host))
            .map(|g| g.name.as_str())
            .collect();
        while let Some(g) = stack.pop() {
            if member.insert(g)
                && let Some(ps) = parents.get(g)
            {
                stack.extend(ps.iter().copied());
            }
        }
        let depths = self.depths();
        let mut groups: Vec<&str> = member.into_iter().collect();
        groups.sort_by(|a, b| {
            let key = |g: &str| (depths.get(g).copied().unwrap_or(0), self.priority(g));
            key(a).cmp(&key(b)).then_with(|| a.cmp(b))
        });
        groups
    }

    /// The variables Ansible would give `host` from the inventory alone: group vars merged from
    /// `all` down to the deepest group (same depth: priority, then name), host vars last.
    /// Top-level keys replace (Ansible's default `hash_behaviour=replace`); `ansible_group_priority`
    /// only orders groups, as in Ansible. `None` for an unknown host.
    pub fn resolved_host_vars(&self, host: &str) -> Option<Vars> {
        let h = self.hosts.get(host)?;
        let mut vars = Vars::new();
        for g in self.groups_of_host(host) {
            if let Some(group) = self.groups.get(g) {
                // Ansible consumes `ansible_group_priority` as the group's priority; it is not a var.
                for (k, v) in group
                    .vars
                    .iter()
                    .filter(|(k, _)| *k != "ansible_group_priority")
                {
                    vars.insert(k.clone(), v.clone());
                }
            }
        }
        for (k, v) in &h.vars {
            vars.insert(k.clone(), v.clone());
        }
        Some(vars)
    }

    /// Hosts that get `key` from a group var: hosts of every group setting it (and of that group's
    /// descendants), or every host when `all` sets it. One pass over the memberships, so the cost is
    /// linear in the inventory size (called once per key, not once per host).
    pub(crate) fn hosts_inheriting_group_var(&self, key: &str) -> HashSet<String> {
        if self.all_vars().contains_key(key) {
            return self.hosts.keys().cloned().collect();
        }
        self.groups
            .values()
            .filter(|g| g.name != ALL && g.vars.contains_key(key))
            .flat_map(|g| self.hosts_of_group(&g.name))
            .map(str::to_owned)
            .collect()
    }

    /// Parents of each group (explicit `children` links only; `all` is implicit).
    fn parents(&self) -> HashMap<&str, Vec<&str>> {
        let mut parents: HashMap<&str, Vec<&str>> = HashMap::new();
        for g in self.groups.values() {
            for c in &g.children {
                parents.entry(c.as_str()).or_default().push(g.name.as_str());
            }
        }
        parents
    }

    /// Ansible's group depth: `all` is 0, a group is one deeper than its deepest parent.
    /// Assumes no cycles (the builder rejects them).
    fn depths(&self) -> HashMap<&str, usize> {
        fn depth<'a>(
            g: &'a str,
            parents: &HashMap<&'a str, Vec<&'a str>>,
            memo: &mut HashMap<&'a str, usize>,
        ) -> usize {
            if g == ALL {
                return 0;
            }
            if let Some(d) = memo.get(g) {
                return *d;
            }
            let d = 1 + parents
                .get(g)
                .map(|ps| {
                    ps.iter()
                        .map(|p| depth(p, parents, memo))
                        .max()
                        .unwrap_or(0)
                })
                .unwrap_or(0);
            memo.insert(g, d);
            d
        }
        let parents = self.parents();
        let mut memo = HashMap::new();
        for g in self.groups.keys() {
            depth(g, &parents, &mut memo);
        }
        memo
    }

    /// `ansible_group_priority` of a group (Ansible's default is 1).
    fn priority(&self, group: &str) -> i64 {
        self.groups
            .get(group)
            .and_then(|g| g.vars.get("ansible_group_priority"))
            .and_then(|v| {
                v.as_i64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            })
            .unwrap_or(1)
    }

    // ---- building (used by the mapping) --------------------------------------------------------

    /// The group `name`, created empty if needed.
    pub(crate) fn group_mut(&mut self, name: &str) -> &mut Group {
        self.groups
            .entry(name.to_owned())
            .or_insert_with(|| Group::new(name))
    }

    /// The host `name`, created without vars if needed.
    pub(crate) fn host_mut(&mut self, name: &str) -> &mut Host {
        self.hosts.entry(name.to_owned()).or_insert_with(|| Host {
            name: name.to_owned(),
            vars: Vars::new(),
        })
    }

    /// Puts `host` in `group` (creating both). `all` only registers the host.
    pub(crate) fn add_host_to_group(&mut self, group: &str, host: &str) {
        self.host_mut(host);
        if group != ALL {
            self.group_mut(group).hosts.insert(host.to_owned());
        }
    }

    pub(crate) fn warn(&mut self, message: String) {
        if !self.warnings.contains(&message) {
            self.warnings.push(message);
        }
    }

    /// Finds a `children` loop, returning the chain `a -> b -> a`.
    pub(crate) fn find_cycle(&self) -> Option<Vec<String>> {
        // Iterative DFS with colours: 0 = unseen, 1 = on the current path, 2 = done.
        let mut colour: HashMap<&str, u8> = HashMap::new();
        for start in self.groups.keys() {
            if colour.get(start.as_str()).copied().unwrap_or(0) != 0 {
                continue;
            }
            let mut path: Vec<(&str, usize)> = vec![(start.as_str(), 0)];
            colour.insert(start, 1);
            while let Some((g, next)) = path.last().copied() {
                let children = self.groups.get(g).map(|x| &x.children);
                match children.and_then(|c| c.get_index(next)) {
                    Some(child) => {
                        if let Some(top) = path.last_mut() {
                            top.1 += 1;
                        }
                        match colour.get(child.as_str()).copied().unwrap_or(0) {
                            0 => {
                                colour.insert(child, 1);
                                path.push((child.as_str(), 0));
                            }
                            1 => {
                                let from = path.iter().position(|(n, _)| *n == child).unwrap_or(0);
                                let mut chain: Vec<String> =
                                    path[from..].iter().map(|(n, _)| (*n).to_owned()).collect();
                                chain.push(child.clone());
                                return Some(chain);
                            }
                            _ => {}
                        }
                    }
                    None => {
                        colour.insert(g, 2);
                        path.pop();
                    }
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Inventory {
        let mut inv = Inventory::new();
        inv.add_host_to_group("web", "w1");
        inv.add_host_to_group("db", "d1");
        inv.add_host_to_group(ALL, "lonely");
        inv.group_mut("prod").children.insert("web".into());
        inv.group_mut("prod").children.insert("db".into());
        inv.group_mut(ALL).vars.insert("x".into(), json!("all"));
        inv.group_mut("prod").vars.insert("x".into(), json!("prod"));
        inv.group_mut("web").vars.insert("x".into(), json!("web"));
        inv.group_mut("db").vars.insert("y".into(), json!("db"));
        inv.host_mut("d1").vars.insert("y".into(), json!("host"));
        inv
    }

    #[test]
    fn ungrouped_and_top_level() {
        let inv = sample();
        assert_eq!(inv.ungrouped_hosts(), ["lonely"]);
        assert_eq!(inv.top_level_groups(), ["prod"]);
        assert_eq!(inv.hosts_of_group("prod"), ["w1", "d1"]);
        assert_eq!(inv.hosts_of_group(ALL), ["w1", "d1", "lonely"]);
    }

    #[test]
    fn vars_resolve_like_ansible() {
        let inv = sample();
        assert_eq!(inv.groups_of_host("w1"), ["all", "prod", "web"]);
        let w1 = inv.resolved_host_vars("w1").expect("w1");
        assert_eq!(
            w1["x"],
            json!("web"),
            "deeper group wins over parent and all"
        );
        let d1 = inv.resolved_host_vars("d1").expect("d1");
        assert_eq!(d1["x"], json!("prod"));
        assert_eq!(d1["y"], json!("host"), "host vars win over group vars");
        assert_eq!(
            inv.resolved_host_vars("lonely").expect("l")["x"],
            json!("all")
        );
        assert!(inv.resolved_host_vars("nope").is_none());
    }

    #[test]
    fn same_depth_groups_merge_by_priority_then_name() {
        let mut inv = Inventory::new();
        inv.add_host_to_group("b", "h");
        inv.add_host_to_group("a", "h");
        inv.group_mut("a").vars.insert("v".into(), json!("a"));
        inv.group_mut("b").vars.insert("v".into(), json!("b"));
        assert_eq!(inv.resolved_host_vars("h").expect("h")["v"], json!("b"));
        inv.group_mut("a")
            .vars
            .insert("ansible_group_priority".into(), json!(10));
        assert_eq!(inv.resolved_host_vars("h").expect("h")["v"], json!("a"));
    }

    #[test]
    fn cycles_are_found() {
        let mut inv = sample();
        assert_eq!(inv.find_cycle(), None);
        inv.group_mut("web").children.insert("prod".into());
        let chain = inv.find_cycle().expect("cycle");
        assert_eq!(chain.first(), chain.last());
        assert!(chain.contains(&"web".to_owned()) && chain.contains(&"prod".to_owned()));
    }
}
