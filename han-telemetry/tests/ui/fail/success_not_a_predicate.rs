use han_telemetry::instrument_task;

#[instrument_task(success = true)]
fn task() {}

fn main() {
    task();
}
