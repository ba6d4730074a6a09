"""Mapping-spec handling for the Glue job (glue/interactions_etl.py), in pure Python.

Importable without Spark or awsglue so it can be unit-tested anywhere (glue/tests). It mirrors the
TypeScript loader and row rules of the local engine (src/etl/spec.ts and src/etl/engine.ts):

- ``load_spec`` parses + validates a spec (JSON text or dict) with the same cross-field rules and the
  same error messages (``<file>: <field>: <message>``) as ``loadMappingSpec``.
- ``with_overrides`` applies run-time job arguments (event_value, min_rating, reject_threshold) and
  re-validates, like ``withOverrides``.
- ``convert_timestamp`` / ``check_row`` are the row rules with the engine's exact reject reasons; the
  Spark job builds the same rules as column expressions (no Python UDFs) and the tests call these
  directly.
- ``reader_options`` / ``spark_output_columns`` / ``check_header`` / ``separator_check`` feed the
  Spark reader and the structural checks.

Compatible with Python 3.10 (AWS Glue 4.0).
"""

import json
import math
import re
from datetime import datetime, timezone
from decimal import Decimal

REQUIRED_TARGETS = ("USER_ID", "ITEM_ID", "TIMESTAMP")
ID_TARGETS = frozenset(("USER_ID", "ITEM_ID"))
DEFAULT_CHECKS = {
    "maxIdLength": 256,
    "minTimestamp": 631152000,  # 1990-01-01T00:00:00Z
    "maxFutureSeconds": 86400,
    "rejectThreshold": 0.01,
}
TRAINING_MIN_INTERACTIONS = 1000
TRAINING_MIN_USERS_WITH_2 = 25
MAX_SAMPLES = 10
CORRUPT_COLUMN = "_corrupt_record"
FILTERED = "\u0000filtered"  # sentinel "reason" for rows a spec filter drops (not a reject)

TOP_KEYS = (
    "$schema", "specVersion", "name", "description", "source", "mappings", "drop", "timestamp",
    "filters", "eventValue", "output", "checks",
)
TYPES = ("string", "long", "double")
UNITS = ("ms", "s", "auto")
OPS = (">=", ">", "==", "<=", "<", "!=")
TARGET_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")
ISO_RE = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?Z)?$")
# The engine's parseNumber: JS Number() on a strict decimal literal (no hex, no Infinity).
NUMBER_RE = r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$"
_NUMBER = re.compile(NUMBER_RE, re.ASCII)
_DIGITS = re.compile(r"^[0-9]{1,15}$")
_INTEGER = re.compile(r"^[+-]?[0-9]+$")
SEPARATOR_NAMES = {"\t": "TAB", ",": "comma (,)", ";": "semicolon (;)", "|": "pipe (|)"}


class EtlError(Exception):
    """A failure of the ETL; ``kind`` is spec | structure | threshold | input (as in the TS EtlError)."""

    def __init__(self, kind, message, first_rejects=None):
        Exception.__init__(self, message)
        self.kind = kind
        self.message = message
        self.first_rejects = list(first_rejects or [])


class SpecError(EtlError):
    def __init__(self, message):
        EtlError.__init__(self, "spec", message)


# --------------------------------------------------------------------------------------------------
# JS-compatible formatting helpers (messages and values must match the TypeScript side byte for byte)


