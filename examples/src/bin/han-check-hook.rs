//! `han-check-hook`: a Claude Code `PostToolUse` hook that checks the file Claude just wrote.
//!
//! After every `Write`, `Edit` or `MultiEdit` it reads the file (`tool_input.file_path`,
//! relative paths resolved against `cwd`) and looks for:
//!
//! * merge-conflict markers (`<<<<<<<`, `|||||||`, `>>>>>>>` at the start of a line);
//! * mixed line endings (some lines ending in CRLF, others in LF);
//! * a missing newline at the end of the file;
//! * in Markdown (`.md`, `.markdown`), trailing spaces or tabs that are not a line break
//!   (a line break is exactly two spaces after text);
//! * in a `.json` file, anything that does not parse as JSON (`tsconfig*.json`,
//!   `jsconfig*.json` and `.vscode/*.json` are skipped: they allow comments).
//!
//! Every check can fire on what Claude writes: Claude Code (2.1.328) keeps conflict markers,
//! CRLF next to LF and a missing final newline as Claude wrote them. It strips trailing
//! whitespace from each line Claude writes with `Write` or `Edit`, except in `.md` files, so
//! trailing whitespace is checked in Markdown only: elsewhere it could only be whitespace the
//! file had before Claude touched it. `examples/tests/claude_code.rs` runs the hook under a
//! real Claude Code session and checks all of this.
//!
//! Files that are not UTF-8 text, or larger than 8 MiB, are left alone.
//!
//! # Wiring it into Claude Code
//!
//! Build it (`cargo build --release -p han-telemetry-examples --bin han-check-hook`), then add
//! to `~/.claude/settings.json` or the project's `.claude/settings.json`:
//!
//! ```json
//! {
//!   "hooks": {
//!     "PostToolUse": [
//!       {
//!         "matcher": "Write|Edit|MultiEdit",
//!         "hooks": [
//!           { "type": "command", "command": "/path/to/han-check-hook" }
//!         ]
//!       }
//!     ]
//!   }
//! }
//! ```
//!
//! Hooks do not inherit Claude Code's `OTEL_*` variables, so telemetry for the hook is
//! configured in the same files' `env` block (`"env": {"CLAUDE_CODE_ENABLE_TELEMETRY": "1",
//! "OTEL_EXPORTER_OTLP_ENDPOINT": "http://localhost:4317"}`), which han-telemetry reads.
//!
//! # Answers
//!
//! * Clean file, or an event or tool it does not handle: exit 0, nothing on stdout.
//! * Problems found: exit 0 with `{"decision":"block","reason":"..."}` on stdout, the JSON
//!   decision control Claude Code documents for `PostToolUse`. The file is already written
//!   (PostToolUse cannot undo it); "block" hands the reason to Claude so it fixes the file.
//!   Exit code 2 with the reason on stderr is the other documented way, but stderr is also
//!   where the console exporter (`OTEL_*_EXPORTER=console`) prints telemetry, which Claude
//!   would then read as part of the reason. stdout carries only this one JSON line.
//! * Bad input (empty, not JSON, a field missing or of the wrong type, more than 8 MiB) or
//!   an unreadable file: exit 1, a one-line message on stderr. Claude Code reports it as a
//!   non-blocking hook error and goes on.
//!
//! # Telemetry
//!
//! Each handled run records `han.hook.execution`, `han.hook.duration_ms` and `han.hook_result`
//! with `hook_name="han-check-hook"`, `hook_type` = the input's `hook_event_name` and
//! `success` (false when problems were found or the input was unusable), plus
//! `han.validation.run` (`validation_type="file-hygiene"`, `error_count` = problems found) and
//! `han.validation_error` when it fails. The input's `session_id` becomes `session.id` on all
//! of them, unless `OTEL_METRICS_INCLUDE_SESSION_ID=false`.
//!
//! `tool_use_id` is unique per tool call, so as a metric attribute it would make every run its
//! own time series. The `#[instrument_hook]` family records only the arguments it declares,
//! so it cannot end up there by accident; the hook puts it on a span of its own,
//! `han-check-hook` (the parent of the `hook han-check-hook` span), which exists only when
//! traces are on (`OTEL_TRACES_EXPORTER=otlp` or `console`).
//!
//! Input that cannot be parsed far enough to know the event is not recorded: with no
//! `hook_event_name` there is no `hook_type` to record it under. Events it ignores are not
//! recorded either, and it does not even start telemetry for them.

