//! `han-check-hook` driven the way Claude Code drives a `PostToolUse` command hook: JSON on
//! stdin, a clean environment, the answer read from stdout and the exit code; its telemetry
//! read from the console exporters (stderr) and from a real collector (rotel).

use std::path::Path;
use std::time::Duration;

use han_telemetry::catalogue::{event, metric};
use han_telemetry_test_support::collector::Collector;
use han_telemetry_test_support::otlp::{self, Number};
use han_telemetry_test_support::process::{self, Run};
use han_telemetry_test_support::scratch::Scratch;
use serde_json::{Value, json};

const HOOK: &str = env!("CARGO_BIN_EXE_han-check-hook");
const SESSION: &str = "6f1c2b7e-hook-test-session";
const TOOL_USE_ID: &str = "toolu_01HookTestUniqueCallId";
const CONSOLE: [(&str, &str); 4] = [
    ("CLAUDE_CODE_ENABLE_TELEMETRY", "1"),
    ("OTEL_METRICS_EXPORTER", "console"),
    ("OTEL_LOGS_EXPORTER", "console"),
    ("OTEL_TRACES_EXPORTER", "console"),
];
const WAIT: Duration = Duration::from_secs(20);
const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
/// A conflict marker on line 2, a CRLF line among LF ones, no final newline.
const THREE_PROBLEMS: &str = "let a = 1;\r\n<<<<<<< HEAD\nlet b = 2;";

/// The input Claude Code writes after `tool` edited `file_path` (fields as documented,
/// including the ones the hook does not use).
fn edit(cwd: &Path, tool: &str, file_path: &str) -> Value {
    json!({
        "session_id": SESSION,
        "transcript_path": cwd.join("transcript.jsonl"),
        "cwd": cwd,
        "permission_mode": "default",
        "hook_event_name": "PostToolUse",
        "tool_name": tool,
        "tool_input": {"file_path": file_path, "content": "not read by the hook"},
        "tool_response": {"filePath": file_path, "success": true},
        "tool_use_id": TOOL_USE_ID,
    })
}

fn hook(scratch: &Scratch, vars: &[(&str, &str)], input: &Value) -> Run {
    hook_raw(scratch, vars, input.to_string().as_bytes())
}

fn hook_raw(scratch: &Scratch, vars: &[(&str, &str)], input: &[u8]) -> Run {
    process::run(HOOK, &[], scratch, vars, input)
}

/// The reason of a blocking answer; panics unless stdout is exactly
/// `{"decision":"block","reason":...}` on one line and the exit code 0.
fn block_reason(run: &Run) -> String {
    assert_eq!(run.code, Some(0), "{}", run.show());
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.show());
    let answer: Value = serde_json::from_str(&run.stdout).expect("the answer is JSON");
    let object = answer.as_object().expect("the answer is an object");
    assert_eq!(object.len(), 2, "only decision and reason: {answer}");
    assert_eq!(object["decision"], "block", "{answer}");
    object["reason"].as_str().expect("reason").to_owned()
}

fn assert_silent_success(run: &Run) {
    assert_eq!(run.code, Some(0), "{}", run.show());
    assert_eq!(run.stdout, "", "{}", run.show());
}

#[test]
fn a_clean_file_passes_silently() {
    let s = Scratch::new("clean");
    let file = s.write("src/main.rs", "fn main() {}\n");
    for tool in ["Write", "Edit", "MultiEdit"] {
        let run = hook(&s, &[], &edit(s.path(), tool, &file.to_string_lossy()));
        assert_silent_success(&run);
        assert_eq!(run.stderr, "", "{}", run.show());
    }
}

