//! `han-plugin-example`: a small Han plugin manager and MCP server, instrumented with every
//! attribute of the `#[instrument_hook]` family except the hook one (see `han-check-hook`).
//!
//! ```text
//! han-plugin-example [--dir DIR] install   <name> [--scope user|project]
//! han-plugin-example [--dir DIR] uninstall <name> [--scope user|project]
//! han-plugin-example [--dir DIR] mcp
//! ```
//!
//! Plugins live in `DIR/<scope>/<name>/han-plugin.json` (`DIR` is `--dir`, else
//! `$HAN_PLUGIN_DIR`; the scope defaults to `project`). `install` writes that manifest,
//! `uninstall` removes the plugin's directory. `mcp` serves the Model Context Protocol over
//! stdio (one JSON-RPC message per line) with two tools:
//!
//! * `validate_plugin {name, scope}`: checks an installed plugin's manifest;
//! * `repair_plugin {name, scope}`: rewrites a manifest from what can still be read of it.
//!
//! ```sh
//! export HAN_PLUGIN_DIR=/tmp/han-plugins CLAUDE_CODE_ENABLE_TELEMETRY=1 \
//!   OTEL_METRICS_EXPORTER=console OTEL_LOGS_EXPORTER=console
//! cargo run -p han-telemetry-examples --bin han-plugin-example -- install jutsu-markdown
//! echo '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"validate_plugin","arguments":{"name":"jutsu-markdown"}}}' \
//!   | cargo run -p han-telemetry-examples --bin han-plugin-example -- mcp
//! ```
//!
//! Claude Code starts it as an MCP server with
//! `claude mcp add han-plugins -- /path/to/han-plugin-example --dir /path/to/plugins mcp`, or in
//! a project's `.mcp.json`:
//!
//! ```json
//! {
//!   "mcpServers": {
//!     "han-plugins": {
//!       "command": "/path/to/han-plugin-example",
//!       "args": ["--dir", "/path/to/plugins", "mcp"]
//!     }
//!   }
//! }
//! ```
//!
//! # Telemetry
//!
//! Emits: `han.plugin.install`, `han.plugin.uninstall`, `han.plugin_event`,
//! `han.mcp.tool_call`, `han.validation.run`, `han.validation_error`, `han.task.completed`,
//! `han.task.failed`, `han.task_outcome`.
//!
//! Metric attributes come only from bounded sets: plugin names are checked before anything
//! is recorded, scopes are `user` or `project`, and the MCP tool names are the two above (a
//! call to any other tool is answered with an error and not recorded).
//!
//! The server is long-running: metrics are exported every `OTEL_METRIC_EXPORT_INTERVAL` and
//! events every `OTEL_LOGS_EXPORT_INTERVAL`, and everything is flushed when stdin closes.

use std::fmt::Display;
use std::fs;
use std::io::{self, BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use han_telemetry::record::TaskOutcome;
use han_telemetry::{
    TelemetryBuilder, instrument_mcp_tool, instrument_plugin, instrument_task,
    instrument_validation, report,
};
use serde_json::{Map, Value, json};

const NAME: &str = "han-plugin-example";
const VERSION: &str = env!("CARGO_PKG_VERSION");
const MANIFEST: &str = "han-plugin.json";
const USAGE: &str = "usage: han-plugin-example [--dir DIR] install|uninstall <name> [--scope user|project]\n       han-plugin-example [--dir DIR] mcp\nDIR defaults to $HAN_PLUGIN_DIR.";
/// The longest JSON-RPC message the server reads.
const MAX_MESSAGE: u64 = 1 << 20;

fn main() -> ExitCode {
    let command = match Command::parse(std::env::args().skip(1)) {
        Ok(Command::Help) => {
            let _ = writeln!(io::stdout(), "{USAGE}");
            return ExitCode::SUCCESS;
        }
        Ok(command) => command,
        Err(message) => {
            say_err(format_args!("{message}\n{USAGE}"));
            return ExitCode::from(2);
        }
    };
    let telemetry = TelemetryBuilder::from_env()
        .service_version(VERSION)
        .install();
    let code = match command {
        Command::Install { dir, plugin } => done(install(&dir, &plugin.name, plugin.scope)),
        Command::Uninstall { dir, plugin } => done(uninstall(&dir, &plugin.name, plugin.scope)),
        Command::Mcp { dir } => done(serve(&dir)),
        Command::Help => ExitCode::SUCCESS,
    };
    // Flushes telemetry before the process ends (returning from main would drop it too).
    drop(telemetry);
    code
}

fn done(result: Result<impl Display, impl Display>) -> ExitCode {
    match result {
        Ok(message) => {
            say_err(message);
            ExitCode::SUCCESS
        }
        Err(message) => {
            say_err(message);
            ExitCode::FAILURE
        }
    }
}

#[instrument_plugin(install, plugin_name = name, scope = scope)]
fn install(dir: &Path, name: &str, scope: Scope) -> io::Result<String> {
    let plugin = dir.join(scope.to_string()).join(name);
    if plugin.join(MANIFEST).exists() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{name} is already installed in {}", plugin.display()),
        ));
    }
    fs::create_dir_all(&plugin)?;
    write_manifest(&plugin, name, VERSION, scope)?;
    Ok(format!("installed {name} in {}", plugin.display()))
}

