//! Test support: a real, independent OTLP collector ([rotel]) for integration tests.
//!
//! [`Collector::start`] runs `rotel-agent` on free loopback ports with the blackhole
//! exporter and detailed debug logging of metrics, logs and traces, so that everything it
//! receives is printed on its stdout. The output is captured by reader threads and can be
//! read raw ([`Collector::output`], [`Collector::wait_for`]) or parsed
//! ([`Collector::metrics`], [`Collector::logs`], [`Collector::spans`],
//! [`Collector::resources`], [`parse`]).
//!
//! Std only, so it can be copied as `tests/support/collector.rs`.
//!
//! What rotel (0.0.1a15) prints, and so what the parsed types hold:
//! * attribute values in rotel's typed rendering: `Str(a b)`, `Int(3)`, `Double(2.5)`,
//!   `Bool(true)`, `Slice(Str(a), Int(1))`, `Map(k:Str(v))`, `Bytes([1, 2])`, `Empty`;
//!   [`plain`] strips the `Str(..)`/`Int(..)`/`Double(..)`/`Bool(..)` wrapper;
//! * number data point values as printed: ints and doubles both with `Display`, so an
//!   `as_double` of `3.0` prints as `3`, the same as an `as_int` of 3;
//! * no `Value` line at all when the data point has no value (this is what rotel's
//!   http/json decoder produces for an `asInt` sent as a JSON string);
//! * `DataType: Empty` (here [`MetricKind::Empty`]) when rotel dropped the metric's data.
//!
//! [rotel]: https://github.com/streamfold/rotel
// When copied into `tests/support/`, each integration test binary uses only part of it.
#![allow(dead_code, unreachable_pub)]

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::io::{ErrorKind, Read};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{self, Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

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
/// Arguments always given to `rotel-agent start` (besides endpoints, pid and log files).
const BASE_ARGS: &[&str] = &[
    "start",
    "--exporter",
    "blackhole",
    "--debug-log",
    "metrics",
    "--debug-log",
    "logs",
    "--debug-log",
    "traces",
    "--debug-log-verbosity",
    "detailed",
    // Print each request as soon as it is received, one block per request.
    "--disable-batching",
];

/// Attribute list: `(key, value)` with the value in rotel's typed rendering, e.g.
/// `("http.route", "Str(/a)")`, `("code", "Int(200)")`.
pub type Attributes = Vec<(String, String)>;

/// A running rotel collector. Killed (and its scratch directory removed) on drop.
pub struct Collector {
    child: Mutex<Child>,
    binary: PathBuf,
    grpc_port: u16,
    http_port: u16,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<()>>,
    work_dir: PathBuf,
    /// Set once a panic message of ours already carried the output.
    output_reported: AtomicBool,
}

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
            match Self::try_start(&binary, extra_args) {
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

    fn try_start(binary: &Path, extra_args: &[&str]) -> Result<Collector, StartError> {
        let (grpc_port, http_port) = pick_two_free_ports();
        Self::start_on(binary, grpc_port, http_port, extra_args)
    }

    fn start_on(
        binary: &Path,
        grpc_port: u16,
        http_port: u16,
        extra_args: &[&str],
    ) -> Result<Collector, StartError> {
        let work_dir = unique_work_dir();
        fs::create_dir_all(&work_dir).unwrap_or_else(|e| {
            panic!(
                "cannot create rotel scratch dir {}: {e}",
                work_dir.display()
            )
        });

        let mut cmd = Command::new(binary);
        cmd.args(BASE_ARGS)
            .arg("--otlp-grpc-endpoint")
            .arg(format!("127.0.0.1:{grpc_port}"))
            .arg("--otlp-http-endpoint")
            .arg(format!("127.0.0.1:{http_port}"))
            .arg("--pid-file")
            .arg(work_dir.join("rotel.pid"))
            .arg("--log-file")
            .arg(work_dir.join("rotel.log"))
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
        let mut child = match cmd.spawn() {
            Ok(child) => child,
            Err(e) => {
                let _ = fs::remove_dir_all(&work_dir);
                panic!(
                    "cannot run rotel-agent at {}: {e}\n{}",
                    binary.display(),
                    install_hint()
                );
            }
        };

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
            stdout,
            stderr,
            readers,
            work_dir,
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
            if self.output().contains(READY_MARKER)
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

    /// Everything rotel printed on stdout so far (ANSI colour codes removed).
    pub fn output(&self) -> String {
        lock(&self.stdout).clone()
    }

    /// Everything rotel printed on stderr so far.
    pub fn stderr(&self) -> String {
        lock(&self.stderr).clone()
    }

    /// Polls until `pred(&output)` holds and returns that output. Panics with `what`, the
    /// full output and stderr after `timeout`, or at once if rotel exited.
    pub fn wait_for(&self, what: &str, timeout: Duration, pred: impl Fn(&str) -> bool) -> String {
        self.wait_until(what, timeout, |_, output| {
            pred(output).then(|| output.to_string())
        })
    }

    /// Polls the parsed output until `f` returns `Some`, and returns that. Panics like
    /// [`Collector::wait_for`].
    pub fn wait_for_received<T>(
        &self,
        what: &str,
        timeout: Duration,
        f: impl Fn(&Received) -> Option<T>,
    ) -> T {
        self.wait_until(what, timeout, |received, _| f(received))
    }

    /// Waits for a metric called `name` and returns the last one received (with
    /// cumulative temporality every export repeats the metric).
    pub fn wait_for_metric(&self, name: &str, timeout: Duration) -> ReceivedMetric {
        self.wait_for_received(&format!("metric {name:?}"), timeout, |r| {
            r.metrics.iter().rev().find(|m| m.name == name).cloned()
        })
    }

    /// Waits for a log record whose event name is `needle` or whose body, without its
    /// `Str(..)` wrapper, is `needle`; returns the last such record.
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

    fn wait_until<T>(
        &self,
        what: &str,
        timeout: Duration,
        f: impl Fn(&Received, &str) -> Option<T>,
    ) -> T {
        let deadline = Instant::now() + timeout;
        loop {
            let output = self.output();
            if let Some(found) = f(&parse(&output), &output) {
                return found;
            }
            if let Some(status) = self.exit_status() {
                self.fail(&format!("rotel exited ({status}) while waiting for {what}"));
            }
            if Instant::now() >= deadline {
                self.fail(&format!("timed out after {timeout:?} waiting for {what}"));
            }
            thread::sleep(POLL_INTERVAL);
        }
    }

    /// Everything received so far, parsed.
    pub fn received(&self) -> Received {
        parse(&self.output())
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

    /// Resource attributes of every resource block received so far (one entry per
    /// `ResourceMetrics`/`ResourceLog`/`ResourceSpans` block, so usually repeated).
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

    /// Binary, ports and captured output, for failure messages; `limit` keeps only the
    /// last that many bytes of stdout.
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
            "rotel: {} (grpc 127.0.0.1:{}, http 127.0.0.1:{})",
            self.binary.display(),
            self.grpc_port,
            self.http_port
        );
        let _ = writeln!(text, "----- rotel stdout -----\n{shown}");
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
        let _ = fs::remove_dir_all(&self.work_dir);
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

fn unique_work_dir() -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    env::temp_dir().join(format!(
        "rotel-harness-{}-{}-{nanos}",
        process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ))
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Copies `src` into `sink`, a read() chunk at a time, up to the last complete line.
/// rotel prints each request's block with one write, so a block normally lands whole.
fn spawn_reader(
    name: &str,
    mut src: impl Read + Send + 'static,
    sink: Arc<Mutex<String>>,
) -> JoinHandle<()> {
    let append = move |bytes: &[u8]| {
        let text = strip_ansi(&String::from_utf8_lossy(bytes));
        lock(&sink).push_str(&text);
    };
    thread::Builder::new()
        .name(format!("rotel-{name}"))
        .spawn(move || {
            let mut buf = vec![0u8; 256 * 1024];
            let mut pending: Vec<u8> = Vec::new();
            loop {
                match src.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        pending.extend_from_slice(&buf[..n]);
                        if let Some(end) = pending.iter().rposition(|&b| b == b'\n') {
                            let complete: Vec<u8> = pending.drain(..=end).collect();
                            append(&complete);
                        }
                    }
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
            if !pending.is_empty() {
                pending.push(b'\n');
                append(&pending);
            }
        })
        .expect("cannot spawn a thread to read rotel's output")
}

/// Removes ANSI escape sequences (CSI `ESC [ ... final`, and lone `ESC x`).
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        } else {
            chars.next();
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Parsed view
// ---------------------------------------------------------------------------------------

/// Everything parsed from rotel's output.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Received {
    pub metrics: Vec<ReceivedMetric>,
    pub logs: Vec<ReceivedLog>,
    pub spans: Vec<ReceivedSpan>,
    /// One entry per resource block, in order.
    pub resources: Vec<Attributes>,
}

/// Instrumentation scope (`InstrumentationScope NAME VERSION` and its attributes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    pub name: String,
    /// Empty when not set.
    pub version: String,
    pub attributes: Attributes,
}

/// rotel's `DataType`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum MetricKind {
    Sum,
    Gauge,
    Histogram,
    ExponentialHistogram,
    Summary,
    /// rotel printed `Empty`: the metric arrived without (decodable) data.
    #[default]
    Empty,
    Other(String),
}

