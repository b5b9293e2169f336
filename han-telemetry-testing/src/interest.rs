//! Keeping tracing's process-wide callsite interest cache honest for scoped subscribers.
//!
//! Every `span!`/`event!` callsite caches, once per process, whether *any* subscriber is
//! interested in it. Creating a [`Dispatch`] rebuilds that cache against every live
//! dispatcher, so a capture that starts after a callsite was cached as "never" is already
//! corrected without calling `tracing::callsite::rebuild_interest_cache()`. Two holes remain
//! when tests run in parallel (tracing-core 0.1.36, `callsite.rs`):
//!
//! - While at most one dispatcher is registered, tracing-core takes a fast path that asks
//!   only the *current thread's* dispatcher when a callsite is first hit. A callsite first
//!   hit on a thread without a capture (a helper thread, another test) is then cached as
//!   "never" even though a capture is running on another thread, and that capture silently
//!   loses the span.
//! - A rebuild racing with that fast path can store "never" after the rebuild finished.
//!
//! Two dispatchers registered once and kept for the life of the process take tracing-core
//! off that fast path for good: every first hit is then decided, under its lock, against all
//! live dispatchers, including every running capture. They answer "sometimes" for every
//! callsite, so a callsite is never cached as "never" while they exist and each subscriber's
//! own `enabled` decides per call. They are never installed as anyone's default and record
//! nothing. Calling `rebuild_interest_cache()` instead would fix neither hole: the first
//! hit can happen after it.

use std::sync::OnceLock;

use tracing::subscriber::Interest;
use tracing::{Dispatch, Event, Metadata, Subscriber, span};

/// Registers the two process-lifetime dispatchers, once.
pub(crate) fn keep_interest_open() {
    static KEEP: OnceLock<[Dispatch; 2]> = OnceLock::new();
    KEEP.get_or_init(|| [Dispatch::new(AskEveryTime), Dispatch::new(AskEveryTime)]);
}

/// A subscriber that is never current: it only takes part in interest decisions.
struct AskEveryTime;

impl Subscriber for AskEveryTime {
    fn register_callsite(&self, _: &'static Metadata<'static>) -> Interest {
        Interest::sometimes()
    }

    fn enabled(&self, _: &Metadata<'_>) -> bool {
        false
    }

    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(1)
    }

    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}

    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}

    fn event(&self, _: &Event<'_>) {}

    fn enter(&self, _: &span::Id) {}

    fn exit(&self, _: &span::Id) {}
}
