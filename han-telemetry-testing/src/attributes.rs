//! Attribute values as tests compare them: four plain types instead of OpenTelemetry's
//! `Value` and `AnyValue`, so an expectation is written with ordinary literals.

use std::fmt;

use opentelemetry::logs::AnyValue;

/// A typed attribute value (of a data point, event, span or the resource).
///
/// Values that are none of these (arrays, maps, bytes) are kept as their rendering in
/// [`AttrValue::Str`]; han-telemetry itself records none.
#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    /// A string.
    Str(String),
    /// A signed integer. Unsigned integers above `i64::MAX` become `i64::MAX`, as
    /// han-telemetry records them.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A boolean.
    Bool(bool),
}

impl AttrValue {
    /// The string, if this is a [`AttrValue::Str`].
    pub fn as_str(&self) -> Option<&str> {
        match self {
            AttrValue::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Whether an expected value (`self`) matches an emitted one. Numbers compare by value
    /// across `Int` and `Float`, so `with("duration_ms", 12)` matches `12.0`.
    pub(crate) fn matches(&self, actual: &AttrValue) -> bool {
        match (self, actual) {
            #[allow(clippy::cast_precision_loss)] // compared for equality only
            (AttrValue::Int(i), AttrValue::Float(f)) | (AttrValue::Float(f), AttrValue::Int(i)) => {
                *i as f64 == *f
            }
            _ => self == actual,
        }
    }

    pub(crate) fn from_otel(value: &opentelemetry::Value) -> Self {
        match value {
            opentelemetry::Value::Bool(b) => AttrValue::Bool(*b),
            opentelemetry::Value::I64(i) => AttrValue::Int(*i),
            opentelemetry::Value::F64(f) => AttrValue::Float(*f),
            opentelemetry::Value::String(s) => AttrValue::Str(s.as_str().to_owned()),
            other => AttrValue::Str(other.to_string()),
        }
    }

    pub(crate) fn from_any(value: &AnyValue) -> Self {
        match value {
            AnyValue::Boolean(b) => AttrValue::Bool(*b),
            AnyValue::Int(i) => AttrValue::Int(*i),
            AnyValue::Double(f) => AttrValue::Float(*f),
            AnyValue::String(s) => AttrValue::Str(s.as_str().to_owned()),
            other => AttrValue::Str(format!("{other:?}")),
        }
    }
}

/// Strings quoted, floats always with a decimal point: `"lint"`, `3`, `12.0`, `true`.
impl fmt::Display for AttrValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttrValue::Str(s) => write!(f, "{s:?}"),
            AttrValue::Int(i) => write!(f, "{i}"),
            AttrValue::Float(x) => write!(f, "{x:?}"),
            AttrValue::Bool(b) => write!(f, "{b}"),
        }
    }
}

impl From<&str> for AttrValue {
    fn from(value: &str) -> Self {
        AttrValue::Str(value.to_owned())
    }
}

impl From<String> for AttrValue {
    fn from(value: String) -> Self {
        AttrValue::Str(value)
    }
}

impl From<&String> for AttrValue {
    fn from(value: &String) -> Self {
        AttrValue::Str(value.clone())
    }
}

impl From<bool> for AttrValue {
    fn from(value: bool) -> Self {
        AttrValue::Bool(value)
    }
}

impl From<f64> for AttrValue {
    fn from(value: f64) -> Self {
        AttrValue::Float(value)
    }
}

impl From<f32> for AttrValue {
    fn from(value: f32) -> Self {
        AttrValue::Float(f64::from(value))
    }
}

macro_rules! from_lossless_int {
    ($($t:ty),*) => {$(
        impl From<$t> for AttrValue {
            fn from(value: $t) -> Self {
                AttrValue::Int(i64::from(value))
            }
        }
    )*};
}
from_lossless_int!(i8, i16, i32, i64, u8, u16, u32);

macro_rules! from_saturating_int {
    ($($t:ty),*) => {$(
        impl From<$t> for AttrValue {
            fn from(value: $t) -> Self {
                AttrValue::Int(i64::try_from(value).unwrap_or(i64::MAX))
            }
        }
    )*};
}
from_saturating_int!(u64, usize, isize);

/// One attribute: a key and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    /// The key, e.g. `hook_name`.
    pub key: String,
    /// The value.
    pub value: AttrValue,
}

/// The attributes of a data point, event, span or resource, in the order emitted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Attributes(pub Vec<Attribute>);

impl Attributes {
    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&AttrValue> {
        self.0.iter().find(|a| a.key == key).map(|a| &a.value)
    }

    /// All attributes.
    pub fn iter(&self) -> std::slice::Iter<'_, Attribute> {
        self.0.iter()
    }

    /// Number of attributes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn from_pairs(pairs: impl IntoIterator<Item = (String, AttrValue)>) -> Self {
        Attributes(
            pairs
                .into_iter()
                .map(|(key, value)| Attribute { key, value })
                .collect(),
        )
    }

    pub(crate) fn from_key_values<'a>(
        kvs: impl IntoIterator<Item = &'a opentelemetry::KeyValue>,
    ) -> Self {
        Self::from_pairs(
            kvs.into_iter()
                .map(|kv| (kv.key.as_str().to_owned(), AttrValue::from_otel(&kv.value))),
        )
    }
}

impl<'a> IntoIterator for &'a Attributes {
    type Item = &'a Attribute;
    type IntoIter = std::slice::Iter<'a, Attribute>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// `{hook_name="lint", success=true}`; `{}` when empty.
impl fmt::Display for Attributes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, a) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}={}", a.key, a.value)?;
        }
        f.write_str("}")
    }
}
