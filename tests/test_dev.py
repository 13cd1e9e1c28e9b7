"""dev.py: the demo's setup failures and the server it leaves running (or not)."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
from pathlib import Path

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
    assert result.stderr.splitlines() == [
        "Error: PORTAL_MAX_CONTENT_LENGTH must be a whole number, not 'abc'."
    ]
