//! The annotation's arguments as written: `key = value` pairs and bare words, each keeping
//! its tokens (and so its span).
//!
//! Parsing knows the syntax of each kind of value (`success` takes an expression, `crate` a
//! path, every other key a string), not which annotation takes which key: that is meaning,
//! checked by `valid`, so an unknown key is reported there with the keys the annotation does
//! take. A duplicate key is reported here, at the second one.

use std::collections::HashSet;

use syn::parse::{Parse, ParseStream};
use syn::{Expr, Ident, LitStr, Path, Token};

mod kw {
    syn::custom_keyword!(success);
}

/// Every argument, pairs and words each in the order written.
pub(crate) struct Args {
    pub(crate) pairs: Vec<Pair>,
    /// Bare words: `install`, `uninstall`, or a key written without its value.
    pub(crate) words: Vec<Ident>,
}

/// One `key = value` argument.
pub(crate) struct Pair {
    pub(crate) key: Ident,
    pub(crate) value: Value,
}

/// A value, parsed by the syntax its key calls for.
pub(crate) enum Value {
    /// `success = <expression>`.
    Predicate(Expr),
    /// `crate = <path>`.
    Crate(Path),
    /// Any other key: `hook_type = "PostToolUse"`, `plugin_name = name`.
    Str(StrValue),
}

/// What a string-valued key was given.
pub(crate) enum StrValue {
    Literal(LitStr),
    /// An identifier alone: the name of a parameter, if the function has one.
    Parameter(Ident),
    /// Anything else, kept to report it at its span.
    Invalid(Expr),
}

impl Parse for StrValue {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.peek(LitStr) {
            return Ok(StrValue::Literal(input.parse()?));
        }
        if input.peek(Ident)
            && (input.peek2(Token![,]) || {
                let fork = input.fork();
                fork.parse::<Ident>().is_ok() && fork.is_empty()
            })
        {
            return Ok(StrValue::Parameter(input.parse()?));
        }
        Ok(StrValue::Invalid(input.parse()?))
    }
}

/// The key of an argument: an identifier, or `crate`.
fn parse_key(input: ParseStream<'_>) -> syn::Result<Ident> {
    if input.peek(Token![crate]) {
        let token: Token![crate] = input.parse()?;
        return Ok(Ident::new("crate", token.span));
    }
    input.parse().map_err(|e| {
        syn::Error::new(
            e.span(),
            "expected an argument such as `hook_type = \"PostToolUse\"`",
        )
    })
}

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = Args {
            pairs: Vec::new(),
            words: Vec::new(),
        };
        let mut seen: HashSet<String> = HashSet::new();
        while !input.is_empty() {
            let is_success = input.peek(kw::success);
            let is_crate = input.peek(Token![crate]);
            let key = parse_key(input)?;
            let name = key.to_string();
            if !seen.insert(name.clone()) {
                return Err(syn::Error::new(
                    key.span(),
                    format!("duplicate argument `{name}`"),
                ));
            }
            if input.peek(Token![=]) {
                input.parse::<Token![=]>()?;
                let value = if is_success {
                    Value::Predicate(input.parse()?)
                } else if is_crate {
                    Value::Crate(input.parse()?)
                } else {
                    Value::Str(input.parse()?)
                };
                args.pairs.push(Pair { key, value });
            } else {
                args.words.push(key);
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(args)
    }
}
