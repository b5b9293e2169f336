use han_telemetry::instrument_plugin;

#[instrument_plugin(install, plugin_name = plugin, scope = "user")]
fn install(name: &str) {
    let _ = name;
}

fn main() {
    install("x");
}
