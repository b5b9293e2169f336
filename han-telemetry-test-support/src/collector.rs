//! A real, independent OTLP collector ([rotel]) for integration tests, read back as typed
//! values.
//!
//! [`Collector::start`] runs `rotel-agent` on free loopback ports (OTLP/gRPC and OTLP/HTTP,
//! the endpoints tests export to) with its OTLP exporter pointed at an [`OtlpReceiver`] of
//! ours: everything rotel accepts it forwards there as OTLP/HTTP protobuf, one request per
//! request it got (`--disable-batching`), which the receiver decodes with
//! `opentelemetry-proto` into [`Received`] ([`Collector::metrics`], [`Collector::logs`],
//! [`Collector::spans`], [`Collector::resources`], [`Collector::wait_for_metric`], ...).
//!
//! What rotel (0.0.1a15) does to what it forwards: its http/json receiver drops 64-bit
//! integers sent as strings (which OTLP/JSON requires), so a sum point arrives without a
//! value and a histogram without data ([`MetricKind::Empty`](crate::otlp::MetricKind)); it
//! gzips its exports whatever `--otlp-exporter-compression` says (the receiver gunzips).
//!
//! [rotel]: https://github.com/streamfold/rotel

use std::env;
use std::fmt::Write as _;
use std::io::{ErrorKind, Read};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::otlp::{Attributes, Received, ReceivedLog, ReceivedMetric, ReceivedSpan};
use crate::receiver::OtlpReceiver;

/// Environment variable naming the `rotel-agent` binary to run.
pub const ROTEL_AGENT_ENV: &str = "ROTEL_AGENT";
/// Where `scripts/install-rotel` puts the binary, relative to the workspace root (or to
/// `$CARGO_TARGET_DIR/..`, see [`find_rotel_agent`]).
pub const ROTEL_AGENT_TOOL_PATH: &str = "target/tools/rotel/bin/rotel-agent";
/// rotel prints this on stdout once both OTLP listeners are bound.
const READY_MARKER: &str = "Starting Rotel.";
const START_TIMEOUT: Duration = Duration::from_secs(30);
const START_ATTEMPTS: usize = 5;
const POLL_INTERVAL: Duration = Duration::from_millis(20);
/// How often a wait looks at whether rotel is still running.
const LIVENESS_INTERVAL: Duration = Duration::from_millis(250);

/// A running rotel collector and the receiver it forwards to. Killed on drop.
pub struct Collector {
    child: Mutex<Child>,
    binary: PathBuf,
    grpc_port: u16,
    http_port: u16,
    receiver: OtlpReceiver,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<()>>,
    /// rotel's pid and log files.
    _work_dir: tempfile::TempDir,
    /// Set once a panic message of ours already carried the output.
    output_reported: AtomicBool,
}

impl std::fmt::Debug for Collector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Collector")
            .field("grpc_port", &self.grpc_port)
            .field("http_port", &self.http_port)
            .field("receiver", &self.receiver)
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
enum StartError {
    /// rotel could not bind one of the ports (someone took it after we picked it).
    PortInUse(String),
}

impl Collector {
    /// Starts rotel on free loopback ports and waits until it listens on both.
    ///
    /// The binary is found by [`find_rotel_agent`]; panics with install instructions if
    /// it is missing.
    pub fn start() -> Collector {
        Self::start_with_args(&[])
    }

    /// Like [`Collector::start`], with extra arguments appended to `rotel-agent start`
    /// (e.g. `["--otel-resource-attributes", "k=v"]`).
    pub fn start_with_args(extra_args: &[&str]) -> Collector {
        let binary = find_rotel_agent();
        let mut failures = Vec::new();
        for _ in 0..START_ATTEMPTS {
            let (grpc_port, http_port) = pick_two_free_ports();
            match Self::start_on(&binary, grpc_port, http_port, extra_args) {
                Ok(collector) => return collector,
                Err(StartError::PortInUse(detail)) => failures.push(detail),
            }
        }
        panic!(
            "rotel ({}) could not bind its ports in {START_ATTEMPTS} attempts:\n{}",
            binary.display(),
            failures.join("\n")
        );
    }