def js_number(value):
    """Formats a number like JavaScript's String(number): 4 -> "4", 0.5 -> "0.5", 1e21 -> "1e+21"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        value = float(value) if abs(value) >= 1e21 else value
        if isinstance(value, int):
            return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    text = repr(value)
    if "e" in text:
        mantissa, exp = text.split("e")
        exp_n = int(exp)
        if -7 < exp_n < 21:
            return format(Decimal(text), "f")
        return "%se%s%d" % (mantissa, "+" if exp_n > 0 else "-", abs(exp_n))
    return text


def js_string(value):
    """JSON.stringify of a string (non-ASCII kept as is)."""
    return json.dumps(value, ensure_ascii=False)


def _describe(value):
    if value is None:
        return "null"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return js_string(value)
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return "object"


def separator_name(sep):
    return SEPARATOR_NAMES.get(sep, js_string(sep))


def format_day(seconds):
    """The UTC day of an epoch-seconds value, as YYYY-MM-DD (the engine's formatDay)."""
    try:
        return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%d")
    except (OverflowError, OSError, ValueError):
        return "+%s" % seconds


def _parse_iso(text):
    """Date.parse of YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS(.fff)Z as UTC epoch ms; None when invalid."""
    if not ISO_RE.match(text):
        return None
    try:
        if "T" not in text:
            d = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=timezone.utc)
            return int(d.timestamp() * 1000)
        body = text[:-1]
        frac = 0.0
        if "." in body:
            body, digits = body.split(".", 1)
            frac = float("0." + digits)
        d = datetime.strptime(body, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
        return int(d.timestamp() * 1000) + int(frac * 1000)
    except ValueError:
        return None


# --------------------------------------------------------------------------------------------------
# Spec loading (loadMappingSpec)


class _Reader(object):
    def __init__(self, label):
        self.label = label

    def fail(self, field, message):
        raise SpecError("%s: %s: %s" % (self.label, field, message))

    def obj(self, value, field, keys):
        if not isinstance(value, dict):
            self.fail(field, "must be an object")
        for key in value:
            if key not in keys:
                self.fail(field, 'unknown key "%s" (allowed: %s)' % (key, ", ".join(keys)))
        return value

    def str_(self, value, field, min_len=None, max_len=None, one_of=None):
        if not isinstance(value, str):
            self.fail(field, "must be a string, got %s" % _describe(value))
        if one_of is not None and value not in one_of:
            self.fail(field, "must be one of %s, got %s" % (
                ", ".join(js_string(v) for v in one_of), js_string(value)))
        if min_len is not None and len(value) < min_len:
            self.fail(field, "must have at least %d character(s)" % min_len)
        if max_len is not None and len(value) > max_len:
            self.fail(field, "must have at most %d characters" % max_len)
        return value

    def bool_(self, value, field):
        if not isinstance(value, bool):
            self.fail(field, "must be true or false, got %s" % _describe(value))
        return value

    def num(self, value, field, lo, hi, integer=False):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                isinstance(value, float) and not math.isfinite(value)):
            self.fail(field, "must be a number, got %s" % _describe(value))
        if integer and not float(value).is_integer():
            self.fail(field, "must be an integer, got %s" % js_number(value))
        if value < lo or value > hi:
            self.fail(field, "must be between %s and %s, got %s" % (js_number(lo), js_number(hi), js_number(value)))
        return value

    def arr(self, value, field, min_items=0):
        if not isinstance(value, list):
            self.fail(field, "must be an array, got %s" % _describe(value))
        if len(value) < min_items:
            self.fail(field, "must have at least %d item(s)" % min_items)
        return value

    def names(self, value, field, min_items=0):
        out = [self.str_(v, "%s[%d]" % (field, i), 1, 256) for i, v in enumerate(self.arr(value, field, min_items))]
        seen = set()
        for i, name in enumerate(out):
            if name in seen:
                self.fail("%s[%d]" % (field, i), "duplicate name %s" % js_string(name))
            seen.add(name)
        return out


