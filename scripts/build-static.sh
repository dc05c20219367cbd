#!/usr/bin/env bash
# `make static`: builds the release artefact, one `mtastream` binary that needs nothing but the C library,
# into build-static/mtastream. librdkafka (Debian trixie 2.8.0), libcurl, libmicrohttpd, libpq (bookworm's postgresql-15) and simdjson are built from
# Debian source packages by third_party/ recipes (cached in third_party/build/, outside git).
# Env: JOBS (parallel jobs, default nproc), BUILD_DIR (default build-static).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build-static}
export JOBS=${JOBS:-$(nproc)}
start=$(date +%s)
scripts/install-deps.sh
# dpkg-source (unpacks Debian source packages) comes with build-essential's dpkg-dev.
third_party/build-librdkafka.sh
third_party/build-curl.sh
third_party/build-microhttpd.sh
third_party/build-libpq.sh
third_party/fetch-debian-source.sh simdjson bookworm 3.0.1-1 >/dev/null
cmake -S . -B "$build_dir" -G Ninja -DMTASTREAM_STATIC=ON -DMTASTREAM_TESTS=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build_dir" -j "$JOBS" --target mtastream
strip "$build_dir/mtastream"
binary="$build_dir/mtastream"
echo "== $binary: $(du -h "$binary" | cut -f1) ($(stat -c %s "$binary") bytes), built in $(( $(date +%s) - start ))s" >&2
echo "== ldd:" >&2
ldd "$binary" >&2 || true
"$binary" --version >&2
