//! `han-telemetry`: the command line of han-telemetry.
//!
//! - `han-telemetry report [--since 7d] [--dir DIR] [--json]`: what the local metrics store
//!   holds: hooks (runs, success rate, p50/p95/max, last failure, per-day trend), plugins,
//!   tasks with their calibration score, validations, MCP tools, frustration, what was skipped.
//! - `han-telemetry doctor [--timeout 5s] [--no-probe] [--json]`: the effective configuration
//!   with each value's source (secrets masked), configuration problems, then a real test export
//!   per enabled signal with the likely cause and fix of each failure. Exit 0 only when
//!   telemetry is on and every OTLP exporter delivered; 1 otherwise.
//! - `han-telemetry env [flags] [--append] [--json]`: the `export OTEL_...=...` lines a
//!   SessionStart hook appends to `$CLAUDE_ENV_FILE`.
//! - `han-telemetry replay [--since 7d] [--dir DIR] [--max-records N] [--dry-run] [--json]`:
//!   send the store's records whose export failed, once; exit 1 while any cannot be sent.
//!
//! Exit code 2 is a usage error. Output never shows progress; `--json` works everywhere.
//! A subcommand is one module whose `run` returns its exit code.

mod cli;
mod doctor;
mod env;
mod error;
mod output;
mod replay;
mod report;

use std::process::ExitCode;

use clap::Parser as _;

use cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Doctor(args) => doctor::run(args, cli.json),
        Command::Env(args) => env::run(args, cli.json),
        Command::Report(args) => report::run(args, cli.json),
        Command::Replay(args) => replay::run(args, cli.json),
    };
    result.unwrap_or_else(|error| {
        eprintln!("han-telemetry: error: {error}");
        error.exit_code()
    })
}
