"""AWS Glue 4.0/5.0 PySpark job: raw ratings file -> Amazon Personalize interactions CSV.

Job arguments (getResolvedOptions):
  --JOB_NAME        set by Glue
  --input_path      s3://bucket/raw/user_ratedmovies-timestamps.dat (a file or a prefix)
  --output_path     s3://bucket/interactions/ (the Personalize import prefix)
  --spec_path       s3://bucket/glue_scripts/mappings/hetrec2011-user-ratedmovies-timestamps.json
  optional: --reject_threshold 0.01, --event_value true|false, --min_rating 4,
            --users_output_path s3://bucket/batch_users_input/users.jsonl (the written rows' distinct
            users as batch inference input, one {"userId": "..."} per line)

It applies the mapping spec shared with the local engine (src/etl) with the same rules (see
glue/etl_spec.py, which holds the pure-Python half and is unit-tested without Spark): every row is
checked with Spark SQL column expressions (no Python UDFs) that mirror etl_spec.check_row and tag
rejects with the engine's reasons and line numbers; exact duplicate output rows are collapsed (first
occurrence kept, input order preserved); the run fails when rejects exceed the threshold.

Layout (the same as the local stack's):
  <output_path>interactions.csv                         the output: one CSV with a header
  <output_path without trailing slash>_etl/<run id>/report.json, rejects.csv
The output is written by Spark to a staging prefix under the _etl sibling, then copied to
<output_path>interactions.csv with one S3 CopyObject and the staging objects deleted, so the import
prefix never holds a partial or mixed dataset; a failed run leaves the previous output untouched.
"""

import json
import os
import sys
import time
from datetime import datetime, timezone

try:  # Glue ships extra .py files next to the script (--extra-py-files); tests import it by path.
    import etl_spec as es
except ImportError:  # pragma: no cover
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import etl_spec as es

OPTIONAL_ARGS = ("reject_threshold", "event_value", "min_rating", "users_output_path")
OUTPUT_NAME = "interactions.csv"


# --------------------------------------------------------------------------------------------------
# S3 helpers (boto3)


def split_s3(uri):
    if not uri.startswith("s3://"):
        raise ValueError("not an s3:// URI: %s" % uri)
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


def etl_prefix(output_path, run_id):
    """s3://b/interactions/ -> s3://b/interactions_etl/<run id>/"""
    return "%s_etl/%s/" % (output_path.rstrip("/"), run_id)


def read_s3_text(s3, uri):
    bucket, key = split_s3(uri)
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")


def put_s3_text(s3, uri, text, content_type):
    bucket, key = split_s3(uri)
    s3.put_object(Bucket=bucket, Key=key, Body=text.encode("utf-8"), ContentType=content_type)


def list_keys(s3, uri):
    bucket, prefix = split_s3(uri)
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.extend((o["Key"], o["Size"]) for o in page.get("Contents", []))
    return keys


def delete_prefix(s3, uri):
    bucket, _ = split_s3(uri)
    keys = [k for k, _ in list_keys(s3, uri)]
    for i in range(0, len(keys), 1000):
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys[i:i + 1000]], "Quiet": True})


def publish_single_csv(s3, staging_uri, target_uri, content_type="text/csv"):
    """Copies the one part file Spark wrote under staging_uri to target_uri, then deletes staging."""
    parts = [k for k, _ in list_keys(s3, staging_uri) if k.rsplit("/", 1)[-1].startswith("part-")]
    if len(parts) != 1:
        raise RuntimeError("expected one part file under %s, found %d" % (staging_uri, len(parts)))
    src_bucket, _ = split_s3(staging_uri)
    bucket, key = split_s3(target_uri)
    source = {"Bucket": src_bucket, "Key": parts[0]}
    # copy() switches to multipart copy above 5 GB; the target appears only once the copy completes.
    s3.copy(source, bucket, key, ExtraArgs={"ContentType": content_type, "MetadataDirective": "REPLACE"})
    delete_prefix(s3, staging_uri)


# --------------------------------------------------------------------------------------------------
# Arguments


