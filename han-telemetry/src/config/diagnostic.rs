//! Problems found while reading configuration, and the masking that keeps secrets out of them.
//!
//! Every value that reaches a [`Diagnostic`] or a [`Provenance`](super::Provenance) goes through
//! [`mask_value`] first, so `Display`/`Debug` output can be printed or logged without leaking
//! credentials.

use std::fmt;

use super::sources::Source;

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
            value: raw.map(|raw| mask_value(variable, raw)),
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

/// Longest value shown in diagnostics and provenance; longer ones are cut with an ellipsis.
const MAX_SHOWN_CHARS: usize = 200;

/// The form of `value` that is safe to show for `variable`.
///
/// Header variables show only their keys; endpoints lose any `user:password@`; variables whose
/// names suggest a credential are replaced entirely.
pub fn mask_value(variable: &str, value: &str) -> String {
    let upper = variable.to_ascii_uppercase();
    let masked = if upper.ends_with("HEADERS") {
        mask_header_list(value)
    } else if upper.ends_with("ENDPOINT") {
        mask_url(value)
    } else if ["TOKEN", "SECRET", "PASSWORD", "API_KEY", "APIKEY"]
        .iter()
        .any(|word| upper.contains(word))
    {
        "***".to_owned()
    } else {
        value.to_owned()
    };
    truncate(masked)
}

/// `authorization=Bearer x, x-team=a` becomes `authorization=***,x-team=***`.
///
/// A pair without `=` might be a bare token pasted in the wrong place, and a key that is no
/// valid header name is often a credential pasted in curl syntax (`Authorization: Basic
/// <token>==` splits at the padding), so both are shown as `***`.
pub fn mask_header_list(value: &str) -> String {
    value
        .split(',')
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if http::HeaderName::from_bytes(key.trim().as_bytes()).is_ok() => {
                format!("{}=***", key.trim())
            }
            _ => "***".to_owned(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The form of a URL that is safe to show: its userinfo (`https://user:pass@host`) and the
/// values of its query (`?key=token`) and its fragment become `***`; query keys stay, so
/// a reader can tell which parameter carried what.
pub fn mask_url(value: &str) -> String {
    mask_query(&mask_userinfo(value))
}

/// `text` with every URL in it (`scheme://...` up to white space or a closing quote or
/// bracket) masked like [`mask_url`]: transports name the request's URL in their errors.
pub fn mask_urls_in(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let scheme_start = rest[..at]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
            .map_or(0, |i| i + 1);
        let end = rest[at..]
            .find(|c: char| c.is_whitespace() || matches!(c, ')' | '"' | '\'' | '>' | ']'))
            .map_or(rest.len(), |i| at + i);
        out.push_str(&rest[..scheme_start]);
        out.push_str(&mask_url(&rest[scheme_start..end]));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// The query's values and the fragment of `url` replaced by `***`.
fn mask_query(url: &str) -> String {
    let Some(question) = url.find(['?', '#']) else {
        return url.to_owned();
    };
    let (head, tail) = url.split_at(question);
    let (query, fragment) = match tail.find('#') {
        Some(hash) => (&tail[..hash], &tail[hash..]),
        None => (tail, ""),
    };
    let mut out = head.to_owned();
    if let Some(query) = query.strip_prefix('?') {
        out.push('?');
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, "")) => format!("{key}="),
                Some((key, _)) => format!("{key}=***"),
                None if pair.is_empty() => String::new(),
                None => "***".to_owned(),
            })
            .collect();
        out.push_str(&pairs.join("&"));
    }
    if fragment.len() > 1 {
        out.push_str("#***");
    } else {
        out.push_str(fragment);
    }
    out
}

/// Replaces the userinfo of a URL (`https://user:pass@host`) with `***`.
fn mask_userinfo(value: &str) -> String {
    let (scheme, rest) = match value.split_once("://") {
        Some((scheme, rest)) => (Some(scheme), rest),
        None => (None, value),
    };
    let mut authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    if !rest[..authority_end].contains('@') && !is_host_and_port(&rest[..authority_end]) {
        // `user:pa/ss@host`: a `/` in the password ended the authority early. Up to the last
        // `@` before any query is taken as userinfo, as nothing before it is a host.
        let query = rest.find(['?', '#']).unwrap_or(rest.len());
        if let Some(at) = rest[..query].rfind('@') {
            authority_end = rest[at..]
                .find(['/', '?', '#'])
                .map_or(rest.len(), |end| at + end);
        }
    }
    let (authority, tail) = rest.split_at_checked(authority_end).unwrap_or((rest, ""));
    let Some((_, host)) = authority.rsplit_once('@') else {
        return value.to_owned();
    };
    match scheme {
        Some(scheme) => format!("{scheme}://***@{host}{tail}"),
        None => format!("***@{host}{tail}"),
    }
}

