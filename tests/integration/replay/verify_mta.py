#!/usr/bin/env python3
"""Independent model of `mtastream replay` for the tests (does not share code with it).

usage: verify_mta.py MAX_DELTA [--lake WINDOW_SECONDS] FILE...
Prints one line per turnstile that has events: "CA,UNIT,SCP,STATION EVENTS ENTRIES EXITS" (sorted), then
"anomalies NEGATIVE ABOVE_MAX DUPLICATE REJECTED".
With --lake: instead, the rows a tumbling-window aggregation of those events must land (original layout
without the index column: CA,UNIT,SCP,STATION,LINENAME,DIVISION,MM/DD/YYYY,HH:MM:SS of the window end,DESC,
ENTRIES,EXITS), sorted.
Rule (PRODUCT.md): per turnstile, readings sorted by time (input order among equal times); same time as the
kept reading = duplicate (skipped); else delta vs kept; delta < 0 in either counter = negative, else > MAX in
either = above max; both anomalies move the kept reading; otherwise an event. Raw-layout rows (11 fields)
must carry 10-digit counters (the MTA zero-pads them); other rows are rejected.
"""
import collections
import datetime
import gzip
import sys

max_delta = int(sys.argv[1])
files = sys.argv[2:]
lake_window = None
if files[:1] == ["--lake"]:
    lake_window, files = int(files[1]), files[2:]
lake = collections.defaultdict(lambda: [0, 0])
readings = collections.defaultdict(list)
rejected = 0
seq = 0
for path in files:
    raw_bytes = open(path, "rb").read()
    if raw_bytes[:2] == b"\x1f\x8b":
        raw_bytes = gzip.decompress(raw_bytes)  # all members
    text = raw_bytes.decode("ascii")
    for line in text.split("\n"):
        line = line.rstrip("\r").rstrip(" ")
        if not line:
            continue
        fields = line.split(",")
        if fields[-1] == "EXITS":
            continue
        raw = len(fields) == 11
        if not raw:
            assert len(fields) == 12, line
            fields = fields[1:]
        ca, unit, scp, station, linename, division, date, time, desc, entries, exits = fields
        if raw and (len(entries) != 10 or len(exits) != 10):
            rejected += 1
            continue
        month, day, year = date.split("/")
        readings[(ca, unit, scp, station)].append(
            (f"{year}-{month}-{day} {time}", seq, int(entries), int(exits), linename, division, desc))
        seq += 1

negative = above = duplicate = 0
out = []
for key, rows in readings.items():
    rows.sort()
    kept = rows[0]
    events = total_entries = total_exits = 0
    for row in rows[1:]:
        if row[0] == kept[0]:
            duplicate += 1
            continue
        d_entries, d_exits = row[2] - kept[2], row[3] - kept[3]
        kept = row
        if d_entries < 0 or d_exits < 0:
            negative += 1
        elif d_entries > max_delta or d_exits > max_delta:
            above += 1
        else:
            events += 1
            total_entries += d_entries
            total_exits += d_exits
            if lake_window:
                t = datetime.datetime.strptime(row[0], "%Y-%m-%d %H:%M:%S").replace(tzinfo=datetime.timezone.utc)
                end = (int(t.timestamp()) // lake_window + 1) * lake_window
                end_text = datetime.datetime.fromtimestamp(end, datetime.timezone.utc).strftime("%m/%d/%Y,%H:%M:%S")
                cell = lake[(*key, row[4], row[5], end_text, row[6])]
                cell[0] += d_entries
                cell[1] += d_exits
    if events:
        out.append(f"{','.join(key)} {events} {total_entries} {total_exits}")
if lake_window:
    for line in sorted(f"{','.join(k)},{e},{x}" for k, (e, x) in lake.items()):
        print(line)
    sys.exit(0)
for line in sorted(out):
    print(line)
print(f"anomalies {negative} {above} {duplicate} {rejected}")
