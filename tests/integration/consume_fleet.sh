#!/usr/bin/env bash
# A consume fleet on several machines that share only an object store: each member has its own --lake-dir
# (its own disk), topic-wide windows are staged in the bucket (--staging) and the lake is the bucket
# (--upload). Real Apache Kafka, a real S3-compatible server (moto) and a GCS emulator; the topic is keyed by
# random ID, so every window needs every partition. The bucket's lake must equal one process's lake (names
# and sha256), also when a member is SIGKILLed mid-run, and what stays staged is what one process leaves.
# needs: kafka s3 gcs
source "$(dirname "$0")/lib.sh"
need kafka
need s3
need gcs
export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY AWS_REGION=$S3_REGION
export AWS_ENDPOINT_URL=$S3_ENDPOINT
unset GOOGLE_APPLICATION_CREDENTIALS GCS_HMAC_ACCESS_KEY_ID GCS_HMAC_SECRET STORAGE_EMULATOR_HOST
export HOME=$T/home   # no ~/.aws of the machine's user
mkdir -p "$HOME"

# s3_curl PATH [ARGS]: curl's own SigV4 against the S3 server (an independent client).
s3_curl() {
  local path=$1; shift
  curl -sf --aws-sigv4 "aws:amz:$S3_REGION:s3" --user "$S3_ACCESS_KEY_ID:$S3_SECRET_ACCESS_KEY" \
    -H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" "$@" "$S3_ENDPOINT/$path"
}
# store_names s3|gs PREFIX: the object names directly under PREFIX/ (ListObjectsV2 / the JSON API's list).
store_names() {
  local query
  if [ "$1" = s3 ]; then
    # curl 7.88 signs the query as written: names in sorted order, unescaped (our names need no escape).
    s3_curl "$S3_BUCKET/?delimiter=/&list-type=2&prefix=$2/" |
      python3 -c 'import re,sys; [print(k.rsplit("/",1)[1]) for k in re.findall(r"<Key>([^<]*)</Key>", sys.stdin.read())]'
  else
    query=$(python3 -c 'import urllib.parse,sys; print(urllib.parse.quote(sys.argv[1] + "/", safe=""))' "$2")
    curl -sf "$GCS_ENDPOINT/storage/v1/b/$GCS_BUCKET/o?delimiter=%2F&prefix=$query" |
      python3 -c 'import json,sys; [print(i["name"].rsplit("/",1)[1]) for i in json.load(sys.stdin).get("items",[])]'
  fi
}
# fetch_lake s3|gs PREFIX DIR: downloads every lake file under PREFIX/ into DIR.
fetch_lake() {
  local name
  mkdir -p "$3"
  for name in $(store_names "$1" "$2" | grep '\.csv\.gz$'); do
    if [ "$1" = s3 ]; then s3_curl "$S3_BUCKET/$2/$name" -o "$3/$name"; else gcs_get "$2/$name" "$3/$name"; fi ||
      fail "cannot download $2/$name"
  done
}

topic=fleet-$$-$RANDOM
mkdir "$T/data"
model generate "$T/data" 60000 4 31 --spread
model expect "$T/data" 300 300 300 "$topic" turnstile
load_topic "$topic" 4 "$T/data"

code=0; consume -t "$topic" -G "single-$topic" --lake-dir "$T/single" -e -q || code=$?
expect_eq "$code" "3" "one consumer -e (exit 3: rejected messages)"
model compare "$T/data" "$T/single" >"$T/compare.txt" && pass "single consumer lake equals the model" ||
  { fail "single consumer lake differs from the model"; cat "$T/compare.txt" >&2; }
sums "$T/single" >"$T/single.sha"

