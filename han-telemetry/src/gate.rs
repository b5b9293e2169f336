//! The export gate: a collector that cannot be reached costs one hook, not every hook.
//!
//! Claude Code runs dozens of hook processes per prompt. When one of them cannot reach the
//! collector (refused, a host that does not resolve or route, a TLS handshake that fails, no
//! answer within the exit budget), it writes that fact beside the local store, per
//! destination (protocol and `scheme://host:port`; never a path, a query, user info,
//! headers or any other secret), with a cooldown: 30 s, doubling at each failure in a row up
//! to 10 min. Until the cooldown ends, processes do not touch the network for that
//! destination: their records stay in the store, their export receipt says `deferred`, and
//! their exit line says once that export is paused, until when, and why. After the
//! cooldown, one process (the one that takes the destination's lock) probes by exporting as
//! usual while the others keep skipping; its result closes the gate again (a longer
//! cooldown) or opens it for everyone (the file is removed). A collector that answers, even
//! with an error or a rejection, is reachable: only the failures above close the gate.
//!
//! Files, in the store's directory, per destination `<h>` (16 hex digits of a hash of the
//! destination): `.export-gate-<h>.json`, written whole to a temporary file and renamed
//! over (concurrent writers never tear it), and `.export-gate-<h>.lock`, the prober's lock.
//! The JSON holds `v` (1), `endpoint` and `protocol` (readable, for people), `failures` (in a
//! row), `since_ms` and `until_ms` (Unix milliseconds) with `until` (RFC 3339), and `why`.
//! A file that cannot be read or makes no sense is no gate, with one warning; a clock that
//! went back before `since_ms`, or an `until_ms` further away than the cooldown allows,
//! ends the gate (one probe), so no clock and no file can pause export longer than 10 min.
//!
//! A process decides at start: a long-running process that starts while the gate is
//! closed does not export for its lifetime (its records are kept, `deferred`). With the
//! store off there is no gate. `doctor` shows the gate and ignores it; `replay` ignores it.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::config::{Protocol, Signal};
use crate::state_file::{Lock, StateFile, at_millis, clean, millis};
use crate::warn;

/// The first cooldown after a reachability failure.
pub const FIRST_COOLDOWN: Duration = Duration::from_secs(30);
/// The longest cooldown, however many failures in a row.
pub const MAX_COOLDOWN: Duration = Duration::from_secs(600);

/// A gate file larger than this is not read.
const MAX_FILE_BYTES: u64 = 4096;

/// How long export pauses after `failures` reachability failures in a row.
pub fn cooldown(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(16);
    FIRST_COOLDOWN
        .saturating_mul(1 << doublings)
        .min(MAX_COOLDOWN)
}

/// What the gate file of a destination says.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct GateState {
    /// The destination, `scheme://host:port`.
    pub endpoint: String,
    /// `grpc`, `http/protobuf` or `http/json`.
    pub protocol: String,
    /// Reachability failures in a row.
    pub failures: u32,
    /// When the last failure closed the gate.
    pub since: SystemTime,
    /// When the cooldown ends; a process then probes.
    pub until: SystemTime,
    /// What the last failure was (a likely cause, no secrets).
    pub why: String,
    /// Whether export is paused now (false: the cooldown is over, or the clock went back).
    pub closed: bool,
}

/// The destination a gate is about: the protocol and `scheme://host:port` of `endpoint`,
/// without path, query or user info.
pub fn destination(protocol: Protocol, endpoint: &str) -> String {
    let origin = match endpoint.trim().parse::<http::Uri>() {
        Ok(uri) if uri.host().is_some() => {
            let scheme = uri.scheme_str().unwrap_or("http");
            let port = uri
                .port_u16()
                .unwrap_or(if scheme == "https" { 443 } else { 80 });
            format!("{scheme}://{}:{port}", uri.host().unwrap_or_default())
        }
        _ => crate::mask::mask_url(endpoint),
    };
    format!("{} {origin}", protocol.as_str())
}

/// The files of the gate of `destination` in `dir`: the state and the prober's lock.
fn gate_file(dir: &Path, destination: &str) -> StateFile {
    StateFile::new(dir, "export-gate", destination)
}

/// The directory a hook keeps its gates in for the store `config` describes: where the
/// store is now (inside Han's older data directory until Han moves it); `None` with the
/// store off.
pub fn dir_for(config: &crate::config::StoreConfig) -> Option<PathBuf> {
    crate::store::LocalStore::open(config).map(|s| s.placed_dir())
}

