#!/usr/bin/env bash
# A real S3-compatible server on loopback for tests and by hand: moto's server mode (PyPI `moto[server]`),
# with AWS Signature V4 checked on every request (wrong keys or a bad signature are refused, as by AWS).
#
# usage: s3-local.sh start|stop|restart|status [--dir DIR] [--env-file FILE]
#   --dir       server state: log, pid, port (default ./.s3-local); objects live in memory (lost on stop)
#   --env-file  where `start` writes the endpoint, buckets and keys (default DIR/s3.env); source it
# moto is installed once into a venv under ${MTASTREAM_CACHE:-~/.cache/mtastream}/moto-VERSION.
set -euo pipefail

usage() { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[ $# -ge 1 ] || usage
action=$1; shift
dir=.s3-local env_file=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir=$2; shift 2 ;;
    --env-file) env_file=$2; shift 2 ;;
    -h|--help) usage ;;
    *) echo "s3-local.sh: unknown argument '$1'" >&2; usage ;;
  esac
done
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
[ -n "$env_file" ] || env_file=$dir/s3.env
moto_version=5.2.5
venv=${MTASTREAM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mtastream}/moto-$moto_version
log=$dir/moto.log
pid_file=$dir/moto.pid
region=us-east-1
# Two buckets: one for the tests, one that stays empty. Keys are made by the server at each start.
bucket=mtastream-test bucket2=mtastream-other

say() { echo "s3-local: $*" >&2; }
die() { say "$*"; exit 1; }

running_pid() {
  [ -f "$pid_file" ] || return 1
  local pid; pid=$(cat "$pid_file")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

install_moto() {
  [ -f "$venv/complete" ] && return 0
  command -v python3 >/dev/null || die "python3 not found: run scripts/install-test-deps.sh"
  say "installing moto[server]==$moto_version into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv" || die "python3 -m venv failed: run scripts/install-test-deps.sh (python3-venv)"
  if ! "$venv/bin/pip" install -q --disable-pip-version-check "moto[server]==$moto_version" >"$dir/pip.log" 2>&1; then
    tail -20 "$dir/pip.log" >&2
    die "could not install moto (log: $dir/pip.log)"
  fi
  touch "$venv/complete"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Creates an IAM user with full S3 rights and its access key, the buckets, then turns signature checking
# on for every later request (moto's /moto-api/reset-auth with 0 free requests). Prints the keys.
provision() {
  "$venv/bin/python" - "http://127.0.0.1:$port" "$region" "$bucket" "$bucket2" <<'PY'
import json, sys, urllib.request
import boto3
endpoint, region, buckets = sys.argv[1], sys.argv[2], sys.argv[3:]
anon = dict(endpoint_url=endpoint, region_name=region, aws_access_key_id="setup", aws_secret_access_key="setup")
iam = boto3.client("iam", **anon)
iam.create_user(UserName="mtastream")
iam.put_user_policy(UserName="mtastream", PolicyName="s3-all", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
key = iam.create_access_key(UserName="mtastream")["AccessKey"]
urllib.request.urlopen(urllib.request.Request(endpoint + "/moto-api/reset-auth", data=b"0", method="POST",
                                              headers={"Content-Type": "text/plain"}))
s3 = boto3.client("s3", endpoint_url=endpoint, region_name=region, aws_access_key_id=key["AccessKeyId"],
                  aws_secret_access_key=key["SecretAccessKey"])
for b in buckets:
    s3.create_bucket(Bucket=b)  # signed with the new key: proves checking is on and the key works
print(key["AccessKeyId"], key["SecretAccessKey"])
PY
}

write_env() {
  local access_key=$1 secret_key=$2 tmp=$env_file.tmp
  {
    echo "# written by scripts/s3-local.sh; source it"
    printf 'S3_ENDPOINT=%q\n' "http://127.0.0.1:$port"
    printf 'S3_REGION=%q\n' "$region"
    printf 'S3_BUCKET=%q\n' "$bucket"
    printf 'S3_BUCKET_2=%q\n' "$bucket2"
    printf 'S3_ACCESS_KEY_ID=%q\n' "$access_key"
    printf 'S3_SECRET_ACCESS_KEY=%q\n' "$secret_key"
    printf 'S3_PID_FILE=%q\n' "$pid_file"
    printf 'S3_LOG=%q\n' "$log"
    printf 'S3_LOCAL=%q\n' "$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
  } >"$tmp"
  chmod 600 "$tmp"
  mv "$tmp" "$env_file"
}

start() {
  if pid=$(running_pid); then
    [ -f "$env_file" ] || die "running (pid $pid) but $env_file is missing: restart it"
    say "already running (pid $pid)"
    return 0
  fi
  install_moto
  port=$(free_port)
  [ -f "$log" ] && mv "$log" "$log.previous"
  : >"$log"
  nohup setsid "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" </dev/null >>"$log" 2>&1 &
  echo $! >"$pid_file"
  local waited=0
  until curl -fsS -o /dev/null "http://127.0.0.1:$port/moto-api/data.json" 2>/dev/null; do
    running_pid >/dev/null || { tail -20 "$log" >&2; die "moto exited while starting (log: $log)"; }
    [ "$waited" -ge 120 ] && { stop_server; die "moto not ready after 60s (log: $log)"; }
    sleep 0.5; waited=$((waited + 1))
  done
  local keys
  keys=$(provision 2>>"$log") || { tail -20 "$log" >&2; stop_server; die "provisioning failed (log: $log)"; }
  # shellcheck disable=SC2086
  write_env $keys
  say "moto $moto_version ready at http://127.0.0.1:$port, buckets $bucket $bucket2, SigV4 checked (env: $env_file)"
}

stop_server() {
  local pid
  pid=$(running_pid) || { rm -f "$pid_file"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  local waited=0
  while kill -0 "$pid" 2>/dev/null; do
    [ "$waited" -ge 20 ] && kill -KILL "$pid" 2>/dev/null || true
    sleep 0.25; waited=$((waited + 1))
  done
  rm -f "$pid_file"
}

case "$action" in
  start) start ;;
  stop) stop_server; say "stopped" ;;
  restart) stop_server; start ;;
  status) if pid=$(running_pid); then echo "running pid $pid"; else echo "stopped"; exit 1; fi ;;
  *) usage ;;
esac
