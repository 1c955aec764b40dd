#!/bin/sh
# The Python binding's tests, run from the repository root:
#   STAGE=build/stage sh bindings/python/test.sh
# (python3 scripts/run_tests.py python runs it with the test servers of
# tests/servers/servers.json: LIBSMTP_SINK, LIBSMTP_SINK_DIR, ...).
#
# 1. CPython's own test_smtplib for a second Python version;
# 2. pytest on bindings/python/tests with the module from the source tree,
#    which finds libsmtp.so through pkg-config only (STAGE is a `make
#    stage` install): the conformance vectors, the servers, libsmtp.aio,
#    the pool, the C API coverage, CPython's test_smtplib, the examples;
# 3. the package: dist.sh builds the platform wheel from build/stage,
#    auditwheel confirms its manylinux tag, and the wheel installed into a
#    fresh venv sends a message to $LIBSMTP_SINK with no LIBSMTP_*,
#    PKG_CONFIG_PATH or LD_LIBRARY_PATH set (the bundled library);
# 4. mypy: the package, and mypy --strict on examples/ against the
#    installed wheel (py.typed).
# build/venv comes from scripts/deps.sh; pytest, mypy and auditwheel are
# installed into it from PyPI when missing.
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
ROOT=$PWD
export PKG_CONFIG_PATH="$STAGE/lib/pkgconfig"
unset LIBSMTP_PATH  # the library must be found through pkg-config
export PYTHONDONTWRITEBYTECODE=1
build/venv/bin/python -c 'import pytest, mypy, auditwheel' 2>/dev/null \
  || build/venv/bin/pip install -q pytest mypy auditwheel

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

(cd bindings/python && ../../build/venv/bin/python -m pytest -q -p no:cacheprovider tests)

echo "package: dist.sh, auditwheel, a fresh venv with no environment"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
wheel=$(sh bindings/python/dist.sh "$tmp/dist" | tail -n 1)
tag=$(basename "$wheel" .whl | sed 's/.*-py3-none-//')
build/venv/bin/auditwheel show "$wheel" > "$tmp/auditwheel.txt"
if ! tr -s ' \n' ' ' < "$tmp/auditwheel.txt" | grep -q "consistent with the following platform tag: \"$tag\""; then
  echo "bindings/python/test.sh: $wheel is tagged $tag, auditwheel says:" >&2
  cat "$tmp/auditwheel.txt" >&2
  exit 1
fi
echo "$(basename "$wheel"): auditwheel agrees ($tag)"
python3 -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install -q --no-index "$wheel"
before=$(ls "$LIBSMTP_SINK_DIR" 2>/dev/null | grep -c '\.eml$' || true)
(cd "$tmp" && env -i PATH=/usr/bin:/bin HOME="$tmp" "$tmp/venv/bin/python" -c '
import sys, libsmtp
assert libsmtp.LIBRARY_PATH.startswith(sys.prefix), libsmtp.LIBRARY_PATH
print("loaded", libsmtp.LIBRARY_PATH)' \
  && env -i PATH=/usr/bin:/bin HOME="$tmp" "$tmp/venv/bin/python" "$ROOT/bindings/python/examples/send_async.py" "$LIBSMTP_SINK")
after=$(ls "$LIBSMTP_SINK_DIR" | grep -c '\.eml$')
if [ "$after" -ne $((before + 1)) ]; then
  echo "bindings/python/test.sh: the message from the fresh venv did not arrive in $LIBSMTP_SINK_DIR" >&2
  exit 1
fi
echo "the fresh venv's message arrived ($LIBSMTP_SINK_DIR: $after messages)"

echo "mypy: the package, then --strict on examples/ against the installed wheel"
(cd bindings/python && ../../build/venv/bin/mypy --no-incremental --cache-dir=/dev/null -p libsmtp)
(cd "$tmp" && "$ROOT/build/venv/bin/mypy" --strict --no-incremental --cache-dir=/dev/null \
  --python-executable "$tmp/venv/bin/python" "$ROOT/bindings/python/examples")