#[instrument_plugin(uninstall, plugin_name = name, scope = scope)]
fn uninstall(dir: &Path, name: &str, scope: Scope) -> io::Result<String> {
    let plugin = dir.join(scope.to_string()).join(name);
    if !plugin.join(MANIFEST).is_file() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("{name} is not installed ({scope} scope)"),
        ));
    }
    fs::remove_dir_all(&plugin).map_err(|e| {
        io::Error::new(e.kind(), format!("cannot remove {}: {e}", plugin.display()))
    })?;
    Ok(format!("uninstalled {name} from {}", plugin.display()))
}

fn write_manifest(plugin: &Path, name: &str, version: &str, scope: Scope) -> io::Result<()> {
    let manifest = json!({"name": name, "version": version, "scope": scope.to_string()});
    fs::write(plugin.join(MANIFEST), format!("{manifest:#}\n"))
}

/// Serves MCP requests from stdin until it closes; answers on stdout, one line each.
fn serve(dir: &Path) -> io::Result<&'static str> {
    let mut input = io::stdin().lock();
    let mut stdout = io::stdout().lock();
    loop {
        let mut line = Vec::new();
        (&mut input)
            .take(MAX_MESSAGE)
            .read_until(b'\n', &mut line)?;
        if line.is_empty() {
            return Ok("stdin closed; MCP server stopped");
        }
        let answer = if line.ends_with(b"\n") || (line.len() as u64) < MAX_MESSAGE {
            answer(dir, &line)
        } else {
            // Skip the rest of the oversized message.
            input.skip_until(b'\n')?;
            Some(rpc_error(Value::Null, -32600, "message larger than 1 MiB"))
        };
        if let Some(answer) = answer {
            writeln!(stdout, "{answer}")?;
            stdout.flush()?;
        }
    }
}

