"""Checks of the operator kit, driven by ./test (see there for the order).

Subcommands:
  static COMPOSE_CONFIG_YAML     catalogue-derived checks of dashboard, rules, rule tests,
                                 collector, compose and provisioning files
  generate OUT.om END_TS         OpenMetrics history of every catalogue metric, named as the
                                 collector's Prometheus exporter names them, ending at END_TS
  queries URL TS PHASE           run every PromQL expression of the dashboard and the rules
                                 against a Prometheus server at time TS; fail on no data
  rule-file OUT                  the recording rules alone (for promtool's rule backfill)

Names, units, kinds, attribute keys, buckets and event names come from
han-telemetry/src/catalogue.rs and attribute value domains from han-telemetry/src/instrument/record.rs,
parsed here, so a catalogue change that the kit does not follow fails the checks.
Needs python3 and PyYAML (Debian: python3-yaml).
"""

import json
import math
import random
import re
import sys
import urllib.parse
import urllib.request
from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parent
ROOT = DEPLOY.parent
CATALOGUE_RS = ROOT / "han-telemetry" / "src" / "catalogue.rs"
RECORD_RS = ROOT / "han-telemetry" / "src" / "instrument" / "record.rs"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "han.json"
DATASOURCES = DEPLOY / "grafana" / "provisioning" / "datasources" / "datasources.yaml"
DASH_PROVIDERS = DEPLOY / "grafana" / "provisioning" / "dashboards" / "dashboards.yaml"
RULES = DEPLOY / "prometheus" / "rules" / "han.yml"
RULE_TESTS = DEPLOY / "prometheus" / "tests" / "han.test.yml"
PROM_CONFIG = DEPLOY / "prometheus" / "prometheus.yml"
COLLECTOR = DEPLOY / "otel-collector" / "config.yaml"
LOKI = DEPLOY / "loki" / "loki.yaml"

# Labels that come from the resource (resource_to_telemetry_conversion) or from the exporter
# itself, documented in README.md ("Labels"). Standard attributes are added from the catalogue.
RESOURCE_LABELS = {
    "job", "instance", "service_name", "service_version", "service_namespace",
    "service_instance_id", "os_type", "host_arch", "team", "engineer",
    "otel_scope_name", "otel_scope_version",
}

# Grafana's built-in variables and the value each gets when a query is run in the test.
GRAFANA_BUILTINS = {"__rate_interval": "5m", "__interval": "1m", "__range": "6h"}

FAILURES = []


def fail(msg):
    FAILURES.append(msg)
    print(f"FAIL: {msg}")


# --------------------------------------------------------------------------- catalogue

class Metric:
    def __init__(self, name, kind, unit, attributes, buckets):
        self.name, self.kind, self.unit = name, kind, unit
        self.attributes, self.buckets = attributes, buckets
        self.base = prometheus_name(name, unit, kind)
        self.labels = {sanitize_label(a) for a in attributes}

    def series_names(self):
        if self.kind == "Histogram":
            return [self.base + "_bucket", self.base + "_sum", self.base + "_count"]
        return [self.base]


def parse_catalogue():
    src = CATALOGUE_RS.read_text()
    attr_mod = re.search(r"pub mod attr \{(.*?)\n\}", src, re.S)
    if not attr_mod:
        raise SystemExit(f"cannot find `pub mod attr` in {CATALOGUE_RS}")
    attrs = dict(re.findall(r'pub const (\w+): &str = "([^"]*)";', attr_mod.group(1)))
    arrays = {}
    for name, body in re.findall(r"pub const (\w+): &\[f64\] = &\[(.*?)\];", src, re.S):
        arrays[name] = [float(x.replace("_", "")) for x in re.findall(r"[\d_]+(?:\.\d+)?", body)]

    def attr_list(body):
        return [attrs[k] for k in re.findall(r"attr::(\w+)", body)]

    metrics = {}
    for const, body in re.findall(r"pub const (\w+): MetricDef = MetricDef \{(.*?)\n    \};", src, re.S):
        name = re.search(r'name: "([^"]+)"', body).group(1)
        kind = re.search(r"kind: MetricKind::(\w+)", body).group(1)
        unit = re.search(r'unit: "([^"]*)"', body).group(1)
        attributes = attr_list(re.search(r"attributes: &\[(.*?)\]", body, re.S).group(1))
        bmatch = re.search(r"buckets: (\w+)", body)
        buckets = arrays.get(bmatch.group(1), []) if bmatch else []
        metrics[const] = Metric(name, kind, unit, attributes, buckets)
    all_metrics = re.search(r"pub const ALL: \[&MetricDef; \d+\] = \[(.*?)\];", src, re.S)
    ordered = [metrics[c] for c in re.findall(r"&(\w+)", all_metrics.group(1))]

    events = {}
    for const, body in re.findall(r"pub const (\w+): EventDef = EventDef \{(.*?)\n    \};", src, re.S):
        name = re.search(r'name: "([^"]+)"', body).group(1)
        attributes = attr_list(re.search(r"attributes: &\[(.*?)\]", body, re.S).group(1))
        events[name] = attributes
    std = re.search(r"pub const STANDARD_ATTRIBUTES.*?= \[(.*?)\];", src, re.S)
    standard = attr_list(std.group(1))
    tenths = re.search(r"const BUCKETS: \[&str; \d+\] = \[(.*?)\];", src, re.S)
    tenth_values = re.findall(r'"([^"]+)"', tenths.group(1))
    if len(ordered) < 10 or len(events) < 4 or not standard or len(tenth_values) != 11:
        raise SystemExit(f"catalogue.rs parsed to {len(ordered)} metrics, {len(events)} events, "
                         f"{len(standard)} standard attributes, {len(tenth_values)} tenth buckets: "
                         "has its layout changed?")
    return ordered, events, standard, tenth_values, attrs


