#!/usr/bin/env python3
"""Independent model of PRODUCT.md "Window semantics" for the aggregate suite.

gen OUT_DIR SEED: writes events.txt (mixed wire forms, CRLF, whitespace, bad lines, duplicates,
late events, window-edge and midnight times) and nothing else.
expect EVENTS WINDOW SLIDE DELAY LAYOUT OUT_CSV OUT_DEAD: computes the expected CSV stream
(`aggregate -o -` output) and the expected dead-letter (source, reason-prefix) pairs.
"""
import calendar
import json
import random
import sys
import time

FIELDS = ["CA", "UNIT", "SCP", "STATION", "LINENAME", "DIVISION", "DATE", "TIME", "DESC", "ENTRIES", "EXITS", "ID",
          "TIMESTAMP"]
BASE = calendar.timegm((2023, 9, 23, 23, 40, 0))  # 20 minutes before midnight


def ts_text(t):
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t))


def gen(out_dir, seed):
    rnd = random.Random(int(seed))
    keys = [("A00%d" % a, "R00%d" % u, "02-00-0%d" % s, "Station %d" % a, "456NQR", "BMT", d)
            for a in range(1, 4) for u in range(1, 3) for s in range(2) for d in ("REGULAR", "RECOVR AUD")][:14]
    lines = []
    t = BASE
    ids = []
    for i in range(3000):
        t += rnd.choice([0, 0, 1, 1, 2, 3, 5])
        when = t - rnd.choice([0, 0, 0, 0, 10, 60, 290, 299, 300, 301, 600, 900])  # some out of order, some late
        if rnd.random() < 0.03:
            when = (when // 300) * 300  # exactly on a window edge
        k = rnd.choice(keys)
        if ids and rnd.random() < 0.06:
            eid = rnd.choice(ids[-400:])  # a duplicate ID (same or other time)
        else:
            eid = "%08x-%04x-4%03x-8%03x-%012x" % (rnd.getrandbits(32), rnd.getrandbits(16), rnd.getrandbits(12),
                                                 rnd.getrandbits(12), rnd.getrandbits(48))
            ids.append(eid)
        tm = time.gmtime(when)
        values = list(k[:6]) + [time.strftime("%m-%d-%y", tm), time.strftime("%H:%M:%S", tm), k[6],
                                str(rnd.randint(0, 12)), str(rnd.randint(0, 12)), eid, ts_text(when)]
        form = rnd.random()
        if form < 0.6:
            line = ",".join(values)
        elif form < 0.8:
            line = json.dumps(",".join(values))
        else:
            obj = dict(zip(FIELDS, values))
            obj["ENTRIES"] = int(obj["ENTRIES"])
            if rnd.random() < 0.5:
                obj["EXITS"] = int(obj["EXITS"])
            line = json.dumps(obj)
        r = rnd.random()
        if r < 0.05:
            line = "  " + line + " \r"  # padding and CRLF
        lines.append(line)
        r = rnd.random()
        if r < 0.01:
            lines.append(",".join(values[:12]))  # 12 fields
        elif r < 0.02:
            lines.append(",".join(values[:9] + ["-3"] + values[10:]))  # negative ENTRIES
        elif r < 0.025:
            lines.append(",".join(values[:12] + ["2023-02-30 00:00:00"]))  # no such day
        elif r < 0.03:
            lines.append("")  # blank lines are skipped, not errors
        elif r < 0.035:
            lines.append('{"CA": "A001"')  # broken JSON
    with open(out_dir + "/events.txt", "w", newline="") as f:
        f.write("CA,UNIT,SCP,STATION,LINENAME,DIVISION,DATE,TIME,DESC,ENTRIES,EXITS,ID,TIMESTAMP\n")
        for line in lines:
            f.write(line + "\n")


def parse(line):
    """Returns the 13 values or None; deliberately simple: the generator's bad lines are obvious."""
    s = line.strip(" \t\r\n")
    if not s:
        return "blank"
    if s.startswith("{"):
        try:
            obj = json.loads(s)
        except ValueError:
            return None
        v = [obj.get(f) for f in FIELDS]
        if any(x is None for x in v):
            return None
        v = [str(x) for x in v]
    else:
        if s.startswith('"'):
            s = json.loads(s)
        v = s.split(",")
        if v == FIELDS:
            return "blank"
    if len(v) != 13:
        return None
    for n in (9, 10):
        if not v[n].isdigit():
            return None
    try:
        t = calendar.timegm(time.strptime(v[12], "%Y-%m-%d %H:%M:%S"))
    except ValueError:
        return None
    return v, t


COLUMNS = ["CA", "UNIT", "SCP", "STATION", "LINENAME", "DIVISION", "DESC"]


def expect(events, window, slide, delay, layout, out_csv, out_dead, group_by=None):
    """group_by: "STATION,..." (any order): rows summed by those columns, kept in the original's column order."""
    window, slide, delay = int(window), int(slide), int(delay)
    group = sorted(COLUMNS.index(c.upper()) for c in group_by.split(",")) if group_by else list(range(7))
    wm = None
    seen = {}
    open_windows = {}
    closed = []
    dead = []

    def close(limit):
        for start in sorted(open_windows):
            if limit is None or start + window <= limit:
                closed.append((start, open_windows.pop(start)))

    with open(events, newline="") as f:
        for number, raw in enumerate(f.read().split("\n")[:-1], start=1):
            p = parse(raw)
            if p == "blank":
                continue
            if p is None:
                dead.append(("%s:%d" % (events, number), "bad"))
                continue
            v, t = p
            # (1) dedup among IDs not behind the watermark
            if v[11] in seen and (wm is None or seen[v[11]] >= wm):
                continue  # a duplicate is skipped: no window, no watermark, no record
            else:
                seen[v[11]] = t
                # (2) windows [s, s+W), s multiple of S, s <= t < s+W, end > wm
                starts = [s for s in range(t - t % slide - (window // slide + 1) * slide, t + 1, slide)
                          if s <= t < s + window and (wm is None or s + window > wm)]
                if not starts:
                    dead.append(("%s:%d" % (events, number), "late"))
                key = tuple((v[0], v[1], v[2], v[3], v[4], v[5], v[8])[i] for i in group)
                for s in starts:
                    sums = open_windows.setdefault(s, {}).setdefault(key, [0, 0])
                    sums[0] += int(v[9])
                    sums[1] += int(v[10])
            # (3), (4)
            wm = t - delay if wm is None else max(wm, t - delay)
            close(wm)
    close(None)
    out = []
    cols = [COLUMNS[i] for i in group if i < 6] + ["DATE", "TIME"] + (["DESC"] if 6 in group else [])
    out.append(("," if layout == "original" else "") + ",".join(cols + ["ENTRIES", "EXITS"]))
    index = 0
    for start, rows in closed:
        end = time.gmtime(start + window)
        date, tm = time.strftime("%m/%d/%Y", end), time.strftime("%H:%M:%S", end)
        for key in sorted(rows, key=lambda k: [x.encode() for x in k]):
            by = dict(zip(group, key))
            row = ([by[i] for i in group if i < 6] + [date, tm] + ([by[6]] if 6 in group else []) +
                   [str(rows[key][0]), str(rows[key][1])])
            if layout == "original":
                row = [str(index)] + row
            index += 1
            out.append(",".join(row))
    with open(out_csv, "w") as f:
        f.write("\n".join(out) + "\n")
    with open(out_dead, "w") as f:
        for source, kind in dead:
            f.write("%s %s\n" % (source, kind))


if __name__ == "__main__":
    if sys.argv[1] == "gen":
        gen(*sys.argv[2:])
    else:
        expect(*sys.argv[2:])
