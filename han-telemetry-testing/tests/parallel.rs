//! Dozens of tests in one binary, run in parallel by the default harness, each emitting
//! its own telemetry and seeing exactly that, spans included.

use std::time::Duration;

use han_telemetry::catalogue::{event, metric};
use han_telemetry::record;
use han_telemetry_testing::Capture;

/// Emits `runs` hook runs, one failed validation with `id` errors, and one span joined to a
/// traceparent of its own, with pauses so the tests overlap.
fn emit_and_check(id: u64) {
    let name = format!("hook-{id}");
    let runs = id % 4 + 1;
    let traceparent = format!("00-{:032x}-{:016x}-01", 0xabc0_0000 + id, 0x1000 + id);
    let options = Capture::new().traceparent(traceparent.clone());
    let ((), t) = options.run(|| {
        // An i64 field: tracing-opentelemetry exports u64 span fields as strings.
        let span_id_field = i64::try_from(id).expect("small");
        let span = tracing::info_span!(
            "hook",
            otel.name = format!("hook {name}"),
            id = span_id_field
        );
        han_telemetry::adopt_remote_parent(&span);
        let _entered = span.enter();
        for _ in 0..runs {
            record::hook_run(name.clone(), "Stop", true, Duration::from_millis(id));
            std::thread::sleep(Duration::from_millis(1));
        }
        record::validation(name.clone(), false, id);
    });

    t.assert_only_metrics([
        metric::HOOK_EXECUTION,
        metric::HOOK_DURATION,
        metric::VALIDATION_RUN,
    ]);
    t.counter(metric::HOOK_EXECUTION)
        .with("hook_name", name.as_str())
        .only()
        .assert_value(0); // `only` excludes hook_type and success: nothing matches
    t.counter(metric::HOOK_EXECUTION)
        .with("hook_name", name.as_str())
        .with("hook_type", "Stop")
        .with("success", true)
        .only()
        .assert_value(runs);
    t.histogram(metric::HOOK_DURATION).assert_count(runs);
    t.counter(metric::VALIDATION_RUN)
        .with("error_count", id)
        .assert_value(1);
    t.event(event::HOOK_RESULT)
        .with("hook_name", name.as_str())
        .in_span(format!("hook {name}"))
        .assert_exactly(usize::try_from(runs).expect("small"));
    t.event(event::VALIDATION_ERROR)
        .with("error_count", id)
        .assert_one();
    t.assert_only_asserted();
    assert_eq!(t.all_spans().len(), 1, "{t}");
    t.span(format!("hook {name}"))
        .with("id", id)
        .assert_child_of_traceparent(&traceparent);
}

macro_rules! parallel_tests {
    ($($test:ident = $id:literal),* $(,)?) => {$(
        #[test]
        fn $test() {
            emit_and_check($id);
        }
    )*};
}

parallel_tests!(
    t01 = 1,
    t02 = 2,
    t03 = 3,
    t04 = 4,
    t05 = 5,
    t06 = 6,
    t07 = 7,
    t08 = 8,
    t09 = 9,
    t10 = 10,
    t11 = 11,
    t12 = 12,
    t13 = 13,
    t14 = 14,
    t15 = 15,
    t16 = 16,
    t17 = 17,
    t18 = 18,
    t19 = 19,
    t20 = 20,
    t21 = 21,
    t22 = 22,
    t23 = 23,
    t24 = 24,
    t25 = 25,
    t26 = 26,
    t27 = 27,
    t28 = 28,
    t29 = 29,
    t30 = 30,
    t31 = 31,
    t32 = 32,
    t33 = 33,
    t34 = 34,
    t35 = 35,
    t36 = 36,
    t37 = 37,
    t38 = 38,
    t39 = 39,
    t40 = 40,
    t41 = 41,
    t42 = 42,
    t43 = 43,
    t44 = 44,
    t45 = 45,
    t46 = 46,
    t47 = 47,
    t48 = 48,
);

/// Recording on threads that have no capture reaches no capture.
#[test]
fn threads_without_a_capture_record_nowhere() {
    let ((), t) = Capture::new().run(|| {
        std::thread::scope(|s| {
            s.spawn(|| record::hook_run("elsewhere", "Stop", true, Duration::ZERO));
        });
        record::session_start();
    });
    t.assert_only_metrics([metric::SESSION_START]);
    t.event(event::HOOK_RESULT).assert_absent();
}
