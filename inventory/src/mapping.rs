//! Outputs → inventory: the naming convention.
//!
//! | output                   | shape                                                     | becomes                       |
//! |--------------------------|-----------------------------------------------------------|-------------------------------|
//! | `<group>_instances`      | list/set/tuple of names, list of objects with `name`,     | hosts of `<group>`            |
//! |                          | or map name => object / IP address / null                 |                               |
//! | `<group>_ansible_vars`   | object (or null)                                          | vars of `<group>`             |
//! | `<group>_children`       | list of group names                                       | child groups of `<group>`     |
//! | `ansible_inventory`      | `{hosts, groups, vars}` (see [`map_structured`])          | all of the above in one place |
//! | `incus_remote`, `incus_project` | string                                             | default remote/project        |
//!
//! A host object may carry: `name`, an address (`ansible_host`, `ipv4_address`, `address`,
//! `ipv6_address`, first non-empty wins), `project`, `remote`, `groups` (extra groups), `vars` or
//! `ansible_vars` (host vars), and any `ansible_*` key (copied as a host var). Other attributes — for
//! example the rest of an `incus_instance` resource when the output is the resource itself — are
//! ignored.
//!
//! `all` works as a group name: `all_ansible_vars` sets vars for every host.

use std::net::IpAddr;

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::model::{ALL, Inventory, Vars};
use crate::names::sanitize_group_name;
use crate::options::{INCUS_CONNECTION, Options};
use crate::outputs::{Output, Outputs, ValuePath, kind};

const INSTANCES_SUFFIX: &str = "_instances";
const VARS_SUFFIX: &str = "_ansible_vars";
const CHILDREN_SUFFIX: &str = "_children";
const STRUCTURED: &str = "ansible_inventory";
const REMOTE_OUTPUT: &str = "incus_remote";
const PROJECT_OUTPUT: &str = "incus_project";

/// What the outputs say about one host before it becomes Ansible vars. A host can appear in several
/// outputs; later information completes or overrides earlier information.
#[derive(Debug, Default, Clone)]
struct HostFacts {
    address: Option<String>,
    project: Option<String>,
    remote: Option<String>,
    /// Vars the user wrote explicitly (`vars`, `ansible_vars`, `ansible_*` keys): applied last.
    vars: Vars,
}

impl HostFacts {
    fn merge(&mut self, other: HostFacts) {
        if other.address.is_some() {
            self.address = other.address;
        }
        if other.project.is_some() {
            self.project = other.project;
        }
        if other.remote.is_some() {
            self.remote = other.remote;
        }
        self.vars.extend(other.vars);
    }
}

/// One host found in an output.
struct FoundHost {
    name: String,
    groups: Vec<String>,
    facts: HostFacts,
}

/// Accumulates the inventory and what is known about each host while walking the outputs.
struct Builder<'a> {
    inv: Inventory,
    facts: indexmap::IndexMap<String, HostFacts>,
    /// Ansible group name -> the first name the outputs used for it (to report merges).
    raw_group_names: std::collections::HashMap<String, String>,
    options: &'a Options,
}

