//! The linear strategy: each task runs on every active host (in parallel, up to `--forks`)
//! before the next one starts. Variables are layered with Ansible's precedence, loops and
//! conditionals are evaluated per host (and per item), results are printed as they arrive,
//! handlers run at flush points, failed hosts drop out while the others continue.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use indexmap::{IndexMap, IndexSet};
use serde_json::{Map, Value as Json, json};
use tokio::sync::Semaphore;

use crate::inventory::Inventory;
use crate::modules::common::{HostConn, ModuleError, Res};
use crate::modules::{self, Ctx, Paths};
use crate::output::{HostStats, Output};
use crate::playbook::{Item, Loader, LoopKind, Play, Playbook, Role, Task, json_str};
use crate::template::{HostVars, OMIT, Scope, Templar, Var, json_truthy};
use crate::transport::{Transport, TransportError, incus::IncusTransport, local::LocalTransport};

#[derive(Debug, Clone, Default)]
pub struct Options {
    pub limit: Option<String>,
    pub tags: Vec<String>,
    pub skip_tags: Vec<String>,
    pub extra_vars: Map<String, Json>,
    pub check: bool,
    pub diff: bool,
    pub verbosity: u8,
    pub forks: usize,
    pub start_at_task: Option<String>,
}

/// What the run did, for the exit code and the benchmark.
#[derive(Debug, Default)]
pub struct Summary {
    pub stats: IndexMap<String, HostStats>,
    pub round_trips: u64,
    pub round_trip_time: Duration,
    pub execs: u64,
}

impl Summary {
    /// ansible-playbook's exit codes: 0 ok, 2 a host failed, 4 a host unreachable.
    pub fn exit_code(&self) -> i32 {
        if self.stats.values().any(|s| s.failed > 0) {
            2
        } else if self.stats.values().any(|s| s.unreachable > 0) {
            4
        } else {
            0
        }
    }
}

#[derive(Default)]
struct HostState {
    conn: Option<Arc<HostConn>>,
    facts: Map<String, Json>,
    /// The last failed task and its result (ansible_failed_task / ansible_failed_result).
    last_failure: Option<(Json, Json)>,
    /// Facts injected as top-level variables (INJECT_FACTS_AS_VARS).
    fact_vars: Map<String, Json>,
    set_facts: Map<String, Json>,
    include_vars: Map<String, Json>,
    /// Failures so far; a task list runs a host while this is unchanged since the list began.
    fail_count: u32,
    unreachable: bool,
    /// Failed in an earlier play: excluded from the following plays.
    dead: bool,
    notified: IndexSet<usize>,
    ended: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Ok,
    Changed,
    Skipped,
    Failed,
    Unreachable,
}

struct Outcome {
    status: Status,
    result: Res,
    ignored: bool,
    /// (status, label, result) of each loop item.
    items: Vec<(Status, String, Res)>,
    /// Only for include_tasks/include_role: the files or roles to run next, one per loop
    /// item for a looped include, with that item's label.
    include: Vec<(IncludeRequest, Option<String>)>,
    meta: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
enum IncludeRequest {
    Tasks(PathBuf, Map<String, Json>),
    Role(Map<String, Json>),
}

/// Play-wide context shared by every task of the play.
struct PlayCtx {
    vars: Map<String, Json>,
    roles: Vec<Arc<Role>>,
    hosts_all: Vec<String>,
    handlers: Vec<Arc<Task>>,
    name: String,
}

pub struct Engine {
    opts: Options,
    inv: Inventory,
    templar: Templar,
    out: Arc<Output>,
    loader: Loader,
    playbook_dir: PathBuf,
    hosts: HashMap<String, HostState>,
    stats: IndexMap<String, HostStats>,
    incus: HashMap<String, incus_client::Client>,
    local: Arc<HostConn>,
    start_at_found: bool,
    transports: Vec<Arc<dyn Transport>>,
    /// A batch in which every host failed, or `any_errors_fatal`, ends the playbook (as
    /// ansible-playbook's break_play: later batches and plays do not run).
    stop_playbook: bool,
}

impl Engine {
    pub fn new(opts: Options, inv: Inventory, playbook: &Path, out: Arc<Output>) -> Engine {
        let loader = Loader::new(playbook);
        let playbook_dir =
            std::fs::canonicalize(&loader.playbook_dir).unwrap_or(loader.playbook_dir.clone());
        let local_t: Arc<dyn Transport> = Arc::new(LocalTransport::new());
        Engine {
            start_at_found: opts.start_at_task.is_none(),
            opts,
            inv,
            templar: Templar::new(),
            out,
            loader,
            playbook_dir,
            hosts: HashMap::new(),
            stats: IndexMap::new(),
            incus: HashMap::new(),
            local: Arc::new(HostConn::new(local_t.clone())),
            transports: vec![local_t],
            stop_playbook: false,
        }
    }

    pub fn loader(&self) -> &Loader {
        &self.loader
    }

    pub fn inventory(&self) -> &Inventory {
        &self.inv
    }

    /// Hosts a play targets after `--limit`.
    pub fn play_hosts(&self, play: &Play) -> Vec<String> {
        let mut hosts = self.inv.select(&play.hosts);
        if hosts.is_empty() && play.hosts == "localhost" {
            hosts = vec!["localhost".to_string()];
        }
        if let Some(l) = &self.opts.limit {
            let allowed: HashSet<String> = self.inv.select(l).into_iter().collect();
            hosts.retain(|h| allowed.contains(h));
        }
        hosts
    }

    pub async fn run(&mut self, pb: &Playbook) -> Summary {
        for play in &pb.plays {
            if self.stop_playbook {
                break;
            }
            self.run_play(play).await;
        }
        self.out.recap(&self.stats);
        futures_util::future::join_all(self.transports.iter().map(|t| t.close())).await;
        let mut summary = Summary {
            stats: self.stats.clone(),
            ..Default::default()
        };
        for t in &self.transports {
            let (n, d, e) = t.counters().snapshot();
            summary.round_trips += n;
            summary.round_trip_time += d;
            summary.execs += e;
        }
        summary
    }

    fn conn_for(&mut self, host: &str) -> Result<Arc<HostConn>, String> {
        if let Some(c) = self.hosts.get(host).and_then(|h| h.conn.clone()) {
            return Ok(c);
        }
        let vars = self.inv.host_vars(host);
        let s = |k: &str| vars.get(k).map(json_str);
        let connection = s("ansible_connection").unwrap_or_else(|| {
            if host == "localhost" {
                "local".into()
            } else {
                "community.general.incus".into()
            }
        });
        let conn: Arc<HostConn> = match connection.as_str() {
            "local" => self.local.clone(),
            "community.general.incus" | "incus" | "floe" | "lxd" | "community.general.lxd" => {
                let remote = s("ansible_incus_remote").unwrap_or_else(|| "local".into());
                // One shared client (connection pool) per remote: the unix socket for
                // `local`, else the remote of the incus CLI configuration (HTTPS + TLS).
                if !self.incus.contains_key(&remote) {
                    let client = if remote == "local" {
                        incus_client::Client::local()
                            .map_err(|e| format!("cannot open the Incus socket: {e}"))?
                    } else {
                        incus_client::Client::from_cli_config(None, Some(&remote)).map_err(|e| {
                            format!("cannot connect to Incus remote '{remote}': {e}")
                        })?
                    };
                    self.incus.insert(remote.clone(), client);
                }
                let client = self.incus.get(&remote).ok_or("no Incus client")?;
                let instance = s("ansible_incus_host")
                    .or_else(|| s("ansible_host"))
                    .unwrap_or_else(|| host.to_string());
                let t: Arc<dyn Transport> = Arc::new(IncusTransport::new(
                    client,
                    &instance,
                    s("ansible_incus_project").as_deref(),
                ));
                self.transports.push(t.clone());
                Arc::new(HostConn::new(t))
            }
            other => {
                return Err(format!(
                    "the connection plugin '{other}' is not supported (use community.general.incus or local)"
                ));
            }
        };
        self.hosts.entry(host.to_string()).or_default().conn = Some(conn.clone());
        Ok(conn)
    }

