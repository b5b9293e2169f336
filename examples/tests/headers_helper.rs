//! Claude Code's `otelHeadersHelper`, with the real hook (`han-check-hook`) over every OTLP
//! protocol, against loopback collectors that check the `authorization` header: the
//! helper's token reaches gRPC metadata and HTTP headers alike, over the static header; its
//! result is cached across processes until the debounce or a 401 makes it stale; every way
//! a helper can fail gives one line and export with the static headers; a project's helper
//! is not run; and the token appears on no output channel but the cache file (0600).

use std::path::{Path, PathBuf};

use han_telemetry_test_support::faults::{FaultyCollector, Headers, Wire};
use han_telemetry_test_support::process::{self, Run};
use han_telemetry_test_support::scratch::Scratch;
use han_telemetry_test_support::secrets::{assert_no_secret, secret};
use serde_json::json;

const HOOK: &str = env!("CARGO_BIN_EXE_han-check-hook");
const SESSION: &str = "helper-test-session";
const PROTOCOLS: [&str; 3] = ["grpc", "http/protobuf", "http/json"];
const SIGNALS: [&str; 3] = ["metrics", "logs", "traces"];
const STATIC: &str = "Bearer static-token";

fn wire(protocol: &str) -> Wire {
    if protocol == "grpc" {
        Wire::Grpc
    } else {
        Wire::Http
    }
}

/// A helper script printing `Bearer <token file>` as `Authorization` (and counting its
/// runs), or `body` instead when given.
fn helper(scratch: &Scratch, body: Option<&str>) -> PathBuf {
    let dir = scratch.path();
    let default = format!(
        "printf '{{\"Authorization\": \"Bearer %s\", \"X-Dynamic\": \"yes\"}}' \"$(cat '{token}')\"\n",
        token = dir.join("token").display(),
    );
    let script = format!(
        "#!/bin/sh\necho run >> '{}'\n{}",
        dir.join("runs").display(),
        body.map_or(default, str::to_owned)
    );
    let path = scratch.write("bin/helper", script);
    set_mode(&path, 0o755);
    path
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

fn runs(scratch: &Scratch) -> usize {
    std::fs::read_to_string(scratch.path().join("runs"))
        .map_or(0, |text| text.lines().filter(|l| *l == "run").count())
}

fn set_token(scratch: &Scratch, token: &str) {
    scratch.write("token", token);
}

/// The store directory (`HAN_METRICS_DIR` of [`process::run`]) as a previous hook left it:
/// the cache lives beside the store and never creates its directory.
fn store(scratch: &Scratch) -> PathBuf {
    let dir = scratch.path().join("metrics");
    std::fs::create_dir_all(&dir).expect("store dir");
    set_mode(&dir, 0o700);
    dir
}

/// The user's settings: telemetry on, every signal to `endpoint` with a static
/// authorization and `x-static` header, the helper, and `extra` in `env`.
fn user_settings(
    scratch: &Scratch,
    protocol: &str,
    endpoint: &str,
    helper: Option<&Path>,
    extra: &[(&str, &str)],
) {
    let mut env = json!({
        "CLAUDE_CODE_ENABLE_TELEMETRY": "1",
        "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_EXPORTER_OTLP_HEADERS": format!("authorization={},x-static=kept", STATIC.replace(' ', "%20")),
        "OTEL_TRACES_EXPORTER": "otlp",
    });
    for (k, v) in extra {
        env[*k] = json!(v);
    }
    let mut settings = json!({ "env": env });
    if let Some(helper) = helper {
        settings["otelHeadersHelper"] = json!(helper);
    }
    scratch.write("home/.claude/settings.json", settings.to_string());
}

/// A PostToolUse Write of a clean file: the hook answers nothing and exits 0.
fn run_hook(scratch: &Scratch) -> Run {
    let input = process::write_input(scratch, "project/clean.txt", "clean\n", SESSION);
    let run = process::run(HOOK, &[], scratch, &[], &input);
    assert_eq!(run.code, Some(0), "{}", run.show());
    assert_eq!(run.stdout, "", "{}", run.show());
    run
}

fn header<'a>(headers: &'a Headers, name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, value)| value.as_str())
}

/// Every signal reached `collector`, each request with `auth` as its authorization.
fn assert_received(collector: &FaultyCollector, auth: &str, dynamic: bool, case: &str) {
    for signal in SIGNALS {
        assert!(
            collector.requests_for(signal) >= 1,
            "{case}: no {signal} export: {:?}",
            collector.requests()
        );
    }
    for headers in collector.headers() {
        assert_eq!(
            header(&headers, "authorization"),
            Some(auth),
            "{case}: {headers:?}"
        );
        assert_eq!(
            header(&headers, "x-static"),
            Some("kept"),
            "{case}: {headers:?}"
        );
        let want = dynamic.then_some("yes");
        assert_eq!(header(&headers, "x-dynamic"), want, "{case}: {headers:?}");
    }
}

