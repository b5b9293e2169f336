use han_telemetry::instrument_hook;

#[instrument_hook(hook_type = "Stop")]
const fn answer() -> u32 {
    42
}

fn main() {
    let _ = answer();
}
