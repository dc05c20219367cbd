#!/usr/bin/env bash
# Fetches and unpacks one Debian source package (with Debian's patches applied) into
# third_party/build/src/, without touching the system's apt configuration: apt runs with a private
# sources dir and lists dir under third_party/cache/apt/SUITE. apt checks the index signatures
# against Debian's archive keyring, and the downloaded files against the signed index.
# usage: fetch-debian-source.sh PACKAGE SUITE [VERSION]   (prints the unpacked source directory)
# Without VERSION, the suite's current version is taken (and logged).
set -euo pipefail
package=$1 suite=$2 version=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
cache="$here/cache"
src="$here/build/src"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
if [ ! -f "$keyring" ]; then  # Ubuntu: Debian's archive keys come in a package
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends debian-archive-keyring >&2
fi
apt_dir="$cache/apt/$suite"
mkdir -p "$apt_dir/sources.list.d" "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" \
         "$cache/debs" "$src"
cat >"$apt_dir/sources.list.d/$suite-src.sources" <<SOURCES
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $suite
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
apt_opts=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$apt_dir/sources.list.d"
          -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache")
# root: apt's _apt sandbox user cannot write into our private cache, so download as root.
[ "$(id -u)" -eq 0 ] && apt_opts+=(-o "APT::Sandbox::User=root")

if [ -n "$version" ] && [ -f "$src/$package-$version/.unpacked" ]; then echo "$src/$package-$version"; exit 0; fi
if ! ls "$apt_dir"/lists/*Sources* >/dev/null 2>&1; then
  echo "fetching the Debian $suite source index (private apt lists in $apt_dir)" >&2
  apt-get "${apt_opts[@]}" update -qq >&2
fi
if [ -z "$version" ]; then
  version=$(apt-cache "${apt_opts[@]}" showsrc "$package" | awk '/^Version:/ {print $2; exit}')
  [ -n "$version" ] || { echo "no source package '$package' in Debian $suite" >&2; exit 1; }
fi
dir="$src/$package-$version"
if [ -f "$dir/.unpacked" ]; then echo "$dir"; exit 0; fi

dsc="$cache/debs/${package}_${version#*:}.dsc"
if [ ! -f "$dsc" ]; then
  echo "downloading Debian source package $package $version ($suite)" >&2
  (cd "$cache/debs" && apt-get "${apt_opts[@]}" source --download-only -qq "$package=$version" >&2)
fi
rm -rf "$dir"
(cd "$src" && dpkg-source --no-check -x "$dsc" "$dir" >/dev/null)
touch "$dir/.unpacked"
echo "$dir"
