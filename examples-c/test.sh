#!/bin/sh
# The C examples, built against the staged install, send real messages to
# aiosmtpd; what arrives must be byte-identical to what they sent. Run by
# scripts/run_tests.py (suite "examples"), which starts the servers
# (tests/servers/servers.json): a sink, an authenticating server, STARTTLS
# and implicit TLS with a trustme CA, given as LIBSMTP_<SERVER> and
# LIBSMTP_<SERVER>_DIR, the CA in LIBSMTP_TLS_FILES.
set -eu
cd "$(dirname "$0")/.."
: "${LIBSMTP_SINK:?the servers come from scripts/run_tests.py: python3 scripts/run_tests.py examples}"
make -s examples
mail=$LIBSMTP_SINK_DIR
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass + 1)); else echo "FAIL: $1"; fail=$((fail + 1)); fi; }

build/bin/quickstart "$LIBSMTP_SINK" > build/quickstart.out
printf 'From: alice@example.com\r\nTo: bob@example.com, carol@example.com\r\nSubject: hello from libsmtp\r\n\r\nSent through the C API.\r\n' > build/quickstart.expected
check "quickstart message arrives byte-identical" "cmp -s build/quickstart.expected $mail/0001.eml"
check "quickstart reports both recipients accepted" "grep -q 'carol@example.com: 250 accepted' build/quickstart.out"

printf 'a@example.com\nb@example.com refuse@example.com\nHello,\n.a line starting with a dot\nbye\n' \
  | build/bin/sendmail "$LIBSMTP_SINK" > build/sendmail.out 2> build/sendmail.err
printf 'From: a@example.com\r\nTo: b@example.com, refuse@example.com\r\n\r\nHello,\r\n.a line starting with a dot\r\nbye\r\n' > build/sendmail.expected
check "sendmail example message arrives byte-identical" "cmp -s build/sendmail.expected $mail/0002.eml"
check "sendmail example traces commands at debug level 1" "grep -q \"send: 'mail from:<a@example.com> size=\" build/sendmail.err"
check "sendmail example reports the refused recipient" "grep -q '1 recipient(s) refused' build/sendmail.err"
check "the refused recipient is not in the envelope" "grep -q '\"rcpt_tos\": \\[\"b@example.com\"\\]' $mail/0002.json"

# send_file.c: a message file through send_message; Bcc is not sent.
printf 'From: Alice <alice@example.com>\r\nTo: bob@example.com\r\nBcc: secret@example.com, refuse@example.com\r\nSubject: from a file\r\n\r\nHello from send_file.\r\n' > build/message.eml
build/bin/send_file "$LIBSMTP_SINK" build/message.eml > build/send_file.out || true
printf 'From: Alice <alice@example.com>\r\nTo: bob@example.com\r\nSubject: from a file\r\n\r\nHello from send_file.\r\n' > build/send_file.expected
check "send_file message arrives without its Bcc field" "cmp -s build/send_file.expected $mail/0003.eml"
check "send_file delivered to the Bcc recipient too" "grep -q 'secret@example.com' $mail/0003.json"
check "send_file reports the refused Bcc recipient" "grep -q 'refuse@example.com: 550 (refused)' build/send_file.out"