#[test]
fn problems_get_the_documented_block_answer() {
    let s = Scratch::new("problems");
    let file = s.write("src/lib.rs", THREE_PROBLEMS);
    let run = hook(&s, &[], &edit(s.path(), "Edit", &file.to_string_lossy()));
    let reason = block_reason(&run);
    assert_eq!(run.stderr, "", "{}", run.show());
    assert!(
        reason.starts_with(&format!(
            "han-check-hook found 3 problems in {}:",
            file.display()
        )),
        "{reason}"
    );
    for problem in [
        "- line 2: merge conflict marker",
        "- mixed line endings: 1 line ends in CRLF, 1 in LF",
        "- no newline at end of file",
    ] {
        assert!(reason.contains(problem), "{problem:?} missing: {reason}");
    }
}

#[test]
fn each_check_catches_its_problem_and_nothing_else() {
    let cases: &[(&str, &[u8], Option<&str>)] = &[
        // Claude Code strips trailing whitespace outside Markdown: not checked there.
        ("a.txt", b"x  \n", None),
        ("a.txt", b"ok\nx\t\n", None),
        ("notes.md", b"a hard  \nbreak\n", None),
        (
            "notes.md",
            b"a tab\t\n",
            Some("line 1: trailing whitespace"),
        ),
        (
            "notes.md",
            b"ok\none \n",
            Some("line 2: trailing whitespace"),
        ),
        (
            "notes.md",
            b"three   \n",
            Some("line 1: trailing whitespace"),
        ),
        ("notes.md", b"a\n  \n", Some("line 2: trailing whitespace")),
        (
            "NOTES.markdown",
            b"x \n",
            Some("line 1: trailing whitespace"),
        ),
        ("a.txt", b"x\r\n", None),
        ("a.txt", b"x\r\ny\r\n", None),
        (
            "a.txt",
            b"x\r\ny\nz\n",
            Some("mixed line endings: 1 line ends in CRLF, 2 in LF"),
        ),
        (
            "a.txt",
            b"x\r\ny\r\nz\n",
            Some("mixed line endings: 2 lines end in CRLF, 1 in LF"),
        ),
        (
            "a.txt",
            b"a\n<<<<<<< HEAD\n",
            Some("line 2: merge conflict marker"),
        ),
        (
            "a.txt",
            b"||||||| base\n",
            Some("line 1: merge conflict marker"),
        ),
        (
            "a.txt",
            b">>>>>>> feature\n",
            Some("line 1: merge conflict marker"),
        ),
        ("a.rs", b"// <<<<<<< in a comment\n", None),
        ("title.md", b"Title\n=======\n", None),
        ("a.txt", b"x", Some("no newline at end of file")),
        ("empty.txt", b"", None),
        ("data.json", b"{\"a\": [1, 2]}\n", None),
        (
            "data.json",
            b"{\"a\": 1,}\n",
            Some("invalid JSON: trailing comma"),
        ),
        ("tsconfig.json", b"{ // comments allowed\n}\n", None),
        (".vscode/settings.json", b"{ /* here too */ }\n", None),
        ("logo.png", b"\x89PNG\r\n\x1a\n\x00\x00 ", None),
        ("latin1.txt", b"caf\xe9 \n", None),
    ];
    let s = Scratch::new("checks");
    for (name, contents, expected) in cases {
        let file = s.write(name, contents);
        let run = hook(&s, &[], &edit(s.path(), "Write", &file.to_string_lossy()));
        match expected {
            None => assert_silent_success(&run),
            Some(problem) => {
                let reason = block_reason(&run);
                assert!(
                    reason.contains(&format!(
                        "found 1 problem in {}:\n- {problem}",
                        file.display()
                    )),
                    "{name}: expected only {problem:?}, got: {reason}"
                );
            }
        }
    }
}

#[test]
fn a_relative_file_path_is_resolved_against_cwd() {
    let s = Scratch::new("relative");
    s.write("project/src/a.txt", "no final newline");
    let cwd = s.path().join("project");
    let reason = block_reason(&hook(&s, &[], &edit(&cwd, "Write", "src/a.txt")));
    assert!(
        reason.contains(&cwd.join("src/a.txt").display().to_string()),
        "{reason}"
    );

    // The same relative path from another directory names no file.
    let run = hook(&s, &[], &edit(s.path(), "Write", "src/a.txt"));
    assert_eq!(run.code, Some(1), "{}", run.show());
    assert!(run.stderr.contains("cannot read"), "{}", run.show());
}

