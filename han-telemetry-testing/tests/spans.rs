//! Span assertions, passing and failing.

mod support;

use han_telemetry_testing::{AttrValue, Capture, SpanStatus, Telemetry, capture};
use support::{TRACEPARENT, assert_contains, panic_message};

/// `hook lint` (adopting the remote parent when one is configured) with a child `step`,
/// then an unrelated root `cleanup` that fails.
fn hook_with_child(options: Capture) -> Telemetry {
    options
        .run(|| {
            let hook = tracing::info_span!("hook lint", hook_name = "lint");
            han_telemetry::adopt_remote_parent(&hook);
            hook.in_scope(|| {
                let _step = tracing::info_span!("step", n = 1).entered();
            });
            drop(hook);
            let _cleanup = tracing::info_span!("cleanup", otel.status_code = "ERROR").entered();
        })
        .1
}

#[test]
fn a_span_joins_the_traceparent() {
    let t = hook_with_child(Capture::new().traceparent(TRACEPARENT));
    t.span("hook lint").assert_child_of_traceparent(TRACEPARENT);
    t.span("hook lint")
        .assert_in_trace("4bf92f3577b34da6a3ce929d0e0e4736");
    t.span("hook lint")
        .assert_parent_span_id("00f067aa0ba902b7");
    t.span("step").assert_child_of("hook lint");
    t.span("step")
        .assert_in_trace("4bf92f3577b34da6a3ce929d0e0e4736");
    t.span("cleanup").assert_root();

    let hook = t.span("hook lint").with("hook_name", "lint").assert_one();
    assert!(hook.parent_is_remote);
    assert_eq!(
        hook.attributes.get("hook_name"),
        Some(&AttrValue::from("lint"))
    );
    assert_eq!(hook.status, SpanStatus::Unset);
    let step = t.span("step").assert_one();
    assert_eq!(step.parent_span_id, Some(hook.span_id));
    assert!(!step.parent_is_remote);
    assert_eq!(step.attributes.get("n"), Some(&AttrValue::Int(1)));
}

#[test]
fn without_a_traceparent_the_span_is_a_root_and_the_assertion_says_so() {
    let t = hook_with_child(Capture::new());
    t.span("hook lint").assert_root();
    let msg = panic_message(|| t.span("hook lint").assert_child_of_traceparent(TRACEPARENT));
    assert_contains(
        &msg,
        &[
            "expected the span \"hook lint\" to be a child of remote parent 00f067aa0ba902b7 in trace 4bf92f3577b34da6a3ce929d0e0e4736, but 1 span does not: \"hook lint\" {hook_name=\"lint\"} [span ",
            ", root]",
            "  spans:\n    \"hook lint\" {hook_name=\"lint\"} [span ",
            "      \"step\" {n=1} [span ",
            "    \"cleanup\" {} status=error [span ",
        ],
    );
}

#[test]
fn span_relationship_failures() {
    let t = hook_with_child(Capture::new().traceparent(TRACEPARENT));
    assert_contains(
        &panic_message(|| t.span("hook lint").assert_root()),
        &[
            "expected the span \"hook lint\" to be a root span, but 1 span does not:",
            "remote parent 00f067aa0ba902b7]",
        ],
    );
    assert_contains(
        &panic_message(|| t.span("cleanup").assert_child_of("hook lint")),
        &["expected the span \"cleanup\" to be a child of span \"hook lint\", but 1 span does not"],
    );
    assert_contains(
        &panic_message(|| t.span("step").assert_parent_span_id("00f067aa0ba902b7")),
        &[
            "expected the span \"step\" to have parent span id 00f067aa0ba902b7, but 1 span does not",
        ],
    );
    assert_contains(
        &panic_message(|| {
            t.span("cleanup")
                .assert_in_trace("4bf92f3577b34da6a3ce929d0e0e4736")
        }),
        &[
            "expected the span \"cleanup\" to be in trace 4bf92f3577b34da6a3ce929d0e0e4736, but 1 span does not",
        ],
    );
    assert_contains(
        &panic_message(|| t.span("hook typo").assert_child_of_traceparent(TRACEPARENT)),
        &[
            "expected the span \"hook typo\" to be a child of remote parent 00f067aa0ba902b7 in trace 4bf92f3577b34da6a3ce929d0e0e4736, but no such span ended in the capture",
        ],
    );
    assert_contains(
        &panic_message(|| t.span("hook lint").assert_child_of_traceparent("00-xyz")),
        &["assert_child_of_traceparent was given \"00-xyz\", which is not a W3C traceparent"],
    );
}

#[test]
fn an_unsampled_or_invalid_traceparent_is_handled_like_the_runtime() {
    let t = hook_with_child(Capture::new().traceparent("not a traceparent"));
    t.span("hook lint").assert_root();
    let unsampled = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";
    let t = hook_with_child(Capture::new().traceparent(unsampled));
    t.span("hook lint").assert_absent();
}

#[test]
fn span_status() {
    let t = hook_with_child(Capture::new());
    t.span("cleanup").assert_error();
    t.span("cleanup").assert_status(SpanStatus::Error {
        description: String::new(),
    });
    t.span("hook lint").assert_status(SpanStatus::Unset);
    assert_contains(
        &panic_message(|| t.span("hook lint").assert_error()),
        &["expected the span \"hook lint\" to have an error status, but 1 span does not"],
    );
    assert_contains(
        &panic_message(|| t.span("cleanup").assert_status(SpanStatus::Ok)),
        &[
            "expected the span \"cleanup\" to have status Ok, but 1 span does not: \"cleanup\" {} status=error",
        ],
    );
}

#[test]
fn span_counts_and_attribute_filters() {
    let t = capture(|| {
        for n in 0..3 {
            let _s = tracing::info_span!("step", n).entered();
        }
    });
    t.span("step").assert_exactly(3);
    t.span("step").with("n", 2).assert_one();
    t.span("step").with("n", 2).only().assert_one();
    t.span("step").with("n", 7).assert_absent();
    t.span("other").assert_absent();
    assert_eq!(t.all_spans().len(), 3);
    assert_contains(
        &panic_message(|| t.span("step").assert_exactly(2)),
        &["expected exactly 2 spans \"step\", but found 3"],
    );
    assert_contains(
        &panic_message(|| {
            t.span("step").with("n", 7).assert_one();
        }),
        &["expected exactly 1 span \"step\" where n=7, but found 0"],
    );
}
