//! `vmup demo`, as the README's first command runs it, ends with every guest converged and
//! every guest's next boot checked against what its host boots.

use std::process::Command;

#[test]
fn demo_converges() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_vmup"))
        .args(["demo", "--dir"])
        .arg(dir.path().join("fleet"))
        .env("VMUP_HISTORY", crate::support::test_history())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("every host converged"), "{stdout}");
    // The third pass is a plan with nothing pending on any host.
    let last = stdout.rsplit("### 3.").next().unwrap();
    assert!(last.contains("4 converged"), "{last}");
    let inittab = std::fs::read_to_string(dir.path().join("fleet/ng2/etc/inittab")).unwrap();
    assert!(inittab.contains(
        "S0:2345:respawn:/sbin/agetty ttyS0 38400 vt100-nav\n1:2345:respawn:/sbin/mingetty tty1"
    ));
    assert!(dir.path().join("fleet/grid/lib/tls.disabled").is_dir());
    // Converged files are not the end: the demo checks that every guest boots the kernel
    // its host names, through the stable link on the host, with its modules present.
    let check = stdout.rsplit("### 4.").next().unwrap();
    for g in ["grid", "ng2", "vomrs"] {
        assert!(check.contains(&format!("== {g}: ok")), "{check}");
    }
    assert!(
        check.contains("-> /boot/vmlinuz-2.6.9-67.0.1.ELxenU"),
        "{check}"
    );
    assert!(stdout.contains("every guest will boot its host's kernel with its modules"));
}
