//! Attribute conditions, shared by every selector: `with`, `without` and `only`.

use crate::attributes::{AttrValue, Attributes};

/// The attribute conditions of one query.
#[derive(Debug, Clone, Default)]
pub(crate) struct AttrFilter {
    pub(crate) wanted: Vec<(String, AttrValue)>,
    pub(crate) absent: Vec<String>,
    pub(crate) only: bool,
}

impl AttrFilter {
    /// Whether `attrs` passes; keys in `ignored` do not count against `only`.
    pub(crate) fn matches(&self, attrs: &Attributes, ignored: &[&str]) -> bool {
        let wanted = self
            .wanted
            .iter()
            .all(|(k, v)| attrs.get(k).is_some_and(|actual| v.matches(actual)));
        let absent = self.absent.iter().all(|k| attrs.get(k).is_none());
        let only = !self.only
            || attrs.iter().all(|a| {
                ignored.contains(&a.key.as_str()) || self.wanted.iter().any(|(k, _)| *k == a.key)
            });
        wanted && absent && only
    }

    /// ` where hook_name="lint", success=false, no session.id, and no other attributes`.
    pub(crate) fn describe(&self) -> String {
        let mut parts: Vec<String> = self
            .wanted
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        parts.extend(self.absent.iter().map(|k| format!("no {k}")));
        if self.only {
            parts.push(if self.wanted.is_empty() {
                "no attributes".to_owned()
            } else {
                "no other attributes".to_owned()
            });
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!(" where {}", parts.join(", "))
        }
    }
}

/// Adds `with`, `without` and `only` to a query type holding an `AttrFilter` in `filter`.
macro_rules! attribute_filters {
    ($ty:ident) => {
        impl $ty<'_> {
            /// Only items that carry attribute `key` with this value (other attributes are
            /// allowed unless [`only`](Self::only) is used). Integers and floats compare by
            /// value.
            pub fn with(
                mut self,
                key: impl Into<String>,
                value: impl Into<$crate::attributes::AttrValue>,
            ) -> Self {
                self.filter.wanted.push((key.into(), value.into()));
                self
            }

            /// Only items that do not carry attribute `key` at all.
            pub fn without(mut self, key: impl Into<String>) -> Self {
                self.filter.absent.push(key.into());
                self
            }

            /// Only items whose attributes are those named with [`with`](Self::with) and
            /// nothing else.
            pub fn only(mut self) -> Self {
                self.filter.only = true;
                self
            }
        }
    };
}

pub(crate) use attribute_filters;