def load_spec(value, file_label):
    """Parses a mapping spec (JSON text, bytes or an already parsed dict) into a normalized, defaulted
    dict (the shape of the TS MappingSpec; checks.minTimestamp in epoch seconds). Raises SpecError
    naming the file and the field, with the same messages as src/etl/spec.ts."""
    if isinstance(value, bytes):
        value = value.decode("utf-8")
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as error:
            raise SpecError("%s: not valid JSON: %s" % (file_label, error))
    r = _Reader(file_label)
    top = r.obj(value, "(top level)", TOP_KEYS)
    for key in ("specVersion", "name", "source", "mappings", "timestamp", "output"):
        if key not in top:
            r.fail(key, "is required")
    if isinstance(top["specVersion"], bool) or top["specVersion"] != 1:
        r.fail("specVersion", "must be 1, got %s" % _describe(top["specVersion"]))
    name = r.str_(top["name"], "name", 1, 128)
    description = "" if "description" not in top else r.str_(top["description"], "description")

    s = r.obj(top["source"], "source", ("format", "separator", "quote", "header", "encoding", "columns"))
    for key in ("format", "separator", "header", "encoding"):
        if key not in s:
            r.fail("source.%s" % key, "is required")
    fmt = r.str_(s["format"], "source.format", one_of=("csv", "tsv"))
    separator = r.str_(s["separator"], "source.separator", 1, 4)
    if re.search(r'["\r\n]', separator):
        r.fail("source.separator", "must not contain a quote or a newline")
    quote = None if s.get("quote") is None else r.str_(s["quote"], "source.quote", 1, 1)
    if quote is not None and (quote in separator or quote in ("\n", "\r")):
        r.fail("source.quote", "must differ from the separator and newlines")
    header = r.bool_(s["header"], "source.header")
    encoding = r.str_(s["encoding"], "source.encoding", one_of=("utf-8", "latin1"))
    columns = None if s.get("columns") is None else r.names(s["columns"], "source.columns", 1)
    if not header and columns is None:
        r.fail("source.columns", "is required when source.header is false")

    mappings = []
    for i, m in enumerate(r.arr(top["mappings"], "mappings", 3)):
        f = "mappings[%d]" % i
        o = r.obj(m, f, ("from", "to", "type", "required"))
        for key in ("from", "to", "type"):
            if key not in o:
                r.fail("%s.%s" % (f, key), "is required")
        to = r.str_(o["to"], f + ".to", 1, 64)
        if not TARGET_RE.match(to):
            r.fail(f + ".to", "must be an upper-case column name like USER_ID, got %s" % js_string(to))
        mappings.append({
            "from": r.str_(o["from"], f + ".from", 1, 256),
            "to": to,
            "type": r.str_(o["type"], f + ".type", one_of=TYPES),
            "required": True if "required" not in o else r.bool_(o["required"], f + ".required"),
        })
    targets = []
    for i, m in enumerate(mappings):
        if m["to"] in targets:
            r.fail("mappings[%d].to" % i, "%s is mapped twice" % m["to"])
        targets.append(m["to"])
        if m["to"] == "EVENT_VALUE":
            r.fail("mappings[%d].to" % i, "use the eventValue section for EVENT_VALUE")
    for target in REQUIRED_TARGETS:
        if target not in targets:
            r.fail("mappings", "no mapping to %s (USER_ID, ITEM_ID and TIMESTAMP are required)" % target)
        index = targets.index(target)
        if not mappings[index]["required"]:
            r.fail("mappings[%d].required" % index, "%s must be required" % target)
        if target == "TIMESTAMP" and mappings[index]["type"] != "long":
            r.fail("mappings[%d].type" % index, "TIMESTAMP must be of type long")

    drop = [] if "drop" not in top else r.names(top["drop"], "drop")
    ts = r.obj(top["timestamp"], "timestamp", ("column", "unit"))
    timestamp = {
        "column": r.str_(ts.get("column"), "timestamp.column", 1),
        "unit": r.str_(ts.get("unit"), "timestamp.unit", one_of=UNITS),
    }
    ts_mapping = mappings[targets.index("TIMESTAMP")]
    if ts_mapping["from"] != timestamp["column"]:
        r.fail("timestamp.column", "must be the column mapped to TIMESTAMP (%s)" % js_string(ts_mapping["from"]))

    filters = []
    for i, x in enumerate([] if "filters" not in top else r.arr(top["filters"], "filters")):
        f = "filters[%d]" % i
        o = r.obj(x, f, ("column", "op", "value"))
        op = r.str_(o.get("op"), f + ".op", one_of=OPS)
        equality = op in ("==", "!=")
        v = o.get("value")
        is_num = isinstance(v, (int, float)) and not isinstance(v, bool)
        if not is_num and not (isinstance(v, str) and equality):
            r.fail(f + ".value", "must be a number or a string" if equality else "must be a number for %s" % op)
        if is_num:
            v = r.num(v, f + ".value", -1.7976931348623157e308, 1.7976931348623157e308)
        filters.append({"column": r.str_(o.get("column"), f + ".column", 1), "op": op, "value": v})

    event_value = None
    if top.get("eventValue") is not None:
        o = r.obj(top["eventValue"], "eventValue", ("from", "enabled"))
        event_value = {
            "from": r.str_(o.get("from"), "eventValue.from", 1),
            "enabled": False if "enabled" not in o else r.bool_(o["enabled"], "eventValue.enabled"),
        }

    out = r.obj(top["output"], "output", ("format", "header", "columns"))
    if "format" in out:
        r.str_(out["format"], "output.format", one_of=("csv",))
    if "header" in out and out["header"] is not True:
        r.fail("output.header", "must be true (Personalize needs a header)")
    out_columns = r.names(out.get("columns"), "output.columns", 3)
    for i, c in enumerate(out_columns):
        if c not in targets:
            r.fail("output.columns[%d]" % i, "%s is not the target of any mapping" % c)
    for t in targets:
        if t not in out_columns:
            r.fail("output.columns", "missing %s (a mapping target)" % t)

    checks = dict(DEFAULT_CHECKS)
    if "checks" in top:
        c = r.obj(top["checks"], "checks", ("maxIdLength", "minTimestamp", "maxFutureSeconds", "rejectThreshold"))
        if "minTimestamp" in c:
            text = r.str_(c["minTimestamp"], "checks.minTimestamp")
            ms = _parse_iso(text)
            if ms is None:
                r.fail("checks.minTimestamp", "must be an ISO date like 1990-01-01, got %s" % js_string(text))
            checks["minTimestamp"] = ms // 1000
        if "maxIdLength" in c:
            checks["maxIdLength"] = int(r.num(c["maxIdLength"], "checks.maxIdLength", 1, 256, True))
        if "maxFutureSeconds" in c:
            checks["maxFutureSeconds"] = int(r.num(c["maxFutureSeconds"], "checks.maxFutureSeconds", 0, 1e10, True))
        if "rejectThreshold" in c:
            checks["rejectThreshold"] = r.num(c["rejectThreshold"], "checks.rejectThreshold", 0, 1)

    if columns is not None:
        refs = [("mappings[%d].from" % i, m["from"]) for i, m in enumerate(mappings)]
        refs += [("filters[%d].column" % i, f["column"]) for i, f in enumerate(filters)]
        refs += [("drop[%d]" % i, d) for i, d in enumerate(drop)]
        if event_value:
            refs.append(("eventValue.from", event_value["from"]))
        for field, col in refs:
            if col not in columns:
                r.fail(field, "column %s is not in source.columns (%s)" % (js_string(col), ", ".join(columns)))

    return {
        "specVersion": 1,
        "name": name,
        "description": description,
        "source": {"format": fmt, "separator": separator, "quote": quote, "header": header,
                   "encoding": encoding, "columns": columns},
        "mappings": mappings,
        "drop": drop,
        "timestamp": timestamp,
        "filters": filters,
        "eventValue": event_value,
        "output": {"format": "csv", "header": True, "columns": out_columns},
        "checks": checks,
    }