# fleet SCHEME LABEL KILL: two "machines" (own lake dirs) sharing SCHEME://bucket/PREFIX; with KILL=1 the
# first member is SIGKILLed mid-run and restarted after the survivor finished.
fleet() {
  local scheme=$1 label=$2 kill_one=$3 bucket prefix group a b ca cb
  bucket=$S3_BUCKET; [ "$scheme" = gs ] && bucket=$GCS_BUCKET
  prefix=fleet-$label-$RANDOM group=$label-$topic
  local -a store=(--upload "$scheme://$bucket/$prefix" --staging "$scheme://$bucket/$prefix/_staging")
  [ "$scheme" = gs ] && store+=(--endpoint "$GCS_ENDPOINT")
  mkdir -p "$T/$label-a" "$T/$label-b"
  consume_exec -t "$topic" -G "$group" --lake-dir "$T/$label-a" "${store[@]}" -e --json >"$T/$label-a.json" 2>"$T/$label-a.err" &
  a=$!
  consume_exec -t "$topic" -G "$group" --lake-dir "$T/$label-b" "${store[@]}" -e --json >"$T/$label-b.json" 2>"$T/$label-b.err" &
  b=$!
  cleanup_hooks+=("kill -9 $a $b 2>/dev/null")
  if [ "$kill_one" = 1 ]; then
    # Once merges have begun (lake files on either machine), member a dies without a word.
    until [ "$(cat "$T/$label-a"/*.csv.gz "$T/$label-b"/*.csv.gz 2>/dev/null | wc -c)" -gt 0 ] || ! kill -0 "$a" 2>/dev/null; do
      sleep 0.02
    done
    if kill -9 "$a" 2>/dev/null; then pass "$label: member a SIGKILLed mid-run"; else fail "$label: member a finished before the kill"; fi
  fi
  ca=0; wait "$a" || ca=$?
  cb=0; wait "$b" || cb=$?
  if [ "$kill_one" = 1 ]; then
    { [ "$cb" = 0 ] || [ "$cb" = 3 ]; } && pass "$label: the survivor finished (exit $cb)" ||
      { fail "$label: the survivor exited $cb"; tail -n 5 "$T/$label-b.err" >&2; }
    # Member a's machine comes back: a fresh start finds its state in the bucket.
    code=0; consume -t "$topic" -G "$group" --lake-dir "$T/$label-a" "${store[@]}" -e -q || code=$?
    { [ "$code" = 0 ] || [ "$code" = 3 ]; } || fail "$label: restart of member a exited $code"
  else
    for c in "$ca" "$cb"; do { [ "$c" = 0 ] || [ "$c" = 3 ]; } || fail "$label: a member exited $c"; done
    local read_a read_b
    read_a=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["read"])' "$T/$label-a.json" 2>/dev/null || echo 0)
    read_b=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["read"])' "$T/$label-b.json" 2>/dev/null || echo 0)
    [ "$read_a" -gt 0 ] && [ "$read_b" -gt 0 ] && pass "$label: both members read a share ($read_a, $read_b)" ||
      { fail "$label: one member read nothing ($read_a / $read_b)"; tail -n 5 "$T/$label-a.err" "$T/$label-b.err" >&2; }
  fi
  fetch_lake "$scheme" "$prefix" "$T/$label-got"
  expect_eq "$(sums "$T/$label-got" | md5sum)" "$(md5sum <"$T/single.sha")" \
    "$label: the bucket's lake equals one process's lake (names and sha256)"
  # What stays staged (windows closed in some partitions only) is what one process leaves staged.
  expect_eq "$(store_names "$scheme" "$prefix/_staging/turnstile_$topic/segments" | sort | md5sum)" \
    "$(ls "$T/single/.mtastream/turnstile_$topic/segments" | sort | md5sum)" \
    "$label: the segments left staged in the bucket are one process's"
  [ "$(store_names "$scheme" "$prefix/_staging/turnstile_$topic/progress" | wc -l)" = 4 ] &&
    pass "$label: one progress marker per partition in the bucket" || fail "$label: progress markers missing in the bucket"
  # Neither machine staged locally: the shared staging is the only one.
  [ ! -e "$T/$label-a/.mtastream" ] && [ ! -e "$T/$label-b/.mtastream" ] && pass "$label: nothing staged on the machines" ||
    fail "$label: a member staged in its own lake dir"
}

fleet s3 s3-pair 0
fleet s3 s3-kill 1
fleet gs gcs-pair 0

# The shared staging needs topic-wide windows; a store that refuses is an error that names it, before any commit.
expect_exit 2 "--staging with --per-partition is refused" -- \
  consume -t "$topic" -G "pp-$topic" --lake-dir "$T/pp" --per-partition --staging "s3://$S3_BUCKET/x" -e
expect_contains "$T/err" "--staging" "the refusal names --staging"
expect_exit 1 "a staging bucket that does not exist stops the run" -- \
  consume -t "$topic" -G "nob-$topic" --lake-dir "$T/nob" --staging "s3://no-such-bucket-$RANDOM/s" -e --json
expect_contains "$T/err" "no-such-bucket" "the error names the bucket"
expect_exit 3 "the same group with a real staging bucket reads from the beginning" -- \
  consume -t "$topic" -G "nob-$topic" --lake-dir "$T/nob" --staging "s3://$S3_BUCKET/nob-$RANDOM" -e --json
expect_contains "$T/out" '"read":60000,"replayed":0,' "the failed run had committed nothing"
expect_eq "$(sums "$T/nob" | md5sum)" "$(md5sum <"$T/single.sha")" "and its lake equals one process's"

finish
