use han_telemetry::instrument_plugin;

#[instrument_plugin(instal, plugin_name = "fmt", scope = "user")]
fn add() {}

fn main() {
    add();
}
