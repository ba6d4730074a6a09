"""Unit tests of glue/etl_spec.py (the Glue job's pure-Python spec handling). No Spark needed.

Run from the repository root: python3 -m unittest discover -s glue/tests -v
The expected messages and reasons are the local engine's (src/etl/spec.ts, src/etl/engine.ts and
test/unit/etl.test.ts), so the Glue job and the local stack report the same things.
"""

import copy
import json
import os
import sys
import unittest

GLUE = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, GLUE)

import etl_spec as es  # noqa: E402

MAPPINGS = os.path.join(GLUE, "mappings")
NOW = 1735689600  # 2025-01-01T00:00:00Z


def raw_spec(name):
    with open(os.path.join(MAPPINGS, name + ".json"), encoding="utf-8") as f:
        return json.load(f)


def spec(name):
    return es.load_spec(raw_spec(name), name + ".json")


HETREC = spec("hetrec2011-user-ratedmovies-timestamps")
ML_SMALL = spec("ml-latest-small-ratings")
ML_100K = spec("ml-100k-u-data")


class LoadSpecTest(unittest.TestCase):
    def test_every_shipped_spec_loads(self):
        files = sorted(f for f in os.listdir(MAPPINGS) if f.endswith(".json") and f != "mapping-spec.schema.json")
        self.assertGreaterEqual(len(files), 3)
        for f in files:
            with open(os.path.join(MAPPINGS, f), encoding="utf-8") as fh:
                text = fh.read()
            s = es.load_spec(text, f)
            self.assertEqual(s["name"], f[:-len(".json")])
            self.assertEqual(es.output_columns(s), ["USER_ID", "ITEM_ID", "TIMESTAMP"])
            # The JSON form round-trips through the loader.
            self.assertEqual(es.load_spec(es.spec_to_json(s), f), s)

    def test_defaults_and_normalisation(self):
        self.assertEqual(HETREC["timestamp"], {"column": "timestamp", "unit": "ms"})
        self.assertEqual(HETREC["checks"]["minTimestamp"], 631152000)
        self.assertEqual(HETREC["source"]["quote"], None)
        self.assertEqual(ML_SMALL["source"]["quote"], '"')
        self.assertEqual(HETREC["eventValue"], {"from": "rating", "enabled": False})

    def bad(self, patch, message, base="ml-100k-u-data"):
        j = copy.deepcopy(raw_spec(base))
        patch(j)
        with self.assertRaises(es.SpecError) as ctx:
            es.load_spec(j, "x.json")
        self.assertEqual(str(ctx.exception), message)
        self.assertEqual(ctx.exception.kind, "spec")

    def test_field_errors_match_the_ts_loader(self):
        self.bad(lambda j: j["source"].__setitem__("separator", ""),
                 "x.json: source.separator: must have at least 1 character(s)")
        self.bad(lambda j: j["timestamp"].__setitem__("unit", "us"),
                 'x.json: timestamp.unit: must be one of "ms", "s", "auto", got "us"')
        self.bad(lambda j: j["mappings"][1].__setitem__("to", "item_id"),
                 'x.json: mappings[1].to: must be an upper-case column name like USER_ID, got "item_id"')
        self.bad(lambda j: j["mappings"].pop(), "x.json: mappings: must have at least 3 item(s)")
        self.bad(lambda j: j["mappings"][0].__setitem__("from", "who"),
                 'x.json: mappings[0].from: column "who" is not in source.columns (user, item, rating, timestamp)')
        self.bad(lambda j: j.__setitem__("filters", [{"column": "rating", "op": ">=", "value": "4"}]),
                 "x.json: filters[0].value: must be a number for >=")
        self.bad(lambda j: j.__setitem__("extra", 1),
                 'x.json: (top level): unknown key "extra" (allowed: $schema, specVersion, name, description, '
                 "source, mappings, drop, timestamp, filters, eventValue, output, checks)")
        with self.assertRaises(es.SpecError) as ctx:
            es.load_spec("{", "y.json")
        self.assertTrue(str(ctx.exception).startswith("y.json: not valid JSON"))

    def test_cross_field_rules(self):
        def twice(j):
            j["mappings"][1]["to"] = "USER_ID"
        self.bad(twice, "x.json: mappings[1].to: USER_ID is mapped twice")

        def no_item(j):
            j["mappings"][1]["to"] = "EVENT_TYPE"
            j["output"]["columns"] = ["USER_ID", "EVENT_TYPE", "TIMESTAMP"]
        self.bad(no_item, "x.json: mappings: no mapping to ITEM_ID (USER_ID, ITEM_ID and TIMESTAMP are required)")
        self.bad(lambda j: j["mappings"][0].__setitem__("required", False),
                 "x.json: mappings[0].required: USER_ID must be required")
        self.bad(lambda j: j["mappings"][2].__setitem__("type", "string"),
                 "x.json: mappings[2].type: TIMESTAMP must be of type long")
        self.bad(lambda j: j["timestamp"].__setitem__("column", "rating"),
                 'x.json: timestamp.column: must be the column mapped to TIMESTAMP ("timestamp")')
        self.bad(lambda j: j["drop"].__setitem__(0, "score"),
                 'x.json: drop[0]: column "score" is not in source.columns (user, item, rating, timestamp)')
        self.bad(lambda j: j["eventValue"].__setitem__("from", "score"),
                 'x.json: eventValue.from: column "score" is not in source.columns (user, item, rating, timestamp)')
        self.bad(lambda j: j["output"].__setitem__("columns", ["USER_ID", "ITEM_ID", "TIMESTAMP", "EVENT_TYPE"]),
                 "x.json: output.columns[3]: EVENT_TYPE is not the target of any mapping")

        def extra_target(j):
            j["mappings"].append({"from": "rating", "to": "EVENT_TYPE", "type": "string"})
        self.bad(extra_target, "x.json: output.columns: missing EVENT_TYPE (a mapping target)")
        self.bad(lambda j: j["mappings"][0].__setitem__("to", "EVENT_VALUE"),
                 "x.json: mappings[0].to: use the eventValue section for EVENT_VALUE")
        self.bad(lambda j: j["source"].__setitem__("columns", None),
                 "x.json: source.columns: is required when source.header is false")
        self.bad(lambda j: j["checks"].__setitem__("minTimestamp", "1990-13-01"),
                 'x.json: checks.minTimestamp: must be an ISO date like 1990-01-01, got "1990-13-01"')
        self.bad(lambda j: j["checks"].__setitem__("rejectThreshold", 2),
                 "x.json: checks.rejectThreshold: must be between 0 and 1, got 2")
        self.bad(lambda j: j["output"].__setitem__("header", False),
                 "x.json: output.header: must be true (Personalize needs a header)")

    def test_columns_optional_with_a_header(self):
        j = raw_spec("ml-latest-small-ratings")
        j["source"]["columns"] = None
        j["mappings"][0]["from"] = "anything"  # not checked: the header decides
        s = es.load_spec(j, "x.json")
        self.assertIsNone(s["source"]["columns"])


