//! Metrics read on demand instead of by the SDK's periodic reader, which starts a thread in
//! every process and, at exit, makes the flush hand the export to it: here the periodic
//! export is a timer task on the export's I/O runtime, and the last one runs there too,
//! started by the guard ([`LastExport`]).

use std::sync::{Arc, Weak};
use std::time::Duration;

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::reader::MetricReader;
use opentelemetry_sdk::metrics::{InstrumentKind, ManualReader, Pipeline, Temporality};

use super::batched::Batches;
use super::last::{Exporting, LastExport};

/// A metric exporter and the reader that collects for it.
struct Collected<E> {
    reader: ManualReader,
    exporter: E,
    /// What the pipeline's threads hold, recorded before every collection.
    batches: Arc<Batches>,
}

/// Never the exporter: its client holds the configured headers (credentials).
impl<E> std::fmt::Debug for Collected<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Collected")
            .field("reader", &self.reader)
            .finish_non_exhaustive()
    }
}

impl<E: PushMetricExporter> Collected<E> {
    /// Collects what was measured, with what the threads hold.
    fn collect(&self, rm: &mut ResourceMetrics) -> OTelSdkResult {
        self.batches.record_held();
        self.reader.collect(rm)
    }

    /// Collects and exports; nothing collected, nothing sent (as the SDK's periodic reader).
    async fn export(&self) -> OTelSdkResult {
        let mut metrics = ResourceMetrics::default();
        self.collect(&mut metrics)?;
        if metrics.scope_metrics().next().is_none() {
            return Ok(());
        }
        self.exporter.export(&metrics).await
    }
}

/// The reader a meter provider is built with (see [`reader`]).
pub(crate) struct Reader<E>(Arc<Collected<E>>);

impl<E> std::fmt::Debug for Reader<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Reader").field(&self.0).finish()
    }
}

/// A reader for `exporter` that exports every `interval` on `io`, and the handle the guard
/// exports the rest with at exit. Every collection first records what the pipeline's threads
/// hold in `batches`.
pub(crate) fn reader<E: PushMetricExporter>(
    exporter: E,
    interval: Duration,
    io: &tokio::runtime::Handle,
    batches: &Arc<Batches>,
) -> (Reader<E>, Arc<dyn LastExport>) {
    let collected = Arc::new(Collected {
        reader: ManualReader::builder()
            .with_temporality(exporter.temporality())
            .build(),
        exporter,
        batches: Arc::clone(batches),
    });
    io.spawn(periodic(Arc::downgrade(&collected), interval));
    let last = Arc::new(Last(Arc::clone(&collected)));
    (Reader(collected), last)
}

/// Exports every `interval` until the pipeline is gone or the runtime stops. A failure is
/// reported by the exporter (`export::Reporter`); the next tick tries again.
async fn periodic<E: PushMetricExporter>(collected: Weak<Collected<E>>, interval: Duration) {
    let interval = interval.max(Duration::from_millis(1));
    let mut next = tokio::time::Instant::now() + interval;
    loop {
        tokio::time::sleep_until(next).await;
        next += interval;
        let Some(collected) = collected.upgrade() else {
            return;
        };
        let _ = collected.export().await;
    }
}

/// The guard's handle: the last export of what was measured.
struct Last<E>(Arc<Collected<E>>);

impl<E> std::fmt::Debug for Last<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Last").field(&self.0).finish()
    }
}

impl<E: PushMetricExporter> LastExport for Last<E> {
    fn last_export(&self) -> Exporting {
        let collected = Arc::clone(&self.0);
        Box::pin(async move { collected.export().await })
    }
}

impl<E: PushMetricExporter> MetricReader for Reader<E> {
    fn register_pipeline(&self, pipeline: Weak<Pipeline>) {
        self.0.reader.register_pipeline(pipeline);
    }

    fn collect(&self, rm: &mut ResourceMetrics) -> OTelSdkResult {
        self.0.collect(rm)
    }

