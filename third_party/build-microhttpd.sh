#!/usr/bin/env bash
# Builds a static libmicrohttpd (the /metrics and /healthz server of `consume --metrics-addr`) from Debian
# bookworm's source package for `make static`, installed into third_party/build/microhttpd-install.
# Debian's own libmicrohttpd.a is built with HTTPS through GnuTLS, whose static link needs p11-kit and
# libunistring archives Debian does not ship; the endpoint is plain HTTP, so this one has no TLS.
# Cached: does nothing when already built.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
prefix="$here/build/microhttpd-install"
src=$("$here/fetch-debian-source.sh" libmicrohttpd bookworm)
version=$(basename "$src")
stamp="$prefix/.built-$version"
[ -f "$stamp" ] && exit 0
log_dir="$here/build/logs"; mkdir -p "$log_dir"
jobs=${JOBS:-$(nproc)}
echo "building static $version in $src ($jobs jobs)" >&2
cd "$src"
./configure --prefix="$prefix" --disable-shared --enable-static --with-pic \
  --disable-https --without-gnutls --disable-curl --disable-doc --disable-examples --disable-tools \
  --disable-postprocessor --disable-dauth --disable-bauth --disable-httpupgrade \
  >"$log_dir/microhttpd-configure.log" 2>&1 || { tail -30 "$log_dir/microhttpd-configure.log" >&2; exit 1; }
make -C src/microhttpd -j"$jobs" >"$log_dir/microhttpd-build.log" 2>&1 || { tail -30 "$log_dir/microhttpd-build.log" >&2; exit 1; }
rm -rf "$prefix"
make -C src/microhttpd install >>"$log_dir/microhttpd-build.log" 2>&1
make -C src/include install >>"$log_dir/microhttpd-build.log" 2>&1
touch "$stamp"
echo "static libmicrohttpd ready: $prefix" >&2
