#!/usr/bin/env bash
# The original's consumer (pyspark 3.5 Structured Streaming, local[2]: Kafka source, 5-minute tumbling
# windows with a 5-minute watermark, foreachBatch writing each micro-batch as gzip CSV through pandas,
# trigger availableNow) against `mtastream consume -e --lake-dir` on the same topic of a real Kafka
# broker: wall time and messages/s for both, and the ratio. A benchmark, not a test: run it by hand.
# The topic holds MESSAGES events of the city generator in the original's wire form (json-string values
# keyed by ID), produced with `mtastream produce`.
# usage: bench/spark.sh [MTASTREAM_BINARY]
# env: MESSAGES (default 1000000), BOOTSTRAP (use this broker instead of starting scripts/kafka-local.sh),
#      MTASTREAM_CACHE (default ~/.cache/mtastream: the pyspark venv and the connector jars are kept there)
# Needs: python3 with venv, java 17, network access to PyPI and Maven Central on the first run.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
mtastream=${1:-$here/build/mtastream}
messages=${MESSAGES:-1000000}
[ -x "$mtastream" ] || { echo "no binary at $mtastream (make build)" >&2; exit 2; }
command -v java >/dev/null || { echo "java is needed (pyspark runs in a JVM)" >&2; exit 2; }

