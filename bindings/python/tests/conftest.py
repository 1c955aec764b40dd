"""Fixtures: the repository's aiosmtpd test servers (tests/servers/), each
started with --parent-pid so that it exits with the test run, and a test CA
made by trustme."""
import os
import pathlib
import subprocess
import sys
import time

import pytest

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[2]
SERVERS = ROOT / "tests" / "servers"

# replay.py and the helpers beside this file.
sys.path.insert(0, str(HERE))


class Server:
    def __init__(self, proc, port, directory=None):
        self.proc = proc
        self.port = port
        self.dir = directory
        self.addr = "127.0.0.1:%d" % port

    def messages(self):
        """[(eml bytes, envelope dict)] stored so far, in order."""
        import json
        out = []
        for eml in sorted(pathlib.Path(self.dir).glob("*.eml")):
            out.append((eml.read_bytes(), json.loads(eml.with_suffix(".json").read_text(encoding="utf-8"))))
        return out


def start_server(script, args, port_file, directory=None):
    proc = subprocess.Popen([sys.executable, str(SERVERS / script), "--port-file", str(port_file),
                             "--parent-pid", str(os.getpid()), *args])
    deadline = time.monotonic() + 20
    while not (port_file.exists() and port_file.read_text().strip()):
        if proc.poll() is not None:
            raise RuntimeError("%s exited with %s" % (script, proc.returncode))
        if time.monotonic() > deadline:
            proc.terminate()
            raise RuntimeError("%s did not start" % script)
        time.sleep(0.05)
    return Server(proc, int(port_file.read_text()), directory)


def stop_server(server):
    server.proc.terminate()
    try:
        server.proc.wait(10)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait()


@pytest.fixture
def sink(tmp_path):
    """tests/servers/sink.py: stores DIR/NNNN.eml and NNNN.json; refuses
    recipients whose local part starts with "refuse"."""
    d = tmp_path / "mail"
    server = start_server("sink.py", ["--dir", str(d)], tmp_path / "sink.port", d)
    yield server
    stop_server(server)


@pytest.fixture(scope="session")
def auth_server(tmp_path_factory):
    """tests/servers/auth_server.py: PLAIN/LOGIN alice/s3cret, XOAUTH2 and
    OAUTHBEARER "good-token", SCRAM-SHA-256 user/pencil, X-TOKEN."""
    tmp = tmp_path_factory.mktemp("auth")
    server = start_server("auth_server.py", [], tmp / "auth.port")
    yield server
    stop_server(server)


@pytest.fixture(scope="session")
def ca(tmp_path_factory):
    """A trustme CA and a certificate for localhost and 127.0.0.1, as
    scripts/examples-test.sh makes them: (ca.pem, cert.pem, key.pem)."""
    trustme = pytest.importorskip("trustme")
    tmp = tmp_path_factory.mktemp("ca")
    authority = trustme.CA()
    cert = authority.issue_cert("localhost", "127.0.0.1")
    paths = tmp / "ca.pem", tmp / "cert.pem", tmp / "key.pem"
    authority.cert_pem.write_to_path(str(paths[0]))
    cert.cert_chain_pems[0].write_to_path(str(paths[1]))
    cert.private_key_pem.write_to_path(str(paths[2]))
    return tuple(str(p) for p in paths)


def _tls_server(mode, ca, tmp_path):
    _, cert, key = ca
    d = tmp_path / ("tls-%s-mail" % mode)
    return start_server("tls_server.py", ["--mode", mode, "--cert", cert, "--key", key, "--dir", str(d)],
                        tmp_path / ("tls-%s.port" % mode), d)


@pytest.fixture
def starttls_server(ca, tmp_path):
    server = _tls_server("starttls", ca, tmp_path)
    yield server
    stop_server(server)


@pytest.fixture
def implicit_tls_server(ca, tmp_path):
    server = _tls_server("implicit", ca, tmp_path)
    yield server
    stop_server(server)
