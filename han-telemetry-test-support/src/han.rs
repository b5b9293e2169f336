//! Han itself (the npm package `@thebushidocollective/han`, pinned to [`VERSION`]), run next
//! to han-telemetry's hooks as a user runs it, sharing their `HOME`.
//!
//! [`find_han`] finds the binary that `scripts/install-han` put in `target/tools/han` (or
//! `$HAN_CLI_BINARY`) and checks its version; without it the test fails with the reason and
//! what to run, never passes silently. [`run`] runs one Han command in a [`Scratch`]
//! directory (its `home`, `project` as the working directory), with nothing of this machine's
//! environment.

use std::path::PathBuf;
use std::sync::OnceLock;

use crate::process::{self, Run};
use crate::scratch::Scratch;
use crate::tool::Tool;

/// The version the tests are written against (and the facts they check were observed with).
pub const VERSION: &str = "3.21.4";
/// Environment variable naming the Han binary to run.
pub const HAN_ENV: &str = "HAN_CLI_BINARY";
/// The npm package with this platform's binary (an optional dependency of the main one).
const PLATFORM_PACKAGE: &str = if cfg!(all(target_os = "linux", target_arch = "aarch64")) {
    "han-linux-arm64"
} else if cfg!(all(target_os = "macos", target_arch = "aarch64")) {
    "han-darwin-arm64"
} else if cfg!(target_os = "macos") {
    "han-darwin-x64"
} else {
    "han-linux-x64"
};

/// The Han binary, checked to be [`VERSION`]. Panics with the reason and what to run when it
/// is missing, cannot run, or is another version.
pub fn find_han() -> PathBuf {
    static FOUND: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match FOUND.get_or_init(locate_and_check) {
        Ok(path) => path.clone(),
        Err(why) => panic!("{why}"),
    }
}

fn locate_and_check() -> Result<PathBuf, String> {
    let hint = format!(
        "Install it with `scripts/install-han` (npm install of \
         @thebushidocollective/han@{VERSION} into <workspace>/target/tools/han; needs npm and \
         the npm registry), or set {HAN_ENV}=/path/to/han. `scripts/test` does the install."
    );
    Tool {
        name: "Han (han)",
        env: HAN_ENV,
        under_target: &format!(
            "tools/han/node_modules/@thebushidocollective/{PLATFORM_PACKAGE}/han"
        ),
        version_line: &format!("han {VERSION}"),
        hint: &hint,
    }
    .locate()
}

/// Runs `han args...` in `scratch`'s `project` directory, with `HOME` in the scratch
/// directory, `PATH`, and `vars`; no `HAN_METRICS_DIR` (Han does not read it anyway).
pub fn run(scratch: &Scratch, args: &[&str], vars: &[(&str, &str)]) -> Run {
    let han = find_han();
    let mut all = vec![("PATH", "/usr/local/bin:/usr/bin:/bin")];
    all.extend_from_slice(vars);
    process::Program::new(&han.display().to_string())
        .default_store()
        .run(args, scratch, &all, b"")
}
