//! Claude Code's `otelHeadersHelper`: a program whose standard output is a JSON object of
//! header values (tokens that expire), for every OTLP export, over gRPC and HTTP alike.
//!
//! Claude Code runs the helper with a 30 s timeout and keeps its result for
//! `CLAUDE_CODE_OTEL_HEADERS_HELPER_DEBOUNCE_MS` (29 min by default). A hook cannot wait 30 s,
//! and dozens of hooks run per prompt, so the result is cached across processes in a file
//! beside the local store, keyed by the helper's path: a hook runs the helper only when
//! that cache is stale (older than the debounce, or marked after a collector answered
//! 401/403 to its headers), and then for at most [`RUN_LIMIT`].
//!
//! - The helper is run as a program (its path, no shell, no arguments), with the hook's
//!   environment, no standard input and its standard error discarded (it may print a
//!   token there). Past [`RUN_LIMIT`] it is killed, with the process group it leads; an
//!   output past [`MAX_OUTPUT`] is refused.
//! - Its output must be one JSON object whose values are all strings, with valid header
//!   names and values (not `*-bin`, which gRPC reserves for binary values); anything else
//!   is refused whole. Names are lowercased.
//! - Its headers join each signal's static `OTEL_EXPORTER_OTLP_*HEADERS` and win over a
//!   static header of the same name, as the helper's are the fresher credential.
//! - A helper that cannot be started, fails, is slow or lies gives one line on stderr;
//!   export goes on with the static headers, and no process runs it again for
//!   [`RETRY_AFTER`], so a broken helper costs one hook its time, not every hook.
//! - When the cache is stale, one process (the one that takes the lock file) runs the
//!   helper; the others use the stale headers meanwhile (or, if a collector refused them,
//!   only the static ones).
//!
//! Files, in the store's directory (where the export gate keeps its files), per helper
//! `<h>` (16 hex digits of a hash of its path): `.headers-helper-<h>.json`, 0600, written
//! whole to a temporary file and renamed over, holding `v` (1), `program`, `fetched_ms`
//! (Unix milliseconds of the run that printed `headers`), `headers`, `refused` (a collector
//! answered 401/403 to them), `failed_ms` and `why` (the last failure, never the output);
//! and `.headers-helper-<h>.lock`, the runner's lock. With the store off there is no cache:
//! every process runs the helper.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

use serde::{Deserialize, Serialize};

use crate::config::{Config, Exporter, HeadersHelper, Signal};
use crate::state_file::{Lock, StateFile, at_millis, clean, millis};
use crate::warn;

/// The longest a hook waits for the helper: a share of the default exit budget (1 s) would
/// be too short for a helper that fetches a token over the network, while Claude Code's
/// 30 s would stall the hook. A hook pays it only when the cache is stale.
pub const RUN_LIMIT: Duration = Duration::from_secs(2);
/// The most the helper may print.
pub const MAX_OUTPUT: usize = 64 * 1024;
/// After a failure, how long no process runs the helper again.
pub const RETRY_AFTER: Duration = Duration::from_secs(30);
/// A cache file larger than this is not read (the output's limit, plus room).
const MAX_FILE_BYTES: u64 = 2 * MAX_OUTPUT as u64;

/// The cache and lock files of `program` in `dir`.
fn files(dir: &Path, program: &Path) -> StateFile {
    StateFile::new(dir, "headers-helper", &program.to_string_lossy())
}

/// The path of the cache file of `program` in the store directory `dir` (for `doctor` and
/// tests).
pub fn cache_file(dir: &Path, program: &Path) -> PathBuf {
    files(dir, program).path
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct OnDisk {
    v: u32,
    program: String,
    #[serde(default)]
    fetched_ms: u64,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    refused: bool,
    #[serde(default)]
    failed_ms: u64,
    #[serde(default)]
    why: String,
}

/// Whether `since_ms` is less than `within` ago (a clock that went back is not "within").
fn within(now_ms: u64, since_ms: u64, within: Duration) -> bool {
    since_ms > 0 && now_ms >= since_ms && u128::from(now_ms - since_ms) < within.as_millis()
}

/// What the cache of a helper says, for `doctor`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheState {
    /// The cache file.
    pub path: PathBuf,
    /// When the helper last printed headers, if it ever did.
    pub fetched: Option<SystemTime>,
    /// The header names it printed (never the values).
    pub names: Vec<String>,
    /// The headers are used without running the helper (younger than the debounce, not
    /// refused by a collector).
    pub fresh: bool,
    /// A collector answered 401/403 to them: the next process runs the helper.
    pub refused: bool,
    /// The last failure, and when.
    pub failed: Option<(SystemTime, String)>,
}

