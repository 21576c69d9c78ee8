//! The `packages` step planned from captured facts: dnf, yum 3.4.3+ and yum 2.4 outputs.
use super::*;
use crate::facts::Facts;
use crate::remote::Expect;

fn resource(spec: &str) -> PackagesResource {
    PackagesResource::from_spec(&toml::from_str(spec).unwrap()).unwrap()
}

fn facts(r: &PackagesResource, pm: &str, preview: &str, status: i32) -> Facts {
    let mut facts = Facts::default();
    facts.insert(&PackageManager, pm.as_bytes(), 0);
    facts.insert(&r.preview, preview.as_bytes(), status);
    for (_, path) in CONFIGS {
        facts.paths.insert(
            path.into(),
            PathFact::root_file(
                b"[main]
gpgcheck=0
",
            ),
        );
    }
    facts
}

#[test]
fn a_package_an_earlier_transaction_removes_is_installed_again() {
    // The seed's Grid host: the update removed python24; the preview, made before the
    // run, finds it installed.
    let r = resource("install = [\"python24\", \"python24-devel\"]");
    let facts = facts(&r, "yum\n3.4.3\n", "Nothing to do\n", 0);
    let mut view = HostView::new(&facts);
    assert_eq!(r.plan(&view).unwrap().changes.len(), 0);
    let removed = |name: &str| TxPackage {
        action: TxAction::Remove,
        name: name.into(),
        arch: "i386".into(),
        version: "2.4.3-21.el4".into(),
        repo: "installed".into(),
    };
    view.record_transaction(
        "step 4 (full update)",
        &[removed("python24"), removed("python24-devel"), removed("other")],
    );
    let plan = r.plan(&view).unwrap();
    assert_eq!(
        plan.changes[0].summary,
        "yum install python24 python24-devel: 2 package(s) in one transaction"
    );
    let detail = plan.changes[0].detail.clone().unwrap_or_default();
    assert!(
        detail.contains("install python24-2.4.3-21.el4.i386 from the enabled repositories"),
        "{detail}"
    );
    assert!(
        detail.contains("the preview found python24 installed, but step 4 (full update) removes it"),
        "{detail}"
    );
    assert_eq!(plan.transaction.len(), 2, "later values see the reinstall");
}

