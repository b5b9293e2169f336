//! Where configuration values come from, and in which order they win.
//!
//! Hooks no longer inherit `OTEL_*` from Claude Code, so the same variables are also read from the
//! `env` blocks of Claude Code's settings files, in Claude Code's own precedence: managed settings,
//! then the process environment, then local, project and user settings.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::{Path, PathBuf};

use super::diagnostic::{Diagnostic, mask_value};
use super::settings_file::{self, Loaded};

/// Where a value came from, for diagnostics and `doctor`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Source {
    /// The organisation's managed settings file; it overrides everything else.
    Managed(PathBuf),
    /// The hook's own process environment.
    ProcessEnv,
    /// `<project>/.claude/settings.local.json`.
    LocalSettings(PathBuf),
    /// `<project>/.claude/settings.json`.
    ProjectSettings(PathBuf),
    /// `~/.claude/settings.json` or `$CLAUDE_CONFIG_DIR/settings.json`.
    UserSettings(PathBuf),
    /// Nothing set it; han-telemetry's default is used.
    Default,
}

impl Source {
    /// The settings file behind this source, if it is one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Self::Managed(path)
            | Self::LocalSettings(path)
            | Self::ProjectSettings(path)
            | Self::UserSettings(path) => Some(path),
            Self::ProcessEnv | Self::Default => None,
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Managed(path) => write!(f, "managed settings ({})", path.display()),
            Self::ProcessEnv => f.write_str("process environment"),
            Self::LocalSettings(path) => {
                write!(f, ".claude/settings.local.json ({})", path.display())
            }
            Self::ProjectSettings(path) => write!(f, ".claude/settings.json ({})", path.display()),
            Self::UserSettings(path) => write!(f, "user settings ({})", path.display()),
            Self::Default => f.write_str("default"),
        }
    }
}

/// Whether han-telemetry reads a variable; everything else in the environment is left alone so
/// unrelated secrets never enter our data structures.
pub(crate) fn is_relevant(name: &str) -> bool {
    ["OTEL_", "CLAUDE_CODE_", "HAN_"]
        .iter()
        .any(|prefix| name.starts_with(prefix))
        || name == "TRACEPARENT"
        || name == "TRACESTATE"
}

/// Layers of variables, highest precedence first, plus the problems met while reading them.
#[derive(Clone, Default)]
pub struct Sources {
    layers: Vec<(Source, BTreeMap<String, String>)>,
    diagnostics: Vec<Diagnostic>,
    claude_dir: Option<PathBuf>,
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
        self
    }

    /// Claude Code's configuration directory (`$CLAUDE_CONFIG_DIR`, else `~/.claude`), under
    /// which the local metrics store lives by default.
    #[must_use]
    pub fn with_claude_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.claude_dir = Some(dir.into());
        self
    }

    /// Claude Code's configuration directory, when known.
    pub fn claude_dir(&self) -> Option<&Path> {
        self.claude_dir.as_deref()
    }

    /// The real process environment and the real settings files.
    pub fn discover() -> Self {
        Self::discover_with(&DiscoverOptions::from_process())
    }

    /// Discovery with every input supplied by the caller, so tests need no real environment.
    pub fn discover_with(opts: &DiscoverOptions) -> Self {
        let mut sources = Self::new();
        sources.claude_dir = opts.claude_dir();

        let managed = opts
            .managed_settings
            .clone()
            .unwrap_or_else(default_managed_settings);
        sources.add_file(Source::Managed(managed.clone()), &managed);

        sources.add_process_env(&opts.env);

        let project_settings = opts.project_dir().map(|project| {
            let dir = project.join(".claude");
            let local = dir.join("settings.local.json");
            sources.add_file(Source::LocalSettings(local.clone()), &local);
            let shared = dir.join("settings.json");
            sources.add_file(Source::ProjectSettings(shared.clone()), &shared);
            shared
        });

        if let Some(user) = opts.user_settings() {
            // With the project at $HOME both names point at one file; it counts once, as project.
            let already_read = project_settings
                .as_deref()
                .is_some_and(|project| same_file(project, &user));
            if !already_read {
                sources.add_file(Source::UserSettings(user.clone()), &user);
            }
        }
        sources
    }

    /// The value from the highest layer that has `var`, with that layer's source.
    ///
    /// An empty value still counts as set, as it would in a real environment: it shadows lower
    /// layers, and the parser for that variable decides what empty means.
    pub fn get(&self, var: &str) -> Option<(&str, &Source)> {
        self.layers
            .iter()
            .find_map(|(source, vars)| vars.get(var).map(|value| (value.as_str(), source)))
    }

    /// Problems met while reading files and the environment.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// The layers, highest precedence first (for `doctor`; values are unmasked).
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
            let Some(name) = name.to_str().filter(|name| is_relevant(name)) else {
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
                    .entries(self.0.iter().map(|(k, v)| (k, mask_value(k, v))))
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
            .field("claude_dir", &self.claude_dir)
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
        let user = world.write("home/.claude/settings.json", &settings(VAR, "user"));
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
    fn project_at_home_reads_the_shared_file_once_as_project() {
        let world = World::new("samefile");
        let path = world.write("home/.claude/settings.json", &settings(VAR, "x"));
        let mut opts = world.options(vec![]);
        opts.cwd = Some(world.home());
        let sources = Sources::discover_with(&opts);
        let kinds: Vec<_> = sources.layers().map(|(source, _)| source.clone()).collect();
        assert_eq!(
            kinds,
            vec![Source::ProcessEnv, Source::ProjectSettings(path)],
            "only the env layer and the project layer"
        );
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
