//! Shared fixtures: a local fleet of directory trees and a way to run the binary on it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What a `vmup` invocation returned.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The JSON lines of stdout.
    pub fn json(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
            .collect()
    }

    /// The host lines of `--json` output, by host name.
    pub fn hosts(&self) -> BTreeMap<String, serde_json::Value> {
        self.json()
            .into_iter()
            .filter(|v| v.get("host").is_some())
            .map(|v| (v["host"].as_str().unwrap().to_string(), v))
            .collect()
    }
}

/// The run history every vmup started by these tests records in (`VMUP_HISTORY`), so no
/// test writes to the user's own (`~/.local/state/vmup`); tests of the history itself give
/// their own file. One file per test (libtest names each test's thread after it), so tests
/// running at once never wait on each other's database lock.
pub fn test_history() -> PathBuf {
    let thread = std::thread::current();
    let name: String = thread
        .name()
        .unwrap_or("other")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e-history");
    let _ = std::fs::create_dir_all(&dir);
    dir.join(format!("{name}.sqlite"))
}

/// Runs the built binary with `args` in `cwd`.
pub fn vmup(cwd: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_vmup"))
        .args(args)
        .env("VMUP_HISTORY", test_history())
        .current_dir(cwd)
        // The reports compared here are plain whatever the caller's terminal settings.
        .env_remove("CLICOLOR_FORCE")
        .output()
        .expect("vmup runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A temporary fleet of local hosts, each a directory tree.
pub struct LocalFleet {
    pub dir: tempfile::TempDir,
}

impl LocalFleet {
    /// A fleet with hosts `names` (all guests of one host-less inventory).
    pub fn new(names: &[&str]) -> LocalFleet {
        let dir = tempfile::tempdir().unwrap();
        let mut inv = String::from("[defaults]\ntransport = \"local\"\n");
        for name in names {
            std::fs::create_dir_all(dir.path().join(name)).unwrap();
            inv.push_str(&format!("\n[hosts.{name}]\nroot = \"{name}\"\n"));
        }
        std::fs::write(dir.path().join("inventory.toml"), inv).unwrap();
        LocalFleet { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Path of `file` inside host `host`'s tree.
    pub fn file(&self, host: &str, file: &str) -> PathBuf {
        self.dir
            .path()
            .join(host)
            .join(file.trim_start_matches('/'))
    }

    /// Writes a file in a host's tree.
    pub fn write(&self, host: &str, file: &str, content: &[u8]) {
        let p = self.file(host, file);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }

    pub fn read(&self, host: &str, file: &str) -> Vec<u8> {
        std::fs::read(self.file(host, file)).unwrap()
    }

    /// Writes the runbook and returns its file name.
    pub fn runbook(&self, text: &str) -> &'static str {
        std::fs::write(self.dir.path().join("runbook.toml"), text).unwrap();
        "runbook.toml"
    }

    /// Runs vmup in the fleet directory.
    pub fn vmup(&self, args: &[&str]) -> Run {
        vmup(self.dir.path(), args)
    }

    /// Every file, directory and link under the fleet with its content: to prove that a
    /// command changed nothing.
    pub fn snapshot(&self) -> BTreeMap<PathBuf, String> {
        let mut out = BTreeMap::new();
        walk(self.dir.path(), self.dir.path(), &mut out);
        out
    }
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, String>) {
    use std::os::unix::fs::MetadataExt;
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        let rel = path.strip_prefix(root).unwrap().to_path_buf();
        if rel == Path::new("vmup.retry") {
            continue;
        }
        if meta.file_type().is_symlink() {
            out.insert(
                rel,
                format!("link {:?}", std::fs::read_link(&path).unwrap()),
            );
        } else if meta.is_dir() {
            out.insert(rel, format!("dir {:o}", meta.mode()));
            walk(root, &path, out);
        } else {
            let content = std::fs::read(&path).unwrap();
            out.insert(
                rel,
                format!(
                    "file {:o} {:?}",
                    meta.mode(),
                    String::from_utf8_lossy(&content)
                ),
            );
        }
    }
}

/// Plans, checks the plan changed nothing, applies, and checks a second plan is empty.
/// Returns the apply run.
pub fn apply_converges(fleet: &LocalFleet, runbook: &str) -> Run {
    let before = fleet.snapshot();
    let plan = fleet.vmup(&["plan", "-i", "inventory.toml", runbook, "--json"]);
    assert!(
        plan.code == 3 || plan.code == 0,
        "plan: {}\n{}",
        plan.stdout,
        plan.stderr
    );
    assert_eq!(before, fleet.snapshot(), "plan changed the hosts");
    let apply = fleet.vmup(&["apply", "-i", "inventory.toml", runbook, "--json"]);
    assert_eq!(apply.code, 0, "apply: {}\n{}", apply.stdout, apply.stderr);
    let after_apply = fleet.snapshot();
    let again = fleet.vmup(&["plan", "-i", "inventory.toml", runbook, "--json"]);
    assert_eq!(again.code, 0, "second plan not empty: {}", again.stdout);
    for (host, line) in again.hosts() {
        assert_eq!(
            line["changes"].as_array().map(Vec::len),
            Some(0),
            "{host}: {line}"
        );
    }
    let apply2 = fleet.vmup(&["apply", "-i", "inventory.toml", runbook, "--json"]);
    assert_eq!(apply2.code, 0);
    assert_eq!(
        after_apply,
        fleet.snapshot(),
        "second apply changed something"
    );
    apply
}

/// Terminal output without its escape sequences (colour, line clearing: `ESC [` parameters
/// and one final letter), carriage-return line ends made plain.
pub fn strip_escapes(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' && chars.clone().next() == Some('[') {
            for d in chars.by_ref().skip(1) {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out.replace("\r\n", "\n")
}
