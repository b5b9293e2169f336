//! Sending by hand, outside the SDK's batching: one metric export driven by a flush, and a
//! future run to completion on the calling thread. For `probe` (a test export) and
//! `replay` (the local store's records, sent again).

use std::future::Future;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::Duration;

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::Temporality;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;

/// Runs a future to completion on this thread. The OTLP exporters can be driven this way from
/// any thread: their requests, gRPC and HTTP alike, run on the exporter's I/O runtime.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    struct Unpark(thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        thread::park();
    }
}

/// Passes the first export to the OTLP exporter and keeps its result; later ones (the final
/// collection at shutdown) are dropped, so the collector receives the probe once.
#[derive(Debug)]
pub(crate) struct FirstExport {
    inner: opentelemetry_otlp::MetricExporter,
    result: Mutex<Option<mpsc::Sender<Result<(), String>>>>,
}

impl FirstExport {
    /// Sends the first export to `inner` and its result to `result`.
    pub(crate) fn new(
        inner: opentelemetry_otlp::MetricExporter,
        result: mpsc::Sender<Result<(), String>>,
    ) -> Self {
        FirstExport {
            inner,
            result: Mutex::new(Some(result)),
        }
    }
}

impl PushMetricExporter for FirstExport {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        let first = self.result.lock().ok().and_then(|mut slot| slot.take());
        let Some(report) = first else {
            return Ok(());
        };
        let result = self.inner.export(metrics).await;
        let _ = report.send(result.as_ref().map_err(ToString::to_string).copied());
        result
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn temporality(&self) -> Temporality {
        self.inner.temporality()
    }
}
