//! Reads the transaction table dnf and yum print before asking "Is this ok" (here answered
//! by `--assumeno`), so check mode can list exactly what a package step would install,
//! upgrade and remove, and from which repository.
//!
//! The table has section headers such as `Installing:`, `Upgrading:` (yum: `Updating:`),
//! `Installing dependencies:` (yum: `Installing for dependencies:`), `Removing:` (yum also
//! `Erasing:`), `Downgrading:`; under each, one indented line per package:
//! `NAME ARCH VERSION REPOSITORY SIZE`. A name too long for its column stands alone on its
//! line and the rest follows on the next one. `replacing NAME.ARCH VERSION` lines (dnf,
//! obsoletes) are kept as removals. `Nothing to do.` / `No Packages marked` mean an empty
//! transaction; an `Error:` line (a dependency problem) is the error, with the lines after
//! it, except `Error: Operation aborted.`, which is how `dnf --assumeno shell` declines.

/// What happens to one package in the transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TxAction {
    /// Newly installed (asked for, or installed alongside as an install-only package).
    Install,
    /// Installed because something needs it.
    Dependency,
    /// Replaced by a newer version.
    Upgrade,
    /// Replaced by an older version.
    Downgrade,
    /// Installed again, same version.
    Reinstall,
    /// Removed (asked for, needed by a removal, or obsoleted).
    Remove,
}

impl TxAction {
    /// The verb shown in plans.
    pub fn verb(self) -> &'static str {
        match self {
            TxAction::Install => "install",
            TxAction::Dependency => "install (dependency)",
            TxAction::Upgrade => "upgrade",
            TxAction::Downgrade => "downgrade",
            TxAction::Reinstall => "reinstall",
            TxAction::Remove => "remove",
        }
    }
}

/// One line of the transaction table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TxPackage {
    /// What happens to it.
    pub action: TxAction,
    /// Package name.
    pub name: String,
    /// Architecture.
    pub arch: String,
    /// `[E:]V-R` as printed.
    pub version: String,
    /// Repository it comes from (`@System` / `installed` for removals).
    pub repo: String,
}

impl TxPackage {
    /// The entry as an rpm package (`[E:]V-R` split): what a later step can know of a
    /// package an earlier one installs.
    pub fn package(&self) -> Option<super::rpmqa::Package> {
        let (epoch, vr) = match self.version.split_once(':') {
            Some((e, vr)) => (e.parse().ok(), vr),
            None => (None, self.version.as_str()),
        };
        let (version, release) = vr.rsplit_once('-')?;
        Some(super::rpmqa::Package {
            name: self.name.clone(),
            epoch,
            version: version.to_string(),
            release: release.to_string(),
            arch: self.arch.clone(),
        })
    }

    /// `upgrade kernel-xenU-2.6.9-78.EL.noarch from monash-a`.
    pub fn describe(&self) -> String {
        let from = match self.action {
            TxAction::Remove => String::new(),
            _ => format!(" from {}", self.repo),
        };
        format!(
            "{} {}-{}.{}{from}",
            self.action.verb(),
            self.name,
            self.version,
            self.arch
        )
    }
}

/// The outcome of a previewed transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Preview {
    /// Nothing would change.
    Nothing,
    /// These packages would change, in table order.
    Transaction(Vec<TxPackage>),
    /// The package manager refused: its message.
    Error(String),
    /// No honest preview of this transaction exists on this host (a yum too old to read
    /// the repository files earlier steps write): why. The step runs only with
    /// `preview = "none"`, and then the plan says the packages are not previewed.
    Unavailable(String),
}

