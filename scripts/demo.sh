#!/usr/bin/env bash
# `make demo`: the whole flow on one machine with nothing installed but the binary.
# Starts the embedded broker, produces simulated city traffic fast, consumes it into lake files
# (windows closed at end of topic), lists them, prints a few aggregated rows, and stops what it started.
#
# usage: scripts/demo.sh [BINARY]      (default build/mtastream)
# Env: DEMO_LAKE (lake dir, default ./storage/demo), DEMO_COUNT (messages, default 20000),
#      DEMO_RATE (messages/s, default 20000), DEMO_TOPIC (default mta-turnstile).
set -euo pipefail
mtastream=${1:-build/mtastream}
lake=${DEMO_LAKE:-storage/demo}
count=${DEMO_COUNT:-20000}
rate=${DEMO_RATE:-20000}
topic=${DEMO_TOPIC:-mta-turnstile}
[ -x "$mtastream" ] || { echo "demo: no binary at $mtastream (run 'make demo' or 'make' first)" >&2; exit 1; }

say() { printf '\n== %s\n' "$*" >&2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/mtastream-demo.XXXXXX")
broker_pid=""
stop_all() {
  if [ -n "$broker_pid" ] && kill -0 "$broker_pid" 2>/dev/null; then
    kill "$broker_pid" 2>/dev/null || true
    wait "$broker_pid" 2>/dev/null || true
    echo "demo: embedded broker stopped" >&2
  fi
  rm -rf "$work"
}
trap stop_all EXIT
trap 'exit 130' INT TERM

say "1. embedded broker: $mtastream broker --topic $topic:4"
"$mtastream" broker --topic "$topic:4" >"$work/broker.out" 2>"$work/broker.err" &
broker_pid=$!
for _ in $(seq 100); do
  grep -q '^BOOTSTRAP=' "$work/broker.out" 2>/dev/null && break
  kill -0 "$broker_pid" 2>/dev/null || { cat "$work/broker.err" >&2; exit 1; }
  sleep 0.1
done
bootstrap=$(sed -n 's/^BOOTSTRAP=//p' "$work/broker.out" | head -1)
[ -n "$bootstrap" ] || { echo "demo: the broker printed no BOOTSTRAP line" >&2; cat "$work/broker.err" >&2; exit 1; }
echo "broker at $bootstrap (pid $broker_pid; topic $topic, 4 partitions)" >&2

# A fixed seed and simulated clock: the same events, hence the same lake files, on every run.
say "2. produce: $count generated events at $rate/s (400 turnstiles, one report each 5 minutes of simulated time)"
"$mtastream" -b "$bootstrap" produce -t "$topic" --generate city --turnstiles 400 --rate "$rate" --count "$count" \
  --seed 42 --start-time "2023-06-03 00:00:00" --step 5m

say "3. consume -e --flush-open: window (5 minutes, tumbling) into $lake until the end of the topic (it has ended)"
mkdir -p "$lake"
code=0
"$mtastream" -b "$bootstrap" consume -t "$topic" -G demo-lake-writer --window 5m --lake-dir "$lake" -e --flush-open || code=$?
[ "$code" -eq 0 ] || { echo "demo: consume failed (exit $code)" >&2; exit "$code"; }

say "4. the lake: $lake"
files=$(find "$lake" -name '*.csv.gz' | sort)
[ -n "$files" ] || { echo "demo: no lake files were written" >&2; exit 1; }
echo "$(echo "$files" | wc -l) files, $(du -sh "$lake" | cut -f1); first ones:"
echo "$files" | head -5 | xargs ls -l
first=$(echo "$files" | head -1)

say "5. a few aggregated rows: zcat $first | head -6"
zcat "$first" | head -6 || true
echo
echo "demo done: files in $lake (rerun gives the same files; 'rm -r $lake' to clean up)" >&2
