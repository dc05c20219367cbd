#!/usr/bin/env bash
# `--sink postgresql://...` against a real PostgreSQL server (scripts/postgres-local.sh: loopback, SCRAM
# passwords) and a real Kafka broker: aggregate --sink equals aggregate's lake rows; consume --sink equals a
# crash-free run's lake row for row; SIGKILLs at random moments and restarts leave the table exactly equal
# to it; two members of one group loading at once double nothing; a lost Kafka commit resumes from the
# warehouse's checkpoint; a server that goes away mid-run is retried, or the run fails without committing
# past the table; passwords (URL, PGPASSWORD, PGPASSFILE) are never printed; bad URLs and a down server
# give clear errors.
# needs: kafka postgres
source "$(dirname "$0")/lib.sh"
need kafka
need postgres
command -v psql >/dev/null || { fail "psql not found (scripts/install-test-deps.sh: postgresql-client-15)"; finish; }
url=$POSTGRES_URL
secret=$POSTGRES_PASSWORD
sql() { psql "$url" -X -q -At -v ON_ERROR_STOP=1 -c "$1"; }
# table_rows TABLE: the table as sorted CSV lines (the lake's clean columns).
table_rows() {
  psql "$url" -X -q -v ON_ERROR_STOP=1 -c "COPY (SELECT ca, unit, scp, station, linename, division, date, time, \"desc\", entries, exits FROM \"$1\") TO STDOUT WITH (FORMAT csv)" |
    python3 -c 'import csv,sys; rows=sorted(tuple(r) for r in csv.reader(sys.stdin)); [print(",".join(r)) for r in rows]'
}
# lake_rows DIR: every row of DIR's lake files (top level, either layout) as sorted CSV lines, no index.
lake_rows() {
  python3 - "$1" <<'PY'
import csv, gzip, io, os, sys
rows = []
for name in os.listdir(sys.argv[1]):
    if not name.endswith(".csv.gz"):
        continue
    lines = list(csv.reader(io.StringIO(gzip.open(os.path.join(sys.argv[1], name), "rt").read())))
    skip = 1 if lines and lines[0][0] == "" else 0  # the original layout's index column
    rows += [tuple(r[skip:]) for r in lines[1:]]
for r in sorted(rows):
    print(",".join(r))
PY
}
# expect_same_rows A B WHAT
expect_same_rows() {
  if [ -s "$1" ] && cmp -s "$1" "$2"; then pass "$3 ($(wc -l <"$1") rows)"; else
    fail "$3: $(wc -l <"$1") vs $(wc -l <"$2") rows"; diff "$1" "$2" | head -5 >&2; fi
}
# no_secret FILE...: the password appears in none of them.
no_secret() {
  local f
  for f in "$@"; do if grep -qF -- "$secret" "$f"; then fail "the password is printed in $f"; grep -F -- "$secret" "$f" | head -2 >&2; return; fi; done
  pass "password not printed ($# outputs)"
}
# wait_bounded PID SECONDS: wait for PID; a run still going after SECONDS is a hang, not a slow machine:
# it is killed and the exit status is 124 (the suite fails instead of hanging until CTest's timeout).
wait_bounded() {
  local i
  for ((i = 0; i < $2 * 10; i++)); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$1" 2>/dev/null; then
    fail "pid $1 still running after $2 s: killed"; kill -9 "$1" 2>/dev/null; wait "$1" 2>/dev/null; return 124
  fi
  wait "$1"
}
outputs=()
keep() { cp "$T/out" "$T/keep-out-${#outputs[@]}"; cp "$T/err" "$T/keep-err-${#outputs[@]}";
         outputs+=("$T/keep-out-${#outputs[@]}" "$T/keep-err-${#outputs[@]}"); }
cd "$T"
id=$$-$RANDOM

# --- (1) aggregate --sink: the lake's rows; alone it writes no lake; a rerun loads nothing twice -------------
python3 "$MTASTREAM_SOURCE_DIR/tests/integration/aggregate/model.py" gen "$T" 7
expect_exit 3 "aggregate --lake-dir (the reference)" -- "$MTASTREAM" aggregate --lake-dir "$T/agg-lake" events.txt
lake_rows "$T/agg-lake" >agg-lake.rows
atable=agg_$id
expect_exit 3 "aggregate --sink (exit 3: the input has rejected messages)" -- \
  "$MTASTREAM" aggregate --sink "$url" --sink-table "$atable" --json events.txt
