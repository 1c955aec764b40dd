#!/bin/sh
# Every test: Rust unit tests, the header drift check, the smtplib
# conformance vectors and the hostile-server suite (cargo), then the C tests
# against a staged install (ASan/UBSan and valgrind), and the C examples
# against a real aiosmtpd server. Installs what it needs (scripts/deps.sh).
set -eu
cd "$(dirname "$0")/.."
sh scripts/deps.sh
echo "== cargo test (unit, header, conformance, hostile servers)"
cargo test --no-fail-fast 2>&1
echo "== static link flags"
make -s check-libs-private
echo "== C tests against the staged install"
sh scripts/c-tests.sh
echo "== C examples against aiosmtpd"
sh scripts/examples-test.sh
echo "all tests passed"