/// `host`, `host:4317` or `[::1]:4317`: what an authority without userinfo looks like.
fn is_host_and_port(authority: &str) -> bool {
    let after_host = match authority.strip_prefix('[') {
        Some(bracketed) => bracketed.split_once(']').map_or("", |(_, rest)| rest),
        None => authority,
    };
    after_host
        .split_once(':')
        .is_none_or(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
}

/// `text` cut like a shown value and quoted, for a problem that names part of a value.
pub(crate) fn quoted(text: &str) -> String {
    let cut: String = text.chars().take(MAX_SHOWN_CHARS + 1).collect();
    format!("{:?}", truncate(cut))
}

fn truncate(value: String) -> String {
    if value.chars().count() <= MAX_SHOWN_CHARS {
        return value;
    }
    let mut cut: String = value.chars().take(MAX_SHOWN_CHARS).collect();
    cut.push('…');
    cut
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
    fn header_values_are_masked_to_keys() {
        assert_eq!(
            mask_value(
                "OTEL_EXPORTER_OTLP_HEADERS",
                "Authorization=Bearer s3cret, x-team=a,,"
            ),
            "Authorization=***,x-team=***"
        );
        assert_eq!(mask_header_list("justatoken"), "***");
        assert_eq!(
            mask_header_list("Authorization: Basic dG9rZW4==, x-team=a, bad key=v"),
            "***,x-team=***,***",
            "a key that is no header name may be a pasted credential"
        );
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

    #[test]
    fn endpoint_userinfo_is_masked() {
        assert_eq!(
            mask_value(
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                "https://u:pw@host:4318/x?q=1"
            ),
            "https://***@host:4318/x?q=***"
        );
        assert_eq!(
            mask_url("http://host/a@b"),
            "http://host/a@b",
            "an @ in the path is not userinfo"
        );
        assert_eq!(mask_url("u:pw@host"), "***@host");
        assert_eq!(
            mask_url("https://u:pa/ss@host:4318/v1?q=a@b"),
            "https://***@host:4318/v1?q=***",
            "a `/` in the password does not end the userinfo"
        );
        assert_eq!(mask_url("u:pa/ss@host"), "***@host");
        assert_eq!(
            mask_url("http://host:4318/a@b"),
            "http://host:4318/a@b",
            "after a host and port, an @ in the path is still not userinfo"
        );
    }

    #[test]
    fn credential_looking_variables_are_hidden() {
        assert_eq!(mask_value("HAN_API_KEY", "k"), "***");
        assert_eq!(mask_value("CLAUDE_CODE_OAUTH_TOKEN", "t"), "***");
        assert_eq!(mask_value("OTEL_SERVICE_NAME", "svc"), "svc");
    }

    #[test]
    fn long_values_are_truncated_on_a_char_boundary() {
        let long = "é".repeat(500);
        let shown = mask_value("OTEL_SERVICE_NAME", &long);
        assert_eq!(shown.chars().count(), MAX_SHOWN_CHARS + 1);
        assert!(shown.ends_with('…'));
    }

    #[test]
    fn urls_in_text_lose_userinfo_and_query_values() {
        assert_eq!(
            mask_urls_in(
                "error sending request for url (http://user:s3cr%2Ft@127.0.0.1:4318/v1/logs): x"
            ),
            "error sending request for url (http://***@127.0.0.1:4318/v1/logs): x"
        );
        assert_eq!(
            mask_urls_in("a https://h:1/p and http://u@h and ftp://"),
            "a https://h:1/p and http://***@h and ftp://"
        );
        assert_eq!(
            mask_urls_in("for url (http://127.0.0.1:4317/v1/metrics?key=T0KEN&debug): refused"),
            "for url (http://127.0.0.1:4317/v1/metrics?key=***&***): refused"
        );
    }

    #[test]
    fn query_values_and_fragments_are_masked_keys_kept() {
        assert_eq!(
            mask_url("http://127.0.0.1:4317/?key=T0KEN"),
            "http://127.0.0.1:4317/?key=***"
        );
        assert_eq!(
            mask_url("https://u:p@h/v1/logs?a=1&b=&c#frag"),
            "https://***@h/v1/logs?a=***&b=&***#***"
        );
        assert_eq!(mask_url("http://h:4317"), "http://h:4317");
        assert_eq!(mask_url("http://h/?"), "http://h/?");
        assert_eq!(
            mask_value("OTEL_EXPORTER_OTLP_ENDPOINT", "http://h:4317?token=T0KEN"),
            "http://h:4317?token=***"
        );
    }
}
