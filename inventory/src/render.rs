//! Printing an inventory the ways Ansible and people read it. Every function returns the whole text
//! (or value); the binary prints it only once it is complete, so a failure never leaves half an
//! inventory on stdout.

use indexmap::IndexSet;
use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::model::{ALL, Inventory, UNGROUPED};

impl Inventory {
    /// The executable-inventory `--list` document:
    /// `{"all": {"children": [...], "vars": {...}}, "<group>": {"hosts": [...], "vars": {...},
    /// "children": [...]}, ..., "_meta": {"hostvars": {...}}}`. Empty keys are left out, as
    /// `ansible-inventory --list` does. With `_meta`, Ansible never calls `--host`.
    pub fn to_list_json(&self) -> Value {
        let mut doc = Map::new();
        let ungrouped = self.ungrouped_hosts();

        let mut all = Map::new();
        let mut top: Vec<Value> = Vec::new();
        if !ungrouped.is_empty() && self.group(UNGROUPED).is_none() {
            top.push(json!(UNGROUPED));
        }
        top.extend(self.top_level_groups().into_iter().map(|g| json!(g)));
        if !top.is_empty() {
            all.insert("children".into(), Value::Array(top));
        }
        if !self.all_vars().is_empty() {
            all.insert("vars".into(), Value::Object(self.all_vars().clone()));
        }
        doc.insert(ALL.into(), Value::Object(all));

        for g in self.groups().filter(|g| g.name != ALL) {
            let mut body = Map::new();
            let mut hosts: Vec<Value> = g.hosts.iter().map(|h| json!(h)).collect();
            if g.name == UNGROUPED {
                // An explicit `ungrouped_instances` output and the implicit ungrouped hosts merge.
                let listed: IndexSet<&str> = g.hosts.iter().map(String::as_str).collect();
                hosts.extend(
                    ungrouped
                        .iter()
                        .filter(|h| !listed.contains(*h))
                        .map(|h| json!(h)),
                );
            }
            if !hosts.is_empty() {
                body.insert("hosts".into(), Value::Array(hosts));
            }
            if !g.vars.is_empty() {
                body.insert("vars".into(), Value::Object(g.vars.clone()));
            }
            if !g.children.is_empty() {
                body.insert("children".into(), json!(g.children));
            }
            doc.insert(g.name.clone(), Value::Object(body));
        }
        if !ungrouped.is_empty() && self.group(UNGROUPED).is_none() {
            doc.insert(UNGROUPED.into(), json!({ "hosts": ungrouped }));
        }

        let hostvars: Map<String, Value> = self
            .hosts()
            .map(|h| (h.name.clone(), Value::Object(h.vars.clone())))
            .collect();
        doc.insert("_meta".into(), json!({ "hostvars": hostvars }));
        Value::Object(doc)
    }

    /// The `--host NAME` document: that host's own vars.
    pub fn host_json(&self, name: &str) -> Result<Value> {
        self.host(name)
            .map(|h| Value::Object(h.vars.clone()))
            .ok_or_else(|| Error::UnknownHost {
                name: name.to_owned(),
                count: self.hosts().count(),
            })
    }

    /// A tree like `ansible-inventory --graph`: `@group:` lines, child groups before hosts,
    /// `ungrouped` first. No vars are shown (they may be sensitive).
    pub fn to_graph(&self) -> String {
        let mut out = String::from("@all:\n");
        let ungrouped = self.ungrouped_hosts();
        let explicit_ungrouped = self.group(UNGROUPED).is_some();
        if !ungrouped.is_empty() && !explicit_ungrouped {
            out.push_str("  |--@ungrouped:\n");
            for h in &ungrouped {
                out.push_str("  |  |--");
                out.push_str(h);
                out.push('\n');
            }
        }
        for g in self.top_level_groups() {
            self.graph_group(g, 1, &ungrouped, &mut out);
        }
        out
    }

