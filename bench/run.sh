#!/usr/bin/env bash
# bench/run.sh: the benchmark of issue 7 (a report, not a test).
#
# Builds libsmtp in release mode (make install into build/bench-stage), the
# C client bench/libsmtp_bench.c through pkg-config with -O2 and the sink
# bench/fastsink.rs with rustc -O; starts the sinks (Postfix's smtp-sink,
# fastsink plain, with a 5 ms reply delay, with CHUNKING and the delay, and
# bench/fastsink_tls.py for implicit TLS); then bench/driver.py runs the three
# clients (libsmtp through its C API, CPython 3.13's smtplib, Postfix's
# smtp-source) case by case against the same sinks and writes bench/REPORT.md.
# Every process started here is killed on exit.
#
#   bench/run.sh            # REPS=3 runs of each measurement (median reported)
#   REPS=1 bench/run.sh     # quicker
#
# Needs: a Rust toolchain, cc, pkg-config, Postfix (smtp-sink, smtp-source),
# pyenv's CPython 3.13.0, build/venv with trustme (make deps), strace, perf.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/build/bench
STAGE=$ROOT/build/bench-stage
mkdir -p "$OUT"
: > "$OUT/commands.txt"

PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# Run a command and record it for the report.
run() {
  echo "$*" >> "$OUT/commands.txt"
  "$@"
}

