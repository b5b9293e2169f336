//! Call-site caches bind again under another pipeline instead of slowing down, and a hook
//! named at run time keeps bound instruments for its first few names only, whatever the
//! flood of names: every call is recorded exactly either way.
//!
//! One test function: the count of unbound calls is process-wide.

use han_telemetry::__private::{NAMES, unbound_calls};
use han_telemetry::catalogue::{event, metric};
use han_telemetry::instrument_hook;
use han_telemetry_testing::capture;

#[instrument_hook(hook_name = "rebinding", hook_type = "PostToolUse")]
fn literal(ok: bool) -> Result<(), String> {
    if ok { Ok(()) } else { Err("no".into()) }
}

#[instrument_hook(hook_name = name, hook_type = "PreToolUse")]
fn named(name: &str) {
    let _ = name;
}

#[test]
fn sites_rebind_per_pipeline_and_stay_bounded_per_name() {
    // Three pipelines one after the other (as a test binary's captures, or a benchmark's):
    // each binds the site again, so none takes the ordinary path.
    let before = unbound_calls();
    for _ in 0..3 {
        let t = capture(|| {
            for _ in 0..5 {
                literal(true).ok();
            }
            literal(false).ok();
        });
        t.counter(metric::HOOK_EXECUTION)
            .with("hook_name", "rebinding")
            .with("success", true)
            .assert_value(5);
        t.counter(metric::HOOK_EXECUTION)
            .with("hook_name", "rebinding")
            .with("success", false)
            .assert_value(1);
    }
    assert_eq!(
        unbound_calls(),
        before,
        "a pipeline of its own took the slow path"
    );

    // A flood of names: the first NAMES are bound, the others recorded the ordinary way.
    const FLOOD: usize = 1_000;
    let before = unbound_calls();
    let t = capture(|| {
        for round in 0..2 {
            for i in 0..FLOOD {
                named(&format!("hook-{i}"));
            }
            if round == 0 {
                // The bound names cost nothing more on their second round...
                assert_eq!(unbound_calls() - before, (FLOOD - NAMES) as u64);
            }
        }
    });
    // ...and the others one ordinary call each, every round.
    assert_eq!(unbound_calls() - before, 2 * (FLOOD - NAMES) as u64);
    for i in [0, NAMES - 1, NAMES, FLOOD - 1] {
        let name = format!("hook-{i}");
        t.counter(metric::HOOK_EXECUTION)
            .with("hook_name", name.as_str())
            .assert_value(2);
        t.event(event::HOOK_RESULT)
            .with("hook_name", name.as_str())
            .assert_exactly(2);
    }
}
