//! Exporters: one module per transport, each behind a sink that reports its first failure.
//!
//! Every exporter is built from [`crate::config`] values only: endpoint, protocol, headers,
//! timeout, compression and TLS are passed explicitly, so the OTLP crate's own environment
//! reading cannot override a managed setting, and `OTEL_EXPORTER_OTLP_PROTOCOL` is really
//! honoured instead of following whichever transport feature was compiled in.

mod by_hand;
pub(crate) mod causes;
mod console;
mod grpc;
mod http;
mod tls;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry_otlp::RetryPolicy;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogBatch, LogExporter};
use opentelemetry_sdk::metrics::Temporality;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

use crate::config::{self, Exporter, Protocol, Signal, SignalConfig};
use crate::gate::Gates;
use crate::store::ExportOutcome;
use crate::warn;

pub(crate) use by_hand::{FirstExport, block_on};
pub(crate) use console::ConsoleExporter;

/// Retries sized for short-lived hooks: a refused connection costs about 20 ms at exit
/// (measured by `scripts/bench-process`; the recommended policy costs ~0.8 s), while a
/// collector that answers `UNAVAILABLE`/503 still gets two more attempts, 5 and 10 ms later
/// (a server-sent throttle delay is honoured).
///
/// The OTLP crate's retry jitter unwraps the time since 1970 and panics on its export thread
/// under a clock set before it; such a clock gets no retries, so nothing panics.
fn retry_policy() -> RetryPolicy {
    let before_1970 = std::time::SystemTime::now() < std::time::UNIX_EPOCH;
    RetryPolicy::recommended()
        .with_max_retries(if before_1970 { 0 } else { 2 })
        .with_initial_delay(Duration::from_millis(5))
        .with_max_delay(Duration::from_millis(50))
        .with_max_jitter(Duration::from_millis(2))
}

/// The I/O runtime the OTLP exporters' requests run on (one thread, for gRPC and HTTP
/// alike). Created only when an OTLP exporter is configured, owned by
/// the guard, and independent of any runtime of the host, so exports neither need the
/// host's runtime nor deadlock it at shutdown.
#[derive(Debug, Default)]
pub(crate) struct Io {
    runtime: Option<tokio::runtime::Runtime>,
    /// The HTTP clients and gRPC channels, shared by signals that can share one.
    http_clients: http::Clients,
    grpc_channels: grpc::Channels,
    pub(crate) health: Arc<ExportHealth>,
    /// The export gates of this process's destinations ([`crate::gate`]): a destination
    /// recently unreachable gets no exporter.
    pub(crate) gates: Gates,
    /// The headers helper's result this process exports with, marked refused at exit when
    /// a collector answered 401/403 ([`crate::headers_helper`]).
    pub(crate) headers_helper: Option<crate::headers_helper::Used>,
}

/// What this process's OTLP exports of each signal came to, for the shutdown report, the
/// store's export receipt and the one stderr line at exit.
#[derive(Debug, Default)]
pub(crate) struct ExportHealth {
    /// An OTLP exporter is configured for the signal.
    otlp: [AtomicBool; 3],
    succeeded: [AtomicBool; 3],
    /// Failed without the collector judging the data (refused, unavailable, TLS, ...).
    failed: [AtomicBool; 3],
    /// The collector answered that it cannot take the data (400, partial success).
    rejected: [AtomicBool; 3],
    /// Not exported: the destination's export gate is closed (the receipt says `deferred`).
    gated: [AtomicBool; 3],
    /// The collector refused the credentials (401/403, `UNAUTHENTICATED`,
    /// `PERMISSION_DENIED`).
    refused_credentials: [AtomicBool; 3],
    /// Exports started, and exports whose result came back: an export still waiting when
    /// the guard seals the health never got an answer, so it is not delivered.
    started: [AtomicUsize; 3],
    answered: [AtomicUsize; 3],
    /// Set by the guard at exit: first failures are then kept for its one line instead of
    /// each being printed by itself.
    deferred: AtomicBool,
    /// Results, and the seal. Once sealed (the guard's verdict is taken), a late result is
    /// ignored: it is the guard abandoning the export (stopping the I/O runtime fails
    /// in-flight gRPC calls with "dispatch task is gone"), not the collector's answer.
    failures: Mutex<Results>,
}