freeport() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Start a command in the background (directly, not in a subshell, so that
# its pid is the command's): BG_PID, and killed on exit.
start_bg() {
  echo "$* &" >> "$OUT/commands.txt"
  "$@" &
  BG_PID=$!
  PIDS+=("$BG_PID")
}

wait_port() {  # wait_port PORT: until something listens there
  local i
  for i in $(seq 1 100); do
    if python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$1" 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  echo "nothing listens on 127.0.0.1:$1" >&2
  return 1
}

wait_file() {  # wait_file FILE: until a port file is written
  local i
  for i in $(seq 1 100); do
    [ -s "$1" ] && return 0
    sleep 0.1
  done
  echo "$1 was not written" >&2
  return 1
}

echo "== build (release)"
run make install PREFIX="$STAGE" > "$OUT/build.log" 2>&1 || { cat "$OUT/build.log"; exit 1; }
export PKG_CONFIG_PATH=$STAGE/lib/pkgconfig
# shellcheck disable=SC2046
run cc -O2 -Wall -Wextra -std=c11 -o "$OUT/libsmtp_bench" bench/libsmtp_bench.c \
  $(pkg-config --cflags --libs smtp) -pthread -Wl,-rpath,"$STAGE/lib"
run rustc -O --edition 2021 -o "$OUT/fastsink" bench/fastsink.rs

# The measurement patch (bench/experiment.patch, see REPORT.md): the same
# library with fewer system calls per message, built in a copy under
# build/bench/experiment (the project's sources are not touched).
# Off by default: its fixes (one write per batched message, fewer
# setsockopt calls, no buffer zeroing per reply) are in the library now;
# BENCH_EXPERIMENT=1 with a patch file measures another idea the same way.
EXP_LIB=""
if [ "${BENCH_EXPERIMENT:-0}" = 1 ] && [ -f bench/experiment.patch ]; then
  echo "== experiment build (bench/experiment.patch on a copy)"
  EXP=$OUT/experiment
  rm -rf "$EXP/src" "$EXP/tests"
  mkdir -p "$EXP/lib"
  cp -r Cargo.toml Cargo.lock build.rs src tests "$EXP/"
  [ -d "$EXP/target/release" ] || { mkdir -p "$EXP/target" && cp -r target/release "$EXP/target/" 2>/dev/null || true; }
  if (cd "$EXP" && patch -s -p1 < "$ROOT/bench/experiment.patch") \
     && (cd "$EXP" && cargo build --release --lib) > "$OUT/experiment-build.log" 2>&1; then
    ln -sf "$EXP/target/release/libsmtp.so" "$EXP/lib/libsmtp.so.0"
    EXP_LIB=$EXP/lib
    echo "cp -r Cargo.toml Cargo.lock build.rs src tests build/bench/experiment/ && (cd build/bench/experiment && patch -p1 < ../../../bench/experiment.patch && cargo build --release --lib)" >> "$OUT/commands.txt"
  else
    echo "experiment: the patch does not apply or build; skipped (see $OUT/experiment-build.log)" >&2
  fi
fi

echo "== test certificates and the 100 MB message"
if [ ! -x build/venv/bin/python ] || ! build/venv/bin/python -c 'import trustme' 2>/dev/null; then
  echo "build/venv with trustme is missing: run 'make deps' first" >&2
  exit 1
fi
mkdir -p "$OUT/tls"
run build/venv/bin/python -c "import trustme; ca = trustme.CA(); ca.cert_pem.write_to_path('$OUT/tls/ca.pem'); \
ca.issue_cert('127.0.0.1').private_key_and_cert_chain_pem.write_to_path('$OUT/tls/server.pem')"
if [ ! -s "$OUT/msg100.eml" ] || [ bench/genmsg.py -nt "$OUT/msg100.eml" ]; then
  run python3 bench/genmsg.py 100000000 "$OUT/msg100.eml" "$OUT/msg100.lf"
fi

PY313=$(PYENV_VERSION=3.13.0 pyenv which python3)
"$PY313" -c 'import sys; assert sys.version_info[:2] == (3, 13), sys.version'

echo "== sinks"
SINK_USER=()
[ "$(id -u)" = 0 ] && SINK_USER=(-u nobody)
SINK_POSTFIX_PORT=$(freeport)
start_bg /usr/sbin/smtp-sink "${SINK_USER[@]}" "127.0.0.1:$SINK_POSTFIX_PORT" 1024
SINK_POSTFIX_PID=$BG_PID

start_fast() {  # start_fast NAME ARGS...: sets NAME_PORT and NAME_PID
  local name=$1; shift
  rm -f "$OUT/$name.port"
  start_bg "$OUT/fastsink" --port-file "$OUT/$name.port" "$@" 2>> "$OUT/sinks.log"
  local pid=$BG_PID
  wait_file "$OUT/$name.port"
  printf -v "${name}_PORT" '%s' "$(cat "$OUT/$name.port")"
  printf -v "${name}_PID" '%s' "$pid"
}
start_fast SINK_FAST
start_fast SINK_DELAY --delay-ms 5
start_fast SINK_CHUNK_DELAY --chunking --delay-ms 5
start_fast SINK_CHUNK --chunking

rm -f "$OUT/tls.port"
start_bg build/venv/bin/python bench/fastsink_tls.py --cert "$OUT/tls/server.pem" --port-file "$OUT/tls.port" 2>> "$OUT/sinks.log"
SINK_TLS_PID=$BG_PID
wait_file "$OUT/tls.port"
SINK_TLS_PORT=$(cat "$OUT/tls.port")
wait_port "$SINK_POSTFIX_PORT"
wait_port "$SINK_TLS_PORT"

export BENCH_ROOT=$ROOT BENCH_OUT=$OUT BENCH_STAGE=$STAGE PY313 REPS=${REPS:-3}
export SINK_POSTFIX_PORT SINK_POSTFIX_PID SINK_FAST_PORT SINK_FAST_PID SINK_DELAY_PORT SINK_DELAY_PID
export SINK_CHUNK_DELAY_PORT SINK_CHUNK_DELAY_PID SINK_CHUNK_PORT SINK_CHUNK_PID SINK_TLS_PORT SINK_TLS_PID
export BENCH_SINK_USER="${SINK_USER[*]}" EXP_LIB

echo "== cases"
python3 bench/driver.py
echo "== wrote bench/REPORT.md"
