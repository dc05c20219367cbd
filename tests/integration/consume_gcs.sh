#!/usr/bin/env bash
# consume --upload gs://BUCKET/PREFIX against a real Apache Kafka broker and a GCS emulator (fake-gcs-server,
# scripts/gcs-local.sh): after -e every lake file is an object with the same bytes; a missing bucket stops
# the run (exit 1) with nothing committed, and the same group then uploads everything.
# needs: kafka gcs
source "$(dirname "$0")/lib.sh"
need kafka
need gcs
unset GOOGLE_APPLICATION_CREDENTIALS GCS_HMAC_ACCESS_KEY_ID GCS_HMAC_SECRET STORAGE_EMULATOR_HOST

topic=gcs-$$-$RANDOM
mkdir "$T/data"
model generate "$T/data" 20000 2 13
load_topic "$topic" 2 "$T/data"
prefix=consume-$RANDOM

# STORAGE_EMULATOR_HOST (host:port), as Google's own client libraries read it.
expect_exit 3 "consume -e --upload gs:// (emulator from STORAGE_EMULATOR_HOST)" -- \
  env STORAGE_EMULATOR_HOST="${GCS_ENDPOINT#http://}" "$MTASTREAM" -b "$BOOTSTRAP" consume -t "$topic" \
  -G "gcs-$topic" --lake-dir "$T/lake" --upload "gs://$GCS_BUCKET/$prefix" -e --json
files=$(ls "$T/lake" | wc -l)
[ "$files" -gt 0 ] && pass "$files lake files written" || fail "no lake file"
expect_contains "$T/out" "\"uploaded\":$files," "summary: every lake file uploaded ($files)"
bad=0
for f in $(ls "$T/lake"); do
  gcs_get "$prefix/$f" "$T/got" && cmp -s "$T/got" "$T/lake/$f" || bad=$((bad + 1))
done
expect_eq "$bad" "0" "every lake file is in the bucket under $prefix/ with the same bytes"

# --endpoint; a bucket that does not exist: exit 1 naming it, nothing committed; then the real bucket.
expect_exit 1 "upload to a missing bucket fails" -- "$MTASTREAM" -b "$BOOTSTRAP" consume -t "$topic" -G "nob-$topic" \
  --lake-dir "$T/lake2" --upload "gs://no-such-bucket-$RANDOM/x" --endpoint "$GCS_ENDPOINT" -e --json
expect_contains "$T/err" "no-such-bucket" "the error names the bucket"
expect_exit 3 "the same group, uploading to the real bucket" -- "$MTASTREAM" -b "$BOOTSTRAP" consume -t "$topic" \
  -G "nob-$topic" --lake-dir "$T/lake2" --upload "gs://$GCS_BUCKET/$prefix-2" --endpoint "$GCS_ENDPOINT" -e --json
expect_contains "$T/out" '"read":20000,"replayed":0,' "the failed run had committed nothing: read from the beginning"
expect_contains "$T/out" "\"uploaded\":$files," "then every lake file uploaded"

finish
