//! Counter and histogram assertions, passing and failing.

mod support;

use std::time::Duration;

use han_telemetry::catalogue::{self, attr, metric};
use han_telemetry::record;
use han_telemetry_testing::{AttrValue, MetricKind, PointValue, Telemetry, capture};
use support::{assert_contains, panic_message};

fn two_lint_runs_and_a_failure() -> Telemetry {
    capture(|| {
        record::hook_run("lint", "PostToolUse", true, Duration::from_millis(12));
        record::hook_run("lint", "PostToolUse", true, Duration::from_micros(1500));
        record::hook_run("lint", "PostToolUse", false, Duration::from_millis(48));
        record::hook_run("fmt", "Stop", true, Duration::from_millis(3));
    })
}

#[test]
fn counter_value_sums_the_matching_points() {
    let t = two_lint_runs_and_a_failure();
    t.counter("han.hook.execution").assert_value(4);
    t.counter(metric::HOOK_EXECUTION)
        .with(attr::HOOK_NAME, "lint")
        .assert_value(3);
    let by_reference: &han_telemetry::catalogue::MetricDef = &metric::HOOK_EXECUTION;
    t.counter(by_reference)
        .with("hook_name", "lint")
        .with("success", false)
        .assert_value(1);
    t.counter(String::from("han.hook.execution"))
        .with("hook_name", String::from("fmt"))
        .assert_value(1);
    assert_eq!(
        t.counter(metric::HOOK_EXECUTION)
            .with("success", true)
            .value(),
        3
    );
    assert_eq!(t.counter(metric::HOOK_EXECUTION).points().len(), 3);
}

#[test]
fn only_requires_the_exact_attribute_set() {
    let t = two_lint_runs_and_a_failure();
    t.counter(metric::HOOK_EXECUTION)
        .with("hook_name", "lint")
        .with("hook_type", "PostToolUse")
        .with("success", true)
        .only()
        .assert_value(2);
    let msg = panic_message(|| {
        t.counter(metric::HOOK_EXECUTION)
            .with("hook_name", "lint")
            .only()
            .assert_value(3)
    });
    assert_contains(
        &msg,
        &[
            "expected counter han.hook.execution where hook_name=\"lint\", no other attributes to have value 3, but none of its data points matched",
        ],
    );
}

#[test]
fn without_requires_an_attribute_to_be_absent() {
    let t = capture(record::session_start);
    t.counter(metric::SESSION_START)
        .without(attr::SESSION_ID)
        .assert_value(1);
    t.counter(metric::SESSION_START).only().assert_value(1);
}

#[test]
fn a_wrong_counter_value_names_the_expectation_and_lists_everything() {
    let t = two_lint_runs_and_a_failure();
    let msg = panic_message(|| {
        t.counter(metric::HOOK_EXECUTION)
            .with("hook_name", "lint")
            .with("success", false)
            .assert_value(2)
    });
    assert_contains(
        &msg,
        &[
            "expected counter han.hook.execution where hook_name=\"lint\", success=false to have value 2, but found 1 (from 1 matching data point)",
            "Everything emitted in this capture:",
            "  metrics:\n    han.hook.execution (counter, {execution})",
            "{hook_name=\"lint\", hook_type=\"PostToolUse\", success=false} = 1",
            "{hook_name=\"fmt\", hook_type=\"Stop\", success=true} = 1",
            "han.hook.duration_ms (histogram, ms)",
            "han.hook_result INFO {hook_name=\"lint\", success=true, duration_ms=12.0, hook_type=\"PostToolUse\"}",
            "  spans:\n    (none)",
            "  resource: {service.name=\"han\"}",
        ],
    );
    assert!(!msg.contains("DataPoint {"), "no Debug dumps:\n{msg}");
}

#[test]
fn a_missing_counter_says_it_was_not_emitted() {
    let t = two_lint_runs_and_a_failure();
    t.counter(metric::PLUGIN_INSTALL).assert_value(0);
    let msg = panic_message(|| t.counter(metric::PLUGIN_INSTALL).assert_value(1));
    assert_contains(
        &msg,
        &[
            "expected counter han.plugin.install to have value 1, but no metric named han.plugin.install was emitted",
        ],
    );
}

#[test]
fn a_counter_query_on_a_histogram_says_so() {
    let t = two_lint_runs_and_a_failure();
    let msg = panic_message(|| t.counter(metric::HOOK_DURATION).assert_value(1));
    assert_contains(
        &msg,
        &[
            "expected counter han.hook.duration_ms, but han.hook.duration_ms is a histogram, not a counter",
        ],
    );
    let msg = panic_message(|| t.histogram(metric::HOOK_EXECUTION).assert_count(1));
    assert_contains(&msg, &["han.hook.execution is a counter, not a histogram"]);
    assert!(t.counter(metric::HOOK_DURATION).points().is_empty());
}

#[test]
fn counter_absent() {
    let t = two_lint_runs_and_a_failure();
    t.counter(metric::HOOK_EXECUTION)
        .with("hook_name", "typecheck")
        .assert_absent();
    t.counter(metric::MCP_TOOL_CALL).assert_absent();
    let msg = panic_message(|| {
        t.counter(metric::HOOK_EXECUTION)
            .with("success", false)
            .assert_absent()
    });
    assert_contains(
        &msg,
        &[
            "expected no counter han.hook.execution where success=false, but found: {hook_name=\"lint\", hook_type=\"PostToolUse\", success=false} = 1",
        ],
    );
}

