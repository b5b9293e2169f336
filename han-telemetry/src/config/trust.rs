//! Which source may set what: a repository's settings files configure no telemetry unless a
//! trusted source says so, and a credential only goes where a source at least as trusted as
//! its own sent the data.
//!
//! Claude Code takes no telemetry configuration from a project's files either (it exports
//! nothing of its own from `OTEL_*` there, and runs a repository's `otelHeadersHelper` only for
//! a trusted workspace): a checkout the user did not write must not send the user's telemetry,
//! with the user's auth header, to a server of its choosing.

use std::collections::BTreeMap;

use super::parse;
use super::source::Source;
use super::vars::{self, Honoured, TRUST_PROJECT_SETTINGS};

/// One source's variables.
pub(super) type Layer = (Source, BTreeMap<String, String>);

/// How far a source is trusted to route and authenticate telemetry, least trusted first.
///
/// A credential (headers, a client certificate and key) is only sent to a destination that a
/// source at least as trusted as the credential's own chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Trust {
    /// A project's `.claude/settings.json` or `.claude/settings.local.json`: a repository can
    /// ship either.
    Project,
    /// The user's own: the process environment and the user's settings.
    User,
    /// The organisation's managed settings, and han-telemetry's defaults (nobody less trusted
    /// chose them).
    Managed,
}

impl Trust {
    /// As people read it, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Trust::Project => "project settings",
            Trust::User => "the user's environment and settings",
            Trust::Managed => "managed settings",
        }
    }
}

impl Source {
    /// How far this source is trusted to route and authenticate telemetry.
    pub fn trust(&self) -> Trust {
        match self {
            Source::Managed(_) | Source::Default => Trust::Managed,
            Source::ProcessEnv | Source::UserSettings(_) => Trust::User,
            Source::LocalSettings(_) | Source::ProjectSettings(_) => Trust::Project,
        }
    }
}

/// A value that was set but not used because of where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignored {
    /// The variable.
    pub variable: String,
    /// Its value, masked.
    pub value: String,
    /// The project file it came from.
    pub source: Source,
    /// It reached the process environment because Claude Code copies a project's `env`
    /// values into the hooks it starts.
    pub copied_to_env: bool,
}

impl Ignored {
    /// Why it was not used, one sentence.
    pub fn reason(&self) -> String {
        let via = if self.copied_to_env {
            " (Claude Code copied it into the process environment)"
        } else {
            ""
        };
        if self.variable == TRUST_PROJECT_SETTINGS.name {
            format!(
                "{}{via} cannot trust itself: {} is honoured only from managed settings, the \
                 process environment or the user's settings",
                self.source, TRUST_PROJECT_SETTINGS.name
            )
        } else {
            format!(
                "{}{via} comes with the repository, so it does not configure telemetry; set \
                 {}=1 in your user settings to let project files do so",
                self.source, TRUST_PROJECT_SETTINGS.name
            )
        }
    }
}

/// Whether the project's settings files may configure telemetry, and what decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectTrust {
    /// Project files configure telemetry.
    pub trusted: bool,
    /// The source of [`TRUST_PROJECT_SETTINGS`](super::vars::TRUST_PROJECT_SETTINGS), or [`Source::Default`] when it is unset.
    pub decided_by: Source,
}

impl Default for ProjectTrust {
    fn default() -> Self {
        ProjectTrust {
            trusted: false,
            decided_by: Source::Default,
        }
    }
}

/// Whether `source` may set `var`: project files only when trusted, and never a variable
/// [`Honoured::NeverFromProject`] (the switch that would trust them).
pub(super) fn may_set(source: &Source, var: &str, project: &ProjectTrust) -> bool {
    if source.trust() != Trust::Project {
        return true;
    }
    project.trusted && vars::named(var).is_none_or(|v| v.honoured != Honoured::NeverFromProject)
}

/// The credential rule: a credential set by `credential` may go to a destination that
/// `chosen_by` (the least trusted source among those that chose it) chose.
pub(super) fn may_carry(credential: &Source, chosen_by: Trust) -> bool {
    credential.trust() <= chosen_by
}

/// Whether project files are trusted: the switch from the highest trusted layer that sets it.
/// A bad value is reported by the resolver; until fixed, nothing is trusted.
pub(super) fn project_trust(layers: &[Layer]) -> ProjectTrust {
    layers
        .iter()
        .filter(|(source, _)| source.trust() > Trust::Project)
        .find_map(|(source, vars)| {
            let value = vars.get(TRUST_PROJECT_SETTINGS.name)?;
            (!value.trim().is_empty()).then(|| ProjectTrust {
                trusted: parse::enable_flag(value).unwrap_or(false),
                decided_by: source.clone(),
            })
        })
        .unwrap_or_default()
}

/// Under Claude Code, a process-environment value equal to a project file's value of the
/// same variable, which no trusted file sets to that value, was copied there from the
/// project file by Claude Code (it copies a project's `env` into the hooks it starts): it is
/// the file's, not the user's.
pub(super) fn copied_from_projects(layers: &[Layer]) -> Vec<Ignored> {
    let Some((_, env)) = layers.iter().find(|(s, _)| *s == Source::ProcessEnv) else {
        return Vec::new();
    };
    let file_with = |name: &str, value: &str, project: bool| {
        layers.iter().find(|(source, vars)| {
            *source != Source::ProcessEnv
                && (source.trust() == Trust::Project) == project
                && vars.get(name).is_some_and(|v| v == value)
        })
    };
    env.iter()
        .filter(|(name, value)| file_with(name, value, false).is_none())
        .filter_map(|(name, value)| {
            let (project, _) = file_with(name, value, true)?;
            Some(Ignored {
                variable: name.clone(),
                value: vars::shown(name, value),
                source: project.clone(),
                copied_to_env: true,
            })
        })
        .collect()
}

/// What trust leaves unused: every value of a project file (and, untrusted, every value
/// copied from one), or only the switch when project files are trusted.
pub(super) fn ignored(
    layers: &[Layer],
    project: &ProjectTrust,
    copied: &[Ignored],
) -> Vec<Ignored> {
    let mut ignored: Vec<Ignored> = if project.trusted {
        Vec::new()
    } else {
        copied.to_vec()
    };
    for (source, vars) in layers {
        if source.trust() != Trust::Project {
            continue;
        }
        for (name, value) in vars {
            if may_set(source, name, project)
                || ignored
                    .iter()
                    .any(|i| i.variable == *name && i.source == *source)
            {
                continue;
            }
            ignored.push(Ignored {
                variable: name.clone(),
                value: vars::shown(name, value),
                source: source.clone(),
                copied_to_env: false,
            });
        }
    }
    ignored
}
