//! `han-telemetry report`: what the local metrics store recorded over a window.
//!
//! ```text
//! han-telemetry report [--since WHEN] [--dir DIR] [--json]
//! ```
//!
//! - `--since` (default `7d`): a duration back from now (`30m`, `24h`, `7d`, `2w`, anything
//!   `humantime` reads), a UTC date `YYYY-MM-DD` (from midnight UTC, the store's day
//!   boundary), or an RFC 3339 date/time (`2026-11-16T08:00:00Z`, `…+02:00`; no offset means
//!   UTC). A value that is none of these, or a time in the future, is a usage error (exit 2).
//! - `--dir`: the store to read, alone; otherwise the configured one (`HAN_METRICS_DIR`, else
//!   `metrics` in Han's data directory: `HAN_DATA_DIR`, else `$CLAUDE_CONFIG_DIR/han`, else
//!   `~/.han`; from the environment and the Claude Code settings files), with its fallback
//!   store and the places han-telemetry used before it followed Han's data directory
//!   (`han/metrics` and `han/metrics-fallback` under `$CLAUDE_CONFIG_DIR` or `~/.claude`),
//!   where they exist. No directory at all is a usage error (exit 2). A store turned
//!   off with `HAN_METRICS_STORE=off` is still read (it may hold older records) and the report
//!   says that it is off.
//!
//! Han moves `~/.claude/han` to `~/.han` once, whenever one of its commands first needs its
//! data, and may do so while a report reads. The older places are read first, and a record
//! met again in the store (by its unique `id`) is counted once: a record moved meanwhile is
//! never counted twice nor missed (a file moved between being listed and being opened shows
//! as unreadable in `skipped`, and its records are counted from the store).
//! - `--json` (global): one JSON document instead of tables.
//!
//! Exit 0 whenever the store could be read, including an empty or missing store (the text then
//! says where the store is and how to produce records); 1 when the directory exists but cannot
//! be listed. Lines the reader cannot use (truncated, malformed, newer format, unknown kind),
//! foreign and unreadable files are never fatal: they are counted under `skipped`.
//!
//! # The numbers
//! - **Percentiles** of hook durations are *nearest rank*: the value at 1-based rank
//!   `ceil(p/100 × n)` of the sorted durations, always one observed duration (no
//!   interpolation). p50 of 4 runs is the 2nd smallest, p95 of fewer than 20 runs is the maximum.
//! - **Success rates** are fractions in `[0, 1]` (text shows percentages).
//! - **Calibration score** (Han's definition): `1 - mean|confidence - outcome|` over the tasks
//!   that reported a confidence, where outcome is 1 for `success` and 0 otherwise, so a
//!   `partial` task counts as not succeeded. 1 is perfect, `null` when no task gave a
//!   confidence. Tasks without one count in `count` and `outcomes` only.
//! - **Confidence buckets**: `floor(confidence × 10) / 10` (0.0 … 0.9, and 1.0 for exactly 1),
//!   with the tasks in each and the share that succeeded (same rule: `partial` is not success).
//!   Only non-empty buckets are listed.
//! - **Days** are UTC days, like the store's files.
//!
//! # JSON (`report_version` 1)
//! Field names are stable; a change of meaning or a removal bumps `report_version`, additions
//! do not. Groups are sorted by their key. Times are RFC 3339 UTC with milliseconds.
//!
//! ```text
//! report_version     1
//! dir                the store read
//! since, until       the window (until = when the report ran)
//! records            records in the window
//! sessions_started   session_start records
//! hooks[]            hook_name, hook_type, runs, succeeded, failed, success_rate,
//!                    duration_ms {p50, p95, max}, last_failure (time or null),
//!                    daily[] {day "YYYY-MM-DD", runs, failures} (days with runs only)
//! plugins[]          plugin_name, scope, installs {succeeded, failed},
//!                    uninstalls {succeeded, failed}
//! tasks              all: TASK, by_type[]: TASK with task_type, where TASK is
//!                    count, outcomes {success, partial, failure, other},
//!                    with_confidence, calibration_score (number or null),
//!                    confidence_buckets[] {bucket, count, successes, success_rate}
//! validations[]      validation_type, runs, passed, failed, errors_total, errors_mean
//! mcp_tools[]        tool_name, calls, succeeded, failed, success_rate
//! frustration[]      level, count, with_score, score_mean (number or null)
//! skipped            lines (sum of the five line counts), truncated, malformed,
//!                    oversized (lines over 1 MiB), future_version, unknown_kind,
//!                    foreign_files[] (paths), unreadable_files[] {path, error} (the
//!                    first 100 of each), unlisted_files (the rest, counted)
//! fallback_dir       the fallback store also read (hooks write there while the store is
//!                    not safe to use), or null
//! legacy_dirs[]      the places han-telemetry used before it followed Han's data
//!                    directory, also read (those that exist)
//! ```

pub(crate) mod since;
mod stats;
mod text;

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::SystemTime;

use clap::Args;
use han_telemetry::config::Config;

use crate::error::CliError;
use crate::output::{print, print_json, printable};

/// `report`: hooks, plugins, tasks, validations, MCP tools and frustration from the local
/// metrics store.
#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    /// Start of the window: a duration back from now (`30m`, `24h`, `7d`, `2w`), a UTC date
    /// (`2026-11-16`) or an RFC 3339 time (`2026-11-16T08:00:00Z`, `...+02:00`).
    #[arg(long, value_name = "WHEN", default_value = "7d", value_parser = since::parse)]
    pub(crate) since: since::Since,

    /// The store directory to read, alone (default: HAN_METRICS_DIR, else metrics in Han's
    /// data directory, ~/.han/metrics, with the fallback and older places).
    #[arg(long, value_name = "DIR")]
    pub(crate) dir: Option<PathBuf>,
}