/// rotel's `AggregationTemporality`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Temporality {
    Cumulative,
    Delta,
    Unspecified,
    Other(String),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReceivedMetric {
    pub name: String,
    pub description: String,
    pub unit: String,
    pub kind: MetricKind,
    /// `IsMonotonic`, printed for sums only.
    pub monotonic: Option<bool>,
    /// Printed for sums, histograms and exponential histograms.
    pub temporality: Option<Temporality>,
    pub points: Vec<DataPoint>,
    pub scope: Scope,
    pub resource: Attributes,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DataPoint {
    pub attributes: Attributes,
    pub start_time_unix_nano: u64,
    pub time_unix_nano: u64,
    /// Number (sum/gauge) points: the value as printed (`"3"`, `"1.25"`, `"-3"`); `None`
    /// when rotel printed no `Value` line (the point had no value).
    pub value: Option<String>,
    /// Histogram, exponential histogram and summary points.
    pub count: Option<u64>,
    pub sum: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// Histogram explicit bounds.
    pub bounds: Vec<f64>,
    /// Histogram bucket counts (one more than `bounds`).
    pub bucket_counts: Vec<u64>,
    /// Exponential histogram buckets as printed by rotel, e.g. `("(1, 16]", 2)`,
    /// `("[0, 0]", 1)` for the zero bucket, `("[-16, -1)", 0)` for negative ones.
    pub exponential_buckets: Vec<(String, u64)>,
    /// Summary `(quantile, value)` pairs.
    pub quantiles: Vec<(f64, f64)>,
    pub exemplars: Vec<Exemplar>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Exemplar {
    /// Hex; empty when not set.
    pub trace_id: String,
    pub span_id: String,
    pub time_unix_nano: u64,
    pub value: Option<String>,
    pub filtered_attributes: Attributes,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReceivedLog {
    pub observed_time_unix_nano: u64,
    pub time_unix_nano: u64,
    /// Empty when not set.
    pub severity_text: String,
    /// From `SeverityNumber: SEVERITY_NUMBER_INFO(9)`; rotel omits the line for numbers
    /// outside the enum.
    pub severity_number: Option<i32>,
    /// E.g. `SEVERITY_NUMBER_INFO`.
    pub severity_name: Option<String>,
    /// rotel prints `EventName` only when it is not empty.
    pub event_name: Option<String>,
    /// Typed rendering: `Str(text)`, `Map(k:Str(v))`, `Empty`, ...; see
    /// [`ReceivedLog::body_text`].
    pub body: String,
    pub attributes: Attributes,
    /// Hex; empty when not set.
    pub trace_id: String,
    pub span_id: String,
    pub flags: u32,
    pub scope: Scope,
    pub resource: Attributes,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReceivedSpan {
    pub name: String,
    /// Hex ids; `parent_span_id` is empty for a root span.
    pub trace_id: String,
    pub span_id: String,
    pub parent_span_id: String,
    /// E.g. `SPAN_KIND_SERVER`.
    pub kind: String,
    /// Empty when not set (rotel prints it only when set).
    pub trace_state: String,
    pub start_time_unix_nano: u64,
    pub end_time_unix_nano: u64,
    /// E.g. `STATUS_CODE_ERROR`; empty if the span had no status at all.
    pub status_code: String,
    pub status_message: String,
    pub attributes: Attributes,
    pub events: Vec<SpanEvent>,
    pub links: Vec<SpanLink>,
    pub scope: Scope,
    pub resource: Attributes,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpanEvent {
    pub name: String,
    pub time_unix_nano: u64,
    pub dropped_attributes_count: u32,
    pub attributes: Attributes,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpanLink {
    pub trace_id: String,
    pub span_id: String,
    pub trace_state: String,
    pub dropped_attributes_count: u32,
    pub attributes: Attributes,
}

/// The value of attribute `key` in rotel's typed rendering (`Str(x)`, `Int(3)`, ...).
pub fn attr<'a>(attributes: &'a [(String, String)], key: &str) -> Option<&'a str> {
    attributes
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// Strips one `Str(..)`, `Int(..)`, `Double(..)` or `Bool(..)` wrapper: `Str(a b)` ->
/// `a b`, `Int(3)` -> `3`. Other renderings are returned unchanged.
pub fn plain(value: &str) -> &str {
    ["Str(", "Int(", "Double(", "Bool("]
        .iter()
        .find_map(|prefix| value.strip_prefix(prefix)?.strip_suffix(')'))
        .unwrap_or(value)
}

impl ReceivedMetric {
    /// The first data point whose attributes include every `(key, typed value)` given,
    /// e.g. `m.point(&[("route", "Str(/a)")])`.
    pub fn point(&self, attributes: &[(&str, &str)]) -> Option<&DataPoint> {
        self.points.iter().find(|p| {
            attributes
                .iter()
                .all(|(k, v)| attr(&p.attributes, k) == Some(*v))
        })
    }
}

impl DataPoint {
    pub fn attr(&self, key: &str) -> Option<&str> {
        attr(&self.attributes, key)
    }

    /// The number value parsed as `f64`.
    pub fn value_f64(&self) -> Option<f64> {
        self.value.as_deref()?.parse().ok()
    }
}

impl ReceivedLog {
    pub fn attr(&self, key: &str) -> Option<&str> {
        attr(&self.attributes, key)
    }

    /// The body without its `Str(..)` (etc.) wrapper.
    pub fn body_text(&self) -> &str {
        plain(&self.body)
    }
}

impl ReceivedSpan {
    pub fn attr(&self, key: &str) -> Option<&str> {
        attr(&self.attributes, key)
    }
}

impl SpanEvent {
    pub fn attr(&self, key: &str) -> Option<&str> {
        attr(&self.attributes, key)
    }
}

// ---------------------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------------------

/// Lines starting with one of these are rotel structure (not continuation lines of a
/// multi-line value).
const LINE_STARTS: &[&str] = &[
    "ResourceMetrics #",
    "ResourceLog #",
    "ResourceSpans #",
    "Resource SchemaURL:",
    "Resource attributes:",
    "ScopeMetrics #",
    "ScopeLogs #",
    "ScopeSpans #",
    "ScopeMetrics SchemaURL:",
    "ScopeLogs SchemaURL:",
    "ScopeSpans SchemaURL:",
    "InstrumentationScope ",
    "Metric #",
    "Descriptor:",
    "NumberDataPoints #",
    "HistogramDataPoints #",
    "ExponentialHistogramDataPoints #",
    "SummaryDataPoints #",
    "Data point attributes:",
    "StartTimestamp:",
    "Timestamp:",
    "Value:",
    "Count:",
    "Sum:",
    "Min:",
    "Max:",
    "ExplicitBounds #",
    "Buckets #",
    "Bucket [",
    "Bucket (",
    "QuantileValue #",
    "Exemplars:",
    "Exemplar #",
    "LogRecord #",
    "ObservedTimestamp:",
    "SeverityText:",
    "SeverityNumber:",
    "EventName:",
    "Body:",
    "Attributes:",
    "Flags:",
    "Span #",
    "Start time:",
    "End time:",
    "Events:",
    "SpanEvent #",
    "Links:",
    "SpanLink #",
    ATTR_PREFIX,
    NESTED_ATTR_PREFIX,
];
/// `     -> key: value`: attributes, and fields of descriptors, events, links, exemplars.
const ATTR_PREFIX: &str = "     -> ";
/// `          -> key: value`: attributes of span events, span links and exemplars.
const NESTED_ATTR_PREFIX: &str = "          -> ";
/// Labels of rotel's `    {label:<15}: value` lines (spans, and trace context of logs).
const PADDED_LABELS: &[&str] = &[
    "Trace ID",
    "Span ID",
    "Parent ID",
    "ID",
    "Name",
    "Kind",
    "TraceState",
    "Status code",
    "Status message",
];

/// Parses rotel's detailed debug output (as captured by [`Collector::output`]).
///
/// Unknown lines are ignored; rotel's own log lines (`2026-01-01T00:00:00.000Z  INFO ...`)
/// are skipped; a line that is neither is the continuation of a multi-line value on the
/// line before it, and is appended to it after a `\n`.
pub fn parse(output: &str) -> Received {
    let mut parser = Parser::default();
    for line in logical_lines(output) {
        parser.line(&line);
    }
    parser.received
}

fn logical_lines(output: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut after_log_line = false;
    for raw in output.lines() {
        let line = strip_ansi(raw);
        if is_rotel_log_line(&line) {
            after_log_line = true;
        } else if is_structural(&line) {
            after_log_line = false;
            lines.push(line);
        } else if after_log_line {
            // Continuation of a multi-line rotel log message: not data.
        } else if let Some(last) = lines.last_mut() {
            last.push('\n');
            last.push_str(&line);
        }
    }
    lines
}

fn is_structural(line: &str) -> bool {
    if LINE_STARTS.iter().any(|start| line.starts_with(start)) {
        return true;
    }
    padded_field(line).is_some()
}

/// `    Trace ID       : abc` -> `("Trace ID", "abc")`.
fn padded_field(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix("    ")?;
    if rest.starts_with(' ') {
        return None;
    }
    let (label, value) = rest.split_once(':')?;
    let label = label.trim_end();
    PADDED_LABELS
        .contains(&label)
        .then(|| (label, value.strip_prefix(' ').unwrap_or(value)))
}

/// rotel's own tracing lines: `2026-11-23T12:12:20.866992Z  INFO Starting Rotel. ...`.
fn is_rotel_log_line(line: &str) -> bool {
    let Some((stamp, rest)) = line.split_once(' ') else {
        return false;
    };
    let b = stamp.as_bytes();
    let looks_like_time = b.len() >= 20
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && stamp.ends_with('Z');
    let level = rest.trim_start().split(' ').next().unwrap_or("");
    looks_like_time && ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"].contains(&level)
}

/// `key: value` -> `(key, value)`; also `key:` -> `(key, "")` and `key::` -> `(key, ":")`.
fn split_kv(s: &str) -> (&str, &str) {
    if let Some((k, v)) = s.split_once(": ") {
        (k, v)
    } else if let Some((k, v)) = s.split_once(':') {
        (k, v)
    } else {
        (s, "")
    }
}

fn attribute(s: &str) -> (String, String) {
    let (k, v) = split_kv(s);
    (k.to_string(), v.to_string())
}

fn num<T: std::str::FromStr + Default>(s: &str) -> T {
    s.trim().parse().unwrap_or_default()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Signal {
    #[default]
    None,
    Metrics,
    Logs,
    Traces,
}

/// What `     -> ` / `          -> ` lines belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Section {
    #[default]
    None,
    ResourceAttrs,
    ScopeAttrs,
    Descriptor,
    PointAttrs,
    Exemplar,
    LogAttrs,
    SpanAttrs,
    Event,
    Link,
}

#[derive(Default)]
struct Parser {
    received: Received,
    signal: Signal,
    section: Section,
    scope: Scope,
    /// Whether the last item of each list belongs to the block being parsed.
    metric_open: bool,
    point_open: bool,
    log_open: bool,
    span_open: bool,
}

impl Parser {
    fn line(&mut self, line: &str) {
        if let Some(rest) = line.strip_prefix(NESTED_ATTR_PREFIX) {
            self.nested_attribute(rest);
        } else if let Some(rest) = line.strip_prefix(ATTR_PREFIX) {
            self.arrow_line(rest);
        } else if let Some((label, value)) = padded_field(line) {
            self.padded(label, value);
        } else {
            self.plain_line(line);
        }
    }

    fn resource(&self) -> Attributes {
        self.received.resources.last().cloned().unwrap_or_default()
    }

    fn metric(&mut self) -> Option<&mut ReceivedMetric> {
        if self.metric_open {
            self.received.metrics.last_mut()
        } else {
            None
        }
    }

    fn point(&mut self) -> Option<&mut DataPoint> {
        if self.point_open {
            self.metric()?.points.last_mut()
        } else {
            None
        }
    }

    fn exemplar(&mut self) -> Option<&mut Exemplar> {
        self.point()?.exemplars.last_mut()
    }

    fn log(&mut self) -> Option<&mut ReceivedLog> {
        if self.log_open {
            self.received.logs.last_mut()
        } else {
            None
        }
    }

    fn span(&mut self) -> Option<&mut ReceivedSpan> {
        if self.span_open {
            self.received.spans.last_mut()
        } else {
            None
        }
    }

    fn start_resource(&mut self, signal: Signal) {
        self.signal = signal;
        self.section = Section::None;
        self.scope = Scope::default();
        self.received.resources.push(Vec::new());
        self.metric_open = false;
        self.point_open = false;
        self.log_open = false;
        self.span_open = false;
    }

    fn plain_line(&mut self, line: &str) {
        let (key, value) = split_kv(line);
        // Headers with a `#N` index.
        if let Some((header, _index)) = line.split_once(" #") {
            match header {
                "ResourceMetrics" => return self.start_resource(Signal::Metrics),
                "ResourceLog" => return self.start_resource(Signal::Logs),
                "ResourceSpans" => return self.start_resource(Signal::Traces),
                "ScopeMetrics" | "ScopeLogs" | "ScopeSpans" => {
                    self.scope = Scope::default();
                    self.section = Section::None;
                    self.metric_open = false;
                    self.point_open = false;
                    self.log_open = false;
                    self.span_open = false;
                    return;
                }
                "Metric" if self.signal == Signal::Metrics => {
                    let metric = ReceivedMetric {
                        scope: self.scope.clone(),
                        resource: self.resource(),
                        ..ReceivedMetric::default()
                    };
                    self.received.metrics.push(metric);
                    self.metric_open = true;
                    self.point_open = false;
                    self.section = Section::None;
                    return;
                }
                "NumberDataPoints"
                | "HistogramDataPoints"
                | "ExponentialHistogramDataPoints"
                | "SummaryDataPoints" => {
                    self.section = Section::None;
                    if let Some(metric) = self.metric() {
                        metric.points.push(DataPoint::default());
                        self.point_open = true;
                    }
                    return;
                }
                "Exemplar" => {
                    if let Some(point) = self.point() {
                        point.exemplars.push(Exemplar::default());
                        self.section = Section::Exemplar;
                    }
                    return;
                }
                "LogRecord" if self.signal == Signal::Logs => {
                    let log = ReceivedLog {
                        scope: self.scope.clone(),
                        resource: self.resource(),
                        ..ReceivedLog::default()
                    };
                    self.received.logs.push(log);
                    self.log_open = true;
                    self.section = Section::None;
                    return;
                }
                "Span" if self.signal == Signal::Traces => {
                    let span = ReceivedSpan {
                        scope: self.scope.clone(),
                        resource: self.resource(),
                        ..ReceivedSpan::default()
                    };
                    self.received.spans.push(span);
                    self.span_open = true;
                    self.section = Section::None;
                    return;
                }
                "SpanEvent" => {
                    if let Some(span) = self.span() {
                        span.events.push(SpanEvent::default());
                        self.section = Section::Event;
                    }
                    return;
                }
                "SpanLink" => {
                    if let Some(span) = self.span() {
                        span.links.push(SpanLink::default());
                        self.section = Section::Link;
                    }
                    return;
                }
                "ExplicitBounds" => {
                    if let Some(point) = self.point() {
                        point.bounds.push(num(value));
                    }
                    return;
                }
                "Buckets" => {
                    // `Buckets #0, Count: 1`
                    if let Some(point) = self.point()
                        && let Some((_, count)) = line.rsplit_once("Count: ")
                    {
                        point.bucket_counts.push(num(count));
                    }
                    return;
                }
                "QuantileValue" => {
                    // `QuantileValue #0: Quantile 0.5, Value 2`
                    if let Some(point) = self.point()
                        && let Some((q, v)) = value.split_once(", Value ")
                    {
                        let q = q.strip_prefix("Quantile ").unwrap_or(q);
                        point.quantiles.push((num(q), num(v)));
                    }
                    return;
                }
                _ => {}
            }
        }
        if let Some(bucket) = line.strip_prefix("Bucket ") {
            // Exponential histogram: `Bucket (1, 16], Count: 2`
            if let Some(point) = self.point()
                && let Some((range, count)) = bucket.rsplit_once(", Count: ")
            {
                point
                    .exponential_buckets
                    .push((range.to_string(), num(count)));
            }
            return;
        }
        if let Some(scope) = line.strip_prefix("InstrumentationScope ") {
            if scope == "attributes:" {
                self.section = Section::ScopeAttrs;
            } else {
                let (name, version) = scope.rsplit_once(' ').unwrap_or((scope, ""));
                self.scope.name = name.to_string();
                self.scope.version = version.to_string();
                self.section = Section::None;
            }
            return;
        }
        match (self.signal, key) {
            (_, "Resource attributes") => self.section = Section::ResourceAttrs,
            (_, "Descriptor") => self.section = Section::Descriptor,
            (_, "Data point attributes") => self.section = Section::PointAttrs,
            (_, "Exemplars" | "Events" | "Links") => self.section = Section::None,
            (Signal::Metrics, _) => self.metric_field(key, value),
            (Signal::Logs, _) => self.log_field(key, value),
            (Signal::Traces, _) => self.span_field(key, value),
            (Signal::None, _) => {}
        }
    }

    fn metric_field(&mut self, key: &str, value: &str) {
        let Some(point) = self.point() else { return };
        match key {
            "StartTimestamp" => point.start_time_unix_nano = num(value),
            "Timestamp" => point.time_unix_nano = num(value),
            "Value" => point.value = Some(value.to_string()),
            "Count" => point.count = Some(num(value)),
            "Sum" => point.sum = value.trim().parse().ok(),
            "Min" => point.min = value.trim().parse().ok(),
            "Max" => point.max = value.trim().parse().ok(),
            _ => {}
        }
    }

    fn log_field(&mut self, key: &str, value: &str) {
        if key == "Attributes" {
            self.section = Section::LogAttrs;
            return;
        }
        let Some(log) = self.log() else { return };
        match key {
            "ObservedTimestamp" => log.observed_time_unix_nano = num(value),
            "Timestamp" => log.time_unix_nano = num(value),
            "SeverityText" => log.severity_text = value.to_string(),
            "SeverityNumber" => {
                // `SEVERITY_NUMBER_INFO(9)`
                let (name, number) = value.split_once('(').unwrap_or((value, ""));
                log.severity_name = Some(name.to_string());
                log.severity_number = number.trim_end_matches(')').parse().ok();
            }
            "EventName" => log.event_name = Some(value.to_string()),
            "Body" => log.body = value.to_string(),
            "Flags" => log.flags = num(value),
            _ => {}
        }
    }

    fn span_field(&mut self, key: &str, value: &str) {
        if key == "Attributes" {
            self.section = Section::SpanAttrs;
            return;
        }
        let Some(span) = self.span() else { return };
        match key {
            "Start time" => span.start_time_unix_nano = num(value),
            "End time" => span.end_time_unix_nano = num(value),
            _ => {}
        }
    }

    fn padded(&mut self, label: &str, value: &str) {
        let value = value.to_string();
        match self.signal {
            Signal::Logs => {
                let Some(log) = self.log() else { return };
                match label {
                    "Trace ID" => log.trace_id = value,
                    "Span ID" => log.span_id = value,
                    _ => {}
                }
            }
            Signal::Traces => {
                let Some(span) = self.span() else { return };
                match label {
                    "Trace ID" => span.trace_id = value,
                    "Parent ID" => span.parent_span_id = value,
                    "ID" => span.span_id = value,
                    "Name" => span.name = value,
                    "Kind" => span.kind = value,
                    "TraceState" => span.trace_state = value,
                    "Status code" => span.status_code = value,
                    "Status message" => span.status_message = value,
                    _ => {}
                }
            }
            Signal::Metrics | Signal::None => {}
        }
    }

    /// `     -> ...` lines.
    fn arrow_line(&mut self, rest: &str) {
        let (key, value) = split_kv(rest);
        match self.section {
            Section::None => {}
            Section::ResourceAttrs => {
                if let Some(resource) = self.received.resources.last_mut() {
                    resource.push(attribute(rest));
                }
            }
            Section::ScopeAttrs => self.scope.attributes.push(attribute(rest)),
            Section::Descriptor => {
                let Some(metric) = self.metric() else { return };
                match key {
                    "Name" => metric.name = value.to_string(),
                    "Description" => metric.description = value.to_string(),
                    "Unit" => metric.unit = value.to_string(),
                    "DataType" => metric.kind = metric_kind(value),
                    "IsMonotonic" => metric.monotonic = Some(value == "true"),
                    "AggregationTemporality" => metric.temporality = Some(temporality(value)),
                    _ => {}
                }
            }
            Section::PointAttrs => {
                if let Some(point) = self.point() {
                    point.attributes.push(attribute(rest));
                }
            }
            Section::LogAttrs => {
                if let Some(log) = self.log() {
                    log.attributes.push(attribute(rest));
                }
            }
            Section::SpanAttrs => {
                if let Some(span) = self.span() {
                    span.attributes.push(attribute(rest));
                }
            }
            Section::Exemplar => {
                let Some(exemplar) = self.exemplar() else {
                    return;
                };
                match key {
                    "Trace ID" => exemplar.trace_id = value.to_string(),
                    "Span ID" => exemplar.span_id = value.to_string(),
                    "Timestamp" => exemplar.time_unix_nano = num(value),
                    "Value" => exemplar.value = Some(value.to_string()),
                    _ => {}
                }
            }
            Section::Event => {
                let Some(event) = self.span().and_then(|s| s.events.last_mut()) else {
                    return;
                };
                match key {
                    "Name" => event.name = value.to_string(),
                    "Timestamp" => event.time_unix_nano = num(value),
                    "DroppedAttributesCount" => event.dropped_attributes_count = num(value),
                    _ => {}
                }
            }
            Section::Link => {
                let Some(link) = self.span().and_then(|s| s.links.last_mut()) else {
                    return;
                };
                match key {
                    "Trace ID" => link.trace_id = value.to_string(),
                    "ID" => link.span_id = value.to_string(),
                    "TraceState" => link.trace_state = value.to_string(),
                    "DroppedAttributesCount" => link.dropped_attributes_count = num(value),
                    _ => {}
                }
            }
        }
    }

    /// `          -> key: value` lines: attributes of an exemplar, span event or link.
    fn nested_attribute(&mut self, rest: &str) {
        let attribute = attribute(rest);
        match self.section {
            Section::Exemplar => {
                if let Some(exemplar) = self.exemplar() {
                    exemplar.filtered_attributes.push(attribute);
                }
            }
            Section::Event => {
                if let Some(event) = self.span().and_then(|s| s.events.last_mut()) {
                    event.attributes.push(attribute);
                }
            }
            Section::Link => {
                if let Some(link) = self.span().and_then(|s| s.links.last_mut()) {
                    link.attributes.push(attribute);
                }
            }
            _ => {}
        }
    }
}

fn metric_kind(value: &str) -> MetricKind {
    match value {
        "Sum" => MetricKind::Sum,
        "Gauge" => MetricKind::Gauge,
        "Histogram" => MetricKind::Histogram,
        "ExponentialHistogram" => MetricKind::ExponentialHistogram,
        "Summary" => MetricKind::Summary,
        "Empty" => MetricKind::Empty,
        other => MetricKind::Other(other.to_string()),
    }
}

fn temporality(value: &str) -> Temporality {
    match value {
        "AGGREGATION_TEMPORALITY_CUMULATIVE" => Temporality::Cumulative,
        "AGGREGATION_TEMPORALITY_DELTA" => Temporality::Delta,
        "AGGREGATION_TEMPORALITY_UNSPECIFIED" => Temporality::Unspecified,
        other => Temporality::Other(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Real capture: `scripts/send_otlp.py grpc` (Python SDK 1.45.2) into rotel 0.0.1a15.
    const PYTHON_GRPC: &str = r##"2026-11-23T12:15:46.925306Z  INFO Starting Rotel. grpc_endpoint="127.0.0.1:25317" http_endpoint="127.0.0.1:25318"
ResourceLog #0
Resource SchemaURL: 
Resource attributes:
     -> telemetry.sdk.language: Str(python)
     -> telemetry.sdk.name: Str(opentelemetry)
     -> telemetry.sdk.version: Str(1.45.2)
     -> service.instance.id: Str(af249412-fc1c-483a-951d-dcddc90509fa)
     -> service.name: Str(harness-py)
     -> team.note: Str(it's a test value)
     -> deploy.count: Int(3)
ScopeLogs #0
ScopeLogs SchemaURL: 
InstrumentationScope harness.logger 0.1.0
LogRecord #0
ObservedTimestamp: 1795436148259576208
Timestamp: 0
SeverityText: INFO
SeverityNumber: SEVERITY_NUMBER_INFO(9)
EventName: harness.request.done
Body: Str(request done)
Attributes:
     -> str.attr: Str(it's a 'quoted' value)
     -> int.attr: Int(42)
     -> double.attr: Double(2.5)
     -> bool.attr: Bool(true)
    Trace ID       : 94996d622b749f796ba3f3d2bc0423a5
    Span ID        : c173f8382f2ec427
Flags: 3
ResourceLog #0
Resource SchemaURL: 
Resource attributes:
     -> telemetry.sdk.language: Str(python)
     -> telemetry.sdk.name: Str(opentelemetry)
     -> telemetry.sdk.version: Str(1.45.2)
     -> service.instance.id: Str(af249412-fc1c-483a-951d-dcddc90509fa)
     -> service.name: Str(harness-py)
     -> team.note: Str(it's a test value)
     -> deploy.count: Int(3)
ScopeLogs #0
ScopeLogs SchemaURL: 
InstrumentationScope harness.logger 0.1.0
LogRecord #0
ObservedTimestamp: 1795436148305494146
Timestamp: 0
SeverityText: WARN
SeverityNumber: SEVERITY_NUMBER_WARN(13)
Body: Str(disk almost full)
Attributes:
     -> free.pct: Int(3)
    Trace ID       : 94996d622b749f796ba3f3d2bc0423a5
    Span ID        : c173f8382f2ec427
Flags: 3
ResourceSpans #0
Resource SchemaURL: 
Resource attributes:
     -> telemetry.sdk.language: Str(python)
     -> telemetry.sdk.name: Str(opentelemetry)
     -> telemetry.sdk.version: Str(1.45.2)
     -> service.instance.id: Str(af249412-fc1c-483a-951d-dcddc90509fa)
     -> service.name: Str(harness-py)
     -> team.note: Str(it's a test value)
     -> deploy.count: Int(3)
ScopeSpans #0
ScopeSpans SchemaURL: 
InstrumentationScope harness.tracer 0.1.0
InstrumentationScope attributes:
     -> scope.attr: Str(scoped)
Span #0
    Trace ID       : 94996d622b749f796ba3f3d2bc0423a5
    Parent ID      : 6f34419d1c2012bb
    ID             : c173f8382f2ec427
    Name           : child-op
    Kind           : SPAN_KIND_INTERNAL
Start time: 1795436148259479985
End time: 1795436148349345899
    Status code    : STATUS_CODE_ERROR
    Status message : boom
Attributes:
     -> item.count: Int(7)
     -> ratio: Double(0.25)
     -> ok: Bool(false)
ResourceSpans #0
Resource SchemaURL: 
Resource attributes:
     -> telemetry.sdk.language: Str(python)
     -> telemetry.sdk.name: Str(opentelemetry)
     -> telemetry.sdk.version: Str(1.45.2)
     -> service.instance.id: Str(af249412-fc1c-483a-951d-dcddc90509fa)
     -> service.name: Str(harness-py)
     -> team.note: Str(it's a test value)
     -> deploy.count: Int(3)
ScopeSpans #0
ScopeSpans SchemaURL: 
InstrumentationScope harness.tracer 0.1.0
InstrumentationScope attributes:
     -> scope.attr: Str(scoped)
Span #0
    Trace ID       : 94996d622b749f796ba3f3d2bc0423a5
    Parent ID      : 
    ID             : 6f34419d1c2012bb
    Name           : parent-op
    Kind           : SPAN_KIND_SERVER
Start time: 1795436148259396581
End time: 1795436148351082706
    Status code    : STATUS_CODE_UNSET
    Status message : 
Attributes:
     -> http.method: Str(GET)
Events:
SpanEvent #0
     -> Name: cache.miss
     -> Timestamp: 1795436148259429210
     -> DroppedAttributesCount: 0
     -> Attributes::
          -> cache.key: Str(user:42)
ResourceMetrics #0
Resource SchemaURL: 
Resource attributes:
     -> telemetry.sdk.language: Str(python)
     -> telemetry.sdk.name: Str(opentelemetry)
     -> telemetry.sdk.version: Str(1.45.2)
     -> service.instance.id: Str(af249412-fc1c-483a-951d-dcddc90509fa)
     -> service.name: Str(harness-py)
     -> team.note: Str(it's a test value)
     -> deploy.count: Int(3)
ScopeMetrics #0
ScopeMetrics SchemaURL: 
InstrumentationScope harness.meter 0.1.0
Metric #0
Descriptor:
     -> Name: harness.requests
     -> Description: Requests served
     -> Unit: 1
     -> DataType: Sum
     -> IsMonotonic: true
     -> AggregationTemporality: AGGREGATION_TEMPORALITY_CUMULATIVE
NumberDataPoints #0
Data point attributes:
     -> route: Str(/a)
     -> code: Int(200)
StartTimestamp: 1795436148257557522
Timestamp: 1795436148352120556
Value: 8
Exemplars:
Exemplar #0
     -> Trace ID: 94996d622b749f796ba3f3d2bc0423a5
     -> Span ID: c173f8382f2ec427
     -> Timestamp: 1795436148259517030
     -> Value: 5
NumberDataPoints #1
Data point attributes:
     -> route: Str(/b b)
     -> code: Int(500)
StartTimestamp: 1795436148257617431
Timestamp: 1795436148352120556
Value: 4
Metric #1
Descriptor:
     -> Name: harness.latency
     -> Description: Latency
     -> Unit: ms
     -> DataType: Histogram
     -> AggregationTemporality: AGGREGATION_TEMPORALITY_CUMULATIVE
HistogramDataPoints #0
Data point attributes:
     -> route: Str(/a)
StartTimestamp: 1795436148257970004
Timestamp: 1795436148352120556
Count: 4
Sum: 46
Min: 1.5
Max: 30
ExplicitBounds #0: 5
ExplicitBounds #1: 10
ExplicitBounds #2: 25
Buckets #0, Count: 1
Buckets #1, Count: 2
Buckets #2, Count: 0
Buckets #3, Count: 1
ResourceMetrics #0
Resource SchemaURL: 
Resource attributes:
     -> telemetry.sdk.language: Str(python)
     -> telemetry.sdk.name: Str(opentelemetry)
     -> telemetry.sdk.version: Str(1.45.2)
     -> service.instance.id: Str(af249412-fc1c-483a-951d-dcddc90509fa)
     -> service.name: Str(harness-py)
     -> team.note: Str(it's a test value)
     -> deploy.count: Int(3)
ScopeMetrics #0
ScopeMetrics SchemaURL: 
InstrumentationScope harness.delta 
Metric #0
Descriptor:
     -> Name: harness.bytes
     -> Description: 
     -> Unit: By
     -> DataType: Sum
     -> IsMonotonic: true
     -> AggregationTemporality: AGGREGATION_TEMPORALITY_DELTA
NumberDataPoints #0
Data point attributes:
     -> dir: Str(in)
StartTimestamp: 1795436148258213706
Timestamp: 1795436148357156739
Value: 42
ResourceMetrics #0
Resource SchemaURL: 
Resource attributes:
     -> telemetry.sdk.language: Str(python)
     -> telemetry.sdk.name: Str(opentelemetry)
     -> telemetry.sdk.version: Str(1.45.2)
     -> service.instance.id: Str(af249412-fc1c-483a-951d-dcddc90509fa)
     -> service.name: Str(harness-py)
     -> team.note: Str(it's a test value)
     -> deploy.count: Int(3)
ScopeMetrics #0
ScopeMetrics SchemaURL: 
InstrumentationScope harness.meter 0.1.0
Metric #0
Descriptor:
     -> Name: harness.requests
     -> Description: Requests served
     -> Unit: 1
     -> DataType: Sum
     -> IsMonotonic: true
     -> AggregationTemporality: AGGREGATION_TEMPORALITY_CUMULATIVE
NumberDataPoints #0
Data point attributes:
     -> route: Str(/a)
     -> code: Int(200)
StartTimestamp: 1795436148257557522
Timestamp: 1795436148358356510
Value: 8
NumberDataPoints #1
Data point attributes:
     -> route: Str(/b b)
     -> code: Int(500)
StartTimestamp: 1795436148257617431
Timestamp: 1795436148358356510
Value: 4
Metric #1
Descriptor:
     -> Name: harness.latency
     -> Description: Latency
     -> Unit: ms
     -> DataType: Histogram
     -> AggregationTemporality: AGGREGATION_TEMPORALITY_CUMULATIVE
HistogramDataPoints #0
Data point attributes:
     -> route: Str(/a)
StartTimestamp: 1795436148257970004
Timestamp: 1795436148358356510
Count: 4
Sum: 46
Min: 1.5
Max: 30
ExplicitBounds #0: 5
ExplicitBounds #1: 10
ExplicitBounds #2: 25
Buckets #0, Count: 1
Buckets #1, Count: 2
Buckets #2, Count: 0
Buckets #3, Count: 1
"##;

    /// Real capture: `scripts/send_extra.py` over http/protobuf: gauge, up-down counter,
    /// double counter, exponential histogram, map/multi-line/empty bodies, events, links.
    const PYTHON_HTTP_EXTRA: &str = r##"ResourceMetrics #0
Resource SchemaURL: 
Resource attributes:
     -> telemetry.sdk.language: Str(python)
     -> telemetry.sdk.name: Str(opentelemetry)
     -> telemetry.sdk.version: Str(1.45.2)
     -> service.instance.id: Str(38cecf86-aea2-4f10-be66-d182bc8fac1b)
     -> service.name: Str(extra)
     -> arr: Slice(Str(a), Str(b))
     -> weird: Str(x: Str(y)
second line)
ScopeMetrics #0
ScopeMetrics SchemaURL: 
InstrumentationScope extra.meter 
Metric #0
Descriptor:
     -> Name: g.temp
     -> Description: 
     -> Unit: Cel
     -> DataType: Gauge
NumberDataPoints #0
Data point attributes:
     -> room: Str(kitchen)
StartTimestamp: 0
Timestamp: 1795436149166456609
Value: 21.5
Metric #1
Descriptor:
     -> Name: ud.items
     -> Description: 
     -> Unit: 
     -> DataType: Sum
     -> IsMonotonic: false
     -> AggregationTemporality: AGGREGATION_TEMPORALITY_CUMULATIVE
NumberDataPoints #0
StartTimestamp: 1795436149165623748
Timestamp: 1795436149166456609
Value: -3
Metric #2
Descriptor:
     -> Name: d.counter
     -> Description: 
     -> Unit: 
     -> DataType: Sum
     -> IsMonotonic: true
     -> AggregationTemporality: AGGREGATION_TEMPORALITY_CUMULATIVE
NumberDataPoints #0
StartTimestamp: 1795436149165711368
Timestamp: 1795436149166456609
Value: 1.25
Metric #3
Descriptor:
     -> Name: empty.attrs
     -> Description: 
     -> Unit: 
     -> DataType: Sum
     -> IsMonotonic: true
     -> AggregationTemporality: AGGREGATION_TEMPORALITY_CUMULATIVE
NumberDataPoints #0
StartTimestamp: 1795436149165778318
Timestamp: 1795436149166456609
Value: 1
Metric #4
Descriptor:
     -> Name: exp.hist
     -> Description: 
     -> Unit: 
     -> DataType: ExponentialHistogram
     -> AggregationTemporality: AGGREGATION_TEMPORALITY_CUMULATIVE
ExponentialHistogramDataPoints #0
StartTimestamp: 1795436149165997633
Timestamp: 1795436149166456609
Count: 5
Sum: 106
Min: 0
Max: 100
Bucket [-15.999999999999998, -1), Count: 0
Bucket [0, 0], Count: 1
Bucket (0.0625, 1], Count: 1
Bucket (1, 15.999999999999998], Count: 2
Bucket (15.999999999999998, 255.99999999999994], Count: 1
Bucket (255.99999999999994, 4095.999999999997], Count: 0
Metric #5
Descriptor:
     -> Name: obs.gauge
     -> Description: 
     -> Unit: 
     -> DataType: Gauge
NumberDataPoints #0
Data point attributes:
     -> x: Str(y)
StartTimestamp: 0
Timestamp: 1795436149166456609
Value: 7
ResourceLog #0
Resource SchemaURL: 
Resource attributes:
     -> telemetry.sdk.language: Str(python)
     -> telemetry.sdk.name: Str(opentelemetry)
     -> telemetry.sdk.version: Str(1.45.2)
     -> service.instance.id: Str(38cecf86-aea2-4f10-be66-d182bc8fac1b)
     -> service.name: Str(extra)
     -> arr: Slice(Str(a), Str(b))
     -> weird: Str(x: Str(y)
second line)
ScopeLogs #0
ScopeLogs SchemaURL: 
InstrumentationScope extra.logger 
LogRecord #0
ObservedTimestamp: 1795436149171328464
Timestamp: 0
SeverityText: 
SeverityNumber: SEVERITY_NUMBER_ERROR(17)
Body: Map(k:Str(v), n:Int(1))
    Trace ID       : 
    Span ID        : 
Flags: 0
ResourceLog #0
Resource SchemaURL: 
Resource attributes:
     -> telemetry.sdk.language: Str(python)
     -> telemetry.sdk.name: Str(opentelemetry)
     -> telemetry.sdk.version: Str(1.45.2)
     -> service.instance.id: Str(38cecf86-aea2-4f10-be66-d182bc8fac1b)
     -> service.name: Str(extra)
     -> arr: Slice(Str(a), Str(b))
     -> weird: Str(x: Str(y)
second line)
ScopeLogs #0
ScopeLogs SchemaURL: 
InstrumentationScope extra.logger 
LogRecord #0
ObservedTimestamp: 1795436149173010760
Timestamp: 0
SeverityText: custom
SeverityNumber: SEVERITY_NUMBER_UNSPECIFIED(0)
Body: Str(line one
line two)
Attributes:
     -> arr: Slice(Int(1), Int(2))
     -> multi: Str(a
b)
    Trace ID       : 
    Span ID        : 
Flags: 0
ResourceLog #0
Resource SchemaURL: 
Resource attributes:
     -> telemetry.sdk.language: Str(python)
     -> telemetry.sdk.name: Str(opentelemetry)
     -> telemetry.sdk.version: Str(1.45.2)
     -> service.instance.id: Str(38cecf86-aea2-4f10-be66-d182bc8fac1b)
     -> service.name: Str(extra)
     -> arr: Slice(Str(a), Str(b))
     -> weird: Str(x: Str(y)
second line)
ScopeLogs #0
ScopeLogs SchemaURL: 
InstrumentationScope extra.logger 
LogRecord #0
ObservedTimestamp: 1795436149174211161
Timestamp: 0
SeverityText: 
SeverityNumber: SEVERITY_NUMBER_UNSPECIFIED(0)
Body: Empty
    Trace ID       : 
    Span ID        : 
Flags: 0
ResourceSpans #0
Resource SchemaURL: 
Resource attributes:
     -> telemetry.sdk.language: Str(python)
     -> telemetry.sdk.name: Str(opentelemetry)
     -> telemetry.sdk.version: Str(1.45.2)
     -> service.instance.id: Str(38cecf86-aea2-4f10-be66-d182bc8fac1b)
     -> service.name: Str(extra)
     -> arr: Slice(Str(a), Str(b))
     -> weird: Str(x: Str(y)
second line)
ScopeSpans #0
ScopeSpans SchemaURL: 
InstrumentationScope extra.tracer 
Span #0
    Trace ID       : 07eb90cd37b5d2d0ea6075e3084871f9
    Parent ID      : 
    ID             : 74f9a9dfa572a72d
    Name           : linked
    Kind           : SPAN_KIND_INTERNAL
Start time: 1795436149175873388
End time: 1795436149175892887
    Status code    : STATUS_CODE_UNSET
    Status message : 
ResourceSpans #0
Resource SchemaURL: 
Resource attributes:
     -> telemetry.sdk.language: Str(python)
     -> telemetry.sdk.name: Str(opentelemetry)
     -> telemetry.sdk.version: Str(1.45.2)
     -> service.instance.id: Str(38cecf86-aea2-4f10-be66-d182bc8fac1b)
     -> service.name: Str(extra)
     -> arr: Slice(Str(a), Str(b))
     -> weird: Str(x: Str(y)
second line)
ScopeSpans #0
ScopeSpans SchemaURL: 
InstrumentationScope extra.tracer 
Span #0
    Trace ID       : 00f4a2f8078ad95c648c355b69c48239
    Parent ID      : 
    ID             : 4fde44374e389837
    Name           : with-events
    Kind           : SPAN_KIND_CLIENT
Start time: 1795436149177377019
End time: 1795436149177423498
    Status code    : STATUS_CODE_OK
    Status message : 
Events:
SpanEvent #0
     -> Name: ev1
     -> Timestamp: 1795436149177397359
     -> DroppedAttributesCount: 0
     -> Attributes::
          -> ek: Str(evv)
          -> en: Int(3)
SpanEvent #1
     -> Name: ev2
     -> Timestamp: 1795436149177405001
     -> DroppedAttributesCount: 0
Links:
SpanLink #0
     -> Trace ID: 07eb90cd37b5d2d0ea6075e3084871f9
     -> ID: 74f9a9dfa572a72d
     -> TraceState: 
     -> DroppedAttributesCount: 0
     -> Attributes::
          -> lk: Str(lv)
"##;

    /// Real capture: hand-written OTLP/JSON posted with curl (see the e2e test for why
    /// `json.int.as.string` has no value and `json.hist.strings` is `Empty`).
    const HTTP_JSON: &str = r##"ResourceMetrics #0
Resource SchemaURL: 
Resource attributes:
     -> service.name: Str(json-svc)
ScopeMetrics #0
ScopeMetrics SchemaURL: 
InstrumentationScope json.scope 1.0
Metric #0
Descriptor:
     -> Name: json.int.as.string
     -> Description: 
     -> Unit: 1
     -> DataType: Sum
     -> IsMonotonic: true
     -> AggregationTemporality: AGGREGATION_TEMPORALITY_CUMULATIVE
NumberDataPoints #0
StartTimestamp: 0
Timestamp: 1700000000000000000
Metric #1
Descriptor:
     -> Name: json.int.as.number
     -> Description: 
     -> Unit: 1
     -> DataType: Sum
     -> IsMonotonic: false
     -> AggregationTemporality: AGGREGATION_TEMPORALITY_DELTA
NumberDataPoints #0
StartTimestamp: 0
Timestamp: 1700000000000000000
Value: 5
Metric #2
Descriptor:
     -> Name: json.hist.numbers
     -> Description: 
     -> Unit: ms
     -> DataType: Histogram
     -> AggregationTemporality: AGGREGATION_TEMPORALITY_DELTA
HistogramDataPoints #0
StartTimestamp: 0
Timestamp: 1700000000000000000
Count: 4
Sum: 46
ExplicitBounds #0: 5
ExplicitBounds #1: 10
ExplicitBounds #2: 25
Buckets #0, Count: 1
Buckets #1, Count: 2
Buckets #2, Count: 0
Buckets #3, Count: 1
Metric #3
Descriptor:
     -> Name: json.hist.strings
     -> Description: 
     -> Unit: ms
     -> DataType: Empty
Metric #4
Descriptor:
     -> Name: json.summary
     -> Description: 
     -> Unit: s
     -> DataType: Empty
2026-11-23T12:16:03.394534Z ERROR Failed to decode OTLP HTTP/JSON request. error="Invalid data for Value, no known keys found at line 1 column 575"
ResourceSpans #0
Resource SchemaURL: 
Resource attributes:
     -> service.name: Str(json-svc)
ScopeSpans #0
ScopeSpans SchemaURL: 
InstrumentationScope json.scope 
Span #0
    Trace ID       : 5b8efff798038103d269b633813fc60c
    Parent ID      : eee19b7ec3c1b173
    ID             : eee19b7ec3c1b174
    Name           : json-span
    Kind           : SPAN_KIND_CLIENT
    TraceState     : vendor=x
Start time: 1700000000000000000
End time: 1700000001000000000
    Status code    : STATUS_CODE_ERROR
    Status message : bad thing
Attributes:
     -> bytes: Bytes([1, 2, 3])
     -> kv: Map(a:Bool(true))
Links:
SpanLink #0
     -> Trace ID: 5b8efff798038103d269b633813fc60d
     -> ID: eee19b7ec3c1b175
     -> TraceState: t=1
     -> DroppedAttributesCount: 0
     -> Attributes::
          -> lk: Str(lv)
ResourceMetrics #0
Resource SchemaURL: 
ScopeMetrics #0
ScopeMetrics SchemaURL: 
InstrumentationScope json.scope 
Metric #0
Descriptor:
     -> Name: json.summary2
     -> Description: 
     -> Unit: 
     -> DataType: Empty
"##;

    /// Synthetic, in rotel's format (from its source, `debug_buffer.rs`): a summary point
    /// and an exemplar with filtered attributes, which the Python SDK does not produce;
    /// plus a coloured rotel log line between blocks and a multi-line log message.
    const SYNTHETIC: &str =
        "\u{1b}[2m2026-11-23T12:12:20.866992Z\u{1b}[0m \u{1b}[32m INFO\u{1b}[0m Starting Rotel.
ResourceMetrics #0
Resource SchemaURL: https://opentelemetry.io/schemas/1.21.0
Resource attributes:
     -> service.name: Str(syn)
ScopeMetrics #0
ScopeMetrics SchemaURL: 
InstrumentationScope syn.scope 2.0
InstrumentationScope attributes:
     -> sk: Str(sv)
Metric #0
Descriptor:
     -> Name: syn.summary
     -> Description: a summary
     -> Unit: s
     -> DataType: Summary
SummaryDataPoints #0
Data point attributes:
     -> q: Str(x)
StartTimestamp: 1
Timestamp: 2
Count: 3
Sum: 6.5
QuantileValue #0: Quantile 0.5, Value 2
QuantileValue #1: Quantile 0.99, Value 3.5
Metric #1
Descriptor:
     -> Name: syn.counter
     -> Description: 
     -> Unit: 
     -> DataType: Sum
     -> IsMonotonic: true
     -> AggregationTemporality: AGGREGATION_TEMPORALITY_DELTA
NumberDataPoints #0
StartTimestamp: 1
Timestamp: 2
Value: 1.5
Exemplars:
Exemplar #0
     -> Trace ID: 0102030405060708090a0b0c0d0e0f10
     -> Span ID: 0102030405060708
     -> Timestamp: 3
     -> Value: 1.5
     -> FilteredAttributes:
          -> user: Str(u1)
2026-11-23T12:16:03.394534Z ERROR Failed to decode OTLP HTTP/JSON request. error=\"line one
line two of the same rotel log message\"
ResourceLog #0
Resource SchemaURL: 
ScopeLogs #0
ScopeLogs SchemaURL: 
InstrumentationScope  
LogRecord #0
ObservedTimestamp: 5
Timestamp: 6
SeverityText: 
SeverityNumber: SEVERITY_NUMBER_FATAL4(24)
Body: Str(Traceback (most recent call last):
    File \"x.py\", line 3, in foo
ValueError: #1 bad)
    Trace ID       : 
    Span ID        : 
Flags: 0
";

    fn parsed(text: &str) -> Received {
        parse(text)
    }

    fn kv(k: &str, v: &str) -> (String, String) {
        (k.to_string(), v.to_string())
    }

    #[test]
    fn python_grpc_counter_cumulative_with_exemplar() {
        let r = parsed(PYTHON_GRPC);
        let requests: Vec<_> = r
            .metrics
            .iter()
            .filter(|m| m.name == "harness.requests")
            .collect();
        // force_flush and shutdown each export the cumulative state.
        assert_eq!(requests.len(), 2);
        let m = requests[0];
        assert_eq!(m.kind, MetricKind::Sum);
        assert_eq!(m.unit, "1");
        assert_eq!(m.description, "Requests served");
        assert_eq!(m.monotonic, Some(true));
        assert_eq!(m.temporality, Some(Temporality::Cumulative));
        assert_eq!(m.scope.name, "harness.meter");
        assert_eq!(m.scope.version, "0.1.0");
        assert_eq!(m.points.len(), 2);
        let a = m.point(&[("route", "Str(/a)")]).expect("point /a");
        assert_eq!(
            a.attributes,
            vec![kv("route", "Str(/a)"), kv("code", "Int(200)")]
        );
        assert_eq!(a.value.as_deref(), Some("8"));
        assert_eq!(a.value_f64(), Some(8.0));
        assert_eq!(a.start_time_unix_nano, 1795436148257557522);
        assert_eq!(a.time_unix_nano, 1795436148352120556);
        assert_eq!(
            a.exemplars,
            vec![Exemplar {
                trace_id: "94996d622b749f796ba3f3d2bc0423a5".into(),
                span_id: "c173f8382f2ec427".into(),
                time_unix_nano: 1795436148259517030,
                value: Some("5".into()),
                filtered_attributes: vec![],
            }]
        );
        let b = m.point(&[("route", "Str(/b b)")]).expect("point '/b b'");
        assert_eq!(b.attr("code"), Some("Int(500)"));
        assert_eq!(b.value.as_deref(), Some("4"));
        assert!(b.exemplars.is_empty());
        assert!(requests[1].points[0].exemplars.is_empty());
        assert_eq!(
            attr(&m.resource, "team.note"),
            Some("Str(it's a test value)")
        );
    }

    #[test]
    fn python_grpc_delta_counter() {
        let r = parsed(PYTHON_GRPC);
        let m = r
            .metrics
            .iter()
            .find(|m| m.name == "harness.bytes")
            .expect("harness.bytes");
        assert_eq!(m.kind, MetricKind::Sum);
        assert_eq!(m.unit, "By");
        assert_eq!(m.description, "");
        assert_eq!(m.temporality, Some(Temporality::Delta));
        assert_eq!(m.scope.name, "harness.delta");
        assert_eq!(m.scope.version, "");
        assert_eq!(m.points.len(), 1);
        assert_eq!(m.points[0].attributes, vec![kv("dir", "Str(in)")]);
        assert_eq!(m.points[0].value.as_deref(), Some("42"));
    }

    #[test]
    fn python_grpc_histogram() {
        let r = parsed(PYTHON_GRPC);
        let m = r
            .metrics
            .iter()
            .find(|m| m.name == "harness.latency")
            .expect("harness.latency");
        assert_eq!(m.kind, MetricKind::Histogram);
        assert_eq!(m.unit, "ms");
        assert_eq!(m.monotonic, None);
        assert_eq!(m.temporality, Some(Temporality::Cumulative));
        let p = &m.points[0];
        assert_eq!(p.attributes, vec![kv("route", "Str(/a)")]);
        assert_eq!(p.value, None);
        assert_eq!(p.count, Some(4));
        assert_eq!(p.sum, Some(46.0));
        assert_eq!(p.min, Some(1.5));
        assert_eq!(p.max, Some(30.0));
        assert_eq!(p.bounds, vec![5.0, 10.0, 25.0]);
        assert_eq!(p.bucket_counts, vec![1, 2, 0, 1]);
    }

    #[test]
    fn python_grpc_logs() {
        let r = parsed(PYTHON_GRPC);
        assert_eq!(r.logs.len(), 2);
        let info = &r.logs[0];
        assert_eq!(info.event_name.as_deref(), Some("harness.request.done"));
        assert_eq!(info.severity_text, "INFO");
        assert_eq!(info.severity_number, Some(9));
        assert_eq!(info.severity_name.as_deref(), Some("SEVERITY_NUMBER_INFO"));
        assert_eq!(info.body, "Str(request done)");
        assert_eq!(info.body_text(), "request done");
        assert_eq!(
            info.attributes,
            vec![
                kv("str.attr", "Str(it's a 'quoted' value)"),
                kv("int.attr", "Int(42)"),
                kv("double.attr", "Double(2.5)"),
                kv("bool.attr", "Bool(true)"),
            ]
        );
        assert_eq!(info.trace_id, "94996d622b749f796ba3f3d2bc0423a5");
        assert_eq!(info.span_id, "c173f8382f2ec427");
        assert_eq!(info.flags, 3);
        assert_eq!(info.observed_time_unix_nano, 1795436148259576208);
        assert_eq!(info.time_unix_nano, 0);
        assert_eq!(info.scope.name, "harness.logger");
        let warn = &r.logs[1];
        assert_eq!(warn.event_name, None);
        assert_eq!(warn.severity_text, "WARN");
        assert_eq!(warn.severity_number, Some(13));
        assert_eq!(warn.body_text(), "disk almost full");
        assert_eq!(warn.attr("free.pct"), Some("Int(3)"));
    }

    #[test]
    fn python_grpc_spans() {
        let r = parsed(PYTHON_GRPC);
        assert_eq!(r.spans.len(), 2);
        let child = &r.spans[0];
        let parent = &r.spans[1];
        assert_eq!(child.name, "child-op");
        assert_eq!(child.trace_id, "94996d622b749f796ba3f3d2bc0423a5");
        assert_eq!(child.span_id, "c173f8382f2ec427");
        assert_eq!(child.parent_span_id, parent.span_id);
        assert_eq!(child.kind, "SPAN_KIND_INTERNAL");
        assert_eq!(child.status_code, "STATUS_CODE_ERROR");
        assert_eq!(child.status_message, "boom");
        assert_eq!(
            child.attributes,
            vec![
                kv("item.count", "Int(7)"),
                kv("ratio", "Double(0.25)"),
                kv("ok", "Bool(false)"),
            ]
        );
        assert_eq!(child.start_time_unix_nano, 1795436148259479985);
        assert_eq!(child.end_time_unix_nano, 1795436148349345899);
        assert_eq!(child.scope.name, "harness.tracer");
        assert_eq!(
            child.scope.attributes,
            vec![kv("scope.attr", "Str(scoped)")]
        );
        assert!(child.events.is_empty());

        assert_eq!(parent.name, "parent-op");
        assert_eq!(parent.span_id, "6f34419d1c2012bb");
        assert_eq!(parent.parent_span_id, "");
        assert_eq!(parent.kind, "SPAN_KIND_SERVER");
        assert_eq!(parent.status_code, "STATUS_CODE_UNSET");
        assert_eq!(parent.status_message, "");
        assert_eq!(parent.trace_state, "");
        assert_eq!(parent.attr("http.method"), Some("Str(GET)"));
        assert_eq!(
            parent.events,
            vec![SpanEvent {
                name: "cache.miss".into(),
                time_unix_nano: 1795436148259429210,
                dropped_attributes_count: 0,
                attributes: vec![kv("cache.key", "Str(user:42)")],
            }]
        );
    }

    #[test]
    fn python_grpc_resources() {
        let r = parsed(PYTHON_GRPC);
        // 2 log requests + 2 span requests + 3 metric requests, one resource block each.
        assert_eq!(r.resources.len(), 7);
        let first = &r.resources[0];
        assert_eq!(first.len(), 7);
        assert_eq!(attr(first, "service.name"), Some("Str(harness-py)"));
        assert_eq!(attr(first, "team.note"), Some("Str(it's a test value)"));
        assert_eq!(attr(first, "deploy.count"), Some("Int(3)"));
        assert!(r.resources.iter().all(|res| res == first));
        assert_eq!(r.logs[0].resource, *first);
        assert_eq!(r.spans[0].resource, *first);
    }

    #[test]
    fn extra_metric_kinds() {
        let r = parsed(PYTHON_HTTP_EXTRA);
        let by_name = |name: &str| {
            r.metrics
                .iter()
                .find(|m| m.name == name)
                .unwrap_or_else(|| panic!("metric {name} not parsed"))
        };
        let gauge = by_name("g.temp");
        assert_eq!(gauge.kind, MetricKind::Gauge);
        assert_eq!(gauge.unit, "Cel");
        assert_eq!(gauge.temporality, None);
        assert_eq!(gauge.monotonic, None);
        assert_eq!(gauge.points[0].attr("room"), Some("Str(kitchen)"));
        assert_eq!(gauge.points[0].value.as_deref(), Some("21.5"));
        assert_eq!(gauge.points[0].start_time_unix_nano, 0);

        let up_down = by_name("ud.items");
        assert_eq!(up_down.monotonic, Some(false));
        assert!(up_down.points[0].attributes.is_empty());
        assert_eq!(up_down.points[0].value.as_deref(), Some("-3"));
        assert_eq!(
            by_name("d.counter").points[0].value.as_deref(),
            Some("1.25")
        );
        assert_eq!(by_name("obs.gauge").points[0].value.as_deref(), Some("7"));

        let exp = by_name("exp.hist");
        assert_eq!(exp.kind, MetricKind::ExponentialHistogram);
        assert_eq!(exp.temporality, Some(Temporality::Cumulative));
        let p = &exp.points[0];
        assert_eq!(p.count, Some(5));
        assert_eq!(p.sum, Some(106.0));
        assert_eq!((p.min, p.max), (Some(0.0), Some(100.0)));
        assert!(p.bounds.is_empty() && p.bucket_counts.is_empty());
        let buckets: Vec<(&str, u64)> = p
            .exponential_buckets
            .iter()
            .map(|(range, n)| (range.as_str(), *n))
            .collect();
        assert_eq!(
            buckets,
            vec![
                ("[-15.999999999999998, -1)", 0),
                ("[0, 0]", 1),
                ("(0.0625, 1]", 1),
                ("(1, 15.999999999999998]", 2),
                ("(15.999999999999998, 255.99999999999994]", 1),
                ("(255.99999999999994, 4095.999999999997]", 0),
            ]
        );
    }

    #[test]
    fn multi_line_values_and_composite_attributes() {
        let r = parsed(PYTHON_HTTP_EXTRA);
        let res = &r.resources[0];
        assert_eq!(attr(res, "arr"), Some("Slice(Str(a), Str(b))"));
        assert_eq!(attr(res, "weird"), Some("Str(x: Str(y)\nsecond line)"));
        assert_eq!(
            plain(attr(res, "weird").expect("weird")),
            "x: Str(y)\nsecond line"
        );
        assert_eq!(res.len(), 7);

        assert_eq!(r.logs.len(), 3);
        assert_eq!(r.logs[0].body, "Map(k:Str(v), n:Int(1))");
        assert_eq!(r.logs[0].severity_number, Some(17));
        assert_eq!(r.logs[0].severity_text, "");
        assert_eq!(r.logs[0].trace_id, "");
        assert!(r.logs[0].attributes.is_empty());
        let multi = &r.logs[1];
        assert_eq!(multi.body_text(), "line one\nline two");
        assert_eq!(multi.severity_text, "custom");
        assert_eq!(multi.severity_number, Some(0));
        assert_eq!(
            multi.attributes,
            vec![kv("arr", "Slice(Int(1), Int(2))"), kv("multi", "Str(a\nb)")]
        );
        assert_eq!(r.logs[2].body, "Empty");
    }

    #[test]
    fn span_events_and_links() {
        let r = parsed(PYTHON_HTTP_EXTRA);
        let linked = &r.spans[0];
        let s = &r.spans[1];
        assert_eq!(s.name, "with-events");
        assert_eq!(s.kind, "SPAN_KIND_CLIENT");
        assert_eq!(s.status_code, "STATUS_CODE_OK");
        assert!(s.attributes.is_empty());
        assert_eq!(s.events.len(), 2);
        assert_eq!(s.events[0].name, "ev1");
        assert_eq!(
            s.events[0].attributes,
            vec![kv("ek", "Str(evv)"), kv("en", "Int(3)")]
        );
        assert_eq!(s.events[0].attr("en"), Some("Int(3)"));
        assert_eq!(s.events[1].name, "ev2");
        assert!(s.events[1].attributes.is_empty());
        assert_eq!(
            s.links,
            vec![SpanLink {
                trace_id: linked.trace_id.clone(),
                span_id: linked.span_id.clone(),
                trace_state: String::new(),
                dropped_attributes_count: 0,
                attributes: vec![kv("lk", "Str(lv)")],
            }]
        );
    }

    #[test]
    fn http_json_quirks() {
        let r = parsed(HTTP_JSON);
        let m = |name: &str| {
            r.metrics
                .iter()
                .find(|m| m.name == name)
                .unwrap_or_else(|| panic!("metric {name} not parsed"))
        };
        // rotel drops an `asInt` sent as a JSON string: the point has no Value line.
        let as_string = m("json.int.as.string");
        assert_eq!(as_string.points.len(), 1);
        assert_eq!(as_string.points[0].value, None);
        assert_eq!(as_string.points[0].time_unix_nano, 1700000000000000000);
        assert_eq!(
            m("json.int.as.number").points[0].value.as_deref(),
            Some("5")
        );
        assert_eq!(
            m("json.int.as.number").temporality,
            Some(Temporality::Delta)
        );
        assert_eq!(
            m("json.hist.numbers").points[0].bucket_counts,
            vec![1, 2, 0, 1]
        );
        // ... and a histogram whose count / bucketCounts are JSON strings entirely.
        assert_eq!(m("json.hist.strings").kind, MetricKind::Empty);
        assert!(m("json.hist.strings").points.is_empty());
        assert_eq!(m("json.summary").kind, MetricKind::Empty);
        assert_eq!(m("json.int.as.string").scope.version, "1.0");

        let span = &r.spans[0];
        assert_eq!(span.name, "json-span");
        assert_eq!(span.trace_state, "vendor=x");
        assert_eq!(span.parent_span_id, "eee19b7ec3c1b173");
        assert_eq!(span.status_message, "bad thing");
        assert_eq!(span.attr("bytes"), Some("Bytes([1, 2, 3])"));
        assert_eq!(span.attr("kv"), Some("Map(a:Bool(true))"));
        assert_eq!(span.links[0].trace_state, "t=1");
        assert_eq!(span.links[0].span_id, "eee19b7ec3c1b175");
        // The rotel ERROR line between blocks is not data.
        assert_eq!(
            r.metrics.last().map(|m| m.name.as_str()),
            Some("json.summary2")
        );
        assert_eq!(r.resources.len(), 3);
        assert!(r.resources[2].is_empty());
    }

    #[test]
    fn synthetic_summary_exemplar_and_noise() {
        let r = parsed(SYNTHETIC);
        assert_eq!(r.metrics.len(), 2);
        let summary = &r.metrics[0];
        assert_eq!(summary.kind, MetricKind::Summary);
        assert_eq!(summary.scope.name, "syn.scope");
        assert_eq!(summary.scope.version, "2.0");
        assert_eq!(summary.scope.attributes, vec![kv("sk", "Str(sv)")]);
        let p = &summary.points[0];
        assert_eq!(p.attr("q"), Some("Str(x)"));
        assert_eq!((p.count, p.sum), (Some(3), Some(6.5)));
        assert_eq!(p.quantiles, vec![(0.5, 2.0), (0.99, 3.5)]);

        let exemplar = &r.metrics[1].points[0].exemplars[0];
        assert_eq!(exemplar.span_id, "0102030405060708");
        assert_eq!(exemplar.time_unix_nano, 3);
        assert_eq!(exemplar.filtered_attributes, vec![kv("user", "Str(u1)")]);
        // The multi-line rotel ERROR message was not glued onto the exemplar.
        assert_eq!(exemplar.value.as_deref(), Some("1.5"));

        let log = &r.logs[0];
        assert_eq!(log.scope.name, "");
        assert_eq!(log.severity_number, Some(24));
        assert_eq!(log.severity_name.as_deref(), Some("SEVERITY_NUMBER_FATAL4"));
        assert_eq!(
            log.body_text(),
            "Traceback (most recent call last):\n    File \"x.py\", line 3, in foo\nValueError: #1 bad"
        );
        assert_eq!(log.flags, 0);
    }

    #[test]
    fn empty_and_garbage_input() {
        assert_eq!(parse(""), Received::default());
        let r = parse("hello\nValue: 3\n     -> k: Str(v)\n    Trace ID       : ab\nSpan #0\n");
        assert_eq!(r, Received::default());
    }

    #[test]
    fn partial_block_parses_what_is_there() {
        let cut = PYTHON_GRPC
            .find("Buckets #2")
            .expect("sample has Buckets #2");
        let r = parse(&PYTHON_GRPC[..cut]);
        let hist = r.metrics.last().expect("a metric");
        assert_eq!(hist.name, "harness.latency");
        assert_eq!(hist.points[0].bucket_counts, vec![1, 2]);
    }

    #[test]
    fn helpers() {
        assert_eq!(plain("Str(a b)"), "a b");
        assert_eq!(plain("Int(-3)"), "-3");
        assert_eq!(plain("Double(2.5)"), "2.5");
        assert_eq!(plain("Bool(true)"), "true");
        assert_eq!(plain("Str()"), "");
        assert_eq!(plain("Slice(Str(a))"), "Slice(Str(a))");
        assert_eq!(plain("Empty"), "Empty");
        assert_eq!(
            strip_ansi("\u{1b}[2mA\u{1b}[0m \u{1b}[32m INFO\u{1b}[0m"),
            "A  INFO"
        );
        assert!(is_rotel_log_line(
            "2026-11-23T12:15:46.925306Z  INFO Starting Rotel. grpc_endpoint=\"x\""
        ));
        assert!(!is_rotel_log_line("Timestamp: 1795436148352120556"));
        assert_eq!(split_kv("Attributes::"), ("Attributes", ":"));
        assert_eq!(split_kv("Description: "), ("Description", ""));
        assert_eq!(split_kv("weird: Str(x: y)"), ("weird", "Str(x: y)"));
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
    fn missing_binary_panics_with_install_hint() {
        let hint = install_hint();
        assert!(hint.contains("scripts/install-rotel"));
        assert!(hint.contains(ROTEL_AGENT_ENV));
    }
}
