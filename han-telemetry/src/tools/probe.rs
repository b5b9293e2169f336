//! A real test export on every configured signal: does telemetry reach the collector?
//!
//! [`run`](crate::tools::probe::run) builds each signal's OTLP exporter exactly as [`init`](crate::init()) would (same
//! endpoint, protocol, headers, TLS files, compression and retries, through the same
//! transport code) and sends one small, clearly named datum with it:
//!
//! | signal | what is sent |
//! |---|---|
//! | metrics | a counter `han.doctor.probe` (unit `{probe}`) with the value 1 and no attributes, in the configured temporality |
//! | logs | one INFO log record whose event name and `event.name` attribute are `han.doctor.probe` |
//! | traces | one internal span `han.doctor.probe` in a new trace |
//!
//! Each carries the resource real telemetry carries (`service.name`, `service.version`,
//! `os.type`, `host.arch`, `OTEL_RESOURCE_ATTRIBUTES`), so a backend that files data by
//! service shows the probe where the hooks' data will be. A datum, not an empty request:
//! some collectors answer an empty request without looking at it, and a backend that rejects
//! the real encoding (a delta histogram, a missing attribute) must reject the probe too. The
//! name is not in the [catalogue](crate::catalogue), so dashboards built on it never count it.
//!
//! The probes run in parallel, one thread each. Each export's own timeout is the configured
//! one (`OTEL_EXPORTER_OTLP_TIMEOUT`) capped at the probe timeout, and [`run`](crate::tools::probe::run) returns after
//! the probe timeout (plus a moment for the transport to report its own timeout) whatever
//! happens: a probe still running then is reported as timed out and left to finish on its
//! own thread, which ends when its capped export timeout does.
//!
//! The `console` exporter is not probed: it writes to the process's stderr and cannot fail in
//! a way worth reporting, and printing a probe there would mix it into the caller's output.
//!
//! Nothing is printed: failures come back as [`Outcome::Failed`](crate::tools::probe::Outcome::Failed) with the likely cause and
//! fix, and header values and endpoint credentials never appear in them.
//!
//! When a probe to a plaintext (`http://`) endpoint fails without saying why (the server
//! closed the connection, or an error han-telemetry does not recognise), one more connection
//! asks the port which protocol it speaks: gRPC's HTTP/2 connection preface for a gRPC probe,
//! an HTTP/1.1 `GET /` for an OTLP/HTTP one. Nothing else is sent. An HTTP/1 answer to the
//! preface, or HTTP/2 frames in answer to the request, is the protocol mismatch, and is
//! added to the error; with the port 4318 (4317) the cause then says so, and how to fix it.

use std::io::{Read as _, Write as _};
use std::net::{TcpStream, ToSocketAddrs as _};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::{SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceState};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::logs::{LogBatch, LogExporter as _, SdkLoggerProvider};
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider, Temporality};
use opentelemetry_sdk::trace::{
    IdGenerator as _, RandomIdGenerator, SpanData, SpanEvents, SpanExporter as _, SpanLinks,
};

use crate::config::{Config, Exporter, OtlpConfig, Protocol, Signal};
use crate::export::causes;
use crate::export::{self, FirstExport, Io, ProbeExporter, block_on};
use crate::mask::mask_url;

/// The name of the metric, log event and span a probe sends.
pub const PROBE_NAME: &str = "han.doctor.probe";

/// A probe timeout that suits an interactive check: long enough for a distant collector,
/// short enough that a dead one is reported quickly.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long past the timeout [`run`] waits for a transport to report its own timeout, whose
/// message is more precise than "no answer".
const GRACE: Duration = Duration::from_millis(500);

/// The result of probing one exporter of one signal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeResult {
    /// The signal probed.
    pub signal: Signal,
    /// The exporter probed.
    pub exporter: Exporter,
    /// Where the probe went, with any `user:password@` masked; `stderr` for the console.
    pub endpoint: String,
    /// The OTLP protocol; `None` for the console.
    pub protocol: Option<Protocol>,
    /// What happened.
    pub outcome: Outcome,
}

