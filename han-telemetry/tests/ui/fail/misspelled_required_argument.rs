use han_telemetry::instrument_hook;

// One mistake, one error: at the typo, with the argument it was meant to be, and no second
// error saying that argument is missing.
#[instrument_hook(hook_typ = "PostToolUse")]
fn lint() {}

fn main() {
    lint();
}
