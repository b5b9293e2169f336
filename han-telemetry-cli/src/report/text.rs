//! The report as terminal tables, with per-day sparklines for hooks.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use super::stats::{BucketStats, HookStats, Report, SkippedStats, TaskStats, day_name, epoch_day};
use crate::output::{Table, millis, printable};

/// Sparkline levels, lowest first.
const LEVELS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
/// A slot of the chart without runs.
const EMPTY: char = '·';
/// The widest chart; longer windows put several days in one column.
const MAX_SLOTS: u64 = 31;

/// The columns of the per-hook charts: the window's UTC days, grouped when there are many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Slots {
    /// The window's first UTC day.
    pub(crate) first_day: u64,
    /// Days per column.
    pub(crate) days_per_slot: u64,
    /// Columns.
    pub(crate) count: u64,
}

impl Slots {
    /// Columns for the days `first_day..=last_day`.
    pub(crate) fn new(first_day: u64, last_day: u64) -> Slots {
        let days = last_day.saturating_sub(first_day) + 1;
        let days_per_slot = days.div_ceil(MAX_SLOTS);
        Slots {
            first_day,
            days_per_slot,
            count: days.div_ceil(days_per_slot),
        }
    }

    /// The column of a day; days after the window (a clock ahead) go in the last one.
    fn of(self, day: u64) -> usize {
        let slot = (day.saturating_sub(self.first_day) / self.days_per_slot).min(self.count - 1);
        usize::try_from(slot).unwrap_or(usize::MAX)
    }
}

/// `values` as a sparkline scaled to `max` (at least one level for any non-zero value,
/// `·` for zero), so that runs and failures drawn with the same `max` compare by height.
pub(crate) fn sparkline(values: &[u64], max: u64) -> String {
    values
        .iter()
        .map(|&v| {
            if v == 0 || max == 0 {
                return EMPTY;
            }
            // ceil(v / max × 8) in 1..=8.
            let level = (v.min(max) * 8).div_ceil(max).clamp(1, 8);
            LEVELS[usize::try_from(level - 1).unwrap_or(7)]
        })
        .collect()
}

/// Per-column runs and failures of a hook.
fn hook_series(hook: &HookStats, slots: Slots) -> (Vec<u64>, Vec<u64>) {
    let n = usize::try_from(slots.count).unwrap_or(1);
    let (mut runs, mut failures) = (vec![0; n], vec![0; n]);
    for day in &hook.daily {
        let slot = slots.of(day.epoch_day);
        runs[slot] += day.runs;
        failures[slot] += day.failures;
    }
    (runs, failures)
}

fn percent(rate: f64) -> String {
    let p = rate * 100.0;
    if p == 100.0 || p == 0.0 {
        format!("{p:.0}%")
    } else {
        format!("{p:.1}%")
    }
}

fn ms(value: f64) -> String {
    match Duration::try_from_secs_f64(value / 1000.0) {
        Ok(d) => millis(d),
        Err(_) => format!("{value} ms"),
    }
}

/// `2026-11-23T16:23:30.123Z` → `2026-11-23 16:23Z`.
fn short_time(stamp: &str) -> String {
    match (stamp.get(..10), stamp.get(11..16)) {
        (Some(date), Some(time)) => format!("{date} {time}Z"),
        _ => stamp.to_owned(),
    }
}

/// A bar of `width` cells for a rate in `[0, 1]`, in eighths.
fn bar(rate: f64, width: usize) -> String {
    const PARTS: [char; 8] = ['▏', '▎', '▍', '▌', '▋', '▊', '▉', '█'];
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let eighths = (rate.clamp(0.0, 1.0) * (width * 8) as f64).round() as usize;
    let mut out = "█".repeat(eighths / 8);
    if let Some(part) = (eighths % 8).checked_sub(1) {
        out.push(PARTS[part]);
    }
    out
}