use std::fmt::Display;
use std::fs;
use std::io::{self, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use han_telemetry::{
    StandardAttributes, TelemetryBuilder, instrument_hook, instrument_validation, report,
};
use serde_json::{Map, Value, json};

const NAME: &str = "han-check-hook";
const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The most input read from stdin. A `Write`'s `tool_input` holds the whole file, so this
/// must exceed the largest file worth checking.
const MAX_INPUT: u64 = 8 << 20;
/// Larger files are not checked.
const MAX_FILE: u64 = 8 << 20;
/// Problems listed in the reason; the rest are counted.
const MAX_LISTED: usize = 20;
/// Tools whose `tool_input.file_path` names a file they wrote.
const EDIT_TOOLS: [&str; 3] = ["Write", "Edit", "MultiEdit"];

fn main() -> ExitCode {
    if io::stdin().is_terminal() {
        say_err(format_args!(
            "reads a Claude Code hook's JSON input on stdin, e.g.\n  echo '{{\"session_id\":\"s\",\"cwd\":\".\",\"hook_event_name\":\"PostToolUse\",\"tool_name\":\"Write\",\"tool_input\":{{\"file_path\":\"Cargo.toml\"}}}}' | {NAME}"
        ));
        return ExitCode::FAILURE;
    }
    let input = match read_stdin().and_then(|raw| Input::parse(&raw)) {
        Ok(input) => input,
        Err(message) => {
            say_err(message);
            return ExitCode::FAILURE;
        }
    };
    if !input.is_handled() {
        return ExitCode::SUCCESS;
    }

    let telemetry = TelemetryBuilder::from_env()
        .service_version(VERSION)
        .standard_attributes(StandardAttributes {
            session_id: Some(input.session_id.clone()),
            app_version: Some(VERSION.into()),
            ..StandardAttributes::default()
        })
        .install();
    let span = tracing::info_span!("han-check-hook", tool_use_id = input.tool_use_id.as_deref());
    han_telemetry::adopt_remote_parent(&span);
    let outcome = span.in_scope(|| check_edit(&input.hook_event_name, &input));
    drop(span);

    let code = match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Problems { path, problems }) => {
            let answer = json!({"decision": "block", "reason": reason(&path, &problems)});
            match writeln!(io::stdout().lock(), "{answer}") {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    say_err(format_args!("cannot write the answer to stdout: {e}"));
                    ExitCode::FAILURE
                }
            }
        }
        Err(Failure::Error(message)) => {
            say_err(message);
            ExitCode::FAILURE
        }
    };
    // Flushes telemetry (within HAN_TELEMETRY_EXIT_BUDGET_MS). Returning from main drops it
    // too; `std::process::exit` would not.
    drop(telemetry);
    code
}

/// The check, as one hook run: `hook_type` is the event Claude Code named.
#[instrument_hook(hook_type = event, hook_name = "han-check-hook")]
fn check_edit(event: &str, input: &Input) -> Result<(), Failure> {
    let path = input.edited_file()?;
    let Some(text) = read_text(&path)? else {
        return Ok(());
    };
    hygiene(&path, &text).map_err(|problems| Failure::Problems { path, problems })
}

/// The file's problems, one line each.
#[instrument_validation(validation_type = "file-hygiene")]
fn hygiene(path: &Path, text: &str) -> Result<(), Vec<String>> {
    let problems = problems(path, text);
    report::error_count(problems.len() as u64);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

fn problems(path: &Path, text: &str) -> Vec<String> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default();
    let markdown = ext.eq_ignore_ascii_case("md") || ext.eq_ignore_ascii_case("markdown");
    let mut found = Vec::new();
    let (mut crlf, mut lf) = (0usize, 0usize);
    for (n, raw) in (1..).zip(text.split_inclusive('\n')) {
        let line = if let Some(line) = raw.strip_suffix("\r\n") {
            crlf += 1;
            line
        } else if let Some(line) = raw.strip_suffix('\n') {
            lf += 1;
            line
        } else {
            raw
        };
        // `=======` alone is also a Markdown or reStructuredText heading underline.
        if ["<<<<<<<", "|||||||", ">>>>>>>"].iter().any(|m| {
            line.strip_prefix(m)
                .is_some_and(|r| r.is_empty() || r.starts_with(' '))
        }) {
            found.push(format!("line {n}: merge conflict marker"));
        } else if markdown && line.ends_with([' ', '\t']) && !is_line_break(line) {
            found.push(format!("line {n}: trailing whitespace"));
        }
    }
    if crlf > 0 && lf > 0 {
        found.push(format!(
            "mixed line endings: {crlf} line{} end{} in CRLF, {lf} in LF",
            if crlf == 1 { "" } else { "s" },
            if crlf == 1 { "s" } else { "" },
        ));
    }
    if !text.is_empty() && !text.ends_with('\n') {
        found.push("no newline at end of file".to_owned());
    }
    if ext.eq_ignore_ascii_case("json")
        && !allows_comments(path)
        && let Err(e) = serde_json::from_str::<Value>(text)
    {
        found.push(format!("invalid JSON: {e}"));
    }
    found
}

/// A Markdown hard line break: text, then exactly two spaces.
fn is_line_break(line: &str) -> bool {
    line.strip_suffix("  ")
        .is_some_and(|text| !text.is_empty() && !text.ends_with([' ', '\t']))
}

