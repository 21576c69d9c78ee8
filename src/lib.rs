//! vmup updates fleets of virtual machines whose kernel is booted by their host (Xen PV
//! guests, KVM guests with direct kernel boot), and the hosts that run them.
//!
//! The library holds everything but the terminal: the user's files ([`inventory`],
//! [`runbook`]), pure file formats ([`formats`]), what vmup reads from a host ([`facts`]),
//! resources that plan changes from facts without I/O ([`resource`]), the generated remote
//! scripts ([`remote`]), the ways to reach a machine ([`transport`]) and the engine that
//! runs facts -> plan -> apply -> verify across the fleet ([`engine`]). See
//! ARCHITECTURE.md for the map.

pub mod demo;
pub mod engine;
pub mod facts;
pub mod formats;
pub mod inventory;
pub mod remote;
pub mod resource;
pub mod runbook;
pub mod source;
pub mod transport;
