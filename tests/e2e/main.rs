//! End-to-end tests: the built `vmup` binary against real directory trees (local
//! transport) and, where the machine allows, the real ssh test fleet. One test binary, so
//! cargo links once; every module is registered here.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod pkg_support;
mod support;

mod accounts;
mod ansible_inventory;
mod bad_input;
mod bad_values;
mod changed_underneath;
mod check;
mod colour;
mod commands;
mod demo;
mod docs;
mod faults;
mod fleet;
mod fleet_become;
mod fleet_check;
mod fleet_commands;
mod fleet_doctor;
mod fleet_domain;
mod fleet_facts;
mod fleet_guest_side;
mod fleet_initrd;
mod fleet_kernels;
mod fleet_packages;
mod fleet_reboot;
mod fleet_recreate;
mod fleet_run;
mod fleet_seed;
mod fleet_slurm;
mod fleet_vm;
mod fleet_yum24;
mod history;
mod interrupt;
mod legacy_ssh;
mod local_resources;
mod logging;
mod old_shells;
mod openssh_real;
mod packages;
mod repo_files;
mod report;
mod retry_file;
mod safety;
mod saved_plans;
mod services;
mod shards;
mod snapshots;
mod ssh_real;
mod sshd_fixture;
mod synthetic;
mod transport_contract;
mod transport_harness;
mod values;

/// A test file that is not declared above would silently never run.
#[test]
fn every_test_file_is_registered() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e");
    let main = std::fs::read_to_string(dir.join("main.rs")).unwrap();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if let Some(module) = name.strip_suffix(".rs").filter(|m| *m != "main") {
            assert!(
                main.contains(&format!("mod {module};")),
                "tests/e2e/{name} is not declared in main.rs"
            );
        }
    }
}
