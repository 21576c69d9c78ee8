//! The seed's own `yum --disablerepo="*" --enablerepo="monash*" update` on a guest whose
//! package tool is a yum 2.4 (CentOS 4): no `--assumeno`, no `--setopt`, no
//! `--disableplugin`. The guest `g01` gets tests/fleet/yum24 as `/usr/bin/yum` (a
//! stand-in that takes exactly yum 2.4's options and shell commands and does the work
//! with the guest's real dnf, through its Python API) and its dnf command is moved out of
//! `PATH`, so vmup finds only that yum; `g02` keeps the real dnf, and every scenario runs
//! on both, so the old-yum plan is compared with what dnf lists for the same repositories.
//! Repositories as in fleet_packages (pkg_support's, under /srv/repos, `.repo` files
//! written by vmup's `repo` steps). The stand-in's own refusals are tested without a fleet
//! (`yum24_stand_in_refuses_what_yum_2_4_did_not_know`).

use std::path::Path;
use std::process::{Command, Stdio};

use crate::fleet::Fleet;
use crate::fleet_packages::{PINNED, REPOS, copy_repos};
use crate::support::Run;

/// A repository an earlier step of the same run writes, then an install from it only:
/// yum 2.4 cannot be pointed at a staged copy of the repository directory.
fn arcs(preview: &str) -> String {
    format!(
        r#"
[[step]]
name = "ARCS repository"
hosts = "guests"
repo = {{ path = "/etc/yum.repos.d/ARCS.repo", section = "arcs", set = {{ name = "ARCS", baseurl = "file:///srv/repos/centos", enabled = "0", gpgcheck = "0" }} }}

[[step]]
name = "gridpulse from ARCS"
hosts = "guests"
packages = {{ install = ["APAC-gateway-gridpulse"], disable_repos = ["*"], enable_repos = ["arcs"]{preview} }}
"#
    )
}

fn stand_in() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fleet/yum24")
}

fn show(run: &Run) -> String {
    format!(
        "exit {}\nstdout:\n{}\nstderr:\n{}",
        run.code, run.stdout, run.stderr
    )
}

fn vmup(fleet: &Fleet, cmd: &str, runbook: &str, text: &str, limit: &str, json: bool) -> Run {
    std::fs::write(fleet.path(runbook), text).unwrap();
    let mut args = vec![cmd, "-i", "inventory.toml", runbook, "-F", "ssh_config"];
    args.extend(["--limit", limit]);
    if json {
        args.push("--json");
    }
    fleet.vmup(&args)
}

