//! A real Claude Code session (`claude -p`, 2.1.328) drives `han-check-hook`, offline: a fake
//! Messages API on loopback plays the model (four `Write`s, then a final answer), the hook is
//! wired in the user's `~/.claude/settings.json` as the README says, and the same file's `env`
//! block is the only place telemetry is configured. Over each OTLP protocol (gRPC,
//! http/protobuf, http/json), with rotel receiving:
//!
//! * the hook runs once per `Write` (one span per tool call, one run in the store each);
//! * its block reason reaches the model: the request after each `Write` carries exactly the
//!   blocking messages of the `Write`s so far, worded as Claude Code words them;
//! * the hook's `han.*` metrics and events reach the collector with `session.id` equal to
//!   Claude Code's session id, and Claude Code's own `claude_code.*` telemetry reaches the
//!   same collector with the same id;
//! * the hook's span is in Claude Code's trace, its parent one of Claude Code's spans;
//! * with the collector down (a refused port) the session ends the same: exit 0, the same
//!   answer, the hook still blocks and the model still gets the reasons;
//! * the local store and `han-telemetry report` show the runs.
//!
//! A probe hook (a shell script that keeps its environment and input) runs next to it, and
//! three more sessions check the facts about Claude Code that han-telemetry is built on
//! (`claude-code-facts.md`): what reaches a hook's environment and stdin, `TRACEPARENT`, what
//! `$CLAUDE_ENV_FILE` reaches, what `Write` does to content, and `IS_SANDBOX` as root.
//!
//! Sessions of one test run in parallel threads; each has its own scratch home, project,
//! fake API and collector.

use std::collections::BTreeMap;
use std::fs;
use std::net::TcpListener;
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, UNIX_EPOCH};

use han_telemetry::store::{self, Entry, ExportOutcome};
use han_telemetry_test_support::claude_code::{self, Session};
use han_telemetry_test_support::collector::Collector;
use han_telemetry_test_support::messages_api::{MessagesApi, ModelRequest, Turn, tool_use_id};
use han_telemetry_test_support::otlp::{Received, ReceivedLog, Value as Otlp};
use han_telemetry_test_support::process;
use han_telemetry_test_support::scratch::Scratch;
use serde_json::{Value, json};

const HOOK: &str = env!("CARGO_BIN_EXE_han-check-hook");
const PROMPT: &str = "Write the four files.";
const ANSWER: &str = "The four files are written.";
/// How long to wait for telemetry to arrive: generous, for a loaded machine.
const WAIT: Duration = Duration::from_secs(60);
const USER_VALUE: (&str, &str) = ("HAN_PROBE_USER", "from-user-settings");

/// A hook that keeps its environment (`NAME=value`, NUL-separated) and its stdin in `$1`, as
/// `$2.XXXXXX.env` and `.stdin`; at SessionStart it also appends to `$CLAUDE_ENV_FILE`.
const PROBE: &str = r#"#!/bin/sh
set -e
f=$(mktemp "$1/$2.XXXXXX")
env -0 > "$f.env"
cat > "$f.stdin"
if [ "$2" = SessionStart ]; then
  printf 'export HAN_PROBE_ENV_FILE=appended\nexport OTEL_RESOURCE_ATTRIBUTES=han.probe=env-file\n' >> "$CLAUDE_ENV_FILE"
fi
"#;

/// One `Write` of the script: what Claude sends, what must be on disk after it, and what the
/// hook must find there.
struct Write {
    name: &'static str,
    content: &'static str,
    on_disk: &'static str,
    problems: &'static [&'static str],
}

const WRITES: [Write; 4] = [
    // Claude Code strips the trailing spaces and tab of line 1 (not a Markdown file); the
    // conflict markers stay.
    Write {
        name: "merge.txt",
        content: "let a = 1;  \t\n<<<<<<< HEAD\nb\n=======\nc\n>>>>>>> theirs\n",
        on_disk: "let a = 1;\n<<<<<<< HEAD\nb\n=======\nc\n>>>>>>> theirs\n",
        problems: &[
            "line 2: merge conflict marker",
            "line 6: merge conflict marker",
        ],
    },
    // In Markdown trailing whitespace stays: the line break (two spaces) is fine, the tab is
    // not; the missing final newline stays too.
    Write {
        name: "notes.md",
        content: "# Notes\nA line  \nbreak, and a tab\t\nno final newline",
        on_disk: "# Notes\nA line  \nbreak, and a tab\t\nno final newline",
        problems: &["line 3: trailing whitespace", "no newline at end of file"],
    },
    // CRLF next to LF stays as written.
    Write {
        name: "config.json",
        content: "{\r\n  \"a\": 1,\n}\r\n",
        on_disk: "{\r\n  \"a\": 1,\n}\r\n",
        problems: &[
            "mixed line endings: 2 lines end in CRLF, 1 in LF",
            "invalid JSON: trailing comma at line 3 column 1",
        ],
    },
    Write {
        name: "clean.rs",
        content: "fn main() {}\n",
        on_disk: "fn main() {}\n",
        problems: &[],
    },
];

