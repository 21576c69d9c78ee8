//! A file changed between facts and apply: the host fails with "changed since facts were
//! gathered", the file stays as the other writer left it, and no other change of the host
//! is made (the apply script's pre-flight checks everything before its first write).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use vmup::engine::{FleetOptions, Job, JobStep, Mode, RunbookWork, Status, run_fleet};
use vmup::inventory::Inventory;
use vmup::runbook::Runbook;
use vmup::transport::local::LocalTransport;
use vmup::transport::{RemoteOutput, Transport, TransportError};

/// A local transport that lets another writer change a file just before the apply script.
struct Interfering {
    inner: LocalTransport,
    calls: AtomicUsize,
    victim: PathBuf,
    content: &'static [u8],
}

impl Transport for Interfering {
    fn run(&self, script: &[u8]) -> Result<RemoteOutput, TransportError> {
        if self.calls.fetch_add(1, Ordering::SeqCst) == 1 {
            std::fs::write(&self.victim, self.content).unwrap();
        }
        self.inner.run(script)
    }
}

fn setup(dir: &Path) -> (Inventory, Runbook) {
    std::fs::create_dir_all(dir.join("g/etc")).unwrap();
    std::fs::write(dir.join("g/etc/securetty"), b"console\ntty1\n").unwrap();
    std::fs::write(
        dir.join("g/etc/inittab"),
        b"1:2345:respawn:/sbin/mingetty tty1\n",
    )
    .unwrap();
    let inv = Inventory::parse(
        &dir.join("inv.toml"),
        "[hosts.g]\ntransport = \"local\"\nroot = \"g\"\n",
    )
    .unwrap();
    let rb = Runbook::parse(
        Path::new("rb.toml"),
        "[[step]]\nline = { path = \"/etc/inittab\", line = \"S0:2345:respawn:/sbin/agetty ttyS0 38400 vt100-nav\", insert_before = \"^1:\" }\n[[step]]\nline = { path = \"/etc/securetty\", line = \"ttyS0\" }\n".into(),
    )
    .unwrap();
    (inv, rb)
}

#[test]
fn file_changed_between_facts_and_apply_fails_the_host_and_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (inv, rb) = setup(dir.path());
    let transport = Interfering {
        inner: LocalTransport::new("g"),
        calls: AtomicUsize::new(0),
        victim: dir.path().join("g/etc/securetty"),
        content: b"console\ntty1\n# edited by someone else\n",
    };
    let job = Job {
        host: &inv.hosts[0],
        steps: rb
            .steps
            .iter()
            .map(|step| JobStep {
                step,
                scope: Default::default(),
            })
            .collect(),
        transport: Arc::new(transport),
        booted: None,
        parent: None,
        vars: Default::default(),
    };
    let options = FleetOptions {
        forks: 1,
        serial: None,
        max_fail: None,
        shard: None,
    };
    let (reports, _) = run_fleet(
        "apply",
        &[job],
        &RunbookWork { mode: Mode::Apply },
        &options,
        &vmup::engine::event::NoEvents,
        &AtomicBool::new(false),
    );
    let report = &reports[0];
    assert_eq!(report.status, Status::Failed);
    let error = report.error.as_deref().unwrap();
    assert!(
        error.contains("/etc/securetty: changed since facts were gathered"),
        "{error}"
    );
    assert_eq!(
        std::fs::read(dir.path().join("g/etc/securetty")).unwrap(),
        b"console\ntty1\n# edited by someone else\n",
        "the other writer's content is kept"
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("g/etc"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("vmup"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "no temporary files left: {leftovers:?}"
    );
    // The apply script checks every precondition before its first change: the inittab
    // edit before it was not made either, so the host is all or nothing.
    assert!(report.changes.is_empty(), "{:?}", report.changes);
    assert!(
        error.contains("0 earlier change(s) were applied"),
        "{error}"
    );
    assert_eq!(
        std::fs::read(dir.path().join("g/etc/inittab")).unwrap(),
        b"1:2345:respawn:/sbin/mingetty tty1\n"
    );
}
