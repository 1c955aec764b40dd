#!/bin/sh
# The C examples, built against the staged install, send real messages to
# aiosmtpd; what arrives must be byte-identical to what they sent.
set -eu
cd "$(dirname "$0")/.."
. scripts/sink.sh
make -s examples
start_sink build/examples-mail
trap stop_sink EXIT
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass + 1)); else echo "FAIL: $1"; fail=$((fail + 1)); fi; }

build/bin/quickstart "127.0.0.1:$SINK_PORT" > build/quickstart.out
printf 'From: alice@example.com\r\nTo: bob@example.com, carol@example.com\r\nSubject: hello from libsmtp\r\n\r\nSent through the C API.\r\n' > build/quickstart.expected
check "quickstart message arrives byte-identical" "cmp -s build/quickstart.expected build/examples-mail/0001.eml"
check "quickstart reports both recipients accepted" "grep -q 'carol@example.com: 250 accepted' build/quickstart.out"

printf 'a@example.com\nb@example.com refuse@example.com\nHello,\n.a line starting with a dot\nbye\n' \
  | build/bin/sendmail "127.0.0.1:$SINK_PORT" > build/sendmail.out 2> build/sendmail.err
printf 'From: a@example.com\r\nTo: b@example.com, refuse@example.com\r\n\r\nHello,\r\n.a line starting with a dot\r\nbye\r\n' > build/sendmail.expected
check "sendmail example message arrives byte-identical" "cmp -s build/sendmail.expected build/examples-mail/0002.eml"
check "sendmail example traces commands at debug level 1" "grep -q \"send: 'mail from:<a@example.com> size=\" build/sendmail.err"
check "sendmail example reports the refused recipient" "grep -q '1 recipient(s) refused' build/sendmail.err"
check "the refused recipient is not in the envelope" "grep -q '\"rcpt_tos\": \\[\"b@example.com\"\\]' build/examples-mail/0002.json"

# send_file.c: a message file through send_message; Bcc is not sent.
printf 'From: Alice <alice@example.com>\r\nTo: bob@example.com\r\nBcc: secret@example.com, refuse@example.com\r\nSubject: from a file\r\n\r\nHello from send_file.\r\n' > build/message.eml
build/bin/send_file "127.0.0.1:$SINK_PORT" build/message.eml > build/send_file.out || true
printf 'From: Alice <alice@example.com>\r\nTo: bob@example.com\r\nSubject: from a file\r\n\r\nHello from send_file.\r\n' > build/send_file.expected
check "send_file message arrives without its Bcc field" "cmp -s build/send_file.expected build/examples-mail/0003.eml"
check "send_file delivered to the Bcc recipient too" "grep -q 'secret@example.com' build/examples-mail/0003.json"
check "send_file reports the refused Bcc recipient" "grep -q 'refuse@example.com: 550 (refused)' build/send_file.out"

# pool_send.c: 8 threads x 25 messages through a pool of at most 3
# connections; every message arrives once.
before=$(ls build/examples-mail/*.eml | wc -l)
build/bin/pool_send "127.0.0.1:$SINK_PORT" 8 25 3 > build/pool_send.out 2>&1 || true
after=$(ls build/examples-mail/*.eml | wc -l)
check "pool_send reports 200 sent, none failed" "grep -q '^sent 200, failed 0, connections [1-9]' build/pool_send.out"
check "pool_send's 200 messages arrived" "[ \$((after - before)) = 200 ]"
check "pool_send's messages are distinct" "[ \$(cat build/examples-mail/*.eml | grep -c '@pool-send.example>') = 200 ]"

# auth_callback.c: a custom SASL mechanism against the authenticating server.
stop_sink
rm -f build/auth.port
build/venv/bin/python tests/servers/auth_server.py --port-file build/auth.port &
AUTH_PID=$!
trap 'stop_sink; kill $AUTH_PID 2>/dev/null' EXIT
i=0; while [ ! -s build/auth.port ] && [ $i -lt 100 ]; do i=$((i + 1)); sleep 0.1; done
AUTH_PORT=$(cat build/auth.port)
build/bin/auth_callback "127.0.0.1:$AUTH_PORT" "open sesame" > build/auth_callback.out || true
check "auth_callback authenticates with X-TOKEN" "grep -q '^authenticated: 235' build/auth_callback.out"
check "auth_callback saw the server's challenge" "grep -q '^challenge 1: token?' build/auth_callback.out"
build/bin/auth_callback "127.0.0.1:$AUTH_PORT" "wrong" > build/auth_callback.out || true
check "auth_callback with a wrong token is refused" "grep -q 'authentication failed: 535' build/auth_callback.out"

# tls_send.c: STARTTLS and implicit TLS to aiosmtpd, verified against a
# test CA made by trustme.
build/venv/bin/python - <<'PY'
import trustme
ca = trustme.CA()
cert = ca.issue_cert("localhost", "127.0.0.1")
ca.cert_pem.write_to_path("build/example-ca.pem")
cert.cert_chain_pems[0].write_to_path("build/example-cert.pem")
cert.private_key_pem.write_to_path("build/example-key.pem")
PY
for mode in starttls implicit; do
  rm -f "build/tls-$mode.port"; rm -rf "build/tls-$mode-mail"
  build/venv/bin/python tests/servers/tls_server.py --mode $mode --cert build/example-cert.pem \
    --key build/example-key.pem --dir "build/tls-$mode-mail" --port-file "build/tls-$mode.port" --parent-pid $$ &
  pid=$!
  i=0; while [ ! -s "build/tls-$mode.port" ] && [ $i -lt 100 ]; do i=$((i + 1)); sleep 0.1; done
  arg=$mode; [ $mode = implicit ] && arg=ssl
  build/bin/tls_send $arg "localhost:$(cat build/tls-$mode.port)" build/example-ca.pem > "build/tls_send-$mode.out" || true
  sleep 0.3
  kill $pid 2>/dev/null; wait $pid 2>/dev/null || true
  check "tls_send ($mode) negotiates TLS 1.2+" "grep -q '^connected with TLSv1\.[23]' build/tls_send-$mode.out"
  check "tls_send ($mode) message arrives" "grep -q 'Only the server can read this.' build/tls-$mode-mail/0001.eml"
done
build/bin/tls_send ssl "localhost:1" > build/tls_send-refused.out 2>&1 || true
check "tls_send reports a refused connection" "grep -q 'connect failed' build/tls_send-refused.out"

# The README's C quick start compiles against the install as written.
awk '/^```c$/{n++; if (n == 1) {on=1; next}} /^```$/{on=0} on' README.md > build/readme_quickstart.c
check "README quick start compiles" "PKG_CONFIG_PATH=build/stage/lib/pkgconfig \${CC:-cc} -Wall -Wextra -Werror -std=c99 -o build/bin/readme_quickstart build/readme_quickstart.c \$(PKG_CONFIG_PATH=build/stage/lib/pkgconfig pkg-config --cflags --libs smtp)"

echo "examples: $pass passed, $fail failed"
[ "$fail" = 0 ]
