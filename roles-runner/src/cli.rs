//! `ansible-playbook`'s command line: options, ansible.cfg / ANSIBLE_* settings, the list
//! modes, and the run itself.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Parser;
use serde_json::{Map, Value as Json};

use crate::engine::{Engine, Options};
use crate::inventory::Inventory;
use crate::output::Output;
use crate::playbook::{Item, Loader, Playbook};

#[derive(Parser, Debug)]
#[command(
    name = "roles-runner",
    version,
    about = "Run Ansible playbooks and roles on Incus instances over the Incus API"
)]
pub struct Cli {
    /// Playbook(s) to run.
    #[arg(required = true)]
    pub playbooks: Vec<PathBuf>,
    /// Inventory: INI/YAML file, directory, executable script, Terraform environment dir, or `host1,host2,`.
    #[arg(short = 'i', long = "inventory", alias = "inventory-file")]
    pub inventory: Vec<String>,
    /// Limit to hosts matching this pattern.
    #[arg(short = 'l', long = "limit")]
    pub limit: Option<String>,
    /// Only run tasks tagged with these tags.
    #[arg(short = 't', long = "tags")]
    pub tags: Vec<String>,
    /// Skip tasks tagged with these tags.
    #[arg(long = "skip-tags")]
    pub skip_tags: Vec<String>,
    /// Extra variables: `k=v ...`, JSON/YAML, or `@file`.
    #[arg(short = 'e', long = "extra-vars")]
    pub extra_vars: Vec<String>,
    /// Check mode: predict changes, make none.
    #[arg(short = 'C', long = "check")]
    pub check: bool,
    /// Show diffs of changed files.
    #[arg(short = 'D', long = "diff")]
    pub diff: bool,
    /// More output (-v, -vv, -vvv).
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Hosts in parallel.
    #[arg(short = 'f', long = "forks")]
    pub forks: Option<usize>,
    #[arg(long = "list-hosts")]
    pub list_hosts: bool,
    #[arg(long = "list-tasks")]
    pub list_tasks: bool,
    #[arg(long = "list-tags")]
    pub list_tags: bool,
    #[arg(long = "syntax-check")]
    pub syntax_check: bool,
    #[arg(long = "start-at-task")]
    pub start_at_task: Option<String>,
    /// Write one JSON event per task result (and a summary) to this file.
    #[arg(long = "json-log")]
    pub json_log: Option<PathBuf>,
    /// Accepted for compatibility (privilege escalation is root in the instance already).
    #[arg(short = 'b', long = "become")]
    pub become_: bool,
    #[arg(long = "become-user")]
    pub become_user: Option<String>,
    #[arg(short = 'u', long = "user")]
    pub user: Option<String>,
    #[arg(short = 'c', long = "connection")]
    pub connection: Option<String>,
    #[arg(long = "flush-cache")]
    pub flush_cache: bool,
}

/// `[defaults]` of the first ansible.cfg found (ANSIBLE_CONFIG, ./ansible.cfg, ~/.ansible.cfg, /etc/ansible).
fn ansible_cfg() -> Map<String, Json> {
    let mut candidates = vec![];
    if let Ok(p) = std::env::var("ANSIBLE_CONFIG") {
        candidates.push(PathBuf::from(p));
    }
    candidates.push(PathBuf::from("ansible.cfg"));
    if let Ok(h) = std::env::var("HOME") {
        candidates.push(Path::new(&h).join(".ansible.cfg"));
    }
    candidates.push(PathBuf::from("/etc/ansible/ansible.cfg"));
    let mut out = Map::new();
    if let Some(text) = candidates
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
    {
        let mut section = String::new();
        for line in text.lines() {
            let l = line.trim();
            if l.starts_with('#') || l.starts_with(';') || l.is_empty() {
                continue;
            }
            if let Some(s) = l.strip_prefix('[').and_then(|x| x.strip_suffix(']')) {
                section = s.to_string();
                continue;
            }
            if section == "defaults"
                && let Some((k, v)) = l.split_once('=')
            {
                out.insert(k.trim().to_string(), Json::String(v.trim().to_string()));
            }
        }
    }
    out
}

fn parse_extra_vars(list: &[String]) -> Result<Map<String, Json>, String> {
    let mut out = Map::new();
    for e in list {
        let e = e.trim();
        let text = if let Some(f) = e.strip_prefix('@') {
            std::fs::read_to_string(f).map_err(|err| format!("{f}: {err}"))?
        } else {
            e.to_string()
        };
        if e.starts_with('@') || text.starts_with('{') || text.starts_with('[') {
            let docs =
                crate::yaml::parse_str(&text, Path::new(e)).map_err(|err| err.to_string())?;
            match docs.first().map(crate::yaml::Node::to_json) {
                Some(Json::Object(m)) => out.extend(m),
                Some(Json::Null) | None => {}
                Some(_) => return Err(format!("extra vars must be a mapping: {e}")),
            }
        } else {
            for (k, v) in crate::util::parse_kv(&text, false) {
                if k == "_raw_params" {
                    return Err(format!("invalid extra vars (expected key=value): {text}"));
                }
                out.insert(k, v);
            }
        }
    }
    Ok(out)
}

