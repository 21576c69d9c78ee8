//! `vmup doctor --boot-test`: boot the kernel and ramdisk a host would boot a guest with,
//! with the guest's command line and a throwaway copy-on-write snapshot of its disk, under
//! QEMU on that host, and judge the boot by what the serial console says. QEMU exits 0
//! on success and failure alike (`-no-reboot`), so only the console tells.
//!
//! What can be tested this way: kernels QEMU boots directly (a bzImage: KVM guests'
//! kernels, pvops kernels that also run as Xen guests). Classic xenU kernels (2.6.9-*xenU)
//! run only on Xen's PV interface; the script says so instead of pretending.

use crate::remote::quote::NulByte;
use crate::remote::script::Script;

/// What a boot under QEMU showed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "result", content = "detail", rename_all = "snake_case")]
pub enum BootTest {
    /// The ramdisk found and mounted the root filesystem and handed over to its init.
    Booted(String),
    /// It did not get there; the console's telling line.
    Failed(String),
    /// It cannot be tested this way, and why.
    Untestable(String),
}

/// Console lines that mean the boot reached the guest's own root filesystem.
const BOOTED: &[&str] = &[
    "Switching root",
    "Reached target Switch Root",
    "Run /sbin/init as init process",
    "INIT: version",
    "Welcome to ",
    "vmup-vm: ",
];

/// Console lines that mean it never will.
const FAILED: &[&str] = &[
    "Kernel panic",
    "Timed out waiting for device",
    "Could not boot",
    "Cannot open root device",
    "Gave up waiting for root",
    "Entering emergency mode",
    "dracut Warning: Could not boot",
    "ALERT!",
];

/// Everything the host needs to run one boot test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootTestSpec {
    /// The host's root for paths: empty on a machine, the tree on a local one.
    pub root: String,
    /// The kernel file (the config's `kernel=`, links followed by the host's own open).
    pub kernel: String,
    /// The ramdisk, if the config names one.
    pub ramdisk: Option<String>,
    /// The command line the toolstack passes.
    pub cmdline: String,
    /// The guest's root disk image on the host, opened through `-snapshot` (writes go to a
    /// temporary overlay) without QEMU's image lock, so a guest running from it meanwhile
    /// keeps running.
    pub disk: Option<String>,
    /// Seconds before an undecided boot counts as failed.
    pub timeout_secs: u64,
}

/// The POSIX sh that boots `spec` under QEMU and prints `booted LINE`, `failed LINE` or
/// `untestable WHY`, then the console's last lines after a `console` line.
pub fn boot_test_script(spec: &BootTestSpec) -> Result<Vec<u8>, NulByte> {
    let mut s = Script::new();
    s.code("k=").word(spec.kernel.as_bytes()).newline();
    s.code("i=")
        .word(spec.ramdisk.as_deref().unwrap_or("").as_bytes())
        .newline();
    s.code("disk=")
        .word(spec.disk.as_deref().unwrap_or("").as_bytes())
        .newline();
    // panic=1 with -no-reboot ends a panicking boot at once; rd.* bound dracut's waits.
    let cmdline = format!(
        "{} console=ttyS0 panic=1 rd.retry=10 rd.timeout=20 rd.shell=0",
        spec.cmdline
    );
    s.code("a=").word(cmdline.as_bytes()).newline();
    let pattern = |list: &[&str]| list.join("\\|");
    s.code(&format!(
        "q=$(command -v qemu-system-x86_64) || {{ echo 'untestable the host has no qemu-system-x86_64'; exit 0; }}\n\
         [ -f \"$k\" ] || {{ echo \"untestable the kernel $k does not exist\"; exit 0; }}\n\
         m=$(od -An -c -j 514 -N 4 -- \"$k\" | tr -d ' \\n')\n\
         [ \"$m\" = HdrS ] || {{ echo \"untestable $k is not a bzImage (a Xen PV-only kernel such as a classic xenU cannot be booted by QEMU)\"; exit 0; }}\n\
         [ -z \"$disk\" ] || [ -r \"$disk\" ] || {{ echo \"untestable the guest's disk $disk is not readable on this host\"; exit 0; }}\n\
         log=$(mktemp \"${{TMPDIR:-/tmp}}/vmup-boot.XXXXXX\") || exit 1\n\
         trap 'rm -f \"$log\"' EXIT\n\
         accel=tcg; [ -w /dev/kvm ] && accel=kvm\n\
         set -- -accel $accel -m 512 -smp 1 -kernel \"$k\" -append \"$a\" -nic none -display none -monitor none -no-reboot -snapshot -serial \"file:$log\"\n\
         [ -z \"$i\" ] || set -- \"$@\" -initrd \"$i\"\n\
         [ -z \"$disk\" ] || set -- \"$@\" -drive \"file=$disk,format=raw,if=virtio,file.locking=off\"\n\
         \"$q\" \"$@\" </dev/null >/dev/null 2>&1 &\n\
         pid=$!\n\
         n=0; verdict=''\n\
         while :; do\n\
         \x20 ok=$(grep -m1 -e '{booted}' \"$log\" 2>/dev/null)\n\
         \x20 if [ -n \"$ok\" ]; then verdict=\"booted $ok\"; break; fi\n\
         \x20 bad=$(grep -m1 -e '{failed}' \"$log\" 2>/dev/null)\n\
         \x20 if [ -n \"$bad\" ]; then verdict=\"failed $bad\"; break; fi\n\
         \x20 kill -0 $pid 2>/dev/null || {{ verdict='failed QEMU ended before the boot reached the root filesystem'; break; }}\n\
         \x20 [ $n -ge {timeout} ] && {{ verdict='failed no sign of the root filesystem after {timeout}s'; break; }}\n\
         \x20 sleep 1; n=$((n+1))\n\
         done\n\
         kill $pid 2>/dev/null; wait $pid 2>/dev/null\n\
         printf '%s\\n' \"$verdict\" | tr -d '\\r'\n\
         echo console\n\
         tail -n 30 \"$log\" | tr -d '\\r'\n",
        booted = pattern(BOOTED),
        failed = pattern(FAILED),
        timeout = spec.timeout_secs,
    ));
    s.finish()
}

