//! `crate = path` for code that reaches han-telemetry through a re-export.
mod reexport {
    pub use han_telemetry as telemetry;
}

#[han_telemetry::instrument_hook(hook_type = "Stop", crate = reexport::telemetry)]
fn stop() {}

fn main() {
    stop();
}
