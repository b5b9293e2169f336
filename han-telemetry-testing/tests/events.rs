//! Event assertions, passing and failing.

mod support;

use std::time::Duration;

use han_telemetry::StandardAttributes;
use han_telemetry::catalogue::{attr, event};
use han_telemetry::record::{self, TaskOutcome};
use han_telemetry_testing::{AttrValue, Capture, Severity, Telemetry, capture};
use support::{assert_contains, panic_message};

fn validations() -> Telemetry {
    capture(|| {
        record::validation("typecheck", true, 0);
        record::validation("lint", false, 3);
        record::validation("lint", false, 1);
        record::task("fix", TaskOutcome::Partial, 0.61);
    })
}

#[test]
fn events_by_name_severity_and_attributes() {
    let t = validations();
    t.event("han.validation_error").assert_exactly(2);
    t.event(event::VALIDATION_ERROR)
        .at_severity(Severity::Warn)
        .with("error_count", 3)
        .assert_exactly(1);
    let by_reference: &han_telemetry::catalogue::EventDef = &event::VALIDATION_ERROR;
    t.event(by_reference)
        .at_severity(event::VALIDATION_ERROR.severity.number())
        .with(attr::VALIDATION_TYPE, "lint")
        .assert_at_least(2);
    t.event(event::VALIDATION_ERROR)
        .at_severity(Severity::Info)
        .assert_absent();
    t.event(event::TASK_OUTCOME)
        .with("confidence", 0.61)
        .with("outcome", "partial")
        .assert_exactly(1);
    assert_eq!(t.event(event::VALIDATION_ERROR).count(), 2);
}

#[test]
fn only_ignores_the_repeated_event_name() {
    let t = validations();
    t.event(event::VALIDATION_ERROR)
        .with("validation_type", "lint")
        .with("error_count", 1)
        .only()
        .assert_exactly(1);
    t.event(event::VALIDATION_ERROR)
        .with("validation_type", "lint")
        .only()
        .assert_absent();
}

#[test]
fn without_and_standard_attributes() {
    let standard = StandardAttributes {
        session_id: Some("s-1".into()),
        ..StandardAttributes::default()
    };
    let t = Capture::new()
        .standard_attributes(standard)
        .run(|| record::validation("lint", false, 2))
        .1;
    t.event(event::VALIDATION_ERROR)
        .with(attr::SESSION_ID, "s-1")
        .assert_exactly(1);
    t.event(event::VALIDATION_ERROR)
        .without(attr::SESSION_ID)
        .assert_absent();
}

#[test]
fn assert_one_returns_the_event_with_all_its_fields() {
    let t = validations();
    let e = t
        .event(event::VALIDATION_ERROR)
        .with("error_count", 3)
        .assert_one();
    assert_eq!(e.name, "han.validation_error");
    assert_eq!(e.severity, Some(Severity::Warn));
    assert_eq!(e.severity_text.as_deref(), Some("WARN"));
    assert_eq!(e.body, Some(AttrValue::from("han.validation_error")));
    assert_eq!(
        e.attributes.get("event.name"),
        Some(&AttrValue::from("han.validation_error"))
    );
    assert_eq!(e.attributes.get("error_count"), Some(&AttrValue::Int(3)));
    assert_eq!(e.trace_id, None, "no span was current");
    assert_eq!(e.span_id, None);
    t.event(event::VALIDATION_ERROR)
        .with_body("han.validation_error")
        .assert_exactly(2);
}

#[test]
fn a_wrong_event_count_names_the_expectation_and_lists_everything() {
    let t = validations();
    let msg = panic_message(|| {
        t.event("han.validation_error")
            .at_severity(Severity::Warn)
            .with("error_count", 3)
            .assert_exactly(2)
    });
    assert_contains(
        &msg,
        &[
            "expected exactly 2 events han.validation_error at WARN where error_count=3, but found 1",
            "  events:\n    han.validation_error WARN {validation_type=\"lint\", error_count=3}\n",
            "han.task_outcome INFO {task_type=\"fix\", outcome=\"partial\", confidence=0.61}",
            "han.validation.run (counter, {run})",
        ],
    );
    assert_contains(
        &panic_message(|| t.event(event::VALIDATION_ERROR).assert_at_least(3)),
        &["expected at least 3 events han.validation_error, but found 2"],
    );
    assert_contains(
        &panic_message(|| t.event(event::TASK_OUTCOME).assert_absent()),
        &["expected exactly 0 events han.task_outcome, but found 1"],
    );
    assert_contains(
        &panic_message(|| {
            t.event(event::VALIDATION_ERROR).assert_one();
        }),
        &["expected exactly 1 event han.validation_error, but found 2"],
    );
}

#[test]
fn events_inside_a_span() {
    let t = capture(|| {
        let span = tracing::info_span!("hook lint");
        span.in_scope(|| record::hook_run("lint", "Stop", true, Duration::from_millis(1)));
        record::hook_run("fmt", "Stop", true, Duration::from_millis(1));
    });
    t.event(event::HOOK_RESULT)
        .in_span("hook lint")
        .assert_one();
    t.event(event::HOOK_RESULT)
        .in_span("hook lint")
        .with("hook_name", "fmt")
        .assert_absent();
    let inside = t
        .event(event::HOOK_RESULT)
        .in_span("hook lint")
        .assert_one();
    let span = t.span("hook lint").assert_one();
    assert_eq!(inside.span_id, Some(span.span_id));
    assert_eq!(inside.trace_id, Some(span.trace_id));
    assert_contains(
        &panic_message(|| {
            t.event(event::HOOK_RESULT)
                .in_span("hook x")
                .assert_exactly(1)
        }),
        &["expected exactly 1 event han.hook_result inside span \"hook x\", but found 0"],
    );
}
