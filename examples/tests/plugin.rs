//! `han-plugin-example`: installing and uninstalling a plugin, its MCP server answering
//! JSON-RPC on stdio, and every catalogue entry its documentation says it emits reaching a
//! real collector (rotel), and nothing else.

use std::collections::BTreeSet;
use std::time::Duration;

use han_telemetry::catalogue::{event, metric};
use han_telemetry_test_support::collector::Collector;
use han_telemetry_test_support::otlp::{self, Value as Otlp};
use han_telemetry_test_support::process::{self, Run};
use han_telemetry_test_support::scratch::Scratch;
use serde_json::{Value, json};

const PLUGIN: &str = env!("CARGO_BIN_EXE_han-plugin-example");
const SOURCE: &str = include_str!("../src/bin/han-plugin-example.rs");
const WAIT: Duration = Duration::from_secs(20);
const CONSOLE: [(&str, &str); 3] = [
    ("CLAUDE_CODE_ENABLE_TELEMETRY", "1"),
    ("OTEL_METRICS_EXPORTER", "console"),
    ("OTEL_LOGS_EXPORTER", "console"),
];

/// Runs the plugin with `HAN_PLUGIN_DIR` in `s`, plus `vars`.
fn plugin(s: &Scratch, args: &[&str], vars: &[(&str, &str)], stdin: &str) -> Run {
    let dir = s.path().join("plugins");
    let dir = dir.to_string_lossy();
    let mut all = vec![("HAN_PLUGIN_DIR", dir.as_ref())];
    all.extend_from_slice(vars);
    process::run(PLUGIN, args, s, &all, stdin.as_bytes())
}

fn call(id: u64, tool: &str, arguments: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
           "params": {"name": tool, "arguments": arguments}})
}

fn lines(messages: &[Value]) -> String {
    messages.iter().map(|m| format!("{m}\n")).collect()
}

/// The answers on stdout, by id; every line must be a JSON-RPC 2.0 response.
fn answers(run: &Run) -> Vec<Value> {
    run.stdout
        .lines()
        .map(|line| {
            let answer: Value = serde_json::from_str(line).unwrap_or_else(|e| {
                panic!("stdout line is not JSON ({e}): {line}\n{}", run.show())
            });
            assert_eq!(answer["jsonrpc"], "2.0", "{answer}");
            answer
        })
        .collect()
}

fn tool_text(answer: &Value) -> (&str, bool) {
    let result = &answer["result"];
    (
        result["content"][0]["text"].as_str().unwrap_or_default(),
        result["isError"].as_bool().expect("isError"),
    )
}

#[test]
fn install_writes_the_manifest_and_uninstall_removes_it() {
    let s = Scratch::new("install");
    let manifest = s.path().join("plugins/user/jutsu-markdown/han-plugin.json");

    let run = plugin(
        &s,
        &["install", "jutsu-markdown", "--scope", "user"],
        &[],
        "",
    );
    assert_eq!(run.code, Some(0), "{}", run.show());
    assert_eq!(run.stdout, "", "stdout is the MCP channel: {}", run.show());
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest).expect("manifest"))
            .expect("manifest is JSON");
    assert_eq!(
        written,
        json!({"name": "jutsu-markdown", "version": env!("CARGO_PKG_VERSION"), "scope": "user"})
    );

    let again = plugin(
        &s,
        &["install", "jutsu-markdown", "--scope", "user"],
        &[],
        "",
    );
    assert_eq!(again.code, Some(1), "{}", again.show());
    assert!(
        again.stderr.contains("already installed"),
        "{}",
        again.show()
    );

    let run = plugin(
        &s,
        &["uninstall", "jutsu-markdown", "--scope", "user"],
        &[],
        "",
    );
    assert_eq!(run.code, Some(0), "{}", run.show());
    assert!(!manifest.parent().expect("plugin dir").exists());

    let again = plugin(
        &s,
        &["uninstall", "jutsu-markdown", "--scope", "user"],
        &[],
        "",
    );
    assert_eq!(again.code, Some(1), "{}", again.show());
    assert!(
        again.stderr.contains("is not installed"),
        "{}",
        again.show()
    );
}

