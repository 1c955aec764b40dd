#!/usr/bin/env python3
"""The one test runner: `make test` and CI's .ci/run call it.

    python3 scripts/run_tests.py            every suite, in order
    python3 scripts/run_tests.py c cpp      only these (and what they need)
    python3 scripts/run_tests.py --list     the suites, one a line

Every suite runs even when an earlier one failed (a suite whose need failed,
say `c` after `stage`, is counted failed without running). Each suite ends
with a status line and its time; the last line is `all: N passed, M failed`,
counted from what ran, and the exit status is 1 when any failed.

Python 3 (stdlib only) rather than a cargo xtask or CTest: Python 3 is
already required by the test servers and the bindings, so nothing new is
installed, and it owns processes portably (process groups, timeouts, clean-up
in `finally`). Each suite command runs in a process group of its own, killed
when the command ends, times out or the runner is interrupted.
"""
import json
import os
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STAGE = os.path.join(ROOT, "build", "stage")
SUITE_TIMEOUT_S = 1800


class Interrupted(Exception):
    pass


def on_signal(signum, _frame):
    raise Interrupted("signal %d" % signum)


def kill_group(proc, grace_s=5.0):
    """TERM the process group led by proc, KILL it after grace_s."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=grace_s)
            if sig == signal.SIGTERM:
                # The leader is gone; its group may still hold children.
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            return
        except subprocess.TimeoutExpired:
            continue
    proc.wait()


def run(cmd, env=None, cwd=ROOT, timeout=SUITE_TIMEOUT_S):
    """Run cmd (a list) in its own process group, output to ours; True when
    it exits 0. Whatever it leaves running in its group is killed."""
    print("$ " + " ".join(cmd), flush=True)
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        status = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        print("timed out after %d s: %s" % (timeout, " ".join(cmd)), flush=True)
        status = None
    finally:
        kill_group(proc)
    if status not in (0, None):
        print("exit status %d: %s" % (status, " ".join(cmd)), flush=True)
    return status == 0


def output(cmd):
    return subprocess.run(cmd, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          check=True, text=True, start_new_session=True).stdout


def stage_env():
    env = dict(os.environ, STAGE=STAGE, SKIP_STAGE="1")
    return env


# ------------------------------------------------------------------ suites
# Each suite: a function returning True when it passed.

def suite_cmd(*cmd, env=None):
    return lambda: run(list(cmd), env=env() if env else None)


def panic_boundary():
    """tests/panic.rs built with --features test-panic, run, then run again
    under valgrind: the binary is the one cargo reports (its JSON
    messages), not the newest file in target/."""
    build = ["cargo", "test", "--features", "test-panic", "--test", "panic", "--no-run", "--message-format=json"]
    exe = None
    for line in output(build).splitlines():
        msg = json.loads(line) if line.startswith("{") else {}
        if msg.get("reason") == "compiler-artifact" and msg.get("target", {}).get("name") == "panic" \
                and msg.get("profile", {}).get("test") and msg.get("executable"):
            exe = msg["executable"]
    if not exe:
        print("cargo reported no test executable for tests/panic.rs", flush=True)
        return False
    ok = run([exe])
    return run(["valgrind", "-q", "--leak-check=full", "--errors-for-leak-kinds=definite,indirect",
                "--error-exitcode=1", exe, "--test-threads=1"]) and ok


def install_uninstall():
    """make install/uninstall with PREFIX and DESTDIR put every file in
    place and take every one away again."""
    dest = os.path.join(ROOT, "build", "destdir-test")
    subprocess.run(["rm", "-rf", dest], check=True)
    version = output(["sed", "-n", r's/^version = "\(.*\)"/\1/p', "Cargo.toml"]).split()[0]
    make = ["make", "-s", "PREFIX=/opt/libsmtp", "DESTDIR=" + dest]
    if not run(make[:2] + ["install"] + make[2:]):
        return False
    prefix = dest + "/opt/libsmtp/"
    files = ["lib/libsmtp.so." + version, "lib/libsmtp.so." + version.split(".")[0], "lib/libsmtp.so",
             "lib/libsmtp.a", "include/smtp.h", "include/smtp.hpp", "lib/pkgconfig/smtp.pc"]
    missing = [f for f in files if not os.path.lexists(prefix + f)]
    ok = not missing
    if missing:
        print("install: missing " + " ".join(missing))
    pc = prefix + "lib/pkgconfig/smtp.pc"
    if not os.path.exists(pc) or "prefix=/opt/libsmtp" not in open(pc).read().splitlines():
        print("install: smtp.pc has the wrong prefix")
        ok = False
    if not run(make[:2] + ["uninstall"] + make[2:]):
        return False
    left = [os.path.join(d, f) for d, _, fs in os.walk(dest) for f in fs]
    if left:
        print("uninstall left: " + " ".join(left))
        ok = False
    subprocess.run(["rm", "-rf", dest], check=True)
    print("install/uninstall: " + ("ok" if ok else "FAILED"), flush=True)
    return ok


def binding(lang):
    return suite_cmd("sh", "bindings/%s/test.sh" % lang, env=stage_env)


# name, what it runs, needs, function. In the order `make test` runs them.
SUITES = [
    ("deps", "scripts/deps.sh: what the tests need (Debian packages, build/venv)", [],
     suite_cmd("sh", "scripts/deps.sh")),
    ("cargo", "cargo test (unit, header, conformance, hostile servers, auth, TLS, proxies, messages, load)",
     ["deps"], suite_cmd("cargo", "test", "--no-fail-fast")),
    ("stream", "a 1 GiB message through the read callback (release build)", ["deps"],
     suite_cmd("cargo", "test", "--release", "--test", "stream", "--", "--nocapture")),
    ("panic", "panic boundary (feature test-panic), also under valgrind", ["deps"], panic_boundary),
    ("libs-private", "static link flags (make check-libs-private)", [],
     suite_cmd("make", "-s", "check-libs-private")),
    ("install", "install and uninstall with PREFIX and DESTDIR", [], install_uninstall),
    ("stage", "staged install (build/stage)", [], suite_cmd("make", "-s", "stage")),
    ("c", "C tests (ASan/UBSan, valgrind, symbols, header standards, static link)", ["deps", "stage"],
     suite_cmd("sh", "scripts/c-tests.sh", env=stage_env)),
    ("cpp", "C++ (smtp.hpp)", ["deps", "stage"], suite_cmd("sh", "scripts/cpp-tests.sh", env=stage_env)),
    ("examples", "C examples against aiosmtpd", ["deps", "stage"],
     suite_cmd("sh", "scripts/examples-test.sh", env=stage_env)),
    ("python", "binding: python", ["deps", "stage"], binding("python")),
    ("go", "binding: go", ["deps", "stage"], binding("go")),
    ("ruby", "binding: ruby", ["deps", "stage"], binding("ruby")),
    ("node", "binding: node", ["deps", "stage"], binding("node")),
    ("fuzz", "fuzz targets, 5 s each", [], suite_cmd("sh", "scripts/fuzz.sh", "5")),
]


def main(argv):
    names = [s[0] for s in SUITES]
    if argv == ["--list"]:
        for name, what, _, _ in SUITES:
            print("%-13s %s" % (name, what))
        return 0
    unknown = [a for a in argv if a not in names]
    if unknown:
        print("run_tests.py: no suite %s (--list names them)" % ", ".join(unknown), file=sys.stderr)
        return 2
    wanted = set(argv or names)
    for name, _, needs, _ in SUITES:  # a need comes earlier in SUITES
        if name in wanted:
            wanted.update(needs)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    os.chdir(ROOT)
    results = {}  # name -> (passed, seconds, note)
    start = time.monotonic()
    try:
        for name, what, needs, fn in SUITES:
            if name not in wanted:
                continue
            print("\n== %s: %s" % (name, what), flush=True)
            t0 = time.monotonic()
            failed_needs = [n for n in needs if not results[n][0]]
            if failed_needs:
                ok, note = False, "not run: %s failed" % ", ".join(failed_needs)
            else:
                try:
                    ok, note = bool(fn()), ""
                except (OSError, subprocess.CalledProcessError, ValueError) as e:
                    ok, note = False, "error: %s" % e
            results[name] = (ok, time.monotonic() - t0, note)
            print("== %s %s (%.1f s)%s" % ("ok  " if ok else "FAIL", name, results[name][1],
                                           " " + note if note else ""), flush=True)
    except Interrupted as e:
        print("\nrun_tests.py: interrupted (%s)" % e, flush=True)
        return 130
    print("\n== summary")
    for name, (ok, secs, note) in results.items():
        print("%s %-13s %7.1f s%s" % ("ok  " if ok else "FAIL", name, secs, "  " + note if note else ""))
    passed = sum(1 for ok, _, _ in results.values() if ok)
    failed = len(results) - passed
    print("total: %.0f s" % (time.monotonic() - start))
    print("all: %d passed, %d failed" % (passed, failed), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
