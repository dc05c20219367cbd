#!/usr/bin/env bash
# Builds a static libpq (the PostgreSQL client of `--sink postgresql://...`) from Debian bookworm's
# postgresql-15 source package for `make static`, installed into third_party/build/libpq-install.
# Debian's libpq.a wants static GSSAPI and LDAP (the same trap as libsasl2) and the server-dev package's
# pgcommon/pgport: so only src/interfaces/libpq and the two helper libraries it needs are built here,
# without GSSAPI, LDAP, readline, ICU and zlib, with OpenSSL (Debian's static libssl/libcrypto) for TLS
# and SCRAM. Cached: does nothing when already built.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
prefix="$here/build/libpq-install"
src=$("$here/fetch-debian-source.sh" postgresql-15 bookworm)
version=$(basename "$src")
stamp="$prefix/.built-$version"
[ -f "$stamp" ] && exit 0
log_dir="$here/build/logs"; mkdir -p "$log_dir"
jobs=${JOBS:-$(nproc)}
echo "building static libpq from $version in $src ($jobs jobs)" >&2
cd "$src"
./configure --prefix="$prefix" --without-gssapi --without-ldap --without-readline --without-icu \
  --without-zlib --without-llvm --without-perl --without-python --without-tcl --with-openssl \
  >"$log_dir/libpq-configure.log" 2>&1 || { tail -30 "$log_dir/libpq-configure.log" >&2; exit 1; }
# The headers the build generates (utils/errcodes.h, ...) first: `all-static-lib` does not ask for them,
# and with several jobs src/port would otherwise race ahead of them.
make -C src/backend generated-headers >"$log_dir/libpq-headers.log" 2>&1 ||
  { tail -30 "$log_dir/libpq-headers.log" >&2; exit 1; }
# libpq's Makefile builds src/port and src/common (their *_shlib variants, which libpq links with) first.
make -C src/interfaces/libpq -j"$jobs" all-static-lib >"$log_dir/libpq-build.log" 2>&1 ||
  { tail -30 "$log_dir/libpq-build.log" >&2; exit 1; }
rm -rf "$prefix"
mkdir -p "$prefix/lib" "$prefix/include"
cp src/interfaces/libpq/libpq.a src/common/libpgcommon_shlib.a src/port/libpgport_shlib.a "$prefix/lib/"
cp src/interfaces/libpq/libpq-fe.h src/include/postgres_ext.h src/include/pg_config_ext.h "$prefix/include/"
touch "$stamp"
echo "static libpq ready: $prefix" >&2