// ---------------------------------------------------------------------------------------
// Running a session

/// The `han-telemetry` command, built next to the hook by the workspace's tests.
fn cli() -> String {
    process::cli_beside(HOOK)
}

/// A port where nothing listens.
fn refused_endpoint() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

fn endpoint_of(collector: &Collector, protocol: &str) -> String {
    if protocol == "grpc" {
        collector.grpc_endpoint()
    } else {
        collector.http_endpoint()
    }
}

/// Claude Code's telemetry settings, for its own telemetry and (read from the file by
/// han-telemetry, since hooks get no `OTEL_*`) the hook's.
fn telemetry_env(protocol: &str, endpoint: &str, propagate: bool) -> Value {
    let mut env = json!({
        "CLAUDE_CODE_ENABLE_TELEMETRY": "1",
        "OTEL_METRICS_EXPORTER": "otlp",
        "OTEL_LOGS_EXPORTER": "otlp",
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "CLAUDE_CODE_ENHANCED_TELEMETRY_BETA": "1",
    });
    if propagate {
        env["CLAUDE_CODE_PROPAGATE_TRACEPARENT"] = json!("1");
    }
    env
}

/// One session: its scratch directory, the fake API (what the model was sent) and what
/// Claude Code gave.
struct Case {
    scratch: Scratch,
    api: MessagesApi,
    session: Session,
}

impl Case {
    fn project(&self) -> PathBuf {
        self.scratch.join("project")
    }

    fn probes(&self) -> PathBuf {
        self.scratch.join("probes")
    }

    fn requests(&self) -> Vec<ModelRequest> {
        self.api.requests()
    }

    fn show(&self) -> String {
        self.session.run.show()
    }
}

/// Writes the probe hook into `scratch` and returns its command for `event`.
fn probe_command(scratch: &Scratch, event: &str) -> String {
    let probe = scratch.write("probe.sh", PROBE);
    fs::set_permissions(&probe, fs::Permissions::from_mode(0o755)).expect("chmod the probe");
    fs::create_dir_all(scratch.join("probes")).expect("the probes' directory");
    format!(
        "{} {} {event}",
        probe.display(),
        scratch.join("probes").display()
    )
}

/// The hooks of a session: `han-check-hook` (when `check`) and the probe on PostToolUse for
/// `matcher`, the probe on SessionStart.
fn hooks(scratch: &Scratch, matcher: &str, check: bool) -> Value {
    let mut post =
        vec![json!({"type": "command", "command": probe_command(scratch, "PostToolUse")})];
    if check {
        post.insert(0, json!({"type": "command", "command": HOOK}));
    }
    json!({
        "PostToolUse": [{"matcher": matcher, "hooks": post}],
        "SessionStart": [{"hooks": [
            {"type": "command", "command": probe_command(scratch, "SessionStart")}
        ]}],
    })
}

/// Runs one session of `turns` with `user` as `~/.claude/settings.json`, `project` (if any)
/// as the project's `.claude/settings.json`, and `vars` added to the session's environment
/// (a `None` value removes that variable).
fn session(
    label: &str,
    turns: impl FnOnce(&Path) -> Vec<Turn>,
    user: impl FnOnce(&Scratch) -> Value,
    project: Option<Value>,
    vars: &[(&str, Option<&str>)],
) -> Case {
    let scratch = Scratch::new(&format!("claude-{label}"));
    let api = MessagesApi::scripted(turns(&scratch.join("project")));
    let settings = user(&scratch);
    scratch.write("home/.claude/settings.json", settings.to_string());
    if let Some(project) = project {
        scratch.write("project/.claude/settings.json", project.to_string());
    }
    let mut env = claude_code::session_env(&scratch, &api);
    for (name, value) in vars {
        env.retain(|(k, _)| k != name);
        if let Some(value) = value {
            env.push(((*name).to_owned(), (*value).to_owned()));
        }
    }
    let session = claude_code::run(&scratch, PROMPT, &env);
    Case {
        scratch,
        api,
        session,
    }
}

/// The four `Write`s, then the answer.
fn write_turns(project: &Path) -> Vec<Turn> {
    let mut turns: Vec<Turn> = WRITES
        .iter()
        .map(|w| Turn::write(project.join(w.name).display().to_string(), w.content))
        .collect();
    turns.push(Turn::text(ANSWER));
    turns
}