def value_domains(attrs, tenths):
    """Known values of attributes, from record.rs: booleans render as "true"/"false"."""
    src = RECORD_RS.read_text()
    bool_vars = set(re.findall(r"(\w+): bool", src))
    domains = {}
    for key, var in re.findall(r"KeyValue::new\(attr::(\w+), (\w+)\)", src):
        if var in bool_vars:
            domains[attrs[key]] = {"true", "false"}
    outcomes = set(re.findall(r'TaskOutcome::\w+ => "(\w+)"', src))
    if outcomes:
        domains[attrs["OUTCOME"]] = outcomes
    for key in ("CONFIDENCE_BUCKET", "SCORE_BUCKET"):
        domains[attrs[key]] = set(tenths) | {"unknown"}
    if domains.get("success") != {"true", "false"} or not outcomes:
        raise SystemExit("record.rs parsed to no boolean attributes or no task outcomes: has it changed?")
    return domains


# The OTel -> Prometheus name translation of the collector's Prometheus exporter with
# translation_strategy UnderscoreEscapingWithSuffixes (prometheus/otlptranslator
# metric_namer.go, formerly collector-contrib pkg/translator/prometheus normalize_name.go).
UNIT_MAP = {
    "d": "days", "h": "hours", "min": "minutes", "s": "seconds", "ms": "milliseconds",
    "us": "microseconds", "ns": "nanoseconds", "By": "bytes", "KiBy": "kibibytes",
    "MiBy": "mebibytes", "GiBy": "gibibytes", "TiBy": "tibibytes", "KBy": "kilobytes",
    "MBy": "megabytes", "GBy": "gigabytes", "TBy": "terabytes", "m": "meters", "V": "volts",
    "A": "amperes", "J": "joules", "W": "watts", "g": "grams", "Cel": "celsius", "Hz": "hertz",
    "1": "", "%": "percent",
}
PER_UNIT_MAP = {"s": "second", "m": "minute", "h": "hour", "d": "day", "w": "week",
                "mo": "month", "y": "year"}


def prometheus_name(name, unit, kind):
    tokens = [t for t in re.split(r"[^A-Za-z0-9:]", name) if t]
    main, _, per = unit.partition("/")
    main, per = main.strip(), per.strip()

    def clean(s):
        return "_".join(t for t in re.split(r"[^A-Za-z0-9]", s) if t)

    if main and not re.search(r"[{}]", main):
        suffix = clean(UNIT_MAP.get(main, main))
        if suffix and suffix not in tokens:
            tokens.append(suffix)
    if per and not re.search(r"[{}]", per):
        suffix = clean(PER_UNIT_MAP.get(per, per))
        if suffix and suffix not in tokens:
            tokens += ["per", suffix]
    if kind == "Counter":  # monotonic sum
        tokens = [t for t in tokens if t != "total"] + ["total"]
    out = "_".join(tokens)
    return "_" + out if out[:1].isdigit() else out


def sanitize_label(key):
    label = re.sub(r"[^A-Za-z0-9_]", "_", key)
    return "key_" + label if label[:1].isdigit() else label


class Catalogue:
    def __init__(self):
        self.metrics, self.events, self.standard, self.tenths, self.attrs = parse_catalogue()
        self.domains = value_domains(self.attrs, self.tenths)
        self.dropped = collector_dropped_attributes()
        self.resource_labels = set(RESOURCE_LABELS)
        self.resource_labels |= {sanitize_label(a) for a in self.standard if a not in self.dropped}
        self.series = {}  # Prometheus series name -> allowed own labels
        for m in self.metrics:
            for s in m.series_names():
                self.series[s] = set(m.labels) | ({"le"} if s.endswith("_bucket") and m.kind == "Histogram" else set())
        self.recorded = {}  # recording-rule name -> labels it keeps (checked separately)


def collector_dropped_attributes():
    cfg = yaml.safe_load(COLLECTOR.read_text())
    dropped = set()
    for name, proc in (cfg.get("processors") or {}).items():
        if name.split("/")[0] == "attributes":
            for action in (proc or {}).get("actions", []):
                if action.get("action") == "delete":
                    dropped.add(action["key"])
    return dropped


# --------------------------------------------------------------------------- PromQL

TOKEN = re.compile(r"""
   (?P<ws>\s+|\#[^\n]*)
 | (?P<str>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|`[^`]*`)
 | (?P<dur>(?:\d+(?:ms|[smhdwy]))+)(?![A-Za-z0-9_:.])
 | (?P<num>0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
 | (?P<ident>[A-Za-z_:][A-Za-z0-9_:]*)
 | (?P<op>=~|!~|!=|==|<=|>=|[-+*/%^<>=@])
 | (?P<punct>[(){}\[\],])
""", re.X)

AGGREGATIONS = {"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count",
                "count_values", "bottomk", "topk", "quantile", "limitk", "limit_ratio"}
