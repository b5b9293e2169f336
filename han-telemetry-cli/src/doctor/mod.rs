//! `han-telemetry doctor`: is telemetry configured, and does it reach the collector?
//!
//! 1. The effective configuration ([`Config::from_env`]): every variable in effect, its value
//!    (masked by han-telemetry: header values, URL credentials and key-like variables never
//!    appear) and where it came from: managed settings, process environment, which settings
//!    file, or the default.
//! 2. The configuration problems han-telemetry found (each is a value it ignored).
//! 3. The export gate of each OTLP destination ([`han_telemetry::gate`]): whether hooks pause
//!    export to it after failing to reach it, until when and why. `doctor` ignores it.
//! 4. A real test export on each signal with an exporter ([`han_telemetry::probe`]), in
//!    parallel, each within `--timeout`; a failure comes with its likely cause and fix.
//!
//! The exit code answers "will hooks deliver telemetry, quietly?": 0 when telemetry is on,
//! there are no configuration problems (a hook would print each one on stderr), at least one
//! signal exports over OTLP, and every OTLP test export was delivered. Otherwise 1, with the
//! reasons in the verdict. In particular:
//! - telemetry off (`CLAUDE_CODE_ENABLE_TELEMETRY` unset or `0`, or `OTEL_SDK_DISABLED=true`)
//!   is 1, and the verdict names the variable that turns it on. The probes still run, to
//!   show what would happen with it on;
//! - `console` "flows" only to each hook's stderr, which no collector receives: it is not
//!   probed, and a configuration where every signal is `console` or `none` is 1 ("nothing
//!   leaves the machine"). `console` next to `otlp` is fine.
//!
//! With `--no-probe` nothing is sent and the exit code reflects the configuration alone.

mod report;
mod text;

use std::process::ExitCode;

use han_telemetry::config::Config;
use han_telemetry::probe;

use crate::cli::DoctorArgs;
use crate::error::CliError;
use crate::output;

pub(crate) fn run(args: &DoctorArgs, json: bool) -> Result<ExitCode, CliError> {
    let config = Config::from_env();
    // The test export runs the headers helper (the user is asking) and sends its headers.
    let mut probed = config.clone();
    let helper_run = if args.no_probe {
        None
    } else {
        han_telemetry::headers_helper::run_now(&mut probed)
    };
    let probes = (!args.no_probe).then(|| probe::run(&probed, args.timeout));
    let mut report = report::Report::new(&config, probes.as_deref(), args.timeout);
    report.headers_helper = report::headers_helper(&config, helper_run);
    if json {
        output::print_json(&report)?;
    } else {
        output::print(&text::render(&report))?;
    }
    Ok(ExitCode::from(report.verdict.exit_code))
}
