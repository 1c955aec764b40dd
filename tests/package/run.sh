#!/bin/sh
# The release artifacts as a consumer meets them (suite "package" of
# scripts/run_tests.py, after "stage"):
#   cmake    tests/package/cmake, a project outside the tree, configured with
#            -DCMAKE_PREFIX_PATH=<the staged install copied elsewhere> (the
#            package is relocatable) finds smtp with find_package(smtp 0.1
#            CONFIG REQUIRED), builds against smtp::smtp and
#            smtp::smtp_static, and both run; a request for 0.2 is refused.
#   cargo-c  `cargo cinstall` (cargo-c from crates.io, installed when
#            `cargo cinstall` is missing: that takes minutes) gives the
#            layout of `make install`: the same libraries, SONAME, headers
#            and pkg-config file; a C program links against it and runs.
#   dist     `make dist-c` gives dist/libsmtp-VERSION.tar.gz, which unpacked
#            in a temporary directory builds with `make` offline
#            (CARGO_NET_OFFLINE=true, an empty CARGO_HOME: only the vendored
#            crates).
# Needs cmake (scripts/deps.sh installs it). Prints ok/FAIL per check and
# "package: N passed, M failed".
set -eu
cd "$(dirname "$0")/../.."
SUITE=package
. tests/checks.sh
CC=${CC:-cc}
VERSION=$(pkg-config --modversion smtp)
MAJOR=${VERSION%%.*}

# ---------------------------------------------------------------- cmake
cp -a "$STAGE" "$WORK/moved"
if cmake -S tests/package/cmake -B "$WORK/cmake" -DCMAKE_PREFIX_PATH="$WORK/moved" >"$WORK/cmake.log" 2>&1 &&
   cmake --build "$WORK/cmake" >>"$WORK/cmake.log" 2>&1; then
  pass "find_package(smtp 0.1 CONFIG) and a build against a moved install"
  for exe in consumer_shared consumer_static; do
    got=$("$WORK/cmake/$exe" 2>&1 || echo "(exit status $?)")
    if [ "$got" = "$VERSION" ]; then pass "cmake: $exe runs ($got)"; else fail "cmake: $exe printed '$got'"; fi
  done
  if ldd "$WORK/cmake/consumer_shared" | grep -q "libsmtp.so.$MAJOR => $WORK/moved/lib/"; then
    pass "cmake: smtp::smtp is the moved install's libsmtp.so.$MAJOR"
  else
    fail "cmake: consumer_shared does not load the moved install's library"
  fi
  if readelf -d "$WORK/cmake/consumer_static" | grep -q 'NEEDED.*libsmtp'; then
    fail "cmake: smtp::smtp_static still needs libsmtp.so"
  else
    pass "cmake: smtp::smtp_static is linked in"
  fi
else
  fail "find_package(smtp 0.1 CONFIG) and a build against a moved install"
  show "$WORK/cmake.log"
fi
sed 's/find_package(smtp 0.1 /find_package(smtp 0.2 /' tests/package/cmake/CMakeLists.txt >"$WORK/CMakeLists.txt"
mkdir -p "$WORK/newer" && cp "$WORK/CMakeLists.txt" tests/package/cmake/main.c "$WORK/newer/"
if cmake -S "$WORK/newer" -B "$WORK/cmake-newer" -DCMAKE_PREFIX_PATH="$WORK/moved" >"$WORK/newer.log" 2>&1; then
  fail "cmake: find_package(smtp 0.2) accepted $VERSION"
elif grep -q 'smtp" that is compatible' "$WORK/newer.log"; then
  pass "cmake: find_package(smtp 0.2) refuses $VERSION (0.x: the minor version must match)"
else
  fail "cmake: find_package(smtp 0.2) failed for another reason"
  show "$WORK/newer.log"
fi

# ---------------------------------------------------------------- cargo-c
# The newest cargo-c may want a newer rustc than this one; 0.10.24 is the
# newest that builds with rustc 1.95.
if cargo cinstall --version >/dev/null 2>&1; then
  echo "     cargo-c already installed ($(cargo cinstall --version 2>&1 | head -n 1)): not reinstalled"
elif cargo install -q cargo-c --locked >"$WORK/cargo-c-install.log" 2>&1 ||
     cargo install -q cargo-c --locked --version 0.10.24 >>"$WORK/cargo-c-install.log" 2>&1; then
  pass "cargo install cargo-c ($(cargo cinstall --version 2>&1 | head -n 1))"
