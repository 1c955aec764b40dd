#!/bin/sh
# The Ruby binding's tests. Run from the repository root:
#   STAGE=build/stage sh bindings/ruby/test.sh
# STAGE: an install prefix made by `make stage` (default build/stage);
# build/venv: the Python venv of scripts/deps.sh (aiosmtpd, for the servers).
set -eu

STAGE=${STAGE:-build/stage}
case $STAGE in /*) ;; *) STAGE=$(pwd)/$STAGE ;; esac
cd "$(dirname "$0")/../.."

if [ ! -f "$STAGE/lib/pkgconfig/smtp.pc" ]; then
  echo "test.sh: no libsmtp install in $STAGE (make stage, or make install PREFIX=...)" >&2
  exit 1
fi
if [ ! -x build/venv/bin/python ]; then
  echo "test.sh: build/venv missing (sh scripts/deps.sh)" >&2
  exit 1
fi

# Ruby and the ffi gem from Debian, when missing.
if ! command -v ruby >/dev/null 2>&1 || ! ruby -e 'require "ffi"' >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q ruby ruby-ffi
fi
command -v pkg-config >/dev/null 2>&1 || { echo "test.sh: pkg-config is needed" >&2; exit 1; }

# The binding finds the library through pkg-config; LD_LIBRARY_PATH covers
# the loader fallback (ffi_lib 'smtp') the tests also exercise.
PKG_CONFIG_PATH=$STAGE/lib/pkgconfig
LD_LIBRARY_PATH=$STAGE/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export PKG_CONFIG_PATH LD_LIBRARY_PATH
unset LIBSMTP_PATH

pkg-config --exists smtp || { echo "test.sh: pkg-config cannot find smtp in $STAGE" >&2; exit 1; }

cd bindings/ruby
exec ruby -w -Ilib -Itest -e 'Dir.glob(File.join("test", "test_*.rb")).sort.each { |f| require File.expand_path(f) }' -- "$@"
