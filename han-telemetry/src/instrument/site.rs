//! Per-call-site caches: an annotated hook whose name and type are literals binds its metric
//! attribute sets, so a call records with the SDK's bound instruments instead of the SDK
//! sorting and hashing the same attributes on every call.
//!
//! A hook named by a parameter (or typed by one) has a [`NamedSite`]: a site for each of the
//! first [`NAMES`] distinct names it is called with, compared as strings; other names take
//! the ordinary path, so a flood of names costs no memory.
//!
//! Each outcome (failed, succeeded) binds on its own first call, for the pipeline and
//! standard-attribute generation of that call; an outcome keeps up to `BINDINGS` of them, so
//! a site used under another pipeline (a test capture, a benchmark's own) or after the
//! standard attributes changed binds again instead of slowing down. Past those, calls take
//! the ordinary path with the same result, and are counted ([`unbound_calls`]). Binding
//! never creates a data point by itself: a bound attribute set that was never recorded would
//! be exported by a cumulative reader as a counter of 0 and an empty histogram, so an
//! outcome's first call records through the ordinary instruments (which create the point
//! with its value) and binds after. Each binding is a `OnceLock`, so the hit path is an
//! atomic load and two comparisons, without a lock shared between threads. In the production
//! pipeline a binding holds its runs per thread and records them a batch at a time
//! ([`crate::pipeline::batched`]), so that threads running one hook do not meet on the SDK's
//! one counter and histogram lock of its attribute set.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use opentelemetry::KeyValue;
use opentelemetry::metrics::{BoundCounter, BoundHistogram};

use crate::catalogue::attr;
use crate::pipeline::Pipeline;
use crate::pipeline::batched::HookBatches;

/// How many (pipeline, standard attributes) bindings an outcome of a site keeps: a hook
/// process has one; a test binary a few captures; a long-running process a few changes of
/// its standard attributes. Past them, calls take the ordinary path (counted in
/// [`unbound_calls`]).
const BINDINGS: usize = 4;

/// How many distinct hook names (and types) a site whose name is a parameter keeps bound.
/// Past them, other names take the ordinary path: the memory of a site is fixed whatever
/// names it is called with.
pub const NAMES: usize = 8;

static UNBOUND: AtomicU64 = AtomicU64::new(0);

/// How many calls of annotated hooks in this process took the ordinary (unbound) path after
/// their site's bindings were all taken. For tests that check a site does not slow down.
pub fn unbound_calls() -> u64 {
    UNBOUND.load(Ordering::Relaxed)
}

/// The cache of one annotated hook, with the names it records. Created by the annotation as a
/// `static`.
#[derive(Debug)]
pub struct Site {
    hook_name: &'static str,
    hook_type: &'static str,
    /// `[failed, succeeded]`, indexed by the outcome.
    by_outcome: [[OnceLock<Bound>; BINDINGS]; 2],
}

/// The cache of an annotated hook whose name or type is a parameter: a [`Site`] for each of
/// the first [`NAMES`] distinct (name, type) pairs it is called with.
#[derive(Debug)]
pub struct NamedSite {
    names: [OnceLock<Named>; NAMES],
}

/// A [`Site`] whose names are leaked on purpose: a named site keeps at most [`NAMES`] of
/// them for the life of the process (it is a `static`), and a `&'static str` attribute value
/// costs no allocation per call.
type Named = Site;

/// A hook's name or type from a parameter, as its call site looks it up among the names it
/// knows: a string's text as it is, anything else through its `Display` (formatted into the
/// stack). The expansion picks one by autoref specialisation
/// (`__private::StrText`, else `__private::ShownText`): the text is the same either way, a
/// string just skips the formatting machinery.
#[derive(Clone, Copy)]
pub enum Text<'a> {
    /// A string type's text.
    Str(&'a str),
    /// Any other value, shown.
    Shown(&'a dyn std::fmt::Display),
}

impl std::fmt::Debug for Text<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Text::Str(text) => f.debug_tuple("Str").field(text).finish(),
            Text::Shown(shown) => f.debug_tuple("Shown").field(&shown.to_string()).finish(),
        }
    }
}

impl<'a> Text<'a> {
    /// The text: a string's as it is, any other value's formatted into `buf`; `None` when it
    /// does not fit there.
    #[inline]
    pub(crate) fn read(self, buf: &'a mut [u8; 128]) -> Option<&'a str> {
        match self {
            Text::Str(text) => Some(text),
            Text::Shown(shown) => formatted(shown, buf),
        }
    }
}

/// Formats a value into a stack buffer, for comparing it with known names without
/// allocating; `None` when it does not fit.
pub(crate) fn formatted<'b>(
    value: &dyn std::fmt::Display,
    buf: &'b mut [u8; 128],
) -> Option<&'b str> {
    struct Cursor<'a> {
        buf: &'a mut [u8; 128],
        len: usize,
    }
    impl std::fmt::Write for Cursor<'_> {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            let end = self.len + s.len();
            let slot = self.buf.get_mut(self.len..end).ok_or(std::fmt::Error)?;
            slot.copy_from_slice(s.as_bytes());
            self.len = end;
            Ok(())
        }
    }
    let mut cursor = Cursor { buf, len: 0 };
    std::fmt::write(&mut cursor, format_args!("{value}")).ok()?;
    let len = cursor.len;
    std::str::from_utf8(&buf[..len]).ok()
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
enum HookInstruments {
    /// Every run recorded at once.
    Direct {
        execution: BoundCounter<u64>,
        duration: BoundHistogram<f64>,
    },
    /// Runs held per thread and recorded a batch at a time (the production pipeline).
    Batched(Arc<HookBatches>),
}

