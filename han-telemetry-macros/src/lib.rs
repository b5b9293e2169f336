//! The `#[instrument_hook]` family of attributes. Use them through `han-telemetry`, which
//! re-exports them and provides the runtime they expand into; the documentation with
//! examples is there.
//!
//! The crate is split by job, each step consuming the typed output of the one before:
//! `attr` parses the arguments as written (keys and values with their spans), `valid` checks
//! what they mean (every error at the offending token) and gives an
//! `annotation::Instrument`, `expand` generates the code from it. On bad arguments the
//! function is emitted unchanged next to the error, so one mistake gives one message.

use proc_macro::TokenStream;
use syn::ItemFn;

mod annotation;
mod attr;
mod expand;
mod valid;

#[cfg(test)]
mod expansion_doc;

use valid::Family;

fn instrument(family: Family, args: TokenStream, item: TokenStream) -> TokenStream {
    instrument2(family, args.into(), item.into()).into()
}

/// The attribute on `proc_macro2` tokens, so that tests can expand it outside the compiler.
fn instrument2(
    family: Family,
    args: proc_macro2::TokenStream,
    item: proc_macro2::TokenStream,
) -> proc_macro2::TokenStream {
    try_instrument(family, args, item.clone()).unwrap_or_else(|error| with_original(error, item))
}

/// Parse (`attr`), check (`valid`), generate (`expand`): each step consumes the typed
/// output of the one before.
fn try_instrument(
    family: Family,
    args: proc_macro2::TokenStream,
    item: proc_macro2::TokenStream,
) -> syn::Result<proc_macro2::TokenStream> {
    let item: ItemFn = syn::parse2(item).map_err(|e| {
        syn::Error::new(
            e.span(),
            format!("`#[{}]` goes on a function: {e}", family.attribute()),
        )
    })?;
    let args: attr::Args = syn::parse2(args)?;
    let instrument = valid::validate(family, args, &item)?;
    Ok(expand::expand(&instrument, item))
}

/// The error, plus the user's item unchanged, so that it still compiles and only the
/// annotation's error is shown.
fn with_original(error: syn::Error, item: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    let mut out = error.into_compile_error();
    out.extend(item);
    out
}

/// Instruments a Claude Code hook: `han.hook.execution`, `han.hook.duration_ms`, a span
/// `hook <name>` and the `han.hook_result` event for every call.
///
/// `#[instrument_hook(hook_type = "PostToolUse")]`, with optional `hook_name = ..`,
/// `success = ..` and `crate = ..`. Every argument, the outcome rules and the expansion are
/// documented in `han_telemetry::annotations`.
#[proc_macro_attribute]
pub fn instrument_hook(args: TokenStream, item: TokenStream) -> TokenStream {
    instrument(Family::Hook, args, item)
}

/// Instruments a plugin install or uninstall function: `han.plugin.install` or
/// `han.plugin.uninstall` and the `han.plugin_event` event:
/// `#[instrument_plugin(install, plugin_name = name, scope = scope)]`. See
/// `han_telemetry::annotations`.
#[proc_macro_attribute]
pub fn instrument_plugin(args: TokenStream, item: TokenStream) -> TokenStream {
    instrument(Family::Plugin, args, item)
}

/// Instruments an MCP tool handler: `han.mcp.tool_call`. `tool_name` defaults to the function
/// name. See `han_telemetry::annotations`.
#[proc_macro_attribute]
pub fn instrument_mcp_tool(args: TokenStream, item: TokenStream) -> TokenStream {
    instrument(Family::McpTool, args, item)
}

/// Instruments a validation: `han.validation.run`, and `han.validation_error` when it fails.
/// The body reports its error count with `han_telemetry::report::error_count`. See
/// `han_telemetry::annotations`.
#[proc_macro_attribute]
pub fn instrument_validation(args: TokenStream, item: TokenStream) -> TokenStream {
    instrument(Family::Validation, args, item)
}

/// Instruments a task: `han.task.completed` or `han.task.failed`, and `han.task_outcome`.
/// The body reports its confidence with `han_telemetry::report::confidence`. See
/// `han_telemetry::annotations`.
#[proc_macro_attribute]
pub fn instrument_task(args: TokenStream, item: TokenStream) -> TokenStream {
    instrument(Family::Task, args, item)
}
