//! Package steps through the binary on local trees with real rpm databases, dnf and
//! createrepo_c repositories: the seed's kernel failure, pinned updates, kernel pruning,
//! the Gpulse swap, config conflicts, and honest check mode.

use crate::pkg_support::PkgFleet;

const K55: [&str; 2] = [
    "kernel-xenU-2.6.9-55.EL.noarch.rpm",
    "kernel-xenU-devel-2.6.9-55.EL.noarch.rpm",
];

const INSTALLONLY: &str = r#"
[[step]]
name = "preserve kernel packages"
hosts = "guests"
ini = { path = "/etc/dnf/dnf.conf", section = "main", key = "installonlypkgs", contains = ["kernel", "kernel-xenU", "kernel-xenU-devel"] }
"#;

const UPDATE: &str = r#"
[[step]]
name = "full update"
hosts = "guests"
packages = { update = true }
"#;

fn kernels_json(f: &PkgFleet) -> serde_json::Value {
    let run = f.vmup(&["kernels", "-i", "inventory.toml", "--json"]);
    let line = run
        .stdout
        .lines()
        .next()
        .unwrap_or_else(|| panic!("{}", run.stderr));
    serde_json::from_str(line).unwrap()
}

#[test]
fn seed_failure_update_without_installonlypkgs_deletes_the_booted_kernels_modules() {
    let f = PkgFleet::new(&["ng2"], "2.6.9-55.ELxenU");
    f.guest("ng2", &[("centos-updates", "centos")], &K55);
    assert_eq!(kernels_json(&f)["verdict"], "ok");
    let rb = f.runbook(UPDATE);
    let apply = f.vmup(&["apply", "-i", "inventory.toml", rb, "--json"]);
    assert_eq!(apply.code, 0, "{}{}", apply.stdout, apply.stderr);
    assert!(
        !f.fleet.file("ng2", "/lib/modules/2.6.9-55.ELxenU").exists(),
        "dnf update removed the modules of the kernel the host boots"
    );
    let report = kernels_json(&f);
    assert_eq!(report["ok"], false);
    assert_eq!(
        report["verdict"],
        "host boots 2.6.9-55.ELxenU but /lib/modules/2.6.9-55.ELxenU is missing: the guest will come up without disk and network drivers"
    );
    let human = f.vmup(&["kernels", "-i", "inventory.toml"]);
    assert_eq!(human.code, 1);
    assert!(human.stdout.contains("MISSING") || human.stdout.contains("is missing"));
}

#[test]
fn seed_fix_installonlypkgs_keeps_both_kernels_and_the_plan_says_install() {
    let f = PkgFleet::new(&["ng2"], "2.6.9-55.ELxenU");
    f.guest("ng2", &[("centos-updates", "centos")], &K55);
    let rb = f.runbook(&format!("{INSTALLONLY}{UPDATE}"));
    let plan = f.vmup(&["plan", "-i", "inventory.toml", rb]);
    assert_eq!(plan.code, 3, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout
            .contains("install kernel-xenU-2.6.9-78.EL.noarch from centos-updates"),
        "the preview accounts for the earlier installonlypkgs edit:\n{}",
        plan.stdout
    );
    let apply = f.vmup(&["apply", "-i", "inventory.toml", rb, "--json"]);
    assert_eq!(apply.code, 0, "{}{}", apply.stdout, apply.stderr);
    for release in ["2.6.9-55.ELxenU", "2.6.9-78.ELxenU"] {
        assert!(
            f.fleet
                .file("ng2", &format!("/lib/modules/{release}"))
                .is_dir()
        );
    }
    assert_eq!(kernels_json(&f)["verdict"], "ok");
}

