//! The numbers of a report: records of a scan folded into per-group statistics.
//!
//! Everything here is pure (no clock, no disk), so each rule has a unit test.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

#[cfg(test)]
use han_telemetry::store::Scan;
use han_telemetry::store::{Entry, Record, Skipped};
use serde::Serialize;

/// The version of the JSON document's shape; bumped when a field changes meaning or goes.
pub(crate) const REPORT_VERSION: u32 = 1;

const SECONDS_PER_DAY: u64 = 86_400;

/// The whole report, as printed by `--json`.
#[derive(Debug, Serialize)]
pub(crate) struct Report {
    pub(crate) report_version: u32,
    pub(crate) dir: String,
    pub(crate) since: String,
    pub(crate) until: String,
    pub(crate) records: usize,
    pub(crate) sessions_started: u64,
    pub(crate) hooks: Vec<HookStats>,
    pub(crate) plugins: Vec<PluginStats>,
    pub(crate) tasks: Tasks,
    pub(crate) validations: Vec<ValidationStats>,
    pub(crate) mcp_tools: Vec<McpToolStats>,
    pub(crate) frustration: Vec<FrustrationStats>,
    pub(crate) skipped: SkippedStats,
    /// The fallback store, when it was read too.
    pub(crate) fallback_dir: Option<String>,
    /// Where han-telemetry kept the store before it followed Han's data directory, when
    /// those directories exist and were read too.
    pub(crate) legacy_dirs: Vec<String>,
}

/// One hook (`hook_name` + `hook_type`).
#[derive(Debug, Serialize)]
pub(crate) struct HookStats {
    pub(crate) hook_name: String,
    pub(crate) hook_type: String,
    pub(crate) runs: u64,
    pub(crate) succeeded: u64,
    pub(crate) failed: u64,
    pub(crate) success_rate: f64,
    pub(crate) duration_ms: Durations,
    /// RFC 3339 UTC with milliseconds; `null` when it never failed in the window.
    pub(crate) last_failure: Option<String>,
    /// Days with runs, oldest first.
    pub(crate) daily: Vec<DayCount>,
}

/// Nearest-rank percentiles and the maximum of a hook's durations, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub(crate) struct Durations {
    pub(crate) p50: f64,
    pub(crate) p95: f64,
    pub(crate) max: f64,
}

/// Runs and failures of a hook on one UTC day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct DayCount {
    /// `YYYY-MM-DD`.
    pub(crate) day: String,
    /// Days since 1970-01-01; for charts, not in the JSON.
    #[serde(skip)]
    pub(crate) epoch_day: u64,
    pub(crate) runs: u64,
    pub(crate) failures: u64,
}

/// One plugin in one scope.
#[derive(Debug, Serialize)]
pub(crate) struct PluginStats {
    pub(crate) plugin_name: String,
    pub(crate) scope: String,
    pub(crate) installs: Outcomes,
    pub(crate) uninstalls: Outcomes,
}

/// How many attempts succeeded and failed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Outcomes {
    pub(crate) succeeded: u64,
    pub(crate) failed: u64,
}

/// Tasks over all types and by type.
#[derive(Debug, Serialize)]
pub(crate) struct Tasks {
    pub(crate) all: TaskStats,
    pub(crate) by_type: Vec<TaskStats>,
}

/// Tasks of one type (or all of them: `task_type` is then absent).
#[derive(Debug, Default, Serialize)]
pub(crate) struct TaskStats {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) task_type: Option<String>,
    pub(crate) count: u64,
    pub(crate) outcomes: TaskOutcomes,
    /// Tasks that gave a confidence: the ones the calibration and buckets cover.
    pub(crate) with_confidence: u64,
    /// `1 - mean|confidence - (outcome == success ? 1 : 0)|`; `null` without confidences.
    pub(crate) calibration_score: Option<f64>,
    /// Non-empty buckets, lowest first.
    pub(crate) confidence_buckets: Vec<BucketStats>,
}

/// Tasks by outcome. `other` counts outcomes this version does not know.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub(crate) struct TaskOutcomes {
    pub(crate) success: u64,
    pub(crate) partial: u64,
    pub(crate) failure: u64,
    pub(crate) other: u64,
}

