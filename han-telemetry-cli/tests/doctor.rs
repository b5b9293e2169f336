//! `han-telemetry doctor` against a real collector (rotel), a port where nothing listens, a
//! server that never answers, and a loopback OTLP/HTTP server that wants an API key; plus the
//! rule that no secret ever reaches its output.

mod support;

use std::net::TcpListener;
use std::thread;
use std::time::Duration;

use han_telemetry_test_support::collector::Collector;
use han_telemetry_test_support::http_server::{Answer, Body, HttpServer, Rule, When};
use han_telemetry_test_support::otlp::{self, Value as Otlp};
use han_telemetry_test_support::wrong_protocol::Server;
use serde_json::Value;
use support::{Run, Scratch, run};

const WAIT: Duration = Duration::from_secs(20);
const SECRET: &str = "hdr-s3cret-7f3a9c";

fn doctor(home: &Scratch, vars: &[(&str, &str)], extra: &[&str]) -> Run {
    let mut args = vec!["doctor", "--timeout", "3s"];
    args.extend_from_slice(extra);
    run(home, vars, &args)
}

/// The probe rows of a `--json` report.
fn probes(report: &Value) -> Vec<Value> {
    report["probe"]["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no probe results in {report:#}"))
        .clone()
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or("")
}

fn assert_no_secret(run: &Run) {
    let all = run.all_output();
    assert!(
        !all.contains(SECRET) && !all.contains("s3cret"),
        "a secret leaked:\n{all}"
    );
}

