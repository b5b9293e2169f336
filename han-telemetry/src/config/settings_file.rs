//! Reading the `env` block of one Claude Code settings file, and the top-level keys
//! han-telemetry reads (`otelHeadersHelper`).
//!
//! Since Claude Code 2.1.128 hooks no longer inherit `OTEL_*` variables, so these files are often
//! the only place the exporter configuration lives. A broken file must never stop a hook: every
//! problem becomes a [`Diagnostic`] and the file (or the key) is skipped.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::Path;

use serde_json::Value;

use super::diagnostic::Diagnostic;
use super::source::Source;
use super::vars::is_relevant;
use crate::file::{self, Refused};

/// Settings files are small; anything bigger is a mistake and is not worth parsing in a hook.
pub(crate) const MAX_SETTINGS_BYTES: u64 = 1024 * 1024;

const IGNORED: &str = "its env block is ignored";

/// The outcome of reading one settings file.
#[derive(Debug)]
pub(crate) enum Loaded {
    /// The file does not exist: the normal case for most layers, reported nowhere.
    Missing,
    /// The file could not be used at all.
    Rejected(Diagnostic),
    /// The relevant variables of its `env` block, plus problems with individual keys.
    Env {
        vars: BTreeMap<String, String>,
        diagnostics: Vec<Diagnostic>,
    },
}

/// Reads `path` and extracts the variables han-telemetry cares about from its `env` block.
///
/// Anything but a regular file (a FIFO, a socket, a device, a directory) is refused without
/// blocking: a FIFO opened the ordinary way would hang the hook until a writer appears.
pub(crate) fn load(path: &Path, source: &Source) -> Loaded {
    let (file, meta) = match file::open_regular(path) {
        Ok(opened) => opened,
        Err(refused) if refused.is_missing() => return Loaded::Missing,
        Err(Refused::Io(err)) => return reject(source, format!("cannot be opened ({err})")),
        Err(refused) => return reject(source, refused.to_string()),
    };
    if meta.len() > MAX_SETTINGS_BYTES {
        return reject(source, too_large());
    }
    let mut bytes = Vec::new();
    // Bounded read: the file may grow between the metadata check and the read.
    if let Err(err) = file.take(MAX_SETTINGS_BYTES + 1).read_to_end(&mut bytes) {
        return reject(source, format!("cannot be read ({err})"));
    }
    if u64::try_from(bytes.len())
        .ok()
        .is_none_or(|len| len > MAX_SETTINGS_BYTES)
    {
        return reject(source, too_large());
    }
    env_block(&bytes, source)
}

/// Parses settings JSON and returns the relevant string-convertible entries of `env`.
pub(crate) fn env_block(bytes: &[u8], source: &Source) -> Loaded {
    // Editors on Windows like to write a byte-order mark, which serde_json rejects.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let root: Value = match serde_json::from_slice(bytes) {
        Ok(root) => root,
        Err(err) => {
            let message = err.to_string();
            let suffix = format!(" at line {} column {}", err.line(), err.column());
            let reason = message.strip_suffix(&suffix).unwrap_or(&message);
            return reject(
                source,
                format!(
                    "invalid JSON at line {} column {} ({reason})",
                    err.line(),
                    err.column()
                ),
            );
        }
    };
    let Value::Object(root) = root else {
        return reject(source, "top level is not a JSON object");
    };
    let mut vars = BTreeMap::new();
    let mut diagnostics = Vec::new();
    // Top-level keys (`otelHeadersHelper`) are taken as the variable of the same name.
    for key in super::vars::settings_keys() {
        match root.get(key.name) {
            None => {}
            Some(Value::String(text)) => {
                vars.insert(key.name.to_owned(), text.clone());
            }
            Some(value) => diagnostics.push(Diagnostic::for_value(
                key.name,
                None,
                source,
                format!("is {}; it must be a string", json_kind(value)),
                "ignored",
            )),
        }
    }
    let env = match root.get("env") {
        None => return Loaded::Env { vars, diagnostics },
        Some(Value::Object(env)) => env,
        Some(_) => return reject(source, "`env` is not a JSON object"),
    };
    for (key, value) in env.iter().filter(|(key, _)| is_relevant(key)) {
        let text = match value {
            Value::String(text) => text.clone(),
            Value::Number(number) => number.to_string(),
            Value::Bool(flag) => flag.to_string(),
            Value::Null | Value::Array(_) | Value::Object(_) => {
                diagnostics.push(Diagnostic::for_value(
                    key,
                    None,
                    source,
                    format!(
                        "is {} in the env block; only strings, numbers and booleans are used",
                        json_kind(value)
                    ),
                    "ignored",
                ));
                continue;
            }
        };
        vars.insert(key.clone(), text);
    }
    Loaded::Env { vars, diagnostics }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn too_large() -> String {
    format!("is larger than {} KiB", MAX_SETTINGS_BYTES / 1024)
}