fn split_tags(v: &[String]) -> Vec<String> {
    v.iter()
        .flat_map(|t| t.split(','))
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect()
}

/// Run the CLI; returns the process exit code.
pub async fn main_with(cli: Cli) -> i32 {
    let cfg = ansible_cfg();
    let cfg_s = |k: &str| cfg.get(k).and_then(Json::as_str).map(str::to_string);
    if let Some(rp) = cfg_s("roles_path")
        && std::env::var("ANSIBLE_ROLES_PATH").is_err()
    {
        // SAFETY-free: set before any thread reads it (the loader reads it at load time).
        set_env("ANSIBLE_ROLES_PATH", &rp);
    }
    let forks = cli
        .forks
        .or_else(|| {
            std::env::var("ANSIBLE_FORKS")
                .ok()
                .and_then(|f| f.parse().ok())
        })
        .or_else(|| cfg_s("forks").and_then(|f| f.parse().ok()))
        .unwrap_or(5);
    let mut inv_sources = cli.inventory.clone();
    if inv_sources.is_empty() {
        if let Ok(i) = std::env::var("ANSIBLE_INVENTORY") {
            inv_sources.extend(i.split(',').map(str::to_string));
        } else if let Some(i) = cfg_s("inventory") {
            inv_sources.push(i);
        } else if Path::new("/etc/ansible/hosts").exists() {
            inv_sources.push("/etc/ansible/hosts".into());
        }
    }
    let inv = match Inventory::load(&inv_sources) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("[ERROR]: {e}");
            return 1;
        }
    };
    let extra_vars = match parse_extra_vars(&cli.extra_vars) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("[ERROR]: {e}");
            return 5;
        }
    };
    let json_log = match &cli.json_log {
        Some(p) => match std::fs::File::create(p) {
            Ok(f) => Some(f),
            Err(e) => {
                eprintln!("[ERROR]: {}: {e}", p.display());
                return 1;
            }
        },
        None => None,
    };
    let out = Arc::new(Output::new(cli.verbose, cli.diff, json_log));
    let opts = Options {
        limit: cli.limit.clone(),
        tags: split_tags(&cli.tags),
        skip_tags: split_tags(&cli.skip_tags),
        extra_vars,
        check: cli.check,
        diff: cli.diff,
        verbosity: cli.verbose,
        forks,
        start_at_task: cli.start_at_task.clone(),
    };
    let mut code = 0;
    for pb_path in &cli.playbooks {
        if !pb_path.exists() {
            eprintln!(
                "[ERROR]: the playbook: {} could not be found",
                pb_path.display()
            );
            return 1;
        }
        let loader = Loader::new(pb_path);
        let pb = match loader.load_playbook(pb_path) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("[ERROR]: {}", describe_load_error(&e));
                return match e {
                    // A missing role is a plain AnsibleError (1) in Ansible, not a parser error (4).
                    crate::Error::Syntax { ref msg, .. } if msg.starts_with("the role '") => 1,
                    crate::Error::Yaml(_) | crate::Error::Syntax { .. } => 4,
                    _ => 1,
                };
            }
        };
        if cli.syntax_check || cli.list_hosts || cli.list_tasks || cli.list_tags {
            let engine = Engine::new(opts.clone(), inv.clone(), pb_path, out.clone());
            list(&cli, &pb, &engine, &opts);
            continue;
        }
        let mut engine = Engine::new(opts.clone(), inv.clone(), pb_path, out.clone());
        let summary = engine.run(&pb).await;
        out.event(serde_json::json!({
            "event": "summary", "playbook": pb_path.display().to_string(),
            "incus_round_trips": summary.round_trips, "execs": summary.execs,
            "round_trip_ms": summary.round_trip_time.as_secs_f64() * 1000.0,
        }));
        if cli.verbose > 0 {
            eprintln!(
                "roles-runner: {} host round trips ({} execs), {:.1} ms summed",
                summary.round_trips,
                summary.execs,
                summary.round_trip_time.as_secs_f64() * 1000.0
            );
        }
        code = code.max(summary.exit_code());
    }
    code
}

#[allow(unsafe_code)]
fn set_env(k: &str, v: &str) {
    // Called once at startup, before the runtime spawns worker tasks that read the environment.
    unsafe { std::env::set_var(k, v) }
}

