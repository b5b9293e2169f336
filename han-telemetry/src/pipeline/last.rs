//! A signal's last export, at exit: a future the guard runs as a task on the export's I/O
//! runtime, so that a hook's exit starts no thread to flush and every signal's export waits
//! on the same one thread (BENCHMARKS.md, "Phases of a live hook process").

use std::future::Future;
use std::pin::Pin;

use opentelemetry_sdk::error::OTelSdkResult;

/// What [`LastExport::last_export`] gives: everything still waiting, exported.
pub(crate) type Exporting = Pin<Box<dyn Future<Output = OTelSdkResult> + Send>>;

/// A pipeline part holding records or measurements that must be exported before exit.
pub(crate) trait LastExport: std::fmt::Debug + Send + Sync {
    /// Takes what waits for export and exports it. The future never blocks its thread: it
    /// runs on the I/O runtime, beside the exports' own requests.
    fn last_export(&self) -> Exporting;
}
