//! What `doctor` found, as data: rendered as text by [`super::text`] or printed as JSON.
//!
//! Every value here comes from han-telemetry's masked views (provenance, diagnostics, probe
//! results), never from the raw configuration, so neither rendering can show a secret.

use std::time::Duration;

use han_telemetry::config::vars::{self, TRUST_PROJECT_SETTINGS};
use han_telemetry::config::{Config, Diagnostic, Exporter, Signal, Source, Trust};
use han_telemetry::gate;
use han_telemetry::probe::{self, Outcome, ProbeResult};
use serde::Serialize;

const ENABLE: &str = vars::ENABLE_TELEMETRY.name;
const SDK_DISABLED: &str = vars::SDK_DISABLED.name;

#[derive(Debug, Serialize)]
pub(crate) struct Report {
    /// The version of han-telemetry doing the check.
    pub(crate) version: &'static str,
    pub(crate) telemetry: Telemetry,
    /// Every variable in effect, in resolution order.
    pub(crate) variables: Vec<Variable>,
    /// Values han-telemetry could not use, and what it did instead.
    pub(crate) problems: Vec<Problem>,
    /// Which sources may configure telemetry, what that left unused, and where each
    /// signal's credentials may go.
    pub(crate) trust: TrustSection,
    /// Each signal's exporters (empty: `none`).
    pub(crate) signals: Vec<SignalExporters>,
    /// The export gate of each OTLP destination: whether hooks pause export to it after a
    /// failure to reach it (`doctor` itself ignores the gate).
    pub(crate) gates: Vec<GateRow>,
    /// Claude Code's `otelHeadersHelper`, when the OTLP signals use one.
    pub(crate) headers_helper: Option<HelperRow>,
    /// The test exports; absent with `--no-probe`.
    pub(crate) probe: Option<ProbeSection>,
    pub(crate) verdict: Verdict,
}