#[test]
fn bad_arguments_are_usage_errors_and_record_nothing() {
    let s = Scratch::new("usage");
    for args in [
        &["install"][..],
        &["install", "Bad-Name"],
        &["install", "../escape"],
        &["install", ""],
        &["install", "ok", "--scope", "global"],
        &["install", "ok", "--scope"],
        &["frobnicate"],
        &["mcp", "--verbose"],
        &[],
    ] {
        let run = plugin(&s, args, &CONSOLE, "");
        assert_eq!(run.code, Some(2), "{args:?}: {}", run.show());
        assert_eq!(run.stdout, "", "{args:?}: {}", run.show());
        assert!(run.stderr.contains("usage: "), "{args:?}: {}", run.show());
        assert!(
            !run.stderr.contains("[han-telemetry]"),
            "{args:?}: {}",
            run.show()
        );
    }
    // No directory at all.
    let run = process::run(PLUGIN, &["install", "ok"], &s, &[], b"");
    assert_eq!(run.code, Some(2), "{}", run.show());
    assert!(run.stderr.contains("HAN_PLUGIN_DIR"), "{}", run.show());
    assert!(!s.path().join("plugins").exists());
}

#[test]
fn mcp_server_answers_json_rpc_on_stdout() {
    let s = Scratch::new("mcp");
    assert_eq!(
        plugin(&s, &["install", "jutsu-markdown"], &[], "").code,
        Some(0)
    );
    let manifest = s
        .path()
        .join("plugins/project/jutsu-markdown/han-plugin.json");
    std::fs::write(
        &manifest,
        r#"{"name": "jutsu-markdown", "version": "1.2.3"}"#,
    )
    .expect("break");

    let name = json!({"name": "jutsu-markdown"});
    let requests = [
        json!({"jsonrpc": "2.0", "id": 0, "method": "initialize",
               "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                          "clientInfo": {"name": "test", "version": "0"}}}),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
        call(2, "validate_plugin", name.clone()),
        call(3, "repair_plugin", name.clone()),
        call(4, "validate_plugin", name.clone()),
        call(5, "repair_plugin", name.clone()),
        call(
            6,
            "validate_plugin",
            json!({"name": "absent", "scope": "user"}),
        ),
        call(7, "delete_everything", name.clone()),
        call(8, "validate_plugin", json!({"name": 7})),
        call(
            9,
            "validate_plugin",
            json!({"name": "x", "scope": "global"}),
        ),
        json!({"jsonrpc": "2.0", "id": 10, "method": "resources/list"}),
    ];
    let mut input = lines(&requests);
    input.push_str("{not json\n\n[1]\n");
    let run = plugin(&s, &["mcp"], &[], &input);
    assert_eq!(run.code, Some(0), "{}", run.show());
    let answers = answers(&run);
    let ids: Vec<Value> = answers.iter().map(|a| a["id"].clone()).collect();
    let expected: Vec<Value> = (0..=10)
        .map(|i| json!(i))
        .chain([Value::Null, Value::Null])
        .collect();
    assert_eq!(
        ids,
        expected,
        "one answer per request, none for the notification or the blank line:\n{}",
        run.show()
    );

    assert_eq!(answers[0]["result"]["protocolVersion"], "2025-06-18");
    assert_eq!(
        answers[0]["result"]["serverInfo"]["name"],
        "han-plugin-example"
    );
    let tools: Vec<&str> = answers[1]["result"]["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .map(|t| t["name"].as_str().expect("tool name"))
        .collect();
    assert_eq!(tools, ["validate_plugin", "repair_plugin"]);

    let (text, is_error) = tool_text(&answers[2]);
    assert!(
        !is_error && text.contains(r#"`scope` is not "project""#),
        "{text}"
    );
    let (text, is_error) = tool_text(&answers[3]);
    assert!(!is_error && text.contains("kept version 1.2.3"), "{text}");
    assert_eq!(
        tool_text(&answers[4]),
        ("jutsu-markdown: manifest is valid", false)
    );
    assert_eq!(
        tool_text(&answers[5]),
        ("jutsu-markdown: nothing to repair", false)
    );
    let (text, is_error) = tool_text(&answers[6]);
    assert!(
        is_error && text.contains("absent is not installed (user scope)"),
        "{text}"
    );
    for (i, code) in [
        (7, -32602),
        (8, -32602),
        (9, -32602),
        (10, -32601),
        (11, -32700),
        (12, -32600),
    ] {
        assert_eq!(answers[i]["error"]["code"], code, "{}", answers[i]);
    }

    let repaired: Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest).expect("manifest"))
            .expect("repaired manifest is JSON");
    assert_eq!(
        repaired,
        json!({"name": "jutsu-markdown", "version": "1.2.3", "scope": "project"})
    );
}

#[test]
fn an_oversized_mcp_message_is_refused_and_the_server_goes_on() {
    let s = Scratch::new("mcp-oversized");
    let mut input = format!("{}\n", "x".repeat(3 << 20));
    input.push_str(&lines(&[
        json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}),
    ]));
    let run = plugin(&s, &["mcp"], &[], &input);
    assert_eq!(run.code, Some(0), "{}", run.show());
    let answers = answers(&run);
    assert_eq!(answers.len(), 2, "{}", run.show());
    assert_eq!(answers[0]["error"]["code"], -32600);
    assert_eq!(answers[1]["id"], 1);
    assert_eq!(answers[1]["result"], json!({}));
}

