//! `plan --out` and `apply --plan`: a host whose file changed after the plan was saved is
//! refused with the path named and left as it is, the others are applied; a plan made from
//! another runbook, inventory or `-e` value is refused whole. On a pseudo-terminal (`script`
//! from bsdutils) `apply` shows the plan and applies only after "yes".

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};

use crate::support::LocalFleet;

const RUNBOOK: &str = r#"[[step]]
line = { path = "/etc/securetty", line = "{{ console }}" }
"#;

fn fleet() -> LocalFleet {
    let fleet = LocalFleet::new(&["a", "b", "c"]);
    for h in ["a", "b", "c"] {
        fleet.write(h, "/etc/securetty", b"console\n");
    }
    fleet.runbook(RUNBOOK);
    fleet
}

const BASE: [&str; 6] = [
    "-i",
    "inventory.toml",
    "runbook.toml",
    "-e",
    "console=ttyS0",
    "--json",
];

fn args<'a>(command: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![command];
    args.extend_from_slice(&BASE);
    args.extend_from_slice(extra);
    args
}

#[test]
fn a_saved_plan_is_applied_where_it_still_holds_and_refused_where_a_file_changed() {
    let fleet = fleet();
    let plan = fleet.vmup(&args("plan", &["--out", "plan.json"]));
    assert_eq!(plan.code, 3, "{}\n{}", plan.stdout, plan.stderr);
    let saved = fleet.path().join("plan.json");
    let mode = std::fs::metadata(&saved).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "it holds diffs: owner only");
    let text = std::fs::read_to_string(&saved).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        json["hosts"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["a", "b", "c"]
    );

    // Another writer edits b after the review.
    fleet.write("b", "/etc/securetty", b"console\ntty1\n");
    let apply = fleet.vmup(&args("apply", &["--plan", "plan.json"]));
    assert_eq!(apply.code, 1, "{}\n{}", apply.stdout, apply.stderr);
    let hosts = apply.hosts();
    for h in ["a", "c"] {
        assert_eq!(hosts[h]["status"], "changed", "{}", hosts[h]);
        assert_eq!(fleet.read(h, "/etc/securetty"), b"console\nttyS0\n");
    }
    let b = &hosts["b"];
    assert_eq!(b["status"], "failed", "{b}");
    assert_eq!(b["changes"], serde_json::json!([]), "{b}");
    let error = b["error"].as_str().unwrap();
    assert!(
        error.starts_with("/etc/securetty changed since the plan was saved (the plan in plan.json): nothing was applied here"),
        "{error}"
    );
    assert_eq!(
        fleet.read("b", "/etc/securetty"),
        b"console\ntty1\n",
        "left as the other writer left it"
    );
    let retry = std::fs::read_to_string(fleet.path().join("vmup.retry")).unwrap();
    assert_eq!(
        retry
            .lines()
            .filter(|l| !l.starts_with('#'))
            .collect::<Vec<_>>(),
        ["b"]
    );
    // Applying the same plan again: a and c moved on too (their own apply), so every host
    // is refused now, and nothing is written.
    let again = fleet.vmup(&args("apply", &["--plan", "plan.json"]));
    assert_eq!(again.code, 1);
    assert!(again.hosts().values().all(|h| h["status"] == "failed"));
    assert_eq!(fleet.read("b", "/etc/securetty"), b"console\ntty1\n");
}