keep
table_rows "$atable" >agg-table.rows
expect_same_rows agg-table.rows agg-lake.rows "aggregate --sink: the table equals aggregate's lake rows"
[ ! -e "$T/storage" ] && pass "aggregate --sink alone writes no lake files" || fail "aggregate --sink alone wrote $T/storage"
expect_contains "$T/err" "into table $atable at postgresql://mtastream:***@" "the summary names the table and the redacted URL"
files=$(ls "$T/agg-lake" | wc -l)
expect_exit 3 "aggregate --sink again (same input)" -- "$MTASTREAM" aggregate --sink "$url" --sink-table "$atable" events.txt
keep
expect_contains "$T/err" "0 windows (0 rows) loaded into table $atable" "a rerun loads nothing"
expect_contains "$T/err" ", $files already there" "a rerun finds every window already there (checked equal)"
table_rows "$atable" >agg-table2.rows
expect_same_rows agg-table2.rows agg-lake.rows "after the rerun the table is unchanged"
expect_exit 1 "aggregate --sink of other rows into the same windows is refused" -- \
  "$MTASTREAM" aggregate --window 5m --slide 5m --watermark 0 --sink "$url" --sink-table "$atable" events.txt
keep
expect_contains "$T/err" "already in table '$atable' with other rows" "the refusal says the window holds other rows"
table_rows "$atable" >agg-table3.rows
expect_same_rows agg-table3.rows agg-lake.rows "a refused batch changes nothing"
expect_exit 3 "aggregate ?table= in the URL, with a lake too" -- \
  "$MTASTREAM" aggregate --layout clean --lake-dir "$T/agg-lake2" --sink "$url?table=${atable}_b" events.txt
table_rows "${atable}_b" >agg-b.rows
expect_same_rows agg-b.rows agg-lake.rows "?table=NAME picks the table"
[ "$(ls "$T/agg-lake2" | wc -l)" = "$files" ] && pass "--sink with --lake-dir writes the lake too" || fail "no lake with --lake-dir"
# The original's second consumer straight into a table: just the group columns (plus DATE, TIME, sums).
expect_exit 3 "aggregate --group-by STATION --window 4h --sink, with a lake" -- "$MTASTREAM" aggregate --group-by STATION \
  --window 4h --layout clean --lake-dir "$T/agg-station" --sink "$url" --sink-table "${atable}_station" events.txt
psql "$url" -X -q -v ON_ERROR_STOP=1 -c "COPY (SELECT station, date, time, entries, exits FROM \"${atable}_station\") TO STDOUT WITH (FORMAT csv)" |
  python3 -c 'import csv,sys; [print(",".join(r)) for r in sorted(tuple(r) for r in csv.reader(sys.stdin))]' >agg-station.rows
lake_rows "$T/agg-station" >agg-station-lake.rows
expect_same_rows agg-station.rows agg-station-lake.rows "--group-by STATION: the table equals the lake's rows"
cols=$(sql "select string_agg(column_name, ',' order by ordinal_position) from information_schema.columns where table_name = '${atable}_station'")
expect_eq "$cols" "station,date,time,entries,exits" "--group-by STATION: the table holds just that group column"

# --- (2) consume --sink equals a crash-free run's lake --------------------------------------------------
topic=sink-$id
mkdir "$T/data"
model generate "$T/data" 60000 4 5 --spread
load_topic "$topic" 4 "$T/data"
expect_exit 3 "consume -e --flush-open without --sink (the crash-free reference)" -- \
  consume -t "$topic" -G "ref-$id" --lake-dir "$T/ref" -e --flush-open
lake_rows "$T/ref" >ref.rows
ctable=wide_$id
expect_exit 3 "consume -e --flush-open --sink" -- \
  consume -t "$topic" -G "one-$id" --lake-dir "$T/one" -e --flush-open --sink "$url" --sink-table "$ctable" --json
