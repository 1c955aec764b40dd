#!/bin/sh
# The npm package, bundling the staged libsmtp: OUTDIR/libsmtp-VERSION.tgz.
# Run from the repository root after `make stage` (build/stage/lib/libsmtp.so.0
# is then the stripped release library):
#   sh bindings/node/dist.sh OUTDIR
# The library goes to native/libsmtp.so.0 in the package, where lib/native.js
# looks first; koffi comes from npm when the package is installed.
set -eu

if [ $# -ne 1 ]; then
  echo "usage: sh bindings/node/dist.sh OUTDIR" >&2
  exit 2
fi
STAGE=${STAGE:-build/stage}
LIB=$STAGE/lib/libsmtp.so.0
if [ ! -f "$LIB" ]; then
  echo "bindings/node/dist.sh: no $LIB (run: make stage)" >&2
  exit 1
fi
mkdir -p "$1"
OUT=$(cd "$1" && pwd)

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
PKG=$WORK/libsmtp
mkdir -p "$PKG/native"
cp -R bindings/node/package.json bindings/node/index.js bindings/node/index.d.ts bindings/node/README.md \
  bindings/node/lib "$PKG/"
cp -L "$LIB" "$PKG/native/libsmtp.so.0"
chmod 0755 "$PKG/native/libsmtp.so.0"
(cd "$PKG" && npm pack --silent --pack-destination "$OUT" >/dev/null)
VERSION=$(node -p "require('$PKG/package.json').version")
test -f "$OUT/libsmtp-$VERSION.tgz"
echo "$OUT/libsmtp-$VERSION.tgz"
