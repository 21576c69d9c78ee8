//! The verdict folding, pure (hand-made reports in, verdict out), and `CheckWork` through
//! the strict scripted transport: what it sends a host and a guest, that it never applies,
//! and that `check_only` steps are reported but never applied by `apply`.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crate::engine::event::NoEvents;
use crate::engine::kernel_check::GuestKernels;
use crate::engine::{FleetOptions, HostWork, Job, JobStep, RunbookWork};
use crate::facts::booted::BootedKernel;
use crate::inventory::Inventory;
use crate::runbook::Runbook;
use crate::transport::scripted::{Reply, ScriptedTransport};

use super::*;

const FACTS: &str = "vmup_rec cpus";
const KERNELS: &str = "rpm -qa --qf";

fn labels() -> Vec<String> {
    ["step 1 (hal off)", "step 2 (securetty)", "step 3 (prune)"]
        .map(String::from)
        .to_vec()
}

fn change(step: &str, summary: &str) -> ChangeReport {
    ChangeReport {
        step: step.into(),
        resource: "line".into(),
        path: None,
        summary: summary.into(),
        diff: None,
        output: None,
    }
}

fn plan_report(status: Status, phase: Phase) -> HostReport {
    HostReport::new("g", phase, status)
}

fn kernel_report(ok: bool, verdict: &str) -> HostReport {
    let mut report = HostReport::new(
        "g",
        Phase::Facts,
        if ok { Status::Ok } else { Status::Failed },
    );
    report.detail = Some(HostDetail::Kernels(Box::new(GuestKernels {
        guest: "g".into(),
        installed: Vec::new(),
        no_rpm_database: true,
        booted: None,
        booted_error: None,
        running: None,
        ok,
        verdict: verdict.into(),
    })));
    report
}

fn detail(report: &HostReport) -> &CheckDetail {
    match &report.detail {
        Some(HostDetail::Check(d)) => d,
        other => panic!("no check detail: {other:?}"),
    }
}

fn lines(report: &HostReport) -> Vec<String> {
    detail(report).reasons.iter().map(Reason::line).collect()
}

#[test]
fn a_converged_host_with_a_good_next_boot_is_ok() {
    let plan = plan_report(Status::Ok, Phase::Plan);
    let report = fold("g", &labels(), Some(plan), Some(kernel_report(true, "ok")));
    assert_eq!(report.status, Status::Ok);
    assert_eq!(detail(&report).verdict, Some(Verdict::Ok));
    assert!(detail(&report).reasons.is_empty());
    assert!(
        detail(&report).kernels.is_some(),
        "the guest's kernels are kept"
    );
}

#[test]
fn every_finding_is_a_reason_in_runbook_order_the_kernel_last() {
    let mut plan = plan_report(Status::Held, Phase::Plan);
    plan.changes = vec![change("step 2 (securetty)", "append \"ttyS0\" as line 3")];
    plan.findings = vec![change(
        "step 1 (hal off)",
        "disable haldaemon at boot (chkconfig haldaemon off)",
    )];
    plan.notes = vec![
        finding_note(&plan.findings[0]),
        "step 3 (prune): kept: kernel-xenU".into(),
    ];
    plan.warnings = vec!["step 3 (prune): removes nothing: the booted kernel is unknown".into()];
    let kernels = kernel_report(
        false,
        "host boots 2.6.9-55.ELxenU but /lib/modules/2.6.9-55.ELxenU is missing",
    );
    let report = fold("g", &labels(), Some(plan), Some(kernels));
    assert_eq!(report.status, Status::NotOk);
    assert_eq!(detail(&report).verdict, Some(Verdict::NotOk));
    assert_eq!(
        lines(&report),
        [
            "step 1 (hal off) [check only]: disable haldaemon at boot (chkconfig haldaemon off)",
            "step 2 (securetty): append \"ttyS0\" as line 3",
            "step 3 (prune): removes nothing: the booted kernel is unknown",
            "booted kernel: host boots 2.6.9-55.ELxenU but /lib/modules/2.6.9-55.ELxenU is missing",
        ]
    );
    let kinds: Vec<ReasonKind> = detail(&report).reasons.iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        [
            ReasonKind::Check,
            ReasonKind::Change,
            ReasonKind::Held,
            ReasonKind::Kernel
        ]
    );
    // The check-only finding is among the changes, in step order; its plan note is not
    // repeated.
    let steps: Vec<&str> = report.changes.iter().map(|c| c.step.as_str()).collect();
    assert_eq!(steps, ["step 1 (hal off)", "step 2 (securetty)"]);
    assert_eq!(report.notes, ["step 3 (prune): kept: kernel-xenU"]);
}