/// The session with the hook wired and telemetry to `endpoint` in the user's settings only.
fn hook_session(label: &str, protocol: &str, endpoint: &str) -> Case {
    session(
        label,
        write_turns,
        |scratch| {
            let mut env = telemetry_env(protocol, endpoint, true);
            env[USER_VALUE.0] = json!(USER_VALUE.1);
            json!({"env": env, "hooks": hooks(scratch, "Write|Edit|MultiEdit", true)})
        },
        None,
        &[],
    )
}

fn join<T>(handle: thread::ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

// ---------------------------------------------------------------------------------------
// What the probe saw

/// One run of the probe hook.
#[derive(Debug)]
struct ProbeRun {
    env: BTreeMap<String, String>,
    input: Value,
}

impl ProbeRun {
    fn var(&self, name: &str) -> Option<&str> {
        self.env.get(name).map(String::as_str)
    }

    fn otel_vars(&self) -> Vec<&String> {
        self.env.keys().filter(|k| k.starts_with("OTEL_")).collect()
    }
}

fn parse_env(bytes: &[u8]) -> BTreeMap<String, String> {
    bytes
        .split(|b| *b == 0)
        .filter_map(|entry| {
            let entry = String::from_utf8_lossy(entry);
            let (name, value) = entry.split_once('=')?;
            Some((name.to_owned(), value.to_owned()))
        })
        .collect()
}

/// The probe's runs for `event`.
fn probe_runs(dir: &Path, event: &str) -> Vec<ProbeRun> {
    let mut runs = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return runs;
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with(&format!("{event}.")) && n.ends_with(".env"))
        .collect();
    names.sort();
    for name in names {
        let base = name.trim_end_matches(".env");
        let env = fs::read(dir.join(&name)).expect("the probe's environment");
        let input = fs::read(dir.join(format!("{base}.stdin"))).expect("the probe's stdin");
        runs.push(ProbeRun {
            env: parse_env(&env),
            input: serde_json::from_slice(&input).unwrap_or_else(|e| {
                panic!(
                    "{event} input is not JSON ({e}): {}",
                    String::from_utf8_lossy(&input)
                )
            }),
        });
    }
    runs
}

fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    keys.sort_unstable();
    keys
}

fn sorted(mut keys: Vec<&str>) -> Vec<&str> {
    keys.sort_unstable();
    keys
}

// ---------------------------------------------------------------------------------------
// The checks

/// The reason the hook gives for `write`, at `path`; `None` for a clean file.
fn reason(write: &Write, path: &Path) -> Option<String> {
    if write.problems.is_empty() {
        return None;
    }
    let n = write.problems.len();
    let mut reason = format!(
        "han-check-hook found {n} problem{} in {}:",
        if n == 1 { "" } else { "s" },
        path.display()
    );
    for p in write.problems {
        reason.push_str("\n- ");
        reason.push_str(p);
    }
    reason.push_str("\nPlease fix the file.");
    Some(reason)
}

/// The system message Claude Code gives the model for a blocking PostToolUse answer.
fn blocking_message(reason: &str) -> String {
    format!("PostToolUse:Write hook blocking error from command: \"{HOOK}\": {reason}")
}

/// Exit 0, the script's answer, and Claude Code's `Write` left each file as expected.
fn assert_session_ended_well(case: &Case, what: &str) {
    let run = &case.session.run;
    assert_eq!(run.code, Some(0), "{what}: {}", case.show());
    assert_eq!(case.session.answer(), ANSWER, "{what}: {}", case.show());
    assert_eq!(
        case.session.result.as_ref().map(|r| &r["is_error"]),
        Some(&json!(false)),
        "{what}: {}",
        case.show()
    );
    for write in &WRITES {
        let path = case.project().join(write.name);
        let on_disk = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(
            on_disk, write.on_disk,
            "{what}: what Write left in {}",
            write.name
        );
    }
}

/// The hook ran once per `Write`: Claude Code ran the PostToolUse hooks once per tool call
/// (the probe's runs, by `tool_use_id`), and the store holds one `han-check-hook` run per
/// `Write`; with a collector, one `han-check-hook` span per tool call (its `tool_use_id`).
fn assert_the_hook_ran_once_per_write(case: &Case, received: Option<&Received>, what: &str) {
    let expected: Vec<String> = (0..WRITES.len()).map(tool_use_id).collect();
    let mut probed: Vec<String> = probe_runs(&case.probes(), "PostToolUse")
        .iter()
        .filter_map(|run| run.input["tool_use_id"].as_str().map(str::to_owned))
        .collect();
    probed.sort();
    assert_eq!(probed, expected, "{what}: PostToolUse runs by tool call");
    let records = store::scan(&case.scratch.join("metrics"), UNIX_EPOCH)
        .expect("read the store")
        .records;
    let runs = records
        .iter()
        .filter(
            |r| matches!(&r.entry, Entry::Hook { hook_name, .. } if hook_name == "han-check-hook"),
        )
        .count();
    assert_eq!(
        runs,
        WRITES.len(),
        "{what}: hook runs in the store: {records:#?}"
    );
    if let Some(received) = received {
        let mut spans: Vec<String> = received
            .spans
            .iter()
            .filter(|s| s.name == "han-check-hook")
            .map(|s| {
                s.attr("tool_use_id")
                    .map(Otlp::to_string)
                    .unwrap_or_default()
            })
            .collect();
        spans.sort();
        assert_eq!(spans, expected, "{what}: han-check-hook spans by tool call");
    }
}

