//! The command line: every subcommand, flag and value parser. Parsing errors exit with
//! code 2 (clap's usage-error code); the subcommands' own usage errors use it too.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use han_telemetry::config::{Compression, Protocol, Temporality};

/// Check and set up han-telemetry's OpenTelemetry export for Claude Code hooks.
///
/// Exit codes: 0 success, 1 the check failed or the work could not be done, 2 usage error.
#[derive(Debug, Parser)]
#[command(name = "han-telemetry", version, propagate_version = true)]
pub(crate) struct Cli {
    /// Print JSON on stdout instead of text.
    #[arg(long, global = true)]
    pub(crate) json: bool,

    #[command(subcommand)]
    pub(crate) command: Command,
}

// Parsed once per process: boxing the larger arguments would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Show the effective configuration and where each value came from, then send a real
    /// test export on each enabled signal; exit 0 only if telemetry reaches the collector.
    ///
    /// Exit 0 when telemetry is on, the configuration has no problems and every OTLP
    /// exporter delivered a `han.doctor.probe` metric, log event or span. Exit 1 otherwise,
    /// including telemetry off and configurations where every signal is `none` or `console`
    /// (console output goes to each hook's stderr, which no collector receives).
    Doctor(DoctorArgs),
    /// Print the `export OTEL_...` lines a SessionStart hook appends to $CLAUDE_ENV_FILE.
    ///
    /// Each flag sets one variable; what no flag sets comes from the current configuration
    /// (environment and Claude Code settings files), then from han-telemetry's defaults.
    /// CLAUDE_CODE_ENABLE_TELEMETRY=1 is always included. Values are single-quoted for the
    /// shell; resource attributes and header values are percent-encoded. The result is checked
    /// with han-telemetry's own configuration rules: any problem is a usage error (exit 2)
    /// and nothing is written. Claude Code sources the file before each Bash command, so it
    /// configures those commands; not hooks (configure a hook's telemetry in the settings
    /// files' env block) and not Claude Code's own telemetry.
    Env(EnvArgs),
    /// Summarise the local metrics store: hooks, plugins, tasks (calibration), validations,
    /// MCP tools, frustration, sessions, and what could not be read.
    ///
    /// Reads `--dir`, else the configured store (HAN_METRICS_DIR, else metrics in Han's data
    /// directory: HAN_DATA_DIR, else $CLAUDE_CONFIG_DIR/han, else ~/.han), its fallback and
    /// the places earlier versions used (~/.claude/han/metrics). Percentiles are nearest-rank; the calibration score is
    /// 1 - mean|confidence - outcome| with outcome 1 for success, 0 for partial or failure.
    /// Exit 0 whenever the store could be read (an empty store included).
    Report(crate::report::ReportArgs),
    /// Send the local store's records whose export failed (collector down, unreachable,
    /// unavailable, exit budget), once: nothing is ever sent twice.
    ///
    /// Events keep their own time; metrics are counted again at the time of the replay (delta
    /// temporality adds them to what the backend has). Records the collector rejected are
    /// never resent. Uses the configured exporters, as a hook would. Exit 0 when nothing is
    /// left to send, 1 while something could not be sent.
    Replay(crate::replay::ReplayArgs),
}

#[derive(Debug, Args)]
pub(crate) struct DoctorArgs {
    /// How long each test export may take (e.g. `5s`, `500ms`); probes run in parallel.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_timeout)]
    pub(crate) timeout: Duration,

    /// Only show the configuration; send nothing (the exit code then reflects the
    /// configuration alone).
    #[arg(long)]
    pub(crate) no_probe: bool,
}

/// `env`: each flag sets one variable; what no flag sets comes from the current
/// configuration (environment and Claude Code settings files), then from the defaults.
#[derive(Debug, Args)]
pub(crate) struct EnvArgs {
    /// OTEL_EXPORTER_OTLP_ENDPOINT, an http:// or https:// URL.
    #[arg(long, value_name = "URL")]
    pub(crate) endpoint: Option<String>,

    /// OTEL_EXPORTER_OTLP_PROTOCOL.
    #[arg(long, value_enum)]
    pub(crate) protocol: Option<ProtocolArg>,

    /// An OTEL_EXPORTER_OTLP_HEADERS entry whose value is read from the environment
    /// variable ENV_VAR (never from the command line), e.g.
    /// `--header signoz-ingestion-key=SIGNOZ_KEY`. Repeatable; replaces the current headers.
    // Parsed later by `HeaderRef::parse`: clap would echo a rejected value, and a rejected
    // value here is most likely the secret itself.
    #[arg(long = "header", value_name = "NAME=ENV_VAR")]
    pub(crate) headers: Vec<String>,

    /// OTEL_SERVICE_NAME.
    #[arg(long, value_name = "NAME")]
    pub(crate) service_name: Option<String>,

    /// The `team` resource attribute (OTEL_RESOURCE_ATTRIBUTES).
    #[arg(long, value_name = "TEAM")]
    pub(crate) team: Option<String>,

    /// The `engineer` resource attribute (OTEL_RESOURCE_ATTRIBUTES).
    #[arg(long, value_name = "NAME")]
    pub(crate) engineer: Option<String>,

    /// A resource attribute added to OTEL_RESOURCE_ATTRIBUTES (percent-encoded for you).
    /// Repeatable.
    #[arg(long = "resource-attribute", value_name = "KEY=VALUE", value_parser = parse_attribute)]
    pub(crate) resource_attributes: Vec<(String, String)>,

