"""What the real-browser tests need: Debian's Chromium, servers on real ports, and
a second site to embed the portal in.

Chromium is driven by Playwright for Python, started from ``/usr/bin/chromium`` (never
a browser Playwright would download). ``http://127.0.0.1:PORT`` (the portal) and
``http://localhost:PORT2`` (the landing site) are different sites to the browser, so a
landing page framing the portal is a real cross-site embed.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from html import escape
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

CHROMIUM = "/usr/bin/chromium"
#: The switches TESTING.md asks for: no sandbox (root in a container), and none of
#: the background traffic to hosts this machine cannot reach.
CHROMIUM_SWITCHES = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PORTS = range(5600, 5700)
PROBE_PREFIX = "/__probe"

WsgiApp = Callable[..., Any]


def chromium_path() -> str:
    """Debian's Chromium; the test fails in CI, and skips elsewhere, without it."""
    path = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    if path is None:
        message = "Chromium is not installed: apt-get install chromium chromium-driver"
        if os.environ.get("PORTAL_TEST_REQUIRE_TOOLS"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def blocking_profile(directory: Path) -> Path:
    """A fresh Chromium profile that blocks third-party cookies.

    The command-line switches for this are not reliable on current Chromium; the
    profile's own preference is.
    """
    preferences = directory / "Default" / "Preferences"
    preferences.parent.mkdir(parents=True)
    preferences.write_text(json.dumps({"profile": {"cookie_controls_mode": 1}}))
    return directory


def free_port() -> int:
    """A port of 5600-5699 nothing listens on now."""
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("No free port between 5600 and 5699.")


@contextmanager
def serving(app: WsgiApp) -> Iterator[int]:
    """Serve a WSGI application on 127.0.0.1 in a thread; yield its port."""
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def with_cookie_probe(app: WsgiApp) -> WsgiApp:
    """``app``, plus two pages under /__probe that prove what cookies reach it.

    ``/__probe/set?name=N`` sets the cookie ``probe_N`` (``SameSite=None; Secure``,
    so that a browser would send it inside a cross-site frame unless it blocks
    third-party cookies) and sends the browser on to ``/__probe/read``, which lists
    the names of the cookies the request carried.
    """

    def probe(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        if request.path == f"{PROBE_PREFIX}/set":
            response = Response(
                status=303, headers={"Location": f"{PROBE_PREFIX}/read"}
            )
            response.set_cookie(
                f"probe_{request.args.get('name', 'cookie')}",
                "1",
                secure=True,
                samesite="None",
            )
        else:
            names = " ".join(sorted(request.cookies)) or "none"
            page = (
                f'<!doctype html><title>Cookies</title><p id="cookies">{escape(names)}'
            )
            response = Response(page, mimetype="text/html")
        return response(environ, start_response)

    def dispatch(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("PATH_INFO", "").startswith(PROBE_PREFIX):
            return probe(environ, start_response)
        return app(environ, start_response)

    return dispatch


def landing_site(pages: dict[str, str]) -> WsgiApp:
    """Another organisation's site: each path answers its HTML, others 404."""

    def site(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        body = pages.get(environ.get("PATH_INFO", ""))
        if body is None:
            response = Response("Not here", status=404)
        else:
            response = Response(body, mimetype="text/html")
        return response(environ, start_response)

    return site


def framing_page(title: str, frame_address: str) -> str:
    """A landing page with one iframe, as a marketer pastes the snippet."""
    return (
        f"<!doctype html><title>{escape(title)}</title><h1>{escape(title)}</h1>"
        f'<iframe id="portal" src="{escape(frame_address)}" title="Register" '
        'width="700" height="900"></iframe>'
    )