    async fn run_play(&mut self, play: &Play) {
        let mut hosts = self.play_hosts(play);
        hosts.retain(|h| !self.hosts.get(h).is_some_and(|s| s.dead || s.unreachable));
        self.out.play(&play.name, self.opts.check);
        self.out.progress_plan(
            usize::from(play.gather_facts)
                + [
                    &play.pre_tasks,
                    &play.role_tasks,
                    &play.tasks,
                    &play.post_tasks,
                ]
                .iter()
                .map(|items| crate::progress::count_tasks(items))
                .sum::<usize>(),
        );
        if hosts.is_empty() {
            self.out.line("skipping: no hosts matched");
            return;
        }
        for h in &hosts {
            self.stats.entry(h.clone()).or_default();
            let st = self.hosts.entry(h.clone()).or_default();
            st.fail_count = 0;
            st.notified.clear();
            st.ended = false;
        }
        let mut vars = play.vars.clone();
        for vf in &play.vars_files {
            match self.load_vars_file(vf, &vars) {
                Ok(m) => vars.extend(m),
                Err(e) => {
                    self.out.line(&format!("[ERROR]: {e}"));
                    for h in &hosts {
                        self.fail_host(h, false);
                    }
                    return;
                }
            }
        }
        let mut pc = PlayCtx {
            vars,
            roles: play.roles.clone(),
            hosts_all: hosts.clone(),
            handlers: play.handlers.clone(),
            name: play.name.clone(),
        };
        // `serial`: the play runs batch after batch (all hosts at once without it).
        for batch in serial_batches(&hosts, play.serial.as_ref()) {
            if play.gather_facts {
                let mut t = crate::playbook::Loader::synthetic_task(
                    "setup",
                    "Gathering Facts",
                    &play.file,
                    play.line,
                );
                t.tags = vec!["always".into()];
                let item = Item::Task(Arc::new(t));
                self.run_items(&mut pc, std::slice::from_ref(&item), &batch, false)
                    .await;
            }
            let mut main: Vec<Item> = play.role_tasks.clone();
            main.extend(play.tasks.iter().cloned());
            for section in [&play.pre_tasks, &main, &play.post_tasks] {
                // A host that failed earlier in the play runs nothing more.
                let alive: Vec<String> = batch
                    .iter()
                    .filter(|h| {
                        self.hosts
                            .get(*h)
                            .is_some_and(|s| s.fail_count == 0 && !s.unreachable && !s.ended)
                    })
                    .cloned()
                    .collect();
                self.run_items(&mut pc, section, &alive, false).await;
                self.flush_handlers(&mut pc, &alive).await;
            }
            let all_failed = batch.iter().all(|h| {
                self.hosts
                    .get(h)
                    .is_some_and(|s| s.fail_count > 0 || s.unreachable)
            });
            if all_failed {
                self.stop_playbook = true;
                break;
            }
        }
        for h in &hosts {
            if let Some(s) = self.hosts.get_mut(h)
                && s.fail_count > 0
            {
                s.dead = true;
            }
        }
    }

    fn load_vars_file(
        &self,
        vf: &Json,
        vars: &Map<String, Json>,
    ) -> Result<Map<String, Json>, String> {
        let candidates: Vec<String> = match vf {
            Json::Array(a) => a.iter().map(json_str).collect(),
            other => vec![json_str(other)],
        };
        let scope = Scope::new(
            &self.templar,
            vars.iter()
                .map(|(k, v)| (k.clone(), Var::Raw(v.clone())))
                .collect(),
            None,
        );
        for c in &candidates {
            let name = self.templar.render_string(c, &scope).map_err(|e| e.msg)?;
            let p = if Path::new(&name).is_absolute() {
                PathBuf::from(&name)
            } else {
                self.playbook_dir.join(&name)
            };
            if p.is_file() {
                let n = crate::yaml::load_file(&p).map_err(|e| e.to_string())?;
                return match n.to_json() {
                    Json::Object(m) => Ok(m),
                    Json::Null => Ok(Map::new()),
                    _ => Err(format!("{}: vars file must contain a mapping", p.display())),
                };
            }
        }
        Err(format!("vars file {} was not found", candidates.join(", ")))
    }

    fn active(&self, hosts: &[String], start: &HashMap<String, u32>) -> Vec<String> {
        hosts
            .iter()
            .filter(|h| {
                self.hosts.get(*h).is_some_and(|s| {
                    !s.unreachable && !s.ended && Some(&s.fail_count) == start.get(*h)
                })
            })
            .cloned()
            .collect()
    }

    fn fail_counts(&self, hosts: &[String]) -> HashMap<String, u32> {
        hosts
            .iter()
            .map(|h| {
                (
                    h.clone(),
                    self.hosts.get(h).map(|s| s.fail_count).unwrap_or(0),
                )
            })
            .collect()
    }

    /// Run a list of tasks/blocks on `hosts`; hosts that fail stop running this list.
    /// `rescuable`: a surrounding block has a rescue section (failures are not counted yet).
    fn run_items<'a>(
        &'a mut self,
        pc: &'a mut PlayCtx,
        items: &'a [Item],
        hosts: &'a [String],
        rescuable: bool,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + 'a>> {
        Box::pin(async move {
            let start = self.fail_counts(hosts);
            for item in items {
                let active = self.active(hosts, &start);
                if active.is_empty() {
                    break;
                }
                match item {
                    Item::Task(t) => {
                        self.run_task(pc, t, &active, rescuable, "TASK").await;
                    }
                    Item::Block(b) => {
                        let entered = active.clone();
                        let block_start = self.fail_counts(&entered);
                        self.run_items(pc, &b.block, &entered, rescuable || !b.rescue.is_empty())
                            .await;
                        let failed: Vec<String> = entered
                            .iter()
                            .filter(|h| {
                                self.hosts.get(*h).map(|s| s.fail_count)
                                    != block_start.get(*h).copied()
                            })
                            .cloned()
                            .collect();
                        if !b.rescue.is_empty() && !failed.is_empty() {
                            for h in &failed {
                                if let Some(s) = self.hosts.get_mut(h) {
                                    s.fail_count = block_start[h];
                                }
                                self.stats.entry(h.clone()).or_default().rescued += 1;
                            }
                            self.run_items(pc, &b.rescue, &failed, rescuable).await;
                        }
                        if !b.always.is_empty() {
                            // Always runs for every host that entered, failed or not.
                            self.run_items(pc, &b.always, &entered, rescuable).await;
                        }
                    }
                }
            }
        })
    }

    fn tag_selected(&self, task: &Task) -> bool {
        let tags: HashSet<&str> = task.tags.iter().map(String::as_str).collect();
        let wanted = &self.opts.tags;
        let skip = &self.opts.skip_tags;
        if skip.iter().any(|s| {
            tags.contains(s.as_str())
                || (s == "tagged" && !tags.is_empty())
                || (s == "untagged" && tags.is_empty())
        }) {
            return false;
        }
        if tags.contains("never")
            && !wanted
                .iter()
                .any(|w| w == "never" || (tags.contains(w.as_str()) && w != "always"))
        {
            return false;
        }
        if wanted.is_empty() || wanted.iter().any(|w| w == "all") {
            return true;
        }
        if tags.contains("always") {
            return true;
        }
        wanted.iter().any(|w| {
            tags.contains(w.as_str())
                || (w == "tagged" && !tags.is_empty())
                || (w == "untagged" && tags.is_empty())
        })
    }

