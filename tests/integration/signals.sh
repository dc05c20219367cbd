#!/usr/bin/env bash
# Ctrl-C and SIGTERM: every command stops cleanly, prints its summary and exits as README's table says
# (130/143 for a run cut short; the same code a shell gives a job that a signal ended).
source "$(dirname "$0")/lib.sh"

# stop PID SIG: sends SIG, waits for PID (killed after 20 s if it ignores the signal; a background job of a
# script starts with SIGINT ignored, so a command without its own handler would never end), sets $code.
stop() {
  kill -"$2" "$1"
  ( sleep 20; kill -9 "$1" ) >/dev/null 2>&1 &
  local watchdog=$!
  code=0; wait "$1" || code=$?
  kill "$watchdog" 2>/dev/null || true
}

# pipe_empty FIFO: nothing is left in the pipe (its reader has read everything written so far).
pipe_empty() {
  python3 -c 'import fcntl, os, struct, sys, termios
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_NONBLOCK)
sys.exit(struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0" * 4))[0] != 0)' "$1"
}

"$MTASTREAM" replay "$SHARED_DATA/mta/turnstile_170617.txt" -o "$T/events.csv" 2>/dev/null || true
head -200 "$T/events.csv" >"$T/first.csv"

# aggregate from a stdin that stays open: the signal ends the input, open windows are written.
for sig in INT TERM; do
  want=130; [ "$sig" = TERM ] && want=143
  rm -f "$T/fifo" && mkfifo "$T/fifo"
  "$MTASTREAM" aggregate -o "$T/agg-$sig.csv" --json <"$T/fifo" >"$T/agg.out" 2>"$T/agg.err" &
  pid=$!
  exec 3>"$T/fifo"
  cat "$T/first.csv" >&3
  # Signalled once it has read all 200 lines and waits for more.
  wait_until 300 "aggregate reads the 200 lines from the fifo" -- pipe_empty "$T/fifo"
  stop "$pid" "$sig"
  exec 3>&-
  expect_eq "$code" "$want" "aggregate: SIG$sig exits $want"
  expect_contains "$T/agg.err" "read 200 messages" "aggregate: SIG$sig prints the summary"
  expect_contains "$T/agg.err" "interrupted" "aggregate: SIG$sig says it was interrupted"
  expect_contains "$T/agg.out" '"interrupted":true' "aggregate: SIG$sig --json says interrupted"
  rows=$(($(wc -l <"$T/agg-$sig.csv") - 1))
  [ "$rows" -gt 100 ] && pass "aggregate: SIG$sig writes the open windows ($rows rows)" ||
    fail "aggregate: SIG$sig wrote $rows rows"
done

# Without a signal the same input exits 0 and says nothing about an interruption.
expect_exit 0 "aggregate without a signal" -- "$MTASTREAM" aggregate -o "$T/plain.csv" --json "$T/first.csv"
expect_contains "$T/out" '"interrupted":false' "aggregate --json: interrupted false"

# replay paced in real time (a week): SIGINT stops it after the summary, exit 130. Signalled once the
# first events are out (stdout is written while it waits for the next ones).
"$MTASTREAM" replay --speed 1 -o - "$SHARED_DATA/mta/turnstile_170617.txt" >"$T/replayed.csv" 2>"$T/replay.err" &
pid=$!
wait_until 300 "replay writes its first events" -- test -s "$T/replayed.csv"
stop "$pid" INT
expect_eq "$code" 130 "replay: SIGINT exits 130"
expect_contains "$T/replay.err" "stopped before the end of the input" "replay: SIGINT says so"
finish
