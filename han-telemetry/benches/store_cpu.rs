//! The CPU time one `LocalStore::append` costs, on the recording thread and in the whole
//! process (the background writer making and writing the lines), per record.
//!
//! The criterion rows that include the store measure wall time, and a long-running process's
//! store has a second thread: on a loaded two-core machine its wall time moves with what else
//! runs more than with the store's code. CPU time per thread does not: this appends a fixed
//! number of hook records (with a session id) to a store in a scratch directory, flushes, and
//! prints the recording thread's and the process's CPU time per record (Linux: from
//! `/proc/thread-self/stat` and `/proc/self/stat`, in clock ticks of 10 ms: the run is long
//! enough for that to be under 1 %).
//!
//! Run: `cargo bench -p han-telemetry --bench store_cpu` (`-- <records>`, default 3 000 000).

use std::hint::black_box;
use std::time::Instant;

use han_telemetry::store::{Entry, LocalStore};
use han_telemetry_test_support::scratch::Scratch;

/// User plus system CPU time in clock ticks, from a `stat` file of `/proc`.
fn ticks(stat: &str) -> u64 {
    let text = std::fs::read_to_string(stat).expect("a /proc stat file (Linux)");
    // After the command name (in parentheses), field 3 is the state: utime and stime are
    // fields 14 and 15.
    let after_name = &text[text.rfind(')').expect("a stat line") + 2..];
    let fields: Vec<&str> = after_name.split(' ').collect();
    let field = |n: usize| fields[n - 3].parse::<u64>().expect("a number of ticks");
    field(14) + field(15)
}

fn main() {
    // `cargo bench` passes `--bench`; a number is the count of records.
    let records: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(3_000_000);
    let scratch = Scratch::new("bench-store-cpu");
    let store = LocalStore::at(scratch.path(), 1);
    let session = "9f1c2a34-5b6d-4e7f-8a9b-0c1d2e3f4a5b";
    let (thread0, process0) = (ticks("/proc/thread-self/stat"), ticks("/proc/self/stat"));
    let start = Instant::now();
    for i in 0..records {
        store.append(
            Some(black_box(session)),
            Entry::Hook {
                hook_name: black_box("lint").into(),
                hook_type: "PostToolUse".into(),
                success: true,
                duration_ms: 0.001 * (i % 1000) as f64 + 0.0123,
            },
        );
    }
    let thread_appending = ticks("/proc/thread-self/stat");
    store.flush();
    let wall = start.elapsed();
    let process = ticks("/proc/self/stat");
    // A tick is 10 ms on Linux (USER_HZ 100).
    let per_record = |ticks: u64| ticks as f64 * 1e7 / records as f64;
    println!(
        "store_cpu: {records} appends: per record {:.0} ns CPU on the recording thread, \
         {:.0} ns CPU in the process, {:.0} ns wall",
        per_record(thread_appending - thread0),
        per_record(process - process0),
        wall.as_nanos() as f64 / records as f64,
    );
}
