//! Where a value came from.

use std::fmt;
use std::path::{Path, PathBuf};

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
