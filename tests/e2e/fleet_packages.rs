//! The package scenarios of `packages.rs` over real ssh: the default in-process transport
//! against the test fleet (tests/fleet/fleet.sh), where every guest runs its own sshd,
//! rpm database and dnf, and `vmup kernels` reads the booted kernel on the dom0 `xen1`.
//!
//! One fleet (6 guests + xen1) is brought up once, with the inventory fleet.sh writes (no
//! `transport`, so vmup's default in-process ssh client). The scenarios run in two rounds,
//! each scenario on its own guest(s) and, within a round, all at once; `fleet.sh reset`
//! puts every machine back to its seed between the rounds. Each runbook names
//! `hosts = "guests"` and each run is limited to the scenario's guest(s) with `--limit`.
//! About 30 s in all on the shared 2-core machine (load average ~30 at the time).
//! The repositories are pkg_support's (mkkernel.sh, mkrpm.sh, createrepo_c), copied into
//! each guest under /srv/repos with tar through `fleet.sh exec`; the `.repo` files
//! (`baseurl=file:///srv/repos/...`, `gpgcheck=0`) are written by vmup itself, over ssh,
//! with the runbook's `repo` steps. Everything asserted on a guest is read back over ssh
//! (plain OpenSSH), except packages installed beforehand as set-up (`rpm -i` through
//! `fleet.sh exec`) and the dom0's domain configs retargeted for the prune scenarios.
//!
//! What dnf needs on the Debian-based guests (dnf 4.14, rpm 4.18), as found here:
//! - **The rpm database.** Debian's rpm keeps its database under `~/.rpmdb` unless told
//!   otherwise. The fleet's base sets `%_dbpath /var/lib/rpm` in `/etc/rpm/macros`, which
//!   librpm reads for every user and so dnf (through python3-rpm) honours: in a guest
//!   `rpm --eval %_dbpath` prints `/var/lib/rpm` and dnf sees kernel-xenU-2.6.9-55.EL
//!   installed. Over ssh nothing else is needed: no `--dbpath`, no `~/.rpmmacros` (those
//!   are only for the local-tree tests, where the controller's own dnf runs with
//!   `--installroot`).
//! - **releasever and arch.** dnf takes `$releasever` from the installed package that
//!   provides `system-release(releasever)`: the seed's centos-release-4-4.3, so `4` (read
//!   with `dnf.Base().conf.substitutions`: releasever 4, arch and basearch x86_64, the
//!   Debian userland's). The test repositories' baseurls use neither variable and every
//!   package is noarch, so neither matters here (the seed's CentOS 4 guests were i386).
//! - **Name resolution.** Every dnf run looks up the machine's own host name (librepo
//!   logs `curl_version()`, which initialises libldap, whose `ldap_pvt_get_fqdn` calls
//!   getaddrinfo). The base had no `/etc/hosts` and the build machine's resolv.conf, whose
//!   server the fleet cannot reach, so each dnf command waited 10 s for DNS; fleet.sh now
//!   gives every machine an `/etc/hosts` naming itself, and a dnf preview takes ~0.2 s.
//! - **Signatures.** The guests' `/etc/dnf/dnf.conf` has `gpgcheck=1` (kept: it is what
//!   the seed's guests have); the test packages are unsigned, so each repository section
//!   says `gpgcheck=0`, which wins over `[main]`.
//! - **Plugins.** Debian's dnf ships none: vmup's `--disableplugin='*'` makes dnf print
//!   "No matches found for the following disable plugin patterns: *", a warning only.
//! - **installonly_limit.** The guests' dnf.conf has `installonly_limit=3`: with
//!   kernel-xenU in installonlypkgs, 55, 67.0.1 and 78 are exactly three, so nothing is
//!   removed by the limit here; a fourth version would make dnf remove the oldest.
//! - **Metadata.** dnf caches repository metadata in /var/cache/dnf (48 h by default);
//!   the repositories never change after they are copied in, and `reset` wipes the cache.
//! - **Check mode writes only under /var.** A `vmup plan` (`dnf --assumeno`) leaves dnf's
//!   cache, its history database (/var/lib/dnf), its logs and rpmdb.sqlite-shm behind;
//!   nothing outside /var changes, which the plan scenario checks. One exception, dnf's
//!   and not vmup's: librepo caches the checksums of a file:// repository's packages in
//!   extended attributes on them (`user.Librepo.checksum.sha256`, `...mtime`), so their
//!   ctime changes (their content and mtime do not).
//! - **Debian's rpm** prints "RPM should not be used directly install RPM packages, use
//!   Alien instead!" on stderr for `rpm -i/-e` (a warning, exit 0): it shows up in the
//!   kernel prune's `output` and in the set-up, never through dnf.
//! - `dnf repoquery --installed --qf '%{from_repo}'` reads the repository a package came
//!   from out of dnf's history database; packages installed with plain `rpm -i` have none.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::fleet::Fleet;
use crate::pkg_support::repos;
use crate::support::Run;

