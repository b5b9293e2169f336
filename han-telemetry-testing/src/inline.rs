//! Processors that hand each event and span to its in-memory exporter in the call that made
//! it, as the SDK's simple processors do, but without an executor.
//!
//! The SDK's simple processors run each export future with `futures_executor::block_on`,
//! which panics when the call is already inside a `futures` executor: a test that polls its
//! async hook with `futures::executor::block_on` would panic in the hook, and again in the
//! unfinished call's drop while unwinding (an abort). An in-memory export never waits, so
//! these poll it once.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use opentelemetry::InstrumentationScope;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::logs::{
    InMemoryLogExporter, LogBatch, LogExporter, LogProcessor, SdkLogRecord,
};
use opentelemetry_sdk::trace::{InMemorySpanExporter, Span, SpanData, SpanExporter, SpanProcessor};

/// The result of an export that is ready when first polled, as an in-memory one is.
fn at_once(export: impl Future<Output = OTelSdkResult>) -> OTelSdkResult {
    match pin!(export).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(result) => result,
        Poll::Pending => Err(OTelSdkError::InternalFailure(
            "an in-memory export was not ready at once".into(),
        )),
    }
}

/// Records into an in-memory exporter `E`, each in the call that makes it; stopped by
/// shutdown, as the SDK's simple processors are.
#[derive(Debug)]
pub(crate) struct Inline<E> {
    exporter: E,
    stopped: AtomicBool,
}

impl<E> Inline<E> {
    pub(crate) fn new(exporter: E) -> Self {
        Inline {
            exporter,
            stopped: AtomicBool::new(false),
        }
    }

    fn stopped(&self) -> bool {
        self.stopped.load(Ordering::Relaxed)
    }

    /// Stops it, then `shutdown` of the exporter.
    fn stop(&self, shutdown: impl FnOnce(&E) -> OTelSdkResult) -> OTelSdkResult {
        self.stopped.store(true, Ordering::Relaxed);
        shutdown(&self.exporter)
    }
}

/// Events into an [`InMemoryLogExporter`], each in the call that emits it.
pub(crate) type InlineLogs = Inline<InMemoryLogExporter>;

/// Spans into an [`InMemorySpanExporter`], each in the call that ends it.
pub(crate) type InlineSpans = Inline<InMemorySpanExporter>;

impl LogProcessor for InlineLogs {
    fn emit(&self, record: &mut SdkLogRecord, scope: &InstrumentationScope) {
        if self.stopped() {
            return;
        }
        // As the SDK's processors: nothing the export records is recorded again.
        let _suppressed = opentelemetry::Context::enter_telemetry_suppressed_scope();
        let _ = at_once(self.exporter.export(LogBatch::new(&[(&*record, scope)])));
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.stop(|exporter| exporter.shutdown_with_timeout(timeout))
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.exporter.set_resource(resource);
    }
}

impl SpanProcessor for InlineSpans {
    fn on_start(&self, _span: &mut Span, _cx: &opentelemetry::Context) {}

    fn on_end(&self, span: SpanData) {
        if !span.span_context.is_sampled() || self.stopped() {
            return;
        }
        let _suppressed = opentelemetry::Context::enter_telemetry_suppressed_scope();
        let _ = at_once(self.exporter.export(vec![span]));
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.stop(|exporter| exporter.shutdown_with_timeout(timeout))
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.exporter.set_resource(resource);
    }
}