def spec_to_json(spec):
    """The JSON form of a loaded spec (what load_spec accepts), like the TS specToJson."""
    min_ts = datetime.fromtimestamp(spec["checks"]["minTimestamp"], tz=timezone.utc)
    return {
        "specVersion": 1,
        "name": spec["name"],
        "description": spec["description"],
        "source": dict(spec["source"], columns=list(spec["source"]["columns"]) if spec["source"]["columns"] else None),
        "mappings": [dict(m) for m in spec["mappings"]],
        "drop": list(spec["drop"]),
        "timestamp": dict(spec["timestamp"]),
        "filters": [dict(f) for f in spec["filters"]],
        "eventValue": dict(spec["eventValue"]) if spec["eventValue"] else None,
        "output": {"format": "csv", "header": True, "columns": list(spec["output"]["columns"])},
        "checks": {
            "maxIdLength": spec["checks"]["maxIdLength"],
            "minTimestamp": min_ts.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "maxFutureSeconds": spec["checks"]["maxFutureSeconds"],
            "rejectThreshold": spec["checks"]["rejectThreshold"],
        },
    }


def parse_bool_arg(text, name):
    t = str(text).strip().lower()
    if t in ("true", "1", "yes"):
        return True
    if t in ("false", "0", "no"):
        return False
    raise SpecError("--%s: must be true or false, got %s" % (name, js_string(str(text))))


def parse_number_arg(text, name):
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return text
    t = str(text).strip()
    if not _NUMBER.match(t):
        raise SpecError("--%s: must be a number, got %s" % (name, js_string(str(text))))
    v = float(t)
    return int(v) if v.is_integer() and "." not in t and "e" not in t.lower() else v


