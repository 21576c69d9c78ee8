//! Values and variables in runbook steps, through the binary: the stable links built for the
//! newest kernel with no version written anywhere, the same run naming a release its own
//! earlier update installs, the four variable levels in Ansible's order, and an undefined
//! name refused at its place in the file.

use crate::pkg_support::PkgFleet;
use crate::support::{LocalFleet, apply_converges};

const K55: [&str; 2] = [
    "kernel-xenU-2.6.9-55.EL.noarch.rpm",
    "kernel-xenU-devel-2.6.9-55.EL.noarch.rpm",
];
const K67: [&str; 2] = [
    "kernel-xenU-2.6.9-67.0.1.EL.noarch.rpm",
    "kernel-xenU-devel-2.6.9-67.0.1.EL.noarch.rpm",
];

/// The seed's stable links, with the release computed instead of written.
const LINKS: &str = r#"
[[step]]
name = "stable kernel link"
hosts = "guests"
symlink = { path = "/boot/vmlinuz-xenU", target = "vmlinuz-{{ release }}" }

[[step]]
name = "stable System.map link"
hosts = "guests"
symlink = { path = "/boot/System.map-xenU", target = "System.map-{{ release }}" }
"#;

const VALUES: &str = r#"
[values]
release = { newest_kernel = "kernel-xenU" }
"#;

fn link(f: &PkgFleet, path: &str) -> String {
    std::fs::read_link(f.fleet.file("ng2", path))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .to_string_lossy()
        .into_owned()
}

#[test]
fn no_version_in_the_runbook_links_the_newest_installed_kernel() {
    let f = PkgFleet::new(&["ng2"], "2.6.9-55.ELxenU");
    let mut rpms = K55.to_vec();
    rpms.extend(K67);
    f.guest("ng2", &[], &rpms);
    let rb = f.runbook(&format!("{VALUES}{LINKS}"));
    assert!(
        !std::fs::read_to_string(f.fleet.path().join(rb))
            .unwrap()
            .contains("2.6.9")
    );
    let plan = f.vmup(&["plan", "-i", "inventory.toml", rb]);
    assert_eq!(plan.code, 3, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout
            .contains("vmlinuz-xenU -> vmlinuz-2.6.9-67.0.1.ELxenU"),
        "the plan shows the rendered value:\n{}",
        plan.stdout
    );
    let plan = f.vmup(&["plan", "-i", "inventory.toml", rb, "--json"]);
    let notes = plan.hosts()["ng2"]["notes"].to_string();
    assert!(
        notes.contains("release = 2.6.9-67.0.1.ELxenU: the newest kernel-xenU installed"),
        "the plan says where the value comes from: {notes}"
    );
    let apply = f.vmup(&["apply", "-i", "inventory.toml", rb, "--json"]);
    assert_eq!(apply.code, 0, "{}{}", apply.stdout, apply.stderr);
    assert_eq!(
        link(&f, "/boot/vmlinuz-xenU"),
        "vmlinuz-2.6.9-67.0.1.ELxenU"
    );
    assert_eq!(
        link(&f, "/boot/System.map-xenU"),
        "System.map-2.6.9-67.0.1.ELxenU"
    );
    assert!(
        f.fleet.file("ng2", "/boot/vmlinuz-xenU").exists(),
        "the link leads to the image"
    );
    let again = f.vmup(&["plan", "-i", "inventory.toml", rb]);
    assert_eq!(
        again.code, 0,
        "a second run changes nothing: {}",
        again.stdout
    );
}

