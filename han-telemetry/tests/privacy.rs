//! No secret in what the library prints or formats: `Debug` of the configuration, of its
//! sources and of built telemetry, every diagnostic, and the telemetry of an instrumented
//! call that panics or fails with a secret in hand.
//!
//! A secret is put in every variable that can carry one (header lists, endpoint userinfo;
//! a client key file's path is shown, its contents never read by the configuration), through
//! the process environment and the settings files, then searched for as text, as a decimal
//! byte list (`Vec<u8>`'s `Debug`), as hex and as base64.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use han_telemetry::catalogue::metric;
use han_telemetry::config::{Config, Source, Sources};
use han_telemetry::{TelemetryBuilder, instrument_hook, instrument_validation};
use han_telemetry_test_support::scratch::Scratch;
use han_telemetry_test_support::secrets::{assert_no_secret, secret};
use han_telemetry_testing::{ConfigFixture, capture};

/// Every variable that can carry a secret, each holding `secret`, well-formed or not.
fn secret_bearing_variables(secret: &str, key_file: &Path) -> Vec<(&'static str, String)> {
    vec![
        (
            "OTEL_EXPORTER_OTLP_HEADERS",
            format!(
                "Authorization=Bearer%20{secret},x-api-key={secret},bad key={secret},\
                 {secret}only,={secret},x-pct=%zz{secret}"
            ),
        ),
        (
            "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
            format!("authorization=Basic {secret}"),
        ),
        (
            "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
            format!("x-api-key={secret}\u{7}"),
        ),
        (
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
            format!("x-honeycomb-team={secret}"),
        ),
        (
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!("https://user:{secret}@collector.example:4317"),
        ),
        (
            "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
            format!("{secret}:{secret}@metrics.example:4318/v1/metrics"),
        ),
        (
            "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
            format!("http://user:{secret}@logs.example:notaport/v1/logs"),
        ),
        (
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            format!("ftp://user:{secret}@traces.example"),
        ),
        (
            "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
            key_file.with_extension("crt").display().to_string(),
        ),
        (
            "OTEL_EXPORTER_OTLP_CLIENT_KEY",
            key_file.display().to_string(),
        ),
    ]
}

/// Everything the configuration can show of itself.
fn everything_shown(config: &Config, sources: &Sources) -> Vec<(String, String)> {
    let mut shown = vec![
        ("Config {:?}".to_owned(), format!("{config:?}")),
        ("Config {:#?}".to_owned(), format!("{config:#?}")),
        ("Sources {:?}".to_owned(), format!("{sources:?}")),
        ("Sources {:#?}".to_owned(), format!("{sources:#?}")),
        (
            "TelemetryBuilder {:#?}".to_owned(),
            format!("{:#?}", TelemetryBuilder::new(config.clone())),
        ),
    ];
    for d in config.diagnostics.iter().chain(sources.diagnostics()) {
        shown.push((format!("diagnostic {}", d.subject), d.to_string()));
        shown.push((format!("diagnostic {} {{:?}}", d.subject), format!("{d:?}")));
    }
    for p in &config.provenance {
        shown.push((format!("provenance {}", p.variable), format!("{p:?}")));
    }
    shown
}

#[test]
fn config_sources_and_diagnostics_never_show_a_secret() {
    let secret = secret("config");
    let dir = Scratch::new("config");
    let key_file = dir.write(
        "client.key",
        format!("-----BEGIN PRIVATE KEY-----\n{secret}\n-----END PRIVATE KEY-----\n"),
    );
    let vars = secret_bearing_variables(&secret, &key_file);
    let (env, project): (Vec<_>, Vec<_>) = vars
        .iter()
        .cloned()
        .enumerate()
        .partition(|(i, _)| i % 2 == 0);
    // Half from the process environment, half from a settings file, all again in the user's
    // settings file (shadowed, but still in the sources).
    let sources = Sources::new()
        .with_layer(
            Source::ProcessEnv,
            env.into_iter()
                .map(|(_, kv)| kv)
                .chain([("CLAUDE_CODE_ENABLE_TELEMETRY", "1".to_owned())]),
        )
        .with_layer(
            Source::ProjectSettings(dir.join(".claude/settings.json")),
            project.into_iter().map(|(_, kv)| kv),
        )
        .with_layer(
            Source::UserSettings(dir.join("home/.claude/settings.json")),
            vars.iter().cloned().chain([
                ("HAN_API_KEY", secret.clone()),
                ("CLAUDE_CODE_OAUTH_TOKEN", secret.clone()),
            ]),
        );
    let config = Config::from_sources(&sources);

    // Controls: the secret really reached the configuration, and the malformed values were
    // reported.
    assert!(config.enabled);
    let token = format!("Basic {secret}");
    assert!(
        config
            .metrics
            .otlp
            .headers
            .iter()
            .any(|(k, v)| k == "authorization" && *v == token),
        "the metrics headers were not parsed: {:?}",
        config
            .metrics
            .otlp
            .headers
            .iter()
            .map(|(k, _)| k)
            .collect::<Vec<_>>()
    );
    assert!(
        config.metrics.otlp.endpoint.contains(&secret),
        "the metrics endpoint keeps its userinfo"
    );
    for variable in [
        "OTEL_EXPORTER_OTLP_HEADERS",
        "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
        "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
        "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    ] {
        assert!(
            config.diagnostics.iter().any(|d| d.subject == variable),
            "no diagnostic about {variable}: {:#?}",
            config.diagnostics
        );
    }
    let shown = everything_shown(&config, &sources);
    // The client key's path is shown; only its contents are secret.
    assert!(
        shown[0].1.contains(&key_file.display().to_string()),
        "{}",
        shown[0].1
    );
    for (what, text) in &shown {
        assert_no_secret(what, text, &secret);
    }
}

