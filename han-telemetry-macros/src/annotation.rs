//! The checked meaning of an annotation, as `valid` produces it and `expand` consumes it:
//! every value typed, every required one present, nothing left to look up by name.

use syn::{Expr, Ident, LitStr, Path};

/// A checked annotation: what the function records, where han-telemetry is, and how the
/// outcome is decided.
pub(crate) struct Instrument {
    pub(crate) annotation: Annotation,
    /// `crate = path`, else `::han_telemetry`.
    pub(crate) crate_path: Path,
    pub(crate) success: Success,
}

/// What one annotation records, with every value it needs.
pub(crate) enum Annotation {
    Hook {
        hook_name: NameSource,
        hook_type: Str,
    },
    Plugin {
        action: Action,
        plugin_name: Str,
        scope: Str,
    },
    McpTool {
        tool_name: NameSource,
    },
    Validation {
        validation_type: NameSource,
    },
    Task {
        task_type: NameSource,
    },
}

/// A string the call records: fixed in the annotation, or a parameter's value.
pub(crate) enum Str {
    Literal(LitStr),
    /// A parameter of the function (checked to exist), recorded through `Display`.
    Parameter(Ident),
}

/// A name that defaults to the function's.
pub(crate) enum NameSource {
    /// Not given: the function's name.
    Function(Ident),
    Given(Str),
}

/// Whether an `#[instrument_plugin]` function installs or removes its plugin.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    Install,
    Uninstall,
}

/// How a call's outcome is decided.
pub(crate) enum Success {
    /// By the return type: `Ok`/`Err` for a `Result`, success for anything else.
    ByReturnType,
    /// `success = <predicate>` over a reference to the return value.
    Predicate(Expr),
}