/// What the report says about where the window and the store are, first thing.
#[derive(Debug)]
pub(crate) struct Heading<'a> {
    /// `7d`, when `--since` was a duration.
    pub(crate) span: Option<&'a str>,
    /// A note to show before everything (the store is off).
    pub(crate) note: Option<String>,
    /// Whether the store directory exists.
    pub(crate) dir_exists: bool,
    /// The window the report covers.
    pub(crate) since: SystemTime,
    /// The end of the window (now).
    pub(crate) until: SystemTime,
}

/// The whole report as text.
pub(crate) fn render(report: &Report, heading: &Heading<'_>) -> String {
    let mut out = String::new();
    if let Some(note) = &heading.note {
        let _ = writeln!(out, "{note}\n");
    }
    let since = short_time(&report.since);
    let window = match heading.span {
        Some(span) => format!("in the last {span} (since {since})"),
        None => format!("since {since}"),
    };
    let dir = printable(&report.dir);
    if report.records == 0 {
        let missing = if heading.dir_exists {
            ""
        } else {
            " (the directory does not exist yet)"
        };
        let _ = writeln!(
            out,
            "No Han metrics recorded {window} in {dir}{missing}.\n\
             Hooks and plugins built with han-telemetry add records there as they run \
             (unless HAN_METRICS_STORE=off); run a session with them, try a longer --since, \
             or point --dir (or HAN_METRICS_DIR) at another store."
        );
        let _ = write!(out, "\n{}", skipped(&report.skipped));
        return out;
    }
    let _ = writeln!(
        out,
        "Han metrics {window}, from {dir}\n{} record{}, sessions started: {}\n",
        report.records,
        if report.records == 1 { "" } else { "s" },
        report.sessions_started
    );
    if !report.hooks.is_empty() {
        out.push_str(&hooks(report, heading));
    }
    if !report.plugins.is_empty() {
        let mut t = Table::new(&[
            "PLUGIN",
            "SCOPE",
            "INSTALLED",
            "INSTALL FAILED",
            "UNINSTALLED",
            "UNINSTALL FAILED",
        ]);
        for p in &report.plugins {
            t.row(vec![
                short(&p.plugin_name),
                short(&p.scope),
                p.installs.succeeded.to_string(),
                p.installs.failed.to_string(),
                p.uninstalls.succeeded.to_string(),
                p.uninstalls.failed.to_string(),
            ]);
        }
        let _ = writeln!(out, "Plugins\n{}", t.render("  "));
    }
    if report.tasks.all.count > 0 {
        out.push_str(&tasks(report));
    }
    if !report.validations.is_empty() {
        let mut t = Table::new(&[
            "VALIDATION",
            "RUNS",
            "PASSED",
            "FAILED",
            "ERRORS",
            "MEAN ERRORS",
        ]);
        for v in &report.validations {
            t.row(vec![
                short(&v.validation_type),
                v.runs.to_string(),
                v.passed.to_string(),
                v.failed.to_string(),
                v.errors_total.to_string(),
                format!("{:.1}", v.errors_mean),
            ]);
        }
        let _ = writeln!(out, "Validations\n{}", t.render("  "));
    }
    if !report.mcp_tools.is_empty() {
        let mut t = Table::new(&["MCP TOOL", "CALLS", "FAILED", "SUCCESS"]);
        for m in &report.mcp_tools {
            t.row(vec![
                short(&m.tool_name),
                m.calls.to_string(),
                m.failed.to_string(),
                percent(m.success_rate),
            ]);
        }
        let _ = writeln!(out, "MCP tools\n{}", t.render("  "));
    }
    if !report.frustration.is_empty() {
        let mut t = Table::new(&["FRUSTRATION", "EVENTS", "MEAN SCORE"]);
        for f in &report.frustration {
            t.row(vec![
                short(&f.level),
                f.count.to_string(),
                f.score_mean
                    .map_or_else(|| "-".to_owned(), |s| format!("{s:.2}")),
            ]);
        }
        let _ = writeln!(out, "Frustration\n{}", t.render("  "));
    }
    if let Some(fallback) = &report.fallback_dir {
        let _ = writeln!(
            out,
            "Also read: {} (where hooks keep records while the store is not safe to use)\n",
            printable(fallback)
        );
    }
    for legacy in &report.legacy_dirs {
        let _ = writeln!(
            out,
            "Also read: {} (where han-telemetry kept records before it followed Han's data \
             directory)\n",
            printable(legacy)
        );
    }
    out.push_str(&skipped(&report.skipped));
    out
}

