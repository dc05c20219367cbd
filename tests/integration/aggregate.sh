#!/usr/bin/env bash
# `mtastream aggregate` end to end: mixed wire forms, bad and late input, every window shape, lake files,
# gzip and stdin inputs; expected output computed independently by tests/integration/aggregate/model.py.
source "$(dirname "$0")/lib.sh"
MODEL="$MTASTREAM_SOURCE_DIR/tests/integration/aggregate/model.py"
cd "$T"

python3 "$MODEL" gen "$T" 7
EV=events.txt

# Output and dead letters against the model, for tumbling, sliding and edge watermark settings.
for cfg in "300 300 300" "300 60 300" "600 300 0" "300 120 45" "60 60 0" "3600 900 7200"; do
  set -- $cfg
  python3 "$MODEL" expect "$EV" "$1" "$2" "$3" original expected.csv expected.dead
  expect_exit 3 "window $1 slide $2 watermark $3: partial (bad and late input)" -- \
    "$MTASTREAM" aggregate --window "${1}s" --slide "${2}s" --watermark "${3}s" -o - --dead-letter "dl-$1-$2-$3.ndjson" "$EV"
  if cmp -s "$T/out" expected.csv; then pass "window $1 slide $2 watermark $3: rows match the model"; else
    fail "window $1 slide $2 watermark $3: rows differ from the model"; diff expected.csv "$T/out" | head -5 >&2; fi
  python3 - "dl-$1-$2-$3.ndjson" expected.dead <<'PY' && pass "window $*: dead letters match the model" || fail "window $*: dead letters differ"
import json, sys
got = []
for line in open(sys.argv[1]):
    d = json.loads(line)
    assert set(d) == {"source", "reason", "message"}, d
    got.append((d["source"], "late" if d["reason"].startswith("late:") else "bad"))
want = [tuple(l.split()) for l in open(sys.argv[2])]
if got != want:
    print("first difference:", next(((g, w) for g, w in zip(got, want) if g != w), (len(got), len(want))), file=sys.stderr)
    sys.exit(1)
PY
done

# Defaults are 5-minute tumbling windows with a 5-minute watermark; clean layout drops the index column.
python3 "$MODEL" expect "$EV" 300 300 300 clean expected-clean.csv expected.dead
expect_exit 3 "defaults with --layout clean" -- "$MTASTREAM" aggregate --layout clean -o - "$EV"
cmp -s "$T/out" expected-clean.csv && pass "clean layout matches the model" || fail "clean layout differs"
expect_contains "$T/out" "09/24/2023,00:00:00" "a window ending at midnight is dated the next day"
python3 "$MODEL" expect "$EV" 300 300 300 original expected.csv expected.dead

# --json summary counts.
expect_exit 3 "--json summary" -- "$MTASTREAM" aggregate --json --lake-dir lake "$EV"
bad=$(grep -c ' bad$' expected.dead || true)
late=$(grep -c ' late$' expected.dead || true)
rows=$(($(wc -l <expected.csv) - 1))
python3 - "$T/out" "$bad" "$late" "$rows" <<'PY' && pass "summary counts bad, late, rows" || fail "summary counts wrong: $(cat "$T/out")"
import json, sys
s = json.loads(open(sys.argv[1]).read())
assert s["bad"] == int(sys.argv[2]) and s["late"] == int(sys.argv[3]) and s["rows"] == int(sys.argv[4]), s
assert s["rejected"] == s["bad"] + s["late"] + s["overflow"] and s["duplicates"] > 0 and s["files"] == s["windows"], s
assert s["read"] == s["accepted"] + s["duplicates"] + s["rejected"], s
PY
expect_contains "$T/err" "events.txt:" "warnings name file:line"

