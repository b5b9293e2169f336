use han_telemetry::instrument_hook;

#[derive(Debug)]
struct Error;
impl From<std::num::ParseIntError> for Error {
    fn from(_: std::num::ParseIntError) -> Self {
        Error
    }
}

#[instrument_hook(hook_type = "PreToolUse")]
fn parse(input: &str) -> Result<u32, Error> {
    if input.is_empty() {
        return Err(Error);
    }
    let n: u32 = input.parse()?;
    Ok(n)
}

type AliasResult<T> = std::result::Result<T, Error>;

#[instrument_hook(hook_type = "PreToolUse")]
fn aliased(input: &str) -> AliasResult<u32> {
    Ok(input.parse()?)
}

#[instrument_hook(hook_type = "Stop")]
fn with_anyhow() -> anyhow::Result<()> {
    anyhow::ensure!(1 + 1 == 2, "math");
    Ok(())
}

fn main() {
    assert!(parse("12").is_ok());
    assert!(aliased("x").is_err());
    assert!(with_anyhow().is_ok());
}
