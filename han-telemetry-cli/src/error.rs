//! Errors that end a subcommand, and the exit code each one means.

use std::fmt;
use std::process::ExitCode;

/// Why a subcommand could not do its job.
#[derive(Debug)]
pub(crate) enum CliError {
    /// The command line (or the environment it relies on) asks for something impossible:
    /// exit code 2, like clap's own usage errors.
    Usage(String),
    /// The work itself failed (a file could not be written): exit code 1.
    Failed(String),
}

impl CliError {
    pub(crate) fn exit_code(&self) -> ExitCode {
        match self {
            Self::Usage(_) => ExitCode::from(2),
            Self::Failed(_) => ExitCode::from(1),
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usage(message) | Self::Failed(message) => f.write_str(message),
        }
    }
}