FUNCTIONS = {
    "abs", "absent", "absent_over_time", "ceil", "changes", "clamp", "clamp_max", "clamp_min",
    "day_of_month", "day_of_week", "day_of_year", "days_in_month", "delta", "deriv", "exp",
    "floor", "histogram_count", "histogram_sum", "histogram_fraction", "histogram_quantile",
    "histogram_stddev", "histogram_stdvar", "holt_winters", "hour", "idelta", "increase", "irate",
    "label_join", "label_replace", "ln", "log2", "log10", "minute", "month", "predict_linear",
    "rate", "resets", "round", "scalar", "sgn", "sort", "sort_desc", "sqrt", "time", "timestamp",
    "vector", "year", "avg_over_time", "min_over_time", "max_over_time", "sum_over_time",
    "count_over_time", "quantile_over_time", "stddev_over_time", "stdvar_over_time",
    "last_over_time", "present_over_time", "acos", "acosh", "asin", "asinh", "atan", "atanh",
    "cos", "cosh", "sin", "sinh", "tan", "tanh", "deg", "rad", "pi",
}
MODIFIERS = {"by", "without", "on", "ignoring", "group_left", "group_right"}
KEYWORDS = {"and", "or", "unless", "bool", "offset", "inf", "nan", "start", "end", "atan2"}


def tokenize(expr):
    pos, out = 0, []
    while pos < len(expr):
        m = TOKEN.match(expr, pos)
        if not m:
            raise ValueError(f"cannot tokenize at {expr[pos:pos + 20]!r}")
        pos = m.end()
        if m.lastgroup != "ws":
            out.append((m.lastgroup, m.group()))
    return out


def unquote(s):
    return s[1:-1]


def call_args(toks, open_index):
    """Token index ranges of the top-level arguments of the call whose '(' is at open_index."""
    depth, start, args = 0, open_index + 1, []
    for i in range(open_index, len(toks)):
        t = toks[i]
        if t[0] == "punct" and t[1] in "({[":
            depth += 1
        elif t[0] == "punct" and t[1] in ")}]":
            depth -= 1
            if depth == 0:
                args.append((start, i))
                return args
        elif t == ("punct", ",") and depth == 1:
            args.append((start, i))
            start = i + 1
    raise ValueError("unbalanced parentheses")


def analyze_promql(expr):
    """Metric selectors [(name, [(label, op, value)])] and the other labels an expression uses."""
    toks = tokenize(expr)
    selectors, labels, i = [], [], 0

    def matchers(j):  # toks[j] is '{'
        found, j = [], j + 1
        while toks[j] != ("punct", "}"):
            if toks[j] == ("punct", ","):
                j += 1
                continue
            name, op, val = toks[j], toks[j + 1], toks[j + 2]
            if name[0] != "ident" or op[0] != "op" or val[0] != "str":
                raise ValueError(f"bad matcher near {name[1]!r}")
            found.append((name[1], op[1], unquote(val[1])))
            j += 3
        return found, j + 1

    while i < len(toks):
        kind, val = toks[i]
        nxt = toks[i + 1] if i + 1 < len(toks) else (None, None)
        if kind == "punct" and val == "{":
            found, i = matchers(i)
            selectors.append((None, found))
            continue
        if kind == "punct" and val == "[":  # range or subquery: skip to ']'
            while toks[i] != ("punct", "]"):
                i += 1
            i += 1
            continue
        if kind != "ident":
            i += 1
            continue
        if val in MODIFIERS:
            i += 1
            if nxt == ("punct", "("):
                i += 1
                while toks[i] != ("punct", ")"):
                    if toks[i][0] == "ident":
                        labels.append(toks[i][1])
                    i += 1
                i += 1
            continue
        if val.lower() in KEYWORDS:
            i += 1
            continue
        if val in AGGREGATIONS and (nxt == ("punct", "(") or nxt[1] in ("by", "without")):
            i += 1
            continue
        if nxt == ("punct", "("):
            if val not in FUNCTIONS:
                raise ValueError(f"unknown function {val}")
            if val in ("label_replace", "label_join"):
                args = call_args(toks, i + 1)
                positions = (1, 3) if val == "label_replace" else tuple(range(1, len(args)))
                for n in positions:
                    if n == 2 and val == "label_join":
                        continue
                    a, b = args[n]
                    if b - a == 1 and toks[a][0] == "str" and unquote(toks[a][1]):
                        labels.append(unquote(toks[a][1]))
            i += 1
            continue
        found = []
        i += 1
        if nxt == ("punct", "{"):
            found, i = matchers(i)
        selectors.append((val, found))
    return selectors, labels


def substitute(expr, variables):
    def repl(m):
        name = m.group(1) or m.group(2) or m.group(3)
        if name not in variables:
            raise ValueError(f"unknown template variable ${name}")
        return variables[name]
    return re.sub(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]", repl, expr)


def regex_alternatives(regex):
    """The literal alternatives of a simple regex like a|b|c, else None."""
    body = regex[1:-1] if regex.startswith("(") and regex.endswith(")") else regex
    parts = body.split("|")
    if all(re.fullmatch(r"[A-Za-z0-9_.\-]*", p) for p in parts):
        return [p.replace("\\.", ".") for p in parts]
    return None


def check_promql(cat, where, expr, variables):
    try:
        selectors, labels = analyze_promql(substitute(expr, variables))
    except ValueError as e:
        fail(f"{where}: {e}")
        return
    allowed_union = set(cat.resource_labels)
    if not selectors:
        fail(f"{where}: no metric selector")
    for name, matchers in selectors:
        if name is None:
            fail(f"{where}: selector without a metric name: {matchers}")
            continue
        if name in cat.series:
            own = cat.series[name]
        elif name in cat.recorded:
            own = cat.recorded[name]
        else:
            fail(f"{where}: metric {name} is not a catalogue metric as the collector names it "
                 f"(known: {', '.join(sorted(cat.series))})")
            continue
        allowed = own | cat.resource_labels
        allowed_union |= own
        for label, op, value in matchers:
            if label not in allowed:
                fail(f"{where}: {name} has no label {label} (its labels: {', '.join(sorted(own))}; "
                     f"resource labels: {', '.join(sorted(cat.resource_labels))})")
            domain = cat.domains.get(label)
            if domain and not value.startswith("$"):
                values = [value] if op in ("=", "!=") else regex_alternatives(value)
                for v in values or []:
                    if v not in domain and v != ".*":
                        fail(f"{where}: {name}{{{label}{op}\"{value}\"}}: {v!r} is never a value of "
                             f"{label} (values: {', '.join(sorted(domain))})")
    for label in labels:
        if label not in allowed_union:
            fail(f"{where}: label {label} (grouping or label_replace) is not a label of the "
                 f"metrics it uses")


