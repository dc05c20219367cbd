# `make demo` (scripts/demo.sh): embedded broker, produce, consume -e into a lake dir, rows printed, and
# everything it started stopped again.
source "$(dirname "$0")/lib.sh"
lake=$T/lake
code=0
DEMO_LAKE=$lake DEMO_COUNT=8000 bash "$MTASTREAM_SOURCE_DIR/scripts/demo.sh" "$MTASTREAM" >"$T/demo.out" 2>"$T/demo.err" || code=$?
broker_pid=$(sed -n 's/.*broker at .* (pid \([0-9]*\);.*/\1/p' "$T/demo.err" | head -1)
if [ -n "$broker_pid" ] && kill -0 "$broker_pid" 2>/dev/null; then fail "the demo left its broker (pid $broker_pid) running"
elif [ -n "$broker_pid" ]; then pass "the demo stopped its broker"; fi
expect_eq "$code" 0 "scripts/demo.sh exits 0"
[ "$code" -eq 0 ] || sed 's/^/  demo: /' "$T/demo.err" | tail -30 >&2
expect_contains "$T/demo.err" "delivered 8000" "the producer delivered every generated event"
files=$(find "$lake" -name '*.csv.gz' | wc -l)
[ "$files" -gt 0 ] && pass "lake files written ($files)" || fail "no lake files in $lake"
expect_contains "$T/demo.out" ",CA,UNIT,SCP,STATION,LINENAME,DIVISION,DATE,TIME,DESC,ENTRIES,EXITS" "rows printed with the lake header"
sum_lake=$(find "$lake" -name '*.csv.gz' -print0 | xargs -0 zcat | awk -F, '!/^,?CA,/ {s += $(NF-1)} END {print s+0}')
[ "$sum_lake" -gt 0 ] && pass "lake rows sum to $sum_lake entries" || fail "lake rows sum to nothing"
# A rerun rewrites the same files with the same bytes (fixed seed and simulated clock, deterministic names).
(cd "$lake" && find . -name '*.csv.gz' -exec md5sum {} + | sort) >"$T/first.md5"
DEMO_LAKE=$lake DEMO_COUNT=8000 bash "$MTASTREAM_SOURCE_DIR/scripts/demo.sh" "$MTASTREAM" >/dev/null 2>"$T/demo2.err" || fail "second demo run failed"
(cd "$lake" && find . -name '*.csv.gz' -exec md5sum {} + | sort) >"$T/second.md5"
if cmp -s "$T/first.md5" "$T/second.md5"; then pass "a rerun gives byte-identical lake files"; else
  fail "a rerun changed the lake"; diff "$T/first.md5" "$T/second.md5" | head >&2; fi
finish
