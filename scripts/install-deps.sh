#!/usr/bin/env bash
# Installs the build dependencies on Debian/Ubuntu with apt-get. Idempotent and quiet when all is there.
set -euo pipefail
packages=(build-essential cmake ninja-build pkg-config librdkafka-dev libcli11-dev libfmt-dev
          libsimdjson-dev libtomlplusplus-dev zlib1g-dev libdeflate-dev libzstd-dev libssl-dev libcurl4-openssl-dev
          libmicrohttpd-dev libpq-dev libgtest-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "installing build dependencies: ${missing[*]}" >&2
$sudo apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