# --------------------------------------------------------------------------- files

def dashboard_targets():
    """(where, datasource uid, expression) of every query in the dashboard."""
    dash = json.loads(DASHBOARD.read_text())
    out = []
    for p in dash["panels"]:
        for t in p.get("targets", []):
            ds = (t.get("datasource") or p.get("datasource") or {}).get("uid")
            out.append((f"dashboard panel {p['title']!r} query {t.get('refId')}", ds, t.get("expr", "")))
    return dash, out


def dashboard_variables(dash):
    out = {}
    for v in dash.get("templating", {}).get("list", []):
        out[v["name"]] = v
    return out


def label_values_query(query):
    """Grafana's label_values(metric, label) as a PromQL query with the same data."""
    m = re.fullmatch(r"\s*label_values\((.*),\s*(\w+)\s*\)\s*", query, re.S)
    if not m:
        return None
    return f"count by ({m.group(2)}) ({m.group(1)})"


def rule_list():
    doc = yaml.safe_load(RULES.read_text())
    return [(g["name"], r) for g in doc["groups"] for r in g["rules"]]


def test_variables(dash):
    variables = dict(GRAFANA_BUILTINS)
    for name, v in dashboard_variables(dash).items():
        variables[name] = v.get("allValue") or ".*"
    return variables


def check_dashboard(cat):
    dash, targets = dashboard_targets()
    provisioned = {d["uid"]: d["type"] for d in yaml.safe_load(DATASOURCES.read_text())["datasources"]}
    for required in ("prometheus", "loki", "tempo"):
        if required not in provisioned.values():
            fail(f"{DATASOURCES.name}: no {required} datasource")
    variables = test_variables(dash)

    def check_ref(where, ref):
        if not ref:
            fail(f"{where}: no datasource")
        elif ref.get("uid") not in provisioned:
            fail(f"{where}: datasource uid {ref.get('uid')!r} is not provisioned ({', '.join(provisioned)})")
        elif ref.get("type") and ref["type"] != provisioned[ref["uid"]]:
            fail(f"{where}: datasource {ref['uid']} has type {provisioned[ref['uid']]}, not {ref['type']}")

    for p in dash["panels"]:
        check_ref(f"dashboard panel {p['title']!r}", p.get("datasource"))
        if not p.get("targets"):
            fail(f"dashboard panel {p['title']!r}: no query")
        for t in p.get("targets", []):
            check_ref(f"dashboard panel {p['title']!r} query {t.get('refId')}", t.get("datasource") or p.get("datasource"))
    for name, v in dashboard_variables(dash).items():
        check_ref(f"dashboard variable {name}", v.get("datasource"))
        query = v["query"]["query"] if isinstance(v.get("query"), dict) else v.get("query", "")
        promql = label_values_query(query)
        if promql is None:
            fail(f"dashboard variable {name}: only label_values(metric, label) is supported, got {query!r}")
        else:
            check_promql(cat, f"dashboard variable {name}", promql, variables)
    for where, ds, expr in targets:
        kind = provisioned.get(ds)
        if kind == "prometheus":
            check_promql(cat, where, expr, variables)
        elif kind == "loki":
            check_logql(cat, where, expr)
    titles = " / ".join(p["title"].lower() for p in dash["panels"])
    for topic in ("success rate", "failures by hook", "p50", "p95", "plugin install", "calibration",
                  "validation", "mcp tool call", "frustration", "hook failures"):
        if topic not in titles:
            fail(f"dashboard: no panel about {topic!r}")
    print(f"dashboard: {len(targets)} queries in {len(dash['panels'])} panels, "
          f"{len(dashboard_variables(dash))} variables checked")


def loki_index_labels():
    cfg = yaml.safe_load(LOKI.read_text())
    labels = {"service_name"}  # Loki's default resource attribute index labels include service.name
    res = ((cfg.get("limits_config") or {}).get("otlp_config") or {}).get("resource_attributes") or {}
    for item in res.get("attributes_config", []):
        if item.get("action") == "index_label":
            labels |= {sanitize_label(a) for a in item.get("attributes", [])}
    return labels


