//! Helpers shared by the test binaries.

#![allow(dead_code)]

use std::panic::{AssertUnwindSafe, catch_unwind};

/// Runs `f`, which must panic, and returns its panic message.
#[track_caller]
pub(crate) fn panic_message(f: impl FnOnce()) -> String {
    let payload = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(()) => panic!("expected the assertion to fail, but it passed"),
        Err(payload) => payload,
    };
    if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else {
        panic!("panic payload is not a string")
    }
}

/// Asserts that `message` contains every one of `parts`, showing the message when not.
#[track_caller]
pub(crate) fn assert_contains(message: &str, parts: &[&str]) {
    for part in parts {
        assert!(
            message.contains(part),
            "failure message lacks {part:?}; the message was:\n{message}"
        );
    }
}

pub(crate) const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
