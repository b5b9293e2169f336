use han_telemetry::instrument_hook;

#[instrument_hook(hook_type = "Stop", hook_kind = "x")]
fn stop() {}

fn main() {
    stop();
}