#[test]
fn settings_files_with_secrets_never_show_them() {
    let secret = secret("files");
    let settings = format!(
        r#"{{"env": {{
            "CLAUDE_CODE_ENABLE_TELEMETRY": "1",
            "OTEL_EXPORTER_OTLP_HEADERS": "Authorization=Bearer {secret},x y={secret}",
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://user:{secret}@collector.example:4318",
            "OTEL_EXPORTER_OTLP_LOGS_HEADERS": ["x-api-key={secret}"],
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS": {{"x-api-key": "{secret}"}}
        }}}}"#
    );
    // Trusted, the project's values are used; untrusted, they are listed as ignored: shown
    // either way, and masked either way.
    for trusted in [true, false] {
        let fixture = ConfigFixture::new()
            .env(
                "HAN_TELEMETRY_TRUST_PROJECT_SETTINGS",
                if trusted { "1" } else { "0" },
            )
            .project_settings(settings.clone())
            // A broken file, a string env block, a bad escape: the file is rejected as a whole.
            .local_settings(format!(
                r#"{{"env": {{"OTEL_EXPORTER_OTLP_HEADERS": "x={secret}""#
            ))
            .user_settings(format!(r#"{{"env": "Authorization=Bearer {secret}"}}"#))
            .managed_settings(format!(
                r#"{{"env": {{"OTEL_EXPORTER_OTLP_HEADERS": "x={secret}\q"}}}}"#
            ));
        let config = fixture.build();
        let sources = fixture.try_sources().expect("sources");
        let read = config
            .metrics
            .otlp
            .headers
            .iter()
            .any(|(_, v)| v.contains(&secret));
        assert_eq!(read, trusted, "the project settings were read when trusted");
        assert_eq!(
            config.ignored.len() >= 3,
            !trusted,
            "the project's values were listed when untrusted: {:?}",
            config.ignored
        );
        assert!(
            sources.diagnostics().len() >= 3,
            "the broken files were reported: {:#?}",
            sources.diagnostics()
        );
        let mut shown = everything_shown(&config, &sources);
        for i in &config.ignored {
            shown.push((format!("ignored {}", i.variable), i.reason()));
        }
        for (what, text) in shown {
            assert_no_secret(&what, &text, &secret);
        }
        assert_no_secret("ConfigFixture {:?}", &format!("{fixture:?}"), &secret);
    }
}

/// `Authorization: Basic <token>==` (a header pasted from curl, base64 padding included) and
/// `Bearer <token>=` split at the first `=`: the text before it, token included, is taken
/// for a header name, which the diagnostic quotes and the masked value keeps.
#[test]
fn a_token_pasted_where_a_header_name_goes_is_never_shown() {
    let secret = secret("colon");
    for value in [
        format!("Authorization: Basic {secret}=="),
        format!("Bearer {secret}="),
    ] {
        let sources = Sources::new().with_layer(
            Source::ProcessEnv,
            [
                ("CLAUDE_CODE_ENABLE_TELEMETRY", "1"),
                ("OTEL_EXPORTER_OTLP_HEADERS", value.as_str()),
            ],
        );
        let config = Config::from_sources(&sources);
        assert!(!config.diagnostics.is_empty(), "{value}: not reported");
        for (what, text) in everything_shown(&config, &sources) {
            assert_no_secret(&what, &text, &secret);
        }
    }
}

/// A password with a `/` (common in base64 tokens) ends the URL's authority early, so
/// `mask_url` finds no userinfo and the invalid-port problem quotes part of it.
#[test]
fn a_password_with_a_slash_is_never_shown() {
    let secret = secret("slash");
    let endpoint = format!(
        "http://user:{}/{}@collector.example:4318",
        &secret[..12],
        &secret[12..]
    );
    let sources = Sources::new().with_layer(
        Source::ProcessEnv,
        [
            ("CLAUDE_CODE_ENABLE_TELEMETRY", "1"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ],
    );
    let config = Config::from_sources(&sources);
    for (what, text) in everything_shown(&config, &sources) {
        assert_no_secret(&what, &text, &secret[..12]);
        assert_no_secret(&what, &text, &secret[12..]);
    }
}

/// Built telemetry (exporters, HTTP clients, gRPC channels and their headers) formatted with
/// `Debug`, as a host's own `{:?}` of its state would.
#[test]
fn built_telemetry_never_shows_its_headers() {
    let secret = secret("built");
    for protocol in ["http/protobuf", "grpc"] {
        let sources = Sources::new().with_layer(
            Source::ProcessEnv,
            [
                ("CLAUDE_CODE_ENABLE_TELEMETRY", "1".to_owned()),
                ("OTEL_TRACES_EXPORTER", "otlp".to_owned()),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol.to_owned()),
                // Port 9 (discard): nothing is sent, the exporters are only built.
                (
                    "OTEL_EXPORTER_OTLP_ENDPOINT",
                    format!("http://user:{secret}@127.0.0.1:9"),
                ),
                (
                    "OTEL_EXPORTER_OTLP_HEADERS",
                    format!("authorization=Bearer {secret}"),
                ),
                ("HAN_TELEMETRY_EXIT_BUDGET_MS", "50".to_owned()),
            ],
        );
        let telemetry = TelemetryBuilder::new(Config::from_sources(&sources)).build();
        assert!(telemetry.is_enabled());
        let shown = format!("{telemetry:?}\n{telemetry:#?}");
        assert_no_secret(&format!("Telemetry over {protocol}"), &shown, &secret);
        let (_layer, guard) = telemetry.into_layer::<tracing_subscriber::Registry>();
        assert_no_secret(
            &format!("TelemetryGuard over {protocol}"),
            &format!("{guard:#?}"),
            &secret,
        );
        let report = guard.shutdown();
        assert_no_secret(
            &format!("ShutdownReport over {protocol}"),
            &format!("{report:#?}"),
            &secret,
        );
    }
}

// ---------------------------------------------------------------------------------------
// Panics and errors in instrumented code

#[instrument_hook(hook_type = "PostToolUse")]
fn check_token(token: &str) -> Result<(), String> {
    if token.starts_with("s3cr3t") {
        panic!("refusing token {token}");
    }
    Err(format!("bad token {token}"))
}

#[instrument_validation(validation_type = "token")]
fn validate_token(token: &str) -> Result<(), Vec<String>> {
    Err(vec![format!("line 1: {token} is not allowed")])
}

#[test]
fn a_panic_or_an_error_carrying_a_secret_adds_nothing_of_it_to_telemetry() {
    let secret = secret("panic");
    let telemetry = capture(|| {
        let panicked = catch_unwind(AssertUnwindSafe(|| check_token(&secret)));
        // Control: the body really had the secret in hand, and panicked with it.
        let payload = panicked.expect_err("the call panicked");
        let message = payload
            .downcast_ref::<String>()
            .expect("a formatted panic message");
        assert!(message.contains(&secret));
        let error = check_token(&format!("x{secret}")).expect_err("an error");
        assert!(error.contains(&secret));
        let problems = validate_token(&secret).expect_err("problems");
        assert!(problems[0].contains(&secret));
    });
    // Control: both hook runs were recorded, as failures.
    telemetry
        .counter(metric::HOOK_EXECUTION)
        .with("hook_name", "check_token")
        .with("success", false)
        .assert_value(2);
    telemetry
        .counter(metric::VALIDATION_RUN)
        .with("validation_type", "token")
        .assert_value(1);
    assert_no_secret("captured telemetry", &format!("{telemetry}"), &secret);
    assert_no_secret(
        "captured telemetry {:?}",
        &format!("{telemetry:?}"),
        &secret,
    );
}
