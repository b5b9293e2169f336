//! Where configuration values come from, in which order they win, and which are trusted.
//!
//! Hooks no longer inherit `OTEL_*` from Claude Code, so the same variables are also read from the
//! `env` blocks of Claude Code's settings files, in Claude Code's own precedence: managed settings,
//! then the process environment, then local, project and user settings.
//!
//! A project's files (`.claude/settings.json`, `.claude/settings.local.json`) come with the
//! repository, which the user did not necessarily write: as in Claude Code, nothing in them
//! routes or authenticates telemetry unless a trusted source (managed settings, the process
//! environment or the user's settings) sets [`TRUST_PROJECT_SETTINGS`](super::vars::TRUST_PROJECT_SETTINGS). Claude Code also copies
//! a project's `env` values into a hook's environment, so under Claude Code a process-environment
//! value that only a project file explains is that file's, not the user's.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::{Path, PathBuf};

use super::diagnostic::Diagnostic;
use super::settings_file::{self, Loaded};
use super::source::Source;
use super::trust::{self, Ignored, Layer, ProjectTrust};
use super::vars;

/// Layers of variables, highest precedence first, plus the problems met while reading them.
#[derive(Clone, Default)]
pub struct Sources {
    layers: Vec<Layer>,
    diagnostics: Vec<Diagnostic>,
    /// `HOME` (`USERPROFILE` on Windows).
    home: Option<PathBuf>,
    /// `CLAUDE_CONFIG_DIR`.
    claude_config_dir: Option<PathBuf>,
    project: ProjectTrust,
    /// Process-environment values that only a project file explains, taken out of the
    /// environment layer (their file's layer still has them).
    copied: Vec<Ignored>,
    /// What trust leaves unused, recomputed whenever layers change.
    ignored: Vec<Ignored>,
}

impl Sources {
    /// No layers: every lookup misses, so [`Config`](super::Config) is all defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a layer below the existing ones. Within one layer a later duplicate name wins.
    #[must_use]
    pub fn with_layer(
        mut self,
        source: Source,
        vars: impl IntoIterator<Item = (impl Into<String>, impl Into<String>)>,
    ) -> Self {
        let vars = vars
            .into_iter()
            .map(|(name, value)| (name.into(), value.into()))
            .collect();
        self.layers.push((source, vars));
        self.apply_trust();
        self
    }

    /// The user's home directory (`HOME`), under which Han keeps its data (`~/.han`) unless
    /// `CLAUDE_CONFIG_DIR` or `HAN_DATA_DIR` says otherwise.
    #[must_use]
    pub fn with_home(mut self, dir: impl Into<PathBuf>) -> Self {
        self.home = Some(dir.into());
        self
    }

