use han_telemetry::instrument_hook;

#[instrument_hook(hook_type = "Stop")]
struct Hook;

fn main() {
    let _ = Hook;
}
