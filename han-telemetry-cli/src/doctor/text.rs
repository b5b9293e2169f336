//! The human-readable `doctor` report.

use std::fmt::Write as _;

use super::report::Report;
use crate::output::{self, Table, printable};

pub(crate) fn render(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "han-telemetry {} doctor\n\nTelemetry: {}\n",
        report.version,
        printable(&report.telemetry.explanation)
    );

    let _ = writeln!(
        out,
        "Configuration (value in effect, and where it came from)"
    );
    let mut table = Table::new(&["VARIABLE", "VALUE", "SOURCE"]);
    for v in &report.variables {
        table.row(vec![
            v.name.clone(),
            v.value.clone(),
            v.source.description.clone(),
        ]);
    }
    out.push_str(&table.render("  "));
    out.push('\n');

    if report.problems.is_empty() {
        out.push_str("Configuration problems: none\n\n");
    } else {
        let _ = writeln!(out, "Configuration problems ({})", report.problems.len());
        for p in &report.problems {
            let _ = writeln!(out, "  - {}", printable(&p.message));
        }
        out.push('\n');
    }

    let trust = &report.trust;
    let _ = writeln!(
        out,
        "Trust (where configuration is honoured)\n  {}\n  {}",
        printable(&trust.project_settings),
        printable(trust.rule)
    );
    if !trust.ignored.is_empty() {
        let _ = writeln!(out, "  Ignored ({}):", trust.ignored.len());
        for i in &trust.ignored {
            let _ = writeln!(
                out,
                "    - {}={:?}: {}",
                printable(&i.variable),
                i.value,
                printable(&i.reason)
            );
        }
    }
    if !trust.destinations.is_empty() {
        let mut table = Table::new(&["SIGNAL", "DESTINATION", "CHOSEN BY", "CREDENTIALS"]);
        for d in &trust.destinations {
            let credentials = if d.withheld.is_empty() {
                "sent, if set".to_owned()
            } else {
                format!("withheld: {}", d.withheld.join(", "))
            };
            table.row(vec![
                d.signal.to_owned(),
                d.endpoint.clone(),
                d.chosen_by.to_owned(),
                credentials,
            ]);
        }
        out.push_str(&table.render("  "));
    }
    out.push('\n');

    if let Some(h) = &report.headers_helper {
        let _ = writeln!(
            out,
            "Headers helper (otelHeadersHelper): {} ({}), for {}",
            printable(&h.program),
            printable(&h.source.description),
            h.signals.join(", ")
        );
        let _ = writeln!(out, "  {}", printable(&h.description));
        if !h.header_names.is_empty() {
            let _ = writeln!(out, "  headers: {}", printable(&h.header_names.join(", ")));
        }
        if let Some(run) = &h.run {
            let _ = writeln!(out, "  {}", printable(run));
        }
        out.push('\n');
    }

    if !report.gates.is_empty() {
        let _ = writeln!(
            out,
            "Export gate (hooks pause export to a collector they could not reach; doctor and \
             replay ignore it)"
        );
        for g in &report.gates {
            let _ = writeln!(
                out,
                "  {} to {}: {}",
                g.signals.join(", "),
                printable(&g.destination),
                printable(&g.description)
            );
        }
        out.push('\n');
    }

    match &report.probe {
        None => out.push_str("Test export: skipped (--no-probe)\n\n"),
        Some(probe) => {
            let _ = writeln!(
                out,
                "Test export (one `{}` per signal, timeout {}){}",
                probe.datum,
                humantime::format_duration(std::time::Duration::from_millis(probe.timeout_ms)),
                if report.telemetry.enabled {
                    ""
                } else {
                    "; telemetry is off, so this shows what would happen with it on"
                }
            );
            let mut table = Table::new(&["SIGNAL", "EXPORTER", "PROTOCOL", "ENDPOINT", "RESULT"]);
            for s in &report.signals {
                if s.exporters.is_empty() {
                    table.row(vec![
                        s.signal.to_owned(),
                        han_telemetry::config::Exporter::NONE.to_owned(),
                        "-".to_owned(),
                        "-".to_owned(),
                        format!("not exported ({})", s.variable),
                    ]);
                }
                for r in probe.results.iter().filter(|r| r.signal == s.signal) {
                    let result = match (r.status, r.elapsed) {
                        ("delivered", Some(d)) => format!("ok, delivered in {}", output::millis(d)),
                        ("failed", Some(d)) => format!("FAILED after {}", output::millis(d)),
                        ("failed", None) => "FAILED".to_owned(),
                        _ => "not probed (writes to stderr)".to_owned(),
                    };
                    table.row(vec![
                        r.signal.to_owned(),
                        r.exporter.to_owned(),
                        r.protocol.unwrap_or("-").to_owned(),
                        r.endpoint.clone(),
                        result,
                    ]);
                }
            }
            out.push_str(&table.render("  "));
            for r in probe.results.iter().filter(|r| r.status == "failed") {
                let _ = writeln!(
                    out,
                    "\n  {} to {}:\n    error: {}\n    cause: {}\n    fix:   {}",
                    r.signal,
                    printable(&r.endpoint),
                    printable(r.error.as_deref().unwrap_or("")),
                    printable(r.cause.as_deref().unwrap_or("")),
                    printable(r.fix.as_deref().unwrap_or("")),
                );
            }
            out.push('\n');
        }
    }

    let verdict = &report.verdict;
    let _ = writeln!(
        out,
        "Result: {} (exit {})",
        verdict.summary, verdict.exit_code
    );
    for reason in &verdict.reasons {
        let _ = writeln!(out, "  - {}", printable(reason));
    }
    out
}
