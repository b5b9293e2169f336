//! What the arguments mean for one annotation and one function: checked before any code is
//! generated, every error at the token that causes it. The result is the typed
//! [`Instrument`] that `expand` consumes.

use std::fmt::Display;

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Expr, FnArg, Ident, ItemFn, Pat, Path};

use crate::annotation::{Action, Annotation, Instrument, NameSource, Str, Success};
use crate::attr::{Args, StrValue, Value};

/// The annotations of the family: which attribute was written.
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

    /// The string-valued arguments this annotation takes.
    fn keys(self) -> &'static [Key] {
        match self {
            Family::Hook => &[Key::HookName, Key::HookType],
            Family::Plugin => &[Key::PluginName, Key::Scope],
            Family::McpTool => &[Key::ToolName],
            Family::Validation => &[Key::ValidationType],
            Family::Task => &[Key::TaskType],
        }
    }

    /// The bare words this annotation takes.
    fn actions(self) -> &'static [Action] {
        match self {
            Family::Plugin => &[Action::Install, Action::Uninstall],
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

/// The string-valued arguments of the family.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Key {
    HookName,
    HookType,
    PluginName,
    Scope,
    ToolName,
    ValidationType,
    TaskType,
}

impl Key {
    fn name(self) -> &'static str {
        match self {
            Key::HookName => "hook_name",
            Key::HookType => "hook_type",
            Key::PluginName => "plugin_name",
            Key::Scope => "scope",
            Key::ToolName => "tool_name",
            Key::ValidationType => "validation_type",
            Key::TaskType => "task_type",
        }
    }
}

impl Action {
    fn name(self) -> &'static str {
        match self {
            Action::Install => "install",
            Action::Uninstall => "uninstall",
        }
    }
}

/// What an annotation lacks to be complete.
#[derive(Clone, Copy)]
enum Needed {
    Action,
    Key(Key),
}

