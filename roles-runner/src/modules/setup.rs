//! `setup` / `gather_facts`: the facts roles use, from one exec of a POSIX shell script
//! (no Python in the instance).

use async_trait::async_trait;
use serde_json::{Map, Value as Json, json};

use super::{Ctx, Module, ModuleError, Res};

pub struct Setup;

const SCRIPT: &str = r#"
echo "@@os-release"; cat /etc/os-release 2>/dev/null
echo "@@debian_version"; cat /etc/debian_version 2>/dev/null
echo "@@uname"; uname -s; uname -r; uname -m; uname -v
echo "@@hostname"; hostname 2>/dev/null || cat /proc/sys/kernel/hostname
echo "@@meminfo"; cat /proc/meminfo 2>/dev/null
echo "@@nproc"; nproc 2>/dev/null; grep -c ^processor /proc/cpuinfo 2>/dev/null
echo "@@pid1"; cat /proc/1/comm 2>/dev/null
echo "@@python"; p=$(command -v python3 2>/dev/null || command -v python 2>/dev/null); echo "$p"; [ -n "$p" ] && "$p" --version 2>&1
echo "@@env"; env
echo "@@mounts"; cat /proc/mounts 2>/dev/null
echo "@@id"; id -u; id -g; id -un; echo "$HOME"; echo "$SHELL"
echo "@@pkg"; command -v apt-get dnf yum apk pacman zypper 2>/dev/null | head -n 1
echo "@@uptime"; cut -d. -f1 /proc/uptime 2>/dev/null
echo "@@machine_id"; cat /etc/machine-id 2>/dev/null
echo "@@end"
"#;

#[async_trait]
impl Module for Setup {
    fn name(&self) -> &'static str {
        "setup"
    }
    fn params(&self) -> &'static [&'static str] {
        &["gather_subset", "gather_timeout", "filter", "fact_path"]
    }
    async fn run(&self, ctx: &Ctx<'_>) -> Result<Res, ModuleError> {
        let out = ctx.sh(SCRIPT).await?;
        // Returned with the `ansible_` prefix, as Ansible's setup does.
        let facts: Map<String, Json> = parse_facts(&out.stdout_str())
            .into_iter()
            .map(|(k, v)| (format!("ansible_{k}"), v))
            .collect();
        let mut res = Res::new();
        res.insert("changed".into(), json!(false));
        let facts = match ctx.list("filter") {
            f if f.is_empty() => facts,
            filters => {
                let pats: Vec<glob::Pattern> = filters
                    .iter()
                    .filter_map(|p| {
                        glob::Pattern::new(&if p.starts_with("ansible_") {
                            p.clone()
                        } else {
                            format!("ansible_{p}")
                        })
                        .ok()
                    })
                    .collect();
                facts
                    .into_iter()
                    .filter(|(k, _)| pats.iter().any(|p| p.matches(k)))
                    .collect()
            }
        };
        res.insert("ansible_facts".into(), Json::Object(facts));
        Ok(res)
    }
}

fn sections(text: &str) -> Map<String, Json> {
    let mut out = Map::new();
    let mut cur: Option<String> = None;
    let mut buf = String::new();
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("@@") {
            if let Some(c) = cur.take() {
                out.insert(c, json!(buf.clone()));
            }
            buf.clear();
            cur = Some(name.to_string());
        } else {
            buf.push_str(line);
            buf.push('\n');
        }
    }
    out
}