#[test]
fn a_plan_made_from_other_inputs_is_refused_before_any_host_is_contacted() {
    let fleet = fleet();
    let plan = fleet.vmup(&args("plan", &["--out", "plan.json"]));
    assert_eq!(plan.code, 3, "{}", plan.stderr);
    let refused = |run: crate::support::Run, why: &str| {
        assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
        assert!(
            run.stderr
                .starts_with(&format!("error: --plan plan.json: {why}")),
            "{why:?} in {}",
            run.stderr
        );
        assert!(run.stdout.is_empty(), "{}", run.stdout);
    };
    let mut other_value = args("apply", &["--plan", "plan.json"]);
    other_value[5] = "console=ttyS1";
    refused(
        fleet.vmup(&other_value),
        "the -e values changed since the plan was made",
    );
    fleet.runbook(&format!("{RUNBOOK}\n# edited\n"));
    refused(
        fleet.vmup(&args("apply", &["--plan", "plan.json"])),
        "the runbook changed since the plan was made",
    );
    fleet.runbook(RUNBOOK);
    std::fs::write(fleet.path().join("plan.json"), "{\"vmup_plan\": 1,\n  nope").unwrap();
    let broken = fleet.vmup(&args("apply", &["--plan", "plan.json"]));
    assert_eq!(broken.code, 2);
    assert!(
        broken
            .stderr
            .starts_with("error: plan.json:2:3: not a vmup plan: "),
        "{}",
        broken.stderr
    );
    let misplaced = fleet.vmup(&args("apply", &["--out", "x.json"]));
    assert_eq!(misplaced.code, 2);
    assert!(
        misplaced
            .stderr
            .starts_with("error: --out FILE is for plan")
    );
    assert!(!fleet.path().join("x.json").exists());
    for h in ["a", "b", "c"] {
        assert_eq!(
            fleet.read(h, "/etc/securetty"),
            b"console\n",
            "{h} untouched"
        );
    }
}

/// `vmup apply` on a pseudo-terminal, answering `answer` to its question.
fn at_a_terminal(fleet: &LocalFleet, extra: &str, answer: &str) -> (i32, String) {
    let vmup = env!("CARGO_BIN_EXE_vmup");
    let mut child = Command::new("script")
        .args(["-q", "-e", "-c"])
        .arg(format!(
            "{vmup} apply -i inventory.toml runbook.toml -e console=ttyS0 {extra} 2>&1"
        ))
        .arg("/dev/null")
        .current_dir(fleet.path())
        .env("VMUP_HISTORY", crate::support::test_history())
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("script(1) from bsdutils runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(answer.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n"),
    )
}

#[test]
fn at_a_terminal_apply_asks_and_applies_only_after_yes() {
    let fleet = fleet();
    let question = "Apply 3 change(s) on 3 host(s) as planned above? Only \"yes\" applies: ";
    let (code, out) = at_a_terminal(&fleet, "", "no\n");
    assert_eq!(code, 3, "{out}");
    assert!(
        out.contains("== a, b, c (1 change(s) pending each)"),
        "{out}"
    );
    assert!(out.contains(question), "{out}");
    assert!(
        out.contains("apply cancelled: nothing was changed"),
        "{out}"
    );
    assert_eq!(fleet.read("a", "/etc/securetty"), b"console\n");

    let (code, out) = at_a_terminal(&fleet, "", "yes\n");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(question), "{out}");
    assert!(
        out.contains("== a, b, c (1 change(s) applied, verified each)"),
        "{out}"
    );
    for h in ["a", "b", "c"] {
        assert_eq!(fleet.read(h, "/etc/securetty"), b"console\nttyS0\n");
    }

    // Nothing left to change: no question. --yes and --confirm-above skip it too.
    let (code, out) = at_a_terminal(&fleet, "", "");
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("Only \"yes\""), "{out}");
    for h in ["a", "b", "c"] {
        fleet.write(h, "/etc/securetty", b"console\n");
    }
    let (code, out) = at_a_terminal(&fleet, "--confirm-above 3", "");
    assert_eq!(code, 0, "{out}");
    assert!(
        !out.contains("Only \"yes\""),
        "three hosts are not more than 3: {out}"
    );
    assert!(out.contains("applied, verified each"), "{out}");
    fleet.write("a", "/etc/securetty", b"console\n");
    let (code, out) = at_a_terminal(&fleet, "--yes", "");
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("Only \"yes\""), "{out}");
    assert_eq!(fleet.read("a", "/etc/securetty"), b"console\nttyS0\n");
}