impl Site {
    /// An empty cache for the hook `hook_name` of type `hook_type`.
    pub const fn hook(hook_name: &'static str, hook_type: &'static str) -> Self {
        Site {
            hook_name,
            hook_type,
            by_outcome: [
                [const { OnceLock::new() }; BINDINGS],
                [const { OnceLock::new() }; BINDINGS],
            ],
        }
    }

    /// `hook_name`.
    #[inline]
    pub(crate) fn hook_name(&self) -> &'static str {
        self.hook_name
    }

    /// `hook_type`.
    #[inline]
    pub(crate) fn hook_type(&self) -> &'static str {
        self.hook_type
    }

    /// Records one run's `han.hook.execution` and `han.hook.duration_ms` (`ms`) into `p`, and
    /// returns the binding the run was recorded with (its standard attributes go on the
    /// event). `None` when every binding of this outcome is for another pipeline or set of
    /// standard attributes: nothing was recorded, the caller takes the ordinary path.
    #[inline]
    pub(crate) fn record_hook(&self, p: &Pipeline, success: bool, ms: f64) -> Option<&Bound> {
        let slots = &self.by_outcome[usize::from(success)];
        let generation = p.generation();
        for slot in slots {
            match slot.get() {
                Some(bound) if bound.is_for(p.id, generation) => {
                    bound.record(ms);
                    return Some(bound);
                }
                Some(_) => {}
                None => return bind_recording(self, slots, p, success, ms),
            }
        }
        UNBOUND.fetch_add(1, Ordering::Relaxed);
        None
    }
}

impl NamedSite {
    /// An empty cache.
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        NamedSite {
            names: [const { OnceLock::new() }; NAMES],
        }
    }

    /// The site of an already known (name, type), with the names as `&'static str`: the
    /// call then records as a hook named by literals, without allocating.
    #[inline]
    pub(crate) fn known(&self, hook_name: &str, hook_type: &str) -> Option<&Site> {
        self.names
            .iter()
            .map_while(OnceLock::get)
            .find(|n| n.hook_name == hook_name && n.hook_type == hook_type)
    }

    /// The site of `hook_name` and `hook_type`, taking a free one on their first call;
    /// `None` once [`NAMES`] others have taken them all.
    #[inline]
    pub(crate) fn site(&self, hook_name: &str, hook_type: &str) -> Option<&Site> {
        for slot in &self.names {
            let named = match slot.get() {
                Some(named) => named,
                None => slot.get_or_init(|| {
                    Site::hook(Box::leak(hook_name.into()), Box::leak(hook_type.into()))
                }),
            };
            if named.hook_name == hook_name && named.hook_type == hook_type {
                return Some(named);
            }
        }
        UNBOUND.fetch_add(1, Ordering::Relaxed);
        None
    }
}

/// An outcome's first run for this pipeline and generation: records it through the ordinary
/// instruments, then binds it in the first free slot. Threads that race for a slot wait for
/// the one binding; a thread that finds it was for another pipeline tries the next slot.
#[cold]
fn bind_recording<'s>(
    site: &Site,
    slots: &'s [OnceLock<Bound>; BINDINGS],
    p: &Pipeline,
    success: bool,
    ms: f64,
) -> Option<&'s Bound> {
    let generation = p.generation();
    for slot in slots {
        let mut recorded = false;
        let bound = slot.get_or_init(|| {
            recorded = true;
            Bound::hook(p, site.hook_name, site.hook_type, success, ms)
        });
        if recorded {
            // Recorded with the attributes it bound, whatever generation is current now.
            return Some(bound);
        }
        if bound.is_for(p.id, generation) {
            bound.record(ms);
            return Some(bound);
        }
    }
    UNBOUND.fetch_add(1, Ordering::Relaxed);
    None
}

impl Bound {
    /// Records one run of `success` with `ms` through `p`'s ordinary instruments, then binds
    /// that attribute set.
    fn hook(
        p: &Pipeline,
        hook_name: &'static str,
        hook_type: &'static str,
        success: bool,
        ms: f64,
    ) -> Bound {
        let (standard, session_id, generation) = p.read_standard(|s| {
            (
                Arc::clone(&s.key_values),
                s.session_id.clone(),
                s.generation,
            )
        });
        let instruments = p.instruments.as_ref().map(|m| {
            let mut attributes = vec![
                KeyValue::new(attr::HOOK_NAME, hook_name),
                KeyValue::new(attr::HOOK_TYPE, hook_type),
                KeyValue::new(attr::SUCCESS, success),
            ];
            attributes.extend(standard.iter().cloned());
            // The ordinary calls create the data point with this run in it; binding then
            // finds that point. Binding first would create an empty point that a collection
            // racing with the first `add` could export.
            m.hook_execution().add(1, &attributes);
            m.hook_duration().record(ms, &attributes);
            let execution = m.hook_execution().bind(&attributes);
            let duration = m.hook_duration().bind(&attributes);
            match &p.batches {
                Some(batches) => HookInstruments::Batched(batches.hook(execution, duration)),
                None => HookInstruments::Direct {
                    execution,
                    duration,
                },
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

    #[inline]
    fn is_for(&self, pipeline: u64, generation: u64) -> bool {
        self.pipeline == pipeline && self.generation == generation
    }

    /// Records one run with `ms`.
    #[inline]
    fn record(&self, ms: f64) {
        match &self.instruments {
            Some(HookInstruments::Direct {
                execution,
                duration,
            }) => {
                execution.add(1);
                duration.record(ms);
            }
            Some(HookInstruments::Batched(hook)) => hook.run(ms),
            None => {}
        }
    }
}
