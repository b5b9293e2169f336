//! Checking what the arguments mean for a given annotation and function, before any code
//! is generated. Every error is reported at the token that causes it.

use syn::spanned::Spanned;
use syn::{FnArg, ItemFn, Pat};

use crate::attr::{Args, PairValue, Value};

/// The annotations of the family.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    Hook,
    Plugin,
    McpTool,
    Validation,
    Task,
}

impl Family {
    pub(crate) fn attribute(self) -> &'static str {
        match self {
            Family::Hook => "instrument_hook",
            Family::Plugin => "instrument_plugin",
            Family::McpTool => "instrument_mcp_tool",
            Family::Validation => "instrument_validation",
            Family::Task => "instrument_task",
        }
    }

    /// The string attributes this annotation takes.
    fn string_keys(self) -> &'static [&'static str] {
        match self {
            Family::Hook => &["hook_name", "hook_type"],
            Family::Plugin => &["plugin_name", "scope"],
            Family::McpTool => &["tool_name"],
            Family::Validation => &["validation_type"],
            Family::Task => &["task_type"],
        }
    }

    /// String attributes that have no default.
    fn required_keys(self) -> &'static [&'static str] {
        match self {
            Family::Hook => &["hook_type"],
            Family::Plugin => &["plugin_name", "scope"],
            _ => &[],
        }
    }

    fn flags(self) -> &'static [&'static str] {
        match self {
            Family::Plugin => &["install", "uninstall"],
            _ => &[],
        }
    }

    fn example(self) -> &'static str {
        match self {
            Family::Hook => "#[instrument_hook(hook_type = \"PostToolUse\")]",
            Family::Plugin => "#[instrument_plugin(install, plugin_name = name, scope = \"user\")]",
            Family::McpTool => "#[instrument_mcp_tool(tool_name = \"search\")]",
            Family::Validation => "#[instrument_validation(validation_type = \"typecheck\")]",
            Family::Task => "#[instrument_task(task_type = \"refactor\")]",
        }
    }
}

