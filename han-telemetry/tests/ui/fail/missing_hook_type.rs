use han_telemetry::instrument_hook;

#[instrument_hook]
fn stop() {}

fn main() {
    stop();
}
