//! A plain hook: `hook_name` defaults to the function name.
use han_telemetry::instrument_hook;

/// Doc comments and attributes are kept.
#[instrument_hook(hook_type = "PostToolUse")]
#[inline(never)]
pub fn lint(path: &str) -> bool {
    !path.is_empty()
}

fn main() {
    assert!(lint("a.rs"));
}
