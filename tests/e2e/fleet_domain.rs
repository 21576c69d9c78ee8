//! The `domain` step over real ssh: the seed's "edit domain configuration files and edit
//! kernel, ramdisk and extra kernel parameters" on the test fleet's dom0. The step selects
//! the guests and runs on xen1, whose `/etc/xen/G01` and `/etc/xen/G02` (xl syntax, as
//! tests/fleet/fleet.sh writes them) get the new kernel and ramdisk and the serial console
//! tokens; every other byte stays, files are read back through the host's own shell, and a
//! second run changes nothing. Then a config another writer changes between the facts
//! and the apply is left as that writer left it: vmup runs through the system ssh
//! (`transport = "openssh"`) with an `ssh` first in PATH that makes that change just
//! before the apply script reaches xen1.

use std::process::Command;

use crate::fleet::Fleet;
use crate::support::Run;

const RUNBOOK: &str = r#"
[[step]]
name = "guests boot the 67 kernel on the serial console"
hosts = "guests"
domain = { kernel = "/boot/vmlinuz-2.6.9-67.0.1.ELxenU", ramdisk = "/boot/initrd-2.6.9-67.0.1.ELxenU-xendrv.img", extra_contains = ["xencons=ttyS", "console=ttyS0"] }
"#;

/// Back to the stable names: a change again, for the changed-underneath run.
const BACK: &str = r#"
[[step]]
hosts = "guests"
domain = { kernel = "/boot/vmlinuz-2.6.9-ELxenU" }
"#;

fn show(run: &Run) -> String {
    format!(
        "exit {}\nstdout:\n{}\nstderr:\n{}",
        run.code, run.stdout, run.stderr
    )
}

fn vmup(fleet: &Fleet, cmd: &str, runbook: &str) -> Run {
    fleet.vmup(&[
        cmd,
        "-i",
        "inventory.toml",
        runbook,
        "-F",
        "ssh_config",
        "--json",
    ])
}

/// `text` with `old` replaced by `new`, which must occur exactly once.
fn once(text: &str, old: &str, new: &str) -> String {
    assert_eq!(text.matches(old).count(), 1, "{old:?} once in:\n{text}");
    text.replacen(old, new, 1)
}

