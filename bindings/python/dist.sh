#!/bin/sh
# The Python package: a platform wheel bundling the staged libsmtp.so.0,
#   OUTDIR/libsmtp-0.1.0-py3-none-manylinux_2_X_<arch>.whl
# Run from the repository root after `make stage`:  sh bindings/python/dist.sh OUTDIR
#
# The manylinux tag (PEP 600) is the newest GLIBC_2.X symbol version the
# library needs (objdump -T), and the library may need only libraries every
# manylinux system has; anything else fails here. pip builds the wheel
# (setuptools from PyPI in an isolated build environment); setup.py tags it
# py3-none-<platform>: ctypes, so any Python 3 on that platform.
set -eu
if [ $# -ne 1 ]; then
  echo "usage: sh bindings/python/dist.sh OUTDIR" >&2
  exit 2
fi
mkdir -p "$1"
out=$(cd "$1" && pwd)
so=build/stage/lib/libsmtp.so.0
if [ ! -f "$so" ]; then
  echo "bindings/python/dist.sh: no $so (run make stage first)" >&2
  exit 1
fi
py=python3
[ -x build/venv/bin/python ] && py=build/venv/bin/python

glibc=$(objdump -T "$so" | sed -n 's/.*GLIBC_\([0-9][0-9]*\.[0-9][0-9]*\).*/\1/p' | sort -u -t. -k1,1n -k2,2n | tail -n 1)
case $glibc in
  2.*) ;;
  *) echo "bindings/python/dist.sh: cannot tell which glibc $so needs (got '$glibc')" >&2; exit 1 ;;
esac
arch=$(uname -m)
platform="manylinux_${glibc%%.*}_${glibc#*.}_$arch"
# PEP 600: the libraries a manylinux wheel may take from the system.
for lib in $(readelf -d "$so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
  case $lib in
    libc.so.6|libm.so.6|libpthread.so.0|libdl.so.2|librt.so.1|libgcc_s.so.1|ld-linux-*.so.*) ;;
    *) echo "bindings/python/dist.sh: $so needs $lib, which manylinux does not allow" >&2; exit 1 ;;
  esac
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/src"
cp bindings/python/pyproject.toml bindings/python/setup.py bindings/python/README.md "$tmp/src/"
mkdir "$tmp/src/libsmtp"
cp bindings/python/libsmtp/*.py bindings/python/libsmtp/py.typed "$tmp/src/libsmtp/"
cp "$so" "$tmp/src/libsmtp/libsmtp.so.0"
LIBSMTP_WHEEL_PLATFORM=$platform "$py" -m pip wheel -q --no-deps --wheel-dir "$tmp/wheel" "$tmp/src"
wheel=$(ls "$tmp/wheel"/libsmtp-*.whl)
case $wheel in
  *-py3-none-"$platform".whl) ;;
  *) echo "bindings/python/dist.sh: unexpected wheel $wheel (wanted py3-none-$platform)" >&2; exit 1 ;;
esac
cp "$wheel" "$out/"
echo "$out/$(basename "$wheel")"