/// Builds an inventory from parsed outputs. `origin` names where they came from (for errors).
pub fn build_inventory(outputs: &Outputs, origin: &str, options: &Options) -> Result<Inventory> {
    if outputs.is_empty() {
        return Err(Error::NoOutputs {
            origin: origin.to_owned(),
        });
    }
    let is_inventory_output =
        |name: &str| name == STRUCTURED || group_prefix(name, INSTANCES_SUFFIX).is_some();
    if !outputs.outputs.keys().any(|n| is_inventory_output(n)) {
        // Output names are not secret (only values are); the list is bounded for huge states.
        let names: Vec<&str> = outputs.outputs.keys().map(String::as_str).collect();
        let mut found = names[..names.len().min(20)].join(", ");
        if names.len() > 20 {
            found.push_str(&format!(", … ({} in all)", names.len()));
        }
        return Err(Error::NoInventoryOutputs {
            origin: origin.to_owned(),
            found,
        });
    }

    let mut b = Builder {
        inv: Inventory::new(),
        facts: indexmap::IndexMap::new(),
        raw_group_names: std::collections::HashMap::new(),
        options,
    };
    // Link (parent, child) -> output that declared it, to name the output in a cycle error.
    let mut link_origin: Vec<(String, String, String)> = Vec::new();
    let default_remote = b.string_output(outputs, REMOTE_OUTPUT)?;
    let default_project = b.string_output(outputs, PROJECT_OUTPUT)?;

    for (name, output) in &outputs.outputs {
        if output.sensitive && options.omit_sensitive {
            if is_inventory_output(name)
                || group_prefix(name, VARS_SUFFIX).is_some()
                || group_prefix(name, CHILDREN_SUFFIX).is_some()
            {
                b.inv.warn(format!(
                    "output `{name}` is sensitive and was left out (omit-sensitive is on)"
                ));
            }
            continue;
        }
        if name == STRUCTURED {
            for (parent, child) in b.map_structured(name, output)? {
                link_origin.push((parent, child, name.clone()));
            }
        } else if let Some(group) = group_prefix(name, INSTANCES_SUFFIX) {
            let group = b.group_name(group, name);
            let hosts = parse_instances(name, output)?;
            b.add_hosts(name, &group, hosts);
        } else if let Some(group) = group_prefix(name, VARS_SUFFIX) {
            let group = b.group_name(group, name);
            let path = ValuePath::root(name, output.sensitive);
            let vars = expect_vars(name, &path, &output.value, "an object of variables")?;
            b.inv.group_mut(&group).vars.extend(vars);
        } else if let Some(group) = group_prefix(name, CHILDREN_SUFFIX) {
            let group = b.group_name(group, name);
            let path = ValuePath::root(name, output.sensitive);
            for child in b.group_list(name, &path, &output.value)? {
                b.add_child(name, &group, &child)?;
                link_origin.push((group.clone(), child, name.clone()));
            }
        }
        // Anything else is an ordinary output that is not about the inventory: ignored.
    }

    if let Some(chain) = b.inv.find_cycle() {
        let parent = &chain[chain.len() - 2];
        let child = &chain[chain.len() - 1];
        let output = link_origin
            .iter()
            .find(|(p, c, _)| p == parent && c == child)
            .map(|(_, _, o)| o.clone())
            .unwrap_or_else(|| STRUCTURED.to_owned());
        return Err(Error::GroupCycle {
            group: child.clone(),
            chain: chain.join(" -> "),
            output,
        });
    }

    b.finish_hosts(default_remote, default_project);
    Ok(b.inv)
}

/// `web_instances` → `Some("web")`; an empty prefix (`_instances`) is not a group.
fn group_prefix<'n>(name: &'n str, suffix: &str) -> Option<&'n str> {
    name.strip_suffix(suffix).filter(|g| !g.is_empty())
}

