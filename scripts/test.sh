#!/bin/sh
# Every test (the README's `make test`; also CI's .ci/run): Rust unit tests,
# the header drift check, the smtplib conformance vectors, hostile servers,
# auth, TLS, messages, load and threads (cargo); the panic boundary (also
# under valgrind); the C tests against a staged install (ASan/UBSan and
# valgrind); C++; the C examples against aiosmtpd; every binding; a short
# run of every fuzz target. Installs what it needs (scripts/deps.sh).
set -eu
cd "$(dirname "$0")/.."
suites=0
step() { echo; echo "== $*"; }
passed() { suites=$((suites + 1)); }

sh scripts/deps.sh

step "cargo test (unit, header, conformance, hostile servers, auth, TLS, proxies, messages, load)"
cargo test --no-fail-fast 2>&1
passed

step "streaming: a 1 GiB message through the read callback (release build)"
cargo test --release --test stream -- --nocapture 2>&1
passed

step "panic boundary (feature test-panic), also under valgrind"
cargo test --features test-panic --test panic 2>&1
bin=$(ls -t target/debug/deps/panic-* | grep -v '\.d$' | head -n 1)
valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=1 "$bin" --test-threads=1
passed

step "static link flags"
make -s check-libs-private
passed

step "install and uninstall with PREFIX and DESTDIR"
dest="$PWD/build/destdir-test"
rm -rf "$dest"
make -s install PREFIX=/opt/libsmtp DESTDIR="$dest" >/dev/null
for f in lib/libsmtp.so.0.1.0 lib/libsmtp.so.0 lib/libsmtp.so lib/libsmtp.a include/smtp.h include/smtp.hpp lib/pkgconfig/smtp.pc; do
  [ -e "$dest/opt/libsmtp/$f" ] || { echo "install: $f missing"; exit 1; }
done
grep -q '^prefix=/opt/libsmtp$' "$dest/opt/libsmtp/lib/pkgconfig/smtp.pc" || { echo "install: smtp.pc has the wrong prefix"; exit 1; }
make -s uninstall PREFIX=/opt/libsmtp DESTDIR="$dest"
left=$(find "$dest" -type f -o -type l)
[ -z "$left" ] || { echo "uninstall left: $left"; exit 1; }
rm -rf "$dest"
echo "install/uninstall: ok"
passed

step "staged install (build/stage)"
make -s stage
export STAGE="$PWD/build/stage" SKIP_STAGE=1
passed

step "C tests (ASan/UBSan, valgrind, symbols, header standards, static link)"
sh scripts/c-tests.sh
passed

step "C++ (smtp.hpp)"
sh scripts/cpp-tests.sh
passed

step "C examples against aiosmtpd"
sh scripts/examples-test.sh
passed

for lang in python go ruby node; do
  if [ -f "bindings/$lang/test.sh" ]; then
    step "binding: $lang"
    sh "bindings/$lang/test.sh"
    passed
  fi
done

step "fuzz targets, 5 s each"
sh scripts/fuzz.sh 5
passed

echo
echo "all: $suites passed, 0 failed"
