#!/bin/sh
# Tests of the Node.js binding against a staged install of libsmtp.
# Run from the repository root after `make stage` and `sh scripts/deps.sh`:
#   sh bindings/node/test.sh
#   STAGE=build/stage-node sh bindings/node/test.sh     (another install prefix)
# The library is found only through PKG_CONFIG_PATH=$STAGE/lib/pkgconfig;
# the test servers run on build/venv/bin/python (aiosmtpd, trustme).
set -eu

STAGE=${STAGE:-build/stage}
case $STAGE in
  /*) ;;
  *) STAGE=$(pwd)/$STAGE ;;
esac
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

cd bindings/node
if [ ! -d node_modules/koffi ]; then
  if [ -f package-lock.json ]; then
    npm ci --no-audit --no-fund
  else
    npm install --no-audit --no-fund
  fi
fi

export PKG_CONFIG_PATH="$STAGE/lib/pkgconfig"
unset LIBSMTP_PATH
# TAP on every terminal, so the summary reads "# pass N" / "# fail 0";
# node exits non-zero when a test fails. One file at a time: they share
# the runner's sink and count what it stored.
node --test --test-concurrency=1 --test-reporter=tap --test-timeout=60000 test/*.test.js
