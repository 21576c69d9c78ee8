//! Holes a careful user found, each closed: writes stay inside a local tree whatever its
//! symlinks say, read-only commands write nothing and never answer "nothing" for a tree
//! they cannot read, and modes and owners hold (setgid, ids without names here).

use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};

use crate::support::{LocalFleet, apply_converges};

#[test]
fn an_absolute_symlink_in_a_guest_tree_never_leads_onto_the_controller() {
    let fleet = LocalFleet::new(&["g"]);
    // The controller's own directory, and a guest disk whose /etc/yum.repos.d names it.
    let controller = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(fleet.file("g", "/etc")).unwrap();
    symlink(controller.path(), fleet.file("g", "/etc/yum.repos.d")).unwrap();
    let rb = fleet.runbook(
        "[[step]]\nfile = { path = \"/etc/yum.repos.d/Monash-base.repo\", content = \"[monashbase]\\n\" }\n",
    );
    let run = fleet.vmup(&["apply", "-i", "inventory.toml", rb, "--json"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let error = run.hosts()["g"]["error"].to_string();
    assert!(error.contains("is not a directory"), "{error}");
    assert_eq!(
        std::fs::read_dir(controller.path()).unwrap().count(),
        0,
        "nothing was written on the controller"
    );
}

#[test]
fn read_only_commands_write_nothing_and_refuse_an_unreadable_tree() {
    let fleet = LocalFleet::new(&["g"]);
    std::fs::create_dir_all(fleet.file("g", "/var/lib/rpm")).unwrap();
    std::fs::create_dir_all(fleet.file("g", "/lib/modules/2.6.9-55.ELxenU")).unwrap();
    let rb = fleet.runbook("[[step]]\nkernels = { packages = [\"kernel-xenU\"] }\n");
    let before = fleet.snapshot();
    let conflicts = fleet.vmup(&["conflicts", "-i", "inventory.toml", "--json"]);
    assert_eq!(conflicts.code, 1, "{}", conflicts.stdout);
    let error = conflicts.hosts()["g"]["error"].to_string();
    assert!(
        error.contains("no rpm database"),
        "not 'no conflicts': {error}"
    );
    let plan = fleet.vmup(&["plan", "-i", "inventory.toml", rb, "--json"]);
    assert_eq!(plan.code, 1, "{}", plan.stdout);
    assert!(
        plan.hosts()["g"]["error"]
            .to_string()
            .contains("no rpm database")
    );
    assert_eq!(before, fleet.snapshot(), "no rpm database was created");
}

#[test]
fn setgid_modes_converge_and_owners_without_names_here_are_kept() {
    let fleet = LocalFleet::new(&["g"]);
    fleet.write("g", "/usr/bin/tool", b"old\n");
    let tool = fleet.file("g", "/usr/bin/tool");
    // An owner that has no name on this machine (a guest's own user).
    std::os::unix::fs::chown(&tool, Some(4242), Some(4343)).unwrap();
    std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
    let rb = fleet.runbook(
        "[[step]]\nfile = { path = \"/usr/bin/tool\", content = \"new\\n\", mode = \"2755\" }\n",
    );
    apply_converges(&fleet, rb);
    let meta = std::fs::metadata(&tool).unwrap();
    assert_eq!(meta.mode() & 0o7777, 0o2755);
    assert_eq!((meta.uid(), meta.gid()), (4242, 4343));
}
