# upload --to file://DIR: copies read back identical, identical files skipped, no temporary left,
# --delete-after/--move-to only after verification, exit 1 when all fail and 3 when some do, usage errors.
source "$(dirname "$0")/lib.sh"
json_field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
mkdir -p "$T/src/p1"
for i in 1 2 3; do head -c $((i * 50000)) /dev/urandom >"$T/src/f$i.csv.gz"; done
head -c 777 /dev/urandom >"$T/src/p1/g.csv.gz"

expect_exit 0 "upload a directory to file:// with --jobs 4" -- \
  "$MTASTREAM" upload --to "file://$T/lake/turnstile" --jobs 4 --json "$T/src"
expect_eq "$(json_field "$T/out" uploaded)" 4 "json: 4 uploaded"
ok=1
for f in f1.csv.gz f2.csv.gz f3.csv.gz p1/g.csv.gz; do cmp -s "$T/src/$f" "$T/lake/turnstile/$f" || ok=0; done
[ "$ok" -eq 1 ] && pass "copies are byte-identical, subdirectory names kept" || fail "copies differ"
expect_eq "$(find "$T/lake" -name '.*' | wc -l)" 0 "no temporary file left in the lake"
expect_exit 0 "again: skipped" -- "$MTASTREAM" upload --to "file://$T/lake/turnstile" --json "$T/src"
expect_eq "$(json_field "$T/out" skipped)" 4 "identical files are skipped"

# A destination that cannot be written: every file fails (exit 1) and stays.
echo x >"$T/not-a-dir"
expect_exit 1 "every file fails: exit 1" -- \
  "$MTASTREAM" upload --to "file://$T/not-a-dir/sub" --delete-after "$T/src/f1.csv.gz" "$T/src/f2.csv.gz"
expect_contains "$T/err" "not-a-dir" "the error names the path"
expect_eq "$(ls "$T/src" | wc -l)" 4 "nothing deleted after failed uploads"

# One object's place is taken by a directory: that file fails, the others go (exit 3), and only the
# verified ones are moved.
mkdir -p "$T/lake2/f2.csv.gz/blocker"
expect_exit 3 "some files fail: exit 3" -- \
  "$MTASTREAM" upload --to "file://$T/lake2" --move-to "$T/done" --json "$T"/src/f*.csv.gz
expect_eq "$(json_field "$T/out" failed)/$(json_field "$T/out" uploaded)" 1/2 "json: 1 failed, 2 uploaded"
[ -f "$T/src/f2.csv.gz" ] && [ ! -f "$T/src/f1.csv.gz" ] && [ -f "$T/done/f1.csv.gz" ] && [ -f "$T/done/f3.csv.gz" ] &&
  pass "--move-to moved only the verified files" || fail "--move-to moved the wrong files"

# Usage errors: nothing is done.
expect_exit 2 "--delete-after with --move-to" -- \
  "$MTASTREAM" upload --to "file://$T/lake" --delete-after --move-to "$T/x" "$T/src/f2.csv.gz"
expect_exit 2 "unknown scheme" -- "$MTASTREAM" upload --to "ftp://host/x" "$T/src/f2.csv.gz"
expect_exit 2 "missing input file" -- "$MTASTREAM" upload --to "file://$T/lake" "$T/src/nope.csv.gz"
expect_contains "$T/err" "nope.csv.gz" "the missing file is named"
expect_exit 2 "--to is required" -- "$MTASTREAM" upload "$T/src/f2.csv.gz"
finish