keep
cp "$T/out" "$T/one.json"
table_rows "$ctable" >one.rows
expect_same_rows one.rows ref.rows "consume --sink: the table equals the crash-free lake row for row"
expect_eq "$(sums "$T/one" | md5sum)" "$(sums "$T/ref" | md5sum)" "consume --sink writes the same lake as without"
expect_eq "$(sql "SELECT count(*) FROM mtastream_windows WHERE table_name = '$ctable'")" "$(ls "$T/ref" | grep -c 'csv.gz$')" \
  "one loaded-window record per lake file"
expect_eq "$(sql "SELECT count(*) FROM mtastream_checkpoints WHERE \"group\" = 'one-$id' AND topic = '$topic'")" 4 \
  "a checkpoint per partition in mtastream_checkpoints"
kafka_offsets=$(python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["committed"]; print(" ".join("%s:%s" % (p, c[p]) for p in sorted(c, key=int)))' "$T/one.json")
sink_offsets=$(sql "SELECT string_agg(partition || ':' || \"offset\", ' ' ORDER BY partition) FROM mtastream_checkpoints WHERE \"group\" = 'one-$id'")
expect_eq "$sink_offsets" "$kafka_offsets" "the warehouse's checkpoints equal the offsets committed to Kafka"
# The default table name: <prefix>_<topic>, lower case, other bytes as '_'.
expect_exit 3 "consume --sink with the default table" -- \
  consume -t "$topic" -G "default-$id" --lake-dir "$T/default" -e --flush-open --sink "$url"
want_table="turnstile_$(echo "$topic" | tr '-' '_')"
table_rows "$want_table" >default.rows
expect_same_rows default.rows ref.rows "the default table turnstile_<topic> holds the rows"

# --- (3) a lost Kafka commit: the warehouse's checkpoint is where the table is ---------------------------
sql "INSERT INTO mtastream_checkpoints (\"group\", topic, partition, \"offset\", metadata) SELECT 'lost-$id', topic, partition, \"offset\", metadata FROM mtastream_checkpoints WHERE \"group\" = 'one-$id' AND topic = '$topic'"
expect_exit 0 "consume -e --sink of a group whose Kafka commit was lost (warehouse checkpoint only)" -- \
  consume -t "$topic" -G "lost-$id" --lake-dir "$T/one" -e --flush-open --sink "$url" --sink-table "$ctable" --json
keep
expect_contains "$T/err" "resuming from the warehouse's checkpoint" "it says it resumes from the warehouse's checkpoint"
grep -q '"read":0,' "$T/out" && pass "nothing re-read: the warehouse checkpoint was past everything" ||
  fail "the run re-read the topic: $(cat "$T/out")"
table_rows "$ctable" >lost.rows
expect_same_rows lost.rows ref.rows "after resuming from the warehouse's checkpoint the table is unchanged"

# --- (4) SIGKILL at random moments, restart each time: the table equals the crash-free lake --------------
ktable=kill_$id
mkdir -p "$T/kill"
progress() { local n; n=$(find "$T/kill" -type f | wc -l) || true; echo "${n:-0}"; }
# Small fetches keep the partitions in step, so windows are merged (and loaded) all through the run.
slow_exec() {
  exec "$MTASTREAM" -b "$BOOTSTRAP" -X session.timeout.ms=6000 -X heartbeat.interval.ms=500 \
    -X max.partition.fetch.bytes=8192 -X queued.min.messages=2000 -X queued.max.messages.kbytes=64 consume "$@"
}
loaded() { sql "SELECT count(*) FROM mtastream_windows WHERE table_name = '$ktable'" 2>/dev/null || echo 0; }
kills=0
for i in 1 2 3 4 5 6 7 8 9 10; do
  slow_exec -t "$topic" -G "kill-$id" --lake-dir "$T/kill" -e --flush-open --sink "$url" --sink-table "$ktable" \
    --commit-interval 0.02 >/dev/null 2>"$T/kill$i.err" &
  pid=$!
  cleanup_hooks+=("kill -9 $pid 2>/dev/null")
  if [ $((i % 2)) = 1 ]; then  # after some staging progress (segments, markers, lake files)
    target=$(( $(progress) + 2 + RANDOM % 10 ))
    while kill -0 "$pid" 2>/dev/null && [ "$(progress)" -lt "$target" ]; do sleep 0.02; done
  else  # while windows are being loaded: after 1-4 more loaded windows
    target=$(( $(loaded) + 1 + RANDOM % 4 ))
    while kill -0 "$pid" 2>/dev/null && [ "$(loaded)" -lt "$target" ]; do sleep 0.02; done
  fi
  if ! kill -9 "$pid" 2>/dev/null; then wait "$pid" 2>/dev/null || true; break; fi  # it finished first
  kills=$((kills + 1))
  wait "$pid" 2>/dev/null || true
  outputs+=("$T/kill$i.err")
  echo "after kill $i: $(progress) files, $(sql "SELECT count(*) FROM \"$ktable\"" 2>/dev/null || echo 0) rows in the table"
