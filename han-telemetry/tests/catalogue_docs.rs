//! The catalogue module's documented tables say exactly what it defines.

use han_telemetry::catalogue::{MetricKind, event, metric};

const README: &str = include_str!("../src/catalogue.md");

/// Rows of the first markdown table after `heading`, as trimmed cells without backticks.
fn table_after(heading: &str) -> Vec<Vec<String>> {
    let start = README
        .find(heading)
        .unwrap_or_else(|| panic!("README has no {heading:?}"));
    README[start..]
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2) // header and separator
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().replace('`', ""))
                .collect()
        })
        .collect()
}

fn list(cell: &str) -> Vec<String> {
    cell.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
fn metrics_table_matches_the_catalogue() {
    let rows = table_after("## Metrics");
    assert_eq!(rows.len(), metric::ALL.len(), "{rows:?}");
    for (row, def) in rows.iter().zip(metric::ALL) {
        assert_eq!(row[0], def.name);
        let kind = match def.kind {
            MetricKind::Counter => "counter",
            MetricKind::Histogram => "histogram",
        };
        assert_eq!(row[1], kind, "{}", def.name);
        assert_eq!(row[2], def.unit, "{}", def.name);
        assert_eq!(list(&row[3]), def.attributes, "{}", def.name);
    }
}

#[test]
fn events_table_matches_the_catalogue() {
    let rows = table_after("## Events");
    assert_eq!(rows.len(), event::ALL.len(), "{rows:?}");
    for (row, def) in rows.iter().zip(event::ALL) {
        assert_eq!(row[0], def.name);
        assert_eq!(row[1], def.severity.text(), "{}", def.name);
        assert_eq!(list(&row[2]), def.attributes, "{}", def.name);
    }
}