/// The gate of `endpoint` over `protocol` in the store directory `dir`, if a file says
/// anything. For `doctor`; `Err` says why a file is ignored.
pub fn state(dir: &Path, protocol: Protocol, endpoint: &str) -> Result<Option<GateState>, String> {
    read(
        &gate_file(dir, &destination(protocol, endpoint)),
        SystemTime::now(),
    )
}

#[derive(Debug, Serialize, Deserialize)]
struct OnDisk {
    v: u32,
    endpoint: String,
    protocol: String,
    failures: u32,
    since_ms: u64,
    until_ms: u64,
    #[serde(default)]
    until: String,
    #[serde(default)]
    why: String,
}

/// Reads a gate file: `Ok(None)` when there is none, `Err` when it cannot be used.
fn read(file: &StateFile, now: SystemTime) -> Result<Option<GateState>, String> {
    let Some(bytes) = file.read(MAX_FILE_BYTES)? else {
        return Ok(None);
    };
    let disk: OnDisk = serde_json::from_slice(&bytes).map_err(|e| format!("not a gate: {e}"))?;
    if disk.v != 1 {
        return Err(format!("version {} is not known", disk.v));
    }
    if disk.failures == 0 || disk.until_ms <= disk.since_ms {
        return Err("its times or failure count make no sense".to_owned());
    }
    let (since, until) = (at_millis(disk.since_ms), at_millis(disk.until_ms));
    // No file and no clock pause export longer than its cooldown allows: a clock set back
    // (now before `since`) or an `until` too far ahead ends the gate.
    let allowed = millis(UNIX_EPOCH + cooldown(disk.failures));
    let now_ms = millis(now);
    let closed = now_ms >= disk.since_ms
        && now_ms < disk.until_ms
        && disk.until_ms - disk.since_ms <= allowed;
    Ok(Some(GateState {
        endpoint: clean(&disk.endpoint),
        protocol: clean(&disk.protocol),
        failures: disk.failures,
        since,
        until,
        why: clean(&disk.why),
        closed,
    }))
}

/// [`read`] for a hook: an unusable file is no gate, with one warning.
fn read_or_warn(file: &StateFile, now: SystemTime) -> Option<GateState> {
    match read(file, now) {
        Ok(state) => state,
        Err(why) => {
            warn::warn_once(
                "gate-file",
                &format!(
                    "the export gate file {} is ignored ({why}); export goes on as if none were there",
                    file.path.display()
                ),
            );
            None
        }
    }
}

/// Writes a closed gate, whole (see [`StateFile::write`]).
fn write(file: &StateFile, state: &GateState) -> std::io::Result<()> {
    file.write(&OnDisk {
        v: 1,
        endpoint: state.endpoint.clone(),
        protocol: state.protocol.clone(),
        failures: state.failures,
        since_ms: millis(state.since),
        until_ms: millis(state.until),
        until: humantime::format_rfc3339_seconds(crate::store::clamp_time(state.until)).to_string(),
        why: clean(&state.why),
    })
}

/// Export to a destination is paused: what the exit line says.
#[derive(Debug, Clone)]
pub(crate) struct Paused {
    pub(crate) signals: Vec<Signal>,
    /// The configured endpoint, masked.
    pub(crate) endpoint: String,
    pub(crate) until: SystemTime,
    pub(crate) why: String,
    /// Another process is probing: the cooldown is over.
    pub(crate) probing: bool,
}

/// A gate this process closed at exit.
#[derive(Debug, Clone)]
pub(crate) struct Closed {
    pub(crate) until: SystemTime,
}

/// How a destination's export went, as far as the gate cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reach {
    /// The collector answered (a success, an error status, a rejection).
    Answered,
    /// It could not be reached: the likely cause.
    Unreachable(String),
    /// Nothing was exported, or nothing is known.
    Unknown,
}

#[derive(Debug)]
enum Pass {
    /// No gate: export.
    Open,
    /// The cooldown was over and this process holds the lock: export, then settle.
    Probe { prior: u32, _lock: Option<File> },
    /// Do not touch the network.
    Paused(Paused),
}

#[derive(Debug)]
struct Ticket {
    destination: String,
    readable: String,
    signals: Vec<Signal>,
    pass: Pass,
}

/// This process's gates, one per destination, decided when its exporters are built and
/// settled at exit.
#[derive(Debug, Default)]
pub(crate) struct Gates {
    dir: Option<PathBuf>,
    tickets: Mutex<Vec<Ticket>>,
}