#[test]
fn many_problems_are_listed_up_to_twenty() {
    let s = Scratch::new("many");
    let file = s.write("a.md", "x \n".repeat(25));
    let reason = block_reason(&hook(
        &s,
        &[],
        &edit(s.path(), "Write", &file.to_string_lossy()),
    ));
    assert!(reason.contains("found 25 problems"), "{reason}");
    assert!(reason.contains("line 20: trailing whitespace"), "{reason}");
    assert!(!reason.contains("line 21:"), "{reason}");
    assert!(reason.contains("- and 5 more"), "{reason}");
}

#[test]
fn events_and_tools_it_does_not_handle_are_ignored_and_not_recorded() {
    let s = Scratch::new("ignored");
    let bad = s
        .write("bad.txt", THREE_PROBLEMS)
        .to_string_lossy()
        .into_owned();
    let mut inputs = vec![
        json!({"session_id": SESSION, "transcript_path": "/t.jsonl", "cwd": s.path(),
               "hook_event_name": "Stop", "stop_hook_active": false}),
        json!({"session_id": SESSION, "cwd": s.path(), "hook_event_name": "UserPromptSubmit",
               "prompt": "hello"}),
        json!({"session_id": SESSION, "cwd": s.path(), "hook_event_name": "SessionStart",
               "source": "startup"}),
    ];
    for tool in ["Bash", "Read", "NotebookEdit"] {
        inputs.push(edit(s.path(), tool, &bad));
    }
    let mut pre = edit(s.path(), "Write", &bad);
    pre["hook_event_name"] = "PreToolUse".into();
    inputs.push(pre);

    for input in &inputs {
        // Telemetry on, printed to stderr: an empty stderr means nothing was recorded.
        let run = hook(&s, &CONSOLE, input);
        assert_silent_success(&run);
        assert_eq!(run.stderr, "", "{input}\n{}", run.show());
    }
}

