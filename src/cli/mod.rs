//! Command-line interface: one file per subcommand, reporters and exit codes beside them.

mod adhoc;
mod args;
mod check;
mod colour;
mod conflicts;
mod demo;
mod docs;
mod doctor;
mod error;
mod exit;
mod facts;
mod fleet;
mod history;
mod human;
mod json;
mod kernels;
mod logging;
mod plan_file;
mod progress;
mod reboot;
mod recording;
mod recreate;
mod report;
mod run;
mod safe;
mod setup;

use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Command};

/// Parses arguments, runs the subcommand and turns its outcome into an exit code.
pub fn main() -> ExitCode {
    // Signals are caught from the start: one that arrives while the input is read still
    // ends in a summary (every host skipped) and exit 130.
    fleet::cancel_flag();
    let cli = Cli::parse();
    if let Err(err) = logging::init(cli.verbose, cli.log_file.as_deref()) {
        eprintln!("{err}");
        return err.exit_code().into();
    }
    log::info!("vmup {} {}", env!("CARGO_PKG_VERSION"), cli.command.name());
    let result = match cli.command {
        Command::Plan(args) => run::run(args, vmup::engine::Mode::Plan),
        Command::Apply(args) => run::run(args, vmup::engine::Mode::Apply),
        Command::Check(args) => check::run(args),
        Command::Facts(args) => facts::run(args),
        Command::Kernels(args) => kernels::run(args),
        Command::Doctor(args) => doctor::run(args),
        Command::Recreate(args) => recreate::run(args),
        Command::Reboot(args) => reboot::run(args),
        Command::Run(args) => adhoc::run(args),
        Command::History(args) => history::run(args),
        Command::Conflicts(args) => conflicts::run(args),
        Command::Report(args) => report::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Completions(args) => docs::completions(args),
        Command::Man(args) => docs::man(args),
    };
    log::logger().flush();
    match result {
        Ok(code) => code.into(),
        Err(err) => {
            let text = err.to_string();
            match text.strip_prefix("error:") {
                Some(rest) if colour::stderr() => eprintln!("\x1b[1;31merror:\x1b[0m{rest}"),
                _ => eprintln!("{text}"),
            }
            err.exit_code().into()
        }
    }
}
