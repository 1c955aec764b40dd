#!/bin/sh
# The README's demo (make demo): the C quick-start example sends one message
# to a local aiosmtpd server, then shows what the server received. The server
# is tests/servers/sink.py, started by `scripts/run_tests.py --serve sink`,
# which gives its address and directory as LIBSMTP_SINK and LIBSMTP_SINK_DIR.
set -eu
cd "$(dirname "$0")/.."
: "${LIBSMTP_SINK:?run through: python3 scripts/run_tests.py --serve sink -- sh scripts/demo.sh}"
echo "== local SMTP server (aiosmtpd) listening on $LIBSMTP_SINK"
echo "== build/bin/quickstart $LIBSMTP_SINK"
build/bin/quickstart "$LIBSMTP_SINK"
sleep 0.3
echo "== what the server received:"
cat "$LIBSMTP_SINK_DIR/0001.eml"
echo "== envelope: $(cat "$LIBSMTP_SINK_DIR/0001.json")"
