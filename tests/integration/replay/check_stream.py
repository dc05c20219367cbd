#!/usr/bin/env python3
"""Checks a replayed CSV stream: order by (TIMESTAMP, CA, UNIT, SCP, STATION), DATE/TIME agree with
TIMESTAMP, and every ID is uuid5(namespace, "CA,UNIT,SCP,STATION,TIMESTAMP"). Prints problems, exit 1 if any."""
import sys
import uuid

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "mtastream:replay:turnstile-event")
problems = []
previous = None
ids = set()
for n, line in enumerate(open(sys.argv[1]), 1):
    f = line.rstrip("\n").split(",")
    if len(f) != 13:
        problems.append(f"line {n}: {len(f)} fields")
        continue
    ca, unit, scp, station, linename, division, date, time, desc, entries, exits, event_id, ts = f
    order = (ts, ca, unit, scp, station)
    if previous is not None and order <= previous:
        problems.append(f"line {n}: out of order {order} after {previous}")
    previous = order
    y, m, d = ts[:10].split("-")
    if date != f"{m}-{d}-{y[2:]}" or time != ts[11:]:
        problems.append(f"line {n}: DATE/TIME {date} {time} do not match {ts}")
    if event_id != str(uuid.uuid5(NAMESPACE, f"{ca},{unit},{scp},{station},{ts}")):
        problems.append(f"line {n}: ID {event_id} is not the uuid5 of turnstile and time")
    if event_id in ids:
        problems.append(f"line {n}: ID {event_id} seen before")
    ids.add(event_id)
    if int(entries) < 0 or int(exits) < 0:
        problems.append(f"line {n}: negative delta")
for p in problems[:20]:
    print(p)
sys.exit(1 if problems else 0)
