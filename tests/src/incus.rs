//! The `incus` CLI, for test setup, out-of-band changes and cleanup checks.

use std::cell::RefCell;
use std::process::Command;

/// Run `incus ARGS`, returning stdout; panics with stderr on failure.
pub fn incus(args: &[&str]) -> String {
    let out = try_incus(args);
    match out {
        Ok(s) => s,
        Err(e) => panic!("incus {} failed: {e}", args.join(" ")),
    }
}

/// Run `incus ARGS`: Ok(stdout) or Err(stderr).
pub fn try_incus(args: &[&str]) -> Result<String, String> {
    let out = Command::new("incus")
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run the incus CLI (is Incus installed? run `make testbed`): {e}")
        });
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// A throw-away project: shares the default project's images (`features.images=false`),
/// has its own profiles with a `default` profile like the testbed's (root disk + eth0).
/// Dropping it deletes every instance, profile and image alias the test made, then the project.
pub struct TestProject {
    pub name: String,
    /// Image aliases created in the default project (shared images), removed on drop.
    aliases: RefCell<Vec<String>>,
}

impl TestProject {
    pub fn create(prefix: &str) -> TestProject {
        let name = crate::unique(prefix);
        let description = crate::stale::marker();
        incus(&[
            "project",
            "create",
            &name,
            "--description",
            &description,
            "-c",
            "features.images=false",
            "-c",
            "features.profiles=true",
        ]);
        let p = TestProject {
            name,
            aliases: RefCell::new(Vec::new()),
        };
        let pool = std::env::var("FLOE_POOL").unwrap_or_else(|_| "default".into());
        let bridge = std::env::var("FLOE_BRIDGE").unwrap_or_else(|_| "incusbr0".into());
        p.incus(&[
            "profile",
            "device",
            "add",
            "default",
            "root",
            "disk",
            "path=/",
            &format!("pool={pool}"),
        ]);
        p.incus(&[
            "profile",
            "device",
            "add",
            "default",
            "eth0",
            "nic",
            &format!("network={bridge}"),
            "name=eth0",
        ]);
        p
    }

    /// `incus ARGS --project NAME`.
    pub fn incus(&self, args: &[&str]) -> String {
        // The flag goes first: anything after `--` belongs to the command run by exec.
        let mut a: Vec<&str> = vec!["--project", &self.name];
        a.extend_from_slice(args);
        incus(&a)
    }

    pub fn try_incus(&self, args: &[&str]) -> Result<String, String> {
        let mut a: Vec<&str> = vec!["--project", &self.name];
        a.extend_from_slice(args);
        try_incus(&a)
    }

    /// `incus launch IMAGE NAME`, retrying the start when the shared daemon's LXC hooks fail
    /// transiently (`forkstart ... exit status 1`).
    pub fn launch(&self, image: &str, name: &str, extra: &[&str]) {
        let mut args = vec!["init", image, name];
        args.extend_from_slice(extra);
        self.incus(&args);
        for attempt in 1..=3 {
            match self.try_incus(&["start", name]) {
                Ok(_) => return,
                Err(e) => {
                    // The start may have succeeded even though the CLI lost the operation
                    // ("Operation not found", i/o timeouts on a loaded daemon).
                    std::thread::sleep(std::time::Duration::from_secs(3));
                    let status = self
                        .try_incus(&["list", name, "-f", "csv", "-c", "s"])
                        .unwrap_or_default();
                    if status.trim() == "RUNNING" {
                        return;
                    }
                    assert!(attempt < 3, "incus start {name} failed: {e}");
                }
            }
        }
    }

    /// `BASE-<this project's random suffix>`: a name unique on the whole daemon. Instance
    /// names are DNS names on the shared bridge, so two projects' `web1` clash once both run
    /// (and a killed run's leftovers would break every later run).
    pub fn unique_name(&self, base: &str) -> String {
        let suffix = self.name.rsplit('-').next().unwrap_or(&self.name);
        format!("{base}-{suffix}")
    }

    /// Names of the instances in the project.
    pub fn instances(&self) -> Vec<String> {
        self.list("list")
    }

    /// Names of the profiles in the project (including `default`).
    pub fn profiles(&self) -> Vec<String> {
        self.list("profile")
    }

    fn list(&self, what: &str) -> Vec<String> {
        let args: Vec<&str> = if what == "list" {
            vec!["list", "-f", "csv", "-c", "n"]
        } else {
            vec![what, "list", "-f", "csv"]
        };
        self.incus(&args)
            .lines()
            .filter_map(|l| l.split(',').next())
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// Another alias for the testbed image (in the default project, shared with this
    /// project); removed on drop.
    pub fn image_alias(&self, image: &str) -> String {
        let alias = crate::unique("e2e-img");
        let info = incus(&["image", "info", image]);
        let fp = info
            .lines()
            .find_map(|l| l.strip_prefix("Fingerprint: "))
            .unwrap_or_else(|| panic!("no fingerprint in `incus image info {image}`"))
            .trim()
            .to_string();
        incus(&["image", "alias", "create", &alias, &fp]);
        self.aliases.borrow_mut().push(alias.clone());
        alias
    }
}

impl Drop for TestProject {
    fn drop(&mut self) {
        // A loaded daemon sometimes fails a forced delete (stop timeout); try again before
        // giving up, or the project (and the instance's DNS name) outlives the test.
        for attempt in 1..=3 {
            let left: Vec<String> = self
                .try_incus(&["list", "-f", "csv", "-c", "n"])
                .unwrap_or_default()
                .lines()
                .map(str::to_string)
                .filter(|l| !l.is_empty())
                .collect();
            if left.is_empty() {
                break;
            }
            for i in &left {
                if let Err(e) = self.try_incus(&["delete", "--force", i]) {
                    eprintln!("warning: delete {i} (attempt {attempt}): {e}");
                }
            }
        }
        for p in self.profiles() {
            if p != "default" {
                let _ = self.try_incus(&["profile", "delete", &p]);
            }
        }
        for a in self.aliases.borrow().iter() {
            let _ = try_incus(&["image", "alias", "delete", a]);
        }
        if let Err(e) = try_incus(&["project", "delete", &self.name]) {
            eprintln!("warning: could not delete test project {}: {e}", self.name);
        }
    }
}