    fn start_on(
        binary: &Path,
        grpc_port: u16,
        http_port: u16,
        extra_args: &[&str],
    ) -> Result<Collector, StartError> {
        let work_dir = tempfile::Builder::new()
            .prefix("rotel-harness-")
            .tempdir()
            .expect("a scratch directory for rotel");
        let receiver = OtlpReceiver::start();
        let mut cmd = Command::new(binary);
        cmd.args(["start", "--disable-batching"])
            .args(["--exporter", "otlp", "--otlp-exporter-protocol", "http"])
            .arg("--otlp-exporter-endpoint")
            .arg(receiver.endpoint())
            .arg("--otlp-grpc-endpoint")
            .arg(format!("127.0.0.1:{grpc_port}"))
            .arg("--otlp-http-endpoint")
            .arg(format!("127.0.0.1:{http_port}"))
            .arg("--pid-file")
            .arg(work_dir.path().join("rotel.pid"))
            .arg("--log-file")
            .arg(work_dir.path().join("rotel.log"))
            .args(extra_args);
        // rotel reads its whole configuration from ROTEL_* variables too: keep the
        // developer's environment out. RUST_LOG would add debug lines to stdout.
        for (key, _) in env::vars_os() {
            if key.to_string_lossy().starts_with("ROTEL_") {
                cmd.env_remove(&key);
            }
        }
        cmd.env_remove("RUST_LOG")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap_or_else(|e| {
            panic!(
                "cannot run rotel-agent at {}: {e}\n{}",
                binary.display(),
                install_hint()
            )
        });

        let stdout = Arc::new(Mutex::new(String::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut readers = Vec::new();
        if let Some(out) = child.stdout.take() {
            readers.push(spawn_reader("stdout", out, Arc::clone(&stdout)));
        }
        if let Some(err) = child.stderr.take() {
            readers.push(spawn_reader("stderr", err, Arc::clone(&stderr)));
        }
        // From here on, Drop kills the process and cleans up, also when we panic.
        let collector = Collector {
            child: Mutex::new(child),
            binary: binary.to_path_buf(),
            grpc_port,
            http_port,
            receiver,
            stdout,
            stderr,
            readers,
            _work_dir: work_dir,
            output_reported: AtomicBool::new(false),
        };
        collector.wait_until_listening()?;
        Ok(collector)
    }

    fn wait_until_listening(&self) -> Result<(), StartError> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = self.exit_status() {
                // Let the reader threads drain what was printed before the exit.
                self.wait_for_readers(Duration::from_secs(2));
                let stderr = self.stderr();
                if stderr.contains("Address already in use") || stderr.contains("unable to bind") {
                    return Err(StartError::PortInUse(format!(
                        "ports {}/{}: {status}: {}",
                        self.grpc_port,
                        self.http_port,
                        stderr.trim()
                    )));
                }
                self.fail(&format!("rotel exited during startup ({status})"));
            }
            // The marker is printed after both listeners are bound, so a successful
            // connect below reaches rotel and not whoever else might hold the port.
            if lock(&self.stdout).contains(READY_MARKER)
                && can_connect(self.grpc_port)
                && can_connect(self.http_port)
            {
                return Ok(());
            }
            if Instant::now() >= deadline {
                self.fail(&format!(
                    "rotel did not start listening within {START_TIMEOUT:?} \
                     (waiting for {READY_MARKER:?} and connects to ports {} and {})",
                    self.grpc_port, self.http_port
                ));
            }
            thread::sleep(POLL_INTERVAL);
        }
    }

