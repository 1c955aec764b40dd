#!/bin/sh
# The C++ interface's tests: include/smtp.hpp as a C++ program sees it,
# through pkg-config only, against the install in $STAGE (default
# build/stage). Run by scripts/run_tests.py (suite "cpp"), which stages the
# library and starts a sink and an authenticating server
# (tests/servers/servers.json), given as LIBSMTP_SINK, LIBSMTP_SINK_DIR and
# LIBSMTP_AUTH:
#   python3 scripts/run_tests.py cpp
# When the install has no smtp.hpp next to smtp.h (or an outdated one), this
# copies include/smtp.hpp there. Then, each step one check:
#   - tests/cpp/test_session.cpp built with `pkg-config --cflags --libs smtp`
#     as -std=c++11, c++17 and c++20 with -Wall -Wextra -Wpedantic -Werror,
#     each run against the sink and the authenticating server;
#   - the c++17 build run again under valgrind (definite and indirect leaks
#     and memory errors fail);
#   - tests/cpp/test_compose.cpp (smtp::Message, smtp::Dkim) as c++11 and
#     with ASan/UBSan;
#   - a c++17 build with -fsanitize=address,undefined, run;
#   - smtp.hpp alone under stricter warnings (-Wshadow -Wconversion
#     -Wold-style-cast ...), and included by two translation units of one
#     program (nothing defined twice).
# The last line is "cpp: N passed, M failed"; the exit status is non-zero on
# any failure. The runner runs this in a process group of its own and kills
# what is left of it (the compilers, when interrupted) when it ends.
set -eu
cd "$(dirname "$0")/../.."
CXX=${CXX:-g++}
CXXWARN="-Wall -Wextra -Wpedantic -Werror"
SUITE=cpp
. tests/checks.sh
[ -n "${LIBSMTP_SINK:-}" ] && [ -n "${LIBSMTP_AUTH:-}" ] ||
  abort "no servers in LIBSMTP_SINK and LIBSMTP_AUTH (run: python3 scripts/run_tests.py cpp)"

if ! cmp -s include/smtp.hpp "$STAGE/include/smtp.hpp"; then
  cp include/smtp.hpp "$STAGE/include/smtp.hpp"
  echo "     (copied include/smtp.hpp to $STAGE/include: missing or different there)"
fi

SMTP_FLAGS=$(pkg-config --cflags --libs smtp)
RPATH="-Wl,-rpath,$(pkg-config --variable=libdir smtp)"

# ---------------------------------------------------------------- build and run
# The four builds run at once (compiling dominates the run time).
# build_bg LABEL EXTRA-FLAGS...: start building tests/cpp/test_session.cpp
# into $WORK/LABEL.
build_bg() {
  label=$1
  shift
  echo "$*" >"$WORK/$label.flags"
  # shellcheck disable=SC2086 # word splitting of the flags is intended
  $CXX "$@" -pthread $CXXWARN -g -o "$WORK/$label" tests/cpp/test_session.cpp $SMTP_FLAGS $RPATH \
    </dev/null >"$WORK/build-$label.log" 2>&1 &
  echo "$!" >"$WORK/$label.pid"
}
# built LABEL: wait for that build; one check; true when it succeeded.
built() {
  st=0
  wait "$(cat "$WORK/$1.pid")" || st=$?
  flags=$(cat "$WORK/$1.flags")
  if [ "$st" -eq 0 ]; then
    pass "build test_session ($1: $flags)"
    return 0
  fi
  fail "build test_session ($1: $flags; exit status $st)"
  show "$WORK/build-$1.log"
  return 1
}

# run LABEL COMMAND...: the test program's arguments appended; one check.
run() {
  label=$1
  shift
  status=0
  "$@" "$LIBSMTP_SINK" "$LIBSMTP_SINK_DIR" "$LIBSMTP_AUTH" </dev/null >"$WORK/$label.out" 2>"$WORK/$label.err" ||
    status=$?
  grep -E '^(FAIL|note|   )' "$WORK/$label.out" | sed 's/^/     /' || true
  last=$(tail -n 1 "$WORK/$label.out")
  case "$last" in
    "cpp-tests: "*" passed, 0 failed")
      if [ "$status" -eq 0 ]; then
        pass "run $label: $last"
        return 0
      fi ;;
  esac
  fail "run $label (exit status $status): ${last:-no output}"
  show "$WORK/$label.err" 60
}