/// A load error as ansible-core 2.19 prints it: the message, `Origin: FILE:LINE:COL` and the
/// annotated source (two lines of context and a column marker).
fn describe_load_error(e: &crate::Error) -> String {
    match e {
        crate::Error::Syntax { file, line, msg } => {
            let col = std::fs::read_to_string(file)
                .ok()
                .and_then(|t| t.lines().nth(line.saturating_sub(1)).map(key_column));
            format!("{msg}\n{}", source_context(file, *line, col))
        }
        crate::Error::Yaml(y) => {
            // Ansible: "YAML parsing failed: Mapping values are not allowed in this context."
            let mut msg = y.msg.trim().to_string();
            if let Some(first) = msg.chars().next() {
                msg.replace_range(..first.len_utf8(), &first.to_uppercase().to_string());
            }
            if !msg.ends_with('.') {
                msg.push('.');
            }
            format!(
                "YAML parsing failed: {msg}\n{}",
                source_context(&y.file, y.line, Some(y.col))
            )
        }
        other => other.to_string(),
    }
}

/// 1-based column of a line's key: after the indentation and a `- ` list marker (where
/// Ansible points for task and role entries).
fn key_column(line: &str) -> usize {
    let indent = line.len() - line.trim_start().len();
    let rest = &line[indent..];
    let marker = if rest.starts_with("- ") {
        2 + (rest[2..].len() - rest[2..].trim_start().len())
    } else {
        0
    };
    indent + marker + 1
}

/// ansible-core's `SourceContext.from_origin`: `Origin:` line, the target line with up to two
/// lines before it, each labelled with its number, and `^ column N` under the target.
fn source_context(file: &Path, line: usize, col: Option<usize>) -> String {
    let path = std::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf());
    let mut out = format!("Origin: {}:{line}", path.display());
    if let Some(c) = col {
        out.push_str(&format!(":{c}"));
    }
    let Ok(text) = std::fs::read_to_string(file) else {
        return out;
    };
    let lines: Vec<&str> = text.lines().collect();
    if line == 0 || line > lines.len() {
        return out;
    }
    let width = line.to_string().len();
    out.push_str("\n\n");
    for (n, l) in lines
        .iter()
        .enumerate()
        .take(line)
        .skip(line.saturating_sub(3))
    {
        let l = l.replace('\t', " ");
        let sep = if l.is_empty() { "" } else { " " };
        out.push_str(&format!("{:>width$}{sep}{l}\n", n + 1));
    }
    if let Some(c) = col.filter(|&c| c >= 1) {
        out.push_str(&format!(
            "{} {}^ column {c}\n",
            " ".repeat(width),
            " ".repeat(c - 1)
        ));
    }
    out
}

fn list(cli: &Cli, pb: &Playbook, engine: &Engine, opts: &Options) {
    println!("\nplaybook: {}", pb.path.display());
    if cli.syntax_check {
        return;
    }
    for (i, play) in pb.plays.iter().enumerate() {
        println!(
            "\n  play #{} ({}): {}\tTAGS: []",
            i + 1,
            play.hosts,
            play.name
        );
        if cli.list_hosts {
            let hosts = engine.play_hosts(play);
            println!("    pattern: ['{}']", play.hosts);
            println!("    hosts ({}):", hosts.len());
            for h in hosts {
                println!("      {h}");
            }
        }
        if cli.list_tasks || cli.list_tags {
            let mut tasks = vec![];
            let mut all: Vec<Item> = play.pre_tasks.clone();
            all.extend(play.role_tasks.iter().cloned());
            all.extend(play.tasks.iter().cloned());
            all.extend(play.post_tasks.iter().cloned());
            flatten(&all, &mut tasks);
            if cli.list_tasks {
                println!("    tasks:");
            }
            let mut tagset = std::collections::BTreeSet::new();
            for t in tasks {
                if t.action == "meta" {
                    continue;
                }
                let selected =
                    opts.tags.is_empty() && opts.skip_tags.is_empty() || tag_ok(&t.tags, opts);
                if !selected {
                    continue;
                }
                tagset.extend(t.tags.iter().cloned());
                if cli.list_tasks {
                    let mut tags = t.tags.clone();
                    tags.sort();
                    tags.dedup();
                    println!("      {}\tTAGS: [{}]", t.display_name(), tags.join(", "));
                }
            }
            if cli.list_tags {
                println!(
                    "      TASK TAGS: [{}]",
                    tagset.into_iter().collect::<Vec<_>>().join(", ")
                );
            }
        }
    }
}

fn tag_ok(tags: &[String], opts: &Options) -> bool {
    if opts.skip_tags.iter().any(|s| tags.contains(s)) {
        return false;
    }
    opts.tags.is_empty() || tags.iter().any(|t| t == "always" || opts.tags.contains(t))
}

fn flatten(items: &[Item], out: &mut Vec<Arc<crate::playbook::Task>>) {
    for i in items {
        match i {
            Item::Task(t) => out.push(t.clone()),
            Item::Block(b) => {
                flatten(&b.block, out);
                flatten(&b.rescue, out);
                flatten(&b.always, out);
            }
        }
    }
}
