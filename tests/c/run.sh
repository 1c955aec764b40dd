#!/bin/sh
# The C test suite: libsmtp as a C program sees it, through pkg-config only,
# against the install in $STAGE. Run by scripts/run_tests.py (suite "c"),
# which stages the library, makes the test CA and starts the servers:
#   python3 scripts/run_tests.py c
# One part per run of this script:
#   asan      tests/c/test_api.c built with ASan+UBSan and run against the
#             servers the runner started (tests/servers/servers.json): the
#             sink, a sink with --dsn, one with --size-limit, STARTTLS and
#             implicit TLS servers with a trustme CA for localhost and
#             127.0.0.1, and pproxy as SOCKS5 and HTTP CONNECT with a
#             password, and the scripted server (its acts: the "c_api"
#             script of servers.json); given as LIBSMTP_<SERVER>=127.0.0.1:PORT and
#             LIBSMTP_<SERVER>_DIR, the CA's files in LIBSMTP_TLS_FILES;
#             Then tests/c/test_compose.c (the message builder and DKIM)
#             the same way against the sink;
#   valgrind  the same built plainly, under valgrind, against fresh servers;
#   abi       the exported dynamic symbols are exactly the functions of
#             smtp.h and test_api.c calls each of them; the SONAME is
#             libsmtp.so.MAJOR; every macro of smtp.h is in the SMTP_
#             namespace; smtp.h alone compiles as C89/C99/C11 and
#             C++11/17/20; a program links statically against libsmtp.a with
#             `pkg-config --static --libs smtp` and runs, also as a fully
#             static program (`cc -static`) that resolves localhost.
# Each check prints ok or FAIL; the last line is "c-tests: N passed, M
# failed" and the exit status is non-zero on any failure. Network: loopback
# only (and a Unix-domain socket). The runner runs this in a process group
# of its own and kills it when it ends.
set -eu
cd "$(dirname "$0")/../.."
LC_ALL=C # sort and comm must agree
export LC_ALL
part=${1:-}
CC=${CC:-gcc}
CXX=${CXX:-g++}
SUITE="c-tests $part"
. tests/checks.sh
CFLAGS_SMTP=$(pkg-config --cflags smtp)
LIBS_SMTP=$(pkg-config --libs smtp)
LIBDIR=$(pkg-config --variable=libdir smtp)
RPATH="-Wl,-rpath,$LIBDIR"

# build LABEL FLAGS...: tests/c/test_api.c into $WORK/LABEL; one check.
build() {
  b_label=$1
  shift
  if $CC -std=c99 -pthread -Wall -Wextra -Wpedantic -Werror "$@" -g -o "$WORK/$b_label" tests/c/test_api.c \
       $CFLAGS_SMTP $LIBS_SMTP $RPATH >"$WORK/build-$b_label.log" 2>&1; then
    pass "build test_api with $*"
  else
    fail "build test_api with $*"
    show "$WORK/build-$b_label.log"
    return 1
  fi
}