#[test]
fn the_same_runs_plan_names_the_release_its_own_update_installs() {
    let f = PkgFleet::new(&["ng2"], "2.6.9-55.ELxenU");
    f.guest("ng2", &[("monash-updates", "monash")], &K55);
    let rb = f.runbook(&format!(
        r#"{VALUES}
[[step]]
name = "preserve kernel packages"
hosts = "guests"
ini = {{ path = "/etc/dnf/dnf.conf", section = "main", key = "installonlypkgs", contains = ["kernel-xenU", "kernel-xenU-devel"] }}

[[step]]
name = "pinned update"
hosts = "guests"
packages = {{ update = true, disable_repos = ["*"], enable_repos = ["monash*"] }}
{LINKS}"#
    ));
    let plan = f.vmup(&["plan", "-i", "inventory.toml", rb, "--json"]);
    assert_eq!(plan.code, 3, "{}{}", plan.stdout, plan.stderr);
    let host = &plan.hosts()["ng2"];
    let summaries: Vec<&str> = host["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["summary"].as_str().unwrap())
        .collect();
    assert!(
        summaries
            .iter()
            .any(|s| s.contains("vmlinuz-xenU") && s.contains("vmlinuz-2.6.9-67.0.1.ELxenU")),
        "before anything is installed, the plan names the release the update brings: {summaries:?}"
    );
    let notes = host["notes"].to_string();
    assert!(
        notes.contains("the newest kernel-xenU, to be installed by step 2 (pinned update)"),
        "{notes}"
    );
    let apply = f.vmup(&["apply", "-i", "inventory.toml", rb, "--json"]);
    assert_eq!(apply.code, 0, "{}{}", apply.stdout, apply.stderr);
    assert_eq!(
        link(&f, "/boot/vmlinuz-xenU"),
        "vmlinuz-2.6.9-67.0.1.ELxenU"
    );
    assert!(f.fleet.file("ng2", "/boot/vmlinuz-xenU").exists());
    let again = f.vmup(&["plan", "-i", "inventory.toml", rb]);
    assert_eq!(again.code, 0, "converged: {}", again.stdout);
}

/// A fleet with the four variable levels: hosts `plain` (no group), `g` (in grid), `h` (in
/// grid, with its own var).
fn vars_fleet() -> LocalFleet {
    let fleet = LocalFleet::new(&["plain", "g", "h"]);
    for h in ["plain", "g", "h"] {
        std::fs::create_dir_all(fleet.file(h, "/etc")).unwrap();
    }
    std::fs::write(
        fleet.path().join("inventory.toml"),
        r#"[defaults]
transport = "local"

[hosts.plain]
root = "plain"

[hosts.g]
root = "g"
groups = ["grid"]

[hosts.h]
root = "h"
groups = ["grid"]
vars = { site = "host" }

[groups.all.vars]
site = "all"

[groups.grid.vars]
site = "grid"
"#,
    )
    .unwrap();
    fleet
}

#[test]
fn variables_follow_cli_over_host_over_group_over_all() {
    let fleet = vars_fleet();
    let rb = fleet.runbook(
        "[vars]\nsite = \"runbook\"\nowner = \"grid-admins\"\n\n[[step]]\nfile = { path = \"/etc/motd\", content = \"{{ site }} {{ owner }} {{ host }}\\n\" }\n",
    );
    apply_converges(&fleet, rb);
    let motd = |h: &str| String::from_utf8(fleet.read(h, "/etc/motd")).unwrap();
    assert_eq!(motd("plain"), "all grid-admins plain\n");
    assert_eq!(motd("g"), "grid grid-admins g\n");
    assert_eq!(motd("h"), "host grid-admins h\n");
    let apply = fleet.vmup(&[
        "apply",
        "-i",
        "inventory.toml",
        rb,
        "-e",
        "site=cli",
        "--json",
    ]);
    assert_eq!(apply.code, 0, "{}{}", apply.stdout, apply.stderr);
    for h in ["plain", "g", "h"] {
        assert_eq!(motd(h), format!("cli grid-admins {h}\n"));
    }
}

#[test]
fn a_value_holding_quotes_and_shell_stays_one_value() {
    let fleet = LocalFleet::new(&["g"]);
    std::fs::create_dir_all(fleet.file("g", "/etc")).unwrap();
    let rb = fleet.runbook(
        "[[step]]\nline = { path = \"/etc/motd\", line = \"{{ banner }}\", create = true }\n",
    );
    let banner = "it's \"$(touch /tmp/vmup-pwned)\" `id` \\ done";
    let apply = fleet.vmup(&[
        "apply",
        "-i",
        "inventory.toml",
        rb,
        "-e",
        &format!("banner={banner}"),
    ]);
    assert_eq!(apply.code, 0, "{}{}", apply.stdout, apply.stderr);
    assert_eq!(
        String::from_utf8(fleet.read("g", "/etc/motd")).unwrap(),
        format!("{banner}\n")
    );
    assert!(!std::path::Path::new("/tmp/vmup-pwned").exists());
}

#[test]
fn an_undefined_name_is_an_error_at_its_place_never_empty() {
    let fleet = LocalFleet::new(&["g"]);
    let rb = fleet.runbook(
        "[vars]\nsite = \"x\"\n\n[[step]]\nfile = { path = \"/etc/motd\", content = \"{{ site }} {{ sitee }}\" }\n",
    );
    let before = fleet.snapshot();
    let run = fleet.vmup(&["apply", "-i", "inventory.toml", rb]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("runbook.toml:5:55: `sitee` is not defined for g"),
        "{}",
        run.stderr
    );
    assert_eq!(before, fleet.snapshot(), "nothing was touched");
    let rb = fleet.runbook(
        "[vars]\ncpus = 4\n\n[[step]]\nfile = { path = \"/etc/motd\", content = \"x\" }\n",
    );
    let run = fleet.vmup(&["plan", "-i", "inventory.toml", rb]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("runbook.toml:2:1: `cpus` is a fact"),
        "{}",
        run.stderr
    );
}

#[test]
fn cpus_on_a_local_tree_comes_from_the_inventory_or_the_condition_is_refused() {
    let fleet = LocalFleet::new(&["g"]);
    std::fs::create_dir_all(fleet.file("g", "/etc")).unwrap();
    let rb = fleet.runbook(
        "[[step]]\nname = \"irqbalance on 1-CPU hosts\"\nwhen = \"cpus == 1\"\nfile = { path = \"/etc/one-cpu\", content = \"{{ cpus }}\\n\" }\n",
    );
    let plan = fleet.vmup(&["plan", "-i", "inventory.toml", rb, "--json"]);
    assert_eq!(plan.code, 1, "{}{}", plan.stdout, plan.stderr);
    let error = plan.hosts()["g"]["error"].to_string();
    assert!(
        error.contains("set `cpus` for it in the inventory"),
        "the controller's CPU count is never used: {error}"
    );
    let inv = std::fs::read_to_string(fleet.path().join("inventory.toml")).unwrap();
    std::fs::write(
        fleet.path().join("inventory.toml"),
        format!("{inv}cpus = 1\n"),
    )
    .unwrap();
    apply_converges(&fleet, rb);
    assert_eq!(fleet.read("g", "/etc/one-cpu"), b"1\n");
}
