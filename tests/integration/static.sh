# needs: kafka postgres
# The release artefact from `make static` (build-static/mtastream): depends on the C library only, is
# built from the same sources as build/mtastream, embeds librdkafka 2.8, and really talks to Kafka:
# the embedded broker, SASL/SCRAM against the real broker, the metrics server of consume, and the
# warehouse sink (libpq built in without GSSAPI/LDAP) against the real PostgreSQL server, SCRAM login.
# `make test` builds it first (MTASTREAM_SKIP_STATIC=1 leaves this suite out of the ctest run); run, it
# never skips: no binary is a failure.
source "$(dirname "$0")/lib.sh"
static=${MTASTREAM_STATIC_BINARY:-$MTASTREAM_SOURCE_DIR/build-static/mtastream}
if [ ! -x "$static" ]; then
  fail "no static binary at $static: run 'make static' (or leave this suite out: MTASTREAM_SKIP_STATIC=1 make test)"
  finish
fi
need kafka
need postgres
# Messages in a topic, read with kcat from the plaintext listener (0 when the topic does not exist).
count_messages() { { kcat -C -b "$1" -t "$2" -e -q 2>/dev/null || true; } | wc -l; }

# 1. Only the C library's shared objects.
ldd "$static" >"$T/ldd" 2>&1 || true
sed 's/^/  ldd: /' "$T/ldd"
if grep -q "not a dynamic executable" "$T/ldd"; then pass "fully static"; else
  others=$(grep -vE '^\s*(linux-vdso\.so\.1|/lib64/ld-linux-x86-64\.so\.2|lib(c|m|pthread|dl|rt)\.so\.[0-9]+ )' "$T/ldd" || true)
  if [ -z "$others" ]; then pass "only C library shared objects"; else fail "shared libraries beyond libc: $others"; fi
fi

# 2. Same program as the regular build (same option tree), librdkafka from the recipe.
expect_exit 0 "--version" -- "$static" --version
if grep -qE '^mtastream [0-9.]+ \(librdkafka 2\.8\.[0-9]+\)$' "$T/out"; then pass "--version names librdkafka 2.8: $(cat "$T/out")"
else fail "--version: '$(cat "$T/out")'"; fi
if cmp -s <(sed 's/^{"version":"[^"]*",//' <("$static" option-tree)) <(sed 's/^{"version":"[^"]*",//' <("$MTASTREAM" option-tree))
then pass "static binary has the same commands and options as build/mtastream (not stale)"
else fail "static binary's option tree differs from build/mtastream's: rebuild it with 'make static'"; fi

# 3. The embedded broker (librdkafka's mock cluster, compiled in) answers a real client.
"$static" broker --topic static-demo:2 >"$T/broker.out" 2>"$T/broker.err" &
broker_pid=$!
cleanup_hooks+=("kill $broker_pid 2>/dev/null; wait $broker_pid 2>/dev/null")
for _ in $(seq 100); do grep -q '^BOOTSTRAP=' "$T/broker.out" && break; sleep 0.1; done
bootstrap=$(sed -n 's/^BOOTSTRAP=//p' "$T/broker.out" | head -1)
if [ -n "$bootstrap" ]; then pass "static broker prints BOOTSTRAP=$bootstrap"; else
  fail "static broker printed no BOOTSTRAP line"; sed 's/^/  /' "$T/broker.err" >&2; fi
seq 1 50 | sed 's/^/line-/' | kcat -P -b "$bootstrap" -t static-demo 2>"$T/kcat.err" || fail "kcat -P into the static broker"
got=$(count_messages "$bootstrap" static-demo)
expect_eq "$got" 50 "kcat round trip through the static binary's embedded broker"

# 4. SASL/SCRAM against the real broker: the static librdkafka has its own SCRAM (no Cyrus SASL).
head -300 "$SHARED_DATA/mta/turnstile_170617.txt" >"$T/week.txt"
scram=(-b "$SASL_BOOTSTRAP" -X security.protocol=SASL_PLAINTEXT -X sasl.mechanisms=SCRAM-SHA-512
       -X "sasl.username=$SCRAM_USER" -X "sasl.password=$SCRAM_PASSWORD")
topic=static-scram-$$-$RANDOM
expect_exit 0 "static replay -t over SASL_PLAINTEXT/SCRAM-SHA-512" -- \
  "$static" "${scram[@]}" replay -t "$topic" --as-fast-as-possible --json "$T/week.txt"
delivered=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["delivered"])' <"$T/out" 2>/dev/null || echo "?")
got=$(count_messages "$BOOTSTRAP" "$topic")
expect_eq "$got" "$delivered" "every delivered event is in the topic ($delivered)"
[ "$got" -gt 0 ] && pass "SCRAM run delivered events" || fail "SCRAM run delivered nothing"
expect_not_contains "$T/err" "$SCRAM_PASSWORD" "password not printed"

