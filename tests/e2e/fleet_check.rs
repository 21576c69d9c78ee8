//! `vmup check` over real ssh on the test fleet (two guests booted by xen1's xm configs
//! through its /boot links): a guest whose booted kernel has lost its modules is Not OK
//! naming them, before and after an apply (which cannot fix that), and OK once they are
//! back; the other guest is Not OK until the apply; an unreachable guest is neither. The
//! round trips are counted from each host's sshd log.

use crate::fleet::Fleet;
use crate::support::Run;

const RUNBOOK: &str = r#"[[step]]
name = "root login on the serial console"
hosts = "guests"
line = { path = "/etc/securetty", line = "ttyS0" }

[[step]]
name = "TLS libraries stay disabled"
hosts = "guests"
check_only = true
move_aside = { path = "/lib/tls", to = "/lib/tls.disabled" }
"#;

fn check(fleet: &Fleet) -> Run {
    fleet.vmup(&[
        "check",
        "-i",
        "inventory.toml",
        "check.toml",
        "-F",
        "ssh_config",
        "--json",
    ])
}

/// Each host's reason lines as `kind: step: text`.
fn reasons(run: &Run, host: &str) -> Vec<String> {
    let line = &run.hosts()[host];
    line["reasons"]
        .as_array()
        .unwrap_or_else(|| panic!("{host} has no reasons: {line}\n{}", run.stderr))
        .iter()
        .map(|r| {
            format!(
                "{}: {}: {}",
                r["kind"].as_str().unwrap(),
                r["step"].as_str().unwrap_or("-"),
                r["text"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn check_over_ssh_names_a_guest_booted_without_its_modules() {
    let fleet = Fleet::up(2);
    std::fs::write(fleet.path("check.toml"), RUNBOOK).unwrap();
    let guests = fleet.guests();
    let (broken, fine) = (&guests[0], &guests[1]);
    fleet.exec(broken, "rm -rf /lib/modules/2.6.9-55.ELxenU");
    let securetty = fleet.exec(fine, "cat /etc/securetty");

    fleet.sh("clear-counts", &[]);
    let run = check(&fleet);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let securetty_reason = |line: usize| {
        format!(
            "change: step 1 (root login on the serial console): append \"ttyS0\" as line {line}"
        )
    };
    let line = securetty.lines().count() + 1;
    let tls = "check: step 2 (TLS libraries stay disabled): rename /lib/tls to /lib/tls.disabled";
    let kernel = "kernel: -: host boots 2.6.9-55.ELxenU but /lib/modules/2.6.9-55.ELxenU is missing: the guest will come up without disk and network drivers";
    assert_eq!(
        reasons(&run, broken),
        [securetty_reason(line), tls.to_string(), kernel.to_string()]
    );
    assert_eq!(
        reasons(&run, fine),
        [securetty_reason(line), tls.to_string()]
    );
    assert_eq!(run.hosts()["xen1"]["verdict"], "OK");
    // Guests: their facts and their kernel inventory; xen1: its facts and the pre-phase
    // (domain configs, then the link walks).
    for g in &guests {
        assert_eq!(fleet.count("count-commands", g), 2, "round trips on {g}");
    }
    assert_eq!(
        fleet.count("count-commands", "xen1"),
        3,
        "round trips on xen1"
    );
    assert_eq!(
        fleet.exec(fine, "cat /etc/securetty"),
        securetty,
        "check changes nothing"
    );

    // apply converges what the runbook can change; the booted kernel's modules stay gone,
    // and the check-only step is never applied.
    let apply = fleet.vmup(&[
        "apply",
        "-i",
        "inventory.toml",
        "check.toml",
        "-F",
        "ssh_config",
    ]);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    let run = check(&fleet);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(reasons(&run, broken), [tls, kernel]);
    assert_eq!(reasons(&run, fine), [tls]);

    // The modules back and /lib/tls moved aside by hand: every host OK.
    fleet.exec(broken, "mkdir -p /lib/modules/2.6.9-55.ELxenU");
    for g in &guests {
        fleet.exec(g, "mv /lib/tls /lib/tls.disabled");
    }
    let run = check(&fleet);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    for (host, line) in run.hosts() {
        assert_eq!(line["verdict"], "OK", "{host}: {line}");
    }

    // An unreachable guest is neither OK nor Not OK; the run exits 4 (unreachable).
    fleet.sh("stop-host", &[fine]);
    let run = check(&fleet);
    assert_eq!(run.code, 4, "{}", run.stdout);
    let line = &run.hosts()[fine.as_str()];
    assert_eq!(line["status"], "unreachable", "{line}");
    assert_eq!(line["verdict"], serde_json::Value::Null);
    assert_eq!(run.hosts()[broken.as_str()]["verdict"], "OK");
    let summary = run.json().last().unwrap()["summary"].clone();
    assert_eq!(
        (&summary["not_ok"], &summary["unreachable"]),
        (&0.into(), &1.into()),
        "{summary}"
    );
}