done
[ "$kills" -ge 2 ] && pass "$kills consumers killed mid-run" || fail "only $kills kills landed mid-run"
[ "$(loaded)" -gt 0 ] && pass "kills landed while windows were being loaded ($(loaded) windows in before the last run)" ||
  fail "no kill landed after the first window was loaded"
code=0
consume -t "$topic" -G "kill-$id" --lake-dir "$T/kill" -e --flush-open --sink "$url" --sink-table "$ktable" >"$T/out" 2>"$T/err" || code=$?
keep
[ "$code" = 0 ] || [ "$code" = 3 ] && pass "final consume -e --sink after the kills (exit $code)" ||
  { fail "final consume after the kills: exit $code"; cat "$T/err" >&2; }
table_rows "$ktable" >kill.rows
expect_same_rows kill.rows ref.rows "after SIGKILLs: the table equals the crash-free lake row for row"
expect_eq "$(sums "$T/kill" | md5sum)" "$(sums "$T/ref" | md5sum)" "after SIGKILLs: the lake is byte-identical too"

# --- (5) two members of one group loading at once: nothing doubled -----------------------------------
ftable=fleet_$id
for m in 1 2; do
  consume_exec -t "$topic" -G "fleet-$id" --lake-dir "$T/fleet" -e --flush-open --sink "$url" --sink-table "$ftable" \
    >"$T/fleet$m.out" 2>"$T/fleet$m.err" &
  eval "fleet_pid$m=$!"
done
code1=0 code2=0
wait_bounded "$fleet_pid1" 600 || code1=$?
wait_bounded "$fleet_pid2" 600 || code2=$?
outputs+=("$T/fleet1.err" "$T/fleet2.err")
{ [ "$code1" = 0 ] || [ "$code1" = 3 ]; } && { [ "$code2" = 0 ] || [ "$code2" = 3 ]; } &&
  pass "two members with --sink both finished (exit $code1, $code2)" ||
  { fail "two members: exit $code1, $code2"; tail -5 "$T/fleet1.err" "$T/fleet2.err" >&2; }
table_rows "$ftable" >fleet.rows
expect_same_rows fleet.rows ref.rows "two members: the table equals the crash-free lake, nothing doubled"

# --- (6) the server goes away mid-run: retried; away for good: exit 1, nothing committed past the table --
# A loopback TCP relay in front of the server that can be stopped and started (connections refused meanwhile).
cat >"$T/relay.py" <<'PY'
import socket, sys, threading
upstream, port_file = (sys.argv[1], int(sys.argv[2])), sys.argv[3]
server = socket.socket(); server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", int(sys.argv[4]) if len(sys.argv) > 4 else 0)); server.listen(16)
open(port_file, "w").write(str(server.getsockname()[1]))
def pipe(a, b):
    try:
        while (data := a.recv(65536)):
            b.sendall(data)
    except OSError:
        pass
    for s in (a, b):
        try: s.shutdown(socket.SHUT_RDWR)
        except OSError: pass
while True:
    client, _ = server.accept()
    up = socket.create_connection(upstream)
    for a, b in ((client, up), (up, client)):
        threading.Thread(target=pipe, args=(a, b), daemon=True).start()
PY
python3 "$T/relay.py" 127.0.0.1 "$POSTGRES_PORT" "$T/relay.port" &
relay=$!
cleanup_hooks+=("kill $relay 2>/dev/null")
for _ in $(seq 100); do [ -s "$T/relay.port" ] && break; sleep 0.05; done
rport=$(cat "$T/relay.port")
rurl="postgresql://$POSTGRES_USER:$secret@127.0.0.1:$rport/$POSTGRES_DB"
otable=outage_$id
# A topic of its own with the same partitions, loaded in two halves: the second half is produced only after
# the relay has died, so the run must load more windows then (it cannot have loaded them all before).
otopic=outage-$id
mkdir -p "$T/half1" "$T/half2"
for p in 0 1 2 3; do
  n=$(wc -l <"$T/data/p$p.kv")
  head -n $((n / 2)) "$T/data/p$p.kv" >"$T/half1/p$p.kv"
  tail -n +$((n / 2 + 1)) "$T/data/p$p.kv" >"$T/half2/p$p.kv"
