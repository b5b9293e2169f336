//! Claude Code itself (the npm package `@anthropic-ai/claude-code`, pinned to [`VERSION`]),
//! run as a user runs it (`claude -p PROMPT`), offline against a [`MessagesApi`].
//!
//! [`find_claude`] finds the `claude` that `scripts/install-claude-code` put in
//! `target/tools/claude-code` (or `$HAN_CLAUDE_CODE`) and checks its version; without it the
//! test fails with the reason and what to run, never passes silently. [`session_env`] is the
//! environment that makes a session offline and non-interactive; [`run`] runs one session in
//! a [`Scratch`] directory (its `home`, `project` as the working directory, `metrics` for
//! han-telemetry's store, `tmp`), with `--output-format json` so the [`Session`] has the
//! session id and the final answer as Claude Code reports them.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;

use crate::messages_api::MessagesApi;
use crate::process::{self, Run};
use crate::scratch::Scratch;
use crate::tool::Tool;

/// The version the tests are written against (and the facts they check were observed with).
pub const VERSION: &str = "2.1.328";
/// Environment variable naming the `claude` command to run.
pub const CLAUDE_ENV: &str = "HAN_CLAUDE_CODE";
/// Where `scripts/install-claude-code` puts it, relative to the workspace root (or to
/// `$CARGO_TARGET_DIR/..`).
pub const CLAUDE_TOOL_PATH: &str = "target/tools/claude-code/node_modules/.bin/claude";
/// The longest one session may take. Sessions take about a second; this is for hanging.
pub const SESSION_TIMEOUT: Duration = Duration::from_secs(180);
/// What the fake API accepts as a key.
pub const API_KEY: &str = "sk-ant-han-telemetry-fake";

/// The `claude` command, checked to be [`VERSION`]. Panics with the reason and what to run
/// when it is missing, cannot run, or is another version.
pub fn find_claude() -> PathBuf {
    static FOUND: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match FOUND.get_or_init(locate_and_check) {
        Ok(path) => path.clone(),
        Err(why) => panic!("{why}"),
    }
}

fn locate_and_check() -> Result<PathBuf, String> {
    let hint = format!(
        "Install it with `scripts/install-claude-code` (npm install of \
         @anthropic-ai/claude-code@{VERSION} into <workspace>/target/tools/claude-code; needs \
         npm and the npm registry), or set {CLAUDE_ENV}=/path/to/claude. `scripts/test` does \
         the install."
    );
    Tool {
        name: "Claude Code (claude)",
        env: CLAUDE_ENV,
        under_target: CLAUDE_TOOL_PATH.trim_start_matches("target/"),
        version_line: &format!("{VERSION} (Claude Code)"),
        hint: &hint,
    }
    .locate()
}

/// The environment of an offline, non-interactive session against `api`, on top of what
/// [`process::run`] sets (`HOME`, `CLAUDE_PROJECT_DIR`, `HAN_METRICS_DIR` in the scratch
/// directory): `PATH` (hooks run through `/bin/sh`), `TMPDIR` in the scratch directory
/// (Claude Code keeps per-project state and sockets there), the API's URL and a key,
/// `IS_SANDBOX=1` (as root, `--permission-mode bypassPermissions` is refused without it) and
/// `CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1` (no update checks or `HEAD /api/hello`).
pub fn session_env(scratch: &Scratch, api: &MessagesApi) -> Vec<(String, String)> {
    let tmp = scratch.join("tmp");
    [
        ("PATH", "/usr/local/bin:/usr/bin:/bin".to_owned()),
        ("TMPDIR", tmp.display().to_string()),
        ("ANTHROPIC_BASE_URL", api.base_url()),
        ("ANTHROPIC_API_KEY", API_KEY.to_owned()),
        ("IS_SANDBOX", "1".to_owned()),
        ("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// What one `claude -p` session gave.
#[derive(Debug)]
pub struct Session {
    pub run: Run,
    /// stdout as JSON (`--output-format json`: `session_id`, `result`, `is_error`, ...);
    /// `None` when it is not JSON.
    pub result: Option<Value>,
}

impl Session {
    /// The session's id as Claude Code reports it. Panics, showing the run, without one.
    pub fn session_id(&self) -> &str {
        self.result_str("session_id")
    }

    /// The final answer (the last text of the model). Panics, showing the run, without one.
    pub fn answer(&self) -> &str {
        self.result_str("result")
    }

    fn result_str(&self, key: &str) -> &str {
        self.result
            .as_ref()
            .and_then(|r| r[key].as_str())
            .unwrap_or_else(|| panic!("no {key:?} in Claude Code's output:\n{}", self.run.show()))
    }
}

/// Runs `claude -p prompt --permission-mode bypassPermissions --output-format json` in
/// `scratch`'s `project` directory with a clean environment: [`process::run`]'s, then `vars`
/// (usually [`session_env`] and more). Panics if it runs longer than [`SESSION_TIMEOUT`].
pub fn run(scratch: &Scratch, prompt: &str, vars: &[(String, String)]) -> Session {
    let claude = find_claude();
    let project = scratch.join("project");
    for dir in [&project, &scratch.join("tmp")] {
        std::fs::create_dir_all(dir).expect("create the session's directories");
    }
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let run = process::Program::new(&claude.display().to_string())
        .cwd(&project)
        .timeout(SESSION_TIMEOUT)
        .run(
            &[
                "-p",
                prompt,
                "--permission-mode",
                "bypassPermissions",
                "--output-format",
                "json",
            ],
            scratch,
            &vars,
            b"",
        );
    let result = serde_json::from_str(run.stdout.trim()).ok();
    Session { run, result }
}
