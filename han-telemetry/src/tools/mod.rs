//! The operator's tools, which only the `han-telemetry` command uses (feature `tools`): a
//! real test export per signal ([`probe`], for `doctor`) and sending the local store's
//! records whose export failed ([`replay`]). A hook does not compile them (it compiles the
//! machinery replay shares with a hook's catch-up at exit).

/// Test exports for `han-telemetry doctor`: does telemetry reach the collector?
pub mod probe;
pub mod replay;