#[test]
fn a_live_collector_receives_every_probe_and_doctor_exits_0() {
    let c = Collector::start();
    for protocol in ["grpc", "http/protobuf", "http/json"] {
        let endpoint = if protocol == "grpc" {
            c.grpc_endpoint()
        } else {
            c.http_endpoint()
        };
        let home = Scratch::new("live");
        let vars = [
            ("CLAUDE_CODE_ENABLE_TELEMETRY", "1"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            ("OTEL_TRACES_EXPORTER", "otlp"),
            ("OTEL_RESOURCE_ATTRIBUTES", "team=platform"),
            ("OTEL_SERVICE_NAME", "doctor-test"),
        ];
        let text = doctor(&home, &vars, &[]);
        text.assert_code(0);
        assert!(
            text.stdout.contains("Result: telemetry flows"),
            "{}",
            text.all_output()
        );
        let json = doctor(&home, &vars, &["--json"]);
        json.assert_code(0);
        let report = json.json();
        assert_eq!(report["verdict"]["ok"], Value::Bool(true), "{report:#}");
        let rows = probes(&report);
        let signals: Vec<&str> = rows.iter().map(|r| str_of(r, "signal")).collect();
        assert_eq!(signals, ["metrics", "logs", "traces"], "{report:#}");
        for row in &rows {
            assert_eq!(str_of(row, "status"), "delivered", "{protocol}: {row:#}");
            assert_eq!(str_of(row, "protocol"), protocol, "{row:#}");
        }
    }

    // What the probes sent really arrived, with the resource real telemetry carries.
    let metric = c.wait_for_metric("han.doctor.probe", WAIT);
    assert_eq!(
        metric.resource.get("service.name"),
        Some(&Otlp::from("doctor-test"))
    );
    assert_eq!(metric.resource.get("team"), Some(&Otlp::from("platform")));
    let log = c.wait_for_log("han.doctor.probe", WAIT);
    assert_eq!(log.event_name.as_deref(), Some("han.doctor.probe"));
    c.wait_for_span("han.doctor.probe", WAIT);
    // Two runs (text, JSON) per protocol, one datum per signal each, and no second copy from
    // the meter provider's final collection.
    let probes_received = |r: &otlp::Received| {
        (
            r.metrics
                .iter()
                .filter(|m| m.name == "han.doctor.probe")
                .count(),
            r.logs
                .iter()
                .filter(|l| l.event_name.as_deref() == Some("han.doctor.probe"))
                .count(),
            r.spans
                .iter()
                .filter(|s| s.name == "han.doctor.probe")
                .count(),
        )
    };
    c.wait_for_received("six probes of each signal", WAIT, |r| {
        let (m, l, s) = probes_received(r);
        (m >= 6 && l >= 6 && s >= 6).then_some(())
    });
    thread::sleep(Duration::from_millis(300));
    assert_eq!(probes_received(&c.received()), (6, 6, 6), "{}", c.output());
}

#[test]
fn a_refused_port_fails_with_the_cause_and_the_fix() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    for protocol in ["grpc", "http/protobuf"] {
        let home = Scratch::new("refused");
        let endpoint = format!("http://127.0.0.1:{port}");
        let vars = [
            ("CLAUDE_CODE_ENABLE_TELEMETRY", "1"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ];
        let text = doctor(&home, &vars, &[]);
        text.assert_code(1);
        assert!(
            text.stdout
                .contains("cause: nothing accepts connections there"),
            "{}",
            text.all_output()
        );
        assert!(
            text.stdout.contains("is the collector running"),
            "{}",
            text.all_output()
        );
        let report = doctor(&home, &vars, &["--json"]).json();
        assert_eq!(report["verdict"]["exit_code"], 1);
        let rows = probes(&report);
        assert_eq!(rows.len(), 2, "{report:#}");
        for row in rows {
            assert_eq!(str_of(&row, "status"), "failed");
            assert!(str_of(&row, "cause").contains("nothing accepts connections"));
            assert!(str_of(&row, "fix").contains("4317 gRPC, 4318 HTTP"));
            assert!(
                str_of(&row, "error").contains("Connection refused"),
                "{row:#}"
            );
        }
    }
}

/// What the usual mistake gives at a port that is not 4317/4318 (these are ephemeral): the
/// protocol mismatch, without naming a standard port. At 4318 (4317) the same failures name
/// it and say what to set; the unit tests of `diagnostics::port_mismatch` hold that part.
const NOT_GRPC: &str = "the server there does not serve OTLP over gRPC";
const NOT_HTTP: &str = "the server there speaks gRPC (HTTP/2), not OTLP/HTTP";

/// Every probe of a `doctor --json` run against `endpoint` failed with `cause`.
fn assert_every_probe_fails_with(protocol: &str, endpoint: &str, cause: &str, fix: &str) {
    let home = Scratch::new("mismatch");
    let vars = [
        ("CLAUDE_CODE_ENABLE_TELEMETRY", "1"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        ("OTEL_TRACES_EXPORTER", "otlp"),
    ];
    let out = doctor(&home, &vars, &["--json"]);
    out.assert_code(1);
    let report = out.json();
    let rows = probes(&report);
    assert_eq!(rows.len(), 3, "{report:#}");
    for row in &rows {
        assert_eq!(str_of(row, "status"), "failed", "{row:#}");
        assert!(
            str_of(row, "cause").starts_with(cause),
            "{protocol} to {endpoint}: {row:#}"
        );
        assert!(str_of(row, "fix").contains(fix), "{row:#}");
        assert!(!str_of(row, "cause").contains("is the OTLP/"), "{row:#}");
    }
    let text = doctor(&home, &vars, &[]);
    assert!(
        text.stdout.contains(&format!("cause: {cause}")),
        "{}",
        text.all_output()
    );
}

#[test]
fn grpc_sent_to_an_http1_server_is_a_protocol_mismatch() {
    // It closes the connection after answering gRPC's preface in HTTP/1, so gRPC itself
    // mostly sees a broken pipe (or, when it read the answer first, a bad frame); doctor then
    // asks the port, which answers in HTTP/1 again.
    let closing = Server::http1();
    assert_every_probe_fails_with(
        "grpc",
        &closing.endpoint(),
        NOT_GRPC,
        "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
    );
    // With the connection kept, gRPC reads the HTTP/1 answer as an HTTP/2 frame.
    let keeping = Server::http1_keeping_the_connection();
    assert_every_probe_fails_with(
        "grpc",
        &keeping.endpoint(),
        NOT_GRPC,
        "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
    );
}

#[test]
fn grpc_sent_to_rotels_http_port_is_a_protocol_mismatch() {
    let c = Collector::start();
    assert_every_probe_fails_with(
        "grpc",
        &c.http_endpoint(),
        NOT_GRPC,
        "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
    );
}

#[test]
fn otlp_http_sent_to_a_grpc_server_is_a_protocol_mismatch() {
    let grpc_go_like = Server::http2_only();
    let c = Collector::start();
    for protocol in ["http/protobuf", "http/json"] {
        for endpoint in [grpc_go_like.endpoint(), c.grpc_endpoint()] {
            assert_every_probe_fails_with(
                protocol,
                &endpoint,
                NOT_HTTP,
                "OTEL_EXPORTER_OTLP_PROTOCOL=grpc",
            );
        }
    }
}

#[test]
fn a_server_that_never_answers_is_reported_within_the_timeout() {
    // The listen backlog accepts the connection; nobody ever reads or answers.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
    let home = Scratch::new("silent");
    let out = run(
        &home,
        &[
            ("CLAUDE_CODE_ENABLE_TELEMETRY", "1"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            ("OTEL_TRACES_EXPORTER", "otlp"),
        ],
        &["--json", "doctor", "--timeout", "500ms"],
    );
    out.assert_code(1);
    assert!(
        out.elapsed < Duration::from_secs(3),
        "probes run in parallel and never hang: {:?}",
        out.elapsed
    );
    for row in probes(&out.json()) {
        assert!(
            str_of(&row, "cause").contains("in time"),
            "{row:#}\n{}",
            out.all_output()
        );
    }
    drop(listener);
}

/// A loopback OTLP/HTTP receiver that answers 401 unless `x-api-key` is [`SECRET`].
struct AuthServer {
    endpoint: String,
    server: HttpServer,
}

impl AuthServer {
    fn start() -> AuthServer {
        let server = HttpServer::start(vec![Rule::new(
            When::HeaderIsNot {
                name: "x-api-key".to_owned(),
                value: SECRET.to_owned(),
            },
            Answer::with_body(401, Body::Text("unauthorized".to_owned())),
        )]);
        AuthServer {
            endpoint: server.endpoint(),
            server,
        }
    }

    /// Paths of the requests that carried the right key.
    fn authorized(&self) -> Vec<String> {
        self.server
            .requests()
            .into_iter()
            .filter(|r| r.header("x-api-key").map(str::trim) == Some(SECRET))
            .map(|r| r.path)
            .collect()
    }
}

fn auth_vars<'a>(server: &'a AuthServer, headers: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("CLAUDE_CODE_ENABLE_TELEMETRY", "1"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", server.endpoint.as_str()),
        ("OTEL_TRACES_EXPORTER", "otlp"),
        ("OTEL_EXPORTER_OTLP_HEADERS", headers),
    ]
}

#[test]
fn the_right_header_is_delivered_to_a_server_that_checks_it() {
    let server = AuthServer::start();
    let home = Scratch::new("auth-ok");
    let headers = format!("x-api-key={SECRET}");
    let out = doctor(&home, &auth_vars(&server, &headers), &[]);
    out.assert_code(0);
    assert_no_secret(&out);
    let mut paths = server.authorized();
    paths.sort();
    assert_eq!(paths, ["/v1/logs", "/v1/metrics", "/v1/traces"]);
}

#[test]
fn a_rejected_header_fails_with_an_auth_cause_and_never_shows_the_value() {
    let server = AuthServer::start();
    let home = Scratch::new("auth-rejected");
    let headers = format!("x-api-key=wrong-{SECRET}");
    let vars = auth_vars(&server, &headers);

    let text = doctor(&home, &vars, &[]);
    text.assert_code(1);
    assert_no_secret(&text);
    assert!(
        text.stdout
            .contains("cause: the collector rejected the credentials"),
        "{}",
        text.all_output()
    );
    assert!(
        text.stdout
            .contains("fix:   check OTEL_EXPORTER_OTLP_HEADERS"),
        "{}",
        text.all_output()
    );
    assert!(
        text.stdout.contains("x-api-key=***"),
        "the header's name is shown, masked: {}",
        text.stdout
    );

    let json = doctor(&home, &vars, &["--json"]);
    json.assert_code(1);
    assert_no_secret(&json);
    for row in probes(&json.json()) {
        assert!(str_of(&row, "error").contains("401"), "{row:#}");
        assert!(str_of(&row, "cause").contains("credentials"), "{row:#}");
    }
    assert!(server.authorized().is_empty());
}

#[test]
fn a_malformed_header_variable_is_a_problem_and_the_server_then_rejects_the_export() {
    let server = AuthServer::start();
    let home = Scratch::new("auth-malformed");
    // `:` instead of `=`: the entry cannot be parsed, so no key is sent at all.
    let headers = format!("x-api-key:{SECRET}");
    let vars = auth_vars(&server, &headers);

    let text = doctor(&home, &vars, &[]);
    text.assert_code(1);
    assert_no_secret(&text);
    assert!(
        text.stdout.contains("Configuration problems (1)"),
        "{}",
        text.all_output()
    );
    assert!(
        text.stdout
            .contains("OTEL_EXPORTER_OTLP_HEADERS=\"***\" (process environment) has an entry"),
        "{}",
        text.all_output()
    );

    let json = doctor(&home, &vars, &["--json"]);
    json.assert_code(1);
    assert_no_secret(&json);
    let report = json.json();
    let problems = report["problems"].as_array().expect("problems");
    assert_eq!(problems.len(), 1, "{report:#}");
    assert_eq!(
        str_of(&problems[0], "subject"),
        "OTEL_EXPORTER_OTLP_HEADERS"
    );
    let reasons = format!("{}", report["verdict"]["reasons"]);
    assert!(reasons.contains("configuration problem"), "{reasons}");
    assert!(reasons.contains("rejected the credentials"), "{reasons}");
}

#[test]
fn a_malformed_header_alone_fails_doctor_even_when_exports_get_through() {
    let c = Collector::start();
    let home = Scratch::new("malformed-only");
    let endpoint = c.grpc_endpoint();
    let out = doctor(
        &home,
        &[
            ("CLAUDE_CODE_ENABLE_TELEMETRY", "1"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                &format!("api-key={SECRET},{SECRET}"),
            ),
        ],
        &["--json"],
    );
    out.assert_code(1);
    assert_no_secret(&out);
    let report = out.json();
    assert!(
        probes(&report)
            .iter()
            .all(|r| str_of(r, "status") == "delivered"),
        "{report:#}"
    );
    assert_eq!(report["problems"].as_array().map(Vec::len), Some(1));
}

#[test]
fn secrets_in_the_endpoint_and_settings_files_are_masked() {
    let home = Scratch::new("masked");
    let settings = home.write(
        ".claude/settings.json",
        format!(
            r#"{{"env": {{"CLAUDE_CODE_ENABLE_TELEMETRY": "1",
                "OTEL_EXPORTER_OTLP_LOGS_HEADERS": "authorization=Bearer%20{SECRET}"}}}}"#
        ),
    );
    let out = doctor(
        &home,
        &[(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            &format!("http://user:{SECRET}@127.0.0.1:9"),
        )],
        &["--json"],
    );
    out.assert_code(1);
    assert_no_secret(&out);
    let report = out.json();
    let variables = report["variables"].as_array().expect("variables");
    let find = |name: &str| {
        variables
            .iter()
            .find(|v| str_of(v, "name") == name)
            .unwrap_or_else(|| panic!("{name} missing from {report:#}"))
    };
    let enable = find("CLAUDE_CODE_ENABLE_TELEMETRY");
    // The project is the home directory: its settings file is the user's own.
    assert_eq!(enable["source"]["kind"], "user_settings");
    assert_eq!(
        enable["source"]["path"],
        Value::String(settings.display().to_string())
    );
    assert_eq!(
        str_of(find("OTEL_EXPORTER_OTLP_LOGS_HEADERS"), "value"),
        "authorization=***"
    );
    assert_eq!(
        str_of(find("OTEL_EXPORTER_OTLP_ENDPOINT"), "value"),
        "http://***@127.0.0.1:9"
    );
    assert_eq!(
        find("OTEL_EXPORTER_OTLP_ENDPOINT")["source"]["kind"],
        "process_env"
    );
    assert_eq!(find("OTEL_SERVICE_NAME")["source"]["kind"], "default");
}