def with_overrides(spec, event_value=None, min_rating=None, reject_threshold=None, filters=None, file_label=None):
    """A copy of `spec` with run-time overrides (job arguments), re-validated by load_spec like the TS
    withOverrides. event_value: keep eventValue.from as EVENT_VALUE (bool or "true"/"false");
    min_rating: adds the filter {eventValue.from >= N}; filters: extra filters appended after the
    spec's own; reject_threshold: 0..1. String values (raw job arguments) are parsed."""
    label = file_label or spec["name"]
    j = spec_to_json(spec)
    if event_value is not None:
        if not spec["eventValue"]:
            raise SpecError("%s: eventValue: the spec names no column to keep as EVENT_VALUE" % label)
        enabled = event_value if isinstance(event_value, bool) else parse_bool_arg(event_value, "event_value")
        j["eventValue"] = {"from": spec["eventValue"]["from"], "enabled": enabled}
    extra = list(filters or [])
    if min_rating is not None:
        if not spec["eventValue"]:
            raise SpecError("%s: eventValue: the spec names no rating column for min_rating" % label)
        extra.append({"column": spec["eventValue"]["from"], "op": ">=",
                      "value": parse_number_arg(min_rating, "min_rating")})
    if extra:
        j["filters"] = j["filters"] + [dict(f) for f in extra]
    if reject_threshold is not None:
        j["checks"]["rejectThreshold"] = parse_number_arg(reject_threshold, "reject_threshold")
    return load_spec(j, label)


def output_columns(spec):
    """output.columns, plus EVENT_VALUE when eventValue is enabled (the TS outputColumns)."""
    cols = list(spec["output"]["columns"])
    if spec["eventValue"] and spec["eventValue"]["enabled"]:
        cols.append("EVENT_VALUE")
    return cols


spark_output_columns = output_columns


def referenced_columns(spec):
    """The source columns the spec reads (mappings, eventValue when enabled, filters), first use order."""
    refs = [m["from"] for m in spec["mappings"]]
    if spec["eventValue"] and spec["eventValue"]["enabled"]:
        refs.append(spec["eventValue"]["from"])
    refs += [f["column"] for f in spec["filters"]]
    out = []
    for r in refs:
        if r not in out:
            out.append(r)
    return out


def output_plan(spec):
    """The output columns in order, each {to, from, kind, required, isId}; kind is string | long |
    double | timestamp (the engine's Column list)."""
    by_target = dict((m["to"], m) for m in spec["mappings"])
    plan = []
    for to in spec["output"]["columns"]:
        m = by_target[to]
        kind = "timestamp" if to == "TIMESTAMP" else m["type"]
        plan.append({"to": to, "from": m["from"], "kind": kind, "required": m["required"], "isId": to in ID_TARGETS})
    ev = spec["eventValue"]
    if ev and ev["enabled"]:
        plan.append({"to": "EVENT_VALUE", "from": ev["from"], "kind": "double", "required": True, "isId": False})
    return plan


def filter_label(f):
    v = f["value"]
    return "%s %s %s" % (f["column"], f["op"], js_string(v) if isinstance(v, str) else js_number(v))


# --------------------------------------------------------------------------------------------------
# Structural checks


def separator_check(fields, line, expected, sep):
    """The engine's separatorCheck: a message when a line has 1 field but more were expected."""
    if len(fields) != 1 or expected <= 1:
        return None
    text = fields[0]
    seen = [s for s in ("\t", ",", ";", "|") if s != sep and s in text]
    hint = " (the line contains %s)" % ", ".join(separator_name(s) for s in seen) if seen else ""
    return ("line %d has 1 column, expected %d: is the separator right? The spec expects %s%s"
            % (line, expected, separator_name(sep), hint))


def check_header(fields, spec, line=1):
    """Validates a header line (its fields) against the spec like the engine's header(); returns the
    trimmed column names to bind by. Raises EtlError('structure')."""
    names = [f.strip() for f in fields]
    if names and names[0].startswith("\ufeff"):
        names[0] = names[0][1:]
    refs = referenced_columns(spec)
    cols = spec["source"]["columns"]
    msg = separator_check(names, line, len(cols) if cols else len(refs), spec["source"]["separator"])
    if msg:
        raise EtlError("structure", msg)
    missing = [r for r in refs if r not in names]
    if len(missing) == len(refs) and all(re.match(r"^[-+.\d]+$", n) for n in names):
        raise EtlError("structure", (
            "line %d is not a header (found: %s): the spec expects a header line with columns %s; for a file "
            "without one set source.header to false and list source.columns") % (line, ", ".join(names), ", ".join(refs)))
    if missing:
        raise EtlError("structure", "header is missing column%s %s (found: %s)" % (
            "s" if len(missing) > 1 else "", ", ".join(missing), ", ".join(names)))
    return names


