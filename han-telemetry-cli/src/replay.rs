//! `han-telemetry replay`: send the local store's records whose export failed, once.
//!
//! ```text
//! han-telemetry replay [--since 7d] [--dir DIR] [--max-records 10000] [--dry-run] [--json]
//! ```
//!
//! Which records are pending, how they are sent and why nothing is sent twice is
//! [`han_telemetry::replay`]'s to say. The exporters are the configured ones (environment and
//! Claude Code settings files, as a hook sees them), so run it where the hooks run, once the
//! collector is reachable again.
//!
//! Exit 0 when nothing is pending or everything pending was delivered (or, with `--dry-run`,
//! could be read); 1 when a signal could not be sent (the collector is still unreachable,
//! telemetry is off, or another replay holds the store); 2 on a usage error.
//!
//! # JSON (`replay_version` 1)
//! ```text
//! replay_version   1
//! dir              the store
//! dry_run          bool
//! processes        processes whose records were taken
//! metrics, events  {records, sent, delivered_records, error, cause, fix}; sent is
//!                  nothing | would_send | delivered | no_exporter | failed
//! left_over        pending records left for the next run by --max-records
//! not_resendable   records of processes whose export was rejected or mixed
//! fallback         the same object for the fallback store (hooks write there while the
//!                  store is not safe to use), present only when that directory exists
//! legacy[]         the same object for each place han-telemetry used before it followed
//!                  Han's data directory (`han/metrics`, `han/metrics-fallback` under
//!                  `$CLAUDE_CONFIG_DIR` or `~/.claude`), present only when one exists
//! ```
//!
//! Each directory is replayed as a store of its own: its receipts are written next to its
//! records, so when Han moves `~/.claude/han` (and the store in it) to `~/.han` they move
//! together. A replay that meets its store moved away mid-way stops with an error rather
//! than writing receipts into a new, empty directory; at most the batch it was sending goes
//! again next time.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::SystemTime;

use clap::Args;
use han_telemetry::config::Config;
use han_telemetry::replay::{self, Options, ReplayError, Sent, SignalReplay, Summary};
use serde::Serialize;

use crate::error::CliError;
use crate::output::{print, print_json, printable};
use crate::report::{Store, configured_store, since};

/// `replay`: send the records whose export failed.
#[derive(Debug, Args)]
pub(crate) struct ReplayArgs {
    /// Only records since: a duration back from now (`24h`, `7d`), a UTC date or an RFC 3339
    /// time. Backends often refuse data older than a week.
    #[arg(long, value_name = "WHEN", default_value = "7d", value_parser = since::parse)]
    pub(crate) since: since::Since,

    /// The store, alone (default: HAN_METRICS_DIR, else metrics in Han's data directory,
    /// ~/.han/metrics, with the fallback and older places).
    #[arg(long, value_name = "DIR")]
    pub(crate) dir: Option<PathBuf>,

    /// Send at most this many records (whole processes, oldest first); the rest waits for
    /// the next run.
    #[arg(long, value_name = "N", default_value = "10000", value_parser = parse_max_records)]
    pub(crate) max_records: usize,

    /// Only say what would be sent.
    #[arg(long)]
    pub(crate) dry_run: bool,
}

/// A positive record count.
fn parse_max_records(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err("expected a whole number of records, at least 1".to_owned()),
    }
}