impl Builder<'_> {
    /// The Ansible-safe name of a group, with one warning per renamed group, and one when two
    /// different names end up as the same group.
    fn group_name(&mut self, raw: &str, output: &str) -> String {
        let fixed = sanitize_group_name(raw);
        let name = fixed.clone().unwrap_or_else(|| raw.to_owned());
        match self.raw_group_names.get(&name) {
            Some(first) if first != raw => {
                let first = first.clone();
                self.inv.warn(format!(
                    "groups `{first}` and `{raw}` (from output `{output}`) both become `{name}` for Ansible                      and are merged"
                ));
            }
            Some(_) => {}
            None => {
                self.raw_group_names.insert(name.clone(), raw.to_owned());
                if fixed.is_some() {
                    self.inv.warn(format!(
                        "group name `{raw}` (from output `{output}`) is not valid for Ansible; using `{name}`"
                    ));
                }
            }
        }
        name
    }

    /// A top-level string output such as `incus_project` (absent or null: `None`).
    fn string_output(&mut self, outputs: &Outputs, name: &str) -> Result<Option<String>> {
        let Some(output) = outputs.get(name) else {
            return Ok(None);
        };
        if output.sensitive && self.options.omit_sensitive {
            return Ok(None);
        }
        let path = ValuePath::root(name, output.sensitive);
        opt_string(
            name,
            &path,
            &output.value,
            "the Incus remote or project name",
        )
    }

    fn add_hosts(&mut self, output: &str, group: &str, hosts: Vec<FoundHost>) {
        // Make sure the group exists even when the list is empty (count = 0 is legitimate).
        if group != ALL {
            self.inv.group_mut(group);
        }
        for host in hosts {
            self.inv.add_host_to_group(group, &host.name);
            for extra in &host.groups {
                let extra = self.group_name(extra, output);
                self.inv.add_host_to_group(&extra, &host.name);
            }
            self.facts.entry(host.name).or_default().merge(host.facts);
        }
    }

    fn add_child(&mut self, output: &str, parent: &str, child: &str) -> Result<()> {
        if child == ALL {
            return Err(Error::WrongShape {
                output: output.to_owned(),
                path: format!("the children of `{parent}`"),
                expected: "group names other than `all`".into(),
                found: "`all`",
                fix: "`all` is the root of every group and cannot be a child; remove it".into(),
            });
        }
        if parent == ALL {
            // Every group is already under `all`.
            self.inv.group_mut(child);
            return Ok(());
        }
        self.inv.group_mut(child);
        self.inv.group_mut(parent).children.insert(child.to_owned());
        Ok(())
    }

    /// A list of group names (children, or a host's `groups`), sanitized.
    fn group_list(&mut self, output: &str, path: &ValuePath, v: &Value) -> Result<Vec<String>> {
        let items = match v {
            Value::Null => return Ok(Vec::new()),
            Value::Array(items) => items,
            other => {
                return Err(wrong(
                    output,
                    path,
                    "a list of group names",
                    other,
                    "make it a list of strings",
                ));
            }
        };
        let mut names = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            match item {
                Value::String(s) if !s.is_empty() => names.push(self.group_name(s, output)),
                other => {
                    return Err(wrong(
                        output,
                        &path.index(i),
                        "a non-empty group name",
                        other,
                        "make it a list of strings",
                    ));
                }
            }
        }
        Ok(names)
    }

    /// The single structured output:
    /// `{ "hosts": {name: host-object|null} | [name|host-object], "groups": {name: {"hosts": [..],
    /// "vars": {..}, "children": [..]}}, "vars": {..} }`. Returns the `children` links it declared.
    fn map_structured(&mut self, name: &str, output: &Output) -> Result<Vec<(String, String)>> {
        let root = ValuePath::root(name, output.sensitive);
        let fix = "see `ansible_inventory` in docs/inventory.md: {hosts = {...}, groups = {...}, vars = {...}}";
        let obj = match &output.value {
            Value::Object(o) => o,
            Value::Null => return Ok(Vec::new()),
            other => {
                return Err(wrong(
                    name,
                    &root,
                    "an object with hosts, groups and vars",
                    other,
                    fix,
                ));
            }
        };
        for key in obj.keys() {
            if !matches!(key.as_str(), "hosts" | "groups" | "vars") {
                return Err(Error::WrongShape {
                    output: name.to_owned(),
                    path: root.field(key).to_string(),
                    expected: "only the keys `hosts`, `groups` and `vars`".into(),
                    found: "an unknown key",
                    fix: fix.into(),
                });
            }
        }
        let mut links = Vec::new();
        if let Some(vars) = obj.get("vars") {
            let vars = expect_vars(
                name,
                &root.field("vars"),
                vars,
                "an object of variables for `all`",
            )?;
            self.inv.group_mut(ALL).vars.extend(vars);
        }
        if let Some(groups) = obj.get("groups") {
            let path = root.field("groups");
            let groups = match groups {
                Value::Object(g) => g,
                Value::Null => &Map::new(),
                other => {
                    return Err(wrong(
                        name,
                        &path,
                        "an object group name => group",
                        other,
                        fix,
                    ));
                }
            };
            for (raw, body) in groups {
                let gpath = path.key(raw);
                let group = self.group_name(raw, name);
                self.inv.group_mut(&group);
                let body = match body {
                    Value::Object(b) => b,
                    Value::Null => continue,
                    other => {
                        return Err(wrong(
                            name,
                            &gpath,
                            "an object with hosts, vars, children",
                            other,
                            fix,
                        ));
                    }
                };
                for (key, v) in body {
                    match key.as_str() {
                        "vars" => {
                            let vars = expect_vars(
                                name,
                                &gpath.field("vars"),
                                v,
                                "an object of variables",
                            )?;
                            self.inv.group_mut(&group).vars.extend(vars);
                        }
                        "children" => {
                            for child in self.group_list(name, &gpath.field("children"), v)? {
                                self.add_child(name, &group, &child)?;
                                links.push((group.clone(), child));
                            }
                        }
                        "hosts" => {
                            let found = parse_host_collection(name, &gpath.field("hosts"), v)?;
                            self.add_hosts(name, &group, found);
                        }
                        _ => {
                            return Err(Error::WrongShape {
                                output: name.to_owned(),
                                path: gpath.field(key).to_string(),
                                expected: "only the keys `hosts`, `vars` and `children`".into(),
                                found: "an unknown key",
                                fix: fix.into(),
                            });
                        }
                    }
                }
            }
        }
        if let Some(hosts) = obj.get("hosts") {
            let found = parse_host_collection(name, &root.field("hosts"), hosts)?;
            self.add_hosts(name, ALL, found);
        }
        Ok(links)
    }

    /// Turns what we know about each host into its Ansible vars.
    ///
    /// Precedence, highest first: remote/project from the options (overrides by intent); vars the
    /// outputs give the host explicitly; the host's own `remote`/`project`/address; defaults
    /// (`ansible_connection` from the options, the `incus_remote`/`incus_project` outputs). Defaults
    /// are NOT written as host vars when one of the host's groups sets the same var, because host vars
    /// beat group vars in Ansible and would silently undo e.g. `web_ansible_vars.ansible_connection`.
    fn finish_hosts(&mut self, default_remote: Option<String>, default_project: Option<String>) {
        let incus = self.options.connection.as_deref() == Some(INCUS_CONNECTION);
        let keys = [
            "ansible_connection",
            "ansible_incus_remote",
            "ansible_incus_project",
        ];
        let inherited: Vec<std::collections::HashSet<String>> = keys
            .iter()
            .map(|k| self.inv.hosts_inheriting_group_var(k))
            .collect();
        for (name, facts) in std::mem::take(&mut self.facts) {
            let group_sets = |key: &str| {
                keys.iter()
                    .position(|k| *k == key)
                    .is_some_and(|i| inherited[i].contains(&name))
            };
            let mut vars = Vars::new();
            if let Some(conn) = &self.options.connection
                && !group_sets("ansible_connection")
            {
                vars.insert("ansible_connection".into(), Value::String(conn.clone()));
            }
            if let Some(address) = facts.address {
                vars.insert("ansible_host".into(), Value::String(address));
            }
            if incus {
                // The incus connection plugin takes the instance from the last set of
                // `inventory_hostname`, `ansible_host`, `ansible_incus_host`. Pinning it to the
                // instance name keeps `ansible_host` free to carry the address (templates, ssh
                // fallbacks) without making `incus exec` target "10.x.y.z".
                vars.insert("ansible_incus_host".into(), Value::String(name.clone()));
                let remote = match (facts.remote, &default_remote) {
                    (Some(r), _) => Some(r),
                    (None, Some(d)) if !group_sets("ansible_incus_remote") => Some(d.clone()),
                    _ => None,
                };
                if let Some(remote) = remote {
                    vars.insert("ansible_incus_remote".into(), Value::String(remote));
                }
                let project = match (facts.project, &default_project) {
                    (Some(p), _) => Some(p),
                    (None, Some(d)) if !group_sets("ansible_incus_project") => Some(d.clone()),
                    _ => None,
                };
                if let Some(project) = project {
                    vars.insert("ansible_incus_project".into(), Value::String(project));
                }
            }
            // Explicit vars from the outputs win over the computed ones...
            vars.extend(facts.vars);
            // ...except the remote/project given as options, which are overrides by intent.
            if incus {
                if let Some(r) = &self.options.incus_remote {
                    vars.insert("ansible_incus_remote".into(), Value::String(r.clone()));
                }
                if let Some(p) = &self.options.incus_project {
                    vars.insert("ansible_incus_project".into(), Value::String(p.clone()));
                }
            }
            self.inv.host_mut(&name).vars = vars;
        }
    }
}

