//! The real hook (`han-check-hook`) against collectors that fail in every way the network
//! allows, over each OTLP protocol, on loopback. Whatever the collector does:
//!
//! * the hook's answer (stdout) and exit code are those of a run with telemetry off;
//! * it exits within the exit budget (plus slack for a loaded machine: this is about not
//!   hanging, not about speed, which the benchmarks measure);
//! * stderr holds one actionable `han-telemetry:` line, or nothing when the export got
//!   through in the end;
//! * the run's records are in the local store, followed by a receipt saying what became of
//!   each signal's export, which is what `han-telemetry replay` goes by;
//! * a retryable answer (503, `UNAVAILABLE`) is retried and a final one (400,
//!   `INVALID_ARGUMENT`, a partial success) is not: the collector counts the requests.

use std::net::TcpListener;
use std::sync::OnceLock;
use std::time::{Duration, Instant, UNIX_EPOCH};

use han_telemetry::store::{self, Entry, ExportOutcome};
use han_telemetry_test_support::faults::{Fault, FaultyCollector, Wire};
use han_telemetry_test_support::process::{self, Run};
use han_telemetry_test_support::scratch::Scratch;
use han_telemetry_test_support::tls_proxy::{ClientAuth, Pki, TlsProxy};

const HOOK: &str = env!("CARGO_BIN_EXE_han-check-hook");
const SESSION: &str = "faults-test-session";
/// Slack for process start-up and scheduling on a loaded 2-core machine.
const SLACK: Duration = Duration::from_millis(2500);
const SIGNALS: [&str; 3] = ["metrics", "logs", "traces"];

#[derive(Debug, Clone, Copy)]
enum Protocol {
    Grpc,
    HttpProtobuf,
    HttpJson,
}

const PROTOCOLS: [Protocol; 3] = [Protocol::Grpc, Protocol::HttpProtobuf, Protocol::HttpJson];

impl Protocol {
    fn name(self) -> &'static str {
        match self {
            Protocol::Grpc => "grpc",
            Protocol::HttpProtobuf => "http/protobuf",
            Protocol::HttpJson => "http/json",
        }
    }

    fn wire(self) -> Wire {
        match self {
            Protocol::Grpc => Wire::Grpc,
            _ => Wire::Http,
        }
    }

    /// An HTTP status for HTTP, the matching gRPC code for gRPC.
    fn status(self, http: u16) -> u16 {
        match (self, http) {
            (Protocol::Grpc, 503) => 14, // UNAVAILABLE
            (Protocol::Grpc, 400) => 3,  // INVALID_ARGUMENT
            (Protocol::Grpc, other) => other,
            (_, other) => other,
        }
    }
}

/// The hook's input: a Write of a file with a problem, so the answer is a block decision
/// on stdout that a broken telemetry must not change.
fn input(scratch: &Scratch) -> Vec<u8> {
    process::write_input(scratch, "faulty.txt", "no final newline", SESSION)
}

/// What the hook answers with telemetry off, with its scratch directory written `<dir>`;
/// run once, whatever the number of cases.
fn baseline() -> &'static (Option<i32>, String) {
    static BASELINE: OnceLock<(Option<i32>, String)> = OnceLock::new();
    BASELINE.get_or_init(|| {
        let scratch = Scratch::new("faults-baseline");
        let run = process::run(HOOK, &[], &scratch, &[], &input(&scratch));
        (run.code, in_dir(&run.stdout, &scratch))
    })
}

/// `text` with `scratch`'s path written `<dir>`: the answer names the file it checked.
fn in_dir(text: &str, scratch: &Scratch) -> String {
    text.replace(&scratch.path().display().to_string(), "<dir>")
}

/// Runs the hook exporting every signal to `endpoint` over `protocol`.
fn run_hook(
    scratch: &Scratch,
    protocol: Protocol,
    endpoint: &str,
    budget_ms: u64,
) -> (Run, Duration) {
    let budget = budget_ms.to_string();
    let vars = [
        ("CLAUDE_CODE_ENABLE_TELEMETRY", "1"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol.name()),
        ("OTEL_TRACES_EXPORTER", "otlp"),
        ("HAN_TELEMETRY_EXIT_BUDGET_MS", budget.as_str()),
    ];
    let started = Instant::now();
    let run = process::run(HOOK, &[], scratch, &vars, &input(scratch));
    (run, started.elapsed())
}

