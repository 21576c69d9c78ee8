//! `vmup report`: one self-contained HTML page (inline CSS and JS, nothing fetched) a
//! person can open, built from the `--json` lines of vmup runs.
//!
//! The input side is [`Report::add_run`] (host lines and the summary that closed them),
//! whatever they were read from; [`input::parse`] reads them from JSON lines. The page
//! groups alike hosts ([`group`]), shows the kernel matrix ([`kernels`]) and is written by
//! [`html`], which escapes every byte that came from a host ([`escape`]). [`merge`] makes
//! the outputs of the N shards of one run into the run they are parts of.

pub mod escape;
pub mod group;
pub mod html;
pub mod input;
pub mod kernels;
pub mod merge;

pub use input::{HostLine, InputError, Run, Status, Summary};

/// The runs a page is made of, in the order given (a later run's kernels win).
#[derive(Debug, Clone, Default)]
pub struct Report {
    runs: Vec<Run>,
}

impl Report {
    /// An empty report: add runs, then render it with [`Report::html`].
    pub fn new() -> Report {
        Report::default()
    }

    /// Adds one run: `hosts` as its host lines had them and the `summary` that closed
    /// them, read from `source` (a file name, or wherever runs are kept). The one way in,
    /// so a run from another store needs no other change here.
    pub fn add_run(&mut self, source: &str, hosts: Vec<HostLine>, summary: Summary) {
        self.runs.push(Run {
            source: source.to_string(),
            hosts,
            summary,
        });
    }

    /// The runs added so far.
    pub fn runs(&self) -> &[Run] {
        &self.runs
    }

    /// The page, as one HTML document.
    pub fn html(&self) -> String {
        html::page(self)
    }
}