#[test]
fn telemetry_off_says_which_variable_turns_it_on() {
    let home = Scratch::new("off");
    let out = doctor(&home, &[], &["--no-probe"]);
    out.assert_code(1);
    assert!(
        out.stdout
            .contains("Telemetry: off: CLAUDE_CODE_ENABLE_TELEMETRY is not set; set CLAUDE_CODE_ENABLE_TELEMETRY=1"),
        "{}",
        out.all_output()
    );

    let out = doctor(
        &home,
        &[
            ("CLAUDE_CODE_ENABLE_TELEMETRY", "1"),
            ("OTEL_SDK_DISABLED", "true"),
        ],
        &["--json", "--no-probe"],
    );
    out.assert_code(1);
    let report = out.json();
    assert_eq!(report["telemetry"]["enabled"], false);
    assert!(
        str_of(&report["telemetry"], "explanation").contains("OTEL_SDK_DISABLED=true"),
        "{report:#}"
    );
}

#[test]
fn console_and_none_only_is_explained_and_fails() {
    let home = Scratch::new("console");
    let out = doctor(
        &home,
        &[
            ("CLAUDE_CODE_ENABLE_TELEMETRY", "1"),
            ("OTEL_METRICS_EXPORTER", "console"),
            ("OTEL_LOGS_EXPORTER", "none"),
        ],
        &["--json"],
    );
    out.assert_code(1);
    let report = out.json();
    let rows = probes(&report);
    assert_eq!(rows.len(), 1, "{report:#}");
    assert_eq!(str_of(&rows[0], "status"), "not_probed");
    let reasons = format!("{}", report["verdict"]["reasons"]);
    assert!(
        reasons.contains("no signal is exported over OTLP"),
        "{reasons}"
    );
    assert!(reasons.contains("stderr"), "{reasons}");
}