    /// The variables of a host for a task, lowest precedence first.
    fn build_vars(&self, pc: &PlayCtx, host: &str, task: Option<&Task>) -> IndexMap<String, Var> {
        let mut v: IndexMap<String, Var> = IndexMap::new();
        let raw = |v: &mut IndexMap<String, Var>, m: &Map<String, Json>| {
            for (k, x) in m {
                v.insert(k.clone(), Var::Raw(x.clone()));
            }
        };
        let current_role = task.and_then(|t| t.role.clone());
        for r in pc
            .roles
            .iter()
            .filter(|r| current_role.as_ref().is_none_or(|c| !Arc::ptr_eq(c, r)))
        {
            raw(&mut v, &r.defaults);
        }
        if let Some(r) = &current_role {
            raw(&mut v, &r.defaults);
        }
        raw(&mut v, &self.inv.host_vars(host));
        let st = self.hosts.get(host);
        if let Some(st) = st {
            for (k, x) in &st.fact_vars {
                v.insert(k.clone(), Var::Plain(x.clone()));
            }
            if let Some((t, r)) = &st.last_failure {
                v.insert("ansible_failed_task".into(), Var::Plain(t.clone()));
                v.insert("ansible_failed_result".into(), Var::Plain(r.clone()));
            }
            v.insert(
                "ansible_facts".into(),
                Var::Plain(Json::Object(st.facts.clone())),
            );
        }
        raw(&mut v, &pc.vars);
        for r in pc
            .roles
            .iter()
            .filter(|r| current_role.as_ref().is_none_or(|c| !Arc::ptr_eq(c, r)))
        {
            raw(&mut v, &r.vars);
        }
        if let Some(r) = &current_role {
            raw(&mut v, &r.vars);
        }
        if let Some(t) = task {
            raw(&mut v, &t.vars);
        }
        if let Some(st) = st {
            raw(&mut v, &st.include_vars);
            for (k, x) in &st.set_facts {
                v.insert(k.clone(), Var::Plain(x.clone()));
            }
        }
        raw(&mut v, &self.opts.extra_vars);
        // Magic variables.
        let groups: Map<String, Json> = self
            .inv
            .groups
            .keys()
            .map(|g| {
                (
                    g.clone(),
                    json!(self.inv.hosts_in(g).into_iter().collect::<Vec<_>>()),
                )
            })
            .collect();
        let group_names: Vec<String> = self
            .inv
            .groups_of(host)
            .into_iter()
            .filter(|g| g != "all" && g != "ungrouped")
            .collect();
        let plain = |v: &mut IndexMap<String, Var>, k: &str, x: Json| {
            v.insert(k.to_string(), Var::Plain(x));
        };
        plain(&mut v, "inventory_hostname", json!(host));
        plain(
            &mut v,
            "inventory_hostname_short",
            json!(host.split('.').next().unwrap_or(host)),
        );
        plain(&mut v, "groups", Json::Object(groups));
        plain(&mut v, "group_names", json!(group_names));
        plain(
            &mut v,
            "playbook_dir",
            json!(self.playbook_dir.display().to_string()),
        );
        plain(&mut v, "ansible_check_mode", json!(self.opts.check));
        plain(&mut v, "ansible_diff_mode", json!(self.opts.diff));
        plain(&mut v, "ansible_verbosity", json!(self.opts.verbosity));
        plain(&mut v, "ansible_forks", json!(self.opts.forks));
        plain(&mut v, "ansible_play_hosts_all", json!(pc.hosts_all));
        let play_hosts: Vec<&String> = pc
            .hosts_all
            .iter()
            .filter(|h| {
                self.hosts
                    .get(*h)
                    .is_some_and(|s| !s.unreachable && !s.dead)
            })
            .collect();
        plain(&mut v, "ansible_play_hosts", json!(play_hosts));
        plain(&mut v, "ansible_play_batch", json!(play_hosts));
        plain(&mut v, "play_hosts", json!(play_hosts));
        plain(&mut v, "ansible_play_name", json!(pc.name));
        plain(
            &mut v,
            "ansible_run_tags",
            json!(if self.opts.tags.is_empty() {
                vec!["all".to_string()]
            } else {
                self.opts.tags.clone()
            }),
        );
        plain(&mut v, "ansible_skip_tags", json!(self.opts.skip_tags));
        plain(
            &mut v,
            "ansible_version",
            json!({"full": "2.19.0", "major": 2, "minor": 19, "revision": 0, "string": "2.19.0"}),
        );
        plain(&mut v, "ansible_config_file", Json::Null);
        if let Some(r) = &current_role {
            plain(&mut v, "role_path", json!(r.path.display().to_string()));
            plain(&mut v, "role_name", json!(r.name));
            plain(&mut v, "ansible_role_name", json!(r.name));
        }
        v
    }

    fn hostvars(&self, pc: &PlayCtx) -> Arc<HostVars> {
        let mut all = IndexMap::new();
        for h in self.inv.hosts.keys() {
            all.insert(h.clone(), self.build_vars(pc, h, None));
        }
        HostVars::new(&self.templar, all)
    }

    async fn run_task(
        &mut self,
        pc: &mut PlayCtx,
        task: &Arc<Task>,
        hosts: &[String],
        rescuable: bool,
        prefix: &str,
    ) {
        if !self.start_at_found {
            let n = task.display_name();
            if Some(n.as_str()) == self.opts.start_at_task.as_deref()
                || task.name.as_deref() == self.opts.start_at_task.as_deref()
            {
                self.start_at_found = true;
            } else {
                return;
            }
        }
        if !task.is_handler && !self.tag_selected(task) {
            return;
        }
        if task.action == "meta" {
            // An explicit meta task shows its banner (no result lines), as Ansible does.
            self.out.task(
                prefix,
                &task.display_name(),
                Some(format!("{}:{}", task.file.display(), task.line)),
            );
            let what = task
                .args
                .get("_raw_params")
                .map(json_str)
                .unwrap_or_default();
            match what.as_str() {
                "flush_handlers" => {
                    // Only when the meta task's `when` holds (evaluated on the first host).
                    self.flush_handlers(pc, hosts).await;
                }
                "end_play" => {
                    for h in hosts {
                        if let Some(s) = self.hosts.get_mut(h) {
                            s.ended = true;
                        }
                    }
                }
                "clear_host_errors" => {
                    for s in self.hosts.values_mut() {
                        s.dead = false;
                    }
                }
                "noop" | "refresh_inventory" | "reset_connection" | "clear_facts" | "end_host"
                | "end_batch" | "" => {
                    if what == "clear_facts" {
                        for h in hosts {
                            if let Some(s) = self.hosts.get_mut(h) {
                                s.facts.clear();
                            }
                        }
                    }
                    if what == "end_host" {
                        // end_host honours `when` per host
                        let hv = self.hostvars(pc);
                        for h in hosts {
                            let scope = Scope::new(
                                &self.templar,
                                self.build_vars(pc, h, Some(task)),
                                Some(hv.clone()),
                            );
                            let ok = task
                                .when
                                .iter()
                                .all(|c| self.templar.eval_cond(c, &scope).unwrap_or(false));
                            if ok && let Some(s) = self.hosts.get_mut(h) {
                                s.ended = true;
                            }
                        }
                    }
                }
                other => {
                    self.out
                        .line(&format!("[ERROR]: invalid meta action requested: {other}"));
                }
            }
            return;
        }
        let name = self.banner_name(pc, task, hosts);
        self.out.task(
            prefix,
            &name,
            Some(format!("{}:{}", task.file.display(), task.line)),
        );
        self.out.progress_hosts(hosts.len());

        // Connections first (an unknown connection type makes the host unreachable). A
        // delegated task runs over the delegated host's connection (its own inventory
        // connection vars), with the delegating host's variables.
        let mut ready: Vec<(String, Arc<HostConn>)> = vec![];
        let mut delegated: HashMap<String, String> = HashMap::new();
        let delegate_hv = task.delegate_to.as_ref().map(|_| self.hostvars(pc));
        for h in hosts {
            let target = match self.delegate_target(pc, task, h, delegate_hv.as_ref()) {
                Ok(t) => t,
                Err(msg) => {
                    let mut r = Res::new();
                    r.insert("msg".into(), json!(msg));
                    r.insert("changed".into(), json!(false));
                    let o = Outcome {
                        status: Status::Failed,
                        result: r,
                        ignored: false,
                        items: vec![],
                        include: vec![],
                        meta: None,
                    };
                    self.report(h, None, task, &o, Duration::ZERO);
                    self.apply(pc, h, None, task, o, rescuable);
                    continue;
                }
            };
            let conn = match &target {
                Some(d) if !self.inv.hosts.contains_key(d) && is_local_name(d) => {
                    Ok(self.local.clone())
                }
                Some(d) => self.conn_for(d),
                None => self.conn_for(h),
            };
            if let Some(d) = target {
                delegated.insert(h.clone(), d);
            }
            match conn {
                Ok(c) => ready.push((h.clone(), c)),
                Err(msg) => {
                    let mut r = Res::new();
                    r.insert("msg".into(), json!(msg));
                    r.insert("unreachable".into(), json!(true));
                    r.insert("changed".into(), json!(false));
                    self.out.result("unreachable", h, &r, None, false);
                    self.mark_unreachable(h, task);
                }
            }
        }
        if task.run_once && ready.len() > 1 {
            ready.truncate(1);
        }
        let hostvars = self.hostvars(pc);
        let forks = Arc::new(Semaphore::new(self.opts.forks.max(1)));
        let mut futs = FuturesUnordered::new();
        for (h, conn) in ready {
            let vars = self.build_vars(pc, &h, Some(task));
            let scope = Scope::new(&self.templar, vars, Some(hostvars.clone()));
            let job = HostJob {
                host: h,
                conn,
                scope,
                templar: self.templar.clone(),
                task: task.clone(),
                check: self.opts.check,
                diff: self.opts.diff,
                verbosity: self.opts.verbosity,
                paths: Paths {
                    role_path: task.role.as_ref().map(|r| r.path.clone()),
                    playbook_dir: self.playbook_dir.clone(),
                    task_dir: task
                        .file
                        .parent()
                        .map(Path::to_path_buf)
                        .unwrap_or_default(),
                },
            };
            let forks = forks.clone();
            futs.push(async move {
                let _permit = forks.acquire().await;
                let started = Instant::now();
                let o = job.run().await;
                (job.host, o, started.elapsed())
            });
        }
        let mut includes: Vec<(String, (IncludeRequest, Option<String>))> = vec![];
        let mut any_failed = false;
        let mut run_once_result: Option<(Status, Res)> = None;
        while let Some((host, outcome, took)) = futs.next().await {
            self.report(
                &host,
                delegated.get(&host).map(String::as_str),
                task,
                &outcome,
                took,
            );
            if outcome.status == Status::Failed && !outcome.ignored {
                any_failed = true;
            }
            if task.run_once {
                run_once_result = Some((outcome.status, outcome.result.clone()));
            }
            for inc in &outcome.include {
                includes.push((host.clone(), inc.clone()));
            }
            let _ = &outcome.meta;
            let fact_host = delegated
                .get(&host)
                .filter(|_| task.delegate_facts)
                .cloned();
            self.apply(pc, &host, fact_host.as_deref(), task, outcome, rescuable);
        }
        drop(futs);
        // run_once: the other hosts get the same registered result and the same facts
        // (Ansible's get_task_hosts), unless delegate_facts sent them elsewhere.
        if let Some((status, result)) = run_once_result {
            for h in hosts.iter().skip(1) {
                if !task.delegate_facts
                    && let Some(Json::Object(f)) = result.get("ansible_facts")
                {
                    let st = self.hosts.entry(h.clone()).or_default();
                    for (k, v) in f {
                        if result.contains_key("_set_fact") {
                            st.set_facts.insert(k.clone(), v.clone());
                        } else {
                            st.facts
                                .insert(k.trim_start_matches("ansible_").to_string(), v.clone());
                            st.fact_vars.insert(k.clone(), v.clone());
                        }
                    }
                }
                if let Some(reg) = &task.register {
                    self.hosts
                        .entry(h.clone())
                        .or_default()
                        .set_facts
                        .insert(reg.clone(), Json::Object(result.clone()));
                }
                if status == Status::Failed {
                    self.fail_host(h, rescuable);
                }
            }
        }
        // any_errors_fatal: the other hosts stop too, without a failure of their own in
        // the recap, and the playbook ends.
        if any_failed && task.any_errors_fatal {
            for h in hosts {
                if let Some(s) = self.hosts.get_mut(h)
                    && s.fail_count == 0
                {
                    s.fail_count += 1;
                }
            }
            self.stop_playbook = true;
        }
        // Dynamic includes: group hosts by what they include, in first-seen order. Like
        // Ansible's linear strategy, every `included:` line comes first, then the files run.
        let mut groups: Vec<((IncludeRequest, Option<String>), Vec<String>)> = vec![];
        for (h, inc) in includes {
            match groups.iter_mut().find(|(i, _)| *i == inc) {
                Some((_, hs)) => hs.push(h),
                None => groups.push((inc, vec![h])),
            }
        }
        for ((inc, label), hs) in &groups {
            if let IncludeRequest::Tasks(path, _) = inc {
                let item = label
                    .as_ref()
                    .map(|l| format!(" => (item={l})"))
                    .unwrap_or_default();
                self.out.line(&format!(
                    "included: {} for {}{item}",
                    path.display(),
                    hs.join(", ")
                ));
            }
        }
        for ((inc, _), hs) in groups {
            self.run_include(pc, task, inc, hs, rescuable).await;
        }
    }