class OverridesTest(unittest.TestCase):
    def test_event_value_adds_the_column(self):
        s = es.with_overrides(HETREC, event_value="true")
        self.assertEqual(es.output_columns(s), ["USER_ID", "ITEM_ID", "TIMESTAMP", "EVENT_VALUE"])
        self.assertEqual(es.spark_output_columns(s), ["USER_ID", "ITEM_ID", "TIMESTAMP", "EVENT_VALUE"])
        row, reason = es.check_row(["75", "3", "4.5", "1162160236000"], s, now=NOW)
        self.assertEqual((row, reason), (["75", "3", "1162160236", "4.5"], None))
        row, _ = es.check_row(["75", "3", "4.0", "1162160236000"], s, now=NOW)
        self.assertEqual(row[3], "4")
        self.assertEqual(es.check_row(["75", "3", "x", "1162160236000"], s, now=NOW),
                         (None, 'EVENT_VALUE is not a number: "x" (column rating)'))
        self.assertEqual(es.output_columns(es.with_overrides(s, event_value=False)),
                         ["USER_ID", "ITEM_ID", "TIMESTAMP"])
        self.assertEqual(HETREC["eventValue"]["enabled"], False)  # the original is untouched

    def test_min_rating_filters(self):
        s = es.with_overrides(HETREC, min_rating="4")
        self.assertEqual(s["filters"], [{"column": "rating", "op": ">=", "value": 4}])
        self.assertEqual(es.output_columns(s), ["USER_ID", "ITEM_ID", "TIMESTAMP"])
        self.assertEqual(es.check_row(["75", "3", "3.5", "1162160236000"], s, now=NOW), (None, None))
        self.assertEqual(es.check_row(["75", "3", "4", "1162160236000"], s, now=NOW),
                         (["75", "3", "1162160236"], None))
        self.assertEqual(es.check_row(["75", "3", "n/a", "1162160236000"], s, now=NOW),
                         (None, 'rating is not a number: "n/a" (filter rating >= 4)'))
        # The filter runs before the column checks, like the engine.
        self.assertEqual(es.check_row(["", "3", "1", "1162160236000"], s, now=NOW), (None, None))

    def test_reject_threshold_and_bad_values(self):
        self.assertEqual(es.with_overrides(HETREC, reject_threshold="0.05")["checks"]["rejectThreshold"], 0.05)
        with self.assertRaises(es.SpecError) as ctx:
            es.with_overrides(HETREC, reject_threshold="2")
        self.assertEqual(str(ctx.exception),
                         "hetrec2011-user-ratedmovies-timestamps: checks.rejectThreshold: must be between 0 and 1, got 2")
        with self.assertRaises(es.SpecError) as ctx:
            es.with_overrides(HETREC, event_value="maybe")
        self.assertEqual(str(ctx.exception), '--event_value: must be true or false, got "maybe"')
        with self.assertRaises(es.SpecError) as ctx:
            es.with_overrides(HETREC, min_rating="four")
        self.assertEqual(str(ctx.exception), '--min_rating: must be a number, got "four"')
        no_ev = es.spec_to_json(HETREC)
        no_ev["eventValue"] = None
        with self.assertRaises(es.SpecError) as ctx:
            es.with_overrides(es.load_spec(no_ev, "n.json"), event_value=True, file_label="n.json")
        self.assertEqual(str(ctx.exception), "n.json: eventValue: the spec names no column to keep as EVENT_VALUE")

    def test_no_overrides_is_identity(self):
        self.assertEqual(es.with_overrides(HETREC), HETREC)


