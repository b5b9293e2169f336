//! The README's privacy promises, held by the real programs.
//!
//! Each test puts a unique secret wherever a user (or Claude Code) could put one: header
//! variables, an endpoint's userinfo, a client key file, a settings file's `env` block, the
//! hook's JSON input and the file it checks. Then it searches for that secret in every channel
//! the run produced: stdout, stderr (where the console exporters print their telemetry too),
//! every file of the local store (`HAN_METRICS_DIR`), and everything a real collector (rotel)
//! received, as it forwarded it (decoded OTLP, in full). Control tokens that must appear (the session id in the console
//! output, the store and the collector; the secret at the loopback server that checks it was
//! really sent) prove that each channel was really captured and the secret really used.

use std::io::Write as _;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::Duration;

use han_telemetry::catalogue::{event, metric};
use han_telemetry_test_support::collector::Collector;
use han_telemetry_test_support::http_server::{Answer, Body, HttpServer};
use han_telemetry_test_support::process::{self, Run};
use han_telemetry_test_support::recording::Request;
use han_telemetry_test_support::scratch::Scratch;
use han_telemetry_test_support::secrets::{base64, encodings, secret};
use han_telemetry_test_support::tls_proxy::Pki;
use serde_json::{Value, json};

const HOOK: &str = env!("CARGO_BIN_EXE_han-check-hook");
/// A control token: the hook puts it on its telemetry, so it must show up in every channel
/// that carries telemetry.
const SESSION: &str = "privacy-control-session-7c41";
const WAIT: Duration = Duration::from_secs(20);
/// Every signal to OTLP and to the console (stderr), so one run fills every channel.
const ALL_SIGNALS_OTLP_AND_CONSOLE: [(&str, &str); 4] = [
    ("CLAUDE_CODE_ENABLE_TELEMETRY", "1"),
    ("OTEL_METRICS_EXPORTER", "otlp,console"),
    ("OTEL_LOGS_EXPORTER", "otlp,console"),
    ("OTEL_TRACES_EXPORTER", "otlp,console"),
];

// ---------------------------------------------------------------------------------------
// Secrets and the channels they must stay out of

/// Everything a run (or several) produced, by channel name.
#[derive(Default)]
struct Evidence {
    channels: Vec<(String, String)>,
}

impl Evidence {
    fn text(&mut self, channel: impl Into<String>, text: impl Into<String>) -> &mut Self {
        self.channels.push((channel.into(), text.into()));
        self
    }

    fn run(&mut self, label: &str, run: &Run) -> &mut Self {
        self.text(format!("{label}: stdout"), run.stdout.clone());
        self.text(format!("{label}: stderr"), run.stderr.clone())
    }

    /// Every file under `dir` (the local store): its path and its contents.
    fn store(&mut self, dir: &Path) -> &mut Self {
        for file in files_under(dir) {
            let bytes = std::fs::read(&file).expect("read a store file");
            self.text(
                format!("store file {}", file.display()),
                format!(
                    "{}\n{}",
                    file.display(),
                    String::from_utf8_lossy(&bytes).into_owned()
                ),
            );
        }
        self
    }

    /// Everything the collector received (decoded in full), and its own log.
    fn collector(&mut self, c: &Collector) -> &mut Self {
        // The hook flushed before it exited; give rotel's forwarding a moment to catch up.
        thread::sleep(Duration::from_millis(300));
        self.text("collector received", c.output());
        self.text("collector stderr", c.stderr())
    }

    /// Panics, naming the channel and showing the line, if any needle appears anywhere, as
    /// text (case-insensitively) or in one of the encodings a message could carry it in
    /// (see [`encodings`]).
    fn assert_absent(&self, needles: &[&str]) {
        assert!(!self.channels.is_empty(), "no channel was captured");
        for needle in needles {
            for (form, encoded) in encodings(needle) {
                for (channel, text) in &self.channels {
                    if let Some(line) = text
                        .lines()
                        .find(|l| l.to_ascii_lowercase().contains(&encoded))
                    {
                        panic!(
                            "the secret {needle:?} leaked ({form}) into {channel}:\n{line}\n--- all of {channel} ---\n{text}"
                        );
                    }
                }
            }
        }
    }

    /// Panics unless `needle` appears in a channel whose name contains `channel`: the
    /// control that the channel was captured (or that an input really reached the program).
    fn assert_present(&self, channel: &str, needle: &str) {
        let found = self
            .channels
            .iter()
            .any(|(name, text)| name.contains(channel) && text.contains(needle));
        assert!(
            found,
            "control {needle:?} missing from every channel named like {channel:?}:\n{}",
            self.show()
        );
    }