    /// `CLAUDE_CONFIG_DIR`: Claude Code's configuration directory, and Han's data directory is
    /// its `han`.
    #[must_use]
    pub fn with_claude_config_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.claude_config_dir = Some(dir.into());
        self
    }

    /// The user's home directory, when known.
    pub fn home(&self) -> Option<&Path> {
        self.home.as_deref()
    }

    /// `CLAUDE_CONFIG_DIR`, when set.
    pub fn claude_config_dir(&self) -> Option<&Path> {
        self.claude_config_dir.as_deref()
    }

    /// Claude Code's configuration directory: `$CLAUDE_CONFIG_DIR`, else `~/.claude`.
    pub fn claude_dir(&self) -> Option<PathBuf> {
        match (&self.claude_config_dir, &self.home) {
            (Some(dir), _) => Some(dir.clone()),
            (None, Some(home)) => Some(home.join(".claude")),
            (None, None) => None,
        }
    }

    /// The real process environment and the real settings files.
    pub fn discover() -> Self {
        Self::discover_with(&DiscoverOptions::from_process())
    }

    /// Discovery with every input supplied by the caller, so tests need no real environment.
    pub fn discover_with(opts: &DiscoverOptions) -> Self {
        let mut sources = Self::new();
        sources.home = opts.home_dir();
        sources.claude_config_dir = opts.env_var("CLAUDE_CONFIG_DIR").map(PathBuf::from);

        let managed = opts
            .managed_settings
            .clone()
            .unwrap_or_else(default_managed_settings);
        sources.add_file(Source::Managed(managed.clone()), &managed);

        sources.add_process_env(&opts.env);

        let user = opts.user_settings();
        if let Some(project) = opts.project_dir() {
            let dir = project.join(".claude");
            let local = dir.join("settings.local.json");
            sources.add_file(Source::LocalSettings(local.clone()), &local);
            let shared = dir.join("settings.json");
            // With the project at $HOME both names point at one file; it counts once, as the
            // user's: it is the user's own file, whatever directory the hook runs in.
            if !user.as_deref().is_some_and(|user| same_file(&shared, user)) {
                sources.add_file(Source::ProjectSettings(shared.clone()), &shared);
            }
        }
        if let Some(user) = user {
            sources.add_file(Source::UserSettings(user.clone()), &user);
        }
        if opts.env_var("CLAUDECODE").is_some() {
            sources.take_copied_values();
        }
        sources.apply_trust();
        sources
    }

    /// Under Claude Code, takes the environment's values that only a project file explains
    /// out of the environment layer ([`trust::copied_from_projects`]).
    fn take_copied_values(&mut self) {
        let copied = trust::copied_from_projects(&self.layers);
        if let Some((_, env)) = self
            .layers
            .iter_mut()
            .find(|(source, _)| *source == Source::ProcessEnv)
        {
            for c in &copied {
                env.remove(&c.variable);
            }
        }
        self.copied = copied;
    }

    /// Decides whether project files are trusted and lists what that leaves unused.
    fn apply_trust(&mut self) {
        self.project = trust::project_trust(&self.layers);
        self.ignored = trust::ignored(&self.layers, &self.project, &self.copied);
    }

    /// Whether project files configure telemetry, and what decided it.
    pub fn project_trust(&self) -> &ProjectTrust {
        &self.project
    }

    /// Values set in project files (or copied from them into the environment) that are not
    /// used, in layer order.
    pub fn ignored(&self) -> &[Ignored] {
        &self.ignored
    }

    /// The value from the highest layer that has `var` and may set it, with that layer's
    /// source. Project files may set nothing unless [`Sources::project_trust`] says so, and
    /// never [`TRUST_PROJECT_SETTINGS`](super::vars::TRUST_PROJECT_SETTINGS) itself.
    ///
    /// An empty value still counts as set, as it would in a real environment: it shadows lower
    /// layers, and the parser for that variable decides what empty means.
    pub fn get(&self, var: &str) -> Option<(&str, &Source)> {
        self.layers
            .iter()
            .filter(|(source, _)| trust::may_set(source, var, &self.project))
            .find_map(|(source, vars)| vars.get(var).map(|value| (value.as_str(), source)))
    }

    /// Problems met while reading files and the environment.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// The layers, highest precedence first, including project layers that are not trusted
    /// (values are unmasked).
    pub fn layers(&self) -> impl Iterator<Item = (&Source, &BTreeMap<String, String>)> {
        self.layers.iter().map(|(source, vars)| (source, vars))
    }

    /// Lets tests of [`Config`](super::Config) add a reading problem without files.
    #[cfg(test)]
    pub(crate) fn push_diagnostic_for_test(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    fn add_file(&mut self, source: Source, path: &Path) {
        match settings_file::load(path, &source) {
            Loaded::Missing => {}
            Loaded::Rejected(diagnostic) => self.diagnostics.push(diagnostic),
            Loaded::Env { vars, diagnostics } => {
                self.diagnostics.extend(diagnostics);
                self.layers.push((source, vars));
            }
        }
    }

    fn add_process_env(&mut self, env: &[(OsString, OsString)]) {
        let mut vars = BTreeMap::new();
        for (name, value) in env {
            // Every name we read is ASCII, so a non-UTF-8 name is never one of ours.
            let Some(name) = name.to_str().filter(|name| vars::is_relevant(name)) else {
                continue;
            };
            match value.to_str() {
                Some(value) => {
                    vars.insert(name.to_owned(), value.to_owned());
                }
                None => {
                    vars.remove(name);
                    self.diagnostics.push(Diagnostic::for_value(
                        name,
                        None,
                        &Source::ProcessEnv,
                        "is not valid UTF-8",
                        "ignored",
                    ));
                }
            }
        }
        self.layers.push((Source::ProcessEnv, vars));
    }
}

impl fmt::Debug for Sources {
    /// Values are masked like everywhere else: this is what ends up in panic messages and logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Masked<'a>(&'a BTreeMap<String, String>);
        impl fmt::Debug for Masked<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_map()
                    .entries(self.0.iter().map(|(k, v)| (k, vars::shown(k, v))))
                    .finish()
            }
        }
        f.debug_struct("Sources")
            .field(
                "layers",
                &self
                    .layers
                    .iter()
                    .map(|(source, vars)| (source, Masked(vars)))
                    .collect::<Vec<_>>(),
            )
            .field("diagnostics", &self.diagnostics)
            .field("home", &self.home)
            .field("claude_config_dir", &self.claude_config_dir)
            .field("project", &self.project)
            .field("ignored", &self.ignored)
            .finish()
    }
}

