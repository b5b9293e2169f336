use han_telemetry::instrument_hook;

#[instrument_hook(hook_type = "PostToolUse")]
fn evens(limit: u32) -> impl Iterator<Item = u32> {
    (0..limit).filter(|n| n % 2 == 0)
}

fn main() {
    assert_eq!(evens(5).count(), 3);
}