fn cache_files(store: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(store)
        .map(|dir| {
            dir.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with(".headers-helper-") && n.ends_with(".json"))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn stderr_lines(run: &Run) -> Vec<&str> {
    run.stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect()
}

#[test]
fn the_helpers_token_wins_over_the_static_header_and_is_cached_on_every_protocol() {
    for protocol in PROTOCOLS {
        let scratch = Scratch::new("helper-cached");
        let store = store(&scratch);
        let token = secret("helper");
        set_token(&scratch, &token);
        let bearer = format!("Bearer {token}");
        let collector = FaultyCollector::requiring(wire(protocol), "authorization", &bearer);
        let helper = helper(&scratch, None);
        user_settings(
            &scratch,
            protocol,
            &collector.endpoint(),
            Some(&helper),
            &[],
        );

        let first = run_hook(&scratch);
        assert_eq!(first.stderr, "", "{protocol}: {}", first.show());
        assert_received(&collector, &bearer, true, protocol);
        assert_eq!(runs(&scratch), 1, "{protocol}");
        // Cached: the next hook does not run it.
        let second = run_hook(&scratch);
        assert_eq!(second.stderr, "", "{protocol}: {}", second.show());
        assert_eq!(runs(&scratch), 1, "{protocol}: the cache was not used");
        assert_received(&collector, &bearer, true, protocol);

        let caches = cache_files(&store);
        assert_eq!(caches.len(), 1, "{protocol}: {caches:?}");
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(&caches[0]).expect("cache").permissions(),
        );
        assert_eq!(mode & 0o777, 0o600, "{protocol}");
        // The token is on no channel but the cache.
        for run in [&first, &second] {
            assert_no_secret("stderr", &run.stderr, &token);
            assert_no_secret("stdout", &run.stdout, &token);
        }
        for file in files_under(&store) {
            if file == caches[0] {
                continue;
            }
            let text = String::from_utf8_lossy(&std::fs::read(&file).expect("read")).into_owned();
            assert_no_secret(&file.display().to_string(), &text, &token);
        }
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn an_expired_result_is_refreshed_by_running_the_helper_again() {
    for protocol in PROTOCOLS {
        let scratch = Scratch::new("helper-expiry");
        store(&scratch);
        let helper = helper(&scratch, None);
        let (old, new) = (secret("old"), secret("new"));
        let first =
            FaultyCollector::requiring(wire(protocol), "authorization", &format!("Bearer {old}"));
        let second =
            FaultyCollector::requiring(wire(protocol), "authorization", &format!("Bearer {new}"));
        // A 1 ms debounce: stale by the time the next hook starts.
        let debounce = [("CLAUDE_CODE_OTEL_HEADERS_HELPER_DEBOUNCE_MS", "1")];
        set_token(&scratch, &old);
        user_settings(
            &scratch,
            protocol,
            &first.endpoint(),
            Some(&helper),
            &debounce,
        );
        run_hook(&scratch);
        assert_received(&first, &format!("Bearer {old}"), true, protocol);
        set_token(&scratch, &new);
        user_settings(
            &scratch,
            protocol,
            &second.endpoint(),
            Some(&helper),
            &debounce,
        );
        let run = run_hook(&scratch);
        assert_eq!(run.stderr, "", "{protocol}: {}", run.show());
        assert_received(&second, &format!("Bearer {new}"), true, protocol);
        assert_eq!(runs(&scratch), 2, "{protocol}");
    }
}

#[test]
fn a_401_marks_the_cached_token_stale_and_the_next_hook_refreshes_it() {
    for protocol in PROTOCOLS {
        let scratch = Scratch::new("helper-401");
        store(&scratch);
        let helper = helper(&scratch, None);
        let (old, new) = (secret("old"), secret("new"));
        let first =
            FaultyCollector::requiring(wire(protocol), "authorization", &format!("Bearer {old}"));
        set_token(&scratch, &old);
        user_settings(&scratch, protocol, &first.endpoint(), Some(&helper), &[]);
        run_hook(&scratch);
        assert_received(&first, &format!("Bearer {old}"), true, protocol);

        // The token is revoked: the collector wants the new one; the cache still says old.
        set_token(&scratch, &new);
        let second =
            FaultyCollector::requiring(wire(protocol), "authorization", &format!("Bearer {new}"));
        user_settings(&scratch, protocol, &second.endpoint(), Some(&helper), &[]);
        let refused = run_hook(&scratch);
        assert_eq!(
            runs(&scratch),
            1,
            "{protocol}: the fresh cache was not used"
        );
        assert!(
            refused.stderr.contains("rejected the credentials"),
            "{protocol}: {}",
            refused.show()
        );
        assert_no_secret("stderr", &refused.stderr, &old);
        assert_eq!(
            stderr_lines(&refused).len(),
            1,
            "{protocol}: {}",
            refused.show()
        );

        let refreshed = run_hook(&scratch);
        assert_eq!(
            runs(&scratch),
            2,
            "{protocol}: the 401 did not force a refresh"
        );
        assert_eq!(refreshed.stderr, "", "{protocol}: {}", refreshed.show());
        let last = second.headers();
        let last = last.last().expect("requests");
        assert_eq!(
            header(last, "authorization"),
            Some(format!("Bearer {new}").as_str())
        );
    }
}

#[test]
fn a_failing_helper_gives_one_line_and_export_goes_on_with_the_static_headers() {
    let huge = "head -c 100000 /dev/zero | tr '\\0' a\n";
    let kinds: [(&str, Option<&str>, &str); 6] = [
        (
            "non-zero exit",
            Some("echo '{\"authorization\": \"x\"}'\nexit 3\n"),
            "failed (exit status: 3)",
        ),
        (
            "timeout",
            Some("sleep 20\n"),
            "did not finish within 2000 ms",
        ),
        ("invalid JSON", Some("echo 'token: s3cr3t'\n"), "not JSON"),
        (
            "non-string value",
            Some("echo '{\"authorization\": 5}'\n"),
            "not a string",
        ),
        ("huge output", Some(huge), "more than 64 KiB"),
        ("missing", None, "cannot be started"),
    ];
    for protocol in PROTOCOLS {
        for (kind, body, says) in kinds {
            let case = format!("{protocol}, {kind}");
            let scratch = Scratch::new("helper-fails");
            store(&scratch);
            let collector = FaultyCollector::requiring(wire(protocol), "authorization", STATIC);
            let program = match body {
                Some(body) => helper(&scratch, Some(body)),
                None => scratch.path().join("bin/no-such-helper"),
            };
            user_settings(
                &scratch,
                protocol,
                &collector.endpoint(),
                Some(&program),
                &[],
            );
            let run = run_hook(&scratch);
            let lines = stderr_lines(&run);
            assert_eq!(lines.len(), 1, "{case}: {}", run.show());
            assert!(
                lines[0].contains("headers helper") && lines[0].contains(says),
                "{case}: {}",
                run.show()
            );
            assert!(!run.stderr.contains("s3cr3t"), "{case}: {}", run.show());
            assert_received(&collector, STATIC, false, &case);
            // The next hook does not run it again so soon, and says so.
            let before = runs(&scratch);
            let again = run_hook(&scratch);
            assert_eq!(runs(&scratch), before, "{case}: run again at once");
            assert_eq!(stderr_lines(&again).len(), 1, "{case}: {}", again.show());
            assert!(
                again.stderr.contains("run again after"),
                "{case}: {}",
                again.show()
            );
            if protocol != "grpc" {
                // One protocol is enough for the slow ones.
                break;
            }
        }
    }
}

#[test]
fn a_projects_helper_is_not_run_and_the_users_does_not_follow_a_projects_endpoint() {
    for protocol in PROTOCOLS {
        let scratch = Scratch::new("helper-project");
        store(&scratch);
        let user = FaultyCollector::requiring(wire(protocol), "authorization", STATIC);
        let repository = FaultyCollector::requiring(wire(protocol), "authorization", "none");
        let marker = scratch.path().join("project-helper-ran");
        let project_helper = scratch.write(
            "project/tools/helper",
            format!(
                "#!/bin/sh\ntouch '{}'\necho '{{\"authorization\": \"repo\"}}'\n",
                marker.display()
            ),
        );
        set_mode(&project_helper, 0o755);
        user_settings(&scratch, protocol, &user.endpoint(), None, &[]);
        scratch.write(
            "project/.claude/settings.json",
            json!({ "otelHeadersHelper": project_helper }).to_string(),
        );
        let run = run_hook(&scratch);
        assert_eq!(run.stderr, "", "{protocol}: {}", run.show());
        assert!(!marker.exists(), "{protocol}: the project's helper ran");
        assert_received(&user, STATIC, false, protocol);

        // Trusted project settings redirect the endpoint: the user's helper is not run
        // for a destination the repository chose (nor are the static headers sent).
        let user_helper = helper(&scratch, None);
        set_token(&scratch, &secret("user"));
        user_settings(
            &scratch,
            protocol,
            &user.endpoint(),
            Some(&user_helper),
            &[("HAN_TELEMETRY_TRUST_PROJECT_SETTINGS", "1")],
        );
        scratch.write(
            "project/.claude/settings.json",
            json!({ "env": {"OTEL_EXPORTER_OTLP_ENDPOINT": repository.endpoint()} }).to_string(),
        );
        let run = run_hook(&scratch);
        assert_eq!(
            runs(&scratch),
            0,
            "{protocol}: the user's helper ran: {}",
            run.show()
        );
        assert!(
            run.stderr.contains("otelHeadersHelper"),
            "{protocol}: {}",
            run.show()
        );
        for headers in repository.headers() {
            assert_eq!(
                header(&headers, "authorization"),
                None,
                "{protocol}: {headers:?}"
            );
        }
    }
}
