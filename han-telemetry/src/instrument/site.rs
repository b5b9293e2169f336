//! Per-call-site caches: an annotated hook whose name and type are literals binds its metric
//! attribute sets, so a call records with the SDK's bound instruments instead of the SDK
//! sorting and hashing the same attributes on every call.
//!
//! Each outcome (failed, succeeded) binds on its own first call, for the pipeline and
//! standard-attribute generation of that call, and only for those: a call under another
//! pipeline (a test capture, say) or after the standard attributes changed takes the
//! ordinary path, with the same result. Binding never creates a data point by itself: a
//! bound attribute set that was never recorded would be exported by a cumulative reader as a
//! counter of 0 and an empty histogram, so an outcome's first call records through the
//! ordinary instruments (which create the point with its value) and binds after. Each outcome
//! is a `OnceLock`, so the hit path is one atomic load and two comparisons, without a lock
//! shared between threads.

use std::sync::{Arc, OnceLock};

use opentelemetry::KeyValue;
use opentelemetry::metrics::{BoundCounter, BoundHistogram};

use crate::catalogue::attr;
use crate::pipeline::Pipeline;

/// The cache of one annotated hook. Created by the annotation as a `static`.
#[derive(Debug)]
pub struct Site {
    /// `[failed, succeeded]`, indexed by the outcome.
    by_outcome: [OnceLock<Bound>; 2],
}

/// One outcome's instruments, bound for one pipeline and standard generation.
#[derive(Debug)]
pub(crate) struct Bound {
    pipeline: u64,
    generation: u64,
    /// The standard attributes of that generation, for the event.
    pub(crate) standard: Arc<[KeyValue]>,
    /// The session id of that generation, for the local store.
    pub(crate) session_id: Option<Arc<str>>,
    /// `None` when the pipeline records no metrics.
    instruments: Option<HookInstruments>,
}

/// `han.hook.execution` and `han.hook.duration_ms`, bound to one attribute set.
#[derive(Debug)]
struct HookInstruments {
    execution: BoundCounter<u64>,
    duration: BoundHistogram<f64>,
}

impl Site {
    /// An empty cache.
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        Site {
            by_outcome: [OnceLock::new(), OnceLock::new()],
        }
    }

    /// Records one run's `han.hook.execution` and `han.hook.duration_ms` (`ms`) into `p`, and
    /// returns the binding the run was recorded with (its standard attributes go on the
    /// event). `None` when this outcome is bound to another pipeline or an older set of
    /// standard attributes: nothing was recorded, the caller takes the ordinary path.
    #[inline]
    pub(crate) fn record_hook(
        &self,
        p: &Pipeline,
        hook_name: &str,
        hook_type: &str,
        success: bool,
        ms: f64,
    ) -> Option<&Bound> {
        let slot = &self.by_outcome[usize::from(success)];
        match slot.get() {
            Some(bound) => bound.record_if_for(p, ms),
            None => bind_recording(slot, p, hook_name, hook_type, success, ms),
        }
    }
}

/// An outcome's first run: records it through the ordinary instruments, then binds. Threads
/// that race here wait for the one binding and then record through its handles.
#[cold]
fn bind_recording<'s>(
    slot: &'s OnceLock<Bound>,
    p: &Pipeline,
    hook_name: &str,
    hook_type: &str,
    success: bool,
    ms: f64,
) -> Option<&'s Bound> {
    let mut recorded = false;
    let bound = slot.get_or_init(|| {
        recorded = true;
        Bound::hook(p, hook_name, hook_type, success, ms)
    });
    if recorded {
        // Recorded with the attributes it bound, whatever generation is current now.
        Some(bound)
    } else {
        bound.record_if_for(p, ms)
    }
}

impl Bound {
    /// Records one run of `success` with `ms` through `p`'s ordinary instruments, then binds
    /// that attribute set.
    fn hook(p: &Pipeline, hook_name: &str, hook_type: &str, success: bool, ms: f64) -> Bound {
        let (standard, session_id, generation) = p.read_standard(|s| {
            (
                Arc::clone(&s.key_values),
                s.session_id.clone(),
                s.generation,
            )
        });
        let instruments = p.instruments.as_ref().map(|m| {
            let mut attributes = vec![
                KeyValue::new(attr::HOOK_NAME, hook_name.to_owned()),
                KeyValue::new(attr::HOOK_TYPE, hook_type.to_owned()),
                KeyValue::new(attr::SUCCESS, success),
            ];
            attributes.extend(standard.iter().cloned());
            // The ordinary calls create the data point with this run in it; binding then
            // finds that point. Binding first would create an empty point that a collection
            // racing with the first `add` could export.
            m.hook_execution.add(1, &attributes);
            m.hook_duration.record(ms, &attributes);
            HookInstruments {
                execution: m.hook_execution.bind(&attributes),
                duration: m.hook_duration.bind(&attributes),
            }
        });
        Bound {
            pipeline: p.id,
            generation,
            standard,
            session_id,
            instruments,
        }
    }

    /// Records one run with `ms` if this binding is for `p` and its current standard
    /// attributes.
    #[inline]
    fn record_if_for(&self, p: &Pipeline, ms: f64) -> Option<&Bound> {
        if self.pipeline != p.id || self.generation != p.generation() {
            return None;
        }
        if let Some(m) = &self.instruments {
            m.execution.add(1);
            m.duration.record(ms);
        }
        Some(self)
    }
}