def check_logql(cat, where, expr):
    index = loki_index_labels()
    m = re.match(r"\s*\{([^}]*)\}(.*)", expr, re.S)
    if not m:
        fail(f"{where}: no stream selector")
        return
    for label, _op, _v in re.findall(r'(\w+)\s*(=~|!~|!=|=)\s*"([^"]*)"', m.group(1)):
        if label not in index:
            fail(f"{where}: stream label {label} is not a Loki index label ({', '.join(sorted(index))})")
    stages = [s.strip() for s in re.split(r'\|(?=(?:[^"]*"[^"]*")*[^"]*$)', m.group(2)) if s.strip()]
    filters, fields = [], []
    for stage in stages:
        if stage.startswith("line_format"):
            fields += re.findall(r"\{\{\s*\.(\w+)\s*\}\}", stage)
        elif re.match(r"(json|logfmt|regexp|pattern|unpack)\b", stage):
            fail(f"{where}: {stage.split()[0]} parser: Han's events carry attributes (structured "
                 f"metadata), not a body to parse")
        else:
            f = re.fullmatch(r'(\w+)\s*(=~|!~|!=|==|=|>=|<=|>|<)\s*("[^"]*"|[\d.]+\w*)', stage)
            if not f:
                fail(f"{where}: cannot read pipeline stage {stage!r}")
                continue
            filters.append((f.group(1), f.group(2), f.group(3).strip('"')))
    events = [v for k, op, v in filters if k == "event_name" and op in ("=", "==")]
    if len(events) != 1 or events[0] not in cat.events:
        fail(f"{where}: filter on exactly one catalogue event (event_name=\"...\", one of "
             f"{', '.join(cat.events)}), got {events}")
        return
    attributes = {sanitize_label(a) for a in cat.events[events[0]]}
    allowed = attributes | index | cat.resource_labels | {sanitize_label(a) for a in cat.standard} | {
        "event_name", "severity_text", "severity_number", "detected_level", "trace_id", "span_id"}
    for key, op, value in filters:
        if key not in allowed:
            fail(f"{where}: {events[0]} has no attribute {key} (attributes: {', '.join(sorted(attributes))})")
        domain = cat.domains.get(key)
        if domain and op in ("=", "==", "!=") and not value.startswith("$") and value not in domain:
            fail(f"{where}: {key}=\"{value}\" is never a value ({', '.join(sorted(domain))})")
    for field in fields:
        if field not in allowed:
            fail(f"{where}: line_format field {field} is not an attribute of {events[0]}")


def check_rules(cat):
    rules = rule_list()
    for group, r in rules:
        if "record" in r:
            cat.recorded[r["record"]] = set()  # keeps resource labels (team) only
    for group, r in rules:
        name = r.get("record") or r.get("alert")
        if "record" in r:
            if not re.fullmatch(r"[a-z_]+:han_[a-z_]+:[a-z0-9_]+", r["record"]):
                fail(f"rule {name}: recording rule names follow level:han_metric:operations")
            saved, cat.recorded = cat.recorded, {}  # a recording rule uses raw metrics only
            check_promql(cat, f"rule {name}", r["expr"], {})
            cat.recorded = saved
        else:
            check_promql(cat, f"rule {name}", r["expr"], {})
    alerts = {r["alert"] for _, r in rules if "alert" in r}
    for required in ("HanHookFailureRateSpike", "HanHookP95Regression",
                     "HanTaskCalibrationDegrading", "HanTelemetrySilent"):
        if required not in alerts:
            fail(f"rules: no alert {required}")
    tests = yaml.safe_load(RULE_TESTS.read_text())
    tested = {t["alertname"] for case in tests["tests"] for t in case.get("alert_rule_test", [])
              if t.get("exp_alerts")}
    for a in sorted(alerts - tested):
        fail(f"rule tests: alert {a} has no test where it fires")
    n = 0
    for case in tests["tests"]:
        for s in case.get("input_series", []):
            n += 1
            m = re.fullmatch(r"\s*([A-Za-z_:][A-Za-z0-9_:]*)\s*\{(.*)\}\s*", s["series"])
            if not m:
                fail(f"rule tests: cannot read series {s['series']!r}")
                continue
            check_promql(cat, f"rule test series {s['series']}", f"{m.group(1)}{{{m.group(2)}}}", {})
            labels = set(re.findall(r"(\w+)\s*=", m.group(2)))
            own = cat.series.get(m.group(1), set())
            if not own <= labels:
                fail(f"rule tests: series {s['series']} lacks labels {sorted(own - labels)} the exporter always writes")
    print(f"rules: {len(rules)} rules and {n} test input series checked")


# Component types of collector-contrib this kit and its README use.
KNOWN_COMPONENTS = {
    "receivers": {"otlp"},
    "processors": {"memory_limiter", "batch", "attributes", "deltatocumulative", "transform", "resource"},
    "exporters": {"prometheus", "otlphttp", "otlp", "debug", "datadog"},
    "extensions": {"health_check", "basicauth", "bearertokenauth"},
}


