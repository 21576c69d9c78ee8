//! The `repo` resource through the binary: a Monash section managed key by key, and the
//! APAC-Grid file disabled with a one-time backup, converging on a second run.

use crate::support::{LocalFleet, apply_converges};

const APAC: &str = "# APAC Grid\n[apacgrid]\nname=APAC Grid\nbaseurl=http://www.vpac.org/apac/\nenabled=1\ngpgcheck=0\n\n[apacgrid-extras]\nname=extras\nbaseurl=http://www.vpac.org/apac-extras/\n";

#[test]
fn repo_sections_and_disable_all_converge_and_keep_the_first_backup() {
    let fleet = LocalFleet::new(&["g"]);
    fleet.write("g", "/etc/yum.repos.d/APAC-Grid.repo", APAC.as_bytes());
    fleet.write(
        "g",
        "/etc/yum.repos.d/Monash-base.repo",
        b"# mirrors over KAREN\n[monashbase]\nname=old\nenabled=1\n",
    );
    let rb = fleet.runbook(
        r#"
[[step]]
repo = { path = "/etc/yum.repos.d/Monash-base.repo", section = "monashbase", set = { name = "Updated distro at Monash - 4.6", enabled = "0" } }
[[step]]
repo = { path = "/etc/yum.repos.d/Monash-base.repo", section = "monashupdates", set = { baseurl = "http://ftp.monash.edu.au/pub/linux/CentOS/4.6/updates/i386/", enabled = "0" } }
[[step]]
repo = { disable_all_in = "/etc/yum.repos.d/APAC-Grid.repo", backup = ".ORI" }
"#,
    );
    apply_converges(&fleet, rb);
    assert_eq!(
        String::from_utf8(fleet.read("g", "/etc/yum.repos.d/Monash-base.repo")).unwrap(),
        "# mirrors over KAREN\n[monashbase]\nname=Updated distro at Monash - 4.6\nenabled=0\n\n[monashupdates]\nbaseurl=http://ftp.monash.edu.au/pub/linux/CentOS/4.6/updates/i386/\nenabled=0\n"
    );
    assert_eq!(
        String::from_utf8(fleet.read("g", "/etc/yum.repos.d/APAC-Grid.repo")).unwrap(),
        APAC.replace("enabled=1", "enabled=0") + "enabled=0\n"
    );
    assert_eq!(
        fleet.read("g", "/etc/yum.repos.d/APAC-Grid.repo.ORI"),
        APAC.as_bytes()
    );
    // Someone re-enables the repository: the next run disables it again but keeps the
    // original backup.
    fleet.write(
        "g",
        "/etc/yum.repos.d/APAC-Grid.repo",
        APAC.replace("[apacgrid-extras]", "[apacgrid-extras]\nenabled=1")
            .as_bytes(),
    );
    let run = fleet.vmup(&["apply", "-i", "inventory.toml", rb, "--json"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(
        fleet.read("g", "/etc/yum.repos.d/APAC-Grid.repo.ORI"),
        APAC.as_bytes()
    );
}