/// JSON files that are JSON with comments by convention.
fn allows_comments(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    name.starts_with("tsconfig")
        || name.starts_with("jsconfig")
        || path
            .parent()
            .and_then(Path::file_name)
            .is_some_and(|dir| dir == ".vscode")
}

fn reason(path: &Path, problems: &[String]) -> String {
    let mut reason = format!(
        "{NAME} found {} problem{} in {}:",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" },
        path.display()
    );
    for p in problems.iter().take(MAX_LISTED) {
        reason.push_str("\n- ");
        reason.push_str(p);
    }
    if problems.len() > MAX_LISTED {
        reason.push_str(&format!("\n- and {} more", problems.len() - MAX_LISTED));
    }
    reason.push_str("\nPlease fix the file.");
    reason
}

/// The file's text; `None` when it is too large, not UTF-8, or binary.
fn read_text(path: &Path) -> Result<Option<String>, Failure> {
    let cannot = |e: io::Error| Failure::Error(format!("cannot read {}: {e}", path.display()));
    let meta = fs::metadata(path).map_err(cannot)?;
    if !meta.is_file() {
        return Err(Failure::Error(format!(
            "{} is not a regular file",
            path.display()
        )));
    }
    if meta.len() > MAX_FILE {
        return Ok(None);
    }
    let bytes = fs::read(path).map_err(cannot)?;
    Ok(String::from_utf8(bytes).ok().filter(|t| !t.contains('\0')))
}

#[derive(Debug)]
enum Failure {
    /// The file has problems: the hook blocks.
    Problems {
        path: PathBuf,
        problems: Vec<String>,
    },
    /// The hook could not do its job: a non-blocking error.
    Error(String),
}

/// What the hook uses of Claude Code's input; other fields are ignored.
#[derive(Debug)]
struct Input {
    session_id: String,
    hook_event_name: String,
    cwd: PathBuf,
    tool_name: Option<String>,
    tool_use_id: Option<String>,
    tool_input: Option<Value>,
}

impl Input {
    fn parse(raw: &[u8]) -> Result<Input, String> {
        if raw.iter().all(u8::is_ascii_whitespace) {
            return Err("no input on stdin (expected the hook's JSON object)".into());
        }
        let value: Value =
            serde_json::from_slice(raw).map_err(|e| format!("input is not valid JSON: {e}"))?;
        let Value::Object(fields) = value else {
            return Err(format!(
                "input must be a JSON object, got {}",
                kind_of(&value)
            ));
        };
        let hook_event_name = required_str(&fields, "hook_event_name")?;
        let tool_name = if hook_event_name == "PostToolUse" {
            Some(required_str(&fields, "tool_name")?)
        } else {
            optional_str(&fields, "tool_name")?
        };
        Ok(Input {
            session_id: required_str(&fields, "session_id")?,
            cwd: required_str(&fields, "cwd")?.into(),
            tool_use_id: optional_str(&fields, "tool_use_id")?,
            tool_input: fields.get("tool_input").cloned(),
            hook_event_name,
            tool_name,
        })
    }

    fn is_handled(&self) -> bool {
        self.hook_event_name == "PostToolUse"
            && self
                .tool_name
                .as_deref()
                .is_some_and(|t| EDIT_TOOLS.contains(&t))
    }

    /// `tool_input.file_path`, resolved against `cwd`.
    fn edited_file(&self) -> Result<PathBuf, Failure> {
        let fields = match &self.tool_input {
            Some(Value::Object(fields)) => fields,
            Some(other) => {
                return Err(Failure::Error(format!(
                    "`tool_input` must be an object, got {}",
                    kind_of(other)
                )));
            }
            None => return Err(Failure::Error("`tool_input` is missing".into())),
        };
        let path = required_str(fields, "file_path")
            .map_err(|e| Failure::Error(e.replacen("`file_path`", "`tool_input.file_path`", 1)))?;
        if path.is_empty() {
            return Err(Failure::Error("`tool_input.file_path` is empty".into()));
        }
        Ok(self.cwd.join(path))
    }
}

fn required_str(fields: &Map<String, Value>, key: &str) -> Result<String, String> {
    optional_str(fields, key)?.ok_or_else(|| format!("`{key}` is missing"))
}

fn optional_str(fields: &Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match fields.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!("`{key}` must be a string, got {}", kind_of(other))),
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn read_stdin() -> Result<Vec<u8>, String> {
    let mut raw = Vec::new();
    io::stdin()
        .lock()
        .take(MAX_INPUT + 1)
        .read_to_end(&mut raw)
        .map_err(|e| format!("cannot read stdin: {e}"))?;
    if raw.len() as u64 > MAX_INPUT {
        return Err(format!(
            "input is larger than {} MiB; not a hook input this hook can check",
            MAX_INPUT >> 20
        ));
    }
    Ok(raw)
}

/// One line on stderr, named; never panics (unlike `eprintln!`) if stderr is closed.
fn say_err(message: impl Display) {
    let _ = writeln!(io::stderr().lock(), "{NAME}: {message}");
}
