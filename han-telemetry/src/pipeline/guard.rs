//! Flush and shutdown at exit, within a time budget.
//!
//! A hook is a short-lived process: whatever it recorded must be exported before it exits,
//! but a collector that is down or never answers must not make it slow. Dropping the guard
//! starts the last export of metrics and events as tasks on the export's I/O runtime (in
//! parallel, on the one thread their requests need anyway: no thread is started to flush),
//! shuts spans down on a thread of their own, and waits for all of them at most the exit
//! budget (`HAN_TELEMETRY_EXIT_BUDGET_MS`, 1000 ms by default). What is still pending then is
//! abandoned with one line on stderr; the SDK's own shutdown timeouts (5 s per provider, and
//! forever for gRPC inside a current-thread runtime) never apply.

use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::{Arc, mpsc};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;

use super::last::LastExport;
use super::layer::Activation;
use super::queue::Overload;
use crate::config::Signal;
use crate::export::{Failure, Io};
use crate::gate::{Closed, Paused, Reach};
use crate::store::{self, Entry, ExportOutcome, LocalStore};
use crate::warn;

/// The providers and runtime a guard shuts down.
#[derive(Debug, Default)]
pub(crate) struct Providers {
    pub(crate) meter: Option<SdkMeterProvider>,
    pub(crate) logger: Option<SdkLoggerProvider>,
    pub(crate) tracer: Option<SdkTracerProvider>,
    pub(crate) io: Io,
    pub(crate) activation: Option<Activation>,
    pub(crate) store: Option<LocalStore>,
    /// Sends earlier processes' pending records after this one's export was delivered.
    pub(crate) catch_up: Option<CatchUp>,
    /// Events the export queue had no room for.
    pub(crate) overload: Option<Arc<Overload>>,
    /// The metric readers' and event queues' last exports, run on `io`'s runtime at exit.
    pub(crate) last: Vec<(Signal, Arc<dyn LastExport>)>,
    /// The last exports are started on the exiting thread (see [`TelemetryGuard::run`]):
    /// only for the configured exporters, which never block it. Your own exporters
    /// ([`crate::TelemetryBuilder::exporters`]) run on the I/O thread alone.
    pub(crate) start_here: bool,
}

/// A hook's catch-up at exit ([`crate::resend`], given by [`crate::start`]): called with the
/// store directory, the last instant a batch may start and the exit deadline.
pub(crate) struct CatchUp(pub(crate) Box<CatchUpFn>);

/// What a [`CatchUp`] runs.
pub(crate) type CatchUpFn = dyn FnOnce(&Path, Instant, Instant) + Send;

impl std::fmt::Debug for CatchUp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CatchUp")
    }
}

/// Flushes and shuts telemetry down when dropped (or on [`TelemetryGuard::shutdown`]).
///
/// Keep it alive for as long as the program records telemetry, typically as a binding in
/// `main`: `let _telemetry = han_telemetry::init();`. Note that `std::process::exit` skips
/// destructors: drop the guard (or call `shutdown`) before exiting that way.
///
#[doc = include_str!("exit.md")]
#[must_use = "telemetry is flushed when the guard is dropped; dropping it at once loses everything recorded later"]
#[derive(Debug)]
pub struct TelemetryGuard {
    providers: Option<Providers>,
    budget: Duration,
}

/// What happened at shutdown.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ShutdownReport {
    /// Signals whose every export succeeded, the last one within the budget.
    pub delivered: Vec<&'static str>,
    /// Signals with at least one failed export (each failure was reported on stderr).
    pub failed: Vec<&'static str>,
    /// Signals still exporting when the budget ran out, abandoned.
    pub abandoned: Vec<&'static str>,
    /// Signals not exported: the export gate of their destination was closed (a recent
    /// failure to reach it, [`crate::gate`]); their records are kept in the local store.
    pub deferred: Vec<&'static str>,
    /// How long the shutdown took.
    pub elapsed: Duration,
    /// Events left out of the export because its queue was full (said once on stderr when it
    /// first happened; the local store has them). See
    /// [`TelemetryBuilder::event_queue`](crate::TelemetryBuilder::event_queue).
    pub events_dropped: u64,
}

impl TelemetryGuard {
    pub(crate) fn new(providers: Providers, budget: Duration) -> Self {
        TelemetryGuard {
            providers: Some(providers),
            budget,
        }
    }

    /// A guard with nothing to shut down (telemetry off).
    pub(crate) fn inert() -> Self {
        TelemetryGuard {
            providers: None,
            budget: Duration::ZERO,
        }
    }

