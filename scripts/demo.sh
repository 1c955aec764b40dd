#!/bin/sh
# The README's demo: a local aiosmtpd server, the C quick-start example
# sending one message to it, and what the server received.
set -eu
cd "$(dirname "$0")/.."
. scripts/sink.sh
start_sink build/demo-mail
trap stop_sink EXIT
echo "== local SMTP server (aiosmtpd) listening on 127.0.0.1:$SINK_PORT"
echo "== build/bin/quickstart 127.0.0.1:$SINK_PORT"
build/bin/quickstart "127.0.0.1:$SINK_PORT"
sleep 0.3
echo "== what the server received:"
cat build/demo-mail/0001.eml
echo "== envelope: $(cat build/demo-mail/0001.json)"
