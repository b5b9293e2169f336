#![doc = include_str!("../../README.md")]
#![warn(missing_docs)]

pub mod catalogue;
pub mod config;
mod diagnostics;
mod export;
mod guard;
mod init;
mod pipeline;
pub mod record;
mod resource;
mod trace;

pub use guard::{ShutdownReport, TelemetryGuard};
pub use init::{DEFAULT_EXIT_BUDGET, Telemetry, TelemetryBuilder, init};
pub use pipeline::{
    Activation, HanLayer, HanLayerBuilder, StandardAttributes, set_standard_attributes,
};
pub use trace::adopt_remote_parent;
