#!/usr/bin/env bash
# consume --upload s3://BUCKET/PREFIX against a real Apache Kafka broker and a real S3-compatible server
# (scripts/s3-local.sh, SigV4 checked): after -e every lake file is in the bucket with the same bytes.
# needs: kafka s3
source "$(dirname "$0")/lib.sh"
need kafka
need s3
export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY AWS_REGION=$S3_REGION
export AWS_ENDPOINT_URL=$S3_ENDPOINT
export HOME=$T/home   # no ~/.aws of the machine's user
mkdir -p "$HOME"

topic=s3-$$-$RANDOM
mkdir "$T/data"
model generate "$T/data" 20000 2 9
load_topic "$topic" 2 "$T/data"
prefix=consume-$RANDOM
expect_exit 3 "consume -e --upload s3://" -- "$MTASTREAM" -b "$BOOTSTRAP" consume -t "$topic" -G "s3-$topic" \
  --lake-dir "$T/lake" --upload "s3://$S3_BUCKET/$prefix" -e --json
files=$(ls "$T/lake" | wc -l)
expect_contains "$T/out" "\"uploaded\":$files," "summary: every lake file uploaded ($files)"
bad=0
for f in $(ls "$T/lake"); do
  # curl's own SigV4: an independent client.
  curl -sf --aws-sigv4 "aws:amz:$S3_REGION:s3" --user "$S3_ACCESS_KEY_ID:$S3_SECRET_ACCESS_KEY" \
    -H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
    "$S3_ENDPOINT/$S3_BUCKET/$prefix/$f" -o "$T/got" || { bad=$((bad + 1)); continue; }
  cmp -s "$T/got" "$T/lake/$f" || bad=$((bad + 1))
done
expect_eq "$bad" "0" "every lake file is in the bucket under $prefix/ with the same bytes"

# --endpoint instead of the environment; a bucket that does not exist: exit 1, nothing committed.
unset AWS_ENDPOINT_URL
expect_exit 1 "upload to a missing bucket fails" -- "$MTASTREAM" -b "$BOOTSTRAP" consume -t "$topic" -G "nob-$topic" \
  --lake-dir "$T/lake2" --upload "s3://no-such-bucket-$RANDOM/x" --endpoint "$S3_ENDPOINT" -e --json
expect_contains "$T/err" "no-such-bucket" "the error names the bucket"
expect_exit 3 "the same group, uploading to the real bucket" -- "$MTASTREAM" -b "$BOOTSTRAP" consume -t "$topic" \
  -G "nob-$topic" --lake-dir "$T/lake2" --upload "s3://$S3_BUCKET/$prefix-2" --endpoint "$S3_ENDPOINT" -e --json
expect_contains "$T/out" '"read":20000,"replayed":0,' "the failed run had committed nothing: read from the beginning"

finish
