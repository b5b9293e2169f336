//! Values an instrumented body computes itself, reported to the call it runs in.
//!
//! Under `#[instrument_task]` a body reports its confidence (and, if it was partial, its
//! outcome); under `#[instrument_validation]` the number of errors it found. Outside such a
//! call, or with telemetry off, these do nothing.
//!
//! ```
//! use han_telemetry::{instrument_validation, report};
//!
//! #[instrument_validation(validation_type = "typecheck")]
//! fn typecheck(source: &str) -> Result<(), String> {
//!     let errors = source.matches("any").count();
//!     report::error_count(errors as u64);
//!     if errors == 0 { Ok(()) } else { Err(format!("{errors} uses of any")) }
//! }
//! # typecheck("let x: number = 1").unwrap();
//! ```

use crate::instrument::call;
use crate::instrument::record::TaskOutcome;

/// The task's confidence in its result, in `[0, 1]` (`han.task_outcome`'s `confidence`, and
/// `confidence_bucket` on the task counters). Unreported, both are `unknown`.
pub fn confidence(value: f64) {
    call::report_confidence(value);
}

/// How many errors the validation found (`error_count`). Unreported, it is 0 for a passing
/// validation and 1 for a failing one.
pub fn error_count(count: u64) {
    call::report_error_count(count);
}

/// Overrides the task outcome derived from the return value, e.g. `Partial` for a task that
/// returned `Ok` having done only part of the work. A failed call stays a failure.
pub fn outcome(outcome: TaskOutcome) {
    call::report_outcome(outcome);
}