impl Gates {
    /// Gates kept in the store directory `dir`; none without a store.
    pub(crate) fn in_dir(dir: Option<&Path>) -> Gates {
        Gates {
            dir: dir.map(Path::to_path_buf),
            tickets: Mutex::new(Vec::new()),
        }
    }

    /// Whether `signal` may export to `endpoint` over `protocol` now; when not, the pause
    /// is kept for [`Gates::paused`].
    pub(crate) fn admit(&self, signal: Signal, protocol: Protocol, endpoint: &str) -> bool {
        let Some(dir) = &self.dir else { return true };
        let destination = destination(protocol, endpoint);
        let Ok(mut tickets) = self.tickets.lock() else {
            return true;
        };
        if let Some(t) = tickets.iter_mut().find(|t| t.destination == destination) {
            t.signals.push(signal);
            if let Pass::Paused(p) = &mut t.pass {
                p.signals.push(signal);
                return false;
            }
            return true;
        }
        let readable = destination
            .split_once(' ')
            .map_or(destination.as_str(), |(_, o)| o)
            .to_owned();
        let pass = decide(dir, &destination, endpoint, signal);
        let admitted = !matches!(pass, Pass::Paused(_));
        tickets.push(Ticket {
            destination,
            readable,
            signals: vec![signal],
            pass,
        });
        admitted
    }

    /// The destinations this process does not export to.
    pub(crate) fn paused(&self) -> Vec<Paused> {
        self.tickets.lock().map_or_else(
            |_| Vec::new(),
            |t| {
                t.iter()
                    .filter_map(|t| match &t.pass {
                        Pass::Paused(p) => Some(p.clone()),
                        _ => None,
                    })
                    .collect()
            },
        )
    }

    /// Records what this process's export found, per destination it exported to: a
    /// failure to reach it closes its gate (a longer cooldown than the last), an answer
    /// opens it. Returns the gates it closed. Releases the probe locks.
    pub(crate) fn settle(&self, reach: impl Fn(Signal) -> Reach) -> Vec<Closed> {
        let Some(dir) = &self.dir else {
            return Vec::new();
        };
        let tickets = self
            .tickets
            .lock()
            .map(|mut t| std::mem::take(&mut *t))
            .unwrap_or_default();
        let mut closed = Vec::new();
        let now = SystemTime::now();
        // A clock outside what the file can hold (before 1970, past 9999) writes no gate:
        // it would read as garbage.
        if crate::store::clamp_time(now) != now
            || crate::store::clamp_time(now + MAX_COOLDOWN) != now + MAX_COOLDOWN
            || now == UNIX_EPOCH
        {
            return Vec::new();
        }
        for t in tickets {
            let prior = match &t.pass {
                Pass::Paused(_) => continue,
                Pass::Open => 0,
                Pass::Probe { prior, .. } => *prior,
            };
            let reaches: Vec<Reach> = t.signals.iter().map(|s| reach(*s)).collect();
            let file = gate_file(dir, &t.destination);
            if let Some(Reach::Unreachable(why)) =
                reaches.iter().find(|r| matches!(r, Reach::Unreachable(_)))
            {
                let failures = prior.saturating_add(1);
                // Processes that started together all fail together: the first to write
                // counts the failure, the others leave its gate as it is.
                if let Some(current) = read(&file, now).ok().flatten()
                    && current.closed
                    && current.failures >= failures
                {
                    closed.push(Closed {
                        until: current.until,
                    });
                    continue;
                }
                let state = GateState {
                    endpoint: t.readable.clone(),
                    protocol: t
                        .destination
                        .split_once(' ')
                        .map_or("", |(p, _)| p)
                        .to_owned(),
                    failures,
                    since: now,
                    until: now + cooldown(failures),
                    why: why.clone(),
                    closed: true,
                };
                match write(&file, &state) {
                    Ok(()) => closed.push(Closed { until: state.until }),
                    Err(e) => warn::warn_once(
                        "gate-write",
                        &format!(
                            "cannot write the export gate {} ({e}); every run will try the collector",
                            file.path.display()
                        ),
                    ),
                }
            } else if reaches.contains(&Reach::Answered) {
                match fs::remove_file(&file.path) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => warn::warn_once(
                        "gate-write",
                        &format!(
                            "cannot remove the export gate {} ({e})",
                            file.path.display()
                        ),
                    ),
                    _ => {}
                }
            }
            // The probe lock goes with the ticket, after the gate is written.
        }
        closed
    }
}

