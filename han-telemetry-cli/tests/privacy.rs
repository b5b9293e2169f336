//! What `doctor.rs` does not cover of the privacy promises: a client key's contents in
//! `doctor`'s probe errors, and `replay` (which exports again, with the configured headers
//! and endpoint) failing with secrets in its configuration. Each secret is searched for in
//! stdout and stderr, text and `--json`, as text, as a decimal byte list and as hex.

mod support;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use han_telemetry_test_support::http_server::{Answer, Body, HttpServer};
use han_telemetry_test_support::secrets::{assert_no_secret, secret};
use han_telemetry_test_support::tls_proxy::Pki;
use support::{Run, Scratch, run};

fn assert_run_has_no_secret(what: &str, out: &Run, secret: &str) {
    assert_no_secret(what, &out.all_output(), secret);
}

/// `http://127.0.0.1:<port>` where nothing listens.
fn refused_endpoint() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("local addr");
    drop(listener);
    format!("http://{addr}")
}

// ---------------------------------------------------------------------------------------
// doctor and client keys

fn doctor_with_client_key(cert: &Path, key: &Path, protocol: &str, json: bool) -> Run {
    let home = Scratch::new("privacy-key");
    let endpoint = refused_endpoint().replacen("http://", "https://", 1);
    let cert = cert.display().to_string();
    let key = key.display().to_string();
    let vars = [
        ("CLAUDE_CODE_ENABLE_TELEMETRY", "1"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", cert.as_str()),
        ("OTEL_EXPORTER_OTLP_CLIENT_KEY", key.as_str()),
    ];
    let mut args = vec!["doctor", "--timeout", "2s"];
    if json {
        args.push("--json");
    }
    let out = run(&home, &vars, &args);
    out.assert_code(1);
    out
}

#[test]
fn doctor_names_an_unusable_client_key_file_but_never_shows_its_contents() {
    let secret = secret("doctorkey");
    let pki = Pki::generate();
    let dir = Scratch::new("privacy-keys");
    let body = secret.repeat(4);
    for (name, content, names_the_file) in [
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
    ] {
        let key = dir.write(name, &content);
        for protocol in ["grpc", "http/protobuf"] {
            for json in [false, true] {
                let out = doctor_with_client_key(&pki.client_cert, &key, protocol, json);
                let what = format!("doctor, {name} over {protocol}, json {json}");
                // The path is shown in the configuration table; a read error names it too.
                assert!(
                    out.stdout.contains(&key.display().to_string()),
                    "{what}: the key's path is not shown\n{}",
                    out.all_output()
                );
                if names_the_file && !json {
                    assert!(
                        out.stdout
                            .lines()
                            .any(|l| l.contains("error:") && l.contains(name)),
                        "{what}: no probe error names the file\n{}",
                        out.all_output()
                    );
                }
                assert_run_has_no_secret(&what, &out, &secret);
            }
        }
    }
}

#[test]
fn doctor_never_shows_a_mangled_client_key() {
    let secret = secret("doctorline");
    let pki = Pki::generate();
    let dir = Scratch::new("privacy-keys-mangled");
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
        let key = dir.write(name, &content);
        for protocol in ["grpc", "http/protobuf"] {
            let out = doctor_with_client_key(&pki.client_cert, &key, protocol, false);
            assert_run_has_no_secret(&format!("doctor, {name} over {protocol}"), &out, &secret);
        }
    }
}

#[test]
fn doctor_never_shows_a_token_pasted_where_a_header_name_goes() {
    let secret = secret("doctorcolon");
    let home = Scratch::new("privacy-colon");
    let headers = format!("Authorization: Basic {secret}==");
    let vars = [
        ("CLAUDE_CODE_ENABLE_TELEMETRY", "1"),
        ("OTEL_EXPORTER_OTLP_HEADERS", headers.as_str()),
    ];
    for args in [
        &["doctor", "--no-probe"][..],
        &["doctor", "--no-probe", "--json"],
    ] {
        let out = run(&home, &vars, args);
        assert_run_has_no_secret(&format!("{args:?}"), &out, &secret);
    }
}

// ---------------------------------------------------------------------------------------
// replay

/// A loopback OTLP/HTTP endpoint answering `401` with the request head (the token
/// included) as its body.
fn unauthorized() -> HttpServer {
    HttpServer::answering(Answer::with_body(401, Body::EchoHead))
}

/// A store holding one hook run of a process whose export failed: what `replay` sends.
fn store_with_a_failed_export(home: &Scratch) -> PathBuf {
    let now = SystemTime::now();
    let ts = humantime::format_rfc3339_millis(now).to_string();
    let day = &ts[..10];
    let records = format!(
        "{{\"v\":1,\"id\":\"3f9a0c2e7b1d4e85-0\",\"ts\":\"{ts}\",\"session_id\":\"privacy-session\",\"kind\":\"hook\",\"hook_name\":\"lint\",\"hook_type\":\"PostToolUse\",\"success\":true,\"duration_ms\":12.5}}\n\
         {{\"v\":1,\"id\":\"3f9a0c2e7b1d4e85-1\",\"ts\":\"{ts}\",\"kind\":\"export\",\"of\":\"3f9a0c2e7b1d4e85\",\"metrics\":\"failed\",\"logs\":\"failed\"}}\n"
    );
    let file = home.write(&format!("store/{day}.jsonl"), &records);
    file.parent().expect("the store").to_path_buf()
}

#[test]
fn replay_never_shows_header_values_or_endpoint_credentials() {
    let secret = secret("replay");
    let refused = refused_endpoint();
    let unauthorized = unauthorized();
    let with_userinfo =
        |endpoint: &str| endpoint.replacen("http://", &format!("http://user:{secret}@"), 1);
    let cases = [
        ("refused", with_userinfo(&refused), "grpc"),
        ("refused", with_userinfo(&refused), "http/protobuf"),
        ("401 echoing", unauthorized.endpoint(), "http/protobuf"),
        (
            "401 echoing, userinfo",
            with_userinfo(&unauthorized.endpoint()),
            "http/json",
        ),
    ];
    let headers = format!("authorization=Bearer%20{secret},x-api-key={secret}");
    for (target, endpoint, protocol) in &cases {
        for json in [false, true] {
            let home = Scratch::new("privacy-replay");
            let store = store_with_a_failed_export(&home);
            let store_arg = store.display().to_string();
            let vars = [
                ("CLAUDE_CODE_ENABLE_TELEMETRY", "1"),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
                ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
                ("OTEL_EXPORTER_OTLP_HEADERS", headers.as_str()),
            ];
            let mut args = vec!["replay", "--dir", store_arg.as_str()];
            if json {
                args.insert(0, "--json");
            }
            let out = run(&home, &vars, &args);
            let what = format!("replay to {target} over {protocol}, json {json}");
            assert_eq!(
                out.code,
                Some(1),
                "{what}: the replay must fail\n{}",
                out.all_output()
            );
            assert_run_has_no_secret(&what, &out, &secret);
            for file in std::fs::read_dir(&store).expect("the store") {
                let path = file.expect("an entry").path();
                let text = std::fs::read_to_string(&path).expect("a store file");
                assert_no_secret(&format!("{what}: {}", path.display()), &text, &secret);
            }
        }
    }
    // The token really was sent.
    let heads: Vec<String> = unauthorized.requests().iter().map(|r| r.head()).collect();
    assert!(
        heads
            .iter()
            .any(|h| h.contains(&format!("Bearer {secret}"))),
        "the server never saw the token:\n{}",
        heads.join("\n")
    );
}
