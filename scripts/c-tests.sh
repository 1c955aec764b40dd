#!/bin/sh
# The C test suite: libsmtp as a C program sees it, through pkg-config only.
#
#   sh scripts/c-tests.sh
#   STAGE=build/stage-c sh scripts/c-tests.sh   # stage somewhere else
#   SKIP_STAGE=1 sh scripts/c-tests.sh          # use what is staged in $STAGE
#
# Stages the library into $STAGE (default build/stage; `make stage
# STAGE=...`) unless SKIP_STAGE=1 says a caller has staged it already (so
# that two stagers never run at once: scripts/test.sh stages once, then
# runs this with SKIP_STAGE=1), then:
#   - tests/c/test_api.c built with ASan+UBSan and run against a fresh
#     aiosmtpd sink (tests/servers/sink.py), two more sinks (one with
#     --dsn, one with --size-limit) and two TLS servers
#     (tests/servers/tls_server.py, STARTTLS and implicit TLS, with a CA
#     and a certificate for localhost/127.0.0.1 made by trustme) and two
#     proxies (tests/servers/proxy_server.py: pproxy as SOCKS5 and as HTTP
#     CONNECT, both with a user and password);
#   - the same built plainly and run under valgrind against fresh servers;
#   - the exported dynamic symbols are exactly the functions of smtp.h, and
#     test_api.c calls each of them;
#   - the SONAME is libsmtp.so.MAJOR;
#   - every macro of smtp.h is in the SMTP_ namespace;
#   - smtp.h alone compiles cleanly as C89/C99/C11 and C++11/17/20;
#   - a program links statically against libsmtp.a with
#     `pkg-config --static --libs smtp` and runs.
# Each of these counts as one check; the last line is
# "c-tests: N passed, M failed" and the exit status is non-zero on any
# failure. Needs what scripts/deps.sh installs (build/venv with aiosmtpd,
# pkg-config, valgrind, trustme) and gcc/g++.
#
# Network: loopback only (the sinks, the TLS servers and test_api's own
# servers listen on 127.0.0.1; test_api also uses a Unix-domain socket).
#
# Processes: every long-running child (make stage, the servers, the test runs)
# is started in the background, in a process group of its own when setsid(1)
# is there, and waited for; on any exit (normal, error, HUP/INT/QUIT/TERM)
# the EXIT trap kills each one still running, group and all. A server also
# stops by itself once this script's process is gone (--parent-pid), and
# test_api's forked server once test_api is gone.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
LC_ALL=C # sort and comm must agree
export LC_ALL

