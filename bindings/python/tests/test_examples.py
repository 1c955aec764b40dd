"""examples/ run against the sink (test.sh also type-checks them with
mypy --strict against the installed wheel), and the README's first code
block is examples/send_async.py."""
import os
import pathlib
import subprocess
import sys

import pytest

from conftest import ROOT

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"
README = EXAMPLES.parent / "README.md"

# example -> how many messages it leaves in the sink
SENT = {"send_async.py": 1, "send_sync.py": 1, "pool_async.py": 11, "stream_batch.py": 3, "send_dkim.py": 1}
# example -> its arguments after the server's address
ARGS = {"send_dkim.py": [str(ROOT / "tests" / "compose" / "keys" / "ed25519.pem"), "example.com", "test"]}


def test_every_example_is_listed():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(SENT)


@pytest.mark.parametrize("name", sorted(SENT))
def test_example_runs(name, sink):
    env = dict(os.environ, PYTHONPATH=str(EXAMPLES.parent))
    out = subprocess.run([sys.executable, str(EXAMPLES / name), sink.addr, *ARGS.get(name, [])], capture_output=True,
                         text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout
    messages = sink.messages(wait_for=SENT[name])
    assert len(messages) == SENT[name]
    if name == "send_dkim.py":  # test_dkim.py verifies such messages with dkimpy
        assert messages[0][0].startswith(b"DKIM-Signature: v=1; a=ed25519-sha256;")
        assert "test._domainkey.example.com TXT v=DKIM1; k=ed25519; p=" in out.stdout


def test_readme_starts_with_the_install_command_and_the_async_example():
    text = README.read_text(encoding="utf-8")
    first_sh = text.split("```sh\n", 1)[1].split("```", 1)[0]
    assert first_sh.strip().startswith("pip install dist/libsmtp-0.1.0-py3-none-manylinux_")
    first_py = text.split("```python\n", 1)[1].split("```", 1)[0]
    assert text.index("```sh") < text.index("```python")
    assert "libsmtp.aio" in first_py and first_py in (EXAMPLES / "send_async.py").read_text(encoding="utf-8")
