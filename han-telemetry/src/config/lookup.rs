//! Looking values up in [`Sources`]: which value is in effect, where it came from
//! (provenance), and the problems met (diagnostics, a bounded number per variable).

use std::collections::BTreeMap;
use std::fmt::Display;

use super::diagnostic::Diagnostic;
use super::model::Provenance;
use super::parse::{self, Millis};
use super::source::Source;
use super::sources::Sources;
use super::vars::{self, Kind, Var};

/// Problems reported per variable; the rest are counted in one more diagnostic, so that a
/// list of thousands of bad entries gives a few lines (and costs linear time), not thousands.
pub(crate) const MAX_PROBLEMS_PER_VARIABLE: usize = 5;

/// A set, non-blank value and where it came from.
#[derive(Debug, Clone)]
pub(crate) struct Found<'a> {
    pub name: String,
    pub value: &'a str,
    pub source: &'a Source,
}

/// Collects provenance and diagnostics while values are looked up.
pub(crate) struct Resolver<'a> {
    sources: &'a Sources,
    pub provenance: Vec<Provenance>,
    pub diagnostics: Vec<Diagnostic>,
    /// Per variable: problems reported, and those left out with the source and fallback.
    problems: BTreeMap<String, (usize, usize, Source, String)>,
}

impl<'a> Resolver<'a> {
    pub(crate) fn new(sources: &'a Sources) -> Self {
        Self {
            sources,
            provenance: Vec::new(),
            diagnostics: Vec::new(),
            problems: BTreeMap::new(),
        }
    }

    /// The sources being resolved.
    pub(crate) fn sources(&self) -> &'a Sources {
        self.sources
    }

    /// The value of `name`, treating blank as unset (OTel spec: empty means unset).
    pub(crate) fn lookup(&self, name: &str) -> Option<Found<'a>> {
        let (value, source) = self.sources.get(name)?;
        (!value.trim().is_empty()).then(|| Found {
            name: name.to_owned(),
            value,
            source,
        })
    }

    /// Records that `found` is in effect.
    pub(crate) fn used(&mut self, found: &Found<'_>) {
        self.record(
            &found.name,
            vars::shown(&found.name, found.value),
            found.source,
        );
    }

    /// Records that `name` is at its default `value`.
    pub(crate) fn defaulted(&mut self, name: &str, value: impl Display) {
        self.record(name, value.to_string(), &Source::Default);
    }

    fn record(&mut self, name: &str, value: String, source: &Source) {
        if self.provenance.iter().any(|p| p.variable == name) {
            return;
        }
        self.provenance.push(Provenance {
            variable: name.to_owned(),
            value,
            source: source.clone(),
        });
    }

    pub(crate) fn report(
        &mut self,
        found: &Found<'_>,
        problem: impl Into<String>,
        fallback: impl Into<String>,
    ) {
        let fallback = fallback.into();
        let (reported, left_out, _, _) = self
            .problems
            .entry(found.name.clone())
            .or_insert_with(|| (0, 0, found.source.clone(), fallback.clone()));
        if *reported == MAX_PROBLEMS_PER_VARIABLE {
            *left_out += 1;
            return;
        }
        *reported += 1;
        self.diagnostics.push(Diagnostic::for_value(
            &found.name,
            Some(found.value),
            found.source,
            problem,
            fallback,
        ));
    }

    /// One diagnostic per variable whose problems were not all reported.
    pub(crate) fn report_suppressed(&mut self) {
        for (name, (_, left_out, source, fallback)) in &self.problems {
            if *left_out > 0 {
                self.diagnostics.push(Diagnostic::for_value(
                    name,
                    None,
                    source,
                    format!("has {left_out} more problems like these"),
                    fallback.clone(),
                ));
            }
        }
    }

    /// Parses `name`, falling back to `fallback` when unset or bad. `fallback_is_default` says
    /// whether the fallback is han's default (recorded in provenance) or inherited from another
    /// variable (whose own provenance already explains it).
    pub(crate) fn setting<T: Display + Clone>(
        &mut self,
        name: &str,
        parse: impl Fn(&str) -> Result<T, String>,
        fallback: T,
        fallback_is_default: bool,
    ) -> T {
        if let Some(found) = self.lookup(name) {
            match parse(found.value) {
                Ok(value) => {
                    self.used(&found);
                    return value;
                }
                Err(problem) => self.report(&found, problem, format!("using {fallback}")),
            }
        }
        if fallback_is_default {
            self.defaulted(name, &fallback);
        }
        fallback
    }

    /// A [`Kind::Switch`], [`Kind::Bool`] or [`Kind::Include`] variable, its kind's default
    /// when unset or bad.
    pub(crate) fn flag(&mut self, var: Var) -> bool {
        type Parse = fn(&str) -> Result<bool, String>;
        let (parse, default): (Parse, bool) = match var.kind {
            Kind::Bool { default } => (parse::otel_bool, default),
            Kind::Include { default } => (parse::include_flag, default),
            Kind::Switch { default } => (parse::enable_flag, default),
            // Not a flag: read as a switch that is off unless set.
            _ => (parse::enable_flag, false),
        };
        self.setting(var.name, parse, default, true)
    }

    /// A [`Kind::Millis`] or [`Kind::Days`] variable in its range (too large clamps), `fallback`
    /// when unset or bad; `None` takes the kind's default (and records it).
    pub(crate) fn amount(&mut self, var: Var, fallback: Option<u64>) -> u64 {
        let (min, max, default, unit, short) = match var.kind {
            Kind::Days { min, max, default } => (min, max, default, "days", "days"),
            Kind::Millis { min, max, default } => (min, max, default, "milliseconds", "ms"),
            // Not an amount: any whole number.
            _ => (0, u64::MAX, 0, "milliseconds", "ms"),
        };
        let fallback_is_default = fallback.is_none();
        let fallback = fallback.unwrap_or(default);
        if let Some(found) = self.lookup(var.name) {
            match parse::bounded(found.value, min, max, unit, short) {
                Ok(Millis::InRange(value)) => {
                    self.used(&found);
                    return value;
                }
                Ok(Millis::Clamped(value)) => {
                    self.used(&found);
                    self.report(
                        &found,
                        format!("is above the maximum of {max} {short}"),
                        format!("using {value}"),
                    );
                    return value;
                }
                Err(problem) => self.report(&found, problem, format!("using {fallback}")),
            }
        }
        if fallback_is_default {
            self.defaulted(var.name, fallback);
        }
        fallback
    }
}
