use han_telemetry::instrument_hook;
use std::fmt::Display;

#[instrument_hook(hook_type = "PreToolUse")]
fn longest<'a, T>(a: &'a T, b: &'a T) -> &'a T
where
    T: PartialOrd + ?Sized,
{
    if a >= b { a } else { b }
}

#[instrument_hook(hook_type = "PreToolUse", hook_name = name)]
fn named<N: Display>(name: N, value: impl Into<u64>) -> u64 {
    let _ = name.to_string();
    value.into()
}

fn main() {
    assert_eq!(longest("a", "b"), "b");
    assert_eq!(named("x", 3u8), 3);
}