#[derive(Debug, Default)]
struct Results {
    sealed: bool,
    first: Vec<Failure>,
    /// Per signal, the likely cause of a failure to reach the collector at all, if one
    /// happened: what closes the export gate.
    unreachable: [Option<&'static str>; 3],
}

/// One exporter's first failure, kept for the guard's line at exit.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    pub(crate) signal: Signal,
    pub(crate) destination: String,
    /// The error with its likely cause and fix, one line.
    pub(crate) why: String,
    /// Failures of the same group are one problem (the same likely cause), whatever the
    /// signal-specific wording of their errors.
    pub(crate) group: String,
    pub(crate) rejected: bool,
}

impl ExportHealth {
    fn index(signal: Signal) -> usize {
        match signal {
            Signal::Metrics => 0,
            Signal::Logs => 1,
            Signal::Traces => 2,
        }
    }

    fn flag(flags: &[AtomicBool; 3], signal: Signal) -> bool {
        flags[Self::index(signal)].load(Ordering::Acquire)
    }

    fn set(flags: &[AtomicBool; 3], signal: Signal) {
        flags[Self::index(signal)].store(true, Ordering::Release);
    }

    /// Whether an export of `signal` has failed or been rejected.
    pub(crate) fn failed(&self, signal: Signal) -> bool {
        Self::flag(&self.failed, signal) || Self::flag(&self.rejected, signal)
    }

    fn mark_failed(&self, signal: Signal) {
        Self::set(&self.failed, signal);
    }

    /// The signal's OTLP export is paused by the export gate.
    pub(crate) fn mark_gated(&self, signal: Signal) {
        Self::set(&self.otlp, signal);
        Self::set(&self.gated, signal);
    }

    /// Whether the collector refused the credentials of an export of any signal.
    pub(crate) fn refused_credentials(&self) -> bool {
        Signal::ALL
            .into_iter()
            .any(|s| Self::flag(&self.refused_credentials, s))
    }

    /// Whether the signal's export was paused by the export gate.
    pub(crate) fn gated(&self, signal: Signal) -> bool {
        Self::flag(&self.gated, signal)
    }

    /// Whether the collector answered an export of `signal` (with a success, an error
    /// status or a rejection): it was reachable.
    pub(crate) fn reached(&self, signal: Signal) -> bool {
        Self::flag(&self.succeeded, signal)
            || Self::flag(&self.rejected, signal)
            || (Self::flag(&self.failed, signal) && self.unreachable(signal).is_none())
    }

    /// The likely cause, when an export of `signal` could not reach the collector.
    pub(crate) fn unreachable(&self, signal: Signal) -> Option<&'static str> {
        self.failures
            .lock()
            .ok()
            .and_then(|r| r.unreachable[Self::index(signal)])
    }

    /// Whether an export of `signal` started and no result came back for it.
    pub(crate) fn unanswered(&self, signal: Signal) -> bool {
        let i = Self::index(signal);
        self.answered[i].load(Ordering::Acquire) < self.started[i].load(Ordering::Acquire)
    }

    /// Takes the verdict: results that come back from now on are ignored.
    pub(crate) fn seal(&self) {
        if let Ok(mut results) = self.failures.lock() {
            results.sealed = true;
        }
    }

    /// What the OTLP exports of `signal` came to; `None` without an OTLP exporter.
    /// `unfinished`: the signal was still exporting when the exit budget ran out, or its
    /// shutdown gave up waiting, or an export never got an answer. Only an answer from the
    /// collector makes an export delivered.
    pub(crate) fn outcome(&self, signal: Signal, unfinished: bool) -> Option<ExportOutcome> {
        if !Self::flag(&self.otlp, signal) {
            return None;
        }
        if Self::flag(&self.gated, signal) {
            return Some(ExportOutcome::Deferred);
        }
        let unfinished = unfinished || self.unanswered(signal);
        let (ok, failed) = (
            Self::flag(&self.succeeded, signal),
            Self::flag(&self.failed, signal),
        );
        Some(if Self::flag(&self.rejected, signal) {
            ExportOutcome::Rejected
        } else if ok && (failed || unfinished) {
            ExportOutcome::Mixed
        } else if unfinished {
            ExportOutcome::Abandoned
        } else if failed {
            ExportOutcome::Failed
        } else {
            ExportOutcome::Delivered
        })
    }

    /// From now on, keep first failures for [`ExportHealth::take_failures`].
    pub(crate) fn defer(&self) {
        self.deferred.store(true, Ordering::Release);
    }

    /// The failures kept since [`ExportHealth::defer`], in signal order.
    pub(crate) fn take_failures(&self) -> Vec<Failure> {
        let mut failures = self
            .failures
            .lock()
            .map(|mut f| std::mem::take(&mut f.first))
            .unwrap_or_default();
        failures.sort_by_key(|f| Self::index(f.signal));
        failures
    }
}