#[test]
fn only_check_only_findings_make_a_host_not_ok() {
    let mut plan = plan_report(Status::Ok, Phase::Plan);
    plan.findings = vec![change("step 1 (hal off)", "stop haldaemon")];
    let report = fold("g", &labels(), Some(plan), None);
    assert_eq!(report.status, Status::NotOk);
    assert_eq!(detail(&report).reasons[0].kind, ReasonKind::Check);
}

#[test]
fn a_step_that_cannot_be_planned_is_a_reason_naming_the_step() {
    let mut plan = plan_report(Status::Failed, Phase::Plan);
    plan.error =
        Some("step 2 (securetty): /etc/securetty is a directory, not a regular file".into());
    let report = fold("g", &labels(), Some(plan), None);
    assert_eq!(report.status, Status::NotOk);
    assert_eq!(report.error, None, "a reason, not a failure to judge");
    let reason = &detail(&report).reasons[0];
    assert_eq!(
        (reason.kind, reason.step.as_deref()),
        (ReasonKind::Error, Some("step 2 (securetty)"))
    );
    assert!(
        reason
            .line()
            .starts_with("step 2 (securetty) cannot be planned: /etc/securetty is a directory"),
        "{}",
        reason.line()
    );
}

#[test]
fn a_host_that_could_not_be_read_is_neither_ok_nor_not_ok() {
    for (status, phase) in [
        (Status::Unreachable, Phase::Facts),
        (Status::Failed, Phase::Facts),
        (Status::Skipped, Phase::Facts),
    ] {
        let mut plan = plan_report(status, phase);
        plan.error = Some("g: connection refused".into());
        let report = fold("g", &labels(), Some(plan), None);
        assert_eq!(report.status, status);
        assert_eq!(report.error.as_deref(), Some("g: connection refused"));
        assert_eq!(detail(&report).verdict, None, "{status:?}");
        assert!(detail(&report).reasons.is_empty());
    }
    // The guest answered its facts but not the kernel check.
    let mut kernels = HostReport::new("g", Phase::Facts, Status::Unreachable);
    kernels.error = Some("g: connection reset".into());
    let report = fold(
        "g",
        &labels(),
        Some(plan_report(Status::Changed, Phase::Plan)),
        Some(kernels),
    );
    assert_eq!(
        (report.status, detail(&report).verdict),
        (Status::Unreachable, None)
    );
}

#[test]
fn labels_are_split_off_by_the_longest_that_fits() {
    let labels: Vec<String> = ["step 1", "step 10", "step 1 (a: b)"]
        .map(String::from)
        .to_vec();
    assert_eq!(
        split(&labels, "step 10: x"),
        (Some("step 10".into()), "x".into())
    );
    assert_eq!(
        split(&labels, "step 1 (a: b): y"),
        (Some("step 1 (a: b)".into()), "y".into())
    );
    assert_eq!(
        split(&labels, "something: z"),
        (None, "something: z".into())
    );
}

// --- CheckWork through the scripted transport ---

/// `xen1` runs guest `g`; both are local trees under `dir`. `g` has a securetty without
/// ttyS0 and the modules of 2.6.9-67.0.1.ELxenU only.
fn fleet(dir: &Path) -> Inventory {
    std::fs::create_dir_all(dir.join("xen1/etc/xen")).unwrap();
    std::fs::create_dir_all(dir.join("g/etc")).unwrap();
    std::fs::create_dir_all(dir.join("g/lib/modules/2.6.9-67.0.1.ELxenU")).unwrap();
    std::fs::write(dir.join("g/etc/securetty"), b"console\n").unwrap();
    std::fs::write(dir.join("xen1/etc/securetty"), b"console\n").unwrap();
    Inventory::parse(
        &dir.join("inv.toml"),
        "[defaults]\ntransport = \"local\"\n\n[hosts.xen1]\nroot = \"xen1\"\nrole = \"host\"\n\n[hosts.g]\nroot = \"g\"\nhost = \"xen1\"\ndomain = \"G\"\ndomain_config = \"/etc/xen/G\"\n",
    )
    .unwrap()
}

