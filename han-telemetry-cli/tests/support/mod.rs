//! Running the `han-telemetry` binary in a clean, isolated environment: a [`Scratch`]
//! directory as `HOME` and `CLAUDE_PROJECT_DIR`, so that no real settings file reaches it.
// Each test binary uses part of it.
#![allow(dead_code, unreachable_pub)]

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub use han_telemetry_test_support::scratch::Scratch;

/// What a run of the binary produced.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    /// Both streams, for failure messages and leak checks.
    pub fn all_output(&self) -> String {
        format!(
            "exit code {:?} after {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code, self.elapsed, self.stdout, self.stderr
        )
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.all_output()))
    }

    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "unexpected exit code\n{}",
            self.all_output()
        );
        self
    }
}

/// Runs `han-telemetry ARGS` with only PATH, HOME and CLAUDE_PROJECT_DIR (both `home`) plus
/// `vars` in its environment.
pub fn run(home: &Scratch, vars: &[(&str, &str)], args: &[&str]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_han-telemetry"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("CLAUDE_PROJECT_DIR", home.path())
        .current_dir(home.path())
        .envs(vars.iter().copied())
        .args(args)
        .stdin(Stdio::null());
    let started = Instant::now();
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().expect("run han-telemetry");
    Run {
        code: status.code(),
        stdout: String::from_utf8(stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(stderr).expect("stderr is UTF-8"),
        elapsed: started.elapsed(),
    }
}