class ConvertTimestampTest(unittest.TestCase):
    def conv(self, value, unit):
        return es.convert_timestamp(value, unit, "timestamp", now=NOW)

    def test_units(self):
        self.assertEqual(self.conv("1162160236000", "ms"), 1162160236)
        self.assertEqual(self.conv("1162160236999", "ms"), 1162160236)
        self.assertEqual(self.conv("964982703", "s"), 964982703)
        self.assertEqual(self.conv("881250949", "auto"), 881250949)
        self.assertEqual(self.conv("881250949000", "auto"), 881250949)
        self.assertEqual(self.conv("964982703.7", "s"), 964982703)
        self.assertEqual(self.conv(" 964982703 ", "s"), 964982703)
        self.assertEqual(self.conv("9.64982703e8", "s"), 964982703)

    def test_rejects(self):
        self.assertEqual(self.conv("abc", "ms"), 'timestamp is not a number: "abc" (column timestamp)')
        self.assertEqual(self.conv("0x10", "s"), 'timestamp is not a number: "0x10" (column timestamp)')
        self.assertEqual(self.conv("", "s"), 'timestamp is not a number: "" (column timestamp)')
        self.assertEqual(self.conv("-5", "ms"), 'timestamp is negative: "-5" (column timestamp)')
        self.assertIsInstance(self.conv("-5", "ms"), es.Reject)
        self.assertEqual(self.conv("12000", "ms"),
                         "timestamp out of range: 12 s is before 1990-01-01; is the unit right? (timestamp.unit ms)")
        # Milliseconds declared as seconds land in the far future.
        self.assertEqual(self.conv("1162160236000", "s"),
                         "timestamp out of range: 1162160236000 s is after 2025-01-02 (now + 86400 s); "
                         "is the unit right? (timestamp.unit s)")
        self.assertEqual(self.conv("1900000000", "auto"),
                         "timestamp out of range: 1900000000 s is after 2025-01-02 (now + 86400 s); "
                         "is the unit right? (timestamp.unit auto)")


