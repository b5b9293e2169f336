//! Every assertion family's documentation (and the README's "When an assertion fails") shows
//! a failing example and the message it panics with. This runs the same examples and
//! compares each message with the one shown, so the documentation cannot drift from what a
//! failing test prints. (Span and trace ids, random
//! per run, are compared as `<id>`.)

mod support;

use std::time::Duration;

use han_telemetry::catalogue::{event, metric};
use han_telemetry::record;
use han_telemetry_testing::{Capture, Severity, capture};
use support::{TRACEPARENT, panic_message};

/// The ```` ```text ```` blocks of the doc comments of `source`, in order.
fn shown_messages(source: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut block: Option<Vec<&str>> = None;
    for line in source.lines() {
        let Some(doc) = line.trim_start().strip_prefix("///") else {
            continue;
        };
        let doc = doc.strip_prefix(' ').unwrap_or(doc);
        match (&mut block, doc) {
            (None, "```text") => block = Some(Vec::new()),
            (Some(lines), "```") => {
                blocks.push(lines.join("\n"));
                block = None;
            }
            (Some(lines), _) => lines.push(doc),
            (None, _) => {}
        }
    }
    blocks
}

/// `message` with every run of 16 or 32 hex digits (a span or trace id) replaced by `<id>`,
/// and without the trailing newline the listing ends with.
fn normalized(message: &str) -> String {
    let mut out = String::new();
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() == 16 || run.len() == 32 {
            out.push_str("<id>");
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in message.trim_end().chars() {
        if c.is_ascii_hexdigit() && !c.is_ascii_uppercase() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

#[track_caller]
fn assert_shown(file: &str, shown: &str, failing: impl FnOnce()) {
    let actual = panic_message(failing);
    assert_eq!(
        normalized(shown),
        normalized(&actual),
        "the failure message shown in {file} is not what the example prints; it prints:\n{actual}"
    );
}

#[test]
fn the_metric_examples_show_their_real_messages() {
    let shown = shown_messages(include_str!("../src/expect/metric.rs"));
    assert_eq!(shown.len(), 2, "a counter and a histogram example");
    assert_shown("CounterQuery's docs", &shown[0], || {
        let t = capture(|| record::hook_run("lint", "Stop", false, Duration::from_millis(4)));
        t.counter(metric::HOOK_EXECUTION)
            .with("hook_name", "lint")
            .with("success", true)
            .assert_value(1);
    });
    assert_shown("HistogramQuery's docs", &shown[1], || {
        let t = capture(|| {
            record::hook_run("lint", "Stop", true, Duration::from_millis(4));
            record::hook_run("lint", "Stop", true, Duration::from_millis(30));
        });
        t.histogram(metric::HOOK_DURATION)
            .with("hook_name", "lint")
            .assert_max(20.0);
    });
}

#[test]
fn the_event_example_shows_its_real_message() {
    let shown = shown_messages(include_str!("../src/expect/event.rs"));
    assert_eq!(shown.len(), 1);
    assert_shown("EventQuery's docs", &shown[0], || {
        let t = capture(|| record::plugin_install("jutsu-markdown", "project", false));
        t.event(event::PLUGIN_EVENT)
            .at_severity(Severity::Info)
            .with("plugin_name", "jutsu-markdown")
            .with("success", true)
            .assert_one();
    });
}

#[test]
fn the_span_example_shows_its_real_message() {
    let shown = shown_messages(include_str!("../src/expect/span.rs"));
    assert_eq!(shown.len(), 1);
    assert_shown("SpanQuery's docs", &shown[0], || {
        let ((), t) = Capture::new().traceparent(TRACEPARENT).run(|| {
            let hook = tracing::info_span!("hook lint");
            han_telemetry::adopt_remote_parent(&hook);
            hook.in_scope(|| tracing::info_span!("step").in_scope(|| {}));
        });
        t.span("step").assert_child_of("hook lint");
        t.span("hook lint").assert_root();
    });
}

#[test]
fn the_whole_capture_example_shows_its_real_message() {
    let shown = shown_messages(include_str!("../src/expect/whole.rs"));
    assert_eq!(shown.len(), 1);
    assert_shown("assert_only_asserted's docs", &shown[0], || {
        let t = capture(|| {
            record::hook_run("lint", "Stop", true, Duration::from_millis(4));
            record::session_start();
        });
        t.counter(metric::HOOK_EXECUTION).assert_value(1);
        t.histogram(metric::HOOK_DURATION).assert_count(1);
        t.event(event::HOOK_RESULT).assert_one();
        assert_eq!(t.counter(metric::SESSION_START).value(), 1);
        t.assert_only_asserted();
    });
}

/// The ```` ```text ```` block of the README's section `heading`.
fn readme_message(heading: &str) -> &'static str {
    let readme = include_str!("../README.md");
    readme
        .split_once(heading)
        .and_then(|(_, section)| section.split_once("```text\n"))
        .and_then(|(_, block)| block.split_once("\n```"))
        .map(|(message, _)| message)
        .unwrap_or_else(|| panic!("the README has no text block under {heading:?}"))
}

#[test]
fn the_readme_example_shows_its_real_message() {
    let shown = readme_message("## When an assertion fails");
    assert_shown("the README", shown, || {
        let telemetry = capture(|| {
            record::hook_run("lint", "PostToolUse", false, Duration::from_millis(48));
            record::plugin_install("jutsu-markdown", "user", true);
        });
        telemetry
            .counter(metric::HOOK_EXECUTION)
            .with("hook_name", "lint")
            .with("success", true)
            .assert_value(1);
    });
}

#[test]
fn only_ids_are_normalized() {
    assert_eq!(
        normalized("[span 00f067aa0ba902b7, trace 4bf92f3577b34da6a3ce929d0e0e4736] 1.5 ab\n"),
        "[span <id>, trace <id>] 1.5 ab"
    );
}
