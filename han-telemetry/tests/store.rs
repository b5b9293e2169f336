//! The local metrics store through the public API: what each recording call appends, that it
//! records with OpenTelemetry off, and that many processes appending at once lose nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::UNIX_EPOCH;

use han_telemetry::config::{Config, Source, Sources};
use han_telemetry::record::{self, TaskOutcome};
use han_telemetry::store::{self, Entry, LocalStore, Record};
use han_telemetry::{Activation, HanLayer, StandardAttributes, TelemetryBuilder};
use han_telemetry_test_support::scratch::Scratch;
use tracing_subscriber::layer::SubscriberExt as _;

fn read_all(dir: &Path) -> Vec<Record<'static>> {
    let scan = store::scan(dir, UNIX_EPOCH).expect("scan the store");
    assert!(scan.skipped.is_empty(), "{:?}", scan.skipped);
    scan.records
}

#[han_telemetry::instrument_hook(hook_name = "format-check", hook_type = "PostToolUse")]
fn format_check(ok: bool) -> Result<(), String> {
    if ok { Ok(()) } else { Err("bad".into()) }
}

#[test]
fn every_recording_call_appends_one_record_of_metadata() {
    let scratch = Scratch::new("calls");
    let local = LocalStore::at(scratch.path(), 30);
    // Export is off in this layer: no meter, no logger. The store still records.
    let layer = HanLayer::builder()
        .local_store(local.clone())
        .include(han_telemetry::config::IncludeAttributes {
            session_id: false,
            version: false,
            account_uuid: false,
        })
        .build();
    let _open = Activation::new();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer.clone()), || {
        record::session_start();
        layer.set_standard_attributes(&StandardAttributes {
            session_id: Some("session-42".into()),
            ..StandardAttributes::default()
        });
        format_check(true).unwrap();
        format_check(false).unwrap_err();
        record::plugin_install("jutsu-biome", "user", true);
        record::plugin_uninstall("jutsu-biome", "project", false);
        record::task("fix", TaskOutcome::Partial, 0.8);
        record::task("fix", TaskOutcome::Failure, f64::NAN);
        record::validation("lint", false, 3);
        record::mcp_tool_call("search", true);
        record::frustration("high", 0.93);
    });
    local.flush();
    let records = read_all(scratch.path());
    assert_eq!(records.len(), 10);
    // The session id is kept locally even though OTEL_METRICS_INCLUDE_SESSION_ID is off:
    // that switch is about metric cardinality in a backend, the store never leaves the machine.
    assert_eq!(records[0].session_id, None);
    assert!(
        records[1..]
            .iter()
            .all(|r| r.session_id.as_deref() == Some("session-42"))
    );
    let entries: Vec<_> = records.into_iter().map(|r| r.entry).collect();
    let Entry::Hook { duration_ms, .. } = entries[1] else {
        panic!("{:?}", entries[1]);
    };
    assert!(duration_ms >= 0.0);
    let expected = [
        Entry::SessionStart {},
        Entry::Hook {
            hook_name: "format-check".into(),
            hook_type: "PostToolUse".into(),
            success: true,
            duration_ms,
        },
    ];
    assert_eq!(entries[..2], expected);
    assert!(matches!(
        &entries[2],
        Entry::Hook { hook_name, success: false, .. } if hook_name == "format-check"
    ));
    assert_eq!(
        entries[3..],
        [
            Entry::PluginInstall {
                plugin_name: "jutsu-biome".into(),
                scope: "user".into(),
                success: true,
            },
            Entry::PluginUninstall {
                plugin_name: "jutsu-biome".into(),
                scope: "project".into(),
                success: false,
            },
            Entry::Task {
                task_type: "fix".into(),
                outcome: "partial".into(),
                confidence: Some(0.8),
            },
            Entry::Task {
                task_type: "fix".into(),
                outcome: "failure".into(),
                confidence: None,
            },
            Entry::Validation {
                validation_type: "lint".into(),
                passed: false,
                error_count: 3,
            },
            Entry::McpToolCall {
                tool_name: "search".into(),
                success: true,
            },
            Entry::Frustration {
                level: "high".into(),
                score: Some(0.93),
            },
        ]
    );
}