/// The answer to one JSON-RPC message; `None` for notifications and blank lines.
fn answer(dir: &Path, line: &[u8]) -> Option<Value> {
    if line.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    let request = match serde_json::from_slice::<Value>(line) {
        Ok(Value::Object(request)) => request,
        Ok(_) => {
            return Some(rpc_error(
                Value::Null,
                -32600,
                "invalid request: not an object",
            ));
        }
        Err(e) => return Some(rpc_error(Value::Null, -32700, &format!("parse error: {e}"))),
    };
    let id = request.get("id").cloned()?;
    let params = request.get("params").and_then(Value::as_object);
    let result = match request.get("method").and_then(Value::as_str) {
        Some("initialize") => json!({
            "protocolVersion": params.and_then(|p| p.get("protocolVersion")).cloned()
                .unwrap_or_else(|| "2025-06-18".into()),
            "capabilities": {"tools": {}},
            "serverInfo": {"name": NAME, "version": VERSION},
        }),
        Some("ping") => json!({}),
        Some("tools/list") => {
            let schema = json!({
                "type": "object",
                "properties": {
                    "name": {"type": "string", "description": "the plugin's name"},
                    "scope": {"type": "string", "enum": ["project", "user"]},
                },
                "required": ["name"],
            });
            json!({"tools": [
                {"name": "validate_plugin", "description": "Check an installed Han plugin's manifest", "inputSchema": schema},
                {"name": "repair_plugin", "description": "Rewrite a Han plugin's manifest from what can still be read of it", "inputSchema": schema},
            ]})
        }
        Some("tools/call") => {
            let empty = Map::new();
            let args = params
                .and_then(|p| p.get("arguments"))
                .and_then(Value::as_object)
                .unwrap_or(&empty);
            let plugin = match Plugin::from_args(args) {
                Ok(plugin) => plugin,
                Err(message) => return Some(rpc_error(id, -32602, &message)),
            };
            let outcome = match params.and_then(|p| p.get("name")).and_then(Value::as_str) {
                Some("validate_plugin") => validate_plugin(dir, &plugin),
                Some("repair_plugin") => repair_plugin(dir, &plugin),
                other => {
                    let message = format!("unknown tool {}", other.unwrap_or("(none)"));
                    return Some(rpc_error(id, -32602, &message));
                }
            };
            // A tool that ran and failed answers with `isError`, as MCP asks, not a
            // JSON-RPC error: the model reads the message and can act on it.
            let (text, is_error) = match outcome {
                Ok(text) => (text, false),
                Err(text) => (text, true),
            };
            json!({"content": [{"type": "text", "text": text}], "isError": is_error})
        }
        _ => return Some(rpc_error(id, -32601, "method not found")),
    };
    Some(json!({"jsonrpc": "2.0", "id": id, "result": result}))
}

fn rpc_error(id: Value, code: i64, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

#[instrument_mcp_tool(tool_name = "validate_plugin")]
fn validate_plugin(dir: &Path, plugin: &Plugin) -> Result<String, String> {
    let text = plugin.read_manifest(dir)?;
    Ok(match check_manifest(plugin, &text) {
        Ok(()) => format!("{}: manifest is valid", plugin.name),
        Err(problems) => format!("{}: {}", plugin.name, problems.join("; ")),
    })
}

#[instrument_mcp_tool(tool_name = "repair_plugin")]
fn repair_plugin(dir: &Path, plugin: &Plugin) -> Result<String, String> {
    repair(dir, plugin).map_err(|e| format!("{}: cannot repair: {e}", plugin.name))
}

/// A manifest must be a JSON object naming this plugin and its scope, with an `x.y.z`
/// version.
#[instrument_validation(validation_type = "plugin-manifest")]
fn check_manifest(plugin: &Plugin, text: &str) -> Result<(), Vec<String>> {
    let problems = manifest_problems(plugin, text);
    report::error_count(problems.len() as u64);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

fn manifest_problems(plugin: &Plugin, text: &str) -> Vec<String> {
    let manifest = match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(manifest)) => manifest,
        Ok(_) => return vec!["manifest is not a JSON object".into()],
        Err(e) => return vec![format!("manifest is not valid JSON: {e}")],
    };
    let mut problems = Vec::new();
    let field = |key: &str| manifest.get(key).and_then(Value::as_str);
    if field("name") != Some(plugin.name.as_str()) {
        problems.push(format!("`name` is not {:?}", plugin.name));
    }
    if field("scope") != Some(plugin.scope.to_string().as_str()) {
        problems.push(format!("`scope` is not {:?}", plugin.scope.to_string()));
    }
    if !field("version").is_some_and(is_version) {
        problems.push("`version` is not of the form x.y.z".into());
    }
    problems
}

