// Traits in scope whose methods share a name with the generated call's (`instrument`,
// `enter`, `finish`) do not change what the annotation expands to.
#[allow(unused_imports)]
use std::hash::Hasher as _;
#[allow(unused_imports)]
use tracing::Instrument as _;
#[allow(unused_imports)]
use tracing::instrument::WithSubscriber as _;

use han_telemetry::{instrument_hook, instrument_validation};

#[instrument_hook(hook_type = "Stop")]
async fn summarize() -> usize {
    tokio::task::yield_now().await;
    3
}

#[instrument_validation]
fn lint(source: &str) -> Result<(), String> {
    if source.is_empty() { Err("empty".into()) } else { Ok(()) }
}

fn main() {
    let _ = summarize();
    let _ = lint("x");
}
