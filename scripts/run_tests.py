#!/usr/bin/env python3
"""The one test runner: `make test` and CI's .ci/run call it.

    python3 scripts/run_tests.py            every suite, in order
    python3 scripts/run_tests.py c cpp      only these (and what they need)
    python3 scripts/run_tests.py --list     the suites, one a line
    python3 scripts/run_tests.py --serve sink auth -- CMD...
                                            CMD with those servers (make demo)

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
import shutil
import signal
import subprocess
import sys
import tempfile
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


# ------------------------------------------------------------------ servers
# tests/servers/servers.json describes each test server once; a suite names
# the ones it needs and gets their addresses and directories as
# LIBSMTP_<NAME> and LIBSMTP_<NAME>_DIR.
SERVERS = json.load(open(os.path.join(ROOT, "tests", "servers", "servers.json")))
TLS_FILES = []  # the test CA's directory, once made


def tls_files():
    """A test CA and a certificate for localhost and 127.0.0.1 signed by it
    (trustme), the CA also alone in a directory, a key that fits no
    certificate here, and an empty directory; made once per run."""
    if not TLS_FILES:
        d = tempfile.mkdtemp(prefix="libsmtp-tls-")
        os.makedirs(d + "/ca-dir")
        os.makedirs(d + "/empty-dir")
        script = """if 1:
            import sys, trustme
            d = sys.argv[1]
            ca = trustme.CA()
            cert = ca.issue_cert("localhost", "127.0.0.1")
            ca.cert_pem.write_to_path(d + "/ca.pem")
            ca.cert_pem.write_to_path(d + "/ca-dir/ca.pem")
            cert.cert_chain_pems[0].write_to_path(d + "/cert.pem")
            cert.private_key_pem.write_to_path(d + "/key.pem")
            trustme.CA().issue_cert("other.example").private_key_pem.write_to_path(d + "/other-key.pem")
        """
        subprocess.run([os.path.join(ROOT, SERVERS["python"]), "-c", script, d], check=True)
        TLS_FILES.append(d)
    return TLS_FILES[0]


def start_server(name, work):
    """Start server `name` of servers.json; its process, port file and log."""
    desc = SERVERS["servers"][name]
    subst = dict(SERVERS["vars"])
    if any("{tls}" in a for a in desc["args"]):
        subst["tls"] = tls_files()
    cmd = [os.path.join(ROOT, SERVERS["python"]), os.path.join(ROOT, "tests", "servers", desc["script"])]
    cmd += [a.format(**subst) for a in desc["args"]]
    port_file = os.path.join(work, name + ".port")
    cmd += ["--port-file", port_file, "--parent-pid", str(os.getpid())]
    if desc["dir"]:
        cmd += ["--dir", os.path.join(work, name)]
    log = os.path.join(work, name + ".log")
    with open(log, "wb") as fh:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=fh, stderr=subprocess.STDOUT,
                                start_new_session=True)
    return proc, port_file, log


def await_port(name, proc, port_file, log):
    """The port once the server has written it (it listens by then)."""
    deadline = time.monotonic() + SERVERS["ready_within_s"]
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            return int(open(port_file).read().strip())
        except (OSError, ValueError):
            time.sleep(0.05)
    tail = open(log, errors="replace").read().splitlines()[-30:]
    raise OSError("the %s server did not start (it exited, or wrote no port within %d s):\n     %s"
                  % (name, SERVERS["ready_within_s"], "\n     ".join(tail)))


def with_servers(names, cmd, env=None):
    """Run cmd with fresh servers `names` (all started at once, then waited
    for) and stop them afterwards, whatever happens."""
    env = dict(env or os.environ)
    for var, value in SERVERS["vars"].items():
        env["LIBSMTP_" + var.upper()] = value
    work = tempfile.mkdtemp(prefix="libsmtp-servers-")
    started = []
    try:
        if any("{tls}" in a for n in names for a in SERVERS["servers"][n]["args"]):
            env["LIBSMTP_TLS_FILES"] = tls_files()
        for name in names:
            started.append((name,) + start_server(name, work))
        for name, proc, port_file, log in started:
            env["LIBSMTP_" + name.upper()] = "127.0.0.1:%d" % await_port(name, proc, port_file, log)
            if SERVERS["servers"][name]["dir"]:
                env["LIBSMTP_%s_DIR" % name.upper()] = os.path.join(work, name)
        print("servers: " + ", ".join("%s %s" % (n, env["LIBSMTP_" + n.upper()]) for n in names), flush=True)
        return run(cmd, env=env)
    except (OSError, subprocess.CalledProcessError) as e:
        print("FAIL %s: %s" % (" ".join(cmd), e), flush=True)
        return False
    finally:
        for _, proc, _, _ in started:
            kill_group(proc)
        shutil.rmtree(work, ignore_errors=True)


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


def lint():
    """rustfmt and clippy (-D warnings) clean, and the library builds with
    the oldest Rust Cargo.toml names (rust-version)."""
    ok = run(["cargo", "fmt", "--check"])
    ok = run(["cargo", "clippy", "--all-targets", "--features", "test-panic", "--", "-D", "warnings"]) and ok
    return msrv() and ok


def msrv():
    """cargo +MSRV check --lib, with that toolchain installed by rustup when
    it can be had; when it cannot, say so (the check is then not made)."""
    version = cargo_field("rust-version")
    if not shutil.which("rustup") or not run(["rustup", "toolchain", "install", version, "--profile", "minimal"]):
        print("msrv: Rust %s cannot be had here; rust-version is what the library was last checked with" % version)
        return True
    env = dict(os.environ, CARGO_TARGET_DIR=os.path.join(ROOT, "build", "msrv-target"))
    return run(["cargo", "+" + version, "check", "--lib"], env=env)


def cargo_field(name):
    """The first `name = "..."` of Cargo.toml (the package's)."""
    return output(["sed", "-n", r's/^%s = "\(.*\)"/\1/p' % name, "Cargo.toml"]).split()[0]


def dist():
    """make dist puts the C source release and every binding's package in
    dist/ (each binding's suite installs its own package fresh and sends
    with it; this checks the one command that makes them all)."""
    version = cargo_field("version")
    subprocess.run(["rm", "-rf", os.path.join(ROOT, "dist")], check=True)
    if not run(["make", "-s", "dist"]):
        return False
    names = os.listdir(os.path.join(ROOT, "dist"))
    want = {"C source release": lambda n: n == "libsmtp-%s.tar.gz" % version,
            "Python wheel": lambda n: n.startswith("libsmtp-%s-" % version) and n.endswith("_x86_64.whl"),
            "Ruby gem": lambda n: n.startswith("libsmtp-%s" % version) and n.endswith(".gem"),
            "npm tarball": lambda n: n == "libsmtp-%s.tgz" % version}
    missing = [what for what, match in want.items() if not any(match(n) for n in names)]
    print("dist/: %s%s" % (" ".join(sorted(names)), "; missing: " + ", ".join(missing) if missing else ""), flush=True)
    return not missing


def install_uninstall():
    """make install/uninstall with PREFIX and DESTDIR put every file in
    place and take every one away again."""
    dest = os.path.join(ROOT, "build", "destdir-test")
    subprocess.run(["rm", "-rf", dest], check=True)
    version = cargo_field("version")
    make = ["make", "-s", "PREFIX=/opt/libsmtp", "DESTDIR=" + dest]
    if not run(make[:2] + ["install"] + make[2:]):
        return False
    prefix = dest + "/opt/libsmtp/"
    files = ["lib/libsmtp.so." + version, "lib/libsmtp.so." + version.split(".")[0], "lib/libsmtp.so",
             "lib/libsmtp.a", "include/smtp.h", "include/smtp.hpp", "lib/pkgconfig/smtp.pc",
             "lib/cmake/smtp/smtpConfig.cmake", "lib/cmake/smtp/smtpConfigVersion.cmake"]
    files += ["share/man/man3/libsmtp.3", "share/man/man3/smtp_session_new.3"]
    missing = [f for f in files if not os.path.lexists(prefix + f)]
    ok = not missing
    if missing:
        print("install: missing " + " ".join(missing))
    # Installed without debug info, which install-debug puts beside it.
    so = prefix + "lib/libsmtp.so." + version
    if os.path.exists(so) and ".debug_info" in output(["readelf", "-S", "-W", so]):
        print("install: the shared library still carries debug info")
        ok = False
    if not run(make[:2] + ["install-debug"] + make[2:]) or not os.path.exists(prefix + "lib/libsmtp.so.debug"):
        print("install-debug: lib/libsmtp.so.debug missing")
        ok = False
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


def docs():
    """make docs, then every function of the header and of the built
    library (nm -D) has a man page and an HTML anchor, and groff -ww
    renders every page without a warning."""
    if not run(["make", "-s", "build"]) or not run(["make", "-s", "docs"]):
        return False
    return run(["python3", "docs/mkdocs.py", "--check", "build/docs", "--lib", "target/release/libsmtp.so"])


C_API_SERVERS = ["sink", "dsn", "size", "starttls", "implicit", "socks", "httpproxy", "scripted"]


def c_tests():
    """test_api under ASan/UBSan and under valgrind, each against fresh
    servers (a sink numbers its messages from 0001), then the ABI checks."""
    ok = with_servers(C_API_SERVERS, ["sh", "tests/c/run.sh", "asan"], stage_env())
    ok = with_servers(C_API_SERVERS, ["sh", "tests/c/run.sh", "valgrind"], stage_env()) and ok
    return run(["sh", "tests/c/run.sh", "abi"], env=stage_env()) and ok


# The servers every binding's suite gets (LIBSMTP_<NAME>, LIBSMTP_<NAME>_DIR).
BINDING_SERVERS = ["sink", "auth", "slow", "starttls", "implicit", "dsn", "socks", "httpproxy", "lmtp"]


def binding(lang):
    return lambda: with_servers(BINDING_SERVERS, ["sh", "bindings/%s/test.sh" % lang], stage_env())


# name, what it runs, needs, function. In the order `make test` runs them.
SUITES = [
    ("deps", "scripts/deps.sh: what the tests need (Debian packages, build/venv)", [],
     suite_cmd("sh", "scripts/deps.sh")),
    ("lint", "rustfmt, clippy -D warnings, and the library with its MSRV (rust-version)", ["deps"], lint),
    ("cargo", "cargo test (unit, header, conformance, hostile servers, auth, TLS, proxies, messages, load)",
     ["deps"], suite_cmd("cargo", "test", "--no-fail-fast")),
    ("stream", "a 1 GiB message through the read callback (release build)", ["deps"],
     suite_cmd("cargo", "test", "--release", "--test", "stream", "--", "--nocapture")),
    ("panic", "panic boundary (feature test-panic), also under valgrind", ["deps"], panic_boundary),
    ("libs-private", "static link flags (make check-libs-private)", [],
     suite_cmd("make", "-s", "check-libs-private")),
    ("docs", "man pages and HTML reference: a page per exported function, groff -ww and mandoc -Tlint clean", ["deps"], docs),
    ("install", "install and uninstall with PREFIX and DESTDIR", [], install_uninstall),
    ("stage", "staged install (build/stage)", [], suite_cmd("make", "-s", "stage")),
    ("c", "C tests (ASan/UBSan, valgrind, symbols, header standards, static link)", ["deps", "stage"],
     c_tests),
    ("cpp", "C++ (smtp.hpp)", ["deps", "stage"],
     lambda: with_servers(["sink", "auth"], ["sh", "tests/cpp/run.sh"], stage_env())),
    ("examples", "C examples against aiosmtpd", ["deps", "stage"],
     lambda: with_servers(["sink", "auth", "starttls", "implicit"], ["sh", "examples-c/test.sh"],
                          stage_env())),
    ("package", "release artifacts: CMake consumer, cargo-c layout (installs cargo-c when missing), make dist offline",
     ["deps", "stage"], suite_cmd("sh", "tests/package/run.sh", env=stage_env)),
    ("python", "binding: python", ["deps", "stage"], binding("python")),
    ("go", "binding: go", ["deps", "stage"], binding("go")),
    ("ruby", "binding: ruby", ["deps", "stage"], binding("ruby")),
    ("node", "binding: node", ["deps", "stage"], binding("node")),
    ("dist", "make dist: the C source release, the wheel, the gem and the npm tarball in dist/",
     ["deps", "stage"], dist),
    ("fuzz", "fuzz targets, 5 s each", [], suite_cmd("sh", "fuzz/run.sh", "5")),
]


def main(argv):
    names = [s[0] for s in SUITES]
    if argv == ["--list"]:
        for name, what, _, _ in SUITES:
            print("%-13s %s" % (name, what))
        return 0
    if argv[:1] == ["--serve"] and "--" in argv:
        sep = argv.index("--")
        try:
            return 0 if with_servers(argv[1:sep], argv[sep + 1:]) else 1
        finally:
            for d in TLS_FILES:
                shutil.rmtree(d, ignore_errors=True)
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
    finally:
        for d in TLS_FILES:
            shutil.rmtree(d, ignore_errors=True)
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