def check_collector(cat):
    cfg = yaml.safe_load(COLLECTOR.read_text())
    service = cfg["service"]
    for section in ("receivers", "processors", "exporters", "extensions"):
        defined = set(cfg.get(section) or {})
        used = set(service.get("extensions", [])) if section == "extensions" else {
            c for p in service["pipelines"].values() for c in p.get(section, [])}
        for c in sorted(used - defined):
            fail(f"collector: {section[:-1]} {c} is used in a pipeline but not defined")
        for c in sorted(defined - used):
            fail(f"collector: {section[:-1]} {c} is defined but not used")
    for section, types in KNOWN_COMPONENTS.items():
        for c in cfg.get(section) or {}:
            if c.split("/")[0] not in types:
                fail(f"collector: {section[:-1]} type {c.split('/')[0]!r} is not one this kit knows "
                     f"in collector-contrib ({', '.join(sorted(types))}): a typo?")
    pipes = service["pipelines"]
    for signal in ("metrics", "logs", "traces"):
        if signal not in pipes:
            fail(f"collector: no {signal} pipeline")
            continue
        procs = pipes[signal].get("processors", [])
        if not procs or procs[0] != "memory_limiter":
            fail(f"collector: {signal} pipeline must start with memory_limiter")
        if "batch" not in procs:
            fail(f"collector: {signal} pipeline has no batch processor")
    if "deltatocumulative" not in pipes.get("metrics", {}).get("processors", []):
        fail("collector: metrics pipeline has no deltatocumulative processor")
    exporters = cfg["exporters"]
    prom = exporters.get("prometheus") or {}
    if prom.get("translation_strategy", "UnderscoreEscapingWithSuffixes") != "UnderscoreEscapingWithSuffixes" \
            or prom.get("add_metric_suffixes") is False:
        fail("collector: the dashboard and rules assume the UnderscoreEscapingWithSuffixes translation")
    if not (prom.get("resource_to_telemetry_conversion") or {}).get("enabled"):
        fail("collector: resource_to_telemetry_conversion must be enabled (team and job labels)")
    port = prom.get("endpoint", "").rsplit(":", 1)[-1]
    scrape = yaml.safe_load(PROM_CONFIG.read_text())["scrape_configs"]
    han = [s for s in scrape if any(t.endswith(":" + port) for sc in s.get("static_configs", []) for t in sc["targets"])]
    if not han:
        fail(f"prometheus.yml: no scrape job for the collector's exporter port {port}")
    elif not han[0].get("honor_labels"):
        fail("prometheus.yml: the collector scrape job needs honor_labels (else job becomes exported_job)")
    loki = [e for n, e in exporters.items() if n.startswith("otlphttp") and "loki" in n]
    if not loki or not loki[0].get("endpoint", "").endswith("/otlp"):
        fail("collector: logs go to Loki's native OTLP endpoint (otlphttp, .../otlp)")
    print(f"collector: {sum(len(cfg.get(s) or {}) for s in ('receivers', 'processors', 'exporters'))} components, "
          f"{len(pipes)} pipelines checked")


def check_compose(cat, compose_config):
    path = Path(compose_config)
    compose = yaml.safe_load(path.read_text()) if path.exists() else None
    if not compose:
        fail("compose: no resolved configuration (docker-compose config failed)")
        return
    services = compose["services"]
    for name in ("otel-collector", "prometheus", "loki", "tempo", "grafana"):
        if name not in services:
            fail(f"compose: no service {name}")
    for name, svc in services.items():
        image = svc.get("image", "")
        tag = image.rsplit(":", 1)[1] if ":" in image.split("/")[-1] else ""
        if not re.fullmatch(r"v?\d+\.\d+\.\d+", tag):
            fail(f"compose: service {name} image {image!r} is not pinned to an exact version")
        for port in svc.get("ports", []):
            text = port if isinstance(port, str) else f"{port.get('host_ip', '')}:{port.get('published')}:{port.get('target')}"
            if not text.startswith("127.0.0.1:"):
                fail(f"compose: service {name} publishes {text} beyond localhost by default")
        for vol in svc.get("volumes", []):
            source = vol.split(":")[0] if isinstance(vol, str) else vol.get("source", "")
            if source.startswith("/") and not Path(source).exists():
                fail(f"compose: service {name} mounts {source}, which does not exist")
    data = {"prometheus": "/prometheus", "loki": "/loki", "tempo": "/var/tempo", "grafana": "/var/lib/grafana"}
    named = set(compose.get("volumes") or {})
    for name, path in data.items():
        mounts = [v.split(":") for v in services.get(name, {}).get("volumes", []) if isinstance(v, str)]
        if not any(m[0] in named and m[1] == path for m in mounts):
            fail(f"compose: {name} keeps {path} in no named volume (data would not survive a restart)")
    providers = yaml.safe_load(DASH_PROVIDERS.read_text())["providers"]
    targets = {v.split(":")[1] for v in services.get("grafana", {}).get("volumes", []) if isinstance(v, str)}
    for p in providers:
        if p["options"]["path"] not in targets:
            fail(f"grafana provisioning: dashboards path {p['options']['path']} is not mounted")
    print(f"compose: {len(services)} services checked")


def cmd_static(compose_config):
    cat = Catalogue()
    print("catalogue: " + ", ".join(f"{m.name} -> {m.base}" for m in cat.metrics))
    check_collector(cat)
    check_rules(cat)
    check_dashboard(cat)
    check_compose(cat, compose_config)
    return 1 if FAILURES else 0


# --------------------------------------------------------------------------- data

TEAMS = ("web", "platform")
HOOKS = (("lint", "PostToolUse", 350.0), ("format", "PostToolUse", 120.0),
         ("guard", "PreToolUse", 15.0), ("typecheck", "Stop", 600.0))