/// Parses the combined output of `dnf|yum --assumeno ...` and its exit status.
pub fn parse_preview(output: &str, status: i32) -> Preview {
    let mut nothing = false;
    let lines: Vec<&str> = output.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if let Some(rest) = line.strip_prefix("Error:") {
            if rest.trim() == "Operation aborted." {
                // `dnf --assumeno shell FILE` says it this way, then "Nothing to do".
                continue;
            }
            let mut message: Vec<&str> = vec![rest.trim()];
            message.extend(lines[i + 1..].iter().map(|l| l.trim()));
            let message: Vec<&str> = message.into_iter().filter(|l| !l.is_empty()).collect();
            return Preview::Error(message.join("\n"));
        }
        if line.starts_with("Nothing to do") || line.starts_with("No Packages marked") {
            nothing = true;
        }
    }
    let packages = read_table(&lines);
    if !packages.is_empty() {
        Preview::Transaction(packages)
    } else if nothing || status == 0 {
        Preview::Nothing
    } else {
        let tail: Vec<&str> = lines
            .iter()
            .rev()
            .filter(|l| !l.trim().is_empty())
            .take(5)
            .copied()
            .collect();
        Preview::Error(format!(
            "exit status {status}: {}",
            tail.into_iter().rev().collect::<Vec<_>>().join(" / ")
        ))
    }
}

/// The packages of a transaction table (dnf's, or yum's from 2.4 on: the same section
/// headers and `NAME ARCH VERSION REPOSITORY SIZE` rows), in table order. Lines outside
/// a known section are skipped.
pub fn read_table(lines: &[&str]) -> Vec<TxPackage> {
    let mut packages = Vec::new();
    let mut section: Option<TxAction> = None;
    let mut pending_name: Option<String> = None;
    for line in lines {
        if !line.starts_with(' ') {
            section = line.strip_suffix(':').and_then(section_action);
            pending_name = None;
            continue;
        }
        let Some(action) = section else { continue };
        let mut words: Vec<&str> = line.split_whitespace().collect();
        if words.first() == Some(&"replacing") {
            if let [_, name_arch, version, ..] = words.as_slice() {
                let (name, arch) = name_arch.rsplit_once('.').unwrap_or((name_arch, ""));
                packages.push(TxPackage {
                    action: TxAction::Remove,
                    name: name.to_string(),
                    arch: arch.to_string(),
                    version: version.to_string(),
                    repo: "@System".into(),
                });
            }
            continue;
        }
        let joined;
        if let Some(name) = pending_name.take() {
            joined = name;
            words.insert(0, &joined);
        }
        match words.as_slice() {
            [name] => pending_name = Some(name.to_string()),
            [name, arch, version, repo, ..] => packages.push(TxPackage {
                action,
                name: name.to_string(),
                arch: arch.to_string(),
                version: version.to_string(),
                repo: repo.to_string(),
            }),
            _ => {}
        }
    }
    packages
}

fn section_action(header: &str) -> Option<TxAction> {
    Some(match header {
        "Installing" | "Installing weak dependencies" => TxAction::Install,
        "Installing dependencies" | "Installing for dependencies" => TxAction::Dependency,
        "Upgrading" | "Updating" | "Upgrading dependencies" | "Updating for dependencies" => {
            TxAction::Upgrade
        }
        "Downgrading" => TxAction::Downgrade,
        "Reinstalling" => TxAction::Reinstall,
        "Removing"
        | "Erasing"
        | "Removing dependent packages"
        | "Removing for dependencies"
        | "Removing unused dependencies"
        | "Obsoleting" => TxAction::Remove,
        _ => return None,
    })
}

