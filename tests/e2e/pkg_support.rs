//! Fixtures for package tests: RPMs built once per test binary (tests/fleet/mkkernel.sh and
//! mkrpm.sh), local repositories made with createrepo_c, and trees with a real rpm database.
//!
//! Repositories (in `$CARGO_TARGET_TMPDIR/vmup-pkg-repos`):
//! - `seed`: packages installed into trees with `rpm -i` (kernel-xenU 55, 67.0.1 and 78 with
//!   their -devel, Gpulse 1.0, conftest 1.0 with a %config(noreplace) /etc/conftest.conf);
//! - `monash`: kernel-xenU 67.0.1 (+devel);
//! - `centos`: kernel-xenU 78 (+devel), APAC-gateway-gridpulse 2.0 (needs
//!   libgridpulse-helper), libgridpulse-helper, broken-gridpulse (needs a package no
//!   repository has), conftest 2.0 (a changed config file).
//!
//! dnf under `--installroot` finds the tree's rpm database through rpm's `%_dbpath`, which
//! Debian's rpm sets to ~/.rpmdb: vmup runs here get a HOME whose .rpmmacros says
//! `%_dbpath /var/lib/rpm` (a real RHEL host needs nothing of the kind).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::support::{LocalFleet, Run};

/// Where the built repositories are.
pub struct Repos {
    pub dir: PathBuf,
    pub home: PathBuf,
}

impl Repos {
    pub fn repo(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Path of an RPM in the `seed` repository.
    pub fn seed(&self, file: &str) -> PathBuf {
        self.dir.join("seed").join(file)
    }
}

fn sh(cmd: &mut Command) -> String {
    let out = cmd.output().expect("command runs");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fleet")
        .join(name)
}

/// Builds the repositories once per test binary.
pub fn repos() -> &'static Repos {
    static REPOS: OnceLock<Repos> = OnceLock::new();
    REPOS.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("vmup-pkg-repos");
        let _ = std::fs::remove_dir_all(&dir);
        let kernel = |release: &str, repo: &str| {
            sh(Command::new(script("mkkernel.sh")).args([
                "kernel-xenU",
                "2.6.9",
                release,
                dir.join(repo).to_str().unwrap(),
            ]));
        };
        for release in ["55.EL", "67.0.1.EL", "78.EL"] {
            kernel(release, "seed");
        }
        kernel("67.0.1.EL", "monash");
        kernel("78.EL", "centos");
        let rpm = |args: &[&str], repo: &str| {
            let out = dir.join(repo);
            let mut all = vec![args[0], args[1], args[2], out.to_str().unwrap()];
            all.extend_from_slice(&args[3..]);
            sh(Command::new(script("mkrpm.sh")).args(&all));
        };
        rpm(
            &[
                "Gpulse",
                "1.0",
                "1",
                "--file",
                "/usr/bin/gpulse",
                "gpulse\n",
            ],
            "seed",
        );
        rpm(
            &[
                "conftest",
                "1.0",
                "1",
                "--config",
                "/etc/conftest.conf",
                "a=1\n",
            ],
            "seed",
        );
        rpm(
            &[
                "conftest",
                "2.0",
                "1",
                "--config",
                "/etc/conftest.conf",
                "a=1\nb=2\n",
            ],
            "centos",
        );
        rpm(
            &[
                "APAC-gateway-gridpulse",
                "2.0",
                "1",
                "--requires",
                "libgridpulse-helper",
                "--file",
                "/usr/bin/gridpulse",
                "gridpulse\n",
            ],
            "centos",
        );
        rpm(&["libgridpulse-helper", "1.0", "1"], "centos");
        rpm(
            &[
                "broken-gridpulse",
                "1.0",
                "1",
                "--requires",
                "missing-thing",
            ],
            "centos",
        );
        for repo in ["monash", "centos"] {
            sh(Command::new("createrepo_c").args(["-q", dir.join(repo).to_str().unwrap()]));
        }
        let home = dir.join("home");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::write(home.join(".rpmmacros"), "%_dbpath /var/lib/rpm\n").unwrap();
        Repos { dir, home }
    })
}

/// A fleet of one Xen host (`xen1`) and guests with rpm databases.
pub struct PkgFleet {
    pub fleet: LocalFleet,
}

