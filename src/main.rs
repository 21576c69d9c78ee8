//! The `vmup` command: a thin layer that parses arguments, runs the library, renders events
//! and maps outcomes to documented exit codes.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
