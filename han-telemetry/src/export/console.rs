//! The `console` exporter: readable text on **stderr**.
//!
//! `opentelemetry-stdout` can only print to stdout, which Claude Code reads as the hook's
//! answer; this one writes each batch as one block to stderr, one line per data point,
//! record or span.

use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::Mutex;

use opentelemetry::logs::AnyValue;
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::LogBatch;
use opentelemetry_sdk::metrics::Temporality;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData, ResourceMetrics};
use opentelemetry_sdk::trace::SpanData;

use crate::config;

/// Writes telemetry to stderr as text.
#[derive(Debug, Default)]
pub(crate) struct ConsoleExporter {
    resource: Mutex<Option<Resource>>,
}

fn attrs<'a>(kvs: impl Iterator<Item = &'a KeyValue>) -> String {
    let mut out = String::new();
    for kv in kvs {
        let _ = write!(out, " {}={}", kv.key, quoted(&kv.value));
    }
    out
}

fn quoted(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{:?}", s.as_str()),
        other => other.to_string(),
    }
}

fn any(v: &AnyValue) -> String {
    match v {
        AnyValue::String(s) => format!("{:?}", s.as_str()),
        AnyValue::Int(i) => i.to_string(),
        AnyValue::Double(d) => d.to_string(),
        AnyValue::Boolean(b) => b.to_string(),
        other => format!("{other:?}"),
    }
}

fn temporality(t: Temporality) -> &'static str {
    match t {
        Temporality::Delta => config::Temporality::Delta.as_str(),
        _ => config::Temporality::Cumulative.as_str(),
    }
}

fn emit(block: &str) -> OTelSdkResult {
    // Writing to a closed stderr must not fail or panic the host: drop the text.
    let _ = std::io::stderr().lock().write_all(block.as_bytes());
    Ok(())
}

fn metric_lines<T: std::fmt::Display + Copy>(
    out: &mut String,
    name: &str,
    unit: &str,
    data: &MetricData<T>,
) {
    match data {
        MetricData::Sum(sum) => {
            let kind = if sum.is_monotonic() {
                "counter"
            } else {
                "updown counter"
            };
            let _ = writeln!(
                out,
                "  {name} ({kind}, {unit}, {})",
                temporality(sum.temporality())
            );
            for p in sum.data_points() {
                let _ = writeln!(out, "   {} = {}", attrs(p.attributes()), p.value());
            }
        }
        MetricData::Histogram(h) => {
            let _ = writeln!(
                out,
                "  {name} (histogram, {unit}, {})",
                temporality(h.temporality())
            );
            for p in h.data_points() {
                let (min, max) = (
                    p.min().map(|v| v.to_string()),
                    p.max().map(|v| v.to_string()),
                );
                let _ = writeln!(
                    out,
                    "   {} count={} sum={} min={} max={}",
                    attrs(p.attributes()),
                    p.count(),
                    p.sum(),
                    min.as_deref().unwrap_or("-"),
                    max.as_deref().unwrap_or("-")
                );
            }
        }
        MetricData::Gauge(g) => {
            let _ = writeln!(out, "  {name} (gauge, {unit})");
            for p in g.data_points() {
                let _ = writeln!(out, "   {} = {}", attrs(p.attributes()), p.value());
            }
        }
        MetricData::ExponentialHistogram(_) => {
            let _ = writeln!(out, "  {name} (exponential histogram, {unit})");
        }
    }
}

impl ConsoleExporter {
    pub(crate) fn set_resource(&self, resource: &Resource) {
        if let Ok(mut slot) = self.resource.lock() {
            *slot = Some(resource.clone());
        }
    }

    fn resource_line(&self, out: &mut String) {
        if let Ok(slot) = self.resource.lock()
            && let Some(r) = slot.as_ref()
        {
            let kvs: Vec<KeyValue> = r
                .iter()
                .map(|(k, v)| KeyValue::new(k.clone(), v.clone()))
                .collect();
            let _ = writeln!(out, "  resource:{}", attrs(kvs.iter()));
        }
    }

    pub(crate) fn export_metrics(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        let mut out = String::from("[han-telemetry] metrics\n");
        let kvs: Vec<KeyValue> = metrics
            .resource()
            .iter()
            .map(|(k, v)| KeyValue::new(k.clone(), v.clone()))
            .collect();
        let _ = writeln!(out, "  resource:{}", attrs(kvs.iter()));
        for scope in metrics.scope_metrics() {
            for m in scope.metrics() {
                match m.data() {
                    AggregatedMetrics::F64(d) => metric_lines(&mut out, m.name(), m.unit(), d),
                    AggregatedMetrics::U64(d) => metric_lines(&mut out, m.name(), m.unit(), d),
                    AggregatedMetrics::I64(d) => metric_lines(&mut out, m.name(), m.unit(), d),
                }
            }
        }
        emit(&out)
    }

    pub(crate) fn export_logs(&self, batch: &LogBatch<'_>) -> OTelSdkResult {
        let mut out = String::from("[han-telemetry] events\n");
        self.resource_line(&mut out);
        for (record, _scope) in batch.iter() {
            let name = record.event_name().unwrap_or("(log)");
            let severity = record.severity_text().unwrap_or("");
            let _ = write!(out, "  {name} {severity}");
            if let Some(body) = record.body()
                && record.event_name().is_none()
            {
                let _ = write!(out, " {}", any(body));
            }
            for (k, v) in record.attributes_iter() {
                let _ = write!(out, " {k}={}", any(v));
            }
            if let Some(tc) = record.trace_context() {
                let _ = write!(out, " trace_id={} span_id={}", tc.trace_id, tc.span_id);
            }
            out.push('\n');
        }
        emit(&out)
    }

    pub(crate) fn export_spans(&self, batch: &[SpanData]) -> OTelSdkResult {
        let mut out = String::from("[han-telemetry] spans\n");
        self.resource_line(&mut out);
        for span in batch {
            let ms = span
                .end_time
                .duration_since(span.start_time)
                .map(|d| d.as_secs_f64() * 1_000.0)
                .unwrap_or(0.0);
            let _ = writeln!(
                out,
                "  {} {:.3} ms trace_id={} span_id={} parent={} status={:?}{}",
                span.name,
                ms,
                span.span_context.trace_id(),
                span.span_context.span_id(),
                span.parent_span_id,
                span.status,
                attrs(span.attributes.iter())
            );
        }
        emit(&out)
    }
}
