//! Check-only steps: read from the runbook, noted by the plan, never applied by apply.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crate::engine::event::NoEvents;
use crate::engine::report::{HostReport, Mode, Phase, Status};
use crate::engine::{FleetOptions, HostWork, Job, JobStep, RunbookWork};
use crate::facts::booted::BootedKernel;
use crate::inventory::Inventory;
use crate::runbook::Runbook;
use crate::transport::scripted::{Reply, ScriptedTransport};

const FACTS: &str = "vmup_rec cpus";

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
        booted: host
            .parent
            .as_ref()
            .map(|_| Ok(BootedKernel::example(booted))),
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
            .expect("apply", "umask 077", Reply::Run)
            .expect("verify", FACTS, Reply::Run),
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
}