/// Guests in the fleet (plus the dom0 xen1).
const GUESTS: usize = 6;

/// The seed's two repositories on every guest, served from the fleet's createrepo trees.
pub const REPOS: &str = r#"
[[step]]
name = "Monash mirror (KAREN)"
hosts = "guests"
repo = { path = "/etc/yum.repos.d/Monash-updates.repo", section = "monash-updates", set = { name = "Distro updates at Monash", baseurl = "file:///srv/repos/monash", enabled = "1", gpgcheck = "0" } }

[[step]]
name = "CentOS updates"
hosts = "guests"
repo = { path = "/etc/yum.repos.d/CentOS-Base.repo", section = "centos-updates", set = { name = "CentOS updates", baseurl = "file:///srv/repos/centos", enabled = "1", gpgcheck = "0" } }
"#;

const INSTALLONLY: &str = r#"
[[step]]
name = "preserve kernel packages"
hosts = "guests"
ini = { path = "/etc/dnf/dnf.conf", section = "main", key = "installonlypkgs", contains = ["kernel-xenU", "kernel-xenU-devel"] }
"#;

const UPDATE: &str = r#"
[[step]]
name = "full update"
hosts = "guests"
packages = { update = true }
"#;

/// The seed's pinned update: every repository off but Monash's.
pub const PINNED: &str = r#"
[[step]]
name = "pinned update"
hosts = "guests"
packages = { update = true, disable_repos = ["*"], enable_repos = ["monash*"] }
"#;

const BROKEN_VERDICT: &str = "host boots 2.6.9-55.ELxenU but /lib/modules/2.6.9-55.ELxenU is missing: the guest will come up without disk and network drivers";

/// Writes a runbook next to the fleet's inventory and returns its file name.
fn runbook<'a>(fleet: &Fleet, name: &'a str, text: &str) -> &'a str {
    std::fs::write(fleet.path(name), text).unwrap();
    name
}

/// `vmup CMD -i inventory.toml [RUNBOOK] -F ssh_config --limit LIMIT EXTRA...` over the
/// default (in-process ssh) transport.
fn vmup(fleet: &Fleet, cmd: &str, runbook: Option<&str>, limit: &str, extra: &[&str]) -> Run {
    let mut args = vec![cmd, "-i", "inventory.toml"];
    args.extend(runbook);
    args.extend(["-F", "ssh_config", "--limit", limit]);
    args.extend_from_slice(extra);
    fleet.vmup(&args)
}

fn show(run: &Run) -> String {
    format!(
        "exit {}\nstdout:\n{}\nstderr:\n{}",
        run.code, run.stdout, run.stderr
    )
}