/// The request after each `Write` carries exactly the blocking messages of the `Write`s so
/// far; nothing the hook or han-telemetry printed on stderr reached the model.
fn assert_block_reasons_reached_the_model(case: &Case, what: &str) {
    let requests = case.requests();
    assert_eq!(
        requests.len(),
        WRITES.len() + 1,
        "{what}: one request, then one per tool result: {requests:#?}"
    );
    let mut expected = Vec::new();
    for (k, request) in requests.iter().enumerate() {
        if k > 0 {
            let write = &WRITES[k - 1];
            if let Some(reason) = reason(write, &case.project().join(write.name)) {
                expected.push(blocking_message(&reason));
            }
        }
        let said = request.texts();
        let blocking: Vec<&str> = said
            .iter()
            .filter(|s| s.text.starts_with("PostToolUse:"))
            .map(|s| s.text.as_str())
            .collect();
        assert_eq!(blocking, expected, "{what}: request {k}'s hook messages");
        assert!(
            said.iter()
                .filter(|s| s.text.starts_with("PostToolUse:"))
                .all(|s| s.role == "system"),
            "{what}: hook messages come as system messages: {said:#?}"
        );
        assert!(
            !said.iter().any(|s| s.text.contains("han-telemetry")),
            "{what}: han-telemetry's own words reached the model: {said:#?}"
        );
        let results: Vec<String> = (0..k).map(tool_use_id).collect();
        assert_eq!(request.tool_results(), results, "{what}: request {k}");
    }
}

fn log_name(log: &ReceivedLog) -> &str {
    log.event_name.as_deref().unwrap_or(log.body_text())
}

/// Everything of one session at the collector (each session has a collector of its own):
/// the hook's four runs (spans, execution points, events) and Claude Code's session (its
/// counter, its interaction span, its events).
fn wait_for_session(collector: &Collector, what: &str) -> Received {
    collector.wait_for_received(
        &format!("{what}: the hook's four runs and Claude Code's session"),
        WAIT,
        |r| {
            let named = |name: &str| r.spans.iter().filter(|s| s.name == name).count();
            let executions = r
                .metrics
                .iter()
                .filter(|m| m.name == "han.hook.execution")
                .map(|m| m.points.len())
                .sum::<usize>();
            let logs = |name: &str| r.logs.iter().filter(|l| log_name(l) == name).count();
            let claude_metric = r
                .metrics
                .iter()
                .any(|m| m.name == "claude_code.session.count");
            let claude_log = r
                .logs
                .iter()
                .any(|l| log_name(l).starts_with("claude_code."));
            (named("han-check-hook") >= WRITES.len()
                && named("hook han-check-hook") >= WRITES.len()
                && executions >= WRITES.len()
                && logs("han.hook_result") >= WRITES.len()
                && named("claude_code.interaction") >= 1
                && claude_metric
                && claude_log)
                .then(|| r.clone())
        },
    )
}

