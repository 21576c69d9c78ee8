//! `vmup report`: the HTML page of a 50-host local apply (changed, ok, failed and
//! unreachable hosts) opened in a real headless chromium, once: a screenshot is taken, the
//! page's JavaScript ran without an error and the counts it shows are the summary line's;
//! a file holding `<script>` and `</details>` shows as text; an apply and a `kernels` run
//! of one fleet merge into the kernel matrix; a file that is not vmup JSON lines, or is
//! empty, is bad input naming file:line. About 3 s, chromium included.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{LocalFleet, Run};

const RUNBOOK: &str = "[[step]]\nname = \"root login on the serial console\"\nline = { path = \"/etc/securetty\", line = \"ttyS0\" }\n";

/// Host content that would be markup if it were not escaped.
const HOSTILE: &str =
    "console\n<script>alert(1)</script>\n</details></pre><b id=\"injected\">x</b>\n";

/// 50 hosts: h01 with [`HOSTILE`], h02-h30 without ttyS0 (changed), h31-h44 with it (ok),
/// h45-h47 whose securetty is a directory (failed), h48-h50 whose root is a file
/// (unreachable).
fn fifty() -> LocalFleet {
    let names: Vec<String> = (1..=50).map(|i| format!("h{i:02}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let fleet = LocalFleet::new(&names);
    for (i, name) in names.iter().enumerate() {
        match i + 1 {
            1 => fleet.write(name, "/etc/securetty", HOSTILE.as_bytes()),
            2..=30 => fleet.write(name, "/etc/securetty", b"console\n"),
            31..=44 => fleet.write(name, "/etc/securetty", b"console\nttyS0\n"),
            45..=47 => std::fs::create_dir_all(fleet.file(name, "/etc/securetty")).unwrap(),
            _ => {
                std::fs::remove_dir_all(fleet.path().join(name)).unwrap();
                std::fs::write(fleet.path().join(name), "not a tree\n").unwrap();
            }
        }
    }
    fleet.runbook(RUNBOOK);
    fleet
}

/// Runs `vmup report ARGS` in the fleet directory.
fn report(fleet: &LocalFleet, args: &[&str]) -> Run {
    let mut all = vec!["report"];
    all.extend_from_slice(args);
    fleet.vmup(&all)
}

/// What chromium made of a page: the DOM after its scripts ran, and its log.
struct Rendered {
    dom: String,
    log: String,
}

/// Opens `page` in headless chromium once, with its own profile directory, taking a
/// screenshot to `shot` and dumping the DOM. Chromium must be installed
/// (scripts/install-deps.sh): this test does not skip. Only the process group started
/// here is killed, if it outlives the timeout.
fn chromium(page: &Path, shot: &Path) -> Rendered {
    use std::os::unix::process::CommandExt;
    let profile = tempfile::tempdir().unwrap();
    let log = tempfile::NamedTempFile::new().unwrap();
    let dom = tempfile::NamedTempFile::new().unwrap();
    let mut child = Command::new("chromium")
        .args([
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1200,1600",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(dom.reopen().unwrap())
        .stderr(log.reopen().unwrap())
        .process_group(0)
        .spawn()
        .expect("chromium runs (scripts/install-deps.sh installs it)");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(45) {
            let group = nix::unistd::Pid::from_raw(child.id() as i32);
            let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
            let _ = child.wait();
            panic!("chromium did not finish in 45 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let rendered = Rendered {
        dom: std::fs::read_to_string(dom.path()).unwrap(),
        log: std::fs::read_to_string(log.path()).unwrap(),
    };
    assert!(status.success(), "chromium: {status}\n{}", rendered.log);
    rendered
}

/// The text of the first element of `dom` whose opening tag contains `attrs`.
fn text_of<'a>(dom: &'a str, attrs: &str) -> Option<&'a str> {
    let at = dom.find(attrs)?;
    let rest = &dom[at..];
    let start = rest.find('>')? + 1;
    let end = rest[start..].find('<')?;
    Some(&rest[start..start + end])
}

#[test]
fn html_report_of_a_50_host_apply_opens_in_chromium_with_the_summarys_counts() {
    let fleet = fifty();
    let apply = fleet.vmup(&["apply", "-i", "inventory.toml", "runbook.toml", "--json"]);
    assert_eq!(apply.code, 1, "{}\n{}", apply.stdout, apply.stderr);
    std::fs::write(fleet.path().join("run.jsonl"), &apply.stdout).unwrap();
    let lines = apply.json();
    let summary = &lines.last().unwrap()["summary"];
    for (status, n) in [
        ("changed", 30),
        ("ok", 14),
        ("failed", 3),
        ("unreachable", 3),
    ] {
        assert_eq!(summary[status], n, "{summary}");
    }

    let made = report(&fleet, &["run.jsonl", "--html", "report.html"]);
    assert_eq!(made.code, 0, "{}", made.stderr);
    assert!(made.stdout.is_empty(), "{}", made.stdout);
    let html = std::fs::read_to_string(fleet.path().join("report.html")).unwrap();
    for fetched in ["http:", "https:", "src=", "href=", "@import", "url("] {
        assert!(
            !html.contains(fetched),
            "the page fetches something: {fetched}"
        );
    }

    let shot = fleet.path().join("report.png");
    let page = chromium(&fleet.path().join("report.html"), &shot);
    let png = std::fs::read(&shot).expect("a screenshot");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "{} bytes",
        png.len()
    );

    // The JavaScript ran to its end and nothing reached the console (uncaught errors, CSP
    // violations: chromium logs each as a CONSOLE line).
    assert!(page.dom.contains("data-js=\"ready\""), "{}", page.dom);
    assert!(!page.dom.contains("id=\"js-errors\""), "{}", page.dom);
    let console: Vec<&str> = page
        .log
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .collect();
    assert!(console.is_empty(), "console: {console:#?}");

    // The counts the JavaScript computed from the hosts shown are the summary line's.
    for status in [
        "failed",
        "unreachable",
        "held",
        "not_ok",
        "skipped",
        "changed",
        "ok",
    ] {
        let shown = text_of(
            &page.dom,
            &format!("class=\"shown\" data-status=\"{status}\""),
        );
        assert_eq!(
            shown,
            Some(summary[status].to_string().as_str()),
            "{status} in {}",
            page.dom
        );
    }
    assert_eq!(
        text_of(&page.dom, "class=\"shown\" data-status=\"hosts\""),
        Some("50")
    );
    assert!(page.dom.contains("data-agrees=\"true\""));
    assert_eq!(text_of(&page.dom, "id=\"js-status\""), Some("50 host(s)."));

    // The host's file is text in the diff: no element was injected, the only script is
    // the page's own, and the groups are intact (each host listed once).
    assert!(!page.dom.contains("<b id=\"injected\""), "{}", page.dom);
    assert!(!html.contains("<script>alert"), "escaped in the file too");
    assert_eq!(page.dom.matches("<script").count(), 1);
    assert!(
        page.dom.contains(
            "<span class=\"ctx\"> &lt;/details&gt;&lt;/pre&gt;&lt;b id=\"injected\"&gt;x&lt;/b&gt;</span>"
        ),
        "{}",
        page.dom
    );
    assert!(page.dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_eq!(page.dom.matches("<li class=\"host\"").count(), 50);
    assert_eq!(
        page.dom.matches("<details class=\"group").count(),
        7,
        "h01's diff, the other 29 changed, ok, failed, and one per unreachable host (its error names its root)"
    );
    assert!(html.contains("/etc/securetty is a directory, not a regular file"));
    assert!(html.contains("its root h48 is not a directory"));
}

/// `xen1` boots ng2 and ng3 with 2.6.9-55.ELxenU; ng2 has only 67.0.1's modules.
fn guests() -> LocalFleet {
    let fleet = LocalFleet::new(&["xen1", "ng2", "ng3"]);
    let mut inv = String::from(
        "[defaults]\ntransport = \"local\"\n\n[hosts.xen1]\nroot = \"xen1\"\nrole = \"host\"\n",
    );
    for (g, modules) in [("ng2", "2.6.9-67.0.1.ELxenU"), ("ng3", "2.6.9-55.ELxenU")] {
        let domain = g.to_uppercase();
        inv.push_str(&format!(
            "\n[hosts.{g}]\nroot = \"{g}\"\nhost = \"xen1\"\ndomain = \"{domain}\"\ndomain_config = \"/etc/xen/{domain}\"\n"
        ));
        fleet.write(
            "xen1",
            &format!("/etc/xen/{domain}"),
            format!("name = \"{domain}\"\nkernel = \"/boot/vmlinuz-2.6.9-55.ELxenU\"\n").as_bytes(),
        );
        fleet.write(g, &format!("/lib/modules/{modules}/modules.dep"), b"");
        fleet.write(g, "/etc/securetty", b"console\n");
    }
    fleet.write("xen1", "/boot/vmlinuz-2.6.9-55.ELxenU", b"placeholder\n");
    std::fs::write(fleet.path().join("inventory.toml"), inv).unwrap();
    fleet.runbook(&RUNBOOK.replace("\nline = ", "\nhosts = \"guests\"\nline = "));
    fleet
}

#[test]
fn an_apply_and_a_kernels_run_merge_into_the_kernel_matrix() {
    let fleet = guests();
    let apply = fleet.vmup(&["apply", "-i", "inventory.toml", "runbook.toml", "--json"]);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    std::fs::write(fleet.path().join("apply.jsonl"), &apply.stdout).unwrap();
    let kernels = fleet.vmup(&["kernels", "-i", "inventory.toml", "--json"]);
    assert!(!kernels.stdout.is_empty(), "{}", kernels.stderr);
    std::fs::write(fleet.path().join("kernels.jsonl"), &kernels.stdout).unwrap();

    let made = report(
        &fleet,
        &["apply.jsonl", "kernels.jsonl", "--html", "report.html"],
    );
    assert_eq!(made.code, 0, "{}", made.stderr);
    let html = std::fs::read_to_string(fleet.path().join("report.html")).unwrap();
    assert!(
        html.contains("Run 1: apply from <code>apply.jsonl</code>"),
        "{html}"
    );
    assert!(
        html.contains("Run 2: kernels from <code>kernels.jsonl</code>"),
        "{html}"
    );
    let rows: Vec<&str> = html
        .lines()
        .filter(|l| l.starts_with("<tr class=\"kernel\""))
        .collect();
    assert_eq!(rows.len(), 2, "one row per guest: {rows:#?}");
    assert!(
        rows[0].contains("data-host=\"ng2\" data-status=\"bad\""),
        "{}",
        rows[0]
    );
    assert!(
        rows[0].contains(
            "<td class=\"booted\">2.6.9-55.ELxenU <span class=\"via\">(xen1)</span></td>"
        ),
        "{}",
        rows[0]
    );
    assert!(
        rows[0].contains("/lib/modules/2.6.9-55.ELxenU is missing"),
        "{}",
        rows[0]
    );
    assert!(
        rows[1].contains("data-host=\"ng3\" data-status=\"ok\""),
        "{}",
        rows[1]
    );
    assert!(rows[1].contains("<td class=\"running\">"), "{}", rows[1]);

    // The same from standard input, to standard output.
    let piped = Command::new(env!("CARGO_BIN_EXE_vmup"))
        .args(["report", "-", "--html", "-"])
        .stdin(std::fs::File::open(fleet.path().join("kernels.jsonl")).unwrap())
        .output()
        .unwrap();
    assert!(piped.status.success());
    let text = String::from_utf8(piped.stdout).unwrap();
    assert!(text.starts_with("<!DOCTYPE html>") && text.contains("data-host=\"ng3\""));
}

#[test]
fn a_file_that_is_not_vmup_json_lines_is_bad_input_naming_file_and_line() {
    let fleet = LocalFleet::new(&[]);
    let summary = "{\"summary\":{\"hosts\":0,\"ok\":0,\"changed\":0,\"failed\":0,\"unreachable\":0,\"skipped\":0,\"held\":0,\"not_ok\":0,\"changes\":0,\"interrupted\":false,\"elapsed\":0.0}}\n";
    std::fs::write(fleet.path().join("good.jsonl"), summary).unwrap();
    std::fs::write(
        fleet.path().join("notes.txt"),
        format!("{summary}apply went fine\n"),
    )
    .unwrap();
    std::fs::write(fleet.path().join("empty.jsonl"), "").unwrap();
    for (file, starts) in [
        ("notes.txt", "error: notes.txt:2: not a JSON line"),
        (
            "empty.jsonl",
            "error: empty.jsonl:1: empty: no host or summary lines",
        ),
    ] {
        let run = report(&fleet, &["good.jsonl", file, "--html", "out.html"]);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(run.stderr.starts_with(starts), "{}", run.stderr);
        assert!(
            run.stderr
                .contains("hint: give the standard output of `vmup apply --json`"),
            "{}",
            run.stderr
        );
        assert!(!fleet.path().join("out.html").exists(), "nothing written");
    }
    let missing = report(&fleet, &["nope.jsonl", "--html", "out.html"]);
    assert_eq!(missing.code, 2);
    assert!(
        missing.stderr.starts_with("error: cannot read nope.jsonl:"),
        "{}",
        missing.stderr
    );
}
