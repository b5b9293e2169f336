//! Problems found while reading configuration, and the masking that keeps secrets out of them.
//!
//! Every value that reaches a [`Diagnostic`] or a [`Provenance`](super::Provenance) goes through
//! [`mask_value`] first, so `Display`/`Debug` output can be printed or logged without leaking
//! credentials.

use std::fmt;

use super::source::Source;
use super::vars;

/// One configuration problem and what was done about it.
///
/// Configuration never fails: each unusable value becomes one of these and a fallback is used, so
/// a hook keeps running and `doctor` can explain what happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The variable name, or the settings file path for problems with a whole file.
    pub subject: String,
    /// The offending value, already masked; `None` when it cannot or must not be shown.
    pub value: Option<String>,
    /// Where the value (or file) came from.
    pub source: Source,
    /// What is wrong, phrased to follow the subject (e.g. "is not a whole number of milliseconds").
    pub problem: String,
    /// What is used instead (e.g. "using 60000").
    pub fallback: String,
}

impl Diagnostic {
    /// A problem with a value of `variable`; `raw` is masked here so callers cannot forget.
    pub(crate) fn for_value(
        variable: &str,
        raw: Option<&str>,
        source: &Source,
        problem: impl Into<String>,
        fallback: impl Into<String>,
    ) -> Self {
        Self {
            subject: variable.to_owned(),
            value: raw.map(|raw| vars::shown(variable, raw)),
            source: source.clone(),
            problem: problem.into(),
            fallback: fallback.into(),
        }
    }

    /// A problem with a whole settings file (the subject is the file's path).
    pub(crate) fn for_file(
        source: &Source,
        problem: impl Into<String>,
        fallback: impl Into<String>,
    ) -> Self {
        let subject = source
            .path()
            .map_or_else(|| source.to_string(), |path| path.display().to_string());
        Self {
            subject,
            value: None,
            source: source.clone(),
            problem: problem.into(),
            fallback: fallback.into(),
        }
    }

    /// True when the diagnostic is about a settings file itself rather than one variable.
    pub(crate) fn is_about_file(&self) -> bool {
        self.source
            .path()
            .is_some_and(|path| path.display().to_string() == self.subject)
    }
}

impl fmt::Display for Diagnostic {
    /// One line: control characters anywhere (a variable name from the environment or a
    /// settings file can hold a newline) are escaped, so nothing can forge log lines.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (subject, problem, fallback) = (
            OneLine(&self.subject),
            OneLine(&self.problem),
            OneLine(&self.fallback),
        );
        if self.is_about_file() {
            return write!(f, "{subject}: {problem}; {fallback}");
        }
        write!(f, "{subject}")?;
        if let Some(value) = &self.value {
            // Debug quoting escapes control characters, so a hostile value cannot forge log lines.
            write!(f, "={value:?}")?;
        }
        let source = self.source.to_string();
        write!(f, " ({}) {problem}; {fallback}", OneLine(&source))
    }
}

/// Text with its control characters escaped (`\n`, `\u{1b}`), everything else as is.
struct OneLine<'a>(&'a str);

impl fmt::Display for OneLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            if c.is_control() {
                write!(f, "{}", c.escape_default())?;
            } else {
                f.write_fmt(format_args!("{c}"))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    #[test]
    fn value_diagnostic_display_matches_the_documented_shape() {
        let d = Diagnostic::for_value(
            "OTEL_METRIC_EXPORT_INTERVAL",
            Some("abc"),
            &Source::ProcessEnv,
            "is not a whole number of milliseconds",
            "using 60000",
        );
        assert_eq!(
            d.to_string(),
            "OTEL_METRIC_EXPORT_INTERVAL=\"abc\" (process environment) is not a whole number of \
             milliseconds; using 60000"
        );
    }

    #[test]
    fn file_diagnostic_display_matches_the_documented_shape() {
        let path = PathBuf::from("/home/u/.claude/settings.json");
        let d = Diagnostic::for_file(
            &Source::UserSettings(path),
            "invalid JSON at line 3 column 5 (expected `,` or `}`)",
            "its env block is ignored",
        );
        assert_eq!(
            d.to_string(),
            "/home/u/.claude/settings.json: invalid JSON at line 3 column 5 (expected `,` or `}`); \
             its env block is ignored"
        );
        assert!(!d.to_string().ends_with('\n'));
    }

    #[test]
    fn diagnostic_without_value_omits_the_equals_sign() {
        let d = Diagnostic::for_value(
            "OTEL_SERVICE_NAME",
            None,
            &Source::ProcessEnv,
            "is not valid UTF-8",
            "ignored",
        );
        assert_eq!(
            d.to_string(),
            "OTEL_SERVICE_NAME (process environment) is not valid UTF-8; ignored"
        );
    }

    #[test]
    fn control_characters_in_values_are_escaped() {
        let d = Diagnostic::for_value("X", Some("a\nb"), &Source::ProcessEnv, "bad", "ignored");
        assert!(!d.to_string().contains('\n'));
    }

    #[test]
    fn control_characters_in_names_are_escaped() {
        // A settings file's key, or an environment variable's name, may hold a newline.
        let d = Diagnostic::for_value(
            "OTEL_X\nhan-telemetry: forged",
            None,
            &Source::UserSettings(PathBuf::from("/u\r")),
            "is null\u{1b}[2J",
            "ignored",
        );
        assert_eq!(
            d.to_string(),
            "OTEL_X\\nhan-telemetry: forged (user settings (/u\\r)) is null\\u{1b}[2J; ignored"
        );
        let file = Diagnostic::for_file(
            &Source::ProjectSettings(PathBuf::from("/p\n/settings.json")),
            "broken",
            "ignored",
        );
        assert_eq!(file.to_string(), "/p\\n/settings.json: broken; ignored");
    }

    #[test]
    fn a_header_variables_value_is_masked_in_every_form() {
        let d = Diagnostic::for_value(
            "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
            Some("api-key=s3cret"),
            &Source::ProcessEnv,
            "p",
            "f",
        );
        assert!(!d.to_string().contains("s3cret"));
        assert!(!format!("{d:?}").contains("s3cret"));
    }
}