    /// OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE.
    #[arg(long, value_enum)]
    pub(crate) temporality: Option<TemporalityArg>,

    /// OTEL_METRICS_EXPORTER: `otlp`, `console`, `none`, or a comma list.
    #[arg(long, value_name = "LIST")]
    pub(crate) metrics_exporter: Option<String>,

    /// OTEL_LOGS_EXPORTER: `otlp`, `console`, `none`, or a comma list.
    #[arg(long, value_name = "LIST")]
    pub(crate) logs_exporter: Option<String>,

    /// OTEL_TRACES_EXPORTER: `otlp`, `console`, `none`, or a comma list.
    #[arg(long, value_name = "LIST")]
    pub(crate) traces_exporter: Option<String>,

    /// OTEL_EXPORTER_OTLP_COMPRESSION.
    #[arg(long, value_enum)]
    pub(crate) compression: Option<CompressionArg>,

    /// OTEL_EXPORTER_OTLP_CERTIFICATE: the PEM file of a private CA for https:// endpoints.
    #[arg(long, value_name = "PATH")]
    pub(crate) certificate: Option<PathBuf>,

    /// Append the lines to $CLAUDE_ENV_FILE (an error if it is not set) instead of
    /// printing them.
    #[arg(long, conflicts_with = "json")]
    pub(crate) append: bool,
}

/// A command-line value that is one of a library enum's words, spelled as the variable
/// spells it: the flags and the variables cannot disagree.
macro_rules! choice_arg {
    ($name:ident, $inner:ty, $n:literal) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) struct $name(pub(crate) $inner);

        impl ValueEnum for $name {
            fn value_variants<'a>() -> &'a [Self] {
                const ALL: [$name; $n] = {
                    let all = <$inner>::ALL;
                    let mut out = [$name(all[0]); $n];
                    let mut i = 0;
                    while i < $n {
                        out[i] = $name(all[i]);
                        i += 1;
                    }
                    out
                };
                &ALL
            }

            fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
                Some(clap::builder::PossibleValue::new(self.0.as_str()))
            }
        }
    };
}

choice_arg!(ProtocolArg, Protocol, 3);
choice_arg!(TemporalityArg, Temporality, 3);
choice_arg!(CompressionArg, Compression, 3);

/// `--header NAME=ENV_VAR`: a header name and the variable that holds its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HeaderRef {
    pub(crate) name: String,
    pub(crate) env_var: String,
}

const LONGEST_TIMEOUT: Duration = Duration::from_secs(600);

fn parse_timeout(text: &str) -> Result<Duration, String> {
    let timeout = humantime::parse_duration(text)
        .map_err(|e| format!("{e} (write it with a unit: 5s, 500ms, 1m)"))?;
    if timeout.is_zero() || timeout > LONGEST_TIMEOUT {
        return Err("must be more than 0 and at most 10m".to_owned());
    }
    Ok(timeout)
}

impl HeaderRef {
    /// Parses `NAME=ENV_VAR`; the error never repeats the text.
    pub(crate) fn parse(text: &str) -> Result<HeaderRef, String> {
        let Some((name, env_var)) = text.split_once('=') else {
            return Err("expected NAME=ENV_VAR, e.g. authorization=OTLP_TOKEN".to_owned());
        };
        let (name, env_var) = (name.trim(), env_var.trim());
        if name.is_empty() {
            return Err("the header name is empty".to_owned());
        }
        let valid_var = env_var
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && env_var
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid_var {
            // Deliberately not echoed: this is most likely the secret itself.
            return Err(
                "after `=` comes the NAME of an environment variable holding the header value \
                 (letters, digits, `_`); values are never taken from the command line, where \
                 other users and shell history could see them"
                    .to_owned(),
            );
        }
        Ok(HeaderRef {
            name: name.to_owned(),
            env_var: env_var.to_owned(),
        })
    }
}

fn parse_attribute(text: &str) -> Result<(String, String), String> {
    let Some((key, value)) = text.split_once('=') else {
        return Err("expected KEY=VALUE".to_owned());
    };
    let key = key.trim();
    if key.is_empty() {
        return Err("the key is empty".to_owned());
    }
    Ok((key.to_owned(), value.trim().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn timeouts_need_a_unit_and_a_sane_size() {
        assert_eq!(parse_timeout("750ms"), Ok(Duration::from_millis(750)));
        assert!(parse_timeout("5").is_err());
        assert!(parse_timeout("0s").is_err());
        assert!(parse_timeout("1h").is_err());
    }

    #[test]
    fn header_values_are_never_taken_from_the_command_line() {
        assert_eq!(
            HeaderRef::parse("x-api-key=OTLP_KEY"),
            Ok(HeaderRef {
                name: "x-api-key".into(),
                env_var: "OTLP_KEY".into()
            })
        );
        let err = HeaderRef::parse("authorization=Bearer s3cret").expect_err("a value");
        assert!(!err.contains("s3cret"), "{err}");
        assert!(HeaderRef::parse("authorization").is_err());
        assert!(HeaderRef::parse("=X").is_err());
    }

    #[test]
    fn attributes_split_at_the_first_equals() {
        assert_eq!(
            parse_attribute("k=a=b"),
            Ok(("k".to_owned(), "a=b".to_owned()))
        );
        assert!(parse_attribute("=v").is_err());
    }
}