# api COMMAND...: test_api (the command's last word) against the runner's
# servers; one check for the CA's files, one for the run.
api() {
  if [ -f "${LIBSMTP_TLS_FILES:-}/ca.pem" ] && [ -f "$LIBSMTP_TLS_FILES/key.pem" ] &&
     [ -f "$LIBSMTP_TLS_FILES/other-key.pem" ] && [ -d "$LIBSMTP_TLS_FILES/empty-dir" ]; then
    pass "a test CA and a certificate for localhost and 127.0.0.1 in ${LIBSMTP_TLS_FILES}"
  else
    fail "no test CA in LIBSMTP_TLS_FILES (run through: python3 scripts/run_tests.py c)"
  fi
  : "${LIBSMTP_SINK:?the servers come from scripts/run_tests.py: python3 scripts/run_tests.py c}"
  status=0
  "$@" "$LIBSMTP_SINK" "$LIBSMTP_SINK_DIR" \
    --dsn "$LIBSMTP_DSN" "$LIBSMTP_DSN_DIR" \
    --size "$LIBSMTP_SIZE" "$LIBSMTP_SIZE_DIR" "$LIBSMTP_SIZE_LIMIT" \
    --starttls "$LIBSMTP_STARTTLS" "$LIBSMTP_STARTTLS_DIR" \
    --implicit "$LIBSMTP_IMPLICIT" "$LIBSMTP_IMPLICIT_DIR" \
    --tls-files "$LIBSMTP_TLS_FILES" --proxies "$LIBSMTP_SOCKS" "$LIBSMTP_HTTPPROXY" \
    --scripted "$LIBSMTP_SCRIPTED" "$LIBSMTP_SCRIPTED_DIR" \
    </dev/null >"$WORK/$part.out" 2>"$WORK/$part.err" || status=$?
  last=$(tail -n 1 "$WORK/$part.out")
  # Failures and notes from the program itself.
  grep -E '^(FAIL|note|test_api:|   )' "$WORK/$part.out" | sed 's/^/     /' || true
  echo "     $part: $last"
  case "$last" in
    "c-tests: "*" passed, 0 failed")
      if [ "$status" -eq 0 ]; then
        pass "$part: test_api"
        return 0
      fi ;;
  esac
  fail "$part: test_api (exit status $status)"
  show "$WORK/$part.err" 60
}

# compose LABEL FLAGS... -- RUNNER...: tests/c/test_compose.c (the message
# builder and DKIM) built with FLAGS into $WORK/LABEL and run by RUNNER
# against the sink, after test_api (it skips the messages already there).
compose() {
  c_label=$1
  shift
  c_flags=""
  while [ "$1" != "--" ]; do c_flags="$c_flags $1"; shift; done
  shift
  # shellcheck disable=SC2086 # one flag per word
  if ! $CC -std=c99 -pthread -Wall -Wextra -Wpedantic -Werror $c_flags -g -o "$WORK/$c_label" tests/c/test_compose.c \
       $CFLAGS_SMTP $LIBS_SMTP $RPATH >"$WORK/build-$c_label.log" 2>&1; then
    fail "build test_compose with$c_flags"
    show "$WORK/build-$c_label.log"
    return 1
  fi
  pass "build test_compose with$c_flags"
  c_status=0
  "$@" "$WORK/$c_label" "$LIBSMTP_SINK" "$LIBSMTP_SINK_DIR" </dev/null >"$WORK/$c_label.out" 2>"$WORK/$c_label.err" \
    || c_status=$?
  grep -E '^(FAIL|   )' "$WORK/$c_label.out" | sed 's/^/     /' || true
  c_last=$(tail -n 1 "$WORK/$c_label.out")
  echo "     $c_label: $c_last"
  case "$c_last" in
    "c-tests: "*" passed, 0 failed") [ "$c_status" -ne 0 ] || { pass "$part: test_compose"; return 0; } ;;
  esac
  fail "$part: test_compose (exit status $c_status)"
  show "$WORK/$c_label.err" 60
}

case $part in
asan)
  if build asan -fsanitize=address,undefined -fno-sanitize-recover=all; then
    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1
    export ASAN_OPTIONS UBSAN_OPTIONS
    api "$WORK/asan"
  fi
  compose compose-asan -fsanitize=address,undefined -fno-sanitize-recover=all -- env ;;