impl PkgFleet {
    /// `guests` run on xen1 as domains named like them in upper case, each booted with
    /// kernel release `booted` through the stable link /boot/vmlinuz-2.6.9-ELxenU.
    pub fn new(guests: &[&str], booted: &str) -> PkgFleet {
        let mut names = vec!["xen1"];
        names.extend_from_slice(guests);
        let fleet = LocalFleet::new(&names);
        let mut inv = String::from(
            "[defaults]\ntransport = \"local\"\n\n[hosts.xen1]\nroot = \"xen1\"\nrole = \"host\"\n",
        );
        for g in guests {
            let domain = g.to_uppercase();
            inv.push_str(&format!(
                "\n[hosts.{g}]\nroot = \"{g}\"\nhost = \"xen1\"\ndomain = \"{domain}\"\ndomain_config = \"/etc/xen/{domain}\"\n"
            ));
            fleet.write(
                "xen1",
                &format!("/etc/xen/{domain}"),
                format!(
                    "name = \"{domain}\"\nkernel = \"/boot/vmlinuz-2.6.9-ELxenU\"\nmemory = 512\n"
                )
                .as_bytes(),
            );
        }
        std::fs::write(fleet.path().join("inventory.toml"), inv).unwrap();
        let pf = PkgFleet { fleet };
        pf.host_boots(booted);
        pf
    }

    /// Points the host's stable link at vmlinuz-`release` (creating the image).
    pub fn host_boots(&self, release: &str) {
        self.fleet.write(
            "xen1",
            &format!("/boot/vmlinuz-{release}"),
            b"placeholder kernel\n",
        );
        let link = self.fleet.file("xen1", "/boot/vmlinuz-2.6.9-ELxenU");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(format!("vmlinuz-{release}"), link).unwrap();
    }

    /// Gives `guest` dnf.conf, the repositories (id, dir name under the repos, enabled) and
    /// installs `rpms` (file names in the seed repository) into its database.
    pub fn guest(&self, guest: &str, repos_: &[(&str, &str)], rpms: &[&str]) {
        let r = repos();
        self.fleet.write(
            guest,
            "/etc/dnf/dnf.conf",
            b"[main]\ngpgcheck=0\nmetadata_expire=0\nbest=True\n",
        );
        let mut repo_file = String::new();
        for (id, dir) in repos_ {
            repo_file.push_str(&format!(
                "[{id}]\nname={id}\nbaseurl=file://{}\nenabled=1\ngpgcheck=0\n\n",
                r.repo(dir).display()
            ));
        }
        self.fleet
            .write(guest, "/etc/yum.repos.d/test.repo", repo_file.as_bytes());
        if !rpms.is_empty() {
            let root = self.fleet.file(guest, "/");
            let mut cmd = Command::new("rpm");
            cmd.args([
                "--root",
                root.to_str().unwrap(),
                "--dbpath",
                "/var/lib/rpm",
                "-i",
                "--nodeps",
            ]);
            for f in rpms {
                cmd.arg(r.seed(f));
            }
            sh(&mut cmd);
        }
    }

    /// `rpm -qa` of a guest, sorted, as NAME-VERSION-RELEASE lines.
    pub fn rpm_qa(&self, guest: &str) -> Vec<String> {
        let root = self.fleet.file(guest, "/");
        let out = sh(Command::new("rpm").args([
            "--root",
            root.to_str().unwrap(),
            "--dbpath",
            "/var/lib/rpm",
            "-qa",
            "--qf",
            "%{NAME}-%{VERSION}-%{RELEASE}\\n",
        ]));
        let mut lines: Vec<String> = out.lines().map(str::to_string).collect();
        lines.sort();
        lines
    }

    /// Runs vmup in the fleet directory with the test HOME (see the module doc).
    pub fn vmup(&self, args: &[&str]) -> Run {
        let out = Command::new(env!("CARGO_BIN_EXE_vmup"))
            .args(args)
            .current_dir(self.fleet.path())
            .env("HOME", &repos().home)
            .env("VMUP_HISTORY", crate::support::test_history())
            .output()
            .expect("vmup runs");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Writes the runbook and returns its name.
    pub fn runbook(&self, text: &str) -> &'static str {
        self.fleet.runbook(text)
    }

    /// Every file outside /var (where dnf keeps caches and logs even with --assumeno), to
    /// prove a plan changed nothing.
    pub fn snapshot(&self) -> Vec<(PathBuf, String)> {
        self.fleet
            .snapshot()
            .into_iter()
            .filter(|(p, _)| p.components().nth(1).is_none_or(|c| c.as_os_str() != "var"))
            .collect()
    }
}