def poisson(rng, lam):
    if lam <= 0:
        return 0
    if lam > 50:
        return max(0, int(round(rng.gauss(lam, math.sqrt(lam)))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def tenth(cat, c):
    if c is None:
        return "unknown"
    return cat.tenths[min(10, int(math.floor(max(0.0, min(1.0, c)) * 10)))]


def scenario(cat, end):
    """Per minute-step events of a 30-hour history ending at `end`, with four incidents:
    hook lint fails 60 % of the time for team web in the last 20 minutes; hook typecheck is ten
    times slower for the last 90 minutes; team web's tasks turn overconfident for the last 6
    hours; team platform goes silent 45 minutes before the end."""
    rng = random.Random(8)
    coarse, fine = 600, 120
    times = list(range(end - 30 * 3600, end - 4 * 3600, coarse)) + list(range(end - 4 * 3600, end + 1, fine))
    platform_end = end - 45 * 60
    by = {m.name: m for m in cat.metrics}
    counters, hist = {}, {}  # (metric, labels tuple) -> value / bucket counts

    def res(team):
        return {"job": "han", "service_name": "han", "service_version": "0.1.0", "os_type": "linux",
                "host_arch": "amd64", "otel_scope_name": "han-telemetry", "team": team}

    def key(metric, labels):
        own = set(labels)
        if own != set(by[metric].attributes):
            raise SystemExit(f"generator: {metric} gets attributes {sorted(own)}, the catalogue "
                             f"says {sorted(by[metric].attributes)}: update the scenario")
        return (metric, tuple(sorted(labels.items())))

    def add(metric, labels, team, n=1):
        k = key(metric, labels) + (team,)
        counters[k] = counters.get(k, 0) + n

    hd = by["han.hook.duration_ms"]
    buckets = hd.buckets

    def observe(labels, team, ms):
        k = key("han.hook.duration_ms", labels) + (team,)
        h = hist.setdefault(k, [[0] * (len(buckets) + 1), 0.0])
        for i, b in enumerate(buckets):
            if ms <= b:
                h[0][i] += 1
        h[0][-1] += 1
        h[1] += ms

    snapshots = []
    prev = times[0]
    for t in times:
        minutes = (t - prev) / 60.0
        window_start, prev = prev, t
        for team in TEAMS:
            if team == "platform" and t > platform_end:
                continue
            for hook, htype, median in HOOKS:
                n = poisson(rng, 4 * minutes)
                p_fail = 0.6 if (hook == "lint" and team == "web" and t > end - 20 * 60) else 0.02
                slow = 10.0 if (hook == "typecheck" and t > end - 90 * 60) else 1.0
                for _ in range(n):
                    ok = rng.random() >= p_fail
                    labels = {"hook_name": hook, "hook_type": htype, "success": "true" if ok else "false"}
                    add("han.hook.execution", labels, team)
                    observe(labels, team, median * slow * math.exp(rng.gauss(0, 0.4)))
                for ok in ("true", "false"):  # every combination exists from the start
                    labels = {"hook_name": hook, "hook_type": htype, "success": ok}
                    add("han.hook.execution", labels, team, 0)
                    k = key("han.hook.duration_ms", labels) + (team,)
                    hist.setdefault(k, [[0] * (len(buckets) + 1), 0.0])
            for _ in range(poisson(rng, 0.5 * minutes)):
                c = None if rng.random() < 0.02 else rng.uniform(0.3, 1.0)
                overconfident = team == "web" and t > end - 6 * 3600
                p = (0.15 if overconfident else 1.0) * (c if c is not None else 0.5)
                task_type = rng.choice(("fix", "feature"))
                if rng.random() < p:
                    outcome, metric = "success", "han.task.completed"
                elif rng.random() < 0.3:
                    outcome, metric = "partial", "han.task.completed"
                else:
                    outcome, metric = "failure", "han.task.failed"
                add(metric, {"task_type": task_type, "outcome": outcome,
                             "confidence_bucket": tenth(cat, c)}, team)
            for _ in range(poisson(rng, 2 * minutes)):
                passed = rng.random() < 0.8
                add("han.validation.run", {"validation_type": rng.choice(("lint", "typecheck")),
                                           "passed": "true" if passed else "false",
                                           "error_count": "0" if passed else str(rng.randint(1, 3))}, team)
            for _ in range(poisson(rng, 3 * minutes)):
                add("han.mcp.tool_call", {"tool_name": rng.choice(("han_search", "han_metrics", "han_memory")),
                                          "success": "true" if rng.random() < 0.95 else "false"}, team)
            for _ in range(poisson(rng, 0.1 * minutes)):
                add("han.session.start", {}, team)
            for _ in range(poisson(rng, 0.05 * minutes)):
                level = rng.choice(("low", "medium", "high"))
                score = {"low": 0.35, "medium": 0.6, "high": 0.9}[level] + rng.uniform(-0.05, 0.05)
                add("han.frustration.detected", {"level": level, "score_bucket": tenth(cat, score)}, team)
            scheduled = {end - 3 * 3600: ("install", "han-core", "user", "true"),
                         end - 2 * 3600: ("install", "jutsu-bun", "project", "false"),
                         end - 150 * 60: ("uninstall", "typescript", "project", "true"),
                         end - 60 * 60: ("install", "typescript", "project", "true")}
            if t == times[0]:
                add("han.plugin.install", {"plugin_name": "han-core", "scope": "user", "success": "true"}, team, 0)
                add("han.plugin.uninstall", {"plugin_name": "typescript", "success": "true"}, team, 0)
            for at, (action, plugin, scope, ok) in scheduled.items():
                if window_start < at <= t:
                    if action == "install":
                        add("han.plugin.install", {"plugin_name": plugin, "scope": scope, "success": ok}, team)
                    else:
                        add("han.plugin.uninstall", {"plugin_name": plugin, "success": ok}, team)
        snapshots.append((t, dict(counters), {k: ([*v[0]], v[1]) for k, v in hist.items()}))
    return snapshots, platform_end


def fmt_labels(labels):
    return ",".join(f'{k}="{v}"' for k, v in labels)


def le_text(b):
    return "+Inf" if b == math.inf else ("%g" % b if b < 1e6 else repr(b))


def cmd_generate(out, end):
    cat = Catalogue()
    snapshots, platform_end = scenario(cat, end)
    by = {m.name: m for m in cat.metrics}
    series = {}  # series line prefix -> [(t, value)]
    families = {}  # family -> (type, [prefixes])
    res_cache = {}
    for t, counters, hist in snapshots:
        for (metric, labels, team), value in counters.items():
            if team == "platform" and t > platform_end:
                continue
            m = by[metric]
            res = res_cache.setdefault(team, (("job", "han"), ("service_name", "han"), ("service_version", "0.1.0"),
                                              ("os_type", "linux"), ("host_arch", "amd64"),
                                              ("otel_scope_name", "han-telemetry"), ("team", team)))
            prefix = f"{m.base}{{{fmt_labels(labels + res)}}}"
            fam = families.setdefault(m.base[:-len('_total')], ("counter", []))
            if prefix not in series:
                fam[1].append(prefix)
            series.setdefault(prefix, []).append((t, value))
        for (metric, labels, team), (counts, total) in hist.items():
            if team == "platform" and t > platform_end:
                continue
            m = by[metric]
            res = res_cache[team]
            fam = families.setdefault(m.base, ("histogram", []))
            lines = [(f"{m.base}_bucket{{{fmt_labels(labels + res + (('le', le_text(b)),))}}}", c)
                     for b, c in zip(m.buckets + [math.inf], counts)]
            lines += [(f"{m.base}_sum{{{fmt_labels(labels + res)}}}", total),
                      (f"{m.base}_count{{{fmt_labels(labels + res)}}}", counts[-1])]
            for prefix, v in lines:
                if prefix not in series:
                    fam[1].append(prefix)
                series.setdefault(prefix, []).append((t, v))
    with open(out, "w") as f:
        for fam, (kind, prefixes) in families.items():
            f.write(f"# TYPE {fam} {kind}\n")
            for prefix in prefixes:
                for t, v in series[prefix]:
                    f.write(f"{prefix} {v} {t}\n" if isinstance(v, int) else f"{prefix} {v:.3f} {t}\n")
        f.write("# EOF\n")
    print(f"generated {len(series)} series, {sum(len(v) for v in series.values())} samples "
          f"from {snapshots[0][0]} to {end}")
    return 0


# --------------------------------------------------------------------------- queries

# What each alert must find in the generated history (a label each result must include).
ALERT_EXPECTS = {
    "HanHookFailureRateSpike": {"hook_name": "lint"},
    "HanHookP95Regression": {"hook_name": "typecheck"},
    "HanTaskCalibrationDegrading": {"team": "web"},
    "HanTelemetrySilent": {"team": "platform"},
}


def all_queries():
    """(where, PromQL, phase, expected labels) for every expression of dashboard and rules.
    Phase 1 runs on the raw history; phase 2 after the recording rules were backfilled."""
    dash, targets = dashboard_targets()
    provisioned = {d["uid"]: d["type"] for d in yaml.safe_load(DATASOURCES.read_text())["datasources"]}
    variables = test_variables(dash)
    out = []
    for name, v in dashboard_variables(dash).items():
        query = v["query"]["query"] if isinstance(v.get("query"), dict) else v["query"]
        out.append((f"dashboard variable {name}", substitute(label_values_query(query), variables), 1, None))
    for where, ds, expr in targets:
        if provisioned.get(ds) == "prometheus":
            out.append((where, substitute(expr, variables), 1, None))
    recorded = {r["record"] for _, r in rule_list() if "record" in r}
    for _, r in rule_list():
        uses_recorded = any(re.search(rf"(?<![\w:]){re.escape(n)}(?![\w:])", r["expr"]) for n in recorded)
        name = r.get("record") or r.get("alert")
        out.append((f"rule {name}", r["expr"], 2 if uses_recorded else 1, ALERT_EXPECTS.get(name)))
        if "record" in r:
            out.append((f"recorded series {name}", name, 2, None))
    return out


def cmd_queries(url, ts, phase):
    bad = 0
    queries = [q for q in all_queries() if q[2] == phase]
    for where, expr, _, expect in queries:
        params = urllib.parse.urlencode({"query": expr, "time": ts})
        try:
            with urllib.request.urlopen(f"{url}/api/v1/query?{params}", timeout=60) as r:
                body = json.load(r)
        except urllib.error.HTTPError as e:
            body = json.load(e)
        if body.get("status") != "success":
            print(f"FAIL: {where}: {body.get('errorType')}: {body.get('error')}\n  {expr}")
            bad += 1
            continue
        data = body["data"]
        result = data["result"]
        if data["resultType"] in ("vector", "matrix") and not result:
            print(f"FAIL: {where}: no data\n  {expr}")
            bad += 1
            continue
        if expect:
            hits = [s for s in result if all(s["metric"].get(k) == v for k, v in expect.items())]
            if not hits:
                print(f"FAIL: {where}: fired for {[s['metric'] for s in result]}, not for {expect}")
                bad += 1
                continue
        shown = ", ".join(f"{ {k: v for k, v in s['metric'].items() if k != '__name__'} }={s['value'][1]}"
                          for s in result[:3]) if data["resultType"] == "vector" else str(result)
        print(f"ok: {where}: {len(result) if isinstance(result, list) else 1} series: {shown[:150]}")
    print(f"phase {phase}: {len(queries) - bad} of {len(queries)} queries returned data")
    return 1 if bad else 0


def cmd_rule_file(out):
    doc = yaml.safe_load(RULES.read_text())
    groups = [{"name": g["name"], "interval": g.get("interval", "1m"),
               "rules": [r for r in g["rules"] if "record" in r]} for g in doc["groups"]]
    yaml.safe_dump({"groups": [g for g in groups if g["rules"]]}, open(out, "w"), sort_keys=False)
    return 0


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "static" and len(argv) == 3:
        return cmd_static(argv[2])
    if cmd == "generate" and len(argv) == 4:
        return cmd_generate(argv[2], int(argv[3]))
    if cmd == "queries" and len(argv) == 5:
        return cmd_queries(argv[2], argv[3], int(argv[4]))
    if cmd == "rule-file" and len(argv) == 3:
        return cmd_rule_file(argv[2])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
