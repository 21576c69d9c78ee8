//! Colour on a real pseudo-terminal (`script` from bsdutils), none with `NO_COLOR`, in a pipe
//! or in `--json`, and `CLICOLOR_FORCE` reaching a pipe; a host's own escape bytes stay
//! escaped between vmup's colours.

use std::process::Command;

use crate::support::LocalFleet;

const RUNBOOK: &str = r#"[[step]]
line = { path = "/etc/securetty", line = "ttyS0" }
"#;

/// A fleet whose plan has a diff and a host that cannot be reached.
fn fleet() -> LocalFleet {
    let fleet = LocalFleet::new(&["g"]);
    // The file's second line carries an escape sequence that would erase a line.
    fleet.write("g", "/etc/securetty", b"console\n\x1b[2Kvc/1\n");
    let inventory = fleet.path().join("inventory.toml");
    let text = std::fs::read_to_string(&inventory).unwrap();
    std::fs::write(
        &inventory,
        format!("{text}\n[hosts.gone]\nroot = \"no-such-tree\"\n"),
    )
    .unwrap();
    fleet.runbook(RUNBOOK);
    fleet
}

const PLAN: &str = "plan -i inventory.toml runbook.toml";

/// `vmup ARGS` with standard output on a pseudo-terminal (standard error to a file, so the
/// live progress bar is not mixed in), under `env`.
fn on_a_terminal(fleet: &LocalFleet, args: &str, env: &[(&str, &str)]) -> String {
    let vmup = env!("CARGO_BIN_EXE_vmup");
    let mut cmd = Command::new("script");
    cmd.args(["-q", "-e", "-c"])
        .arg(format!("{vmup} {args} 2>stderr.txt"))
        .arg("/dev/null")
        .current_dir(fleet.path())
        .env("VMUP_HISTORY", crate::support::test_history())
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("script(1) from bsdutils runs");
    // 4: the unreachable host.
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n")
}

/// `vmup ARGS` with standard output in a pipe, under `env`.
fn in_a_pipe(fleet: &LocalFleet, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vmup"));
    cmd.args(args)
        .current_dir(fleet.path())
        .env("VMUP_HISTORY", crate::support::test_history())
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(4));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn colour_on_a_terminal_none_with_no_color_or_in_a_pipe() {
    let fleet = fleet();
    let coloured = on_a_terminal(&fleet, PLAN, &[]);
    for painted in [
        "      \x1b[32m+ttyS0\x1b[0m\n",
        "\x1b[1m== g (1 change(s) pending)\x1b[0m",
        "\x1b[33mchanged\x1b[0m",
        "\x1b[35munreachable\x1b[0m",
        ": \x1b[31mNOT CONVERGED\x1b[0m",
    ] {
        assert!(coloured.contains(painted), "{painted:?} in {coloured:?}");
    }
    // The host's escape byte is shown, not obeyed, even between colours.
    assert!(coloured.contains("\\x1b[2Kvc/1"), "{coloured:?}");
    assert!(!coloured.contains("\x1b[2K"), "{coloured:?}");

    let uncoloured = on_a_terminal(&fleet, PLAN, &[("NO_COLOR", "1")]);
    assert!(!uncoloured.contains('\x1b'), "{uncoloured:?}");
    assert!(uncoloured.contains("      +ttyS0\n"), "{uncoloured:?}");
    assert_eq!(
        digits(&crate::support::strip_escapes(&coloured)),
        digits(&uncoloured),
        "colour adds nothing but colour"
    );
    let both = on_a_terminal(&fleet, PLAN, &[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")]);
    assert!(!both.contains('\x1b'), "NO_COLOR wins: {both:?}");

    let args = ["plan", "-i", "inventory.toml", "runbook.toml"];
    let piped = in_a_pipe(&fleet, &args, &[]);
    assert!(!piped.contains('\x1b'), "{piped:?}");
    assert!(piped.contains("      +ttyS0\n"), "{piped:?}");
    let forced = in_a_pipe(&fleet, &args, &[("CLICOLOR_FORCE", "1")]);
    assert!(forced.contains("\x1b[32m+ttyS0\x1b[0m"), "{forced:?}");
    let not_forced = in_a_pipe(&fleet, &args, &[("CLICOLOR_FORCE", "0")]);
    assert!(!not_forced.contains('\x1b'), "{not_forced:?}");

    let json = on_a_terminal(
        &fleet,
        &format!("{PLAN} --json"),
        &[("CLICOLOR_FORCE", "1")],
    );
    assert!(
        !json.contains("\x1b["),
        "--json is never coloured: {json:?}"
    );
    for line in json.lines() {
        serde_json::from_str::<serde_json::Value>(line).unwrap();
    }
}

/// Every digit as 0: two runs differ in their timings only.
fn digits(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii_digit() { '0' } else { c })
        .collect()
}