/// A `<group>_instances` output.
fn parse_instances(name: &str, output: &Output) -> Result<Vec<FoundHost>> {
    parse_host_collection(
        name,
        &ValuePath::root(name, output.sensitive),
        &output.value,
    )
}

const INSTANCES_EXPECTED: &str =
    "a list/set/tuple of instance names, a list of objects with `name`, or a map name => object";
const INSTANCES_FIX: &str = "output the instance names, e.g. `value = [for i in incus_instance.web : i.name]`, \
     or a map, e.g. `value = { for i in incus_instance.web : i.name => { ipv4_address = i.ipv4_address } }`";

/// Hosts given as a list (names or objects) or a map (name => object, address or null).
fn parse_host_collection(output: &str, path: &ValuePath, v: &Value) -> Result<Vec<FoundHost>> {
    match v {
        // `null` happens with conditional outputs (`count == 0 ? null : …`): no hosts.
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => {
            let mut hosts = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let p = path.index(i);
                match item {
                    Value::String(s) => hosts.push(FoundHost {
                        name: host_name(output, &p, s)?,
                        groups: Vec::new(),
                        facts: HostFacts::default(),
                    }),
                    Value::Object(o) => hosts.push(parse_host_object(output, &p, None, o)?),
                    other => {
                        return Err(wrong(
                            output,
                            &p,
                            "an instance name or an object with `name`",
                            other,
                            INSTANCES_FIX,
                        ));
                    }
                }
            }
            Ok(hosts)
        }
        Value::Object(map) => {
            let mut hosts = Vec::with_capacity(map.len());
            for (key, item) in map {
                let p = path.key(key);
                match item {
                    Value::Object(o) => hosts.push(parse_host_object(output, &p, Some(key), o)?),
                    Value::Null => hosts.push(FoundHost {
                        name: host_name(output, &p, key)?,
                        groups: Vec::new(),
                        facts: HostFacts::default(),
                    }),
                    // name => "10.0.0.5" is a common short form; any other string is ambiguous
                    // (an instance name? a status?) so it is refused rather than guessed.
                    Value::String(s) if s.parse::<IpAddr>().is_ok() => hosts.push(FoundHost {
                        name: host_name(output, &p, key)?,
                        groups: Vec::new(),
                        facts: HostFacts {
                            address: Some(s.clone()),
                            ..HostFacts::default()
                        },
                    }),
                    Value::String(_) => {
                        return Err(Error::WrongShape {
                            output: output.to_owned(),
                            path: p.to_string(),
                            expected: "an object of attributes, an IP address, or null".into(),
                            found: "a string that is not an IP address",
                            fix: "map each name to an object, e.g. `{ ipv4_address = i.ipv4_address }`".into(),
                        });
                    }
                    other => {
                        return Err(wrong(
                            output,
                            &p,
                            "an object of attributes, an IP address, or null",
                            other,
                            INSTANCES_FIX,
                        ));
                    }
                }
            }
            Ok(hosts)
        }
        other => Err(wrong(
            output,
            path,
            INSTANCES_EXPECTED,
            other,
            INSTANCES_FIX,
        )),
    }
}