else
  fail "cargo install cargo-c"
  show "$WORK/cargo-c-install.log"
fi
# Both into DESTDIR with PREFIX=/usr/local; cargo-c's --libdir because its
# default on Debian is lib/<triplet>.
make -s install PREFIX=/usr/local DESTDIR="$WORK/make" >"$WORK/make-install.log" 2>&1 || show "$WORK/make-install.log"
layout() { (cd "$1" && find . \( -type f -o -type l \) -printf '%y %p %l\n' | sort); }
if cargo cinstall --release --prefix=/usr/local --libdir=/usr/local/lib --destdir="$WORK/cargo-c" \
     >"$WORK/cinstall.log" 2>&1; then
  pass "cargo cinstall --release"
  # Libraries, headers and pkg-config only: cargo-c installs no CMake
  # package, man pages or HTML.
  layout "$WORK/make" | grep -E ' \./usr/local/(lib|include)/' | grep -v ' ./usr/local/lib/cmake/' >"$WORK/make.layout"
  layout "$WORK/cargo-c" >"$WORK/cargo-c.layout"
  if diff "$WORK/make.layout" "$WORK/cargo-c.layout" >"$WORK/layout.diff"; then
    pass "cargo cinstall gives make install's layout (libraries, headers, smtp.pc): $(wc -l <"$WORK/make.layout") files"
  else
    fail "cargo cinstall and make install differ (< make, > cargo-c)"
    show "$WORK/layout.diff"
  fi
  soname=$(readelf -d "$WORK/cargo-c/usr/local/lib/libsmtp.so.$VERSION" 2>/dev/null | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
  if [ "$soname" = "libsmtp.so.$MAJOR" ]; then pass "cargo-c: SONAME $soname"; else fail "cargo-c: SONAME '$soname'"; fi
  size=$(stat -c %s "$WORK/cargo-c/usr/local/lib/libsmtp.so.$VERSION")
  if [ "$size" -le $((4 * 1024 * 1024)) ]; then
    pass "cargo-c: libsmtp.so.$VERSION is $((size / 1024)) KiB (no debug info)"
  else
    fail "cargo-c: libsmtp.so.$VERSION is $((size / 1024)) KiB, over 4 MiB"
  fi
  if cmp -s include/smtp.h "$WORK/cargo-c/usr/local/include/smtp.h"; then
    pass "cargo-c: include/smtp.h is the committed header"
  else
    fail "cargo-c: the installed smtp.h is not the committed one"
  fi
  pc="$WORK/cargo-c/usr/local/lib/pkgconfig"
  if $CC -std=c99 -Wall -Werror -o "$WORK/cargo-c-prog" tests/package/cmake/main.c \
       $(PKG_CONFIG_PATH=$pc PKG_CONFIG_SYSROOT_DIR="$WORK/cargo-c" pkg-config --cflags --libs smtp) \
       -Wl,-rpath,"$WORK/cargo-c/usr/local/lib" >"$WORK/cargo-c-prog.log" 2>&1 &&
     [ "$("$WORK/cargo-c-prog")" = "$VERSION" ]; then
    pass "a C program built with cargo-c's smtp.pc runs"
  else
    fail "a C program against the cargo-c install"
    show "$WORK/cargo-c-prog.log"
  fi
else
  fail "cargo cinstall --release"
  show "$WORK/cinstall.log"
fi

# ---------------------------------------------------------------- dist
if make -s dist-c >"$WORK/dist.log" 2>&1 && [ -f "dist/libsmtp-$VERSION.tar.gz" ]; then
  pass "make dist-c: $(tail -n 1 "$WORK/dist.log")"
  mkdir -p "$WORK/dist" "$WORK/cargo-home"
  tar -xzf "dist/libsmtp-$VERSION.tar.gz" -C "$WORK/dist"
  # The rustup proxy finds its toolchains through RUSTUP_HOME, which an
  # empty CARGO_HOME would otherwise move.
  if env CARGO_NET_OFFLINE=true CARGO_HOME="$WORK/cargo-home" RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}" \
       make -s -C "$WORK/dist/libsmtp-$VERSION" >"$WORK/dist-build.log" 2>&1 &&
     [ -f "$WORK/dist/libsmtp-$VERSION/target/release/libsmtp.so" ]; then
    pass "the tarball builds offline from its vendored crates"
  else
    fail "the tarball builds offline"
    show "$WORK/dist-build.log"
  fi
else
  fail "make dist-c"
  show "$WORK/dist.log"
fi
summary
