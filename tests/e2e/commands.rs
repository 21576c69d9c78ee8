//! The `command` resource for real: over ssh on the test fleet (tests/fleet/fleet.sh, one
//! guest and xen1), a command guarded by `creates` runs once and its output is in the
//! report; the seed's python24 reinstall runs `rpm -i` exactly when `rpm -q` says the
//! package is gone; a failing command fails the host with its status and output; a wrong
//! guard is caught by verify; `always = true` runs on every apply without failing verify.
//! On a local tree nothing runs on the controller, guards included.
//!
//! Everything asserted on the guest is read back over plain OpenSSH or `fleet.sh exec`,
//! not through vmup. About 5 s on the shared 2-core machine.

use std::process::{Command, Stdio};

use crate::fleet::Fleet;
use crate::support::{LocalFleet, Run};

fn show(run: &Run) -> String {
    format!(
        "exit {}\nstdout:\n{}\nstderr:\n{}",
        run.code, run.stdout, run.stderr
    )
}

/// `vmup CMD -i inventory.toml RUNBOOK -F ssh_config --limit GUEST EXTRA...` over the default
/// in-process ssh transport, with `text` as the runbook.
fn vmup(fleet: &Fleet, cmd: &str, text: &str, guest: &str, extra: &[&str]) -> Run {
    std::fs::write(fleet.path("commands.toml"), text).unwrap();
    let mut args = vec![
        cmd,
        "-i",
        "inventory.toml",
        "commands.toml",
        "-F",
        "ssh_config",
        "--limit",
        guest,
    ];
    args.extend_from_slice(extra);
    fleet.vmup(&args)
}

/// The one host line of a `--json` run.
fn host(run: &Run, guest: &str) -> serde_json::Value {
    run.hosts()
        .remove(guest)
        .unwrap_or_else(|| panic!("no line for {guest}: {}", show(run)))
}