/// One host object. The name is its `name` attribute (the Incus instance name), else the map key.
fn parse_host_object(
    output: &str,
    path: &ValuePath,
    key: Option<&str>,
    o: &Map<String, Value>,
) -> Result<FoundHost> {
    let name = match (o.get("name"), key) {
        (Some(Value::String(n)), _) if !n.is_empty() => host_name(output, &path.field("name"), n)?,
        (None | Some(Value::Null), Some(k)) => host_name(output, path, k)?,
        (None | Some(Value::Null), None) => {
            return Err(Error::WrongShape {
                output: output.to_owned(),
                path: path.to_string(),
                expected: "an object with a `name` attribute".into(),
                found: "an object without `name`",
                fix: "add `name = i.name` to each object, or use a map name => object".into(),
            });
        }
        (Some(other), _) => {
            return Err(wrong(
                output,
                &path.field("name"),
                "a non-empty instance name",
                other,
                INSTANCES_FIX,
            ));
        }
    };
    let mut facts = HostFacts::default();
    for field in ["ansible_host", "ipv4_address", "address", "ipv6_address"] {
        if let Some(v) = o.get(field) {
            // Providers report "" while an instance has no address yet: not an address.
            if let Some(a) =
                opt_string(output, &path.field(field), v, "an address")?.filter(|a| !a.is_empty())
            {
                facts.address = Some(a);
                break;
            }
        }
    }
    if let Some(v) = o.get("project") {
        facts.project = opt_string(output, &path.field("project"), v, "an Incus project name")?;
    }
    if let Some(v) = o.get("remote") {
        facts.remote = opt_string(output, &path.field("remote"), v, "an Incus remote name")?;
    }
    for field in ["vars", "ansible_vars"] {
        if let Some(v) = o.get(field) {
            facts.vars.extend(expect_vars(
                output,
                &path.field(field),
                v,
                "an object of host variables",
            )?);
        }
    }
    for (k, v) in o {
        if k.starts_with("ansible_") && k != "ansible_vars" {
            facts.vars.insert(k.clone(), v.clone());
        }
    }
    let groups = match o.get("groups") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => {
            let mut gs = Vec::with_capacity(items.len());
            for (i, g) in items.iter().enumerate() {
                match g {
                    Value::String(s) if !s.is_empty() => gs.push(s.clone()),
                    other => {
                        return Err(wrong(
                            output,
                            &path.field("groups").index(i),
                            "a group name",
                            other,
                            "make `groups` a list of strings",
                        ));
                    }
                }
            }
            gs
        }
        Some(other) => {
            return Err(wrong(
                output,
                &path.field("groups"),
                "a list of group names",
                other,
                "make `groups` a list of strings",
            ));
        }
    };
    Ok(FoundHost {
        name,
        groups,
        facts,
    })
}