/// The cache of `helper` in the store directory `dir`: `Ok(None)` when there is none.
pub fn cache_state(dir: &Path, helper: &HeadersHelper) -> Result<Option<CacheState>, String> {
    let file = files(dir, &helper.program);
    let Some(disk) = read(&file, helper)? else {
        return Ok(None);
    };
    let now = millis(SystemTime::now());
    Ok(Some(CacheState {
        fetched: (disk.fetched_ms > 0).then(|| at_millis(disk.fetched_ms)),
        names: disk.headers.keys().cloned().collect(),
        fresh: is_fresh(&disk, helper, now),
        refused: disk.refused,
        failed: (disk.failed_ms > disk.fetched_ms)
            .then(|| (at_millis(disk.failed_ms), clean(&disk.why))),
        path: file.path,
    }))
}

fn is_fresh(disk: &OnDisk, helper: &HeadersHelper, now_ms: u64) -> bool {
    !disk.refused && within(now_ms, disk.fetched_ms, helper.debounce)
}

/// Reads a cache file: `Ok(None)` when there is none (or it is another helper's).
fn read(file: &StateFile, helper: &HeadersHelper) -> Result<Option<OnDisk>, String> {
    let Some(bytes) = file.read(MAX_FILE_BYTES)? else {
        return Ok(None);
    };
    // The error names no value: the file holds credentials.
    let disk: OnDisk = serde_json::from_slice(&bytes).map_err(|e| {
        format!(
            "not a headers cache (line {} column {})",
            e.line(),
            e.column()
        )
    })?;
    if disk.v != 1 {
        return Err(format!("version {} is not known", disk.v));
    }
    if disk.program != helper.program.to_string_lossy() {
        return Ok(None);
    }
    if validate(disk.headers.iter().map(|(k, v)| (k.clone(), v.clone()))).is_err() {
        return Err("it holds a header that is not valid".to_owned());
    }
    Ok(Some(disk))
}

/// Header names lowercased; every name and value valid for HTTP and gRPC alike.
fn validate(
    pairs: impl IntoIterator<Item = (String, String)>,
) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for (name, value) in pairs {
        let name = name.to_ascii_lowercase();
        // The name is not shown: what is no header name may be a pasted credential.
        if http::HeaderName::from_bytes(name.as_bytes()).is_err() || name.ends_with("-bin") {
            return Err("printed a header name that is not valid".to_owned());
        }
        if http::HeaderValue::from_str(&value).is_err() {
            return Err(format!(
                "printed a value for {name} that is not a valid header value"
            ));
        }
        out.push((name, value));
    }
    Ok(out)
}

/// The helper's output as headers. Messages never quote a value.
fn parse(output: &[u8]) -> Result<Vec<(String, String)>, String> {
    let output = output.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(output);
    let value: serde_json::Value = serde_json::from_slice(output).map_err(|e| {
        format!(
            "printed something that is not JSON (line {} column {})",
            e.line(),
            e.column()
        )
    })?;
    let serde_json::Value::Object(map) = value else {
        return Err("printed JSON that is not an object of header values".to_owned());
    };
    let mut pairs = Vec::with_capacity(map.len());
    for (name, value) in map {
        match value {
            serde_json::Value::String(text) => pairs.push((name, text)),
            _ if http::HeaderName::from_bytes(name.as_bytes()).is_ok() => {
                return Err(format!("printed a value for {name} that is not a string"));
            }
            _ => return Err("printed a value that is not a string".to_owned()),
        }
    }
    validate(pairs)
}