/// The summaries of a host line's changes.
fn summaries(line: &serde_json::Value) -> Vec<String> {
    line["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["summary"].as_str().unwrap().to_string())
        .collect()
}

/// A python24 package built with mkrpm.sh, copied into the guest as /srv/python24.rpm.
pub fn python24_rpm(fleet: &Fleet, guest: &str) {
    rpm_into(fleet, guest, "python24", "/usr/bin/python2.4");
}

/// A package `name` 2.4.3-1 holding one script at `file`, built with mkrpm.sh and copied
/// into the guest as /srv/NAME.rpm.
pub fn rpm_into(fleet: &Fleet, guest: &str, name: &str, file: &str) {
    let out = tempfile::tempdir().unwrap();
    let built =
        Command::new(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fleet/mkrpm.sh"))
            .args([name, "2.4.3", "1", out.path().to_str().unwrap()])
            .args(["--exec", file, "#!/bin/sh\necho Python 2.4.3\n"])
            .output()
            .unwrap();
    assert!(
        built.status.success(),
        "mkrpm: {}",
        String::from_utf8_lossy(&built.stderr)
    );
    let rpm = String::from_utf8(built.stdout).unwrap();
    let copy = Command::new(&fleet.env["FLEET_SH"])
        .arg("exec")
        .arg(fleet.dir.path())
        .args([
            guest,
            "sh",
            "-c",
            &format!("mkdir -p /srv && cat > /srv/{name}.rpm"),
        ])
        .stdin(Stdio::from(std::fs::File::open(rpm.trim()).unwrap()))
        .output()
        .unwrap();
    assert!(
        copy.status.success(),
        "copying the rpm into {guest}: {}",
        String::from_utf8_lossy(&copy.stderr)
    );
}

/// `creates`: planned, not run by plan, run by apply with its output in the report, then
/// seen as done: the second apply changes nothing and costs one round trip.
fn creates_runs_once_and_reports_its_output(fleet: &Fleet, g: &str) {
    let rb = "[[step]]\nname = \"grid marker\"\ncommand = { run = \"echo made > /root/made; echo \\\"hello from $(hostname)\\\"\", creates = \"/root/made\" }\n";
    let plan = vmup(fleet, "plan", rb, g, &["--json"]);
    assert_eq!(plan.code, 3, "{}", show(&plan));
    assert_eq!(
        summaries(&host(&plan, g)),
        [
            "run \"echo made > /root/made; echo \\\"hello from $(hostname)\\\"\" (creates: /root/made is absent)"
        ]
    );
    assert_eq!(
        fleet.exec(g, "test -e /root/made && echo there || echo absent"),
        "absent\n",
        "plan ran nothing"
    );

    let apply = vmup(fleet, "apply", rb, g, &["--json"]);
    assert_eq!(apply.code, 0, "{}", show(&apply));
    let line = host(&apply, g);
    assert_eq!(line["status"], "changed", "{line}");
    assert_eq!(line["changes"][0]["resource"], "command");
    assert_eq!(
        line["changes"][0]["output"],
        format!("hello from {g}\n"),
        "{line}"
    );
    assert_eq!(fleet.ssh_cat(g, "/root/made"), b"made\n");

    let again = vmup(fleet, "apply", rb, g, &["--json"]);
    assert_eq!(again.code, 0, "{}", show(&again));
    let line = host(&again, g);
    assert_eq!(line["status"], "ok", "{line}");
    assert_eq!(line["round_trips"], 1, "{line}");
    assert_eq!(
        line["notes"][0],
        "step 1 (grid marker): not run: /root/made exists (creates)"
    );
}

/// The seed's Grid quirk: python24 reinstalled, with real rpm, exactly when `rpm -q` says
/// it is missing; the human report shows what the command printed.
fn python24_is_reinstalled_when_the_update_removed_it(fleet: &Fleet, g: &str) {
    python24_rpm(fleet, g);
    let rb = "[[step]]\nname = \"python24 back after the update\"\ncommand = { run = \"rpm -i /srv/python24.rpm && rpm -q python24\", unless = \"rpm -q python24\" }\n";
    let apply = vmup(fleet, "apply", rb, g, &["--json"]);
    assert_eq!(apply.code, 0, "{}", show(&apply));
    let line = host(&apply, g);
    assert_eq!(
        summaries(&line),
        [
            "run \"rpm -i /srv/python24.rpm && rpm -q python24\" (unless: \"rpm -q python24\" exited 1)"
        ]
    );
    assert!(
        line["changes"][0]["output"]
            .as_str()
            .unwrap()
            .contains("python24-2.4.3-1"),
        "{line}"
    );
    assert_eq!(fleet.ssh(g, "python2.4"), "Python 2.4.3\n");

    let again = vmup(fleet, "apply", rb, g, &["--json"]);
    assert_eq!(host(&again, g)["status"], "ok", "{}", show(&again));
    assert_eq!(
        host(&again, g)["notes"][0],
        "step 1 (python24 back after the update): not run: \"rpm -q python24\" exited 0 (unless)"
    );

    // "removed during the update": the next apply puts it back, and the human report shows
    // the command's output under the change.
    fleet.exec(g, "rpm -e python24 2>/dev/null");
    let human = vmup(fleet, "apply", rb, g, &[]);
    assert_eq!(human.code, 0, "{}", show(&human));
    assert!(
        human.stdout.contains("command: run \"rpm -i /srv/python24.rpm && rpm -q python24\" (unless: \"rpm -q python24\" exited 1)\n")
            && human.stdout.contains("      | python24-2.4.3-1"),
        "{}",
        human.stdout
    );
    assert_eq!(fleet.ssh(g, "rpm -q python24").trim(), "python24-2.4.3-1");
}

/// A failing command fails the host in the apply phase with its exit status and the tail of
/// what it printed; nothing after it runs.
fn a_failing_command_fails_the_host_with_its_status(fleet: &Fleet, g: &str) {
    let rb = "[[step]]\nname = \"broken quirk\"\ncommand = { run = \"echo about to fail; echo oops >&2; exit 7\", creates = \"/root/never\" }\n[[step]]\nname = \"after it\"\ncommand = { run = \"touch /root/after\", creates = \"/root/after\" }\n";
    let apply = vmup(fleet, "apply", rb, g, &["--json"]);
    assert_eq!(apply.code, 1, "{}", show(&apply));
    let line = host(&apply, g);
    assert_eq!(
        (&line["status"], &line["phase"]),
        (&"failed".into(), &"apply".into()),
        "{line}"
    );
    let error = line["error"].as_str().unwrap();
    assert!(
        error.contains("step 1 (broken quirk)")
            && error.contains("exit status 7")
            && error.contains("about to fail / oops"),
        "{error}"
    );
    assert_eq!(
        fleet.exec(g, "test -e /root/after && echo ran || echo not run"),
        "not run\n"
    );
}

/// A guard that the command does not satisfy (it never creates the path) is caught by
/// verify: the host fails as not converged rather than reporting success.
fn a_wrong_guard_is_caught_by_verify(fleet: &Fleet, g: &str) {
    let rb = "[[step]]\nname = \"wrong guard\"\ncommand = { run = \"touch /root/other-name\", creates = \"/root/expected-name\" }\n";
    let apply = vmup(fleet, "apply", rb, g, &["--json"]);
    assert_eq!(apply.code, 1, "{}", show(&apply));
    let line = host(&apply, g);
    assert_eq!(
        (&line["status"], &line["phase"]),
        (&"failed".into(), &"verify".into()),
        "{line}"
    );
    assert!(
        line["error"]
            .as_str()
            .unwrap()
            .contains("(creates: /root/expected-name is absent)"),
        "{line}"
    );
}

/// `always = true`: runs on every apply, and verify does not fail on it.
fn always_runs_on_every_apply_and_verify_passes(fleet: &Fleet, g: &str) {
    let rb = "[[step]]\nname = \"tick\"\ncommand = { run = \"echo tick >> /root/ticks\", always = true }\n";
    for n in 1..=2 {
        let apply = vmup(fleet, "apply", rb, g, &["--json"]);
        assert_eq!(apply.code, 0, "{}", show(&apply));
        let line = host(&apply, g);
        assert_eq!(
            (&line["status"], &line["phase"]),
            (&"changed".into(), &"verify".into()),
            "{line}"
        );
        assert_eq!(
            line["notes"][0],
            "step 1 (tick): always = true: planned on every run; verify does not expect it done"
        );
        assert_eq!(
            fleet.ssh_cat(g, "/root/ticks"),
            "tick\n".repeat(n).as_bytes()
        );
    }
}

#[test]
fn commands_over_ssh_run_as_their_guards_say() {
    let fleet = Fleet::up(1);
    let g = fleet.guests()[0].clone();
    creates_runs_once_and_reports_its_output(&fleet, &g);
    python24_is_reinstalled_when_the_update_removed_it(&fleet, &g);
    a_failing_command_fails_the_host_with_its_status(&fleet, &g);
    a_wrong_guard_is_caught_by_verify(&fleet, &g);
    always_runs_on_every_apply_and_verify_passes(&fleet, &g);
}

/// A local tree is files only: the step is refused at plan time, and neither the command
/// nor its guard ran on the controller.
#[test]
fn commands_on_a_local_tree_run_nothing_on_the_controller() {
    let fleet = LocalFleet::new(&["g"]);
    let marker = fleet.path().join("ran");
    let guard = fleet.path().join("guard-ran");
    let rb = fleet.runbook(&format!(
        "[[step]]\ncommand = {{ run = \"touch {}\", unless = \"touch {}\" }}\n[[step]]\ncommand = {{ run = \"touch {}\", always = true }}\n",
        marker.display(),
        guard.display(),
        marker.display()
    ));
    for cmd in ["plan", "apply"] {
        let run = fleet.vmup(&[cmd, "-i", "inventory.toml", rb, "--json"]);
        assert_eq!(run.code, 1, "{}", show(&run));
        let line = &run.hosts()["g"];
        assert_eq!(
            (&line["status"], &line["phase"]),
            (&"failed".into(), &"plan".into()),
            "{line}"
        );
        assert!(
            line["error"].as_str().unwrap().contains(
                "step 1: a local tree is files only: a `command` would run on the controller"
            ),
            "{line}"
        );
    }
    assert!(!marker.exists(), "the command ran on the controller");
    assert!(!guard.exists(), "the guard ran on the controller");
}