pub fn parse_facts(text: &str) -> Map<String, Json> {
    let s = sections(text);
    let sec = |k: &str| s.get(k).and_then(Json::as_str).unwrap_or("").to_string();
    let mut f = Map::new();
    let osr: Map<String, Json> = sec("os-release")
        .lines()
        .filter_map(|l| {
            l.split_once('=')
                .map(|(k, v)| (k.to_string(), json!(v.trim_matches('"'))))
        })
        .collect();
    let osv = |k: &str| osr.get(k).and_then(Json::as_str).unwrap_or("").to_string();
    let id = osv("ID");
    let distribution = match id.as_str() {
        "debian" => "Debian".to_string(),
        "ubuntu" => "Ubuntu".into(),
        "centos" => "CentOS".into(),
        "rhel" => "RedHat".into(),
        "fedora" => "Fedora".into(),
        "alpine" => "Alpine".into(),
        "arch" => "Archlinux".into(),
        "rocky" => "Rocky".into(),
        "almalinux" => "AlmaLinux".into(),
        other => {
            let mut c = other.chars();
            c.next()
                .map(|x| x.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        }
    };
    let os_family = match id.as_str() {
        "debian" | "ubuntu" | "linuxmint" | "raspbian" => "Debian",
        "centos" | "rhel" | "fedora" | "rocky" | "almalinux" | "amzn" | "ol" => "RedHat",
        "alpine" => "Alpine",
        "arch" | "manjaro" => "Archlinux",
        "opensuse" | "opensuse-leap" | "sles" => "Suse",
        _ => distribution.as_str(),
    }
    .to_string();
    let mut version = osv("VERSION_ID");
    let debv = sec("debian_version").trim().to_string();
    if id == "debian" && !debv.is_empty() && debv.chars().next().is_some_and(|c| c.is_ascii_digit())
    {
        version = debv;
    }
    let major = version.split('.').next().unwrap_or("").to_string();
    f.insert("distribution".into(), json!(distribution));
    f.insert(
        "distribution_release".into(),
        json!(osv("VERSION_CODENAME")),
    );
    f.insert("distribution_version".into(), json!(version));
    f.insert("distribution_major_version".into(), json!(major));
    f.insert("distribution_file_variety".into(), json!(os_family));
    f.insert("os_family".into(), json!(os_family));
    let uname: Vec<String> = sec("uname").lines().map(str::to_string).collect();
    let u = |i: usize| uname.get(i).cloned().unwrap_or_default();
    f.insert("system".into(), json!(u(0)));
    f.insert("kernel".into(), json!(u(1)));
    f.insert("kernel_version".into(), json!(u(3)));
    f.insert("architecture".into(), json!(u(2)));
    f.insert("machine".into(), json!(u(2)));
    f.insert("userspace_architecture".into(), json!(u(2)));
    let hostname = sec("hostname").trim().to_string();
    // No `hostname -f`: it waits on DNS when the instance has no network.
    let fqdn = hostname.clone();
    f.insert(
        "hostname".into(),
        json!(hostname.split('.').next().unwrap_or("")),
    );
    f.insert("nodename".into(), json!(hostname));
    f.insert("fqdn".into(), json!(fqdn));
    f.insert(
        "domain".into(),
        json!(fqdn.split_once('.').map(|x| x.1).unwrap_or("")),
    );
    let mem = |key: &str| -> u64 {
        sec("meminfo")
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
            / 1024
    };
    f.insert("memtotal_mb".into(), json!(mem("MemTotal:")));
    f.insert("memfree_mb".into(), json!(mem("MemFree:")));
    f.insert("swaptotal_mb".into(), json!(mem("SwapTotal:")));
    f.insert("swapfree_mb".into(), json!(mem("SwapFree:")));
    let nproc: Vec<u64> = sec("nproc")
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    f.insert(
        "processor_vcpus".into(),
        json!(nproc.first().copied().unwrap_or(1)),
    );
    f.insert(
        "processor_count".into(),
        json!(nproc.get(1).or(nproc.first()).copied().unwrap_or(1)),
    );
    f.insert(
        "processor_cores".into(),
        json!(nproc.first().copied().unwrap_or(1)),
    );
    let pid1 = sec("pid1").trim().to_string();
    f.insert(
        "service_mgr".into(),
        json!(if pid1 == "systemd" || pid1 == "init" && id == "debian" {
            "systemd"
        } else {
            pid1.as_str()
        }),
    );
    let pyl: Vec<String> = sec("python").lines().map(str::to_string).collect();
    if let Some(exe) = pyl.first().filter(|p| !p.is_empty()) {
        // "Python 3.11.2" -> version parts (the interpreter is only asked for --version).
        let ver = pyl
            .get(1)
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap_or("");
        let parts: Vec<u64> = ver.split('.').filter_map(|x| x.parse().ok()).collect();
        let p = |i: usize| parts.get(i).copied().unwrap_or(0);
        f.insert(
            "python".into(),
            json!({"executable": exe, "type": "cpython", "has_sslcontext": true,
                   "version": {"major": p(0), "minor": p(1), "micro": p(2), "releaselevel": "final", "serial": 0},
                   "version_info": [p(0), p(1), p(2), "final", 0]}),
        );
        f.insert("python_version".into(), json!(ver));
    }
    let env: Map<String, Json> = sec("env")
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, v)| (k.to_string(), json!(v))))
        .collect();
    f.insert("env".into(), Json::Object(env));
    let mounts: Vec<Json> = sec("mounts")
        .lines()
        .filter_map(|l| {
            let p: Vec<&str> = l.split_whitespace().collect();
            (p.len() >= 4)
                .then(|| json!({"device": p[0], "mount": p[1], "fstype": p[2], "options": p[3]}))
        })
        .collect();
    f.insert("mounts".into(), json!(mounts));
    let idl: Vec<String> = sec("id").lines().map(str::to_string).collect();
    let i = |n: usize| idl.get(n).cloned().unwrap_or_default();
    f.insert("user_uid".into(), json!(i(0).parse::<u64>().unwrap_or(0)));
    f.insert("user_gid".into(), json!(i(1).parse::<u64>().unwrap_or(0)));
    f.insert("user_id".into(), json!(i(2)));
    f.insert("user_dir".into(), json!(i(3)));
    f.insert("user_shell".into(), json!(i(4)));
    let pkg = sec("pkg")
        .trim()
        .rsplit('/')
        .next()
        .unwrap_or("")
        .to_string();
    f.insert(
        "pkg_mgr".into(),
        json!(match pkg.as_str() {
            "apt-get" => "apt",
            "" => "unknown",
            other => other,
        }),
    );
    f.insert(
        "uptime_seconds".into(),
        json!(sec("uptime").trim().parse::<u64>().unwrap_or(0)),
    );
    f.insert("machine_id".into(), json!(sec("machine_id").trim()));
    f.insert("virtualization_type".into(), json!("lxc"));
    f.insert("virtualization_role".into(), json!("guest"));
    f.insert("gather_subset".into(), json!(["all"]));
    f.insert("module_setup".into(), json!(true));
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debian_facts() {
        let text = "@@os-release\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n@@debian_version\n12.12\n@@uname\nLinux\n6.1.0\nx86_64\n#1 SMP\n@@hostname\nweb1\n@@pid1\nsystemd\n@@end\n";
        let f = parse_facts(text);
        assert_eq!(f["distribution"], json!("Debian"));
        assert_eq!(f["distribution_release"], json!("bookworm"));
        assert_eq!(f["distribution_major_version"], json!("12"));
        assert_eq!(f["os_family"], json!("Debian"));
        assert_eq!(f["service_mgr"], json!("systemd"));
        assert_eq!(f["architecture"], json!("x86_64"));
    }
}