/// Whether an export error is the collector refusing the data itself, so that sending it
/// again would be refused again (as opposed to a failure to deliver it at all).
fn is_rejection(error: &str) -> bool {
    let lower = error.to_ascii_lowercase();
    lower.contains("status code: 400") || lower.contains("grpc code: invalidargument")
}

impl Io {
    /// The runtime's handle, starting it (its one thread) the first time.
    pub(crate) fn handle(&mut self) -> Result<tokio::runtime::Handle, String> {
        if let Some(rt) = &self.runtime {
            return Ok(rt.handle().clone());
        }
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("han-telemetry-io")
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the export's I/O thread: {e}"))?;
        let handle = rt.handle().clone();
        self.runtime = Some(rt);
        Ok(handle)
    }

    /// The runtime's handle, if it was started.
    pub(crate) fn running(&self) -> Option<tokio::runtime::Handle> {
        self.runtime.as_ref().map(|rt| rt.handle().clone())
    }

    /// Stops the runtime without waiting: safe from any thread, inside or outside a runtime.
    pub(crate) fn shutdown(self) {
        if let Some(rt) = self.runtime {
            rt.shutdown_background();
        }
    }
}

/// Notes every export's result in [`ExportHealth`] and reports the first failure of one
/// exporter, once, with a likely cause: at once while the process runs, or in the guard's
/// single line at exit.
#[derive(Debug)]
pub(crate) struct Reporter {
    signal: Signal,
    /// OTLP (counted in the health and the store's receipt) rather than the console.
    otlp: bool,
    health: Arc<ExportHealth>,
    destination: String,
    /// The protocol and port, for OTLP: they name the usual mistake.
    to: Option<causes::Destination>,
    /// The transport's own description of the last network error, when it keeps one.
    detail: Option<Arc<Mutex<Option<String>>>>,
    /// A partial success the collector answered to the last export (HTTP reads it).
    partial: Option<Arc<Mutex<Option<String>>>>,
    reported: AtomicBool,
}

impl Reporter {
    fn new(
        signal: Signal,
        health: &Arc<ExportHealth>,
        destination: String,
        to: Option<causes::Destination>,
        transport: Option<&Transport>,
    ) -> Arc<Self> {
        if transport.is_some() {
            ExportHealth::set(&health.otlp, signal);
        }
        Arc::new(Reporter {
            signal,
            otlp: transport.is_some(),
            health: Arc::clone(health),
            destination,
            to,
            detail: transport.and_then(|t| t.detail.clone()),
            partial: transport.and_then(|t| t.partial.clone()),
            reported: AtomicBool::new(false),
        })
    }

    /// An export is about to start.
    fn begin(&self) {
        crate::phase::mark(match self.signal {
            Signal::Metrics => "metrics export starts",
            Signal::Logs => "logs export starts",
            Signal::Traces => "traces export starts",
        });
        if self.otlp {
            self.health.started[ExportHealth::index(self.signal)].fetch_add(1, Ordering::AcqRel);
        }
    }

