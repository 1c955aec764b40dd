#!/bin/sh
# The Python binding's tests: the shared conformance vectors replayed through
# the libsmtp module, real aiosmtpd servers (tests/servers/), and CPython's
# own test_smtplib for the venv's Python and for one more version.
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

# CPython's own Lib/test/test_smtplib.py against the module
# (tests/cpython_smtplib.py): tests/test_cpython_smtplib.py runs it for the
# venv's Python; here it runs for a second version too: 3.13, or when the
# venv is 3.13, the newest of 3.12-3.8 (from PATH or pyenv).
venv_version=$(build/venv/bin/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')
if [ "$venv_version" = 3.13 ]; then wanted="3.12 3.11 3.10 3.9 3.8"; else wanted="3.13"; fi
other=""
for v in $wanted; do
  for py in "python$v" $(pyenv root 2>/dev/null)/versions/"$v"*/bin/python"$v"; do
    if "$py" -c 'import test.test_smtplib' >/dev/null 2>&1; then other=$py; break 2; fi
  done
done
if [ -z "$other" ]; then
  echo "bindings/python/test.sh: no Python $wanted with its test package (test.test_smtplib) to run CPython's test_smtplib with" >&2
  exit 1
fi
echo "CPython's test_smtplib with $other:"
"$other" bindings/python/tests/cpython_smtplib.py

cd bindings/python
exec ../../build/venv/bin/python -m pytest -q -p no:cacheprovider tests
