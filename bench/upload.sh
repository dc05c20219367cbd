#!/usr/bin/env bash
# upload vs boto3 (the AWS SDK for Python, from moto's venv) putting the same files into the same local S3
# server (moto, SigV4 checked), both with 4 parallel uploads; and upload to file:// vs `cp` + `sync`.
# mtastream also checksums every file, sends Content-MD5 and verifies the ETag; boto3 does its default.
# The server (Python) bounds both S3 figures: the ratio says whether mtastream adds overhead of its own.
# usage: bench/upload.sh [MTASTREAM_BINARY]     env: FILES (default 200), SIZE (bytes, default 262144), RUNS (3)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
mtastream=${1:-$here/build/mtastream}
files=${FILES:-200} size=${SIZE:-262144} runs=${RUNS:-3}
[ -x "$mtastream" ] || { echo "no binary at $mtastream (make build)" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/mtastream-bench.XXXXXX")
cleanup() { "$here/scripts/s3-local.sh" stop --dir "$work/s3" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
"$here/scripts/s3-local.sh" start --dir "$work/s3" --env-file "$work/s3.env"
# shellcheck disable=SC1091
source "$work/s3.env"
python=${MTASTREAM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mtastream}/moto-5.2.5/bin/python
mkdir -p "$work/files"
for i in $(seq "$files"); do head -c "$size" /dev/urandom >"$work/files/f$i.csv.gz"; done
export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY AWS_REGION=$S3_REGION

best() { sort -n | head -1; }
seconds() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); awk -v ns=$((e - s)) 'BEGIN{printf "%.3f\n", ns / 1e9}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a / b}'; }

m=$(for r in $(seq "$runs"); do
  seconds "$mtastream" upload --to "s3://$S3_BUCKET/m$r" --endpoint "$S3_ENDPOINT" --jobs 4 "$work/files"; done | best)
b=$(for r in $(seq "$runs"); do seconds "$python" - "$S3_ENDPOINT" "$S3_BUCKET" "b$r" "$work/files" <<'PY'
import boto3, os, sys
from concurrent.futures import ThreadPoolExecutor
endpoint, bucket, prefix, folder = sys.argv[1:]
s3 = boto3.client("s3", endpoint_url=endpoint)
names = sorted(os.listdir(folder))
with ThreadPoolExecutor(4) as pool:
    list(pool.map(lambda n: s3.upload_file(os.path.join(folder, n), bucket, prefix + "/" + n), names))
PY
done | best)
fm=$(for r in $(seq "$runs"); do seconds "$mtastream" upload --to "file://$work/lake$r" --jobs 4 "$work/files"; done | best)
fc=$(for r in $(seq "$runs"); do seconds sh -c "mkdir -p '$work/cp$r' && cp '$work'/files/* '$work/cp$r/' && sync"; done | best)
mb=$(awk -v n="$files" -v s="$size" 'BEGIN{print n * s / 1048576}')
printf 'files: %d x %d bytes (%.1f MiB), best of %d\n' "$files" "$size" "$mb" "$runs"
printf 'S3 (moto):  mtastream upload %.2fs   boto3 %.2fs   ratio (boto3 time / mtastream time) %.2f\n' "$m" "$b" "$(ratio "$b" "$m")"
printf 'file://:    mtastream upload %.2fs   cp+sync %.2fs   ratio %.2f (mtastream fsyncs and re-reads each file)\n' "$fm" "$fc" "$(ratio "$fc" "$fm")"