    /// An export's result came back.
    fn observe(&self, result: &OTelSdkResult) {
        crate::phase::mark(match self.signal {
            Signal::Metrics => "metrics export answered",
            Signal::Logs => "logs export answered",
            Signal::Traces => "traces export answered",
        });
        // Held to the end, so that a result is either wholly taken before the seal or
        // wholly ignored after it.
        let Ok(mut results) = self.health.failures.lock() else {
            return;
        };
        if results.sealed {
            return;
        }
        if self.otlp {
            self.health.answered[ExportHealth::index(self.signal)].fetch_add(1, Ordering::AcqRel);
        }
        let partial = self
            .partial
            .as_ref()
            .and_then(|slot| slot.lock().ok().and_then(|mut p| p.take()));
        let (why, group, rejected) = match (result, partial) {
            (Ok(()), None) => {
                if self.otlp {
                    ExportHealth::set(&self.health.succeeded, self.signal);
                }
                return;
            }
            (Ok(()), Some(partial)) => (
                format!(
                    "{partial} (the collector refused part of the data; its logs say why; \
                     it is not sent again)"
                ),
                "partial success".to_owned(),
                true,
            ),
            (Err(error), _) => {
                let error = error.to_string();
                let detail = self
                    .detail
                    .as_ref()
                    .and_then(|slot| slot.lock().ok().and_then(|d| d.clone()));
                let explained = causes::classify_export_error(&error, detail.as_deref(), self.to);
                if explained
                    .known
                    .is_some_and(causes::Cause::refuses_credentials)
                {
                    ExportHealth::set(&self.health.refused_credentials, self.signal);
                }
                if let Some(cause) = explained.known.filter(|c| c.unreachable) {
                    let slot = &mut results.unreachable[ExportHealth::index(self.signal)];
                    slot.get_or_insert(cause.cause);
                }
                let group = match explained.known {
                    Some(cause) => cause.cause.to_owned(),
                    None => explained.text.replace(&self.destination, ""),
                };
                (explained.line(), group, is_rejection(&error))
            }
        };
        if rejected {
            ExportHealth::set(&self.health.rejected, self.signal);
        } else {
            self.health.mark_failed(self.signal);
        }
        if self.reported.swap(true, Ordering::AcqRel) {
            return;
        }
        if self.health.deferred.load(Ordering::Acquire) {
            results.first.push(Failure {
                signal: self.signal,
                destination: self.destination.clone(),
                why,
                group,
                rejected,
            });
            return;
        }
        drop(results);
        warn::warn_once(
            &format!("export:{}:{}", self.signal.name(), self.destination),
            &format!(
                "{} export to {} failed: {why}. Telemetry from this process may be lost.",
                self.signal.name(),
                self.destination
            ),
        );
    }
}

// One value per configured exporter, built once: boxing would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
enum MetricTarget {
    Otlp(opentelemetry_otlp::MetricExporter),
    Console(ConsoleExporter),
}

/// A metric exporter with failure reporting.
#[derive(Debug)]
pub(crate) struct MetricSink {
    target: MetricTarget,
    temporality: Temporality,
    reporter: Arc<Reporter>,
}

impl PushMetricExporter for MetricSink {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        self.reporter.begin();
        let result = match &self.target {
            MetricTarget::Otlp(e) => e.export(metrics).await,
            MetricTarget::Console(c) => c.export_metrics(metrics),
        };
        self.reporter.observe(&result);
        result
    }

    fn force_flush(&self) -> OTelSdkResult {
        match &self.target {
            MetricTarget::Otlp(e) => e.force_flush(),
            MetricTarget::Console(_) => Ok(()),
        }
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        match &self.target {
            MetricTarget::Otlp(e) => e.shutdown_with_timeout(timeout),
            MetricTarget::Console(_) => Ok(()),
        }
    }

    fn temporality(&self) -> Temporality {
        self.temporality
    }
}

// One value per configured exporter, built once: boxing would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
enum LogTarget {
    Otlp(opentelemetry_otlp::LogExporter),
    Console(ConsoleExporter),
}

/// A log exporter with failure reporting.
#[derive(Debug)]
pub(crate) struct LogSink {
    target: LogTarget,
    reporter: Arc<Reporter>,
}

