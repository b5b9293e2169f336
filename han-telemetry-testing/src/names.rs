//! Names of metrics and events, accepted as strings or as catalogue entries, so a test can
//! write `metric::HOOK_EXECUTION` instead of retyping `"han.hook.execution"`.

use std::fmt;

use han_telemetry::catalogue::{EventDef, MetricDef};

macro_rules! name_type {
    ($(#[$doc:meta])* $name:ident, $def:ty) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            /// The name as a string.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(name: &str) -> Self {
                $name(name.to_owned())
            }
        }

        impl From<&&str> for $name {
            fn from(name: &&str) -> Self {
                $name((*name).to_owned())
            }
        }

        impl From<String> for $name {
            fn from(name: String) -> Self {
                $name(name)
            }
        }

        impl From<&String> for $name {
            fn from(name: &String) -> Self {
                $name(name.clone())
            }
        }

        impl From<$def> for $name {
            fn from(def: $def) -> Self {
                $name(def.name.to_owned())
            }
        }

        impl From<&$def> for $name {
            fn from(def: &$def) -> Self {
                $name(def.name.to_owned())
            }
        }

        impl From<&&$def> for $name {
            fn from(def: &&$def) -> Self {
                $name(def.name.to_owned())
            }
        }
    };
}

name_type!(
    /// A metric name: from a `&str`, a `String`, or a catalogue [`MetricDef`]
    /// (`metric::HOOK_EXECUTION`, by value or by reference).
    MetricName,
    MetricDef
);

name_type!(
    /// An event name: from a `&str`, a `String`, or a catalogue [`EventDef`]
    /// (`event::HOOK_RESULT`, by value or by reference).
    EventName,
    EventDef
);
