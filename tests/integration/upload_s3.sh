# upload to a real S3-compatible server (moto, SigV4 checked) on loopback: bytes read back equal,
# identical objects skipped, injected 500/503s, dropped connections and an outage mid-batch recovered by
# retries, bad credentials reported clearly without the secret, local files kept unless verified.
# needs: s3
source "$(dirname "$0")/lib.sh"
need s3
here=$(cd "$(dirname "$0")" && pwd)
export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY AWS_REGION=$S3_REGION
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 AWS_DEFAULT_REGION
export HOME=$T/home   # no ~/.aws of the machine's user
mkdir -p "$HOME"
run=$(basename "$T" | tr 'A-Z.' 'a-z-')  # a prefix of our own: the server is shared by the suites of one ctest run

# s3_get KEY FILE: downloads with curl's own SigV4 (an independent client).
s3_get() {
  curl -sS -f --aws-sigv4 "aws:amz:$S3_REGION:s3" --user "$S3_ACCESS_KEY_ID:$S3_SECRET_ACCESS_KEY" \
    -H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
    -o "$2" "$S3_ENDPOINT/$S3_BUCKET/$1"
}
# make_files DIR N: N lake-like files of different sizes, the first a real MTA gzip file.
make_files() {
  mkdir -p "$1"
  cp "$SHARED_DATA/mta/turnstile_230603.csv.gz" "$1/f1.csv.gz" 2>/dev/null || head -c 150000 /dev/urandom >"$1/f1.csv.gz"
  local i; for i in $(seq 2 "$2"); do head -c $((i * 37011)) /dev/urandom >"$1/f$i.csv.gz"; done
}
# check_uploaded PREFIX DIR: every file of DIR reads back byte-identical from the bucket.
check_uploaded() {
  local f bad=0
  for f in "$2"/*.csv.gz; do
    s3_get "$1/$(basename "$f")" "$T/back" && cmp -s "$f" "$T/back" || { bad=1; fail "$1/$(basename "$f") differs or is missing"; }
  done
  [ "$bad" -eq 0 ] && pass "every object under $1 reads back byte-identical"
}
# start_proxy ARGS...: the fault-injecting proxy in front of moto; sets PROXY and PROXY_LOG.
proxies=0
start_proxy() {
  proxies=$((proxies + 1))
  PROXY_LOG=$T/proxy$proxies.log
  python3 "$here/fault_proxy.py" --upstream "$S3_ENDPOINT" --port-file "$T/proxy$proxies.port" --log "$PROXY_LOG" "$@" &
  local pid=$!
  cleanup_hooks+=("kill $pid")
  local i; for i in $(seq 100); do [ -s "$T/proxy$proxies.port" ] && break; sleep 0.1; done
  PROXY=http://127.0.0.1:$(cat "$T/proxy$proxies.port")
}
json_field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

# 1. Upload with 4 jobs, read back, summary.
make_files "$T/a" 6
expect_exit 0 "upload 6 files with --jobs 4" -- \
  "$MTASTREAM" upload --to "s3://$S3_BUCKET/$run/a" --endpoint "$S3_ENDPOINT" --jobs 4 --json "$T"/a/*.csv.gz
cp "$T/out" "$T/a.json"
expect_eq "$(json_field "$T/a.json" uploaded)" 6 "json: 6 uploaded"
expect_eq "$(json_field "$T/a.json" failed)" 0 "json: 0 failed"
expect_eq "$(json_field "$T/a.json" bytes)" "$(cat "$T"/a/*.csv.gz | wc -c)" "json: bytes = the files' sizes"
expect_contains "$T/err" "verified" "stderr says each upload was verified"
check_uploaded "$run/a" "$T/a"

# 2. Same files again: skipped; one changed: only it is sent.
expect_exit 0 "upload the same files again" -- \
  "$MTASTREAM" upload --to "s3://$S3_BUCKET/$run/a" --endpoint "$S3_ENDPOINT" --json "$T/a"
expect_eq "$(json_field "$T/out" skipped)" 6 "identical objects are skipped"
expect_eq "$(json_field "$T/out" uploaded)" 0 "nothing re-sent"
head -c 5000 /dev/urandom >"$T/a/f3.csv.gz"
expect_exit 0 "upload after one file changed" -- \
  "$MTASTREAM" upload --to "s3://$S3_BUCKET/$run/a" --endpoint "$S3_ENDPOINT" --json "$T/a"
expect_eq "$(json_field "$T/out" uploaded)/$(json_field "$T/out" skipped)" 1/5 "only the changed file is sent"
check_uploaded "$run/a" "$T/a"

# 3. Endpoint and credentials from the AWS environment variables and the shared credentials file.
mkdir -p "$HOME/.aws"
printf '[uploader]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$S3_ACCESS_KEY_ID" "$S3_SECRET_ACCESS_KEY" \
  >"$HOME/.aws/credentials"
make_files "$T/b" 2
expect_exit 0 "credentials from ~/.aws/credentials (AWS_PROFILE), endpoint from AWS_ENDPOINT_URL" -- \
  env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY AWS_PROFILE=uploader AWS_ENDPOINT_URL="$S3_ENDPOINT" \
  "$MTASTREAM" upload --to "s3://$S3_BUCKET/$run/b" "$T/b"
check_uploaded "$run/b" "$T/b"
expect_exit 2 "no credentials at all is a usage error" -- \
  env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY AWS_PROFILE=nobody \
  "$MTASTREAM" upload --to "s3://$S3_BUCKET/$run/b" --endpoint "$S3_ENDPOINT" "$T/b"
expect_contains "$T/err" "AWS_ACCESS_KEY_ID" "the error says where credentials come from"

# 4. Bad credentials: clear error naming bucket and key and the server's message, secret never shown,
#    files kept despite --delete-after.
make_files "$T/c" 3
secret="wrong-secret-$RANDOM-do-not-print"
expect_exit 1 "a wrong secret fails every file (exit 1)" -- \
  env AWS_SECRET_ACCESS_KEY="$secret" "$MTASTREAM" -v upload --to "s3://$S3_BUCKET/$run/c" \
  --endpoint "$S3_ENDPOINT" --delete-after --json "$T/c"
expect_contains "$T/err" "SignatureDoesNotMatch" "the server's error code is shown"
expect_contains "$T/err" "bucket '$S3_BUCKET'" "the error names the bucket"
expect_contains "$T/err" "key '$run/c/f1.csv.gz'" "the error names the key"
expect_not_contains "$T/err" "$secret" "the secret is not on stderr"
expect_not_contains "$T/out" "$secret" "the secret is not on stdout"
expect_eq "$(json_field "$T/out" failed)" 3 "json: 3 failed"
expect_eq "$(ls "$T/c" | wc -l)" 3 "local files kept after a failed upload with --delete-after"
expect_exit 1 "an unknown access key fails" -- \
  env AWS_ACCESS_KEY_ID=AKIAUNKNOWNKEY000000 "$MTASTREAM" upload --to "s3://$S3_BUCKET/$run/c" \
  --endpoint "$S3_ENDPOINT" "$T/c"
expect_contains "$T/err" "InvalidAccessKeyId" "unknown key reported by its code"
expect_exit 1 "a missing bucket fails" -- \
  "$MTASTREAM" upload --to "s3://no-such-bucket-$run/x" --endpoint "$S3_ENDPOINT" --move-to "$T/c-done" "$T/c"
expect_contains "$T/err" "NoSuchBucket" "missing bucket reported by its code"
[ ! -e "$T/c-done" ] && [ "$(ls "$T/c" | wc -l)" -eq 3 ] && pass "--move-to moved nothing on failure" ||
  fail "--move-to moved files whose upload failed"

# 5. Injected 503 SlowDown and 500 InternalError, then success: retried, verified.
make_files "$T/d" 3
start_proxy --fail-first 3 --fail-status 503
expect_exit 0 "three 503 SlowDown answers are retried" -- \
  "$MTASTREAM" upload --to "s3://$S3_BUCKET/$run/d" --endpoint "$PROXY" --jobs 1 --delete-after "$T/d"
expect_eq "$(grep -c ' 503$' "$PROXY_LOG")" 3 "the proxy answered 503 three times"
expect_contains "$T/err" "HTTP 503 Service Unavailable" "the retry names the answer"
expect_eq "$(ls "$T/d" 2>/dev/null | wc -l)" 0 "--delete-after removed the verified files"
make_files "$T/e" 2
start_proxy --fail-first 2 --fail-status 500
expect_exit 0 "two 500 InternalError answers are retried" -- \
  "$MTASTREAM" upload --to "s3://$S3_BUCKET/$run/e" --endpoint "$PROXY" "$T/e"
expect_eq "$(grep -c ' 500$' "$PROXY_LOG")" 2 "the proxy answered 500 twice"
check_uploaded "$run/e" "$T/e"

# 6. Dropped connections, then an outage mid-batch (nothing listens for 3 s) and the server back.
make_files "$T/f" 2
start_proxy --reset-first 2
expect_exit 0 "connections closed without an answer are retried" -- \
  "$MTASTREAM" upload --to "s3://$S3_BUCKET/$run/f" --endpoint "$PROXY" "$T/f"
check_uploaded "$run/f" "$T/f"
make_files "$T/g" 8
start_proxy --outage-after 5 --outage-seconds 3
expect_exit 0 "an outage mid-batch is ridden out by retries" -- \
  "$MTASTREAM" upload --to "s3://$S3_BUCKET/$run/g" --endpoint "$PROXY" --jobs 2 --retries 10 --move-to "$T/g-done" "$T/g"
expect_contains "$PROXY_LOG" "OUTAGE" "the store really went away mid-batch"
expect_contains "$T/err" "retrying" "retries were reported"
expect_eq "$(ls "$T/g-done" | wc -l)/$(ls "$T/g" | wc -l)" 8/0 "--move-to moved every verified file"
check_uploaded "$run/g" "$T/g-done"

# 6b. A request that hangs past --timeout is abandoned and retried; a body damaged on the way is caught
#     (AWS answers BadDigest to the Content-MD5; moto stores it, so our ETag check catches it) and sent again.
make_files "$T/j" 2
start_proxy --stall-first 1 --stall-seconds 4
expect_exit 0 "a request stalled past --timeout is retried" -- \
  "$MTASTREAM" upload --to "s3://$S3_BUCKET/$run/j" --endpoint "$PROXY" --timeout 1s --jobs 1 "$T/j"
expect_contains "$T/err" "imeout" "the retry names the timeout"
check_uploaded "$run/j" "$T/j"
make_files "$T/k" 2
start_proxy --corrupt-first 1
expect_exit 0 "a body damaged on the way is detected and sent again" -- \
  "$MTASTREAM" upload --to "s3://$S3_BUCKET/$run/k" --endpoint "$PROXY" --jobs 1 "$T/k"
expect_contains "$PROXY_LOG" "CORRUPTED" "the proxy really damaged a body"
expect_contains "$T/err" "differs from the local MD5" "the mismatch was reported"
check_uploaded "$run/k" "$T/k"

# 7. Retries run out: exit 1, files kept; one file refused among good ones: exit 3 (partial).
make_files "$T/h" 2
start_proxy --fail-first 1000 --fail-status 503
expect_exit 1 "a store that keeps answering 503 fails after the retries" -- \
  "$MTASTREAM" upload --to "s3://$S3_BUCKET/$run/h" --endpoint "$PROXY" --retries 2 --move-to "$T/h-done" "$T/h"
expect_contains "$T/err" "after 3 attempts" "the error says how often it tried"
expect_eq "$(ls "$T/h" | wc -l)" 2 "files kept when retries ran out"
start_proxy --fail-first 1 --fail-status 400
expect_exit 3 "one file refused (400), the others uploaded: exit 3" -- \
  "$MTASTREAM" upload --to "s3://$S3_BUCKET/$run/h" --endpoint "$PROXY" --jobs 1 --delete-after --json "$T/h"
expect_eq "$(json_field "$T/out" failed)/$(json_field "$T/out" uploaded)" 1/1 "json: 1 failed, 1 uploaded"
expect_eq "$(ls "$T/h" | wc -l)" 1 "only the verified file was deleted"

# 8. gs:// with HMAC keys speaks the S3-interoperable XML API (SigV4, region "auto"): checked against moto,
#    which verifies the signature as GCS does for HMAC keys.
make_files "$T/i" 2
expect_exit 0 "gs:// with GCS_HMAC_ACCESS_KEY_ID/GCS_HMAC_SECRET uses the XML API" -- \
  env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY GCS_HMAC_ACCESS_KEY_ID="$S3_ACCESS_KEY_ID" \
  GCS_HMAC_SECRET="$S3_SECRET_ACCESS_KEY" "$MTASTREAM" upload --to "gs://$S3_BUCKET/$run/i" --endpoint "$S3_ENDPOINT" "$T/i"
check_uploaded "$run/i" "$T/i"
expect_exit 1 "a wrong HMAC secret is refused" -- \
  env GCS_HMAC_ACCESS_KEY_ID="$S3_ACCESS_KEY_ID" GCS_HMAC_SECRET="$secret" \
  "$MTASTREAM" upload --to "gs://$S3_BUCKET/$run/i2" --endpoint "$S3_ENDPOINT" "$T/i"
expect_contains "$T/err" "GCS_HMAC_ACCESS_KEY_ID" "the error says where the keys came from"
expect_not_contains "$T/err" "$secret" "the HMAC secret is not printed"
finish
