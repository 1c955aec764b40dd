#!/bin/sh
# Build the gem libsmtp into OUTDIR, bundling the release library of a
# `make stage` (build/stage/lib/libsmtp.so.0). Run from the repository
# root:  sh bindings/ruby/dist.sh OUTDIR
# Writes OUTDIR/libsmtp-VERSION-PLATFORM.gem (a platform gem, e.g.
# libsmtp-0.1.0-x86_64-linux.gem: it carries an x86_64 Linux library that
# needs glibc 2.34 or later) and prints its path.
set -eu

OUT=${1:?usage: sh bindings/ruby/dist.sh OUTDIR}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
cd "$(dirname "$0")/../.."

LIB=build/stage/lib/libsmtp.so.0
[ -f "$LIB" ] || { echo "dist.sh: no $LIB (run make stage first)" >&2; exit 1; }
if ! command -v gem >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q ruby ruby-ffi
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cp -R bindings/ruby/lib bindings/ruby/libsmtp.gemspec bindings/ruby/README.md "$WORK/"
[ -d bindings/ruby/sig ] && cp -R bindings/ruby/sig "$WORK/"
cp "$LIB" "$WORK/lib/smtp/libsmtp.so.0"
(cd "$WORK" && gem build --silent libsmtp.gemspec >/dev/null)
for gem in "$WORK"/libsmtp-*.gem; do
  mv "$gem" "$OUT/"
  echo "$OUT/$(basename "$gem")"
done
