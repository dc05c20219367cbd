#!/usr/bin/env bash
# consume --metrics-addr against a real Apache Kafka broker: /metrics scraped with curl while a long-running
# consume reads a loaded topic and once everything is read, parsed with a real Prometheus text parser
# (prometheus_client), its counters equal to the --json summary printed at SIGTERM (which still flushes,
# commits and exits as without metrics); /healthz 200 while it commits, 503 when no broker answers; a bad
# or busy --metrics-addr is a usage error (exit 2) before anything is read or written; no secret on a page.
# needs: kafka
source "$(dirname "$0")/lib.sh"
need kafka
prom_python=${MTASTREAM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mtastream}/prometheus-client-0.26.0/bin/python
[ -x "$prom_python" ] || { echo "FAIL: no prometheus_client venv at $prom_python: run scripts/install-test-deps.sh" >&2; exit 1; }
consume_exec() { exec "$MTASTREAM" -b "$BOOTSTRAP" -X session.timeout.ms=6000 -X heartbeat.interval.ms=500 consume "$@"; }
# scrape URL FILE: the page (curl fails on a non-2xx answer).
scrape() { curl -sS -f --max-time 5 -o "$2" "$1"; }
# sums FILE: parses the page with prometheus_client; prints one JSON object {sample name: sum over labels},
# and fails when the page is not valid text format.
sums() {
  "$prom_python" - "$1" <<'PY'
import json, sys
from prometheus_client.parser import text_string_to_metric_families
totals = {}
for family in text_string_to_metric_families(open(sys.argv[1]).read()):
    for s in family.samples:
        totals[s.name] = totals.get(s.name, 0) + s.value
        if "partition" in s.labels:
            key = "%s/%s" % (s.name, s.labels["partition"])
            totals[key] = totals.get(key, 0) + s.value
        totals.setdefault("types", {})[family.name] = family.type
print(json.dumps(totals))
PY
}
# field JSON_FILE KEY: one value of a flat JSON object.
field() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1])).get(sys.argv[2]); print("" if v is None else int(v) if isinstance(v, float) and v.is_integer() else v)' "$1" "$2"; }

topic=metrics-$$-$RANDOM
group=metrics-$topic
mkdir "$T/data"
model generate "$T/data" 40000 4 17
load_topic "$topic" 4 "$T/data"
total=40000

# --- a bad address: exit 2 before anything starts -------------------------------------------------------
for bad in "nope:abc" "70000" "::1:9100" "no.such.host.invalid:9100" "192.0.2.1:9100"; do
  expect_exit 2 "--metrics-addr '$bad' is a usage error (exit 2)" -- \
    "$MTASTREAM" -b "$BOOTSTRAP" consume -t "$topic" -G "bad-$group" --lake-dir "$T/bad-lake" --metrics-addr "$bad" -e
  expect_contains "$T/err" "mtastream: error: --metrics-addr '$bad'" "the error names the address '$bad'"
done
[ ! -e "$T/bad-lake" ] && pass "nothing written with a bad address" || fail "a lake dir was made with a bad address"
expect_exit 2 "--health-max-age without --metrics-addr is a usage error" -- \
  "$MTASTREAM" -b "$BOOTSTRAP" consume -t "$topic" -G "bad-$group" --health-max-age 30s -e

# --- a long-running consume, scraped while it runs -------------------------------------------------------
port=$(free_port)
url=http://127.0.0.1:$port
consume_exec -t "$topic" -G "$group" --lake-dir "$T/lake" --metrics-addr "$port" --json >"$T/summary.json" 2>"$T/run.err" &
pid=$!
cleanup_hooks+=("kill -9 $pid 2>/dev/null")

expect_eq "$(wait_http "$url/healthz" 200 "$T/healthz" 100)" "200" "/healthz 200 while it commits"
expect_contains "$T/run.err" "metrics on $url/metrics" "stderr tells where the metrics are"
expect_exit 2 "a second consume on the same --metrics-addr is refused (exit 2)" -- \
  "$MTASTREAM" -b "$BOOTSTRAP" consume -t "$topic" -G "busy-$group" --lake-dir "$T/busy-lake" --metrics-addr "$port" -e
expect_contains "$T/err" "cannot listen there" "the refusal says the address is taken"
[ ! -e "$T/busy-lake" ] && pass "nothing written when the address is taken" || fail "busy address: a lake dir was made"
scrape "$url/metrics" "$T/early.txt" && pass "/metrics scraped while running" || fail "/metrics scrape"
sums "$T/early.txt" >"$T/early.json" && pass "the page parses as the Prometheus text format" ||
  { fail "prometheus_client cannot parse the page"; head -30 "$T/early.txt" >&2; }

