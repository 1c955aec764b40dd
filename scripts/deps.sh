#!/bin/sh
# Installs what the tests need, when it is missing: pkg-config, gcc, g++,
# valgrind, groff-base, mandoc, cmake, time and postfix (smtp-sink and smtp-source, and the private Postfix of
# tests/postfix.rs) from Debian; aiosmtpd, trustme, pproxy and dkimpy from PyPI into
# build/venv. `sh scripts/deps.sh demo` installs only what `make demo` needs:
# pkg-config and gcc when missing, aiosmtpd in build/venv.
set -eu
cd "$(dirname "$0")/.."
need=""
command -v pkg-config >/dev/null 2>&1 || need="$need pkg-config"
command -v cc >/dev/null 2>&1 || need="$need gcc"
pip="aiosmtpd>=1.4"
modules="aiosmtpd"
if [ "${1:-}" != demo ]; then
  command -v valgrind >/dev/null 2>&1 || need="$need valgrind"
  command -v c++ >/dev/null 2>&1 || need="$need g++"
  [ -x /usr/sbin/smtp-sink ] || need="$need postfix"
  # groff and mandoc: the docs suite lints every man page with both.
  command -v groff >/dev/null 2>&1 || need="$need groff-base"
  command -v mandoc >/dev/null 2>&1 || need="$need mandoc"
  # cmake: the consumer project of the package suite (tests/package/cmake).
  command -v cmake >/dev/null 2>&1 || need="$need cmake"
  # GNU time: the peak RSS of examples-c/compose (tests/compose/rss_check.py).
  [ -x /usr/bin/time ] || need="$need time"
  # trustme: a test CA for the TLS servers; pproxy: a real SOCKS5 and HTTP
  # CONNECT proxy (tests/servers/proxy_server.py); dkimpy (with PyNaCl for
  # ed25519-sha256): the independent DKIM verifier of tests/compose.
  pip="$pip trustme>=1.0 pproxy>=2.7,<3 dkimpy>=1.1 pynacl>=1.5"
  modules="$modules, trustme, pproxy, dkim, nacl"
fi
if [ -n "$need" ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $need
fi
if [ ! -x build/venv/bin/python ] || ! build/venv/bin/python -c "import $modules" 2>/dev/null; then
  mkdir -p build
  python3 -m venv build/venv
  # shellcheck disable=SC2086 # one argument per requirement
  build/venv/bin/pip install -q $pip
fi