#[test]
fn a_complete_configuration_without_probing_exits_0() {
    let home = Scratch::new("no-probe");
    let out = doctor(
        &home,
        &[("CLAUDE_CODE_ENABLE_TELEMETRY", "1")],
        &["--no-probe", "--json"],
    );
    out.assert_code(0);
    assert_eq!(out.json()["probe"], Value::Null);
}

#[test]
fn usage_errors_exit_2() {
    let home = Scratch::new("usage");
    for args in [
        &["doctor", "--timeout", "5"][..],
        &["doctor", "--timeout", "0s"],
        &["doctor", "--bogus"],
        &[],
    ] {
        let out = run(&home, &[], args);
        assert_eq!(out.code, Some(2), "{args:?}\n{}", out.all_output());
        assert!(out.stdout.is_empty(), "{args:?}\n{}", out.all_output());
    }
}

/// A repository's settings files configure nothing: `doctor` lists each value they set, with
/// its file and why it is ignored, secrets masked.
#[test]
fn every_value_a_project_file_sets_is_listed_as_ignored_with_its_file_and_why() {
    let home = Scratch::new("trust-ignored");
    home.write(
        ".claude/settings.json",
        r#"{"env": {"CLAUDE_CODE_ENABLE_TELEMETRY": "1", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"}}"#,
    );
    let shared = home.write(
        "repo/.claude/settings.json",
        format!(
            r#"{{"env": {{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:47999", "OTEL_EXPORTER_OTLP_HEADERS": "authorization=Bearer {SECRET}"}}}}"#
        ),
    );
    let local = home.write(
        "repo/.claude/settings.local.json",
        r#"{"env": {"HAN_METRICS_DIR": "/tmp/planted"}}"#,
    );
    let repo = home.path().join("repo");
    let repo = repo.to_str().expect("UTF-8 path");
    let vars = [("CLAUDE_PROJECT_DIR", repo)];
    let out = doctor(&home, &vars, &["--no-probe", "--json"]);
    out.assert_code(0);
    assert_no_secret(&out);
    let report = out.json();
    let trust = &report["trust"];
    assert_eq!(trust["project_settings_trusted"], Value::Bool(false));
    assert_eq!(trust["decided_by"]["kind"], "default");
    let ignored: Vec<(&str, &str, &str)> = trust["ignored"]
        .as_array()
        .expect("ignored")
        .iter()
        .map(|i| {
            (
                str_of(i, "variable"),
                str_of(i, "value"),
                i["source"]["path"].as_str().unwrap_or(""),
            )
        })
        .collect();
    let (shared, local) = (shared.display().to_string(), local.display().to_string());
    assert_eq!(
        ignored,
        vec![
            ("HAN_METRICS_DIR", "/tmp/planted", local.as_str()),
            (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                "http://127.0.0.1:47999",
                shared.as_str()
            ),
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                "authorization=***",
                shared.as_str()
            ),
        ]
    );
    for i in trust["ignored"].as_array().expect("ignored") {
        assert!(
            str_of(i, "reason").contains("comes with the repository")
                && str_of(i, "reason").contains("HAN_TELEMETRY_TRUST_PROJECT_SETTINGS=1"),
            "{i:#}"
        );
    }
    for d in trust["destinations"].as_array().expect("destinations") {
        assert_eq!(str_of(d, "endpoint"), "http://127.0.0.1:9", "{d:#}");
        assert_eq!(str_of(d, "chosen_by"), "user", "{d:#}");
    }

    let text = doctor(&home, &vars, &["--no-probe"]);
    assert_no_secret(&text);
    assert!(text.stdout.contains("Ignored (3):"), "{}", text.stdout);
    assert!(
        text.stdout.contains(
            "- OTEL_EXPORTER_OTLP_ENDPOINT=\"http://127.0.0.1:47999\": .claude/settings.json"
        ),
        "{}",
        text.stdout
    );
}

