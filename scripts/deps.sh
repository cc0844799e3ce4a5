#!/bin/sh
# Installs the Debian packages tandem builds and tests with, or says exactly how.
# Run by `make` before anything is compiled; quiet when all are present. Arguments name extra
# packages one target needs (valgrind for valgrind-test, clang for the fuzzers).
set -eu
# chromium renders the HTML report in its e2e test; man-db and groff-base render the man pages.
PKGS="pkg-config gcc make liblua5.4-dev libuv1-dev libcjson-dev libcsv-dev nettle-dev libical-dev libsqlite3-dev
      libcriterion-dev python3 chromium man-db groff-base $*"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
  echo "deps: installing$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq $missing >&2
else
  echo "deps: missing Debian packages:$missing" >&2
  echo "deps: run as root:  apt-get update && apt-get install -y$missing" >&2
  exit 1
fi