    fn graph_group(&self, name: &str, depth: usize, ungrouped: &[&str], out: &mut String) {
        let indent = |d: usize| format!("  {}", "|  ".repeat(d - 1));
        out.push_str(&indent(depth));
        out.push_str("|--@");
        out.push_str(name);
        out.push_str(":\n");
        let Some(g) = self.group(name) else { return };
        for child in &g.children {
            self.graph_group(child, depth + 1, ungrouped, out);
        }
        let mut hosts: Vec<&str> = g.hosts.iter().map(String::as_str).collect();
        if name == UNGROUPED {
            hosts.extend(ungrouped.iter().filter(|h| !g.hosts.contains(**h)));
        }
        for h in hosts {
            out.push_str(&indent(depth + 1));
            out.push_str("|--");
            out.push_str(h);
            out.push('\n');
        }
    }

    /// A static YAML inventory (Ansible's `yaml` inventory format) equivalent to [`Self::to_list_json`].
    /// Each group is written in full at its first place in the tree and as `{}` elsewhere; each
    /// host's vars are written at its first appearance only (Ansible merges repeated entries).
    pub fn to_yaml(&self) -> Result<String> {
        let ungrouped = self.ungrouped_hosts();
        let mut seen_groups: IndexSet<String> = IndexSet::new();
        let mut seen_hosts: IndexSet<String> = IndexSet::new();

        let mut children = Map::new();
        if !ungrouped.is_empty() && self.group(UNGROUPED).is_none() {
            let mut hosts = Map::new();
            for h in &ungrouped {
                hosts.insert((*h).to_owned(), self.yaml_host(h, &mut seen_hosts));
            }
            children.insert(UNGROUPED.into(), json!({ "hosts": hosts }));
        }
        for g in self.top_level_groups() {
            let body = self.yaml_group(g, &ungrouped, &mut seen_groups, &mut seen_hosts);
            children.insert(g.to_owned(), body);
        }
        let mut all = Map::new();
        if !self.all_vars().is_empty() {
            all.insert("vars".into(), Value::Object(self.all_vars().clone()));
        }
        if !children.is_empty() {
            all.insert("children".into(), Value::Object(children));
        }
        let doc = json!({ ALL: all });
        Ok(crate::yaml::to_yaml(&doc))
    }

    fn yaml_group(
        &self,
        name: &str,
        ungrouped: &[&str],
        seen_groups: &mut IndexSet<String>,
        seen_hosts: &mut IndexSet<String>,
    ) -> Value {
        if !seen_groups.insert(name.to_owned()) {
            return json!({});
        }
        let Some(g) = self.group(name) else {
            return json!({});
        };
        let mut body = Map::new();
        let mut host_names: Vec<&str> = g.hosts.iter().map(String::as_str).collect();
        if name == UNGROUPED {
            host_names.extend(ungrouped.iter().filter(|h| !g.hosts.contains(**h)));
        }
        if !host_names.is_empty() {
            let mut hosts = Map::new();
            for h in host_names {
                hosts.insert(h.to_owned(), self.yaml_host(h, seen_hosts));
            }
            body.insert("hosts".into(), Value::Object(hosts));
        }
        if !g.vars.is_empty() {
            body.insert("vars".into(), Value::Object(g.vars.clone()));
        }
        if !g.children.is_empty() {
            let mut children = Map::new();
            for c in &g.children {
                let child = self.yaml_group(c, ungrouped, seen_groups, seen_hosts);
                children.insert(c.clone(), child);
            }
            body.insert("children".into(), Value::Object(children));
        }
        Value::Object(body)
    }

    fn yaml_host(&self, name: &str, seen_hosts: &mut IndexSet<String>) -> Value {
        if !seen_hosts.insert(name.to_owned()) {
            return json!({});
        }
        self.host(name)
            .map(|h| Value::Object(h.vars.clone()))
            .unwrap_or_else(|| json!({}))
    }
}
