#!/bin/sh
# The Go binding's tests: go vet, then go test -v against the staged
# install of libsmtp, found through pkg-config only. Run from the repo root:
#   STAGE=build/stage sh bindings/go/test.sh
# Needs: $STAGE (default build/stage, made by `make stage`) and build/venv
# (`sh scripts/deps.sh`: aiosmtpd and trustme for the test servers).
# Installs Debian's golang-go when `go` is missing. Nothing is written to
# $HOME: GOPATH, GOCACHE and the rest live under build/go.
# GO_TEST_RACE=1 runs the tests once more under the race detector (slow the
# first time: it builds the race runtime).
set -eu
cd "$(dirname "$0")/../.."
ROOT=$PWD

STAGE=${STAGE:-build/stage}
case $STAGE in /*) ;; *) STAGE=$ROOT/$STAGE ;; esac
if [ ! -f "$STAGE/lib/pkgconfig/smtp.pc" ]; then
  echo "go binding: no libsmtp install in $STAGE (run make stage, or set STAGE)" >&2
  exit 1
fi
if [ ! -x build/venv/bin/python ]; then
  echo "go binding: no build/venv (run sh scripts/deps.sh)" >&2
  exit 1
fi

if ! command -v go >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  # Another apt may hold the lock or race on the archive cache: try again.
  n=0
  until $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=120 golang-go; do
    n=$((n + 1))
    [ $n -lt 3 ] || { echo "go binding: could not install golang-go" >&2; exit 1; }
    sleep 10
  done
fi
command -v pkg-config >/dev/null 2>&1 || { echo "go binding: pkg-config missing (sh scripts/deps.sh)" >&2; exit 1; }

mkdir -p build/go/tmp
export GOPATH="$ROOT/build/go/path"
export GOCACHE="$ROOT/build/go/cache"
export GOMODCACHE="$GOPATH/pkg/mod"
export GOTMPDIR="$ROOT/build/go/tmp"
export GOENV=off
export GOPROXY=off
export GOFLAGS=""
export GO111MODULE=on
export CGO_ENABLED=1
export PKG_CONFIG_PATH="$STAGE/lib/pkgconfig"
# The package links through pkg-config; the test binary finds libsmtp.so at
# run time through this rpath (and LD_LIBRARY_PATH for good measure).
export CGO_LDFLAGS="-Wl,-rpath,$STAGE/lib"
export LD_LIBRARY_PATH="$STAGE/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export SMTP_TEST_PYTHON="$ROOT/build/venv/bin/python"

cd bindings/go
go version
echo "go binding: libsmtp $(pkg-config --modversion smtp) from $STAGE"
go vet ./...
go test -v -count=1 -timeout 300s ./...

# The README's example compiles as written (wrapped in func main).
readme=$ROOT/build/go/readme
rm -rf "$readme"; mkdir -p "$readme"
printf 'module readme\n\ngo 1.19\n\nrequire libsmtp.example/smtp v0.0.0\n\nreplace libsmtp.example/smtp => %s\n' \
  "$ROOT/bindings/go" > "$readme/go.mod"
{
  printf 'package main\n\nimport (\n\t"fmt"\n\t"log"\n\t"time"\n\n\t"libsmtp.example/smtp"\n)\n\nfunc main() {\n'
  awk '/^```go$/ { n++; if (n == 1) { on = 1; next } } /^```$/ { on = 0 } on' README.md
  printf '}\n'
} > "$readme/main.go"
(cd "$readme" && go vet . && go build -o /dev/null .) && echo "go binding: README example compiles"
if [ "${GO_TEST_RACE:-0}" = 1 ]; then
  go test -race -count=1 -timeout 600s ./...
fi