/// Tasks whose confidence rounds down to `bucket`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct BucketStats {
    /// `floor(confidence * 10) / 10`: 0.0, 0.1, … 0.9, 1.0.
    pub(crate) bucket: f64,
    pub(crate) count: u64,
    pub(crate) successes: u64,
    pub(crate) success_rate: f64,
}

/// One validation type.
#[derive(Debug, Serialize)]
pub(crate) struct ValidationStats {
    pub(crate) validation_type: String,
    pub(crate) runs: u64,
    pub(crate) passed: u64,
    pub(crate) failed: u64,
    pub(crate) errors_total: u64,
    pub(crate) errors_mean: f64,
}

/// One MCP tool.
#[derive(Debug, Serialize)]
pub(crate) struct McpToolStats {
    pub(crate) tool_name: String,
    pub(crate) calls: u64,
    pub(crate) succeeded: u64,
    pub(crate) failed: u64,
    pub(crate) success_rate: f64,
}

/// Frustration events of one level.
#[derive(Debug, Serialize)]
pub(crate) struct FrustrationStats {
    pub(crate) level: String,
    pub(crate) count: u64,
    /// Events that carried a score: the ones `score_mean` covers.
    pub(crate) with_score: u64,
    pub(crate) score_mean: Option<f64>,
}

/// What the scan could not read.
#[derive(Debug, Default, PartialEq, Eq, Serialize)]
pub(crate) struct SkippedStats {
    /// Skipped lines, all reasons together.
    pub(crate) lines: usize,
    pub(crate) truncated: usize,
    pub(crate) malformed: usize,
    pub(crate) future_version: usize,
    pub(crate) unknown_kind: usize,
    /// Lines over the store's line limit (1 MiB), not read.
    pub(crate) oversized: usize,
    pub(crate) foreign_files: Vec<String>,
    pub(crate) unreadable_files: Vec<UnreadableFile>,
    /// Foreign and unreadable files past the first 100 of each: counted, not listed.
    pub(crate) unlisted_files: usize,
}

/// A day file that could not be read.
#[derive(Debug, PartialEq, Eq, Serialize)]
pub(crate) struct UnreadableFile {
    pub(crate) path: String,
    pub(crate) error: String,
}

/// The nearest-rank percentile `p` (0 < p ≤ 100) of `sorted` (ascending): the smallest value
/// with at least `p`% of the values at or below it, i.e. the value at rank `ceil(p/100 × n)`
/// (1-based, at least 1). Always one of the values, never interpolated; `None` when empty.
pub(crate) fn nearest_rank(sorted: &[f64], p: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    // `p / 100 × n` in integers where possible, so 95% of 20 is rank 19, not 19.000000000000004.
    #[allow(clippy::cast_precision_loss)]
    let exact = p * n as f64 / 100.0;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let rank = (exact - 1e-9).ceil().max(1.0) as usize;
    sorted.get(rank.min(n) - 1).copied()
}

/// The outcome a confidence is scored against, as Han does (`success ? 1 : 0`): only
/// `success` is 1; `partial`, `failure` and anything else are 0.
pub(crate) fn outcome_value(outcome: &str) -> f64 {
    if outcome == "success" { 1.0 } else { 0.0 }
}

/// `1 - mean|confidence - outcome|` over `(confidence, outcome value)` pairs; `None` when
/// there are none. 1 is perfect calibration, 0 the worst possible.
pub(crate) fn calibration_score(pairs: impl IntoIterator<Item = (f64, f64)>) -> Option<f64> {
    let mut sum = 0.0;
    let mut n = 0_u32;
    for (confidence, outcome) in pairs {
        sum += (confidence - outcome).abs();
        n += 1;
    }
    (n > 0).then(|| 1.0 - sum / f64::from(n))
}

/// The bucket of a confidence as a tenth index, `floor(c × 10)` clamped to `0..=10` (Han's
/// `floor(c*10)/10`, the same rule as [`han_telemetry::catalogue::tenth_bucket`]).
pub(crate) fn bucket_index(confidence: f64) -> usize {
    let tenth = (confidence.clamp(0.0, 1.0) * 10.0).floor();
    // In 0.0..=10.0, so the cast is exact.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let index = tenth as usize;
    index.min(10)
}

/// Days since 1970-01-01 (UTC).
pub(crate) fn epoch_day(ts: SystemTime) -> u64 {
    han_telemetry::store::clamp_time(ts)
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / SECONDS_PER_DAY)
}