    /// OTLP/gRPC endpoint, `http://127.0.0.1:PORT`.
    pub fn grpc_endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.grpc_port)
    }

    /// OTLP/HTTP endpoint (http/protobuf and http/json), `http://127.0.0.1:PORT`; the
    /// signal paths are the standard `/v1/metrics`, `/v1/logs`, `/v1/traces`.
    pub fn http_endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.http_port)
    }

    /// Process id of `rotel-agent`.
    pub fn pid(&self) -> u32 {
        lock(&self.child).id()
    }

    pub fn grpc_port(&self) -> u16 {
        self.grpc_port
    }

    pub fn http_port(&self) -> u16 {
        self.http_port
    }

    /// Everything rotel forwarded so far, as text ([`OtlpReceiver::text`]: every request's
    /// decoded OTLP message in full), then rotel's own stdout.
    pub fn output(&self) -> String {
        format!(
            "{}----- rotel stdout -----\n{}",
            self.receiver.text(),
            lock(&self.stdout)
        )
    }

    /// Everything rotel printed on stderr so far.
    pub fn stderr(&self) -> String {
        lock(&self.stderr).clone()
    }

    /// Waits until `f` returns `Some` for what was received, and returns that. Panics with
    /// `what` and everything received after `timeout`, or soon after rotel exited.
    pub fn wait_for_received<T>(
        &self,
        what: &str,
        timeout: Duration,
        f: impl Fn(&Received) -> Option<T>,
    ) -> T {
        let deadline = Instant::now() + timeout;
        loop {
            let slice = deadline
                .saturating_duration_since(Instant::now())
                .min(LIVENESS_INTERVAL);
            if let Some(found) = self.receiver.wait_for(slice, &f) {
                return found;
            }
            if let Some(status) = self.exit_status() {
                self.fail(&format!("rotel exited ({status}) while waiting for {what}"));
            }
            if Instant::now() >= deadline {
                self.fail(&format!("timed out after {timeout:?} waiting for {what}"));
            }
        }
    }

    /// Waits for a metric called `name` and returns the last one received (with
    /// cumulative temporality every export repeats the metric).
    pub fn wait_for_metric(&self, name: &str, timeout: Duration) -> ReceivedMetric {
        self.wait_for_received(&format!("metric {name:?}"), timeout, |r| {
            r.metrics.iter().rev().find(|m| m.name == name).cloned()
        })
    }

    /// Waits for a log record whose event name or string body is `needle`; returns the last
    /// such record.
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) -> ReceivedLog {
        self.wait_for_received(&format!("log record {needle:?}"), timeout, |r| {
            r.logs
                .iter()
                .rev()
                .find(|l| l.event_name.as_deref() == Some(needle) || l.body_text() == needle)
                .cloned()
        })
    }

    /// Waits for a span called `name` and returns the last one received.
    pub fn wait_for_span(&self, name: &str, timeout: Duration) -> ReceivedSpan {
        self.wait_for_received(&format!("span {name:?}"), timeout, |r| {
            r.spans.iter().rev().find(|s| s.name == name).cloned()
        })
    }

    /// Everything received so far.
    pub fn received(&self) -> Received {
        self.receiver.received()
    }

    /// All metrics received so far, in arrival order.
    pub fn metrics(&self) -> Vec<ReceivedMetric> {
        self.received().metrics
    }

    /// All log records received so far, in arrival order.
    pub fn logs(&self) -> Vec<ReceivedLog> {
        self.received().logs
    }

    /// All spans received so far, in arrival order.
    pub fn spans(&self) -> Vec<ReceivedSpan> {
        self.received().spans
    }

    /// The attributes of every resource block received so far (usually repeated).
    pub fn resources(&self) -> Vec<Attributes> {
        self.received().resources
    }

    fn exit_status(&self) -> Option<ExitStatus> {
        lock(&self.child).try_wait().ok().flatten()
    }

    fn fail(&self, message: &str) -> ! {
        self.output_reported.store(true, Ordering::SeqCst);
        panic!("{message}\n{}", self.describe(None));
    }

    /// Binary, ports, what was received and rotel's output, for failure messages; `limit`
    /// keeps only the last that many bytes of what was received.
    fn describe(&self, limit: Option<usize>) -> String {
        let output = self.output();
        let shown = match limit {
            Some(limit) if output.len() > limit => {
                let mut start = output.len() - limit;
                while !output.is_char_boundary(start) {
                    start += 1;
                }
                format!("[... {start} bytes omitted ...]\n{}", &output[start..])
            }
            _ => output,
        };
        let mut text = String::new();
        let _ = writeln!(
            text,
            "rotel: {} (grpc 127.0.0.1:{}, http 127.0.0.1:{}, forwarding to {})",
            self.binary.display(),
            self.grpc_port,
            self.http_port,
            self.receiver.endpoint()
        );
        let _ = writeln!(text, "----- received -----\n{shown}");
        let _ = write!(text, "----- rotel stderr -----\n{}", self.stderr());
        text
    }

    fn wait_for_readers(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while self.readers.iter().any(|r| !r.is_finished()) && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        {
            let mut child = lock(&self.child);
            let _ = child.kill();
            let _ = child.wait();
        }
        self.wait_for_readers(Duration::from_secs(2));
        for reader in std::mem::take(&mut self.readers) {
            if reader.is_finished() {
                let _ = reader.join();
            }
        }
        if thread::panicking() && !self.output_reported.load(Ordering::SeqCst) {
            eprintln!(
                "collector dropped during a panic; what it received:\n{}",
                self.describe(Some(64 * 1024))
            );
        }
    }
}