/// Runs `replay`.
pub(crate) fn run(args: &ReplayArgs, json: bool) -> Result<ExitCode, CliError> {
    let now = SystemTime::now();
    let since = args.since.resolve(now);
    if since > now {
        return Err(CliError::Usage(
            "--since is in the future; nothing can have been recorded after it".to_owned(),
        ));
    }
    let config = Config::from_env();
    let store = match &args.dir {
        Some(dir) => Store::only(dir.clone()),
        None => configured_store()?,
    };
    let Store {
        dir,
        fallback,
        legacy,
        ..
    } = store.existing();
    let options = Options {
        since,
        max_records: args.max_records,
        dry_run: args.dry_run,
    };
    let replay_dir = |dir: &PathBuf| {
        replay::run(&config, dir, &options).map_err(|e| match e {
            ReplayError::Busy(_) => CliError::Failed(e.to_string()),
            other => CliError::Failed(printable(&other.to_string())),
        })
    };
    let summary = replay_dir(&dir)?;
    // Records hooks kept in the fallback while the store was not safe to use.
    let also = fallback.as_ref().map(replay_dir).transpose()?;
    // Records kept where han-telemetry wrote before it followed Han's data directory.
    let older = legacy
        .iter()
        .map(replay_dir)
        .collect::<Result<Vec<_>, _>>()?;
    if json {
        let mut out = JsonSummary::new(&summary, args.dry_run);
        out.fallback = also
            .as_ref()
            .map(|s| Box::new(JsonSummary::new(s, args.dry_run)));
        out.legacy = older
            .iter()
            .map(|s| JsonSummary::new(s, args.dry_run))
            .collect();
        print_json(&out)?;
    } else {
        let mut text = render(&summary, &config, args.dry_run);
        for also in also.iter().chain(&older) {
            text.push_str(&render(also, &config, args.dry_run));
        }
        print(&text)?;
    }
    let failed = std::iter::once(&summary)
        .chain(also.as_ref())
        .chain(&older)
        .any(|s| s.metrics.sent.is_failure() || s.logs.sent.is_failure());
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn render(s: &Summary, config: &Config, dry_run: bool) -> String {
    let mut out = format!("Local store: {}\n", printable(&s.dir.display().to_string()));
    if s.processes == 0 {
        out.push_str("Nothing to send: no record is waiting for an export that failed.\n");
    } else {
        let verb = if dry_run { "Would send" } else { "Sent" };
        out.push_str(&format!(
            "{verb} the records of {} process(es) whose export failed:\n",
            s.processes
        ));
        for (name, signal) in [("metrics", &s.metrics), ("events ", &s.logs)] {
            out.push_str(&format!("  {name}  {}\n", line(signal, config)));
        }
    }
    if s.left_over > 0 {
        out.push_str(&format!(
            "Left for the next run: {} record(s) (--max-records bounds one run).\n",
            s.left_over
        ));
    }
    if s.not_resendable > 0 {
        out.push_str(&format!(
            "Never sent again: {} record(s) whose export the collector rejected, or whose \
             process got some exports through.\n",
            s.not_resendable
        ));
    }
    out
}

fn line(signal: &SignalReplay, config: &Config) -> String {
    let n = signal.records;
    match &signal.sent {
        Sent::Nothing => "nothing pending".to_owned(),
        Sent::WouldSend => format!("{n} record(s) would be sent"),
        Sent::Delivered => format!("{n} record(s) delivered"),
        Sent::NoExporter if !config.enabled => format!(
            "{n} record(s) kept: telemetry is off (set CLAUDE_CODE_ENABLE_TELEMETRY=1 and the \
             OTEL_EXPORTER_OTLP_* variables the hooks use)"
        ),
        Sent::NoExporter => {
            format!("{n} record(s) kept: this signal has no otlp exporter configured")
        }
        Sent::Failed {
            delivered,
            error,
            cause,
            fix,
        } => format!(
            "{delivered} of {n} record(s) delivered, the rest kept for the next run: {} ({}; {})",
            printable(error),
            cause,
            fix
        ),
        _ => format!("{n} record(s)"),
    }
}

#[derive(Serialize)]
struct JsonSummary {
    replay_version: u32,
    dir: String,
    dry_run: bool,
    processes: usize,
    metrics: JsonSignal,
    events: JsonSignal,
    left_over: usize,
    not_resendable: usize,
    /// The same for the fallback store, when it exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    fallback: Option<Box<JsonSummary>>,
    /// The same for each older place that exists.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    legacy: Vec<JsonSummary>,
}

#[derive(Serialize)]
struct JsonSignal {
    records: usize,
    sent: &'static str,
    delivered_records: usize,
    error: Option<String>,
    cause: Option<String>,
    fix: Option<String>,
}

impl JsonSummary {
    fn new(s: &Summary, dry_run: bool) -> Self {
        JsonSummary {
            replay_version: 1,
            dir: s.dir.display().to_string(),
            dry_run,
            processes: s.processes,
            metrics: JsonSignal::new(&s.metrics),
            events: JsonSignal::new(&s.logs),
            left_over: s.left_over,
            not_resendable: s.not_resendable,
            fallback: None,
            legacy: Vec::new(),
        }
    }
}

impl JsonSignal {
    fn new(s: &SignalReplay) -> Self {
        let mut out = JsonSignal {
            records: s.records,
            sent: "nothing",
            delivered_records: 0,
            error: None,
            cause: None,
            fix: None,
        };
        match &s.sent {
            Sent::Nothing => {}
            Sent::WouldSend => out.sent = "would_send",
            Sent::Delivered => {
                out.sent = "delivered";
                out.delivered_records = s.records;
            }
            Sent::NoExporter => out.sent = "no_exporter",
            Sent::Failed {
                delivered,
                error,
                cause,
                fix,
            } => {
                out.sent = "failed";
                out.delivered_records = *delivered;
                out.error = Some(error.clone());
                out.cause = Some(cause.clone());
                out.fix = Some(fix.clone());
            }
            _ => out.sent = "unknown",
        }
        out
    }
}