fn host_name(output: &str, path: &ValuePath, name: &str) -> Result<String> {
    if name.trim().is_empty() {
        return Err(Error::WrongShape {
            output: output.to_owned(),
            path: path.to_string(),
            expected: "a non-empty instance name".into(),
            found: "an empty string",
            fix: "filter out instances without a name".into(),
        });
    }
    Ok(name.to_owned())
}

fn expect_vars(output: &str, path: &ValuePath, v: &Value, expected: &str) -> Result<Vars> {
    match v {
        Value::Object(o) => Ok(o.clone()),
        Value::Null => Ok(Vars::new()),
        other => Err(wrong(
            output,
            path,
            expected,
            other,
            "make it an object, e.g. `value = { http_port = 80 }`",
        )),
    }
}

fn opt_string(output: &str, path: &ValuePath, v: &Value, what: &str) -> Result<Option<String>> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        other => Err(wrong(
            output,
            path,
            &format!("{what} (a string)"),
            other,
            "make it a string",
        )),
    }
}

fn wrong(output: &str, path: &ValuePath, expected: &str, found: &Value, fix: &str) -> Error {
    Error::WrongShape {
        output: output.to_owned(),
        path: path.to_string(),
        expected: expected.to_owned(),
        found: kind(found),
        fix: fix.to_owned(),
    }
}