/// Runs `report`.
pub(crate) fn run(args: &ReportArgs, json: bool) -> Result<ExitCode, CliError> {
    // A clock before 1970 or past 9999 reads as the nearest time the store can write.
    let until = han_telemetry::store::clamp_time(SystemTime::now());
    let since = args.since.resolve(until);
    if since > until {
        return Err(CliError::Usage(format!(
            "--since {} is in the future; nothing can have been recorded after it",
            stats::timestamp(since)
        )));
    }
    let store = match &args.dir {
        Some(dir) => Store::only(dir.clone()),
        None => configured_store()?,
    };
    let Store {
        dir,
        note,
        fallback,
        legacy,
    } = store.existing();
    let mut summary = stats::Summary::default();
    let mut skipped = han_telemetry::store::Skipped::default();
    // The older places first, so that a record Han moves from there into the store while
    // this reads is met again below, and dropped by its id, rather than missed.
    let mut seen: HashSet<String> = HashSet::new();
    for legacy in &legacy {
        match han_telemetry::store::scan_each(legacy, since, |r| {
            seen.insert(r.id.to_string());
            summary.add(&r);
        }) {
            Ok(also) => merge_skipped(&mut skipped, also),
            Err(e) => skipped
                .unreadable_files
                .push((legacy.clone(), e.to_string())),
        }
    }
    let mut add = |r: han_telemetry::store::Record<'static>| {
        if seen.is_empty() || !seen.contains(r.id.as_ref()) {
            summary.add(&r);
        }
    };
    match han_telemetry::store::scan_each(&dir, since, &mut add) {
        Ok(also) => merge_skipped(&mut skipped, also),
        // The store is unusable (that is why there is a fallback): say so, read the rest.
        Err(e) if fallback.is_some() || !legacy.is_empty() => {
            skipped.unreadable_files.push((dir.clone(), e.to_string()));
        }
        Err(e) => return Err(cannot_read(&dir, &e)),
    }
    // Records a hook kept in the fallback while the store could not be used safely.
    if let Some(fallback) = &fallback {
        let also = han_telemetry::store::scan_each(fallback, since, &mut add)
            .map_err(|e| cannot_read(fallback, &e))?;
        merge_skipped(&mut skipped, also);
    }
    let mut report = summary.finish(&skipped, &dir.display().to_string(), since, until);
    report.fallback_dir = fallback.as_ref().map(|f| f.display().to_string());
    report.legacy_dirs = legacy.iter().map(|d| d.display().to_string()).collect();
    if json {
        if let Some(note) = &note {
            eprintln!("han-telemetry: {note}");
        }
        print_json(&report)?;
    } else {
        let heading = text::Heading {
            span: args.since.span_text(),
            note,
            dir_exists: dir.is_dir(),
            since,
            until,
        };
        print(&text::render(&report, &heading))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn cannot_read(dir: &std::path::Path, e: &std::io::Error) -> CliError {
    CliError::Failed(format!(
        "cannot read the metrics store {}: {e}",
        printable(&dir.display().to_string())
    ))
}

fn merge_skipped(into: &mut han_telemetry::store::Skipped, from: han_telemetry::store::Skipped) {
    into.truncated += from.truncated;
    into.malformed += from.malformed;
    into.oversized += from.oversized;
    into.future_version += from.future_version;
    into.unknown_kind += from.unknown_kind;
    into.foreign_files.extend(from.foreign_files);
    into.unreadable_files.extend(from.unreadable_files);
    into.unlisted_files += from.unlisted_files;
}

/// The store to read: its directory, a note when the store is turned off, and the other
/// directories that hold its records.
pub(crate) struct Store {
    /// The store.
    pub(crate) dir: PathBuf,
    /// Said first: the store is turned off.
    pub(crate) note: Option<String>,
    /// Where hooks write while the store is not safe to use.
    pub(crate) fallback: Option<PathBuf>,
    /// Where han-telemetry kept the store before it followed Han's data directory.
    pub(crate) legacy: Vec<PathBuf>,
}

impl Store {
    /// `dir` alone (`--dir`).
    pub(crate) fn only(dir: PathBuf) -> Store {
        Store {
            dir,
            note: None,
            fallback: None,
            legacy: Vec::new(),
        }
    }

    /// The same, with only the other directories that exist.
    pub(crate) fn existing(self) -> Store {
        Store {
            fallback: self.fallback.filter(|f| f.is_dir()),
            legacy: self.legacy.into_iter().filter(|d| d.is_dir()).collect(),
            ..self
        }
    }
}

/// The configured store, from the environment and Claude Code's settings files.
pub(crate) fn configured_store() -> Result<Store, CliError> {
    let config = Config::from_env();
    let Some(dir) = config.store.dir.clone() else {
        return Err(CliError::Usage(
            "no metrics store directory: neither HAN_METRICS_DIR nor HAN_DATA_DIR is set, and \
             neither CLAUDE_CONFIG_DIR nor HOME is, so there is no ~/.han; pass --dir DIR"
                .to_owned(),
        ));
    };
    let note = (!config.store.enabled).then(|| {
        let from = config
            .source_of(han_telemetry::config::vars::METRICS_STORE.name)
            .map_or_else(String::new, |source| format!(" (from the {source})"));
        format!(
            "note: the local metrics store is turned off by HAN_METRICS_STORE{from}, so nothing \
             new is recorded; this report shows what {} already holds",
            printable(&dir.display().to_string())
        )
    });
    let fallback = config.store.fallback_dir.clone().filter(|f| *f != dir);
    Ok(Store {
        dir,
        note,
        fallback,
        legacy: config.store.legacy_dirs,
    })
}
