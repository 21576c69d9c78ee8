//! The shell completions and manual pages in `doc/` are what the binary prints now: a
//! changed argument or help text without `scripts/gen-docs.sh` fails here, so packagers
//! never ship stale copies.

use std::path::Path;

use crate::support::vmup;

fn committed(path: &str) -> String {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("{}: {e}; run scripts/gen-docs.sh", file.display()))
}

fn printed(args: &[&str]) -> String {
    let run = vmup(Path::new(env!("CARGO_MANIFEST_DIR")), args);
    assert_eq!(run.code, 0, "vmup {args:?}: {}", run.stderr);
    run.stdout
}

#[test]
fn the_committed_completions_and_man_pages_are_current() {
    let stale = "is stale: run scripts/gen-docs.sh and commit doc/";
    for (shell, file) in [
        ("bash", "doc/completions/vmup.bash"),
        ("zsh", "doc/completions/_vmup"),
        ("fish", "doc/completions/vmup.fish"),
    ] {
        assert!(
            printed(&["completions", shell]) == committed(file),
            "{file} {stale}"
        );
    }
    let pages = printed(&["man", "--list"]);
    let pages: Vec<&str> = pages.lines().collect();
    assert!(
        pages.contains(&"apply") && pages.contains(&"recreate"),
        "{pages:?}"
    );
    assert!(
        printed(&["man"]) == committed("doc/man/vmup.1"),
        "doc/man/vmup.1 {stale}"
    );
    for page in &pages {
        let file = format!("doc/man/vmup-{page}.1");
        assert!(
            printed(&["man", page]) == committed(&file),
            "{file} {stale}"
        );
    }
    // No page for a subcommand that is gone.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("doc/man");
    let files = std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0);
    assert_eq!(files, pages.len() + 1, "doc/man {stale}");
    // The bash script is valid bash; the apply page names its options.
    let syntax = std::process::Command::new("bash")
        .arg("-n")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("doc/completions/vmup.bash"))
        .output()
        .expect("bash runs");
    assert!(
        syntax.status.success(),
        "{}",
        String::from_utf8_lossy(&syntax.stderr)
    );
    assert!(committed("doc/man/vmup-apply.1").contains("\\-\\-retry\\-file"));
    let unknown = vmup(Path::new("."), &["man", "nope"]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown.stderr.contains("the pages are: plan, apply"),
        "{}",
        unknown.stderr
    );
}