    /// The exit budget this guard honours.
    pub fn exit_budget(&self) -> Duration {
        self.budget
    }

    /// Flushes and shuts down now, within the exit budget, and says what happened.
    pub fn shutdown(mut self) -> ShutdownReport {
        self.run()
    }

    fn run(&mut self) -> ShutdownReport {
        let Some(mut providers) = self.providers.take() else {
            return ShutdownReport::default();
        };
        let start = Instant::now();
        crate::phase::mark("shutdown starts");
        // Close the gate first: recording after this point would be lost anyway.
        drop(providers.activation);
        // The local store is a local write, done before any network wait can use the budget.
        if let Some(store) = &providers.store {
            store.flush();
        }
        crate::phase::mark("store written");
        let health = Arc::clone(&providers.io.health);
        // From here on, failures wait for the one line below instead of a line each.
        health.defer();
        let (tx, rx) = mpsc::channel::<(&'static str, OTelSdkResult)>();
        let mut pending: Vec<&'static str> = Vec::new();
        // Metrics and events: tasks on the I/O runtime their exporters were built on. This
        // thread only waits from here on, so it starts them: polled once here, each collects
        // or takes its records, encodes them and hands its request to the I/O thread, and the
        // next one encodes while that request is on its way; the task finishes it.
        let last = std::mem::take(&mut providers.last);
        if let Some(io) = providers.io.running() {
            let _entered = io.enter();
            for (signal, part) in last {
                let mut exporting = part.last_export();
                let answer = Answer {
                    tx: Some(tx.clone()),
                    signal,
                };
                pending.push(signal.name());
                if providers.start_here {
                    let mut cx = Context::from_waker(Waker::noop());
                    // A panicking exporter loses its export (the answer says so), not the exit.
                    match std::panic::catch_unwind(AssertUnwindSafe(|| {
                        exporting.as_mut().poll(&mut cx)
                    })) {
                        Ok(Poll::Ready(result)) => {
                            answer.send(result);
                            continue;
                        }
                        Ok(Poll::Pending) => {}
                        Err(_) => continue,
                    }
                }
                io.spawn(async move { answer.send(exporting.await) });
            }
        }
        // Spans: the SDK's batch processor, shut down on a thread of its own.
        let budget = self.budget;
        if let Some(p) = providers.tracer.take() {
            let answer = Answer {
                tx: Some(tx.clone()),
                signal: Signal::Traces,
            };
            let spawned = std::thread::Builder::new()
                .name("han-telemetry-flush-traces".into())
                .spawn(move || answer.send(p.shutdown_with_timeout(budget)));
            match spawned {
                Ok(_) => pending.push(Signal::Traces.name()),
                Err(e) => warn::warn_once(
                    "flush-thread:traces",
                    &format!("cannot start a thread to flush traces ({e}); that data is lost"),
                ),
            }
        }
        drop(tx);
        crate::phase::mark("last exports started");
        let deadline = start + self.budget;
        let mut finished: Vec<&'static str> = Vec::new();
        // Signals whose shutdown gave up waiting for an export (the SDK's own timeouts):
        // the collector never answered, so they are abandoned, not delivered.
        let mut gave_up: Vec<&'static str> = Vec::new();
        while !pending.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok((name, result)) => {
                    // One answer per exporter; a signal may have several (console and OTLP).
                    if let Some(at) = pending.iter().position(|p| *p == name) {
                        pending.remove(at);
                    }
                    if matches!(result, Err(OTelSdkError::Timeout(_))) {
                        gave_up.push(name);
                    } else {
                        finished.push(name);
                    }
                }
                Err(_) => break,
            }
        }
        // The verdict is taken now: what the exporters report from here on is our own
        // abandoning them (stopping the I/O runtime fails in-flight gRPC calls), not an
        // answer from the collector.
        crate::phase::mark("every flush answered");
        health.seal();
        let gates = std::mem::take(&mut providers.io.gates);
        let headers_helper = providers.io.headers_helper.take();
        // Stopping the runtime ends the requests still waiting for an answer; the providers'
        // shutdowns then find nothing left to export and wait for nothing.
        providers.io.shutdown();
        let left = deadline.saturating_duration_since(Instant::now());
        if let Some(p) = providers.meter.take() {
            let _ = p.shutdown_with_timeout(left);
        }
        if let Some(p) = providers.logger.take() {
            let _ = p.shutdown_with_timeout(left);
        }
        // A collector refused the helper's headers: the next process runs it again.
        if let Some(used) = &headers_helper
            && health.refused_credentials()
        {
            used.refused();
        }
        let unfinished = |s: Signal| {
            pending.contains(&s.name()) || gave_up.contains(&s.name()) || health.unanswered(s)
        };
        let cut_off: Vec<&'static str> = Signal::ALL
            .into_iter()
            .filter(|s| unfinished(*s) && !health.failed(*s))
            .map(Signal::name)
            .collect();
        let outcomes = Signal::ALL.map(|s| (s, health.outcome(s, unfinished(s))));
        // The export gate learns whether the collector could be reached.
        let budget_ms = self.budget.as_millis();
        let paused = gates.paused();
        let closed = gates.settle(|s| {
            if let Some(why) = health.unreachable(s) {
                Reach::Unreachable(why.to_owned())
            } else if unfinished(s) && !health.failed(s) {
                Reach::Unreachable(format!("no answer within the {budget_ms} ms exit budget"))
            } else if health.reached(s) {
                Reach::Answered
            } else {
                Reach::Unknown
            }
        });
        let events_dropped = providers.overload.as_ref().map_or(0, |o| o.dropped());
        let store = providers.store.as_ref();
        if let Some(store) = store
            && (outcomes.iter().any(|(_, o)| o.is_some()) || events_dropped > 0)
        {
            let of = |signal: Signal| {
                outcomes
                    .iter()
                    .find(|(s, _)| *s == signal)
                    .and_then(|(_, o)| *o)
            };
            store.append(
                None,
                Entry::Export {
                    of: store.process_id().into(),
                    replay: false,
                    metrics: of(Signal::Metrics),
                    logs: of(Signal::Logs),
                    traces: of(Signal::Traces),
                    logs_dropped: events_dropped,
                },
            );
            store.flush();
            // After the receipt is on disk: whoever takes the mark finds the records.
            if outcomes
                .iter()
                .any(|(_, o)| o.is_some_and(ExportOutcome::is_resendable))
            {
                store::mark_pending(&store.written_to());
            }
        }
        crate::phase::mark("receipt written");
        let gate = GateNews {
            paused: &paused,
            closed: &closed,
        };
        if let Some(line) = exit_line(&health.take_failures(), &cut_off, &gate, self.budget, store)
        {
            warn::warn_once("exit", &line);
        }
        // This export got through: send what earlier processes could not, within what is
        // left of the budget. No batch starts in the last quarter of the budget (or four
        // times what this export took, if more), so one in flight rarely meets the deadline.
        let own: Vec<ExportOutcome> = outcomes.iter().filter_map(|(_, o)| *o).collect();
        if let (Some(catch_up), Some(store)) = (providers.catch_up.take(), store)
            && !own.is_empty()
            && own.iter().all(|o| *o == ExportOutcome::Delivered)
        {
            let deadline = start + self.budget;
            let reserve = (self.budget / 4).max(start.elapsed() * 4);
            let dir = store.written_to();
            if let Some(last_start) = deadline.checked_sub(reserve)
                && Instant::now() < last_start
                && store::has_pending_mark(&dir)
            {
                let (done, finished) = mpsc::channel::<()>();
                let spawned = std::thread::Builder::new()
                    .name("han-telemetry-catch-up".into())
                    .spawn(move || {
                        (catch_up.0)(&dir, last_start, deadline);
                        let _ = done.send(());
                    });
                if spawned.is_ok() {
                    let _ =
                        finished.recv_timeout(deadline.saturating_duration_since(Instant::now()));
                }
            }
        }
        crate::phase::mark("catch-up done");
        crate::phase::print();
        // Fixed signal order, whatever order the threads finished in.
        let in_order = |keep: &dyn Fn(Signal) -> bool| -> Vec<&'static str> {
            Signal::ALL
                .into_iter()
                .filter(|s| keep(*s))
                .map(Signal::name)
                .collect()
        };
        let failed = in_order(&|s| health.failed(s));
        let abandoned = in_order(&|s| unfinished(s) && !health.failed(s));
        let delivered =
            in_order(&|s| finished.contains(&s.name()) && !health.failed(s) && !unfinished(s));
        let deferred = in_order(&|s| health.gated(s));
        ShutdownReport {
            delivered,
            failed,
            abandoned,
            deferred,
            elapsed: start.elapsed(),
            events_dropped,
        }
    }
}

