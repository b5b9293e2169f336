use han_telemetry::instrument_hook;

#[instrument_hook(hook_type = "Stop")]
async fn fetch(n: u32) -> Result<u32, String> {
    tokio::task::yield_now().await;
    if n == 0 {
        return Err("zero".into());
    }
    Ok(n * 2)
}

struct Server;

impl Server {
    #[instrument_hook(hook_type = "Stop")]
    async fn handle(&self, input: &str) -> usize {
        tokio::task::yield_now().await;
        input.len()
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    assert_eq!(fetch(2).await, Ok(4));
    assert_eq!(Server.handle("abc").await, 3);
}
