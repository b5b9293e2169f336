//! Human-readable listings of a snapshot, for failure messages and `Display`.

use std::collections::{HashMap, HashSet};
use std::fmt::{self, Write as _};

use han_telemetry::catalogue::attr;
use opentelemetry::trace::SpanId;

use crate::attributes::Attributes;
use crate::snapshot::{
    DataPoint, Event, HistogramValue, Metric, PointValue, Span, SpanStatus, Telemetry,
};

/// Prints everything the capture emitted, section by section.
impl fmt::Display for Telemetry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "metrics:")?;
        if self.metrics.is_empty() {
            writeln!(f, "  (none)")?;
        }
        for m in &self.metrics {
            writeln!(f, "  {}", metric_heading(m))?;
            for p in &m.points {
                writeln!(f, "    {}", point(p))?;
            }
        }
        writeln!(f, "events:")?;
        if self.events.is_empty() {
            writeln!(f, "  (none)")?;
        }
        for e in &self.events {
            writeln!(f, "  {}", event(e))?;
        }
        writeln!(f, "spans:")?;
        if self.spans.is_empty() {
            writeln!(f, "  (none)")?;
        }
        span_tree(f, &self.spans)?;
        write!(f, "resource: {}", self.resource)?;
        for problem in &self.problems {
            write!(f, "\ncollection problem: {problem}")?;
        }
        Ok(())
    }
}

/// The panic message of a failed assertion: what was expected, then everything emitted.
pub(crate) fn failure(telemetry: &Telemetry, expectation: &str) -> String {
    let listing = telemetry.to_string();
    let mut out = String::with_capacity(expectation.len() + listing.len() + 40);
    out.push_str(expectation);
    out.push_str("\n\nEverything emitted in this capture:\n");
    for line in listing.lines() {
        out.push_str("  ");
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// `han.hook.execution (counter, {execution})`.
pub(crate) fn metric_heading(m: &Metric) -> String {
    if m.unit.is_empty() {
        format!("{} ({})", m.name, m.kind.name())
    } else {
        format!("{} ({}, {})", m.name, m.kind.name(), m.unit)
    }
}

/// `{hook_name="lint"} = 2` or `{..} count=2 sum=13.5 ...`.
pub(crate) fn point(p: &DataPoint) -> String {
    match &p.value {
        PointValue::Unsigned(v) => format!("{} = {v}", p.attributes),
        PointValue::Signed(v) => format!("{} = {v}", p.attributes),
        PointValue::Float(v) => format!("{} = {v:?}", p.attributes),
        PointValue::Histogram(h) => format!("{} {}", p.attributes, histogram(h)),
    }
}

/// `count=2 sum=13.5 min=1.5 max=12.0 buckets: <=2.5: 1, <=25.0: 1` (empty buckets left out).
pub(crate) fn histogram(h: &HistogramValue) -> String {
    let mut out = format!("count={} sum={:?}", h.count, h.sum);
    if let Some(min) = h.min {
        let _ = write!(out, " min={min:?}");
    }
    if let Some(max) = h.max {
        let _ = write!(out, " max={max:?}");
    }
    let buckets: Vec<String> = h
        .bucket_counts
        .iter()
        .enumerate()
        .filter(|(_, count)| **count > 0)
        .map(|(i, count)| match (h.bounds.get(i), h.bounds.last()) {
            (Some(bound), _) => format!("<={bound:?}: {count}"),
            (None, Some(last)) => format!(">{last:?}: {count}"),
            (None, None) => format!("all: {count}"),
        })
        .collect();
    if !buckets.is_empty() {
        let _ = write!(out, " buckets: {}", buckets.join(", "));
    }
    out
}

/// `han.validation_error WARN {validation_type="lint", error_count=3} in span 00f0..`.
/// The `event.name` attribute is left out when it repeats the name.
pub(crate) fn event(e: &Event) -> String {
    let severity = e
        .severity_text
        .clone()
        .or_else(|| e.severity.map(|s| s.name().to_owned()))
        .unwrap_or_else(|| "(no severity)".to_owned());
    let shown = Attributes(
        e.attributes
            .iter()
            .filter(|a| !(a.key == attr::EVENT_NAME && a.value.as_str() == Some(&e.name)))
            .cloned()
            .collect(),
    );
    let mut out = format!("{} {severity} {shown}", e.name);
    if let Some(body) = e.body.as_ref().filter(|b| b.as_str() != Some(&e.name)) {
        let _ = write!(out, " body={body}");
    }
    if let (Some(span), Some(trace)) = (e.span_id, e.trace_id) {
        let _ = write!(out, " in span {span} of trace {trace}");
    }
    out
}

/// `hook lint {hook_name="lint"} status=error [span .., trace .., parent .. (remote)]`.
pub(crate) fn span(s: &Span) -> String {
    let mut out = format!("{:?} {}", s.name, s.attributes);
    match &s.status {
        SpanStatus::Unset => {}
        SpanStatus::Ok => out.push_str(" status=ok"),
        SpanStatus::Error { description } if description.is_empty() => {
            out.push_str(" status=error");
        }
        SpanStatus::Error { description } => {
            let _ = write!(out, " status=error({description:?})");
        }
    }
    let _ = write!(out, " [span {}, trace {}", s.span_id, s.trace_id);
    match (s.parent_span_id, s.parent_is_remote) {
        (Some(parent), true) => {
            let _ = write!(out, ", remote parent {parent}");
        }
        (Some(parent), false) => {
            let _ = write!(out, ", parent {parent}");
        }
        (None, _) => out.push_str(", root"),
    }
    out.push(']');
    out
}

/// Spans as a tree: children under their parent, in the order they ended.
fn span_tree(f: &mut fmt::Formatter<'_>, spans: &[Span]) -> fmt::Result {
    let ids: HashSet<SpanId> = spans.iter().map(|s| s.span_id).collect();
    let mut children: HashMap<SpanId, Vec<&Span>> = HashMap::new();
    let mut roots = Vec::new();
    for s in spans {
        match s.parent_span_id.filter(|p| ids.contains(p)) {
            Some(parent) => children.entry(parent).or_default().push(s),
            None => roots.push(s),
        }
    }
    fn walk(
        f: &mut fmt::Formatter<'_>,
        s: &Span,
        depth: usize,
        children: &HashMap<SpanId, Vec<&Span>>,
    ) -> fmt::Result {
        writeln!(f, "  {:indent$}{}", "", span(s), indent = depth * 2)?;
        for child in children.get(&s.span_id).into_iter().flatten() {
            walk(f, child, depth + 1, children)?;
        }
        Ok(())
    }
    for root in roots {
        walk(f, root, 0, &children)?;
    }
    Ok(())
}
