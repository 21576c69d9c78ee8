//! What the engine sends each host, proven with the strict scripted transport: the round
//! trips of plan and apply, no verify after a failed apply, nothing after an interruption,
//! nothing at all after an unreachable facts phase, and the same for kernels and conflicts.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crate::inventory::Inventory;
use crate::runbook::Runbook;
use crate::transport::scripted::{Reply, ScriptedTransport};

use super::conflicts::ConflictsWork;
use super::event::NoEvents;
use super::kernel_check::KernelCheck;
use super::{FleetOptions, HostReport, HostWork, Job, JobStep, Mode, Phase, RunbookWork, Status};

const FACTS: &str = "vmup_rec cpus";
const APPLY: &str = "umask 077";

/// A guest `g` whose tree is `dir/g`, holding a securetty without ttyS0.
fn tree(dir: &Path) -> Inventory {
    std::fs::create_dir_all(dir.join("g/etc")).unwrap();
    std::fs::write(dir.join("g/etc/securetty"), b"console\n").unwrap();
    Inventory::parse(
        &dir.join("inv.toml"),
        "[hosts.g]\ntransport = \"local\"\nroot = \"g\"\n",
    )
    .unwrap()
}

fn runbook() -> Runbook {
    Runbook::parse(
        Path::new("rb.toml"),
        "[[step]]\nline = { path = \"/etc/securetty\", line = \"ttyS0\" }\n".into(),
    )
    .unwrap()
}

fn job<'a>(inv: &'a Inventory, rb: &'a Runbook, transport: Arc<ScriptedTransport>) -> Job<'a> {
    Job {
        host: &inv.hosts[0],
        steps: rb
            .steps
            .iter()
            .map(|step| JobStep {
                step,
                scope: Default::default(),
            })
            .collect(),
        transport,
        booted: None,
        parent: None,
        vars: Default::default(),
    }
}

fn run(work: &dyn HostWork, job: &Job<'_>, cancelled: bool) -> HostReport {
    let cancel = AtomicBool::new(cancelled);
    let (mut reports, _) = super::run_fleet(
        "test",
        std::slice::from_ref(job),
        work,
        &FleetOptions::default(),
        &NoEvents,
        &cancel,
    );
    reports.remove(0)
}

#[test]
fn plan_sends_one_facts_script() {
    let dir = tempfile::tempdir().unwrap();
    let (inv, rb) = (tree(dir.path()), runbook());
    let t = Arc::new(ScriptedTransport::new("g").expect("facts", FACTS, Reply::Run));
    let report = run(
        &RunbookWork { mode: Mode::Plan },
        &job(&inv, &rb, t.clone()),
        false,
    );
    assert_eq!((report.status, report.round_trips), (Status::Changed, 1));
    t.verify().unwrap();
}

/// A step whose path is named by a value (the newest image in /boot) needs a second
/// facts round; it asks only for that path, not again for everything the first one read.
#[test]
fn a_second_facts_round_asks_only_for_what_the_first_did_not_give() {
    let dir = tempfile::tempdir().unwrap();
    let inv = tree(dir.path());
    std::fs::create_dir_all(dir.path().join("g/boot")).unwrap();
    std::fs::write(dir.path().join("g/boot/vmlinuz-2.6.9-78.ELxenU"), b"k").unwrap();
    let rb = Runbook::parse(
        Path::new("rb.toml"),
        "[values]\nr = { newest_image = \"xenU\" }\n\
         [[step]]\nline = { path = \"/etc/securetty\", line = \"ttyS0\" }\n\
         [[step]]\nsymlink = { path = \"/boot/stable-{{ r }}\", target = \"vmlinuz-{{ r }}\" }\n"
            .into(),
    )
    .unwrap();
    let t = Arc::new(
        ScriptedTransport::new("g")
            .expect("facts", "'/etc/securetty'", Reply::Run)
            .lacking("stable-")
            .expect(
                "facts named by the value",
                "'/boot/stable-2.6.9-78.ELxenU'",
                Reply::Run,
            )
            .lacking("'/etc/securetty'"),
    );
    let report = run(
        &RunbookWork { mode: Mode::Plan },
        &job(&inv, &rb, t.clone()),
        false,
    );
    assert_eq!(
        (report.status, report.round_trips, report.changes.len()),
        (Status::Changed, 2, 2),
        "{report:?}"
    );
    t.verify().unwrap();
}