    /// Where `host` runs a delegated task: `local_action` is localhost; `delegate_to` is
    /// templated with the host's variables (`{{ groups.db[0] }}`, `{{ item }}`-free).
    /// None: not delegated (also for an empty result, as Ansible).
    fn delegate_target(
        &self,
        pc: &PlayCtx,
        task: &Task,
        host: &str,
        hostvars: Option<&Arc<HostVars>>,
    ) -> Result<Option<String>, String> {
        if task.args.contains_key("__delegate_localhost") {
            return Ok(Some("localhost".into()));
        }
        let Some(d) = &task.delegate_to else {
            return Ok(None);
        };
        let raw = json_str(d);
        let name = if crate::template::is_template(&raw) {
            let vars = self.build_vars(pc, host, Some(task));
            let scope = Scope::new(&self.templar, vars, hostvars.cloned());
            self.templar
                .render_string(&raw, &scope)
                .map_err(|e| format!("delegate_to: {e}"))?
        } else {
            raw
        };
        let name = name.trim().to_string();
        Ok((!name.is_empty()).then_some(name))
    }

    /// The task's name as Ansible prints it in the banner: templated when it can be (Ansible
    /// uses the play's variables; the first host's stand in for them here), else as written.
    fn banner_name(&self, pc: &PlayCtx, task: &Task, hosts: &[String]) -> String {
        let raw = task.display_name();
        let (Some(name), Some(host)) = (task.name.as_deref(), hosts.first()) else {
            return raw;
        };
        if !name.contains("{{") {
            return raw;
        }
        let vars = self.build_vars(pc, host, Some(task));
        let scope = Scope::new(&self.templar, vars, Some(self.hostvars(pc)));
        match self.templar.render_string(name, &scope) {
            Ok(rendered) => match &task.role {
                Some(r) => format!("{} : {}", r.name, rendered),
                None => rendered,
            },
            Err(_) => raw,
        }
    }

    async fn run_include(
        &mut self,
        pc: &mut PlayCtx,
        task: &Arc<Task>,
        inc: IncludeRequest,
        hosts: Vec<String>,
        rescuable: bool,
    ) {
        match inc {
            IncludeRequest::Tasks(path, extra) => {
                match self.loader.load_include(&path, task, extra) {
                    Ok(items) => self.run_items(pc, &items, &hosts, rescuable).await,
                    Err(e) => {
                        for h in &hosts {
                            let mut r = Res::new();
                            r.insert("msg".into(), json!(e.to_string()));
                            r.insert("failed".into(), json!(true));
                            self.out.result("failed", h, &r, None, false);
                            self.fail_host(h, rescuable);
                        }
                    }
                }
            }
            IncludeRequest::Role(args) => match self.loader.load_role_dynamic(&args, task) {
                Ok((items, handlers, roles)) => {
                    pc.handlers.extend(handlers);
                    for r in roles {
                        if !pc.roles.iter().any(|x| Arc::ptr_eq(x, &r)) {
                            pc.roles.push(r);
                        }
                    }
                    self.run_items(pc, &items, &hosts, rescuable).await;
                }
                Err(e) => {
                    for h in &hosts {
                        let mut r = Res::new();
                        r.insert("msg".into(), json!(e.to_string()));
                        self.out.result("failed", h, &r, None, false);
                        self.fail_host(h, rescuable);
                    }
                }
            },
        }
    }

    /// Ansible's `host_label`: `host -> delegate` for a delegated task, plus
    /// `(ansible_host)` when the delegate's address differs from its name.
    fn host_label(&self, host: &str, delegated: Option<&str>) -> String {
        match delegated {
            Some(d) if d != host => {
                let addr = self.inv.host_vars(d).get("ansible_host").map(json_str);
                match addr {
                    Some(a) if a != d => format!("{host} -> {d}({a})"),
                    _ => format!("{host} -> {d}"),
                }
            }
            _ => host.to_string(),
        }
    }

