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

use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;

use crate::config::Signal;
use crate::diagnostics;
use crate::export::Io;
use crate::pipeline::Activation;
use crate::store::LocalStore;

/// The providers and runtime a guard shuts down.
#[derive(Debug, Default)]
pub(crate) struct Providers {
    pub(crate) meter: Option<SdkMeterProvider>,
    pub(crate) logger: Option<SdkLoggerProvider>,
    pub(crate) tracer: Option<SdkTracerProvider>,
    pub(crate) io: Io,
    pub(crate) activation: Option<Activation>,
    pub(crate) store: Option<LocalStore>,
}

/// Flushes and shuts telemetry down when dropped (or on [`TelemetryGuard::shutdown`]).
///
/// Keep it alive for as long as the program records telemetry, typically as a binding in
/// `main`: `let _telemetry = han_telemetry::init();`. Note that `std::process::exit` skips
/// destructors: drop the guard (or call `shutdown`) before exiting that way.
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
        let (tx, rx) = mpsc::channel::<&'static str>();
        let mut pending: Vec<&'static str> = Vec::new();
        let mut spawn = |signal: Signal, job: Box<dyn FnOnce() + Send>| {
            let tx = tx.clone();
            let name = signal.name();
            let spawned = std::thread::Builder::new()
                .name(format!("han-telemetry-flush-{name}"))
                .spawn(move || {
                    job();
                    let _ = tx.send(name);
                });
            match spawned {
                Ok(_) => pending.push(name),
                Err(e) => diagnostics::warn_once(
                    &format!("flush-thread:{name}"),
                    &format!("cannot start a thread to flush {name} ({e}); that data is lost"),
                ),
            }
        };
        // Export errors are reported by the sinks; here only the time spent matters.
        if let Some(p) = providers.meter {
            spawn(Signal::Metrics, Box::new(move || drop(p.shutdown())));
        }
        if let Some(p) = providers.logger {
            spawn(Signal::Logs, Box::new(move || drop(p.shutdown())));
        }
        if let Some(p) = providers.tracer {
            spawn(Signal::Traces, Box::new(move || drop(p.shutdown())));
        }
        drop(tx);
        let deadline = start + self.budget;
        let mut finished: Vec<&'static str> = Vec::new();
        while !pending.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(name) => {
                    pending.retain(|p| *p != name);
                    finished.push(name);
                }
                Err(_) => break,
            }
        }
        if !pending.is_empty() {
            diagnostics::warn_once(
                "exit-budget",
                &format!(
                    "gave up exporting {} after the {} ms exit budget; that data is lost (the collector is slow or not answering; HAN_TELEMETRY_EXIT_BUDGET_MS sets the budget)",
                    pending.join(", "),
                    self.budget.as_millis()
                ),
            );
        }
        let health = Arc::clone(&providers.io.health);
        providers.io.shutdown();
        // Fixed signal order, whatever order the threads finished in.
        let in_order = |keep: &dyn Fn(&'static str) -> bool| -> Vec<&'static str> {
            Signal::ALL
                .into_iter()
                .map(Signal::name)
                .filter(|n| keep(n))
                .collect()
        };
        let failed = in_order(&|n| {
            Signal::ALL
                .iter()
                .any(|s| s.name() == n && health.failed(*s))
        });
        let abandoned = in_order(&|n| pending.contains(&n) && !failed.contains(&n));
        let delivered = in_order(&|n| finished.contains(&n) && !failed.contains(&n));
        ShutdownReport {
            delivered,
            failed,
            abandoned,
            elapsed: start.elapsed(),
        }
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        self.run();
    }
}