/// `YYYY-MM-DD` of an epoch day (never panics, whatever the number).
pub(crate) fn day_name(day: u64) -> String {
    han_telemetry::store::day_name(day)
}

/// RFC 3339 UTC with milliseconds, the store's own format (clamped to what it can write).
pub(crate) fn timestamp(ts: SystemTime) -> String {
    han_telemetry::store::timestamp(ts)
}

fn rate(part: u64, whole: u64) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

#[derive(Default)]
struct HookAcc {
    succeeded: u64,
    failed: u64,
    durations: Vec<f64>,
    last_failure: Option<SystemTime>,
    days: BTreeMap<u64, (u64, u64)>,
}

#[derive(Default)]
struct TaskAcc {
    outcomes: TaskOutcomes,
    /// (confidence, outcome value)
    scored: Vec<(f64, f64)>,
}

impl TaskAcc {
    fn add(&mut self, outcome: &str, confidence: Option<f64>) {
        match outcome {
            "success" => self.outcomes.success += 1,
            "partial" => self.outcomes.partial += 1,
            "failure" => self.outcomes.failure += 1,
            _ => self.outcomes.other += 1,
        }
        if let Some(c) = confidence.filter(|c| !c.is_nan()) {
            self.scored
                .push((c.clamp(0.0, 1.0), outcome_value(outcome)));
        }
    }

    fn finish(self, task_type: Option<String>) -> TaskStats {
        let o = self.outcomes;
        let mut buckets = [(0_u64, 0_u64); 11];
        for &(c, outcome) in &self.scored {
            let b = &mut buckets[bucket_index(c)];
            b.0 += 1;
            if outcome == 1.0 {
                b.1 += 1;
            }
        }
        let confidence_buckets = buckets
            .iter()
            .enumerate()
            .filter(|(_, (count, _))| *count > 0)
            .map(|(i, &(count, successes))| BucketStats {
                #[allow(clippy::cast_precision_loss)]
                bucket: i as f64 / 10.0,
                count,
                successes,
                success_rate: rate(successes, count),
            })
            .collect();
        TaskStats {
            task_type,
            count: o.success + o.partial + o.failure + o.other,
            outcomes: o,
            with_confidence: self.scored.len() as u64,
            calibration_score: calibration_score(self.scored.iter().copied()),
            confidence_buckets,
        }
    }
}

#[derive(Default)]
struct ValidationAcc {
    passed: u64,
    failed: u64,
    errors: u64,
}

#[derive(Default)]
struct FrustrationAcc {
    count: u64,
    scores: u64,
    sum: f64,
}

/// Folds the records of `scan` (already limited to the window) into a report.
#[cfg(test)]
pub(crate) fn summarize(scan: &Scan, dir: &str, since: SystemTime, until: SystemTime) -> Report {
    let mut summary = Summary::default();
    for record in &scan.records {
        summary.add(record);
    }
    summary.finish(&scan.skipped, dir, since, until)
}

/// A report being folded, one record at a time: what it keeps is a counter per group (and
/// a hook's durations, for its percentiles), never the records.
#[derive(Default)]
pub(crate) struct Summary {
    records: usize,
    hooks: BTreeMap<(String, String), HookAcc>,
    plugins: BTreeMap<(String, String), (Outcomes, Outcomes)>,
    tasks: BTreeMap<String, TaskAcc>,
    all_tasks: TaskAcc,
    validations: BTreeMap<String, ValidationAcc>,
    tools: BTreeMap<String, Outcomes>,
    frustration: BTreeMap<String, FrustrationAcc>,
    sessions_started: u64,
}

/// The group of `key` in `map`, created on first use.
fn group<'m, V: Default>(map: &'m mut BTreeMap<String, V>, key: &str) -> &'m mut V {
    map.entry(key.to_owned()).or_default()
}

fn pair_group<'m, V: Default>(
    map: &'m mut BTreeMap<(String, String), V>,
    a: &str,
    b: &str,
) -> &'m mut V {
    map.entry((a.to_owned(), b.to_owned())).or_default()
}