/// What happened to one probe.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The collector accepted the export.
    Delivered {
        /// How long the export took, from the request to the collector's answer.
        elapsed: Duration,
    },
    /// The exporter could not be built, the export failed, or no answer came in time.
    Failed {
        /// How long the attempt took.
        elapsed: Duration,
        /// The error, as the transport reported it (secrets removed).
        error: String,
        /// The likely cause, in the operator's terms.
        cause: String,
        /// What to check or change.
        fix: String,
    },
    /// Not probed (the console exporter), and why.
    NotProbed {
        /// Why this exporter was not probed.
        reason: String,
    },
}

impl Outcome {
    /// Whether the probe reached the collector.
    pub fn is_delivered(&self) -> bool {
        matches!(self, Self::Delivered { .. })
    }

    /// Whether the probe failed.
    pub fn is_failed(&self) -> bool {
        matches!(self, Self::Failed { .. })
    }
}

/// Sends one test export per configured exporter of every signal, in parallel, and returns
/// one result per exporter in signal order (metrics, logs, traces), within about `timeout`.
///
/// Signals whose exporter list is empty (`none`) get no result. Whether telemetry is enabled
/// is not consulted: the probe shows what would happen with it on.
pub fn run(config: &Config, timeout: Duration) -> Vec<ProbeResult> {
    let started = Instant::now();
    let temporality = export::sdk_temporality(config.temporality);
    let resource = crate::pipeline::resource::build(config, env!("CARGO_PKG_VERSION"));
    let (tx, rx) = mpsc::channel::<(usize, Outcome)>();
    let mut results = Vec::new();
    let mut pending = Vec::new();

    for signal in Signal::ALL {
        let cfg = config.signal(signal);
        for exporter in &cfg.exporters {
            let index = results.len();
            match exporter {
                Exporter::Console => results.push(ProbeResult {
                    signal,
                    exporter: *exporter,
                    endpoint: "stderr".to_owned(),
                    protocol: None,
                    outcome: Outcome::NotProbed {
                        reason: "the console exporter writes to the process's stderr; there is \
                                 nothing to reach"
                            .to_owned(),
                    },
                }),
                Exporter::Otlp => {
                    let mut otlp = cfg.otlp.clone();
                    otlp.timeout = otlp.timeout.min(timeout);
                    results.push(ProbeResult {
                        signal,
                        exporter: *exporter,
                        endpoint: mask_url(&otlp.endpoint),
                        protocol: Some(otlp.protocol),
                        outcome: unanswered(timeout),
                    });
                    let tx = tx.clone();
                    let resource = resource.clone();
                    let deadline = started + timeout;
                    let spawned = thread::Builder::new()
                        .name(format!("han-telemetry-probe-{}", signal.name()))
                        .spawn(move || {
                            let outcome =
                                probe_otlp(signal, &otlp, temporality, resource, deadline);
                            let _ = tx.send((index, outcome));
                        });
                    match spawned {
                        Ok(_) => pending.push(index),
                        Err(e) => {
                            results[index].outcome = Outcome::Failed {
                                elapsed: Duration::ZERO,
                                error: format!("cannot start a thread for the probe: {e}"),
                                cause: "the system refused a new thread".to_owned(),
                                fix: "retry; check the process limits".to_owned(),
                            };
                        }
                    }
                }
            }
        }
    }
    drop(tx);

    let deadline = started + timeout + GRACE;
    while !pending.is_empty() {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok((index, outcome)) => {
                pending.retain(|p| *p != index);
                if let Some(result) = results.get_mut(index) {
                    result.outcome = outcome;
                }
            }
            // Timed out, or every probe thread is gone: what is pending stays unanswered.
            Err(_) => break,
        }
    }
    results
}