# Lake files: one per window, deterministic names, same rows as the stream, index from 0 in each file.
expect_eq "$(ls lake | head -1)" "turnstile_events_20230923T233500_20230923T234000.csv.gz" "first lake file name"
expect_eq "$(ls lake | wc -l)" "$(python3 -c "import json;print(json.load(open('$T/out'))['files'])")" "one file per window"
for f in lake/*.csv.gz; do zcat "$f" | tail -n +2 | cut -d, -f2-; done >lake-rows.csv
tail -n +2 expected.csv | cut -d, -f2- >expected-rows.csv
cmp -s lake-rows.csv expected-rows.csv && pass "lake files hold the model's rows in order" || fail "lake rows differ"
bad_index=0
for f in lake/*.csv.gz; do
  zcat "$f" | mawk -F, 'NR == 1 && $0 != ",CA,UNIT,SCP,STATION,LINENAME,DIVISION,DATE,TIME,DESC,ENTRIES,EXITS" { exit 1 }
                        NR > 1 && $1 != NR - 2 { exit 1 }' || bad_index=1
done
expect_eq "$bad_index" 0 "each lake file has the original header and an index from 0"
# Valid gzip for gzip(1) and Python (not our reader), the model's rows again.
gzip_bad=0
for f in lake/*.csv.gz; do gzip -t "$f" || gzip_bad=1; done
expect_eq "$gzip_bad" 0 "gzip -t accepts every lake file"
python3 - lake expected-rows.csv <<'PY' && pass "Python's gzip reads the lake files: the model's rows" || fail "Python gzip: rows differ"
import gzip, os, sys
rows = []
for name in sorted(os.listdir(sys.argv[1])):
    lines = gzip.open(os.path.join(sys.argv[1], name), "rt", newline="").read().split("\n")
    assert lines[-1] == "", name
    rows += [l.split(",", 1)[1] for l in lines[1:-1]]
sys.exit(0 if rows == open(sys.argv[2]).read().splitlines() else 1)
PY
cp -r lake lake-first
expect_exit 3 "rerun into the same lake" -- "$MTASTREAM" aggregate --lake-dir lake "$EV"
diff -r lake lake-first >/dev/null && pass "a rerun rewrites the same bytes" || fail "rerun changed lake files"
expect_eq "$(find lake -name '.*' | wc -l)" 0 "no temporary files left"

# Lake writes are batched: 1-minute windows (more than the 64 of one batch) from a file take one fsync per
# file and one of the directory per batch; from a pipe the same bytes. Read back with Python's gzip.
python3 "$MODEL" expect "$EV" 60 60 0 original expected60.csv expected60.dead
# strace (scripts/install-test-deps.sh installs it) counts the fsyncs; LeakSanitizer cannot run under ptrace.
command -v strace >/dev/null || fail "strace is missing (scripts/install-test-deps.sh): fsyncs not counted"
expect_exit 3 "1-minute windows into a lake" -- env ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" \
  strace -f -qq -e trace=fsync -o "$T/fsync.trace" "$MTASTREAM" aggregate --window 60s --watermark 0s --lake-dir lake60 "$EV"
files=$(ls lake60 | wc -l)
[ "$files" -gt 64 ] && pass "$files lake files: more than one batch" || fail "only $files lake files"
expect_eq "$(grep -c 'fsync(' "$T/fsync.trace")" "$((files + (files + 63) / 64))" "one fsync per file and one per batch of 64"
python3 - lake60 expected60.csv <<'PY' && pass "1-minute lake files hold the model's rows" || fail "1-minute lake rows differ"
import gzip, os, sys
rows = []
for name in sorted(os.listdir(sys.argv[1])):
    rows += [l.split(",", 1)[1] for l in gzip.open(os.path.join(sys.argv[1], name), "rt").read().splitlines()[1:]]
sys.exit(0 if rows == [l.split(",", 1)[1] for l in open(sys.argv[2]).read().splitlines()[1:]] else 1)
PY
"$MTASTREAM" aggregate --window 60s --watermark 0s --name events --lake-dir lake60-pipe - <"$EV" >/dev/null 2>&1 || true
cat "$EV" | "$MTASTREAM" aggregate --window 60s --watermark 0s --name events --lake-dir lake60-pipe2 - >/dev/null 2>&1 || true
diff -r lake60 lake60-pipe >/dev/null && pass "stdin from a file: the same lake files" || fail "stdin from a file: lake differs"
diff -r lake60 lake60-pipe2 >/dev/null && pass "stdin from a pipe: the same lake files" || fail "stdin from a pipe: lake differs"

# A run that fails after windows closed still writes them (exit 1, not 0).
{ printf 'A001,R001,02-00-00,S1,456NQR,BMT,09-23-23,16:54:00,REGULAR,7,9,id-0,2023-09-23 16:54:00\n'
  for i in $(seq 1 20); do
    printf 'A%03d,R001,02-00-00,S1,456NQR,BMT,09-23-23,17:01:00,REGULAR,7,9,id-%d,2023-09-23 17:01:00\n' "$i" "$i"
  done; } >keys.csv
expect_exit 1 "--max-keys passed after a window closed" -- \
  "$MTASTREAM" aggregate --watermark 0s --max-keys 5 --lake-dir lake-keys keys.csv
expect_eq "$(ls lake-keys)" "turnstile_keys_20230923T165000_20230923T165500.csv.gz" "the window closed before is written"
expect_eq "$(zcat lake-keys/*.csv.gz | sed -n 2p)" "0,A001,R001,02-00-00,S1,456NQR,BMT,09/23/2023,16:55:00,REGULAR,7,9" "its row"

# gzip (two members), CRLF and stdin give the same rows.
python3 - <<'PY'
import gzip
data = open("events.txt", "rb").read()
half = data.index(b"\n", len(data) // 2) + 1
open("events.gz", "wb").write(gzip.compress(data[:half]) + gzip.compress(data[half:]))
open("events-crlf.txt", "wb").write(data.replace(b"\n", b"\r\n"))
PY
expect_exit 3 "multi-member gzip input" -- "$MTASTREAM" aggregate -o - events.gz
cmp -s "$T/out" expected.csv && pass "gzip input: same rows" || fail "gzip input: rows differ"
cat events.gz | "$MTASTREAM" aggregate -o - - >gz-pipe.csv 2>/dev/null || true
cmp -s gz-pipe.csv expected.csv && pass "gzip through a pipe (zlib): same rows" || fail "gzip pipe: rows differ"
expect_exit 3 "CRLF input" -- "$MTASTREAM" aggregate -o - events-crlf.txt
cmp -s "$T/out" expected.csv && pass "CRLF input: same rows" || fail "CRLF input: rows differ"
"$MTASTREAM" aggregate -o - --dead-letter stdin.ndjson - <events.txt >stdin.csv 2>/dev/null || true
cmp -s stdin.csv expected.csv && pass "stdin input: same rows" || fail "stdin input: rows differ"
expect_contains stdin.ndjson '"source":"stdin:' "stdin dead letters are named stdin:LINE"
expect_exit 3 "-o FILE.gz" -- "$MTASTREAM" aggregate -o stream/all.csv.gz "$EV"
zcat stream/all.csv.gz | cmp -s - expected.csv && pass "-o FILE.gz holds the stream, gzipped" || fail "-o FILE.gz differs"
# More than one flush (1 MiB): one gzip member each, read as one stream by gzip(1) and Python.
python3 - <<'PY'
lines = open("events.txt").read().splitlines()
with open("events-big.txt", "w") as out:
    for l in lines:
        f = l.split(",")
        for k in range(40 if len(f) == 13 and not l.startswith('"') else 0):
            f[0], f[11] = "K%02d" % k, f[11][:-2] + "%02d" % k
            out.write(",".join(f) + "\n")
PY
"$MTASTREAM" aggregate --window 60s -o - events-big.txt >big-expected.csv 2>/dev/null || true
"$MTASTREAM" aggregate --window 60s -o stream/big.csv.gz events-big.txt >/dev/null 2>&1 || true
gzip -t stream/big.csv.gz && pass "gzip -t accepts a many-member -o FILE.gz" || fail "gzip -t rejects -o FILE.gz"
python3 - <<'PY' && pass "Python reads the many-member -o FILE.gz as the plain stream" || fail "-o big.csv.gz differs"
import gzip, sys, zlib
data, members = open("stream/big.csv.gz", "rb").read(), 0
while data:
    d = zlib.decompressobj(31); d.decompress(data); data = d.unused_data; members += 1
print("  %d members" % members)
sys.exit(0 if members > 1 and gzip.open("stream/big.csv.gz").read() == open("big-expected.csv", "rb").read() else 1)
PY

# Clean input exits 0; nothing rejected.
printf 'A001,R001,02-00-00,S1,456NQR,BMT,09-23-23,16:54:00,REGULAR,7,9,id-1,2023-09-23 16:54:00\n' >clean.csv
printf '"A001,R001,02-00-00,S1,456NQR,BMT,09-23-23,16:54:00,REGULAR,3,4,id-2,2023-09-23 16:55:00"\n' >>clean.csv
expect_exit 0 "clean input exits 0" -- "$MTASTREAM" aggregate -o - clean.csv
expect_eq "$(sed -n 2p "$T/out")" "0,A001,R001,02-00-00,S1,456NQR,BMT,09/23/2023,16:55:00,REGULAR,7,9" "first window row"
expect_eq "$(sed -n 3p "$T/out")" "1,A001,R001,02-00-00,S1,456NQR,BMT,09/23/2023,17:00:00,REGULAR,3,4" "second window row"

# Names from input never leave the lake directory.
expect_exit 0 "hostile --name and --prefix" -- "$MTASTREAM" aggregate --lake-dir safe --name '../../evil' --prefix '../x' clean.csv
expect_eq "$(find "$T" -name '*evil*' -not -path "$T/safe/*" | wc -l)" 0 "nothing written outside the lake dir"
expect_eq "$(ls safe | wc -l)" 2 "two files in the lake dir"

# The shared weekly sample is a batch file, not messages: every line is rejected with a reason, all 26
# gzip members are read, and nothing crashes.
expect_exit 3 "batch file fed as messages" -- "$MTASTREAM" aggregate --json -o out.csv --dead-letter batch.ndjson \
  "$SHARED_DATA/mta/turnstile_230603.csv.gz"
expect_contains "$T/out" '"read":253238' "all 253,238 lines of the 26-member gzip were read"
expect_contains batch.ndjson 'turnstile_230603.csv.gz:253238' "the last line is named"
expect_contains batch.ndjson 'expected 13 comma-separated fields, found 12' "the reason names the field count"

# Usage and runtime errors.
expect_exit 2 "--lake-dir and -o together" -- "$MTASTREAM" aggregate --lake-dir a -o - clean.csv
expect_exit 2 "--json with -o -" -- "$MTASTREAM" aggregate --json -o - clean.csv
expect_exit 2 "unknown layout" -- "$MTASTREAM" aggregate --layout pandas -o - clean.csv
expect_exit 2 "slide longer than window" -- "$MTASTREAM" aggregate --window 5m --slide 10m -o - clean.csv
expect_exit 1 "missing input file" -- "$MTASTREAM" aggregate -o - no-such-file.csv
expect_contains "$T/err" "no-such-file.csv" "the error names the file"
expect_empty "$T/out" "nothing on stdout when the input is missing"

# A UTF-8 byte order mark at the start of a file or stdin is dropped: not part of CA, not a bad header.
bom=$'\xEF\xBB\xBF'
"$MTASTREAM" replay "$SHARED_DATA/mta/turnstile_170617.txt" 2>/dev/null | head -20 >bom-plain.csv || true
"$MTASTREAM" replay --value-format json "$SHARED_DATA/mta/turnstile_170617.txt" 2>/dev/null | head -20 >bom-plain.ndjson || true
{ printf '%s' "$bom"; echo "CA,UNIT,SCP,STATION,LINENAME,DIVISION,DATE,TIME,DESC,ENTRIES,EXITS,ID,TIMESTAMP"; cat bom-plain.csv; } >bom-header.csv
{ printf '%s' "$bom"; cat bom-plain.csv; } >bom-line.csv
{ printf '%s' "$bom"; cat bom-plain.ndjson; } >bom.ndjson
"$MTASTREAM" aggregate -o bom-expected.csv bom-plain.csv 2>/dev/null
for f in bom-header.csv bom-line.csv bom.ndjson; do
  expect_exit 0 "aggregate $f: nothing rejected" -- "$MTASTREAM" aggregate -o - "$f"
  cmp -s "$T/out" bom-expected.csv && pass "aggregate $f: the same rows as without the mark" ||
    fail "aggregate $f: rows differ from the file without the mark"
done
expect_exit 0 "aggregate from stdin with a byte order mark" -- sh -c '"$0" aggregate -o - - <bom-line.csv' "$MTASTREAM"
expect_not_contains "$T/out" "$bom" "stdin: no byte order mark in the rows"

finish