code=0
"$static" -b "$SASL_BOOTSTRAP" -X security.protocol=SASL_PLAINTEXT -X sasl.mechanisms=SCRAM-SHA-256 \
  -X "sasl.username=$SCRAM_USER" -X "sasl.password=$SCRAM_PASSWORD" \
  produce -t "$topic-produce" --generate city --count 200 --rate 100000 >"$T/out" 2>"$T/err" || code=$?
expect_eq "$code" 0 "static produce over SCRAM-SHA-256 exits 0"
got=$(count_messages "$BOOTSTRAP" "$topic-produce")
expect_eq "$got" 200 "static produce delivered 200 generated events over SCRAM"

# A wrong password fails (1 runtime error, or 3: nothing delivered) and is not echoed.
code=0
"$static" -b "$SASL_BOOTSTRAP" -X security.protocol=SASL_PLAINTEXT -X sasl.mechanisms=SCRAM-SHA-512 \
  -X "sasl.username=$SCRAM_USER" -X "sasl.password=wrong-$SCRAM_PASSWORD" -X message.timeout.ms=10000 \
  replay -t "$topic" --as-fast-as-possible "$T/week.txt" >"$T/out" 2>"$T/err" || code=$?
if [ "$code" -eq 1 ] || [ "$code" -eq 3 ]; then pass "wrong SCRAM password fails (exit $code)"; else
  fail "wrong SCRAM password: exit $code, expected 1 or 3"; fi
expect_contains "$T/err" "Authentication failed" "the error says authentication failed"
expect_not_contains "$T/err" "wrong-$SCRAM_PASSWORD" "wrong password not printed"

# 5. The metrics server (libmicrohttpd built in without TLS) answers; with no broker /healthz says 503.
port=$(free_port)
"$static" -b 127.0.0.1:1 consume -t static-metrics -G static-metrics --lake-dir "$T/metrics-lake" \
  --metrics-addr "$port" >/dev/null 2>"$T/metrics.err" &
metrics_pid=$!
cleanup_hooks+=("kill $metrics_pid 2>/dev/null; wait $metrics_pid 2>/dev/null")
expect_eq "$(wait_http "http://127.0.0.1:$port/healthz" 503 "$T/health")" "503" \
  "static consume --metrics-addr: /healthz 503 without a broker"
curl -s --max-time 5 "http://127.0.0.1:$port/metrics" >"$T/metrics.txt" || true
expect_contains "$T/metrics.txt" "# TYPE mtastream_consume_messages_read_total counter" "static consume serves /metrics"
kill -TERM "$metrics_pid"
code=0; wait "$metrics_pid" || code=$?
expect_eq "$code" "0" "static consume --metrics-addr stops on SIGTERM with exit 0"

# 6. --sink: the static libpq logs in with SCRAM (OpenSSL built in) and loads what the lake holds.
table=static_$$_$RANDOM
topic=static-sink-$$-$RANDOM
expect_exit 0 "topic create $topic" -- "$MTASTREAM" -b "$BOOTSTRAP" topic create "$topic" -p 2
expect_exit 0 "produce --generate city into $topic" -- "$MTASTREAM" -b "$BOOTSTRAP" produce -t "$topic" --generate city \
  --turnstiles 50 --count 3000 --rate 0 --start-time "2023-09-23 00:00:00" --step 1m --seed 4
expect_exit 0 "static consume -e --flush-open --sink (SCRAM password login)" -- \
  "$static" -b "$BOOTSTRAP" consume -t "$topic" -G "static-sink-$topic" --lake-dir "$T/sink-lake" -e --flush-open \
  --sink "$POSTGRES_URL" --sink-table "$table"
expect_not_contains "$T/err" "$POSTGRES_PASSWORD" "the warehouse password is not printed"
lake_rows=$(for f in "$T"/sink-lake/*.csv.gz; do gzip -dc "$f" | tail -n +2; done | wc -l)
table_rows=$(psql "$POSTGRES_URL" -X -At -c "SELECT count(*) FROM \"$table\"" 2>/dev/null || echo "?")
[ "$lake_rows" -gt 0 ] && expect_eq "$table_rows" "$lake_rows" "static --sink: the table holds every lake row ($lake_rows)" ||
  fail "static --sink: the lake is empty"
lake_entries=$(for f in "$T"/sink-lake/*.csv.gz; do gzip -dc "$f" | tail -n +2; done | awk -F, '{s += $11} END {print s}')
expect_eq "$(psql "$POSTGRES_URL" -X -At -c "SELECT sum(entries) FROM \"$table\"" 2>/dev/null || echo "?")" "$lake_entries" \
  "static --sink: the table's ENTRIES sum equals the lake's"
expect_exit 1 "static --sink with a wrong password: exit 1" -- \
  "$static" aggregate --sink "postgresql://$POSTGRES_USER:wrong-pw@127.0.0.1:$POSTGRES_PORT/$POSTGRES_DB" /dev/null
expect_contains "$T/err" "password authentication failed" "the static binary reports the refused login"
finish