/// Inputs to [`Sources::discover_with`].
#[derive(Clone, Default)]
pub struct DiscoverOptions {
    /// The process environment to use (tests pass their own).
    pub env: Vec<(OsString, OsString)>,
    /// Used as the project directory when `CLAUDE_PROJECT_DIR` is not set.
    pub cwd: Option<PathBuf>,
    /// Overrides `HOME` (`USERPROFILE` on Windows) from `env`.
    pub home: Option<PathBuf>,
    /// `None` means the OS default path of Claude Code's managed settings.
    pub managed_settings: Option<PathBuf>,
}

impl DiscoverOptions {
    /// The real environment and working directory; home comes from that environment.
    pub fn from_process() -> Self {
        Self {
            env: std::env::vars_os().collect(),
            cwd: std::env::current_dir().ok(),
            home: None,
            managed_settings: None,
        }
    }

    /// The last non-empty value of `name` in `env` (later entries win, as when setting twice).
    fn env_var(&self, name: &str) -> Option<&OsStr> {
        self.env
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_os_str())
            .filter(|value| !value.is_empty())
    }

    /// `CLAUDE_PROJECT_DIR` (which Claude Code sets for hooks), else the working directory.
    fn project_dir(&self) -> Option<PathBuf> {
        match self.env_var("CLAUDE_PROJECT_DIR").map(PathBuf::from) {
            Some(dir) if dir.is_relative() => Some(match &self.cwd {
                Some(cwd) => cwd.join(dir),
                None => dir,
            }),
            Some(dir) => Some(dir),
            None => self.cwd.clone(),
        }
    }

    fn home_dir(&self) -> Option<PathBuf> {
        if let Some(home) = &self.home {
            return Some(home.clone());
        }
        let names: &[&str] = if cfg!(windows) {
            &["USERPROFILE", "HOME"]
        } else {
            &["HOME"]
        };
        names
            .iter()
            .find_map(|name| self.env_var(name))
            .map(PathBuf::from)
    }

    /// `$CLAUDE_CONFIG_DIR`, else `<home>/.claude`.
    fn claude_dir(&self) -> Option<PathBuf> {
        match self.env_var("CLAUDE_CONFIG_DIR") {
            Some(dir) => Some(PathBuf::from(dir)),
            None => self.home_dir().map(|home| home.join(".claude")),
        }
    }

    /// `$CLAUDE_CONFIG_DIR/settings.json`, else `<home>/.claude/settings.json`.
    fn user_settings(&self) -> Option<PathBuf> {
        self.claude_dir().map(|dir| dir.join("settings.json"))
    }
}

impl fmt::Debug for DiscoverOptions {
    /// Shows only variable names: the environment holds unrelated secrets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<_> = self
            .env
            .iter()
            .map(|(name, _)| name.to_string_lossy())
            .collect();
        f.debug_struct("DiscoverOptions")
            .field("env_names", &names)
            .field("cwd", &self.cwd)
            .field("home", &self.home)
            .field("managed_settings", &self.managed_settings)
            .finish()
    }
}

/// Claude Code's managed settings location for this OS.
pub fn default_managed_settings() -> PathBuf {
    if cfg!(target_os = "macos") {
        PathBuf::from("/Library/Application Support/ClaudeCode/managed-settings.json")
    } else if cfg!(target_os = "windows") {
        PathBuf::from(r"C:\ProgramData\ClaudeCode\managed-settings.json")
    } else {
        PathBuf::from("/etc/claude-code/managed-settings.json")
    }
}

