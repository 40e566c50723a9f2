//! Playbooks, plays, roles and tasks, loaded from YAML the way Ansible does.
//!
//! Static parts are resolved here: `import_tasks`/`import_role` are inlined, roles are
//! expanded (meta dependencies first, the argument-spec validation task prepended), and
//! block/role keywords (`when`, `tags`, `vars`, ...) are pushed down onto every task.
//! Dynamic parts (`include_tasks`, `include_role`, `include_vars`) stay tasks for the engine.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Map, Value as Json};

use crate::Error;
use crate::yaml::{Node, NodeKind, load_file};

static TASK_IDS: AtomicUsize = AtomicUsize::new(1);

#[derive(Debug)]
pub struct Playbook {
    pub path: PathBuf,
    pub dir: PathBuf,
    pub plays: Vec<Play>,
}

#[derive(Debug)]
pub struct Play {
    pub name: String,
    pub hosts: String,
    pub gather_facts: bool,
    pub vars: Map<String, Json>,
    pub vars_files: Vec<Json>,
    pub roles: Vec<Arc<Role>>,
    pub pre_tasks: Vec<Item>,
    pub role_tasks: Vec<Item>,
    pub tasks: Vec<Item>,
    pub post_tasks: Vec<Item>,
    pub handlers: Vec<Arc<Task>>,
    pub serial: Option<Json>,
    pub any_errors_fatal: bool,
    pub max_fail_percentage: Option<f64>,
    pub file: PathBuf,
    pub line: usize,
}

#[derive(Debug)]
pub struct Role {
    pub name: String,
    pub path: PathBuf,
    pub defaults: Map<String, Json>,
    pub vars: Map<String, Json>,
    pub params: Map<String, Json>,
}

#[derive(Debug, Clone)]
pub enum Item {
    Task(Arc<Task>),
    Block(Arc<Block>),
}

#[derive(Debug)]
pub struct Block {
    pub name: Option<String>,
    pub block: Vec<Item>,
    pub rescue: Vec<Item>,
    pub always: Vec<Item>,
    pub file: PathBuf,
    pub line: usize,
}

#[derive(Debug, Clone, Default)]
pub struct LoopControl {
    pub loop_var: Option<String>,
    pub index_var: Option<String>,
    pub label: Option<Json>,
    pub pause: Option<f64>,
    pub extended: bool,
}

#[derive(Debug, Clone)]
pub enum LoopKind {
    /// `loop:` — the list as given.
    Loop,
    /// `with_items` — flattened one level.
    Items,
    /// `with_<lookup>` — `lookup('<name>', ...)` as a list.
    Lookup(String),
}

#[derive(Debug, Clone)]
pub struct Task {
    pub id: usize,
    pub name: Option<String>,
    /// Module name as written (for display when no name is given).
    pub action_written: String,
    /// Canonical short module name (`copy`, `include_tasks`, ...).
    pub action: String,
    pub args: Map<String, Json>,
    pub when: Vec<Json>,
    pub loop_: Option<(LoopKind, Json)>,
    pub loop_control: LoopControl,
    pub register: Option<String>,
    pub notify: Vec<String>,
    pub listen: Vec<String>,
    pub tags: Vec<String>,
    pub changed_when: Option<Vec<Json>>,
    pub failed_when: Option<Vec<Json>>,
    pub ignore_errors: Option<Json>,
    pub ignore_unreachable: bool,
    pub check_mode: Option<Json>,
    pub diff: Option<Json>,
    pub no_log: Option<Json>,
    pub until: Option<Json>,
    pub retries: Option<Json>,
    pub delay: Option<Json>,
    pub become_: Option<Json>,
    pub become_user: Option<Json>,
    pub environment: Map<String, Json>,
    pub vars: Map<String, Json>,
    pub delegate_to: Option<Json>,
    /// `delegate_facts`: facts the task returns go to the delegated host.
    pub delegate_facts: bool,
    pub run_once: bool,
    pub any_errors_fatal: bool,
    pub timeout: Option<Json>,
    pub role: Option<Arc<Role>>,
    pub file: PathBuf,
    pub line: usize,
    /// For tasks loaded as handlers.
    pub is_handler: bool,
}

impl Task {
    /// The name shown in banners: `role : name`, or the action when unnamed.
    pub fn display_name(&self) -> String {
        let base = self
            .name
            .clone()
            .unwrap_or_else(|| self.action_written.clone());
        match &self.role {
            Some(r) => format!("{} : {}", r.name, base),
            None => base,
        }
    }
}