def empty_input_message(spec, expected, only_blank=False):
    """The engine's messages for an input without data rows."""
    refs = ", ".join(referenced_columns(spec))
    if spec["source"]["header"]:
        return "the input is empty%s: expected a header line with columns %s and data rows" % (
            " (only blank lines)" if only_blank else "", refs)
    return "the input is empty%s: expected data rows with %d columns" % (
        " (only blank lines)" if only_blank else "", expected)


HEADER_ONLY_MESSAGE = "the input has only a header line and no data rows"


# --------------------------------------------------------------------------------------------------
# Row rules


def parse_number(text):
    """The engine's parseNumber: a float, or NaN when `text` is not a decimal number."""
    if _DIGITS.match(text):
        return int(text)
    if _NUMBER.match(text):
        return float(text.strip())
    return float("nan")


def _is_nan(v):
    return isinstance(v, float) and v != v


def plausible_range(spec, now=None):
    """(min, max) plausible timestamps in epoch seconds; `now` in epoch seconds (default: now)."""
    if now is None:
        now = datetime.now(tz=timezone.utc).timestamp()
    return spec["checks"]["minTimestamp"], int(math.floor(now)) + spec["checks"]["maxFutureSeconds"]


class Reject(str):
    """A reject reason (a str), returned by convert_timestamp instead of a value."""


def convert_timestamp(value, unit, column="timestamp", min_ts=DEFAULT_CHECKS["minTimestamp"], max_ts=None,
                      now=None, max_future_seconds=DEFAULT_CHECKS["maxFutureSeconds"]):
    """Converts a raw timestamp field to epoch seconds (int) per `unit` (ms | s | auto: > 1e11 is ms),
    or returns a Reject (a str) with the engine's exact reason. max_ts defaults to now + max_future."""
    if max_ts is None:
        if now is None:
            now = datetime.now(tz=timezone.utc).timestamp()
        max_ts = int(math.floor(now)) + max_future_seconds
    v = parse_number(value)
    if _is_nan(v):
        return Reject("%s is not a number: %s (column %s)" % (column, js_string(value), column))
    if v < 0:
        return Reject("%s is negative: %s (column %s)" % (column, js_string(value), column))
    if math.isinf(v):
        ts = v
    elif unit == "ms" or (unit == "auto" and v > 1e11):
        ts = v // 1000 if isinstance(v, int) else int(math.floor(v / 1000))
    else:
        ts = int(math.floor(v))
    if ts < min_ts or ts > max_ts:
        if ts < min_ts:
            why = "is before %s" % format_day(min_ts)
        else:
            why = "is after %s (now + %d s)" % (format_day(max_ts), max_future_seconds)
        return Reject("%s out of range: %s s %s; is the unit right? (timestamp.unit %s)" % (
            column, js_number(ts), why, unit))
    return int(ts)


def compare(a, op, b):
    """a <op> b for the spec's filter operators; works on plain values and on Spark columns alike."""
    if op == ">=":
        return a >= b
    if op == ">":
        return a > b
    if op == "<=":
        return a <= b
    if op == "<":
        return a < b
    if op == "==":
        return a == b
    return a != b