/// Sends an export's result to the waiting guard; if the task or thread ends without one (an
/// exporter panicked, the runtime stopped), a failure, so the guard never waits for nothing.
struct Answer {
    tx: Option<mpsc::Sender<(&'static str, OTelSdkResult)>>,
    signal: Signal,
}

impl Answer {
    fn send(mut self, result: OTelSdkResult) {
        crate::phase::mark(match self.signal {
            Signal::Metrics => "metrics flushed",
            Signal::Logs => "logs flushed",
            Signal::Traces => "traces flushed",
        });
        if let Some(tx) = self.tx.take() {
            let _ = tx.send((self.signal.name(), result));
        }
    }
}

impl Drop for Answer {
    fn drop(&mut self) {
        if let Some(tx) = self.tx.take() {
            let ended = OTelSdkError::InternalFailure("the export ended without a result".into());
            let _ = tx.send((self.signal.name(), Err(ended)));
        }
    }
}

/// What the export gate has to say at exit: destinations this process did not export to,
/// and gates it closed.
#[derive(Debug, Default, Clone, Copy)]
struct GateNews<'a> {
    paused: &'a [Paused],
    closed: &'a [Closed],
}

/// `2026-11-23T16:24:01Z`.
fn at(t: std::time::SystemTime) -> String {
    humantime::format_rfc3339_seconds(crate::store::clamp_time(t)).to_string()
}