# Wait until everything is read and the counters stand still (the windows closed, merged and committed).
last="" stable=0
for _ in $(seq 150); do
  scrape "$url/metrics" "$T/page.txt" && sums "$T/page.txt" >"$T/page.json" || { sleep 0.2; continue; }
  now=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d.get("mtastream_consume_messages_read_total",0), d.get("mtastream_consume_lag_messages",-1), d.get("mtastream_consume_lake_files_total"), d.get("mtastream_consume_commits_total"))' "$T/page.json")
  if [ "${now%% *}" = "$total" ] && [ "$now" = "$last" ]; then stable=$((stable + 1)); else stable=0; fi
  [ "$stable" -ge 4 ] && break
  last=$now
  sleep 0.5
done
expect_eq "$(field "$T/page.json" mtastream_consume_messages_read_total)" "$total" "/metrics: every message read"
expect_eq "$(field "$T/page.json" mtastream_consume_lag_messages)" "0" "/metrics: lag 0 once everything is read"
for p in 0 1 2 3; do
  lines=$(wc -l <"$T/data/p$p.kv")
  expect_eq "$(field "$T/page.json" "mtastream_consume_messages_read_total/$p")" "$lines" "/metrics: partition $p read $lines"
done
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); t=d["types"]; assert t["mtastream_consume_messages_read"]=="counter" and t["mtastream_consume_lag_messages"]=="gauge", t; assert d["mtastream_consume_open_windows"] > 0; assert d["mtastream_consume_rebalances_total"] >= 1; assert d["mtastream_consume_seconds_since_last_commit"] < 60; assert d["mtastream_consume_brokers_up"] >= 1; assert d["mtastream_consume_healthy"] == 1' "$T/page.json" &&
  pass "/metrics: types, open windows, rebalances, last commit age, brokers up, healthy" ||
  { fail "/metrics families"; cat "$T/page.json" >&2; }
code=$(curl -s -o /dev/null -w '%{http_code}' "$url/healthz")
expect_eq "$code" "200" "/healthz 200 once everything is read (idle topic, nothing new to commit)"

# SIGTERM: flush, commit, exit as today (3: rejected messages were met); the summary matches the page.
kill -TERM "$pid"
code=0; wait "$pid" || code=$?
expect_eq "$code" "3" "SIGTERM: exit 3 (rejected messages), as without --metrics-addr"
for pair in read:read accepted:accepted late:late duplicate:duplicates malformed:bad overflow:overflow; do
  page=${pair%%:*} json=${pair##*:}
  expect_eq "$(field "$T/page.json" "mtastream_consume_messages_${page}_total")" "$(field "$T/summary.json" "$json")" \
    "/metrics messages_${page}_total = --json $json"
done
for pair in lake_files:files lake_bytes:bytes lake_rows:rows uploads:uploaded segments:segments; do
  page=${pair%%:*} json=${pair##*:}
  expect_eq "$(field "$T/page.json" "mtastream_consume_${page}_total")" "$(field "$T/summary.json" "$json")" \
    "/metrics ${page}_total = --json $json"
done
[ "$(field "$T/summary.json" files)" -gt 0 ] && pass "lake files were written" || fail "no lake file written"
expect_eq "$(ls "$T/lake" | grep -c 'csv.gz$')" "$(field "$T/summary.json" files)" "files on the page = files in the lake"
curl -s --max-time 2 "$url/metrics" >/dev/null && fail "the server still answers after exit" || pass "the server is gone after exit"

# --- -e with metrics: the same summary as without; no broker: /healthz 503; no secret on any page --------
expect_exit 3 "consume -e --metrics-addr 0 (any free port) runs to the end" -- \
  "$MTASTREAM" -b "$BOOTSTRAP" consume -t "$topic" -G "e-$group" --lake-dir "$T/lake-e" --metrics-addr 0 -e --json
expect_eq "$(field "$T/out" read)" "$total" "-e with metrics: every message read"
expect_contains "$T/err" "metrics on http://127.0.0.1:" "port 0: the chosen port is logged"

port=$(free_port)
secret=s3cret-$RANDOM$RANDOM
"$MTASTREAM" -b 127.0.0.1:1 -X sasl.username=u -X "sasl.password=$secret" consume -t "$topic" -G "gone-$group" \
  --lake-dir "$T/lake-gone" --metrics-addr "127.0.0.1:$port" --health-max-age 30s >/dev/null 2>"$T/gone.err" &
gone=$!
cleanup_hooks+=("kill -9 $gone 2>/dev/null")
expect_eq "$(wait_http "http://127.0.0.1:$port/healthz" 503 "$T/gone-health")" "503" "/healthz 503 when no broker answers"
expect_contains "$T/gone-health" "no broker answers" "/healthz says why"
scrape "http://127.0.0.1:$port/metrics" "$T/gone.txt" || fail "scrape with the broker gone"
expect_contains "$T/gone.txt" 'mtastream_consume_healthy{' "the page has the health gauge"
expect_contains "$T/gone.txt" "mtastream_consume_brokers_up{topic=\"$topic\",group=\"gone-$group\"} 0" "the page shows no broker up"
cat "$T/gone.txt" "$T/gone-health" "$T/page.txt" "$T/healthz" >"$T/pages.txt"
expect_not_contains "$T/pages.txt" "$secret" "no secret on any page"
kill -TERM "$gone"
wait "$gone" 2>/dev/null || true

finish