    fn show(&self) -> String {
        self.channels
            .iter()
            .map(|(name, text)| format!("--- {name} ---\n{text}"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files.sort();
    files
}

fn store_dir(s: &Scratch) -> PathBuf {
    s.path().join("metrics")
}

// ---------------------------------------------------------------------------------------
// Running the hook

/// The input Claude Code writes after `Write` wrote `file`.
fn edit(cwd: &Path, file: &Path) -> Value {
    json!({
        "session_id": SESSION,
        "transcript_path": cwd.join("transcript.jsonl"),
        "cwd": cwd,
        "permission_mode": "default",
        "hook_event_name": "PostToolUse",
        "tool_name": "Write",
        "tool_input": {"file_path": file, "content": "fn main() {}\n"},
        "tool_response": {"filePath": file, "success": true},
        "tool_use_id": "toolu_01PrivacyTestCall",
    })
}

fn hook(s: &Scratch, vars: &[(String, String)], input: &Value) -> Run {
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    process::run(HOOK, &[], s, &vars, input.to_string().as_bytes())
}

/// Runs the hook on a clean file of its own in `s`; it must answer nothing and exit 0.
fn hook_on_clean_file(s: &Scratch, vars: &[(String, String)]) -> Run {
    let file = s.write("src/main.rs", "fn main() {}\n");
    let run = hook(s, vars, &edit(s.path(), &file));
    assert_eq!(run.code, Some(0), "{}", run.show());
    assert_eq!(run.stdout, "", "{}", run.show());
    run
}

fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Telemetry on, every signal to OTLP at `endpoint` over `protocol` and to the console.
fn export_vars(protocol: &str, endpoint: &str) -> Vec<(String, String)> {
    let mut v = vars(&ALL_SIGNALS_OTLP_AND_CONSOLE);
    v.extend(vars(&[
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
    ]));
    v
}

/// han-telemetry's own warnings (the console exporters print `[han-telemetry] ...` blocks).
fn warnings(run: &Run) -> Vec<&str> {
    run.stderr
        .lines()
        .filter(|l| l.starts_with("han-telemetry:"))
        .collect()
}

fn assert_warned(run: &Run, about: &str) {
    assert!(
        warnings(run).iter().any(|l| l.contains(about)),
        "expected a warning naming {about:?}\n{}",
        run.show()
    );
}

/// The console output and the store carry the hook's telemetry (the control token).
fn assert_telemetry_captured(e: &Evidence) {
    e.assert_present("stderr", SESSION);
    e.assert_present("store file", SESSION);
}

// ---------------------------------------------------------------------------------------
// Collectors that fail

/// `http://127.0.0.1:<port>` where nothing listens.
fn refused_endpoint() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("local addr");
    drop(listener);
    format!("http://{addr}")
}

#[derive(Clone, Copy)]
enum Reply {
    /// `401 Unauthorized` whose body echoes the request head, `Authorization` included: a
    /// response body must never reach a message.
    UnauthorizedEchoingTheRequest,
    /// `400 Bad Request` with an empty body.
    BadRequestEmpty,
}

/// A loopback OTLP/HTTP endpoint that always fails, keeping every request it got.
struct Stub {
    endpoint: String,
    server: HttpServer,
}

impl Stub {
    fn start(reply: Reply) -> Stub {
        let server = HttpServer::answering(match reply {
            Reply::UnauthorizedEchoingTheRequest => Answer::with_body(401, Body::EchoHead),
            Reply::BadRequestEmpty => Answer::status(400),
        });
        Stub {
            endpoint: server.endpoint(),
            server,
        }
    }

    /// Panics unless a request for each signal path carried `secret` in its head.
    fn assert_received(&self, secret: &str) {
        self.assert_received_on(&["/v1/metrics", "/v1/logs", "/v1/traces"], secret);
    }

    /// Panics unless a request for each of `paths` carried `secret` in its head.
    fn assert_received_on(&self, paths: &[&str], secret: &str) {
        let heads: Vec<String> = self.server.requests().iter().map(Request::head).collect();
        for path in paths {
            assert!(
                heads.iter().any(|h| h.contains(path) && h.contains(secret)),
                "no request for {path} carried the secret; requests:\n{}",
                heads.join("\n")
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// 1. Header values and tokens

/// The ways to give the collector a token: the generic variable, each signal's own, both.
fn header_sets(secret: &str) -> Vec<(&'static str, Vec<(String, String)>)> {
    vec![
        (
            "generic",
            vec![(
                "OTEL_EXPORTER_OTLP_HEADERS".into(),
                format!("Authorization=Bearer%20{secret},x-api-key={secret}"),
            )],
        ),
        (
            "per signal",
            vec![
                (
                    "OTEL_EXPORTER_OTLP_METRICS_HEADERS".into(),
                    format!("authorization=Bearer {secret}"),
                ),
                (
                    "OTEL_EXPORTER_OTLP_LOGS_HEADERS".into(),
                    format!("x-api-key={secret}"),
                ),
                (
                    "OTEL_EXPORTER_OTLP_TRACES_HEADERS".into(),
                    format!("x-honeycomb-team={secret}"),
                ),
            ],
        ),
        (
            "generic and metrics",
            vec![
                (
                    "OTEL_EXPORTER_OTLP_HEADERS".into(),
                    format!("x-api-key={secret}"),
                ),
                (
                    "OTEL_EXPORTER_OTLP_METRICS_HEADERS".into(),
                    format!("authorization=Basic%20{secret}"),
                ),
            ],
        ),
    ]
}

#[test]
fn header_values_never_appear_when_the_export_fails() {
    let secret = secret("hdrfail");
    let refused = refused_endpoint();
    let unauthorized = Stub::start(Reply::UnauthorizedEchoingTheRequest);
    let bad_request = Stub::start(Reply::BadRequestEmpty);
    let targets = [
        ("refused", refused.as_str(), "grpc"),
        ("refused", refused.as_str(), "http/protobuf"),
        (
            "401 echoing",
            unauthorized.endpoint.as_str(),
            "http/protobuf",
        ),
        ("401 echoing", unauthorized.endpoint.as_str(), "http/json"),
        ("400 empty", bad_request.endpoint.as_str(), "http/protobuf"),
    ];
    for (target, endpoint, protocol) in targets {
        for (set, headers) in header_sets(&secret) {
            let s = Scratch::new("hdr-fail");
            let mut v = export_vars(protocol, endpoint);
            v.extend(headers);
            let run = hook_on_clean_file(&s, &v);
            let label = format!("{target} over {protocol}, {set} headers");
            assert!(
                !warnings(&run).is_empty(),
                "{label}: the failed export gave no warning\n{}",
                run.show()
            );
            let mut e = Evidence::default();
            e.run(&label, &run).store(&store_dir(&s));
            assert_telemetry_captured(&e);
            e.assert_absent(&[&secret]);
        }
    }
    // The secret really was sent: it reached the servers that rejected it.
    unauthorized.assert_received(&secret);
    bad_request.assert_received(&secret);
}

#[test]
fn header_values_are_not_telemetry_a_live_collector_receives_none() {
    let secret = secret("hdrlive");
    let c = Collector::start();
    let mut e = Evidence::default();
    for (protocol, endpoint) in [
        ("grpc", c.grpc_endpoint()),
        ("http/protobuf", c.http_endpoint()),
        ("http/json", c.http_endpoint()),
    ] {
        for (set, headers) in header_sets(&secret) {
            let s = Scratch::new("hdr-live");
            let mut v = export_vars(protocol, &endpoint);
            v.extend(headers);
            let run = hook_on_clean_file(&s, &v);
            assert!(warnings(&run).is_empty(), "{}", run.show());
            e.run(&format!("{protocol}, {set} headers"), &run)
                .store(&store_dir(&s));
        }
    }
    c.wait_for_metric(metric::HOOK_EXECUTION.name, WAIT);
    c.wait_for_log(event::HOOK_RESULT.name, WAIT);
    c.wait_for_span("han-check-hook", WAIT);
    e.collector(&c);
    assert_telemetry_captured(&e);
    e.assert_present("collector received", SESSION);
    e.assert_absent(&[&secret]);
}

#[test]
fn header_values_from_a_settings_file_never_appear() {
    let secret = secret("hdrfile");
    let unauthorized = Stub::start(Reply::UnauthorizedEchoingTheRequest);
    let c = Collector::start();
    let mut e = Evidence::default();
    for (label, endpoint, file) in [
        (
            "project settings, 401",
            unauthorized.endpoint.clone(),
            "project/.claude/settings.json",
        ),
        (
            "user settings, live collector",
            c.http_endpoint(),
            "home/.claude/settings.json",
        ),
    ] {
        let s = Scratch::new("hdr-file");
        let settings = json!({"env": {
            "CLAUDE_CODE_ENABLE_TELEMETRY": "1",
            "OTEL_METRICS_EXPORTER": "otlp,console",
            "OTEL_LOGS_EXPORTER": "otlp,console",
            "OTEL_TRACES_EXPORTER": "otlp,console",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
            "OTEL_EXPORTER_OTLP_HEADERS": format!("Authorization=Bearer {secret}"),
            // Malformed: one warning naming the variable, never its value.
            "OTEL_EXPORTER_OTLP_LOGS_HEADERS": format!("x-api-key {secret}"),
        }});
        let path = s.write(file, settings.to_string());
        if file.starts_with("project/") {
            // The user lets project files configure telemetry.
            s.write(
                "home/.claude/settings.json",
                json!({"env": {"HAN_TELEMETRY_TRUST_PROJECT_SETTINGS": "1"}}).to_string(),
            );
        }
        let run = hook_on_clean_file(&s, &[]);
        assert_warned(&run, "OTEL_EXPORTER_OTLP_LOGS_HEADERS");
        e.run(label, &run).store(&store_dir(&s));
        // The input really was read from the file.
        assert!(
            std::fs::read_to_string(&path)
                .expect("settings")
                .contains(&secret)
        );
    }
    // The logs' own (malformed) variable replaces the generic one: no token for logs.
    unauthorized.assert_received_on(&["/v1/metrics", "/v1/traces"], &secret);
    c.wait_for_metric(metric::HOOK_EXECUTION.name, WAIT);
    e.collector(&c);
    assert_telemetry_captured(&e);
    e.assert_present("collector received", SESSION);
    e.assert_absent(&[&secret]);
}

/// Malformed lists the parser can tell apart from a header: one warning naming the variable,
/// the value never shown.
#[test]
fn malformed_header_lists_warn_by_variable_name_only() {
    let secret = secret("hdrbad");
    let unauthorized = Stub::start(Reply::UnauthorizedEchoingTheRequest);
    let cases = [
        (
            "OTEL_EXPORTER_OTLP_HEADERS",
            format!("Authorization Bearer {secret}"),
        ),
        ("OTEL_EXPORTER_OTLP_HEADERS", format!("x-ok=1,{secret}")),
        (
            "OTEL_EXPORTER_OTLP_HEADERS",
            format!("Authorization=Bearer%2{secret}"),
        ),
        (
            "OTEL_EXPORTER_OTLP_HEADERS",
            format!("Authorization=Bearer {secret}\u{7}"),
        ),
        ("OTEL_EXPORTER_OTLP_HEADERS", format!("bad key={secret}")),
        ("OTEL_EXPORTER_OTLP_HEADERS", format!("={secret}")),
        (
            "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
            format!("authorization {secret}"),
        ),
        (
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
            format!("x-api-key=%zz{secret}"),
        ),
    ];
    for (variable, value) in &cases {
        let s = Scratch::new("hdr-bad");
        let mut v = export_vars("http/protobuf", &unauthorized.endpoint);
        v.push(((*variable).to_owned(), value.clone()));
        let run = hook_on_clean_file(&s, &v);
        assert_warned(&run, variable);
        let mut e = Evidence::default();
        e.run(&format!("{variable}={value:?}"), &run)
            .store(&store_dir(&s));
        assert_telemetry_captured(&e);
        e.assert_absent(&[&secret]);
    }
}

/// `Authorization: Basic <token>==` (a header pasted from curl, base64 padding included)
/// splits at the first `=`: the whole `Authorization: Basic <token>` becomes the header name.
#[test]
fn a_header_pasted_with_a_colon_and_base64_padding_never_appears() {
    let secret = secret("hdrcolon");
    let refused = refused_endpoint();
    for value in [
        format!("Authorization: Basic {secret}=="),
        format!("Bearer {secret}="),
    ] {
        let s = Scratch::new("hdr-colon");
        let mut v = export_vars("http/protobuf", &refused);
        v.push(("OTEL_EXPORTER_OTLP_HEADERS".into(), value.clone()));
        let run = hook_on_clean_file(&s, &v);
        assert_warned(&run, "OTEL_EXPORTER_OTLP_HEADERS");
        let mut e = Evidence::default();
        e.run(&value, &run).store(&store_dir(&s));
        e.assert_absent(&[&secret]);
    }
}

// ---------------------------------------------------------------------------------------
// 1b. Credentials in the endpoint URL

/// `http://user:<secret>@host:port` for `endpoint`, and the `Basic` header it implies.
fn with_userinfo(endpoint: &str, secret: &str) -> (String, String) {
    let url = endpoint.replacen("http://", &format!("http://user:{secret}@"), 1);
    (url, base64(format!("user:{secret}").as_bytes()))
}

#[test]
fn endpoint_credentials_are_not_telemetry_a_live_collector_receives_none() {
    let secret = secret("urllive");
    let c = Collector::start();
    let mut e = Evidence::default();
    let mut needles = vec![secret.clone()];
    for (protocol, endpoint) in [
        ("grpc", c.grpc_endpoint()),
        ("http/protobuf", c.http_endpoint()),
    ] {
        let s = Scratch::new("url-live");
        let (url, basic) = with_userinfo(&endpoint, &secret);
        needles.push(basic);
        let run = hook_on_clean_file(&s, &export_vars(protocol, &url));
        e.run(protocol, &run).store(&store_dir(&s));
    }
    c.wait_for_metric(metric::HOOK_EXECUTION.name, WAIT);
    e.collector(&c);
    assert_telemetry_captured(&e);
    e.assert_present("collector received", SESSION);
    let needles: Vec<&str> = needles.iter().map(String::as_str).collect();
    e.assert_absent(&needles);
}

#[test]
fn endpoint_credentials_never_appear_when_the_export_fails() {
    let secret = secret("urlfail");
    let refused = refused_endpoint();
    let unauthorized = Stub::start(Reply::UnauthorizedEchoingTheRequest);
    let mut e = Evidence::default();
    let mut needles = vec![secret.clone()];
    let cases = [
        (
            "refused",
            refused.as_str(),
            "grpc",
            "OTEL_EXPORTER_OTLP_ENDPOINT",
        ),
        (
            "refused",
            refused.as_str(),
            "http/protobuf",
            "OTEL_EXPORTER_OTLP_ENDPOINT",
        ),
        (
            "401 echoing",
            unauthorized.endpoint.as_str(),
            "http/protobuf",
            "OTEL_EXPORTER_OTLP_ENDPOINT",
        ),
        (
            "refused",
            refused.as_str(),
            "grpc",
            "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
        ),
    ];
    for (target, endpoint, protocol, variable) in cases {
        let s = Scratch::new("url-fail");
        let (url, basic) = with_userinfo(endpoint, &secret);
        needles.push(basic);
        let mut v = export_vars(protocol, endpoint);
        v.push((variable.to_owned(), url));
        let run = hook_on_clean_file(&s, &v);
        assert!(!warnings(&run).is_empty(), "{}", run.show());
        e.run(&format!("{target} over {protocol} via {variable}"), &run)
            .store(&store_dir(&s));
    }
    // A token in the endpoint's query string, on every protocol, refused and answered 401.
    for (target, endpoint, protocol) in [
        ("refused", refused.as_str(), "grpc"),
        ("refused", refused.as_str(), "http/protobuf"),
        ("refused", refused.as_str(), "http/json"),
        (
            "401 echoing",
            unauthorized.endpoint.as_str(),
            "http/protobuf",
        ),
    ] {
        let s = Scratch::new("url-fail-query");
        let url = format!("{endpoint}/?key={secret}&team=core");
        let mut v = export_vars(protocol, endpoint);
        v.push(("OTEL_EXPORTER_OTLP_ENDPOINT".to_owned(), url));
        let run = hook_on_clean_file(&s, &v);
        assert!(!warnings(&run).is_empty(), "{}", run.show());
        e.run(
            &format!("{target} over {protocol}, token in the query"),
            &run,
        )
        .store(&store_dir(&s));
    }
    // The same through the user's settings file.
    let s = Scratch::new("url-fail-file");
    let (url, _) = with_userinfo(&refused, &secret);
    let settings = json!({"env": {
        "CLAUDE_CODE_ENABLE_TELEMETRY": "1",
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_EXPORTER_OTLP_ENDPOINT": url,
    }});
    s.write("home/.claude/settings.json", settings.to_string());
    let run = hook_on_clean_file(&s, &[]);
    assert!(!warnings(&run).is_empty(), "{}", run.show());
    e.run("settings file, refused", &run).store(&store_dir(&s));

    assert_telemetry_captured(&e);
    let needles: Vec<&str> = needles.iter().map(String::as_str).collect();
    e.assert_absent(&needles);
}

// ---------------------------------------------------------------------------------------
// 2. Client keys

/// Runs the hook with mTLS files `cert` and `key` to an `https://` endpoint where nothing
/// listens (the files are read before any connection is tried).
fn hook_with_client_key(cert: &Path, key: &Path, protocol: &str) -> (Run, Evidence) {
    let s = Scratch::new("client-key");
    let endpoint = refused_endpoint().replacen("http://", "https://", 1);
    let mut v = export_vars(protocol, &endpoint);
    v.extend(vars(&[
        (
            "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
            &cert.to_string_lossy(),
        ),
        ("OTEL_EXPORTER_OTLP_CLIENT_KEY", &key.to_string_lossy()),
    ]));
    let run = hook_on_clean_file(&s, &v);
    let mut e = Evidence::default();
    e.run(&format!("{} over {protocol}", key.display()), &run)
        .store(&store_dir(&s));
    (run, e)
}

/// Key files that are not usable keys, each holding the secret.
fn unusable_keys(secret: &str) -> Vec<(&'static str, String, bool)> {
    // Four copies: valid base64 of a length base64 accepts, but no DER private key.
    let body = secret.repeat(4);
    vec![
        // (name, content, whether the warning must name the file)
        (
            "not-a-key.pem",
            format!("this is not a key: {secret}\n"),
            true,
        ),
        (
            "garbage-body.pem",
            format!("-----BEGIN PRIVATE KEY-----\n{secret}-{secret}!\n-----END PRIVATE KEY-----\n"),
            true,
        ),
        (
            "decodable-garbage.pem",
            format!("-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n"),
            false,
        ),
    ]
}

#[test]
fn client_key_contents_never_appear_only_the_file_path() {
    let secret = secret("keyfile");
    let pki = Pki::generate();
    let s = Scratch::new("keys");
    for (name, content, names_the_file) in unusable_keys(&secret) {
        let key = s.write(name, &content);
        for protocol in ["grpc", "http/protobuf"] {
            let (run, e) = hook_with_client_key(&pki.client_cert, &key, protocol);
            assert!(
                !warnings(&run).is_empty(),
                "{name} over {protocol}: an unusable key gave no warning\n{}",
                run.show()
            );
            if names_the_file {
                assert_warned(&run, &key.to_string_lossy());
            }
            assert_telemetry_captured(&e);
            e.assert_absent(&[&secret]);
        }
        // The secret really is in the file the program was given.
        assert!(
            std::fs::read_to_string(&key)
                .expect("key")
                .contains(&secret)
        );
    }
}

/// A key whose newlines were lost (pasted through a single-line field), and one with a
/// broken BEGIN line: the PEM parser's error quotes the text it choked on.
#[test]
fn a_mangled_client_key_file_never_appears() {
    let secret = secret("keyline");
    let pki = Pki::generate();
    let s = Scratch::new("keys-mangled");
    let body = secret.repeat(4);
    for (name, content) in [
        (
            "one-line.pem",
            format!("-----BEGIN PRIVATE KEY-----{body}-----END PRIVATE KEY-----"),
        ),
        (
            "broken-begin.pem",
            format!("-----BEGIN PRIVATE KEY {secret}\n{body}\n-----END PRIVATE KEY-----\n"),
        ),
    ] {
        let key = s.write(name, &content);
        for protocol in ["grpc", "http/protobuf"] {
            let (run, e) = hook_with_client_key(&pki.client_cert, &key, protocol);
            assert_warned(&run, &key.to_string_lossy());
            e.assert_absent(&[&secret]);
        }
    }
}

// ---------------------------------------------------------------------------------------
// 4. The local store (and every exporter) holds metadata only

/// A PostToolUse input with `secret` in every field that carries content, and a file whose
/// text holds it on lines with problems (so the hook blocks and describes them).
fn content_laden_run(s: &Scratch, secret: &str, extra: &[(String, String)]) -> Run {
    let file = s.write(
        "src/pathcontrol.rs",
        format!("let token = \"{secret}\"; \n<<<<<<< {secret}\n// {secret}"),
    );
    let json_file = s.write("config.json", format!("{{\"token\": {secret}}}\n"));
    let mut runs = Vec::new();
    for path in [&file, &json_file] {
        let input = json!({
            "session_id": SESSION,
            "transcript_path": s.path().join("transcript.jsonl"),
            "cwd": s.path(),
            "permission_mode": "default",
            "hook_event_name": "PostToolUse",
            "tool_name": "Write",
            "tool_input": {
                "file_path": path,
                "content": format!("let token = \"{secret}\";"),
                "old_string": secret,
                "new_string": format!("{secret} // new"),
                "edits": [{"old_string": secret, "new_string": secret}],
            },
            "tool_response": {
                "filePath": path,
                "success": true,
                "content": secret,
                "structuredPatch": [{"lines": [format!("+{secret}")]}],
                "originalFile": secret,
            },
            "prompt": format!("please store {secret}"),
            "user_prompt": secret,
            "message": secret,
            "tool_use_id": "toolu_01PrivacyContent",
        });
        let run = hook(s, extra, &input);
        // The input (and so the secret) really reached the hook: it read the file and
        // blocked, describing the problems with the path, never the text.
        assert_eq!(run.code, Some(0), "{}", run.show());
        assert!(
            run.stdout.contains("\"decision\":\"block\""),
            "{}",
            run.show()
        );
        assert!(
            run.stdout.contains(&path.display().to_string()),
            "{}",
            run.show()
        );
        runs.push(run);
    }
    let mut stdout = String::new();
    let mut stderr = String::new();
    for run in runs {
        stdout.push_str(&run.stdout);
        stderr.push_str(&run.stderr);
    }
    Run {
        code: Some(0),
        stdout,
        stderr,
    }
}

/// What an `export` record may say of a signal.
const EXPORT_OUTCOMES: [&str; 5] = ["delivered", "failed", "rejected", "mixed", "abandoned"];

/// Every record of the store has only the fields `store/format.md` documents for its kind,
/// of the documented types, and every string value is a name the program chose, never
/// free text.
fn assert_store_is_documented_metadata(dir: &Path) -> usize {
    let common = ["v", "id", "ts", "kind", "session_id"];
    let kind_fields = |kind: &str| -> &'static [&'static str] {
        match kind {
            "hook" => &["hook_name", "hook_type", "success", "duration_ms"],
            "plugin_install" | "plugin_uninstall" => &["plugin_name", "scope", "success"],
            "task" => &["task_type", "outcome", "confidence"],
            "validation" => &["validation_type", "passed", "error_count"],
            "mcp_tool_call" => &["tool_name", "success"],
            "session_start" => &[],
            "frustration" => &["level", "score"],
            "export" => &["of", "replay", "metrics", "logs", "traces"],
            other => panic!("undocumented record kind {other:?}"),
        }
    };
    let files = files_under(dir);
    assert!(!files.is_empty(), "the store in {} is empty", dir.display());
    let mut records = 0;
    for file in files {
        let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
        assert!(
            name.len() == "2026-01-01.jsonl".len() && name.ends_with(".jsonl"),
            "unexpected file in the store: {}",
            file.display()
        );
        let text = std::fs::read_to_string(&file).expect("a store file is UTF-8");
        for line in text.lines() {
            records += 1;
            let record: Value = serde_json::from_str(line).expect("a store line is JSON");
            let object = record.as_object().expect("a store record is an object");
            let kind = object["kind"].as_str().expect("kind is a string");
            let allowed = kind_fields(kind);
            for (key, value) in object {
                assert!(
                    common.contains(&key.as_str()) || allowed.contains(&key.as_str()),
                    "undocumented field {key:?} in {line}"
                );
                match value {
                    Value::String(text) => {
                        let expected = match key.as_str() {
                            "id" => text.chars().all(|c| c.is_ascii_hexdigit() || c == '-'),
                            "ts" => text.ends_with('Z') && text.len() == 24,
                            "kind" => true,
                            "session_id" => text == SESSION,
                            "hook_name" => text == "han-check-hook",
                            "hook_type" => text == "PostToolUse",
                            "validation_type" => text == "file-hygiene",
                            "of" => text.len() == 16 && text.chars().all(|c| c.is_ascii_hexdigit()),
                            "metrics" | "logs" | "traces" => {
                                EXPORT_OUTCOMES.contains(&text.as_str())
                            }
                            _ => false,
                        };
                        assert!(expected, "unexpected text in {key:?}: {line}");
                    }
                    Value::Bool(_) => {
                        assert!(["success", "passed"].contains(&key.as_str()), "{line}")
                    }
                    Value::Number(_) => assert!(
                        ["v", "duration_ms", "error_count", "confidence", "score"]
                            .contains(&key.as_str()),
                        "{line}"
                    ),
                    other => panic!("unexpected value {other} for {key:?} in {line}"),
                }
            }
        }
    }
    records
}

#[test]
fn the_local_store_holds_metadata_only() {
    let secret = secret("content");
    let s = Scratch::new("store-content");
    // Telemetry off: only the store records.
    let run = content_laden_run(&s, &secret, &[]);
    assert_eq!(run.stderr, "", "{}", run.show());
    let records = assert_store_is_documented_metadata(&store_dir(&s));
    assert_eq!(records, 4, "a hook and a validation record per run");
    let mut e = Evidence::default();
    e.run("store only", &run).store(&store_dir(&s));
    e.assert_present("store file", SESSION);
    e.assert_absent(&[&secret]);
}

/// Claude Code's `OTEL_LOG_USER_PROMPTS` (and `OTEL_LOG_TOOL_DETAILS`) gate content in
/// Claude Code's own telemetry. han-telemetry has no content-bearing field at all, so
/// with them on still nothing but metadata reaches the store, the console or a collector.
#[test]
fn no_content_reaches_any_exporter_even_with_prompt_logging_on() {
    let secret = secret("prompts");
    let c = Collector::start();
    let s = Scratch::new("prompts");
    let mut v = export_vars("http/protobuf", &c.http_endpoint());
    v.extend(vars(&[
        ("OTEL_LOG_USER_PROMPTS", "1"),
        ("OTEL_LOG_TOOL_DETAILS", "1"),
        ("OTEL_METRICS_INCLUDE_VERSION", "true"),
    ]));
    let run = content_laden_run(&s, &secret, &v);
    assert!(warnings(&run).is_empty(), "{}", run.show());
    // A prompt: not an event this hook handles, so nothing is recorded for it.
    let prompt = json!({"session_id": SESSION, "cwd": s.path(), "hook_event_name":
        "UserPromptSubmit", "prompt": format!("my token is {secret}")});
    let ignored = hook(&s, &v, &prompt);
    assert_eq!(
        (
            ignored.code,
            ignored.stdout.as_str(),
            ignored.stderr.as_str()
        ),
        (Some(0), "", ""),
        "{}",
        ignored.show()
    );
    c.wait_for_metric(metric::VALIDATION_RUN.name, WAIT);
    c.wait_for_log(event::VALIDATION_ERROR.name, WAIT);
    c.wait_for_span("han-check-hook", WAIT);
    assert_store_is_documented_metadata(&store_dir(&s));
    let mut e = Evidence::default();
    e.run("telemetry on", &run)
        .run("a prompt", &ignored)
        .store(&store_dir(&s))
        .collector(&c);
    assert_telemetry_captured(&e);
    e.assert_present("collector received", SESSION);
    e.assert_absent(&[&secret]);
}

// ---------------------------------------------------------------------------------------
// 5. The local store is private

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// Runs the hook under `umask 000` (through `sh`, no `unsafe`), with a clean environment of
/// `vars` only; `CONTROL` names a file the shell creates first, whose mode proves the umask.
fn hook_with_umask_000(vars: &[(&str, &Path)], input: &Value) -> Run {
    let mut child = Command::new("/bin/sh")
        .args(["-c", r#"umask 000; : > "$CONTROL"; exec "$0" "$@""#, HOOK])
        .env_clear()
        .envs(vars.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start sh");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    stdin
        .write_all(input.to_string().as_bytes())
        .expect("write the input");
    drop(stdin);
    let output = child.wait_with_output().expect("wait for the hook");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn assert_private(dir: &Path, created: &[&Path], label: &str) {
    for d in created {
        assert_eq!(
            mode(d),
            0o700,
            "{label}: directory {} is not 0700",
            d.display()
        );
    }
    let files = files_under(dir);
    assert!(!files.is_empty(), "{label}: nothing was stored");
    for f in files {
        assert_eq!(mode(&f), 0o600, "{label}: file {} is not 0600", f.display());
    }
}

#[test]
fn the_local_store_is_created_readable_by_the_user_only_whatever_the_umask() {
    let s = Scratch::new("umask");
    let file = s.write("a.txt", "fine\n");
    let home = s.path().join("home");
    let project = s.path().join("project");
    std::fs::create_dir_all(&project).expect("project dir");
    let control = s.path().join("control");
    let input = edit(s.path(), &file);

    // HAN_METRICS_DIR whose parents do not exist yet.
    let fresh = s.path().join("fresh");
    let store = fresh.join("a/b/metrics");
    for round in 0..2 {
        let run = hook_with_umask_000(
            &[
                ("HOME", &home),
                ("CLAUDE_PROJECT_DIR", &project),
                ("HAN_METRICS_DIR", &store),
                ("CONTROL", &control),
            ],
            &input,
        );
        assert_eq!(
            (run.code, run.stdout.as_str(), run.stderr.as_str()),
            (Some(0), "", ""),
            "{}",
            run.show()
        );
        assert_eq!(mode(&control), 0o666, "the umask 000 did not take effect");
        let created = [
            fresh.as_path(),
            &fresh.join("a"),
            &fresh.join("a/b"),
            store.as_path(),
        ];
        assert_private(&store, &created, &format!("HAN_METRICS_DIR, run {round}"));
    }
    let records: usize = files_under(&store)
        .iter()
        .map(|f| std::fs::read_to_string(f).expect("store").lines().count())
        .sum();
    assert_eq!(records, 4, "two runs, a hook and a validation record each");

    // The default location (Han's data directory), under a home without `.han` yet.
    let bare_home = s.path().join("bare-home");
    std::fs::create_dir_all(&bare_home).expect("home");
    let run = hook_with_umask_000(
        &[
            ("HOME", &bare_home),
            ("CLAUDE_PROJECT_DIR", &project),
            ("CONTROL", &control),
        ],
        &input,
    );
    assert_eq!(run.code, Some(0), "{}", run.show());
    let data = bare_home.join(".han");
    let default = data.join("metrics");
    assert_private(
        &default,
        &[data.as_path(), default.as_path()],
        "default location",
    );
}

// ---------------------------------------------------------------------------------------
// 6. Telemetry is off unless enabled

/// Every export variable points at `c`, every signal to OTLP and the console; only the
/// switch is missing.
fn everything_but_the_switch(c: &Collector) -> Vec<(String, String)> {
    vars(&[
        ("OTEL_METRICS_EXPORTER", "otlp,console"),
        ("OTEL_LOGS_EXPORTER", "otlp,console"),
        ("OTEL_TRACES_EXPORTER", "otlp,console"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &c.grpc_endpoint()),
        ("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/protobuf"),
        (
            "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
            &format!("{}/v1/metrics", c.http_endpoint()),
        ),
        ("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "http/json"),
        (
            "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
            &format!("{}/v1/logs", c.http_endpoint()),
        ),
        ("OTEL_METRIC_EXPORT_INTERVAL", "100"),
        ("OTEL_LOGS_EXPORT_INTERVAL", "100"),
    ])
}

/// A way of leaving telemetry off: the label, the switch in the process environment, and
/// settings files (path in the scratch directory, contents).
type OffCase<'a> = (&'a str, Option<&'a str>, Vec<(&'a str, String)>);

#[test]
fn telemetry_stays_off_unless_enabled_whatever_else_is_set() {
    let c = Collector::start();
    let all = everything_but_the_switch(&c);
    let settings_with = |enable: Option<Value>| {
        let mut env = serde_json::Map::new();
        for (k, v) in &all {
            env.insert(k.clone(), Value::String(v.clone()));
        }
        if let Some(enable) = enable {
            env.insert("CLAUDE_CODE_ENABLE_TELEMETRY".into(), enable);
        }
        json!({ "env": env }).to_string()
    };
    // (label, process env switch, settings files)
    let cases: Vec<OffCase<'_>> = vec![
        ("unset", None, vec![]),
        ("false", Some("false"), vec![]),
        ("FALSE", Some("FALSE"), vec![]),
        ("off", Some("off"), vec![]),
        ("no", Some("no"), vec![]),
        ("empty", Some(""), vec![]),
        (
            "project settings without the switch",
            None,
            vec![("project/.claude/settings.json", settings_with(None))],
        ),
        (
            "project settings 0",
            None,
            vec![(
                "project/.claude/settings.json",
                settings_with(Some(json!(0))),
            )],
        ),
        (
            "user settings false",
            None,
            vec![(
                "home/.claude/settings.json",
                settings_with(Some(json!(false))),
            )],
        ),
        (
            "local settings \"0\" over project settings \"1\"",
            None,
            vec![
                (
                    "project/.claude/settings.local.json",
                    settings_with(Some(json!("0"))),
                ),
                (
                    "project/.claude/settings.json",
                    settings_with(Some(json!("1"))),
                ),
            ],
        ),
        (
            "process env 0 over project settings 1",
            Some("0"),
            vec![(
                "project/.claude/settings.json",
                settings_with(Some(json!("1"))),
            )],
        ),
        (
            "project settings: enabled but OTEL_SDK_DISABLED",
            None,
            vec![(
                "project/.claude/settings.json",
                json!({"env": {"CLAUDE_CODE_ENABLE_TELEMETRY": "1", "OTEL_SDK_DISABLED": "true",
                               "OTEL_EXPORTER_OTLP_ENDPOINT": c.grpc_endpoint(),
                               "OTEL_TRACES_EXPORTER": "otlp,console"}})
                .to_string(),
            )],
        ),
    ];
    for (label, switch, files) in &cases {
        let s = Scratch::new("off");
        for (path, contents) in files {
            s.write(path, contents);
        }
        let mut v = if files.is_empty() {
            all.clone()
        } else {
            Vec::new()
        };
        if let Some(switch) = switch {
            v.push(("CLAUDE_CODE_ENABLE_TELEMETRY".into(), (*switch).to_owned()));
        }
        let run = hook_on_clean_file(&s, &v);
        assert_eq!(
            run.stderr,
            "",
            "{label}: stderr must be empty\n{}",
            run.show()
        );
        // The store records whatever the switch says.
        assert!(
            !files_under(&store_dir(&s)).is_empty(),
            "{label}: the store recorded nothing"
        );
    }
    // Anything sent reached rotel by now (the hook flushes before it exits); give its
    // forwarding a moment to catch up before concluding.
    thread::sleep(Duration::from_millis(500));
    let received = c.received();
    assert!(
        received.metrics.is_empty() && received.logs.is_empty() && received.spans.is_empty(),
        "telemetry arrived while off:\n{}",
        c.output()
    );

    // Control: the same variables with the switch on do deliver, on every route.
    let s = Scratch::new("on");
    let mut v = all.clone();
    v.push(("CLAUDE_CODE_ENABLE_TELEMETRY".into(), "1".into()));
    let run = hook_on_clean_file(&s, &v);
    assert!(run.stderr.contains(SESSION), "{}", run.show());
    c.wait_for_metric(metric::HOOK_EXECUTION.name, WAIT);
    c.wait_for_log(event::HOOK_RESULT.name, WAIT);
    c.wait_for_span("han-check-hook", WAIT);
}