/// Trusted from the user's settings, a project may choose the destination; the user's
/// credentials are then withheld from it, and `doctor` says so per signal and as a problem.
#[test]
fn a_trusted_project_destination_shows_the_users_credentials_withheld() {
    let home = Scratch::new("trust-withheld");
    home.write(
        ".claude/settings.json",
        format!(
            r#"{{"env": {{"CLAUDE_CODE_ENABLE_TELEMETRY": "1", "HAN_TELEMETRY_TRUST_PROJECT_SETTINGS": "1", "OTEL_EXPORTER_OTLP_HEADERS": "authorization=Bearer {SECRET}"}}}}"#
        ),
    );
    home.write(
        "repo/.claude/settings.json",
        r#"{"env": {"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "http://127.0.0.1:47999"}}"#,
    );
    let repo = home.path().join("repo");
    let vars = [("CLAUDE_PROJECT_DIR", repo.to_str().expect("UTF-8 path"))];
    let out = doctor(&home, &vars, &["--no-probe", "--json"]);
    out.assert_code(1);
    assert_no_secret(&out);
    let report = out.json();
    assert_eq!(
        report["trust"]["project_settings_trusted"],
        Value::Bool(true)
    );
    assert_eq!(report["trust"]["decided_by"]["kind"], "user_settings");
    let destinations = report["trust"]["destinations"]
        .as_array()
        .expect("destinations");
    let row = |signal: &str| {
        destinations
            .iter()
            .find(|d| str_of(d, "signal") == signal)
            .unwrap_or_else(|| panic!("no {signal} in {destinations:#?}"))
    };
    assert_eq!(str_of(row("metrics"), "chosen_by"), "project");
    assert_eq!(
        row("metrics")["withheld"],
        serde_json::json!(["OTEL_EXPORTER_OTLP_HEADERS"])
    );
    assert_eq!(
        str_of(row("logs"), "chosen_by"),
        "managed",
        "the default endpoint"
    );
    assert_eq!(row("logs")["withheld"], serde_json::json!([]));
    let problems = report["problems"].as_array().expect("problems");
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(
        str_of(&problems[0], "message")
            .contains("project settings chose the destination of metrics ("),
        "{problems:#?}"
    );
    let text = doctor(&home, &vars, &["--no-probe"]);
    assert!(
        text.stdout.contains("withheld: OTEL_EXPORTER_OTLP_HEADERS"),
        "{}",
        text.stdout
    );
}

