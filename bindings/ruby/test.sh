#!/bin/sh
# The Ruby binding's tests, run by `python3 scripts/run_tests.py ruby`
# (which starts the test servers and exports LIBSMTP_SINK and the others).
# STAGE: an install prefix made by `make stage` (default build/stage);
# build/venv: the Python venv of scripts/deps.sh (aiosmtpd, for the servers).
# The minitest suite, then the gem from dist.sh installed into a fresh
# GEM_HOME and used with no environment.
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

(cd bindings/ruby &&
  ruby -w -Ilib -Itest -e 'Dir.glob(File.join("test", "test_*.rb")).sort.each { |f| require File.expand_path(f) }' -- "$@")

# The gem: built by dist.sh, installed into a fresh GEM_HOME (its ffi
# dependency resolved offline by the Debian ruby-ffi on the default gem
# path: GEM_PATH unset), then used under `env -i` (no LIBSMTP_*,
# LD_LIBRARY_PATH or PKG_CONFIG_PATH) from outside the repository to send a
# message to the runner's sink, which must store it.
if [ -z "${LIBSMTP_SINK:-}" ] || [ -z "${LIBSMTP_SINK_DIR:-}" ]; then
  echo "test.sh: LIBSMTP_SINK unset: run python3 scripts/run_tests.py ruby" >&2
  exit 1
fi
PKG=$(mktemp -d)
trap 'rm -rf "$PKG"' EXIT
GEMFILE=$(sh bindings/ruby/dist.sh "$PKG/dist")
echo "gem: built $(basename "$GEMFILE")"
(cd "$PKG" && env -u GEM_PATH -u LIBSMTP_PATH -u PKG_CONFIG_PATH -u LD_LIBRARY_PATH GEM_HOME="$PKG/gems" \
  gem install --local --no-document "$GEMFILE")
installed=$(ls "$PKG/gems/gems")
[ "$installed" = "$(basename "$GEMFILE" .gem)" ] || { echo "gem: GEM_HOME holds: $installed" >&2; exit 1; }
TOKEN="gem-smoke-$$-$(date +%s)"
SMOKE=$(pwd -P)/bindings/ruby/test/gem_smoke.rb
(cd "$PKG" && env -i PATH="$PATH" HOME="$PKG" GEM_HOME="$PKG/gems" ruby -w "$SMOKE" "$LIBSMTP_SINK" "$TOKEN")
sleep 0.2
grep -l "Subject: $TOKEN" "$LIBSMTP_SINK_DIR"/*.eml >/dev/null ||
  { echo "gem: the message did not reach the sink" >&2; exit 1; }
echo "gem: message $TOKEN stored by the sink"