/// Finds `rotel-agent`: `$ROTEL_AGENT`; else `target/tools/rotel/bin/rotel-agent` under
/// `$CARGO_TARGET_DIR/..`, under this crate's directory or any of its ancestors (the
/// workspace root), or under the current directory or its ancestors; else `rotel-agent`
/// on `PATH`. Panics with install instructions if none exists.
pub fn find_rotel_agent() -> PathBuf {
    if let Some(path) = env::var_os(ROTEL_AGENT_ENV).filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        if path.is_file() {
            return path;
        }
        panic!(
            "{ROTEL_AGENT_ENV}={} is not a file.\n{}",
            path.display(),
            install_hint()
        );
    }
    let candidates = rotel_agent_candidates();
    if let Some(found) = candidates.iter().find(|p| p.is_file()) {
        return found.clone();
    }
    if let Some(path) = env::var_os("PATH")
        && let Some(found) = env::split_paths(&path)
            .map(|dir| dir.join("rotel-agent"))
            .find(|p| p.is_file())
    {
        return found;
    }
    let looked: Vec<String> = candidates
        .iter()
        .map(|p| format!("  {}", p.display()))
        .collect();
    panic!(
        "rotel-agent not found. Looked in:\n{}\n  rotel-agent on PATH\n{}",
        looked.join("\n"),
        install_hint()
    );
}

fn rotel_agent_candidates() -> Vec<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(target) = env::var_os("CARGO_TARGET_DIR") {
        let target = PathBuf::from(target);
        candidates.push(target.join("tools/rotel/bin/rotel-agent"));
    }
    let mut roots = vec![PathBuf::from(env!("CARGO_MANIFEST_DIR"))];
    if let Ok(cwd) = env::current_dir() {
        roots.push(cwd);
    }
    for root in roots {
        for dir in root.ancestors() {
            let candidate = dir.join(ROTEL_AGENT_TOOL_PATH);
            if !candidates.contains(&candidate) {
                candidates.push(candidate);
            }
        }
    }
    candidates
}

fn install_hint() -> String {
    format!(
        "Install rotel with `scripts/install-rotel` (puts it in <workspace>/{ROTEL_AGENT_TOOL_PATH}), \
         or set {ROTEL_AGENT_ENV}=/path/to/rotel-agent \
         (e.g. from `pip install rotel==0.0.1a15`: <venv>/lib/python3.*/site-packages/rotel/rotel-agent)."
    )
}