/// A `PATH` whose `stat` appends a line to `file` after its first run, as another writer
/// would between the facts script's `stat` and its `cat`.
fn stat_that_appends_once(dir: &Path, file: &Path) -> String {
    let shims = dir.join("shims");
    std::fs::create_dir(&shims).unwrap();
    let real = ["/usr/bin/stat", "/bin/stat"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .unwrap();
    let once = dir.join("once");
    std::fs::write(
        shims.join("stat"),
        format!(
            "#!/bin/sh
{real} \"$@\"; s=$?
[ -e '{once}' ] || {{ : > '{once}'; echo tty1 >> '{file}'; }}
exit $s
",
            once = once.display(),
            file = file.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(shims.join("stat"), std::fs::Permissions::from_mode(0o755)).unwrap();
    format!("{}:/usr/bin:/bin", shims.display())
}

/// Outside a fleet run (`vmup facts`, the booted-kernel pre-phase) a file that changed
/// while it was read is read again one by one too, not an error.
#[test]
fn gather_facts_reads_a_file_that_changed_while_it_was_read_again() {
    let dir = tempfile::tempdir().unwrap();
    let inv = tree(dir.path());
    let path = stat_that_appends_once(dir.path(), &dir.path().join("g/etc/securetty"));
    let t = ScriptedTransport::new("g")
        .expect("facts", "vp_each=\n", Reply::RunWithPath(path.clone()))
        .expect("facts one by one", "vp_each=1\n", Reply::RunWithPath(path));
    let key = crate::facts::FactKey::Path {
        path: "/etc/securetty".into(),
        content: true,
    };
    let facts = super::gather::gather_facts(&inv.hosts[0], &t, std::slice::from_ref(&key))
        .expect("read again, not an error");
    match facts.paths.get("/etc/securetty") {
        Some(crate::facts::PathFact::File { content, .. }) => {
            assert_eq!(content.as_deref(), Some(&b"console\ntty1\n"[..]))
        }
        other => panic!("{other:?}"),
    }
    t.verify().unwrap();
}

/// A file written between the facts script's one `stat` and its one `cat` (a stand-in
/// `stat` appends to it after its first run, as another writer would): the bytes do not
/// add up, so the engine reads each path again alone, and plans from what that read.
#[test]
fn a_file_changed_while_it_was_read_is_read_again_one_by_one() {
    let dir = tempfile::tempdir().unwrap();
    let (inv, rb) = (tree(dir.path()), runbook());
    let path = stat_that_appends_once(dir.path(), &dir.path().join("g/etc/securetty"));
    let t = Arc::new(
        ScriptedTransport::new("g")
            .expect("facts", "vp_each=\n", Reply::RunWithPath(path.clone()))
            .expect("facts one by one", "vp_each=1\n", Reply::RunWithPath(path)),
    );
    let report = run(
        &RunbookWork { mode: Mode::Plan },
        &job(&inv, &rb, t.clone()),
        false,
    );
    assert_eq!(
        (report.status, report.round_trips),
        (Status::Changed, 2),
        "{report:?}"
    );
    // The diff is against the file as the second read found it.
    let diff = report.changes[0].diff.as_deref().unwrap_or_default();
    assert!(diff.contains(" tty1\n"), "{diff}");
    t.verify().unwrap();
}

#[test]
fn apply_sends_facts_then_apply_and_verify_in_one_script_and_then_nothing_on_the_next_run() {
    let dir = tempfile::tempdir().unwrap();
    let (inv, rb) = (tree(dir.path()), runbook());
    let t = Arc::new(
        ScriptedTransport::new("g")
            .expect("facts", FACTS, Reply::Run)
            .expect("apply and verify", APPLY, Reply::Run),
    );
    let report = run(
        &RunbookWork { mode: Mode::Apply },
        &job(&inv, &rb, t.clone()),
        false,
    );
    assert_eq!(
        (report.status, report.phase, report.round_trips),
        (Status::Changed, Phase::Verify, 2),
        "{report:?}"
    );
    t.verify().unwrap();
    assert_eq!(
        std::fs::read(dir.path().join("g/etc/securetty")).unwrap(),
        b"console\nttyS0\n"
    );
    // Converged: one facts script, nothing to apply or verify.
    let t = Arc::new(ScriptedTransport::new("g").expect("facts", FACTS, Reply::Run));
    let report = run(
        &RunbookWork { mode: Mode::Apply },
        &job(&inv, &rb, t.clone()),
        false,
    );
    assert_eq!((report.status, report.round_trips), (Status::Ok, 1));
    t.verify().unwrap();
}

#[test]
fn a_failed_apply_sends_no_verify() {
    let dir = tempfile::tempdir().unwrap();
    let (inv, rb) = (tree(dir.path()), runbook());
    let t = Arc::new(
        ScriptedTransport::new("g")
            .expect("facts", FACTS, Reply::Run)
            .expect("apply", APPLY, Reply::Fail { unreachable: false }),
    );
    let report = run(
        &RunbookWork { mode: Mode::Apply },
        &job(&inv, &rb, t.clone()),
        false,
    );
    assert_eq!(
        (report.status, report.phase),
        (Status::Failed, Phase::Apply)
    );
    assert!(report.error.unwrap().contains("scripted failure at apply"));
    t.verify().unwrap();
}

#[test]
fn an_apply_cut_short_reports_the_changes_it_made_and_no_more() {
    let dir = tempfile::tempdir().unwrap();
    let inv = tree(dir.path());
    std::fs::write(
        dir.path().join("g/etc/inittab"),
        b"1:2345:respawn:/sbin/mingetty tty1\n",
    )
    .unwrap();
    let rb = Runbook::parse(
        Path::new("rb.toml"),
        "[[step]]\nline = { path = \"/etc/securetty\", line = \"ttyS0\" }\n[[step]]\nline = { path = \"/etc/inittab\", line = \"S0:2345:respawn:/sbin/agetty ttyS0 38400 vt100-nav\", insert_before = \"^1:\" }\n".into(),
    )
    .unwrap();
    let t = Arc::new(
        ScriptedTransport::new("g")
            .expect("facts", FACTS, Reply::Run)
            .expect("apply", APPLY, Reply::RunCutAt(" done 1\n")),
    );
    let report = run(
        &RunbookWork { mode: Mode::Apply },
        &job(&inv, &rb, t.clone()),
        false,
    );
    assert_eq!(
        (report.status, report.phase),
        (Status::Failed, Phase::Apply)
    );
    assert_eq!(
        report.changes.len(),
        1,
        "only the change reported done: {report:?}"
    );
    let error = report.error.unwrap();
    assert!(error.contains("1 of 2 change(s) were made"), "{error}");
    assert!(
        error.contains("unknown until the next run reads the host"),
        "{error}"
    );
    t.verify().unwrap();
}

#[test]
fn an_interrupted_host_applies_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (inv, rb) = (tree(dir.path()), runbook());
    // Cancelled before the run: the fleet starts no host at all.
    let t = Arc::new(ScriptedTransport::new("g"));
    let report = run(
        &RunbookWork { mode: Mode::Apply },
        &job(&inv, &rb, t.clone()),
        true,
    );
    assert_eq!(report.status, Status::Skipped);
    t.verify().unwrap();
    // Cancelled after facts: the host stops before its apply script.
    let t = Arc::new(ScriptedTransport::new("g").expect("facts", FACTS, Reply::Run));
    let cancel = AtomicBool::new(true);
    let ctx = super::HostCtx::new(&NoEvents, &cancel);
    let report = RunbookWork { mode: Mode::Apply }.run(&job(&inv, &rb, t.clone()), &ctx);
    assert_eq!(
        (report.status, report.phase),
        (Status::Skipped, Phase::Plan)
    );
    assert_eq!(
        report.error.as_deref(),
        Some("interrupted before apply: nothing was changed on this host")
    );
    assert_eq!(
        std::fs::read(dir.path().join("g/etc/securetty")).unwrap(),
        b"console\n"
    );
    t.verify().unwrap();
}

#[test]
fn an_unreachable_host_is_sent_nothing_more() {
    let dir = tempfile::tempdir().unwrap();
    let (inv, rb) = (tree(dir.path()), runbook());
    let t = Arc::new(ScriptedTransport::new("g").expect(
        "facts",
        FACTS,
        Reply::Fail { unreachable: true },
    ));
    let report = run(
        &RunbookWork { mode: Mode::Apply },
        &job(&inv, &rb, t.clone()),
        false,
    );
    assert_eq!(
        (report.status, report.phase),
        (Status::Unreachable, Phase::Facts)
    );
    t.verify().unwrap();
}

#[test]
fn conflicts_without_any_cost_one_script_and_kernels_one_too() {
    let dir = tempfile::tempdir().unwrap();
    let inv = tree(dir.path());
    let rb = Runbook::parse(Path::new("rb.toml"), String::new()).unwrap();
    let listing = crate::transport::RemoteOutput::default();
    // The listing script answered by a host with no rpm database: empty framing is a
    // broken answer, so the host fails instead of reporting "no conflicts".
    let t =
        Arc::new(ScriptedTransport::new("g").expect("listing", "rpm -qac", Reply::Output(listing)));
    let report = run(
        &ConflictsWork { resolve: None },
        &job(&inv, &rb, t.clone()),
        false,
    );
    assert_eq!(report.status, Status::Failed, "{report:?}");
    assert_eq!(report.round_trips, 1);
    t.verify().unwrap();
    let t = Arc::new(ScriptedTransport::new("g").expect("inventory", "rpm -qa --qf", Reply::Run));
    let report = run(&KernelCheck, &job(&inv, &rb, t.clone()), false);
    assert_eq!(report.round_trips, 1);
    assert_eq!(
        report.status,
        Status::Failed,
        "no booted kernel was read: {report:?}"
    );
    t.verify().unwrap();
}

#[test]
fn facts_cut_after_a_complete_apply_are_gathered_again_not_lost() {
    let dir = tempfile::tempdir().unwrap();
    let (inv, rb) = (tree(dir.path()), runbook());
    // The apply part ran to its end; the connection dropped in the facts part after it.
    let t = Arc::new(
        ScriptedTransport::new("g")
            .expect("facts", FACTS, Reply::Run)
            .expect("apply and verify", APPLY, Reply::RunCutAt(" cpus\n"))
            .expect("verify again", FACTS, Reply::Run),
    );
    let report = run(
        &RunbookWork { mode: Mode::Apply },
        &job(&inv, &rb, t.clone()),
        false,
    );
    assert_eq!(
        (report.status, report.phase, report.round_trips),
        (Status::Changed, Phase::Verify, 3),
        "{report:?}"
    );
    assert_eq!(report.changes.len(), 1, "{report:?}");
    t.verify().unwrap();
}