    fn report(
        &self,
        host: &str,
        delegated: Option<&str>,
        task: &Task,
        o: &Outcome,
        took: Duration,
    ) {
        self.out.progress_host_done();
        let label = self.host_label(host, delegated);
        let shown = |status: &str| {
            if status == "skipped" {
                host
            } else {
                label.as_str()
            }
        };
        let label_status = |s: Status| match s {
            Status::Ok => "ok",
            Status::Changed => "changed",
            Status::Skipped => "skipped",
            Status::Failed => "failed",
            Status::Unreachable => "unreachable",
        };
        let no_log = o
            .result
            .get("_ansible_no_log")
            .and_then(Json::as_bool)
            .unwrap_or(false);
        // A looped include shows `included: ...` lines for the items it includes (see
        // run_task), and item lines only for the others (skipped, failed).
        let includes = !o.include.is_empty();
        if task.loop_.is_some() && !o.items.is_empty() {
            for (s, label, r) in &o.items {
                if includes && matches!(s, Status::Ok | Status::Changed) {
                    continue;
                }
                let label = if no_log {
                    "None".to_string()
                } else {
                    label.clone()
                };
                self.out.result(
                    label_status(*s),
                    shown(label_status(*s)),
                    r,
                    Some(&label),
                    false,
                );
            }
            if o.status == Status::Skipped {
                self.out.result("skipped", host, &o.result, None, false);
            }
            if o.ignored {
                self.out.line("...ignoring");
            }
        } else if !includes {
            if task.action == "debug" {
                // The default callback hides `changed` for debug.
                let mut r = o.result.clone();
                r.remove("changed");
                self.out.result(
                    label_status(o.status),
                    shown(label_status(o.status)),
                    &r,
                    None,
                    o.ignored,
                );
            } else {
                let status = label_status(o.status);
                self.out
                    .result(status, shown(status), &o.result, None, o.ignored);
            }
        }
        let mut ev = json!({
            "event": "task_result", "host": host, "task": task.display_name(), "action": task.action,
            "status": label_status(o.status), "changed": o.status == Status::Changed, "ignored": o.ignored,
            "duration_ms": took.as_secs_f64() * 1000.0, "file": task.file.display().to_string(), "line": task.line,
        });
        if !no_log && let Some(m) = o.result.get("msg") {
            ev["msg"] = m.clone();
        }
        self.out.event(ev);
    }

    fn mark_unreachable(&mut self, host: &str, task: &Task) {
        if task.ignore_unreachable {
            return;
        }
        self.stats.entry(host.to_string()).or_default().unreachable += 1;
        if let Some(s) = self.hosts.get_mut(host) {
            s.unreachable = true;
        }
    }

    fn fail_host(&mut self, host: &str, rescuable: bool) {
        if !rescuable {
            self.stats.entry(host.to_string()).or_default().failed += 1;
        }
        self.hosts.entry(host.to_string()).or_default().fail_count += 1;
    }