#[test]
fn pinned_update_installs_only_from_monash_then_the_full_update_from_the_rest() {
    let f = PkgFleet::new(&["ng2"], "2.6.9-55.ELxenU");
    f.guest(
        "ng2",
        &[("monash-updates", "monash"), ("centos-updates", "centos")],
        &K55,
    );
    let rb = f.runbook(&format!(
        r#"{INSTALLONLY}
[[step]]
name = "pinned update"
hosts = "guests"
packages = {{ update = true, disable_repos = ["*"], enable_repos = ["monash*"] }}
{UPDATE}"#
    ));
    let before = f.snapshot();
    let qa = f.rpm_qa("ng2");
    let plan = f.vmup(&["plan", "-i", "inventory.toml", rb, "--json"]);
    assert_eq!(plan.code, 3, "{}{}", plan.stdout, plan.stderr);
    assert_eq!(before, f.snapshot(), "plan changed a file");
    assert_eq!(qa, f.rpm_qa("ng2"), "plan changed the rpm database");
    let changes = plan.hosts()["ng2"]["changes"].clone();
    let pinned = changes[1]["diff"].as_str().unwrap();
    assert_eq!(
        pinned,
        "install kernel-xenU-2.6.9-67.0.1.EL.noarch from monash-updates\ninstall kernel-xenU-devel-2.6.9-67.0.1.EL.noarch from monash-updates\n(an earlier step adds kernel-xenU, kernel-xenU-devel to installonlypkgs in /etc/dnf/dnf.conf: installed beside the current version, not upgraded)"
    );
    assert!(
        changes[2]["diff"]
            .as_str()
            .unwrap()
            .contains("kernel-xenU-2.6.9-78.EL.noarch from centos-updates")
    );

    let apply = f.vmup(&["apply", "-i", "inventory.toml", rb, "--json"]);
    assert_eq!(apply.code, 0, "{}{}", apply.stdout, apply.stderr);
    let applied = apply.hosts()["ng2"]["changes"].clone();
    let step1 = applied[1]["output"].as_str().unwrap();
    assert!(
        step1.contains("monash-updates") && !step1.contains("centos-updates"),
        "{step1}"
    );
    let from = std::process::Command::new("dnf")
        .args([
            "-q",
            &format!("--installroot={}", f.fleet.file("ng2", "/").display()),
            "repoquery",
            "--installed",
            "--qf",
            "%{name}-%{version}-%{release} %{from_repo}",
            "kernel-xenU",
        ])
        .env("HOME", &crate::pkg_support::repos().home)
        .output()
        .unwrap();
    let from = String::from_utf8_lossy(&from.stdout);
    assert!(
        from.contains("kernel-xenU-2.6.9-67.0.1.EL monash-updates"),
        "{from}"
    );
    assert!(
        from.contains("kernel-xenU-2.6.9-78.EL centos-updates"),
        "{from}"
    );
}

fn prune_fleet(booted: &str) -> PkgFleet {
    let f = PkgFleet::new(&["ng2"], booted);
    let mut rpms = Vec::new();
    let names: Vec<String> = ["55.EL", "67.0.1.EL", "78.EL"]
        .iter()
        .flat_map(|r| {
            [
                format!("kernel-xenU-2.6.9-{r}.noarch.rpm"),
                format!("kernel-xenU-devel-2.6.9-{r}.noarch.rpm"),
            ]
        })
        .collect();
    rpms.extend(names.iter().map(String::as_str));
    f.guest("ng2", &[], &rpms);
    f
}

fn prune(f: &PkgFleet, keep: &str) -> crate::support::Run {
    prune_limited(f, keep, "all", 0)
}

/// Prunes on the hosts `limit` selects; the guest's host is read even when not selected.
/// `code` is the apply's expected exit status (5 when the prune is held back for safety).
fn prune_limited(f: &PkgFleet, keep: &str, limit: &str, code: i32) -> crate::support::Run {
    let rb = f.runbook(&format!(
        "[[step]]\nname = \"prune kernels\"\nhosts = \"guests\"\nkernels = {{ packages = [\"kernel-xenU\", \"kernel-xenU-devel\"], keep = {keep} }}\n"
    ));
    let apply = f.vmup(&[
        "apply",
        "-i",
        "inventory.toml",
        rb,
        "--json",
        "--limit",
        limit,
    ]);
    assert_eq!(apply.code, code, "{}{}", apply.stdout, apply.stderr);
    let again = f.vmup(&[
        "plan",
        "-i",
        "inventory.toml",
        rb,
        "--json",
        "--limit",
        limit,
    ]);
    assert_eq!(again.code, code, "second plan not empty: {}", again.stdout);
    apply
}