/// A token in the endpoint's query string is masked in every line `doctor` prints, its key
/// kept, over every protocol, in text and JSON, with the probe failing.
#[test]
fn a_token_in_the_endpoint_query_is_never_shown() {
    let home = Scratch::new("query-token");
    for protocol in ["grpc", "http/protobuf", "http/json"] {
        let endpoint = format!("http://127.0.0.1:9/?key={SECRET}");
        let vars = [
            ("CLAUDE_CODE_ENABLE_TELEMETRY", "1"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ];
        for format in [&[][..], &["--json"][..]] {
            let out = doctor(&home, &vars, format);
            out.assert_code(1);
            assert_no_secret(&out);
            assert!(out.stdout.contains("key=***"), "{protocol}: {}", out.stdout);
        }
    }
}

/// A headers helper in the user's settings (printing the key the server wants, over a wrong
/// static one): `doctor` runs it for the test export, every probe is delivered with its
/// value, the report names the helper, its file and the header names, and the value
/// appears in neither the text nor the JSON. With `--no-probe` the helper is not run.
#[test]
fn a_headers_helper_is_shown_by_name_and_its_value_never() {
    use std::os::unix::fs::PermissionsExt as _;

    let server = AuthServer::start();
    let home = Scratch::new("helper");
    let runs = home.path().join("runs");
    let helper = home.write(
        "bin/helper",
        format!(
            "#!/bin/sh\necho run >> '{}'\nprintf '{{\"x-api-key\": \"{SECRET}\"}}'\n",
            runs.display()
        ),
    );
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let settings = home.write(
        ".claude/settings.json",
        serde_json::json!({ "otelHeadersHelper": helper }).to_string(),
    );
    let runs_of = || std::fs::read_to_string(&runs).map_or(0, |text| text.lines().count());
    let vars = auth_vars(&server, "x-api-key=wrong-key");

    let out = doctor(&home, &vars, &["--json"]);
    out.assert_code(0);
    assert_no_secret(&out);
    let mut paths = server.authorized();
    paths.sort();
    assert_eq!(
        paths,
        ["/v1/logs", "/v1/metrics", "/v1/traces"],
        "{}",
        out.all_output()
    );
    assert_eq!(
        runs_of(),
        1,
        "doctor runs the helper once for its test export"
    );
    let row = &out.json()["headers_helper"];
    assert_eq!(row["program"], helper.display().to_string(), "{row:#}");
    assert!(
        row["source"]
            .to_string()
            .contains(&settings.display().to_string()),
        "{row:#}"
    );
    assert!(str_of(row, "run").contains("x-api-key"), "{row:#}");

    let text = doctor(&home, &vars, &[]);
    text.assert_code(0);
    assert_no_secret(&text);
    assert!(
        text.stdout.contains(&helper.display().to_string()),
        "{}",
        text.all_output()
    );

    let quiet = doctor(&home, &vars, &["--no-probe"]);
    assert_no_secret(&quiet);
    assert!(
        quiet.stdout.contains("otelHeadersHelper")
            || quiet.stdout.contains(&helper.display().to_string()),
        "{}",
        quiet.all_output()
    );
    assert_eq!(runs_of(), 2, "--no-probe ran the helper");
}
