//! Turning [`Sources`] into a [`Config`]: every variable of [`vars`] looked up, parsed and
//! checked, with its fallback, provenance and diagnostics.
//!
//! The OTLP exporter settings are resolved by [`super::otlp`]; everything else is here.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::lookup::Resolver;
use super::model::{Config, IncludeAttributes, SignalConfig, StoreConfig};
use super::otlp;
use super::parse;
use super::sources::Sources;
use super::value::{Exporter, Signal, Temporality};
use super::vars::{self, Kind};
use crate::mask::quoted;

impl Config {
    /// Resolves every variable from `sources`; never fails.
    pub fn from_sources(sources: &Sources) -> Config {
        resolve(sources)
    }

    /// From the real process environment and settings files.
    pub fn from_env() -> Config {
        Self::from_sources(&Sources::discover())
    }

    /// The configuration when nothing is set: telemetry off, every value at its default.
    pub fn disabled() -> Config {
        Self::from_sources(&Sources::new())
    }
}

impl Default for Config {
    fn default() -> Self {
        Self::disabled()
    }
}

/// The store's directory in Han's data directory.
const STORE: &str = "metrics";
/// Where records go when the store is not safe to write, in Han's data directory.
const FALLBACK: &str = "metrics-fallback";

/// The service name when nothing sets one.
pub(crate) fn default_service_name() -> &'static str {
    match vars::SERVICE_NAME.kind {
        Kind::Text { default } => default,
        _ => "",
    }
}

pub(crate) fn resolve(sources: &Sources) -> Config {
    let mut r = Resolver::new(sources);

    // Read for its provenance and diagnostics; `Sources` has already applied it.
    r.flag(vars::TRUST_PROJECT_SETTINGS);
    let telemetry_on = r.flag(vars::ENABLE_TELEMETRY);
    let sdk_disabled = r.flag(vars::SDK_DISABLED);

    let metrics_exporters = r.exporters(Signal::Metrics);
    let logs_exporters = r.exporters(Signal::Logs);
    let traces_exporters = r.exporters(Signal::Traces);
    let [metrics, logs, traces] = otlp::resolve_all(&mut r);

    let temporality = r.setting(
        vars::TEMPORALITY.name,
        parse::temporality,
        match vars::TEMPORALITY.kind {
            Kind::Temporality { default } => default,
            _ => Temporality::Delta,
        },
        true,
    );
    let metric_export_interval = r.amount(vars::METRIC_EXPORT_INTERVAL, None);
    let logs_export_interval = r.amount(vars::LOGS_EXPORT_INTERVAL, None);
    let (service_name, resource_attributes) = r.service_and_resource();
    let include = IncludeAttributes {
        session_id: r.flag(vars::INCLUDE_SESSION_ID),
        version: r.flag(vars::INCLUDE_VERSION),
        account_uuid: r.flag(vars::INCLUDE_ACCOUNT_UUID),
    };
    let exit_budget = r.amount(vars::EXIT_BUDGET, None);
    let (traceparent, tracestate) = r.trace_context();
    let store = r.store(sources);

    r.report_suppressed();
    let mut diagnostics = sources.diagnostics().to_vec();
    diagnostics.append(&mut r.diagnostics);
    Config {
        enabled: telemetry_on && !sdk_disabled,
        metrics: SignalConfig {
            exporters: metrics_exporters,
            otlp: metrics,
        },
        logs: SignalConfig {
            exporters: logs_exporters,
            otlp: logs,
        },
        traces: SignalConfig {
            exporters: traces_exporters,
            otlp: traces,
        },
        temporality,
        metric_export_interval: Duration::from_millis(metric_export_interval),
        logs_export_interval: Duration::from_millis(logs_export_interval),
        service_name,
        resource_attributes,
        include,
        exit_budget: Duration::from_millis(exit_budget),
        store,
        traceparent,
        tracestate,
        provenance: r.provenance,
        diagnostics,
        project_trust: sources.project_trust().clone(),
        ignored: sources.ignored().to_vec(),
    }
}

