#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod annotations {
    #![doc = include_str!("annotations.md")]
}
mod call;
pub mod catalogue;
pub mod config;
mod diagnostics;
mod export;
mod file;
mod guard;
mod init;
pub mod mask;
mod pipeline;
/// Test exports for `han-telemetry doctor`: does telemetry reach the collector?
pub mod probe;
pub mod record;
pub mod replay;
pub mod report;
mod resource;
mod site;
pub mod store;
#[cfg(test)]
mod test_support;
mod trace;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use guard::{ShutdownReport, TelemetryGuard};
pub use han_telemetry_macros::{
    instrument_hook, instrument_mcp_tool, instrument_plugin, instrument_task, instrument_validation,
};
pub use init::{DEFAULT_EXIT_BUDGET, Telemetry, TelemetryBuilder, init};
pub use pipeline::{
    Activation, HanLayer, HanLayerBuilder, StandardAttributes, set_standard_attributes,
};
pub use trace::{adopt_remote_parent, remote_parent};