/// Keywords allowed on a task besides its one module key.
const TASK_KEYWORDS: &[&str] = &[
    "name",
    "when",
    "loop",
    "loop_control",
    "register",
    "notify",
    "listen",
    "tags",
    "changed_when",
    "failed_when",
    "ignore_errors",
    "ignore_unreachable",
    "check_mode",
    "diff",
    "no_log",
    "until",
    "retries",
    "delay",
    "become",
    "become_user",
    "become_method",
    "become_flags",
    "environment",
    "args",
    "vars",
    "delegate_to",
    "delegate_facts",
    "run_once",
    "timeout",
    "any_errors_fatal",
    "action",
    "local_action",
    "collections",
    "connection",
    "debugger",
    "module_defaults",
    "throttle",
    "port",
    "remote_user",
    "poll",
    "async",
];

const BLOCK_KEYWORDS: &[&str] = &[
    "name",
    "block",
    "rescue",
    "always",
    "when",
    "tags",
    "vars",
    "become",
    "become_user",
    "become_method",
    "environment",
    "ignore_errors",
    "ignore_unreachable",
    "check_mode",
    "diff",
    "no_log",
    "delegate_to",
    "run_once",
    "any_errors_fatal",
    "collections",
    "module_defaults",
    "notify",
    "debugger",
    "throttle",
    "timeout",
    "connection",
    "remote_user",
];

const PLAY_KEYWORDS: &[&str] = &[
    "name",
    "hosts",
    "gather_facts",
    "vars",
    "vars_files",
    "vars_prompt",
    "roles",
    "pre_tasks",
    "tasks",
    "post_tasks",
    "handlers",
    "serial",
    "any_errors_fatal",
    "max_fail_percentage",
    "environment",
    "become",
    "become_user",
    "become_method",
    "tags",
    "strategy",
    "connection",
    "remote_user",
    "order",
    "collections",
    "check_mode",
    "diff",
    "ignore_errors",
    "ignore_unreachable",
    "no_log",
    "force_handlers",
    "gather_subset",
    "gather_timeout",
    "module_defaults",
    "run_once",
    "throttle",
    "timeout",
    "debugger",
    "fact_path",
];

/// Keywords pushed from blocks, roles and plays down to tasks.
#[derive(Debug, Clone, Default)]
struct Inherit {
    when: Vec<Json>,
    tags: Vec<String>,
    vars: Map<String, Json>,
    role: Option<Arc<Role>>,
    environment: Map<String, Json>,
    become_: Option<Json>,
    become_user: Option<Json>,
    ignore_errors: Option<Json>,
    check_mode: Option<Json>,
    diff: Option<Json>,
    no_log: Option<Json>,
    delegate_to: Option<Json>,
    delegate_facts: bool,
    run_once: bool,
    any_errors_fatal: bool,
    is_handler: bool,
    /// Files being imported (loop detection).
    stack: Vec<PathBuf>,
}

fn as_list(v: &Json) -> Vec<Json> {
    match v {
        Json::Array(a) => a.clone(),
        Json::Null => vec![],
        other => vec![other.clone()],
    }
}

fn as_strings(v: &Json) -> Vec<String> {
    as_list(v)
        .into_iter()
        .flat_map(|x| match x {
            Json::String(s) => s
                .split(',')
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect::<Vec<_>>(),
            other => vec![other.to_string()],
        })
        .collect()
}

fn truthy(v: &Json) -> bool {
    crate::template::json_truthy(v)
        && !matches!(v, Json::String(s) if matches!(s.to_ascii_lowercase().as_str(), "no" | "false" | "off" | "0"))
}

/// Loader state: where to find roles.
pub struct Loader {
    pub playbook_dir: PathBuf,
    pub roles_path: Vec<PathBuf>,
}

