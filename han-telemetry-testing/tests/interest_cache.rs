//! tracing caches per callsite, process-wide, whether any subscriber wants it. A span whose
//! callsite is first reached on a thread with no capture must still be recorded by a capture
//! running elsewhere. This is its own test binary (its own process) so that no other test
//! has registered dispatchers first: the failure needs a fresh process to show.

use han_telemetry_testing::capture;

fn probe() -> tracing::Span {
    tracing::info_span!("probe")
}

#[test]
fn a_callsite_first_reached_outside_the_capture_is_still_recorded() {
    let t = capture(|| {
        std::thread::spawn(|| drop(probe())).join().expect("thread");
        let _probe = probe().entered();
    });
    t.span("probe").assert_one();
}
