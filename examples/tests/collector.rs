//! End to end against a real, independent collector (rotel): `han-demo` exports over each
//! OTLP protocol and what the collector forwards (decoded as typed OTLP) holds every metric,
//! event, resource attribute and span as the catalogue defines them.

use std::process::Command;
use std::time::Duration;

use han_telemetry::catalogue::{self, MetricKind as Kind, event, metric};
use han_telemetry_test_support::collector::Collector;
use han_telemetry_test_support::http_server::{Answer, HttpServer};
use han_telemetry_test_support::otlp::{MetricKind, Number, StatusCode, Temporality, Value};
use han_telemetry_test_support::scratch::Scratch;

const WAIT: Duration = Duration::from_secs(20);
const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_SPAN_ID: &str = "00f067aa0ba902b7";

/// Runs han-demo with a clean environment plus `vars`; it must exit 0. Returns its stdout.
fn run_demo(name: &str, vars: &[(&str, &str)]) -> String {
    let dir = Scratch::new(&format!("collector-{name}"));
    let output = Command::new(env!("CARGO_BIN_EXE_han-demo"))
        .env_clear()
        .env("HOME", dir.path())
        .env("CLAUDE_PROJECT_DIR", dir.path())
        .envs(vars.iter().copied())
        .output()
        .expect("run han-demo");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(
        output.status.code(),
        Some(0),
        "han-demo failed; stderr:\n{stderr}"
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn export_to(c: &Collector, protocol: &str, extra: &[(&str, &str)]) -> String {
    let endpoint = if protocol == "grpc" {
        c.grpc_endpoint()
    } else {
        c.http_endpoint()
    };
    let mut vars = vec![
        ("CLAUDE_CODE_ENABLE_TELEMETRY", "1"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
        ("OTEL_TRACES_EXPORTER", "otlp"),
        (
            "OTEL_RESOURCE_ATTRIBUTES",
            "org.name=John%27s%20Organization,team=platform",
        ),
        (
            "TRACEPARENT",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ),
    ];
    vars.extend_from_slice(extra);
    let endpoint_var = ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str());
    vars.push(endpoint_var);
    run_demo(&protocol.replace('/', "-"), &vars)
}

/// What rotel can decode of a protocol. rotel 0.0.1a15's http/json receiver drops 64-bit
/// integers encoded as strings, which the OTLP/JSON encoding requires: sum values and
/// histograms arrive empty. For http/json the values are checked in the payload instead
/// (`http_json_payload_encodes_values_as_the_otlp_spec_says`).
#[derive(Clone, Copy, PartialEq)]
enum Decoded {
    Everything,
    NamesAndAttributes,
}

fn assert_catalogue_received(c: &Collector, temporality: Temporality, decoded: Decoded) {
    for def in metric::ALL {
        let m = c.wait_for_metric(def.name, WAIT);
        assert_eq!(m.unit, def.unit, "{}", def.name);
        assert_eq!(m.description, def.description, "{}", def.name);
        if decoded == Decoded::NamesAndAttributes && def.kind == Kind::Histogram {
            continue; // arrives without data (`MetricKind::Empty`), see `Decoded`
        }
        assert_eq!(m.temporality, Some(temporality), "{}", def.name);
        match def.kind {
            Kind::Counter => {
                assert_eq!(m.kind, MetricKind::Sum, "{}", def.name);
                assert_eq!(m.monotonic, Some(true), "{}", def.name);
            }
            Kind::Histogram => assert_eq!(m.kind, MetricKind::Histogram, "{}", def.name),
        }
        assert!(!m.points.is_empty(), "{} has no data points", def.name);
        for p in &m.points {
            for key in def.attributes {
                assert!(
                    p.attr(key).is_some(),
                    "{} point lacks {key}: {:?}",
                    def.name,
                    p.attributes
                );
            }
            assert!(
                p.attributes.has("session.id", "han-demo-session"),
                "{}: {:?}",
                def.name,
                p.attributes
            );
            assert!(p.attr("duration_ms").is_none(), "{}", def.name);
        }
        assert_eq!(m.resource.get("service.name"), Some(&Value::from("han")));
        assert_eq!(
            m.resource.get("org.name"),
            Some(&Value::from("John's Organization"))
        );
        assert_eq!(m.resource.get("team"), Some(&Value::from("platform")));
        for key in ["service.version", "os.type", "host.arch"] {
            assert!(
                m.resource.get(key).is_some(),
                "resource lacks {key}: {:?}",
                m.resource
            );
        }
    }

    if decoded == Decoded::Everything {
        assert_values_received(c);
    }
    assert_events_and_span_received(c);
}

fn assert_values_received(c: &Collector) {
    let exec = c.wait_for_metric(metric::HOOK_EXECUTION.name, WAIT);
    let failed_lint = exec
        .points
        .iter()
        .find(|p| p.attributes.has("hook_name", "lint") && p.attributes.has("success", false))
        .expect("a failed lint run");
    assert_eq!(failed_lint.value, Some(Number::Int(1)));
    assert!(failed_lint.attributes.has("hook_type", "PostToolUse"));

    let duration = c.wait_for_metric(metric::HOOK_DURATION.name, WAIT);
    let lint_ok = duration
        .points
        .iter()
        .find(|p| p.attributes.has("hook_name", "lint") && p.attributes.has("success", true))
        .expect("a successful lint run");
    assert_eq!(lint_ok.count, Some(1));
    // A measured duration: positive, and far below the first bucket bound of a second.
    assert!(
        lint_ok.sum.is_some_and(|ms| ms > 0.0 && ms < 1_000.0),
        "{:?}",
        lint_ok.sum
    );
    assert_eq!(lint_ok.bounds, catalogue::HOOK_DURATION_BUCKETS_MS.to_vec());
}

fn assert_events_and_span_received(c: &Collector) {
    for def in event::ALL {
        let log = c.wait_for_log(def.name, WAIT);
        assert_eq!(log.event_name.as_deref(), Some(def.name));
        assert_eq!(log.severity_text, def.severity.text(), "{}", def.name);
        assert!(
            log.attributes.has("event.name", def.name),
            "{}: {:?}",
            def.name,
            log.attributes
        );
        for key in def.attributes {
            assert!(
                log.attr(key).is_some(),
                "{} lacks {key}: {:?}",
                def.name,
                log.attributes
            );
        }
        assert_eq!(
            log.trace_id, TRACE_ID,
            "{} is not in the hook's trace",
            def.name
        );
        assert_eq!(
            log.resource.get("org.name"),
            Some(&Value::from("John's Organization"))
        );
    }
    let validation = c.wait_for_log(event::VALIDATION_ERROR.name, WAIT);
    assert_eq!(validation.attr("error_count"), Some(&Value::Int(3)));
    assert_eq!(validation.severity_number, 13);

    let span = c.wait_for_span("han-demo session", WAIT);
    assert_eq!(span.trace_id, TRACE_ID);
    assert_eq!(span.parent_span_id, PARENT_SPAN_ID);
    let hook = c.wait_for_span("hook lint", WAIT);
    assert_eq!(hook.trace_id, TRACE_ID);
    assert_eq!(
        hook.parent_span_id, span.span_id,
        "hook span is a child of the session span"
    );
    let failed = c
        .spans()
        .into_iter()
        .filter(|s| s.name == "hook lint")
        .find(|s| s.status_code == StatusCode::Error);
    assert!(
        failed.is_some(),
        "the failed lint run has an error status: {:?}",
        c.spans()
    );
}

#[test]
fn grpc_delivers_the_whole_catalogue() {
    let c = Collector::start();
    let stdout = export_to(&c, "grpc", &[]);
    assert!(
        stdout.contains("delivered: metrics, logs, traces; failed: none"),
        "{stdout}"
    );
    assert_catalogue_received(&c, Temporality::Delta, Decoded::Everything);
}

#[test]
fn http_protobuf_delivers_the_whole_catalogue() {
    let c = Collector::start();
    export_to(&c, "http/protobuf", &[]);
    assert_catalogue_received(&c, Temporality::Delta, Decoded::Everything);
}

#[test]
fn http_json_delivers_the_whole_catalogue() {
    let c = Collector::start();
    export_to(&c, "http/json", &[]);
    assert_catalogue_received(&c, Temporality::Delta, Decoded::NamesAndAttributes);
}

#[test]
fn http_json_payload_encodes_values_as_the_otlp_spec_says() {
    let server = HttpServer::answering(Answer::status(200));
    let endpoint = server.endpoint();
    run_demo(
        "json-payload",
        &[
            ("CLAUDE_CODE_ENABLE_TELEMETRY", "1"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
        ],
    );
    let received: Vec<(String, String)> = server
        .requests()
        .into_iter()
        .filter_map(|r| Some((r.path, String::from_utf8_lossy(&r.body?).into_owned())))
        .collect();
    let metrics = received
        .iter()
        .find(|(p, _)| p == "/v1/metrics")
        .map(|(_, b)| b.as_str())
        .unwrap_or_else(|| {
            panic!(
                "no /v1/metrics request; got {:?}",
                received.iter().map(|(p, _)| p).collect::<Vec<_>>()
            )
        });
    let compact: String = metrics.chars().filter(|c| !c.is_whitespace()).collect();
    // 64-bit integers are decimal strings in OTLP/JSON; doubles are numbers.
    assert!(
        compact.contains(r#""name":"han.hook.execution""#),
        "{compact}"
    );
    assert!(compact.contains(r#""asInt":"1""#), "{compact}");
    assert!(compact.contains(r#""count":"1""#), "{compact}");
    // `"sum":{` opens a counter's data; a histogram's `"sum":` is followed by its value.
    let sums: Vec<&str> = compact
        .split(r#""sum":"#)
        .skip(1)
        .filter(|rest| !rest.starts_with('{'))
        .collect();
    assert!(
        !sums.is_empty()
            && sums
                .iter()
                .all(|rest| rest.starts_with(|c: char| c.is_ascii_digit())),
        "histogram sums are JSON numbers (doubles), not strings: {compact}"
    );
    assert!(
        compact.contains(r#""explicitBounds":[1.0,2.5,5.0"#),
        "{compact}"
    );
    assert!(compact.contains(r#""isMonotonic":true"#), "{compact}");
    let logs = received
        .iter()
        .find(|(p, _)| p == "/v1/logs")
        .map(|(_, b)| b.as_str())
        .expect("a /v1/logs request");
    let compact: String = logs.chars().filter(|c| !c.is_whitespace()).collect();
    assert!(
        compact.contains(r#""eventName":"han.validation_error""#),
        "{compact}"
    );
    assert!(compact.contains(r#""intValue":"3""#), "{compact}");
}

#[test]
fn cumulative_temporality_is_honoured() {
    let c = Collector::start();
    export_to(
        &c,
        "grpc",
        &[(
            "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
            "cumulative",
        )],
    );
    assert_catalogue_received(&c, Temporality::Cumulative, Decoded::Everything);
}

#[test]
fn gzip_compression_is_accepted_by_the_collector() {
    let c = Collector::start();
    export_to(
        &c,
        "http/protobuf",
        &[("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip")],
    );
    c.wait_for_metric(metric::HOOK_EXECUTION.name, WAIT);
    c.wait_for_log(event::HOOK_RESULT.name, WAIT);
}

#[test]
fn signal_specific_endpoints_split_the_signals() {
    let metrics_collector = Collector::start();
    let logs_collector = Collector::start();
    let metrics_endpoint = format!("{}/v1/metrics", metrics_collector.http_endpoint());
    let logs_endpoint = logs_collector.grpc_endpoint();
    run_demo(
        "split",
        &[
            ("CLAUDE_CODE_ENABLE_TELEMETRY", "1"),
            ("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/protobuf"),
            ("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", &metrics_endpoint),
            ("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", &logs_endpoint),
        ],
    );
    metrics_collector.wait_for_metric(metric::HOOK_EXECUTION.name, WAIT);
    logs_collector.wait_for_log(event::HOOK_RESULT.name, WAIT);
    assert!(
        metrics_collector.logs().is_empty(),
        "logs went to the metrics collector"
    );
    assert!(
        logs_collector.metrics().is_empty(),
        "metrics went to the logs collector"
    );
}

#[test]
fn settings_file_env_block_configures_a_hook_without_otel_variables() {
    // Claude Code no longer passes OTEL_* to hooks: the user's settings file must be enough.
    let c = Collector::start();
    let home = Scratch::new("collector-settings-home");
    let project = Scratch::new("collector-settings-project");
    let settings = format!(
        r#"{{"env": {{"CLAUDE_CODE_ENABLE_TELEMETRY": "1", "OTEL_EXPORTER_OTLP_ENDPOINT": "{}", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}}}}"#,
        c.grpc_endpoint()
    );
    home.write(".claude/settings.json", settings);
    let output = Command::new(env!("CARGO_BIN_EXE_han-demo"))
        .env_clear()
        .env("HOME", home.path())
        .env("CLAUDE_PROJECT_DIR", project.path())
        .output()
        .expect("run han-demo");
    assert_eq!(output.status.code(), Some(0));
    c.wait_for_metric(metric::HOOK_EXECUTION.name, WAIT);
    c.wait_for_log(event::HOOK_RESULT.name, WAIT);
}

#[test]
fn telemetry_off_sends_nothing() {
    let c = Collector::start();
    for (name, vars) in [
        ("off-unset", vec![]),
        ("off-zero", vec![("CLAUDE_CODE_ENABLE_TELEMETRY", "0")]),
        (
            "off-sdk-disabled",
            vec![
                ("CLAUDE_CODE_ENABLE_TELEMETRY", "1"),
                ("OTEL_SDK_DISABLED", "true"),
            ],
        ),
    ] {
        let endpoint = c.grpc_endpoint();
        let mut vars = vars;
        vars.push(("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()));
        vars.push(("OTEL_TRACES_EXPORTER", "otlp"));
        run_demo(name, &vars);
    }
    // The demo flushes before it exits, so anything sent reached rotel by now; give its
    // forwarding a moment to catch up before concluding.
    std::thread::sleep(Duration::from_millis(500));
    let received = c.received();
    assert!(
        received.metrics.is_empty() && received.logs.is_empty() && received.spans.is_empty(),
        "telemetry arrived while off:\n{}",
        c.output()
    );
}
