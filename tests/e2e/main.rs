//! End-to-end tests: the built `vmup` binary against real directory trees (local
//! transport) and, where the machine allows, the real ssh test fleet. One test binary, so
//! cargo links once; every module is registered here.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod pkg_support;
mod support;

mod bad_input;
mod changed_underneath;
mod demo;
mod fleet;
mod fleet_kernels;
mod fleet_packages;
mod interrupt;
mod local_resources;
mod openssh_real;
mod packages;
mod repo_files;
mod ssh_real;
mod sshd_fixture;
