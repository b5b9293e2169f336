//! `han-telemetry env`: the lines a SessionStart hook appends to `$CLAUDE_ENV_FILE`.
//!
//! Claude Code sources that file (a shell script) before the Bash commands it runs, so each
//! variable is one `export NAME='value'` line, single-quoted: spaces, quotes, `$`, backticks
//! and newlines in a value survive `source` unchanged. It configures those commands only:
//! later hooks never see what a SessionStart hook appended (they read the settings files),
//! and Claude Code's own telemetry is set up before SessionStart runs.
//!
//! Where each value comes from, first match wins:
//! 1. a flag (`--endpoint`, `--header NAME=ENV_VAR`, ...);
//! 2. the current configuration, as `doctor` shows it (process environment, Claude Code
//!    settings files), for every variable set there to a usable value: its text is copied as
//!    written. `TRACEPARENT`/`TRACESTATE` (per process) and `OTEL_SDK_DISABLED` (which would
//!    contradict the output) are never copied;
//! 3. han-telemetry's default, written out for the variables the runbook pattern always
//!    writes: `OTEL_METRICS_EXPORTER=otlp`, `OTEL_LOGS_EXPORTER=otlp`,
//!    `OTEL_EXPORTER_OTLP_PROTOCOL=grpc` and the protocol's default endpoint.
//!
//! `CLAUDE_CODE_ENABLE_TELEMETRY=1` is always written. A flag that sets a generic
//! `OTEL_EXPORTER_OTLP_*` setting drops the per-signal variants of it carried from the current
//! configuration (`--endpoint` means every signal goes there). `--team`, `--engineer` and
//! `--resource-attribute` add to (or replace keys of) the current resource attributes.
//! Resource attribute keys and values, and header values, are percent-encoded, which the OTel
//! specification requires and han-telemetry (and Claude Code) decode.
//!
//! The result is checked by resolving it with han-telemetry's own configuration code: any
//! problem (a bad URL, an unknown exporter, an invalid header name) is a usage error (exit 2)
//! and nothing is written.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::Path;
use std::process::ExitCode;

use han_telemetry::config::vars::{self, Kind, OtlpSetting};
use han_telemetry::config::{Config, Exporter, Protocol, Signal, Source, Sources};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::cli::{EnvArgs, HeaderRef};
use crate::error::CliError;
use crate::output;

/// The file Claude Code gives SessionStart hooks for variables that later commands see.
pub(crate) const ENV_FILE: &str = "CLAUDE_ENV_FILE";

/// Bytes written as they are in resource attributes and header values: letters, digits and
/// `-._~/:@`. Everything else (space, `,`, `=`, `%`, `;`, quotes, non-ASCII) is
/// percent-encoded, so the text is within the W3C Baggage octets the OTel spec asks for.
const KEEP: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/')
    .remove(b':')
    .remove(b'@');

/// Percent-encodes one key or value of `OTEL_RESOURCE_ATTRIBUTES` or
/// `OTEL_EXPORTER_OTLP_HEADERS`.
pub(crate) fn encode(text: &str) -> String {
    utf8_percent_encode(text, KEEP).to_string()
}

/// `text` as one shell word that means exactly `text`: single quotes, each `'` written `'\''`.
pub(crate) fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// Never copied from the current configuration.
const NOT_CARRIED: &[&str] = &[
    vars::ENABLE_TELEMETRY.name,
    vars::SDK_DISABLED.name,
    vars::TRACEPARENT.name,
    vars::TRACESTATE.name,
];

/// Generic OTLP settings whose per-signal variants a flag overrides.
const PER_SIGNAL_SETTINGS: &[OtlpSetting] = &[
    vars::ENDPOINT,
    vars::PROTOCOL,
    vars::HEADERS,
    vars::COMPRESSION,
    vars::CERTIFICATE,
];

#[derive(Debug, Clone)]
enum Origin {
    Always,
    Flag(&'static str),
    Current(Source),
    Default,
}

#[derive(Debug, Clone)]
struct Var {
    name: String,
    value: String,
    origin: Origin,
}

/// The variables to write, in order.
#[derive(Debug, Default)]
struct Vars(Vec<Var>);

impl Vars {
    fn set(&mut self, name: &str, value: String, origin: Origin) {
        match self.0.iter_mut().find(|v| v.name == name) {
            Some(var) => {
                var.value = value;
                var.origin = origin;
            }
            None => self.0.push(Var {
                name: name.to_owned(),
                value,
                origin,
            }),
        }
    }

