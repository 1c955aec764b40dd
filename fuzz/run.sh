#!/bin/sh
# Runs every fuzz target (fuzz/fuzz_targets) for SECONDS each (default 5)
# with cargo-fuzz (libFuzzer), starting from the committed corpora in
# fuzz/corpus; fails on any crash. cargo-fuzz is installed when missing;
# RUSTC_BOOTSTRAP=1 lets the stable toolchain build with the sanitizer flags.
#   sh fuzz/run.sh [SECONDS] [TARGET...]
set -eu
cd "$(dirname "$0")/.."
seconds=${1:-5}
[ $# -gt 0 ] && shift
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
targets=${*:-$(sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v smtp-fuzz)}
cargo fuzz build -O >/dev/null 2>&1 || cargo fuzz build -O
pass=0
for t in $targets; do
  mkdir -p "fuzz/corpus/$t"
  log="fuzz/target/$t.log"
  if cargo fuzz run -O "$t" "fuzz/corpus/$t" -- -max_total_time="$seconds" -max_len=65536 \
       -rss_limit_mb=2048 >"$log" 2>&1; then
    runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -n 1)
    echo "fuzz $t: ${runs:-?} runs in ${seconds}s, no crash"
    pass=$((pass + 1))
  else
    echo "fuzz $t: CRASH (see $log and fuzz/artifacts/$t)"
    tail -n 40 "$log"
    exit 1
  fi
done
echo "fuzz: $pass targets, no crash"