/// The one line that says what went wrong with the export at exit, if anything did: each
/// distinct failure with the signals it hit, what the exit budget cut off, export paused by
/// the gate, and what becomes of the data.
fn exit_line(
    failures: &[Failure],
    abandoned: &[&'static str],
    gate: &GateNews<'_>,
    budget: Duration,
    store: Option<&LocalStore>,
) -> Option<String> {
    if failures.is_empty() && abandoned.is_empty() && gate.paused.is_empty() {
        return None;
    }
    let mut parts: Vec<String> = Vec::new();
    for p in gate.paused {
        let signals: Vec<&str> = p.signals.iter().map(|s| s.name()).collect();
        let until = if p.probing {
            "while another run checks whether the collector is back".to_owned()
        } else {
            format!("until {}", at(p.until))
        };
        parts.push(format!(
            "{} export to {} is paused {until}: a recent run could not reach it ({})",
            join_names(&signals),
            p.endpoint,
            p.why
        ));
    }
    // Failures with the same likely cause are one problem: name it once, with its signals,
    // in the words of the first one's error.
    let mut groups: Vec<(&str, Vec<&Failure>)> = Vec::new();
    for f in failures {
        match groups.iter_mut().find(|(group, _)| *group == f.group) {
            Some((_, members)) => members.push(f),
            None => groups.push((&f.group, vec![f])),
        }
    }
    for (_, members) in &groups {
        let signals: Vec<&str> = members.iter().map(|f| f.signal.name()).collect();
        let destination = common_origin(members.iter().map(|f| f.destination.as_str()));
        let first = members[0];
        parts.push(format!(
            "{} export to {destination} failed: {}",
            join_names(&signals),
            first.why.replace(&first.destination, &destination)
        ));
    }
    if !abandoned.is_empty() {
        parts.push(format!(
            "gave up exporting {} after the {} ms exit budget (the collector is slow or not answering; HAN_TELEMETRY_EXIT_BUDGET_MS sets the budget)",
            join_names(abandoned),
            budget.as_millis()
        ));
    }
    if let Some(until) = gate.closed.iter().map(|c| c.until).max() {
        parts.push(format!(
            "runs until {} skip the export (the first one after checks again)",
            at(until)
        ));
    }
    let resendable =
        !abandoned.is_empty() || !gate.paused.is_empty() || failures.iter().any(|f| !f.rejected);
    let fate = match store {
        Some(store) if resendable => format!(
            "this run's events are kept in {}; the first run that reaches the collector sends them (`han-telemetry replay` does it now)",
            store.written_to().display()
        ),
        _ => "that data is lost".to_owned(),
    };
    Some(format!("{}. {fate}.", parts.join("; ")))
}

/// `a`, `a and b`, `a, b and c`.
fn join_names(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The destination all of `destinations` share: the one URL when they are equal, else their
/// common `scheme://host:port` (HTTP endpoints differ by `/v1/<signal>` only), else all.
fn common_origin<'a>(destinations: impl Iterator<Item = &'a str>) -> String {
    let all: Vec<&str> = destinations.collect();
    let Some(first) = all.first() else {
        return String::new();
    };
    if all.iter().all(|d| d == first) {
        return (*first).to_owned();
    }
    let origin = |d: &'a str| -> &'a str {
        let after_scheme = d.find("://").map_or(0, |i| i + 3);
        d[after_scheme..]
            .find('/')
            .map_or(d, |slash| &d[..after_scheme + slash])
    };
    if all.iter().all(|d| origin(d) == origin(first)) {
        origin(first).to_owned()
    } else {
        all.join(", ")
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        self.run();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(signal: Signal, destination: &str, why: &str, rejected: bool) -> Failure {
        Failure {
            signal,
            destination: destination.to_owned(),
            why: why.to_owned(),
            group: why.replace(destination, ""),
            rejected,
        }
    }

    #[test]
    fn one_cause_on_every_signal_is_one_sentence_naming_the_origin() {
        let refused = "Connection refused (is the collector running?)";
        let failures = [
            failure(Signal::Metrics, "http://c:4318/v1/metrics", refused, false),
            failure(Signal::Logs, "http://c:4318/v1/logs", refused, false),
            failure(Signal::Traces, "http://c:4318/v1/traces", refused, false),
        ];
        let store = LocalStore::at("/tmp/han-guard-test-store", 1);
        let line = exit_line(
            &failures,
            &[],
            &GateNews::default(),
            Duration::from_secs(1),
            Some(&store),
        )
        .expect("a line");
        assert_eq!(
            line,
            "metrics, logs and traces export to http://c:4318 failed: Connection refused (is \
             the collector running?). this run's events are kept in \
             /tmp/han-guard-test-store; the first run that reaches the collector sends them \
             (`han-telemetry replay` does it now)."
        );
        assert_eq!(line.lines().count(), 1);
    }

    #[test]
    fn distinct_causes_and_the_budget_share_the_line() {
        let failures = [
            failure(
                Signal::Metrics,
                "grpc://a:4317",
                "status code: 400 (x)",
                true,
            ),
            failure(Signal::Logs, "grpc://a:4317", "refused (y)", false),
        ];
        let line = exit_line(
            &failures,
            &["traces"],
            &GateNews::default(),
            Duration::from_millis(250),
            None,
        )
        .expect("a line");
        assert!(line.starts_with("metrics export to grpc://a:4317 failed: status code: 400 (x); logs export to grpc://a:4317 failed: refused (y); gave up exporting traces after the 250 ms exit budget"), "{line}");
        assert!(line.ends_with("that data is lost."), "{line}");
    }

    #[test]
    fn rejected_data_is_not_promised_a_replay() {
        let store = LocalStore::at("/tmp/han-guard-test-store", 1);
        let failures = [failure(
            Signal::Logs,
            "http://a/v1/logs",
            "rejected 2",
            true,
        )];
        let line = exit_line(
            &failures,
            &[],
            &GateNews::default(),
            Duration::from_secs(1),
            Some(&store),
        )
        .expect("a line");
        assert!(line.ends_with("that data is lost."), "{line}");
    }

    #[test]
    fn a_paused_export_says_until_when_and_why_in_one_line() {
        let store = LocalStore::at("/tmp/han-guard-test-store", 1);
        let until = std::time::UNIX_EPOCH + Duration::from_secs(1_795_000_000);
        let paused = [Paused {
            signals: vec![Signal::Metrics, Signal::Logs],
            endpoint: "http://c:4317".into(),
            until,
            why: "nothing accepts connections there".into(),
            probing: false,
        }];
        let gate = GateNews {
            paused: &paused,
            closed: &[],
        };
        let line =
            exit_line(&[], &[], &gate, Duration::from_secs(1), Some(&store)).expect("a line");
        assert_eq!(
            line,
            "metrics and logs export to http://c:4317 is paused until 2026-11-18T11:06:40Z: a \
             recent run could not reach it (nothing accepts connections there). this run's \
             events are kept in /tmp/han-guard-test-store; the first run that reaches the \
             collector sends them (`han-telemetry replay` does it now)."
        );
        let closed = [Closed { until }];
        let failures = [failure(Signal::Logs, "http://c:4317", "refused (y)", false)];
        let gate = GateNews {
            paused: &[],
            closed: &closed,
        };
        let line = exit_line(&failures, &[], &gate, Duration::from_secs(1), None).expect("a line");
        assert!(
            line.contains("; runs until 2026-11-18T11:06:40Z skip the export"),
            "{line}"
        );
    }

    #[test]
    fn nothing_wrong_prints_nothing() {
        assert_eq!(
            exit_line(&[], &[], &GateNews::default(), Duration::from_secs(1), None),
            None
        );
    }

    #[test]
    fn destinations_on_different_hosts_are_all_named() {
        let names = ["http://a:1/v1/metrics", "http://b:1/v1/logs"];
        assert_eq!(
            common_origin(names.into_iter()),
            "http://a:1/v1/metrics, http://b:1/v1/logs"
        );
        assert_eq!(common_origin(["http://a:1"].into_iter()), "http://a:1");
        assert_eq!(join_names(&["a", "b"]), "a and b");
    }
}
