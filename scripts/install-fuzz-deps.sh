#!/usr/bin/env bash
# Installs clang and its runtime (libFuzzer, ASan/UBSan for clang) for `make fuzz` on Debian/Ubuntu.
# Idempotent and quiet when all is there. Debian 12 ships clang 14: libFuzzer is in libclang-rt-14-dev.
set -euo pipefail
packages=(clang)
version=$(apt-cache policy clang 2>/dev/null | sed -n 's/^ *Candidate: *1:\([0-9]*\).*/\1/p' | head -1)
if command -v clang >/dev/null 2>&1; then
  version=$(clang --version | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -1)
fi
[ -n "$version" ] && packages+=("libclang-rt-${version}-dev")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "installing fuzzing dependencies: ${missing[*]}" >&2
$sudo apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
