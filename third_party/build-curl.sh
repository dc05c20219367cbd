#!/usr/bin/env bash
# Builds a small static libcurl from Debian bookworm's source package for `make static`, installed
# into third_party/build/curl-install. Debian's own libcurl.a needs static nghttp2, psl, ssh, ldap,
# gssapi... that Debian does not ship, so this one keeps only what mtastream uses: HTTP(S) through
# OpenSSL (AWS SigV4 signing included), file://, zlib. Cached: does nothing when already built.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
prefix="$here/build/curl-install"
src=$("$here/fetch-debian-source.sh" curl bookworm)
version=$(basename "$src")
stamp="$prefix/.built-$version"
[ -f "$stamp" ] && exit 0
log_dir="$here/build/logs"; mkdir -p "$log_dir"
jobs=${JOBS:-$(nproc)}
echo "building static $version in $src ($jobs jobs)" >&2
cd "$src"
./configure --prefix="$prefix" --disable-shared --enable-static --with-pic \
  --with-openssl --with-zlib --without-zstd --without-brotli --without-libpsl --without-libidn2 \
  --without-nghttp2 --without-libssh2 --without-libssh --without-librtmp --without-gssapi \
  --disable-ldap --disable-ldaps --disable-rtsp --disable-dict --disable-telnet --disable-tftp \
  --disable-pop3 --disable-imap --disable-smb --disable-smtp --disable-gopher --disable-mqtt \
  --disable-ftp --disable-manual --disable-ntlm --disable-ntlm-wb --disable-alt-svc \
  --with-ca-bundle=/etc/ssl/certs/ca-certificates.crt --with-ca-path=/etc/ssl/certs \
  >"$log_dir/curl-configure.log" 2>&1 || { tail -30 "$log_dir/curl-configure.log" >&2; exit 1; }
make -C lib -j"$jobs" >"$log_dir/curl-build.log" 2>&1 || { tail -30 "$log_dir/curl-build.log" >&2; exit 1; }
rm -rf "$prefix"
make -C lib install >>"$log_dir/curl-build.log" 2>&1
make -C include install >>"$log_dir/curl-build.log" 2>&1
touch "$stamp"
echo "static libcurl ready: $prefix" >&2
