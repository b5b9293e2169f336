//! Whole-capture checks, capture options and the snapshot itself.

mod support;

use std::time::Duration;

use han_telemetry::StandardAttributes;
use han_telemetry::catalogue::{MetricDef, attr, event, metric};
use han_telemetry::config::IncludeAttributes;
use han_telemetry::record;
use han_telemetry_testing::{AttrValue, Capture, ConfigFixture, Telemetry, capture};
use support::{assert_contains, panic_message};

fn a_hook_run() -> Telemetry {
    capture(|| record::hook_run("lint", "Stop", true, Duration::from_millis(5)))
}

#[test]
fn only_metrics_accepts_catalogue_entries_and_strings() {
    let t = a_hook_run();
    t.assert_only_metrics([metric::HOOK_EXECUTION, metric::HOOK_DURATION]);
    let defs: &[MetricDef] = &[metric::HOOK_DURATION, metric::HOOK_EXECUTION];
    t.assert_only_metrics(defs);
    t.assert_only_metrics(["han.hook.execution", "han.hook.duration_ms"]);
    let strings: &[&str] = &["han.hook.execution", "han.hook.duration_ms"];
    t.assert_only_metrics(strings);
    t.assert_only_metrics_among(metric::ALL);
    let all: &[&MetricDef] = &metric::ALL;
    t.assert_only_metrics_among(all);
    t.assert_only_metrics_among([
        metric::HOOK_EXECUTION,
        metric::HOOK_DURATION,
        metric::TASK_FAILED,
    ]);
}

#[test]
fn only_metrics_failures_name_what_is_missing_and_unexpected() {
    let t = a_hook_run();
    assert_contains(
        &panic_message(|| t.assert_only_metrics([metric::HOOK_EXECUTION, metric::TASK_FAILED])),
        &[
            "expected exactly the metrics [han.hook.execution, han.task.failed], but [han.task.failed] are missing and [han.hook.duration_ms] are unexpected",
            "Everything emitted in this capture:",
        ],
    );
    assert_contains(
        &panic_message(|| t.assert_only_metrics([metric::HOOK_EXECUTION])),
        &["but [han.hook.duration_ms] are unexpected"],
    );
    assert_contains(
        &panic_message(|| {
            t.assert_only_metrics([
                metric::HOOK_EXECUTION,
                metric::HOOK_DURATION,
                metric::SESSION_START,
            ])
        }),
        &["but [han.session.start] are missing"],
    );
    assert_contains(
        &panic_message(|| t.assert_only_metrics_among([metric::HOOK_EXECUTION])),
        &[
            "expected no metrics other than [han.hook.execution], but also found [han.hook.duration_ms]",
        ],
    );
}

#[test]
fn only_events_and_only_events_among() {
    let t = capture(|| {
        record::validation("lint", false, 1);
        record::plugin_install("p", "user", true);
    });
    t.assert_only_events([event::VALIDATION_ERROR, event::PLUGIN_EVENT]);
    t.assert_only_events(["han.plugin_event", "han.validation_error"]);
    t.assert_only_events_among(event::ALL);
    assert_contains(
        &panic_message(|| t.assert_only_events([event::VALIDATION_ERROR, event::HOOK_RESULT])),
        &[
            "expected exactly the events [han.hook_result, han.validation_error], but [han.hook_result] are missing and [han.plugin_event] are unexpected",
        ],
    );
    assert_contains(
        &panic_message(|| t.assert_only_events_among([event::PLUGIN_EVENT])),
        &[
            "expected no events other than [han.plugin_event], but also found [han.validation_error]",
        ],
    );
}

#[test]
fn absent_means_nothing_at_all() {
    capture(|| {}).assert_absent();
    capture(|| {
        // Spans and events outside han-telemetry's catalogue do not count as metrics or events.
        tracing::info!("not an event of the catalogue");
    })
    .assert_only_metrics::<&str>([]);
    assert_contains(
        &panic_message(|| capture(record::session_start).assert_absent()),
        &[
            "expected no telemetry at all, but some was emitted",
            "han.session.start (counter, {session})\n      {} = 1",
        ],
    );
    assert_contains(
        &panic_message(|| {
            capture(|| {
                let _s = tracing::info_span!("lonely").entered();
            })
            .assert_absent()
        }),
        &["\"lonely\" {} [span"],
    );
}

