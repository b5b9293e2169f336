//! Sending the local store's records to the collector again, once, after an export failed.
//!
//! A hook whose export failed still wrote its records to the [local store](crate::store),
//! followed by an `export` record that says, per signal, what became of the export. A record
//! is *pending* for a signal when its process's export of that signal `failed` (nothing got
//! through, for a reason that was not the data) or was `abandoned` at the exit budget, and no
//! replay has delivered it since. [`run`] sends the pending records through the configured
//! OTLP exporters, built exactly as a hook builds them, then appends an `export` record with
//! `"replay":true` for every process it delivered, so the next run sends nothing twice:
//!
//! - **events** (logs) are the catalogue events of the records, with the records' own
//!   timestamps and session ids, sent in batches of whole processes;
//! - **metrics** are the records counted again, as one export: with the default delta
//!   temporality the backend adds them to what it already has, at the time of the replay.
//!
//! What is never sent again: records of a process whose export was `rejected` (the collector
//! refused the data; it would refuse it again) or `mixed` (a long-running process some of
//! whose exports got through: which records arrived is unknown); spans (the store keeps no
//! spans); records without an `export` record (telemetry was off, or the process died before
//! its exit). A collector that received an export but answered after the exit budget looks
//! `abandoned`: replaying that process sends its records a second time, the one case where a
//! backend can count twice.
//!
//! Records go in batches of whole processes of at most [`BATCH_RECORDS`] records (a process
//! with more is a batch of its own); after each signal of each batch is delivered, its
//! receipts are written and flushed before the next export starts. A replay killed at any
//! point (SIGKILL, a crash, a full disk) therefore never loses a record (a receipt is written
//! only after the collector accepted the batch) and sends at most one batch of one signal a
//! second time: the one whose receipt it did not get to write.
//!
//! Bounds: only records since [`Options::since`], and at most [`Options::max_records`]
//! records per run, in whole processes, oldest first; the rest waits for the next run. Two
//! replays of one store never run at once: the second fails with [`ReplayError::Busy`].

pub use crate::resend::{
    BATCH_RECORDS, DEFAULT_MAX_RECORDS, Options, ReplayError, Sent, SignalReplay, Summary, run,
};
