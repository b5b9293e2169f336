//! Joining the trace that started this process.
//!
//! Claude Code passes `TRACEPARENT` (and `TRACESTATE`) to the commands it starts when its
//! tracing is on: the W3C trace context carried in environment variables. A span of an
//! instrumented call with no local parent becomes a child of that remote span, so the hook
//! appears inside the Claude Code trace instead of as a trace of its own; a call made inside
//! another (a validation inside a hook) stays that call's child.

use opentelemetry::trace::TraceContextExt as _;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use crate::pipeline::{Pipeline, with_current};

/// Makes `span` a child of the remote parent from `TRACEPARENT`, if there is one and `span`
/// has no local parent (a span created inside another keeps that one). Call it right after
/// creating the span, before entering it.
pub fn adopt_remote_parent(span: &tracing::Span) {
    if span.is_disabled() {
        return;
    }
    let mut remote = None;
    with_current(|p| remote.clone_from(&p.remote_parent));
    if let Some(cx) = remote {
        join(span, cx);
    }
}

/// [`adopt_remote_parent`] with the pipeline the caller has already found.
pub(crate) fn adopt_remote_parent_in(p: &Pipeline, span: &tracing::Span) {
    if let Some(cx) = &p.remote_parent
        && !span.is_disabled()
    {
        join(span, cx.clone());
    }
}

fn join(span: &tracing::Span, remote: opentelemetry::Context) {
    if !has_local_parent() {
        // Fails only when the span is not an OpenTelemetry span: nothing to join then.
        let _ = span.set_parent(remote);
    }
}

/// Whether a span created now got a local parent from tracing-opentelemetry: the active
/// OpenTelemetry context has a span (the layer attaches a span's context while it is
/// entered), or the current tracing span carries one (the parent the layer takes when it
/// does not attach contexts).
///
/// Never call it inside `tracing::dispatcher::get_default` (as in [`with_current`]): while
/// a scoped dispatcher is set anywhere in the process, the current dispatcher is `none`
/// there, no span looks current, and every call would adopt the remote parent.
fn has_local_parent() -> bool {
    opentelemetry::Context::map_current(|cx| cx.has_active_span())
        || tracing::Span::current().context().has_active_span()
}
