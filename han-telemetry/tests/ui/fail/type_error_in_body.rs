//! A type error in the body is reported at the user's line, not in generated code.
use han_telemetry::instrument_hook;

#[instrument_hook(hook_type = "Stop")]
fn count() -> u32 {
    "not a number"
}

fn main() {
    let _ = count();
}