    fn get(&self, name: &str) -> Option<&Var> {
        self.0.iter().find(|v| v.name == name)
    }

    fn pairs(&self) -> Vec<(String, String)> {
        self.0
            .iter()
            .map(|v| (v.name.clone(), v.value.clone()))
            .collect()
    }
}

/// The variables of the current configuration that are set to a usable value, with their
/// text as written and their source.
fn carried(current: &Config, sources: &Sources) -> Vec<(String, String, Source)> {
    current
        .provenance
        .iter()
        .filter(|p| p.source != Source::Default && !NOT_CARRIED.contains(&p.variable.as_str()))
        .filter_map(|p| {
            let (raw, source) = sources.get(&p.variable)?;
            Some((p.variable.clone(), raw.to_owned(), source.clone()))
        })
        .collect()
}

pub(crate) fn run(args: &EnvArgs, json: bool) -> Result<ExitCode, CliError> {
    let headers = read_headers(&args.headers)?;
    let sources = Sources::discover();
    let current = Config::from_sources(&sources);
    let vars = build(args, &headers, &current, &sources);
    check(&vars)?;
    for d in &current.diagnostics {
        let overridden = vars
            .get(&d.subject)
            .is_some_and(|v| matches!(v.origin, Origin::Flag(_)));
        if !overridden {
            eprintln!("han-telemetry: warning: {d} (not carried into the output)");
        }
    }

    if json {
        let object: BTreeMap<_, _> = vars.pairs().into_iter().collect();
        output::print_json(&object)?;
        return Ok(ExitCode::SUCCESS);
    }
    let lines: String = vars
        .0
        .iter()
        .map(|v| format!("export {}={}\n", v.name, shell_quote(&v.value)))
        .collect();
    if args.append {
        append_to_env_file(&lines)?;
    } else {
        output::print(&lines)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `(name, value)` of every `--header`, the value read from its environment variable.
fn read_headers(specs: &[String]) -> Result<Vec<(String, String)>, CliError> {
    let mut headers = Vec::new();
    for (index, spec) in specs.iter().enumerate() {
        let header = HeaderRef::parse(spec)
            .map_err(|why| CliError::Usage(format!("--header number {}: {why}", index + 1)))?;
        let HeaderRef { name, env_var } = header;
        let value = match std::env::var(&env_var) {
            Ok(value) if !value.trim().is_empty() => value,
            Ok(_) => {
                return Err(CliError::Usage(format!(
                    "--header {name}={env_var}: the environment variable {env_var} is empty; it \
                     must hold the value of header {name}"
                )));
            }
            Err(std::env::VarError::NotPresent) => {
                return Err(CliError::Usage(format!(
                    "--header {name}={env_var}: the environment variable {env_var} is not set; \
                     it must hold the value of header {name}"
                )));
            }
            Err(std::env::VarError::NotUnicode(_)) => {
                return Err(CliError::Usage(format!(
                    "--header {name}={env_var}: the value of {env_var} is not valid UTF-8"
                )));
            }
        };
        headers.push((name, value));
    }
    Ok(headers)
}

fn build(
    args: &EnvArgs,
    headers: &[(String, String)],
    current: &Config,
    sources: &Sources,
) -> Vars {
    let carried = carried(current, sources);
    let from_current = |name: &str| {
        carried
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, raw, source)| (raw.clone(), Origin::Current(source.clone())))
    };
    let mut vars = Vars::default();
    vars.set(vars::ENABLE_TELEMETRY.name, "1".to_owned(), Origin::Always);

    let put = |vars: &mut Vars,
               name: &str,
               flag: Option<(String, &'static str)>,
               default: Option<String>| {
        let chosen = match flag {
            Some((value, flag)) => Some((value, Origin::Flag(flag))),
            None => from_current(name).or_else(|| default.map(|d| (d, Origin::Default))),
        };
        if let Some((value, origin)) = chosen {
            vars.set(name, value, origin);
        }
    };
    let flag = |value: Option<String>, name: &'static str| value.map(|v| (v, name));

    // The runbook's defaults: metrics and events over OTLP, spans only when asked for.
    put(
        &mut vars,
        vars::METRICS_EXPORTER.name,
        flag(args.metrics_exporter.clone(), "--metrics-exporter"),
        Some(Exporter::list(&[Exporter::Otlp])),
    );
    put(
        &mut vars,
        vars::LOGS_EXPORTER.name,
        flag(args.logs_exporter.clone(), "--logs-exporter"),
        Some(Exporter::list(&[Exporter::Otlp])),
    );
    put(
        &mut vars,
        vars::TRACES_EXPORTER.name,
        flag(args.traces_exporter.clone(), "--traces-exporter"),
        None,
    );
    let protocol_var = vars::PROTOCOL.var(None).name;
    put(
        &mut vars,
        protocol_var,
        flag(args.protocol.map(|p| p.0.as_str().to_owned()), "--protocol"),
        Some(Protocol::Grpc.as_str().to_owned()),
    );
    let protocol = vars
        .get(protocol_var)
        .and_then(|v| {
            Protocol::ALL
                .into_iter()
                .find(|p| v.value.trim().eq_ignore_ascii_case(p.as_str()))
        })
        .unwrap_or(Protocol::Grpc);
    // The generic endpoint: for HTTP, the base that gets `/v1/<signal>`.
    let default_endpoint = match vars::ENDPOINT.kind {
        Kind::Endpoint { http, .. } if protocol.is_http() => http.to_owned(),
        Kind::Endpoint { grpc, .. } => grpc.to_owned(),
        _ => String::new(),
    };
    put(
        &mut vars,
        vars::ENDPOINT.var(None).name,
        flag(args.endpoint.clone(), "--endpoint"),
        Some(default_endpoint),
    );
    let header_list = (!headers.is_empty()).then(|| {
        headers
            .iter()
            .map(|(name, value)| format!("{name}={}", encode(value)))
            .collect::<Vec<_>>()
            .join(",")
    });
    put(
        &mut vars,
        vars::HEADERS.var(None).name,
        flag(header_list, "--header"),
        None,
    );
    put(
        &mut vars,
        vars::COMPRESSION.var(None).name,
        flag(
            args.compression.map(|c| c.0.as_str().to_owned()),
            "--compression",
        ),
        None,
    );
    put(
        &mut vars,
        vars::CERTIFICATE.var(None).name,
        flag(
            args.certificate
                .as_deref()
                .map(|p| p.to_string_lossy().into_owned()),
            "--certificate",
        ),
        None,
    );
    put(
        &mut vars,
        vars::TEMPORALITY.name,
        flag(
            args.temporality.map(|t| t.0.as_str().to_owned()),
            "--temporality",
        ),
        None,
    );
    put(
        &mut vars,
        vars::SERVICE_NAME.name,
        flag(args.service_name.clone(), "--service-name"),
        None,
    );
    put(
        &mut vars,
        vars::RESOURCE_ATTRIBUTES.name,
        resource_attributes(args, current)
            .map(|list| (list, "--resource-attribute/--team/--engineer")),
        None,
    );

    let overridden: Vec<&str> = PER_SIGNAL_SETTINGS
        .iter()
        .filter(|setting| {
            vars.get(setting.var(None).name)
                .is_some_and(|v| matches!(v.origin, Origin::Flag(_)))
        })
        .flat_map(|setting| Signal::ALL.map(|signal| setting.var(Some(signal)).name))
        .collect();
    for (name, raw, source) in &carried {
        if vars.get(name).is_none() && !overridden.contains(&name.as_str()) {
            vars.set(name, raw.clone(), Origin::Current(source.clone()));
        }
    }
    vars
}

/// The encoded `OTEL_RESOURCE_ATTRIBUTES` when a flag adds attributes: the current ones
/// (decoded by han-telemetry), then the flags' in order, a repeated key replacing the value.
fn resource_attributes(args: &EnvArgs, current: &Config) -> Option<String> {
    let mut added: Vec<(String, String)> = args.resource_attributes.clone();
    if let Some(team) = &args.team {
        added.push(("team".to_owned(), team.clone()));
    }
    if let Some(engineer) = &args.engineer {
        added.push(("engineer".to_owned(), engineer.clone()));
    }
    if added.is_empty() {
        return None;
    }
    let mut attributes: Vec<(String, String)> = Vec::new();
    let set_by_user = current
        .source_of(vars::RESOURCE_ATTRIBUTES.name)
        .is_some_and(|s| *s != Source::Default);
    if set_by_user {
        // `service.name` is moved out of the attributes when OTEL_SERVICE_NAME is not set;
        // put it back so it is kept.
        if current.source_of(vars::SERVICE_NAME.name).is_none() {
            attributes.push(("service.name".to_owned(), current.service_name.clone()));
        }
        attributes.extend(current.resource_attributes.iter().cloned());
    }
    for (key, value) in added {
        match attributes.iter_mut().find(|(k, _)| *k == key) {
            Some(existing) => existing.1 = value,
            None => attributes.push((key, value)),
        }
    }
    Some(
        attributes
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join(","),
    )
}

/// Resolves the variables with han-telemetry's configuration code; every problem it finds is a
/// usage error naming the flag (or the current setting) responsible.
fn check(vars: &Vars) -> Result<(), CliError> {
    let resolved =
        Config::from_sources(&Sources::new().with_layer(Source::ProcessEnv, vars.pairs()));
    if resolved.diagnostics.is_empty() {
        return Ok(());
    }
    let lines: Vec<String> = resolved
        .diagnostics
        .iter()
        .map(|d| {
            let shown = match &d.value {
                Some(value) => format!("{}={value:?}", d.subject),
                None => d.subject.clone(),
            };
            let why = output::printable(&d.problem);
            match vars.get(&d.subject).map(|v| &v.origin) {
                Some(Origin::Flag(flag)) => format!("{flag}: {shown} {why}"),
                Some(Origin::Current(source)) => {
                    format!("{shown} (from the current configuration: {source}) {why}")
                }
                _ => format!("{shown} {why}"),
            }
        })
        .collect();
    Err(CliError::Usage(format!(
        "the variables would not work; nothing was written:\n  {}",
        lines.join("\n  ")
    )))
}

fn append_to_env_file(lines: &str) -> Result<(), CliError> {
    let path = match std::env::var_os(ENV_FILE) {
        Some(path) if !path.is_empty() => path,
        _ => {
            return Err(CliError::Usage(format!(
                "--append writes to ${ENV_FILE}, which is not set (Claude Code sets it for \
                 SessionStart hooks); without --append the lines are printed"
            )));
        }
    };
    let path = Path::new(&path);
    let failed = |e: std::io::Error| {
        CliError::Failed(format!(
            "cannot append to {} ({ENV_FILE}): {e}",
            path.display()
        ))
    };
    let mut options = OpenOptions::new();
    options.read(true).append(true).create(true);
    #[cfg(unix)]
    {
        // The lines may carry credentials (header values).
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    #[cfg(unix)]
    {
        // A FIFO there would block the open until a reader appears: never wait, and refuse
        // anything but a regular file.
        use std::os::unix::fs::OpenOptionsExt as _;
        // The flag bits fit an `int`, as `open(2)` takes them.
        #[allow(clippy::cast_possible_wrap)]
        options.custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32);
    }
    let mut file = options.open(path).map_err(failed)?;
    let meta = file.metadata().map_err(failed)?;
    if !meta.is_file() {
        return Err(CliError::Failed(format!(
            "cannot append to {} ({ENV_FILE}): it is not a regular file",
            path.display()
        )));
    }
    // Start on a line of our own if the file does not end with one.
    let mut text = String::new();
    if file.seek(SeekFrom::End(-1)).is_ok() {
        let mut last = [0u8; 1];
        if file.read_exact(&mut last).is_ok() && last[0] != b'\n' {
            text.push('\n');
        }
    }
    text.push_str(lines);
    file.write_all(text.as_bytes()).map_err(failed)?;
    file.flush().map_err(failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_survives_every_shell_character() {
        assert_eq!(shell_quote("plain"), "'plain'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote("$HOME `x` \"q\""), "'$HOME `x` \"q\"'");
    }

    #[test]
    fn encoding_keeps_urls_readable_and_escapes_separators() {
        assert_eq!(encode("John's Org"), "John%27s%20Org");
        assert_eq!(encode("a,b=c%d;e"), "a%2Cb%3Dc%25d%3Be");
        assert_eq!(encode("https://x.example/p"), "https://x.example/p");
        assert_eq!(encode("é"), "%C3%A9");
    }
}