fn list(items: &[&str]) -> String {
    items
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The candidate closest to `typed` if it is near enough to be a typo (at most a third of
/// its letters differ, and at least one is right).
fn did_you_mean<'a>(typed: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (edit_distance(typed, c), *c))
        .filter(|(d, c)| *d > 0 && *d * 3 <= c.len().max(typed.len()))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance over bytes (argument names are ASCII identifiers).
fn edit_distance(a: &str, b: &str) -> usize {
    let b = b.as_bytes();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.bytes().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != cb))
                .min(above + 1)
                .min(row[j] + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

/// Names of the function's parameters that can be referred to (simple identifiers).
fn parameter_names(item: &ItemFn) -> Vec<String> {
    item.sig
        .inputs
        .iter()
        .filter_map(|arg| match arg {
            FnArg::Typed(t) => match &*t.pat {
                Pat::Ident(p) => Some(p.ident.to_string()),
                _ => None,
            },
            FnArg::Receiver(_) => None,
        })
        .collect()
}

/// Checks the function's shape and the arguments. Collects every error, so one build
/// shows them all, each at its own token.
pub(crate) fn validate(family: Family, args: &Args, item: &ItemFn) -> syn::Result<()> {
    let mut errors: Vec<syn::Error> = Vec::new();
    let fn_name = item.sig.ident.to_string();

    if let Some(constness) = &item.sig.constness {
        errors.push(syn::Error::new(
            constness.span(),
            format!("`#[{}]` cannot instrument a `const fn`: telemetry reads the clock and records at run time", family.attribute()),
        ));
    }

    let allowed_keys: Vec<&str> = family
        .string_keys()
        .iter()
        .copied()
        .chain(["success", "crate"])
        .collect();
    // Arguments a typo stood for: they are not reported missing as well, so one mistake
    // gives one error, at the typo.
    let mut meant: Vec<&str> = Vec::new();
    for pair in &args.pairs {
        let key = pair.key.to_string();
        if !allowed_keys.contains(&key.as_str()) {
            let message = match did_you_mean(&key, &allowed_keys) {
                Some(close) => {
                    meant.push(close);
                    format!(
                        "unknown argument `{key}` for `#[{}]`; did you mean `{close}`?",
                        family.attribute()
                    )
                }
                None => format!(
                    "unknown argument `{key}` for `#[{}]`; expected one of {}",
                    family.attribute(),
                    list(&allowed_keys)
                ),
            };
            errors.push(syn::Error::new(pair.key.span(), message));
            continue;
        }
        match &pair.value {
            PairValue::Str(Value::Invalid(expr)) => errors.push(syn::Error::new(
                expr.span(),
                format!("`{key}` takes a string literal or the name of a parameter of `{fn_name}`"),
            )),
            PairValue::Str(Value::Parameter(ident)) => {
                let params = parameter_names(item);
                if !params.iter().any(|p| ident == p) {
                    let known = if params.is_empty() {
                        format!("`{fn_name}` has no named parameters")
                    } else {
                        format!("its parameters are {}", list(&params.iter().map(String::as_str).collect::<Vec<_>>()))
                    };
                    errors.push(syn::Error::new(
                        ident.span(),
                        format!("`{ident}` names no parameter of `{fn_name}` ({known}); use a string literal for a fixed value"),
                    ));
                }
            }
            PairValue::Predicate(syn::Expr::Lit(lit)) => errors.push(syn::Error::new(
                lit.span(),
                "`success` takes a predicate over the return value, e.g. `success = |ret| ret.passed`",
            )),
            _ => {}
        }
    }

    for flag in &args.flags {
        let name = flag.to_string();
        if !family.flags().contains(&name.as_str()) {
            let hint = if family.string_keys().contains(&name.as_str()) || name == "success" {
                format!("`{name}` needs a value: `{name} = ...`")
            } else if let Some(close) = did_you_mean(&name, family.flags()) {
                meant.push(close);
                format!(
                    "unknown argument `{name}` for `#[{}]`; did you mean `{close}`?",
                    family.attribute()
                )
            } else if family.flags().is_empty() {
                format!("unknown argument `{name}` for `#[{}]`", family.attribute())
            } else {
                format!(
                    "unknown argument `{name}`; expected {}",
                    list(family.flags())
                )
            };
            errors.push(syn::Error::new(flag.span(), hint));
        }
    }
    if family == Family::Plugin {
        let actions: Vec<_> = args
            .flags
            .iter()
            .filter(|f| family.flags().contains(&f.to_string().as_str()))
            .collect();
        if actions.len() > 1 {
            errors.push(syn::Error::new(
                actions[1].span(),
                "choose one of `install` or `uninstall`",
            ));
        }
    }

    let mut missing: Vec<&str> = family
        .required_keys()
        .iter()
        .copied()
        .filter(|k| args.get(k).is_none() && !meant.contains(k))
        .collect();
    if family == Family::Plugin
        && !args
            .flags
            .iter()
            .any(|f| f == "install" || f == "uninstall")
        && !meant.iter().any(|k| *k == "install" || *k == "uninstall")
    {
        missing.insert(0, "install` or `uninstall");
    }
    if !missing.is_empty() {
        errors.push(syn::Error::new(
            proc_macro2::Span::call_site(),
            format!(
                "`#[{}]` needs {}, e.g. `{}`",
                family.attribute(),
                list(&missing),
                family.example()
            ),
        ));
    }

    let mut errors = errors.into_iter();
    match errors.next() {
        None => Ok(()),
        Some(mut first) => {
            first.extend(errors);
            Err(first)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_find_their_argument_and_strangers_find_none() {
        let keys = ["hook_name", "hook_type", "success", "crate"];
        assert_eq!(did_you_mean("hook_typ", &keys), Some("hook_type"));
        assert_eq!(did_you_mean("hooktype", &keys), Some("hook_type"));
        assert_eq!(did_you_mean("sucess", &keys), Some("success"));
        assert_eq!(did_you_mean("hook_nam", &keys), Some("hook_name"));
        assert_eq!(did_you_mean("hook_kind", &keys), None);
        assert_eq!(did_you_mean("level", &keys), None);
        assert_eq!(
            did_you_mean("instal", &["install", "uninstall"]),
            Some("install")
        );
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