/// The outcome of a probe that did not answer within `timeout`.
fn unanswered(timeout: Duration) -> Outcome {
    Outcome::Failed {
        elapsed: timeout,
        error: format!("no answer within {} ms", timeout.as_millis()),
        cause: "the collector did not answer in time".to_owned(),
        fix: "check that the endpoint is reachable from here (a firewall that drops packets \
              looks like this), or allow more time (--timeout, OTEL_EXPORTER_OTLP_TIMEOUT)"
            .to_owned(),
    }
}

fn probe_otlp(
    signal: Signal,
    otlp: &OtlpConfig,
    temporality: Temporality,
    resource: Resource,
    deadline: Instant,
) -> Outcome {
    let started = Instant::now();
    let mut io = Io::default();
    let outcome = match export::probe_target(signal, otlp, temporality, &mut io) {
        Err(error) => {
            let (cause, fix) = causes::setup_cause(&error);
            Outcome::Failed {
                elapsed: started.elapsed(),
                error: otlp.scrub(&error),
                cause: cause.to_owned(),
                fix: fix.to_owned(),
            }
        }
        Ok(target) => {
            let sent = Instant::now();
            let result = match target.exporter {
                ProbeExporter::Metrics(e) => send_metric(e, resource),
                ProbeExporter::Logs(e) => send_log(e, &resource),
                ProbeExporter::Traces(e) => send_span(e, &resource),
            };
            let elapsed = sent.elapsed();
            match result {
                Ok(()) => Outcome::Delivered { elapsed },
                Err(error) => {
                    let detail = target
                        .detail
                        .as_ref()
                        .and_then(|slot| slot.lock().ok().and_then(|d| d.clone()));
                    let to = causes::Destination::new(otlp.protocol, &otlp.endpoint);
                    let mut explained =
                        causes::classify_export_error(&error, detail.as_deref(), Some(to));
                    if explained.protocol_unclear() {
                        let left = deadline.saturating_duration_since(Instant::now());
                        if let Some(finding) = what_the_port_speaks(otlp, left.min(SNIFF_TIMEOUT)) {
                            let text = format!("{}; {finding}", explained.text);
                            explained = causes::classify_export_error(&text, None, Some(to));
                        }
                    }
                    Outcome::Failed {
                        elapsed,
                        error: otlp.scrub(&explained.text),
                        cause: explained.cause.to_owned(),
                        fix: explained.fix.to_owned(),
                    }
                }
            }
        }
    };
    io.shutdown();
    outcome
}

/// The longest [`what_the_port_speaks`] waits to connect, and then for an answer.
const SNIFF_TIMEOUT: Duration = Duration::from_secs(1);

/// gRPC's HTTP/2 client connection preface, then an empty SETTINGS frame (RFC 9113, 3.4).
const HTTP2_PREFACE: &[u8] =
    b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00";

/// Asks a plaintext endpoint's port which protocol it speaks, when that is the other
/// protocol than `otlp`'s: returns [`causes::ANSWERS_HTTP1`] when a gRPC endpoint answers
/// the HTTP/2 preface in HTTP/1, [`causes::ANSWERS_HTTP2_ONLY`] when an OTLP/HTTP
/// endpoint answers an HTTP/1.1 request with HTTP/2 frames, `None` otherwise (the port speaks
/// the configured protocol, does not answer within `timeout`, or the endpoint uses TLS).
fn what_the_port_speaks(otlp: &OtlpConfig, timeout: Duration) -> Option<&'static str> {
    if timeout.is_zero() {
        return None;
    }
    let uri: http::Uri = otlp.endpoint.trim().parse().ok()?;
    if !uri
        .scheme_str()
        .is_some_and(|s| s.eq_ignore_ascii_case("http"))
    {
        return None;
    }
    let host = uri.host()?;
    let port = uri.port_u16().unwrap_or(80);
    let host_port = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let started = Instant::now();
    let mut stream = host_port
        .to_socket_addrs()
        .ok()?
        .find_map(|addr| TcpStream::connect_timeout(&addr, timeout).ok())?;
    let left = timeout.saturating_sub(started.elapsed());
    if left.is_zero() {
        return None;
    }
    stream.set_read_timeout(Some(left)).ok()?;
    stream.set_write_timeout(Some(left)).ok()?;
    let grpc = !otlp.protocol.is_http();
    let opening = if grpc {
        HTTP2_PREFACE.to_vec()
    } else {
        format!("GET / HTTP/1.1\r\nHost: {host_port}\r\nConnection: close\r\n\r\n").into_bytes()
    };
    // A server may close as soon as it has read enough to reject the opening: what it
    // answered before that is still there to read.
    let _ = stream.write_all(&opening);
    // Enough to tell: `HTTP/1.`, or an HTTP/2 frame header.
    let mut answer = [0u8; 9];
    let mut read = 0;
    while read < answer.len() {
        match stream.read(&mut answer[read..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => read += n,
        }
    }
    let answer = &answer[..read];
    if grpc {
        answer
            .starts_with(b"HTTP/1.")
            .then_some(causes::ANSWERS_HTTP1)
    } else {
        is_http2_frame(answer).then_some(causes::ANSWERS_HTTP2_ONLY)
    }
}

