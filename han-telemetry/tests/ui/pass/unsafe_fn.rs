use han_telemetry::instrument_hook;

/// # Safety
/// `p` must be valid for reads.
#[instrument_hook(hook_type = "PreToolUse")]
unsafe fn read(p: *const u8) -> u8 {
    unsafe { *p }
}

fn main() {
    let x = 7u8;
    assert_eq!(unsafe { read(&x) }, 7);
}
