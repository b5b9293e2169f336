use han_telemetry::instrument_hook;

struct Opaque;

#[instrument_hook(hook_name = name, hook_type = "Stop")]
fn check(name: Opaque) {
    let _ = name;
}

fn main() {
    check(Opaque);
}