done
load_topic "$otopic" 4 "$T/half1"
# Run long (no -e): windows are loaded as the topic is read; the relay dies for good mid-run.
consume_exec -t "$otopic" -G "outage-$id" --lake-dir "$T/outage" --sink "$rurl" --sink-table "$otable" \
  --commit-interval 0.2 >"$T/outage.out" 2>"$T/outage.err" &
pid=$!
cleanup_hooks+=("kill -9 $pid 2>/dev/null")
for _ in $(seq 600); do [ "$(sql "SELECT count(*) FROM mtastream_windows WHERE table_name = '$otable'" 2>/dev/null || echo 0)" -gt 0 ] && break; sleep 0.1; done
kill "$relay"; wait "$relay" 2>/dev/null || true
for p in 0 1 2 3; do
  kcat -P -b "$BOOTSTRAP" -t "$otopic" -p "$p" -K $'\t' -X enable.idempotence=true <"$T/half2/p$p.kv" 2>/dev/null ||
    fail "kcat -P the second half into partition $p"
done
code=0
wait_bounded "$pid" 300 || code=$?
outputs+=("$T/outage.err" "$T/outage.out")
expect_eq "$code" 1 "the warehouse gone for good mid-run: exit 1"
expect_contains "$T/outage.err" "trying again" "the lost connection was retried first"
expect_contains "$T/outage.err" "127.0.0.1:$rport" "the error names host and port"
# Nothing committed to Kafka past the table: a run against the real server finishes the table exactly.
code=0
consume -t "$otopic" -G "outage-$id" --lake-dir "$T/outage" -e --flush-open --sink "$url" --sink-table "$otable" >"$T/out" 2>"$T/err" || code=$?
keep
[ "$code" = 0 ] || [ "$code" = 3 ] && pass "the next run (server back) finishes (exit $code)" || { fail "next run: exit $code"; cat "$T/err" >&2; }
table_rows "$otable" >outage.rows
expect_same_rows outage.rows ref.rows "after the outage the table equals the crash-free lake"
# A short outage: the relay comes back on the same port while the run retries.
python3 "$T/relay.py" 127.0.0.1 "$POSTGRES_PORT" "$T/relay2.port" &
relay=$!
cleanup_hooks+=("kill $relay 2>/dev/null")
for _ in $(seq 100); do [ -s "$T/relay2.port" ] && break; sleep 0.05; done
rport=$(cat "$T/relay2.port")
rurl="postgresql://$POSTGRES_USER:$secret@127.0.0.1:$rport/$POSTGRES_DB"
stable=short_$id
# Small fetches (slow_exec) spread the loading over the run, so it is still loading when the relay stops.
slow_exec -t "$topic" -G "short-$id" --lake-dir "$T/short" -e --flush-open --sink "$rurl" --sink-table "$stable" \
  --commit-interval 0.2 >"$T/short.out" 2>"$T/short.err" &
pid=$!
cleanup_hooks+=("kill -9 $pid 2>/dev/null")
for _ in $(seq 600); do [ "$(sql "SELECT count(*) FROM mtastream_windows WHERE table_name = '$stable'" 2>/dev/null || echo 0)" -gt 0 ] && break; sleep 0.1; done
kill "$relay"; wait "$relay" 2>/dev/null || true
for _ in $(seq 200); do grep -q "trying again" "$T/short.err" && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
python3 "$T/relay.py" 127.0.0.1 "$POSTGRES_PORT" "$T/relay3.port" "$rport" &
relay=$!
cleanup_hooks+=("kill $relay 2>/dev/null")
code=0
wait_bounded "$pid" 300 || code=$?
outputs+=("$T/short.err" "$T/short.out")
if grep -q "trying again" "$T/short.err"; then
  [ "$code" = 0 ] || [ "$code" = 3 ] && pass "a short outage is ridden out (exit $code)" || { fail "short outage: exit $code"; tail -5 "$T/short.err" >&2; }
  table_rows "$stable" >short.rows
  expect_same_rows short.rows ref.rows "after a short outage the table equals the crash-free lake"