impl Summary {
    /// Counts one record (already within the window).
    pub(crate) fn add(&mut self, record: &Record<'_>) {
        let Record { ts, entry, .. } = record;
        self.records += 1;
        match entry {
            Entry::Hook {
                hook_name,
                hook_type,
                success,
                duration_ms,
            } => {
                let acc = pair_group(&mut self.hooks, hook_name, hook_type);
                let day = acc.days.entry(epoch_day(*ts)).or_default();
                day.0 += 1;
                if *success {
                    acc.succeeded += 1;
                } else {
                    acc.failed += 1;
                    day.1 += 1;
                    acc.last_failure = acc.last_failure.max(Some(*ts));
                }
                acc.durations.push(*duration_ms);
            }
            Entry::PluginInstall {
                plugin_name,
                scope,
                success,
            } => count(
                &mut pair_group(&mut self.plugins, plugin_name, scope).0,
                *success,
            ),
            Entry::PluginUninstall {
                plugin_name,
                scope,
                success,
            } => count(
                &mut pair_group(&mut self.plugins, plugin_name, scope).1,
                *success,
            ),
            Entry::Task {
                task_type,
                outcome,
                confidence,
            } => {
                group(&mut self.tasks, task_type).add(outcome, *confidence);
                self.all_tasks.add(outcome, *confidence);
            }
            Entry::Validation {
                validation_type,
                passed,
                error_count,
            } => {
                let acc = group(&mut self.validations, validation_type);
                if *passed {
                    acc.passed += 1;
                } else {
                    acc.failed += 1;
                }
                acc.errors = acc.errors.saturating_add(*error_count);
            }
            Entry::McpToolCall { tool_name, success } => {
                count(group(&mut self.tools, tool_name), *success);
            }
            Entry::SessionStart {} => self.sessions_started += 1,
            Entry::Frustration { level, score } => {
                let acc = group(&mut self.frustration, level);
                acc.count += 1;
                if let Some(score) = score.filter(|s| !s.is_nan()) {
                    acc.scores += 1;
                    acc.sum += score;
                }
            }
            // A kind added to the library after this report was written: the reader only
            // returns kinds it knows, so there is nothing to count it under yet.
            _ => {}
        }
    }

    /// The report of everything added.
    pub(crate) fn finish(
        self,
        skipped: &Skipped,
        dir: &str,
        since: SystemTime,
        until: SystemTime,
    ) -> Report {
        let Summary {
            records,
            hooks,
            plugins,
            tasks,
            all_tasks,
            validations,
            tools,
            frustration,
            sessions_started,
        } = self;
        Report {
            report_version: REPORT_VERSION,
            dir: dir.to_owned(),
            since: timestamp(since),
            until: timestamp(until),
            records,
            sessions_started,
            hooks: hooks
                .into_iter()
                .map(|((name, kind), acc)| hook_stats(name, kind, acc))
                .collect(),
            plugins: plugins
                .into_iter()
                .map(|((name, scope), (installs, uninstalls))| PluginStats {
                    plugin_name: name,
                    scope,
                    installs,
                    uninstalls,
                })
                .collect(),
            tasks: Tasks {
                all: all_tasks.finish(None),
                by_type: tasks
                    .into_iter()
                    .map(|(kind, acc)| acc.finish(Some(kind)))
                    .collect(),
            },
            validations: validations
                .into_iter()
                .map(|(kind, acc)| {
                    let runs = acc.passed + acc.failed;
                    #[allow(clippy::cast_precision_loss)]
                    let errors_mean = acc.errors as f64 / runs as f64;
                    ValidationStats {
                        validation_type: kind,
                        runs,
                        passed: acc.passed,
                        failed: acc.failed,
                        errors_total: acc.errors,
                        errors_mean,
                    }
                })
                .collect(),
            mcp_tools: tools
                .into_iter()
                .map(|(name, o)| McpToolStats {
                    tool_name: name,
                    calls: o.succeeded + o.failed,
                    succeeded: o.succeeded,
                    failed: o.failed,
                    success_rate: rate(o.succeeded, o.succeeded + o.failed),
                })
                .collect(),
            frustration: frustration
                .into_iter()
                .map(|(level, acc)| FrustrationStats {
                    level,
                    count: acc.count,
                    with_score: acc.scores,
                    #[allow(clippy::cast_precision_loss)]
                    score_mean: (acc.scores > 0).then(|| acc.sum / acc.scores as f64),
                })
                .collect(),
            skipped: skipped_stats(skipped),
            fallback_dir: None,
            legacy_dirs: Vec::new(),
        }
    }
}