/// The hook's `han.*` metrics and events carry Claude Code's session id, and so does
/// Claude Code's own telemetry at the same collector.
fn assert_one_session_id(received: &Received, session_id: &str, protocol: &str) {
    let sid = Otlp::from(session_id);
    let han_metrics: Vec<_> = received
        .metrics
        .iter()
        .filter(|m| m.name.starts_with("han."))
        .collect();
    for name in [
        "han.hook.execution",
        "han.hook.duration_ms",
        "han.validation.run",
    ] {
        assert!(
            han_metrics.iter().any(|m| m.name == name),
            "{protocol}: no {name}: {han_metrics:#?}"
        );
    }
    for m in &han_metrics {
        for p in &m.points {
            assert_eq!(p.attr("session.id"), Some(&sid), "{protocol}: {}", m.name);
        }
    }
    let executions: Vec<_> = han_metrics
        .iter()
        .filter(|m| m.name == "han.hook.execution")
        .flat_map(|m| &m.points)
        .collect();
    let failed = executions
        .iter()
        .filter(|p| p.attributes.has("success", false))
        .count();
    assert_eq!(
        (executions.len(), failed),
        (WRITES.len(), 3),
        "{protocol}: one execution point per hook process: {executions:#?}"
    );
    for p in &executions {
        assert!(p.attributes.has("hook_name", "han-check-hook"), "{p:?}");
        assert!(p.attributes.has("hook_type", "PostToolUse"), "{p:?}");
        if protocol != "http/json" {
            // rotel drops http/json's string-encoded integers (see the collector's docs).
            assert_eq!(p.value_int(), Some(1), "{protocol}: {p:?}");
        }
    }
    let han_logs: Vec<_> = received
        .logs
        .iter()
        .filter(|l| log_name(l).starts_with("han."))
        .collect();
    let count = |name: &str| han_logs.iter().filter(|l| log_name(l) == name).count();
    assert_eq!(
        (count("han.hook_result"), count("han.validation_error")),
        (WRITES.len(), 3),
        "{protocol}: {han_logs:#?}"
    );
    for log in &han_logs {
        assert_eq!(log.attr("session.id"), Some(&sid), "{protocol}: {log:?}");
    }

    let claude_points: Vec<_> = received
        .metrics
        .iter()
        .filter(|m| m.name.starts_with("claude_code."))
        .flat_map(|m| m.points.iter().map(move |p| (&m.name, p)))
        .collect();
    assert!(
        claude_points
            .iter()
            .any(|(name, _)| name.as_str() == "claude_code.session.count"),
        "{protocol}: {claude_points:#?}"
    );
    for (name, p) in &claude_points {
        assert_eq!(p.attr("session.id"), Some(&sid), "{protocol}: {name}");
    }
    for log in received
        .logs
        .iter()
        .filter(|l| log_name(l).starts_with("claude_code."))
    {
        assert_eq!(log.attr("session.id"), Some(&sid), "{protocol}: {log:?}");
    }
}

/// Each `han-check-hook` span is in Claude Code's trace, its parent one of Claude Code's
/// spans (the one `TRACEPARENT` named for that hook run), and the `hook han-check-hook` span
/// its child.
fn assert_the_hook_span_is_a_child_of_claude_codes(
    case: &Case,
    received: &Received,
    protocol: &str,
) {
    let claude: Vec<_> = received
        .spans
        .iter()
        .filter(|s| s.name.starts_with("claude_code."))
        .collect();
    let interaction = claude
        .iter()
        .find(|s| s.name == "claude_code.interaction")
        .unwrap_or_else(|| panic!("{protocol}: no claude_code.interaction: {claude:#?}"));
    let traceparents: BTreeMap<String, String> = probe_runs(&case.probes(), "PostToolUse")
        .iter()
        .map(|run| {
            let id = run.input["tool_use_id"].as_str().unwrap_or_default();
            let parent = run.var("TRACEPARENT").unwrap_or_default();
            (id.to_owned(), parent.to_owned())
        })
        .collect();
    let hook_spans: Vec<_> = received
        .spans
        .iter()
        .filter(|s| s.name == "han-check-hook")
        .collect();
    assert_eq!(hook_spans.len(), WRITES.len(), "{protocol}");
    for span in hook_spans {
        assert_eq!(span.trace_id, interaction.trace_id, "{protocol}: {span:?}");
        let parent = claude
            .iter()
            .find(|c| c.span_id == span.parent_span_id)
            .unwrap_or_else(|| {
                panic!("{protocol}: the hook span's parent is none of Claude Code's spans: {span:?}\n{claude:#?}")
            });
        let id = span
            .attr("tool_use_id")
            .map(Otlp::to_string)
            .unwrap_or_default();
        assert_eq!(
            traceparents.get(&id).map(String::as_str),
            Some(format!("00-{}-{}-01", span.trace_id, parent.span_id).as_str()),
            "{protocol}: the TRACEPARENT the hook got names its parent"
        );
        let inner = received
            .spans
            .iter()
            .find(|s| s.name == "hook han-check-hook" && s.parent_span_id == span.span_id);
        assert!(inner.is_some(), "{protocol}: no hook span under {span:?}");
    }
}

