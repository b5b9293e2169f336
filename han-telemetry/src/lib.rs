#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

// The flow: configuration (`config`) becomes (`start`) a running pipeline (`pipeline`) whose
// exporters (`export`) send what the instrumentation API (`instrument`, which the annotations
// expand into) records; every record also goes to the local store (`store`). The export gate
// (`gate`) remembers across processes that a collector is down; `resend` sends the store's
// records that an export missed, at a hook's exit (catch-up) and for the operator's tools
// (`tools`). `catalogue` holds the facts they share; `mask`, `file` and `warn` are the
// leaves everything may use.

pub mod annotations {
    #![doc = include_str!("annotations.md")]
}
pub mod catalogue;
pub mod config;
mod export;
mod file;
pub mod gate;
pub mod headers_helper;
mod instrument;
pub mod mask;
mod phase;
mod pipeline;
mod resend;
mod start;
mod state_file;
pub mod store;
#[cfg(test)]
mod test_support;
#[cfg(feature = "tools")]
mod tools;
mod warn;

#[doc(hidden)]
#[path = "instrument/private.rs"]
pub mod __private;

pub use han_telemetry_macros::{
    instrument_hook, instrument_mcp_tool, instrument_plugin, instrument_task, instrument_validation,
};
pub use instrument::trace::adopt_remote_parent;
pub use instrument::{record, report};
pub use pipeline::context::remote_parent;
pub use pipeline::guard::{ShutdownReport, TelemetryGuard};
pub use pipeline::layer::{
    Activation, HanLayer, HanLayerBuilder, StandardAttributes, set_standard_attributes,
};
pub use pipeline::queue::DEFAULT_EVENT_QUEUE;
pub use start::{DEFAULT_EXIT_BUDGET, Discard, Telemetry, TelemetryBuilder, init};
#[cfg(feature = "tools")]
pub use tools::{probe, replay};
