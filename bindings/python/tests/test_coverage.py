"""Every function include/smtp.h declares is bound (libsmtp._native's
_PROTOTYPES) or excluded with a reason (NOT_BOUND); a new C function that
is neither fails here. The header's constants the binding copies are
checked against it too."""
import re

from conftest import ROOT
from libsmtp import _native as N

HEADER = (ROOT / "include" / "smtp.h").read_text(encoding="utf-8")


def header_functions():
    # Declarations start a line with their return type (doc comments start
    # with " *"); the name is the identifier before the first "(".
    names = re.findall(r"^[a-z][\w \*]*?\b(smtp_\w+)\(", HEADER, re.M)
    return set(names)


def test_every_c_function_is_bound_or_excluded(capsys):
    declared = header_functions()
    bound = set(N._PROTOTYPES)
    excluded = set(N.NOT_BOUND)
    assert len(declared) > 100
    assert not bound & excluded, "both bound and excluded: %s" % sorted(bound & excluded)
    assert not (bound | excluded) - declared, "not in the header: %s" % sorted((bound | excluded) - declared)
    missing = declared - bound - excluded
    assert not missing, "neither bound nor excluded in _native.py: %s" % sorted(missing)
    with capsys.disabled():
        print("\n    [coverage] %d of %d C functions bound, %d excluded (NOT_BOUND)"
              % (len(bound), len(declared), len(excluded)))


def test_constants_match_the_header():
    defines = dict((name, int(value)) for name, value in
                   re.findall(r"^#define (SMTP_\w+) (-?\d+)\s*$", HEADER, re.M))
    copied = {name: value for name, value in vars(N).items()
              if name.startswith("SMTP_") and isinstance(value, int) and not name.startswith(("SMTP_OK", "SMTP_ERR_"))}
    assert len(copied) > 50
    for name, value in copied.items():
        assert defines.get(name) == value, name
    # Result codes come from the library itself; the header's enum agrees.
    for code, name, _, _ in N.RESULTS:
        assert re.search(r"^\s+%s = %d,?$" % (name, code), HEADER, re.M), name