valgrind)
  build plain -O1 || { summary; exit 1; }
  # Only definite and indirect leaks fail: Rust's std keeps some
  # thread-local and runtime blocks that valgrind may call "possibly lost"
  # or "still reachable".
  #
  # Suppressed: memcheck's false "uninitialised" reports inside TLS crypto
  # (ring's AES-GCM, under rustls). The GCM tags of TLS 1.3 records count
  # as undefined for memcheck (its origin, with --track-origins: a stack
  # slot in rustls's ring hash Context::fork_finish, the transcript hash the
  # keys come from), so the tag check on a record received and the send of
  # a record made are reported, though the tags are right every time (the
  # peer verifies each one, and the handshake would fail otherwise) and
  # ASan/UBSan run the same code clean. Only those two shapes are
  # suppressed: a conditional jump whose innermost frame is ring's AEAD
  # code, and a send(2) or sendmsg(2) of bytes rustls has encrypted
  # (ChunkVecBuffer is rustls's queue of TLS records; the driver hands
  # several records to one sendmsg, whose parameter memcheck names by the
  # index of the buffer: one entry per index). Plaintext connections, which
  # carry the same commands and messages, are checked in full; leaks are
  # never suppressed.
  cat >"$WORK/valgrind.supp" <<'EOF'
{
   ring-aead-tag-check
   Memcheck:Cond
   fun:_ZN4ring4aead*
}
{
   rustls-send-tls-records
   Memcheck:Param
   socketcall.sendto(msg)
   ...
   fun:_ZN6rustls6vecbuf14ChunkVecBuffer8write_to*
}
EOF
  i=0
  while [ $i -lt 64 ]; do
    printf '{\n   rustls-sendmsg-tls-records-%s\n   Memcheck:Param\n   sendmsg(msg.msg_iov[%s])\n   ...\n   fun:_ZN6rustls6vecbuf14ChunkVecBuffer8write_to*\n}\n' \
      "$i" "$i" >>"$WORK/valgrind.supp"
    i=$((i + 1))
  done
  api valgrind -q --leak-check=full --error-exitcode=1 --errors-for-leak-kinds=definite,indirect \
    --suppressions="$WORK/valgrind.supp" "$WORK/plain"
  compose compose-plain -O1 -- valgrind -q --leak-check=full --error-exitcode=1 \
    --errors-for-leak-kinds=definite,indirect --suppressions="$WORK/valgrind.supp" ;;
abi)
# ---------------------------------------------------------------- exports
# The functions smtp.h declares, from the preprocessed header (no comments).
echo '#include <smtp.h>' | $CC -E -P $CFLAGS_SMTP -x c - \
  | grep -oE '(^|[^A-Za-z0-9_])smtp_[A-Za-z0-9_]+[[:space:]]*\(' \
  | sed -E 's/^[^s]//; s/[[:space:]]*\($//' | sort -u >"$WORK/declared"
nm -D --defined-only "$LIBDIR/libsmtp.so" | awk 'NF >= 3 { print $3 }' | sed 's/@.*//' | sort -u >"$WORK/exported"
extra=$(comm -13 "$WORK/declared" "$WORK/exported")
missing=$(comm -23 "$WORK/declared" "$WORK/exported")
ndecl=$(wc -l <"$WORK/declared" | tr -d ' ')
if [ -z "$extra" ] && [ -z "$missing" ] && [ "$ndecl" -gt 0 ]; then
  pass "exported symbols are exactly the $ndecl functions of smtp.h"
else
  fail "exported symbols differ from the functions of smtp.h ($ndecl declared)"
  [ -z "$extra" ] || echo "$extra" | sed 's/^/     exported, not declared: /'
  [ -z "$missing" ] || echo "$missing" | sed 's/^/     declared, not exported: /'
fi

# ---------------------------------------------------------------- coverage
# test_api (and test_compose, for the builder and DKIM) call every function
# of smtp.h (a new one needs its tests).
uncalled=""
for fn in $(cat "$WORK/declared"); do
  grep -q "[^A-Za-z0-9_]$fn(" tests/c/test_api.c tests/c/test_compose.c || uncalled="$uncalled $fn"
done
if [ -z "$uncalled" ] && [ "$ndecl" -gt 0 ]; then
  pass "tests/c/test_api.c and test_compose.c call each of the $ndecl functions"
else
  fail "tests/c/test_api.c and test_compose.c never call:$uncalled"
fi