#[test]
fn prune_keeps_the_booted_67_and_the_newest_and_removes_exactly_55() {
    let f = prune_fleet("2.6.9-67.0.1.ELxenU");
    let apply = prune(&f, "{ newest = 1 }");
    assert_eq!(
        f.rpm_qa("ng2"),
        [
            "kernel-xenU-2.6.9-67.0.1.EL",
            "kernel-xenU-2.6.9-78.EL",
            "kernel-xenU-devel-2.6.9-67.0.1.EL",
            "kernel-xenU-devel-2.6.9-78.EL"
        ]
    );
    let notes = apply.hosts()["ng2"]["notes"].to_string();
    assert!(
        notes
            .contains("kept: kernel-xenU-2.6.9-67.0.1.EL.noarch (booted by xen1 via /etc/xen/NG2)"),
        "{notes}"
    );
}

#[test]
fn prune_when_the_host_boots_55_removes_67_instead() {
    let f = prune_fleet("2.6.9-55.ELxenU");
    let apply = prune_limited(&f, "{ newest = 1 }", "ng2", 0);
    assert_eq!(
        apply.hosts().len(),
        1,
        "only the guest runs; its host is only read"
    );
    assert_eq!(
        f.rpm_qa("ng2"),
        [
            "kernel-xenU-2.6.9-55.EL",
            "kernel-xenU-2.6.9-78.EL",
            "kernel-xenU-devel-2.6.9-55.EL",
            "kernel-xenU-devel-2.6.9-78.EL"
        ]
    );
}

#[test]
fn prune_never_removes_the_booted_kernel_even_when_keep_says_nothing() {
    let f = prune_fleet("2.6.9-67.0.1.ELxenU");
    prune(&f, "{ newest = 0, booted = false, running = false }");
    assert_eq!(
        f.rpm_qa("ng2"),
        [
            "kernel-xenU-2.6.9-67.0.1.EL",
            "kernel-xenU-devel-2.6.9-67.0.1.EL"
        ]
    );
    assert!(
        f.fleet
            .file("ng2", "/lib/modules/2.6.9-67.0.1.ELxenU")
            .is_dir()
    );
}

#[test]
fn prune_removes_nothing_when_the_booted_kernel_cannot_be_read_safely() {
    let f = prune_fleet("2.6.9-67.0.1.ELxenU");
    f.fleet.write(
        "xen1",
        "/etc/xen/NG2",
        b"import os\nver = os.uname()[2]\nkernel = '/boot/vmlinuz-' + ver\n",
    );
    // Held back for safety: not convergence, its own status and exit code.
    let apply = prune_limited(&f, "{ newest = 0 }", "all", 5);
    assert_eq!(f.rpm_qa("ng2").len(), 6, "nothing removed");
    assert_eq!(apply.hosts()["ng2"]["status"], "held");
    let warnings = apply.hosts()["ng2"]["warnings"].to_string();
    assert!(warnings.contains("cannot be read safely"), "{warnings}");
    let rb = "runbook.toml";
    let human = f.vmup(&["plan", "-i", "inventory.toml", rb]);
    assert_eq!(human.code, 5, "{}", human.stdout);
    assert!(
        human
            .stdout
            .contains("NOT CONVERGED: changes held back for safety"),
        "{}",
        human.stdout
    );
    assert!(
        human.stdout.contains("warning: step 1 (prune kernels): removes nothing: the kernel this guest is booted with is unknown"),
        "people see why nothing is pruned:\n{}",
        human.stdout
    );
}

const SWAP: &str = "[[step]]\nname = \"switch to ARCS gridpulse\"\nhosts = \"guests\"\npackages = { swap = { remove = \"Gpulse\", install = \"APAC-gateway-gridpulse\" } }\n";

