//! Tests that call the same hook (named by literals, so its call site binds instruments for
//! the first pipeline it records under) with different outcomes see exactly what they
//! recorded, whichever of them runs first and however many run at once: no data point for an
//! outcome that never happened in a capture, so `assert_absent` and `assert_only_asserted`
//! hold in every order. Run with `--test-threads=8`, many times.

use han_telemetry::catalogue::{event, metric};
use han_telemetry::{StandardAttributes, instrument_hook, set_standard_attributes};
use han_telemetry_testing::{Capture, PointValue, Telemetry, capture};

#[instrument_hook(hook_name = "shared", hook_type = "PostToolUse")]
fn shared(ok: bool) -> Result<(), String> {
    if ok { Ok(()) } else { Err("no".into()) }
}

/// No counter point of 0 and no histogram point with nothing in it.
#[track_caller]
fn assert_no_empty_points(t: &Telemetry) {
    for m in t.all_metrics() {
        for p in &m.points {
            let empty = match &p.value {
                PointValue::Unsigned(v) => *v == 0,
                PointValue::Histogram(h) => h.count == 0,
                _ => false,
            };
            assert!(!empty, "{} has an empty point:\n{t}", m.name);
        }
    }
}

/// Asserts the capture holds `succeeded` successful and `failed` failed runs of `shared`,
/// and nothing else.
#[track_caller]
fn assert_runs(t: &Telemetry, succeeded: u64, failed: u64) {
    assert_no_empty_points(t);
    for (success, n) in [(true, succeeded), (false, failed)] {
        let execution = t
            .counter(metric::HOOK_EXECUTION)
            .with("hook_name", "shared")
            .with("success", success);
        let duration = t
            .histogram(metric::HOOK_DURATION)
            .with("hook_name", "shared")
            .with("success", success);
        if n == 0 {
            execution.assert_absent();
            duration.assert_absent();
        } else {
            execution.assert_value(n);
            duration.assert_count(n);
        }
        t.event(event::HOOK_RESULT)
            .with("success", success)
            .assert_exactly(usize::try_from(n).expect("a small count"));
    }
    t.assert_only_asserted();
}

#[instrument_hook(hook_name = "solo", hook_type = "Stop")]
fn solo() {}

/// The only test that calls `solo`, so its call site always binds in this capture.
#[test]
fn a_hook_bound_in_this_capture_shows_only_the_outcome_that_happened() {
    let t = capture(|| {
        solo();
        solo();
    });
    assert_no_empty_points(&t);
    let execution = |success| {
        t.counter(metric::HOOK_EXECUTION)
            .with("hook_name", "solo")
            .with("success", success)
    };
    execution(true).assert_value(2);
    execution(false).assert_absent();
    t.histogram(metric::HOOK_DURATION)
        .with("success", true)
        .assert_count(2);
    t.histogram(metric::HOOK_DURATION)
        .with("success", false)
        .assert_absent();
    t.event(event::HOOK_RESULT).assert_exactly(2);
    t.assert_only_asserted();
}

#[test]
fn only_successes() {
    let t = capture(|| {
        for _ in 0..3 {
            assert!(shared(true).is_ok());
        }
    });
    assert_runs(&t, 3, 0);
}

#[test]
fn only_failures() {
    let t = capture(|| {
        for _ in 0..2 {
            assert!(shared(false).is_err());
        }
    });
    assert_runs(&t, 0, 2);
}

#[test]
fn one_success() {
    let t = capture(|| assert!(shared(true).is_ok()));
    assert_runs(&t, 1, 0);
}

#[test]
fn one_failure() {
    let t = capture(|| assert!(shared(false).is_err()));
    assert_runs(&t, 0, 1);
}

#[test]
fn a_failure_then_successes() {
    let t = capture(|| {
        assert!(shared(false).is_err());
        assert!(shared(true).is_ok());
        assert!(shared(true).is_ok());
    });
    assert_runs(&t, 2, 1);
}

#[test]
fn successes_then_a_failure() {
    let t = capture(|| {
        assert!(shared(true).is_ok());
        assert!(shared(true).is_ok());
        assert!(shared(false).is_err());
    });
    assert_runs(&t, 2, 1);
}

#[test]
fn nothing_called() {
    let t = capture(|| {});
    assert_runs(&t, 0, 0);
    t.assert_absent();
}

#[test]
fn from_four_threads_of_one_capture() {
    let t = capture(|| {
        let dispatch = tracing::dispatcher::get_default(Clone::clone);
        let workers: Vec<_> = (0..4)
            .map(|_| {
                let dispatch = dispatch.clone();
                std::thread::spawn(move || {
                    tracing::dispatcher::with_default(&dispatch, || {
                        for _ in 0..25 {
                            assert!(shared(true).is_ok());
                        }
                    });
                })
            })
            .collect();
        for w in workers {
            w.join().expect("a worker");
        }
    });
    assert_runs(&t, 100, 0);
}

#[test]
fn after_the_standard_attributes_change() {
    let ((), t) = Capture::new()
        .standard_attributes(StandardAttributes {
            session_id: Some("before".into()),
            ..StandardAttributes::default()
        })
        .run(|| {
            assert!(shared(true).is_ok());
            set_standard_attributes(&StandardAttributes {
                session_id: Some("after".into()),
                ..StandardAttributes::default()
            });
            assert!(shared(true).is_ok());
            assert!(shared(false).is_err());
        });
    assert_no_empty_points(&t);
    let execution = |session, success| {
        t.counter(metric::HOOK_EXECUTION)
            .with("session.id", session)
            .with("success", success)
    };
    execution("before", true).assert_value(1);
    execution("before", false).assert_absent();
    execution("after", true).assert_value(1);
    execution("after", false).assert_value(1);
    t.histogram(metric::HOOK_DURATION)
        .with("session.id", "before")
        .with("success", false)
        .assert_absent();
    t.histogram(metric::HOOK_DURATION).assert_count(3);
    t.event(event::HOOK_RESULT).assert_exactly(3);
    t.assert_only_asserted();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_an_async_capture() {
    let t = han_telemetry_testing::capture_async(async {
        tokio::task::yield_now().await;
        assert!(shared(false).is_err());
    })
    .await;
    assert_runs(&t, 0, 1);
}
