//! Values that could never converge, or would select more than asked, are refused at load
//! time with `file:line:column` (or the flag named), and nothing is run anywhere.

use crate::support::LocalFleet;

fn refused(rb: &str, want_at: &str, want: &str) {
    let fleet = LocalFleet::new(&["g"]);
    fleet.write("g", "/etc/securetty", b"console\n");
    let name = fleet.runbook(rb);
    let before = fleet.snapshot();
    let run = fleet.vmup(&["apply", "-i", "inventory.toml", name]);
    assert_eq!(run.code, 2, "{rb}: {}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(&format!("runbook.toml:{want_at}:")) && run.stderr.contains(want),
        "{rb}: {}",
        run.stderr
    );
    assert_eq!(before, fleet.snapshot(), "nothing was touched");
}

#[test]
fn a_line_with_a_carriage_return_is_refused() {
    refused(
        "[[step]]\nline = { path = \"/etc/securetty\", line = \"ttyS0\\r\" }\n",
        "2:42",
        "`line` must be a single line",
    );
}

#[test]
fn an_ini_section_with_a_bracket_and_a_value_with_a_newline_are_refused() {
    refused(
        "[[step]]\nini = { path = \"/etc/yum.conf\", section = \"main]x\", key = \"a\", value = \"1\" }\n",
        "2:43",
        "cannot be an INI section name",
    );
    refused(
        "[[step]]\nini = { path = \"/etc/yum.conf\", key = \"a\", value = \"1\\n2\" }\n",
        "2:52",
        "`value` must be a single line",
    );
    refused(
        "[[step]]\nini = { path = \"/etc/yum.conf\", key = \"a\", value = \"x ; y\" }\n",
        "2:52",
        "as the start of a comment",
    );
}

#[test]
fn paths_that_climb_are_refused() {
    refused(
        "[[step]]\nfile = { path = \"/etc/../../x\", content = \"\" }\n",
        "2:17",
        "must not contain `.` or `..` components",
    );
}

#[test]
fn empty_limits_and_zero_forks_or_batches_are_refused() {
    let fleet = LocalFleet::new(&["g"]);
    let rb = fleet.runbook("[[step]]\nline = { path = \"/etc/securetty\", line = \"ttyS0\" }\n");
    for (args, want) in [
        (&["--limit", ""][..], "empty host pattern"),
        (&["--limit", "g,"][..], "empty host pattern term"),
        (&["--forks", "0"][..], "--forks 0 would run no host"),
        (
            &["--serial", "0"][..],
            "--serial 0 makes batches of no host",
        ),
        (
            &["--serial", "0%"][..],
            "--serial 0 makes batches of no host",
        ),
    ] {
        let mut all = vec!["plan", "-i", "inventory.toml", rb];
        all.extend_from_slice(args);
        let run = fleet.vmup(&all);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(want), "{args:?}: {}", run.stderr);
    }
    let step = fleet.runbook(
        "[[step]]\nhosts = \"\"\nline = { path = \"/etc/securetty\", line = \"ttyS0\" }\n",
    );
    let run = fleet.vmup(&["plan", "-i", "inventory.toml", step]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("runbook.toml:2:9: empty host pattern"),
        "{}",
        run.stderr
    );
}