/// Runs `program` for at most `limit`; its headers, or why not.
fn run(program: &Path, limit: Duration) -> Result<Vec<(String, String)>, String> {
    let deadline = Instant::now() + limit;
    let mut command = Command::new(program);
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    // Its own process group, so that a timeout kills what it started too.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot be started ({e})"))?;
    let kill = |child: &mut std::process::Child| {
        #[cfg(unix)]
        {
            let pid = rustix::process::Pid::from_child(child);
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        }
        let _ = child.kill();
        let _ = child.wait();
    };
    let Some(mut stdout) = child.stdout.take() else {
        kill(&mut child);
        return Err("its output cannot be read".to_owned());
    };
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::Builder::new()
        .name("han-telemetry-headers-helper".into())
        .spawn(move || {
            let mut bytes = Vec::new();
            let limit = u64::try_from(MAX_OUTPUT).unwrap_or(u64::MAX) + 1;
            let read = (&mut stdout).take(limit).read_to_end(&mut bytes);
            let _ = tx.send(read.map(|_| bytes));
        });
    if reader.is_err() {
        kill(&mut child);
        return Err("its output cannot be read (no thread)".to_owned());
    }
    let timed_out = || format!("did not finish within {} ms", limit.as_millis());
    let output = match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(e)) => {
            kill(&mut child);
            return Err(format!("its output cannot be read ({e})"));
        }
        Err(_) => {
            kill(&mut child);
            return Err(timed_out());
        }
    };
    if output.len() > MAX_OUTPUT {
        kill(&mut child);
        return Err(format!("printed more than {} KiB", MAX_OUTPUT / 1024));
    }
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(1)),
            Ok(None) => {
                kill(&mut child);
                return Err(timed_out());
            }
            Err(e) => {
                kill(&mut child);
                return Err(format!("cannot be waited for ({e})"));
            }
        }
    };
    if !status.success() {
        return Err(format!("failed ({status})"));
    }
    parse(&output)
}

/// `dynamic` over `fixed`: a header of the helper replaces a static one of the same name.
pub(crate) fn merge(
    fixed: &[(String, String)],
    dynamic: &[(String, String)],
) -> Vec<(String, String)> {
    fixed
        .iter()
        .filter(|(name, _)| !dynamic.iter().any(|(d, _)| d.eq_ignore_ascii_case(name)))
        .chain(dynamic.iter())
        .cloned()
        .collect()
}

/// The headers this process used, so that a 401/403 can mark them refused.
#[derive(Debug)]
pub(crate) struct Used {
    dir: PathBuf,
    helper: HeadersHelper,
    fetched_ms: u64,
}

impl Used {
    /// A collector answered 401/403: the next process runs the helper again, unless one
    /// already did since these headers were printed.
    pub(crate) fn refused(&self) {
        let file = files(&self.dir, &self.helper.program);
        let Ok(Some(mut disk)) = read(&file, &self.helper) else {
            return;
        };
        if disk.fetched_ms != self.fetched_ms || disk.refused {
            return;
        }
        disk.refused = true;
        if let Err(e) = file.write(&disk) {
            warn::warn_once(
                "headers-helper-write",
                &format!(
                    "cannot write the headers helper's cache {} ({e})",
                    file.path.display()
                ),
            );
        }
    }
}

/// Where the headers came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Got {
    /// The cache was fresh.
    Cached,
    /// This process ran the helper.
    Ran,
    /// Another process is running it: the stale headers.
    Stale,
}

/// Headers, where they came from, and what to mark refused after a 401/403.
pub(crate) type Obtained = (Vec<(String, String)>, Got, Option<Used>);

/// The helper's headers for this process: from the cache when fresh, else by running it
/// (one process at a time); `None` means the static headers alone (a line was printed when
/// something went wrong).
pub(crate) fn obtain(helper: &HeadersHelper, dir: Option<&Path>) -> Option<Obtained> {
    let Some(dir) = dir else {
        // No store, no cache: every process runs it.
        return match run(&helper.program, RUN_LIMIT) {
            Ok(headers) => Some((headers, Got::Ran, None)),
            Err(why) => {
                say_failed(helper, &why);
                None
            }
        };
    };
    let file = files(dir, &helper.program);
    let cached = match read(&file, helper) {
        Ok(disk) => disk,
        Err(why) => {
            warn::warn_once(
                "headers-helper-file",
                &format!(
                    "the headers helper's cache {} is ignored ({why}); the helper is run again",
                    file.path.display()
                ),
            );
            None
        }
    };
    obtain_after_read(helper, dir, &file, cached)
}

/// The one line of a helper that failed (at this run or its last).
fn say_failed(helper: &HeadersHelper, why: &str) {
    warn::warn_once(
        "headers-helper",
        &format!(
            "the headers helper {} (otelHeadersHelper, {}) {why}; exporting with the static headers only",
            helper.program.display(),
            helper.source
        ),
    );
}