impl LogExporter for LogSink {
    async fn export(&self, batch: LogBatch<'_>) -> OTelSdkResult {
        self.reporter.begin();
        let result = match &self.target {
            LogTarget::Otlp(e) => e.export(batch).await,
            LogTarget::Console(c) => c.export_logs(&batch),
        };
        self.reporter.observe(&result);
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        match &self.target {
            LogTarget::Otlp(e) => e.shutdown_with_timeout(timeout),
            LogTarget::Console(_) => Ok(()),
        }
    }

    fn set_resource(&mut self, resource: &opentelemetry_sdk::Resource) {
        match &mut self.target {
            LogTarget::Otlp(e) => e.set_resource(resource),
            LogTarget::Console(c) => c.set_resource(resource),
        }
    }
}

// One value per configured exporter, built once: boxing would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
enum SpanTarget {
    Otlp(opentelemetry_otlp::SpanExporter),
    Console(ConsoleExporter),
}

/// A span exporter with failure reporting.
#[derive(Debug)]
pub(crate) struct SpanSink {
    target: SpanTarget,
    reporter: Arc<Reporter>,
}

impl SpanExporter for SpanSink {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.reporter.begin();
        let result = match &self.target {
            SpanTarget::Otlp(e) => e.export(batch).await,
            SpanTarget::Console(c) => c.export_spans(&batch),
        };
        self.reporter.observe(&result);
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        match &self.target {
            SpanTarget::Otlp(e) => e.shutdown_with_timeout(timeout),
            SpanTarget::Console(_) => Ok(()),
        }
    }

    fn set_resource(&mut self, resource: &opentelemetry_sdk::Resource) {
        match &mut self.target {
            SpanTarget::Otlp(e) => e.set_resource(resource),
            SpanTarget::Console(c) => c.set_resource(resource),
        }
    }
}

/// The transport-specific half of an OTLP exporter, ready for a signal's builder.
pub(crate) struct Transport {
    kind: TransportKind,
    detail: Option<Arc<Mutex<Option<String>>>>,
    partial: Option<Arc<Mutex<Option<String>>>>,
}

enum TransportKind {
    Grpc(grpc::GrpcTransport),
    Http(http::HttpTransport),
}

fn transport(signal: Signal, otlp: &config::OtlpConfig, io: &mut Io) -> Result<Transport, String> {
    match otlp.protocol {
        Protocol::Grpc => {
            let handle = io.handle()?;
            Ok(Transport {
                kind: TransportKind::Grpc(grpc::transport(otlp, &handle, &mut io.grpc_channels)?),
                detail: None,
                partial: None,
            })
        }
        Protocol::HttpProtobuf | Protocol::HttpJson => {
            let handle = io.handle()?;
            let t = http::transport(signal, otlp, &mut io.http_clients, &handle)?;
            let (detail, partial) = (Some(t.last_error()), Some(t.partial_success()));
            Ok(Transport {
                kind: TransportKind::Http(t),
                detail,
                partial,
            })
        }
    }
}

/// Calls `build` for each configured exporter of a signal; an exporter that cannot be built
/// gets one warning and is left out, the others still work.
fn each_exporter<T>(
    signal: Signal,
    cfg: &SignalConfig,
    io: &mut Io,
    mut otlp: impl FnMut(Transport, Arc<Reporter>) -> Result<T, String>,
    mut console: impl FnMut(Arc<Reporter>) -> T,
) -> Vec<T> {
    let mut out = Vec::new();
    for exporter in &cfg.exporters {
        match exporter {
            Exporter::Console => out.push(console(Reporter::new(
                signal,
                &io.health,
                "stderr".into(),
                None,
                None,
            ))),
            Exporter::Otlp => {
                if !io
                    .gates
                    .admit(signal, cfg.otlp.protocol, &cfg.otlp.endpoint)
                {
                    io.health.mark_gated(signal);
                    continue;
                }
                let health = Arc::clone(&io.health);
                let built = transport(signal, &cfg.otlp, io).and_then(|t| {
                    let reporter = Reporter::new(
                        signal,
                        &health,
                        crate::mask::mask_url(&cfg.otlp.endpoint),
                        Some(causes::Destination::new(
                            cfg.otlp.protocol,
                            &cfg.otlp.endpoint,
                        )),
                        Some(&t),
                    );
                    otlp(t, reporter)
                });
                match built {
                    Ok(sink) => out.push(sink),
                    Err(why) => {
                        ExportHealth::set(&health.otlp, signal);
                        health.mark_failed(signal);
                        warn::warn_once(
                            &format!("build:{}", signal.name()),
                            &format!(
                                "cannot export {} to {}: {why}; {} export is off for this process",
                                signal.name(),
                                crate::mask::mask_url(&cfg.otlp.endpoint),
                                signal.name()
                            ),
                        );
                    }
                }
            }
        }
    }
    out
}

