//! Building the runtime's [`Config`] from a made-up environment and settings files, without
//! reading the real environment, home directory or managed settings.

use std::ffi::OsString;
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use han_telemetry::config::{Config, DiscoverOptions, Sources};

/// A process environment and Claude Code settings files for one test.
///
/// [`ConfigFixture::build`] writes the settings files into a fresh temporary directory laid
/// out as a home directory, a project (the working directory) and a managed settings file,
/// resolves them with [`Sources::discover_with`], and removes the directory again. Nothing
/// is read from the real environment, so tests may run in parallel.
///
/// Source paths in the returned configuration's provenance point into the removed directory:
/// match on the [`Source`](han_telemetry::config::Source) variant, not the path.
#[derive(Clone, Default)]
pub struct ConfigFixture {
    env: Vec<(OsString, OsString)>,
    managed: Option<String>,
    local: Option<String>,
    project: Option<String>,
    user: Option<String>,
}

impl fmt::Debug for ConfigFixture {
    /// Variable names only: values may be credentials (`OTEL_EXPORTER_OTLP_HEADERS`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<_> = self.env.iter().map(|(k, _)| k.to_string_lossy()).collect();
        f.debug_struct("ConfigFixture")
            .field("env_names", &names)
            .field("managed_settings", &self.managed.is_some())
            .field("local_settings", &self.local.is_some())
            .field("project_settings", &self.project.is_some())
            .field("user_settings", &self.user.is_some())
            .finish()
    }
}

impl ConfigFixture {
    /// An empty environment and no settings files: telemetry off, every default.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a process environment variable (a later value for the same name wins).
    pub fn env(mut self, name: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// The contents of the managed settings file (highest precedence).
    pub fn managed_settings(mut self, json: impl Into<String>) -> Self {
        self.managed = Some(json.into());
        self
    }

    /// The contents of `<project>/.claude/settings.local.json`.
    pub fn local_settings(mut self, json: impl Into<String>) -> Self {
        self.local = Some(json.into());
        self
    }

    /// The contents of `<project>/.claude/settings.json`.
    pub fn project_settings(mut self, json: impl Into<String>) -> Self {
        self.project = Some(json.into());
        self
    }

    /// The contents of `~/.claude/settings.json` (lowest precedence).
    pub fn user_settings(mut self, json: impl Into<String>) -> Self {
        self.user = Some(json.into());
        self
    }

    /// Resolves the configuration.
    ///
    /// # Panics
    ///
    /// When the temporary directory cannot be written; use [`ConfigFixture::try_build`] to
    /// handle that yourself.
    #[track_caller]
    pub fn build(&self) -> Config {
        match self.try_build() {
            Ok(config) => config,
            Err(e) => panic!("ConfigFixture could not write its settings files: {e}"),
        }
    }

    /// Resolves the configuration, or reports why the settings files could not be written.
    pub fn try_build(&self) -> io::Result<Config> {
        self.try_sources()
            .map(|sources| Config::from_sources(&sources))
    }

    /// The resolved sources (layers and reading problems), before they become a `Config`.
    pub fn try_sources(&self) -> io::Result<Sources> {
        let dir = TempDir::new()?;
        let home = dir.path().join("home");
        let project = dir.path().join("project");
        let managed = dir.path().join("managed-settings.json");
        fs::create_dir_all(&home)?;
        fs::create_dir_all(&project)?;
        let files = [
            (&self.managed, managed.clone()),
            (
                &self.local,
                project.join(".claude").join("settings.local.json"),
            ),
            (&self.project, project.join(".claude").join("settings.json")),
            (&self.user, home.join(".claude").join("settings.json")),
        ];
        for (contents, path) in files {
            if let Some(contents) = contents {
                write(&path, contents)?;
            }
        }
        let options = DiscoverOptions {
            env: self.env.clone(),
            cwd: Some(project),
            home: Some(home),
            managed_settings: Some(managed),
        };
        Ok(Sources::discover_with(&options))
    }
}

fn write(path: &Path, contents: &str) -> io::Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    fs::write(path, contents)
}

/// A unique directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> io::Result<Self> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let name = format!(
            "han-telemetry-testing-{}-{nanos}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let path = std::env::temp_dir().join(name);
        fs::create_dir_all(&path)?;
        Ok(TempDir(path))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}