/// [`obtain`] once the cache in `dir` was read as `cached`.
fn obtain_after_read(
    helper: &HeadersHelper,
    dir: &Path,
    file: &StateFile,
    cached: Option<OnDisk>,
) -> Option<Obtained> {
    let used = |disk: &OnDisk| Used {
        dir: dir.to_path_buf(),
        helper: helper.clone(),
        fetched_ms: disk.fetched_ms,
    };
    let headers_of = |disk: &OnDisk| -> Vec<(String, String)> {
        disk.headers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    // What a cache settles at `now` without running the helper: its headers while fresh, or
    // none while its last run's failure is recent (said in one line).
    let settled = |disk: &OnDisk, now: u64| -> Option<Option<Obtained>> {
        if is_fresh(disk, helper, now) {
            return Some(Some((headers_of(disk), Got::Cached, Some(used(disk)))));
        }
        if disk.failed_ms > disk.fetched_ms && within(now, disk.failed_ms, RETRY_AFTER) {
            let again = humantime::format_rfc3339_seconds(crate::store::clamp_time(
                at_millis(disk.failed_ms) + RETRY_AFTER,
            ));
            say_failed(
                helper,
                &format!(
                    "{} at its last run; it is run again after {again}",
                    clean(&disk.why)
                ),
            );
            return Some(None);
        }
        None
    };
    if let Some(answer) = cached
        .as_ref()
        .and_then(|d| settled(d, millis(SystemTime::now())))
    {
        return answer;
    }
    // Stale: the one process that takes the lock runs it; the others use what is there.
    let stale = |cached: &Option<OnDisk>| {
        cached
            .as_ref()
            .filter(|d| !d.refused && d.fetched_ms > 0)
            .map(|d| (headers_of(d), Got::Stale, Some(used(d))))
    };
    let lock = match file.try_lock() {
        Lock::Held(lock) => Some(lock),
        Lock::Busy => return stale(&cached),
        // No lock to be had (no store directory yet): run it anyway.
        Lock::Unavailable => None,
    };
    // The runner before us may have finished between our read and our lock, with headers
    // or with a failure: either settles it as for a process that read it after.
    let cached = if lock.is_some() {
        match read(file, helper) {
            Ok(Some(disk)) => {
                if let Some(answer) = settled(&disk, millis(SystemTime::now())) {
                    return answer;
                }
                Some(disk)
            }
            Ok(None) | Err(_) => None,
        }
    } else {
        cached
    };
    let result = run(&helper.program, RUN_LIMIT);
    let now = millis(SystemTime::now());
    let mut disk = cached.unwrap_or_else(|| OnDisk {
        v: 1,
        program: helper.program.to_string_lossy().into_owned(),
        ..OnDisk::default()
    });
    let outcome = match result {
        Ok(headers) => {
            disk.fetched_ms = now;
            disk.headers = headers.iter().cloned().collect();
            disk.refused = false;
            disk.failed_ms = 0;
            disk.why = String::new();
            Some((headers, Got::Ran, Some(used(&disk))))
        }
        Err(why) => {
            say_failed(helper, &why);
            disk.failed_ms = now;
            disk.why = clean(&why);
            None
        }
    };
    // A store directory not made yet (the first hook ever) keeps no cache, quietly.
    if dir.is_dir()
        && let Err(e) = file.write(&disk)
    {
        warn::warn_once(
            "headers-helper-write",
            &format!(
                "cannot write the headers helper's cache {} ({e}); every process will run it",
                file.path.display()
            ),
        );
    }
    drop(lock);
    outcome
}

/// Adds the helper's headers to every OTLP signal that may carry them, over the static
/// ones. Runs the helper at most once, and only when a signal exports over OTLP.
pub(crate) fn apply(config: &mut Config, dir: Option<&Path>) -> Option<Used> {
    let helper = configured(config)?;
    let (headers, _, used) = obtain(&helper, dir)?;
    for signal in [&mut config.metrics, &mut config.logs, &mut config.traces] {
        if signal.uses(Exporter::Otlp) && signal.otlp.headers_helper.as_ref() == Some(&helper) {
            signal.otlp.headers = merge(&signal.otlp.headers, &headers);
        }
    }
    used
}

/// The helper the configuration's OTLP signals use, if any.
pub fn configured(config: &Config) -> Option<HeadersHelper> {
    Signal::ALL.into_iter().find_map(|s| {
        let signal = config.signal(s);
        signal
            .uses(Exporter::Otlp)
            .then(|| signal.otlp.headers_helper.clone())
            .flatten()
    })
}

/// For `doctor`'s test export (the user asking): runs the helper now, whatever its cache
/// says, and adds its headers to the signals that may carry them. The header names, or why
/// not (the signals then go with their static headers); `None` without a helper. The cache
/// is left as it is.
pub fn run_now(config: &mut Config) -> Option<Result<Vec<String>, String>> {
    let helper = configured(config)?;
    Some(run(&helper.program, RUN_LIMIT).map(|headers| {
        for signal in [&mut config.metrics, &mut config.logs, &mut config.traces] {
            if signal.otlp.headers_helper.as_ref() == Some(&helper) {
                signal.otlp.headers = merge(&signal.otlp.headers, &headers);
            }
        }
        headers.into_iter().map(|(name, _)| name).collect()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_is_one_object_of_string_values() {
        assert_eq!(
            parse(br#"{"Authorization": "Bearer x", "x-team": "a"}"#),
            Ok(vec![
                ("authorization".to_owned(), "Bearer x".to_owned()),
                ("x-team".to_owned(), "a".to_owned())
            ])
        );
        assert_eq!(parse(b"{}"), Ok(vec![]));
        for (lie, says) in [
            (&b"not json s3cret"[..], "not JSON"),
            (br#"["a"]"#, "not an object"),
            (br#"{"a": 1}"#, "not a string"),
            (br#"{"a": {"b": "s3cret"}}"#, "not a string"),
            (br#"{"bad name": "s3cret"}"#, "name that is not valid"),
            (br#"{"x-bin": "s3cret"}"#, "name that is not valid"),
            (br#"{"a": "s3cret\n"}"#, "not a valid header value"),
        ] {
            let why = parse(lie).expect_err("refused");
            assert!(why.contains(says), "{why}");
            assert!(!why.contains("s3cret"), "{why}");
        }
    }

    #[test]
    fn the_helpers_headers_win_over_static_ones_of_the_same_name() {
        let fixed = vec![
            ("authorization".to_owned(), "static".to_owned()),
            ("x-team".to_owned(), "a".to_owned()),
        ];
        let dynamic = vec![("authorization".to_owned(), "dynamic".to_owned())];
        assert_eq!(
            merge(&fixed, &dynamic),
            vec![
                ("x-team".to_owned(), "a".to_owned()),
                ("authorization".to_owned(), "dynamic".to_owned())
            ]
        );
    }

    /// A process read the cache while it was stale; before it took the lock, the process
    /// that held it ran the helper, which failed, and let the lock go. This one must not run
    /// the helper again within the retry delay ("no new run for 30 s").
    #[cfg(unix)]
    #[test]
    fn a_failure_written_between_the_read_and_the_lock_is_not_run_again() {
        use std::fs;
        use std::os::unix::fs::PermissionsExt as _;
        let scratch = crate::test_support::TempDir::new("helper-reread");
        let dir = scratch.path();
        let marker = dir.join("ran");
        let program = dir.join("helper.sh");
        let script = format!("#!/bin/sh\ntouch '{}'\necho '{{}}'\n", marker.display());
        fs::write(&program, script).expect("script");
        fs::set_permissions(&program, fs::Permissions::from_mode(0o700)).expect("chmod");
        let helper = HeadersHelper {
            program,
            source: crate::config::Source::UserSettings(dir.join("settings.json")),
            debounce: Duration::from_secs(60),
        };
        let file = files(dir, &helper.program);
        let now = millis(SystemTime::now());
        let stale = OnDisk {
            v: 1,
            program: helper.program.to_string_lossy().into_owned(),
            fetched_ms: now - 120_000,
            headers: [("authorization".to_owned(), "old".to_owned())].into(),
            ..OnDisk::default()
        };
        let failed = OnDisk {
            failed_ms: now,
            why: "exited with status 1".to_owned(),
            ..stale.clone()
        };
        file.write(&failed).expect("the other process's failure");
        assert!(obtain_after_read(&helper, dir, &file, Some(stale)).is_none());
        assert!(!marker.exists(), "the helper was run again");
    }

    #[test]
    fn within_ignores_a_clock_that_went_back() {
        assert!(within(1_000, 900, Duration::from_millis(200)));
        assert!(!within(1_000, 700, Duration::from_millis(200)));
        assert!(!within(800, 900, Duration::from_millis(200)));
        assert!(!within(1_000, 0, Duration::from_millis(2_000)));
    }
}
