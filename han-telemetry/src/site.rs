//! Per-call-site caches: an annotated hook whose name and type are literals binds its metric
//! attribute sets once, so a call records with the SDK's bound instruments instead of the SDK
//! sorting and hashing the same attributes on every call.
//!
//! A site binds for the first pipeline and standard-attribute generation it records under,
//! and only for those: a call under another pipeline (a test capture, say) or after the
//! standard attributes changed takes the ordinary path, with the same result. The cache is a
//! `OnceLock`, so the hit path is one atomic load and two comparisons, without a lock shared
//! between threads.

use std::sync::{Arc, OnceLock};

use opentelemetry::KeyValue;
use opentelemetry::metrics::{BoundCounter, BoundHistogram};

use crate::catalogue::attr;
use crate::pipeline::Pipeline;

/// The cache of one annotated hook. Created by the annotation as a `static`.
#[derive(Debug)]
pub struct Site {
    bound: OnceLock<Bound>,
}

/// Instruments bound to one hook's attributes, for one pipeline and standard generation.
#[derive(Debug)]
pub(crate) struct Bound {
    pipeline: u64,
    generation: u64,
    /// The standard attributes of that generation, for the event.
    pub(crate) standard: Arc<[KeyValue]>,
    /// The session id of that generation, for the local store.
    pub(crate) session_id: Option<Arc<str>>,
    /// `[failed, succeeded]`, indexed by the outcome.
    pub(crate) by_outcome: Option<[HookInstruments; 2]>,
}

/// `han.hook.execution` and `han.hook.duration_ms`, bound to one attribute set.
#[derive(Debug)]
pub(crate) struct HookInstruments {
    pub(crate) execution: BoundCounter<u64>,
    pub(crate) duration: BoundHistogram<f64>,
}

impl Site {
    /// An empty cache.
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        Site {
            bound: OnceLock::new(),
        }
    }

    /// The bound instruments for `p`, binding them on first use; `None` when this site is
    /// bound to another pipeline or an older set of standard attributes.
    pub(crate) fn for_hook(
        &self,
        p: &Pipeline,
        hook_name: &str,
        hook_type: &str,
    ) -> Option<&Bound> {
        let generation = p.generation();
        let bound = self
            .bound
            .get_or_init(|| Bound::hook(p, hook_name, hook_type));
        (bound.pipeline == p.id && bound.generation == generation).then_some(bound)
    }
}

impl Bound {
    fn hook(p: &Pipeline, hook_name: &str, hook_type: &str) -> Bound {
        let (standard, session_id, generation) = p.read_standard(|s| {
            (
                Arc::clone(&s.key_values),
                s.session_id.clone(),
                s.generation,
            )
        });
        let by_outcome = p.instruments.as_ref().map(|m| {
            [false, true].map(|success| {
                let mut attributes = vec![
                    KeyValue::new(attr::HOOK_NAME, hook_name.to_owned()),
                    KeyValue::new(attr::HOOK_TYPE, hook_type.to_owned()),
                    KeyValue::new(attr::SUCCESS, success),
                ];
                attributes.extend(standard.iter().cloned());
                HookInstruments {
                    execution: m.hook_execution.bind(&attributes),
                    duration: m.hook_duration.bind(&attributes),
                }
            })
        });
        Bound {
            pipeline: p.id,
            generation,
            standard,
            session_id,
            by_outcome,
        }
    }
}
