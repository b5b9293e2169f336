//! Parsing the annotation's arguments: `key = value` pairs and bare keywords.
//!
//! Parsing accepts any key and records where each token was, so that validation can report
//! a problem at the token that causes it. Duplicates are caught here, at the second key.

use std::collections::HashSet;

use syn::parse::{Parse, ParseStream};
use syn::{Expr, Ident, LitStr, Path, Token};

/// A string attribute value: a literal, or the name of a parameter whose value is used.
#[derive(Clone)]
pub(crate) enum Value {
    Literal(LitStr),
    Parameter(Ident),
    /// Anything else, kept to report it at its span.
    Invalid(Expr),
}

/// One `key = value` argument.
pub(crate) struct Pair {
    pub(crate) key: Ident,
    pub(crate) value: PairValue,
}

pub(crate) enum PairValue {
    /// For string attributes (`hook_type = "PostToolUse"`, `plugin_name = name`).
    Str(Value),
    /// For `success = <predicate>`.
    Predicate(Expr),
    /// For `crate = path`.
    Crate(Path),
}

/// All arguments, in order.
#[derive(Default)]
pub(crate) struct Args {
    /// Bare keywords such as `install`.
    pub(crate) flags: Vec<Ident>,
    pub(crate) pairs: Vec<Pair>,
}

impl Args {
    pub(crate) fn get(&self, key: &str) -> Option<&Pair> {
        self.pairs.iter().find(|p| p.key == key)
    }

    pub(crate) fn string(&self, key: &str) -> Option<&Value> {
        match &self.get(key)?.value {
            PairValue::Str(v) => Some(v),
            _ => None,
        }
    }

    pub(crate) fn success(&self) -> Option<&Expr> {
        self.pairs.iter().find_map(|p| match &p.value {
            PairValue::Predicate(e) => Some(e),
            _ => None,
        })
    }

    pub(crate) fn krate(&self) -> Option<&Path> {
        self.pairs.iter().find_map(|p| match &p.value {
            PairValue::Crate(c) => Some(c),
            _ => None,
        })
    }
}

fn parse_string_value(input: ParseStream<'_>) -> syn::Result<Value> {
    if input.peek(LitStr) {
        return Ok(Value::Literal(input.parse()?));
    }
    if input.peek(Ident)
        && (input.peek2(Token![,]) || {
            let fork = input.fork();
            fork.parse::<Ident>().is_ok() && fork.is_empty()
        })
    {
        return Ok(Value::Parameter(input.parse()?));
    }
    Ok(Value::Invalid(input.parse()?))
}

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = Args::default();
        let mut seen: HashSet<String> = HashSet::new();
        while !input.is_empty() {
            let key: Ident = if input.peek(Token![crate]) {
                let token: Token![crate] = input.parse()?;
                Ident::new("crate", token.span)
            } else {
                input.parse().map_err(|e| {
                    syn::Error::new(
                        e.span(),
                        "expected an argument such as `hook_type = \"PostToolUse\"`",
                    )
                })?
            };
            let name = key.to_string();
            if !seen.insert(name.clone()) {
                return Err(syn::Error::new(
                    key.span(),
                    format!("duplicate argument `{name}`"),
                ));
            }
            if input.peek(Token![=]) {
                input.parse::<Token![=]>()?;
                let value = match name.as_str() {
                    "success" => PairValue::Predicate(input.parse()?),
                    "crate" => PairValue::Crate(input.parse()?),
                    _ => PairValue::Str(parse_string_value(input)?),
                };
                args.pairs.push(Pair { key, value });
            } else {
                args.flags.push(key);
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(args)
    }
}