/// The catalogue names the documentation's `Emits:` paragraph lists.
fn claimed() -> BTreeSet<&'static str> {
    let start = SOURCE.find("//! Emits:").expect("an `Emits:` paragraph");
    let paragraph: String = SOURCE[start..]
        .lines()
        .take_while(|l| l.trim() != "//!")
        .collect();
    let names: BTreeSet<&str> = paragraph
        .split('`')
        .skip(1)
        .step_by(2)
        .map(|name| {
            let known = metric::ALL.iter().map(|m| m.name);
            let known = known.chain(event::ALL.iter().map(|e| e.name));
            known
                .into_iter()
                .find(|k| *k == name)
                .unwrap_or_else(|| panic!("{name} is not in the catalogue"))
        })
        .collect();
    assert!(names.len() >= 9, "{names:?}");
    names
}

/// A session that exercises every path: install, a broken manifest validated and repaired
/// (partially: its version is lost), a repair that fails, uninstall.
fn session(s: &Scratch, vars: &[(&str, &str)]) -> Vec<Run> {
    let install = plugin(s, &["install", "jutsu-markdown"], vars, "");
    let manifest = s
        .path()
        .join("plugins/project/jutsu-markdown/han-plugin.json");
    // Two problems: the wrong scope, no version.
    std::fs::write(&manifest, r#"{"name": "jutsu-markdown", "scope": "user"}"#)
        .expect("break the manifest");
    let name = json!({"name": "jutsu-markdown"});
    let mcp = plugin(
        s,
        &["mcp"],
        vars,
        &lines(&[
            call(1, "validate_plugin", name.clone()),
            call(2, "repair_plugin", name.clone()),
            call(3, "validate_plugin", name.clone()),
            call(4, "repair_plugin", json!({"name": "absent"})),
        ]),
    );
    let uninstall = plugin(s, &["uninstall", "jutsu-markdown"], vars, "");
    let runs = vec![install, mcp, uninstall];
    for run in &runs {
        assert_eq!(run.code, Some(0), "{}", run.show());
    }
    runs
}

#[test]
fn every_entry_it_claims_reaches_the_collector_and_nothing_else() {
    let claimed = claimed();
    let c = Collector::start();
    let s = Scratch::new("collector");
    let endpoint = c.grpc_endpoint();
    session(
        &s,
        &[
            ("CLAUDE_CODE_ENABLE_TELEMETRY", "1"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
        ],
    );

    c.wait_for_received("every claimed entry", WAIT, |r| {
        let names: BTreeSet<&str> = r
            .metrics
            .iter()
            .map(|m| m.name.as_str())
            .chain(r.logs.iter().filter_map(|l| l.event_name.as_deref()))
            .collect();
        claimed.iter().all(|c| names.contains(c)).then_some(())
    });
    // Every run has exited and flushed; give rotel's forwarding a moment to catch up, so
    // that anything unclaimed is seen too.
    std::thread::sleep(Duration::from_millis(300));
    let received = c.received();
    let names: BTreeSet<&str> = received
        .metrics
        .iter()
        .map(|m| m.name.as_str())
        .chain(received.logs.iter().filter_map(|l| l.event_name.as_deref()))
        .collect();
    assert_eq!(
        names, claimed,
        "received exactly what the documentation claims"
    );

    let points = |name: &str| -> Vec<otlp::DataPoint> {
        received
            .metrics
            .iter()
            .filter(|m| m.name == name)
            .flat_map(|m| m.points.clone())
            .collect()
    };
    let one = |name: &str, attrs: &[(&str, Otlp)]| {
        let found = points(name)
            .into_iter()
            .find(|p| attrs.iter().all(|(k, v)| p.attr(k) == Some(v)));
        assert!(
            found.is_some(),
            "no {name} point with {attrs:?}: {:?}",
            points(name)
        );
    };
    let ok = || ("success", Otlp::Bool(true));
    one(
        metric::PLUGIN_INSTALL.name,
        &[
            ("plugin_name", Otlp::from("jutsu-markdown")),
            ("scope", Otlp::from("project")),
            ok(),
        ],
    );
    one(
        metric::PLUGIN_UNINSTALL.name,
        &[("plugin_name", Otlp::from("jutsu-markdown")), ok()],
    );
    one(
        metric::MCP_TOOL_CALL.name,
        &[("tool_name", Otlp::from("validate_plugin")), ok()],
    );
    one(
        metric::MCP_TOOL_CALL.name,
        &[("tool_name", Otlp::from("repair_plugin")), ok()],
    );
    one(
        metric::MCP_TOOL_CALL.name,
        &[
            ("tool_name", Otlp::from("repair_plugin")),
            ("success", Otlp::Bool(false)),
        ],
    );
    one(
        metric::VALIDATION_RUN.name,
        &[
            ("validation_type", Otlp::from("plugin-manifest")),
            ("passed", Otlp::Bool(false)),
            ("error_count", Otlp::Int(2)),
        ],
    );
    one(
        metric::VALIDATION_RUN.name,
        &[
            ("validation_type", Otlp::from("plugin-manifest")),
            ("passed", Otlp::Bool(true)),
            ("error_count", Otlp::Int(0)),
        ],
    );
    one(
        metric::TASK_COMPLETED.name,
        &[
            ("task_type", Otlp::from("repair")),
            ("outcome", Otlp::from("partial")),
            ("confidence_bucket", Otlp::from("0.5")),
        ],
    );
    one(
        metric::TASK_FAILED.name,
        &[
            ("task_type", Otlp::from("repair")),
            ("outcome", Otlp::from("failure")),
        ],
    );

    let log = |name: &str| {
        received
            .logs
            .iter()
            .filter(|l| l.event_name.as_deref() == Some(name))
            .collect::<Vec<_>>()
    };
    for action in ["install", "uninstall"] {
        assert!(
            log(event::PLUGIN_EVENT.name)
                .iter()
                .any(|l| l.attributes.has("action", action)
                    && l.attributes.has("scope", "project")),
            "{action}: {:?}",
            log(event::PLUGIN_EVENT.name)
        );
    }
    assert!(
        log(event::TASK_OUTCOME.name)
            .iter()
            .any(|l| l.attributes.has("outcome", "partial") && l.attributes.has("confidence", 0.5)),
        "{:?}",
        log(event::TASK_OUTCOME.name)
    );
    assert!(
        log(event::VALIDATION_ERROR.name)
            .iter()
            .any(|l| l.attributes.has("error_count", 2)),
        "{:?}",
        log(event::VALIDATION_ERROR.name)
    );
}

#[test]
fn console_telemetry_goes_to_stderr_and_stdout_stays_json_rpc() {
    let s = Scratch::new("console");
    let runs = session(&s, &CONSOLE);
    let mcp = &runs[1];
    assert_eq!(answers(mcp).len(), 4, "{}", mcp.show());
    let stderr: String = runs.iter().map(|r| r.stderr.as_str()).collect();
    for name in claimed() {
        assert!(stderr.contains(name), "{name} missing on stderr:\n{stderr}");
    }
    assert!(
        stderr
            .lines()
            .any(|l| l.contains(r#"tool_name="repair_plugin""#) && l.contains("success=false")),
        "{stderr}"
    );
}