/// Copies the test repositories into a guest as /srv/repos/{seed,monash,centos}.
pub fn copy_repos(fleet: &Fleet, g: &str) {
    let r = repos();
    let mut tar = Command::new("tar")
        .arg("-C")
        .arg(&r.dir)
        .args(["-cf", "-", "seed", "monash", "centos"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let untar = Command::new(&fleet.env["FLEET_SH"])
        .arg("exec")
        .arg(fleet.dir.path())
        .args([
            g,
            "sh",
            "-c",
            "mkdir -p /srv/repos && tar -C /srv/repos -xf -",
        ])
        .stdin(tar.stdout.take().unwrap())
        .output()
        .unwrap();
    assert!(tar.wait().unwrap().success());
    assert!(
        untar.status.success(),
        "copying the repositories into {g}: {}",
        String::from_utf8_lossy(&untar.stderr)
    );
}

/// Copies the test repositories into every guest (/srv/repos/{seed,monash,centos}) and
/// writes their .repo files with vmup's `repo` steps, over ssh.
fn prepare(fleet: &Fleet) {
    for g in fleet.guests() {
        copy_repos(fleet, &g);
    }
    let rb = runbook(fleet, "repos.toml", REPOS);
    let run = vmup(fleet, "apply", Some(rb), "guests", &["--json"]);
    assert_eq!(run.code, 0, "{}", show(&run));
    let text = String::from_utf8(
        fleet.ssh_cat(&fleet.guests()[0], "/etc/yum.repos.d/Monash-updates.repo"),
    )
    .unwrap();
    assert!(
        text.contains("[monash-updates]\n")
            && text.contains("baseurl=file:///srv/repos/monash\n")
            && text.contains("gpgcheck=0\n"),
        "{text}"
    );
}

/// The module doc's findings about dnf on the Debian guests, checked over ssh: rpm and
/// dnf read the seed's database through /etc/rpm/macros, releasever comes from
/// centos-release, the machine's own name resolves locally.
fn dnf_on_the_debian_guest_reads_the_seed_database(fleet: &Fleet, g: &str) {
    assert_eq!(fleet.ssh(g, "rpm --eval %_dbpath"), "/var/lib/rpm\n");
    assert_eq!(fleet.ssh(g, "test -e ~/.rpmmacros || echo none"), "none\n");
    assert_eq!(
        fleet.ssh(
            g,
            "dnf -q repoquery --installed --qf '%{name}-%{version}-%{release}' 'kernel-xenU*'"
        ),
        "kernel-xenU-2.6.9-55.EL\nkernel-xenU-devel-2.6.9-55.EL\n"
    );
    assert_eq!(
        fleet.ssh(
            g,
            "python3 -c 'import dnf; s = dnf.Base().conf.substitutions; print(s[\"releasever\"], s[\"basearch\"])'"
        ),
        "4 x86_64\n"
    );
    assert_eq!(
        fleet.ssh(g, "getent hosts \"$(hostname)\""),
        format!("127.0.1.1       {g}\n")
    );
}

/// Installs packages from the guest's /srv/repos/seed with rpm (set-up, not under test).
fn rpm_install(fleet: &Fleet, guest: &str, rpms: &[&str]) {
    let files: Vec<String> = rpms
        .iter()
        .map(|f| format!("/srv/repos/seed/{f}"))
        .collect();
    fleet.exec(guest, &format!("rpm -i --nodeps {}", files.join(" ")));
}

/// `rpm -qa` on the guest over ssh, sorted NAME-VERSION-RELEASE lines.
fn rpm_qa(fleet: &Fleet, guest: &str) -> Vec<String> {
    let out = fleet.ssh(guest, "rpm -qa --qf '%{NAME}-%{VERSION}-%{RELEASE}\\n'");
    let mut lines: Vec<String> = out.lines().map(str::to_string).collect();
    lines.sort();
    lines
}

/// The installed kernel-xenU* packages of the guest, over ssh.
fn kernel_packages(fleet: &Fleet, guest: &str) -> Vec<String> {
    rpm_qa(fleet, guest)
        .into_iter()
        .filter(|p| p.starts_with("kernel-xenU"))
        .collect()
}

/// The /lib/modules directories of the guest, over ssh.
fn modules(fleet: &Fleet, guest: &str) -> Vec<String> {
    let out = fleet.ssh(guest, "ls -1 /lib/modules");
    out.lines().map(str::to_string).collect()
}

/// `vmup kernels --json` for one guest.
fn kernels(fleet: &Fleet, guest: &str) -> (i32, serde_json::Value) {
    let run = vmup(fleet, "kernels", None, guest, &["--json"]);
    // The guest's line, then the run's summary line.
    let lines: Vec<serde_json::Value> = run.hosts().into_values().collect();
    assert_eq!(lines.len(), 1, "{}", show(&run));
    assert_eq!(lines[0]["guest"], guest, "{}", show(&run));
    (run.code, lines[0].clone())
}

/// a) The seed's failure for real: `dnf update` without kernel-xenU in installonlypkgs
/// replaces the kernel xen1 boots the guest with, deleting its modules; `vmup kernels`
/// says the next boot breaks.
fn seed_failure_update_without_installonlypkgs_breaks_the_next_boot(fleet: &Fleet, g: &str) {
    let (code, before) = kernels(fleet, g);
    assert_eq!(
        (code, before["verdict"].as_str()),
        (0, Some("ok")),
        "{before}"
    );
    assert_eq!(before["booted"]["release"], "2.6.9-55.ELxenU", "{before}");
    assert_eq!(before["booted"]["host"], "xen1", "{before}");

    let rb = runbook(fleet, "update.toml", UPDATE);
    let plan = vmup(fleet, "plan", Some(rb), g, &[]);
    assert_eq!(plan.code, 3, "{}", show(&plan));
    assert!(
        plan.stdout
            .contains("upgrade kernel-xenU-2.6.9-78.EL.noarch from centos-updates"),
        "{}",
        show(&plan)
    );
    let apply = vmup(fleet, "apply", Some(rb), g, &["--json"]);
    assert_eq!(apply.code, 0, "{}", show(&apply));
    assert_eq!(apply.hosts()[g]["status"], "changed", "{}", show(&apply));

    assert_eq!(
        kernel_packages(fleet, g),
        ["kernel-xenU-2.6.9-78.EL", "kernel-xenU-devel-2.6.9-78.EL"]
    );
    assert_eq!(
        modules(fleet, g),
        ["2.6.9-78.ELxenU"],
        "dnf update removed /lib/modules/2.6.9-55.ELxenU, the modules of the kernel xen1 boots"
    );
    let (code, report) = kernels(fleet, g);
    assert_eq!(code, 1, "{report}");
    assert_eq!(report["ok"], false, "{report}");
    assert_eq!(report["verdict"], BROKEN_VERDICT, "{report}");
    let human = vmup(fleet, "kernels", None, g, &[]);
    assert_eq!(human.code, 1, "{}", show(&human));
    assert!(
        human.stdout.contains(&format!("== {g}: {BROKEN_VERDICT}")),
        "{}",
        show(&human)
    );
}

/// a) The seed's fix: the ini step edits /etc/dnf/dnf.conf (the file the guest's dnf
/// reads) first; the update then installs 78 beside 55, both module trees stay.
fn seed_fix_installonlypkgs_in_dnf_conf_keeps_both_kernels(fleet: &Fleet, g: &str) {
    let rb = runbook(fleet, "fixed.toml", &format!("{INSTALLONLY}{UPDATE}"));
    let plan = vmup(fleet, "plan", Some(rb), g, &[]);
    assert_eq!(plan.code, 3, "{}", show(&plan));
    assert!(
        plan.stdout
            .contains("install kernel-xenU-2.6.9-78.EL.noarch from centos-updates"),
        "the preview accounts for the earlier installonlypkgs edit:\n{}",
        show(&plan)
    );
    let apply = vmup(fleet, "apply", Some(rb), g, &["--json"]);
    assert_eq!(apply.code, 0, "{}", show(&apply));
    let conf = String::from_utf8(fleet.ssh_cat(g, "/etc/dnf/dnf.conf")).unwrap();
    assert!(
        conf.contains("\ninstallonlypkgs=kernel kernel-smp kernel-devel kernel-smp-devel kernel-largesmp kernel-largesmp-devel kernel-hugemem kernel-hugemem-devel kernel-xenU kernel-xenU-devel\n"),
        "{conf}"
    );
    assert!(conf.starts_with("[main]\ngpgcheck=1\n"), "{conf}");
    assert_eq!(
        kernel_packages(fleet, g),
        [
            "kernel-xenU-2.6.9-55.EL",
            "kernel-xenU-2.6.9-78.EL",
            "kernel-xenU-devel-2.6.9-55.EL",
            "kernel-xenU-devel-2.6.9-78.EL"
        ]
    );
    assert_eq!(modules(fleet, g), ["2.6.9-55.ELxenU", "2.6.9-78.ELxenU"]);
    let (code, report) = kernels(fleet, g);
    assert_eq!(
        (code, report["verdict"].as_str()),
        (0, Some("ok")),
        "{report}"
    );
    let again = vmup(fleet, "plan", Some(rb), g, &[]);
    assert_eq!(again.code, 0, "converged: {}", show(&again));
}

/// Every file and directory outside /var (and outside other mounts) modified or
/// changed since `stamp` was created, as the guest itself sees it over ssh. The packages
/// of the file:// repositories only count when modified: librepo caches their checksums
/// in extended attributes (`user.Librepo.checksum.*`), which changes their ctime.
fn changed_outside_var(fleet: &Fleet, g: &str, stamp: &str) -> String {
    fleet.ssh(
        g,
        &format!(
            "find / -xdev -path /var -prune -o \\( -newer {stamp} -o \\( -cnewer {stamp} ! -path '/srv/repos/*' \\) \\) -print"
        ),
    )
}

/// f) `vmup plan` over ssh lists the package transactions (names, versions, repositories,
/// per step) and changes nothing on the guest.
fn plan_lists_the_transactions_and_changes_nothing(fleet: &Fleet, g: &str) {
    let rb = runbook(
        fleet,
        "pinned.toml",
        &format!("{INSTALLONLY}{PINNED}{UPDATE}"),
    );
    let qa = rpm_qa(fleet, g);
    let conf = fleet.ssh_cat(g, "/etc/dnf/dnf.conf");
    fleet.ssh(g, "touch /tmp/vmup-plan-stamp");

    let human = vmup(fleet, "plan", Some(rb), g, &[]);
    assert_eq!(human.code, 3, "{}", show(&human));
    for line in [
        "step 2 (pinned update) packages: dnf --disablerepo=* --enablerepo=monash* update: 2 package(s) in one transaction",
        "      install kernel-xenU-2.6.9-67.0.1.EL.noarch from monash-updates\n      install kernel-xenU-devel-2.6.9-67.0.1.EL.noarch from monash-updates\n",
        "step 3 (full update) packages: dnf update: 2 package(s) in one transaction",
        "      install kernel-xenU-2.6.9-78.EL.noarch from centos-updates\n      install kernel-xenU-devel-2.6.9-78.EL.noarch from centos-updates\n",
    ] {
        assert!(human.stdout.contains(line), "{line:?} in\n{}", show(&human));
    }

    let plan = vmup(fleet, "plan", Some(rb), g, &["--json"]);
    assert_eq!(plan.code, 3, "{}", show(&plan));
    let host = plan.hosts()[g].clone();
    assert_eq!(host["status"], "changed", "{host}");
    assert_eq!(
        host["round_trips"], 1,
        "a plan costs one remote command: {host}"
    );
    let changes = host["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 3, "{host}");
    assert_eq!(changes[1]["resource"], "packages");
    assert_eq!(
        changes[1]["diff"],
        "install kernel-xenU-2.6.9-67.0.1.EL.noarch from monash-updates\ninstall kernel-xenU-devel-2.6.9-67.0.1.EL.noarch from monash-updates\n(an earlier step adds kernel-xenU, kernel-xenU-devel to installonlypkgs in /etc/dnf/dnf.conf: installed beside the current version, not upgraded)"
    );
    assert_eq!(
        changes[2]["diff"],
        "install kernel-xenU-2.6.9-78.EL.noarch from centos-updates\ninstall kernel-xenU-devel-2.6.9-78.EL.noarch from centos-updates\n(an earlier step adds kernel-xenU, kernel-xenU-devel to installonlypkgs in /etc/dnf/dnf.conf: installed beside the current version, not upgraded)"
    );

    assert_eq!(rpm_qa(fleet, g), qa, "plan changed the rpm database");
    assert_eq!(
        fleet.ssh_cat(g, "/etc/dnf/dnf.conf"),
        conf,
        "plan changed dnf.conf"
    );
    assert_eq!(
        changed_outside_var(fleet, g, "/tmp/vmup-plan-stamp"),
        "",
        "plan changed files outside /var"
    );
}

/// b) Pinned update: step 2 installs only from monash (the seed's `--disablerepo="*"
/// --enablerepo="monash*"`), step 3 from all repositories.
fn pinned_update_installs_only_from_monash_then_the_full_update_from_the_rest(
    fleet: &Fleet,
    g: &str,
) {
    let rb = "pinned.toml"; // written by the plan scenario
    let apply = vmup(fleet, "apply", Some(rb), g, &["--json"]);
    assert_eq!(apply.code, 0, "{}", show(&apply));
    let host = apply.hosts()[g].clone();
    assert_eq!(host["status"], "changed", "{host}");
    let changes = host["changes"].as_array().unwrap();
    let pinned = changes[1]["output"].as_str().unwrap();
    assert!(
        pinned.contains("monash-updates") && !pinned.contains("centos-updates"),
        "{pinned}"
    );
    let full = changes[2]["output"].as_str().unwrap();
    assert!(full.contains("kernel-xenU-devel-2.6.9-78.EL"), "{full}");

    let from: BTreeMap<String, String> = fleet
        .ssh(
            g,
            "dnf -q repoquery --installed --qf '%{name}-%{version}-%{release} %{from_repo}' 'kernel-xenU*'",
        )
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(p, r)| (p.to_string(), r.trim().to_string()))
        .collect();
    let expected: BTreeMap<String, String> = [
        ("kernel-xenU-2.6.9-55.EL", ""),
        ("kernel-xenU-devel-2.6.9-55.EL", ""),
        ("kernel-xenU-2.6.9-67.0.1.EL", "monash-updates"),
        ("kernel-xenU-devel-2.6.9-67.0.1.EL", "monash-updates"),
        ("kernel-xenU-2.6.9-78.EL", "centos-updates"),
        ("kernel-xenU-devel-2.6.9-78.EL", "centos-updates"),
    ]
    .into_iter()
    .map(|(p, r)| (p.to_string(), r.to_string()))
    .collect();
    assert_eq!(from, expected);
    assert_eq!(
        modules(fleet, g),
        ["2.6.9-55.ELxenU", "2.6.9-67.0.1.ELxenU", "2.6.9-78.ELxenU"]
    );
    let again = vmup(fleet, "plan", Some(rb), g, &[]);
    assert_eq!(again.code, 0, "converged: {}", show(&again));
}

const SWAP: &str = "[[step]]\nname = \"switch to ARCS gridpulse\"\nhosts = \"guests\"\npackages = { swap = { remove = \"Gpulse\", install = \"APAC-gateway-gridpulse\" } }\n";

/// d) Gpulse -> APAC-gateway-gridpulse in one dnf swap transaction.
fn swap_replaces_gpulse_in_one_transaction(fleet: &Fleet, g: &str) {
    rpm_install(fleet, g, &["Gpulse-1.0-1.noarch.rpm"]);
    let rb = runbook(fleet, "swap.toml", SWAP);
    let plan = vmup(fleet, "plan", Some(rb), g, &[]);
    assert_eq!(plan.code, 3, "{}", show(&plan));
    for line in [
        "dnf swap Gpulse APAC-gateway-gridpulse: 3 package(s) in one transaction",
        "install APAC-gateway-gridpulse-2.0-1.noarch from centos-updates",
        "install (dependency) libgridpulse-helper-1.0-1.noarch from centos-updates",
        "remove Gpulse-1.0-1.noarch",
    ] {
        assert!(plan.stdout.contains(line), "{line:?} in\n{}", show(&plan));
    }
    let apply = vmup(fleet, "apply", Some(rb), g, &["--json"]);
    assert_eq!(apply.code, 0, "{}", show(&apply));
    let qa = rpm_qa(fleet, g);
    assert!(
        qa.contains(&"APAC-gateway-gridpulse-2.0-1".to_string())
            && qa.contains(&"libgridpulse-helper-1.0-1".to_string())
            && !qa.iter().any(|p| p.starts_with("Gpulse-")),
        "{qa:?}"
    );
    assert_eq!(fleet.ssh(g, "cat /usr/bin/gridpulse"), "gridpulse\n");
    assert_eq!(
        fleet.ssh(g, "test -e /usr/bin/gpulse && echo present || echo gone"),
        "gone\n"
    );
}

/// d) A swap dnf cannot satisfy: the host fails with dnf's words, Gpulse stays.
fn unsatisfiable_swap_keeps_gpulse_and_fails_the_host(fleet: &Fleet, g: &str) {
    rpm_install(fleet, g, &["Gpulse-1.0-1.noarch.rpm"]);
    let before = rpm_qa(fleet, g);
    let rb = runbook(
        fleet,
        "badswap.toml",
        "[[step]]\nname = \"switch to a broken gridpulse\"\nhosts = \"guests\"\npackages = { swap = { remove = \"Gpulse\", install = \"broken-gridpulse\" } }\n",
    );
    let apply = vmup(fleet, "apply", Some(rb), g, &["--json"]);
    assert_eq!(apply.code, 1, "{}", show(&apply));
    let host = apply.hosts()[g].clone();
    assert_eq!(host["status"], "failed", "{host}");
    let error = host["error"].as_str().unwrap();
    assert!(
        error.contains("dnf swap Gpulse broken-gridpulse refuses the transaction")
            && error.contains("nothing provides missing-thing needed by broken-gridpulse"),
        "{error}"
    );
    assert_eq!(rpm_qa(fleet, g), before, "nothing changed");
    assert!(before.contains(&"Gpulse-1.0-1".to_string()));
    assert_eq!(fleet.ssh(g, "cat /usr/bin/gpulse"), "gpulse\n");
}

const KERNELS_ALL: [&str; 6] = [
    "kernel-xenU-2.6.9-55.EL.noarch.rpm",
    "kernel-xenU-devel-2.6.9-55.EL.noarch.rpm",
    "kernel-xenU-2.6.9-67.0.1.EL.noarch.rpm",
    "kernel-xenU-devel-2.6.9-67.0.1.EL.noarch.rpm",
    "kernel-xenU-2.6.9-78.EL.noarch.rpm",
    "kernel-xenU-devel-2.6.9-78.EL.noarch.rpm",
];

/// Gives the guest 55 (from the seed), 67.0.1 and 78 with their -devel.
fn three_kernels(fleet: &Fleet, g: &str) {
    rpm_install(fleet, g, &KERNELS_ALL[2..]);
    assert_eq!(kernel_packages(fleet, g).len(), 6);
}

/// Makes xen1 boot the guest's domain with `release`, through a link of its own
/// (/boot/vmlinuz-DOMAIN -> vmlinuz-RELEASE) named by the domain config's `kernel`.
fn xen1_boots(fleet: &Fleet, g: &str, release: &str) {
    let domain = g.to_uppercase();
    fleet.exec(
        "xen1",
        &format!(
            "cd /boot && {{ test -e vmlinuz-{release} || echo 'placeholder vmlinuz {release}' > vmlinuz-{release}; }} && ln -sfn vmlinuz-{release} vmlinuz-{domain} && sed -i 's|^kernel = .*|kernel = \"/boot/vmlinuz-{domain}\"|' /etc/xen/{domain}"
        ),
    );
}

fn prune_runbook(fleet: &Fleet, name: &'static str, keep: &str) -> &'static str {
    runbook(
        fleet,
        name,
        &format!(
            "[[step]]\nname = \"prune kernels\"\nhosts = \"guests\"\nkernels = {{ packages = [\"kernel-xenU\", \"kernel-xenU-devel\"], keep = {keep} }}\n"
        ),
    )
}

/// Applies a prune on one guest, checks a second plan is empty; returns the apply.
fn prune(fleet: &Fleet, g: &str, rb: &str) -> Run {
    let apply = vmup(fleet, "apply", Some(rb), g, &["--json"]);
    assert_eq!(apply.code, 0, "{}", show(&apply));
    let again = vmup(fleet, "plan", Some(rb), g, &[]);
    assert_eq!(again.code, 0, "second plan not empty: {}", show(&again));
    apply
}

/// c) xen1 boots the guest with 67.0.1; newest = 1 keeps 78 and the booted 67.0.1 and
/// removes exactly 55 and its -devel.
fn prune_keeps_the_booted_67_and_the_newest_and_removes_exactly_55(fleet: &Fleet, g: &str) {
    three_kernels(fleet, g);
    xen1_boots(fleet, g, "2.6.9-67.0.1.ELxenU");
    let (_, report) = kernels(fleet, g);
    assert_eq!(
        report["booted"]["release"], "2.6.9-67.0.1.ELxenU",
        "{report}"
    );
    let rb = prune_runbook(fleet, "prune1.toml", "{ newest = 1 }");
    let plan = vmup(fleet, "plan", Some(rb), g, &[]);
    assert_eq!(plan.code, 3, "{}", show(&plan));
    assert!(
        plan.stdout.contains("remove 2 package(s) in one rpm transaction: kernel-xenU-2.6.9-55.EL.noarch kernel-xenU-devel-2.6.9-55.EL.noarch"),
        "{}",
        show(&plan)
    );
    let apply = prune(fleet, g, rb);
    assert_eq!(
        kernel_packages(fleet, g),
        [
            "kernel-xenU-2.6.9-67.0.1.EL",
            "kernel-xenU-2.6.9-78.EL",
            "kernel-xenU-devel-2.6.9-67.0.1.EL",
            "kernel-xenU-devel-2.6.9-78.EL"
        ]
    );
    assert_eq!(
        modules(fleet, g),
        ["2.6.9-67.0.1.ELxenU", "2.6.9-78.ELxenU"]
    );
    let notes = apply.hosts()[g]["notes"].to_string();
    let domain = g.to_uppercase();
    assert!(
        notes.contains(&format!(
            "kept: kernel-xenU-2.6.9-67.0.1.EL.noarch (booted by xen1 via /etc/xen/{domain})"
        )) && notes.contains("kept: kernel-xenU-2.6.9-78.EL.noarch (newest)"),
        "{notes}"
    );
    let (code, report) = kernels(fleet, g);
    assert_eq!(
        (code, report["verdict"].as_str()),
        (0, Some("ok")),
        "{report}"
    );
}

/// c) xen1 boots the guest with 55 (the fleet's default link): 67.0.1 goes instead.
fn prune_when_xen1_boots_55_removes_67_instead(fleet: &Fleet, g: &str) {
    three_kernels(fleet, g);
    let rb = prune_runbook(fleet, "prune1-booted55.toml", "{ newest = 1 }");
    prune(fleet, g, rb);
    assert_eq!(
        kernel_packages(fleet, g),
        [
            "kernel-xenU-2.6.9-55.EL",
            "kernel-xenU-2.6.9-78.EL",
            "kernel-xenU-devel-2.6.9-55.EL",
            "kernel-xenU-devel-2.6.9-78.EL"
        ]
    );
    assert_eq!(modules(fleet, g), ["2.6.9-55.ELxenU", "2.6.9-78.ELxenU"]);
}

/// c) newest = 0 and booted = false: the kernel xen1 boots the guest with stays anyway.
fn prune_never_removes_the_booted_kernel_even_with_newest_0(fleet: &Fleet, g: &str) {
    three_kernels(fleet, g);
    xen1_boots(fleet, g, "2.6.9-67.0.1.ELxenU");
    let rb = prune_runbook(
        fleet,
        "prune0.toml",
        "{ newest = 0, booted = false, running = false }",
    );
    prune(fleet, g, rb);
    assert_eq!(
        kernel_packages(fleet, g),
        [
            "kernel-xenU-2.6.9-67.0.1.EL",
            "kernel-xenU-devel-2.6.9-67.0.1.EL"
        ]
    );
    assert_eq!(modules(fleet, g), ["2.6.9-67.0.1.ELxenU"]);
    let (code, report) = kernels(fleet, g);
    assert_eq!(
        (code, report["verdict"].as_str()),
        (0, Some("ok")),
        "{report}"
    );
}

/// e) A %config(noreplace) file edited on the guest, then its package updated: the
/// .rpmnew is reported, listed with its diff by `vmup conflicts`, and resolved with
/// `keep` on one guest and `new` on the other.
fn rpmnew_after_an_update_is_found_diffed_and_resolved_both_ways(
    fleet: &Fleet,
    keep: &str,
    new: &str,
) {
    for g in [keep, new] {
        rpm_install(fleet, g, &["conftest-1.0-1.noarch.rpm"]);
        fleet.ssh(g, "echo a=5 > /etc/conftest.conf");
    }
    let limit = format!("{keep},{new}");
    let rb = runbook(
        fleet,
        "conftest.toml",
        "[[step]]\nname = \"update conftest\"\nhosts = \"guests\"\npackages = { install = [\"conftest-2.0\"] }\n",
    );
    let apply = vmup(fleet, "apply", Some(rb), &limit, &["--json"]);
    assert_eq!(apply.code, 0, "{}", show(&apply));
    for g in [keep, new] {
        let host = apply.hosts()[g].clone();
        assert_eq!(
            host["changes"][0]["diff"], "upgrade conftest-2.0-1.noarch from centos-updates",
            "{host}"
        );
        let notes = host["notes"].to_string();
        assert!(
            notes.contains("/etc/conftest.conf.rpmnew"),
            "reported after the transaction: {notes}"
        );
        assert_eq!(fleet.ssh_cat(g, "/etc/conftest.conf.rpmnew"), b"a=1\nb=2\n");
    }

    let listed = vmup(fleet, "conflicts", None, keep, &[]);
    assert_eq!(listed.code, 0, "{}", show(&listed));
    assert!(
        listed
            .stdout
            .contains("/etc/conftest.conf.rpmnew beside /etc/conftest.conf")
            && listed.stdout.contains("-a=5")
            && listed.stdout.contains("+a=1")
            && listed.stdout.contains("+b=2"),
        "{}",
        show(&listed)
    );
    assert_eq!(
        fleet.ssh_cat(keep, "/etc/conftest.conf.rpmnew"),
        b"a=1\nb=2\n",
        "listing changes nothing"
    );

    let kept = vmup(
        fleet,
        "conflicts",
        None,
        keep,
        &["--resolve", "keep", "--json"],
    );
    assert_eq!(kept.code, 0, "{}", show(&kept));
    assert_eq!(fleet.ssh_cat(keep, "/etc/conftest.conf"), b"a=5\n");
    assert_eq!(
        fleet.ssh(keep, "ls /etc | grep '^conftest' || true"),
        "conftest.conf\n",
        "the .rpmnew is gone and nothing else was left"
    );

    let newer = vmup(fleet, "conflicts", None, new, &["--resolve", "new"]);
    assert_eq!(newer.code, 0, "{}", show(&newer));
    assert_eq!(fleet.ssh_cat(new, "/etc/conftest.conf"), b"a=1\nb=2\n");
    assert_eq!(fleet.ssh_cat(new, "/etc/conftest.conf.vmup-old"), b"a=5\n");
    assert_eq!(
        fleet.ssh(new, "ls /etc | grep '^conftest' || true"),
        "conftest.conf\nconftest.conf.vmup-old\n"
    );

    let after = vmup(fleet, "conflicts", None, &limit, &["--json"]);
    assert_eq!(after.code, 0, "{}", show(&after));
    for line in after.hosts().values() {
        assert_eq!(line["conflicts"], serde_json::json!([]), "{line}");
    }
}

/// Runs `scenario`, then says how long it took (seen with `--nocapture`).
fn timed(what: &str, scenario: impl FnOnce()) {
    let start = Instant::now();
    scenario();
    eprintln!(
        "fleet packages: {what} in {:.1}s",
        start.elapsed().as_secs_f64()
    );
}

/// Every scenario on one fleet. Within a round the scenarios run at once, each on its own
/// guest(s) with its own runbook files (they share only xen1, where each edits its own
/// domain's config and link); a failure in one fails the test with its message.
#[test]
fn package_scenarios_over_ssh_on_one_fleet() {
    let start = Instant::now();
    let fleet = Fleet::up(GUESTS);
    let g = fleet.guests();
    assert_eq!(g.len(), GUESTS);
    let fleet = &fleet;
    timed("set-up", || {
        prepare(fleet);
        dnf_on_the_debian_guest_reads_the_seed_database(fleet, &g[0]);
    });

    // Round 1: the seed's failure and its fix, the plan, the pinned update, the swap.
    std::thread::scope(|s| {
        s.spawn(|| {
            timed("a) update without installonlypkgs", || {
                seed_failure_update_without_installonlypkgs_breaks_the_next_boot(fleet, &g[0])
            })
        });
        s.spawn(|| {
            timed("a) update with installonlypkgs", || {
                seed_fix_installonlypkgs_in_dnf_conf_keeps_both_kernels(fleet, &g[1])
            })
        });
        s.spawn(|| {
            timed("f) plan, b) pinned update", || {
                plan_lists_the_transactions_and_changes_nothing(fleet, &g[2]);
                pinned_update_installs_only_from_monash_then_the_full_update_from_the_rest(
                    fleet, &g[2],
                );
            })
        });
        s.spawn(|| {
            timed("d) swap", || {
                swap_replaces_gpulse_in_one_transaction(fleet, &g[3])
            })
        });
        s.spawn(|| {
            timed("d) unsatisfiable swap", || {
                unsatisfiable_swap_keeps_gpulse_and_fails_the_host(fleet, &g[4])
            })
        });
    });

    // Round 2, every machine back to its seed: kernel pruning and config conflicts.
    timed("reset, set-up", || {
        fleet.sh("reset", &[]);
        prepare(fleet);
    });
    std::thread::scope(|s| {
        s.spawn(|| {
            timed("c) prune, booted 67.0.1", || {
                prune_keeps_the_booted_67_and_the_newest_and_removes_exactly_55(fleet, &g[0])
            })
        });
        s.spawn(|| {
            timed("c) prune, booted 55", || {
                prune_when_xen1_boots_55_removes_67_instead(fleet, &g[1])
            })
        });
        s.spawn(|| {
            timed("c) prune, newest = 0", || {
                prune_never_removes_the_booted_kernel_even_with_newest_0(fleet, &g[2])
            })
        });
        s.spawn(|| {
            timed("e) conflicts", || {
                rpmnew_after_an_update_is_found_diffed_and_resolved_both_ways(fleet, &g[3], &g[4])
            })
        });
    });
    eprintln!(
        "fleet packages: all in {:.1}s (fleet up included)",
        start.elapsed().as_secs_f64()
    );
}
