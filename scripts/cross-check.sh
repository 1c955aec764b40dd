#!/bin/sh
# Type-check the library and its unit tests for the other Unix-likes the
# README lists (no machine of theirs here to run them): FreeBSD x86_64 and
# macOS arm64. Needs each target's std (`rustup target add`, done here).
#
# ring's build script compiles C for the target. FreeBSD's is compiled by
# the host's cc; for macOS there is no SDK here, so a stub compiler writes
# empty objects: `cargo check` never links them, and what is checked is the
# Rust code, ours included, against the target's std, libc and socket2.
# Not part of `make test`: it downloads the targets' std.
set -eu
cd "$(dirname "$0")/.."
targets="x86_64-unknown-freebsd aarch64-apple-darwin"
rustup target add $targets >/dev/null
stub=$(mktemp -d)
trap 'rm -rf "$stub"' EXIT
# Named clang so that the cc crate passes it clang's flags.
cat >"$stub/clang" <<'EOF'
#!/bin/sh
for a in "$@"; do
  case "$a" in
    -o) next=1 ;;
    -o?*) : >"${a#-o}" ;;
    -Fo?*) : >"${a#-Fo}" ;; # the cc crate takes a silent compiler for clang-cl
    *) [ -n "${next:-}" ] && : >"$a"; next= ;;
  esac
done
EOF
chmod +x "$stub/clang"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-build/cross}"
for t in $targets; do
  case "$t" in *apple*) export CC_aarch64_apple_darwin="$stub/clang" ;; esac
  cargo check -q --lib --tests --target "$t"
  echo "ok   cargo check --lib --tests --target $t"
done