fn config(vars: &[(&str, &str)]) -> Config {
    Config::from_sources(&Sources::new().with_layer(Source::ProcessEnv, vars.iter().copied()))
}

#[test]
fn with_opentelemetry_off_the_store_still_records_and_the_guard_writes_it() {
    let scratch = Scratch::new("off");
    let dir = scratch.path().to_str().unwrap();
    let telemetry = TelemetryBuilder::new(config(&[("HAN_METRICS_DIR", dir)])).build();
    assert!(!telemetry.is_enabled());
    assert!(telemetry.is_recording());
    let (layer, guard) = telemetry.into_layer();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        format_check(true).unwrap();
    });
    assert!(read_all(scratch.path()).is_empty(), "buffered until exit");
    drop(guard);
    let records = read_all(scratch.path());
    assert_eq!(records.len(), 1);
    assert!(matches!(
        records[0].entry,
        Entry::Hook { success: true, .. }
    ));
}

#[test]
fn with_the_store_off_nothing_is_written() {
    let scratch = Scratch::new("store-off");
    let dir = scratch.path().join("metrics");
    let telemetry = TelemetryBuilder::new(config(&[
        ("HAN_METRICS_DIR", dir.to_str().unwrap()),
        ("HAN_METRICS_STORE", "off"),
    ]))
    .build();
    assert!(!telemetry.is_recording());
    let (layer, guard) = telemetry.into_layer();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        format_check(true).unwrap();
    });
    drop(guard);
    assert!(!dir.exists());
}

const CHILD_DIR: &str = "HAN_STORE_TEST_CHILD_DIR";
const CHILD_RECORDS: usize = 3_000;

/// Not a test of its own: the body of each child process of
/// `many_processes_appending_at_once_keep_every_record_intact`.
#[test]
fn child_appends_records() {
    let Some(dir) = std::env::var_os(CHILD_DIR) else {
        return;
    };
    let local = LocalStore::at(PathBuf::from(dir), 30);
    let pid = std::process::id().to_string();
    for i in 0..CHILD_RECORDS {
        // Long names make each child write several 64 KiB batches while the others do too.
        local.append(
            Some(&pid),
            Entry::Hook {
                hook_name: format!("hook-{i:05}-{}", "x".repeat(40)).into(),
                hook_type: "PostToolUse".into(),
                success: i % 7 != 0,
                duration_ms: i as f64,
            },
        );
    }
    local.flush();
}

#[test]
fn many_processes_appending_at_once_keep_every_record_intact() {
    if std::env::var_os(CHILD_DIR).is_some() {
        return;
    }
    const CHILDREN: usize = 12;
    let scratch = Scratch::new("processes");
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..CHILDREN)
        .map(|_| {
            Command::new(&exe)
                .args(["--exact", "child_appends_records", "--test-threads=1"])
                .env(CHILD_DIR, scratch.path())
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let records = read_all(scratch.path());
    assert_eq!(records.len(), CHILDREN * CHILD_RECORDS);
    // Every child's records are all there, each exactly once, in its own order.
    let mut by_child: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for r in &records {
        let Entry::Hook { duration_ms, .. } = r.entry else {
            panic!("{r:?}");
        };
        by_child
            .entry(r.session_id.as_deref().unwrap().to_owned())
            .or_default()
            .push(duration_ms);
    }
    assert_eq!(by_child.len(), CHILDREN);
    let expected: Vec<f64> = (0..CHILD_RECORDS).map(|i| i as f64).collect();
    for (child, durations) in by_child {
        assert_eq!(durations, expected, "child {child}");
    }
    let mut ids: Vec<_> = records.iter().map(|r| r.id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), CHILDREN * CHILD_RECORDS);
}