/// What every fault must leave as it was, and the receipt it must leave in the store.
fn assert_host_unaffected(
    case: &str,
    scratch: &Scratch,
    (run, elapsed): &(Run, Duration),
    budget_ms: u64,
    line: Option<&[&str]>,
    outcome: &dyn Fn(ExportOutcome) -> bool,
) {
    let (code, stdout) = baseline();
    let context = format!("{case}:\n{}", run.show());
    assert_eq!(run.code, *code, "{context}");
    assert_eq!(&in_dir(&run.stdout, scratch), stdout, "{context}");
    assert!(
        *elapsed < Duration::from_millis(budget_ms) + SLACK,
        "{case}: took {elapsed:?} with a {budget_ms} ms budget"
    );
    match line {
        None => assert_eq!(run.stderr, "", "{context}"),
        Some(words) => {
            assert_eq!(run.stderr.lines().count(), 1, "{context}");
            assert!(run.stderr.starts_with("han-telemetry: "), "{context}");
            for word in words {
                assert!(run.stderr.contains(word), "{case}: no {word:?}:\n{context}");
            }
        }
    }
    let records = store::scan(&scratch.path().join("metrics"), UNIX_EPOCH)
        .expect("read the store")
        .records;
    let kept = |kind: fn(&Entry<'_>) -> bool| {
        records
            .iter()
            .any(|r| kind(&r.entry) && r.session_id.as_deref() == Some(SESSION))
    };
    assert!(
        kept(|e| matches!(e, Entry::Hook { success: false, .. })),
        "{case}: the hook run is not in the store: {records:?}"
    );
    assert!(
        kept(|e| matches!(e, Entry::Validation { passed: false, .. })),
        "{case}: the validation is not in the store: {records:?}"
    );
    let receipts: Vec<_> = records
        .iter()
        .filter_map(|r| match &r.entry {
            Entry::Export {
                replay: false,
                metrics,
                logs,
                traces,
                ..
            } => Some([*metrics, *logs, *traces]),
            _ => None,
        })
        .collect();
    assert_eq!(receipts.len(), 1, "{case}: {records:?}");
    for (signal, got) in SIGNALS.iter().zip(receipts[0]) {
        assert!(
            got.is_some_and(outcome),
            "{case}: {signal} export receipt is {got:?}"
        );
    }
}

fn is(expected: ExportOutcome) -> impl Fn(ExportOutcome) -> bool {
    move |got| got == expected
}

/// Runs `fault` for each protocol and checks the common promises plus `line` and `outcome`.
fn each_protocol(
    fault: &dyn Fn(Protocol) -> Fault,
    budget_ms: u64,
    line: Option<&[&str]>,
    outcome: ExportOutcome,
    requests_per_signal: Option<usize>,
) {
    for protocol in PROTOCOLS {
        let fault = fault(protocol);
        let case = format!("{} with {fault:?}", protocol.name());
        let collector = FaultyCollector::start(protocol.wire(), fault);
        let scratch = Scratch::new("faults");
        let ran = run_hook(&scratch, protocol, &collector.endpoint(), budget_ms);
        assert_host_unaffected(&case, &scratch, &ran, budget_ms, line, &is(outcome));
        if let Some(n) = requests_per_signal {
            for signal in SIGNALS {
                assert_eq!(
                    collector.requests_for(signal),
                    n,
                    "{case}: requests for {signal}: {:?}",
                    collector.requests()
                );
            }
        }
    }
}

#[test]
fn a_collector_refusing_connections() {
    for protocol in PROTOCOLS {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
        drop(listener);
        let scratch = Scratch::new("faults-refused");
        let ran = run_hook(&scratch, protocol, &endpoint, 1000);
        assert_host_unaffected(
            protocol.name(),
            &scratch,
            &ran,
            1000,
            Some(&[
                "metrics, logs and traces export to",
                "is the collector running",
                "han-telemetry replay",
            ]),
            &is(ExportOutcome::Failed),
        );
        // No layer of the error chain is said twice ("tcp connect error: tcp connect error").
        let parts: Vec<&str> = ran.0.stderr.split(": ").collect();
        assert!(
            parts.windows(2).all(|w| w[0] != w[1]),
            "{}: {}",
            protocol.name(),
            ran.0.stderr
        );
    }
}

#[test]
fn a_collector_that_never_answers_is_abandoned_at_the_budget() {
    each_protocol(
        &|_| Fault::Silent,
        400,
        Some(&[
            "gave up exporting",
            "400 ms exit budget",
            "han-telemetry replay",
        ]),
        ExportOutcome::Abandoned,
        None,
    );
}

#[test]
fn a_slow_answer_within_the_budget_is_delivered() {
    each_protocol(
        &|_| Fault::Slow(Duration::from_millis(150)),
        5000,
        None,
        ExportOutcome::Delivered,
        Some(1),
    );
}

#[test]
fn unavailable_once_is_retried_and_delivered() {
    each_protocol(
        &|p| Fault::FailFirst {
            n: 1,
            status: p.status(503),
        },
        5000,
        None,
        ExportOutcome::Delivered,
        Some(2),
    );
}

#[test]
fn unavailable_throughout_is_retried_twice_then_reported() {
    each_protocol(
        &|p| Fault::Status(p.status(503)),
        5000,
        Some(&["overloaded", "han-telemetry replay"]),
        ExportOutcome::Failed,
        Some(3),
    );
}