spark_version=3.5.3 scala=2.12
cache=${MTASTREAM_CACHE:-$HOME/.cache/mtastream}
venv=$cache/spark-bench-$spark_version
jars=$cache/spark-jars-$spark_version
# pyspark and pandas (foreachBatch's toPandas + to_csv) in a venv kept across runs.
if [ ! -f "$venv/complete" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "pyspark==$spark_version" "pandas>=2,<3" "pyarrow>=12" >&2
  touch "$venv/complete"
fi
# The Kafka connector and what it needs at run time, from Maven Central.
maven=https://repo1.maven.org/maven2
mkdir -p "$jars"
for jar in "org/apache/spark/spark-sql-kafka-0-10_$scala/$spark_version/spark-sql-kafka-0-10_$scala-$spark_version.jar" \
  "org/apache/spark/spark-token-provider-kafka-0-10_$scala/$spark_version/spark-token-provider-kafka-0-10_$scala-$spark_version.jar" \
  "org/apache/kafka/kafka-clients/3.4.1/kafka-clients-3.4.1.jar" \
  "org/apache/commons/commons-pool2/2.11.1/commons-pool2-2.11.1.jar"; do
  name=${jar##*/}
  if [ ! -s "$jars/$name" ]; then
    curl -fsSL --retry 3 -o "$jars/$name.part" "$maven/$jar" || { echo "could not fetch $maven/$jar" >&2; exit 1; }
    mv -f "$jars/$name.part" "$jars/$name"
  fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/mtastream-spark.XXXXXX")
started_broker=""
cleanup() {
  [ -n "$started_broker" ] && "$here/scripts/kafka-local.sh" stop --dir "$work/kafka" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
if [ -z "${BOOTSTRAP:-}" ]; then
  "$here/scripts/kafka-local.sh" start --dir "$work/kafka" --env-file "$work/kafka.env"
  started_broker=1
  # shellcheck disable=SC1091
  source "$work/kafka.env"
fi

topic=bench-spark-$$
"$mtastream" -b "$BOOTSTRAP" -q topic create "$topic" -p 2
"$mtastream" -b "$BOOTSTRAP" -q produce -t "$topic" --generate city --rate 0 --count "$messages" \
  --start-time "2023-09-23 00:00:00" --step 5m --seed 1 --value-format json-string --key id
echo "topic: $messages messages (json-string values keyed by ID, as the original producer sends), 2 partitions; broker $BOOTSTRAP"

# The original consumer's job, as ORIGINAL.md records it.
cat >"$work/spark_consumer.py" <<'PY'
import os, sys, time
from pyspark.sql import SparkSession
from pyspark.sql.functions import col, split, regexp_replace, to_timestamp, window, sum as sum_, date_format

bootstrap, topic, out_dir, checkpoint = sys.argv[1:5]
spark = (SparkSession.builder.master("local[2]").appName("mta-turnstile-consumer")
         .config("spark.jars", os.environ["SPARK_JARS"])
         .config("spark.sql.shuffle.partitions", "2")
         .config("spark.ui.enabled", "false").getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
raw = (spark.readStream.format("kafka").option("kafka.bootstrap.servers", bootstrap)
       .option("subscribe", topic).option("startingOffsets", "earliest").load())
f = split(col("value").cast("string"), ",")
events = raw.select(
    regexp_replace(f.getItem(0), '"', "").alias("CA"), f.getItem(1).alias("UNIT"), f.getItem(2).alias("SCP"),
    f.getItem(3).alias("STATION"), f.getItem(4).alias("LINENAME"), f.getItem(5).alias("DIVISION"),
    f.getItem(6).alias("DATE"), f.getItem(8).alias("DESC"), f.getItem(9).cast("int").alias("ENTRIES"),
    f.getItem(10).cast("int").alias("EXITS"),
    to_timestamp(regexp_replace(f.getItem(12), '"', "")).alias("TIMESTAMP"))
windows = (events.withWatermark("TIMESTAMP", "5 minutes")
           .groupBy(window("TIMESTAMP", "5 minutes", "5 minutes"), "CA", "UNIT", "SCP", "STATION", "LINENAME",
                    "DIVISION", "DATE", "DESC")
           .agg(sum_("ENTRIES").alias("ENTRIES"), sum_("EXITS").alias("EXITS")))
rows = [0]

def write_batch(batch, batch_id):
    pdf = (batch.withColumn("TIME", date_format(col("window.end"), "HH:mm:ss"))
           .select("CA", "UNIT", "SCP", "STATION", "LINENAME", "DIVISION", "DATE", "TIME", "DESC", "ENTRIES", "EXITS")
           .toPandas())
    if len(pdf):
        pdf["DATE"] = pdf["DATE"].str.replace(r"^(\d\d)-(\d\d)-(\d\d)$", r"\1/\2/20\3", regex=True)
        name = "batch_%d_%s.csv.gz" % (batch_id, time.strftime("%Y%m%d_%H%M%S"))
        pdf.to_csv(os.path.join(out_dir, name), compression="gzip")
        rows[0] += len(pdf)

query = (windows.writeStream.outputMode("append").foreachBatch(write_batch)
         .option("checkpointLocation", checkpoint).trigger(availableNow=True).start())
query.awaitTermination()
print("spark rows", rows[0], "files", len(os.listdir(out_dir)))
PY

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.3f", b - a}'; }
mkdir -p "$work/spark-out"
start=$(now)
SPARK_JARS=$(ls "$jars"/*.jar | paste -sd, -) "$venv/bin/python" "$work/spark_consumer.py" "$BOOTSTRAP" "$topic" \
  "$work/spark-out" "$work/spark-checkpoint" 2>"$work/spark.err" | tail -1 || { tail -30 "$work/spark.err" >&2; exit 1; }
spark_seconds=$(elapsed "$start")
[ "$(ls "$work/spark-out" | wc -l)" -gt 0 ] || { echo "spark wrote no files" >&2; tail -30 "$work/spark.err" >&2; exit 1; }

start=$(now)
"$mtastream" -b "$BOOTSTRAP" -q consume -t "$topic" -G "bench-spark-$$" -e --lake-dir "$work/lake" --json >"$work/summary.json"
mta_seconds=$(elapsed "$start")
grep -q "\"read\":$messages," "$work/summary.json" || { echo "mtastream read a wrong count: $(cat "$work/summary.json")" >&2; exit 1; }
echo "mtastream rows $(sed -n 's/.*"rows":\([0-9]*\).*/\1/p' "$work/summary.json") files $(ls "$work/lake" | wc -l)"

awk -v n="$messages" -v s="$spark_seconds" -v m="$mta_seconds" 'BEGIN {
  printf "spark (pyspark %s, local[2], availableNow): %.2f s, %d msg/s\n", "'"$spark_version"'", s, n / s
  printf "mtastream consume -e --lake-dir:           %.2f s, %d msg/s\n", m, n / m
  printf "ratio: mtastream %.1fx faster than the Spark consumer (wall time; target >= 50x)\n", s / m
}'
"$mtastream" -b "$BOOTSTRAP" -q topic delete "$topic" >/dev/null 2>&1 || true