/// Reads what [`boot_test_script`] printed: the verdict and the console's last lines. Pure.
pub fn parse_boot_test(stdout: &str) -> (BootTest, String) {
    let (head, console) = stdout.split_once("\nconsole\n").unwrap_or((stdout, ""));
    let first = head.lines().next().unwrap_or_default();
    let (word, rest) = first.split_once(' ').unwrap_or((first, ""));
    let rest = rest.trim().to_string();
    let verdict = match word {
        "booted" => BootTest::Booted(rest),
        "untestable" => BootTest::Untestable(rest),
        "failed" => BootTest::Failed(rest),
        _ => BootTest::Failed(format!(
            "the boot test printed nothing it could read: {first:?}"
        )),
    };
    (verdict, console.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_and_the_console_are_read_back() {
        let (v, console) =
            parse_boot_test("booted [    5.1] dracut: Switching root\nconsole\nline 1\nline 2\n");
        assert_eq!(
            v,
            BootTest::Booted("[    5.1] dracut: Switching root".into())
        );
        assert_eq!(console, "line 1\nline 2\n");
        let (v, _) =
            parse_boot_test("untestable /boot/vmlinuz-2.6.9-55.ELxenU is not a bzImage (...)\n");
        assert!(matches!(v, BootTest::Untestable(w) if w.contains("not a bzImage")));
        let (v, _) = parse_boot_test("");
        assert!(matches!(v, BootTest::Failed(_)));
    }

    /// The script, run here against a file that is no bzImage, says so and boots nothing.
    #[test]
    fn a_kernel_qemu_cannot_boot_is_untestable_not_failed() {
        let dir = tempfile::tempdir().unwrap();
        let kernel = dir.path().join("vmlinuz-2.6.9-55.ELxenU");
        std::fs::write(&kernel, vec![0x1f_u8; 1024]).unwrap();
        let fake_qemu = dir.path().join("qemu-system-x86_64");
        std::fs::write(&fake_qemu, "#!/bin/sh\necho ran >> \"$0.ran\"\n").unwrap();
        std::process::Command::new("chmod")
            .arg("+x")
            .arg(&fake_qemu)
            .status()
            .unwrap();
        let script = boot_test_script(&BootTestSpec {
            root: String::new(),
            kernel: kernel.display().to_string(),
            ramdisk: None,
            cmdline: "root=/dev/vda".into(),
            disk: None,
            timeout_secs: 5,
        })
        .unwrap();
        // Under dash, busybox sh, bash --posix and mksh, with busybox's od, tr and mktemp.
        for run in crate::remote::test_shells::run_each(&script, dir.path(), || {}) {
            let (v, _) = parse_boot_test(&run.stdout);
            assert!(
                matches!(&v, BootTest::Untestable(w) if w.contains("is not a bzImage")),
                "{}: {v:?} {}",
                run.shell,
                run.stderr
            );
        }
        assert!(!dir.path().join("qemu-system-x86_64.ran").exists());
    }
}