/// The files rpm left beside their originals during a transaction, from its warnings:
/// `warning: /etc/x created as /etc/x.rpmnew` and `warning: /etc/x saved as /etc/x.rpmsave`.
/// Returns (original, new file) pairs.
pub fn config_warnings(output: &str) -> Vec<(String, String)> {
    output
        .lines()
        .filter_map(|line| {
            let rest = line.trim().strip_prefix("warning: ")?;
            let (old, new) = rest
                .split_once(" created as ")
                .or_else(|| rest.split_once(" saved as "))?;
            Some((old.trim().to_string(), new.trim().to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tx(text: &str, status: i32) -> Vec<TxPackage> {
        match parse_preview(text, status) {
            Preview::Transaction(p) => p,
            other => panic!("{other:?}"),
        }
    }

    fn short(p: &[TxPackage]) -> Vec<String> {
        p.iter().map(TxPackage::describe).collect()
    }

    #[test]
    fn dnf_update_lists_upgrades_with_repos() {
        let p = tx(include_str!("testdata/dnf-update.txt"), 1);
        assert_eq!(
            short(&p),
            [
                "upgrade kernel-xenU-2.6.9-78.EL.noarch from monash-a",
                "upgrade kernel-xenU-devel-2.6.9-78.EL.noarch from monash-a"
            ]
        );
    }

    #[test]
    fn dnf_install_only_kernels_are_installs() {
        let p = tx(include_str!("testdata/dnf-installonly.txt"), 1);
        assert!(p.iter().all(|p| p.action == TxAction::Install), "{p:?}");
    }

    #[test]
    fn dnf_swap_has_installs_dependencies_and_the_removal() {
        let p = tx(include_str!("testdata/dnf-swap.txt"), 1);
        assert_eq!(
            short(&p),
            [
                "install APAC-gateway-gridpulse-2.0-1.noarch from other-b",
                "install (dependency) libgridpulse-helper-with-a-long-name-1.0-1.noarch from other-b",
                "remove Gpulse-1.0-1.noarch"
            ]
        );
    }

    #[test]
    fn dnf_error_is_the_problem_text() {
        match parse_preview(include_str!("testdata/dnf-swaperr.txt"), 1) {
            Preview::Error(m) => assert!(
                m.contains("nothing provides missing-thing needed by broken-gridpulse"),
                "{m}"
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn dnf_shell_transaction_is_read_despite_its_abort_error() {
        let p = tx(include_str!("testdata/dnf-shell.txt"), 0);
        assert_eq!(
            short(&p),
            [
                "install APAC-gateway-gridpulse-2.0-1.noarch from other-b",
                "install (dependency) libgridpulse-helper-with-a-long-name-1.0-1.noarch from other-b",
                "remove Gpulse-1.0-1.noarch"
            ]
        );
    }

    #[test]
    fn nothing_to_do() {
        assert_eq!(
            parse_preview(include_str!("testdata/dnf-noop.txt"), 0),
            Preview::Nothing
        );
        assert_eq!(parse_preview("", 0), Preview::Nothing);
        assert!(matches!(
            parse_preview("dnf: command not found\n", 127),
            Preview::Error(m) if m.contains("127")
        ));
    }

    #[test]
    fn dnf_remove_and_pinned() {
        let p = tx(include_str!("testdata/dnf-remove.txt"), 1);
        assert_eq!(short(&p), ["remove Gpulse-1.0-1.noarch"]);
        let p = tx(include_str!("testdata/dnf-pinned.txt"), 1);
        assert!(p.iter().all(|p| p.repo == "monash-a"));
    }

    #[test]
    fn yum_table_with_a_wrapped_name() {
        let p = tx(include_str!("testdata/yum-update.txt"), 1);
        assert_eq!(
            short(&p),
            [
                "upgrade kernel-xenU-2.6.9-67.0.1.EL.i686 from monashupdates",
                "upgrade kernel-xenU-devel-2.6.9-67.0.1.EL.i686 from monashupdates",
                "install (dependency) python24-libs-with-a-rather-long-package-name-2.4.3-1.i386 from monashbase",
                "remove Gpulse-1.0-1.noarch"
            ]
        );
    }

    #[test]
    fn dnf_obsoletes_show_the_replaced_package() {
        let text = "Installing:\n new  noarch  2-1  repo  1 k\n     replacing  old.noarch 1-1\n\n";
        assert_eq!(
            short(&tx(text, 1)),
            ["install new-2-1.noarch from repo", "remove old-1-1.noarch"]
        );
    }

    #[test]
    fn rpmnew_warnings() {
        let out = "Upgrading : foo\nwarning: /etc/foo.conf created as /etc/foo.conf.rpmnew\nwarning: /etc/bar saved as /etc/bar.rpmsave\n";
        assert_eq!(
            config_warnings(out),
            [
                (
                    "/etc/foo.conf".to_string(),
                    "/etc/foo.conf.rpmnew".to_string()
                ),
                ("/etc/bar".to_string(), "/etc/bar.rpmsave".to_string())
            ]
        );
    }
}