#[test]
fn only_asserted_passes_once_every_point_and_event_was_matched() {
    let t = a_hook_run();
    t.counter(metric::HOOK_EXECUTION).assert_value(1);
    t.histogram(metric::HOOK_DURATION).assert_count(1);
    t.event(event::HOOK_RESULT).assert_exactly(1);
    t.assert_only_asserted();
}

#[test]
fn only_asserted_lists_what_no_assertion_matched() {
    let t = capture(|| {
        record::hook_run("lint", "Stop", true, Duration::from_millis(5));
        record::hook_run("fmt", "Stop", false, Duration::from_millis(5));
    });
    t.counter(metric::HOOK_EXECUTION)
        .with("hook_name", "lint")
        .assert_value(1);
    t.histogram(metric::HOOK_DURATION).assert_count(2);
    t.event(event::HOOK_RESULT)
        .with("hook_name", "lint")
        .assert_exactly(1);
    let copy = t.clone();
    assert_contains(
        &panic_message(|| t.assert_only_asserted()),
        &[
            "expected nothing beyond what was asserted, but 2 items were never matched by an assertion:\n  han.hook.execution (counter, {execution}) {hook_name=\"fmt\", hook_type=\"Stop\", success=false} = 1\n  event han.hook_result INFO {hook_name=\"fmt\", success=false, duration_ms=5.0, hook_type=\"Stop\"}\n",
        ],
    );
    // A clone keeps what was checked so far.
    copy.counter(metric::HOOK_EXECUTION).assert_value(2);
    copy.event(event::HOOK_RESULT).assert_exactly(2);
    copy.assert_only_asserted();
}

#[test]
fn reading_a_value_checks_nothing() {
    let t = a_hook_run();
    assert_eq!(t.counter(metric::HOOK_EXECUTION).value(), 1);
    assert_eq!(t.counter(metric::HOOK_EXECUTION).points().len(), 1);
    assert!(t.histogram(metric::HOOK_DURATION).merged().is_some());
    assert_eq!(t.histogram(metric::HOOK_DURATION).points().len(), 1);
    assert_eq!(t.event(event::HOOK_RESULT).matching().len(), 1);
    assert_eq!(t.event(event::HOOK_RESULT).count(), 1);
    assert!(t.metric(metric::HOOK_EXECUTION).is_some());
    assert_contains(
        &panic_message(|| t.assert_only_asserted()),
        &[
            "but 3 items were never matched by an assertion:\n  han.hook.execution (counter, {execution}) {hook_name=\"lint\"",
            "\n  han.hook.duration_ms (histogram, ms) {hook_name=\"lint\"",
            "\n  event han.hook_result INFO {hook_name=\"lint\"",
        ],
    );
    // Asserting what was read is what checks it.
    t.counter(metric::HOOK_EXECUTION).assert_value(1);
    t.histogram(metric::HOOK_DURATION).assert_sum(5.0);
    t.event(event::HOOK_RESULT).assert_at_least(1);
    t.assert_only_asserted();
}

#[test]
fn a_failed_assertion_checks_nothing() {
    let t = a_hook_run();
    panic_message(|| t.counter(metric::HOOK_EXECUTION).assert_value(2));
    panic_message(|| t.histogram(metric::HOOK_DURATION).assert_count(2));
    panic_message(|| t.event(event::HOOK_RESULT).assert_exactly(2));
    assert_contains(
        &panic_message(|| t.assert_only_asserted()),
        &["but 3 items were never matched by an assertion"],
    );
}