/// Whether `bytes` begin with an HTTP/2 SETTINGS or GOAWAY frame header: the first frames a
/// server sends on a connection (RFC 9113, 4.1: 24-bit length, type, flags, stream 0).
fn is_http2_frame(bytes: &[u8]) -> bool {
    let [_, _, _, kind, _, s0, s1, s2, s3, ..] = *bytes else {
        return false;
    };
    matches!(kind, 0x4 | 0x7) && [s0 & 0x7f, s1, s2, s3] == [0, 0, 0, 0]
}

fn send_metric(
    exporter: opentelemetry_otlp::MetricExporter,
    resource: Resource,
) -> Result<(), String> {
    let (tx, rx) = mpsc::channel();
    let reader = PeriodicReader::builder(FirstExport::new(exporter, tx))
        // Only the flush below exports.
        .with_interval(Duration::from_secs(86_400))
        .build();
    let provider = SdkMeterProvider::builder()
        .with_resource(resource)
        .with_reader(reader)
        .build();
    provider
        .meter_with_scope(crate::pipeline::scope())
        .u64_counter(PROBE_NAME)
        .with_unit("{probe}")
        .with_description("One test export by `han-telemetry doctor`.")
        .build()
        .add(1, &[]);
    let flushed = provider.force_flush();
    // The reader's thread sends the exporter's own result before the flush returns.
    let result = rx.try_recv().unwrap_or_else(|_| {
        Err(match flushed {
            Err(e) => format!("the probe metric was not exported: {e}"),
            Ok(()) => "the probe metric was not exported".to_owned(),
        })
    });
    drop(provider);
    result
}

fn send_log(
    mut exporter: opentelemetry_otlp::LogExporter,
    resource: &Resource,
) -> Result<(), String> {
    exporter.set_resource(resource);
    let scope = crate::pipeline::scope();
    // A provider without processors only hands out the record type; nothing is emitted.
    let provider = SdkLoggerProvider::builder().build();
    let mut record = provider
        .logger_with_scope(scope.clone())
        .create_log_record();
    let now = SystemTime::now();
    record.set_event_name(PROBE_NAME);
    record.set_timestamp(now);
    record.set_observed_timestamp(now);
    record.set_severity_number(Severity::Info);
    record.set_severity_text("INFO");
    record.set_body(AnyValue::from("han-telemetry doctor: test export"));
    record.add_attribute("event.name", PROBE_NAME);
    let data = [(&record, &scope)];
    let result = block_on(exporter.export(LogBatch::new(&data)));
    let _ = exporter.shutdown();
    result.map_err(|e| e.to_string())
}

