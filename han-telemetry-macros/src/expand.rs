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
use syn::{Block, Expr, ItemFn, Path, ReturnType, Stmt, Type};

use crate::annotation::{Action, Annotation, Instrument, NameSource, Str, Success};

fn string(krate: &Path, value: &Str) -> TokenStream {
    match value {
        Str::Literal(lit) => quote_spanned!(lit.span()=> #krate::__private::literal(#lit)),
        Str::Parameter(ident) => {
            quote_spanned!(ident.span()=> #krate::__private::argument(&#ident))
        }
    }
}

fn name(krate: &Path, value: &NameSource) -> TokenStream {
    match value {
        NameSource::Function(function) => {
            let function = function.to_string();
            quote!(#krate::__private::literal(#function))
        }
        NameSource::Given(value) => string(krate, value),
    }
}

/// The `Kind` value the call records, evaluated only when telemetry is on.
fn kind(annotation: &Annotation, krate: &Path) -> TokenStream {
    match annotation {
        Annotation::Hook {
            hook_name,
            hook_type,
        } => {
            let (name, hook_type) = (name(krate, hook_name), string(krate, hook_type));
            quote!(#krate::__private::Kind::Hook { hook_name: #name, hook_type: #hook_type })
        }
        Annotation::Plugin {
            action,
            plugin_name,
            scope,
        } => {
            let install = *action == Action::Install;
            let (plugin, scope) = (string(krate, plugin_name), string(krate, scope));
            quote!(#krate::__private::Kind::Plugin { install: #install, plugin_name: #plugin, scope: #scope })
        }
        Annotation::McpTool { tool_name } => {
            let tool = name(krate, tool_name);
            quote!(#krate::__private::Kind::McpTool { tool_name: #tool })
        }
        Annotation::Validation { validation_type } => {
            let v = name(krate, validation_type);
            quote!(#krate::__private::Kind::Validation { validation_type: #v })
        }
        Annotation::Task { task_type } => {
            let t = name(krate, task_type);
            quote!(#krate::__private::Kind::Task { task_type: #t })
        }
    }
}

/// The `static` cache of a hook named and typed by literals, which holds the names; `None`
/// when the name is a parameter.
fn literal_site(
    hook_name: &NameSource,
    hook_type: &syn::LitStr,
    krate: &Path,
) -> Option<TokenStream> {
    let name = match hook_name {
        NameSource::Function(function) => {
            let function = function.to_string();
            quote!(#function)
        }
        NameSource::Given(Str::Literal(lit)) => quote!(#lit),
        NameSource::Given(Str::Parameter(_)) => return None,
    };
    Some(quote! {
        static __HAN_SITE: #krate::__private::Site = #krate::__private::Site::hook(#name, #hook_type);
    })
}

/// How the call starts: a hook gets a `static` cache of bound instruments at its call site
/// (one binding when its name and type are literals, one per name, up to a few, when either
/// is a parameter); everything else starts plainly.
fn start(annotation: &Annotation, kind: &TokenStream, krate: &Path, sync: bool) -> TokenStream {
    match annotation {
        Annotation::Hook {
            hook_name,
            hook_type: Str::Literal(hook_type),
        } if let Some(site) = literal_site(hook_name, hook_type, krate) => quote! {
            #site
            let __han_call = #krate::__private::Call::start_at(&__HAN_SITE);
        },
        Annotation::Hook {
            hook_name,
            hook_type,
        } => {
            // A string's text as it is, anything else through `Display` (autoref
            // specialisation: `StrText` first, else `ShownText`).
            let text = |value: TokenStream, span: proc_macro2::Span| {
                quote_spanned!(span=> {
                    #[allow(unused_imports)]
                    use #krate::__private::{ShownText as _, StrText as _};
                    (&#krate::__private::TextOf(&#value)).__han_text()
                })
            };
            let shown = |value: &Str| match value {
                Str::Literal(lit) => text(quote!(#lit), lit.span()),
                Str::Parameter(ident) => text(quote!(#ident), ident.span()),
            };
            let name = match hook_name {
                NameSource::Function(function) => {
                    let span = function.span();
                    let function = function.to_string();
                    text(quote!(#function), span)
                }
                NameSource::Given(value) => shown(value),
            };
            let hook_type = shown(hook_type);
            // A synchronous body runs a known name as a literal hook (`NamedStart`); an async
            // one carries its `Call` across `.await`s.
            let starts = if sync {
                quote!(#krate::__private::NamedStart::new)
            } else {
                quote!(#krate::__private::Call::start_named)
            };
            quote! {
                static __HAN_SITE: #krate::__private::NamedSite = #krate::__private::NamedSite::new();
                let __han_call = #starts(&__HAN_SITE, #name, #hook_type, || #kind);
            }
        }
        _ => quote!(let __han_call = #krate::__private::Call::start(|| #kind);),
    }
}

/// [`success`] as a closure of a reference to the return value.
fn success_of_ref(success: &Success, krate: &Path) -> TokenStream {
    match success {
        Success::Predicate(predicate) => quote_spanned!(predicate.span()=>
            |__han_ret| #krate::__private::success_by(#predicate, __han_ret)
        ),
        Success::ByReturnType => quote! {
            |__han_ret| {
                #[allow(unused_imports)]
                use #krate::__private::{AnyOutcome as _, ResultOutcome as _};
                (&&*__han_ret).__han_success()
            }
        },
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
fn success(success: &Success, krate: &Path, ret: &syn::Ident) -> TokenStream {
    match success {
        Success::Predicate(predicate) => {
            quote_spanned!(predicate.span()=> #krate::__private::success_by(#predicate, &#ret))
        }
        Success::ByReturnType => quote! {{
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
    krate: &Path,
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

/// The instrumented function: `item` with its body wrapped as `instrument` says.
pub(crate) fn expand(instrument: &Instrument, mut item: ItemFn) -> TokenStream {
    let krate = &instrument.crate_path;
    let kind = kind(&instrument.annotation, krate);
    let async_start = start(&instrument.annotation, &kind, krate, false);
    let ret = format_ident!("__han_ret");
    let success = success(&instrument.success, krate, &ret);
    let output = match &item.sig.output {
        ReturnType::Type(_, ty) => Some(ty.as_ref().clone()),
        ReturnType::Default => None,
    };

    if item.sig.asyncness.is_some() {
        let body = async_body(&item.block, krate, &async_start, &success, output.as_ref());
        *item.block = syn::parse_quote!({ #body });
        return quote!(#item);
    }

    if let Some(block) = async_trait_block(&mut item.block) {
        let inner = async_body(&block.block, krate, &async_start, &success, None);
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
    let success = success_of_ref(&instrument.success, krate);
    // A hook named by literals keeps its call's state on the stack of the out-of-line
    // function: nothing is allocated per call.
    if let Annotation::Hook {
        hook_name,
        hook_type: Str::Literal(hook_type),
    } = &instrument.annotation
        && let Some(site) = literal_site(hook_name, hook_type, krate)
    {
        let body = quote! {
            #site
            #[allow(unused_mut)]
            let mut __han_body = move || #annotation #block;
            if #krate::__private::off() {
                return __han_body();
            }
            #krate::__private::instrumented_at(&__HAN_SITE, __han_body, #success)
        };
        *item.block = syn::parse_quote!({ #body });
        return quote!(#item);
    }
    // Off, the function is its body behind one atomic load; the instrumented call is out of
    // line (cold), so the off path keeps the frame of the body alone.
    let (is_off, instrumented) = match &instrument.annotation {
        Annotation::Hook { .. } => (quote!(NamedStart::is_off), quote!(instrumented_named)),
        _ => (quote!(Call::is_off), quote!(instrumented)),
    };
    let start = start(&instrument.annotation, &kind, krate, true);
    let body = quote! {
        #start
        #[allow(unused_mut)]
        let mut __han_body = move || #annotation #block;
        if #krate::__private::#is_off(&__han_call) {
            return __han_body();
        }
        #krate::__private::#instrumented(__han_call, __han_body, #success)
    };
    *item.block = syn::parse_quote!({ #body });
    quote!(#item)
}
