use han_telemetry::instrument_hook;

#[instrument_hook(hook_type = 42)]
fn stop() {}

fn main() {
    stop();
}
