//! vmup's fuzz targets: one check per parser and editor, each a function from arbitrary
//! bytes that panics when a property fails. `src/main.rs` runs them under AFL++ or replays
//! saved inputs; `scripts/fuzz.sh` drives both.
//!
//! Editor targets read their input as a first line naming the edit (fields separated by
//! tabs, see each target) and the file to edit after it, so the corpus stays readable and
//! the fuzzer mutates both.

pub mod input;
pub mod targets;