fn count(outcomes: &mut Outcomes, success: bool) {
    if success {
        outcomes.succeeded += 1;
    } else {
        outcomes.failed += 1;
    }
}

fn hook_stats(name: String, kind: String, mut acc: HookAcc) -> HookStats {
    acc.durations.sort_unstable_by(f64::total_cmp);
    let pick = |p| nearest_rank(&acc.durations, p).unwrap_or(0.0);
    let runs = acc.succeeded + acc.failed;
    HookStats {
        hook_name: name,
        hook_type: kind,
        runs,
        succeeded: acc.succeeded,
        failed: acc.failed,
        success_rate: rate(acc.succeeded, runs),
        duration_ms: Durations {
            p50: pick(50.0),
            p95: pick(95.0),
            max: acc.durations.last().copied().unwrap_or(0.0),
        },
        last_failure: acc.last_failure.map(timestamp),
        daily: acc
            .days
            .into_iter()
            .map(|(day, (runs, failures))| DayCount {
                day: day_name(day),
                epoch_day: day,
                runs,
                failures,
            })
            .collect(),
    }
}

fn skipped_stats(skipped: &Skipped) -> SkippedStats {
    SkippedStats {
        lines: skipped.lines(),
        truncated: skipped.truncated,
        malformed: skipped.malformed,
        future_version: skipped.future_version,
        unknown_kind: skipped.unknown_kind,
        oversized: skipped.oversized,
        unlisted_files: skipped.unlisted_files,
        foreign_files: skipped
            .foreign_files
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
        unreadable_files: skipped
            .unreadable_files
            .iter()
            .map(|(path, error)| UnreadableFile {
                path: path.display().to_string(),
                error: error.clone(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;

    #[test]
    fn nearest_rank_picks_the_value_at_rank_ceil_p_n() {
        let one_to_twenty: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(nearest_rank(&one_to_twenty, 50.0), Some(10.0));
        assert_eq!(nearest_rank(&one_to_twenty, 95.0), Some(19.0));
        assert_eq!(nearest_rank(&one_to_twenty, 100.0), Some(20.0));
        assert_eq!(nearest_rank(&one_to_twenty, 5.0), Some(1.0));
        assert_eq!(nearest_rank(&one_to_twenty, 5.1), Some(2.0));
        // Wikipedia's example: 15, 20, 35, 40, 50.
        let w = [15.0, 20.0, 35.0, 40.0, 50.0];
        assert_eq!(nearest_rank(&w, 5.0), Some(15.0));
        assert_eq!(nearest_rank(&w, 30.0), Some(20.0));
        assert_eq!(nearest_rank(&w, 40.0), Some(20.0));
        assert_eq!(nearest_rank(&w, 50.0), Some(35.0));
        assert_eq!(nearest_rank(&w, 100.0), Some(50.0));
        // Small samples: p95 of fewer than 20 values is the maximum; p50 of an even count
        // is the lower middle value (no interpolation).
        assert_eq!(nearest_rank(&[1.0, 2.0, 3.0, 4.0], 50.0), Some(2.0));
        assert_eq!(nearest_rank(&[1.0, 2.0, 3.0, 4.0], 95.0), Some(4.0));
        assert_eq!(nearest_rank(&[7.5], 50.0), Some(7.5));
        assert_eq!(nearest_rank(&[7.5], 95.0), Some(7.5));
        assert_eq!(nearest_rank(&[], 50.0), None);
        // 100 values: rank 95 exactly, not 96 from floating error.
        let hundred: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(nearest_rank(&hundred, 95.0), Some(95.0));
        assert_eq!(nearest_rank(&hundred, 50.0), Some(50.0));
    }

    #[test]
    fn calibration_is_one_minus_mean_absolute_error_with_partial_as_zero() {
        assert_eq!(outcome_value("success"), 1.0);
        assert_eq!(outcome_value("partial"), 0.0);
        assert_eq!(outcome_value("failure"), 0.0);
        assert_eq!(outcome_value("unheard-of"), 0.0);
        assert_eq!(calibration_score([]), None);
        assert_eq!(calibration_score([(1.0, 1.0), (0.0, 0.0)]), Some(1.0));
        assert_eq!(calibration_score([(0.0, 1.0), (1.0, 0.0)]), Some(0.0));
        // |0.75-1| + |0.5-0| + |0.25-0| + |1-1| = 1.0, mean 0.25.
        assert_eq!(
            calibration_score([(0.75, 1.0), (0.5, 0.0), (0.25, 0.0), (1.0, 1.0)]),
            Some(0.75)
        );
    }

    #[test]
    fn buckets_round_down_to_tenths_like_the_library() {
        for c in [
            0.0, 0.05, 0.1, 0.19, 0.2, 0.3, 0.29999, 0.5, 0.6, 0.7, 0.73, 0.8, 0.9, 0.99, 1.0,
        ] {
            let index = bucket_index(c);
            #[allow(clippy::cast_precision_loss)]
            let shown = format!("{:.1}", index as f64 / 10.0);
            assert_eq!(shown, han_telemetry::catalogue::tenth_bucket(c), "{c}");
        }
        assert_eq!(bucket_index(1.0), 10);
        assert_eq!(bucket_index(0.999), 9);
        assert_eq!(bucket_index(2.0), 10);
        assert_eq!(bucket_index(-1.0), 0);
    }

    fn record(ts: &str, entry: Entry<'static>) -> Record<'static> {
        Record {
            v: 1,
            id: Cow::Borrowed("t-0"),
            ts: humantime::parse_rfc3339(ts).unwrap(),
            session_id: None,
            entry,
        }
    }

    fn hook(ts: &str, name: &'static str, success: bool, ms: f64) -> Record<'static> {
        record(
            ts,
            Entry::Hook {
                hook_name: name.into(),
                hook_type: "PostToolUse".into(),
                success,
                duration_ms: ms,
            },
        )
    }

    fn task(outcome: &'static str, confidence: Option<f64>) -> Record<'static> {
        record(
            "2026-11-23T10:00:00Z",
            Entry::Task {
                task_type: "fix".into(),
                outcome: outcome.into(),
                confidence,
            },
        )
    }

    fn summary(records: Vec<Record<'static>>) -> Report {
        let scan = Scan {
            records,
            skipped: Skipped::default(),
        };
        let t = humantime::parse_rfc3339("2026-11-20T00:00:00Z").unwrap();
        summarize(&scan, "/store", t, t)
    }

    #[test]
    fn hooks_are_grouped_with_rates_percentiles_days_and_last_failure() {
        let r = summary(vec![
            hook("2026-11-21T10:00:00Z", "lint", false, 30.0),
            hook("2026-11-23T09:00:00Z", "lint", true, 10.0),
            hook("2026-11-23T08:00:00Z", "lint", false, 20.0),
            hook("2026-11-23T11:00:00Z", "lint", true, 40.0),
            hook("2026-11-23T11:00:00Z", "fmt", true, 5.0),
        ]);
        assert_eq!(r.hooks.len(), 2);
        let fmt = &r.hooks[0];
        assert_eq!(
            (fmt.hook_name.as_str(), fmt.runs, fmt.success_rate),
            ("fmt", 1, 1.0)
        );
        assert_eq!(fmt.last_failure, None);
        let lint = &r.hooks[1];
        assert_eq!((lint.runs, lint.succeeded, lint.failed), (4, 2, 2));
        assert_eq!(lint.success_rate, 0.5);
        assert_eq!(
            lint.duration_ms,
            Durations {
                p50: 20.0,
                p95: 40.0,
                max: 40.0
            }
        );
        assert_eq!(
            lint.last_failure.as_deref(),
            Some("2026-11-23T08:00:00.000Z")
        );
        let days: Vec<_> = lint
            .daily
            .iter()
            .map(|d| (d.day.as_str(), d.runs, d.failures))
            .collect();
        assert_eq!(days, [("2026-11-21", 1, 1), ("2026-11-23", 3, 1)]);
    }

    #[test]
    fn tasks_count_outcomes_and_score_only_those_with_a_confidence() {
        let r = summary(vec![
            task("success", Some(0.75)),
            task("partial", Some(0.5)),
            task("failure", Some(0.25)),
            task("success", Some(1.0)),
            task("success", None),
            task("gave-up", None),
        ]);
        let all = &r.tasks.all;
        assert_eq!(all.task_type, None);
        assert_eq!(all.count, 6);
        assert_eq!(
            all.outcomes,
            TaskOutcomes {
                success: 3,
                partial: 1,
                failure: 1,
                other: 1
            }
        );
        assert_eq!(all.with_confidence, 4);
        assert_eq!(all.calibration_score, Some(0.75));
        let buckets: Vec<_> = all
            .confidence_buckets
            .iter()
            .map(|b| (b.bucket, b.count, b.successes, b.success_rate))
            .collect();
        assert_eq!(
            buckets,
            [
                (0.2, 1, 0, 0.0),
                (0.5, 1, 0, 0.0),
                (0.7, 1, 1, 1.0),
                (1.0, 1, 1, 1.0)
            ]
        );
        assert_eq!(r.tasks.by_type.len(), 1);
        assert_eq!(r.tasks.by_type[0].task_type.as_deref(), Some("fix"));
        assert_eq!(r.tasks.by_type[0].calibration_score, Some(0.75));
    }

    #[test]
    fn the_other_kinds_are_counted_by_their_key() {
        let t = "2026-11-23T10:00:00Z";
        let r = summary(vec![
            record(
                t,
                Entry::PluginInstall {
                    plugin_name: "p".into(),
                    scope: "user".into(),
                    success: true,
                },
            ),
            record(
                t,
                Entry::PluginInstall {
                    plugin_name: "p".into(),
                    scope: "user".into(),
                    success: false,
                },
            ),
            record(
                t,
                Entry::PluginUninstall {
                    plugin_name: "p".into(),
                    scope: "user".into(),
                    success: true,
                },
            ),
            record(
                t,
                Entry::PluginInstall {
                    plugin_name: "p".into(),
                    scope: "project".into(),
                    success: true,
                },
            ),
            record(
                t,
                Entry::Validation {
                    validation_type: "lint".into(),
                    passed: true,
                    error_count: 0,
                },
            ),
            record(
                t,
                Entry::Validation {
                    validation_type: "lint".into(),
                    passed: false,
                    error_count: 3,
                },
            ),
            record(
                t,
                Entry::McpToolCall {
                    tool_name: "search".into(),
                    success: true,
                },
            ),
            record(
                t,
                Entry::McpToolCall {
                    tool_name: "search".into(),
                    success: false,
                },
            ),
            record(
                t,
                Entry::McpToolCall {
                    tool_name: "search".into(),
                    success: true,
                },
            ),
            record(
                t,
                Entry::McpToolCall {
                    tool_name: "search".into(),
                    success: true,
                },
            ),
            record(t, Entry::SessionStart {}),
            record(t, Entry::SessionStart {}),
            record(
                t,
                Entry::Frustration {
                    level: "high".into(),
                    score: Some(0.5),
                },
            ),
            record(
                t,
                Entry::Frustration {
                    level: "high".into(),
                    score: Some(1.0),
                },
            ),
            record(
                t,
                Entry::Frustration {
                    level: "high".into(),
                    score: None,
                },
            ),
            record(
                t,
                Entry::Frustration {
                    level: "low".into(),
                    score: None,
                },
            ),
        ]);
        assert_eq!(r.records, 16);
        assert_eq!(r.sessions_started, 2);
        let plugins: Vec<_> = r
            .plugins
            .iter()
            .map(|p| (p.scope.as_str(), p.installs, p.uninstalls))
            .collect();
        let o = |succeeded, failed| Outcomes { succeeded, failed };
        assert_eq!(
            plugins,
            [("project", o(1, 0), o(0, 0)), ("user", o(1, 1), o(1, 0))]
        );
        let v = &r.validations[0];
        assert_eq!(
            (v.runs, v.passed, v.failed, v.errors_total, v.errors_mean),
            (2, 1, 1, 3, 1.5)
        );
        let m = &r.mcp_tools[0];
        assert_eq!(
            (m.calls, m.succeeded, m.failed, m.success_rate),
            (4, 3, 1, 0.75)
        );
        let f: Vec<_> = r
            .frustration
            .iter()
            .map(|f| (f.level.as_str(), f.count, f.with_score, f.score_mean))
            .collect();
        assert_eq!(f, [("high", 3, 2, Some(0.75)), ("low", 1, 0, None)]);
    }

    #[test]
    fn days_are_named_in_utc() {
        let ts = humantime::parse_rfc3339("2026-11-23T23:59:59Z").unwrap();
        assert_eq!(day_name(epoch_day(ts)), "2026-11-23");
        assert_eq!(day_name(0), "1970-01-01");
    }
}