# pool_send.c: 8 threads x 25 messages through a pool of at most 3
# connections; every message arrives once.
before=$(ls $mail/*.eml | wc -l)
build/bin/pool_send "$LIBSMTP_SINK" 8 25 3 > build/pool_send.out 2>&1 || true
after=$(ls $mail/*.eml | wc -l)
check "pool_send reports 200 sent, none failed" "grep -q '^sent 200, failed 0, connections [1-9]' build/pool_send.out"
check "pool_send's 200 messages arrived" "[ \$((after - before)) = 200 ]"
check "pool_send's messages are distinct" "[ \$(cat $mail/*.eml | grep -c '@pool-send.example>') = 200 ]"

# auth_callback.c: a custom SASL mechanism against the authenticating server.
build/bin/auth_callback "$LIBSMTP_AUTH" "open sesame" > build/auth_callback.out || true
check "auth_callback authenticates with X-TOKEN" "grep -q '^authenticated: 235' build/auth_callback.out"
check "auth_callback saw the server's challenge" "grep -q '^challenge 1: token?' build/auth_callback.out"
build/bin/auth_callback "$LIBSMTP_AUTH" "wrong" > build/auth_callback.out || true
check "auth_callback with a wrong token is refused" "grep -q 'authentication failed: 535' build/auth_callback.out"

# tls_send.c: STARTTLS and implicit TLS to aiosmtpd, verified against the
# runner's test CA (trustme).
for mode in starttls implicit; do
  if [ $mode = starttls ]; then addr=$LIBSMTP_STARTTLS dir=$LIBSMTP_STARTTLS_DIR arg=starttls
  else addr=$LIBSMTP_IMPLICIT dir=$LIBSMTP_IMPLICIT_DIR arg=ssl; fi
  build/bin/tls_send $arg "localhost:${addr##*:}" "$LIBSMTP_TLS_FILES/ca.pem" > "build/tls_send-$mode.out" || true
  check "tls_send ($mode) negotiates TLS 1.2+" "grep -q '^connected with TLSv1\.[23]' build/tls_send-$mode.out"
  check "tls_send ($mode) message arrives" "grep -q 'Only the server can read this.' $dir/0001.eml"
done
build/bin/tls_send ssl "localhost:1" > build/tls_send-refused.out 2>&1 || true
check "tls_send reports a refused connection" "grep -q 'connect failed' build/tls_send-refused.out"

# compose.c: a message built with the builder (display names, text, HTML,
# an attachment), DKIM-signed, sent to the sink; dkimpy verifies it and
# Python's email package reads it back. Then a 100 MB attachment sent with
# a peak RSS under 16 MiB (tests/compose/rss_check.py, GNU time).
n=$(($(ls $mail/*.eml | wc -l) + 1)); n=$(printf %04d $n)
printf 'Hello Bob,\nthe report is attached.\n' > build/compose.txt
printf '<p>Hello <b>Bob</b></p>\n' > build/compose.html
head -c 300000 /dev/urandom > build/compose-report.bin
build/bin/compose "$LIBSMTP_SINK" --from 'Zoë <zoe@example.com>' --to 'Bob <bob@example.com>' \
  --to refuse@example.com --cc carol@example.com --subject 'Quarterly report für Köln' \
  --text build/compose.txt --html build/compose.html --attach build/compose-report.bin \
  --dkim-domain example.com --dkim-selector test --dkim-key tests/compose/keys/rsa2048.pem \
  > build/compose.out 2>&1 || true
check "compose reports the refused recipient and exits 0" "grep -q 'sent, 1 recipient(s) refused' build/compose.out"
check "compose's envelope comes from its fields" "grep -q '\"rcpt_tos\": \\[\"bob@example.com\", \"carol@example.com\"\\]' $mail/$n.json"
check "compose's DKIM signature verifies with dkimpy" "build/venv/bin/python tests/compose/dkim_verify.py $mail/$n.eml tests/compose/keys/rsa2048.txt > /dev/null"
subject_is() { build/venv/bin/python tests/compose/parse_message.py "$1" | build/venv/bin/python -c 'import json, sys; sys.exit(json.load(sys.stdin)["subject"] != sys.argv[1])' "$2"; }
check "compose's message reads back in Python" "subject_is $mail/$n.eml 'Quarterly report für Köln'"
check "compose sends a 100 MB attachment in under 16 MiB" "build/venv/bin/python tests/compose/rss_check.py build/bin/compose"

# The README's C quick start compiles against the install as written.
awk '/^```c$/{n++; if (n == 1) {on=1; next}} /^```$/{on=0} on' README.md > build/readme_quickstart.c
check "README quick start compiles" "PKG_CONFIG_PATH=build/stage/lib/pkgconfig \${CC:-cc} -Wall -Wextra -Werror -std=c99 -o build/bin/readme_quickstart build/readme_quickstart.c \$(PKG_CONFIG_PATH=build/stage/lib/pkgconfig pkg-config --cflags --libs smtp)"

echo "examples: $pass passed, $fail failed"
[ "$fail" = 0 ]
