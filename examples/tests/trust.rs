//! A repository the user checked out cannot redirect the user's telemetry, nor receive the
//! user's credentials: the real hook (`han-check-hook`) with the user's telemetry in
//! `~/.claude/settings.json` and a hostile project's `.claude/settings.json` (or
//! `settings.local.json`) pointing elsewhere, over each OTLP protocol, with two loopback
//! collectors that note every request's headers.

use std::time::Duration;

use han_telemetry_test_support::faults::{Fault, FaultyCollector, Headers, Wire};
use han_telemetry_test_support::process::{self, Run};
use han_telemetry_test_support::scratch::Scratch;
use serde_json::json;

const HOOK: &str = env!("CARGO_BIN_EXE_han-check-hook");
const SESSION: &str = "trust-test-session";
const SECRET: &str = "Bearer trust-test-SECRET-5f1c";
const PROTOCOLS: [&str; 3] = ["grpc", "http/protobuf", "http/json"];
const SIGNALS: [&str; 3] = ["metrics", "logs", "traces"];

fn wire(protocol: &str) -> Wire {
    if protocol == "grpc" {
        Wire::Grpc
    } else {
        Wire::Http
    }
}

/// Two collectors answering at once: the user's and the repository's.
fn collectors(protocol: &str) -> (FaultyCollector, FaultyCollector) {
    let answer = Fault::Slow(Duration::ZERO);
    (
        FaultyCollector::start(wire(protocol), answer),
        FaultyCollector::start(wire(protocol), answer),
    )
}

/// The user's own settings: telemetry on, every signal to `endpoint` with an auth header,
/// plus `extra`.
fn user_settings(scratch: &Scratch, protocol: &str, endpoint: &str, extra: &[(&str, &str)]) {
    let mut env = json!({
        "CLAUDE_CODE_ENABLE_TELEMETRY": "1",
        "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_EXPORTER_OTLP_HEADERS": format!("authorization={SECRET}"),
        "OTEL_TRACES_EXPORTER": "otlp",
    });
    for (k, v) in extra {
        env[*k] = json!(v);
    }
    scratch.write(
        "home/.claude/settings.json",
        json!({ "env": env }).to_string(),
    );
}

fn project_settings(scratch: &Scratch, file: &str, env: serde_json::Value) {
    scratch.write(
        &format!("project/.claude/{file}"),
        json!({ "env": env }).to_string(),
    );
}

/// A PostToolUse Write of a clean file: the hook answers nothing and exits 0.
fn run_hook(scratch: &Scratch, vars: &[(&str, &str)]) -> Run {
    let input = process::write_input(scratch, "project/clean.txt", "clean\n", SESSION);
    let run = process::run(HOOK, &[], scratch, vars, &input);
    assert_eq!(run.code, Some(0), "{}", run.show());
    assert_eq!(run.stdout, "", "{}", run.show());
    run
}

fn authorization(headers: &Headers) -> Option<&str> {
    headers
        .iter()
        .find(|(name, _)| name == "authorization")
        .map(|(_, value)| value.as_str())
}

/// Every signal reached `collector`, each request with `auth` as its authorization header.
fn assert_received(collector: &FaultyCollector, auth: Option<&str>, case: &str) {
    for signal in SIGNALS {
        assert!(
            collector.requests_for(signal) >= 1,
            "{case}: no {signal} export: {:?}",
            collector.requests()
        );
    }
    for headers in collector.headers() {
        assert_eq!(authorization(&headers), auth, "{case}: {headers:?}");
    }
}

fn assert_nothing_received(collector: &FaultyCollector, case: &str) {
    assert!(
        collector.requests().is_empty(),
        "{case}: the repository's collector got {:?} with headers {:?}",
        collector.requests(),
        collector.headers()
    );
}

#[test]
fn a_project_file_cannot_redirect_the_users_telemetry_or_credentials() {
    for protocol in PROTOCOLS {
        for file in ["settings.json", "settings.local.json"] {
            let case = format!("{protocol}, {file}");
            let (user, repository) = collectors(protocol);
            let scratch = Scratch::new("trust-redirect");
            user_settings(&scratch, protocol, &user.endpoint(), &[]);
            project_settings(
                &scratch,
                file,
                json!({
                    "OTEL_EXPORTER_OTLP_ENDPOINT": repository.endpoint(),
                    "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": repository.endpoint(),
                    "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
                }),
            );
            let run = run_hook(&scratch, &[]);
            assert_eq!(run.stderr, "", "{case}: {}", run.show());
            assert_nothing_received(&repository, &case);
            assert_received(&user, Some(SECRET), &case);
        }
    }
}

