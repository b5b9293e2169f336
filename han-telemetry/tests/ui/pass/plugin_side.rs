use han_telemetry::{
    instrument_mcp_tool, instrument_plugin, instrument_task, instrument_validation, report,
};

#[instrument_plugin(install, plugin_name = name, scope = scope)]
fn install(name: &str, scope: String) -> Result<(), String> {
    let _ = (name, scope);
    Ok(())
}

#[instrument_plugin(uninstall, plugin_name = name, scope = "user")]
fn uninstall(name: &str) -> Result<(), String> {
    let _ = name;
    Ok(())
}

#[instrument_mcp_tool(tool_name = "search")]
fn search(query: &str) -> Vec<String> {
    vec![query.to_owned()]
}

#[instrument_validation(validation_type = "typecheck")]
fn typecheck(source: &str) -> Result<(), usize> {
    let errors = source.matches("any").count();
    report::error_count(errors as u64);
    if errors == 0 { Ok(()) } else { Err(errors) }
}

#[instrument_task(task_type = "refactor", success = |done: &u32| *done > 0)]
fn refactor(files: u32) -> u32 {
    report::confidence(0.8);
    files
}

fn main() {
    install("md", "user".into()).unwrap();
    uninstall("md").unwrap();
    assert_eq!(search("q").len(), 1);
    assert!(typecheck("x: any").is_err());
    assert_eq!(refactor(2), 2);
}
