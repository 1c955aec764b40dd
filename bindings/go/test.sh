#!/bin/sh
# The Go binding's tests. Run by `python3 scripts/run_tests.py go`, which
# starts the servers of tests/servers/servers.json every binding gets
# (BINDING_SERVERS: sink, auth, slow, starttls, implicit, dsn, socks,
# httpproxy, lmtp) and exports LIBSMTP_<NAME>.
#   1. go vet (both link modes); godoc shows no C. name;
#   2. go test -v against the staged install (build/stage, made by
#      make stage), found through pkg-config only;
#   3. the README's first example compiles (in a module of its own that
#      uses the binding through a replace directive);
#   4. the static link: example/sendmail built in a fresh module with
#      -tags libsmtp_static, ldd shows no libsmtp, and run with no
#      environment at all it sends a message to $LIBSMTP_SINK.
# Installs Debian's golang-go when `go` is missing. Nothing is written to
# $HOME: GOPATH, GOCACHE and the rest live under build/go. No third-party
# Go modules (GOPROXY=off). GO_TEST_RACE=1 runs the tests once more under
# the race detector (slow the first time: it builds the race runtime).
set -eu
cd "$(dirname "$0")/../.."
ROOT=$PWD

STAGE=${STAGE:-build/stage}
case $STAGE in /*) ;; *) STAGE=$ROOT/$STAGE ;; esac
if [ ! -f "$STAGE/lib/pkgconfig/smtp.pc" ] || [ ! -f "$STAGE/lib/libsmtp.a" ]; then
  echo "go binding: no libsmtp install in $STAGE (run make stage, or set STAGE)" >&2
  exit 1
fi
if [ ! -x build/venv/bin/python ]; then
  echo "go binding: no build/venv (run sh scripts/deps.sh)" >&2
  exit 1
fi
if [ -z "${LIBSMTP_SINK:-}" ] || [ -z "${LIBSMTP_SINK_DIR:-}" ]; then
  echo "go binding: no test servers (run python3 scripts/run_tests.py go)" >&2
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
# The shared link finds libsmtp.so at run time through this rpath; the
# static build below unsets it.
export CGO_LDFLAGS="-Wl,-rpath,$STAGE/lib"
MODULE=github.com/libsmtp/libsmtp/bindings/go

cd bindings/go
go version
echo "go binding: libsmtp $(pkg-config --modversion smtp) from $STAGE"
go vet ./...
go vet -tags libsmtp_static ./...

# godoc shows Go names only: no C. type, constant or function.
doc=$(go doc -all .)
if printf '%s\n' "$doc" | grep -nE '(^|[^A-Za-z0-9_])C\.[A-Za-z_]|_Ctype_|_Cfunc_'; then
  echo "go binding: godoc shows the C names above" >&2
  exit 1
fi
echo "go binding: godoc shows Go names only ($(printf '%s\n' "$doc" | grep -c '^func ') functions)"

cd "$ROOT"
(cd bindings/go && go test -v -count=1 -timeout 300s ./...)
if [ "${GO_TEST_RACE:-0}" = 1 ]; then
  (cd bindings/go && go test -race -count=1 -timeout 600s ./...)
fi

# A module of its own using the binding from this checkout, as the
# README says: require + replace.
consumer() {
  rm -rf "$1"; mkdir -p "$1"
  printf 'module %s\n\ngo 1.19\n\nrequire %s v0.0.0\n\nreplace %s => %s\n' \
    "$(basename "$1")" "$MODULE" "$MODULE" "$ROOT/bindings/go" > "$1/go.mod"
}

# The README's example compiles as written (wrapped in func main).
readme=$ROOT/build/go/readme
consumer "$readme"
{
  printf 'package main\n\nimport (\n\t"context"\n\t"fmt"\n\t"log"\n\t"time"\n\n\tsmtp "%s"\n)\n\nfunc main() {\n' "$MODULE"
  awk '/^```go$/ { n++; if (n == 1) { on = 1; next } } /^```$/ { on = 0 } on' bindings/go/README.md
  printf '}\n'
} > "$readme/main.go"
(cd "$readme" && go vet . && go build -o /dev/null .) && echo "go binding: README example compiles"

# The static link: no libsmtp.so needed at run time.
static=$ROOT/build/go/static
consumer "$static"
cp bindings/go/example/sendmail/main.go "$static/main.go"
(cd "$static" && CGO_LDFLAGS="" go build -tags libsmtp_static -o sendmail .)
if ldd "$static/sendmail" | grep libsmtp; then
  echo "go binding: the static build still needs libsmtp.so" >&2
  exit 1
fi
subject="go-static-$$-$(date +%s)"
env -i "$static/sendmail" "$LIBSMTP_SINK" alice@example.com bob@example.com "$subject"
n=0
until grep -l "Subject: $subject" "$LIBSMTP_SINK_DIR"/*.eml >/dev/null 2>&1; do
  n=$((n + 1))
  [ $n -lt 50 ] || { echo "go binding: the static build's message did not arrive" >&2; exit 1; }
  sleep 0.1
done
echo "go binding: static build ($(du -h "$static/sendmail" | cut -f1), ldd: no libsmtp) sent a message with no environment"