impl Loader {
    pub fn new(playbook: &Path) -> Loader {
        let dir = playbook
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let dir = if dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            dir
        };
        let mut roles_path = vec![dir.join("roles")];
        if let Ok(p) = std::env::var("ANSIBLE_ROLES_PATH") {
            roles_path.extend(p.split(':').filter(|s| !s.is_empty()).map(PathBuf::from));
        }
        roles_path.push(dir.clone());
        roles_path.push(PathBuf::from("/etc/ansible/roles"));
        Loader {
            playbook_dir: dir,
            roles_path,
        }
    }

    /// A task made by the runner itself (Gathering Facts).
    pub fn synthetic_task(action: &str, name: &str, file: &Path, line: usize) -> Task {
        let loader = Loader {
            playbook_dir: PathBuf::new(),
            roles_path: vec![],
        };
        let mut t = loader.new_task(&Inherit::default(), file.to_path_buf(), line);
        t.action = action.to_string();
        t.action_written = action.to_string();
        t.name = Some(name.to_string());
        t
    }

    pub fn load_playbook(&self, path: &Path) -> Result<Playbook, Error> {
        let node = load_file(path)?;
        let Some(seq) = node.as_seq() else {
            return Err(Error::syntax(
                path,
                node.line,
                "A playbook must be a list of plays",
            ));
        };
        let mut plays = vec![];
        for p in seq {
            let Some(map) = p.as_map() else {
                return Err(Error::syntax(path, p.line, "A play must be a mapping"));
            };
            if let Some((_, imp)) = map
                .iter()
                .find(|(k, _)| k == "import_playbook" || k == "ansible.builtin.import_playbook")
            {
                let f = imp.to_json().as_str().unwrap_or("").to_string();
                let sub = self.load_playbook(&path.parent().unwrap_or(Path::new(".")).join(f))?;
                plays.extend(sub.plays);
                continue;
            }
            plays.push(self.load_play(p, path)?);
        }
        Ok(Playbook {
            path: path.to_path_buf(),
            dir: self.playbook_dir.clone(),
            plays,
        })
    }

    fn load_play(&self, node: &Node, file: &Path) -> Result<Play, Error> {
        let map = node
            .as_map()
            .ok_or_else(|| Error::syntax(file, node.line, "A play must be a mapping"))?;
        let get = |k: &str| map.iter().find(|(n, _)| n == k).map(|(_, v)| v);
        for (k, v) in map {
            if !PLAY_KEYWORDS.contains(&k.as_str()) {
                return Err(Error::syntax(
                    file,
                    v.line,
                    format!("'{k}' is not a valid attribute for a Play"),
                ));
            }
        }
        let hosts = match get("hosts").map(Node::to_json) {
            Some(Json::String(s)) => s,
            Some(Json::Array(a)) => a
                .iter()
                .filter_map(|x| x.as_str())
                .collect::<Vec<_>>()
                .join(","),
            _ => {
                return Err(Error::syntax(
                    file,
                    node.line,
                    "the field 'hosts' is required but was not set",
                ));
            }
        };
        let mut inherit = Inherit::default();
        if let Some(t) = get("tags") {
            inherit.tags = as_strings(&t.to_json());
        }
        for (key, slot) in [
            ("environment", None),
            ("become", Some(&mut inherit.become_)),
            ("become_user", Some(&mut inherit.become_user)),
            ("ignore_errors", Some(&mut inherit.ignore_errors)),
            ("check_mode", Some(&mut inherit.check_mode)),
            ("diff", Some(&mut inherit.diff)),
            ("no_log", Some(&mut inherit.no_log)),
        ] {
            if let (Some(v), Some(slot)) = (get(key), slot) {
                *slot = Some(v.to_json());
            }
        }
        if let Some(Json::Object(e)) = get("environment").map(Node::to_json) {
            inherit.environment = e;
        }
        inherit.any_errors_fatal = get("any_errors_fatal")
            .map(|v| truthy(&v.to_json()))
            .unwrap_or(false);
        let vars = match get("vars").map(Node::to_json) {
            Some(Json::Object(m)) => m,
            Some(Json::Null) | None => Map::new(),
            Some(_) => return Err(Error::syntax(file, node.line, "vars must be a mapping")),
        };
        let mut play = Play {
            // An unnamed play is named after its host pattern, as in Ansible.
            name: get("name")
                .map(|n| json_str(&n.to_json()))
                .unwrap_or_else(|| hosts.clone()),
            hosts,
            gather_facts: get("gather_facts")
                .map(|v| truthy(&v.to_json()))
                .unwrap_or(true),
            vars,
            vars_files: get("vars_files")
                .map(|v| as_list(&v.to_json()))
                .unwrap_or_default(),
            roles: vec![],
            pre_tasks: vec![],
            role_tasks: vec![],
            tasks: vec![],
            post_tasks: vec![],
            handlers: vec![],
            serial: get("serial").map(Node::to_json),
            any_errors_fatal: inherit.any_errors_fatal,
            max_fail_percentage: get("max_fail_percentage").and_then(|v| v.to_json().as_f64()),
            file: file.to_path_buf(),
            line: node.line,
        };
        let base = file.parent().unwrap_or(Path::new(".")).to_path_buf();
        if let Some(n) = get("pre_tasks") {
            play.pre_tasks = self.load_items(n, file, &base, &inherit)?;
        }
        if let Some(roles) = get("roles") {
            for r in roles.as_seq().cloned().unwrap_or_default() {
                let (role_items, handlers, role_list) =
                    self.load_role_ref(&r, file, &inherit, &play.roles)?;
                play.role_tasks.extend(role_items);
                play.handlers.extend(handlers);
                play.roles.extend(role_list);
            }
        }
        if let Some(n) = get("tasks") {
            play.tasks = self.load_items(n, file, &base, &inherit)?;
        }
        if let Some(n) = get("post_tasks") {
            play.post_tasks = self.load_items(n, file, &base, &inherit)?;
        }
        if let Some(n) = get("handlers") {
            let mut h_inherit = inherit.clone();
            h_inherit.is_handler = true;
            let items = self.load_items(n, file, &base, &h_inherit)?;
            let mut flat = vec![];
            flatten_tasks(&items, &mut flat);
            // Play handlers come before role handlers in definition order? Ansible: roles first.
            play.handlers.extend(flat);
        }
        // Roles found in pre_tasks/tasks via import_role count too (for vars).
        Ok(play)
    }

    /// Find a role directory by name or path.
    pub fn find_role(&self, name: &str, from: &Path) -> Option<PathBuf> {
        let direct = Path::new(name);
        if direct.is_absolute() && direct.is_dir() {
            return Some(direct.to_path_buf());
        }
        let mut candidates: Vec<PathBuf> = vec![];
        if let Some(dir) = from.parent() {
            candidates.push(dir.join("roles").join(name));
            // A role's tasks file: ../../roles/<name> (sibling roles)
            if let Some(role_root) = dir.parent() {
                candidates.push(role_root.join(name));
                if let Some(rr) = role_root.parent() {
                    candidates.push(rr.join(name));
                }
            }
        }
        for p in &self.roles_path {
            candidates.push(p.join(name));
        }
        // FQCN roles: ns.coll.role -> last segment in roles paths.
        if let Some(short) = name
            .rsplit('.')
            .next()
            .filter(|_| name.matches('.').count() == 2)
        {
            for p in &self.roles_path {
                candidates.push(p.join(short));
            }
        }
        candidates.into_iter().find(|c| {
            c.join("tasks").is_dir() || c.join("meta").is_dir() || c.join("handlers").is_dir()
        })
    }

    /// A `roles:` entry (string or dict) -> its task items, handlers and roles (deps first).
    fn load_role_ref(
        &self,
        node: &Node,
        file: &Path,
        inherit: &Inherit,
        already: &[Arc<Role>],
    ) -> Result<(Vec<Item>, Vec<Arc<Task>>, Vec<Arc<Role>>), Error> {
        let j = node.to_json();
        let (name, mut params, mut sub) = match &j {
            Json::String(s) => (s.clone(), Map::new(), inherit.clone()),
            Json::Object(m) => {
                let name = m
                    .get("role")
                    .or_else(|| m.get("name"))
                    .map(json_str)
                    .unwrap_or_default();
                let mut sub = inherit.clone();
                let mut params = Map::new();
                for (k, v) in m {
                    match k.as_str() {
                        "role" | "name" => {}
                        "tags" => sub.tags.extend(as_strings(v)),
                        "when" => sub.when.extend(as_list(v)),
                        "vars" => {
                            if let Json::Object(vm) = v {
                                params.extend(vm.clone());
                            }
                        }
                        "become" => sub.become_ = Some(v.clone()),
                        "become_user" => sub.become_user = Some(v.clone()),
                        "environment" => {
                            if let Json::Object(e) = v {
                                sub.environment.extend(e.clone());
                            }
                        }
                        "ignore_errors" => sub.ignore_errors = Some(v.clone()),
                        "delegate_to" => sub.delegate_to = Some(v.clone()),
                        "no_log" => sub.no_log = Some(v.clone()),
                        "tasks_from" | "handlers_from" | "vars_from" | "defaults_from"
                        | "allow_duplicates" | "public" => {
                            params.insert(format!("__{k}"), v.clone());
                        }
                        _ => {
                            params.insert(k.clone(), v.clone());
                        }
                    }
                }
                (name, params, sub)
            }
            _ => {
                return Err(Error::syntax(
                    file,
                    node.line,
                    "a role entry must be a name or a mapping",
                ));
            }
        };
        if name.is_empty() {
            return Err(Error::syntax(
                file,
                node.line,
                "role definitions must contain a role name",
            ));
        }
        let tasks_from = params
            .remove("__tasks_from")
            .map(|v| json_str(&v))
            .unwrap_or_else(|| "main".into());
        let handlers_from = params
            .remove("__handlers_from")
            .map(|v| json_str(&v))
            .unwrap_or_else(|| "main".into());
        let vars_from = params
            .remove("__vars_from")
            .map(|v| json_str(&v))
            .unwrap_or_else(|| "main".into());
        let defaults_from = params
            .remove("__defaults_from")
            .map(|v| json_str(&v))
            .unwrap_or_else(|| "main".into());
        params.retain(|k, _| !k.starts_with("__"));
        let path = self.find_role(&name, file).ok_or_else(|| {
            let searched: Vec<String> = self
                .roles_path
                .iter()
                .map(|p| p.display().to_string())
                .collect();
            Error::syntax(
                file,
                node.line,
                format!("the role '{name}' was not found in {}", searched.join(":")),
            )
        })?;
        let role_name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or(&name)
            .to_string();
        if sub.stack.contains(&path) {
            return Err(Error::syntax(
                file,
                node.line,
                format!("role '{role_name}' depends on itself"),
            ));
        }
        sub.stack.push(path.clone());

        let mut items = vec![];
        let mut handlers = vec![];
        let mut roles = vec![];
        // meta/main.yml dependencies run first.
        let meta = read_optional_yaml(&path.join("meta"), "main")?;
        if let Some(meta) = &meta
            && let Some(deps) = meta
                .as_map()
                .and_then(|m| m.iter().find(|(k, _)| k == "dependencies"))
                .map(|(_, v)| v)
        {
            for d in deps.as_seq().cloned().unwrap_or_default() {
                let meta_file = path.join("meta").join("main.yml");
                let mut dep_inherit = sub.clone();
                dep_inherit.role = None;
                let (i, h, r) = self.load_role_ref(&d, &meta_file, &dep_inherit, already)?;
                items.extend(i);
                handlers.extend(h);
                roles.extend(r);
            }
        }
        let defaults =
            read_optional_yaml(&path.join("defaults"), &defaults_from)?.map(|n| n.to_json());
        let vars = read_optional_yaml(&path.join("vars"), &vars_from)?.map(|n| n.to_json());
        let role = Arc::new(Role {
            name: role_name.clone(),
            path: path.clone(),
            defaults: match defaults {
                Some(Json::Object(m)) => m,
                _ => Map::new(),
            },
            vars: match vars {
                Some(Json::Object(m)) => m,
                _ => Map::new(),
            },
            params: params.clone(),
        });
        // A role already applied with the same params runs once (allow_duplicates: false).
        if already
            .iter()
            .chain(roles.iter())
            .any(|r| r.path == role.path && r.params == role.params)
        {
            return Ok((items, handlers, roles));
        }
        sub.role = Some(role.clone());
        sub.vars.extend(params.clone());

        // Argument spec validation, prepended like Ansible does.
        let specs = read_optional_yaml(&path.join("meta"), "argument_specs")?;
        let spec_entry = specs
            .as_ref()
            .map(Node::to_json)
            .and_then(|j| j.get("argument_specs").cloned())
            .and_then(|s| s.get(&tasks_from).cloned());
        if let Some(spec) = spec_entry {
            let mut tname = format!("Validating arguments against arg spec '{tasks_from}'");
            if let Some(d) = spec.get("short_description").and_then(Json::as_str) {
                tname = format!("{tname} - {d}");
            }
            let mut args = Map::new();
            args.insert(
                "argument_spec".into(),
                spec.get("options")
                    .cloned()
                    .unwrap_or(Json::Object(Map::new())),
            );
            args.insert("provided_arguments".into(), Json::Object(params.clone()));
            args.insert("validate_args_context".into(), serde_json::json!({"type": "role", "name": role_name, "argument_spec_name": tasks_from, "path": path.display().to_string()}));
            let mut t = self.new_task(&sub, path.join("meta").join("argument_specs.yml"), 1);
            t.name = Some(tname);
            t.action = "validate_argument_spec".into();
            t.action_written = "ansible.builtin.validate_argument_spec".into();
            t.args = args;
            t.tags.push("always".into());
            items.push(Item::Task(Arc::new(t)));
        }
        let tasks_file = find_yaml(&path.join("tasks"), &tasks_from);
        if let Some(tf) = tasks_file {
            let n = load_file(&tf)?;
            let dir = path.join("tasks");
            items.extend(self.load_items(&n, &tf, &dir, &sub)?);
        } else if tasks_from != "main" {
            return Err(Error::syntax(
                file,
                node.line,
                format!("could not find tasks file '{tasks_from}' in role '{role_name}'"),
            ));
        }
        if let Some(hf) = find_yaml(&path.join("handlers"), &handlers_from) {
            let n = load_file(&hf)?;
            let mut h_inherit = sub.clone();
            h_inherit.is_handler = true;
            let h_items = self.load_items(&n, &hf, &path.join("handlers"), &h_inherit)?;
            flatten_tasks(&h_items, &mut handlers);
        }
        roles.push(role);
        Ok((items, handlers, roles))
    }

    /// A list of tasks/blocks from a YAML node.
    fn load_items(
        &self,
        node: &Node,
        file: &Path,
        base: &Path,
        inherit: &Inherit,
    ) -> Result<Vec<Item>, Error> {
        if node.is_null() {
            return Ok(vec![]);
        }
        let Some(seq) = node.as_seq() else {
            return Err(Error::syntax(
                file,
                node.line,
                "A list of tasks is expected here",
            ));
        };
        let mut out = vec![];
        for t in seq {
            out.extend(self.load_item(t, file, base, inherit)?);
        }
        Ok(out)
    }

    fn load_item(
        &self,
        node: &Node,
        file: &Path,
        base: &Path,
        inherit: &Inherit,
    ) -> Result<Vec<Item>, Error> {
        let Some(map) = node.as_map() else {
            return Err(Error::syntax(file, node.line, "A task must be a mapping"));
        };
        let get = |k: &str| map.iter().find(|(n, _)| n == k).map(|(_, v)| v);
        if get("block").is_some() {
            return self
                .load_block(node, map, file, base, inherit)
                .map(|b| vec![Item::Block(Arc::new(b))]);
        }
        // Identify the module key.
        let mut module: Option<(&String, &Node)> = None;
        for (k, v) in map {
            if TASK_KEYWORDS.contains(&k.as_str()) || k.starts_with("with_") {
                continue;
            }
            if let Some((prev, _)) = module {
                let known = crate::modules::canonical_name(k).is_some();
                let msg = if known {
                    format!("conflicting action statements: {prev}, {k}")
                } else {
                    format!(
                        "'{k}' is not a valid attribute for a Task (the task already uses the module '{prev}')"
                    )
                };
                return Err(Error::syntax(file, v.line, msg));
            }
            module = Some((k, v));
        }
        let (written, args_node) = match module {
            Some((k, v)) => (k.clone(), v.to_json()),
            None => match get("action").or_else(|| get("local_action")) {
                Some(a) => {
                    let j = a.to_json();
                    match j {
                        Json::String(s) => {
                            let (m, rest) = s.split_once(char::is_whitespace).unwrap_or((&s, ""));
                            (m.to_string(), Json::String(rest.to_string()))
                        }
                        Json::Object(mut o) => {
                            let m = o.remove("module").map(|x| json_str(&x)).unwrap_or_default();
                            (m, Json::Object(o))
                        }
                        _ => return Err(Error::syntax(file, node.line, "invalid action")),
                    }
                }
                None => {
                    return Err(Error::syntax(
                        file,
                        node.line,
                        "no module/action detected in task.",
                    ));
                }
            },
        };
        let Some(action) = crate::modules::canonical_name(&written) else {
            return Err(Error::syntax(
                file,
                node.line,
                format!(
                    "couldn't resolve module/action '{written}'. This often indicates a misspelling, missing collection, or incorrect module path."
                ),
            ));
        };
        let free_form = matches!(
            action.as_str(),
            "command"
                | "shell"
                | "raw"
                | "script"
                | "include_tasks"
                | "import_tasks"
                | "include_vars"
                | "import_role"
                | "include_role"
                | "meta"
                | "set_fact"
                | "debug"
                | "fail"
                | "assert"
                | "group_by"
                | "add_host"
        );
        let mut args = match args_node {
            Json::Object(m) => m,
            Json::String(s) => {
                if matches!(
                    action.as_str(),
                    "include_tasks" | "import_tasks" | "include_vars" | "meta"
                ) {
                    let mut m = crate::util::parse_kv(&s, true);
                    if !m.contains_key("_raw_params") && m.is_empty() {
                        m.insert("_raw_params".into(), Json::String(s.clone()));
                    }
                    m
                } else {
                    crate::util::parse_kv(
                        &s,
                        matches!(action.as_str(), "command" | "shell" | "raw" | "script"),
                    )
                }
            }
            Json::Null => Map::new(),
            other => {
                let mut m = Map::new();
                m.insert("_raw_params".into(), other);
                m
            }
        };
        let _ = free_form;
        if let Some(Json::Object(extra)) = get("args").map(Node::to_json) {
            for (k, v) in extra {
                args.entry(k).or_insert(v);
            }
        }
        if get("local_action").is_some() {
            args.insert("__delegate_localhost".into(), Json::Bool(true));
        }

        // Static imports are inlined now.
        if action == "import_tasks" {
            let f = args
                .get("_raw_params")
                .or_else(|| args.get("file"))
                .map(json_str)
                .unwrap_or_default();
            if crate::template::is_template(&f) {
                return Err(Error::syntax(
                    file,
                    node.line,
                    "import_tasks with a templated file name is not supported; use include_tasks",
                ));
            }
            let path = resolve_tasks_file(base, file, &f).ok_or_else(|| {
                Error::syntax(file, node.line, format!("Could not find or access '{f}'"))
            })?;
            if inherit.stack.contains(&path) {
                return Err(Error::syntax(
                    file,
                    node.line,
                    format!("recursive import of '{f}'"),
                ));
            }
            let mut sub = self.apply_keywords(map, inherit, file)?;
            sub.stack.push(path.clone());
            let n = load_file(&path)?;
            let dir = path.parent().unwrap_or(base).to_path_buf();
            return self.load_items(&n, &path, &dir, &sub);
        }
        if action == "import_role" {
            let sub = self.apply_keywords(map, inherit, file)?;
            let mut role_map = vec![];
            for (k, v) in &args {
                let key = if k == "name" {
                    "role".to_string()
                } else {
                    k.clone()
                };
                role_map.push((
                    key,
                    Node {
                        line: node.line,
                        kind: NodeKind::Scalar(v.clone()),
                    },
                ));
            }
            let rn = Node {
                line: node.line,
                kind: NodeKind::Map(role_map),
            };
            // Handlers of imported roles are not collected here (rare in practice).
            let (items, _handlers, _roles) = self.load_role_ref(&rn, file, &sub, &[])?;
            return Ok(items);
        }

        let sub = self.apply_keywords(map, inherit, file)?;
        let mut t = self.new_task(&sub, file.to_path_buf(), node.line);
        t.action = action;
        t.action_written = written;
        t.args = args;
        t.name = get("name").map(|n| json_str(&n.to_json()));
        t.register = get("register").map(|n| json_str(&n.to_json()));
        t.notify = get("notify")
            .map(|n| as_list(&n.to_json()).iter().map(json_str).collect())
            .unwrap_or_default();
        t.listen = get("listen")
            .map(|n| as_list(&n.to_json()).iter().map(json_str).collect())
            .unwrap_or_default();
        t.changed_when = get("changed_when").map(|n| as_list(&n.to_json()));
        t.failed_when = get("failed_when").map(|n| as_list(&n.to_json()));
        t.until = get("until").map(Node::to_json);
        t.retries = get("retries").map(Node::to_json);
        t.delay = get("delay").map(Node::to_json);
        t.timeout = get("timeout").map(Node::to_json);
        t.ignore_unreachable = get("ignore_unreachable")
            .map(|v| truthy(&v.to_json()))
            .unwrap_or(false);
        if let Some(l) = get("loop") {
            t.loop_ = Some((LoopKind::Loop, l.to_json()));
        }
        for (k, v) in map {
            if let Some(kind) = k.strip_prefix("with_") {
                if t.loop_.is_some() {
                    return Err(Error::syntax(
                        file,
                        v.line,
                        "only one of 'loop' or 'with_*' may be used",
                    ));
                }
                let lk = if kind == "items" {
                    LoopKind::Items
                } else {
                    LoopKind::Lookup(kind.to_string())
                };
                t.loop_ = Some((lk, v.to_json()));
            }
        }
        if let Some(Json::Object(lc)) = get("loop_control").map(Node::to_json) {
            t.loop_control = LoopControl {
                loop_var: lc.get("loop_var").map(json_str),
                index_var: lc.get("index_var").map(json_str),
                label: lc.get("label").cloned(),
                pause: lc.get("pause").and_then(Json::as_f64),
                extended: lc.get("extended").map(truthy).unwrap_or(false),
            };
        }
        Ok(vec![Item::Task(Arc::new(t))])
    }

    fn new_task(&self, sub: &Inherit, file: PathBuf, line: usize) -> Task {
        Task {
            id: TASK_IDS.fetch_add(1, Ordering::Relaxed),
            name: None,
            action_written: String::new(),
            action: String::new(),
            args: Map::new(),
            when: sub.when.clone(),
            loop_: None,
            loop_control: LoopControl::default(),
            register: None,
            notify: vec![],
            listen: vec![],
            tags: sub.tags.clone(),
            changed_when: None,
            failed_when: None,
            ignore_errors: sub.ignore_errors.clone(),
            ignore_unreachable: false,
            check_mode: sub.check_mode.clone(),
            diff: sub.diff.clone(),
            no_log: sub.no_log.clone(),
            until: None,
            retries: None,
            delay: None,
            become_: sub.become_.clone(),
            become_user: sub.become_user.clone(),
            environment: sub.environment.clone(),
            vars: sub.vars.clone(),
            delegate_to: sub.delegate_to.clone(),
            delegate_facts: sub.delegate_facts,
            run_once: sub.run_once,
            any_errors_fatal: sub.any_errors_fatal,
            timeout: None,
            role: sub.role.clone(),
            file,
            line,
            is_handler: sub.is_handler,
        }
    }

    /// Keywords of a task/block/import that its children inherit.
    fn apply_keywords(
        &self,
        map: &[(String, Node)],
        inherit: &Inherit,
        _file: &Path,
    ) -> Result<Inherit, Error> {
        let mut sub = inherit.clone();
        for (k, v) in map {
            let j = v.to_json();
            match k.as_str() {
                "when" => sub.when.extend(as_list(&j)),
                "tags" => {
                    for t in as_strings(&j) {
                        if !sub.tags.contains(&t) {
                            sub.tags.push(t);
                        }
                    }
                }
                "vars" => {
                    if let Json::Object(m) = j {
                        sub.vars.extend(m);
                    }
                }
                "environment" => {
                    if let Json::Object(m) = j {
                        sub.environment.extend(m);
                    }
                }
                "become" => sub.become_ = Some(j),
                "become_user" => sub.become_user = Some(j),
                "ignore_errors" => sub.ignore_errors = Some(j),
                "check_mode" => sub.check_mode = Some(j),
                "diff" => sub.diff = Some(j),
                "no_log" => sub.no_log = Some(j),
                "delegate_to" => sub.delegate_to = Some(j),
                "delegate_facts" => sub.delegate_facts = truthy(&j),
                "run_once" => sub.run_once = truthy(&j),
                "any_errors_fatal" => sub.any_errors_fatal = truthy(&j),
                _ => {}
            }
        }
        Ok(sub)
    }

    fn load_block(
        &self,
        node: &Node,
        map: &[(String, Node)],
        file: &Path,
        base: &Path,
        inherit: &Inherit,
    ) -> Result<Block, Error> {
        for (k, v) in map {
            if !BLOCK_KEYWORDS.contains(&k.as_str()) {
                return Err(Error::syntax(
                    file,
                    v.line,
                    format!("'{k}' is not a valid attribute for a Block"),
                ));
            }
        }
        let sub = self.apply_keywords(map, inherit, file)?;
        let get = |k: &str| map.iter().find(|(n, _)| n == k).map(|(_, v)| v);
        let section = |k: &str| -> Result<Vec<Item>, Error> {
            match get(k) {
                Some(n) => self.load_items(n, file, base, &sub),
                None => Ok(vec![]),
            }
        };
        Ok(Block {
            name: get("name").map(|n| json_str(&n.to_json())),
            block: section("block")?,
            rescue: section("rescue")?,
            always: section("always")?,
            file: file.to_path_buf(),
            line: node.line,
        })
    }

    /// Tasks of a file for `include_tasks` (dynamic, loaded at run time).
    pub fn load_include(
        &self,
        path: &Path,
        parent: &Task,
        extra_vars: Map<String, Json>,
    ) -> Result<Vec<Item>, Error> {
        let mut inherit = Inherit {
            when: vec![],
            tags: parent.tags.clone(),
            vars: parent.vars.clone(),
            role: parent.role.clone(),
            environment: parent.environment.clone(),
            become_: parent.become_.clone(),
            become_user: parent.become_user.clone(),
            ignore_errors: parent.ignore_errors.clone(),
            check_mode: parent.check_mode.clone(),
            diff: parent.diff.clone(),
            no_log: parent.no_log.clone(),
            delegate_to: parent.delegate_to.clone(),
            delegate_facts: parent.delegate_facts,
            run_once: parent.run_once,
            any_errors_fatal: parent.any_errors_fatal,
            is_handler: parent.is_handler,
            stack: vec![],
        };
        inherit.vars.extend(extra_vars);
        let n = load_file(path)?;
        let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        self.load_items(&n, path, &dir, &inherit)
    }

    /// `include_role` at run time: the role's items and handlers.
    pub fn load_role_dynamic(
        &self,
        args: &Map<String, Json>,
        parent: &Task,
    ) -> Result<(Vec<Item>, Vec<Arc<Task>>, Vec<Arc<Role>>), Error> {
        let mut entries = vec![];
        for (k, v) in args {
            let key = if k == "name" {
                "role".to_string()
            } else {
                k.clone()
            };
            entries.push((
                key,
                Node {
                    line: parent.line,
                    kind: NodeKind::Scalar(v.clone()),
                },
            ));
        }
        let rn = Node {
            line: parent.line,
            kind: NodeKind::Map(entries),
        };
        let inherit = Inherit {
            tags: parent.tags.clone(),
            vars: parent.vars.clone(),
            environment: parent.environment.clone(),
            ..Inherit::default()
        };
        self.load_role_ref(&rn, &parent.file, &inherit, &[])
    }
}