fn send_span(
    mut exporter: opentelemetry_otlp::SpanExporter,
    resource: &Resource,
) -> Result<(), String> {
    exporter.set_resource(resource);
    let ids = RandomIdGenerator::default();
    let now = SystemTime::now();
    let span = SpanData {
        span_context: SpanContext::new(
            ids.new_trace_id(),
            ids.new_span_id(),
            TraceFlags::SAMPLED,
            false,
            TraceState::default(),
        ),
        parent_span_id: SpanId::INVALID,
        parent_span_is_remote: false,
        span_kind: SpanKind::Internal,
        name: PROBE_NAME.into(),
        start_time: now,
        end_time: now,
        attributes: Vec::new(),
        dropped_attributes_count: 0,
        events: SpanEvents::default(),
        links: SpanLinks::default(),
        status: Status::Ok,
        instrumentation_scope: crate::pipeline::scope(),
    };
    let result = block_on(exporter.export(vec![span]));
    let _ = exporter.shutdown();
    result.map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use std::io::{Read as _, Write as _};
    use std::net::TcpListener;

    use super::*;
    use crate::config::{Source, Sources};

    fn config(vars: &[(&str, &str)]) -> Config {
        Config::from_sources(&Sources::new().with_layer(Source::ProcessEnv, vars.iter().copied()))
    }

    /// A loopback port with nothing listening (bound, then released).
    fn refused_endpoint() -> String {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        drop(listener);
        format!("http://127.0.0.1:{port}")
    }

    #[test]
    fn one_result_per_exporter_in_signal_order() {
        let c = config(&[
            ("OTEL_METRICS_EXPORTER", "console"),
            ("OTEL_LOGS_EXPORTER", "none"),
            ("OTEL_TRACES_EXPORTER", "console"),
        ]);
        let results = run(&c, Duration::from_secs(1));
        let shape: Vec<_> = results.iter().map(|r| (r.signal, r.exporter)).collect();
        assert_eq!(
            shape,
            vec![
                (Signal::Metrics, Exporter::Console),
                (Signal::Traces, Exporter::Console)
            ]
        );
        assert!(
            results
                .iter()
                .all(|r| matches!(r.outcome, Outcome::NotProbed { .. }))
        );
    }

    #[test]
    fn refused_connections_fail_fast_with_the_cause() {
        for protocol in ["grpc", "http/protobuf", "http/json"] {
            let endpoint = refused_endpoint();
            let c = config(&[
                ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
                ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
                ("OTEL_TRACES_EXPORTER", "otlp"),
            ]);
            let started = Instant::now();
            let results = run(&c, Duration::from_secs(5));
            assert!(started.elapsed() < Duration::from_secs(3), "{protocol}");
            assert_eq!(results.len(), 3);
            for r in &results {
                let Outcome::Failed { cause, error, .. } = &r.outcome else {
                    panic!("{protocol}: {r:?}");
                };
                assert!(
                    cause.contains("nothing accepts connections"),
                    "{protocol}: {r:?}"
                );
                assert!(!error.is_empty());
            }
        }
    }

    #[test]
    fn a_silent_server_is_reported_within_the_timeout() {
        // Accepts connections (the backlog does) and never answers.
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
        let c = config(&[
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_LOGS_EXPORTER", "none"),
        ]);
        let started = Instant::now();
        let results = run(&c, Duration::from_millis(300));
        assert!(started.elapsed() < Duration::from_secs(2));
        let Outcome::Failed { cause, .. } = &results[0].outcome else {
            panic!("{results:?}");
        };
        assert!(cause.contains("in time"), "{cause}");
    }

    #[test]
    fn secrets_are_scrubbed_from_errors() {
        let c = config(&[
            (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                "http://user:pw-s3cret@127.0.0.1:1",
            ),
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                "authorization=Bearer%20tok-s3cret",
            ),
        ]);
        let otlp = &c.metrics.otlp;
        let scrubbed = otlp.scrub("GET http://user:pw-s3cret@127.0.0.1:1 said Bearer tok-s3cret");
        assert!(!scrubbed.contains("s3cret"), "{scrubbed}");
        let results = run(&c, Duration::from_secs(2));
        let shown = format!("{results:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
    }

    #[test]
    fn an_unreadable_ca_file_is_a_setup_failure() {
        let c = config(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "https://127.0.0.1:1"),
            ("OTEL_EXPORTER_OTLP_CERTIFICATE", "/nonexistent/ca.pem"),
            ("OTEL_LOGS_EXPORTER", "none"),
        ]);
        let results = run(&c, Duration::from_secs(2));
        let Outcome::Failed {
            error, cause, fix, ..
        } = &results[0].outcome
        else {
            panic!("{results:?}");
        };
        assert!(error.contains("/nonexistent/ca.pem"), "{error}");
        assert!(cause.contains("cannot be read"), "{cause}");
        assert!(fix.contains("OTEL_EXPORTER_OTLP_CERTIFICATE"), "{fix}");
    }

    /// A loopback server answering each connection with `answer`, after reading what the
    /// client sent first when `read_first` (an HTTP/1 server), or before (an HTTP/2 server
    /// sends its SETTINGS as soon as the connection opens).
    fn server(read_first: bool, answer: &'static [u8]) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
        thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                let mut buf = [0u8; 4096];
                if read_first {
                    let _ = stream.read(&mut buf);
                }
                let _ = stream.write_all(answer);
                if !read_first {
                    let _ = stream.read(&mut buf);
                }
            }
        });
        endpoint
    }

    const HTTP1_ANSWER: &[u8] = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
    const HTTP2_SETTINGS: &[u8] = &[0, 0, 0, 4, 0, 0, 0, 0, 0];

    fn otlp(protocol: &str, endpoint: &str) -> OtlpConfig {
        config(&[
            ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        ])
        .metrics
        .otlp
    }

    #[test]
    fn a_grpc_probe_learns_that_the_port_answers_http1() {
        let http1 = server(true, HTTP1_ANSWER);
        let found = what_the_port_speaks(&otlp("grpc", &http1), SNIFF_TIMEOUT);
        assert_eq!(found, Some(causes::ANSWERS_HTTP1));
        // A gRPC port speaks HTTP/2: nothing to report.
        let grpc = server(false, HTTP2_SETTINGS);
        assert_eq!(
            what_the_port_speaks(&otlp("grpc", &grpc), SNIFF_TIMEOUT),
            None
        );
    }

    #[test]
    fn an_http_probe_learns_that_the_port_answers_http2_only() {
        let grpc = server(false, HTTP2_SETTINGS);
        for protocol in ["http/protobuf", "http/json"] {
            let found = what_the_port_speaks(&otlp(protocol, &grpc), SNIFF_TIMEOUT);
            assert_eq!(found, Some(causes::ANSWERS_HTTP2_ONLY), "{protocol}");
        }
        let http1 = server(true, HTTP1_ANSWER);
        let found = what_the_port_speaks(&otlp("http/protobuf", &http1), SNIFF_TIMEOUT);
        assert_eq!(found, None);
    }

    #[test]
    fn tls_endpoints_and_no_time_left_ask_nothing() {
        let http1 = server(true, HTTP1_ANSWER);
        let https = http1.replacen("http://", "https://", 1);
        assert_eq!(
            what_the_port_speaks(&otlp("grpc", &https), SNIFF_TIMEOUT),
            None
        );
        assert_eq!(
            what_the_port_speaks(&otlp("grpc", &http1), Duration::ZERO),
            None
        );
    }

    #[test]
    fn http2_frames_are_told_from_http1_answers() {
        assert!(is_http2_frame(HTTP2_SETTINGS));
        // GOAWAY on stream 0, with a payload length.
        assert!(is_http2_frame(&[0, 0, 8, 7, 0, 0, 0, 0, 0, 0]));
        assert!(!is_http2_frame(HTTP1_ANSWER));
        // A frame on a stream is not how a server opens a connection.
        assert!(!is_http2_frame(&[0, 0, 0, 4, 0, 0, 0, 0, 1]));
        assert!(!is_http2_frame(&[0, 0, 0, 4]));
        assert!(!is_http2_frame(&[]));
    }
}