#[test]
fn each_passing_assertion_checks_what_it_matched() {
    let t = capture(|| {
        record::hook_run("lint", "Stop", true, Duration::from_millis(5));
        record::hook_run("fmt", "Stop", true, Duration::from_millis(7));
    });
    t.counter(metric::HOOK_EXECUTION)
        .with("hook_name", "lint")
        .assert_value(1);
    t.histogram(metric::HOOK_DURATION)
        .with("hook_name", "fmt")
        .assert_max(7.0);
    t.event(event::HOOK_RESULT)
        .with("hook_name", "fmt")
        .assert_one();
    let message = panic_message(|| t.assert_only_asserted());
    assert_contains(
        &message,
        &[
            "but 3 items were never matched by an assertion:\n  han.hook.execution (counter, {execution}) {hook_name=\"fmt\"",
            "\n  han.hook.duration_ms (histogram, ms) {hook_name=\"lint\"",
            "\n  event han.hook_result INFO {hook_name=\"lint\"",
        ],
    );
}

#[test]
fn standard_attributes_and_include_switches() {
    let standard = StandardAttributes {
        session_id: Some("s-1".into()),
        app_version: Some("1.2.3".into()),
        account_uuid: Some("acc".into()),
        organization_id: Some("org".into()),
        terminal_type: None,
    };
    let t = Capture::new()
        .standard_attributes(standard.clone())
        .run(record::session_start)
        .1;
    t.counter(metric::SESSION_START)
        .with(attr::SESSION_ID, "s-1")
        .with(attr::ACCOUNT_UUID, "acc")
        .with(attr::ORGANIZATION_ID, "org")
        .only()
        .assert_value(1);

    let t = Capture::new()
        .standard_attributes(standard)
        .include(IncludeAttributes {
            session_id: false,
            version: true,
            account_uuid: false,
        })
        .run(record::session_start)
        .1;
    t.counter(metric::SESSION_START)
        .with(attr::APP_VERSION, "1.2.3")
        .with(attr::ORGANIZATION_ID, "org")
        .only()
        .assert_value(1);
}

#[test]
fn run_returns_the_closures_value() {
    let (value, t) = Capture::new().run(|| {
        record::mcp_tool_call("search", true);
        42
    });
    assert_eq!(value, 42);
    t.counter(metric::MCP_TOOL_CALL)
        .with("tool_name", "search")
        .assert_value(1);
}

#[test]
fn resource_attributes() {
    let t = Capture::new()
        .service_name("my-plugin")
        .resource_attribute("deployment.environment", "test")
        .resource_attribute("team.size", 3)
        .run(record::session_start)
        .1;
    assert_eq!(
        t.resource().get("service.name"),
        Some(&AttrValue::from("my-plugin"))
    );
    assert_eq!(
        t.resource().get("deployment.environment"),
        Some(&AttrValue::from("test"))
    );
    assert_eq!(t.resource().get("team.size"), Some(&AttrValue::Int(3)));
    assert!(t.to_string().ends_with(
        "resource: {service.name=\"my-plugin\", deployment.environment=\"test\", team.size=3}"
    ));
}

#[test]
fn a_capture_configured_from_an_environment() {
    let config = ConfigFixture::new()
        .env("CLAUDE_CODE_ENABLE_TELEMETRY", "1")
        .env("OTEL_SERVICE_NAME", "plugin-x")
        .env("OTEL_RESOURCE_ATTRIBUTES", "team=core")
        .env("OTEL_METRICS_INCLUDE_SESSION_ID", "false")
        .env("TRACEPARENT", support::TRACEPARENT)
        .build();
    let t = Capture::from_config(&config)
        .standard_attributes(StandardAttributes {
            session_id: Some("s-1".into()),
            ..StandardAttributes::default()
        })
        .run(|| {
            let span = tracing::info_span!("hook lint");
            han_telemetry::adopt_remote_parent(&span);
            span.in_scope(record::session_start);
        })
        .1;
    t.counter(metric::SESSION_START)
        .without(attr::SESSION_ID)
        .assert_value(1);
    t.span("hook lint")
        .assert_child_of_traceparent(support::TRACEPARENT);
    assert_eq!(
        t.resource().get("service.name"),
        Some(&AttrValue::from("plugin-x"))
    );
    assert_eq!(t.resource().get("team"), Some(&AttrValue::from("core")));
}

#[test]
fn display_lists_every_section() {
    let shown = capture(|| {}).to_string();
    assert_eq!(
        shown,
        "metrics:\n  (none)\nevents:\n  (none)\nspans:\n  (none)\nresource: {service.name=\"han\"}"
    );
}
