//! `han-telemetry env`: the lines are sourced by a real bash and the variables it ends up
//! with are resolved by han-telemetry's own configuration code, which must give exactly the
//! configuration the flags asked for, awkward values included.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use han_telemetry::config::{Config, Protocol, Source, Sources, Temporality};
use support::{Scratch, run};

/// Values that break naive quoting or encoding: quotes, `$`, command substitution,
/// backslashes, commas, `=`, `%`, semicolons, non-ASCII, a newline.
const AWKWARD: &str = "O'Brien \"Bob\" $HOME $(touch PWNED) `touch PWNED` \\ a,b=c%41; é\nx";
const HEADER_SECRET: &str = "Bearer s3cret,with=odd 'chars' %20 $PATH";

/// Sources `script` in `bash` (clean environment) and returns the variables it then has.
fn source_in_bash(dir: &Scratch, script: &Path) -> BTreeMap<String, String> {
    let output = Command::new("bash")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .current_dir(dir.path())
        .arg("-c")
        .arg(r#"set -eu; source "$1"; env -0"#)
        .arg("bash")
        .arg(script)
        .output()
        .expect("run bash");
    assert!(
        output.status.success(),
        "sourcing failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        !dir.path().join("PWNED").exists(),
        "sourcing the output ran a command"
    );
    String::from_utf8(output.stdout)
        .expect("UTF-8 environment")
        .split('\0')
        .filter_map(|entry| entry.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// The `export NAME=...` lines of `stdout`, parsed back by bash.
fn sourced(dir: &Scratch, stdout: &str) -> BTreeMap<String, String> {
    let script = dir.write("env-lines.sh", stdout);
    let vars = source_in_bash(dir, &script);
    vars.into_iter()
        .filter(|(k, _)| k.starts_with("OTEL_") || k.starts_with("CLAUDE_CODE_"))
        .collect()
}

fn resolve(vars: &BTreeMap<String, String>) -> Config {
    Config::from_sources(&Sources::new().with_layer(Source::ProcessEnv, vars.clone()))
}

#[test]
fn awkward_values_survive_bash_and_resolve_to_what_the_flags_said() {
    let dir = Scratch::new("awkward");
    let out = run(
        &dir,
        &[("OTLP_KEY", HEADER_SECRET)],
        &[
            "env",
            "--endpoint",
            "https://otel.example.com:4318/base",
            "--protocol",
            "http/protobuf",
            "--header",
            "authorization=OTLP_KEY",
            "--service-name",
            AWKWARD,
            "--team",
            AWKWARD,
            "--engineer",
            "chris",
            "--resource-attribute",
            "org=palindrom",
            "--resource-attribute",
            "weird key=日本",
            "--temporality",
            "delta",
            "--traces-exporter",
            "otlp",
            "--compression",
            "gzip",
        ],
    );
    out.assert_code(0);
    assert!(out.stderr.is_empty(), "{}", out.all_output());
    let vars = sourced(&dir, &out.stdout);
    assert_eq!(vars["CLAUDE_CODE_ENABLE_TELEMETRY"], "1");
    assert_eq!(vars["OTEL_SERVICE_NAME"], AWKWARD);

    let c = resolve(&vars);
    assert!(c.diagnostics.is_empty(), "{:#?}", c.diagnostics);
    assert!(c.enabled);
    assert_eq!(c.service_name, AWKWARD);
    assert_eq!(
        c.resource_attributes,
        vec![
            ("org".to_owned(), "palindrom".to_owned()),
            ("weird key".to_owned(), "日本".to_owned()),
            ("team".to_owned(), AWKWARD.to_owned()),
            ("engineer".to_owned(), "chris".to_owned()),
        ]
    );
    for signal in [&c.metrics, &c.logs, &c.traces] {
        assert_eq!(signal.otlp.protocol, Protocol::HttpProtobuf);
        assert_eq!(
            signal.otlp.headers,
            vec![("authorization".to_owned(), HEADER_SECRET.to_owned())]
        );
        assert_eq!(signal.otlp.compression.as_str(), "gzip");
        assert_eq!(signal.exporters.len(), 1);
    }
    assert_eq!(
        c.metrics.otlp.endpoint,
        "https://otel.example.com:4318/base/v1/metrics"
    );
    assert_eq!(c.temporality, Temporality::Delta);
}

#[test]
fn without_flags_the_runbook_variables_are_written_with_defaults() {
    let dir = Scratch::new("defaults");
    let out = run(&dir, &[], &["env"]);
    out.assert_code(0);
    let vars = sourced(&dir, &out.stdout);
    let names: Vec<&str> = vars.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        vec![
            "CLAUDE_CODE_ENABLE_TELEMETRY",
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "OTEL_EXPORTER_OTLP_PROTOCOL",
            "OTEL_LOGS_EXPORTER",
            "OTEL_METRICS_EXPORTER",
        ]
    );
    assert_eq!(vars["OTEL_EXPORTER_OTLP_ENDPOINT"], "http://localhost:4317");
    let c = resolve(&vars);
    assert!(c.enabled && c.diagnostics.is_empty(), "{c:#?}");
}

#[test]
fn json_output_holds_the_same_variables_as_the_lines() {
    let dir = Scratch::new("json");
    let args = [
        "env",
        "--header",
        "x-api-key=OTLP_KEY",
        "--engineer",
        AWKWARD,
    ];
    let vars = [("OTLP_KEY", HEADER_SECRET)];
    let lines = run(&dir, &vars, &args);
    lines.assert_code(0);
    let mut json_args = vec!["--json"];
    json_args.extend(args);
    let json = run(&dir, &vars, &json_args);
    json.assert_code(0);
    let object: BTreeMap<String, String> =
        serde_json::from_str(&json.stdout).expect("a JSON object of strings");
    assert_eq!(object, sourced(&dir, &lines.stdout));
}

#[test]
fn unset_values_come_from_the_current_configuration() {
    let dir = Scratch::new("current");
    dir.write(
        ".claude/settings.json",
        r#"{"env": {
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json",
            "OTEL_EXPORTER_OTLP_ENDPOINT": "https://settings.example",
            "OTEL_EXPORTER_OTLP_HEADERS": "x-team-key=from%20settings",
            "OTEL_RESOURCE_ATTRIBUTES": "service.name=my%20svc,org=acme",
            "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": "https://logs.example/v1/logs",
            "OTEL_METRIC_EXPORT_INTERVAL": "1000"
        }}"#,
    );
    let out = run(
        &dir,
        &[(
            "TRACEPARENT",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )],
        &["env", "--engineer", "chris"],
    );
    out.assert_code(0);
    let vars = sourced(&dir, &out.stdout);
    assert!(!vars.contains_key("TRACEPARENT"), "{vars:#?}");
    let c = resolve(&vars);
    assert!(c.diagnostics.is_empty(), "{:#?}", c.diagnostics);
    assert_eq!(c.metrics.otlp.protocol, Protocol::HttpJson);
    assert_eq!(
        c.metrics.otlp.endpoint,
        "https://settings.example/v1/metrics"
    );
    assert_eq!(c.logs.otlp.endpoint, "https://logs.example/v1/logs");
    assert_eq!(
        c.metrics.otlp.headers,
        vec![("x-team-key".to_owned(), "from settings".to_owned())]
    );
    assert_eq!(c.service_name, "my svc");
    assert_eq!(
        c.resource_attributes,
        vec![
            ("org".to_owned(), "acme".to_owned()),
            ("engineer".to_owned(), "chris".to_owned())
        ]
    );
    assert_eq!(c.metric_export_interval, Duration::from_secs(1));

    // A flag for a generic setting replaces the per-signal ones carried from the settings.
    let out = run(
        &dir,
        &[],
        &["env", "--endpoint", "http://flag.example:4318"],
    );
    out.assert_code(0);
    let c = resolve(&sourced(&dir, &out.stdout));
    assert_eq!(c.logs.otlp.endpoint, "http://flag.example:4318/v1/logs");
}

