//! Compile-time behaviour of the `#[instrument_hook]` family: every supported shape compiles
//! (`tests/ui/pass`), every mistake gives one error at the offending token (`tests/ui/fail`,
//! with the expected compiler output beside each case). The `.stderr` snapshots are those of
//! rustc 1.95, the toolchain CI uses; regenerate them with `TRYBUILD=overwrite`.
//!
//! Compiler output changes between releases, so the snapshots are compared only under the
//! toolchain they come from ([`SNAPSHOT_TOOLCHAIN`]); under another one the pass cases still
//! run and the fail cases are skipped with a note on stderr.

use std::io::Write as _;
use std::process::Command;

/// The `rustc --version` prefix the `.stderr` snapshots were made with.
const SNAPSHOT_TOOLCHAIN: &str = "rustc 1.95.";

/// The version line of the rustc that trybuild's cargo will use (`$RUSTC`, else `rustc`).
fn rustc_version() -> Result<String, String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let output = Command::new(&rustc)
        .arg("--version")
        .output()
        .map_err(|e| format!("cannot run {}: {e}", rustc.to_string_lossy()))?;
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    match rustc_version() {
        Ok(version) if version.starts_with(SNAPSHOT_TOOLCHAIN) => {
            t.compile_fail("tests/ui/fail/*.rs");
        }
        found => {
            let found = found.unwrap_or_else(|e| e);
            // Straight to stderr, past the test harness's capture, so the skip is seen.
            let _ = writeln!(
                std::io::stderr(),
                "note: tests/ui/fail skipped: its compiler-output snapshots are of \
                 {SNAPSHOT_TOOLCHAIN}x, this is {found:?}"
            );
        }
    }
}
