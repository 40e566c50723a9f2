//! A tiny local Debian repository built on the controller at test time, so the `apt` and
//! `package` modules are tested against real dpkg/apt without touching the internet:
//! `dpkg-deb --build` of a few directories (DEBIAN/control + one file each) and a flat
//! repository index (`Packages` + an unsigned `Release`, used with `[trusted=yes]`).

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

/// One package of the repository.
pub struct Deb {
    pub name: &'static str,
    pub version: &'static str,
    pub depends: &'static str,
    /// (absolute path in the instance, content); a path under /etc/ becomes a conffile.
    pub files: &'static [(&'static str, &'static str)],
}

/// Build every package of `debs` into `dir` (created) and write the flat index there.
/// Returns the `.deb` paths in the order given.
pub fn build_repo(dir: &Path, debs: &[Deb]) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).expect("repo dir");
    let mut index = String::new();
    let mut out = vec![];
    for d in debs {
        let file = format!("{}_{}_all.deb", d.name, d.version);
        let deb = dir.join(&file);
        build_deb(&deb, d);
        let data = std::fs::read(&deb).expect("read deb");
        let control = String::from_utf8(
            Command::new("dpkg-deb")
                .arg("-f")
                .arg(&deb)
                .output()
                .expect("dpkg-deb -f")
                .stdout,
        )
        .expect("control is UTF-8");
        index.push_str(control.trim_end());
        index.push_str(&format!(
            "\nFilename: ./{file}\nSize: {}\nSHA256: {}\n\n",
            data.len(),
            hex::encode(Sha256::digest(&data))
        ));
        out.push(deb);
    }
    std::fs::write(dir.join("Packages"), &index).expect("write Packages");
    let release = format!(
        "Origin: floe-test\nLabel: floe-test\nArchitectures: all amd64 arm64\nSHA256:\n {} {} Packages\n",
        hex::encode(Sha256::digest(index.as_bytes())),
        index.len()
    );
    std::fs::write(dir.join("Release"), release).expect("write Release");
    out
}

fn build_deb(deb: &Path, d: &Deb) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("root");
    std::fs::create_dir_all(root.join("DEBIAN")).expect("DEBIAN");
    let mut control = format!(
        "Package: {}\nVersion: {}\nArchitecture: all\nMaintainer: Floe tests <floe@localhost>\nPriority: optional\nSection: misc\n",
        d.name, d.version
    );
    if !d.depends.is_empty() {
        control.push_str(&format!("Depends: {}\n", d.depends));
    }
    control.push_str(&format!(
        "Description: floe conformance test package {}\n",
        d.name
    ));
    std::fs::write(root.join("DEBIAN/control"), control).expect("control");
    let mut conffiles = String::new();
    for (path, content) in d.files {
        let p = root.join(path.trim_start_matches('/'));
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, content).expect("write file");
        if path.starts_with("/etc/") {
            conffiles.push_str(path);
            conffiles.push('\n');
        }
    }
    if !conffiles.is_empty() {
        std::fs::write(root.join("DEBIAN/conffiles"), conffiles).expect("conffiles");
    }
    // dpkg-deb refuses group/world-writable control dirs; tempdirs are 0700, files 0644.
    let status = Command::new("chmod")
        .args(["-R", "u=rwX,go=rX"])
        .arg(&root)
        .status()
        .expect("chmod");
    assert!(status.success());
    let out = Command::new("dpkg-deb")
        .args(["--root-owner-group", "-Zgzip", "--build"])
        .arg(&root)
        .arg(deb)
        .output()
        .expect("cannot run dpkg-deb (the dpkg package)");
    assert!(
        out.status.success(),
        "dpkg-deb --build {}: {}",
        deb.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}
