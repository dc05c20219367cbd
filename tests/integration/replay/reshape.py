#!/usr/bin/env python3
"""Rewrites a pandas-style MTA file into several shuffled inputs of mixed layouts, for the test that
replay's output does not depend on row order, file boundaries or layout.

usage: reshape.py SOURCE.csv.gz OUTDIR
Writes OUTDIR/a.txt (raw layout: 10-digit counters, trailing blanks, CRLF, no final newline),
OUTDIR/b.csv (pandas layout, LF), OUTDIR/c.csv.gz (pandas layout, 3 gzip members), OUTDIR/week1.csv.gz and
OUTDIR/week2.csv.gz (the rows split by date, in order)."""
import gzip
import random
import sys

source, outdir = sys.argv[1], sys.argv[2]
lines = gzip.decompress(open(source, "rb").read()).decode("ascii").split("\n")
header, rows = lines[0], [l for l in lines[1:] if l]
fields = [r.split(",")[1:] for r in rows]

by_date = sorted(fields, key=lambda f: (f[6][6:], f[6][:5], f[7]))
cut = len(by_date) // 2
for name, part in (("week1", by_date[:cut]), ("week2", by_date[cut:])):
    body = header + "\n" + "".join(f"{i},{','.join(f)}\n" for i, f in enumerate(part))
    open(f"{outdir}/{name}.csv.gz", "wb").write(gzip.compress(body.encode()))

random.Random(42).shuffle(fields)
third = len(fields) // 3
a, b, c = fields[:third], fields[third:2 * third], fields[2 * third:]
raw_header = "C/A,UNIT,SCP,STATION,LINENAME,DIVISION,DATE,TIME,DESC,ENTRIES,EXITS" + " " * 20
raw_rows = [",".join(f[:9] + [f"{int(f[9]):010d}", f"{int(f[10]):010d}"]) + "   " for f in a]
open(f"{outdir}/a.txt", "wb").write(("\r\n".join([raw_header] + raw_rows)).encode())
open(f"{outdir}/b.csv", "w").write(header + "\n" + "".join(f"{i},{','.join(f)}\n" for i, f in enumerate(b)))
members = []
for k in range(3):
    chunk = c[k * len(c) // 3:(k + 1) * len(c) // 3]
    text = (header + "\n" if k == 0 else "") + "".join(f"{i},{','.join(f)}\n" for i, f in enumerate(chunk))
    members.append(gzip.compress(text.encode()))
open(f"{outdir}/c.csv.gz", "wb").write(b"".join(members))
