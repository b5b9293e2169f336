//! The trace that started this process: `TRACEPARENT` and `TRACESTATE` (the W3C trace
//! context in environment variables, which Claude Code passes to hooks when its tracing is on)
//! as the remote parent of the pipeline's spans.

use std::str::FromStr as _;

use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
};

use crate::config::parse_traceparent;

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