fn hooks(report: &Report, heading: &Heading<'_>) -> String {
    let first = epoch_day(heading.since);
    let last = epoch_day(heading.until).max(first);
    let slots = Slots::new(first, last);
    // One column says nothing about a trend: no chart for a window inside one day.
    let chart = slots.count > 1;
    let per = if slots.days_per_slot == 1 {
        "DAY".to_owned()
    } else {
        format!("{} DAYS", slots.days_per_slot)
    };
    let mut header = vec![
        "HOOK",
        "TYPE",
        "RUNS",
        "FAILED",
        "SUCCESS",
        "P50",
        "P95",
        "MAX",
        "LAST FAILURE",
    ];
    let (runs_head, fail_head) = (format!("RUNS/{per}"), format!("FAILED/{per}"));
    if chart {
        header.extend([runs_head.as_str(), fail_head.as_str()]);
    }
    let mut t = Table::new(&header);
    for h in &report.hooks {
        let mut row = vec![
            short(&h.hook_name),
            short(&h.hook_type),
            h.runs.to_string(),
            h.failed.to_string(),
            percent(h.success_rate),
            ms(h.duration_ms.p50),
            ms(h.duration_ms.p95),
            ms(h.duration_ms.max),
            h.last_failure
                .as_deref()
                .map_or_else(|| "-".to_owned(), short_time),
        ];
        if chart {
            let (runs, failures) = hook_series(h, slots);
            let max = runs.iter().copied().max().unwrap_or(0);
            row.push(sparkline(&runs, max));
            row.push(sparkline(&failures, max));
        }
        t.row(row);
    }
    let mut out = format!("Hooks\n{}", t.render("  "));
    if chart {
        let _ = writeln!(
            out,
            "  charts: one column per {} UTC, {} to {}, oldest left; {EMPTY} none; \
             both charts share each hook's scale",
            per.to_lowercase(),
            day_name(first),
            day_name(last),
        );
    }
    let _ = writeln!(out, "  percentiles: nearest rank");
    out.push('\n');
    out
}

fn tasks(report: &Report) -> String {
    let mut t = Table::new(&[
        "TASK TYPE",
        "TASKS",
        "SUCCESS",
        "PARTIAL",
        "FAILURE",
        "OTHER",
        "CALIBRATION",
        "WITH CONFIDENCE",
    ]);
    let all = &report.tasks.all;
    let several = report.tasks.by_type.len() > 1;
    let rows = report.tasks.by_type.iter().chain(several.then_some(all));
    for task in rows {
        t.row(vec![
            task.task_type
                .as_deref()
                .map_or_else(|| "(all)".to_owned(), short),
            task.count.to_string(),
            task.outcomes.success.to_string(),
            task.outcomes.partial.to_string(),
            task.outcomes.failure.to_string(),
            task.outcomes.other.to_string(),
            task.calibration_score
                .map_or_else(|| "-".to_owned(), |s| format!("{s:.3}")),
            task.with_confidence.to_string(),
        ]);
    }
    let mut out = format!("Tasks\n{}", t.render("  "));
    let _ = writeln!(
        out,
        "  calibration: 1 - mean|confidence - outcome|, outcome 1 for success and 0 for partial \
         or failure (as Han scores it); 1.000 is perfect\n"
    );
    if all.with_confidence > 0 {
        let mut t = Table::new(&[
            "TASK TYPE",
            "CONFIDENCE",
            "TASKS",
            "SUCCEEDED",
            "OBSERVED",
            "",
        ]);
        for task in report.tasks.by_type.iter().chain(several.then_some(all)) {
            bucket_rows(&mut t, task);
        }
        let _ = writeln!(
            out,
            "Confidence buckets (floor(confidence*10)/10; a calibrated task succeeds about as \
             often as its bucket says)\n{}",
            t.render("  ")
        );
    }
    out
}

