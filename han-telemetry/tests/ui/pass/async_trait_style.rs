//! What `#[async_trait]` generates: a method returning `Pin<Box<dyn Future>>` whose body is
//! `Box::pin(async move { .. })`. The annotation instruments the async block.
use std::future::Future;
use std::pin::Pin;

use han_telemetry::instrument_hook;

trait Hook {
    fn run<'a>(&'a self, input: &'a str) -> Pin<Box<dyn Future<Output = Result<usize, String>> + Send + 'a>>;
}

struct Lint;

impl Hook for Lint {
    #[instrument_hook(hook_type = "PostToolUse")]
    fn run<'a>(&'a self, input: &'a str) -> Pin<Box<dyn Future<Output = Result<usize, String>> + Send + 'a>> {
        Box::pin(async move {
            tokio::task::yield_now().await;
            Ok(input.len())
        })
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    assert_eq!(Lint.run("abc").await, Ok(3));
}
