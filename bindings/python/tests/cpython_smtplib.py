"""CPython's own Lib/test/test_smtplib.py, run against libsmtp.

The test module of the interpreter running this file is imported with the
libsmtp module in place of ``smtplib`` (``sys.modules["smtplib"]``), so every
``smtplib.X`` the tests reach is libsmtp's. Every test must pass, except the
ones that replace ``smtplib.socket`` with a mock socket module (their
``setUp`` assigns it): libsmtp opens its sockets in Rust, where no mock
socket module can reach. The assignment is seen as it happens; such a test
that then fails or errs is reported as skipped, with that reason (one that
passes all the same, testQuoteData, counts as passed).

Standalone (any Python 3.8 or later that has its ``test`` package):

    PKG_CONFIG_PATH=build/stage/lib/pkgconfig python3.13 bindings/python/tests/cpython_smtplib.py

prints each test that is not a plain pass, then a line
``cpython test_smtplib X.Y: N passed, N failed, N skipped``, and exits 0
only when nothing failed and nothing was skipped for another reason.
tests/test_cpython_smtplib.py runs it for the interpreter running pytest.

libsmtp's deliberate differences from smtplib (README.md, "Where libsmtp
differs") are not reached by test_smtplib: its servers speak plain SMTP on
loopback (TLS, verified by default, is never started), every sendmail has
a recipient (an empty list is refused before sending), and no test reads
an LMTP reply after the data (one per accepted recipient in libsmtp). The
pytest wrapper checks those three separately against the same servers.
"""
import os
import socket
import sys
import types
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # bindings/python: the libsmtp package

import libsmtp  # noqa: E402 - imports the real smtplib first (its exception classes)

PATCH_REASON = ("patches smtplib.socket with a mock socket module, which cannot reach the socket "
                "libsmtp opens in Rust")


class _Smtplib(types.ModuleType):
    """libsmtp's namespace, as the ``smtplib`` the tests see; it notes when
    a test puts another socket module in place of the real one."""

    patched = False  # since the running test started

    def __setattr__(self, name, value):
        if name == "socket" and value is not socket:
            type(self).patched = True
        super().__setattr__(name, value)


def install():
    """libsmtp as sys.modules["smtplib"]; the real smtplib is returned."""
    real = sys.modules["smtplib"]
    mod = _Smtplib("smtplib", libsmtp.__doc__)
    for name, value in vars(libsmtp).items():
        if name not in ("__name__", "__doc__", "__spec__", "__loader__"):
            types.ModuleType.__setattr__(mod, name, value)
    types.ModuleType.__setattr__(mod, "socket", socket)
    sys.modules["smtplib"] = mod
    return real


class _Result(unittest.TextTestResult):
    """A failure of a test that patched smtplib.socket is a skip."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.passed = []
        self.patched_passed = []  # patched smtplib.socket and passed all the same

    def startTest(self, test):
        _Smtplib.patched = False
        super().startTest(test)

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed.append(test)
        if _Smtplib.patched:
            self.patched_passed.append(test)

    def addError(self, test, err):
        if _Smtplib.patched:
            self.addSkip(test, PATCH_REASON)
        else:
            super().addError(test, err)

    def addFailure(self, test, err):
        if _Smtplib.patched:
            self.addSkip(test, PATCH_REASON)
        else:
            super().addFailure(test, err)


def run(verbosity=1):
    """Run test_smtplib against libsmtp: (ok, result)."""
    real = install()
    try:
        sys.modules.pop("test.test_smtplib", None)
        from test import test_smtplib
        suite = unittest.defaultTestLoader.loadTestsFromModule(test_smtplib)
        runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=verbosity, resultclass=_Result)
        result = runner.run(suite)
    finally:
        sys.modules["smtplib"] = real
    other_skips = [(t, why) for t, why in result.skipped if why != PATCH_REASON]
    bad = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses) + len(other_skips)
    ok = bad == 0 and result.testsRun > 0
    for t, why in result.skipped:
        print("skipped: %s: %s" % (t.id(), why))
    for t in result.patched_passed:
        print("passed, though it patches smtplib.socket: %s" % t.id())
    print("cpython test_smtplib %d.%d: %d passed, %d failed, %d skipped"
          % (sys.version_info[0], sys.version_info[1], len(result.passed), bad, len(result.skipped)))
    return ok, result


if __name__ == "__main__":
    sys.exit(0 if run(verbosity=int(os.environ.get("VERBOSITY", "1")))[0] else 1)