    /// Exports now, on the calling thread (the guard does not flush this way; a caller of
    /// the provider's `force_flush` may).
    fn force_flush(&self) -> OTelSdkResult {
        futures_executor::block_on(self.0.export())
    }

    /// Stops collecting and shuts the exporter down; what was measured was exported by the
    /// guard's last export.
    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        let reader = self.0.reader.shutdown_with_timeout(timeout);
        reader.and(self.0.exporter.shutdown_with_timeout(timeout))
    }

    fn temporality(&self, kind: InstrumentKind) -> Temporality {
        self.0.reader.temporality(kind)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use opentelemetry::metrics::MeterProvider as _;
    use opentelemetry_sdk::metrics::{InMemoryMetricExporter, SdkMeterProvider};

    use super::*;

    use crate::test_support::io_runtime as io;

    /// The sum of every export's `runs` counter points.
    fn exported_runs(exporter: &InMemoryMetricExporter) -> Vec<u64> {
        let mut sums = Vec::new();
        for rm in exporter.get_finished_metrics().expect("metrics") {
            for scope in rm.scope_metrics() {
                for metric in scope.metrics() {
                    if let opentelemetry_sdk::metrics::data::AggregatedMetrics::U64(
                        opentelemetry_sdk::metrics::data::MetricData::Sum(sum),
                    ) = metric.data()
                    {
                        sums.push(sum.data_points().map(|p| p.value()).sum());
                    }
                }
            }
        }
        sums
    }

    /// A long-running process: measurements are exported every interval, by the timer task,
    /// while nobody flushes.
    #[test]
    fn metrics_are_exported_every_interval() {
        let io = io();
        let exporter = InMemoryMetricExporter::default();
        let (reader, _last) = reader(
            exporter.clone(),
            Duration::from_millis(10),
            io.handle(),
            &Arc::default(),
        );
        let provider = SdkMeterProvider::builder().with_reader(reader).build();
        let runs = provider.meter("reader-test").u64_counter("runs").build();
        runs.add(3, &[]);
        let end = Instant::now() + Duration::from_secs(60);
        while exported_runs(&exporter).is_empty() && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(exported_runs(&exporter).first(), Some(&3));
        provider.shutdown().expect("shut down");
    }

    /// Exit: the last export sends what was measured since, and a last export with nothing
    /// measured sends nothing; the provider's shutdown after it exports nothing more.
    #[test]
    fn the_last_export_sends_what_waits_and_only_that() {
        let io = io();
        let exporter = opentelemetry_sdk::metrics::InMemoryMetricExporterBuilder::new()
            .with_temporality(Temporality::Delta)
            .build();
        let (reader, last) = reader(
            exporter.clone(),
            Duration::from_secs(3_600),
            io.handle(),
            &Arc::default(),
        );
        let provider = SdkMeterProvider::builder().with_reader(reader).build();
        let runs = provider.meter("reader-test").u64_counter("runs").build();
        runs.add(2, &[]);
        io.block_on(last.last_export()).expect("exported");
        assert_eq!(exported_runs(&exporter), [2]);
        io.block_on(last.last_export()).expect("nothing to export");
        assert_eq!(exported_runs(&exporter), [2], "nothing new, nothing sent");
        provider.shutdown().expect("shut down");
        assert_eq!(exported_runs(&exporter), [2], "the shutdown sends nothing");
    }

    /// A caller of the provider's flush gets the export on its own thread, at once.
    #[test]
    fn a_flush_exports_on_the_calling_thread() {
        let io = io();
        let exporter = InMemoryMetricExporter::default();
        let (reader, _last) = reader(
            exporter.clone(),
            Duration::from_secs(3_600),
            io.handle(),
            &Arc::default(),
        );
        let provider = SdkMeterProvider::builder().with_reader(reader).build();
        provider
            .meter("reader-test")
            .u64_counter("runs")
            .build()
            .add(1, &[]);
        provider.force_flush().expect("flushed");
        assert_eq!(exported_runs(&exporter), [1]);
        provider.shutdown().expect("shut down");
    }
}
