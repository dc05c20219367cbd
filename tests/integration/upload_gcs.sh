# upload to a GCS emulator (fake-gcs-server) on loopback: JSON API, MD5 and CRC32C verified, skip when
# identical, the server stopped before/while uploading and started again, injected 503s, a service-account
# key whose RS256 JWT a token endpoint verifies (and a wrong key refused without printing it).
# needs: gcs
source "$(dirname "$0")/lib.sh"
need gcs
here=$(cd "$(dirname "$0")" && pwd)
unset GOOGLE_APPLICATION_CREDENTIALS GCS_HMAC_ACCESS_KEY_ID GCS_HMAC_SECRET STORAGE_EMULATOR_HOST
run=$(basename "$T" | tr 'A-Z.' 'a-z-')

make_files() {
  mkdir -p "$1"
  cp "$SHARED_DATA/mta/turnstile_230603.csv.gz" "$1/f1.csv.gz" 2>/dev/null || head -c 150000 /dev/urandom >"$1/f1.csv.gz"
  local i; for i in $(seq 2 "$2"); do head -c $((i * 41017)) /dev/urandom >"$1/f$i.csv.gz"; done
}
check_uploaded() {
  local f bad=0
  for f in "$2"/*.csv.gz; do
    gcs_get "$1/$(basename "$f")" "$T/back" && cmp -s "$f" "$T/back" || { bad=1; fail "$1/$(basename "$f") differs or is missing"; }
  done
  [ "$bad" -eq 0 ] && pass "every object under $1 reads back byte-identical"
}
proxies=0
start_proxy() {
  proxies=$((proxies + 1))
  PROXY_LOG=$T/proxy$proxies.log
  python3 "$here/fault_proxy.py" --upstream "$GCS_ENDPOINT" --port-file "$T/proxy$proxies.port" --log "$PROXY_LOG" "$@" &
  local pid=$!
  cleanup_hooks+=("kill $pid")
  local i; for i in $(seq 100); do [ -s "$T/proxy$proxies.port" ] && break; sleep 0.1; done
  PROXY=http://127.0.0.1:$(cat "$T/proxy$proxies.port")
}
json_field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

# 1. Anonymous emulator through STORAGE_EMULATOR_HOST (host:port, as the Google clients take it), 4 jobs.
make_files "$T/a" 6
expect_exit 0 "upload 6 files with --jobs 4 (STORAGE_EMULATOR_HOST)" -- \
  env STORAGE_EMULATOR_HOST="${GCS_ENDPOINT#http://}" "$MTASTREAM" upload --to "gs://$GCS_BUCKET/$run/a" --jobs 4 \
  --json "$T"/a/*.csv.gz
expect_eq "$(json_field "$T/out" uploaded)" 6 "json: 6 uploaded"
expect_eq "$(json_field "$T/out" bytes)" "$(cat "$T"/a/*.csv.gz | wc -c)" "json: bytes = the files' sizes"
check_uploaded "$run/a" "$T/a"
expect_exit 0 "upload the same files again (--endpoint)" -- \
  "$MTASTREAM" upload --to "gs://$GCS_BUCKET/$run/a" --endpoint "$GCS_ENDPOINT" --json "$T/a"
expect_eq "$(json_field "$T/out" skipped)/$(json_field "$T/out" uploaded)" 6/0 "identical objects are skipped"
head -c 7000 /dev/urandom >"$T/a/f2.csv.gz"
expect_exit 0 "upload after one file changed" -- \
  "$MTASTREAM" upload --to "gs://$GCS_BUCKET/$run/a" --endpoint "$GCS_ENDPOINT" --json "$T/a"
expect_eq "$(json_field "$T/out" uploaded)/$(json_field "$T/out" skipped)" 1/5 "only the changed file is sent"
check_uploaded "$run/a" "$T/a"

# 2. Missing bucket and no credentials at all.
expect_exit 1 "a missing bucket fails" -- \
  "$MTASTREAM" upload --to "gs://no-such-bucket-$run/x" --endpoint "$GCS_ENDPOINT" --delete-after "$T/a/f3.csv.gz"
expect_contains "$T/err" "no-such-bucket-$run" "the error names the bucket"
[ -f "$T/a/f3.csv.gz" ] && pass "file kept after a failed upload" || fail "file deleted although its upload failed"
expect_exit 2 "gs:// without credentials or emulator is a usage error" -- \
  "$MTASTREAM" upload --to "gs://$GCS_BUCKET/$run/a" "$T/a/f3.csv.gz"
expect_contains "$T/err" "GOOGLE_APPLICATION_CREDENTIALS" "the error says which credentials are read"

# 3. The server is stopped; the upload starts and retries; the server comes back on the same port.
make_files "$T/b" 4
"$GCS_LOCAL" stop --dir "$GCS_DIR" --env-file "$GCS_ENV_FILE" 2>/dev/null
cleanup_hooks+=("'$GCS_LOCAL' start --dir '$GCS_DIR' --env-file '$GCS_ENV_FILE' 2>/dev/null")
"$MTASTREAM" upload --to "gs://$GCS_BUCKET/$run/b" --endpoint "$GCS_ENDPOINT" --retries 12 --jobs 2 \
  --move-to "$T/b-done" "$T/b" >"$T/out" 2>"$T/err" &
uploader=$!
# Back once the upload has met the outage (it says it retries), not after a guessed time.
wait_until 300 "the upload retries while the server is down" -- grep -q "retrying" "$T/err"
"$GCS_LOCAL" start --dir "$GCS_DIR" --env-file "$GCS_ENV_FILE" 2>/dev/null || fail "the GCS emulator did not restart"
code=0; wait "$uploader" || code=$?
expect_eq "$code" 0 "upload while the server is down, until it is back"
expect_eq "$(ls "$T/b-done" | wc -l)/$(ls "$T/b" | wc -l)" 4/0 "--move-to moved every verified file"
check_uploaded "$run/b" "$T/b-done"

# 4. Injected 503s and an outage mid-batch through the proxy.
make_files "$T/c" 3
start_proxy --fail-first 3 --fail-status 503
expect_exit 0 "three 503 answers are retried" -- \
  "$MTASTREAM" upload --to "gs://$GCS_BUCKET/$run/c" --endpoint "$PROXY" --jobs 1 "$T/c"
expect_eq "$(grep -c ' 503$' "$PROXY_LOG")" 3 "the proxy answered 503 three times"
check_uploaded "$run/c" "$T/c"
start_proxy --fail-first 2 --fail-status 429
expect_exit 0 "two 429 Too Many Requests answers are retried" -- \
  "$MTASTREAM" upload --to "gs://$GCS_BUCKET/$run/c429" --endpoint "$PROXY" --jobs 1 "$T/c"
expect_eq "$(grep -c ' 429$' "$PROXY_LOG")" 2 "the proxy answered 429 twice"
check_uploaded "$run/c429" "$T/c"
make_files "$T/d" 6
start_proxy --outage-after 4 --outage-seconds 3
expect_exit 0 "an outage mid-batch is ridden out" -- \
  "$MTASTREAM" upload --to "gs://$GCS_BUCKET/$run/d" --endpoint "$PROXY" --jobs 2 --retries 10 --delete-after "$T/d"
expect_contains "$PROXY_LOG" "OUTAGE" "the store really went away mid-batch"
expect_eq "$(ls "$T/d" | wc -l)" 0 "--delete-after removed every verified file"
make_files "$T/k" 2
start_proxy --corrupt-first 1
expect_exit 0 "a body damaged on the way is detected and sent again" -- \
  "$MTASTREAM" upload --to "gs://$GCS_BUCKET/$run/k" --endpoint "$PROXY" --jobs 1 "$T/k"
expect_contains "$PROXY_LOG" "CORRUPTED" "the proxy really damaged a body"
expect_contains "$T/err" "doesn't match calculated MD5" "the store refused the damaged body (declared MD5)"
check_uploaded "$run/k" "$T/k"

# 5. Service-account key: the token endpoint verifies the RS256 JWT with the public key, the store
#    accepts only the token it handed out.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/sa.pem" 2>/dev/null
openssl pkey -in "$T/sa.pem" -pubout -out "$T/sa.pub" 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/other.pem" 2>/dev/null
start_proxy --token-public-key "$T/sa.pub" --require-bearer
write_key() {  # PEM OUT
  python3 - "$1" "$2" "$PROXY/token" <<'PY'
import json, sys
pem, out, token_uri = sys.argv[1:]
json.dump({"type": "service_account", "project_id": "test", "private_key_id": "k1",
           "private_key": open(pem).read(), "client_email": "uploader@test.iam.gserviceaccount.com",
           "token_uri": token_uri}, open(out, "w"))
PY
}
write_key "$T/sa.pem" "$T/sa.json"
write_key "$T/other.pem" "$T/other.json"
make_files "$T/e" 3
expect_exit 0 "service-account key: JWT verified, bearer token accepted" -- \
  env GOOGLE_APPLICATION_CREDENTIALS="$T/sa.json" "$MTASTREAM" upload --to "gs://$GCS_BUCKET/$run/e" \
  --endpoint "$PROXY" --jobs 3 "$T/e"
expect_eq "$(grep -c '^POST /token 200' "$PROXY_LOG")" 1 "one token fetched and shared by the jobs"
check_uploaded "$run/e" "$T/e"
expect_exit 1 "no token: the store's 401 is reported" -- \
  "$MTASTREAM" upload --to "gs://$GCS_BUCKET/$run/e2" --endpoint "$PROXY" "$T/e/f2.csv.gz"
expect_contains "$T/err" "Invalid Credentials" "the server's message is shown"
expect_exit 1 "a key the token endpoint does not know is refused" -- \
  env GOOGLE_APPLICATION_CREDENTIALS="$T/other.json" "$MTASTREAM" -v upload --to "gs://$GCS_BUCKET/$run/e3" \
  --endpoint "$PROXY" --move-to "$T/e-done" "$T/e"
expect_contains "$T/err" "invalid_grant" "the token endpoint's refusal is shown"
expect_contains "$T/err" "$T/other.json" "the error names the key file"
key_line=$(sed -n 2p "$T/other.pem")
expect_not_contains "$T/err" "$key_line" "the private key is not on stderr"
expect_not_contains "$T/out" "$key_line" "the private key is not on stdout"
[ ! -e "$T/e-done" ] && pass "nothing moved after a refused upload" || fail "files moved although refused"
finish
