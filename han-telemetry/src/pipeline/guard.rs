//! Flush and shutdown at exit, within a time budget.
//!
//! A hook is a short-lived process: whatever it recorded must be exported before it exits,
//! but a collector that is down or never answers must not make it slow. Dropping the guard
//! shuts every provider down in parallel on threads of its own and waits for them at most
//! the exit budget (`HAN_TELEMETRY_EXIT_BUDGET_MS`, 1000 ms by default). What is still
//! pending then is abandoned with one line on stderr; the SDK's own shutdown timeouts (5 s
//! per provider, and forever for gRPC inside a current-thread runtime) never apply.

use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;

use super::layer::Activation;
use super::queue::Overload;
use crate::config::Signal;
use crate::export::{Failure, Io};
use crate::store::{Entry, LocalStore};
use crate::warn;

/// How long the SDK's meter shutdown waits for its final export, whatever it is told.
const SDK_METER_SHUTDOWN_WAIT: Duration = Duration::from_secs(5);

/// The providers and runtime a guard shuts down.
#[derive(Debug, Default)]
pub(crate) struct Providers {
    pub(crate) meter: Option<SdkMeterProvider>,
    pub(crate) logger: Option<SdkLoggerProvider>,
    pub(crate) tracer: Option<SdkTracerProvider>,
    pub(crate) io: Io,
    pub(crate) activation: Option<Activation>,
    pub(crate) store: Option<LocalStore>,
    /// Events the export queue had no room for.
    pub(crate) overload: Option<Arc<Overload>>,
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
        let Some(providers) = self.providers.take() else {
            return ShutdownReport::default();
        };
        let start = Instant::now();
        // Close the gate first: recording after this point would be lost anyway.
        drop(providers.activation);
        // The local store is a local write, done before any network wait can use the budget.
        if let Some(store) = &providers.store {
            store.flush();
        }
        let health = Arc::clone(&providers.io.health);
        // From here on, failures wait for the one line below instead of a line each.
        health.defer();
        let (tx, rx) = mpsc::channel::<(&'static str, OTelSdkResult)>();
        let mut pending: Vec<&'static str> = Vec::new();
        let mut spawn = |signal: Signal, job: Box<dyn FnOnce() -> OTelSdkResult + Send>| {
            let tx = tx.clone();
            let name = signal.name();
            let spawned = std::thread::Builder::new()
                .name(format!("han-telemetry-flush-{name}"))
                .spawn(move || {
                    let _ = tx.send((name, job()));
                });
            match spawned {
                Ok(_) => pending.push(name),
                Err(e) => warn::warn_once(
                    &format!("flush-thread:{name}"),
                    &format!("cannot start a thread to flush {name} ({e}); that data is lost"),
                ),
            }
        };
        let budget = self.budget;
        if let Some(p) = providers.meter {
            spawn(
                Signal::Metrics,
                Box::new(move || {
                    // The SDK's meter shutdown waits at most 5 s for its export, whatever it
                    // is told. A longer budget flushes first (a flush waits for the export's
                    // answer); the shutdown's own collection then finds nothing new (delta)
                    // or the same totals (cumulative).
                    if budget > SDK_METER_SHUTDOWN_WAIT {
                        let flushed = p.force_flush();
                        flushed.and(p.shutdown())
                    } else {
                        p.shutdown()
                    }
                }),
            );
        }
        if let Some(p) = providers.logger {
            spawn(
                Signal::Logs,
                Box::new(move || p.shutdown_with_timeout(budget)),
            );
        }
        if let Some(p) = providers.tracer {
            spawn(
                Signal::Traces,
                Box::new(move || p.shutdown_with_timeout(budget)),
            );
        }
        drop(tx);
        let deadline = start + self.budget;
        let mut finished: Vec<&'static str> = Vec::new();
        // Signals whose shutdown gave up waiting for an export (the SDK's own timeouts):
        // the collector never answered, so they are abandoned, not delivered.
        let mut gave_up: Vec<&'static str> = Vec::new();
        while !pending.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok((name, result)) => {
                    pending.retain(|p| *p != name);
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
        health.seal();
        providers.io.shutdown();
        let unfinished = |s: Signal| {
            pending.contains(&s.name()) || gave_up.contains(&s.name()) || health.unanswered(s)
        };
        let cut_off: Vec<&'static str> = Signal::ALL
            .into_iter()
            .filter(|s| unfinished(*s) && !health.failed(*s))
            .map(Signal::name)
            .collect();
        let outcomes = Signal::ALL.map(|s| (s, health.outcome(s, unfinished(s))));
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
        }
        if let Some(line) = exit_line(&health.take_failures(), &cut_off, self.budget, store) {
            warn::warn_once("exit", &line);
        }
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
        ShutdownReport {
            delivered,
            failed,
            abandoned,
            elapsed: start.elapsed(),
            events_dropped,
        }
    }
}

/// The one line that says what went wrong with the export at exit, if anything did: each
/// distinct failure with the signals it hit, what the exit budget cut off, and what becomes
/// of the data.
fn exit_line(
    failures: &[Failure],
    abandoned: &[&'static str],
    budget: Duration,
    store: Option<&LocalStore>,
) -> Option<String> {
    if failures.is_empty() && abandoned.is_empty() {
        return None;
    }
    let mut parts: Vec<String> = Vec::new();
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
    let resendable = !abandoned.is_empty() || failures.iter().any(|f| !f.rejected);
    let fate = match store {
        Some(store) if resendable => format!(
            "this run's events are kept in {}; `han-telemetry replay` sends them once the collector is reachable",
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
        let line = exit_line(&failures, &[], Duration::from_secs(1), Some(&store)).expect("a line");
        assert_eq!(
            line,
            "metrics, logs and traces export to http://c:4318 failed: Connection refused (is \
             the collector running?). this run's events are kept in \
             /tmp/han-guard-test-store; `han-telemetry replay` sends them once the collector \
             is reachable."
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
        let line =
            exit_line(&failures, &["traces"], Duration::from_millis(250), None).expect("a line");
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
        let line = exit_line(&failures, &[], Duration::from_secs(1), Some(&store)).expect("a line");
        assert!(line.ends_with("that data is lost."), "{line}");
    }

    #[test]
    fn nothing_wrong_prints_nothing() {
        assert_eq!(exit_line(&[], &[], Duration::from_secs(1), None), None);
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