def resolve_args(argv, get_resolved_options):
    args = get_resolved_options(argv, ["JOB_NAME", "input_path", "output_path", "spec_path"])
    for name in OPTIONAL_ARGS:
        flag = "--" + name
        if flag in argv or any(a.startswith(flag + "=") for a in argv):
            value = get_resolved_options(argv, [name])[name]
            if str(value).strip() != "":
                args[name] = value
    # JOB_RUN_ID is reserved: getResolvedOptions returns it when Glue passes it and refuses to be
    # asked for it, so fall back to reading argv directly.
    if not args.get("JOB_RUN_ID") and "--JOB_RUN_ID" in argv[:-1]:
        args["JOB_RUN_ID"] = argv[argv.index("--JOB_RUN_ID") + 1]
    return args


def run_id_of(args):
    rid = args.get("JOB_RUN_ID")
    return rid if rid else datetime.now(tz=timezone.utc).strftime("run-%Y%m%dT%H%M%SZ")


# --------------------------------------------------------------------------------------------------
# Spark expressions mirroring etl_spec.check_row


def build_expressions(F, spec, names, min_ts, max_ts):
    """Returns (reason, outputs): `reason` is a column expression evaluating to the engine's reject
    reason, es.FILTERED for a row a filter drops, or null for a kept row; `outputs` maps each output
    column to its value expression (valid only where reason is null). Source columns are strings
    (null = empty) named by position `c<i>`."""
    first = {}
    for i, n in enumerate(names):
        first.setdefault(n, i)

    def raw(name):
        return F.coalesce(F.col("c%d" % first[name]), F.lit(""))

    def jstr(col):  # JSON.stringify(string)
        return F.regexp_extract(F.to_json(F.array(col)), r"^\[(.*)\]$", 1)

    def number(col):  # parseNumber: double, or null when not a number
        return F.when(col.rlike(r"^[0-9]{1,15}$"), col.cast("long").cast("double")) \
            .when(col.rlike(es.NUMBER_RE), col.cast("double"))

    def js_num(v):  # String(number) for doubles (ratings): 4.0 -> "4", 3.5 -> "3.5"
        dec = F.regexp_replace(F.regexp_replace(v.cast("decimal(38,18)").cast("string"), r"(\.[0-9]*?)0+$", "$1"),
                               r"\.$", "")
        return F.when((v == F.floor(v)) & (F.abs(v) < F.lit(9.0e18)), v.cast("long").cast("string")) \
            .otherwise(F.coalesce(dec, v.cast("string")))

    cases = []  # (condition, reason) in the engine's order; the first match wins
    for f in spec["filters"]:
        r = raw(f["column"])
        label = es.filter_label(f)
        if isinstance(f["value"], str):
            keep = es.compare(r, f["op"], F.lit(f["value"]))
        else:
            v = number(r)
            cases.append((v.isNull(), F.concat(F.lit(f["column"] + " is not a number: "), jstr(r),
                                               F.lit(" (filter %s)" % label))))
            keep = es.compare(v, f["op"], F.lit(float(f["value"])))
        cases.append((~keep, F.lit(es.FILTERED)))

    unit = spec["timestamp"]["unit"]
    max_id = spec["checks"]["maxIdLength"]
    outputs = []
    for col in es.output_plan(spec):
        r = raw(col["from"])
        to, frm = col["to"], col["from"]
        if col["required"]:
            cases.append((r == "", F.lit("empty %s (column %s)" % (to, frm))))
        nonempty = r != ""
        kind = col["kind"]
        if kind == "timestamp":
            v = number(r)
            ms = F.lit(unit == "ms") | (F.lit(unit == "auto") & (v > F.lit(1e11)))
            ts = F.when(ms, F.floor(v / F.lit(1000.0))).otherwise(F.floor(v)).cast("long")
            cases.append((nonempty & v.isNull(), F.concat(F.lit(frm + " is not a number: "), jstr(r),
                                                          F.lit(" (column %s)" % frm))))
            cases.append((nonempty & (v < 0), F.concat(F.lit(frm + " is negative: "), jstr(r),
                                                       F.lit(" (column %s)" % frm))))
            tail = "; is the unit right? (timestamp.unit %s)" % unit
            cases.append((nonempty & (ts < F.lit(min_ts)), F.concat(
                F.lit(frm + " out of range: "), ts.cast("string"),
                F.lit(" s is before %s%s" % (es.format_day(min_ts), tail)))))
            cases.append((nonempty & (ts > F.lit(max_ts)), F.concat(
                F.lit(frm + " out of range: "), ts.cast("string"),
                F.lit(" s is after %s (now + %d s)%s" % (es.format_day(max_ts), spec["checks"]["maxFutureSeconds"],
                                                         tail)))))
            value = F.when(nonempty, ts.cast("string")).otherwise(F.lit(""))
        elif kind == "string":
            if col["isId"]:
                n = F.length(r)
                cases.append((n > F.lit(max_id), F.concat(F.lit(to + " is "), n.cast("string"),
                                                          F.lit(" characters long, more than %d (column %s)" % (max_id, frm)))))
            value = r
        elif kind == "long":
            t = F.regexp_replace(r, r"^\s+|\s+$", "")
            cases.append((nonempty & ~t.rlike(r"^[+-]?[0-9]+$"), F.concat(
                F.lit(to + " is not an integer: "), jstr(r), F.lit(" (column %s)" % frm))))
            value = F.when(nonempty, t).otherwise(F.lit(""))
        else:
            v = number(r)
            bad = v.isNull() | (F.abs(v) == F.lit(float("inf")))
            cases.append((nonempty & bad, F.concat(F.lit(to + " is not a number: "), jstr(r),
                                                   F.lit(" (column %s)" % frm))))
            value = F.when(nonempty, js_num(v)).otherwise(F.lit(""))
        outputs.append((to, value))

    reason = None
    for cond, text in cases:
        reason = F.when(cond, text) if reason is None else reason.when(cond, text)
    return reason, outputs