#[test]
fn integer_attribute_values_of_every_width_match() {
    let t = capture(|| record::validation("lint", false, 3));
    for q in [
        t.counter(metric::VALIDATION_RUN).with("error_count", 3),
        t.counter(metric::VALIDATION_RUN).with("error_count", 3u8),
        t.counter(metric::VALIDATION_RUN).with("error_count", 3u64),
        t.counter(metric::VALIDATION_RUN)
            .with("error_count", 3usize),
        t.counter(metric::VALIDATION_RUN).with("error_count", 3.0),
    ] {
        q.assert_value(1);
    }
    t.counter(metric::VALIDATION_RUN)
        .with("error_count", "3")
        .assert_absent();
}

#[test]
fn histogram_count_sum_min_max() {
    let t = two_lint_runs_and_a_failure();
    let lint = t.histogram(metric::HOOK_DURATION).with("hook_name", "lint");
    lint.assert_count(3);
    lint.assert_sum(61.5);
    lint.assert_min(1.5);
    lint.assert_max(48.0);
    let ok = lint.clone().with("success", true);
    ok.assert_count(2);
    ok.assert_sum(13.5);
    t.histogram("han.hook.duration_ms")
        .with("hook_name", "typecheck")
        .assert_count(0);
}

#[test]
fn histogram_bounds_and_bucket_counts() {
    let t = two_lint_runs_and_a_failure();
    let lint = t.histogram(metric::HOOK_DURATION).with("hook_name", "lint");
    lint.assert_bounds(catalogue::HOOK_DURATION_BUCKETS_MS);
    // 1.5 ms in (1, 2.5], 12 ms in (10, 25], 48 ms in (25, 50].
    let mut expected = vec![0u64; catalogue::HOOK_DURATION_BUCKETS_MS.len() + 1];
    expected[1] = 1;
    expected[4] = 1;
    expected[5] = 1;
    lint.assert_bucket_counts(&expected);
    let merged = lint.merged().expect("points");
    assert_eq!(merged.count, 3);
    assert_eq!(merged.bucket_counts, expected);

    let msg = panic_message(|| lint.assert_bounds(&[1.0, 10.0]));
    assert_contains(
        &msg,
        &[
            "expected histogram han.hook.duration_ms where hook_name=\"lint\" to have bucket bounds [1.0, 10.0], but found [1.0, 2.5, 5.0,",
        ],
    );
    let msg = panic_message(|| lint.assert_bucket_counts(&[3]));
    assert_contains(
        &msg,
        &["to have bucket counts [3], but found [0, 1, 0, 0, 1, 1, 0"],
    );
}

#[test]
fn histogram_failures_say_what_differs() {
    let t = two_lint_runs_and_a_failure();
    let lint = t.histogram(metric::HOOK_DURATION).with("hook_name", "lint");
    assert_contains(
        &panic_message(|| lint.assert_count(2)),
        &[
            "expected histogram han.hook.duration_ms where hook_name=\"lint\" to have count 2, but found 3",
            "count=2 sum=13.5 min=1.5 max=12.0 buckets: <=2.5: 1, <=25.0: 1",
        ],
    );
    assert_contains(
        &panic_message(|| lint.assert_sum(60.0)),
        &["to have sum 60.0, but found 61.5"],
    );
    assert_contains(
        &panic_message(|| lint.assert_min(2.0)),
        &["to have min 2.0, but found 1.5"],
    );
    assert_contains(
        &panic_message(|| lint.assert_max(12.0)),
        &["to have max 12.0, but found 48.0"],
    );
    assert_contains(
        &panic_message(|| {
            t.histogram(metric::HOOK_DURATION)
                .with("hook_name", "typecheck")
                .assert_count(1)
        }),
        &["where hook_name=\"typecheck\" to have count 1, but none of its data points matched"],
    );
    let none = capture(|| {});
    assert_contains(
        &panic_message(|| none.histogram(metric::HOOK_DURATION).assert_sum(1.0)),
        &[
            "but no metric named han.hook.duration_ms was emitted",
            "metrics:\n    (none)",
        ],
    );
}

#[test]
fn histogram_absent() {
    let t = two_lint_runs_and_a_failure();
    t.histogram(metric::HOOK_DURATION)
        .with("hook_type", "PreToolUse")
        .assert_absent();
    assert_contains(
        &panic_message(|| {
            t.histogram(metric::HOOK_DURATION)
                .with("hook_name", "fmt")
                .assert_absent()
        }),
        &[
            "expected no histogram han.hook.duration_ms where hook_name=\"fmt\", but found: {hook_name=\"fmt\", hook_type=\"Stop\", success=true} count=1 sum=3.0",
        ],
    );
}

#[test]
fn the_snapshot_holds_names_kinds_units_descriptions_and_values() {
    let t = two_lint_runs_and_a_failure();
    let exec = t.metric(metric::HOOK_EXECUTION).expect("emitted");
    assert_eq!(exec.kind, MetricKind::Counter);
    assert_eq!(exec.unit, "{execution}");
    assert_eq!(exec.description, metric::HOOK_EXECUTION.description);
    let fmt = exec
        .points
        .iter()
        .find(|p| p.attributes.get("hook_name") == Some(&AttrValue::from("fmt")))
        .expect("fmt point");
    assert_eq!(fmt.value, PointValue::Unsigned(1));
    assert_eq!(fmt.attributes.get("success"), Some(&AttrValue::Bool(true)));

    let duration = t.metric("han.hook.duration_ms").expect("emitted");
    assert_eq!(duration.kind, MetricKind::Histogram);
    assert_eq!(duration.unit, "ms");
    let PointValue::Histogram(h) = &duration.points[0].value else {
        panic!("not a histogram: {:?}", duration.points[0]);
    };
    assert_eq!(h.bounds, catalogue::HOOK_DURATION_BUCKETS_MS);
    assert_eq!(h.bucket_counts.len(), h.bounds.len() + 1);
    assert_eq!(t.all_metrics().len(), 2);
}
