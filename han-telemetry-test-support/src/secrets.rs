//! Secrets to plant and the encodings to look for them in. A test puts a
//! unique [`secret`] wherever one could be configured, then searches every output channel for
//! it with [`encodings`] or [`assert_no_secret`]: as text, and as the decimal byte list, hex
//! and base64 a careless message would carry.
//!
//! Shared by the privacy tests of the library, the CLI and the examples.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A secret unique to this call: lowercase letters and digits only, so it is a valid header
/// value, URL userinfo and base64 text, and lowercasing (header names) cannot hide it.
pub fn secret(label: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "s3cr3t{label}{nanos:08x}{:06x}{:02x}",
        std::process::id() & 0xff_ffff,
        NEXT.fetch_add(1, Ordering::Relaxed) & 0xff
    )
}

/// Standard base64 with padding (for the `Basic` form of an endpoint's userinfo).
pub fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// `needle` as it could appear in a message, lowercased: as text, as the decimal byte list of
/// a `Vec<u8>`'s `Debug`, as hex, and as the part of its base64 that does not depend on the
/// bytes around it (at each of the three alignments).
pub fn encodings(needle: &str) -> Vec<(&'static str, String)> {
    let bytes = needle.as_bytes();
    let decimal = bytes
        .iter()
        .map(u8::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let mut forms = vec![
        ("as text", needle.to_ascii_lowercase()),
        ("as decimal bytes", decimal),
        ("as hex", hex),
    ];
    for offset in 0..3 {
        let mut padded = vec![0u8; offset];
        padded.extend_from_slice(bytes);
        let encoded = base64(&padded);
        // Drop the group that holds the padding bytes and the last, partial group.
        let first = if offset == 0 { 0 } else { 4 };
        let last = (padded.len() / 3) * 4;
        if last > first + 8 {
            forms.push(("as base64", encoded[first..last].to_ascii_lowercase()));
        }
    }
    forms
}

/// Panics if `secret` appears in `text` in any of its [`encodings`], showing where.
pub fn assert_no_secret(what: &str, text: &str, secret: &str) {
    let lower = text.to_ascii_lowercase();
    for (form, needle) in encodings(secret) {
        if let Some(at) = lower.find(&needle) {
            let start = lower[..at]
                .char_indices()
                .rev()
                .nth(150)
                .map_or(0, |(i, _)| i);
            let end = (at + needle.len() + 150).min(text.len());
            let around = text.get(start..end).unwrap_or(text);
            panic!(
                "the secret leaked ({form}) into {what}: ...{around}...\n--- all of it ---\n{text}"
            );
        }
    }
}
