//! Assertions that read like the sentence the test means:
//! `telemetry.counter(..).with(..).assert_value(1)`.
//!
//! One vocabulary for every kind of telemetry:
//!
//! - A **selector** names one kind of thing, in the singular, by name:
//!   [`Telemetry::counter`], [`Telemetry::histogram`] (in `metric`), [`Telemetry::event`]
//!   (in `event`), [`Telemetry::span`] (in `span`).
//! - **Filters** narrow it: `with(key, value)` (a subset: other attributes are allowed),
//!   `without(key)`, and `only()`, which allows no attribute but those named.
//! - **`assert_*`** checks, and on failure panics with what was expected, then everything
//!   the capture emitted. `assert_absent` means "no such thing", for every selector and for
//!   the whole capture; `only` means "and nothing else": `.only()`, `assert_only_metrics`,
//!   `assert_only_events`, and `assert_only_asserted`, the final check that every data point
//!   and event was matched by a passing assertion (in `whole`).
//! - **Readers** (`points`, `value`, `merged`, `matching`, `count`) give the data and check
//!   nothing: reading a value never counts as having asserted it.

mod event;
mod filter;
mod metric;
mod span;
mod whole;

pub use event::EventQuery;
pub use metric::{CounterQuery, HistogramQuery};
pub use span::SpanQuery;

use crate::names::{EventName, MetricName};
use crate::render;
use crate::snapshot::Telemetry;
use filter::AttrFilter;

#[track_caller]
fn fail(telemetry: &Telemetry, expectation: &str) -> ! {
    panic!("{}", render::failure(telemetry, expectation))
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

/// The selectors.
impl Telemetry {
    /// The counter named `name` (a `&str` or a catalogue entry such as
    /// `metric::HOOK_EXECUTION`).
    pub fn counter(&self, name: impl Into<MetricName>) -> CounterQuery<'_> {
        CounterQuery {
            t: self,
            name: name.into(),
            filter: AttrFilter::default(),
        }
    }

    /// The histogram named `name`.
    pub fn histogram(&self, name: impl Into<MetricName>) -> HistogramQuery<'_> {
        HistogramQuery {
            t: self,
            name: name.into(),
            filter: AttrFilter::default(),
        }
    }

    /// The event named `name` (a `&str` or a catalogue entry such as `event::HOOK_RESULT`),
    /// every one emitted. With [`EventQuery::only`], the `event.name` attribute, which
    /// repeats the name on every event, does not need to be listed.
    pub fn event(&self, name: impl Into<EventName>) -> EventQuery<'_> {
        EventQuery {
            t: self,
            name: name.into(),
            severity: None,
            body: None,
            in_span: None,
            filter: AttrFilter::default(),
        }
    }

    /// The span named `name`, e.g. `"hook lint"`, every one that ended in the capture.
    pub fn span(&self, name: impl Into<String>) -> SpanQuery<'_> {
        SpanQuery {
            t: self,
            name: name.into(),
            filter: AttrFilter::default(),
        }
    }
}
