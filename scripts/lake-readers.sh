#!/usr/bin/env bash
# The warehouse-side readers of a partitioned lake, for tests and by hand: DuckDB and PySpark (PyPI),
# installed once into a venv under ${MTASTREAM_CACHE:-~/.cache/mtastream}/lake-readers-VERSIONS.
# PySpark runs on the machine's Java 17 (scripts/install-test-deps.sh installs it).
#
# usage: lake-readers.sh install     installs if missing, prints the venv's python on stdout
#        lake-readers.sh python ARGS runs the venv's python (installing first)
set -euo pipefail
duckdb_version=2.0.1
pyspark_version=3.5.3
venv=${MTASTREAM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mtastream}/lake-readers-$duckdb_version-$pyspark_version

say() { echo "lake-readers: $*" >&2; }
die() { say "$*"; exit 1; }

install() {
  [ -f "$venv/complete" ] && return 0
  command -v python3 >/dev/null || die "python3 not found: run scripts/install-test-deps.sh"
  command -v java >/dev/null || die "java not found (PySpark needs it): run scripts/install-test-deps.sh"
  say "installing duckdb==$duckdb_version pyspark==$pyspark_version into $venv"
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  python3 -m venv "$venv" || die "python3 -m venv failed: run scripts/install-test-deps.sh (python3-venv)"
  local log; log=$(mktemp)
  if ! "$venv/bin/pip" install -q --disable-pip-version-check "duckdb==$duckdb_version" "pyspark==$pyspark_version" \
      >"$log" 2>&1; then
    tail -20 "$log" >&2
    rm -f "$log"
    die "pip install failed (is PyPI reachable?)"
  fi
  rm -f "$log"
  touch "$venv/complete"
}

case "${1:-}" in
  install) install; echo "$venv/bin/python" ;;
  python) shift; install; exec "$venv/bin/python" "$@" ;;
  *) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