def check_row(fields, spec, names=None, now=None):
    """Applies the spec to one record (a list of raw string fields), like the engine's row checks.

    `names` are the column names by position (the header, or source.columns when omitted); `now` is
    epoch seconds for the plausibility check. Returns (output_row, None) for a kept row (a list of
    strings in output_columns(spec) order, not CSV-quoted), (None, reason) for a reject with the
    engine's exact reason, and (None, None) for a row a spec filter drops (not a reject)."""
    if names is None:
        names = spec["source"]["columns"]
    expected = len(names)
    if len(fields) != expected:
        return None, "expected %d columns, found %d" % (expected, len(fields))
    index = dict((n, i) for i, n in reversed(list(enumerate(names))))
    for f in spec["filters"]:
        raw = fields[index[f["column"]]]
        if isinstance(f["value"], str):
            keep = compare(raw, f["op"], f["value"])
        else:
            v = parse_number(raw)
            if _is_nan(v):
                return None, "%s is not a number: %s (filter %s)" % (f["column"], js_string(raw), filter_label(f))
            keep = compare(v, f["op"], f["value"])
        if not keep:
            return None, None
    min_ts, max_ts = plausible_range(spec, now)
    max_id = spec["checks"]["maxIdLength"]
    out = []
    for col in output_plan(spec):
        raw = fields[index[col["from"]]]
        if raw == "":
            if col["required"]:
                return None, "empty %s (column %s)" % (col["to"], col["from"])
            out.append("")
            continue
        kind = col["kind"]
        if kind == "timestamp":
            ts = convert_timestamp(raw, spec["timestamp"]["unit"], col["from"], min_ts, max_ts,
                                   max_future_seconds=spec["checks"]["maxFutureSeconds"])
            if isinstance(ts, Reject):
                return None, str(ts)
            out.append(str(ts))
        elif kind == "string":
            if col["isId"] and _js_length(raw) > max_id:
                return None, "%s is %d characters long, more than %d (column %s)" % (
                    col["to"], _js_length(raw), max_id, col["from"])
            out.append(raw)
        elif kind == "long":
            t = raw.strip()
            if not _INTEGER.match(t):
                return None, "%s is not an integer: %s (column %s)" % (col["to"], js_string(raw), col["from"])
            out.append(t)
        else:
            v = parse_number(raw)
            if _is_nan(v) or math.isinf(v):
                return None, "%s is not a number: %s (column %s)" % (col["to"], js_string(raw), col["from"])
            out.append(js_number(v))
    return out, None


def _js_length(s):
    """String length in UTF-16 code units (JavaScript's .length)."""
    return len(s.encode("utf-16-le")) // 2


def training_minimums(rows_written, users_with_2):
    """(meets, note) exactly like the engine's report."""
    notes = []
    if rows_written < TRAINING_MIN_INTERACTIONS:
        notes.append("%d interactions, Personalize needs at least %d" % (rows_written, TRAINING_MIN_INTERACTIONS))
    if users_with_2 < TRAINING_MIN_USERS_WITH_2:
        notes.append("%d users with at least 2 interactions, Personalize needs at least %d"
                     % (users_with_2, TRAINING_MIN_USERS_WITH_2))
    return len(notes) == 0, "; ".join(notes)


def _pct(x):
    return js_number(float("%.2f" % (x * 100))) + "%"


def threshold_message(rows_rejected, rows_read, threshold, first_rejects):
    """The engine's 'threshold' failure message; None when the rejects stay within the threshold."""
    if not rows_rejected > threshold * rows_read:
        return None
    sample = "; ".join("line %s: %s" % (x["line"], x["reason"]) for x in first_rejects[:3])
    return "%d of %d rows rejected (%s), more than the reject threshold of %s; first rejects: %s" % (
        rows_rejected, rows_read, _pct(rows_rejected / float(rows_read)), _pct(threshold), sample)


# --------------------------------------------------------------------------------------------------
# Spark reader/writer options


def reader_options(spec, header=None):
    """Spark CSV reader options for the spec's source. `header` overrides source.header (the job reads
    the header line on its own first). Quote null disables quoting; quotes escape by doubling
    (RFC 4180); ragged or malformed records land in CORRUPT_COLUMN (mode PERMISSIVE)."""
    src = spec["source"]
    quote = src["quote"]
    return {
        "sep": src["separator"],
        "header": "true" if (src["header"] if header is None else header) else "false",
        "quote": quote if quote is not None else "",
        "escape": quote if quote is not None else "",
        "encoding": "UTF-8" if src["encoding"] == "utf-8" else "ISO-8859-1",
        "mode": "PERMISSIVE",
        "columnNameOfCorruptRecord": CORRUPT_COLUMN,
        "multiLine": "true" if quote is not None else "false",
        "inferSchema": "false",
        "enforceSchema": "true",
        "ignoreLeadingWhiteSpace": "false",
        "ignoreTrailingWhiteSpace": "false",
    }


def writer_options():
    """Spark CSV writer options for Personalize's CSV: header, RFC 4180 quoting, empty as empty."""
    return {
        "header": "true",
        "sep": ",",
        "quote": '"',
        "escape": '"',
        "encoding": "UTF-8",
        "lineSep": "\n",
        "emptyValue": "",
        "nullValue": "",
        "quoteAll": "false",
        "ignoreLeadingWhiteSpace": "false",
        "ignoreTrailingWhiteSpace": "false",
    }