/// Two distinct free loopback ports. Both listeners are held at once so they differ;
/// they are released before rotel binds, so another process may still grab one in
/// between: the caller retries when rotel fails to bind.
fn pick_two_free_ports() -> (u16, u16) {
    let bind =
        || TcpListener::bind("127.0.0.1:0").expect("cannot bind 127.0.0.1:0 to pick a free port");
    let (a, b) = (bind(), bind());
    let port = |l: &TcpListener| {
        l.local_addr()
            .expect("local_addr of a bound listener")
            .port()
    };
    (port(&a), port(&b))
}

fn can_connect(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    TcpStream::connect_timeout(&addr, Duration::from_millis(250)).is_ok()
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Copies `src` into `sink` as it comes, a read() chunk at a time.
fn spawn_reader(
    name: &str,
    mut src: impl Read + Send + 'static,
    sink: Arc<Mutex<String>>,
) -> JoinHandle<()> {
    thread::Builder::new()
        .name(format!("rotel-{name}"))
        .spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                match src.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => lock(&sink).push_str(&String::from_utf8_lossy(&buf[..n])),
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
        })
        .expect("cannot spawn a thread to read rotel's output")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otlp::{MetricKind, Number, SpanKind, StatusCode, Temporality, Value};
    use crate::test_client::post;
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
    use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
    use opentelemetry_proto::tonic::metrics::v1::{
        self as metrics, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, metric,
        number_data_point,
    };
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use opentelemetry_proto::tonic::trace::v1::{
        ResourceSpans, ScopeSpans, Span, Status, span, status,
    };
    use prost::Message as _;

    const WAIT: Duration = Duration::from_secs(20);

    fn kv(key: &str, value: any_value::Value) -> KeyValue {
        KeyValue {
            key: key.to_owned(),
            value: Some(AnyValue { value: Some(value) }),
            ..KeyValue::default()
        }
    }

    fn resource() -> Option<Resource> {
        Some(Resource {
            attributes: vec![kv(
                "service.name",
                any_value::Value::StringValue("harness".into()),
            )],
            ..Resource::default()
        })
    }

    fn send(c: &Collector, path: &str, body: Vec<u8>) {
        let answer = post(
            c.http_port(),
            path,
            &[("content-type", "application/x-protobuf")],
            body,
        );
        assert_eq!(answer.map(|(status, _)| status), Some(200), "{path}");
    }

    /// What rotel receives comes back typed: kind, temporality, typed attribute values and
    /// point values, resources, log records and spans with their ids and parents.
    #[test]
    fn what_rotel_receives_comes_back_as_typed_otlp() {
        let c = Collector::start();
        let point = NumberDataPoint {
            attributes: vec![
                kv("hook_name", any_value::Value::StringValue("lint".into())),
                kv("success", any_value::Value::BoolValue(false)),
                kv("error_count", any_value::Value::IntValue(3)),
                kv("confidence", any_value::Value::DoubleValue(0.5)),
            ],
            time_unix_nano: 7,
            value: Some(number_data_point::Value::AsInt(2)),
            ..NumberDataPoint::default()
        };
        let metrics = ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                resource: resource(),
                scope_metrics: vec![ScopeMetrics {
                    metrics: vec![Metric {
                        name: "han.test.counter".into(),
                        unit: "{run}".into(),
                        data: Some(metric::Data::Sum(metrics::Sum {
                            data_points: vec![point],
                            aggregation_temporality: metrics::AggregationTemporality::Delta as i32,
                            is_monotonic: true,
                        })),
                        ..Metric::default()
                    }],
                    ..ScopeMetrics::default()
                }],
                ..ResourceMetrics::default()
            }],
        };
        send(&c, "/v1/metrics", metrics.encode_to_vec());
        let m = c.wait_for_metric("han.test.counter", WAIT);
        assert_eq!(
            (m.kind, m.temporality, m.monotonic, m.unit.as_str()),
            (
                MetricKind::Sum,
                Some(Temporality::Delta),
                Some(true),
                "{run}"
            )
        );
        assert_eq!(
            m.resource.get("service.name"),
            Some(&Value::from("harness"))
        );
        let p = &m.points[0];
        assert_eq!(p.value, Some(Number::Int(2)));
        assert!(p.attributes.has("hook_name", "lint"));
        assert!(p.attributes.has("success", false));
        assert!(
            !p.attributes.has("success", "false"),
            "typed: a Bool is not a Str"
        );
        assert!(p.attributes.has("error_count", 3));
        assert!(p.attributes.has("confidence", 0.5));

        let (trace_id, parent_id, span_id) = ([0xab; 16], [0x01; 8], [0x02; 8]);
        let logs = ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                resource: resource(),
                scope_logs: vec![ScopeLogs {
                    log_records: vec![LogRecord {
                        event_name: "han.test_event".into(),
                        severity_number: 13,
                        severity_text: "WARN".into(),
                        body: Some(AnyValue {
                            value: Some(any_value::Value::StringValue("checked".into())),
                        }),
                        trace_id: trace_id.to_vec(),
                        span_id: span_id.to_vec(),
                        ..LogRecord::default()
                    }],
                    ..ScopeLogs::default()
                }],
                ..ResourceLogs::default()
            }],
        };
        send(&c, "/v1/logs", logs.encode_to_vec());
        let log = c.wait_for_log("han.test_event", WAIT);
        assert_eq!(
            (
                log.severity_number,
                log.severity_text.as_str(),
                log.body_text()
            ),
            (13, "WARN", "checked")
        );
        assert_eq!(log.trace_id, "ab".repeat(16));
        assert_eq!(log.span_id, "02".repeat(8));

        let spans = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: resource(),
                scope_spans: vec![ScopeSpans {
                    spans: vec![Span {
                        name: "hook lint".into(),
                        trace_id: trace_id.to_vec(),
                        span_id: span_id.to_vec(),
                        parent_span_id: parent_id.to_vec(),
                        kind: span::SpanKind::Internal as i32,
                        status: Some(Status {
                            message: "failed".into(),
                            code: status::StatusCode::Error as i32,
                        }),
                        ..Span::default()
                    }],
                    ..ScopeSpans::default()
                }],
                ..ResourceSpans::default()
            }],
        };
        send(&c, "/v1/traces", spans.encode_to_vec());
        let s = c.wait_for_span("hook lint", WAIT);
        assert_eq!(
            (
                s.trace_id.as_str(),
                s.span_id.as_str(),
                s.parent_span_id.as_str()
            ),
            (
                log.trace_id.as_str(),
                log.span_id.as_str(),
                "01".repeat(8).as_str()
            )
        );
        assert_eq!(
            (s.kind, s.status_code),
            (SpanKind::Internal, StatusCode::Error)
        );
        assert_eq!(s.status_message, "failed");
        assert_eq!(c.resources().len(), 3, "{:?}", c.resources());
    }

    /// Needs rotel (like everything that starts one): a taken port is reported as
    /// `PortInUse`, which `start` retries with new ports.
    #[test]
    fn port_in_use_is_detected() {
        let taken = TcpListener::bind("127.0.0.1:0").expect("bind a port to occupy");
        let taken_port = taken.local_addr().expect("local_addr").port();
        let (free, _) = pick_two_free_ports();
        for (grpc, http) in [(taken_port, free), (free, taken_port)] {
            match Collector::start_on(&find_rotel_agent(), grpc, http, &[]) {
                Err(StartError::PortInUse(detail)) => {
                    assert!(detail.contains("Address already in use"), "{detail}");
                }
                Ok(c) => panic!("rotel started on a taken port:\n{}", c.describe(None)),
            }
        }
    }

    #[test]
    fn the_install_hint_names_the_script_and_the_variable() {
        let hint = install_hint();
        assert!(hint.contains("scripts/install-rotel"));
        assert!(hint.contains(ROTEL_AGENT_ENV));
    }
}