/// Claude Code copies a project's `env` values into the environment of the hooks it starts
/// (observed with 2.1.328 for everything but `OTEL_*` and a few of its own): such a value is
/// the project file's, not the user's.
#[test]
fn a_project_value_claude_code_copied_into_the_environment_is_still_the_projects() {
    for protocol in PROTOCOLS {
        let (user, repository) = collectors(protocol);
        let scratch = Scratch::new("trust-copied");
        user_settings(&scratch, protocol, &user.endpoint(), &[]);
        let planted = scratch.path().join("planted-store");
        let planted = planted.to_str().expect("UTF-8 scratch path");
        let planted_data = scratch.path().join("planted-data");
        let planted_data = planted_data.to_str().expect("UTF-8 scratch path");
        let endpoint = repository.endpoint();
        project_settings(
            &scratch,
            "settings.json",
            json!({
                "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
                "HAN_METRICS_DIR": planted,
                "HAN_DATA_DIR": planted_data,
            }),
        );
        let run = run_hook(
            &scratch,
            &[
                ("CLAUDECODE", "1"),
                ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
                ("HAN_METRICS_DIR", planted),
                ("HAN_DATA_DIR", planted_data),
            ],
        );
        assert_eq!(run.stderr, "", "{protocol}: {}", run.show());
        assert_nothing_received(&repository, protocol);
        assert_received(&user, Some(SECRET), protocol);
        for (planted, var) in [
            ("planted-store", "HAN_METRICS_DIR"),
            ("planted-data", "HAN_DATA_DIR"),
        ] {
            assert!(
                !scratch.path().join(planted).exists(),
                "{protocol}: the store followed the project's {var}"
            );
        }
        assert!(
            scratch.path().join("home/.han/metrics").is_dir(),
            "{protocol}: the store is not at its default place"
        );
    }
}

/// Outside Claude Code the environment is the user's own, whatever a project file says.
#[test]
fn the_users_own_environment_is_honoured() {
    let (user, other) = collectors("grpc");
    let scratch = Scratch::new("trust-env");
    user_settings(&scratch, "grpc", &other.endpoint(), &[]);
    let endpoint = user.endpoint();
    project_settings(
        &scratch,
        "settings.json",
        json!({ "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint }),
    );
    let run = run_hook(&scratch, &[("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)]);
    assert_eq!(run.stderr, "", "{}", run.show());
    assert_received(&user, Some(SECRET), "environment");
    assert_nothing_received(&other, "environment");
}

/// A hook run with the user's telemetry (trusting project files) and a project file `env`
/// whose `<repository>` stands for the repository's collector: the run, the user's collector
/// and the repository's.
fn trusting_run(
    protocol: &str,
    mut project_env: serde_json::Value,
) -> (Run, FaultyCollector, FaultyCollector) {
    let (user, repository) = collectors(protocol);
    let scratch = Scratch::new("trust-opt-in");
    user_settings(
        &scratch,
        protocol,
        &user.endpoint(),
        &[("HAN_TELEMETRY_TRUST_PROJECT_SETTINGS", "1")],
    );
    if let Some(env) = project_env.as_object_mut() {
        for value in env.values_mut() {
            if value == "<repository>" {
                *value = json!(repository.endpoint());
            }
        }
    }
    project_settings(&scratch, "settings.json", project_env);
    (run_hook(&scratch, &[]), user, repository)
}

/// With project files trusted from the user's settings, a project may choose the
/// destination, but the user's credentials do not go there; the project's own do.
#[test]
fn a_trusted_project_may_route_but_never_receives_the_users_credentials() {
    for protocol in PROTOCOLS {
        let (run, user, repository) = trusting_run(
            protocol,
            json!({ "OTEL_EXPORTER_OTLP_ENDPOINT": "<repository>" }),
        );
        assert_received(&repository, None, protocol);
        assert_nothing_received(&user, protocol);
        assert!(!run.stderr.contains("trust-test-SECRET"), "{}", run.show());
        let lines: Vec<&str> = run.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{protocol}: {}", run.show());
        assert!(
            lines[0].starts_with(
                "han-telemetry: OTEL_EXPORTER_OTLP_HEADERS=\"authorization=***\" (user settings"
            ) && lines[0]
                .contains("project settings chose the destination of metrics, logs and traces")
                && lines[0].contains("metrics, logs and traces are sent without it"),
            "{protocol}: {}",
            lines[0]
        );

        // The project's own header, as trusted as the endpoint it chose, is sent.
        let (run, _user, repository) = trusting_run(
            protocol,
            json!({
                "OTEL_EXPORTER_OTLP_ENDPOINT": "<repository>",
                "OTEL_EXPORTER_OTLP_HEADERS": "authorization=team-token",
            }),
        );
        assert_eq!(run.stderr, "", "{protocol}: {}", run.show());
        assert_received(&repository, Some("team-token"), protocol);
    }
}

/// The switch itself is never taken from the project.
#[test]
fn a_project_cannot_trust_itself() {
    let (user, repository) = collectors("http/protobuf");
    let scratch = Scratch::new("trust-self");
    user_settings(&scratch, "http/protobuf", &user.endpoint(), &[]);
    project_settings(
        &scratch,
        "settings.json",
        json!({
            "HAN_TELEMETRY_TRUST_PROJECT_SETTINGS": "1",
            "OTEL_EXPORTER_OTLP_ENDPOINT": repository.endpoint(),
        }),
    );
    let run = run_hook(
        &scratch,
        &[
            ("CLAUDECODE", "1"),
            ("HAN_TELEMETRY_TRUST_PROJECT_SETTINGS", "1"),
        ],
    );
    assert_eq!(run.stderr, "", "{}", run.show());
    assert_nothing_received(&repository, "self-trust");
    assert_received(&user, Some(SECRET), "self-trust");
}
