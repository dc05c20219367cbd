#!/usr/bin/env python3
"""Independent model for the consume suites (not mtastream's code).

generate DIR N PARTITIONS SEED [--spread]: writes DIR/p<i>.kv (key TAB value per line, in the order to produce
  to partition i): turnstile-keyed (--spread: keyed by random ID) events in three wire forms, with duplicates, late and malformed
  messages mixed in; DIR/counts.json says how many of each.
expect DIR WINDOW_S SLIDE_S DELAY_S TOPIC PREFIX [--per-partition] [--flush-open] [--idle S]: applies
  PRODUCT.md's window semantics per partition, sums windows over the topic's partitions as `consume -e` writes
  them (see expect()), and writes DIR/expected.json: {file name: [[CA,UNIT,SCP,STATION,LINENAME,DIVISION,DATE,
  TIME,DESC,ENTRIES,EXITS], ...]}.
  and DIR/expected-rejects.txt: "topic/partition@offset bad|late" per rejected message, sorted.
compare DIR LAKE_DIR: reads every .csv.gz in LAKE_DIR and compares with expected.json (names and rows).
rejects DEAD_LETTER_FILE: prints "source bad|late" per dead-letter line (late: the reason starts with "late"), sorted.
"""
import datetime
import gzip
import json
import os
import random
import sys
import uuid

FIELDS = ["CA", "UNIT", "SCP", "STATION", "LINENAME", "DIVISION", "DATE", "TIME", "DESC", "ENTRIES", "EXITS",
          "ID", "TIMESTAMP"]
BASE = datetime.datetime(2023, 9, 23, 0, 0, 0)
EPOCH = datetime.datetime(1970, 1, 1)