    /// Book a host's result: stats, failure, facts, register, notify. `fact_host` is the
    /// delegated host of a `delegate_facts: true` task: returned facts go there.
    fn apply(
        &mut self,
        pc: &PlayCtx,
        host: &str,
        fact_host: Option<&str>,
        task: &Task,
        o: Outcome,
        rescuable: bool,
    ) {
        let stats = self.stats.entry(host.to_string()).or_default();
        match o.status {
            // Each file a looped include brings in counts as one `ok` (Ansible's stats).
            Status::Ok => stats.ok += o.include.len().max(1) as u32,
            Status::Changed => {
                stats.ok += 1;
                stats.changed += 1;
            }
            Status::Skipped => stats.skipped += 1,
            Status::Failed if o.ignored => {
                // Ansible also books an ignored failure's `changed` (a command that ran).
                stats.ok += 1;
                stats.ignored += 1;
                if o.result.get("changed").and_then(Json::as_bool) == Some(true) {
                    stats.changed += 1;
                }
            }
            Status::Failed => {}
            Status::Unreachable => {}
        }
        if o.status == Status::Unreachable {
            self.mark_unreachable(host, task);
            return;
        }
        if o.status == Status::Failed && !o.ignored {
            self.fail_host(host, rescuable);
        }
        let st = self.hosts.entry(host.to_string()).or_default();
        if o.status == Status::Failed && !o.ignored {
            // For rescue sections: ansible_failed_task / ansible_failed_result.
            st.last_failure = Some((
                json!({"name": task.name.clone().unwrap_or_default(), "action": task.action, "_ansible_display_name": task.display_name()}),
                Json::Object(o.result.clone()),
            ));
        }
        // Facts from setup/set_fact (per item for loops).
        let mut fact_sources: Vec<&Res> = vec![&o.result];
        fact_sources.extend(o.items.iter().map(|(_, _, r)| r));
        for r in &fact_sources {
            if let Some(Json::Object(f)) = r.get("ansible_facts") {
                let owner = fact_host.unwrap_or(host);
                let fst = self.hosts.entry(owner.to_string()).or_default();
                if r.contains_key("_set_fact") {
                    for (k, v) in f {
                        fst.set_facts.insert(k.clone(), v.clone());
                    }
                } else {
                    // Module facts: `ansible_facts.<name without ansible_>` and the top-level
                    // variable as returned (setup's `ansible_distribution`, getent's `getent_passwd`).
                    for (k, v) in f {
                        fst.facts
                            .insert(k.trim_start_matches("ansible_").to_string(), v.clone());
                        fst.fact_vars.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        let st = self.hosts.entry(host.to_string()).or_default();
        for r in fact_sources {
            if let Some(Json::Object(iv)) = r.get("_include_vars") {
                for (k, v) in iv {
                    st.include_vars.insert(k.clone(), v.clone());
                }
            }
        }
        if let Some(reg) = &task.register
            && o.status != Status::Unreachable
        {
            let mut r = o.result.clone();
            r.retain(|k, _| !k.starts_with("_include") && k != "_set_fact");
            st.set_facts.insert(reg.clone(), Json::Object(r));
        }
        if o.status == Status::Changed && !task.notify.is_empty() {
            for n in &task.notify {
                let matched: Vec<usize> = pc
                    .handlers
                    .iter()
                    .enumerate()
                    .filter(|(_, h)| {
                        let hn = h.name.clone().unwrap_or_default();
                        hn == *n
                            || h.listen.iter().any(|l| l == n)
                            || h.role
                                .as_ref()
                                .is_some_and(|r| format!("{} : {}", r.name, hn) == *n)
                    })
                    .map(|(i, _)| i)
                    .collect();
                if matched.is_empty() {
                    self.out.line(&format!("[ERROR]: The requested handler '{n}' was not found in either the main handlers list nor in the listening handlers list"));
                }
                let st = self.hosts.entry(host.to_string()).or_default();
                for i in matched {
                    st.notified.insert(i);
                }
            }
        }
    }

    fn flush_handlers<'a>(
        &'a mut self,
        pc: &'a mut PlayCtx,
        hosts: &'a [String],
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + 'a>> {
        Box::pin(async move {
            let mut idx = 0;
            while idx < pc.handlers.len() {
                let notified: Vec<String> = hosts
                    .iter()
                    .filter(|h| {
                        self.hosts.get(*h).is_some_and(|s| {
                            s.notified.contains(&idx)
                                && !s.unreachable
                                && s.fail_count == 0
                                && !s.ended
                        })
                    })
                    .cloned()
                    .collect();
                if !notified.is_empty() {
                    for h in &notified {
                        if let Some(s) = self.hosts.get_mut(h) {
                            s.notified.shift_remove(&idx);
                        }
                    }
                    let handler = pc.handlers[idx].clone();
                    self.run_task(pc, &handler, &notified, false, "RUNNING HANDLER")
                        .await;
                }
                idx += 1;
            }
        })
    }
}

/// One task on one host: everything that can run concurrently with other hosts.
struct HostJob {
    host: String,
    conn: Arc<HostConn>,
    scope: Arc<Scope>,
    templar: Templar,
    task: Arc<Task>,
    check: bool,
    diff: bool,
    verbosity: u8,
    paths: Paths,
}

fn located(task: &Task, msg: &str) -> String {
    format!(
        "{msg}\n\nThe error appears to be in '{}': line {}, column 3, but may\nbe elsewhere in the file depending on the exact syntax problem.",
        task.file.display(),
        task.line
    )
}

fn failed(msg: String) -> Outcome {
    let mut r = Res::new();
    r.insert("changed".into(), json!(false));
    r.insert("msg".into(), json!(msg));
    r.insert("failed".into(), json!(true));
    Outcome {
        status: Status::Failed,
        result: r,
        ignored: false,
        items: vec![],
        include: vec![],
        meta: None,
    }
}

impl HostJob {
    async fn run(&self) -> Outcome {
        let task = &self.task;
        let mut o = self.run_inner().await;
        if o.status == Status::Failed {
            let ig = match &task.ignore_errors {
                Some(v) => match self.templar.render_json(v, &self.scope) {
                    Ok(j) => crate::modules::common::to_bool(&j).unwrap_or_else(|| json_truthy(&j)),
                    Err(_) => false,
                },
                None => false,
            };
            o.ignored = ig;
        }
        if task.no_log.as_ref().is_some_and(|v| {
            self.templar
                .render_json(v, &self.scope)
                .map(|j| json_truthy(&j))
                .unwrap_or(true)
        }) {
            o.result.insert("_ansible_no_log".into(), json!(true));
            for (_, _, r) in o.items.iter_mut() {
                r.insert("_ansible_no_log".into(), json!(true));
            }
        }
        o
    }

    async fn run_inner(&self) -> Outcome {
        let task = &self.task;
        // Loop items (templated per host).
        if let Some((kind, spec)) = &task.loop_ {
            let items = match self.loop_items(kind, spec) {
                Ok(i) => i,
                Err(e) => return failed(located(task, &e)),
            };
            return self.run_loop(items).await;
        }
        match self.check_when(&self.scope) {
            Ok(None) => {}
            Ok(Some(cond)) => return skipped(cond),
            Err(e) => return failed(located(task, &e)),
        }
        self.run_once(&self.scope).await
    }

    /// `None` when every `when` holds, else the first false condition.
    fn check_when(&self, scope: &Arc<Scope>) -> Result<Option<String>, String> {
        for c in &self.task.when {
            let ok = self.templar.eval_cond(c, scope).map_err(|e| {
                format!(
                    "The conditional check '{}' failed. The error was: {}",
                    json_str(c),
                    e.msg
                )
            })?;
            if !ok {
                return Ok(Some(json_str(c)));
            }
        }
        Ok(None)
    }

    fn loop_items(&self, kind: &LoopKind, spec: &Json) -> Result<Vec<Json>, String> {
        let v = self
            .templar
            .render_json(spec, &self.scope)
            .map_err(|e| e.msg)?;
        Ok(match kind {
            LoopKind::Loop => match v {
                Json::Array(a) => a,
                Json::Null => vec![],
                other => {
                    return Err(format!(
                        "Invalid data passed to 'loop', it requires a list, got this instead: {other}. Hint: If you passed a list/dict of just one element, try adding wantlist=True to your lookup invocation or use q/query instead of lookup."
                    ));
                }
            },
            LoopKind::Items => match v {
                Json::Array(a) => a
                    .into_iter()
                    .flat_map(|x| {
                        if let Json::Array(inner) = x {
                            inner
                        } else {
                            vec![x]
                        }
                    })
                    .collect(),
                Json::Null => vec![],
                other => vec![other],
            },
            LoopKind::Lookup(name) => match (name.as_str(), v) {
                ("dict", Json::Object(m)) => m
                    .into_iter()
                    .map(|(k, v)| json!({"key": k, "value": v}))
                    .collect(),
                ("list", Json::Array(a)) => a,
                ("indexed_items", Json::Array(a)) => a
                    .into_iter()
                    .enumerate()
                    .map(|(i, x)| json!([i, x]))
                    .collect(),
                ("together", Json::Array(lists)) => {
                    let ls: Vec<Vec<Json>> = lists
                        .into_iter()
                        .map(|l| if let Json::Array(a) = l { a } else { vec![l] })
                        .collect();
                    let n = ls.iter().map(Vec::len).max().unwrap_or(0);
                    (0..n)
                        .map(|i| {
                            Json::Array(
                                ls.iter()
                                    .map(|l| l.get(i).cloned().unwrap_or(Json::Null))
                                    .collect(),
                            )
                        })
                        .collect()
                }
                ("nested", Json::Array(lists)) => {
                    let mut acc: Vec<Vec<Json>> = vec![vec![]];
                    for l in lists {
                        let l = if let Json::Array(a) = l { a } else { vec![l] };
                        acc = acc
                            .into_iter()
                            .flat_map(|p| {
                                l.iter().map(move |x| {
                                    let mut q = p.clone();
                                    q.push(x.clone());
                                    q
                                })
                            })
                            .collect();
                    }
                    acc.into_iter().map(Json::Array).collect()
                }
                ("subelements", Json::Array(a)) if a.len() >= 2 => {
                    let key = json_str(&a[1]);
                    let skip_missing = a
                        .get(2)
                        .and_then(|o| o.get("skip_missing"))
                        .is_some_and(json_truthy);
                    let mut out = vec![];
                    if let Json::Array(parents) = &a[0] {
                        for p in parents {
                            match p.get(&key) {
                                Some(Json::Array(subs)) => {
                                    out.extend(subs.iter().map(|s| json!([p, s])))
                                }
                                None if skip_missing => {}
                                _ => return Err(format!("the key '{key}' should point to a list")),
                            }
                        }
                    }
                    out
                }
                ("sequence", _)
                | ("first_found", _)
                | ("fileglob", _)
                | ("file", _)
                | ("lines", _)
                | ("env", _)
                | ("inventory_hostnames", _)
                | ("items", _)
                | ("flattened", _)
                | ("random_choice", _) => {
                    let expr = format!("{{{{ query('{name}', *__terms) }}}}");
                    let mut extra = IndexMap::new();
                    let terms = self
                        .templar
                        .render_json(spec, &self.scope)
                        .map_err(|e| e.msg)?;
                    let terms = if let Json::Array(a) = terms {
                        Json::Array(a)
                    } else {
                        json!([terms])
                    };
                    extra.insert("__terms".to_string(), Var::Plain(terms));
                    let s = self.scope.child(extra);
                    match self
                        .templar
                        .render_str_native(&expr, &s)
                        .map_err(|e| e.msg)?
                    {
                        Json::Array(a) => a,
                        other => vec![other],
                    }
                }
                (n, other) => return Err(format!("with_{n} is not supported for {other}")),
            },
        })
    }

    async fn run_loop(&self, items: Vec<Json>) -> Outcome {
        let task = &self.task;
        let lc = &task.loop_control;
        let loop_var = lc.loop_var.clone().unwrap_or_else(|| "item".into());
        let mut results = vec![];
        let mut item_reports = vec![];
        let mut includes = vec![];
        let (mut any_changed, mut any_failed, mut all_skipped) = (false, false, true);
        let n = items.len();
        for (i, item) in items.into_iter().enumerate() {
            let mut extra = IndexMap::new();
            extra.insert(loop_var.clone(), Var::Plain(item.clone()));
            extra.insert("ansible_loop_var".to_string(), Var::Plain(json!(loop_var)));
            if let Some(iv) = &lc.index_var {
                extra.insert(iv.clone(), Var::Plain(json!(i)));
            }
            if lc.extended {
                extra.insert(
                    "ansible_loop".to_string(),
                    Var::Plain(json!({"index": i + 1, "index0": i, "first": i == 0, "last": i + 1 == n, "length": n, "revindex": n - i, "revindex0": n - i - 1})),
                );
            }
            let scope = self.scope.child(extra);
            let label = match &lc.label {
                Some(l) => self
                    .templar
                    .render_json(l, &scope)
                    .map(|j| label_text(&j))
                    .unwrap_or_else(|_| label_text(&item)),
                None => label_text(&item),
            };
            let mut o = match self.check_when(&scope) {
                Ok(Some(cond)) => skipped(cond),
                Ok(None) => self.run_once(&scope).await,
                Err(e) => failed(located(task, &e)),
            };
            o.result.insert(loop_var.clone(), item.clone());
            o.result.insert("ansible_loop_var".into(), json!(loop_var));
            if let Some(iv) = &lc.index_var {
                o.result.insert(iv.clone(), json!(i));
            }
            o.result.insert("_ansible_item_label".into(), json!(label));
            match o.status {
                Status::Changed => any_changed = true,
                Status::Failed => any_failed = true,
                Status::Unreachable => {
                    return o;
                }
                _ => {}
            }
            if o.status != Status::Skipped {
                all_skipped = false;
            }
            includes.extend(
                o.include
                    .drain(..)
                    .map(|(inc, _)| (inc, Some(label.clone()))),
            );
            item_reports.push((o.status, label, o.result.clone()));
            results.push(Json::Object(o.result));
            if let Some(p) = lc.pause {
                tokio::time::sleep(Duration::from_secs_f64(p)).await;
            }
        }
        let mut r = Res::new();
        r.insert("changed".into(), json!(any_changed));
        r.insert(
            "msg".into(),
            json!(if any_failed {
                "One or more items failed"
            } else {
                "All items completed"
            }),
        );
        r.insert("results".into(), Json::Array(results));
        let status = if any_failed {
            r.insert("failed".into(), json!(true));
            Status::Failed
        } else if all_skipped {
            r.insert("skipped".into(), json!(true));
            r.insert(
                "skipped_reason".into(),
                json!(if n == 0 {
                    "No items in the list"
                } else {
                    "All items skipped"
                }),
            );
            Status::Skipped
        } else if any_changed {
            Status::Changed
        } else {
            Status::Ok
        };
        Outcome {
            status,
            result: r,
            ignored: false,
            items: item_reports,
            include: includes,
            meta: None,
        }
    }

    /// One module invocation (with until/retries, changed_when, failed_when).
    async fn run_once(&self, scope: &Arc<Scope>) -> Outcome {
        let task = &self.task;
        // Dynamic includes are resolved here (per host), run by the engine afterwards.
        match task.action.as_str() {
            "include_tasks" | "import_tasks" => {
                let f = task
                    .args
                    .get("_raw_params")
                    .or_else(|| task.args.get("file"))
                    .cloned()
                    .unwrap_or(Json::Null);
                let name = match self.templar.render_json(&f, scope) {
                    Ok(j) => json_str(&j),
                    Err(e) => return failed(located(task, &e.msg)),
                };
                let base = task
                    .file
                    .parent()
                    .map(Path::to_path_buf)
                    .unwrap_or_default();
                let Some(path) = crate::playbook::resolve_tasks_file(&base, &task.file, &name)
                    .or_else(|| {
                        task.role.as_ref().and_then(|r| {
                            crate::playbook::resolve_tasks_file(
                                &r.path.join("tasks"),
                                &task.file,
                                &name,
                            )
                        })
                    })
                else {
                    return failed(located(task, &format!("Could not find or access '{name}'")));
                };
                let mut extra = Map::new();
                if let Some(Json::Object(ap)) = task.args.get("apply") {
                    let _ = ap;
                }
                // The loop variable travels with the included tasks.
                for k in [task
                    .loop_control
                    .loop_var
                    .clone()
                    .unwrap_or_else(|| "item".into())]
                {
                    if let Some(Var::Plain(v)) = scope.raw(&k)
                        && task.loop_.is_some()
                    {
                        extra.insert(k, v.clone());
                    }
                }
                let path = std::fs::canonicalize(&path).unwrap_or(path);
                let mut r = Res::new();
                r.insert("include".into(), json!(path.display().to_string()));
                return Outcome {
                    status: Status::Ok,
                    result: r,
                    ignored: false,
                    items: vec![],
                    include: vec![(IncludeRequest::Tasks(path, extra), None)],
                    meta: None,
                };
            }
            "include_role" | "import_role" => {
                let args = match self
                    .templar
                    .render_json(&Json::Object(task.args.clone()), scope)
                {
                    Ok(Json::Object(m)) => m,
                    Ok(_) => Map::new(),
                    Err(e) => return failed(located(task, &e.msg)),
                };
                return Outcome {
                    status: Status::Ok,
                    result: Res::new(),
                    ignored: false,
                    items: vec![],
                    include: vec![(IncludeRequest::Role(args), None)],
                    meta: None,
                };
            }
            "include_vars" => return self.include_vars(scope),
            _ => {}
        }
        let Some(module) = modules::find(&task.action) else {
            return failed(located(
                task,
                &format!("couldn't resolve module/action '{}'", task.action_written),
            ));
        };
        // Template the arguments (except conditionals the module evaluates itself).
        let mut args = Map::new();
        for (k, v) in &task.args {
            if k.starts_with("__") {
                continue;
            }
            if module.raw_params().contains(&k.as_str()) {
                args.insert(k.clone(), v.clone());
                continue;
            }
            match self.templar.render_json(v, scope) {
                Ok(Json::String(s)) if s == OMIT => {}
                Ok(j) => {
                    args.insert(k.clone(), strip_omit(j));
                }
                Err(e) => {
                    return failed(located(
                        task,
                        &format!(
                            "The task includes an option with an undefined variable.. {}",
                            e.msg
                        ),
                    ));
                }
            }
        }
        if module.name() != "set_fact"
            && let Err(msg) = modules::check_params(module, &args)
        {
            return failed(msg);
        }
        let check = match &task.check_mode {
            Some(v) => self
                .templar
                .render_json(v, scope)
                .map(|j| json_truthy(&j))
                .unwrap_or(self.check),
            None => self.check,
        };
        let diff = match &task.diff {
            Some(v) => self
                .templar
                .render_json(v, scope)
                .map(|j| json_truthy(&j))
                .unwrap_or(self.diff),
            None => self.diff,
        };
        let mut env = vec![];
        if !task.environment.is_empty() {
            match self
                .templar
                .render_json(&Json::Object(task.environment.clone()), scope)
            {
                Ok(Json::Object(m)) => {
                    env = m.into_iter().map(|(k, v)| (k, json_str(&v))).collect()
                }
                Ok(_) => {}
                Err(e) => return failed(located(task, &e.msg)),
            }
        }
        let become_user = match (&task.become_, &task.become_user) {
            (Some(b), Some(u))
                if self
                    .templar
                    .render_json(b, scope)
                    .map(|j| json_truthy(&j))
                    .unwrap_or(false) =>
            {
                self.templar
                    .render_json(u, scope)
                    .ok()
                    .map(|j| json_str(&j))
                    .filter(|u| u != "root")
            }
            _ => None,
        };
        let timeout = task
            .timeout
            .as_ref()
            .and_then(|t| self.templar.render_json(t, scope).ok())
            .and_then(|j| j.as_u64().or_else(|| json_str(&j).parse().ok()));
        let retries = match &task.until {
            Some(_) => task
                .retries
                .as_ref()
                .and_then(|r| self.templar.render_json(r, scope).ok())
                .and_then(|j| j.as_u64().or_else(|| json_str(&j).parse().ok()))
                .unwrap_or(3),
            None => 0,
        };
        let delay = task
            .delay
            .as_ref()
            .and_then(|r| self.templar.render_json(r, scope).ok())
            .and_then(|j| j.as_f64().or_else(|| json_str(&j).parse().ok()))
            .unwrap_or(5.0);
        let mut attempt = 0;
        loop {
            let ctx = Ctx {
                host: &self.host,
                conn: &self.conn,
                args: &args,
                raw_args: &task.args,
                check,
                diff,
                scope,
                templar: &self.templar,
                paths: &self.paths,
                task,
                env: env.clone(),
                become_user: become_user.clone(),
                verbosity: self.verbosity,
            };
            let fut = module.run(&ctx);
            let res = match timeout {
                Some(t) if t > 0 => match tokio::time::timeout(Duration::from_secs(t), fut).await {
                    Ok(r) => r,
                    Err(_) => Err(crate::modules::common::fail(format!(
                        "The {} action failed to execute in the expected time frame ({t}) and was terminated",
                        task.action
                    ))),
                },
                _ => fut.await,
            };
            let mut o = match res {
                Ok(r) => {
                    if r.get("skipped").and_then(Json::as_bool).unwrap_or(false) {
                        Outcome {
                            status: Status::Skipped,
                            result: r,
                            ignored: false,
                            items: vec![],
                            include: vec![],
                            meta: None,
                        }
                    } else {
                        let changed = r.get("changed").and_then(Json::as_bool).unwrap_or(false);
                        Outcome {
                            status: if changed { Status::Changed } else { Status::Ok },
                            result: r,
                            ignored: false,
                            items: vec![],
                            include: vec![],
                            meta: None,
                        }
                    }
                }
                Err(ModuleError::Failed { msg, extra }) => {
                    let mut r = extra;
                    r.entry("changed").or_insert(json!(false));
                    r.insert("msg".into(), json!(msg));
                    r.insert("failed".into(), json!(true));
                    Outcome {
                        status: Status::Failed,
                        result: r,
                        ignored: false,
                        items: vec![],
                        include: vec![],
                        meta: None,
                    }
                }
                Err(ModuleError::Transport(TransportError::Unreachable(m))) => {
                    let mut r = Res::new();
                    r.insert("changed".into(), json!(false));
                    r.insert(
                        "msg".into(),
                        json!(format!("Failed to connect to the host via incus: {m}")),
                    );
                    r.insert("unreachable".into(), json!(true));
                    return Outcome {
                        status: Status::Unreachable,
                        result: r,
                        ignored: false,
                        items: vec![],
                        include: vec![],
                        meta: None,
                    };
                }
                Err(ModuleError::Transport(TransportError::Failed(m))) => failed(m),
            };
            if let Err(msg) = self.post_conditions(&mut o, scope) {
                return failed(located(task, &msg));
            }
            if let Some(until) = &task.until {
                let s = self.with_registered(scope, &o.result);
                let done = self.templar.eval_cond(until, &s).unwrap_or(false);
                o.result.insert("attempts".into(), json!(attempt + 1));
                if !done {
                    if attempt < retries {
                        attempt += 1;
                        tokio::time::sleep(Duration::from_secs_f64(delay)).await;
                        continue;
                    }
                    o.status = Status::Failed;
                    o.result.insert("failed".into(), json!(true));
                    o.result.entry("msg").or_insert(json!("Retries exhausted"));
                }
            }
            return o;
        }
    }

    fn with_registered(&self, scope: &Arc<Scope>, result: &Res) -> Arc<Scope> {
        match &self.task.register {
            Some(reg) => {
                let mut extra = IndexMap::new();
                extra.insert(reg.clone(), Var::Plain(Json::Object(result.clone())));
                scope.child(extra)
            }
            None => scope.clone(),
        }
    }

    /// changed_when / failed_when, evaluated with the registered result visible.
    fn post_conditions(&self, o: &mut Outcome, scope: &Arc<Scope>) -> Result<(), String> {
        let task = &self.task;
        if task.changed_when.is_none() && task.failed_when.is_none() {
            return Ok(());
        }
        if let Some(conds) = &task.changed_when {
            let s = self.with_registered(scope, &o.result);
            let mut changed = true;
            for c in conds {
                if !self.templar.eval_cond(c, &s).map_err(|e| e.msg)? {
                    changed = false;
                }
            }
            if conds.is_empty() {
                changed = false;
            }
            o.result.insert("changed".into(), json!(changed));
            if o.status != Status::Failed {
                o.status = if changed { Status::Changed } else { Status::Ok };
            }
        }
        if let Some(conds) = &task.failed_when {
            let s = self.with_registered(scope, &o.result);
            let mut fail = false;
            for c in conds {
                if self.templar.eval_cond(c, &s).map_err(|e| e.msg)? {
                    fail = true;
                }
            }
            o.result.insert("failed_when_result".into(), json!(fail));
            if fail {
                o.status = Status::Failed;
                o.result.insert("failed".into(), json!(true));
            } else {
                o.result.remove("failed");
                if o.status == Status::Failed {
                    let changed = o
                        .result
                        .get("changed")
                        .and_then(Json::as_bool)
                        .unwrap_or(false);
                    o.status = if changed { Status::Changed } else { Status::Ok };
                }
            }
        }
        Ok(())
    }

    fn include_vars(&self, scope: &Arc<Scope>) -> Outcome {
        let task = &self.task;
        let args = match self
            .templar
            .render_json(&Json::Object(task.args.clone()), scope)
        {
            Ok(Json::Object(m)) => m,
            Ok(_) => Map::new(),
            Err(e) => return failed(located(task, &e.msg)),
        };
        let inc = match crate::include_vars::load(&args, &self.paths) {
            Ok(inc) => inc,
            Err(msg) => return failed(located(task, &msg)),
        };
        let (m, files) = (inc.vars, inc.files);
        let mut r = Res::new();
        r.insert("changed".into(), json!(false));
        r.insert(
            "ansible_included_var_files".into(),
            json!(
                files
                    .iter()
                    .map(|f| f.display().to_string())
                    .collect::<Vec<_>>()
            ),
        );
        r.insert("_include_vars".into(), Json::Object(m));
        Outcome {
            status: Status::Ok,
            result: r,
            ignored: false,
            items: vec![],
            include: vec![],
            meta: None,
        }
    }
}

/// Split hosts by `serial` (a number, a percentage, or a list of those).
fn serial_batches(hosts: &[String], serial: Option<&Json>) -> Vec<Vec<String>> {
    let size_of = |v: &Json| -> usize {
        let n = match v {
            Json::Number(n) => n.as_u64().unwrap_or(0) as usize,
            Json::String(s) if s.ends_with('%') => {
                let pct: f64 = s.trim_end_matches('%').trim().parse().unwrap_or(100.0);
                ((hosts.len() as f64) * pct / 100.0).floor().max(1.0) as usize
            }
            Json::String(s) => s.trim().parse().unwrap_or(0),
            _ => 0,
        };
        if n == 0 { hosts.len().max(1) } else { n }
    };
    let sizes: Vec<usize> = match serial {
        None | Some(Json::Null) => return vec![hosts.to_vec()],
        Some(Json::Array(a)) if !a.is_empty() => a.iter().map(size_of).collect(),
        Some(v) => vec![size_of(v)],
    };
    let mut out = vec![];
    let mut i = 0;
    let mut k = 0;
    while i < hosts.len() {
        let size = sizes[k.min(sizes.len() - 1)];
        out.push(hosts[i..(i + size).min(hosts.len())].to_vec());
        i += size;
        k += 1;
    }
    out
}

fn skipped(cond: String) -> Outcome {
    let mut r = Res::new();
    r.insert("changed".into(), json!(false));
    r.insert("skipped".into(), json!(true));
    r.insert("skip_reason".into(), json!("Conditional result was False"));
    r.insert("false_condition".into(), json!(cond));
    Outcome {
        status: Status::Skipped,
        result: r,
        ignored: false,
        items: vec![],
        include: vec![],
        meta: None,
    }
}

/// Drop `omit` from nested mappings too.
fn strip_omit(v: Json) -> Json {
    match v {
        Json::Object(m) => Json::Object(
            m.into_iter()
                .filter(|(_, v)| v.as_str() != Some(OMIT))
                .map(|(k, v)| (k, strip_omit(v)))
                .collect(),
        ),
        Json::Array(a) => Json::Array(
            a.into_iter()
                .filter(|v| v.as_str() != Some(OMIT))
                .map(strip_omit)
                .collect(),
        ),
        other => other,
    }
}

/// Item labels as Ansible prints them: strings bare, anything else as Python repr-ish JSON.
fn label_text(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        other => py_repr(other),
    }
}

/// Python repr of a JSON value (`{'a': 1, 'b': True}`), as Ansible shows item labels.
pub fn py_repr(v: &Json) -> String {
    match v {
        Json::Null => "None".into(),
        Json::Bool(b) => if *b { "True" } else { "False" }.into(),
        Json::Number(n) => n.to_string(),
        Json::String(s) => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
        Json::Array(a) => format!("[{}]", a.iter().map(py_repr).collect::<Vec<_>>().join(", ")),
        Json::Object(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("'{k}': {}", py_repr(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Names Ansible's implicit localhost answers to (when the inventory does not define them).
fn is_local_name(name: &str) -> bool {
    matches!(name, "localhost" | "127.0.0.1" | "::1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_batches_split_like_ansible() {
        let hosts: Vec<String> = (1..=5).map(|i| format!("h{i}")).collect();
        let sizes = |s: Option<Json>| {
            serial_batches(&hosts, s.as_ref())
                .iter()
                .map(Vec::len)
                .collect::<Vec<_>>()
        };
        assert_eq!(sizes(None), vec![5]);
        assert_eq!(sizes(Some(json!(2))), vec![2, 2, 1]);
        assert_eq!(sizes(Some(json!("40%"))), vec![2, 2, 1]);
        assert_eq!(sizes(Some(json!([1, 3]))), vec![1, 3, 1]);
    }

    #[test]
    fn python_repr_of_labels() {
        assert_eq!(
            py_repr(&json!({"key": "A", "value": 1, "on": true, "n": null})),
            "{'key': 'A', 'value': 1, 'on': True, 'n': None}"
        );
        assert_eq!(label_text(&json!("plain")), "plain");
    }
}