class CheckRowTest(unittest.TestCase):
    def check(self, fields, s=HETREC):
        return es.check_row(fields, s, now=NOW)

    def test_good_rows(self):
        self.assertEqual(self.check(["75", "3", "1", "1162160236000"]), (["75", "3", "1162160236"], None))
        self.assertEqual(self.check(["196", "242", "3", "881250949"], ML_100K), (["196", "242", "881250949"], None))
        # With a header the columns bind by name, in any order.
        names = ["timestamp", "rating", "movieId", "userId"]
        self.assertEqual(es.check_row(["964982703", "4.0", "1", "1"], ML_SMALL, names=names, now=NOW),
                         (["1", "1", "964982703"], None))

    def test_reject_reasons(self):
        self.assertEqual(self.check(["75", "3", "1", "abc"]),
                         (None, 'timestamp is not a number: "abc" (column timestamp)'))
        self.assertEqual(self.check(["75", "4", "1", "-5"]), (None, 'timestamp is negative: "-5" (column timestamp)'))
        self.assertEqual(self.check(["", "5", "1", "1162160236000"]), (None, "empty USER_ID (column userID)"))
        self.assertEqual(self.check(["75", "", "1", "1162160236000"]), (None, "empty ITEM_ID (column movieID)"))
        self.assertEqual(self.check(["75", "6", "1"]), (None, "expected 4 columns, found 3"))
        self.assertEqual(self.check(["75", "9", "1", "1162160236000", "extra"]), (None, "expected 4 columns, found 5"))
        self.assertEqual(self.check(["u" * 300, "7", "1", "1162160236000"]),
                         (None, "USER_ID is 300 characters long, more than 256 (column userID)"))
        self.assertEqual(self.check(["75", "i" * 257, "1", "1162160236000"]),
                         (None, "ITEM_ID is 257 characters long, more than 256 (column movieID)"))
        self.assertEqual(self.check(["u" * 256, "7", "1", "1162160236000"])[1], None)
        self.assertEqual(self.check(["75", "8", "1", "12000"]),
                         (None, "timestamp out of range: 12 s is before 1990-01-01; is the unit right? "
                                "(timestamp.unit ms)"))

    def test_first_failing_column_wins_in_output_order(self):
        self.assertEqual(self.check(["", "", "1", "abc"]), (None, "empty USER_ID (column userID)"))
        self.assertEqual(self.check(["75", "", "1", "abc"]), (None, "empty ITEM_ID (column movieID)"))

    def test_string_and_number_filters(self):
        j = es.spec_to_json(ML_100K)
        j["filters"] = [{"column": "item", "op": "!=", "value": "242"}, {"column": "rating", "op": ">", "value": 2}]
        s = es.load_spec(j, "f.json")
        self.assertEqual(es.check_row(["196", "242", "3", "881250949"], s, now=NOW), (None, None))
        self.assertEqual(es.check_row(["196", "243", "2", "881250949"], s, now=NOW), (None, None))
        self.assertEqual(es.check_row(["196", "243", "3", "881250949"], s, now=NOW), (["196", "243", "881250949"], None))


class StructureTest(unittest.TestCase):
    def test_header_checks(self):
        self.assertEqual(es.check_header(["\ufeffuserID", "movieID", "rating", "timestamp"], HETREC),
                         ["userID", "movieID", "rating", "timestamp"])
        with self.assertRaises(es.EtlError) as ctx:
            es.check_header(["userID", "movieID", "rating"], HETREC)
        self.assertEqual(str(ctx.exception), "header is missing column timestamp (found: userID, movieID, rating)")
        with self.assertRaises(es.EtlError) as ctx:
            es.check_header(["75", "3", "1", "1162160236000"], HETREC)
        self.assertEqual(str(ctx.exception),
                         "line 1 is not a header (found: 75, 3, 1, 1162160236000): the spec expects a header line "
                         "with columns userID, movieID, timestamp; for a file without one set source.header to "
                         "false and list source.columns")
        with self.assertRaises(es.EtlError) as ctx:
            es.check_header(["userID,movieID,rating,timestamp"], HETREC)
        self.assertEqual(ctx.exception.kind, "structure")
        self.assertEqual(str(ctx.exception),
                         "line 1 has 1 column, expected 4: is the separator right? The spec expects TAB "
                         "(the line contains comma (,))")

    def test_empty_and_threshold_messages(self):
        self.assertEqual(es.empty_input_message(ML_100K, 4), "the input is empty: expected data rows with 4 columns")
        self.assertEqual(es.empty_input_message(HETREC, 4),
                         "the input is empty: expected a header line with columns userID, movieID, timestamp "
                         "and data rows")
        self.assertIsNone(es.threshold_message(1, 200, 0.01, []))
        self.assertEqual(
            es.threshold_message(1, 51, 0.01, [{"line": 2, "reason": 'timestamp is not a number: "abc" (column timestamp)'}]),
            '1 of 51 rows rejected (1.96%), more than the reject threshold of 1%; first rejects: '
            'line 2: timestamp is not a number: "abc" (column timestamp)')

    def test_training_minimums(self):
        self.assertEqual(es.training_minimums(1200, 30), (True, ""))
        self.assertEqual(es.training_minimums(40, 0), (
            False, "40 interactions, Personalize needs at least 1000; 0 users with at least 2 interactions, "
                   "Personalize needs at least 25"))