#[test]
fn swap_replaces_gpulse_in_one_transaction() {
    let f = PkgFleet::new(&["ng2"], "2.6.9-55.ELxenU");
    f.guest(
        "ng2",
        &[("centos-updates", "centos")],
        &["Gpulse-1.0-1.noarch.rpm"],
    );
    let rb = f.runbook(SWAP);
    let plan = f.vmup(&["plan", "-i", "inventory.toml", rb]);
    assert!(
        plan.stdout
            .contains("dnf swap Gpulse APAC-gateway-gridpulse: 3 package(s) in one transaction"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("remove Gpulse-1.0-1.noarch"),
        "{}",
        plan.stdout
    );
    let apply = f.vmup(&["apply", "-i", "inventory.toml", rb, "--json"]);
    assert_eq!(apply.code, 0, "{}{}", apply.stdout, apply.stderr);
    assert_eq!(
        f.rpm_qa("ng2"),
        ["APAC-gateway-gridpulse-2.0-1", "libgridpulse-helper-1.0-1"]
    );
}

#[test]
fn install_and_remove_together_are_one_shell_transaction() {
    let f = PkgFleet::new(&["ng2"], "2.6.9-55.ELxenU");
    f.guest(
        "ng2",
        &[("centos-updates", "centos")],
        &["Gpulse-1.0-1.noarch.rpm"],
    );
    let rb = f.runbook("[[step]]\nhosts = \"guests\"\npackages = { install = [\"APAC-gateway-gridpulse\"], remove = [\"Gpulse\"] }\n");
    let plan = f.vmup(&["plan", "-i", "inventory.toml", rb]);
    assert!(
        plan.stdout.contains("3 package(s) in one transaction"),
        "{}",
        plan.stdout
    );
    let apply = f.vmup(&["apply", "-i", "inventory.toml", rb, "--json"]);
    assert_eq!(apply.code, 0, "{}{}", apply.stdout, apply.stderr);
    assert_eq!(
        f.rpm_qa("ng2"),
        ["APAC-gateway-gridpulse-2.0-1", "libgridpulse-helper-1.0-1"]
    );
}

#[test]
fn swap_that_cannot_be_satisfied_keeps_gpulse_and_fails_with_dnfs_words() {
    let f = PkgFleet::new(&["ng2"], "2.6.9-55.ELxenU");
    f.guest(
        "ng2",
        &[("centos-updates", "centos")],
        &["Gpulse-1.0-1.noarch.rpm"],
    );
    let rb = f.runbook("[[step]]\nhosts = \"guests\"\npackages = { swap = { remove = \"Gpulse\", install = \"broken-gridpulse\" } }\n");
    let apply = f.vmup(&["apply", "-i", "inventory.toml", rb, "--json"]);
    assert_eq!(apply.code, 1, "{}{}", apply.stdout, apply.stderr);
    let host = apply.hosts()["ng2"].clone();
    assert_eq!(host["status"], "failed");
    let error = host["error"].as_str().unwrap();
    assert!(
        error.contains("nothing provides missing-thing needed by broken-gridpulse"),
        "{error}"
    );
    assert_eq!(f.rpm_qa("ng2"), ["Gpulse-1.0-1"]);
}

#[test]
fn rpmnew_after_an_update_is_found_diffed_and_resolved_both_ways() {
    let f = PkgFleet::new(&["c1", "c2"], "2.6.9-55.ELxenU");
    for g in ["c1", "c2"] {
        f.guest(
            g,
            &[("centos-updates", "centos")],
            &["conftest-1.0-1.noarch.rpm"],
        );
        f.fleet.write(g, "/etc/conftest.conf", b"a=5\n");
    }
    let rb =
        f.runbook("[[step]]\nhosts = \"guests\"\npackages = { install = [\"conftest-2.0\"] }\n");
    let apply = f.vmup(&["apply", "-i", "inventory.toml", rb, "--json"]);
    assert_eq!(apply.code, 0, "{}{}", apply.stdout, apply.stderr);
    let notes = apply.hosts()["c1"]["notes"].to_string();
    assert!(
        notes.contains("/etc/conftest.conf.rpmnew"),
        "reported after the transaction: {notes}"
    );

    let listed = f.vmup(&["conflicts", "-i", "inventory.toml", "--limit", "c1"]);
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    assert!(
        listed
            .stdout
            .contains("/etc/conftest.conf.rpmnew beside /etc/conftest.conf"),
        "{}",
        listed.stdout
    );
    assert!(
        listed.stdout.contains("-a=5") && listed.stdout.contains("+b=2"),
        "{}",
        listed.stdout
    );
    assert!(
        f.fleet.file("c1", "/etc/conftest.conf.rpmnew").exists(),
        "listing changes nothing"
    );

    let keep = f.vmup(&[
        "conflicts",
        "-i",
        "inventory.toml",
        "--limit",
        "c1",
        "--resolve",
        "keep",
        "--json",
    ]);
    assert_eq!(keep.code, 0, "{}{}", keep.stdout, keep.stderr);
    assert_eq!(f.fleet.read("c1", "/etc/conftest.conf"), b"a=5\n");
    assert!(!f.fleet.file("c1", "/etc/conftest.conf.rpmnew").exists());

    let new = f.vmup(&[
        "conflicts",
        "-i",
        "inventory.toml",
        "--limit",
        "c2",
        "--resolve",
        "new",
    ]);
    assert_eq!(new.code, 0, "{}{}", new.stdout, new.stderr);
    assert_eq!(f.fleet.read("c2", "/etc/conftest.conf"), b"a=1\nb=2\n");
    assert_eq!(f.fleet.read("c2", "/etc/conftest.conf.vmup-old"), b"a=5\n");
    assert!(!f.fleet.file("c2", "/etc/conftest.conf.rpmnew").exists());

    let after = f.vmup(&["conflicts", "-i", "inventory.toml", "--json"]);
    assert!(
        after
            .stdout
            .lines()
            .filter(|l| !l.starts_with("{\"summary\""))
            .all(|l| l.contains("\"conflicts\":[]")),
        "{}",
        after.stdout
    );
}

/// The seed's order on a guest that has no Monash repository yet: the `repo` step writes
/// it and the pinned update after it, in the same run, is previewed against it (one more
/// facts round trip), then applied and verified.
#[test]
fn an_update_through_a_repository_the_same_run_writes_is_previewed_and_applied() {
    let f = PkgFleet::new(&["ng2"], "2.6.9-55.ELxenU");
    f.guest("ng2", &[], &K55);
    let monash = crate::pkg_support::repos().repo("monash");
    let rb = f.runbook(&format!(
        r#"{INSTALLONLY}
[[step]]
name = "Monash mirror"
hosts = "guests"
repo = {{ path = "/etc/yum.repos.d/Monash.repo", section = "monashupdates", set = {{ name = "Monash", baseurl = "file://{}", enabled = "0", gpgcheck = "0" }} }}

[[step]]
name = "pinned update"
hosts = "guests"
packages = {{ update = true, disable_repos = ["*"], enable_repos = ["monash*"] }}
"#,
        monash.display()
    ));
    let plan = f.vmup(&["plan", "-i", "inventory.toml", rb, "--json"]);
    assert_eq!(plan.code, 3, "{}{}", plan.stdout, plan.stderr);
    let host = &plan.hosts()["ng2"];
    assert_eq!(
        host["round_trips"], 2,
        "one more round for the staged preview: {host}"
    );
    assert!(
        host["changes"]
            .to_string()
            .contains("install kernel-xenU-2.6.9-67.0.1.EL.noarch from monashupdates"),
        "{host}"
    );
    assert!(
        !f.fleet.file("ng2", "/etc/yum.repos.d/Monash.repo").exists(),
        "plan wrote nothing"
    );
    let apply = f.vmup(&["apply", "-i", "inventory.toml", rb, "--json"]);
    assert_eq!(apply.code, 0, "{}{}", apply.stdout, apply.stderr);
    assert!(
        f.rpm_qa("ng2")
            .contains(&"kernel-xenU-2.6.9-67.0.1.EL".to_string())
    );
}