/// Same file on disk when both exist (symlinks, `..`), else the same path as written.
fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Trust;

    const TRUST_PROJECT_SETTINGS: &str = vars::TRUST_PROJECT_SETTINGS.name;
    use crate::test_support::TempDir;

    fn env(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        pairs
            .iter()
            .map(|(k, v)| (OsString::from(k), OsString::from(v)))
            .collect()
    }

    fn settings(var: &str, value: &str) -> String {
        format!(r#"{{"env": {{"{var}": "{value}"}}}}"#)
    }

    /// The user's settings with `var` and the switch that lets project files configure.
    fn trusting_settings(var: &str, value: &str) -> String {
        format!(r#"{{"env": {{"{var}": "{value}", "{TRUST_PROJECT_SETTINGS}": "1"}}}}"#)
    }

    /// A home, a project and a managed file that may or may not be written.
    struct World {
        dir: TempDir,
    }

    impl World {
        fn new(label: &str) -> Self {
            Self {
                dir: TempDir::new(label),
            }
        }
        fn home(&self) -> PathBuf {
            self.dir.path().join("home")
        }
        fn project(&self) -> PathBuf {
            self.dir.path().join("project")
        }
        fn managed(&self) -> PathBuf {
            self.dir.path().join("managed-settings.json")
        }
        fn options(&self, env: Vec<(OsString, OsString)>) -> DiscoverOptions {
            DiscoverOptions {
                env,
                cwd: Some(self.project()),
                home: Some(self.home()),
                managed_settings: Some(self.managed()),
            }
        }
        fn write(&self, relative: &str, contents: &str) -> PathBuf {
            self.dir.write(relative, contents)
        }
    }

    const VAR: &str = "OTEL_SERVICE_NAME";

    #[test]
    fn precedence_is_managed_env_local_project_user() {
        let world = World::new("precedence");
        let managed = world.write("managed-settings.json", &settings(VAR, "managed"));
        let local = world.write(
            "project/.claude/settings.local.json",
            &settings(VAR, "local"),
        );
        let project = world.write("project/.claude/settings.json", &settings(VAR, "project"));
        let user = world.write(
            "home/.claude/settings.json",
            &trusting_settings(VAR, "user"),
        );
        let process = env(&[(VAR, "env")]);

        let check = |opts: &DiscoverOptions, value: &str, source: Source| {
            let sources = Sources::discover_with(opts);
            assert!(sources.diagnostics().is_empty(), "{sources:?}");
            assert_eq!(sources.get(VAR), Some((value, &source)));
        };
        check(
            &world.options(process.clone()),
            "managed",
            Source::Managed(managed.clone()),
        );
        std::fs::remove_file(&managed).unwrap();
        check(&world.options(process), "env", Source::ProcessEnv);
        check(
            &world.options(vec![]),
            "local",
            Source::LocalSettings(local.clone()),
        );
        std::fs::remove_file(&local).unwrap();
        check(
            &world.options(vec![]),
            "project",
            Source::ProjectSettings(project.clone()),
        );
        std::fs::remove_file(&project).unwrap();
        check(&world.options(vec![]), "user", Source::UserSettings(user));
    }

    /// `otelHeadersHelper` is a top-level key: managed beats user; a project's is unused
    /// unless trusted, and even then its headers go only to a destination a project chose;
    /// the process environment never sets it.
    #[test]
    fn the_headers_helper_follows_the_trust_rules() {
        use crate::config::{Config, Signal};
        let helper = |c: &Config| {
            c.signal(Signal::Logs)
                .otlp
                .headers_helper
                .as_ref()
                .map(|h| h.program.display().to_string())
        };
        let world = World::new("helper");
        world.write(
            "home/.claude/settings.json",
            r#"{"otelHeadersHelper": "~/bin/user-helper", "env": {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://user:4317"}}"#,
        );
        let process = env(&[("otelHeadersHelper", "/env/helper")]);
        let c = Config::from_sources(&Sources::discover_with(&world.options(process.clone())));
        let home = world.home().join("bin/user-helper").display().to_string();
        assert_eq!(helper(&c), Some(home.clone()));
        assert_eq!(
            c.logs
                .otlp
                .headers_helper
                .as_ref()
                .map(|h| h.debounce.as_millis()),
            Some(1_740_000)
        );

        world.write(
            "managed-settings.json",
            r#"{"otelHeadersHelper": "/managed/helper", "env": {"CLAUDE_CODE_OTEL_HEADERS_HELPER_DEBOUNCE_MS": "5000", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://org:4317"}}"#,
        );
        let c = Config::from_sources(&Sources::discover_with(&world.options(process.clone())));
        assert_eq!(helper(&c).as_deref(), Some("/managed/helper"));
        assert_eq!(
            c.logs
                .otlp
                .headers_helper
                .as_ref()
                .map(|h| h.debounce.as_millis()),
            Some(5000)
        );
        std::fs::remove_file(world.managed()).unwrap();

        // A project's helper: ignored, and said so.
        let project = world.write(
            "project/.claude/settings.json",
            r#"{"otelHeadersHelper": "/repo/helper"}"#,
        );
        let sources = Sources::discover_with(&world.options(vec![]));
        assert!(
            sources
                .ignored()
                .iter()
                .any(|i| i.variable == "otelHeadersHelper"
                    && i.source == Source::ProjectSettings(project.clone())),
            "{sources:?}"
        );
        assert_eq!(helper(&Config::from_sources(&sources)), Some(home));

        // Trusted, it wins over the user's, and may go to the user's destination.
        world.write(
            "home/.claude/settings.json",
            &format!(
                r#"{{"otelHeadersHelper": "/user/helper", "env": {{"{TRUST_PROJECT_SETTINGS}": "1", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://user:4317"}}}}"#
            ),
        );
        let c = Config::from_sources(&Sources::discover_with(&world.options(vec![])));
        assert_eq!(helper(&c).as_deref(), Some("/repo/helper"));
        // The user's helper never goes (nor runs) for a destination a project chose.
        world.write(
            "project/.claude/settings.json",
            r#"{"env": {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://repo:4317"}}"#,
        );
        let c = Config::from_sources(&Sources::discover_with(&world.options(vec![])));
        assert_eq!(helper(&c), None);
        assert!(
            c.logs
                .otlp
                .withheld
                .contains(&"otelHeadersHelper".to_owned())
        );
        assert!(
            c.diagnostics
                .iter()
                .any(|d| d.subject == "otelHeadersHelper"
                    && d.to_string().contains("sent without it")),
            "{:?}",
            c.diagnostics
        );

        // A relative path is never run.
        std::fs::remove_file(&project).unwrap();
        world.write(
            "home/.claude/settings.json",
            r#"{"otelHeadersHelper": "bin/helper"}"#,
        );
        let c = Config::from_sources(&Sources::discover_with(&world.options(vec![])));
        assert_eq!(helper(&c), None);
        assert!(
            c.diagnostics
                .iter()
                .any(|d| d.to_string().contains("is not an absolute path")),
            "{:?}",
            c.diagnostics
        );
    }

    #[test]
    fn layers_are_ordered_highest_first() {
        let world = World::new("order");
        world.write("managed-settings.json", &settings("OTEL_A", "1"));
        world.write(
            "project/.claude/settings.local.json",
            &settings("OTEL_A", "3"),
        );
        world.write("project/.claude/settings.json", &settings("OTEL_A", "4"));
        world.write("home/.claude/settings.json", &settings("OTEL_A", "5"));
        let sources = Sources::discover_with(&world.options(env(&[("OTEL_A", "2")])));
        let order: Vec<_> = sources
            .layers()
            .map(|(_, vars)| vars.get("OTEL_A").cloned().unwrap_or_default())
            .collect();
        assert_eq!(order, vec!["1", "2", "3", "4", "5"]);
    }

    #[test]
    fn claude_project_dir_beats_cwd() {
        let world = World::new("projectdir");
        world.write(
            "home/.claude/settings.json",
            &trusting_settings("OTEL_B", "b"),
        );
        world.write("project/.claude/settings.json", &settings(VAR, "cwd"));
        let other = world.write("other/.claude/settings.json", &settings(VAR, "other"));
        let dir = world.dir.path().join("other");
        let opts = world.options(env(&[("CLAUDE_PROJECT_DIR", dir.to_str().unwrap())]));
        let sources = Sources::discover_with(&opts);
        assert_eq!(
            sources.get(VAR),
            Some(("other", &Source::ProjectSettings(other)))
        );
    }

    #[test]
    fn relative_claude_project_dir_is_resolved_against_cwd() {
        let world = World::new("relproject");
        world.write(
            "home/.claude/settings.json",
            &trusting_settings("OTEL_B", "b"),
        );
        let nested = world.write(
            "project/sub/.claude/settings.json",
            &settings(VAR, "nested"),
        );
        let opts = world.options(env(&[("CLAUDE_PROJECT_DIR", "sub")]));
        let sources = Sources::discover_with(&opts);
        assert_eq!(
            sources.get(VAR),
            Some(("nested", &Source::ProjectSettings(nested)))
        );
    }

    #[test]
    fn empty_claude_project_dir_falls_back_to_cwd() {
        let world = World::new("emptyproject");
        world.write(
            "home/.claude/settings.json",
            &trusting_settings("OTEL_B", "b"),
        );
        let shared = world.write("project/.claude/settings.json", &settings(VAR, "cwd"));
        let sources = Sources::discover_with(&world.options(env(&[("CLAUDE_PROJECT_DIR", "")])));
        assert_eq!(
            sources.get(VAR),
            Some(("cwd", &Source::ProjectSettings(shared)))
        );
    }

    #[test]
    fn claude_config_dir_replaces_home() {
        let world = World::new("configdir");
        world.write("home/.claude/settings.json", &settings(VAR, "home"));
        let custom = world.write("custom/settings.json", &settings(VAR, "custom"));
        let dir = world.dir.path().join("custom");
        let opts = world.options(env(&[("CLAUDE_CONFIG_DIR", dir.to_str().unwrap())]));
        let sources = Sources::discover_with(&opts);
        assert_eq!(
            sources.get(VAR),
            Some(("custom", &Source::UserSettings(custom)))
        );
    }

    #[test]
    fn home_comes_from_env_when_not_overridden() {
        let world = World::new("envhome");
        let user = world.write("home/.claude/settings.json", &settings(VAR, "user"));
        let home_var = if cfg!(windows) { "USERPROFILE" } else { "HOME" };
        let mut opts = world.options(env(&[(home_var, world.home().to_str().unwrap())]));
        opts.home = None;
        let sources = Sources::discover_with(&opts);
        assert_eq!(
            sources.get(VAR),
            Some(("user", &Source::UserSettings(user)))
        );
    }

    #[test]
    fn project_at_home_reads_the_shared_file_once_as_the_users() {
        let world = World::new("samefile");
        let path = world.write("home/.claude/settings.json", &settings(VAR, "x"));
        let mut opts = world.options(vec![]);
        opts.cwd = Some(world.home());
        let sources = Sources::discover_with(&opts);
        let kinds: Vec<_> = sources.layers().map(|(source, _)| source.clone()).collect();
        assert_eq!(
            kinds,
            vec![Source::ProcessEnv, Source::UserSettings(path.clone())],
            "only the env layer and the user's file"
        );
        assert_eq!(sources.get(VAR), Some(("x", &Source::UserSettings(path))));
    }

    #[test]
    fn missing_files_contribute_nothing_and_say_nothing() {
        let world = World::new("empty");
        let sources = Sources::discover_with(&world.options(vec![]));
        assert!(sources.diagnostics().is_empty());
        assert_eq!(sources.layers().count(), 1, "only the process environment");
        assert_eq!(sources.get(VAR), None);
    }

    #[test]
    fn broken_file_is_reported_and_lower_layers_still_apply() {
        let world = World::new("broken");
        let project = world.write("project/.claude/settings.json", "{ \"env\": ");
        world.write("home/.claude/settings.json", &settings(VAR, "user"));
        let sources = Sources::discover_with(&world.options(vec![]));
        assert_eq!(sources.diagnostics().len(), 1);
        assert_eq!(
            sources.diagnostics()[0].source,
            Source::ProjectSettings(project)
        );
        assert_eq!(sources.get(VAR).map(|(v, _)| v), Some("user"));
    }

    #[test]
    fn process_env_keeps_only_relevant_names() {
        let world = World::new("relevant");
        let sources = Sources::discover_with(&world.options(env(&[
            ("OTEL_A", "1"),
            ("CLAUDE_CODE_ENABLE_TELEMETRY", "1"),
            ("HAN_TELEMETRY_EXIT_BUDGET_MS", "5"),
            ("TRACEPARENT", "t"),
            ("TRACESTATE", "s"),
            ("AWS_SECRET_ACCESS_KEY", "hidden"),
            ("PATH", "/bin"),
        ])));
        let (_, vars) = sources.layers().next().unwrap();
        let names: Vec<_> = vars.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            vec![
                "CLAUDE_CODE_ENABLE_TELEMETRY",
                "HAN_TELEMETRY_EXIT_BUDGET_MS",
                "OTEL_A",
                "TRACEPARENT",
                "TRACESTATE"
            ]
        );
    }

    #[test]
    fn later_duplicates_in_the_env_list_win() {
        let world = World::new("dupes");
        let sources =
            Sources::discover_with(&world.options(env(&[(VAR, "first"), (VAR, "second")])));
        assert_eq!(sources.get(VAR).map(|(v, _)| v), Some("second"));
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_env_values_are_reported_and_ignored() {
        use std::os::unix::ffi::OsStringExt;
        let world = World::new("nonutf8");
        world.write("home/.claude/settings.json", &settings(VAR, "user"));
        let opts = world.options(vec![(
            OsString::from(VAR),
            OsString::from_vec(vec![0x66, 0xff, 0x6f]),
        )]);
        let sources = Sources::discover_with(&opts);
        assert_eq!(
            sources.diagnostics()[0].to_string(),
            "OTEL_SERVICE_NAME (process environment) is not valid UTF-8; ignored"
        );
        assert_eq!(sources.get(VAR).map(|(v, _)| v), Some("user"));
    }

    #[test]
    fn with_layer_appends_lower_precedence() {
        let sources = Sources::new()
            .with_layer(Source::ProcessEnv, [(VAR, "high")])
            .with_layer(Source::Default, [(VAR, "low"), ("OTEL_B", "b")]);
        assert_eq!(sources.get(VAR), Some(("high", &Source::ProcessEnv)));
        assert_eq!(sources.get("OTEL_B"), Some(("b", &Source::Default)));
        assert_eq!(sources.get("OTEL_C"), None);
    }

    #[test]
    fn empty_value_shadows_lower_layers() {
        let sources = Sources::new()
            .with_layer(Source::ProcessEnv, [(VAR, "")])
            .with_layer(Source::Default, [(VAR, "low")]);
        assert_eq!(sources.get(VAR), Some(("", &Source::ProcessEnv)));
    }

    #[test]
    fn debug_output_masks_secrets() {
        let sources = Sources::new().with_layer(
            Source::ProcessEnv,
            [("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer s3cret")],
        );
        let shown = format!("{sources:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("authorization=***"), "{shown}");

        let opts = DiscoverOptions {
            env: env(&[("ANTHROPIC_API_KEY", "s3cret")]),
            ..DiscoverOptions::default()
        };
        let shown = format!("{opts:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("ANTHROPIC_API_KEY"), "{shown}");
    }

    #[test]
    fn source_display() {
        assert_eq!(
            Source::Managed(PathBuf::from("/etc/claude-code/managed-settings.json")).to_string(),
            "managed settings (/etc/claude-code/managed-settings.json)"
        );
        assert_eq!(Source::ProcessEnv.to_string(), "process environment");
        assert_eq!(
            Source::LocalSettings(PathBuf::from("/p/.claude/settings.local.json")).to_string(),
            ".claude/settings.local.json (/p/.claude/settings.local.json)"
        );
        assert_eq!(
            Source::ProjectSettings(PathBuf::from("/p/.claude/settings.json")).to_string(),
            ".claude/settings.json (/p/.claude/settings.json)"
        );
        assert_eq!(
            Source::UserSettings(PathBuf::from("/h/.claude/settings.json")).to_string(),
            "user settings (/h/.claude/settings.json)"
        );
        assert_eq!(Source::Default.to_string(), "default");
    }

    #[test]
    fn project_files_configure_nothing_by_default_and_each_value_is_listed() {
        let world = World::new("untrusted");
        let local = world.write(
            "project/.claude/settings.local.json",
            &settings("OTEL_EXPORTER_OTLP_ENDPOINT", "http://evil:4317"),
        );
        let project = world.write(
            "project/.claude/settings.json",
            r#"{"env": {"OTEL_EXPORTER_OTLP_HEADERS": "authorization=Bearer s3cret", "OTEL_SERVICE_NAME": "p"}}"#,
        );
        let user = world.write("home/.claude/settings.json", &settings(VAR, "user"));
        let sources = Sources::discover_with(&world.options(vec![]));
        assert_eq!(
            sources.get(VAR),
            Some(("user", &Source::UserSettings(user)))
        );
        assert_eq!(sources.get("OTEL_EXPORTER_OTLP_ENDPOINT"), None);
        assert_eq!(sources.get("OTEL_EXPORTER_OTLP_HEADERS"), None);
        assert!(!sources.project_trust().trusted);
        let ignored: Vec<(&str, &str, &Source)> = sources
            .ignored()
            .iter()
            .map(|i| (i.variable.as_str(), i.value.as_str(), &i.source))
            .collect();
        assert_eq!(
            ignored,
            vec![
                (
                    "OTEL_EXPORTER_OTLP_ENDPOINT",
                    "http://evil:4317",
                    &Source::LocalSettings(local)
                ),
                (
                    "OTEL_EXPORTER_OTLP_HEADERS",
                    "authorization=***",
                    &Source::ProjectSettings(project.clone())
                ),
                ("OTEL_SERVICE_NAME", "p", &Source::ProjectSettings(project)),
            ]
        );
        assert!(
            sources.ignored()[0]
                .reason()
                .contains("set HAN_TELEMETRY_TRUST_PROJECT_SETTINGS=1 in your user settings"),
            "{}",
            sources.ignored()[0].reason()
        );
    }

    #[test]
    fn trust_comes_from_managed_env_or_user_only_and_the_highest_decides() {
        let world = World::new("trusted");
        let project = world.write("project/.claude/settings.json", &settings(VAR, "project"));
        let user = world.write(
            "home/.claude/settings.json",
            &trusting_settings("OTEL_B", "b"),
        );
        let sources = Sources::discover_with(&world.options(vec![]));
        assert!(sources.project_trust().trusted);
        assert_eq!(
            sources.project_trust().decided_by,
            Source::UserSettings(user.clone())
        );
        assert_eq!(
            sources.get(VAR),
            Some(("project", &Source::ProjectSettings(project.clone())))
        );
        assert!(sources.ignored().is_empty(), "{:?}", sources.ignored());

        // The process environment turns it off again.
        let sources = Sources::discover_with(&world.options(env(&[(TRUST_PROJECT_SETTINGS, "0")])));
        assert!(!sources.project_trust().trusted);
        assert_eq!(sources.project_trust().decided_by, Source::ProcessEnv);
        assert_eq!(sources.get(VAR), None);

        // Managed settings beat everything.
        let managed = world.write(
            "managed-settings.json",
            &settings(TRUST_PROJECT_SETTINGS, "off"),
        );
        let sources = Sources::discover_with(&world.options(env(&[(TRUST_PROJECT_SETTINGS, "1")])));
        assert!(!sources.project_trust().trusted);
        assert_eq!(sources.project_trust().decided_by, Source::Managed(managed));
    }

    #[test]
    fn a_project_file_cannot_trust_itself() {
        let world = World::new("selftrust");
        let project = world.write(
            "project/.claude/settings.json",
            &trusting_settings(VAR, "project"),
        );
        let sources = Sources::discover_with(&world.options(vec![]));
        assert!(!sources.project_trust().trusted);
        assert_eq!(sources.get(VAR), None);
        assert_eq!(sources.get(TRUST_PROJECT_SETTINGS), None);
        let reason = sources
            .ignored()
            .iter()
            .find(|i| i.variable == TRUST_PROJECT_SETTINGS)
            .map(Ignored::reason)
            .unwrap_or_default();
        assert!(reason.contains("cannot trust itself"), "{reason}");

        // Even when another file trusts projects, the switch is read from trusted files only.
        let _ = project;
        world.write(
            "home/.claude/settings.json",
            &settings(TRUST_PROJECT_SETTINGS, "0"),
        );
        let sources = Sources::discover_with(&world.options(vec![]));
        assert!(!sources.project_trust().trusted);
    }

    #[test]
    fn under_claude_code_an_environment_value_only_a_project_file_explains_is_the_files() {
        let world = World::new("copied");
        let project = world.write(
            "project/.claude/settings.json",
            r#"{"env": {"HAN_METRICS_DIR": "/planted", "OTEL_SERVICE_NAME": "shared", "HAN_TELEMETRY_TRUST_PROJECT_SETTINGS": "1"}}"#,
        );
        world.write(
            "home/.claude/settings.json",
            &settings("OTEL_SERVICE_NAME", "shared"),
        );
        let vars = [
            ("HAN_METRICS_DIR", "/planted"),
            ("OTEL_SERVICE_NAME", "shared"),
            (TRUST_PROJECT_SETTINGS, "1"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "5"),
        ];
        let mut with_claude = vars.to_vec();
        with_claude.push(("CLAUDECODE", "1"));
        let sources = Sources::discover_with(&world.options(env(&with_claude)));
        assert_eq!(sources.get("HAN_METRICS_DIR"), None);
        assert!(
            !sources.project_trust().trusted,
            "copied switch is the project's"
        );
        assert_eq!(
            sources.get("OTEL_SERVICE_NAME"),
            Some(("shared", &Source::ProcessEnv)),
            "the user's file explains it too"
        );
        assert_eq!(
            sources.get("OTEL_EXPORTER_OTLP_TIMEOUT"),
            Some(("5", &Source::ProcessEnv)),
            "no file explains it"
        );
        let copied: Vec<_> = sources
            .ignored()
            .iter()
            .filter(|i| i.copied_to_env)
            .map(|i| (i.variable.as_str(), &i.source))
            .collect();
        assert_eq!(
            copied,
            vec![
                ("HAN_METRICS_DIR", &Source::ProjectSettings(project.clone())),
                (TRUST_PROJECT_SETTINGS, &Source::ProjectSettings(project)),
            ]
        );

        // Outside Claude Code nothing copies: the environment is the user's.
        let sources = Sources::discover_with(&world.options(env(&vars)));
        assert_eq!(
            sources.get("HAN_METRICS_DIR"),
            Some(("/planted", &Source::ProcessEnv))
        );
        assert!(sources.project_trust().trusted);
    }

    #[test]
    fn trust_levels_order_project_user_managed() {
        assert!(Trust::Project < Trust::User && Trust::User < Trust::Managed);
        assert_eq!(Source::Default.trust(), Trust::Managed);
        assert_eq!(Source::ProcessEnv.trust(), Trust::User);
        assert_eq!(
            Source::LocalSettings(PathBuf::from("/p")).trust(),
            Trust::Project
        );
    }

    #[test]
    fn default_managed_path_matches_the_os() {
        let path = default_managed_settings();
        if cfg!(target_os = "linux") {
            assert_eq!(
                path,
                PathBuf::from("/etc/claude-code/managed-settings.json")
            );
        }
        assert!(path.ends_with("managed-settings.json"));
    }
}
