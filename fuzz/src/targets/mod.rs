//! The targets, one module each. A check panics (with a message saying which property
//! failed) when the code under test misbehaves; it returns quietly for every other input.

mod ansible_inventory;
mod dnftx;
mod domconfig;
mod facts;
mod frame;
mod ini;
mod inventory;
mod known_hosts;
mod libvirt;
mod lines;
mod rpmqa;
mod rpmver;
mod runbook;
mod selftest;
mod ssh_config;

/// One fuzz target.
pub struct Target {
    /// Its name, also the corpus directory `fuzz/corpus/<name>/`.
    pub name: &'static str,
    /// What it checks, for `--list` and the README table.
    pub checks: &'static str,
    /// The check.
    pub check: fn(&[u8]),
    /// Whether `scripts/fuzz.sh` runs it by default (`selftest` it does not: it has a
    /// planted bug, to show the fuzzer finds coverage).
    pub default: bool,
}

/// Every target, in the order `scripts/fuzz.sh` runs them.
pub const TARGETS: &[Target] = &[
    Target {
        name: "domconfig_xl",
        checks: domconfig::XL_CHECKS,
        check: domconfig::check_xl,
        default: true,
    },
    Target {
        name: "domconfig_xm",
        checks: domconfig::XM_CHECKS,
        check: domconfig::check_xm,
        default: true,
    },
    Target {
        name: "libvirt",
        checks: libvirt::CHECKS,
        check: libvirt::check,
        default: true,
    },
    Target {
        name: "ini",
        checks: ini::CHECKS,
        check: ini::check,
        default: true,
    },
    Target {
        name: "lines",
        checks: lines::CHECKS,
        check: lines::check,
        default: true,
    },
    Target {
        name: "rpmqa",
        checks: rpmqa::CHECKS,
        check: rpmqa::check,
        default: true,
    },
    Target {
        name: "rpmver",
        checks: rpmver::CHECKS,
        check: rpmver::check,
        default: true,
    },
    Target {
        name: "dnftx",
        checks: dnftx::CHECKS,
        check: dnftx::check,
        default: true,
    },
    Target {
        name: "frame",
        checks: frame::CHECKS,
        check: frame::check,
        default: true,
    },
    Target {
        name: "facts",
        checks: facts::CHECKS,
        check: facts::check,
        default: true,
    },
    Target {
        name: "runbook",
        checks: runbook::CHECKS,
        check: runbook::check,
        default: true,
    },
    Target {
        name: "inventory",
        checks: inventory::CHECKS,
        check: inventory::check,
        default: true,
    },
    Target {
        name: "ansible_inventory",
        checks: ansible_inventory::CHECKS,
        check: ansible_inventory::check,
        default: true,
    },
    Target {
        name: "ssh_config",
        checks: ssh_config::CHECKS,
        check: ssh_config::check,
        default: true,
    },
    Target {
        name: "known_hosts",
        checks: known_hosts::CHECKS,
        check: known_hosts::check,
        default: true,
    },
    Target {
        name: "selftest",
        checks: selftest::CHECKS,
        check: selftest::check,
        default: false,
    },
];
