//! `han_telemetry::annotations` shows what the macros expand to; this expands every example
//! there and compares it with what the page shows, token by token (comments do not count),
//! so the page cannot drift from the code.

use std::str::FromStr as _;

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use quote::ToTokens as _;
use syn::{ItemFn, Meta};

use crate::valid::Family;

// A link to han-telemetry/src/annotations.md, so the packaged crate carries the page.
const PAGE: &str = include_str!("../annotations.md");

/// The line between an example's input and its expansion.
const BECOMES: &str = "// becomes";

const FAMILIES: [Family; 5] = [
    Family::Hook,
    Family::Plugin,
    Family::McpTool,
    Family::Validation,
    Family::Task,
];

/// `(input, expansion)` of every ```` ```text ```` block on the page that shows an expansion.
fn examples(page: &str) -> Vec<(&str, &str)> {
    page.split("```text\n")
        .skip(1)
        .filter_map(|rest| rest.split_once("\n```").map(|(block, _)| block))
        .filter_map(|block| block.split_once(BECOMES))
        .collect()
}

/// The family, arguments and bare function of an input such as
/// `#[instrument_hook(hook_type = "Stop")] fn stop() {}`.
fn split_input(input: &str) -> (Family, TokenStream, TokenStream) {
    let mut item: ItemFn = syn::parse_str(input).expect("an example's input is a function");
    let attr = item.attrs.remove(0);
    let name = attr
        .path()
        .segments
        .last()
        .expect("a path")
        .ident
        .to_string();
    let family = FAMILIES
        .into_iter()
        .find(|f| f.attribute() == name)
        .unwrap_or_else(|| panic!("`#[{name}]` is no attribute of the family"));
    let args = match attr.meta {
        Meta::List(list) => list.tokens,
        Meta::Path(_) | Meta::NameValue(_) => TokenStream::new(),
    };
    (family, args, item.into_token_stream())
}

/// The tokens as text, one entry per token and delimiter: spans and the spacing of
/// punctuation (`||` or `| |`, which mean the same) do not count.
fn flat(tokens: TokenStream) -> Vec<String> {
    let mut out = Vec::new();
    for token in tokens {
        match token {
            TokenTree::Group(group) => {
                let (open, close) = match group.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Brace => ("{", "}"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::None => ("", ""),
                };
                out.push(open.to_owned());
                out.extend(flat(group.stream()));
                out.push(close.to_owned());
            }
            TokenTree::Punct(punct) => out.push(punct.as_char().to_string()),
            TokenTree::Ident(ident) => out.push(ident.to_string()),
            TokenTree::Literal(literal) => out.push(literal.to_string()),
        }
    }
    out
}

/// Where `shown` and `generated` first differ, with some tokens around it.
fn first_difference(shown: &[String], generated: &[String]) -> Option<String> {
    let at = shown
        .iter()
        .zip(generated)
        .position(|(a, b)| a != b)
        .or_else(|| (shown.len() != generated.len()).then(|| shown.len().min(generated.len())))?;
    let around = |tokens: &[String]| {
        let from = at.saturating_sub(12);
        let to = (at + 12).min(tokens.len());
        tokens.get(from..to).unwrap_or_default().join(" ")
    };
    Some(format!(
        "at token {at}:\n  shown:     .. {} ..\n  generated: .. {} ..",
        around(shown),
        around(generated)
    ))
}

#[test]
fn the_annotations_page_shows_the_real_expansion() {
    let examples = examples(PAGE);
    assert_eq!(
        examples.len(),
        2,
        "annotations.md shows two expansions, each a ```text block with a `{BECOMES}` line"
    );
    for (input, shown) in examples {
        let (family, args, item) = split_input(input);
        let generated = crate::instrument2(family, args, item);
        let shown = TokenStream::from_str(shown).expect("the expansion shown is Rust tokens");
        if let Some(difference) = first_difference(&flat(shown), &flat(generated.clone())) {
            panic!(
                "annotations.md shows an expansion of\n{input}\nthat is not what the macro \
                 generates; they differ {difference}\n\nThe macro generates:\n{generated}"
            );
        }
    }
}

#[test]
fn a_changed_expansion_is_noticed() {
    let page = PAGE.replacen(
        "instrumented_at(&__HAN_SITE,",
        "instrumented_at(&__HAN_OTHER,",
        1,
    );
    let (input, shown) = examples(&page)[0];
    let (family, args, item) = split_input(input);
    let shown = TokenStream::from_str(shown).expect("tokens");
    let difference = first_difference(&flat(shown), &flat(crate::instrument2(family, args, item)));
    assert!(
        difference.is_some_and(|d| d.contains("__HAN_OTHER")),
        "the change went unnoticed"
    );
}