impl Needed {
    fn name(self) -> &'static str {
        match self {
            Needed::Action => "install` or `uninstall",
            Needed::Key(key) => key.name(),
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
fn did_you_mean(typed: &str, candidates: &[&'static str]) -> Option<&'static str> {
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

/// Errors found so far, reported together so one build shows them all.
#[derive(Default)]
struct Errors(Vec<syn::Error>);

impl Errors {
    fn push(&mut self, span: Span, message: impl Display) {
        self.push_error(syn::Error::new(span, message));
    }

    fn push_error(&mut self, error: syn::Error) {
        self.0.push(error);
    }

    /// `value`, unless an error was found: then every error, in the order found.
    fn finish<T>(self, value: syn::Result<T>) -> syn::Result<T> {
        let mut errors = self.0.into_iter();
        match errors.next() {
            None => value,
            Some(mut first) => {
                first.extend(errors);
                Err(first)
            }
        }
    }
}

/// The valid values found among the arguments, and what explains an absent one.
#[derive(Default)]
struct Found {
    strings: Vec<(Key, Str)>,
    /// String keys written with a value, valid or not: never reported missing.
    written: Vec<Key>,
    /// Arguments a typo stood for: not reported missing as well, so one mistake gives one
    /// error, at the typo.
    meant: Vec<&'static str>,
    /// The first action written.
    action: Option<Action>,
}

impl Found {
    fn take(&mut self, key: Key) -> Option<Str> {
        let at = self.strings.iter().position(|(k, _)| *k == key)?;
        Some(self.strings.swap_remove(at).1)
    }

    /// The value of `key`, else the function's name.
    fn name(&mut self, key: Key, function: &Ident) -> NameSource {
        match self.take(key) {
            Some(value) => NameSource::Given(value),
            None => NameSource::Function(function.clone()),
        }
    }

    /// The value of `key`, which has no default; noted in `lacking` when there is none.
    fn required(&mut self, key: Key, lacking: &mut Vec<Needed>) -> Option<Str> {
        let value = self.take(key);
        if value.is_none() {
            lacking.push(Needed::Key(key));
        }
        value
    }

    /// The plugin's action; noted in `lacking` when there is none.
    fn action(&mut self, lacking: &mut Vec<Needed>) -> Option<Action> {
        if self.action.is_none() {
            lacking.push(Needed::Action);
        }
        self.action
    }

    /// Whether an absent argument is explained by another error: a value that was written
    /// but is invalid, or a typo of its name.
    fn explains(&self, needed: Needed) -> bool {
        match needed {
            Needed::Action => self
                .meant
                .iter()
                .any(|m| *m == Action::Install.name() || *m == Action::Uninstall.name()),
            Needed::Key(key) => self.written.contains(&key) || self.meant.contains(&key.name()),
        }
    }

    /// The annotation of `family`, or what it lacks (in the order reported).
    fn annotation(&mut self, family: Family, function: &Ident) -> Result<Annotation, Vec<Needed>> {
        let mut lacking = Vec::new();
        let annotation = match family {
            Family::Hook => {
                let hook_name = self.name(Key::HookName, function);
                let hook_type = self.required(Key::HookType, &mut lacking);
                hook_type.map(|hook_type| Annotation::Hook {
                    hook_name,
                    hook_type,
                })
            }
            Family::Plugin => {
                let action = self.action(&mut lacking);
                let plugin_name = self.required(Key::PluginName, &mut lacking);
                let scope = self.required(Key::Scope, &mut lacking);
                match (action, plugin_name, scope) {
                    (Some(action), Some(plugin_name), Some(scope)) => Some(Annotation::Plugin {
                        action,
                        plugin_name,
                        scope,
                    }),
                    _ => None,
                }
            }
            Family::McpTool => Some(Annotation::McpTool {
                tool_name: self.name(Key::ToolName, function),
            }),
            Family::Validation => Some(Annotation::Validation {
                validation_type: self.name(Key::ValidationType, function),
            }),
            Family::Task => Some(Annotation::Task {
                task_type: self.name(Key::TaskType, function),
            }),
        };
        annotation.ok_or(lacking)
    }
}

/// The error for arguments without which the annotation is incomplete.
fn needs(family: Family, lacking: &[&str]) -> syn::Error {
    syn::Error::new(
        Span::call_site(),
        format!(
            "`#[{}]` needs {}, e.g. `{}`",
            family.attribute(),
            list(lacking),
            family.example()
        ),
    )
}

/// A string value, if it is a literal or names a parameter of the function.
fn string(key: &Ident, value: StrValue, item: &ItemFn, errors: &mut Errors) -> Option<Str> {
    let fn_name = &item.sig.ident;
    match value {
        StrValue::Literal(lit) => Some(Str::Literal(lit)),
        StrValue::Parameter(ident) => {
            let params = parameter_names(item);
            if params.iter().any(|p| ident == p) {
                return Some(Str::Parameter(ident));
            }
            let known = if params.is_empty() {
                format!("`{fn_name}` has no named parameters")
            } else {
                format!(
                    "its parameters are {}",
                    list(&params.iter().map(String::as_str).collect::<Vec<_>>())
                )
            };
            errors.push(
                ident.span(),
                format!("`{ident}` names no parameter of `{fn_name}` ({known}); use a string literal for a fixed value"),
            );
            None
        }
        StrValue::Invalid(expr) => {
            errors.push(
                expr.span(),
                format!("`{key}` takes a string literal or the name of a parameter of `{fn_name}`"),
            );
            None
        }
    }
}

/// Checks the function's shape and the arguments, and gives what they mean. Collects every
/// error, so one build shows them all, each at its own token.
pub(crate) fn validate(family: Family, args: Args, item: &ItemFn) -> syn::Result<Instrument> {
    let mut errors = Errors::default();
    let mut found = Found::default();
    let mut success = Success::ByReturnType;
    let mut crate_path: Option<Path> = None;

    if let Some(constness) = &item.sig.constness {
        errors.push(
            constness.span(),
            format!("`#[{}]` cannot instrument a `const fn`: telemetry reads the clock and records at run time", family.attribute()),
        );
    }

    let allowed_keys: Vec<&'static str> = family
        .keys()
        .iter()
        .map(|k| k.name())
        .chain(["success", "crate"])
        .collect();
    for pair in args.pairs {
        match pair.value {
            Value::Predicate(Expr::Lit(lit)) => errors.push(
                lit.span(),
                "`success` takes a predicate over the return value, e.g. `success = |ret| ret.passed`",
            ),
            Value::Predicate(predicate) => success = Success::Predicate(predicate),
            Value::Crate(path) => crate_path = Some(path),
            Value::Str(value) => {
                let Some(&key) = family.keys().iter().find(|k| pair.key == k.name()) else {
                    let typed = pair.key.to_string();
                    let message = match did_you_mean(&typed, &allowed_keys) {
                        Some(close) => {
                            found.meant.push(close);
                            format!(
                                "unknown argument `{typed}` for `#[{}]`; did you mean `{close}`?",
                                family.attribute()
                            )
                        }
                        None => format!(
                            "unknown argument `{typed}` for `#[{}]`; expected one of {}",
                            family.attribute(),
                            list(&allowed_keys)
                        ),
                    };
                    errors.push(pair.key.span(), message);
                    continue;
                };
                found.written.push(key);
                if let Some(value) = string(&pair.key, value, item, &mut errors) {
                    found.strings.push((key, value));
                }
            }
        }
    }

    let action_names: Vec<&'static str> = family.actions().iter().map(|a| a.name()).collect();
    let mut actions = Vec::new();
    for word in &args.words {
        if let Some(&action) = family.actions().iter().find(|a| *word == a.name()) {
            actions.push(word);
            found.action = found.action.or(Some(action));
            continue;
        }
        let name = word.to_string();
        let hint = if family.keys().iter().any(|k| *word == k.name()) || name == "success" {
            format!("`{name}` needs a value: `{name} = ...`")
        } else if let Some(close) = did_you_mean(&name, &action_names) {
            found.meant.push(close);
            format!(
                "unknown argument `{name}` for `#[{}]`; did you mean `{close}`?",
                family.attribute()
            )
        } else if action_names.is_empty() {
            format!("unknown argument `{name}` for `#[{}]`", family.attribute())
        } else {
            format!(
                "unknown argument `{name}`; expected {}",
                list(&action_names)
            )
        };
        errors.push(word.span(), hint);
    }
    if let Some(second) = actions.get(1) {
        errors.push(second.span(), "choose one of `install` or `uninstall`");
    }

    let annotation = found.annotation(family, &item.sig.ident);
    if let Err(lacking) = &annotation {
        let unexplained: Vec<&str> = lacking
            .iter()
            .filter(|needed| !found.explains(**needed))
            .map(|needed| needed.name())
            .collect();
        if !unexplained.is_empty() {
            errors.push_error(needs(family, &unexplained));
        }
    }
    let annotation = annotation.map_err(|lacking| {
        let names: Vec<&str> = lacking.iter().map(|needed| needed.name()).collect();
        needs(family, &names)
    });
    errors.finish(annotation.map(|annotation| Instrument {
        annotation,
        crate_path: crate_path.unwrap_or_else(|| syn::parse_quote!(::han_telemetry)),
        success,
    }))
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
