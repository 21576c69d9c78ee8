//! `vmup completions` and `vmup man`: generated from the argument definitions, so they
//! cannot drift from `--help`; `doc/` holds copies made by `scripts/gen-docs.sh` for
//! packagers, and a test keeps them current.

use std::io::Write;

use clap::CommandFactory;

use super::args::{Cli, CompletionsArgs, ManArgs, Shell};
use super::error::CliError;
use super::exit::Exit;

/// Prints the completion script for the shell asked for.
pub fn completions(args: CompletionsArgs) -> Result<Exit, CliError> {
    let mut cmd = Cli::command();
    let shell = match args.shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "vmup", &mut out);
    write_stdout(&out)
}

/// Prints vmup(1), or vmup-SUBCOMMAND(1).
pub fn man(args: ManArgs) -> Result<Exit, CliError> {
    let mut cmd = Cli::command();
    cmd.build();
    let pages: Vec<String> = cmd
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .filter(|n| n != "help")
        .collect();
    if args.list {
        let mut text = pages.join("\n");
        text.push('\n');
        return write_stdout(text.as_bytes());
    }
    let page = match &args.subcommand {
        None => cmd,
        Some(name) => {
            let Some(sub) = cmd
                .find_subcommand(name)
                .filter(|_| pages.contains(name))
                .cloned()
            else {
                return Err(CliError::input(format!("no subcommand {name:?}"))
                    .hint(format!("the pages are: {}", pages.join(", "))));
            };
            // vmup-apply(1), titled as man(1) expects.
            let name = format!("vmup-{}", sub.get_name());
            sub.name(name).version(env!("CARGO_PKG_VERSION"))
        }
    };
    let mut out = Vec::new();
    clap_mangen::Man::new(page)
        .render(&mut out)
        .map_err(|e| CliError::failed(format!("cannot render the manual page: {e}")))?;
    write_stdout(&out)
}

fn write_stdout(bytes: &[u8]) -> Result<Exit, CliError> {
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`| head`) is not an error worth a message.
    let _ = stdout.write_all(bytes).and_then(|()| stdout.flush());
    Ok(Exit::Success)
}