# --------------------------------------------------------------------------------------------------
# The job


def main(argv=None):
    argv = list(sys.argv if argv is None else argv)
    from awsglue.context import GlueContext
    from awsglue.job import Job
    from awsglue.utils import getResolvedOptions
    from pyspark.context import SparkContext
    from pyspark.sql import functions as F
    from pyspark.sql import types as T
    import boto3

    args = resolve_args(argv, getResolvedOptions)
    run_id = run_id_of(args)
    sc = SparkContext.getOrCreate()
    glue_context = GlueContext(sc)
    spark = glue_context.spark_session
    job = Job(glue_context)
    job.init(args["JOB_NAME"], args)
    logger = glue_context.get_logger()
    s3 = boto3.client("s3")
    started = time.time()

    input_path = args["input_path"]
    output_path = args["output_path"] if args["output_path"].endswith("/") else args["output_path"] + "/"
    etl_uri = etl_prefix(output_path, run_id)
    output_uri = output_path + OUTPUT_NAME
    report_uri = etl_uri + "report.json"
    rejects_uri = etl_uri + "rejects.csv"
    report = {"runId": run_id, "status": "RUNNING", "input": input_path, "outputUri": output_uri,
              "rejectsUri": rejects_uri, "startedAt": datetime.now(tz=timezone.utc).isoformat()}

    def finish(status, error=None):
        report["status"] = status
        report["durationSeconds"] = round(time.time() - started, 3)
        if error is not None:
            report["error"] = str(error)
        put_s3_text(s3, report_uri, json.dumps(report, indent=2) + "\n", "application/json")

    try:
        spec_label = args["spec_path"].rsplit("/", 1)[-1]
        spec = es.load_spec(read_s3_text(s3, args["spec_path"]), spec_label)
        spec = es.with_overrides(spec, event_value=args.get("event_value"), min_rating=args.get("min_rating"),
                                 reject_threshold=args.get("reject_threshold"), file_label=spec_label)
        threshold = spec["checks"]["rejectThreshold"]
        out_cols = es.output_columns(spec)
        report.update({"spec": spec["name"], "outputColumns": out_cols, "rejectThreshold": threshold})
        try:
            report["bytesRead"] = sum(size for _, size in list_keys(s3, input_path))
        except Exception:  # noqa: BLE001 - the size is informational only
            report["bytesRead"] = None
        logger.info("mlpipe ETL %s: spec %s, input %s, output %s" % (run_id, spec["name"], input_path, output_uri))

        # Column names: the header (validated like the engine's header()) or source.columns.
        opts = es.reader_options(spec, header=False)
        if spec["source"]["header"]:
            probe = spark.read.options(**dict(opts, mode="PERMISSIVE")).csv(input_path).limit(1).collect()
            if not probe:
                raise es.EtlError("structure", es.empty_input_message(spec, 0))
            names = es.check_header([v if v is not None else "" for v in probe[0]], spec, 1)
            first_line = 2
        else:
            names = list(spec["source"]["columns"])
            first_line = 1
        expected = len(names)

        schema = T.StructType([T.StructField("c%d" % i, T.StringType(), True) for i in range(expected)]
                              + [T.StructField(es.CORRUPT_COLUMN, T.StringType(), True)])
        spark.conf.set("spark.sql.csv.parser.columnPruning.enabled", "false")
        read_opts = es.reader_options(spec)
        raw_df = spark.read.options(**read_opts).schema(schema).csv(input_path)

        # Physical record numbers without a Python pass: ids within each partition are consecutive.
        tagged = raw_df.withColumn("_rid", F.monotonically_increasing_id()) \
            .withColumn("_pid", F.spark_partition_id()).cache()
        parts = tagged.groupBy("_pid").agg(F.count(F.lit(1)).alias("n"), F.min("_rid").alias("r0")) \
            .orderBy("_pid").collect()
        rows_read = sum(p["n"] for p in parts)
        if rows_read == 0:
            raise es.EtlError("structure", es.HEADER_ONLY_MESSAGE if spec["source"]["header"]
                              else es.empty_input_message(spec, expected))
        offsets, acc = [], 0
        for p in parts:
            offsets.append((p["_pid"], acc, p["r0"]))
            acc += p["n"]
        off_df = spark.createDataFrame(offsets, "_pid int, _off long, _r0 long")
        df = tagged.join(F.broadcast(off_df), "_pid") \
            .withColumn("_line", F.col("_rid") - F.col("_r0") + F.col("_off") + F.lit(first_line))

        min_ts, max_ts = es.plausible_range(spec)
        reason, outputs = build_expressions(F, spec, names, min_ts, max_ts)
        corrupt = F.col(es.CORRUPT_COLUMN)
        sep = spec["source"]["separator"]
        found = F.size(F.split(corrupt, _java_regex_quote(sep), -1))
        ragged = F.concat(F.lit("expected %d columns, found " % expected), found.cast("string"))
        checks = F.when(corrupt.isNotNull(), ragged)
        if spec["source"]["encoding"] == "utf-8":
            bad_utf8 = None
            for i in range(expected):
                c = F.coalesce(F.col("c%d" % i), F.lit("")).contains("\ufffd")
                bad_utf8 = c if bad_utf8 is None else (bad_utf8 | c)
            checks = F.when(bad_utf8 | F.coalesce(corrupt, F.lit("")).contains("\ufffd"),
                            F.lit("invalid UTF-8 byte sequence (the spec says source.encoding utf-8)")) \
                .when(corrupt.isNotNull(), ragged)
        raw_line = F.coalesce(corrupt, F.concat_ws(sep, *[F.coalesce(F.col("c%d" % i), F.lit(""))
                                                            for i in range(expected)]))
        df = df.withColumn("_reason", F.coalesce(checks, reason)).withColumn("_raw", raw_line)
        df = df.select("_line", "_reason", "_raw", *[v.alias(n) for n, v in outputs]).cache()

        # Wrong separator: the first data row has one field where more were expected.
        first = df.orderBy("_line").select("_raw", "_line").limit(1).collect()
        if first and expected > 1:
            msg = es.separator_check(first[0]["_raw"].split(sep), first[0]["_line"], expected, sep)
            if msg:
                raise es.EtlError("structure", msg)

        rejects = df.where(F.col("_reason").isNotNull() & (F.col("_reason") != F.lit(es.FILTERED)))
        rows_rejected = rejects.count()
        rows_filtered = df.where(F.col("_reason") == F.lit(es.FILTERED)).count()
        first_rejects = [{"line": int(r["_line"]), "reason": r["_reason"]}
                         for r in rejects.orderBy("_line").limit(es.MAX_SAMPLES).collect()]

        good = df.where(F.col("_reason").isNull())
        rows_good = good.count()
        # Exact duplicates collapse to their first occurrence (dropDuplicates keeping the earliest line).
        deduped = good.groupBy(*out_cols).agg(F.min("_line").alias("_line")).cache()
        rows_written = deduped.count()
        stats = deduped.agg(F.countDistinct("USER_ID").alias("u"), F.countDistinct("ITEM_ID").alias("i"),
                            F.min(F.col("TIMESTAMP").cast("long")).alias("lo"),
                            F.max(F.col("TIMESTAMP").cast("long")).alias("hi")).collect()[0]
        users_with_2 = deduped.groupBy("USER_ID").count().where(F.col("count") >= 2).count()
        meets, note = es.training_minimums(rows_written, users_with_2)
        report.update({
            "rowsRead": rows_read, "rowsWritten": rows_written, "rowsRejected": rows_rejected,
            "rowsFiltered": rows_filtered, "duplicatesCollapsed": rows_good - rows_written, "blankLines": None,
            "distinctUsers": stats["u"], "distinctItems": stats["i"],
            "usersWithAtLeast2Interactions": users_with_2, "minTimestamp": stats["lo"], "maxTimestamp": stats["hi"],
            "firstRejects": first_rejects, "meetsTrainingMinimums": meets, "trainingMinimumsNote": note,
        })

        # Rejects first (complete even when the run fails on the threshold), as line,reason,raw.
        staging = etl_uri + "_staging/"
        if rows_rejected > 0:
            rejects.orderBy("_line").select(F.col("_line").cast("string").alias("line"),
                                            F.col("_reason").alias("reason"), F.col("_raw").alias("raw")) \
                .coalesce(1).write.mode("overwrite").options(**es.writer_options()) \
                .csv(_spark_uri(staging + "rejects/"))
            publish_single_csv(s3, staging + "rejects/", rejects_uri)
        else:
            put_s3_text(s3, rejects_uri, "line,reason,raw\n", "text/csv")

        failure = es.threshold_message(rows_rejected, rows_read, threshold, first_rejects)
        if failure:
            raise es.EtlError("threshold", failure, first_rejects)

        if rows_written == 0:  # Spark writes no header for an empty DataFrame
            put_s3_text(s3, output_uri, ",".join(out_cols) + "\n", "text/csv")
        else:
            deduped.orderBy("_line").select(*out_cols).coalesce(1).write.mode("overwrite") \
                .options(**es.writer_options()).csv(_spark_uri(staging + "output/"))
            publish_single_csv(s3, staging + "output/", output_uri)
        users_uri = args.get("users_output_path")
        if users_uri:
            if users_uri.endswith("/"):
                raise ValueError("--users_output_path %s names a folder; give the file to write" % users_uri)
            # Batch inference input: one {"userId": "..."} JSON line per distinct user written.
            if rows_written == 0:
                put_s3_text(s3, users_uri, "", "application/x-ndjson")
            else:
                deduped.select(F.col("USER_ID").alias("userId")).distinct().coalesce(1).write \
                    .mode("overwrite").json(_spark_uri(staging + "users/"))
                publish_single_csv(s3, staging + "users/", users_uri, "application/x-ndjson")
            report["usersUri"] = users_uri
        finish("SUCCEEDED")
        logger.info("mlpipe ETL %s: %d rows read, %d written, %d rejected -> %s"
                    % (run_id, rows_read, rows_written, rows_rejected, output_uri))
    except Exception as error:
        try:
            finish("FAILED", error)
            delete_prefix(s3, etl_uri + "_staging/")
        except Exception:  # noqa: BLE001 - keep the original error
            pass
        raise
    job.commit()


def _spark_uri(uri):
    """Glue reads and writes s3:// through EMRFS; keep the scheme as given."""
    return uri


def _java_regex_quote(text):
    return "\\Q%s\\E" % text


if __name__ == "__main__":
    main()
