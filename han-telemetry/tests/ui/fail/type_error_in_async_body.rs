use han_telemetry::instrument_hook;

#[instrument_hook(hook_type = "Stop")]
async fn count() -> u32 {
    "not a number"
}

fn main() {
    let _ = count();
}