/// The store holds one hook run and one validation per `Write`, in order, with Claude
/// Code's session id, and one export receipt per run saying `outcome`; `report` counts them.
fn assert_store_and_report_show_the_runs(case: &Case, outcome: ExportOutcome, what: &str) {
    let sid = case.session.session_id();
    let records = store::scan(&case.scratch.join("metrics"), UNIX_EPOCH)
        .expect("read the store")
        .records;
    let mut runs = Vec::new();
    let mut validations = Vec::new();
    let mut receipts = Vec::new();
    for record in &records {
        match &record.entry {
            Entry::Hook {
                hook_name,
                hook_type,
                success,
                ..
            } => {
                assert_eq!(
                    record.session_id.as_deref(),
                    Some(sid),
                    "{what}: {record:?}"
                );
                assert_eq!(
                    (&**hook_name, &**hook_type),
                    ("han-check-hook", "PostToolUse")
                );
                runs.push(*success);
            }
            Entry::Validation {
                validation_type,
                passed,
                error_count,
            } => {
                assert_eq!(
                    record.session_id.as_deref(),
                    Some(sid),
                    "{what}: {record:?}"
                );
                assert_eq!(validation_type, "file-hygiene");
                validations.push((*passed, *error_count));
            }
            Entry::Export {
                metrics,
                logs,
                traces,
                ..
            } => receipts.push([*metrics, *logs, *traces]),
            _ => {}
        }
    }
    let expected_runs: Vec<bool> = WRITES.iter().map(|w| w.problems.is_empty()).collect();
    let expected_validations: Vec<(bool, u64)> = WRITES
        .iter()
        .map(|w| (w.problems.is_empty(), w.problems.len() as u64))
        .collect();
    assert_eq!(
        runs, expected_runs,
        "{what}: hook runs in the store: {records:#?}"
    );
    assert_eq!(
        validations, expected_validations,
        "{what}: validations in the store"
    );
    // Down, the first run fails and closes the export gate: the runs after it do not try
    // the collector, their records are kept and deferred.
    let expected: Vec<_> = (0..WRITES.len())
        .map(|i| {
            let o = if i > 0 && outcome == ExportOutcome::Failed {
                ExportOutcome::Deferred
            } else {
                outcome
            };
            [Some(o); 3]
        })
        .collect();
    assert_eq!(receipts, expected, "{what}: export receipts");

    let report = process::run(&cli(), &["--json", "report"], &case.scratch, &[], b"");
    assert_eq!(report.code, Some(0), "{what}: {}", report.show());
    let report: Value = serde_json::from_str(&report.stdout).expect("report JSON");
    let hook = &report["hooks"][0];
    assert_eq!(
        (
            &hook["hook_name"],
            &hook["hook_type"],
            &hook["runs"],
            &hook["succeeded"],
            &hook["failed"]
        ),
        (
            &json!("han-check-hook"),
            &json!("PostToolUse"),
            &json!(4),
            &json!(1),
            &json!(3)
        ),
        "{what}: {report:#}"
    );
    let validation = &report["validations"][0];
    assert_eq!(
        (
            &validation["runs"],
            &validation["failed"],
            &validation["errors_total"]
        ),
        (&json!(4), &json!(3), &json!(6)),
        "{what}: {report:#}"
    );
}

/// What the PostToolUse and SessionStart hooks got, as `claude-code-facts.md` says: no
/// `OTEL_*` although the user's settings set them, the settings' other values,
/// `CLAUDE_PROJECT_DIR`, `CLAUDE_CODE_SESSION_ID`, `TRACEPARENT` (PostToolUse only), the
/// documented input keys; nothing a SessionStart hook appended to `$CLAUDE_ENV_FILE`.
fn assert_what_hooks_get(case: &Case, what: &str) {
    let sid = case.session.session_id();
    let project = case.project().display().to_string();
    let post = probe_runs(&case.probes(), "PostToolUse");
    let start = probe_runs(&case.probes(), "SessionStart");
    assert_eq!(start.len(), 1, "{what}: {start:#?}");
    for run in post.iter().chain(&start) {
        assert_eq!(run.otel_vars(), Vec::<&String>::new(), "{what}");
        assert_eq!(run.var(USER_VALUE.0), Some(USER_VALUE.1), "{what}");
        assert_eq!(
            run.var("CLAUDE_PROJECT_DIR"),
            Some(project.as_str()),
            "{what}"
        );
        assert_eq!(run.var("CLAUDE_CODE_SESSION_ID"), Some(sid), "{what}");
        assert_eq!(run.var("CLAUDECODE"), Some("1"), "{what}");
        assert_eq!(run.input["session_id"], sid, "{what}");
    }
    for run in &post {
        assert_eq!(
            keys(&run.input),
            sorted(vec![
                "session_id",
                "transcript_path",
                "cwd",
                "prompt_id",
                "permission_mode",
                "effort",
                "hook_event_name",
                "tool_name",
                "tool_input",
                "tool_response",
                "tool_use_id",
                "duration_ms",
            ]),
            "{what}: PostToolUse input"
        );
        assert_eq!(run.input["hook_event_name"], "PostToolUse");
        assert_eq!(run.input["tool_name"], "Write");
        assert!(run.var("TRACEPARENT").is_some(), "{what}: {:?}", run.env);
        assert_eq!(run.var("HAN_PROBE_ENV_FILE"), None, "{what}");
        assert_eq!(run.var("CLAUDE_ENV_FILE"), None, "{what}");
    }
    let start = &start[0];
    assert_eq!(
        keys(&start.input),
        sorted(vec![
            "session_id",
            "transcript_path",
            "cwd",
            "hook_event_name",
            "source"
        ]),
        "{what}: SessionStart input"
    );
    assert_eq!(
        start.var("TRACEPARENT"),
        None,
        "{what}: SessionStart never gets it"
    );
    assert!(
        start.var("CLAUDE_ENV_FILE").is_some(),
        "{what}: {:?}",
        start.env
    );
}

