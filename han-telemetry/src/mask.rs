//! Masking: the one place that decides what of a secret may be shown.
//!
//! Every value that can reach an output channel (a stderr line, `doctor`, `replay`, a panic
//! message, `Debug`) goes through here first: header values become `***` (keys stay), a URL
//! loses its userinfo and its query values and fragment, and variables whose names suggest a
//! credential are hidden whole. Transports name URLs in their errors, so free text is masked
//! URL by URL too ([`mask_urls_in`]).

/// Longest value shown in diagnostics and provenance; longer ones are cut with an ellipsis.
const MAX_SHOWN_CHARS: usize = 200;

/// How a value may be shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mask {
    /// As it is (cut when long).
    Plain,
    /// A URL: userinfo, query values and fragment become `***`.
    Url,
    /// A `key=value,...` header list: keys only.
    Headers,
    /// Not at all: `***`.
    Whole,
}

impl Mask {
    /// What a variable's name suggests, for names han-telemetry does not know (a typo in a
    /// settings file, say): `*HEADERS` and `*ENDPOINT` as theirs, names with a credential
    /// word hidden whole.
    pub fn for_name(variable: &str) -> Mask {
        let upper = variable.to_ascii_uppercase();
        if upper.ends_with("HEADERS") {
            Mask::Headers
        } else if upper.ends_with("ENDPOINT") {
            Mask::Url
        } else if ["TOKEN", "SECRET", "PASSWORD", "API_KEY", "APIKEY"]
            .iter()
            .any(|word| upper.contains(word))
        {
            Mask::Whole
        } else {
            Mask::Plain
        }
    }

    /// The form of `value` that is safe to show.
    pub fn apply(self, value: &str) -> String {
        truncate(match self {
            Mask::Plain => value.to_owned(),
            Mask::Url => mask_url(value),
            Mask::Headers => mask_header_list(value),
            Mask::Whole => "***".to_owned(),
        })
    }
}

/// The form of `value` that is safe to show for a variable called `variable`, by what its
/// name suggests ([`Mask::for_name`]); the configuration masks the variables it knows by its
/// own table.
pub fn mask_value(variable: &str, value: &str) -> String {
    Mask::for_name(variable).apply(value)
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

/// `text` with every URL masked ([`mask_urls_in`]), `endpoint` as written masked too (it may
/// appear without a scheme), and each of `secrets` replaced by `***`: what a transport's
/// message may be shown as once it has named the endpoint or echoed a header value.
pub fn scrub<'a>(text: &str, endpoint: &str, secrets: impl IntoIterator<Item = &'a str>) -> String {
    let mut text = mask_urls_in(&text.replace(endpoint, &mask_url(endpoint)));
    for secret in secrets {
        // Very short values would mask unrelated text; they are not credentials worth the name.
        if secret.len() >= 4 {
            text = text.replace(secret, "***");
        }
    }
    text
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
    use super::*;

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
