//! One clear line on stderr per problem, never a flood.
//!
//! Hooks talk to Claude Code on stdout, so every message goes to stderr, prefixed with
//! `han-telemetry:`. Each distinct problem is printed once per process: a collector that is
//! down would otherwise produce a line per export attempt.

use std::collections::HashSet;
use std::io::Write as _;
use std::sync::Mutex;

static SEEN: Mutex<Option<HashSet<String>>> = Mutex::new(None);

/// Prints `message` unless a message with the same `key` was already printed.
pub(crate) fn warn_once(key: &str, message: &str) {
    let first = {
        let mut seen = SEEN.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        seen.get_or_insert_with(HashSet::new).insert(key.to_owned())
    };
    if first {
        // A closed stderr must not fail the host.
        let _ = writeln!(std::io::stderr().lock(), "han-telemetry: {message}");
    }
}

/// Whether a message of `key` was printed in this process.
#[cfg(test)]
pub(crate) fn was_warned(key: &str) -> bool {
    let seen = SEEN.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    seen.as_ref().is_some_and(|seen| seen.contains(key))
}