/// Installs the stand-in as the guest's `/usr/bin/yum` and moves dnf out of `PATH`.
fn install_yum24(fleet: &Fleet, g: &str) {
    let out = Command::new(&fleet.env["FLEET_SH"])
        .arg("exec")
        .arg(fleet.dir.path())
        .args([
            g,
            "sh",
            "-c",
            "cat > /usr/bin/yum && chmod 755 /usr/bin/yum && mkdir -p /usr/lib/vmup-yum24 && mv /usr/bin/dnf /usr/lib/vmup-yum24/dnf",
        ])
        .stdin(Stdio::from(std::fs::File::open(stand_in()).unwrap()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        fleet.ssh(g, "command -v dnf || echo no dnf; yum --version"),
        "no dnf\n2.4.3\n"
    );
}

fn kernels(fleet: &Fleet, g: &str) -> Vec<String> {
    let out = fleet.ssh(g, "rpm -qa --qf '%{NAME}-%{VERSION}-%{RELEASE}\\n' | sort");
    out.lines()
        .filter(|l| l.starts_with("kernel-xenU") || l.contains("gridpulse"))
        .map(str::to_string)
        .collect()
}

/// The stand-in's log of what vmup ran on the old-yum guest, then emptied.
fn yum_calls(fleet: &Fleet, g: &str) -> String {
    fleet.ssh(
        g,
        "cat /var/log/vmup-yum24.log 2>/dev/null; : > /var/log/vmup-yum24.log",
    )
}

/// The pinned update planned on both guests (the plans list the same packages), applied
/// (the rpm databases really change), planned again (empty).
fn pinned_update_on_yum24_lists_what_dnf_lists_and_converges(fleet: &Fleet, old: &str, new: &str) {
    let both = format!("{old},{new}");
    let before = kernels(fleet, old);
    assert_eq!(
        before,
        ["kernel-xenU-2.6.9-55.EL", "kernel-xenU-devel-2.6.9-55.EL"]
    );
    let human = vmup(fleet, "plan", "pinned.toml", PINNED, &both, false);
    assert_eq!(human.code, 3, "{}", show(&human));
    for pm in ["yum", "dnf"] {
        let line = format!(
            "packages: {pm} --disablerepo=* --enablerepo=monash* update: 2 package(s) in one transaction"
        );
        assert!(human.stdout.contains(&line), "{line} in {}", show(&human));
    }
    let plan = vmup(fleet, "plan", "pinned.toml", PINNED, &both, true);
    assert_eq!(plan.code, 3, "{}", show(&plan));
    let hosts = plan.hosts();
    let listed = "upgrade kernel-xenU-2.6.9-67.0.1.EL.noarch from monash-updates\nupgrade kernel-xenU-devel-2.6.9-67.0.1.EL.noarch from monash-updates";
    assert_eq!(hosts[new]["changes"][0]["diff"], listed, "{}", hosts[new]);
    assert_eq!(
        hosts[old]["changes"][0]["diff"], hosts[new]["changes"][0]["diff"],
        "{}",
        hosts[old]
    );
    assert_eq!(kernels(fleet, old), before, "the plan changed nothing");
    let calls = yum_calls(fleet, old);
    assert!(
        calls
            .contains(" yum --noplugins -d 2 '--disablerepo=*' '--enablerepo=monash*' shell /tmp/")
            && calls.contains("shell> update\n")
            && calls.contains("shell> ts solve\n")
            && calls.contains("shell> ts list\n")
            && !calls.contains("shell> run")
            && !calls.contains("--assumeno"),
        "{calls}"
    );

    let apply = vmup(fleet, "apply", "pinned.toml", PINNED, &both, true);
    assert_eq!(apply.code, 0, "{}", show(&apply));
    for g in [old, new] {
        assert_eq!(apply.hosts()[g]["status"], "changed", "{}", show(&apply));
        assert_eq!(
            kernels(fleet, g),
            [
                "kernel-xenU-2.6.9-67.0.1.EL",
                "kernel-xenU-devel-2.6.9-67.0.1.EL"
            ],
            "{g}"
        );
    }
    let calls = yum_calls(fleet, old);
    assert!(
        calls
            .contains(" yum --noplugins -d 2 -y '--disablerepo=*' '--enablerepo=monash*' update\n"),
        "{calls}"
    );
    let again = vmup(fleet, "plan", "pinned.toml", PINNED, &both, false);
    assert_eq!(again.code, 0, "converged: {}", show(&again));
}

/// An install from a repository an earlier step writes: dnf previews it with the file
/// staged; yum 2.4 cannot, so the step fails there until it says `preview = "none"`, and
/// then runs, saying its packages were not previewed.
fn unpreviewable_step_needs_preview_none(fleet: &Fleet, old: &str, new: &str) {
    let both = format!("{old},{new}");
    let refused = vmup(fleet, "apply", "arcs.toml", &arcs(""), &both, true);
    assert_eq!(refused.code, 1, "{}", show(&refused));
    let hosts = refused.hosts();
    assert_eq!(hosts[old]["status"], "failed", "{}", hosts[old]);
    let error = hosts[old]["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("yum --disablerepo=* --enablerepo=arcs install APAC-gateway-gridpulse cannot be previewed on this host: yum 2.4.3 (before 3.4.3)")
            && error.contains("ARCS.repo is written by an earlier step")
            && error.contains("`preview = \"none\"`"),
        "{error}"
    );
    assert_eq!(
        fleet.ssh(
            old,
            "test -e /etc/yum.repos.d/ARCS.repo && echo written || echo absent"
        ),
        "absent\n",
        "nothing was applied on the refused host"
    );
    assert_eq!(hosts[new]["status"], "changed", "{}", hosts[new]);
    assert!(
        hosts[new]["changes"][1]["diff"]
            .as_str()
            .unwrap_or_default()
            .contains("install APAC-gateway-gridpulse-2.0-1.noarch from arcs"),
        "{}",
        hosts[new]
    );

    let text = arcs(", preview = \"none\"");
    let plan = vmup(fleet, "plan", "arcs-none.toml", &text, old, false);
    assert_eq!(plan.code, 3, "{}", show(&plan));
    assert!(
        plan.stdout.contains(
            "yum --disablerepo=* --enablerepo=arcs install APAC-gateway-gridpulse: packages not previewed (preview = \"none\")"
        ) && plan
            .stdout
            .contains("the packages of this transaction are not previewed on this host: yum 2.4.3"),
        "{}",
        show(&plan)
    );
    let apply = vmup(fleet, "apply", "arcs-none.toml", &text, old, true);
    assert_eq!(apply.code, 0, "{}", show(&apply));
    assert_eq!(
        kernels(fleet, old),
        [
            "APAC-gateway-gridpulse-2.0-1",
            "kernel-xenU-2.6.9-67.0.1.EL",
            "kernel-xenU-devel-2.6.9-67.0.1.EL",
            "libgridpulse-helper-1.0-1"
        ]
    );
    // The repository is on disk now: the step is previewed, and there is nothing to do.
    let again = vmup(fleet, "plan", "arcs-none.toml", &text, &both, false);
    assert_eq!(again.code, 0, "converged: {}", show(&again));
}

const INSTALL_REMOVE: &str = r#"
[[step]]
name = "conftest 2.0 for Gpulse"
hosts = "guests"
packages = { install = ["conftest-2.0"], remove = ["Gpulse"] }
"#;

/// Install and remove in one transaction: a `yum shell` file whose preview ends in `ts
/// list` and whose apply ends in `run` (the shell exits 0 whatever `run` did, so vmup
/// checks for `Finished Transaction`); dnf lists the same packages.
fn install_and_remove_is_one_shell_transaction(fleet: &Fleet, old: &str, new: &str) {
    let both = format!("{old},{new}");
    for g in [old, new] {
        fleet.exec(g, "rpm -i --nodeps /srv/repos/seed/Gpulse-1.0-1.noarch.rpm");
    }
    let plan = vmup(fleet, "plan", "swap.toml", INSTALL_REMOVE, &both, true);
    assert_eq!(plan.code, 3, "{}", show(&plan));
    let hosts = plan.hosts();
    assert_eq!(
        hosts[new]["changes"][0]["diff"],
        "install conftest-2.0-1.noarch from centos-updates\nremove Gpulse-1.0-1.noarch",
        "{}",
        hosts[new]
    );
    assert_eq!(
        hosts[old]["changes"][0]["diff"], hosts[new]["changes"][0]["diff"],
        "{}",
        hosts[old]
    );
    let calls = yum_calls(fleet, old);
    assert!(
        calls.contains("shell> remove Gpulse\n")
            && calls.contains("shell> install conftest-2.0\n")
            && calls.contains("shell> ts list\n")
            && !calls.contains("shell> run"),
        "{calls}"
    );
    let apply = vmup(fleet, "apply", "swap.toml", INSTALL_REMOVE, &both, true);
    assert_eq!(apply.code, 0, "{}", show(&apply));
    let calls = yum_calls(fleet, old);
    assert!(
        calls.contains(" yum --noplugins -d 2 -y shell /tmp/") && calls.contains("shell> run\n"),
        "{calls}"
    );
    for g in [old, new] {
        let qa = fleet.ssh(g, "rpm -q conftest Gpulse || true");
        assert_eq!(
            qa, "conftest-2.0-1\npackage Gpulse is not installed\n",
            "{g}"
        );
    }
    let again = vmup(fleet, "plan", "swap.toml", INSTALL_REMOVE, &both, false);
    assert_eq!(again.code, 0, "converged: {}", show(&again));
}

#[test]
fn yum24_guest_runs_the_seeds_pinned_update() {
    let fleet = Fleet::up(2);
    let g = fleet.guests();
    let (old, new) = (g[0].as_str(), g[1].as_str());
    install_yum24(&fleet, old);
    for guest in &g {
        copy_repos(&fleet, guest);
    }
    let run = vmup(&fleet, "apply", "repos.toml", REPOS, "guests", true);
    assert_eq!(run.code, 0, "{}", show(&run));
    yum_calls(&fleet, old);
    pinned_update_on_yum24_lists_what_dnf_lists_and_converges(&fleet, old, new);
    unpreviewable_step_needs_preview_none(&fleet, old, new);
    install_and_remove_is_one_shell_transaction(&fleet, old, new);
}

/// Runs the stand-in on this machine (no dnf needed: it refuses before it would load it).
fn yum24(args: &[&str], shell_file: Option<&str>) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new("python3");
    cmd.arg(stand_in())
        .args(args)
        .env("VMUP_YUM24_LOG", dir.path().join("log"));
    if let Some(text) = shell_file {
        let file = dir.path().join("script");
        std::fs::write(&file, text).unwrap();
        let conf = dir.path().join("yum.conf");
        std::fs::write(&conf, "[main]\ndebuglevel=2\n").unwrap();
        cmd.arg("-c").arg(&conf).arg("shell").arg(&file);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn yum24_stand_in_refuses_what_yum_2_4_did_not_know() {
    assert_eq!(
        yum24(&["--version"], None),
        (0, "2.4.3\n".into(), "".into())
    );
    for modern in [
        "--assumeno",
        "--setopt=reposdir=/tmp",
        "--disableplugin=*",
        "-q",
        "--nogpgcheck",
        "--skip-broken",
    ] {
        let (code, stdout, stderr) = yum24(&[modern, "update"], None);
        let name = modern.split('=').next().unwrap_or(modern);
        assert_eq!(code, 1, "{modern}: {stdout}{stderr}");
        assert!(
            stdout.starts_with("usage: yum [options] < update | install"),
            "{stdout}"
        );
        assert_eq!(
            stderr,
            format!("Command line error: no such option: {name}\n")
        );
    }
    let (code, stdout, stderr) = yum24(&["upgrade-minimal"], None);
    assert_eq!(code, 1, "{stdout}{stderr}");
    // Shell commands yum 2.4 lacks get its help text, and the shell goes on (exit 0).
    for unknown in [
        "swap Gpulse APAC-gateway-gridpulse",
        "erase Gpulse",
        "ts check",
    ] {
        let (code, stdout, stderr) = yum24(&[], Some(&format!("{unknown}\nexit\n")));
        assert_eq!(code, 0, "{unknown}: {stdout}{stderr}");
        assert!(
            stdout.starts_with("Setting up Yum Shell\n")
                && (stdout.contains("commands:  clean, config, exit")
                    || stdout.contains("solve: run the dependency solver"))
                && stdout.ends_with("Leaving Shell\n"),
            "{unknown}: {stdout}"
        );
    }
}
