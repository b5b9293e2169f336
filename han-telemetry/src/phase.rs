//! Timing marks for `scripts/bench-phases` (feature `phases`, never on in a release): where a
//! hook process's telemetry set-up and exit go. Marks are kept in memory and printed to
//! stderr when the guard has finished, so measuring adds no write between them. Without the
//! feature a mark is nothing.

#[cfg(feature = "phases")]
mod on {
    use std::sync::{Mutex, OnceLock, PoisonError};
    use std::time::Instant;

    static START: OnceLock<Instant> = OnceLock::new();
    static MARKS: Mutex<Vec<(f64, &'static str)>> = Mutex::new(Vec::new());

    pub(crate) fn mark(name: &'static str) {
        let at = START.get_or_init(Instant::now).elapsed().as_secs_f64() * 1_000.0;
        MARKS
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((at, name));
    }

    pub(crate) fn print() {
        let marks = std::mem::take(&mut *MARKS.lock().unwrap_or_else(PoisonError::into_inner));
        for (at, name) in marks {
            eprintln!("han-telemetry phase {at:.3} {name}");
        }
    }
}

#[cfg(feature = "phases")]
pub(crate) use on::{mark, print};

/// Notes that `name` happened now (feature `phases` only).
#[cfg(not(feature = "phases"))]
#[inline(always)]
pub(crate) fn mark(_name: &'static str) {}

/// Prints the marks so far (feature `phases` only).
#[cfg(not(feature = "phases"))]
#[inline(always)]
pub(crate) fn print() {}