pub fn json_str(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        Json::Null => String::new(),
        other => other.to_string(),
    }
}

fn flatten_tasks(items: &[Item], out: &mut Vec<Arc<Task>>) {
    for i in items {
        match i {
            Item::Task(t) => out.push(t.clone()),
            Item::Block(b) => {
                flatten_tasks(&b.block, out);
                flatten_tasks(&b.rescue, out);
                flatten_tasks(&b.always, out);
            }
        }
    }
}

fn find_yaml(dir: &Path, name: &str) -> Option<PathBuf> {
    let direct = dir.join(name);
    if direct.is_file() {
        return Some(direct);
    }
    ["yml", "yaml", "json"]
        .iter()
        .map(|e| dir.join(format!("{name}.{e}")))
        .find(|p| p.is_file())
}

fn read_optional_yaml(dir: &Path, name: &str) -> Result<Option<Node>, Error> {
    match find_yaml(dir, name) {
        Some(p) => Ok(Some(load_file(&p)?)),
        None => Ok(None),
    }
}

/// Relative task files: beside the including file, then the role's tasks dir, then the playbook.
pub fn resolve_tasks_file(base: &Path, file: &Path, name: &str) -> Option<PathBuf> {
    let p = Path::new(name);
    if p.is_absolute() {
        return p.is_file().then(|| p.to_path_buf());
    }
    let mut candidates = vec![base.join(name)];
    if let Some(d) = file.parent() {
        candidates.push(d.join(name));
        candidates.push(d.join("tasks").join(name));
    }
    candidates.into_iter().find(|c| c.is_file())
}