else
  fail "the short outage was not noticed (the run finished before the relay stopped?)"
fi
kill "$relay" 2>/dev/null || true

# --- (7) passwords never printed; PGPASSWORD and PGPASSFILE work; bad URLs and a down server -------------
nopw="postgresql://$POSTGRES_USER@127.0.0.1:$POSTGRES_PORT/$POSTGRES_DB"
expect_exit 3 "PGPASSWORD instead of a password in the URL (debug log)" -- \
  env PGPASSWORD="$secret" "$MTASTREAM" -v aggregate --sink "$nopw" --sink-table "pgpw_$id" events.txt
keep
table_rows "pgpw_$id" >pgpw.rows
expect_same_rows pgpw.rows agg-lake.rows "PGPASSWORD: loaded"
echo "127.0.0.1:$POSTGRES_PORT:$POSTGRES_DB:$POSTGRES_USER:$secret" >"$T/pgpass"
chmod 600 "$T/pgpass"
expect_exit 3 "PGPASSFILE" -- env PGPASSFILE="$T/pgpass" "$MTASTREAM" aggregate --sink "$nopw" --sink-table "pgpass_$id" events.txt
keep
table_rows "pgpass_$id" >pgpass.rows
expect_same_rows pgpass.rows agg-lake.rows "PGPASSFILE: loaded"
expect_exit 1 "a wrong password: exit 1" -- \
  "$MTASTREAM" aggregate --sink "postgresql://$POSTGRES_USER:wrong-pw-for-tests@127.0.0.1:$POSTGRES_PORT/$POSTGRES_DB" events.txt
keep
expect_contains "$T/err" "password authentication failed" "the error says the login was refused"
expect_not_contains "$T/err" "wrong-pw-for-tests" "the wrong password is not printed"
expect_not_contains "$T/err" "trying again" "a refused login is not retried"
down=$(free_port)
expect_exit 1 "a server that is down: exit 1" -- \
  "$MTASTREAM" aggregate --sink "postgresql://$POSTGRES_USER:$secret@127.0.0.1:$down/whdb" events.txt
keep
expect_contains "$T/err" "cannot connect to the PostgreSQL warehouse at 127.0.0.1:$down, database whdb" \
  "the error names host, port and database"
expect_exit 1 "consume --sink with the server down: exit 1 before reading" -- \
  consume -t "$topic" -G "down-$id" --lake-dir "$T/down" -e --sink "postgresql://u:$secret@127.0.0.1:$down/whdb"
keep
[ ! -e "$T/down" ] && pass "nothing written when the warehouse is down at the start" || fail "$T/down was written"
expect_exit 2 "a URL that is not postgresql://: exit 2" -- "$MTASTREAM" aggregate --sink "mysql://u:$secret@h/db" events.txt
keep
expect_contains "$T/err" "mysql://u:***@h/db" "the bad URL is shown redacted"
expect_exit 2 "an unknown URL parameter: exit 2" -- "$MTASTREAM" aggregate --sink "$url?bogus=1" events.txt
keep
expect_contains "$T/err" "bogus" "the error names the bad parameter"
expect_exit 2 "--sink with --per-partition: exit 2" -- \
  consume -t "$topic" -G "pp-$id" --per-partition -e --sink "$url"
keep
expect_exit 2 "--sink-table without --sink: exit 2" -- "$MTASTREAM" aggregate --sink-table x events.txt
# config show: a --sink URL from a config file is redacted.
cat >"$T/config.toml" <<TOML
[consume]
sink = "$url"
TOML
expect_exit 0 "config show with a --sink URL in the config file" -- "$MTASTREAM" --config "$T/config.toml" config show
keep
expect_contains "$T/out" "postgresql://mtastream:***@" "config show redacts the URL's password"
"$MTASTREAM" consume --help >"$T/help.txt" 2>&1 || true
expect_contains "$T/help.txt" "--sink" "consume --help documents --sink"
outputs+=("$T/help.txt")
no_secret "${outputs[@]}"
finish
