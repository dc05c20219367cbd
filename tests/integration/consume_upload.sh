#!/usr/bin/env bash
# consume --upload file://DIR against a real Apache Kafka broker: every lake file is in the store after -e,
# and when the upload target fails, the run stops (exit 1) without moving any committed offset.
# needs: kafka
source "$(dirname "$0")/lib.sh"
need kafka

topic=upload-$$-$RANDOM
mkdir "$T/data"
model generate "$T/data" 40000 2 5
model expect "$T/data" 300 300 300 "$topic" turnstile
load_topic "$topic" 2 "$T/data"

# A temporary copy a killed upload left in the store is removed at the next start (its PID runs no more).
mkdir -p "$T/store"
dead=999999; while kill -0 "$dead" 2>/dev/null; do dead=$((dead + 1)); done
touch "$T/store/.turnstile_x.csv.gz.tmp-$dead-0"
expect_exit 3 "consume -e --upload file://" -- \
  consume -t "$topic" -G "up-$topic" --lake-dir "$T/lake" --upload "file://$T/store" -e --json
files=$(ls "$T/lake" | wc -l)
expect_contains "$T/out" "\"uploaded\":$files," "summary: every lake file uploaded ($files)"
expect_eq "$(cd "$T/store" && find . -name '*.csv.gz' -printf '%P\n' | sort | xargs sha256sum | md5sum)" \
  "$(cd "$T/lake" && ls | sort | xargs sha256sum | md5sum)" "the store holds every lake file, same bytes"
model compare "$T/data" "$T/store" >"$T/compare.txt" && pass "the uploaded lake equals the model" ||
  { fail "uploaded lake differs from the model"; cat "$T/compare.txt" >&2; }
expect_eq "$(find "$T/store" -name '.*' | wc -l)" "0" "the stale upload temporary file was removed at start"
expect_contains "$T/err" "removed 1 temporary files a killed upload left" "the removal is reported"

# A target that cannot be written: the first upload fails, the run stops, nothing is committed.
touch "$T/not-a-dir"
expect_exit 1 "consume with a failing upload target exits 1" -- \
  consume -t "$topic" -G "fail-$topic" --lake-dir "$T/lake-fail" --upload "file://$T/not-a-dir/store" -e --json
expect_contains "$T/err" "not-a-dir" "the error names the upload target"
expect_empty "$T/out" "no summary on stdout after a failure"
# What the group has committed: a run without upload starts from the very beginning (nothing re-read from a
# checkpoint, every message read).
expect_exit 3 "the same group without --upload" -- \
  consume -t "$topic" -G "fail-$topic" --lake-dir "$T/lake-after" -e --json
expect_contains "$T/out" '"read":40000,"replayed":0,' "no offset had moved: the group starts from the beginning"

finish