#[test]
fn a_bad_request_is_not_retried() {
    each_protocol(
        &|p| Fault::Status(p.status(400)),
        5000,
        Some(&["cannot decode", "that data is lost"]),
        ExportOutcome::Rejected,
        Some(1),
    );
}

#[test]
fn a_partial_success_over_http_is_reported_once_and_not_retried() {
    for protocol in [Protocol::HttpProtobuf, Protocol::HttpJson] {
        let collector = FaultyCollector::start(Wire::Http, Fault::PartialSuccess);
        let scratch = Scratch::new("faults-partial");
        let ran = run_hook(&scratch, protocol, &collector.endpoint(), 5000);
        assert_host_unaffected(
            protocol.name(),
            &scratch,
            &ran,
            5000,
            Some(&[
                "metrics, logs and traces export to",
                "rejected 2",
                "2 items rejected by the test collector",
            ]),
            &is(ExportOutcome::Rejected),
        );
        for signal in SIGNALS {
            assert_eq!(collector.requests_for(signal), 1, "{}", protocol.name());
        }
    }
}

/// The OTLP crate reads a gRPC partial success but only logs it internally (it reaches no
/// stderr of ours): the promise kept over gRPC is no retry and an unchanged host.
#[test]
fn a_partial_success_over_grpc_is_not_retried() {
    let collector = FaultyCollector::start(Wire::Grpc, Fault::PartialSuccess);
    let scratch = Scratch::new("faults-partial-grpc");
    let ran = run_hook(&scratch, Protocol::Grpc, &collector.endpoint(), 5000);
    assert_host_unaffected(
        "grpc",
        &scratch,
        &ran,
        5000,
        None,
        &is(ExportOutcome::Delivered),
    );
    for signal in SIGNALS {
        assert_eq!(collector.requests_for(signal), 1);
    }
}

#[test]
fn a_connection_dropped_mid_request() {
    each_protocol(
        &|_| Fault::DropMidRequest,
        1000,
        Some(&["export to", "han-telemetry replay"]),
        ExportOutcome::Failed,
        None,
    );
}

#[test]
fn an_untrusted_certificate() {
    let pki = Pki::generate();
    for protocol in PROTOCOLS {
        let backend = FaultyCollector::start(protocol.wire(), Fault::Slow(Duration::ZERO));
        let proxy = TlsProxy::start(&pki, backend.port(), ClientAuth::None);
        let scratch = Scratch::new("faults-tls");
        let endpoint = format!("https://127.0.0.1:{}", proxy.port());
        let ran = run_hook(&scratch, protocol, &endpoint, 1000);
        assert_host_unaffected(
            protocol.name(),
            &scratch,
            &ran,
            1000,
            Some(&[
                "not issued by a CA this machine trusts",
                "OTEL_EXPORTER_OTLP_CERTIFICATE",
            ]),
            &is(ExportOutcome::Failed),
        );
        assert_eq!(
            backend.requests(),
            Default::default(),
            "{}",
            protocol.name()
        );
    }
}

#[test]
fn a_host_name_that_does_not_resolve() {
    for protocol in PROTOCOLS {
        let scratch = Scratch::new("faults-dns");
        // `.invalid` never resolves (RFC 2606); how fast the resolver says so depends on
        // the machine, so the export fails or is abandoned at the budget.
        let ran = run_hook(&scratch, protocol, "http://collector.invalid:4318", 500);
        assert_host_unaffected(
            protocol.name(),
            &scratch,
            &ran,
            500,
            Some(&["han-telemetry replay"]),
            &|o| o.is_resendable(),
        );
    }
}

/// A budget longer than the SDK's own shutdown waits (5 s): the SDK gives up on its own,
/// with no answer from the collector, and that must come out `abandoned` with the budget
/// line, never `delivered` (the data would be lost: replay goes by the receipt). The three
/// protocols run at once to keep the test at one budget.
#[test]
fn a_collector_that_never_answers_past_the_sdks_own_wait_is_abandoned_not_delivered() {
    const BUDGET_MS: u64 = 6000;
    let cases: Vec<_> = PROTOCOLS
        .into_iter()
        .map(|protocol| {
            std::thread::spawn(move || {
                let collector = FaultyCollector::start(protocol.wire(), Fault::Silent);
                let scratch = Scratch::new("faults-silent-long");
                let ran = run_hook(&scratch, protocol, &collector.endpoint(), BUDGET_MS);
                (protocol, scratch, ran, collector)
            })
        })
        .collect();
    for case in cases {
        let (protocol, scratch, ran, _collector) = case.join().expect("case thread");
        assert!(
            ran.1 >= Duration::from_millis(BUDGET_MS),
            "{}: the budget was not honoured: exit after {:?}",
            protocol.name(),
            ran.1
        );
        assert_host_unaffected(
            protocol.name(),
            &scratch,
            &ran,
            BUDGET_MS,
            Some(&[
                "gave up exporting metrics, logs and traces",
                "6000 ms exit budget",
                "han-telemetry replay",
            ]),
            &is(ExportOutcome::Abandoned),
        );
    }
}
