"""dev.py: the demo's setup failures and the server it leaves running (or not)."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def dev_environment(instance: Path, **settings: str) -> dict[str, str]:
    """The environment of a dev.py run on its own instance folder."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("PORTAL_")
    }
    return {**environment, "PORTAL_INSTANCE_PATH": str(instance), **settings}


def is_listening(port: int) -> bool:
    """Whether something accepts connections on the port of 127.0.0.1."""
    with socket.socket() as connection:
        connection.settimeout(1)
        return connection.connect_ex(("127.0.0.1", port)) == 0


def is_serving(port: int) -> bool:
    """Whether a worker answers HTTP on the port (not only the listening socket)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/sign-in")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def test_demo_prints_a_bad_setting_as_one_line(tmp_path: Path) -> None:
    environment = dev_environment(tmp_path, PORTAL_MAX_CONTENT_LENGTH="abc")

    result = subprocess.run(
        [sys.executable, "dev.py", "demo", "--no-serve"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert result.returncode == 1
    # A first run installs the requirements, and pip may warn on stderr about this
    # machine's own settings; the portal's part is the last line, alone.
    assert result.stderr.splitlines()[-1] == (
        "Error: PORTAL_MAX_CONTENT_LENGTH must be a whole number, not 'abc'."
    )
    assert "Traceback" not in result.stderr
    assert "PORTAL_MAX_CONTENT_LENGTH" not in "".join(result.stderr.splitlines()[:-1])


@pytest.mark.parametrize(
    ("stop", "port"), [(signal.SIGTERM, 5925), (signal.SIGINT, 5926)]
)
def test_a_signal_to_dev_py_demo_stops_its_server(
    tmp_path: Path, stop: signal.Signals, port: int
) -> None:
    assert not is_listening(port), f"port {port} is taken"
    with (tmp_path / "dev.log").open("w") as log:
        demo = subprocess.Popen(  # noqa: S603 - our own interpreter and script
            [sys.executable, "dev.py", "demo", "--port", str(port)],
            cwd=ROOT,
            env=dev_environment(tmp_path / "instance"),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        while not is_serving(port):
            assert demo.poll() is None, (tmp_path / "dev.log").read_text()
            assert time.monotonic() < deadline, "the demo server never started"
            time.sleep(0.2)

        demo.send_signal(stop)
        demo.wait(timeout=30)
        deadline = time.monotonic() + 30
        while is_listening(port) and time.monotonic() < deadline:
            time.sleep(0.2)

        assert not is_listening(port)
    finally:
        # Whatever the outcome, nothing this test started outlives it.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(demo.pid, signal.SIGKILL)
        demo.wait(timeout=30)