#[test]
fn bad_input_is_a_non_blocking_error_with_a_clear_message() {
    let s = Scratch::new("bad-input");
    let file = s.write("ok.txt", "fine\n").to_string_lossy().into_owned();
    let dir = s.path().to_string_lossy().into_owned();
    let valid = edit(s.path(), "Write", &file);
    let with = |pointer: &str, value: Option<Value>| {
        let mut input = valid.clone();
        let (parent, key) = pointer.rsplit_once('/').expect("a JSON pointer");
        let object = input
            .pointer_mut(parent)
            .and_then(Value::as_object_mut)
            .expect("parent object");
        match value {
            Some(v) => object.insert(key.to_owned(), v),
            None => object.remove(key),
        };
        input.to_string().into_bytes()
    };
    let valid_text = valid.to_string();
    let huge = {
        let mut input = valid.clone();
        input["tool_input"]["content"] = "a".repeat(9 << 20).into();
        input.to_string().into_bytes()
    };
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty", b"".to_vec(), "no input on stdin"),
        ("blank", b" \n\t\n".to_vec(), "no input on stdin"),
        (
            "truncated",
            valid_text.as_bytes()[..valid_text.len() / 2].to_vec(),
            "input is not valid JSON: EOF while parsing",
        ),
        (
            "not UTF-8",
            b"\xff\xfe{}".to_vec(),
            "input is not valid JSON",
        ),
        (
            "two values",
            format!("{valid_text} {{}}").into_bytes(),
            "input is not valid JSON: trailing characters",
        ),
        (
            "array",
            b"[]".to_vec(),
            "input must be a JSON object, got an array",
        ),
        (
            "string",
            b"\"PostToolUse\"".to_vec(),
            "input must be a JSON object, got a string",
        ),
        (
            "session_id number",
            with("/session_id", Some(json!(5))),
            "`session_id` must be a string, got a number",
        ),
        (
            "session_id missing",
            with("/session_id", None),
            "`session_id` is missing",
        ),
        (
            "hook_event_name array",
            with("/hook_event_name", Some(json!(["PostToolUse"]))),
            "`hook_event_name` must be a string, got an array",
        ),
        (
            "hook_event_name missing",
            with("/hook_event_name", None),
            "`hook_event_name` is missing",
        ),
        ("cwd missing", with("/cwd", None), "`cwd` is missing"),
        (
            "tool_name number",
            with("/tool_name", Some(json!(1))),
            "`tool_name` must be a string, got a number",
        ),
        (
            "tool_name missing",
            with("/tool_name", None),
            "`tool_name` is missing",
        ),
        (
            "tool_use_id object",
            with("/tool_use_id", Some(json!({}))),
            "`tool_use_id` must be a string, got an object",
        ),
        (
            "tool_input string",
            with("/tool_input", Some(json!("x"))),
            "`tool_input` must be an object, got a string",
        ),
        (
            "tool_input missing",
            with("/tool_input", None),
            "`tool_input` is missing",
        ),
        (
            "file_path number",
            with("/tool_input/file_path", Some(json!(3))),
            "`tool_input.file_path` must be a string, got a number",
        ),
        (
            "file_path missing",
            with("/tool_input/file_path", None),
            "`tool_input.file_path` is missing",
        ),
        (
            "file_path empty",
            with("/tool_input/file_path", Some(json!(""))),
            "`tool_input.file_path` is empty",
        ),
        (
            "no such file",
            with("/tool_input/file_path", Some(json!("gone.txt"))),
            "cannot read",
        ),
        (
            "a directory",
            with("/tool_input/file_path", Some(json!(dir))),
            "is not a regular file",
        ),
        ("huge", huge, "input is larger than 8 MiB"),
    ];
    for (label, input, expected) in cases {
        let run = hook_raw(&s, &[], &input);
        assert_eq!(run.code, Some(1), "{label}: {}", run.show());
        assert_eq!(run.stdout, "", "{label}: {}", run.show());
        assert_eq!(run.stderr.lines().count(), 1, "{label}: {}", run.show());
        assert!(
            run.stderr.starts_with("han-check-hook: ") && run.stderr.contains(expected),
            "{label}: expected {expected:?} on stderr; {}",
            run.show()
        );
    }
}

#[test]
fn a_large_write_under_the_input_cap_is_still_checked() {
    let s = Scratch::new("large");
    let contents = "line \n".repeat(1 << 20); // 6 MiB, every line with trailing whitespace
    let file = s.write("big.md", &contents);
    let mut input = edit(s.path(), "Write", &file.to_string_lossy());
    input["tool_input"]["content"] = contents.into();
    let reason = block_reason(&hook(&s, &[], &input));
    assert!(
        reason.contains(&format!("found {} problems", 1 << 20)),
        "{reason}"
    );
}

// ---------------------------------------------------------------------------------------
// Telemetry on the console exporters (stderr)

/// The console output split into its `[han-telemetry] metrics|events|spans` blocks.
fn console_block<'a>(stderr: &'a str, signal: &str) -> &'a str {
    let header = format!("[han-telemetry] {signal}\n");
    let Some(start) = stderr.find(&header) else {
        return "";
    };
    let rest = &stderr[start + header.len()..];
    &rest[..rest.find("[han-telemetry] ").unwrap_or(rest.len())]
}

/// Whether one line of `block` contains every one of `parts` (attribute order varies).
fn has_line(block: &str, parts: &[&str]) -> bool {
    block.lines().any(|l| parts.iter().all(|p| l.contains(p)))
}

