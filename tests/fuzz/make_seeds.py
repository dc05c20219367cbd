#!/usr/bin/env python3
"""Writes the fuzzers' seed corpus (tests/fuzz/corpus/<target>/) from a few hundred lines of the MTA samples
in /work/shared/data/mta (or $SHARED_DATA/mta) plus hand-written cases from the unit tests. Run once; the
output is committed so that `make fuzz` needs no sample data."""
import gzip, hashlib, itertools, json, os, sys, uuid

root = os.path.dirname(os.path.abspath(__file__))
shared = os.path.join(os.environ.get("SHARED_DATA", "/work/shared/data"), "mta")
out = os.path.join(root, "corpus")

def put(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()[:16]), "wb") as f:
        f.write(data)

raw = open(os.path.join(shared, "turnstile_170617.txt"), "rb").read().decode().splitlines()[:201]
with gzip.open(os.path.join(shared, "turnstile_230603.csv.gz"), "rt") as f:
    pandas = list(itertools.islice(f, 201))
pandas = [l.rstrip("\n") for l in pandas]

# MTA batch: chunks of raw and pandas-layout lines, headers included, LF and CRLF.
for lines in (raw, pandas):
    for start in range(0, 200, 40):
        chunk = ([lines[0]] if start else []) + lines[start:start + 40]
        put("mta_batch", "\n".join(chunk) + "\n")
    put("mta_batch", "\r\n".join(lines[:30]))
put("mta_batch", raw[1] + "\n" + raw[1] + "\n" + raw[2][:40] + "\n")

# Messages: the 13-field form of batch rows, in the three wire forms.
fields = ["CA", "UNIT", "SCP", "STATION", "LINENAME", "DIVISION", "DATE", "TIME", "DESC", "ENTRIES", "EXITS", "ID",
          "TIMESTAMP"]
for i, line in enumerate(raw[1:151]):
    ca, unit, scp, station, linename, division, date, time, desc, entries, exits = [x.strip() for x in line.split(",")]
    m, d, y = date.split("/")
    msg = [ca, unit, scp, station, linename, division, f"{m}-{d}-{y[2:]}", time, desc, str(int(entries) % 1000),
           str(int(exits) % 1000), str(uuid.uuid5(uuid.NAMESPACE_URL, line)), f"{y}-{m}-{d} {time}"]
    csv = ",".join(msg)
    form = i % 3
    if form == 0:
        put("message_parser", csv)
    elif form == 1:
        put("message_parser", json.dumps(csv))
    else:
        obj = dict(zip(fields, msg))
        obj["ENTRIES"] = int(obj["ENTRIES"]); obj["EXITS"] = int(obj["EXITS"])
        put("message_parser", json.dumps(obj))
    put("line_reader", line + "\n")
put("message_parser", "")
put("message_parser", '["a"]')
put("message_parser", '"A002,R051\\u0041,02-00-00"')

# Line reader: plain and gzip (multi-member, as pandas writes it), CRLF, no final newline.
text = "\n".join(raw[:20]).encode()
put("line_reader", text)
put("line_reader", gzip.compress(text[:600]) + gzip.compress(text[600:]))
put("line_reader", "\r\n".join(raw[:5]).encode() + b"\r\n")

# Config: the original's .properties and TOML (first byte: even = properties, odd = TOML).
for p in ["bootstrap.servers=localhost:9092\nsecurity.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\n"
          "sasl.username=u\nsasl.password=secret\n",
          "# comment\n\nbootstrap.servers=localhost:9092\r\n sasl.password = p=w \n! bang\n",
          "a=1\nnot a pair\n", "client.id=file\nacks=1\nlinger.ms=1\n"]:
    put("config", b"\0" + p.encode())
for t in ['brokers = "b:1"\n[kafka]\nlinger.ms = 5\n"client.id" = "c"\n[consume]\nwindow = "10m"\n'
          '[topic.create]\npartitions = 4\ntopic-config = ["a=1", "b=2"]\n',
          '[kafka]\nx = = 1\n', '[kafka]\n"sasl.password" = "s3cr3t"\n"sasl.username" = "u"\n',
          '[produce]\nrate = 1_000\ngenerate = "city"\n[aggregate]\nlayout = "clean"\n']:
    put("config", b"\1" + t.encode())

for d in ["30s", "5m", "1h", "1h30m", "5", "0", "2d", "99999999999", "1h30", "m"]:
    put("duration", d)
for u in ["s3://bucket/turnstile", "gs://bucket/a/b/", "file:///tmp/lake", "file://rel/dir", "s3://Bad/x",
          "http://127.0.0.1:9000", "https://s3.example.com:443/base/", "s3://b//x", "gs://"]:
    put("upload_url", u)
print("seeds written to", out)