fn runbook(text: &str) -> Runbook {
    Runbook::parse(Path::new("rb.toml"), text.into()).unwrap()
}

const SECURETTY: &str =
    "[[step]]\nname = \"securetty\"\nline = { path = \"/etc/securetty\", line = \"ttyS0\" }\n";

fn job<'a>(
    inv: &'a Inventory,
    host: &str,
    rb: &'a Runbook,
    transport: Arc<ScriptedTransport>,
    booted: &str,
) -> Job<'a> {
    let host = inv.host(host).unwrap();
    Job {
        host,
        steps: rb
            .steps
            .iter()
            .map(|step| JobStep {
                step,
                scope: Default::default(),
            })
            .collect(),
        transport,
        vars: Default::default(),
        booted: host
            .parent
            .as_ref()
            .map(|_| Ok(BootedKernel::example(booted))),
        parent: None,
    }
}

fn run(work: &dyn HostWork, job: &Job<'_>) -> HostReport {
    let cancel = AtomicBool::new(false);
    let (mut reports, _) = crate::engine::run_fleet(
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
fn a_host_costs_one_facts_script_and_is_never_applied() {
    let dir = tempfile::tempdir().unwrap();
    let (inv, rb) = (fleet(dir.path()), runbook(SECURETTY));
    let t = Arc::new(ScriptedTransport::new("xen1").expect("facts", FACTS, Reply::Run));
    let report = run(&CheckWork, &job(&inv, "xen1", &rb, t.clone(), ""));
    assert_eq!(
        (report.status, report.round_trips),
        (Status::NotOk, 1),
        "{report:?}"
    );
    assert_eq!(
        lines(&report),
        ["step 1 (securetty): append \"ttyS0\" as line 2"]
    );
    assert_eq!(detail(&report).kernels, None, "not a guest");
    assert_eq!(
        std::fs::read(dir.path().join("xen1/etc/securetty")).unwrap(),
        b"console\n"
    );
    t.verify().unwrap();
}

#[test]
fn a_guest_is_planned_then_its_next_boot_judged() {
    let dir = tempfile::tempdir().unwrap();
    let (inv, rb) = (fleet(dir.path()), runbook(SECURETTY));
    let t = Arc::new(
        ScriptedTransport::new("g")
            .expect("facts", FACTS, Reply::Run)
            .expect("kernel inventory", KERNELS, Reply::Run),
    );
    let report = run(
        &CheckWork,
        &job(&inv, "g", &rb, t.clone(), "2.6.9-55.ELxenU"),
    );
    assert_eq!((report.status, report.round_trips), (Status::NotOk, 2));
    assert_eq!(
        lines(&report),
        [
            "step 1 (securetty): append \"ttyS0\" as line 2",
            "booted kernel: host boots 2.6.9-55.ELxenU but /lib/modules/2.6.9-55.ELxenU is missing: the guest will come up without disk and network drivers",
        ]
    );
    t.verify().unwrap();

    // Booted with the kernel whose modules it has, and its securetty as wanted: OK.
    std::fs::write(dir.path().join("g/etc/securetty"), b"console\nttyS0\n").unwrap();
    let t = Arc::new(
        ScriptedTransport::new("g")
            .expect("facts", FACTS, Reply::Run)
            .expect("kernel inventory", KERNELS, Reply::Run),
    );
    let report = run(
        &CheckWork,
        &job(&inv, "g", &rb, t.clone(), "2.6.9-67.0.1.ELxenU"),
    );
    assert_eq!(report.status, Status::Ok, "{report:?}");
    assert_eq!(detail(&report).verdict, Some(Verdict::Ok));
    t.verify().unwrap();
}

#[test]
fn a_guest_without_steps_costs_only_its_kernel_check() {
    let dir = tempfile::tempdir().unwrap();
    let (inv, rb) = (fleet(dir.path()), runbook(""));
    let t = Arc::new(ScriptedTransport::new("g").expect("kernel inventory", KERNELS, Reply::Run));
    let report = run(
        &CheckWork,
        &job(&inv, "g", &rb, t.clone(), "2.6.9-67.0.1.ELxenU"),
    );
    assert_eq!((report.status, report.round_trips), (Status::Ok, 1));
    t.verify().unwrap();
}

#[test]
fn an_unreachable_guest_is_sent_nothing_more() {
    let dir = tempfile::tempdir().unwrap();
    let (inv, rb) = (fleet(dir.path()), runbook(SECURETTY));
    let t = Arc::new(ScriptedTransport::new("g").expect(
        "facts",
        FACTS,
        Reply::Fail { unreachable: true },
    ));
    let report = run(
        &CheckWork,
        &job(&inv, "g", &rb, t.clone(), "2.6.9-55.ELxenU"),
    );
    assert_eq!(report.status, Status::Unreachable);
    assert_eq!(detail(&report).verdict, None);
    assert!(report.error.unwrap().contains("scripted failure at facts"));
    t.verify().unwrap();
}

// --- check_only steps ---

/// A check-only securetty step, then a step editing the same file.
const CHECK_ONLY: &str = "[[step]]\nname = \"root on ttyS0\"\ncheck_only = true\nline = { path = \"/etc/securetty\", line = \"ttyS0\" }\n[[step]]\nname = \"tty2\"\nline = { path = \"/etc/securetty\", line = \"tty2\" }\n";

#[test]
fn check_only_is_read_from_the_step_and_defaults_to_false() {
    let rb = runbook(CHECK_ONLY);
    assert!(rb.steps[0].check_only);
    assert!(!rb.steps[1].check_only);
    let e = Runbook::parse(
        Path::new("rb.toml"),
        "[[step]]\ncheck_only = \"yes\"\nline = { path = \"/a\", line = \"x\" }\n".into(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.starts_with("rb.toml:2:14:"), "{e}");
}

#[test]
fn plan_notes_a_check_only_step_and_apply_never_applies_it() {
    let dir = tempfile::tempdir().unwrap();
    let (inv, rb) = (fleet(dir.path()), runbook(CHECK_ONLY));
    let t = Arc::new(ScriptedTransport::new("xen1").expect("facts", FACTS, Reply::Run));
    let plan = run(
        &RunbookWork { mode: Mode::Plan },
        &job(&inv, "xen1", &rb, t.clone(), ""),
    );
    t.verify().unwrap();
    assert_eq!(plan.status, Status::Changed);
    // The later step does not see the check-only change: its diff has no ttyS0.
    let summaries: Vec<&str> = plan.changes.iter().map(|c| c.summary.as_str()).collect();
    assert_eq!(summaries, ["append \"tty2\" as line 2"]);
    assert!(!plan.changes[0].diff.as_deref().unwrap().contains("ttyS0"));
    assert_eq!(
        plan.notes,
        ["step 1 (root on ttyS0): check only, not applied: append \"ttyS0\" as line 2"]
    );
    assert_eq!(plan.findings.len(), 1);
    assert!(plan.findings[0].diff.as_deref().unwrap().contains("+ttyS0"));

    // apply makes the other step's change, verifies, and converges without the check.
    let t = Arc::new(
        ScriptedTransport::new("xen1")
            .expect("facts", FACTS, Reply::Run)
            .expect("apply and verify", "umask 077", Reply::Run),
    );
    let apply = run(
        &RunbookWork { mode: Mode::Apply },
        &job(&inv, "xen1", &rb, t.clone(), ""),
    );
    t.verify().unwrap();
    assert_eq!(
        (apply.status, apply.phase),
        (Status::Changed, Phase::Verify)
    );
    assert_eq!(
        std::fs::read(dir.path().join("xen1/etc/securetty")).unwrap(),
        b"console\ntty2\n"
    );
    // A second apply has nothing to do: one facts script, no apply script.
    let t = Arc::new(ScriptedTransport::new("xen1").expect("facts", FACTS, Reply::Run));
    let again = run(
        &RunbookWork { mode: Mode::Apply },
        &job(&inv, "xen1", &rb, t.clone(), ""),
    );
    t.verify().unwrap();
    assert_eq!(again.status, Status::Ok);
    // ...and the check still says what the check-only step finds.
    let t = Arc::new(ScriptedTransport::new("xen1").expect("facts", FACTS, Reply::Run));
    let check = run(&CheckWork, &job(&inv, "xen1", &rb, t.clone(), ""));
    t.verify().unwrap();
    assert_eq!(check.status, Status::NotOk);
    assert_eq!(
        lines(&check),
        ["step 1 (root on ttyS0) [check only]: append \"ttyS0\" as line 3"]
    );
}
