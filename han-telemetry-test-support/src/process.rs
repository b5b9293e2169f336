//! Run an example binary the way Claude Code runs a hook or an MCP server.
//!
//! [`run`] starts it with a clean environment (only `HOME`, `CLAUDE_PROJECT_DIR` and
//! `HAN_METRICS_DIR`, all inside a [`Scratch`] directory, plus the variables a test names;
//! [`Program::default_store`] leaves `HAN_METRICS_DIR` out), so
//! no settings file, `OTEL_*` variable or metrics directory of the machine leaks in; writes
//! the given stdin from a thread (a program may exit without reading it all); and collects
//! exit code, stdout and stderr, killing the program if it runs for longer than
//! [`RUN_TIMEOUT`].

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::scratch::Scratch;

/// The longest a single run may take; hooks must be quick.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(30);

/// What a run produced.
#[derive(Debug)]
pub struct Run {
    /// The exit code; `None` if a signal ended it.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// A description for assertion messages.
    pub fn show(&self) -> String {
        format!(
            "exit code {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs `bin` with `args`, `stdin`, and a clean environment: `HOME`, `CLAUDE_PROJECT_DIR` and
/// `HAN_METRICS_DIR` inside `scratch`, then `vars` ([`Program`]'s defaults).
pub fn run(
    bin: &str,
    args: &[&str],
    scratch: &Scratch,
    vars: &[(&str, &str)],
    stdin: &[u8],
) -> Run {
    Program::new(bin).run(args, scratch, vars, stdin)
}

/// A program to run, and how: where, for how long at most, and whether its store is set to
/// the scratch directory's `metrics`.
#[derive(Debug, Clone, Copy)]
pub struct Program<'a> {
    bin: &'a str,
    cwd: Option<&'a Path>,
    timeout: Duration,
    default_store: bool,
}

impl<'a> Program<'a> {
    /// `bin` in this test's working directory, killed after [`RUN_TIMEOUT`], with
    /// `HAN_METRICS_DIR` in the scratch directory.
    pub fn new(bin: &'a str) -> Program<'a> {
        Program {
            bin,
            cwd: None,
            timeout: RUN_TIMEOUT,
            default_store: false,
        }
    }

    /// In the working directory `cwd`.
    pub fn cwd(mut self, cwd: &'a Path) -> Program<'a> {
        self.cwd = Some(cwd);
        self
    }

    /// Killed after `timeout` instead of [`RUN_TIMEOUT`] (a program that runs hooks of its
    /// own, such as Claude Code, takes longer than one hook).
    pub fn timeout(self, timeout: Duration) -> Program<'a> {
        Program { timeout, ..self }
    }

    /// Without `HAN_METRICS_DIR`: the store is where the program finds it by itself (in
    /// Han's data directory under the scratch `HOME`), as on a user's machine; in the
    /// scratch directory's `project` as the working directory unless [`Program::cwd`] says
    /// otherwise.
    pub fn default_store(mut self) -> Program<'a> {
        self.default_store = true;
        self
    }

    /// Runs it with `args`, `stdin`, and a clean environment: `HOME` and
    /// `CLAUDE_PROJECT_DIR` inside `scratch` (and `HAN_METRICS_DIR`, see
    /// [`Program::default_store`]), then `vars`.
    pub fn run(
        &self,
        args: &[&str],
        scratch: &Scratch,
        vars: &[(&str, &str)],
        stdin: &[u8],
    ) -> Run {
        let home = scratch.path().join("home");
        let project = scratch.path().join("project");
        for dir in [&home, &project] {
            std::fs::create_dir_all(dir).expect("create scratch home and project");
        }
        let mut command = Command::new(self.bin);
        if let Some(cwd) = self.cwd.or(self.default_store.then_some(project.as_path())) {
            command.current_dir(cwd);
        }
        command
            .args(args)
            .env_clear()
            .env("HOME", &home)
            .env("CLAUDE_PROJECT_DIR", &project);
        if !self.default_store {
            command.env("HAN_METRICS_DIR", scratch.path().join("metrics"));
        }
        let mut child = command
            .envs(vars.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", self.bin));

        let mut input = child.stdin.take().expect("stdin is piped");
        let stdin = stdin.to_vec();
        // A program that rejects its input early closes the pipe: a write error is expected then.
        let writer = thread::spawn(move || {
            let _ = input.write_all(&stdin);
        });
        let read_all = |mut pipe: Box<dyn Read + Send>| {
            thread::spawn(move || {
                let mut text = Vec::new();
                let _ = pipe.read_to_end(&mut text);
                String::from_utf8_lossy(&text).into_owned()
            })
        };
        let stdout = read_all(Box::new(child.stdout.take().expect("stdout is piped")));
        let stderr = read_all(Box::new(child.stderr.take().expect("stderr is piped")));

        let deadline = Instant::now() + self.timeout;
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for the program") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "{} ran for more than {:?}; stderr:\n{}",
                    self.bin,
                    self.timeout,
                    stderr.join().unwrap_or_default()
                );
            }
            thread::sleep(Duration::from_millis(10));
        };
        let _ = writer.join();
        Run {
            code: status.code(),
            stdout: stdout.join().expect("stdout reader"),
            stderr: stderr.join().expect("stderr reader"),
        }
    }
}

/// The `han-telemetry` command, built next to `bin` (an example binary) by the workspace's
/// tests. Panics, saying what to run, when it is not there.
pub fn cli_beside(bin: &str) -> String {
    let path = Path::new(bin).with_file_name("han-telemetry");
    assert!(
        path.exists(),
        "han-telemetry is not built next to {bin}: run the workspace's tests (scripts/test)"
    );
    path.display().to_string()
}

/// What Claude Code writes to a PostToolUse hook after its `Write` tool wrote `content` to
/// `file` (relative to `scratch`, written here) in session `session`: every field it
/// documents, the project being `file`'s directory, the tool call's id `toolu_<session>`.
pub fn write_input(scratch: &Scratch, file: &str, content: &str, session: &str) -> Vec<u8> {
    let file = scratch.write(file, content);
    serde_json::json!({
        "session_id": session,
        "transcript_path": scratch.join("t.jsonl"),
        "cwd": file.parent(),
        "permission_mode": "default",
        "hook_event_name": "PostToolUse",
        "tool_name": "Write",
        "tool_input": {"file_path": file, "content": content},
        "tool_response": {"filePath": file, "success": true},
        "tool_use_id": format!("toolu_{session}"),
    })
    .to_string()
    .into_bytes()
}
