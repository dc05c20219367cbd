#!/usr/bin/env bash
# Installs what the integration tests and benchmarks use besides the build: Java for the real Kafka
# broker, kcat and mawk as peers, Python for the S3 server. Kafka jars are fetched by scripts/kafka-local.sh.
# zsh, fish and groff check the generated completions and man pages (tests/integration/docs.sh).
# postgresql-15 is the warehouse server of the --sink tests (scripts/postgres-local.sh).
# openssl makes the test CA for the broker's SASL_SSL listener (scripts/kafka-local.sh).
# PyPI test deps go into venvs under ${MTASTREAM_CACHE:-~/.cache/mtastream}: prometheus_client parses the
# /metrics page (tests/integration/consume_metrics.sh); moto is installed by scripts/s3-local.sh.
set -euo pipefail
packages=(kcat mawk curl python3 python3-venv zsh fish groff-base openssl strace postgresql-15 postgresql-client-15)
command -v java >/dev/null 2>&1 || packages+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || packages+=(maven)  # fetches the Kafka broker jars (scripts/kafka-local.sh)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing test dependencies: ${missing[*]}" >&2
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# pip_venv NAME REQUIREMENT: a venv at $cache/NAME with REQUIREMENT installed (once).
cache=${MTASTREAM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mtastream}
pip_venv() {
  local venv=$cache/$1
  [ -f "$venv/complete" ] && return 0
  echo "installing $2 into $venv" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "$2" >&2
  touch "$venv/complete"
}
pip_venv prometheus-client-0.26.0 prometheus_client==0.26.0