/// Whether to export to `destination` now, reading its gate in `dir`.
fn decide(dir: &Path, destination: &str, endpoint: &str, signal: Signal) -> Pass {
    decide_at(dir, destination, endpoint, signal, SystemTime::now())
}

/// [`decide`], the gate first read at `now`.
fn decide_at(
    dir: &Path,
    destination: &str,
    endpoint: &str,
    signal: Signal,
    now: SystemTime,
) -> Pass {
    let file = gate_file(dir, destination);
    let Some(state) = read_or_warn(&file, now) else {
        return Pass::Open;
    };
    let paused = |state: &GateState, probing: bool| {
        Pass::Paused(Paused {
            signals: vec![signal],
            endpoint: crate::mask::mask_url(endpoint),
            until: state.until,
            why: state.why.clone(),
            probing,
        })
    };
    if state.closed {
        return paused(&state, false);
    }
    // The cooldown is over: the one process that takes the lock probes.
    let lock = match file.try_lock() {
        Lock::Held(lock) => lock,
        Lock::Busy => return paused(&state, true),
        // No lock to be had: probe anyway rather than never export again.
        Lock::Unavailable => {
            return Pass::Probe {
                prior: state.failures,
                _lock: None,
            };
        }
    };
    // The prober before us may have settled between our read and our lock. Read again at
    // the time of the lock: at the first read's time, a gate that prober closed since would
    // start after `now` and look set by a clock gone back, and this process would probe too.
    match read(&file, SystemTime::now()).ok().flatten() {
        None => Pass::Open,
        Some(again) if again.closed => paused(&again, false),
        Some(again) => Pass::Probe {
            prior: again.failures,
            _lock: Some(lock),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::TempDir;

    const EP: &str = "http://user:secret@127.0.0.1:4317/v1/x?token=t";

    #[test]
    fn cooldown_doubles_to_ten_minutes() {
        let secs: Vec<u64> = (1..=8).map(|f| cooldown(f).as_secs()).collect();
        assert_eq!(secs, [30, 60, 120, 240, 480, 600, 600, 600]);
        assert_eq!(cooldown(u32::MAX), MAX_COOLDOWN);
    }

    #[test]
    fn the_destination_has_no_secret() {
        let d = destination(Protocol::Grpc, EP);
        assert_eq!(d, "grpc http://127.0.0.1:4317");
        assert_eq!(
            destination(Protocol::HttpJson, "https://c.example/v1/logs"),
            "http/json https://c.example:443"
        );
    }

    #[test]
    fn a_failure_closes_an_answer_opens_and_failures_grow() {
        let scratch = TempDir::new("gate-cycle");
        let dir = scratch.path();
        let gates = Gates::in_dir(Some(dir));
        assert!(gates.admit(Signal::Metrics, Protocol::Grpc, EP));
        let closed = gates.settle(|_| Reach::Unreachable("refused".into()));
        assert_eq!(closed.len(), 1);
        let s = state(dir, Protocol::Grpc, EP).expect("ok").expect("a gate");
        assert!(s.closed);
        assert_eq!(s.failures, 1);
        let file = gate_file(dir, &destination(Protocol::Grpc, EP));
        let text = fs::read_to_string(&file.path).expect("gate file");
        assert!(
            !text.contains("secret") && !text.contains("token"),
            "{text}"
        );
        // Within the cooldown: paused.
        let gates = Gates::in_dir(Some(dir));
        assert!(!gates.admit(Signal::Logs, Protocol::Grpc, EP));
        assert!(!gates.admit(Signal::Metrics, Protocol::Grpc, EP));
        assert_eq!(gates.paused()[0].signals, [Signal::Logs, Signal::Metrics]);
        assert!(gates.settle(|_| Reach::Unknown).is_empty());
        // The cooldown over (the file's times moved back): one prober, the others paused.
        let back = |ms: u64| {
            let mut disk: OnDisk =
                serde_json::from_slice(&fs::read(&file.path).expect("read")).expect("json");
            disk.since_ms -= ms;
            disk.until_ms -= ms;
            fs::write(&file.path, serde_json::to_vec(&disk).expect("json")).expect("write");
        };
        back(40_000);
        let prober = Gates::in_dir(Some(dir));
        assert!(prober.admit(Signal::Metrics, Protocol::Grpc, EP));
        let other = Gates::in_dir(Some(dir));
        assert!(!other.admit(Signal::Metrics, Protocol::Grpc, EP));
        assert!(other.paused()[0].probing);
        prober.settle(|_| Reach::Unreachable("refused".into()));
        let s = state(dir, Protocol::Grpc, EP).expect("ok").expect("a gate");
        assert_eq!((s.failures, s.closed), (2, true));
        assert_eq!(
            s.until.duration_since(s.since).expect("later"),
            Duration::from_secs(60)
        );
        // An answer opens it for everyone.
        back(70_000);
        let prober = Gates::in_dir(Some(dir));
        assert!(prober.admit(Signal::Metrics, Protocol::Grpc, EP));
        prober.settle(|_| Reach::Answered);
        assert_eq!(state(dir, Protocol::Grpc, EP), Ok(None));
    }

    #[test]
    fn garbage_and_lies_are_no_gate_and_never_a_long_pause() {
        let scratch = TempDir::new("gate-garbage");
        let dir = scratch.path();
        let file = gate_file(dir, &destination(Protocol::Grpc, EP));
        let path = &file.path;
        let now = millis(SystemTime::now());
        let lies = [
            b"\xff\xfe garbage".to_vec(),
            b"{}".to_vec(),
            b"[1,2,3]".to_vec(),
            format!(r#"{{"v":2,"endpoint":"","protocol":"","failures":1,"since_ms":{now},"until_ms":{}}}"#, now + 1000).into_bytes(),
            format!(r#"{{"v":1,"endpoint":"","protocol":"","failures":0,"since_ms":{now},"until_ms":{}}}"#, now + 1000).into_bytes(),
            vec![b' '; 10_000],
        ];
        for lie in lies {
            fs::write(path, &lie).expect("write");
            assert!(read(&file, SystemTime::now()).is_err());
            assert!(Gates::in_dir(Some(dir)).admit(Signal::Metrics, Protocol::Grpc, EP));
        }
        // A gate for a year, or one set by a clock that has gone back: probe at once.
        let year = 365 * 86_400_000;
        for (since, until) in [(now - 1000, now + year), (now + 3_600_000, now + 3_630_000)] {
            let text = format!(
                r#"{{"v":1,"endpoint":"e","protocol":"grpc","failures":1,"since_ms":{since},"until_ms":{until},"why":"x\u001b[31m"}}"#
            );
            fs::write(path, text).expect("write");
            let s = read(&file, SystemTime::now()).expect("ok").expect("a gate");
            assert!(!s.closed);
            assert_eq!(s.why, "x[31m");
            let gates = Gates::in_dir(Some(dir));
            assert!(gates.admit(Signal::Metrics, Protocol::Grpc, EP), "probes");
        }
    }

    /// A process reads a gate whose cooldown is over; before it takes the lock, the prober
    /// fails and closes the gate again (its `since` after the first read) and lets the lock
    /// go. The second process must see that gate closed, not probe as well (the flake of
    /// `examples/tests/gate.rs`' forty processes at once: two probers).
    #[test]
    fn a_gate_closed_between_the_read_and_the_lock_pauses() {
        let scratch = TempDir::new("gate-reread");
        let dir = scratch.path();
        let prober = Gates::in_dir(Some(dir));
        assert!(prober.admit(Signal::Metrics, Protocol::Grpc, EP));
        prober.settle(|_| Reach::Unreachable("refused".into()));
        let s = state(dir, Protocol::Grpc, EP).expect("ok").expect("a gate");
        // This process read the gate just before the prober wrote it.
        let read_before = s.since - Duration::from_millis(5);
        let pass = decide_at(
            dir,
            &destination(Protocol::Grpc, EP),
            EP,
            Signal::Metrics,
            read_before,
        );
        assert!(
            matches!(pass, Pass::Paused(ref p) if !p.probing),
            "a second prober"
        );
    }

    #[test]
    fn processes_failing_together_count_one_failure() {
        let scratch = TempDir::new("gate-together");
        let dir = scratch.path();
        let all: Vec<Gates> = (0..5).map(|_| Gates::in_dir(Some(dir))).collect();
        for g in &all {
            assert!(g.admit(Signal::Metrics, Protocol::Grpc, EP));
        }
        for g in &all {
            assert_eq!(g.settle(|_| Reach::Unreachable("refused".into())).len(), 1);
        }
        let s = state(dir, Protocol::Grpc, EP).expect("ok").expect("a gate");
        assert_eq!(s.failures, 1);
    }
}
