"""Fixtures: the repository's test servers, described once in
tests/servers/servers.json.

scripts/run_tests.py starts sink, auth, slow, starttls and implicit for
every binding suite and exports LIBSMTP_<NAME> (127.0.0.1:PORT),
LIBSMTP_<NAME>_DIR and LIBSMTP_TLS_FILES; those are used when set. A server
the runner does not give the bindings (dsn, socks), or any server when
pytest runs on its own, is started here from its servers.json entry, once
per test session, with --parent-pid so that it exits with the run.

A server with a directory is shared by the tests: each test sees only the
messages stored after its fixture was made (Server.messages())."""
import json
import os
import pathlib
import subprocess
import sys
import time

import pytest

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[2]
SERVERS = ROOT / "tests" / "servers"
SPEC = json.loads((SERVERS / "servers.json").read_text(encoding="utf-8"))

# replay.py and the helpers beside this file.
sys.path.insert(0, str(HERE))


class Server:
    """A running server: port, addr ("127.0.0.1:PORT") and, for one that
    stores messages, the directory; messages() lists those stored since
    this view was made."""

    def __init__(self, port, directory=None):
        self.port = port
        self.dir = directory
        self.addr = "127.0.0.1:%d" % port
        self._skip = set(self._names()) if directory else set()

    def _names(self):
        return sorted(p.name for p in pathlib.Path(self.dir).glob("*.eml")) if self.dir else []

    def view(self):
        """A new view of the same server: messages() from now on."""
        return Server(self.port, self.dir)

    def messages(self, wait_for=0, within=5.0):
        """[(eml bytes, envelope dict)] stored since the view was made, in
        order; waits up to `within` s until there are at least `wait_for`."""
        deadline = time.monotonic() + within
        while True:
            names = [n for n in self._names() if n not in self._skip]
            if len(names) >= wait_for or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        out = []
        for name in names:
            eml = pathlib.Path(self.dir) / name
            out.append((eml.read_bytes(), json.loads(eml.with_suffix(".json").read_text(encoding="utf-8"))))
        return out


def tls_files():
    """The runner's test CA directory (ca.pem, cert.pem, key.pem), or one
    made here with trustme as the runner makes it."""
    d = os.environ.get("LIBSMTP_TLS_FILES")
    if d:
        return pathlib.Path(d)
    if not _STARTED.get("tls"):
        import tempfile
        import trustme
        d = pathlib.Path(tempfile.mkdtemp(prefix="libsmtp-py-tls-"))
        authority = trustme.CA()
        cert = authority.issue_cert("localhost", "127.0.0.1")
        authority.cert_pem.write_to_path(str(d / "ca.pem"))
        cert.cert_chain_pems[0].write_to_path(str(d / "cert.pem"))
        cert.private_key_pem.write_to_path(str(d / "key.pem"))
        _STARTED["tls"] = d
    return _STARTED["tls"]


_STARTED = {}  # name -> (process, Server), servers started here


def _start(name, tmp):
    """Server `name` of servers.json, as scripts/run_tests.py starts it."""
    desc = SPEC["servers"][name]
    subst = dict(SPEC["vars"])
    if any("{tls}" in a for a in desc["args"]):
        subst["tls"] = str(tls_files())
    port_file = tmp / (name + ".port")
    cmd = [sys.executable, str(SERVERS / desc["script"]), *(a.format(**subst) for a in desc["args"]),
           "--port-file", str(port_file), "--parent-pid", str(os.getpid())]
    directory = None
    if desc["dir"]:
        directory = tmp / name
        cmd += ["--dir", str(directory)]
    proc = subprocess.Popen(cmd)
    deadline = time.monotonic() + SPEC["ready_within_s"]
    while not (port_file.exists() and port_file.read_text().strip()):
        if proc.poll() is not None:
            raise RuntimeError("%s exited with %s" % (name, proc.returncode))
        if time.monotonic() > deadline:
            proc.terminate()
            raise RuntimeError("%s did not start" % name)
        time.sleep(0.05)
    return proc, Server(int(port_file.read_text()), directory)


def server(name, tmp_path_factory):
    """The runner's server `name` when it gave one, else one started here."""
    addr = os.environ.get("LIBSMTP_" + name.upper())
    if addr:
        return Server(int(addr.rsplit(":", 1)[1]), os.environ.get("LIBSMTP_%s_DIR" % name.upper()))
    if name not in _STARTED:
        _STARTED[name] = _start(name, tmp_path_factory.mktemp(name))
    return _STARTED[name][1].view()


def pytest_sessionfinish(session, exitstatus):
    for value in _STARTED.values():
        if isinstance(value, tuple):
            proc = value[0]
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def _server_fixture(fixture, name, doc):
    def fn(tmp_path_factory):
        return server(name, tmp_path_factory)
    fn.__doc__ = doc
    return pytest.fixture(name=fixture)(fn)


# fixture name -> servers.json name, what it is
SERVER_FIXTURES = {
    "sink": ("sink", 'sink.py: stores NNNN.eml and NNNN.json; refuses recipients whose local part starts with "refuse".'),
    "slow": ("slow", "sink.py --greet-delay 2: waits 2 s before each greeting."),
    "dsn": ("dsn", "sink.py --dsn: advertises DSN; the JSON keeps the raw MAIL/RCPT arguments."),
    "socks": ("socks", "proxy_server.py --scheme socks5 with user:password (servers.json's proxy_auth)."),
    "auth_server": ("auth", 'auth_server.py: PLAIN/LOGIN alice/s3cret, XOAUTH2 and OAUTHBEARER "good-token", '
                            "SCRAM-SHA-256 user/pencil, X-TOKEN."),
    "starttls_server": ("starttls", "tls_server.py --mode starttls with the test CA's certificate."),
    "implicit_tls_server": ("implicit", "tls_server.py --mode implicit (TLS from the first byte)."),
    "lmtp": ("lmtp", "scripted.py's mini LMTP: 550 at RCPT for refuse*, 452 after the data for late-fail*; "
                     "also on DIR/lmtp.sock."),
}
for _fixture, (_name, _doc) in SERVER_FIXTURES.items():
    globals()["_fixture_" + _fixture] = _server_fixture(_fixture, _name, _doc)


def run_in_threads(fn, n):
    """fn(i) on n threads at once; the exceptions they raised."""
    import threading
    errors = []

    def run(i):
        try:
            fn(i)
        except BaseException as e:  # noqa: BLE001 - returned to the test
            errors.append(e)
    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return errors


@pytest.fixture
def ca():
    """The test CA and a certificate for localhost and 127.0.0.1:
    (ca.pem, cert.pem, key.pem)."""
    d = tls_files()
    return str(d / "ca.pem"), str(d / "cert.pem"), str(d / "key.pem")