/// Metric sinks for the configured exporters.
pub(crate) fn metric_sinks(
    cfg: &SignalConfig,
    temporality: Temporality,
    io: &mut Io,
) -> Vec<MetricSink> {
    each_exporter(
        Signal::Metrics,
        cfg,
        io,
        |t, reporter| {
            let exporter = match t.kind {
                TransportKind::Grpc(g) => g.metric_exporter(temporality),
                TransportKind::Http(h) => h.metric_exporter(temporality),
            }?;
            Ok(MetricSink {
                target: MetricTarget::Otlp(exporter),
                temporality,
                reporter,
            })
        },
        |reporter| MetricSink {
            target: MetricTarget::Console(ConsoleExporter::default()),
            temporality,
            reporter,
        },
    )
}

/// Log sinks for the configured exporters.
pub(crate) fn log_sinks(cfg: &SignalConfig, io: &mut Io) -> Vec<LogSink> {
    each_exporter(
        Signal::Logs,
        cfg,
        io,
        |t, reporter| {
            let exporter = match t.kind {
                TransportKind::Grpc(g) => g.log_exporter(),
                TransportKind::Http(h) => h.log_exporter(),
            }?;
            Ok(LogSink {
                target: LogTarget::Otlp(exporter),
                reporter,
            })
        },
        |reporter| LogSink {
            target: LogTarget::Console(ConsoleExporter::default()),
            reporter,
        },
    )
}

/// Span sinks for the configured exporters.
pub(crate) fn span_sinks(cfg: &SignalConfig, io: &mut Io) -> Vec<SpanSink> {
    each_exporter(
        Signal::Traces,
        cfg,
        io,
        |t, reporter| {
            let exporter = match t.kind {
                TransportKind::Grpc(g) => g.span_exporter(),
                TransportKind::Http(h) => h.span_exporter(),
            }?;
            Ok(SpanSink {
                target: SpanTarget::Otlp(exporter),
                reporter,
            })
        },
        |reporter| SpanSink {
            target: SpanTarget::Console(ConsoleExporter::default()),
            reporter,
        },
    )
}

/// Maps our temporality to the SDK's.
pub(crate) fn sdk_temporality(t: config::Temporality) -> Temporality {
    match t {
        config::Temporality::Cumulative => Temporality::Cumulative,
        config::Temporality::Delta => Temporality::Delta,
        config::Temporality::LowMemory => Temporality::LowMemory,
    }
}

/// One signal's OTLP exporter, bare, for [`crate::tools::probe`].
// One value per probe, built once: boxing would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub(crate) enum ProbeExporter {
    Metrics(opentelemetry_otlp::MetricExporter),
    Logs(opentelemetry_otlp::LogExporter),
    #[cfg_attr(not(feature = "tools"), allow(dead_code))]
    Traces(opentelemetry_otlp::SpanExporter),
}

/// An OTLP exporter built exactly as the sinks build theirs (same transport, TLS, headers,
/// compression, timeout and retries) but without a [`Reporter`]: a failure goes back to the
/// caller instead of to stderr.
#[derive(Debug)]
pub(crate) struct ProbeTarget {
    pub(crate) exporter: ProbeExporter,
    /// The transport's own description of the last network error (HTTP keeps one).
    pub(crate) detail: Option<Arc<Mutex<Option<String>>>>,
}

