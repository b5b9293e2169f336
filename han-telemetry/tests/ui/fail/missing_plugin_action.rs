use han_telemetry::instrument_plugin;

#[instrument_plugin(plugin_name = name, scope = "user")]
fn install(name: &str) {
    let _ = name;
}

fn main() {
    install("x");
}