#[test]
fn console_telemetry_records_the_run_on_stderr_and_leaves_stdout_to_the_answer() {
    let s = Scratch::new("console");
    let file = s.write("a.txt", THREE_PROBLEMS);
    let run = hook(
        &s,
        &CONSOLE,
        &edit(s.path(), "Write", &file.to_string_lossy()),
    );
    block_reason(&run);
    let metrics = console_block(&run.stderr, "metrics");
    let events = console_block(&run.stderr, "events");
    let spans = console_block(&run.stderr, "spans");
    let session = format!(r#"session.id="{SESSION}""#);
    let run_attrs = [
        r#"hook_name="han-check-hook""#,
        r#"hook_type="PostToolUse""#,
        "success=false",
        session.as_str(),
    ];
    assert!(
        metrics.contains(metric::HOOK_EXECUTION.name),
        "{}",
        run.show()
    );
    assert!(
        has_line(metrics, &[&run_attrs[..], &["= 1"]].concat()),
        "{}",
        run.show()
    );
    assert!(
        has_line(metrics, &[&run_attrs[..], &["count=1"]].concat()),
        "{}",
        run.show()
    );
    assert!(
        has_line(
            events,
            &[&run_attrs[..], &[event::HOOK_RESULT.name, "duration_ms="]].concat()
        ),
        "{}",
        run.show()
    );
    assert!(
        has_line(
            metrics,
            &[
                r#"validation_type="file-hygiene""#,
                "passed=false",
                "error_count=3",
                &session
            ]
        ),
        "{}",
        run.show()
    );
    assert!(
        has_line(events, &[event::VALIDATION_ERROR.name, "error_count=3"]),
        "{}",
        run.show()
    );
    // tool_use_id: on the hook's own span, nowhere in metrics or events.
    assert!(
        has_line(
            spans,
            &[
                "han-check-hook ",
                &format!(r#"tool_use_id="{TOOL_USE_ID}""#)
            ]
        ),
        "{}",
        run.show()
    );
    assert!(has_line(spans, &["hook han-check-hook "]), "{}", run.show());
    for block in [metrics, events] {
        assert!(
            !block.contains(TOOL_USE_ID) && !block.contains("tool_use"),
            "{}",
            run.show()
        );
    }
    assert!(
        !run.stderr.contains("han-telemetry: "),
        "no warnings: {}",
        run.show()
    );

    // A clean file: success, and a passed validation with no errors.
    let clean = s.write("b.txt", "ok\n");
    let run = hook(
        &s,
        &CONSOLE,
        &edit(s.path(), "Write", &clean.to_string_lossy()),
    );
    assert_silent_success(&run);
    let metrics = console_block(&run.stderr, "metrics");
    assert!(
        has_line(
            metrics,
            &[
                r#"hook_name="han-check-hook""#,
                r#"hook_type="PostToolUse""#,
                "success=true",
                "= 1"
            ]
        ),
        "{}",
        run.show()
    );
    assert!(
        has_line(
            metrics,
            &[
                r#"validation_type="file-hygiene""#,
                "passed=true",
                "error_count=0"
            ]
        ),
        "{}",
        run.show()
    );
    assert!(!console_block(&run.stderr, "events").contains(event::VALIDATION_ERROR.name));
}

#[test]
fn session_id_follows_otel_metrics_include_session_id() {
    let s = Scratch::new("include-session");
    let file = s.write("a.txt", "ok\n");
    let input = edit(s.path(), "Write", &file.to_string_lossy());
    for (setting, expected) in [(None, true), (Some("true"), true), (Some("false"), false)] {
        let mut vars = CONSOLE.to_vec();
        if let Some(value) = setting {
            vars.push(("OTEL_METRICS_INCLUDE_SESSION_ID", value));
        }
        let run = hook(&s, &vars, &input);
        assert_silent_success(&run);
        for signal in ["metrics", "events"] {
            let block = console_block(&run.stderr, signal);
            assert!(block.contains("han-check-hook"), "{signal}: {}", run.show());
            assert_eq!(
                block.contains(&format!(r#"session.id="{SESSION}""#)),
                expected,
                "OTEL_METRICS_INCLUDE_SESSION_ID={setting:?}, {signal}: {}",
                run.show()
            );
            if !expected {
                assert!(!block.contains("session.id"), "{}", run.show());
            }
        }
    }
}

#[test]
fn unusable_input_for_a_handled_event_is_recorded_as_a_failed_run() {
    let s = Scratch::new("failed-run");
    let mut input = edit(s.path(), "Write", "x");
    input["tool_input"]["file_path"] = json!(42);
    let run = hook(&s, &CONSOLE, &input);
    assert_eq!(run.code, Some(1), "{}", run.show());
    assert_eq!(run.stdout, "", "{}", run.show());
    assert!(
        run.stderr
            .starts_with("han-check-hook: `tool_input.file_path` must be a string"),
        "{}",
        run.show()
    );
    let metrics = console_block(&run.stderr, "metrics");
    assert!(
        has_line(
            metrics,
            &[
                r#"hook_name="han-check-hook""#,
                r#"hook_type="PostToolUse""#,
                "success=false"
            ]
        ),
        "{}",
        run.show()
    );
    assert!(
        !metrics.contains("han.validation.run"),
        "no file was checked: {}",
        run.show()
    );
}

// ---------------------------------------------------------------------------------------
// Telemetry through a real collector

fn to_collector(
    c: &Collector,
    extra: &[(&'static str, &'static str)],
) -> Vec<(&'static str, String)> {
    let mut vars = vec![
        ("CLAUDE_CODE_ENABLE_TELEMETRY", "1".to_owned()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc".to_owned()),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", c.grpc_endpoint()),
        ("OTEL_TRACES_EXPORTER", "otlp".to_owned()),
        ("TRACEPARENT", format!("00-{TRACE_ID}-00f067aa0ba902b7-01")),
    ];
    vars.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    vars
}

/// Runs the hook on a clean and on a faulty file, exporting to `c`.
fn clean_and_faulty_runs(c: &Collector, s: &Scratch, extra: &[(&'static str, &'static str)]) {
    let vars = to_collector(c, extra);
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let clean = s.write("clean.txt", "ok\n");
    let faulty = s.write("faulty.txt", THREE_PROBLEMS);
    assert_silent_success(&hook(
        s,
        &vars,
        &edit(s.path(), "Write", &clean.to_string_lossy()),
    ));
    block_reason(&hook(
        s,
        &vars,
        &edit(s.path(), "Edit", &faulty.to_string_lossy()),
    ));
}

/// Every point of every received `han.hook.execution`, once both runs have arrived.
fn both_hook_runs(c: &Collector) -> Vec<otlp::DataPoint> {
    c.wait_for_received("han.hook.execution of both runs", WAIT, |r| {
        let points: Vec<_> = r
            .metrics
            .iter()
            .filter(|m| m.name == metric::HOOK_EXECUTION.name)
            .flat_map(|m| m.points.clone())
            .collect();
        let seen = |success: bool| points.iter().any(|p| p.attributes.has("success", success));
        (seen(true) && seen(false)).then_some(points)
    })
}

fn both_hook_results(c: &Collector) -> Vec<otlp::ReceivedLog> {
    c.wait_for_received("han.hook_result of both runs", WAIT, |r| {
        let logs: Vec<_> = r
            .logs
            .iter()
            .filter(|l| l.event_name.as_deref() == Some(event::HOOK_RESULT.name))
            .cloned()
            .collect();
        (logs.len() >= 2).then_some(logs)
    })
}

/// No metric point and no log record carries the tool call's id, under any key.
fn assert_no_tool_use_id(c: &Collector) {
    let received = c.received();
    let attributes = received
        .metrics
        .iter()
        .flat_map(|m| m.points.iter().map(|p| &p.attributes))
        .chain(received.logs.iter().map(|l| &l.attributes));
    for attrs in attributes {
        assert!(
            attrs
                .iter()
                .all(|(k, v)| !k.contains("tool_use") && !v.to_string().contains(TOOL_USE_ID)),
            "tool_use_id recorded: {attrs:?}"
        );
    }
}

#[test]
fn collector_receives_each_run_with_session_id_and_never_tool_use_id() {
    let c = Collector::start();
    let s = Scratch::new("collector");
    clean_and_faulty_runs(&c, &s, &[]);

    for p in both_hook_runs(&c) {
        assert!(
            p.attributes.has("hook_name", "han-check-hook"),
            "{:?}",
            p.attributes
        );
        assert!(
            p.attributes.has("hook_type", "PostToolUse"),
            "{:?}",
            p.attributes
        );
        assert!(
            p.attributes.has("session.id", SESSION),
            "{:?}",
            p.attributes
        );
        assert_eq!(p.value, Some(Number::Int(1)), "{:?}", p);
    }
    let duration = c.wait_for_metric(metric::HOOK_DURATION.name, WAIT);
    assert!(
        duration
            .points
            .iter()
            .all(|p| p.attributes.has("session.id", SESSION))
    );

    let logs = both_hook_results(&c);
    for success in [true, false] {
        let log = logs
            .iter()
            .find(|l| l.attributes.has("success", success))
            .unwrap_or_else(|| panic!("no han.hook_result with success={success}: {logs:?}"));
        assert!(log.attributes.has("hook_name", "han-check-hook"), "{log:?}");
        assert!(log.attributes.has("hook_type", "PostToolUse"), "{log:?}");
        assert!(log.attributes.has("session.id", SESSION), "{log:?}");
        assert!(log.attr("duration_ms").is_some(), "{log:?}");
        assert_eq!(
            log.trace_id, TRACE_ID,
            "the event is in Claude Code's trace"
        );
    }
    let validation = c.wait_for_log(event::VALIDATION_ERROR.name, WAIT);
    assert_eq!(validation.attr("error_count"), Some(&otlp::Value::Int(3)));

    // The id is on the hook's own span, the parent of the instrumented call's span.
    let outer = c.wait_for_span("han-check-hook", WAIT);
    assert_eq!(
        outer.attr("tool_use_id").and_then(otlp::Value::as_str),
        Some(TOOL_USE_ID),
        "{outer:?}"
    );
    assert_eq!(outer.trace_id, TRACE_ID);
    assert_eq!(outer.parent_span_id, "00f067aa0ba902b7");
    let inner = c.wait_for_span("hook han-check-hook", WAIT);
    assert!(
        c.spans()
            .iter()
            .any(|s| s.name == "hook han-check-hook" && s.parent_span_id == outer.span_id),
        "{inner:?} is not a child of {outer:?}"
    );
    assert_no_tool_use_id(&c);
}

#[test]
fn collector_receives_no_session_id_when_it_is_excluded() {
    let c = Collector::start();
    let s = Scratch::new("collector-no-session");
    clean_and_faulty_runs(&c, &s, &[("OTEL_METRICS_INCLUDE_SESSION_ID", "false")]);

    for p in both_hook_runs(&c) {
        assert!(
            p.attributes.has("hook_name", "han-check-hook"),
            "{:?}",
            p.attributes
        );
        assert!(p.attr("session.id").is_none(), "{:?}", p.attributes);
    }
    for log in both_hook_results(&c) {
        assert!(log.attr("session.id").is_none(), "{log:?}");
    }
    let received = c.received();
    for m in &received.metrics {
        for p in &m.points {
            assert!(
                p.attr("session.id").is_none(),
                "{}: {:?}",
                m.name,
                p.attributes
            );
        }
    }
    assert_no_tool_use_id(&c);
}
