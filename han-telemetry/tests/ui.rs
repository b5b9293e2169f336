//! Compile-time behaviour of the `#[instrument_hook]` family: every supported shape compiles
//! (`tests/ui/pass`), every mistake gives one error at the offending token (`tests/ui/fail`,
//! with the expected compiler output beside each case). The `.stderr` snapshots are those of
//! rustc 1.95, the toolchain CI uses; regenerate them with `TRYBUILD=overwrite`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