# ---------------------------------------------------------------- SONAME
major=$(pkg-config --modversion smtp | cut -d. -f1)
soname=$(readelf -d "$LIBDIR/libsmtp.so" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
if [ "$soname" = "libsmtp.so.$major" ] && [ "$soname" = "libsmtp.so.0" ]; then
  pass "SONAME is $soname"
else
  fail "SONAME is '$soname', want libsmtp.so.0 (libsmtp.so.$major)"
fi

# ---------------------------------------------------------------- macros
# Every macro of the public header is in the SMTP_ namespace (a user's own
# MAX_ITERATIONS, say, must not clash with it).
unprefixed=$(sed -n 's/^#[[:space:]]*define[[:space:]]\{1,\}\([A-Za-z_][A-Za-z0-9_]*\).*/\1/p' \
  "$(pkg-config --variable=includedir smtp)/smtp.h" | grep -v '^SMTP_' | sort -u | tr '\n' ' ' || true)
if [ -z "$unprefixed" ]; then
  pass "every macro of smtp.h starts with SMTP_"
else
  fail "smtp.h defines macros outside the SMTP_ namespace: $unprefixed"
fi

# ---------------------------------------------------------------- header alone
printf '#include <smtp.h>\n' >"$WORK/header_only.c"
cp "$WORK/header_only.c" "$WORK/header_only.cpp"
for std in c89 c99 c11; do
  if $CC -std=$std -Wall -Wextra -Werror -pedantic -c "$WORK/header_only.c" -o "$WORK/header_only.o" \
       $CFLAGS_SMTP >"$WORK/header-$std.log" 2>&1; then
    pass "smtp.h compiles as $std"
  else
    fail "smtp.h compiles as $std"
    show "$WORK/header-$std.log"
  fi
done
for std in c++11 c++17 c++20; do
  if $CXX -std=$std -Wall -Wextra -Werror -pedantic -c "$WORK/header_only.cpp" -o "$WORK/header_only.o" \
       $CFLAGS_SMTP >"$WORK/header-$std.log" 2>&1; then
    pass "smtp.h compiles as $std"
  else
    fail "smtp.h compiles as $std"
    show "$WORK/header-$std.log"
  fi
done

# ---------------------------------------------------------------- static link
# --static gives Libs.private too; -lsmtp becomes the archive itself (the
# linker would otherwise prefer libsmtp.so from the same directory).
static_libs=""
for word in $(pkg-config --static --libs smtp); do
  if [ "$word" = "-lsmtp" ]; then word="$LIBDIR/libsmtp.a"; fi
  static_libs="$static_libs $word"
done
want_version="$(pkg-config --modversion smtp) 220"
# static_link LABEL FLAGS...: tests/c/static_link.c linked with FLAGS and
# `pkg-config --static`, run; one check.
static_link() {
  s_label=$1
  shift
  if $CC -std=c99 -Wall -Wextra -Werror "$@" -o "$WORK/$s_label" tests/c/static_link.c $CFLAGS_SMTP $static_libs \
       >"$WORK/$s_label.log" 2>&1; then
    got_version=$("$WORK/$s_label" 2>>"$WORK/$s_label.log" || echo "(exit status $?)")
    if readelf -d "$WORK/$s_label" | grep -q 'NEEDED.*libsmtp'; then
      fail "$s_label: the program still needs libsmtp.so"
    elif [ "$got_version" = "$want_version" ]; then
      pass "$s_label against libsmtp.a runs (version, greeting code: $got_version)"
    else
      fail "$s_label: program printed '$got_version', want '$want_version'"
      show "$WORK/$s_label.log"
    fi
  else
    fail "$s_label against libsmtp.a with pkg-config --static --libs smtp $*"
    show "$WORK/$s_label.log"
  fi
}
static_link "static link"
# A fully static program: no -lgcc_s in Libs.private (the driver links
# libgcc_eh), and getaddrinfo works from a static glibc (glibc's link-time
# warning about NSS modules is expected; "localhost" comes from /etc/hosts).
static_link "cc -static" -static
if [ -f "$WORK/cc -static" ] && readelf -d "$WORK/cc -static" 2>/dev/null | grep -q NEEDED; then
  fail "cc -static: the program has dynamic dependencies"
fi ;;
*)
  echo "usage: sh tests/c/run.sh asan|valgrind|abi (python3 scripts/run_tests.py c runs all three)" >&2
  exit 2 ;;
esac
summary
