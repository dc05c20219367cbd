#!/usr/bin/env bash
# mtastream status against a real Apache Kafka broker, after a real consume -e run: per partition the
# committed offset (as the consume summary says), the end offset, the lags and the stored checkpoint (read
# to end, N messages held in open windows); --json; --max-lag exits 3 once more data arrives; read-only.
# needs: kafka
source "$(dirname "$0")/lib.sh"
need kafka
status() { "$MTASTREAM" -b "$BOOTSTRAP" status "$@"; }
# jq-less: py EXPRESSION over the JSON object in $T/out (as `d`).
py() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($1)" "$T/out"; }

topic=status-$$-$RANDOM
group=status-$topic
mkdir "$T/data"
model generate "$T/data" 9000 3 29
load_topic "$topic" 3 "$T/data"

expect_exit 3 "consume -e (exit 3: rejected messages)" -- \
  "$MTASTREAM" -b "$BOOTSTRAP" consume -t "$topic" -G "$group" --lake-dir "$T/lake" -e --json
cp "$T/out" "$T/summary.json"

expect_exit 0 "status: exit 0" -- status -t "$topic" -G "$group"
cp "$T/out" "$T/table.txt"
expect_contains "$T/table.txt" "PARTITION" "status: a table with a header"
expect_eq "$(grep -c 'read to end, .* messages held in open windows' "$T/table.txt")" "3" \
  "status: every partition read to its end, its open windows' messages held"

expect_exit 0 "status --json: exit 0" -- status -t "$topic" -G "$group" --json
cp "$T/out" "$T/status.json"
expect_eq "$(py 'len(d["partitions"])')" "3" "--json: three partitions"
for p in 0 1 2; do
  lines=$(wc -l <"$T/data/p$p.kv")
  committed=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["committed"][sys.argv[2]])' "$T/summary.json" "$p")
  expect_eq "$(py "d['partitions'][$p]['end']")" "$lines" "--json: partition $p ends at $lines"
  expect_eq "$(py "d['partitions'][$p]['committed']")" "$committed" "--json: partition $p committed $committed (the consume summary)"
  expect_eq "$(py "d['partitions'][$p]['lag']")" "$((lines - committed))" "--json: partition $p lag = end - committed"
  expect_eq "$(py "d['partitions'][$p]['read_lag']")" "0" "--json: partition $p read lag 0"
  expect_eq "$(py "d['partitions'][$p]['held_in_open_windows']")" "$((lines - committed))" \
    "--json: partition $p holds end - committed messages in open windows"
  expect_eq "$(py "d['partitions'][$p]['checkpoint']['read_through']")" "$lines" "--json: partition $p checkpoint read through the end"
done
expect_eq "$(py 'd["partitions"][0]["checkpoint"]["closed_through"] != "-"')" "True" "--json: a closed-through watermark"
expect_exit 0 "--max-lag 0 when read to the end: exit 0" -- status -t "$topic" -G "$group" --max-lag 0

# More data in partition 1: reading is behind by exactly that much.
head -50 "$T/data/p1.kv" | kcat -P -b "$BOOTSTRAP" -t "$topic" -p 1 -K $'\t' 2>/dev/null || fail "kcat -P"
expect_exit 3 "--max-lag 10 with 50 new messages: exit 3" -- status -t "$topic" -G "$group" --max-lag 10 --json
expect_eq "$(py 'd["partitions"][1]["read_lag"]')" "50" "--json: read lag 50 on partition 1"
expect_eq "$(py 'd["max_read_lag"]')" "50" "--json: max_read_lag 50"
expect_contains "$T/err" "50 messages behind" "stderr says how far behind"
expect_exit 0 "--max-lag 50: exit 0" -- status -t "$topic" -G "$group" --max-lag 50
expect_contains "$T/out" "50 messages not read yet" "the table says what is not read yet"

# status only looks: the group's commits are what consume left.
expect_exit 0 "status again" -- status -t "$topic" -G "$group" --json
python3 - "$T/status.json" "$T/out" <<'PY' && pass "status committed nothing" || fail "status changed the group's commits"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
assert [p["committed"] for p in a["partitions"]] == [p["committed"] for p in b["partitions"]]
PY
expect_exit 3 "consume -e catches up (the new messages are duplicates)" -- \
  "$MTASTREAM" -b "$BOOTSTRAP" consume -t "$topic" -G "$group" --lake-dir "$T/lake" -e -q
expect_exit 0 "after catching up: --max-lag 0 exit 0" -- status -t "$topic" -G "$group" --max-lag 0

# A group that never consumed: nothing committed, everything to read.
expect_exit 3 "a group without commits: --max-lag 0 exits 3" -- status -t "$topic" -G "none-$group" --max-lag 0 --json
expect_eq "$(py 'd["partitions"][0]["committed"]')" "None" "--json: committed null without a commit"
expect_eq "$(py 'd["partitions"][0]["lag"] == d["partitions"][0]["end"]')" "True" "--json: lag = end without a commit"
expect_exit 1 "a missing topic: exit 1" -- status -t "no-such-$topic" -G "$group"
expect_contains "$T/err" "mtastream: error:" "a missing topic: an error on stderr"
expect_exit 2 "--max-lag -1 is a usage error" -- status -t "$topic" -G "$group" --max-lag -1
finish
