#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod attributes;
mod capture;
mod config_fixture;
mod expect;
mod inline;
mod interest;
mod names;
mod render;
mod snapshot;

pub use attributes::{AttrValue, Attribute, Attributes};
pub use capture::{Capture, capture, capture_async};
pub use config_fixture::ConfigFixture;
pub use expect::{CounterQuery, EventQuery, HistogramQuery, SpanQuery};
pub use names::{EventName, MetricName};
pub use opentelemetry::logs::Severity;
pub use snapshot::{
    DataPoint, Event, HistogramValue, Metric, MetricKind, PointValue, Span, SpanStatus, Telemetry,
};
