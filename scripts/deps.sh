#!/bin/sh
# Installs what the demo and the tests need, when it is missing: pkg-config,
# valgrind, g++ and postfix (smtp-sink and smtp-source, and the private Postfix of
# tests/postfix.rs) from Debian, aiosmtpd, trustme and pproxy from PyPI into build/venv.
set -eu
cd "$(dirname "$0")/.."
need=""
command -v pkg-config >/dev/null 2>&1 || need="$need pkg-config"
command -v valgrind >/dev/null 2>&1 || need="$need valgrind"
command -v cc >/dev/null 2>&1 || need="$need gcc"
command -v c++ >/dev/null 2>&1 || need="$need g++"
# Postfix: smtp-sink and smtp-source (the load test, the benchmark), and a private
# instance (tests/postfix.rs).
[ -x /usr/sbin/smtp-sink ] || need="$need postfix"
if [ -n "$need" ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $need
fi
if [ ! -x build/venv/bin/python ] || ! build/venv/bin/python -c 'import aiosmtpd, trustme, pproxy' 2>/dev/null; then
  mkdir -p build
  python3 -m venv build/venv
  # aiosmtpd: the test servers; trustme: a test CA for the TLS examples;
  # pproxy: a real SOCKS5 and HTTP CONNECT proxy (tests/servers/proxy_server.py).
  build/venv/bin/pip install -q 'aiosmtpd>=1.4' 'trustme>=1.0' 'pproxy>=2.7,<3'
fi