// ---------------------------------------------------------------------------------------
// The tests

/// One protocol: a session exporting to rotel and one whose collector is down, at once.
fn a_session_drives_the_hook(protocol: &str) {
    let collector = Collector::start();
    let live_endpoint = endpoint_of(&collector, protocol);
    let down_endpoint = refused_endpoint();
    let label = protocol.replace('/', "-");
    let (live, down) = thread::scope(|s| {
        let live = s.spawn(|| hook_session(&format!("{label}-live"), protocol, &live_endpoint));
        let down = s.spawn(|| hook_session(&format!("{label}-down"), protocol, &down_endpoint));
        (join(live), join(down))
    });
    let what = format!("{protocol}, collector up");
    assert_session_ended_well(&live, &what);
    assert_what_hooks_get(&live, &what);
    assert_the_hook_ran_once_per_write(&live, None, &what);
    assert_block_reasons_reached_the_model(&live, &what);
    let received = wait_for_session(&collector, &what);
    assert_the_hook_ran_once_per_write(&live, Some(&received), &what);
    assert_one_session_id(&received, live.session.session_id(), protocol);
    assert_the_hook_span_is_a_child_of_claude_codes(&live, &received, protocol);
    assert_store_and_report_show_the_runs(&live, ExportOutcome::Delivered, &what);

    let what = format!("{protocol}, collector down");
    assert_session_ended_well(&down, &what);
    assert_the_hook_ran_once_per_write(&down, None, &what);
    assert_block_reasons_reached_the_model(&down, &what);
    assert_store_and_report_show_the_runs(&down, ExportOutcome::Failed, &what);
    assert_eq!(
        conversation(&live),
        conversation(&down),
        "{protocol}: with the collector down the model was sent another conversation"
    );
    assert_eq!(live.session.answer(), down.session.answer());
}

/// Every text the model was sent, request by request, the scratch directory written
/// `<scratch>`.
fn conversation(case: &Case) -> Vec<Vec<(String, String)>> {
    let dir = case.scratch.path().display().to_string();
    case.requests()
        .iter()
        .map(|r| {
            r.texts()
                .into_iter()
                .map(|s| (s.role, s.text.replace(&dir, "<scratch>")))
                .collect()
        })
        .collect()
}

#[test]
fn a_session_drives_the_hook_over_grpc() {
    a_session_drives_the_hook("grpc");
}

#[test]
fn a_session_drives_the_hook_over_http_protobuf() {
    a_session_drives_the_hook("http/protobuf");
}

#[test]
fn a_session_drives_the_hook_over_http_json() {
    a_session_drives_the_hook("http/json");
}