#[derive(Debug, Serialize)]
pub(crate) struct Telemetry {
    pub(crate) enabled: bool,
    /// Why it is on or off, and for off, what turns it on.
    pub(crate) explanation: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct Variable {
    pub(crate) name: String,
    /// As read, masked.
    pub(crate) value: String,
    pub(crate) source: SourceInfo,
}

#[derive(Debug, Serialize)]
pub(crate) struct SourceInfo {
    /// `managed`, `process_env`, `local_settings`, `project_settings`, `user_settings` or
    /// `default`.
    pub(crate) kind: &'static str,
    /// The settings file, for the file kinds.
    pub(crate) path: Option<String>,
    /// As people read it: `user settings (/home/u/.claude/settings.json)`.
    pub(crate) description: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct Problem {
    /// The variable, or the settings file.
    pub(crate) subject: String,
    /// The offending value, masked.
    pub(crate) value: Option<String>,
    pub(crate) source: SourceInfo,
    pub(crate) problem: String,
    pub(crate) fallback: String,
    /// The whole line, as a hook prints it on stderr.
    pub(crate) message: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct TrustSection {
    /// Whether the project's settings files configure telemetry.
    pub(crate) project_settings_trusted: bool,
    /// What decided it: the source of the switch, or `default`.
    pub(crate) decided_by: SourceInfo,
    /// The switch and what it does, as a sentence.
    pub(crate) project_settings: String,
    /// The credential rule, as a sentence.
    pub(crate) rule: &'static str,
    /// Values set in project files that are not used.
    pub(crate) ignored: Vec<IgnoredValue>,
    /// Per signal: who chose the destination, and whether credentials go there.
    pub(crate) destinations: Vec<Destination>,
}

#[derive(Debug, Serialize)]
pub(crate) struct IgnoredValue {
    pub(crate) variable: String,
    /// Masked.
    pub(crate) value: String,
    pub(crate) source: SourceInfo,
    /// Claude Code copied it from that file into the process environment.
    pub(crate) copied_to_env: bool,
    pub(crate) reason: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct Destination {
    pub(crate) signal: &'static str,
    /// Masked.
    pub(crate) endpoint: String,
    /// `managed`, `user` or `project`: the least trusted source among those that chose the
    /// endpoint, the CA file and plaintext.
    pub(crate) chosen_by: &'static str,
    /// Credential variables not sent there, because a more trusted source set them.
    pub(crate) withheld: Vec<String>,
}

/// The rule, once, in the words `doctor` and the README use.
pub(crate) const CREDENTIAL_RULE: &str = "credentials (headers, client certificate and key) \
    are only sent to a destination (endpoint, CA file, plaintext switch) chosen by a source at \
    least as trusted as their own: managed settings, then your environment and user settings, \
    then project settings";

#[derive(Debug, Serialize)]
pub(crate) struct SignalExporters {
    pub(crate) signal: &'static str,
    /// The variable that selects them.
    pub(crate) variable: String,
    pub(crate) exporters: Vec<&'static str>,
}

#[derive(Debug, Serialize)]
pub(crate) struct HelperRow {
    /// The program.
    pub(crate) program: String,
    /// The settings file that names it.
    pub(crate) source: SourceInfo,
    /// The signals whose exports carry its headers.
    pub(crate) signals: Vec<&'static str>,
    /// `fresh`, `stale`, `refused` (a collector answered 401/403), `failed`, `none` or
    /// `ignored` (the cache file cannot be used).
    pub(crate) cache: &'static str,
    /// As people read it.
    pub(crate) description: String,
    /// The header names it printed last (values are never shown).
    pub(crate) header_names: Vec<String>,
    /// What running it for the test export gave: its header names, or why not; absent with
    /// `--no-probe`.
    pub(crate) run: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct GateRow {
    /// The signals exported there.
    pub(crate) signals: Vec<&'static str>,
    /// Protocol and `scheme://host:port`.
    pub(crate) destination: String,
    /// `open`, `paused`, `probing` (the cooldown is over: the next hook checks) or
    /// `ignored` (the gate file cannot be used; hooks export).
    pub(crate) state: &'static str,
    /// As people read it.
    pub(crate) description: String,
    /// Reachability failures in a row.
    pub(crate) failures: u32,
    /// RFC 3339, while paused.
    pub(crate) paused_until: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct ProbeSection {
    /// What a probe sends: a metric, log event and span of this name.
    pub(crate) datum: &'static str,
    pub(crate) timeout_ms: u64,
    pub(crate) results: Vec<ProbeRow>,
}

#[derive(Debug, Serialize)]
pub(crate) struct ProbeRow {
    pub(crate) signal: &'static str,
    pub(crate) exporter: &'static str,
    pub(crate) protocol: Option<&'static str>,
    /// Masked.
    pub(crate) endpoint: String,
    /// `delivered`, `failed` or `not_probed`.
    pub(crate) status: &'static str,
    pub(crate) elapsed_ms: Option<f64>,
    pub(crate) error: Option<String>,
    pub(crate) cause: Option<String>,
    pub(crate) fix: Option<String>,
    /// Why it was not probed.
    pub(crate) reason: Option<String>,
    #[serde(skip)]
    pub(crate) elapsed: Option<Duration>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Verdict {
    /// Telemetry is on, configured without problems, and (unless `--no-probe`) every OTLP
    /// test export was delivered.
    pub(crate) ok: bool,
    pub(crate) exit_code: u8,
    pub(crate) summary: String,
    /// Each reason the verdict is not ok.
    pub(crate) reasons: Vec<String>,
}

impl Report {
    pub(crate) fn new(config: &Config, probes: Option<&[ProbeResult]>, timeout: Duration) -> Self {
        let problems: Vec<Problem> = config.diagnostics.iter().map(problem).collect();
        let signals: Vec<SignalExporters> = Signal::ALL
            .iter()
            .map(|&signal| SignalExporters {
                signal: signal.name(),
                variable: vars::exporters(signal).name.to_owned(),
                exporters: config
                    .signal(signal)
                    .exporters
                    .iter()
                    .map(|e| e.name())
                    .collect(),
            })
            .collect();
        let telemetry = telemetry(config);
        let probe = probes.map(|results| ProbeSection {
            datum: probe::PROBE_NAME,
            timeout_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
            results: results.iter().map(probe_row).collect(),
        });
        let verdict = verdict(config, &telemetry, &problems, probe.as_ref());
        Report {
            version: env!("CARGO_PKG_VERSION"),
            trust: trust(config),
            telemetry,
            variables: config
                .provenance
                .iter()
                .map(|p| Variable {
                    name: p.variable.clone(),
                    value: p.value.clone(),
                    source: source_info(&p.source),
                })
                .collect(),
            problems,
            signals,
            gates: gates(config),
            headers_helper: headers_helper(config, None),
            probe,
            verdict,
        }
    }
}

fn trust(config: &Config) -> TrustSection {
    let decided = &config.project_trust.decided_by;
    let project_settings = match (config.project_trust.trusted, decided) {
        (true, by) => format!(
            "project settings (.claude/settings.json, .claude/settings.local.json) configure \
             telemetry: {} is on in {by}",
            TRUST_PROJECT_SETTINGS.name
        ),
        (false, Source::Default) => format!(
            "project settings (.claude/settings.json, .claude/settings.local.json) come with \
             the repository and do not configure telemetry; set {}=1 in your user settings \
             (or managed settings) to let them",
            TRUST_PROJECT_SETTINGS.name
        ),
        (false, by) => format!(
            "project settings (.claude/settings.json, .claude/settings.local.json) do not \
             configure telemetry: {} is off in {by}",
            TRUST_PROJECT_SETTINGS.name
        ),
    };
    TrustSection {
        project_settings_trusted: config.project_trust.trusted,
        decided_by: source_info(decided),
        project_settings,
        rule: CREDENTIAL_RULE,
        ignored: config
            .ignored
            .iter()
            .map(|i| IgnoredValue {
                variable: i.variable.clone(),
                value: i.value.clone(),
                source: source_info(&i.source),
                copied_to_env: i.copied_to_env,
                reason: i.reason(),
            })
            .collect(),
        destinations: Signal::ALL
            .iter()
            .filter(|&&s| config.signal(s).uses(Exporter::Otlp))
            .map(|&s| {
                let otlp = &config.signal(s).otlp;
                Destination {
                    signal: s.name(),
                    endpoint: han_telemetry::mask::mask_url(&otlp.endpoint),
                    chosen_by: trust_name(otlp.chosen_by),
                    withheld: otlp.withheld.clone(),
                }
            })
            .collect(),
    }
}

fn trust_name(trust: Trust) -> &'static str {
    match trust {
        Trust::Managed => "managed",
        Trust::User => "user",
        Trust::Project => "project",
    }
}

fn source_info(source: &Source) -> SourceInfo {
    let kind = match source {
        Source::Managed(_) => "managed",
        Source::ProcessEnv => "process_env",
        Source::LocalSettings(_) => "local_settings",
        Source::ProjectSettings(_) => "project_settings",
        Source::UserSettings(_) => "user_settings",
        Source::Default => "default",
        _ => "other",
    };
    SourceInfo {
        kind,
        path: source.path().map(|p| p.display().to_string()),
        description: source.to_string(),
    }
}

fn problem(d: &Diagnostic) -> Problem {
    Problem {
        subject: d.subject.clone(),
        value: d.value.clone(),
        source: source_info(&d.source),
        problem: d.problem.clone(),
        fallback: d.fallback.clone(),
        message: d.to_string(),
    }
}

/// The headers helper, its cache beside the store, and what running it gave.
pub(crate) fn headers_helper(
    config: &Config,
    ran: Option<Result<Vec<String>, String>>,
) -> Option<HelperRow> {
    use han_telemetry::headers_helper as hh;
    let helper = hh::configured(config)?;
    let signals = Signal::ALL
        .into_iter()
        .filter(|s| {
            let c = config.signal(*s);
            c.uses(Exporter::Otlp) && c.otlp.headers_helper.as_ref() == Some(&helper)
        })
        .map(Signal::name)
        .collect();
    let at = |t| humantime::format_rfc3339_seconds(han_telemetry::store::clamp_time(t)).to_string();
    let (cache, description, header_names) = match gate::dir_for(&config.store) {
        None => (
            "none",
            "no cache (the store is off): every hook runs it".to_owned(),
            Vec::new(),
        ),
        Some(dir) => match hh::cache_state(&dir, &helper) {
            Ok(None) => (
                "none",
                "not cached yet: the next hook runs it".to_owned(),
                Vec::new(),
            ),
            Ok(Some(c)) => {
                let fetched = c.fetched.map_or_else(|| "never".to_owned(), at);
                let (state, text) = if let Some((when, why)) = c.failed.clone() {
                    (
                        "failed",
                        format!(
                            "its last run failed at {} ({why}); hooks export with the static headers meanwhile",
                            at(when)
                        ),
                    )
                } else if c.refused {
                    (
                        "refused",
                        format!(
                            "a collector refused its headers (401/403); the next hook runs it (last run {fetched})"
                        ),
                    )
                } else if c.fresh {
                    (
                        "fresh",
                        format!(
                            "fresh: hooks use its headers without running it (last run {fetched})"
                        ),
                    )
                } else {
                    (
                        "stale",
                        format!("stale: the next hook runs it (last run {fetched})"),
                    )
                };
                (
                    state,
                    format!("{text}; cache {}", c.path.display()),
                    c.names,
                )
            }
            Err(why) => (
                "ignored",
                format!("the cache file is ignored ({why}): the next hook runs it"),
                Vec::new(),
            ),
        },
    };
    Some(HelperRow {
        program: helper.program.display().to_string(),
        source: source_info(&helper.source),
        signals,
        cache,
        description,
        header_names,
        run: ran.map(|r| match r {
            Ok(names) => format!(
                "ran: printed {}",
                if names.is_empty() {
                    "no headers".to_owned()
                } else {
                    names.join(", ")
                }
            ),
            Err(why) => format!("ran: it {why}; the test export used the static headers"),
        }),
    })
}

/// The export gate of each OTLP destination, from the files beside the store.
fn gates(config: &Config) -> Vec<GateRow> {
    let Some(dir) = gate::dir_for(&config.store) else {
        return Vec::new();
    };
    let mut rows: Vec<GateRow> = Vec::new();
    for signal in Signal::ALL {
        let cfg = config.signal(signal);
        if !cfg.uses(Exporter::Otlp) {
            continue;
        }
        let destination = gate::destination(cfg.otlp.protocol, &cfg.otlp.endpoint);
        if let Some(row) = rows.iter_mut().find(|r| r.destination == destination) {
            row.signals.push(signal.name());
            continue;
        }
        let at =
            |t| humantime::format_rfc3339_seconds(han_telemetry::store::clamp_time(t)).to_string();
        let (state, description, failures, paused_until) = match gate::state(
            &dir,
            cfg.otlp.protocol,
            &cfg.otlp.endpoint,
        ) {
            Ok(None) => ("open", "open: hooks export".to_owned(), 0, None),
            Ok(Some(g)) if g.closed => (
                "paused",
                format!(
                    "paused until {}: hooks keep their records in the store and do not export ({} failure(s) in a row to reach it; last: {})",
                    at(g.until),
                    g.failures,
                    g.why
                ),
                g.failures,
                Some(at(g.until)),
            ),
            Ok(Some(g)) => (
                "probing",
                format!(
                    "the pause is over: the next hook checks whether the collector is back ({} failure(s) in a row; last: {})",
                    g.failures, g.why
                ),
                g.failures,
                None,
            ),
            Err(why) => (
                "ignored",
                format!("the gate file is ignored ({why}): hooks export"),
                0,
                None,
            ),
        };
        rows.push(GateRow {
            signals: vec![signal.name()],
            destination,
            state,
            description,
            failures,
            paused_until,
        });
    }
    rows
}

fn telemetry(config: &Config) -> Telemetry {
    let found = |name: &str| config.provenance.iter().find(|p| p.variable == name);
    let explanation = if config.enabled {
        match found(ENABLE) {
            Some(p) => format!("on: {ENABLE}={} ({})", p.value, p.source),
            None => "on".to_owned(),
        }
    } else if let Some(p) =
        found(SDK_DISABLED).filter(|p| p.value.trim().eq_ignore_ascii_case("true"))
    {
        format!(
            "off: {SDK_DISABLED}=true ({}) turns all telemetry off; remove it or set it to false",
            p.source
        )
    } else if config.diagnostics.iter().any(|d| d.subject == ENABLE) {
        format!(
            "off: {ENABLE} has a value han-telemetry cannot read (see the problems); set {ENABLE}=1"
        )
    } else {
        match found(ENABLE).filter(|p| p.source != Source::Default) {
            Some(p) => format!(
                "off: {ENABLE}={} ({}); set {ENABLE}=1 to turn telemetry on",
                p.value, p.source
            ),
            None => format!(
                "off: {ENABLE} is not set; set {ENABLE}=1 in the environment or in the \"env\" \
                 block of a Claude Code settings file (~/.claude/settings.json) to turn it on"
            ),
        }
    };
    Telemetry {
        enabled: config.enabled,
        explanation,
    }
}

fn probe_row(r: &ProbeResult) -> ProbeRow {
    let mut row = ProbeRow {
        signal: r.signal.name(),
        exporter: r.exporter.name(),
        protocol: r.protocol.map(|p| p.as_str()),
        endpoint: r.endpoint.clone(),
        status: "failed",
        elapsed_ms: None,
        error: None,
        cause: None,
        fix: None,
        reason: None,
        elapsed: None,
    };
    let mut elapsed = |d: Duration| {
        row.elapsed = Some(d);
        row.elapsed_ms = Some((d.as_secs_f64() * 1_000_000.0).round() / 1000.0);
    };
    match &r.outcome {
        Outcome::Delivered { elapsed: d } => {
            elapsed(*d);
            row.status = "delivered";
        }
        Outcome::Failed {
            elapsed: d,
            error,
            cause,
            fix,
        } => {
            elapsed(*d);
            row.error = Some(error.clone());
            row.cause = Some(cause.clone());
            row.fix = Some(fix.clone());
        }
        Outcome::NotProbed { reason } => {
            row.status = "not_probed";
            row.reason = Some(reason.clone());
        }
        // A kind of outcome this version does not know: report it as it is.
        other => {
            row.error = Some(format!("{other:?}"));
        }
    }
    row
}

fn verdict(
    config: &Config,
    telemetry: &Telemetry,
    problems: &[Problem],
    probe: Option<&ProbeSection>,
) -> Verdict {
    let mut reasons = Vec::new();
    if !telemetry.enabled {
        reasons.push(format!("telemetry is {}", telemetry.explanation));
    }
    if !problems.is_empty() {
        reasons.push(format!(
            "{} configuration problem{}: han-telemetry ignores those values, and every hook \
             prints them on stderr",
            problems.len(),
            if problems.len() == 1 { "" } else { "s" }
        ));
    }
    let otlp = Signal::ALL
        .iter()
        .any(|&s| config.signal(s).uses(Exporter::Otlp));
    if !otlp {
        reasons.push(format!(
            "no signal is exported over OTLP: every one is `{none}` or `{console}`, and \
             console output goes to each hook's stderr, which no collector receives; set \
             {}/{} to {otlp}",
            vars::METRICS_EXPORTER.name,
            vars::LOGS_EXPORTER.name,
            none = Exporter::NONE,
            console = Exporter::Console.name(),
            otlp = Exporter::Otlp.name(),
        ));
    }
    if let Some(probe) = probe {
        for row in probe.results.iter().filter(|r| r.status == "failed") {
            reasons.push(format!(
                "{} export to {} failed: {}",
                row.signal,
                row.endpoint,
                row.cause.as_deref().unwrap_or("unknown cause")
            ));
        }
    }
    let ok = reasons.is_empty();
    let summary = match (ok, probe.is_some()) {
        (true, true) => "telemetry flows: every OTLP test export was delivered".to_owned(),
        (true, false) => "the configuration is complete; nothing was sent (--no-probe)".to_owned(),
        (false, true) => "telemetry does not flow as configured".to_owned(),
        (false, false) => {
            "the configuration has problems (nothing was sent: --no-probe)".to_owned()
        }
    };
    Verdict {
        ok,
        exit_code: if ok { 0 } else { 1 },
        summary,
        reasons,
    }
}