fn script(plan: &StepPlan) -> String {
    match &plan.changes[0].action {
        Action::Run { script } => String::from_utf8_lossy(script).into_owned(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn pinned_update_lists_every_package_and_repo() {
    let r = resource("update = true\ndisable_repos = [\"*\"]\nenable_repos = [\"monash*\"]");
    let f = facts(
        &r,
        "dnf",
        include_str!("../../formats/testdata/dnf-pinned.txt"),
        1,
    );
    let plan = r.plan(&HostView::new(&f)).unwrap();
    assert_eq!(plan.changes.len(), 1);
    assert_eq!(
        plan.changes[0].summary,
        "dnf --disablerepo=* --enablerepo=monash* update: 2 package(s) in one transaction"
    );
    assert_eq!(
        plan.changes[0].detail.as_deref(),
        Some(
            "upgrade kernel-xenU-2.6.9-78.EL.noarch from monash-a\nupgrade kernel-xenU-devel-2.6.9-78.EL.noarch from monash-a"
        )
    );
    assert!(
        script(&plan)
            .contains("vmup_pm dnf -y '--disablerepo=*' '--enablerepo=monash*' 'update' 2>&1"),
        "{}",
        script(&plan)
    );
}

#[test]
fn swap_is_one_dnf_transaction() {
    let r = resource("swap = { remove = \"Gpulse\", install = \"APAC-gateway-gridpulse\" }");
    let f = facts(
        &r,
        "dnf",
        include_str!("../../formats/testdata/dnf-swap.txt"),
        1,
    );
    let plan = r.plan(&HostView::new(&f)).unwrap();
    let detail = plan.changes[0].detail.clone().unwrap();
    assert!(detail.contains("install APAC-gateway-gridpulse-2.0-1.noarch from other-b"));
    assert!(detail.contains("remove Gpulse-1.0-1.noarch"));
    assert!(script(&plan).contains("vmup_pm dnf -y 'swap' 'Gpulse' 'APAC-gateway-gridpulse'"));
}

#[test]
fn swap_with_yum_is_a_shell_transaction() {
    let r = resource("swap = { remove = \"Gpulse\", install = \"APAC-gateway-gridpulse\" }");
    let f = facts(
        &r,
        "yum\n3.4.3\n",
        include_str!("../../formats/testdata/yum-update.txt"),
        1,
    );
    let plan = r.plan(&HostView::new(&f)).unwrap();
    let s = script(&plan);
    assert!(
        s.contains("remove Gpulse\ninstall APAC-gateway-gridpulse\nrun\n"),
        "{s}"
    );
    assert!(s.contains("vmup_pm yum -y 'shell' \"$t\""), "{s}");
}

#[test]
fn refused_transaction_fails_the_plan_with_the_managers_words() {
    let r = resource("swap = { remove = \"Gpulse\", install = \"broken-gridpulse\" }");
    let f = facts(
        &r,
        "dnf",
        include_str!("../../formats/testdata/dnf-swaperr.txt"),
        1,
    );
    let e = r.plan(&HostView::new(&f)).unwrap_err().to_string();
    assert!(
        e.contains("nothing provides missing-thing needed by broken-gridpulse"),
        "{e}"
    );
    assert!(
        e.starts_with("dnf swap Gpulse broken-gridpulse refuses"),
        "{e}"
    );
}

#[test]
fn nothing_to_do_is_unchanged() {
    let r = resource("install = [\"Gpulse\"]");
    let f = facts(
        &r,
        "dnf",
        include_str!("../../formats/testdata/dnf-noop.txt"),
        0,
    );
    let plan = r.plan(&HostView::new(&f)).unwrap();
    assert!(plan.changes.is_empty());
    assert_eq!(
        plan.note.as_deref(),
        Some("dnf install Gpulse: nothing to do")
    );
}

#[test]
fn an_earlier_installonlypkgs_edit_turns_upgrades_into_installs() {
    let r = resource("update = true");
    let f = facts(
        &r,
        "dnf",
        include_str!("../../formats/testdata/dnf-update.txt"),
        1,
    );
    let mut view = HostView::new(&f);
    view.simulate(&Action::WriteFile {
        path: "/etc/dnf/dnf.conf".into(),
        expect: Expect::Absent,
        content: b"[main]\ngpgcheck=0\ninstallonlypkgs=kernel kernel-xenU kernel-xenU-devel\n"
            .to_vec(),
        mode: 0o644,
        owner: None,
    });
    let plan = r.plan(&view).unwrap();
    let detail = plan.changes[0].detail.clone().unwrap();
    assert!(
        detail.starts_with(
            "install kernel-xenU-2.6.9-78.EL.noarch from monash-a\ninstall kernel-xenU-devel"
        ),
        "{detail}"
    );
    assert!(
        detail
            .contains("an earlier step adds kernel-xenU, kernel-xenU-devel to installonlypkgs"),
        "{detail}"
    );
}

/// yum lowercases option names: an earlier step's `InstallOnlyPkgs` is installonlypkgs.
#[test]
fn installonlypkgs_is_found_in_any_case() {
    let r = resource("update = true");
    let f = facts(
        &r,
        "yum\n3.4.3\n",
        include_str!("../../formats/testdata/yum-update.txt"),
        1,
    );
    let mut view = HostView::new(&f);
    view.simulate(&Action::WriteFile {
        path: "/etc/yum.conf".into(),
        expect: Expect::Absent,
        content: b"[main]\nInstallOnlyPkgs=kernel kernel-xenU kernel-xenU-devel\n".to_vec(),
        mode: 0o644,
        owner: None,
    });
    let plan = r.plan(&view).unwrap();
    let detail = plan.changes[0].detail.clone().unwrap();
    assert!(
        detail
            .contains("an earlier step adds kernel-xenU, kernel-xenU-devel to installonlypkgs"),
        "{detail}"
    );
}

#[test]
fn one_kind_of_transaction_per_step() {
    let spec: PackagesSpec = toml::from_str("update = true\ninstall = [\"x\"]").unwrap();
    assert!(PackagesResource::from_spec(&spec).is_err());
    let spec: PackagesSpec = toml::from_str("install = [\"-y\"]").unwrap();
    assert!(PackagesResource::from_spec(&spec).is_err());
}

fn old_yum(r: &PackagesResource, preview: &str) -> Facts {
    facts(r, "yum\n2.4.3\n", preview, 0)
}

#[test]
fn old_yum_pinned_update_lists_each_package_and_applies_with_yum24_options() {
    let r = resource("update = true\ndisable_repos = [\"*\"]\nenable_repos = [\"monash*\"]");
    let f = old_yum(
        &r,
        concat!(
            "vmup-preview: yum-shell 2.4.3\n",
            include_str!("../../formats/testdata/yum24-pinned.txt")
        ),
    );
    let plan = r.plan(&HostView::new(&f)).unwrap();
    assert_eq!(
        plan.changes[0].summary,
        "yum --disablerepo=* --enablerepo=monash* update: 2 package(s) in one transaction"
    );
    assert_eq!(
        plan.changes[0].detail.as_deref(),
        Some(
            "upgrade kernel-xenU-2.6.9-67.0.1.EL.i686 from monashupdates\nupgrade kernel-xenU-devel-2.6.9-67.0.1.EL.i686 from monashupdates"
        )
    );
    let s = script(&plan);
    assert!(
        s.contains("vmup_yum_old -y '--disablerepo=*' '--enablerepo=monash*' 'update' 2>&1"),
        "{s}"
    );
    for modern in ["--assumeno", "--setopt", "--disableplugin", "vmup_pm "] {
        assert!(!s.contains(modern), "{modern} in {s}");
    }
}

/// yum 2.4 lists an install-only package's update under `Updating:`; rpm installs it
/// beside the old one.
#[test]
fn old_yum_install_only_updates_are_installs() {
    let r = resource("update = true");
    let mut f = old_yum(
        &r,
        concat!(
            "vmup-preview: yum-shell 2.4.3\n",
            include_str!("../../formats/testdata/yum24-pinned.txt")
        ),
    );
    f.paths.insert(
        "/etc/yum.conf".into(),
        PathFact::root_file(b"[main]\ninstallonlypkgs=kernel kernel-xenU\n"),
    );
    let plan = r.plan(&HostView::new(&f)).unwrap();
    let detail = plan.changes[0].detail.clone().unwrap();
    assert!(
        detail.starts_with(
            "install kernel-xenU-2.6.9-67.0.1.EL.i686 from monashupdates\nupgrade kernel-xenU-devel"
        ),
        "{detail}"
    );
    assert!(detail.contains("this yum lists kernel-xenU as updated"), "{detail}");
}

#[test]
fn old_yum_without_an_honest_preview_needs_preview_none() {
    let staged = "vmup-preview: staged-repositories 2.4.3\n";
    let r = resource("install = [\"APAC-gateway-gridpulse\"]");
    let e = r.plan(&HostView::new(&old_yum(&r, staged))).unwrap_err().to_string();
    assert!(
        e.starts_with("yum install APAC-gateway-gridpulse cannot be previewed on this host: yum 2.4.3 (before 3.4.3)"),
        "{e}"
    );
    assert!(e.contains("give the step `preview = \"none\"`"), "{e}");

    let r = resource("install = [\"APAC-gateway-gridpulse\"]\npreview = \"none\"");
    let plan = r.plan(&HostView::new(&old_yum(&r, staged))).unwrap();
    assert_eq!(
        plan.changes[0].summary,
        "yum install APAC-gateway-gridpulse: packages not previewed (preview = \"none\")"
    );
    assert!(
        plan.changes[0]
            .detail
            .as_deref()
            .unwrap_or_default()
            .starts_with("the packages of this transaction are not previewed on this host: yum 2.4.3"),
        "{:?}",
        plan.changes[0].detail
    );
    assert!(script(&plan).contains("vmup_yum_old -y 'install' 'APAC-gateway-gridpulse'"));

    // Where the preview works, `preview = "none"` changes nothing: it is still listed.
    let f = old_yum(
        &r,
        concat!(
            "vmup-preview: yum-shell 2.4.3\n",
            include_str!("../../formats/testdata/yum24-noop.txt")
        ),
    );
    assert!(r.plan(&HostView::new(&f)).unwrap().changes.is_empty());
}

#[test]
fn old_yum_refusal_has_yums_words() {
    let r = resource("swap = { remove = \"Gpulse\", install = \"broken-gridpulse\" }");
    let f = old_yum(
        &r,
        concat!(
            "vmup-preview: yum-shell 2.4.3\n",
            include_str!("../../formats/testdata/yum24-swaperr.txt")
        ),
    );
    let e = r.plan(&HostView::new(&f)).unwrap_err().to_string();
    assert!(
        e.contains("refuses the transaction: Error: Missing Dependency: missing-thing is needed by package broken-gridpulse"),
        "{e}"
    );
}

#[test]
fn preview_takes_only_none() {
    let spec: PackagesSpec = toml::from_str("update = true\npreview = \"nope\"").unwrap();
    let e = PackagesResource::from_spec(&spec).unwrap_err();
    assert!(e.message.contains("`preview` can only be \"none\""), "{e:?}");
    assert!(e.span.is_some());
}
