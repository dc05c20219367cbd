#!/usr/bin/env bash
# Builds a static librdkafka from Debian trixie's source package (2.8.0) for `make static`,
# installed into third_party/build/librdkafka-install. Cached: does nothing when already built.
# No Cyrus SASL (its static library cannot link statically) and no libcurl: SASL PLAIN, SCRAM and
# OAUTHBEARER are librdkafka's own code; lz4 is librdkafka's bundled copy; OpenSSL, zstd, zlib are
# Debian's static libraries.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
prefix="$here/build/librdkafka-install"
version=2.8.0-1
stamp="$prefix/.built-$version"
[ -f "$stamp" ] && exit 0
src=$("$here/fetch-debian-source.sh" librdkafka trixie "$version")
# Logs outside the source tree: mklove takes any configure.* file there for a module.
log_dir="$here/build/logs"; mkdir -p "$log_dir"
jobs=${JOBS:-$(nproc)}
echo "building static librdkafka $version in $src ($jobs jobs)" >&2
cd "$src"
./configure --prefix="$prefix" --enable-static --disable-gssapi --disable-curl --disable-lz4-ext \
  --disable-debug-symbols >"$log_dir/librdkafka-configure.log" 2>&1 || { tail -30 "$log_dir/librdkafka-configure.log" >&2; exit 1; }
make -C src -j"$jobs" librdkafka.a >"$log_dir/librdkafka-build.log" 2>&1 || { tail -30 "$log_dir/librdkafka-build.log" >&2; exit 1; }
mkdir -p "$prefix/lib" "$prefix/include/librdkafka"
cp src/librdkafka.a "$prefix/lib/"
cp src/rdkafka.h src/rdkafka_mock.h "$prefix/include/librdkafka/"
grep -E '^#define WITH_(SSL|SASL_SCRAM|SASL_OAUTHBEARER|ZSTD|ZLIB|PLUGINS|LZ4_EXT|CURL|SASL_CYRUS)' config.h >"$prefix/features.txt" || true
touch "$stamp"
echo "static librdkafka ready: $prefix" >&2