#[test]
fn domain_configs_on_the_dom0_are_edited_over_ssh_converge_and_yield_to_other_writers() {
    let fleet = Fleet::up(2);
    std::fs::write(fleet.path("domain.toml"), RUNBOOK).unwrap();
    std::fs::write(fleet.path("back.toml"), BACK).unwrap();
    let guests = fleet.guests();
    assert_eq!(guests.len(), 2);
    let config = |g: &str| format!("/etc/xen/{}", g.to_uppercase());
    let read = |g: &str| fleet.exec("xen1", &format!("cat {}", config(g)));
    let before: Vec<String> = guests.iter().map(|g| read(g)).collect();

    let plan = vmup(&fleet, "plan", "domain.toml");
    assert_eq!(plan.code, 3, "{}", show(&plan));
    let hosts = plan.hosts();
    let summaries: Vec<&str> = hosts["xen1"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["summary"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = guests
        .iter()
        .map(|g| {
            format!(
                "set kernel = \"/boot/vmlinuz-2.6.9-67.0.1.ELxenU\" (was \"/boot/vmlinuz-2.6.9-ELxenU\"), \
                 set ramdisk = \"/boot/initrd-2.6.9-67.0.1.ELxenU-xendrv.img\" (was \"/boot/initrd-2.6.9-ELxenU-xendrv.img\"), \
                 add \"xencons=ttyS\" \"console=ttyS0\" to extra in {}",
                config(g)
            )
        })
        .collect();
    assert_eq!(summaries, expected, "{}", show(&plan));
    let diff = hosts["xen1"]["changes"][0]["diff"].as_str().unwrap();
    assert!(
        diff.contains("-extra = \"3\"\n+extra = \"3 xencons=ttyS console=ttyS0\"\n"),
        "{diff}"
    );
    for (g, b) in guests.iter().zip(&before) {
        assert_eq!(&read(g), b, "plan changed {}", config(g));
    }

    let apply = vmup(&fleet, "apply", "domain.toml");
    assert_eq!(apply.code, 0, "{}", show(&apply));
    assert_eq!(
        apply.hosts()["xen1"]["status"],
        "changed",
        "{}",
        show(&apply)
    );
    for (g, b) in guests.iter().zip(&before) {
        let want = once(
            b,
            "kernel = \"/boot/vmlinuz-2.6.9-ELxenU\"\n",
            "kernel = \"/boot/vmlinuz-2.6.9-67.0.1.ELxenU\"\n",
        );
        let want = once(
            &want,
            "ramdisk = \"/boot/initrd-2.6.9-ELxenU-xendrv.img\"\n",
            "ramdisk = \"/boot/initrd-2.6.9-67.0.1.ELxenU-xendrv.img\"\n",
        );
        let want = once(
            &want,
            "extra = \"3\"\n",
            "extra = \"3 xencons=ttyS console=ttyS0\"\n",
        );
        assert_eq!(
            read(g),
            want,
            "{} on xen1, every other byte kept",
            config(g)
        );
    }
    let temps = fleet.exec("xen1", "ls -A /etc/xen");
    assert_eq!(temps.lines().count(), 2, "no temporary files left: {temps}");

    let again = vmup(&fleet, "apply", "domain.toml");
    assert_eq!(again.code, 0, "{}", show(&again));
    let xen1 = &again.hosts()["xen1"];
    assert_eq!(xen1["status"], "ok", "{}", show(&again));
    let notes = xen1["notes"].to_string();
    for g in &guests {
        assert!(
            notes.contains(&format!("{} is already as wanted", config(g))),
            "{notes}"
        );
    }

    // Another writer edits G01 after the facts were read: that file is left as they left
    // it and xen1 fails saying so; nothing else is written (the apply checks every file
    // before its first write).
    let real_ssh = String::from_utf8(
        Command::new("sh")
            .args(["-c", "command -v ssh"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let wrapper = fleet.path("bin/ssh");
    std::fs::create_dir_all(fleet.path("bin")).unwrap();
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\n\
             # vmup's ssh, which edits G01 on xen1 just before the first apply script gets there.\n\
             s=$(mktemp) || exit 1\n\
             cat > \"$s\"\n\
             if grep -q vmup_fail \"$s\" && mkdir {dir}/interfered 2>/dev/null; then\n\
             \x20 {real} -F {dir}/ssh_config xen1 'printf \"%s\\n\" \"# edited by someone else\" >> /etc/xen/G01' </dev/null || exit 1\n\
             fi\n\
             {real} \"$@\" < \"$s\"; st=$?\n\
             rm -f \"$s\"\n\
             exit $st\n",
            dir = fleet.dir.path().display(),
            real = real_ssh.trim(),
        ),
    )
    .unwrap();
    std::fs::set_permissions(
        &wrapper,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let inventory = std::fs::read_to_string(fleet.path("inventory.toml")).unwrap();
    std::fs::write(
        fleet.path("openssh.toml"),
        inventory.replacen("[defaults]\n", "[defaults]\ntransport = \"openssh\"\n", 1),
    )
    .unwrap();
    let g01 = read("g01");
    let g02 = read("g02");
    let out = Command::new("ip")
        .args(["netns", "exec", &fleet.env["FLEET_CTL_NETNS"], "env"])
        .arg(format!(
            "PATH={}:{}",
            fleet.path("bin").display(),
            std::env::var("PATH").unwrap()
        ))
        .arg(env!("CARGO_BIN_EXE_vmup"))
        .env("VMUP_HISTORY", crate::support::test_history())
        .args([
            "apply",
            "-i",
            "openssh.toml",
            "back.toml",
            "-F",
            "ssh_config",
            "--json",
        ])
        .current_dir(fleet.dir.path())
        .output()
        .unwrap();
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        fleet.path("interfered").is_dir(),
        "the wrapper saw no apply script: {}",
        show(&run)
    );
    assert_eq!(run.code, 1, "{}", show(&run));
    let xen1 = &run.hosts()["xen1"];
    assert_eq!(xen1["status"], "failed", "{}", show(&run));
    let error = xen1["error"].as_str().unwrap();
    assert!(
        error.contains("/etc/xen/G01: changed since facts were gathered"),
        "{error}"
    );
    assert_eq!(
        read("g01"),
        format!("{g01}# edited by someone else\n"),
        "the other writer's G01 is kept"
    );
    assert_eq!(read("g02"), g02, "G02 is not written either");
}
