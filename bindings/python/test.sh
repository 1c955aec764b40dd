#!/bin/sh
# The Python binding's tests: the shared conformance vectors replayed through
# the libsmtp module, and real aiosmtpd servers (tests/servers/).
# Run from the repository root:  STAGE=build/stage sh bindings/python/test.sh
# STAGE is an install prefix (`make stage` makes build/stage); the module
# finds libsmtp.so there through pkg-config only. build/venv comes from
# scripts/deps.sh; pytest is installed into it when missing.
set -eu
STAGE=${STAGE:-build/stage}
case $STAGE in /*) ;; *) STAGE=$PWD/$STAGE ;; esac
if [ ! -f "$STAGE/lib/pkgconfig/smtp.pc" ]; then
  echo "bindings/python/test.sh: no libsmtp install in $STAGE (run make stage, or set STAGE)" >&2
  exit 1
fi
if [ ! -x build/venv/bin/python ]; then
  echo "bindings/python/test.sh: build/venv is missing (run sh scripts/deps.sh)" >&2
  exit 1
fi
export PKG_CONFIG_PATH="$STAGE/lib/pkgconfig"
unset LIBSMTP_PATH  # the library must be found through pkg-config
export PYTHONDONTWRITEBYTECODE=1
if ! build/venv/bin/python -c 'import pytest' 2>/dev/null; then
  build/venv/bin/pip install -q pytest
fi
cd bindings/python
exec ../../build/venv/bin/python -m pytest -q -p no:cacheprovider tests