/// Rewrites the manifest, keeping its version when it can still be read. The confidence
/// says how much of the original the repair kept: all of it, the version, or nothing.
#[instrument_task(task_type = "repair")]
fn repair(dir: &Path, plugin: &Plugin) -> Result<String, String> {
    let text = plugin.read_manifest(dir)?;
    if manifest_problems(plugin, &text).is_empty() {
        report::confidence(1.0);
        return Ok(format!("{}: nothing to repair", plugin.name));
    }
    let old_version = serde_json::from_str::<Value>(&text).ok().and_then(|m| {
        m.get("version")?
            .as_str()
            .filter(|v| is_version(v))
            .map(str::to_owned)
    });
    let (version, confidence, kept) = match old_version {
        Some(version) => (version, 0.9, "kept version"),
        None => ("0.0.0".to_owned(), 0.5, "version unknown, reset to"),
    };
    report::confidence(confidence);
    if confidence < 0.9 {
        report::outcome(TaskOutcome::Partial);
    }
    write_manifest(&plugin.path(dir), &plugin.name, &version, plugin.scope)
        .map_err(|e| format!("cannot write the manifest: {e}"))?;
    Ok(format!(
        "{}: manifest rewritten ({kept} {version})",
        plugin.name
    ))
}

fn is_version(v: &str) -> bool {
    let parts: Vec<&str> = v.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Scope {
    Project,
    User,
}

impl std::str::FromStr for Scope {
    type Err = String;
    fn from_str(s: &str) -> Result<Scope, String> {
        match s {
            "project" => Ok(Scope::Project),
            "user" => Ok(Scope::User),
            other => Err(format!("scope must be `project` or `user`, not {other:?}")),
        }
    }
}

impl Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Scope::Project => "project",
            Scope::User => "user",
        })
    }
}

#[derive(Debug)]
struct Plugin {
    name: String,
    scope: Scope,
}

impl Plugin {
    fn new(name: &str, scope: Scope) -> Result<Plugin, String> {
        let valid = (1..=64).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !name.starts_with('-');
        if !valid {
            return Err(format!(
                "{name:?} is not a plugin name (1-64 of a-z, 0-9, -, not starting with -)"
            ));
        }
        Ok(Plugin {
            name: name.to_owned(),
            scope,
        })
    }

    fn from_args(args: &Map<String, Value>) -> Result<Plugin, String> {
        let text = |key: &str| match args.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(format!("argument `{key}` must be a string")),
        };
        let name = text("name")?.ok_or("argument `name` is missing")?;
        let scope = text("scope")?.map_or(Ok(Scope::Project), str::parse)?;
        Plugin::new(name, scope)
    }

    fn path(&self, dir: &Path) -> PathBuf {
        dir.join(self.scope.to_string()).join(&self.name)
    }

    fn read_manifest(&self, dir: &Path) -> Result<String, String> {
        let path = self.path(dir).join(MANIFEST);
        fs::read_to_string(&path).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => format!(
                "{} is not installed ({scope} scope)",
                self.name,
                scope = self.scope
            ),
            _ => format!("cannot read {}: {e}", path.display()),
        })
    }
}

#[derive(Debug)]
enum Command {
    Install { dir: PathBuf, plugin: Plugin },
    Uninstall { dir: PathBuf, plugin: Plugin },
    Mcp { dir: PathBuf },
    Help,
}

impl Command {
    fn parse(args: impl Iterator<Item = String>) -> Result<Command, String> {
        let mut dir = std::env::var_os("HAN_PLUGIN_DIR")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from);
        let mut scope = Scope::Project;
        let mut words = Vec::new();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--dir" => dir = Some(args.next().ok_or("--dir needs a value")?.into()),
                "--scope" => scope = args.next().ok_or("--scope needs a value")?.parse()?,
                "-h" | "--help" => return Ok(Command::Help),
                flag if flag.starts_with('-') => return Err(format!("unknown option {flag}")),
                _ => words.push(arg),
            }
        }
        let dir = dir.ok_or("no plugin directory: pass --dir DIR or set HAN_PLUGIN_DIR")?;
        match words
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice()
        {
            ["install", name] => Ok(Command::Install {
                dir,
                plugin: Plugin::new(name, scope)?,
            }),
            ["uninstall", name] => Ok(Command::Uninstall {
                dir,
                plugin: Plugin::new(name, scope)?,
            }),
            ["mcp"] => Ok(Command::Mcp { dir }),
            _ => Err(format!("unexpected arguments: {}", words.join(" "))),
        }
    }
}

/// One line on stderr, named; stdout belongs to the MCP protocol.
fn say_err(message: impl Display) {
    let _ = writeln!(io::stderr().lock(), "{NAME}: {message}");
}
