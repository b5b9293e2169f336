//! What the integration tests of han-telemetry share, in one place (dev-only, never
//! published):
//!
//! * [`collector`]: a real, independent OTLP collector (rotel) whose receipts are read back
//!   as typed values through [`receiver`] and [`otlp`];
//! * [`http_server`]: one configurable loopback HTTP server (answers as data, every request
//!   recorded through [`recording`]), which [`faults`] (a collector failing on purpose over
//!   OTLP/HTTP and, through `h2`, gRPC) and the tests' own stubs are made of;
//! * [`process`]: running an example binary as Claude Code runs a hook, in a [`scratch`]
//!   directory, and the input it gives a hook after a `Write`;
//! * [`claude_code`]: Claude Code itself (`claude -p`, pinned), offline against
//!   [`messages_api`], a fake Anthropic Messages API made of the HTTP server;
//! * [`han`]: Han itself (pinned), sharing a scratch `HOME` with the hooks;
//! * [`secrets`]: secrets to plant and the encodings to search for them in;
//! * [`tls_proxy`]: a private PKI (`openssl`) and a TLS terminator (`socat`).

pub mod claude_code;
pub mod collector;
pub mod faults;
pub mod han;
pub mod http_server;
pub mod messages_api;
pub mod otlp;
pub mod process;
pub mod receiver;
pub mod recording;
pub mod scratch;
pub mod secrets;
pub mod tls_proxy;
mod tool;
pub mod wrong_protocol;

#[cfg(test)]
mod test_client;