#[test]
fn append_adds_the_lines_to_the_claude_env_file() {
    let dir = Scratch::new("append");
    // An earlier hook left a line without a final newline.
    let file = dir.write("session-env.sh", "export EARLIER='yes'");
    let file_text = file.to_str().expect("UTF-8 path");
    let out = run(
        &dir,
        &[("CLAUDE_ENV_FILE", file_text)],
        &["env", "--append", "--team", AWKWARD],
    );
    out.assert_code(0);
    assert!(out.stdout.is_empty(), "{}", out.all_output());
    let vars = source_in_bash(&dir, &file);
    assert_eq!(vars.get("EARLIER").map(String::as_str), Some("yes"));
    let c = resolve(&vars);
    assert!(c.enabled);
    assert_eq!(
        c.resource_attributes,
        vec![("team".to_owned(), AWKWARD.to_owned())]
    );

    // A second run appends again; the file stays valid shell.
    run(
        &dir,
        &[("CLAUDE_ENV_FILE", file_text)],
        &["env", "--append"],
    )
    .assert_code(0);
    source_in_bash(&dir, &file);
}

#[test]
fn usage_errors_exit_2_with_a_clear_message_and_write_nothing() {
    let dir = Scratch::new("errors");
    let env_file = dir.path().join("never-written.sh");
    let env_file = env_file.to_str().expect("UTF-8 path");
    // (environment, arguments, what stderr must mention)
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a [&'a str], &'a str);
    let cases: &[Case<'_>] = &[
        (
            &[],
            &["env", "--endpoint", "ftp://collector:4317"],
            "scheme",
        ),
        (&[], &["env", "--endpoint", "collector:4317"], "no scheme"),
        (&[], &["env", "--endpoint", "http://:4317"], "--endpoint"),
        (
            &[],
            &["env", "--header", "authorization=MISSING_VAR"],
            "MISSING_VAR is not set",
        ),
        (
            &[("EMPTY_VAR", "")],
            &["env", "--header", "authorization=EMPTY_VAR"],
            "EMPTY_VAR is empty",
        ),
        (
            &[("K", "v")],
            &["env", "--header", "bad header=K"],
            "not a valid HTTP header name",
        ),
        (
            &[],
            &["env", "--metrics-exporter", "prometheus"],
            "prometheus",
        ),
        (&[], &["env", "--protocol", "http"], "invalid value"),
        (
            &[],
            &["env", "--resource-attribute", "novalue"],
            "KEY=VALUE",
        ),
        (&[], &["env", "--append"], "CLAUDE_ENV_FILE"),
        (
            &[("CLAUDE_ENV_FILE", env_file)],
            &["env", "--append", "--json"],
            "cannot be used",
        ),
        (
            &[("CLAUDE_ENV_FILE", env_file)],
            &["env", "--append", "--endpoint", "nope://x"],
            "scheme",
        ),
        (&[], &["env", "--no-such-flag"], "unexpected argument"),
        (&[], &["frobnicate"], "unrecognized subcommand"),
    ];
    for (vars, args, expected) in cases {
        let out = run(&dir, vars, args);
        assert_eq!(out.code, Some(2), "{args:?}\n{}", out.all_output());
        assert!(out.stdout.is_empty(), "{args:?}\n{}", out.all_output());
        assert!(
            out.stderr.contains(expected),
            "{args:?}: stderr should mention {expected:?}\n{}",
            out.all_output()
        );
    }
    assert!(
        !Path::new(env_file).exists(),
        "nothing may be appended on error"
    );
}

#[test]
fn a_header_value_on_the_command_line_is_refused_and_not_repeated() {
    let dir = Scratch::new("cmdline-secret");
    let out = run(
        &dir,
        &[],
        &["env", "--header", "authorization=Bearer tok-s3cret"],
    );
    out.assert_code(2);
    assert!(!out.all_output().contains("s3cret"), "{}", out.all_output());
    assert!(
        out.stderr.contains("environment variable"),
        "{}",
        out.stderr
    );
}
