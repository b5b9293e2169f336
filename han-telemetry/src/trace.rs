//! Joining the trace that started this process.
//!
//! Claude Code passes `TRACEPARENT` (and `TRACESTATE`) to the commands it starts when its
//! tracing is on: the W3C trace context carried in environment variables. A span of an
//! instrumented call with no local parent becomes a child of that remote span, so the hook
//! appears inside the Claude Code trace instead of as a trace of its own; a call made inside
//! another (a validation inside a hook) stays that call's child.

use std::str::FromStr as _;

use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use crate::config::parse_traceparent;

use crate::pipeline::{Pipeline, with_current};

/// The remote parent context a W3C `traceparent` (with its `tracestate`) describes, if
/// valid. Pass it to [`crate::HanLayerBuilder::remote_parent`] when building a pipeline by hand.
pub fn remote_parent(
    traceparent: Option<&str>,
    tracestate: Option<&str>,
) -> Option<opentelemetry::Context> {
    // The configuration's own check, so that what `doctor` calls valid is what is joined.
    let parent = parse_traceparent(traceparent?).ok()?;
    // Of the flags, only "sampled" is defined; the others are zeroed (W3C trace context).
    let flags = TraceFlags::new(parent.flags) & TraceFlags::SAMPLED;
    let state = tracestate
        .and_then(|s| TraceState::from_str(s).ok())
        .unwrap_or_default();
    let span = SpanContext::new(
        TraceId::from_bytes(parent.trace_id),
        SpanId::from_bytes(parent.parent_id),
        flags,
        true,
        state,
    );
    Some(opentelemetry::Context::new().with_remote_span_context(span))
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_traceparent_gives_a_remote_parent() {
        let cx = remote_parent(
            Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            Some("vendor=x"),
        )
        .expect("valid");
        let sc = cx.span().span_context().clone();
        assert!(sc.is_remote());
        assert_eq!(
            sc.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(sc.span_id().to_string(), "00f067aa0ba902b7");
        assert!(sc.is_sampled());
        assert_eq!(sc.trace_state().get("vendor"), Some("x"));
    }

    #[test]
    fn an_invalid_traceparent_gives_none() {
        assert!(
            remote_parent(
                Some("00-00000000000000000000000000000000-00f067aa0ba902b7-01"),
                None
            )
            .is_none()
        );
        assert!(remote_parent(Some("garbage"), None).is_none());
        assert!(remote_parent(None, None).is_none());
    }
}