/// Builds the OTLP exporter of `signal` from `otlp`, for a test export or a resend.
pub(crate) fn probe_target(
    signal: Signal,
    otlp: &config::OtlpConfig,
    temporality: Temporality,
    io: &mut Io,
) -> Result<ProbeTarget, String> {
    let t = transport(signal, otlp, io)?;
    let detail = t.detail;
    let exporter = match (signal, t.kind) {
        (Signal::Metrics, TransportKind::Grpc(g)) => {
            ProbeExporter::Metrics(g.metric_exporter(temporality)?)
        }
        (Signal::Metrics, TransportKind::Http(h)) => {
            ProbeExporter::Metrics(h.metric_exporter(temporality)?)
        }
        (Signal::Logs, TransportKind::Grpc(g)) => ProbeExporter::Logs(g.log_exporter()?),
        (Signal::Logs, TransportKind::Http(h)) => ProbeExporter::Logs(h.log_exporter()?),
        (Signal::Traces, TransportKind::Grpc(g)) => ProbeExporter::Traces(g.span_exporter()?),
        (Signal::Traces, TransportKind::Http(h)) => ProbeExporter::Traces(h.span_exporter()?),
    };
    Ok(ProbeTarget { exporter, detail })
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_sdk::error::OTelSdkError;

    fn otlp_reporter(health: &Arc<ExportHealth>) -> Arc<Reporter> {
        reporter_to(health, "http://c:4317")
    }

    fn reporter_to(health: &Arc<ExportHealth>, endpoint: &str) -> Arc<Reporter> {
        let to = causes::Destination::new(Protocol::Grpc, endpoint);
        let reporter = Reporter::new(Signal::Metrics, health, endpoint.into(), Some(to), None);
        ExportHealth::set(&health.otlp, Signal::Metrics);
        Arc::new(Reporter {
            otlp: true,
            ..Arc::try_unwrap(reporter).expect("sole owner")
        })
    }

    #[test]
    fn an_answer_delivers_and_a_missing_one_abandons() {
        let health = Arc::new(ExportHealth::default());
        let reporter = otlp_reporter(&health);
        reporter.begin();
        reporter.observe(&Ok(()));
        assert_eq!(
            health.outcome(Signal::Metrics, false),
            Some(ExportOutcome::Delivered)
        );
        reporter.begin();
        assert_eq!(
            health.outcome(Signal::Metrics, false),
            Some(ExportOutcome::Mixed),
            "a second export without an answer"
        );
    }

    #[test]
    fn a_result_after_the_seal_is_the_guard_abandoning_not_the_collector() {
        let health = Arc::new(ExportHealth::default());
        health.defer();
        let reporter = otlp_reporter(&health);
        reporter.begin();
        health.seal();
        // What stopping the I/O runtime makes an in-flight gRPC call return.
        reporter.observe(&Err(OTelSdkError::InternalFailure(
            "dispatch task is gone: runtime dropped the dispatch task".into(),
        )));
        assert!(!health.failed(Signal::Metrics));
        assert!(health.take_failures().is_empty());
        assert_eq!(
            health.outcome(Signal::Metrics, false),
            Some(ExportOutcome::Abandoned)
        );
    }

    #[test]
    fn the_exit_line_names_grpc_sent_to_the_http_port() {
        let health = Arc::new(ExportHealth::default());
        health.defer();
        let reporter = reporter_to(&health, "http://localhost:4318");
        reporter.begin();
        reporter.observe(&Err(OTelSdkError::InternalFailure(
            "Operation failed: TonicMetricsClient export failed with gRPC code: Unimplemented"
                .into(),
        )));
        let failures = health.take_failures();
        assert_eq!(failures.len(), 1);
        let Failure { why, group, .. } = &failures[0];
        assert!(
            why.ends_with(
                "(4318 is the OTLP/HTTP port, and the protocol is gRPC (the default); set \
                 OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf, or use port 4317 for gRPC)"
            ),
            "{why}"
        );
        assert_eq!(
            group,
            "4318 is the OTLP/HTTP port, and the protocol is gRPC (the default)"
        );
    }
}
