//! Generating the instrumented function.
//!
//! The signature, attributes, visibility and doc comments are kept as written; only the
//! body is wrapped. Everything generated is named by absolute path through
//! `::han_telemetry::__private` (or `crate = path`), and generated locals start with `__han_`.
//! Methods of the generated call are called as paths (`Call::instrument(&__han_call, ..)`), so
//! a trait in the user's scope with a method of the same name (`tracing::Instrument`) cannot
//! take the call.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{Block, Expr, ItemFn, ReturnType, Stmt, Type};

use crate::attr::{Args, Value};
use crate::valid::Family;

fn string_value(krate: &TokenStream, value: &Value) -> TokenStream {
    match value {
        Value::Literal(lit) => quote_spanned!(lit.span()=> #krate::__private::literal(#lit)),
        Value::Parameter(ident) => {
            quote_spanned!(ident.span()=> #krate::__private::argument(&#ident))
        }
        // Rejected by validation; never expanded.
        Value::Invalid(expr) => quote_spanned!(expr.span()=> #expr),
    }
}

/// The `Kind` value the call records, evaluated only when telemetry is on.
fn kind(family: Family, args: &Args, item: &ItemFn, krate: &TokenStream) -> TokenStream {
    let fn_name = item.sig.ident.to_string();
    let named_or_fn = |key: &str| match args.string(key) {
        Some(v) => string_value(krate, v),
        None => quote!(#krate::__private::literal(#fn_name)),
    };
    let required = |key: &str| {
        args.string(key)
            .map(|v| string_value(krate, v))
            .unwrap_or_default()
    };
    match family {
        Family::Hook => {
            let (name, hook_type) = (named_or_fn("hook_name"), required("hook_type"));
            quote!(#krate::__private::Kind::Hook { hook_name: #name, hook_type: #hook_type })
        }
        Family::Plugin => {
            let install = args.flags.iter().any(|f| f == "install");
            let (plugin, scope) = (required("plugin_name"), required("scope"));
            quote!(#krate::__private::Kind::Plugin { install: #install, plugin_name: #plugin, scope: #scope })
        }
        Family::McpTool => {
            let tool = named_or_fn("tool_name");
            quote!(#krate::__private::Kind::McpTool { tool_name: #tool })
        }
        Family::Validation => {
            let v = named_or_fn("validation_type");
            quote!(#krate::__private::Kind::Validation { validation_type: #v })
        }
        Family::Task => {
            let t = named_or_fn("task_type");
            quote!(#krate::__private::Kind::Task { task_type: #t })
        }
    }
}

/// How the call starts: a hook whose name and type are literals gets a `static` cache of
/// bound instruments at its call site; everything else starts plainly.
fn start(family: Family, args: &Args, kind: &TokenStream, krate: &TokenStream) -> TokenStream {
    let literal = |key: &str| matches!(args.string(key), None | Some(Value::Literal(_)));
    if family == Family::Hook && literal("hook_name") && literal("hook_type") {
        quote! {
            static __HAN_SITE: #krate::__private::Site = #krate::__private::Site::new();
            let __han_call = #krate::__private::Call::start_at(&__HAN_SITE, || #kind);
        }
    } else {
        quote!(let __han_call = #krate::__private::Call::start(|| #kind);)
    }
}

/// Whether a type mentions `impl Trait`, which cannot be written on a closure.
fn has_impl_trait(ty: &Type) -> bool {
    struct Finder(bool);
    impl<'ast> Visit<'ast> for Finder {
        fn visit_type_impl_trait(&mut self, _: &'ast syn::TypeImplTrait) {
            self.0 = true;
        }
    }
    let mut finder = Finder(false);
    finder.visit_type(ty);
    finder.0
}

/// How the outcome is decided: `success = <predicate>`, else by the return type.
fn success(args: &Args, krate: &TokenStream, ret: &syn::Ident) -> TokenStream {
    match args.success() {
        Some(predicate) => {
            quote_spanned!(predicate.span()=> #krate::__private::success_by(#predicate, &#ret))
        }
        None => quote! {{
            #[allow(unused_imports)]
            use #krate::__private::{AnyOutcome as _, ResultOutcome as _};
            (&&#ret).__han_success()
        }},
    }
}

/// The body of an `async` block or `async fn`, instrumented: timed from the first poll, the
/// span entered only while the body is polled.
fn async_body(
    body: &Block,
    krate: &TokenStream,
    start: &TokenStream,
    success: &TokenStream,
    output: Option<&Type>,
) -> TokenStream {
    let ret = format_ident!("__han_ret");
    // Typing the body's value inside the async block keeps a type error at the user's line.
    let body = match output.filter(|t| !has_impl_trait(t)) {
        Some(t) => {
            let typed = quote_spanned!(t.span()=> : #t);
            quote!({ let __han_body #typed = #body; __han_body })
        }
        None => quote!(#body),
    };
    quote! {
        #start
        let #ret = #krate::__private::Call::instrument(&__han_call, async move #body).await;
        let __han_success = #success;
        #krate::__private::Call::finish(__han_call, __han_success);
        #ret
    }
}

/// If the body is `Box::pin(async move { .. })` (what `#[async_trait]` generates), the
/// async block inside it.
fn async_trait_block(body: &mut Block) -> Option<&mut syn::ExprAsync> {
    let Some(Stmt::Expr(Expr::Call(call), None)) = body.stmts.last_mut() else {
        return None;
    };
    let Expr::Path(func) = &*call.func else {
        return None;
    };
    let segments: Vec<String> = func
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    if segments.last().map(String::as_str) != Some("pin") || !segments.iter().any(|s| s == "Box") {
        return None;
    }
    match call.args.first_mut() {
        Some(Expr::Async(block)) if block.capture.is_some() => Some(block),
        _ => None,
    }
}

pub(crate) fn expand(family: Family, args: &Args, mut item: ItemFn) -> TokenStream {
    let krate = args
        .krate()
        .map_or_else(|| quote!(::han_telemetry), |p| quote!(#p));
    let kind = kind(family, args, &item, &krate);
    let start = start(family, args, &kind, &krate);
    let ret = format_ident!("__han_ret");
    let success = success(args, &krate, &ret);
    let output = match &item.sig.output {
        ReturnType::Type(_, ty) => Some(ty.as_ref().clone()),
        ReturnType::Default => None,
    };

    if item.sig.asyncness.is_some() {
        let body = async_body(&item.block, &krate, &start, &success, output.as_ref());
        *item.block = syn::parse_quote!({ #body });
        return quote!(#item);
    }

    if let Some(block) = async_trait_block(&mut item.block) {
        let inner = async_body(&block.block, &krate, &start, &success, None);
        block.block = syn::parse_quote!({ #inner });
        return quote!(#item);
    }

    let block = &item.block;
    // The closure's return type is written out when it can be, so a type error in the body
    // is reported at the user's line rather than at the generated `return`.
    let annotation = output
        .as_ref()
        .filter(|t| !has_impl_trait(t))
        .map(|t| quote_spanned!(t.span()=> -> #t));
    let body = quote! {
        #start
        let #ret = {
            let __han_entered = #krate::__private::Call::enter(&__han_call);
            #[allow(clippy::redundant_closure_call)]
            (move || #annotation #block)()
        };
        let __han_success = #success;
        #krate::__private::Call::finish(__han_call, __han_success);
        #ret
    };
    *item.block = syn::parse_quote!({ #body });
    quote!(#item)
}