for std in c++11 c++17 c++20; do
  build_bg "$std" "-std=$std"
done
build_bg asan -std=c++17 -fsanitize=address,undefined -fno-sanitize-recover=all

for std in c++11 c++17 c++20; do
  if built "$std"; then
    run "$std" "$WORK/$std"
  fi
done

if [ -x "$WORK/c++17" ]; then
  if command -v valgrind >/dev/null 2>&1; then
    # Only definite and indirect leaks fail: Rust's std keeps runtime blocks
    # that valgrind may call "possibly lost" or "still reachable".
    run valgrind valgrind -q --leak-check=full --error-exitcode=1 --errors-for-leak-kinds=definite,indirect \
      "$WORK/c++17"
  else
    fail "run valgrind: valgrind not found (sh scripts/deps.sh)"
  fi
fi

if built asan; then
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1
  export ASAN_OPTIONS UBSAN_OPTIONS
  run asan "$WORK/asan"
fi

# ---------------------------------------------------------------- composing
# tests/cpp/test_compose.cpp: smtp::Message and smtp::Dkim, as C++11 and,
# with ASan and UBSan, as C++17.
for c_std in c++11 asan; do
  c_flags="-std=$c_std"
  [ $c_std = asan ] && c_flags="-std=c++17 -fsanitize=address,undefined -fno-sanitize-recover=all"
  # shellcheck disable=SC2086 # word splitting of the flags is intended
  if $CXX $c_flags -pthread $CXXWARN -g -o "$WORK/compose-$c_std" tests/cpp/test_compose.cpp $SMTP_FLAGS $RPATH \
       </dev/null >"$WORK/build-compose-$c_std.log" 2>&1; then
    pass "build test_compose ($c_flags)"
    run "compose-$c_std" "$WORK/compose-$c_std"
  else
    fail "build test_compose ($c_flags)"
    show "$WORK/build-compose-$c_std.log"
  fi
done

# ---------------------------------------------------------------- the header alone
printf '#include <smtp.hpp>\nint main() { smtp::Session s; return s ? 0 : 1; }\n' >"$WORK/alone.cpp"
strict_ok=1
for std in c++11 c++17 c++20; do
  # shellcheck disable=SC2086
  if ! $CXX -std=$std $CXXWARN -Wshadow -Wconversion -Wsign-conversion -Wold-style-cast -Wcast-qual \
       -Wnon-virtual-dtor -Wzero-as-null-pointer-constant -Wundef -c "$WORK/alone.cpp" -o "$WORK/alone.o" \
       $(pkg-config --cflags smtp) >"$WORK/strict-$std.log" 2>&1; then
    strict_ok=0
    echo "     $std:"
    show "$WORK/strict-$std.log" 20
  fi
done
if [ "$strict_ok" = 1 ]; then
  pass "smtp.hpp alone: clean with -Wshadow -Wconversion -Wold-style-cast ... (c++11, c++17, c++20)"
else
  fail "smtp.hpp alone with stricter warnings"
fi

# Two translation units: everything in the header is inline (no duplicate symbol).
cat >"$WORK/tu1.cpp" <<'EOF'
#include <smtp.hpp>
const std::error_category &other_category();
int main()
{
    std::error_code ec = smtp::errc::auth;
    return &ec.category() == &other_category() && ec.category().name() == std::string("smtp") ? 0 : 1;
}
EOF
cat >"$WORK/tu2.cpp" <<'EOF'
#include <smtp.hpp>
const std::error_category &other_category()
{
    smtp::Session s;
    (void)s.features();
    return smtp::smtp_category();
}
EOF
# shellcheck disable=SC2086
if $CXX -std=c++11 $CXXWARN -o "$WORK/two_tu" "$WORK/tu1.cpp" "$WORK/tu2.cpp" $SMTP_FLAGS $RPATH \
     >"$WORK/two_tu.log" 2>&1 && "$WORK/two_tu" >>"$WORK/two_tu.log" 2>&1; then
  pass "smtp.hpp in two translation units: links, one error category"
else
  fail "smtp.hpp in two translation units"
  show "$WORK/two_tu.log"
fi

summary