fn reject(source: &Source, problem: impl Into<String>) -> Loaded {
    Loaded::Rejected(Diagnostic::for_file(source, problem, IGNORED))
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::PathBuf;

    use super::*;
    use crate::test_support::TempDir;

    fn user(path: &str) -> Source {
        Source::UserSettings(PathBuf::from(path))
    }

    fn accepted(json: &[u8]) -> (BTreeMap<String, String>, Vec<Diagnostic>) {
        match env_block(json, &user("/u")) {
            Loaded::Env { vars, diagnostics } => (vars, diagnostics),
            other => panic!("expected env, got {other:?}"),
        }
    }

    fn rejected(json: &[u8], path: &str) -> Diagnostic {
        match env_block(json, &user(path)) {
            Loaded::Rejected(diagnostic) => diagnostic,
            other => panic!("expected rejection, got {other:?}"),
        }
    }

    #[test]
    fn strings_numbers_and_booleans_are_taken_as_text() {
        let json = br#"{"env": {"OTEL_A": "x", "OTEL_B": 1, "OTEL_C": true, "OTEL_D": 2.5,
                        "UNRELATED": "skipped"}, "model": "opus"}"#;
        let (vars, diagnostics) = accepted(json);
        assert!(diagnostics.is_empty());
        let pairs: Vec<_> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(
            pairs,
            vec![
                ("OTEL_A", "x"),
                ("OTEL_B", "1"),
                ("OTEL_C", "true"),
                ("OTEL_D", "2.5")
            ]
        );
    }

    #[test]
    fn null_array_and_object_values_are_reported_per_key() {
        let json = br#"{"env": {"OTEL_A": null, "OTEL_B": [1], "OTEL_C": {}, "OTEL_D": "ok"}}"#;
        let (vars, diagnostics) = accepted(json);
        assert_eq!(vars.len(), 1);
        assert_eq!(diagnostics.len(), 3);
        assert_eq!(diagnostics[0].subject, "OTEL_A");
        assert!(diagnostics[0].problem.contains("null"));
        assert!(diagnostics[1].problem.contains("array"));
        assert!(diagnostics[2].problem.contains("object"));
        assert_eq!(
            diagnostics[0].to_string(),
            "OTEL_A (user settings (/u)) is null in the env block; only strings, numbers and \
             booleans are used; ignored"
        );
    }

    #[test]
    fn invalid_json_reports_line_and_column() {
        let json = b"{\n  \"env\": {\n    \"A\": 1\n    \"B\": 2\n  }\n}";
        let err = rejected(json, "/home/u/.claude/settings.json");
        assert_eq!(
            err.to_string(),
            "/home/u/.claude/settings.json: invalid JSON at line 4 column 5 (expected `,` or \
             `}`); its env block is ignored"
        );
    }

    #[test]
    fn wrong_shapes_are_rejected() {
        let err = rejected(b"[1]", "/u");
        assert!(err.problem.contains("top level"));
        let err = rejected(br#"{"env": "OTEL_A=1"}"#, "/u");
        assert!(err.problem.contains("`env` is not a JSON object"));
        let (vars, diagnostics) = accepted(b"{}");
        assert!(vars.is_empty() && diagnostics.is_empty());
    }

    #[test]
    fn the_headers_helper_is_a_top_level_key_not_an_env_variable() {
        let (vars, diagnostics) =
            accepted(br#"{"otelHeadersHelper": "/bin/h", "env": {"otelHeadersHelper": "/x"}}"#);
        assert!(diagnostics.is_empty());
        assert_eq!(
            vars.get("otelHeadersHelper").map(String::as_str),
            Some("/bin/h")
        );
        let (vars, diagnostics) = accepted(br#"{"otelHeadersHelper": ["/bin/h"]}"#);
        assert!(vars.is_empty());
        assert_eq!(
            diagnostics[0].to_string(),
            "otelHeadersHelper (user settings (/u)) is an array; it must be a string; ignored"
        );
    }

    #[test]
    fn byte_order_mark_is_tolerated() {
        let (vars, _) = accepted(b"\xEF\xBB\xBF{\"env\":{\"OTEL_A\":\"1\"}}");
        assert_eq!(vars.get("OTEL_A").map(String::as_str), Some("1"));
    }

    #[test]
    fn missing_files_are_silent() {
        let dir = TempDir::new("missing");
        let path = dir.path().join("nope").join("settings.json");
        assert!(matches!(
            load(&path, &Source::UserSettings(path.clone())),
            Loaded::Missing
        ));
        let file_as_dir = dir.write("plain", "x").join("settings.json");
        assert!(matches!(
            load(&file_as_dir, &Source::UserSettings(file_as_dir.clone())),
            Loaded::Missing
        ));
    }

    #[test]
    fn oversized_files_and_directories_are_rejected() {
        let dir = TempDir::new("large");
        let big = dir.path().join("big.json");
        let filler = " ".repeat(usize::try_from(MAX_SETTINGS_BYTES).unwrap());
        fs::write(&big, format!("{{{filler}}}")).unwrap();
        let Loaded::Rejected(d) = load(&big, &Source::UserSettings(big.clone())) else {
            panic!("expected rejection");
        };
        assert!(d.problem.contains("larger than 1024 KiB"), "{d}");

        let sub = dir.path().join("sub");
        fs::create_dir(&sub).unwrap();
        let Loaded::Rejected(d) = load(&sub, &Source::UserSettings(sub.clone())) else {
            panic!("expected rejection");
        };
        assert!(d.problem.contains("directory"), "{d}");
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_a_socket_or_a_device_is_rejected_without_blocking() {
        let dir = TempDir::new("special");
        let fifo = dir.path().join("fifo.json");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let socket = dir.path().join("socket.json");
        let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
        for (path, what) in [
            (fifo, "a FIFO"),
            (socket, "a socket"),
            (PathBuf::from("/dev/null"), "a character device"),
        ] {
            // Managed settings go through the same function.
            let source = Source::Managed(path.clone());
            let Loaded::Rejected(d) = load(&path, &source) else {
                panic!("expected rejection of {what}");
            };
            assert!(d.problem.contains(what), "{d}");
        }
    }

    #[test]
    fn a_readable_file_loads() {
        let dir = TempDir::new("ok");
        let path = dir.write("s.json", r#"{"env":{"OTEL_SERVICE_NAME":"svc"}}"#);
        let Loaded::Env { vars, diagnostics } = load(&path, &Source::UserSettings(path.clone()))
        else {
            panic!("expected env");
        };
        assert!(diagnostics.is_empty());
        assert_eq!(
            vars.get("OTEL_SERVICE_NAME").map(String::as_str),
            Some("svc")
        );
    }
}