def turnstiles(count):
    out = []
    for i in range(count):
        ca = "A%03d" % (i // 8)
        unit = "R%03d" % (i % 37)
        scp = "02-00-%02d" % (i % 8)
        station = "Station-%d" % (i // 8)
        out.append((ca, unit, scp, station, "456NQR" if i % 3 else "ACE", "BMT" if i % 2 else "IRT", "REGULAR"))
    return out


def csv_line(t, when, entries, exits, ident):
    return ",".join([t[0], t[1], t[2], t[3], t[4], t[5], when.strftime("%m-%d-%y"), when.strftime("%H:%M:%S"),
                     t[6], str(entries), str(exits), ident, when.strftime("%Y-%m-%d %H:%M:%S")])


def wire(line, form):
    if form == 0:
        return line
    if form == 1:
        return json.dumps(line)
    return json.dumps(dict(zip(FIELDS, [int(v) if i in (9, 10) else v for i, v in enumerate(line.split(","))])))


def generate(out_dir, total, partitions, seed, spread=False):
    """spread: keyed by a random ID, as the original producer keys (any turnstile in any partition, an exact
    re-send in the same partition as its first copy); else keyed by turnstile (CA,UNIT,SCP)."""
    rng = random.Random(seed)
    ts = turnstiles(60 * partitions)
    by_partition = [[] for _ in range(partitions)]
    for t in ts:
        by_partition[sum(map(ord, ",".join(t[:3]))) % partitions].append(t)
    counts = {"messages": 0, "duplicates": 0, "late": 0, "bad": 0}
    per_partition = total // partitions
    sent_by_partition = []
    for p in range(partitions):
        lines = []
        sent = []
        sent_by_partition.append(sent)
        clock = BASE + datetime.timedelta(seconds=p * 37)
        while len(lines) < per_partition:
            clock += datetime.timedelta(seconds=rng.choice((0, 1, 1, 2)))
            t = rng.choice(ts if spread else by_partition[p])
            ident = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            key = ident if spread else ",".join(t[:3])
            r = rng.random()
            if r < 0.01 and sent:  # an exact re-send of a recent message (same ID): a duplicate
                other = sent_by_partition[p - 1] if spread and p > 0 else []
                if other and rng.random() < 0.5:  # keyless: the copy lands in another partition
                    i = min(len(sent), len(other))
                    lines.append(rng.choice(other[max(0, i - 50):i] or other[-50:]))
                else:
                    lines.append(rng.choice(sent[-50:]))
                counts["duplicates"] += 1
            elif r < 0.012:  # far behind the watermark: late
                when = clock - datetime.timedelta(seconds=rng.randint(1500, 4000))
                lines.append((key, wire(csv_line(t, when, rng.randint(0, 20), rng.randint(0, 20), ident), 0)))
                counts["late"] += 1
            elif r < 0.014:  # malformed
                lines.append((key, rng.choice(["garbage", "A001,R001,only,four", '{"CA": "A001"}',
                                               csv_line(t, clock, 5, 5, "x").replace(",5,5,", ",five,5,"),
                                               '"unterminated json string'])))
                counts["bad"] += 1
            else:  # in order, or a little out of order (within the watermark delay)
                when = clock - datetime.timedelta(seconds=rng.choice((0, 0, 0, rng.randint(1, 200))))
                line = csv_line(t, when, rng.randint(0, 50), rng.randint(0, 50), ident)
                item = (key, wire(line, rng.choice((0, 0, 0, 1, 2))))
                lines.append(item)
                sent.append(item)
        counts["messages"] += len(lines)
        with open(os.path.join(out_dir, "p%d.kv" % p), "w") as f:
            for key, value in lines:
                f.write("%s\t%s\n" % (key, value))
    with open(os.path.join(out_dir, "counts.json"), "w") as f:
        json.dump(counts, f)


def parse(value):
    """The message's 13 fields, or None when malformed (same acceptance as the test data needs)."""
    try:
        if value.startswith("{"):
            obj = json.loads(value)
            if set(obj) != set(FIELDS):
                return None
            fields = [str(obj[k]) for k in FIELDS]
        elif value.startswith('"'):
            fields = json.loads(value).split(",")
        else:
            fields = value.split(",")
        if len(fields) != 13:
            return None
        int(fields[9]), int(fields[10])
        datetime.datetime.strptime(fields[12], "%Y-%m-%d %H:%M:%S")
        return fields
    except (ValueError, json.JSONDecodeError, AttributeError):
        return None


def stamp(seconds):
    return (EPOCH + datetime.timedelta(seconds=seconds)).strftime("%Y%m%dT%H%M%S")


COLUMNS = ["CA", "UNIT", "SCP", "STATION", "LINENAME", "DIVISION", "DESC"]
GROUP = list(range(7))  # --group-by: indexes into COLUMNS (set by expect)
PARTITION = []          # --partition-by items: "date", "hour" or a lowercase column name


def group_of(fields):
    """The group key: the chosen columns, in the original's order (DESC is field 8 of the message)."""
    values = [fields[0], fields[1], fields[2], fields[3], fields[4], fields[5], fields[8]]
    return tuple(values[i] for i in GROUP)


def header():
    cols = [COLUMNS[i] for i in GROUP if i < 6] + ["DATE", "TIME"] + (["DESC"] if 6 in GROUP else [])
    return "," + ",".join(cols + ["ENTRIES", "EXITS"])


def file_rows(rows, end):
    d = EPOCH + datetime.timedelta(seconds=end)
    out = []
    for g, v in sorted(rows.items()):
        by = dict(zip(GROUP, g))
        out.append([by[i] for i in GROUP if i < 6] + [d.strftime("%m/%d/%Y"), d.strftime("%H:%M:%S")] +
                   ([by[6]] if 6 in GROUP else []) + [str(v[0]), str(v[1])])
    return out


def hive_escape(value):
    """Hive's escapePathName, plus %XX for bytes that are not UTF-8 (the values are text here)."""
    if value == "":
        return "__HIVE_DEFAULT_PARTITION__"
    special = set('"#%\'*/:=?\\{[]^') | {chr(c) for c in range(0x20)} | {"\x7f"}
    return "".join("%%%02X" % ord(c) if c in special else c for c in value)


def partitioned(name, rows, end):
    """{relative path: rows} for one window's file under --partition-by."""
    if not PARTITION:
        return {name: file_rows(rows, end)}
    d = EPOCH + datetime.timedelta(seconds=end)
    split = {}
    for g, v in rows.items():
        by = dict(zip(GROUP, g))
        parts = []
        for item in PARTITION:
            if item == "date":
                parts.append("date=" + d.strftime("%Y-%m-%d"))
            elif item == "hour":
                parts.append("hour=" + d.strftime("%H"))
            else:
                parts.append(item + "=" + hive_escape(by[COLUMNS.index(item.upper())]))
        split.setdefault("/".join(parts), {})[g] = v
    return {folder + "/" + name: file_rows(r, end) for folder, r in split.items()}


def expect(data_dir, W, S, D, topic, prefix, per_partition=False, flush_open=False, idle=3600, group_by=None,
           partition_by=None):
    """Per partition: dedup, watermark, late (PRODUCT.md). Then, as `consume -e` writes the lake:
    topic-wide (default): a window's rows summed over all partitions, written once every partition passed
    it; a partition whose final watermark is more than `idle` behind the most advanced one counts as
    passed up to that watermark minus `idle`. --flush-open: every window. --per-partition: one file per
    partition and window closed in it (every window with --flush-open). group_by: "STATION,..." (the
    columns summed by); partition_by: "date,hour,station" (Hive folders, files keyed by relative path)."""
    global GROUP, PARTITION
    if group_by:
        GROUP = sorted(COLUMNS.index(c.strip().upper()) for c in group_by.split(","))
    if partition_by:
        PARTITION = [p.strip().lower() for p in partition_by.split(",")]
    expected = {}
    totals = {"late": 0, "duplicates": 0, "bad": 0, "cross_partition_duplicates": 0}
    rejects = []
    partitions = []  # per partition: (windows {start: {group: [entries, exits]}}, final watermark or None)
    counted = []     # per partition: {start: [(ID, group, entries, exits)]} as added
    p = 0
    while os.path.exists(os.path.join(data_dir, "p%d.kv" % p)):
        wm = None
        seen = {}  # ID -> latest time
        windows = {}  # start -> {group: [entries, exits]}
        events = {}
        with open(os.path.join(data_dir, "p%d.kv" % p)) as f:
            for offset, line in enumerate(f):
                value = line.rstrip("\n").split("\t", 1)[1]
                fields = parse(value)
                if fields is None:
                    totals["bad"] += 1
                    rejects.append("%s/%d@%d bad" % (topic, p, offset))
                    continue
                t = int((datetime.datetime.strptime(fields[12], "%Y-%m-%d %H:%M:%S") - EPOCH).total_seconds())
                ident = fields[11]
                if ident in seen and (wm is None or seen[ident] >= wm):
                    seen[ident] = max(seen[ident], t)
                    totals["duplicates"] += 1
                    continue
                seen[ident] = max(seen.get(ident, t), t)
                starts = [s for s in range((t // S) * S, t - W, -S) if wm is None or s + W > wm]
                if not starts:
                    totals["late"] += 1
                    rejects.append("%s/%d@%d late" % (topic, p, offset))
                else:
                    group = group_of(fields)
                    for s in starts:
                        acc = windows.setdefault(s, {}).setdefault(group, [0, 0])
                        acc[0] += int(fields[9])
                        acc[1] += int(fields[10])
                        events.setdefault(s, []).append((ident, group, int(fields[9]), int(fields[10])))
                if wm is None or t - D > wm:
                    wm = t - D
        partitions.append((windows, wm))
        counted.append(events)
        p += 1

    if per_partition:
        for p, (windows, wm) in enumerate(partitions):
            for start, rows in windows.items():
                if flush_open or (wm is not None and start + W <= wm):
                    name = "%s_%s_p%d_%s_%s.csv.gz" % (prefix, topic, p, stamp(start), stamp(start + W))
                    expected.update(partitioned(name, rows, start + W))
    else:
        marks = [wm for _, wm in partitions if wm is not None]
        through = None
        if flush_open:
            through = float("inf")
        elif marks:
            top = max(marks)
            through = min(wm if wm is not None and wm >= top - idle else top - idle for _, wm in partitions)
        # Dedup by ID across partitions, per window: the lowest partition that counted an ID keeps it.
        merged = {}
        starts = sorted({s for events in counted for s in events})
        for start in starts:
            first = {}
            for p, events in enumerate(counted):
                for ident, _, _, _ in events.get(start, []):
                    first.setdefault(ident, p)
            for p, events in enumerate(counted):
                for ident, group, entries, exits in events.get(start, []):
                    if through is not None and start + W <= through:  # in a written window
                        totals["cross_partition_duplicates"] += first[ident] != p
                    if first[ident] == p:
                        acc = merged.setdefault(start, {}).setdefault(group, [0, 0])
                        acc[0] += entries
                        acc[1] += exits
        for start, rows in merged.items():
            if through is not None and start + W <= through:
                expected.update(partitioned("%s_%s_%s_%s.csv.gz" % (prefix, topic, stamp(start), stamp(start + W)),
                                            rows, start + W))
    with open(os.path.join(data_dir, "expected.json"), "w") as f:
        json.dump(expected, f)
    with open(os.path.join(data_dir, "expected-counts.json"), "w") as f:
        json.dump(totals, f)
    with open(os.path.join(data_dir, "expected-header.txt"), "w") as f:
        f.write(header() + "\n")
    with open(os.path.join(data_dir, "expected-rejects.txt"), "w") as f:
        f.write("".join(r + "\n" for r in sorted(rejects)))
    print("%d files expected, %d late, %d duplicates, %d bad" % (len(expected), totals["late"], totals["duplicates"],
                                                                 totals["bad"]))


def compare(data_dir, lake_dir):
    with open(os.path.join(data_dir, "expected.json")) as f:
        expected = json.load(f)
    hdr = ",CA,UNIT,SCP,STATION,LINENAME,DIVISION,DATE,TIME,DESC,ENTRIES,EXITS"
    if os.path.exists(os.path.join(data_dir, "expected-header.txt")):
        hdr = open(os.path.join(data_dir, "expected-header.txt")).read().strip()
    found = []  # relative paths, partition folders included (the hidden staging folder left out)
    for root, dirs, files in os.walk(lake_dir):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        rel = os.path.relpath(root, lake_dir)
        found += [n if rel == "." else rel + "/" + n for n in files if n.endswith(".csv.gz")]
    found.sort()
    problems = []
    missing = sorted(set(expected) - set(found))
    extra = sorted(set(found) - set(expected))
    if missing:
        problems.append("%d files missing, e.g. %s" % (len(missing), missing[:3]))
    if extra:
        problems.append("%d unexpected files, e.g. %s" % (len(extra), extra[:3]))
    for name in sorted(set(found) & set(expected)):
        with gzip.open(os.path.join(lake_dir, name), "rt") as f:
            lines = f.read().split("\n")
        if lines[0] != hdr or lines[-1] != "":
            problems.append("%s: bad header or last line" % name)
            continue
        rows = [line.split(",") for line in lines[1:-1]]
        if [r[0] for r in rows] != [str(i) for i in range(len(rows))]:
            problems.append("%s: index column is not 0..n-1" % name)
        if [r[1:] for r in rows] != expected[name]:
            problems.append("%s: rows differ from the model" % name)
    print("compared %d files against %d expected" % (len(found), len(expected)))
    for p in problems[:10]:
        print("MISMATCH: " + p)
    return 1 if problems else 0


def rejects(path):
    out = []
    with open(path) as f:
        for line in f:
            d = json.loads(line)
            out.append("%s %s" % (d["source"], "late" if d["reason"].startswith("late") else "bad"))
    sys.stdout.write("".join(r + "\n" for r in sorted(out)))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "generate":
        generate(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), spread="--spread" in sys.argv[6:])
    elif cmd == "expect":
        rest = sys.argv[8:]
        idle = int(rest[rest.index("--idle") + 1]) if "--idle" in rest else 3600
        opt = lambda name: rest[rest.index(name) + 1] if name in rest else None
        expect(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6], sys.argv[7],
               per_partition="--per-partition" in rest, flush_open="--flush-open" in rest, idle=idle,
               group_by=opt("--group-by"), partition_by=opt("--partition-by"))
    elif cmd == "rejects":
        rejects(sys.argv[2])
    elif cmd == "compare":
        sys.exit(compare(sys.argv[2], sys.argv[3]))
