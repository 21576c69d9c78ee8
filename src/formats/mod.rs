//! Pure, lossless parsers and editors for the files the runbook touches.
//!
//! Nothing here does I/O. Editing keeps comments and untouched lines byte for byte, so a
//! plan's diff shows exactly the lines vmup means to change.

pub mod cmdline;
pub mod dnftx;
pub mod domain;
pub mod domconfig;
pub mod ini;
pub mod libvirt;
pub mod lines;
pub mod rpmqa;
pub mod rpmver;
mod text;
pub mod yumshell;