class ReaderOptionsTest(unittest.TestCase):
    def test_tab_without_quotes(self):
        o = es.reader_options(HETREC)
        self.assertEqual(o["sep"], "\t")
        self.assertEqual(o["header"], "true")
        self.assertEqual(o["quote"], "")  # Spark: an empty quote turns quoting off
        self.assertEqual(o["encoding"], "ISO-8859-1")
        self.assertEqual(o["mode"], "PERMISSIVE")
        self.assertEqual(o["columnNameOfCorruptRecord"], es.CORRUPT_COLUMN)
        self.assertEqual(o["multiLine"], "false")
        self.assertEqual(o["inferSchema"], "false")

    def test_comma_with_quotes(self):
        o = es.reader_options(ML_SMALL)
        self.assertEqual((o["sep"], o["quote"], o["escape"]), (",", '"', '"'))  # RFC 4180: "" inside quotes
        self.assertEqual(o["encoding"], "UTF-8")
        self.assertEqual(o["multiLine"], "true")  # quoted fields may hold newlines

    def test_no_header(self):
        o = es.reader_options(ML_100K)
        self.assertEqual(o["header"], "false")
        self.assertEqual(es.reader_options(HETREC, header=False)["header"], "false")

    def test_writer_options(self):
        o = es.writer_options()
        self.assertEqual((o["header"], o["sep"], o["quote"], o["escape"], o["emptyValue"]), ("true", ",", '"', '"', ""))


class JsFormattingTest(unittest.TestCase):
    def test_js_number(self):
        cases = {4: "4", 4.0: "4", 3.5: "3.5", 0.1: "0.1", 1e-5: "0.00001", 1e-7: "1e-7", 1e21: "1e+21", -0.5: "-0.5"}
        for value, text in cases.items():
            self.assertEqual(es.js_number(value), text)


class GlueJobModuleTest(unittest.TestCase):
    """The job script imports without Spark/awsglue and its pure helpers behave."""

    def test_import_and_helpers(self):
        import importlib.util
        spec_ = importlib.util.spec_from_file_location("interactions_etl", os.path.join(GLUE, "interactions_etl.py"))
        mod = importlib.util.module_from_spec(spec_)
        spec_.loader.exec_module(mod)
        self.assertEqual(mod.etl_prefix("s3://b/interactions/", "jr_1"), "s3://b/interactions_etl/jr_1/")
        self.assertEqual(mod.split_s3("s3://b/k/x.csv"), ("b", "k/x.csv"))

        def fake_resolved(argv, names):  # like awsglue's: JOB_RUN_ID is reserved and never asked for
            self.assertNotIn("JOB_RUN_ID", names)
            out = {}
            for n in names:
                out[n] = argv[argv.index("--" + n) + 1]
            return out
        argv = ["job.py", "--JOB_NAME", "j", "--input_path", "s3://b/raw/x", "--output_path", "s3://b/out/",
                "--spec_path", "s3://b/s.json", "--min_rating", "4", "--JOB_RUN_ID", "jr_9"]
        args = mod.resolve_args(argv, fake_resolved)
        self.assertEqual(args["min_rating"], "4")
        self.assertNotIn("event_value", args)
        self.assertEqual(mod.run_id_of(args), "jr_9")
        self.assertTrue(mod.run_id_of({}).startswith("run-"))


if __name__ == "__main__":
    unittest.main()
