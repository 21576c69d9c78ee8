//! Errors shown to people: what went wrong, where, and a hint about what to do.

use std::fmt;

use super::exit::Exit;

/// An error that ends the command before or instead of a run.
#[derive(Debug)]
pub struct CliError {
    /// The main message, naming file:line:column or host where known.
    pub message: String,
    /// What the user can do about it.
    pub hint: Option<String>,
    /// The exit code it maps to.
    pub exit: Exit,
}

impl CliError {
    /// Bad input: exit 2, nothing was run.
    pub fn input(message: impl fmt::Display) -> CliError {
        CliError {
            message: message.to_string(),
            hint: None,
            exit: Exit::BadInput,
        }
    }

    /// A failure while running: exit 1.
    pub fn failed(message: impl fmt::Display) -> CliError {
        CliError {
            message: message.to_string(),
            hint: None,
            exit: Exit::HostFailed,
        }
    }

    /// Adds a hint line.
    pub fn hint(mut self, hint: impl Into<String>) -> CliError {
        self.hint = Some(hint.into());
        self
    }

    /// The process exit code.
    pub fn exit_code(&self) -> Exit {
        self.exit
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error: {}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

impl From<vmup::engine::EngineError> for CliError {
    /// Everything that stops a run before it starts is bad input: nothing was run.
    fn from(e: vmup::engine::EngineError) -> CliError {
        let hint = e.hint();
        let mut err = CliError::input(e);
        err.hint = hint.map(str::to_string);
        err
    }
}