fn bucket_rows(t: &mut Table, task: &TaskStats) {
    let name = task
        .task_type
        .as_deref()
        .map_or_else(|| "(all)".to_owned(), short);
    for BucketStats {
        bucket,
        count,
        successes,
        success_rate,
    } in &task.confidence_buckets
    {
        t.row(vec![
            name.clone(),
            format!("{bucket:.1}"),
            count.to_string(),
            successes.to_string(),
            percent(*success_rate),
            bar(*success_rate, 10),
        ]);
    }
}

/// Names are printed at most this long: a store may hold names of any length (up to the
/// 1 MiB line limit), and a report must stay readable and bounded.
const MAX_NAME_CHARS: usize = 120;

/// `name`, cut to [`MAX_NAME_CHARS`] characters with an ellipsis.
fn short(name: &str) -> String {
    match name.char_indices().nth(MAX_NAME_CHARS) {
        None => name.to_owned(),
        Some((end, _)) => format!("{}…", &name[..end]),
    }
}

fn skipped(s: &SkippedStats) -> String {
    let mut out = String::from("Skipped\n");
    if *s == SkippedStats::default() {
        out.push_str("  nothing: every line of every day file in the window was read\n");
        return out;
    }
    let mut t = Table::new(&["WHAT", "COUNT"]);
    for (what, count) in [
        (
            "truncated last lines (a writer stopped mid-write)",
            s.truncated,
        ),
        ("malformed lines", s.malformed),
        ("lines over the 1 MiB line limit (not read)", s.oversized),
        (
            "records of a newer format version (upgrade han-telemetry)",
            s.future_version,
        ),
        ("records of an unknown kind", s.unknown_kind),
        ("files that are not day files", s.foreign_files.len()),
        ("unreadable day files", s.unreadable_files.len()),
        ("more files not listed", s.unlisted_files),
    ] {
        if count > 0 {
            t.row(vec![what.to_owned(), count.to_string()]);
        }
    }
    out.push_str(&t.render("  "));
    for f in &s.foreign_files {
        let _ = writeln!(out, "  not a day file: {}", short(&printable(f)));
    }
    for f in &s.unreadable_files {
        let _ = writeln!(
            out,
            "  cannot read {}: {}",
            short(&printable(&f.path)),
            short(&printable(&f.error))
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparklines_scale_to_the_maximum_and_mark_empty_days() {
        assert_eq!(sparkline(&[0, 1, 4, 8], 8), "·▁▄█");
        assert_eq!(sparkline(&[1, 100], 100), "▁█");
        assert_eq!(sparkline(&[0, 0], 0), "··");
        assert_eq!(sparkline(&[5], 5), "█");
        assert_eq!(sparkline(&[0, 1, 0], 100), "·▁·");
    }

    #[test]
    fn slots_cover_the_window_and_group_long_ones() {
        let week = Slots::new(100, 107);
        assert_eq!((week.days_per_slot, week.count), (1, 8));
        assert_eq!((week.of(100), week.of(107), week.of(200)), (0, 7, 7));
        let one = Slots::new(100, 100);
        assert_eq!(one.count, 1);
        let year = Slots::new(0, 364);
        assert_eq!(year.days_per_slot, 12);
        assert!(year.count <= MAX_SLOTS);
        assert_eq!(year.of(364), usize::try_from(year.count).unwrap() - 1);
    }

    #[test]
    fn small_helpers_read_naturally() {
        assert_eq!(percent(1.0), "100%");
        assert_eq!(percent(0.0), "0%");
        assert_eq!(percent(2.0 / 3.0), "66.7%");
        assert_eq!(short_time("2026-11-23T16:23:30.123Z"), "2026-11-23 16:23Z");
        assert_eq!(bar(1.0, 10), "██████████");
        assert_eq!(bar(0.0, 10), "");
        assert_eq!(bar(0.5, 2), "█");
        assert_eq!(bar(0.0625, 2), "▏");
        assert_eq!(ms(12.4), "12 ms");
        assert_eq!(ms(-3.0), "-3 ms");
    }
}
