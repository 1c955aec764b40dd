#!/bin/sh
# The packaging contract (bindings/<lang>/dist.sh OUTDIR) for Go: there is
# no artifact. A Go module is its source, used from a checkout with a
# replace directive (README.md, "Install"); the static link
# (-tags libsmtp_static) is built and checked by test.sh. This writes
# nothing into OUTDIR, so that make dist can call every binding alike.
set -eu
[ $# -eq 1 ] || { echo "usage: sh bindings/go/dist.sh OUTDIR" >&2; exit 2; }
echo "go binding: no dist artifact (the module is its source; see bindings/go/README.md)"
