#!/bin/sh
# Tests of the Node.js binding. Run from the repository root through the
# runner, which makes the stage and starts the test servers:
#   python3 scripts/run_tests.py node
# (by hand: after `make stage` and `sh scripts/deps.sh`, with the servers
# of tests/servers/servers.json started by test/helpers.js:
#   sh bindings/node/test.sh; STAGE=... for another install prefix).
#
# 1. node --test against the staged library, found only through
#    PKG_CONFIG_PATH=$STAGE/lib/pkgconfig;
# 2. tsc --noEmit --strict on test/types/example.ts (index.d.ts covers the API);
# 3. the package from dist.sh installed into a fresh npm project, sending a
#    message to the sink with no LIBSMTP_*, PKG_CONFIG_PATH or LD_LIBRARY_PATH.
set -eu

STAGE=${STAGE:-build/stage}
case $STAGE in
  /*) ;;
  *) STAGE=$(pwd)/$STAGE ;;
esac
export STAGE
if [ ! -f "$STAGE/lib/pkgconfig/smtp.pc" ]; then
  echo "bindings/node/test.sh: no $STAGE/lib/pkgconfig/smtp.pc (run: make stage)" >&2
  exit 1
fi
if [ ! -x build/venv/bin/python ]; then
  echo "bindings/node/test.sh: no build/venv/bin/python (run: sh scripts/deps.sh)" >&2
  exit 1
fi
for tool in node npm pkg-config; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "bindings/node/test.sh: $tool is needed" >&2
    exit 1
  fi
done
ROOT=$(pwd)

cd bindings/node
# koffi, and typescript with @types/node for the type check (devDependencies).
if [ ! -d node_modules/koffi ] || [ ! -d node_modules/typescript ]; then
  npm ci --no-audit --no-fund
fi

echo "== node --test"
# TAP on every terminal, so the summary reads "# pass N" / "# fail 0";
# node exits non-zero when a test fails. One file at a time: they share
# the runner's sink and count what it stored.
PKG_CONFIG_PATH="$STAGE/lib/pkgconfig" LIBSMTP_PATH='' \
  node --test --test-concurrency=1 --test-reporter=tap --test-timeout=60000 test/*.test.js

echo "== tsc --noEmit --strict test/types/example.ts"
node_modules/.bin/tsc --noEmit --strict --target es2022 --module commonjs --moduleResolution node \
  --types node test/types/example.ts
echo "types: ok"

echo "== the npm package, installed fresh"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$ROOT"
TARBALL=$(STAGE="$STAGE" sh bindings/node/dist.sh "$WORK/dist")
mkdir "$WORK/project"
cp bindings/node/test/fresh/send.js "$WORK/project/"
cd "$WORK/project"
npm init -y >/dev/null
npm install --no-audit --no-fund "$TARBALL" >/dev/null
if [ -z "${LIBSMTP_SINK:-}" ]; then
  echo "bindings/node/test.sh: no LIBSMTP_SINK (run through: python3 scripts/run_tests.py node)" >&2
  exit 1
fi
TOKEN="node-fresh-$$-$(date +%s)"
HOST=${LIBSMTP_SINK%:*}
PORT=${LIBSMTP_SINK##*:}
FROM=$(env -i PATH="$PATH" HOME="${HOME:-/tmp}" node send.js "$HOST" "$PORT" "$TOKEN")
echo "loaded: $FROM"
case $FROM in
  "$WORK/project/node_modules/libsmtp/native/libsmtp.so.0 "*) ;;
  *) echo "FAIL: the bundled library was not the one loaded" >&2; exit 1 ;;
esac
if ! grep -l "fresh install $TOKEN" "$LIBSMTP_SINK_DIR"/*.eml >/dev/null 2>&1; then
  echo "FAIL: the message from the fresh install did not arrive in $LIBSMTP_SINK_DIR" >&2
  exit 1
fi
echo "fresh install: ok (the message arrived)"