impl Resolver<'_> {
    /// `OTEL_{METRICS,LOGS,TRACES}_EXPORTER`.
    fn exporters(&mut self, signal: Signal) -> Vec<Exporter> {
        let var = vars::exporters(signal);
        let default = match var.kind {
            Kind::Exporters { default } => default.to_vec(),
            _ => Vec::new(),
        };
        let Some(found) = self.lookup(var.name) else {
            self.defaulted(var.name, Exporter::list(&default));
            return default;
        };
        let list = parse::exporters(found.value);
        let falls_to_default = list.exporters.is_empty() && !list.none;
        let unknown_fallback = if falls_to_default {
            format!("using the default ({})", Exporter::list(&default))
        } else {
            "it is dropped".to_owned()
        };
        for entry in &list.unknown {
            let problem = if entry.eq_ignore_ascii_case("prometheus") {
                "names exporter `prometheus`, which han-telemetry does not support (send OTLP to \
                 an OpenTelemetry Collector with a Prometheus exporter instead)"
                    .to_owned()
            } else {
                format!(
                    "names unknown exporter {} (expected {})",
                    quoted(entry),
                    parse::one_of(
                        Exporter::ALL
                            .iter()
                            .map(|e| e.name())
                            .chain([Exporter::NONE])
                    )
                )
            };
            self.report(&found, problem, unknown_fallback.clone());
        }
        if list.none && !list.exporters.is_empty() {
            self.report(
                &found,
                format!("combines `{}` with other exporters", Exporter::NONE),
                format!(
                    "ignoring `{}`, using {}",
                    Exporter::NONE,
                    Exporter::list(&list.exporters)
                ),
            );
        }
        if falls_to_default {
            self.defaulted(var.name, Exporter::list(&default));
            return default;
        }
        self.used(&found);
        list.exporters
    }

    /// `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES`, which share `service.name`.
    fn service_and_resource(&mut self) -> (String, Vec<(String, String)>) {
        let mut attributes = match self.lookup(vars::RESOURCE_ATTRIBUTES.name) {
            None => Vec::new(),
            Some(found) => match parse::resource_attributes(found.value) {
                Ok(attributes) => {
                    self.used(&found);
                    attributes
                }
                Err(problem) => {
                    self.report(&found, problem, "ignoring all of its attributes");
                    Vec::new()
                }
            },
        };
        let from_attributes = attributes
            .iter()
            .position(|(key, _)| key == "service.name")
            .map(|index| attributes.remove(index).1)
            .filter(|name| !name.trim().is_empty());
        let service_name = match (self.lookup(vars::SERVICE_NAME.name), from_attributes) {
            (Some(found), _) => {
                self.used(&found);
                found.value.trim().to_owned()
            }
            (None, Some(name)) => name,
            (None, None) => {
                self.defaulted(vars::SERVICE_NAME.name, default_service_name());
                default_service_name().to_owned()
            }
        };
        (service_name, attributes)
    }

    /// `HAN_METRICS_STORE`, `HAN_DATA_DIR`, `HAN_METRICS_DIR` and
    /// `HAN_METRICS_RETENTION_DAYS`.
    fn store(&mut self, sources: &Sources) -> StoreConfig {
        let enabled = self.flag(vars::METRICS_STORE);
        let (data_dir, before_move) = self.data_dir(sources);
        let default_dir = data_dir.as_ref().map(|dir| dir.join(STORE));
        let chosen = self.absolute_dir(
            vars::METRICS_DIR.name,
            default_dir.as_deref(),
            "would put the store wherever a hook happens to run",
        );
        let overridden = chosen.is_some();
        let dir = chosen.or(default_dir);
        let fallback_dir = data_dir.as_ref().map(|dir| dir.join(FALLBACK));
        // Before it followed Han's data directory, the store was `han/metrics` (and its
        // fallback `han/metrics-fallback`) under Claude Code's configuration directory.
        let legacy_dirs = sources
            .claude_dir()
            .map(|claude| claude.join("han"))
            .into_iter()
            .flat_map(|old| {
                let store = (!overridden).then(|| old.join(STORE));
                store.into_iter().chain([old.join(FALLBACK)])
            })
            .filter(|legacy| Some(legacy) != dir.as_ref() && Some(legacy) != fallback_dir.as_ref())
            .collect();
        let retention_days = self.amount(vars::METRICS_RETENTION_DAYS, None);
        StoreConfig {
            enabled,
            dir,
            fallback_dir,
            data_dir,
            before_move,
            legacy_dirs,
            retention_days: u32::try_from(retention_days).unwrap_or(u32::MAX),
        }
    }

    /// Han's data directory as Han 3.21.4 finds it: `HAN_DATA_DIR`, else
    /// `$CLAUDE_CONFIG_DIR/han`, else `~/.han`; with, in that last case, `~/.claude/han`,
    /// which Han moves to `~/.han` when only the older one exists. Nothing is looked at on
    /// disk here: the store's writer decides where the data is when it writes.
    fn data_dir(&mut self, sources: &Sources) -> (Option<PathBuf>, Option<PathBuf>) {
        let (by_default, before_move) = match (sources.claude_config_dir(), sources.home()) {
            (Some(config), _) => (Some(config.join("han")), None),
            (None, Some(home)) => (
                Some(home.join(".han")),
                Some(home.join(".claude").join("han")),
            ),
            (None, None) => (None, None),
        };
        match self.absolute_dir(
            vars::DATA_DIR.name,
            by_default.as_deref(),
            "would put Han's data wherever a hook happens to run",
        ) {
            Some(dir) => (Some(dir), None),
            None => (by_default, before_move),
        }
    }

    /// An absolute directory from `var`, or `None` (unset, or relative: `because` says what
    /// that would do, and `default` is what is used instead).
    fn absolute_dir(
        &mut self,
        var: &str,
        default: Option<&Path>,
        because: &str,
    ) -> Option<PathBuf> {
        let shown_default = default.map_or_else(
            || "none (no HOME or CLAUDE_CONFIG_DIR: the store is off)".to_owned(),
            |dir| dir.display().to_string(),
        );
        match self.lookup(var) {
            // A relative directory would follow each hook's working directory: a store per
            // project, in the project, found by no report.
            Some(found) if !Path::new(found.value).is_absolute() => {
                self.report(
                    &found,
                    format!("is a relative path, which {because}"),
                    format!("using {shown_default}"),
                );
                self.defaulted(var, &shown_default);
                None
            }
            Some(found) => {
                self.used(&found);
                Some(PathBuf::from(found.value))
            }
            None => {
                self.defaulted(var, shown_default);
                None
            }
        }
    }

    /// `TRACEPARENT` and `TRACESTATE`; the state is meaningless without a valid parent.
    fn trace_context(&mut self) -> (Option<String>, Option<String>) {
        let (parent_var, state_var) = (vars::TRACEPARENT.name, vars::TRACESTATE.name);
        let state = self.lookup(state_var);
        let Some(found) = self.lookup(parent_var) else {
            if let Some(state) = state {
                self.report(&state, format!("is set without {parent_var}"), "ignored");
            }
            return (None, None);
        };
        match parse::traceparent(found.value) {
            Ok(parent) => {
                self.used(&found);
                let state = state.map(|state| {
                    self.used(&state);
                    state.value.trim().to_owned()
                });
                (Some(parent.header), state)
            }
            Err(problem) => {
                let fallback = if state.is_some() {
                    format!("starting a new trace ({state_var} is ignored too)")
                } else {
                    "starting a new trace".to_owned()
                };
                self.report(&found, problem, fallback);
                (None, None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::config::lookup::MAX_PROBLEMS_PER_VARIABLE;
    use crate::config::{Diagnostic, Source};

    const ENABLE_TELEMETRY: &str = vars::ENABLE_TELEMETRY.name;
    const EXIT_BUDGET: &str = vars::EXIT_BUDGET.name;
    const INCLUDE_ACCOUNT_UUID: &str = vars::INCLUDE_ACCOUNT_UUID.name;
    const INCLUDE_SESSION_ID: &str = vars::INCLUDE_SESSION_ID.name;
    const INCLUDE_VERSION: &str = vars::INCLUDE_VERSION.name;
    const LOGS_EXPORT_INTERVAL: &str = vars::LOGS_EXPORT_INTERVAL.name;
    const DATA_DIR: &str = vars::DATA_DIR.name;
    const METRICS_DIR: &str = vars::METRICS_DIR.name;
    const METRICS_RETENTION_DAYS: &str = vars::METRICS_RETENTION_DAYS.name;
    const METRICS_STORE: &str = vars::METRICS_STORE.name;
    const METRIC_EXPORT_INTERVAL: &str = vars::METRIC_EXPORT_INTERVAL.name;
    const RESOURCE_ATTRIBUTES: &str = vars::RESOURCE_ATTRIBUTES.name;
    const SDK_DISABLED: &str = vars::SDK_DISABLED.name;
    const SERVICE_NAME: &str = vars::SERVICE_NAME.name;
    const TEMPORALITY: &str = vars::TEMPORALITY.name;
    const TRACEPARENT: &str = vars::TRACEPARENT.name;
    const TRACESTATE: &str = vars::TRACESTATE.name;
    const TRUST_PROJECT_SETTINGS: &str = vars::TRUST_PROJECT_SETTINGS.name;

    #[test]
    fn the_local_store_is_on_in_hans_data_directory_by_default_even_with_telemetry_off() {
        let sources = Sources::new().with_home("/home/u");
        let c = Config::from_sources(&sources);
        assert!(!c.enabled);
        assert!(c.store.enabled);
        assert_eq!(
            c.store.active_dir(),
            Some(Path::new("/home/u/.han/metrics"))
        );
        assert_eq!(c.store.retention_days, 30);
        assert_eq!(c.source_of(METRICS_DIR), Some(&Source::Default));
        assert_eq!(c.source_of(DATA_DIR), Some(&Source::Default));
    }

    fn paths(paths: &[&str]) -> Vec<PathBuf> {
        paths.iter().map(PathBuf::from).collect()
    }

    /// Han 3.21.4's rule: `HAN_DATA_DIR`, else `$CLAUDE_CONFIG_DIR/han`, else `~/.han`
    /// (which Han moves `~/.claude/han` to); the store is its `metrics`, the fallback its
    /// `metrics-fallback`, `HAN_METRICS_DIR` overrides the store alone, and what earlier
    /// versions wrote under Claude Code's directory is read.
    #[test]
    fn the_store_is_in_hans_data_directory_found_as_han_finds_it() {
        let home = Sources::new().with_home("/home/u");
        let c = Config::from_sources(&home);
        assert_eq!(c.store.data_dir.as_deref(), Some(Path::new("/home/u/.han")));
        assert_eq!(
            c.store.dir.as_deref(),
            Some(Path::new("/home/u/.han/metrics"))
        );
        assert_eq!(
            c.store.fallback_dir.as_deref(),
            Some(Path::new("/home/u/.han/metrics-fallback"))
        );
        assert_eq!(
            c.store.before_move.as_deref(),
            Some(Path::new("/home/u/.claude/han"))
        );
        assert_eq!(
            c.store.legacy_dirs,
            paths(&[
                "/home/u/.claude/han/metrics",
                "/home/u/.claude/han/metrics-fallback"
            ])
        );

        // CLAUDE_CONFIG_DIR: Han's data is its `han`, where the store always was.
        let config_dir = home.clone().with_claude_config_dir("/cfg");
        let c = Config::from_sources(&config_dir);
        assert_eq!(c.store.data_dir.as_deref(), Some(Path::new("/cfg/han")));
        assert_eq!(c.store.dir.as_deref(), Some(Path::new("/cfg/han/metrics")));
        assert_eq!(
            c.store.fallback_dir.as_deref(),
            Some(Path::new("/cfg/han/metrics-fallback"))
        );
        assert_eq!(c.store.before_move, None);
        assert!(c.store.legacy_dirs.is_empty(), "{:?}", c.store.legacy_dirs);

        // HAN_DATA_DIR wins over both; the old places under the Claude directory are read.
        let data = config_dir
            .clone()
            .with_layer(Source::ProcessEnv, [(DATA_DIR, "/data/han")]);
        let c = Config::from_sources(&data);
        assert_eq!(c.store.data_dir.as_deref(), Some(Path::new("/data/han")));
        assert_eq!(c.store.dir.as_deref(), Some(Path::new("/data/han/metrics")));
        assert_eq!(
            c.store.fallback_dir.as_deref(),
            Some(Path::new("/data/han/metrics-fallback"))
        );
        assert_eq!(c.store.before_move, None);
        assert_eq!(
            c.store.legacy_dirs,
            paths(&["/cfg/han/metrics", "/cfg/han/metrics-fallback"])
        );
        assert_eq!(c.source_of(DATA_DIR), Some(&Source::ProcessEnv));
        assert!(c.diagnostics.is_empty(), "{:?}", c.diagnostics);

        // HAN_METRICS_DIR moves the store alone: the fallback stays in Han's data directory,
        // and the old default store is not this store's past.
        let both = Sources::new().with_home("/home/u").with_layer(
            Source::ProcessEnv,
            [(DATA_DIR, "/data/han"), (METRICS_DIR, "/m")],
        );
        let c = Config::from_sources(&both);
        assert_eq!(c.store.dir.as_deref(), Some(Path::new("/m")));
        assert_eq!(
            c.store.fallback_dir.as_deref(),
            Some(Path::new("/data/han/metrics-fallback"))
        );
        assert_eq!(
            c.store.legacy_dirs,
            paths(&["/home/u/.claude/han/metrics-fallback"])
        );

        // HAN_DATA_DIR alone is somewhere to write, with no home at all.
        let c = config(&[(DATA_DIR, "/data/han")]);
        assert_eq!(c.store.active_dir(), Some(Path::new("/data/han/metrics")));
        assert!(c.store.legacy_dirs.is_empty());
        // An empty value is unset, as in Han (`if (process.env.HAN_DATA_DIR)`).
        let c = Config::from_sources(
            &Sources::new()
                .with_home("/home/u")
                .with_layer(Source::ProcessEnv, [(DATA_DIR, "")]),
        );
        assert_eq!(c.store.data_dir.as_deref(), Some(Path::new("/home/u/.han")));
        assert!(c.diagnostics.is_empty());
    }

    #[test]
    fn the_local_store_follows_its_variables() {
        let c = Config::from_sources(&Sources::new().with_home("/home/u").with_layer(
            Source::ProcessEnv,
            [(METRICS_DIR, "/data/han"), (METRICS_RETENTION_DAYS, "7")],
        ));
        assert_eq!(c.store.active_dir(), Some(Path::new("/data/han")));
        assert_eq!(c.store.retention_days, 7);
        assert_eq!(c.source_of(METRICS_DIR), Some(&Source::ProcessEnv));

        let off = config(&[(METRICS_STORE, "off"), (METRICS_DIR, "/data/han")]);
        assert!(!off.store.enabled);
        assert_eq!(off.store.active_dir(), None);

        // Without a home, CLAUDE_CONFIG_DIR or HAN_DATA_DIR there is nowhere to write: off,
        // quietly.
        let nowhere = config(&[]);
        assert_eq!(nowhere.store.active_dir(), None);
        assert!(nowhere.diagnostics.is_empty());
    }

    #[test]
    fn a_relative_store_directory_warns_and_uses_the_default() {
        let c = Config::from_sources(
            &Sources::new()
                .with_home("/home/u")
                .with_layer(Source::ProcessEnv, [(METRICS_DIR, "metrics")]),
        );
        assert_eq!(
            c.store.active_dir(),
            Some(Path::new("/home/u/.han/metrics"))
        );
        let warned: Vec<String> = c.diagnostics.iter().map(ToString::to_string).collect();
        assert_eq!(warned.len(), 1, "{warned:?}");
        assert!(warned[0].contains("HAN_METRICS_DIR"), "{warned:?}");
        assert!(warned[0].contains("relative"), "{warned:?}");
        assert!(
            warned[0].contains("using /home/u/.han/metrics"),
            "{warned:?}"
        );
        assert_eq!(
            c.store.fallback_dir.as_deref(),
            Some(Path::new("/home/u/.han/metrics-fallback"))
        );
        // The default is still this store's: what earlier versions wrote is read.
        assert_eq!(c.store.legacy_dirs.len(), 2, "{:?}", c.store.legacy_dirs);
    }

    #[test]
    fn a_relative_han_data_dir_warns_and_hans_own_default_is_used() {
        let c = Config::from_sources(
            &Sources::new()
                .with_home("/home/u")
                .with_layer(Source::ProcessEnv, [(DATA_DIR, "han-data")]),
        );
        assert_eq!(c.store.data_dir.as_deref(), Some(Path::new("/home/u/.han")));
        assert_eq!(
            c.store.active_dir(),
            Some(Path::new("/home/u/.han/metrics"))
        );
        assert_eq!(
            only_diagnostic(&c, DATA_DIR).to_string(),
            "HAN_DATA_DIR=\"han-data\" (process environment) is a relative path, which would \
             put Han's data wherever a hook happens to run; using /home/u/.han"
        );
        assert_eq!(c.source_of(DATA_DIR), Some(&Source::Default));
    }

    /// Claude Code copies a project's `env` into the hooks it starts, `HAN_DATA_DIR`
    /// included: a repository must not move the user's store with it, unless trusted.
    #[test]
    fn a_projects_han_data_dir_moves_the_store_only_when_trusted() {
        use crate::config::DiscoverOptions;
        use crate::test_support::TempDir;
        use std::ffi::OsString;

        let world = TempDir::new("data-dir-trust");
        let home = world.path().join("home");
        let project = world.path().join("project");
        world.write(
            "project/.claude/settings.json",
            r#"{"env": {"HAN_DATA_DIR": "/planted"}}"#,
        );
        let store = |env: &[(&str, &str)]| {
            let opts = DiscoverOptions {
                env: env
                    .iter()
                    .map(|(k, v)| (OsString::from(k), OsString::from(v)))
                    .collect(),
                cwd: Some(project.clone()),
                home: Some(home.clone()),
                managed_settings: Some(world.path().join("managed-settings.json")),
            };
            Config::from_sources(&Sources::discover_with(&opts))
        };
        let ours = home.join(".han").join("metrics");

        // In the project file only, and as Claude Code copies it into the hook.
        for env in [&[][..], &[("CLAUDECODE", "1"), (DATA_DIR, "/planted")][..]] {
            let c = store(env);
            assert_eq!(c.store.dir.as_ref(), Some(&ours), "{env:?}");
            assert_eq!(
                c.store.fallback_dir,
                Some(home.join(".han").join("metrics-fallback")),
                "{env:?}"
            );
            assert!(
                c.ignored.iter().any(|i| i.variable == DATA_DIR),
                "{env:?}: {:?}",
                c.ignored
            );
        }

        // The user's own: the environment outside Claude Code, or the user's settings.
        let c = store(&[(DATA_DIR, "/planted")]);
        assert_eq!(c.store.dir.as_deref(), Some(Path::new("/planted/metrics")));
        world.write(
            "home/.claude/settings.json",
            r#"{"env": {"HAN_DATA_DIR": "/users"}}"#,
        );
        let c = store(&[("CLAUDECODE", "1")]);
        assert_eq!(c.store.dir.as_deref(), Some(Path::new("/users/metrics")));

        // Trusted from the user's settings, the project chooses.
        world.write(
            "home/.claude/settings.json",
            &format!(r#"{{"env": {{"{TRUST_PROJECT_SETTINGS}": "1"}}}}"#),
        );
        let c = store(&[("CLAUDECODE", "1"), (DATA_DIR, "/planted")]);
        assert_eq!(c.store.dir.as_deref(), Some(Path::new("/planted/metrics")));
    }

    #[test]
    fn bad_store_values_warn_and_fall_back() {
        let c = config(&[(METRICS_STORE, "maybe"), (METRICS_RETENTION_DAYS, "a week")]);
        assert!(c.store.enabled);
        assert_eq!(c.store.retention_days, 30);
        assert!(
            only_diagnostic(&c, METRICS_STORE)
                .to_string()
                .contains("using true")
        );
        assert!(
            only_diagnostic(&c, METRICS_RETENTION_DAYS)
                .to_string()
                .contains("is not a whole number of days; using 30")
        );
        let zero = config(&[(METRICS_RETENTION_DAYS, "0")]);
        assert_eq!(zero.store.retention_days, 30);
        let huge = config(&[(METRICS_RETENTION_DAYS, "99999999999999999999999")]);
        assert_eq!(huge.store.retention_days, 3_650);
        assert!(
            only_diagnostic(&huge, METRICS_RETENTION_DAYS)
                .to_string()
                .contains("above the maximum of 3650 days")
        );
    }

    fn config(vars: &[(&str, &str)]) -> Config {
        Config::from_sources(&Sources::new().with_layer(Source::ProcessEnv, vars.iter().copied()))
    }

    /// The one diagnostic about `var`, failing if there are none or several.
    fn only_diagnostic<'c>(config: &'c Config, var: &str) -> &'c Diagnostic {
        let found: Vec<_> = config
            .diagnostics
            .iter()
            .filter(|d| d.subject == var)
            .collect();
        assert_eq!(found.len(), 1, "{:#?}", config.diagnostics);
        found[0]
    }

    #[test]
    fn nothing_set_gives_documented_defaults() {
        let c = Config::disabled();
        assert!(!c.enabled);
        assert_eq!(c.metrics.exporters, vec![Exporter::Otlp]);
        assert_eq!(c.logs.exporters, vec![Exporter::Otlp]);
        assert!(c.traces.exporters.is_empty());
        assert_eq!(c.temporality, Temporality::Delta);
        assert_eq!(c.metric_export_interval, Duration::from_millis(60_000));
        assert_eq!(c.logs_export_interval, Duration::from_millis(5_000));
        assert_eq!(c.service_name, "han");
        assert!(c.resource_attributes.is_empty());
        assert_eq!(c.include, IncludeAttributes::default());
        assert!(c.include.session_id && !c.include.version && c.include.account_uuid);
        assert_eq!(c.exit_budget, Duration::from_millis(1_000));
        assert_eq!(c.traceparent, None);
        assert_eq!(c.tracestate, None);
        assert!(c.diagnostics.is_empty());
        assert_eq!(c, Config::default());
    }

    #[test]
    fn defaults_are_recorded_in_provenance() {
        let c = Config::disabled();
        for var in [
            ENABLE_TELEMETRY,
            "OTEL_METRICS_EXPORTER",
            "OTEL_LOGS_EXPORTER",
            "OTEL_TRACES_EXPORTER",
            "OTEL_EXPORTER_OTLP_PROTOCOL",
            "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
            TEMPORALITY,
            METRIC_EXPORT_INTERVAL,
            LOGS_EXPORT_INTERVAL,
            SERVICE_NAME,
            EXIT_BUDGET,
        ] {
            assert_eq!(c.source_of(var), Some(&Source::Default), "{var}");
        }
        let interval = c
            .provenance
            .iter()
            .find(|p| p.variable == METRIC_EXPORT_INTERVAL)
            .unwrap();
        assert_eq!(interval.value, "60000");
    }

    #[test]
    fn used_values_record_their_source() {
        let path = PathBuf::from("/p/.claude/settings.json");
        let sources = Sources::new()
            .with_layer(
                Source::ProcessEnv,
                [(ENABLE_TELEMETRY, "1"), (TRUST_PROJECT_SETTINGS, "1")],
            )
            .with_layer(
                Source::ProjectSettings(path.clone()),
                [(SERVICE_NAME, "svc"), (ENABLE_TELEMETRY, "0")],
            );
        let c = Config::from_sources(&sources);
        assert!(c.enabled);
        assert_eq!(c.source_of(ENABLE_TELEMETRY), Some(&Source::ProcessEnv));
        assert_eq!(
            c.source_of(SERVICE_NAME),
            Some(&Source::ProjectSettings(path))
        );
        assert_eq!(c.source_of("OTEL_UNUSED"), None);
    }

    #[test]
    fn enable_telemetry_values() {
        assert!(config(&[(ENABLE_TELEMETRY, "1")]).enabled);
        assert!(config(&[(ENABLE_TELEMETRY, " TRUE ")]).enabled);
        assert!(config(&[(ENABLE_TELEMETRY, "yes")]).enabled);
        assert!(config(&[(ENABLE_TELEMETRY, "on")]).enabled);
        assert!(!config(&[(ENABLE_TELEMETRY, "off")]).enabled);
        assert!(!config(&[(ENABLE_TELEMETRY, "")]).enabled);
        let c = config(&[(ENABLE_TELEMETRY, "enabled")]);
        assert!(!c.enabled);
        assert_eq!(
            only_diagnostic(&c, ENABLE_TELEMETRY).to_string(),
            "CLAUDE_CODE_ENABLE_TELEMETRY=\"enabled\" (process environment) expects 1, true, yes \
             or on (or 0, false, no, off); using false"
        );
    }

    #[test]
    fn sdk_disabled_only_by_true() {
        assert!(!config(&[(ENABLE_TELEMETRY, "1"), (SDK_DISABLED, "TRUE")]).enabled);
        assert!(config(&[(ENABLE_TELEMETRY, "1"), (SDK_DISABLED, "false")]).enabled);
        assert!(config(&[(ENABLE_TELEMETRY, "1"), (SDK_DISABLED, "")]).enabled);
        let c = config(&[(ENABLE_TELEMETRY, "1"), (SDK_DISABLED, "1")]);
        assert!(c.enabled);
        let d = only_diagnostic(&c, SDK_DISABLED);
        assert!(d.problem.contains("expects true or false"), "{d}");
        assert_eq!(d.fallback, "using false");
    }

    #[test]
    fn exporter_selection() {
        let c = config(&[
            ("OTEL_METRICS_EXPORTER", "console, OTLP,console"),
            ("OTEL_LOGS_EXPORTER", "none"),
            ("OTEL_TRACES_EXPORTER", "otlp"),
        ]);
        assert!(c.diagnostics.is_empty(), "{:#?}", c.diagnostics);
        assert_eq!(c.metrics.exporters, vec![Exporter::Console, Exporter::Otlp]);
        assert!(c.logs.exporters.is_empty());
        assert_eq!(c.traces.exporters, vec![Exporter::Otlp]);
        assert!(c.traces.uses(Exporter::Otlp) && !c.traces.uses(Exporter::Console));
    }

    #[test]
    fn empty_exporter_means_default() {
        let c = config(&[("OTEL_METRICS_EXPORTER", " "), ("OTEL_TRACES_EXPORTER", "")]);
        assert_eq!(c.metrics.exporters, vec![Exporter::Otlp]);
        assert!(c.traces.exporters.is_empty());
        assert!(c.diagnostics.is_empty());
    }

    #[test]
    fn none_with_others_is_reported_and_others_kept() {
        let c = config(&[("OTEL_LOGS_EXPORTER", "none,console")]);
        assert_eq!(c.logs.exporters, vec![Exporter::Console]);
        let d = only_diagnostic(&c, "OTEL_LOGS_EXPORTER");
        assert!(d.problem.contains("none"), "{d}");
    }

    #[test]
    fn unknown_exporters_are_reported_each_and_dropped() {
        let c = config(&[("OTEL_METRICS_EXPORTER", "prometheus,otlp,otpl")]);
        assert_eq!(c.metrics.exporters, vec![Exporter::Otlp]);
        let ds: Vec<_> = c.diagnostics.iter().map(ToString::to_string).collect();
        assert_eq!(ds.len(), 2, "{ds:#?}");
        assert!(ds[0].contains("prometheus") && ds[0].contains("does not support"));
        assert!(ds[1].contains("\"otpl\""));
        assert!(ds.iter().all(|d| d.ends_with("; it is dropped")));
    }

    #[test]
    fn only_unknown_exporters_fall_back_to_default() {
        let c = config(&[
            ("OTEL_METRICS_EXPORTER", "prometheus"),
            ("OTEL_TRACES_EXPORTER", "zipkin"),
        ]);
        assert_eq!(c.metrics.exporters, vec![Exporter::Otlp]);
        assert!(c.traces.exporters.is_empty());
        assert_eq!(c.diagnostics.len(), 2);
        assert_eq!(c.diagnostics[0].fallback, "using the default (otlp)");
        assert_eq!(c.diagnostics[1].fallback, "using the default (none)");
        assert_eq!(c.source_of("OTEL_METRICS_EXPORTER"), Some(&Source::Default));
    }

    #[test]
    fn temporality_values() {
        assert_eq!(
            config(&[(TEMPORALITY, "CUMULATIVE")]).temporality,
            Temporality::Cumulative
        );
        assert_eq!(
            config(&[(TEMPORALITY, "lowmemory")]).temporality,
            Temporality::LowMemory
        );
        let c = config(&[(TEMPORALITY, "deltas")]);
        assert_eq!(c.temporality, Temporality::Delta);
        assert_eq!(only_diagnostic(&c, TEMPORALITY).fallback, "using delta");
    }

    #[test]
    fn interval_values() {
        let c = config(&[
            (METRIC_EXPORT_INTERVAL, "30000"),
            (LOGS_EXPORT_INTERVAL, "1000"),
        ]);
        assert_eq!(c.metric_export_interval, Duration::from_secs(30));
        assert_eq!(c.logs_export_interval, Duration::from_secs(1));
        assert!(c.diagnostics.is_empty());
    }

    #[test]
    fn bad_interval_falls_back_to_default() {
        let c = config(&[(METRIC_EXPORT_INTERVAL, "abc"), (LOGS_EXPORT_INTERVAL, "0")]);
        assert_eq!(c.metric_export_interval, Duration::from_millis(60_000));
        assert_eq!(c.logs_export_interval, Duration::from_millis(5_000));
        assert_eq!(
            only_diagnostic(&c, METRIC_EXPORT_INTERVAL).to_string(),
            "OTEL_METRIC_EXPORT_INTERVAL=\"abc\" (process environment) is not a whole number of \
             milliseconds; using 60000"
        );
        assert_eq!(
            only_diagnostic(&c, LOGS_EXPORT_INTERVAL).fallback,
            "using 5000"
        );
        assert_eq!(c.source_of(METRIC_EXPORT_INTERVAL), Some(&Source::Default));
    }

    #[test]
    fn huge_interval_is_clamped() {
        let c = config(&[(METRIC_EXPORT_INTERVAL, "86400001")]);
        assert_eq!(c.metric_export_interval, Duration::from_millis(86_400_000));
        let d = only_diagnostic(&c, METRIC_EXPORT_INTERVAL);
        assert_eq!(d.fallback, "using 86400000");
        assert_eq!(
            c.source_of(METRIC_EXPORT_INTERVAL),
            Some(&Source::ProcessEnv)
        );
    }

    #[test]
    fn exit_budget_values() {
        assert_eq!(config(&[(EXIT_BUDGET, "0")]).exit_budget, Duration::ZERO);
        assert_eq!(
            config(&[(EXIT_BUDGET, "250")]).exit_budget,
            Duration::from_millis(250)
        );
        let c = config(&[(EXIT_BUDGET, "61000")]);
        assert_eq!(c.exit_budget, Duration::from_millis(60_000));
        assert!(only_diagnostic(&c, EXIT_BUDGET).problem.contains("maximum"));
        let c = config(&[(EXIT_BUDGET, "1s")]);
        assert_eq!(c.exit_budget, Duration::from_millis(1_000));
        assert_eq!(only_diagnostic(&c, EXIT_BUDGET).fallback, "using 1000");
    }

    #[test]
    fn include_attribute_switches() {
        let c = config(&[
            (INCLUDE_SESSION_ID, "false"),
            (INCLUDE_VERSION, "1"),
            (INCLUDE_ACCOUNT_UUID, "0"),
        ]);
        assert_eq!(
            c.include,
            IncludeAttributes {
                session_id: false,
                version: true,
                account_uuid: false
            }
        );
        let c = config(&[(INCLUDE_VERSION, "maybe"), (INCLUDE_SESSION_ID, "nope")]);
        assert_eq!(c.include, IncludeAttributes::default());
        assert_eq!(only_diagnostic(&c, INCLUDE_VERSION).fallback, "using false");
        assert_eq!(
            only_diagnostic(&c, INCLUDE_SESSION_ID).fallback,
            "using true"
        );
    }

    #[test]
    fn resource_attributes_are_decoded_and_service_name_extracted() {
        let c = config(&[(
            RESOURCE_ATTRIBUTES,
            "org.name=John%27s%20Organization,service.name=from-attrs,team=core,",
        )]);
        assert_eq!(c.service_name, "from-attrs");
        assert_eq!(
            c.resource_attributes,
            vec![
                ("org.name".to_owned(), "John's Organization".to_owned()),
                ("team".to_owned(), "core".to_owned()),
            ]
        );
        assert!(c.diagnostics.is_empty());
    }

    #[test]
    fn service_name_variable_beats_resource_attribute() {
        let c = config(&[
            (RESOURCE_ATTRIBUTES, "service.name=attr"),
            (SERVICE_NAME, " explicit "),
        ]);
        assert_eq!(c.service_name, "explicit");
        assert!(c.resource_attributes.is_empty());
        let c = config(&[
            (RESOURCE_ATTRIBUTES, "service.name=attr"),
            (SERVICE_NAME, ""),
        ]);
        assert_eq!(c.service_name, "attr");
    }

    #[test]
    fn bad_resource_attributes_discard_the_whole_variable() {
        let c = config(&[(RESOURCE_ATTRIBUTES, "team=core,service.name=x,oops")]);
        assert!(c.resource_attributes.is_empty());
        assert_eq!(c.service_name, "han");
        let d = only_diagnostic(&c, RESOURCE_ATTRIBUTES);
        assert!(d.problem.contains("number 3"), "{d}");
        assert_eq!(d.fallback, "ignoring all of its attributes");
    }

    #[test]
    fn traceparent_and_tracestate() {
        let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let c = config(&[(TRACEPARENT, parent), (TRACESTATE, "rojo=00f067aa0ba902b7")]);
        assert_eq!(c.traceparent.as_deref(), Some(parent));
        assert_eq!(c.tracestate.as_deref(), Some("rojo=00f067aa0ba902b7"));
        assert!(c.diagnostics.is_empty());

        let c = config(&[
            (
                TRACEPARENT,
                "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            ),
            (TRACESTATE, "rojo=1"),
        ]);
        assert_eq!((&c.traceparent, &c.tracestate), (&None, &None));
        let d = only_diagnostic(&c, TRACEPARENT);
        assert!(d.problem.contains("all-zero trace id"), "{d}");
        assert!(d.fallback.contains("TRACESTATE"), "{d}");
    }

    #[test]
    fn thousands_of_bad_entries_give_a_few_diagnostics() {
        let soup = "=,".repeat(50_000);
        let long_entry = "x".repeat(100_000);
        let c = config(&[
            ("OTEL_METRICS_EXPORTER", soup.as_str()),
            ("OTEL_LOGS_EXPORTER", long_entry.as_str()),
            ("OTEL_EXPORTER_OTLP_HEADERS", soup.as_str()),
        ]);
        let about = |var: &str| -> Vec<String> {
            c.diagnostics
                .iter()
                .filter(|d| d.subject == var)
                .map(ToString::to_string)
                .collect()
        };
        let exporters = about("OTEL_METRICS_EXPORTER");
        assert_eq!(
            exporters.len(),
            MAX_PROBLEMS_PER_VARIABLE + 1,
            "{exporters:#?}"
        );
        assert!(
            exporters[MAX_PROBLEMS_PER_VARIABLE]
                .ends_with("has 49995 more problems like these; using the default (otlp)"),
            "{exporters:#?}"
        );
        assert_eq!(about("OTEL_EXPORTER_OTLP_HEADERS").len(), 6);
        let long = about("OTEL_LOGS_EXPORTER");
        assert_eq!(long.len(), 1);
        assert!(long[0].len() < 1_000, "the entry is cut: {}", long[0].len());
    }

    #[test]
    fn tracestate_without_traceparent_is_reported_and_ignored() {
        let c = config(&[(TRACESTATE, "rojo=00f067aa0ba902b7")]);
        assert_eq!((&c.traceparent, &c.tracestate), (&None, &None));
        assert_eq!(
            only_diagnostic(&c, TRACESTATE).to_string(),
            "TRACESTATE=\"rojo=00f067aa0ba902b7\" (process environment) is set without \
             TRACEPARENT; ignored"
        );
        assert!(config(&[(TRACESTATE, " ")]).diagnostics.is_empty());
    }

    #[test]
    fn source_diagnostics_come_first() {
        let sources = Sources::new().with_layer(Source::ProcessEnv, [(EXIT_BUDGET, "x")]);
        let mut with_file_problem = sources.clone();
        with_file_problem.push_diagnostic_for_test(Diagnostic::for_file(
            &Source::UserSettings(PathBuf::from("/u")),
            "broken",
            "ignored",
        ));
        let c = Config::from_sources(&with_file_problem);
        assert_eq!(c.diagnostics.len(), 2);
        assert_eq!(c.diagnostics[0].subject, "/u");
        assert_eq!(c.diagnostics[1].subject, EXIT_BUDGET);
    }

    #[test]
    fn higher_layer_wins_for_every_rule() {
        let sources = Sources::new()
            .with_layer(
                Source::Managed(PathBuf::from("/m")),
                [(METRIC_EXPORT_INTERVAL, "1000")],
            )
            .with_layer(
                Source::ProcessEnv,
                [(METRIC_EXPORT_INTERVAL, "2000"), (TEMPORALITY, "delta")],
            )
            .with_layer(
                Source::UserSettings(PathBuf::from("/u")),
                [(TEMPORALITY, "lowmemory"), (SERVICE_NAME, "user")],
            );
        let c = Config::from_sources(&sources);
        assert_eq!(c.metric_export_interval, Duration::from_secs(1));
        assert_eq!(c.temporality, Temporality::Delta);
        assert_eq!(c.service_name, "user");
        assert_eq!(
            c.source_of(METRIC_EXPORT_INTERVAL),
            Some(&Source::Managed(PathBuf::from("/m")))
        );
    }

    #[test]
    fn a_bad_higher_value_does_not_reveal_the_lower_one() {
        // Like a real environment, the highest layer's value is the value; a bad one falls back
        // to han's default rather than silently picking a lower layer.
        let sources = Sources::new()
            .with_layer(Source::ProcessEnv, [(LOGS_EXPORT_INTERVAL, "soon")])
            .with_layer(
                Source::UserSettings(PathBuf::from("/u")),
                [(LOGS_EXPORT_INTERVAL, "2000")],
            );
        let c = Config::from_sources(&sources);
        assert_eq!(c.logs_export_interval, Duration::from_millis(5_000));
        assert_eq!(c.diagnostics.len(), 1);
    }
}
