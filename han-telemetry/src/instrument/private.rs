//! What `#[instrument_hook]` and its family expand into. Not a public API: names and
//! signatures change without notice.

pub use crate::instrument::call::{Call, Entered, InCall, Kind, NamedStart};
pub use crate::instrument::site::{NAMES, NamedSite, Site, Text, unbound_calls};

/// The instrumented call of a synchronous annotated function, out of line: `body` run inside
/// `call`, finished with the outcome `success` gives.
#[cold]
#[inline(never)]
pub fn instrumented<R>(
    call: Call,
    body: impl FnOnce() -> R,
    success: impl FnOnce(&R) -> bool,
) -> R {
    call.run(body, success)
}

/// [`instrumented`] for a synchronous hook named or typed by a parameter: a (name, type) its
/// site already knows runs as [`instrumented_at`] does.
#[cold]
#[inline(never)]
pub fn instrumented_named<R>(
    start: NamedStart,
    body: impl FnOnce() -> R,
    success: impl FnOnce(&R) -> bool,
) -> R {
    start.run(body, success)
}

/// Whether telemetry is off: one atomic load.
#[inline(always)]
pub fn off() -> bool {
    !crate::pipeline::is_open()
}

/// [`instrumented`] for a synchronous hook named by literals, the call's state on this
/// function's stack instead of in a [`Call`]'s box: `site` holds its names and its cache of
/// bound instruments.
#[cold]
#[inline(never)]
pub fn instrumented_at<R>(
    site: &'static Site,
    body: impl FnOnce() -> R,
    success: impl FnOnce(&R) -> bool,
) -> R {
    crate::instrument::call::run_at(site, body, success)
}

/// A parameter's value, to be turned into a [`Text`].
pub struct TextOf<'a, T: ?Sized>(pub &'a T);

impl<T: ?Sized> std::fmt::Debug for TextOf<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextOf").finish_non_exhaustive()
    }
}

/// The string types whose `Display` is their text: `str`, `String`, `Cow<str>`, `Box<str>`,
/// `Arc<str>`, `Rc<str>`, and references to them.
pub trait AsStr {
    /// The text.
    fn __han_str(&self) -> &str;
}

impl AsStr for str {
    #[inline]
    fn __han_str(&self) -> &str {
        self
    }
}

macro_rules! as_str_by_deref {
    ($($ty:ty),*) => {$(
        impl AsStr for $ty {
            #[inline]
            fn __han_str(&self) -> &str {
                self
            }
        }
    )*};
}

as_str_by_deref!(
    String,
    std::borrow::Cow<'_, str>,
    Box<str>,
    std::sync::Arc<str>,
    std::rc::Rc<str>
);

impl<T: ?Sized + AsStr> AsStr for &T {
    #[inline]
    fn __han_str(&self) -> &str {
        (**self).__han_str()
    }
}

/// [`Text::Str`] for a string type: picked first.
pub trait StrText<'a> {
    /// The value as the site looks it up.
    fn __han_text(&self) -> Text<'a>;
}

impl<'a, T: ?Sized + AsStr> StrText<'a> for TextOf<'a, T> {
    #[inline]
    fn __han_text(&self) -> Text<'a> {
        Text::Str(self.0.__han_str())
    }
}

/// [`Text::Shown`] for anything else that implements `Display`. The bound is on the method,
/// not the impl, so that a value without `Display` is told just that, at the parameter.
pub trait ShownText<'a, T> {
    /// The value as the site looks it up.
    fn __han_text(&self) -> Text<'a>
    where
        T: std::fmt::Display;
}

impl<'a, T> ShownText<'a, T> for &TextOf<'a, T> {
    #[inline]
    fn __han_text(&self) -> Text<'a>
    where
        T: std::fmt::Display,
    {
        Text::Shown(self.0)
    }
}

/// Outcome of a `Result` return: success on `Ok`. Chosen by autoref specialisation, so it
/// follows the type, not its spelling (`anyhow::Result<T>` and other aliases work).
pub trait ResultOutcome {
    /// Whether the call succeeded.
    fn __han_success(&self) -> bool;
}

impl<T, E> ResultOutcome for &Result<T, E> {
    #[inline]
    fn __han_success(&self) -> bool {
        self.is_ok()
    }
}

/// Outcome of any other return: success (a panic never gets here).
pub trait AnyOutcome {
    /// Whether the call succeeded.
    fn __han_success(&self) -> bool;
}

impl<T: ?Sized> AnyOutcome for &&T {
    #[inline]
    fn __han_success(&self) -> bool {
        true
    }
}

/// A string attribute value from a literal in the annotation: no allocation.
#[inline]
pub fn literal(value: &'static str) -> opentelemetry::StringValue {
    opentelemetry::StringValue::from(value)
}

/// A string attribute value from a parameter the annotation names.
#[inline]
pub fn argument<T: std::fmt::Display + ?Sized>(value: &T) -> opentelemetry::StringValue {
    opentelemetry::StringValue::from(value.to_string())
}

/// Calls a user's `success = ...` predicate with the return value.
#[inline]
pub fn success_by<R: ?Sized>(predicate: impl FnOnce(&R) -> bool, ret: &R) -> bool {
    predicate(ret)
}
