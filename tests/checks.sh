# Sourced by tests/c/run.sh, tests/cpp/run.sh and tests/package/run.sh, from the repository root:
# the install in $STAGE (default build/stage) found through pkg-config only,
# a work directory removed on exit, and checks counted: pass, fail, show a
# log's end, abort with a reason, and the closing "$SUITE: N passed, M
# failed" (summary; false when any failed).
STAGE=${STAGE:-build/stage}
case $STAGE in /*) ;; *) STAGE=$PWD/$STAGE ;; esac
PKG_CONFIG_PATH=$STAGE/lib/pkgconfig
export PKG_CONFIG_PATH
WORK=$(mktemp -d "${TMPDIR:-/tmp}/libsmtp-tests.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
trap 'exit 143' HUP INT TERM

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }
# Show a log indented, at most $2 lines from its end.
show() { tail -n "${2:-40}" "$1" | sed 's/^/     /'; }
summary() {
  echo "$SUITE: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
abort() {
  fail "$1"
  summary || true
  exit 1
}

if [ -f "$STAGE/lib/pkgconfig/smtp.pc" ] && [ -f "$STAGE/include/smtp.h" ] && command -v pkg-config >/dev/null; then
  pass "staged install in $STAGE"
else
  abort "no staged install in $STAGE (lib/pkgconfig/smtp.pc, include/smtp.h: make stage), or no pkg-config"
fi