PYTHON=${PYTHON:-build/venv/bin/python}
CC=${CC:-gcc}
CXX=${CXX:-g++}
STAGE=${STAGE:-build/stage}
case $STAGE in
/*) ;;
*) STAGE=$ROOT/$STAGE ;;
esac
SKIP_STAGE=${SKIP_STAGE:-0}
PKG_CONFIG_PATH=$STAGE/lib/pkgconfig
export PKG_CONFIG_PATH

passed=0
failed=0
# The background children still running (each a process group leader when
# setsid is there).
CHILDREN=""
WORK=$(mktemp -d "${TMPDIR:-/tmp}/libsmtp-c-tests.XXXXXX")
# setsid -w: should setsid have to fork (when run as a group leader), it
# waits, so that $! still ends when the command does.
if setsid -w true </dev/null >/dev/null 2>&1; then
  HAVE_SETSID=1
  SETSID="setsid -w"
elif setsid true </dev/null >/dev/null 2>&1; then
  HAVE_SETSID=1
  SETSID=setsid
else
  HAVE_SETSID=0
  SETSID=""
fi

# Start "$@" in the background (stdin, stdout and stderr as the caller
# redirects them); its pid in BG_PID. With setsid it leads a process group
# of its own, so that kill_child reaches whatever it starts too (cargo's
# rustc, valgrind's tool, test_api's forked server). The caller sees the
# pid at once: the job is a plain command, which the shell execs directly.
spawn() {
  if [ "$HAVE_SETSID" = 1 ]; then
    $SETSID "$@" &
  else
    "$@" &
  fi
  BG_PID=$!
  CHILDREN="$CHILDREN $BG_PID"
}
forget_child() {
  rest=""
  for c in $CHILDREN; do [ "$c" = "$1" ] || rest="$rest $c"; done
  CHILDREN=$rest
}
# Kill child $1 (its process group when it has one) and reap it.
kill_child() {
  if [ "$HAVE_SETSID" = 1 ]; then
    kill -TERM "-$1" 2>/dev/null || kill -TERM "$1" 2>/dev/null || true
  else
    kill -TERM "$1" 2>/dev/null || true
  fi
  wait "$1" 2>/dev/null || true
  forget_child "$1"
}
# Wait for child $1; its exit status in $status. A signal caught meanwhile
# interrupts the wait and runs its trap (which exits through cleanup).
wait_child() {
  status=0
  wait "$1" || status=$?
  forget_child "$1"
}
# Run "$@" as a killable background child and wait for it; status in $status.
run_child() {
  spawn "$@"
  wait_child "$BG_PID"
}

cleanup() {
  trap '' HUP INT QUIT PIPE TERM # let the cleanup finish
  for c in $CHILDREN; do kill_child "$c"; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 131' QUIT
trap 'exit 141' PIPE
trap 'exit 143' TERM

pass() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }
# Show a log indented, at most $2 lines from its end.
show() { tail -n "${2:-40}" "$1" | sed 's/^/     /'; }

summary() {
  echo "c-tests: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}

# ---------------------------------------------------------------- stage
if [ "$SKIP_STAGE" = 1 ]; then
  if [ -f "$STAGE/lib/pkgconfig/smtp.pc" ] && [ -f "$STAGE/include/smtp.h" ]; then
    pass "staged install in $STAGE (SKIP_STAGE=1: not staged here)"
  else
    fail "SKIP_STAGE=1, but $STAGE holds no staged install (lib/pkgconfig/smtp.pc, include/smtp.h)"
    summary
    exit 1
  fi
else
  run_child make -s stage STAGE="$STAGE" </dev/null >"$WORK/stage.log" 2>&1
  if [ "$status" -eq 0 ]; then
    pass "make stage STAGE=$STAGE"
  else
    fail "make stage STAGE=$STAGE (exit status $status)"
    show "$WORK/stage.log"
    summary
    exit 1
  fi
fi

CFLAGS_SMTP=$(pkg-config --cflags smtp)
LIBS_SMTP=$(pkg-config --libs smtp)
LIBDIR=$(pkg-config --variable=libdir smtp)
RPATH="-Wl,-rpath,$LIBDIR"

# ---------------------------------------------------------------- TLS files
# A test CA and a certificate for localhost and 127.0.0.1 signed by it
# (trustme), the CA also alone in a directory, a key that fits no
# certificate here, and an empty directory: test_api --tls-files.
TLS_FILES=$WORK/tls
mkdir -p "$TLS_FILES/ca-dir" "$TLS_FILES/empty-dir"
if "$PYTHON" - "$TLS_FILES" <<'PY' >"$WORK/tls-files.log" 2>&1; then
import sys
import trustme
d = sys.argv[1]
ca = trustme.CA()
cert = ca.issue_cert("localhost", "127.0.0.1")
ca.cert_pem.write_to_path(d + "/ca.pem")
ca.cert_pem.write_to_path(d + "/ca-dir/ca.pem")
cert.cert_chain_pems[0].write_to_path(d + "/cert.pem")
cert.private_key_pem.write_to_path(d + "/key.pem")
trustme.CA().issue_cert("other.example").private_key_pem.write_to_path(d + "/other-key.pem")
PY
  pass "a test CA and a certificate for localhost and 127.0.0.1 (trustme)"
else
  fail "a test CA and a certificate for localhost and 127.0.0.1 (trustme)"
  show "$WORK/tls-files.log"
fi

# ---------------------------------------------------------------- servers
# The servers of one test_api run, each started fresh (a sink numbers its
# messages from 0001 in its directory), all at once, on 127.0.0.1:
#   sink      tests/servers/sink.py
#   dsn       tests/servers/sink.py --dsn (advertises DSN, records raw MAIL/RCPT)
#   size      tests/servers/sink.py --size-limit $SIZE_LIMIT
#   starttls  tests/servers/tls_server.py --mode starttls
#   implicit  tests/servers/tls_server.py --mode implicit
#   socks     tests/servers/proxy_server.py --scheme socks5 (pproxy, with a password)
#   httpproxy tests/servers/proxy_server.py --scheme http (pproxy, with a password)
SIZE_LIMIT=1000
# The proxies' user and password: test_api.c's PROXY_USER and PROXY_PASSWORD.
PROXY_AUTH='cuser:s3cret@proxy'
SERVERS=""

# launch NAME DIR SCRIPT [ARGS...]: start one storing into DIR (log DIR.log).
launch() {
  l_name=$1
  l_dir=$2
  shift 2
  rm -f "$WORK/$l_name.port"
  spawn "$PYTHON" "$@" --dir "$l_dir" --port-file "$WORK/$l_name.port" --parent-pid $$ \
    </dev/null >"$l_dir.log" 2>&1
  SERVERS="$SERVERS $BG_PID"
  eval "PID_$l_name=\$BG_PID"
}

# await NAME DIR: wait until NAME listens; its port in PORT_NAME.
await() {
  a_name=$1
  a_dir=$2
  eval "a_pid=\$PID_$a_name"
  a_tries=0
  while [ ! -s "$WORK/$a_name.port" ]; do
    a_tries=$((a_tries + 1))
    if [ "$a_tries" -gt 150 ] || ! kill -0 "$a_pid" 2>/dev/null; then
      echo "     the $a_name server did not start (it exited, or wrote no port file within 15 s):"
      show "$a_dir.log"
      return 1
    fi
    sleep 0.1 2>/dev/null || sleep 1 # POSIX sleep takes whole seconds only
  done
  eval "PORT_$a_name=\$(cat \"\$WORK/\$a_name.port\")"
}

stop_servers() {
  for c in $SERVERS; do kill_child "$c"; done
  SERVERS=""
}

# Run test_api ($1: label, rest: command prefix and binary) against fresh
# servers; one check.
run_api() {
  label=$1
  shift
  base="$WORK/$label"
  launch sink "$base-sink" tests/servers/sink.py
  launch dsn "$base-dsn" tests/servers/sink.py --dsn
  launch size "$base-size" tests/servers/sink.py --size-limit "$SIZE_LIMIT"
  launch starttls "$base-starttls" tests/servers/tls_server.py --mode starttls \
    --cert "$TLS_FILES/cert.pem" --key "$TLS_FILES/key.pem"
  launch implicit "$base-implicit" tests/servers/tls_server.py --mode implicit \
    --cert "$TLS_FILES/cert.pem" --key "$TLS_FILES/key.pem"
  launch socks "$base-socks" tests/servers/proxy_server.py --scheme socks5 --auth "$PROXY_AUTH"
  launch httpproxy "$base-httpproxy" tests/servers/proxy_server.py --scheme http --auth "$PROXY_AUTH"
  if ! await sink "$base-sink" || ! await dsn "$base-dsn" || ! await size "$base-size" ||
     ! await starttls "$base-starttls" || ! await implicit "$base-implicit" ||
     ! await socks "$base-socks" || ! await httpproxy "$base-httpproxy"; then
    stop_servers
    fail "$label: test_api (a server did not start)"
    return 0
  fi
  run_child "$@" "127.0.0.1:$PORT_sink" "$base-sink" \
    --dsn "127.0.0.1:$PORT_dsn" "$base-dsn" \
    --size "127.0.0.1:$PORT_size" "$base-size" "$SIZE_LIMIT" \
    --starttls "127.0.0.1:$PORT_starttls" "$base-starttls" \
    --implicit "127.0.0.1:$PORT_implicit" "$base-implicit" \
    --tls-files "$TLS_FILES" --proxies "127.0.0.1:$PORT_socks" "127.0.0.1:$PORT_httpproxy" \
    </dev/null >"$WORK/$label.out" 2>"$WORK/$label.err"
  stop_servers
  last=$(tail -n 1 "$WORK/$label.out")
  # Failures and notes from the program itself.
  grep -E '^(FAIL|note|test_api:|   )' "$WORK/$label.out" | sed 's/^/     /' || true
  echo "     $label: $last"
  case "$last" in
    "c-tests: "*" passed, 0 failed")
      if [ "$status" -eq 0 ]; then
        pass "$label: test_api"
        return 0
      fi ;;
  esac
  fail "$label: test_api (exit status $status)"
  show "$WORK/$label.err" 60
}

# ---------------------------------------------------------------- ASan + UBSan
if $CC -std=c99 -pthread -Wall -Wextra -Wpedantic -Werror -fsanitize=address,undefined -fno-sanitize-recover=all -g \
     -o "$WORK/test_api_asan" tests/c/test_api.c $CFLAGS_SMTP $LIBS_SMTP $RPATH >"$WORK/build-asan.log" 2>&1; then
  pass "build test_api with -fsanitize=address,undefined"
  # (env: assignments before a shell function call need not be exported.)
  run_api asan env ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 "$WORK/test_api_asan"
else
  fail "build test_api with -fsanitize=address,undefined"
  show "$WORK/build-asan.log"
fi

# ---------------------------------------------------------------- valgrind
if $CC -std=c99 -pthread -Wall -Wextra -Wpedantic -Werror -g -O1 \
     -o "$WORK/test_api" tests/c/test_api.c $CFLAGS_SMTP $LIBS_SMTP $RPATH >"$WORK/build-plain.log" 2>&1; then
  pass "build test_api without sanitizers"
  # Only definite and indirect leaks fail: Rust's std keeps some
  # thread-local and runtime blocks that valgrind may call "possibly lost"
  # or "still reachable". --trace-children stays off: the forked scripted
  # server is a plain fork (no exec), so valgrind follows it anyway, and it
  # exits with _exit().
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
  run_api valgrind valgrind -q --leak-check=full --error-exitcode=1 --errors-for-leak-kinds=definite,indirect \
    --suppressions="$WORK/valgrind.supp" "$WORK/test_api"
else
  fail "build test_api without sanitizers"
  show "$WORK/build-plain.log"
fi

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
# test_api calls every function of smtp.h (a new one needs its tests).
uncalled=""
for fn in $(cat "$WORK/declared"); do
  grep -q "[^A-Za-z0-9_]$fn(" tests/c/test_api.c || uncalled="$uncalled $fn"
done
if [ -z "$uncalled" ] && [ "$ndecl" -gt 0 ]; then
  pass "tests/c/test_api.c calls each of the $ndecl functions"
else
  fail "tests/c/test_api.c never calls:$uncalled"
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
cat >"$WORK/static_version.c" <<'EOF'
#include <smtp.h>
#include <stdio.h>

int main(void)
{
    smtp_session *s = smtp_session_new(SMTP_KIND_SMTP);
    int ok = s != NULL;
    smtp_session_free(s);
    printf("%s\n", smtp_lib_version());
    return ok ? 0 : 1;
}
EOF
# --static gives Libs.private too; -lsmtp becomes the archive itself (the
# linker would otherwise prefer libsmtp.so from the same directory).
static_libs=""
for word in $(pkg-config --static --libs smtp); do
  if [ "$word" = "-lsmtp" ]; then word="$LIBDIR/libsmtp.a"; fi
  static_libs="$static_libs $word"
done
want_version=$(pkg-config --modversion smtp)
if $CC -std=c99 -Wall -Wextra -Werror -o "$WORK/static_version" "$WORK/static_version.c" $CFLAGS_SMTP $static_libs \
     >"$WORK/static.log" 2>&1; then
  got_version=$("$WORK/static_version" 2>>"$WORK/static.log" || echo "(exit status $?)")
  if readelf -d "$WORK/static_version" | grep -q 'NEEDED.*libsmtp'; then
    fail "static link: the program still needs libsmtp.so"
  elif [ "$got_version" = "$want_version" ]; then
    pass "static link against libsmtp.a runs (smtp_lib_version() = $got_version)"
  else
    fail "static link: program printed '$got_version', want '$want_version'"
    show "$WORK/static.log"
  fi
else
  fail "static link against libsmtp.a with pkg-config --static --libs smtp"
  show "$WORK/static.log"
fi

summary