fn is_root() -> bool {
    fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// The facts the sessions above do not show: a project's `env` values reach hooks except
/// `OTEL_*` and Claude Code's own; `OTEL_*` in Claude Code's own environment does not reach
/// them either; `TRACEPARENT` needs `CLAUDE_CODE_PROPAGATE_TRACEPARENT` with a custom base
/// URL; `$CLAUDE_ENV_FILE` reaches Bash commands, not hooks nor Claude Code's own
/// telemetry; as root, bypassing permissions needs `IS_SANDBOX=1`.
#[test]
fn what_claude_code_gives_hooks_and_commands() {
    let collector = Collector::start();
    let endpoint = collector.grpc_endpoint();
    let (project, env_file, no_sandbox) = thread::scope(|s| {
        let project = s.spawn(|| {
            session(
                "project-env",
                |p| {
                    vec![
                        Turn::write(p.join("a.txt").display().to_string(), "a\n"),
                        Turn::text(ANSWER),
                    ]
                },
                |scratch| {
                    json!({
                        "env": {USER_VALUE.0: USER_VALUE.1},
                        "hooks": hooks(scratch, "Write", false),
                    })
                },
                Some(json!({"env": {
                    "HAN_PROBE_PROJECT": "from-project",
                    "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9",
                    "CLAUDE_CODE_ENABLE_TELEMETRY": "1",
                    "HOME": "/nonexistent/home",
                    "CLAUDE_CONFIG_DIR": "/nonexistent/config",
                    "CLAUDE_PROJECT_DIR": "/nonexistent/project",
                    "CLAUDECODE": "from-project",
                }})),
                &[("OTEL_RESOURCE_ATTRIBUTES", Some("han.probe=process-env"))],
            )
        });
        let env_file = s.spawn(|| {
            session(
                "env-file",
                |p| {
                    let dump = p.with_file_name("probes").join("bash.env");
                    vec![
                        Turn::Tool {
                            name: "Bash".to_owned(),
                            input: json!({
                                "command": format!("env -0 > {}", dump.display()),
                                "description": "Keep the environment",
                            }),
                        },
                        Turn::write(p.join("a.txt").display().to_string(), "a\n"),
                        Turn::Tool {
                            name: "Edit".to_owned(),
                            input: json!({
                                "file_path": p.join("a.txt").display().to_string(),
                                "old_string": "a",
                                "new_string": "b \t",
                            }),
                        },
                        Turn::text(ANSWER),
                    ]
                },
                |scratch| {
                    let mut env = telemetry_env("grpc", &endpoint, false);
                    env["OTEL_RESOURCE_ATTRIBUTES"] = json!("han.probe.user=user-settings");
                    json!({"env": env, "hooks": hooks(scratch, "Bash|Write|Edit", false)})
                },
                None,
                &[],
            )
        });
        let no_sandbox = s.spawn(|| {
            session(
                "no-sandbox",
                |_| vec![Turn::text(ANSWER)],
                |_| json!({}),
                None,
                &[("IS_SANDBOX", None)],
            )
        });
        (join(project), join(env_file), join(no_sandbox))
    });

    // A project's env values are copied into hooks' environment, except these.
    assert_eq!(project.session.run.code, Some(0), "{}", project.show());
    let post = probe_runs(&project.probes(), "PostToolUse");
    assert_eq!(post.len(), 1, "{}", project.show());
    let run = &post[0];
    let home = project.scratch.join("home").display().to_string();
    let dir = project.project().display().to_string();
    assert_eq!(run.var("HAN_PROBE_PROJECT"), Some("from-project"));
    assert_eq!(run.var(USER_VALUE.0), Some(USER_VALUE.1));
    assert_eq!(run.otel_vars(), Vec::<&String>::new(), "{:?}", run.env);
    assert_eq!(run.var("CLAUDE_CODE_ENABLE_TELEMETRY"), None);
    assert_eq!(run.var("HOME"), Some(home.as_str()));
    assert_eq!(run.var("CLAUDE_CONFIG_DIR"), None);
    assert_eq!(run.var("CLAUDE_PROJECT_DIR"), Some(dir.as_str()));
    assert_eq!(run.var("CLAUDECODE"), Some("1"));

    // $CLAUDE_ENV_FILE reaches Bash commands only; no TRACEPARENT without the switch.
    assert_eq!(env_file.session.run.code, Some(0), "{}", env_file.show());
    let bash = parse_env(&fs::read(env_file.probes().join("bash.env")).expect("bash.env"));
    assert_eq!(
        bash.get("HAN_PROBE_ENV_FILE").map(String::as_str),
        Some("appended")
    );
    assert_eq!(
        bash.get("OTEL_RESOURCE_ATTRIBUTES").map(String::as_str),
        Some("han.probe=env-file")
    );
    let post = probe_runs(&env_file.probes(), "PostToolUse");
    let tools = sorted(
        post.iter()
            .filter_map(|r| r.input["tool_name"].as_str())
            .collect(),
    );
    assert_eq!(tools, ["Bash", "Edit", "Write"], "{}", env_file.show());
    for run in &post {
        assert_eq!(run.var("HAN_PROBE_ENV_FILE"), None);
        assert_eq!(run.otel_vars(), Vec::<&String>::new());
        assert_eq!(
            run.var("TRACEPARENT"),
            None,
            "without CLAUDE_CODE_PROPAGATE_TRACEPARENT"
        );
    }
    let sid = Otlp::from(env_file.session.session_id());
    let claude = collector.wait_for_received("Claude Code's session counter", WAIT, |r| {
        r.metrics
            .iter()
            .find(|m| {
                m.name == "claude_code.session.count"
                    && m.points.iter().any(|p| p.attr("session.id") == Some(&sid))
            })
            .cloned()
    });
    assert_eq!(
        (
            claude.resource.get("han.probe"),
            claude.resource.get("han.probe.user")
        ),
        (None, Some(&Otlp::from("user-settings"))),
        "Claude Code's own telemetry takes OTEL_RESOURCE_ATTRIBUTES from the user's settings, \
         not from the env file: {:?}",
        claude.resource
    );
    // Edit strips trailing whitespace from what it writes too (outside Markdown).
    let edited = fs::read_to_string(env_file.project().join("a.txt")).expect("a.txt");
    assert_eq!(edited, "b\n", "{}", env_file.show());

    // As root, bypassing permissions without IS_SANDBOX is refused before any request.
    if is_root() {
        let run = &no_sandbox.session.run;
        assert_eq!(run.code, Some(1), "{}", run.show());
        assert!(
            run.stderr
                .contains("cannot be used with root/sudo privileges"),
            "{}",
            run.show()
        );
        assert!(no_sandbox.requests().is_empty());
    }
}
