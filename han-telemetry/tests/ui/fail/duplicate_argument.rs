use han_telemetry::instrument_hook;

#[instrument_hook(hook_type = "Stop", hook_type = "PreToolUse")]
fn stop() {}

fn main() {
    stop();
}
