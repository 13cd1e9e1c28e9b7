"""What every answer carries: framing rules, error pages, size limits."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from portal.models import Event
from tests.conftest import page


def test_only_the_embeddable_form_may_be_framed(
    client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event()

    embed = client.get(f"/embed/{event.key}/register")
    hosted = client.get(f"/e/{event.key}/register")

    assert "X-Frame-Options" not in embed.headers
    assert "frame-ancestors *" in embed.headers["Content-Security-Policy"]
    assert hosted.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in hosted.headers["Content-Security-Policy"]
    for response in (embed, hosted):
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_public_pages_set_no_cookie(
    client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event()

    response = client.get(f"/embed/{event.key}/register")

    assert "Set-Cookie" not in response.headers


def test_home_page_says_what_the_portal_is(client: FlaskClient) -> None:
    soup = page(client.get("/"))

    assert soup.find("h1").get_text() == "Webinar and event registration"
    assert soup.select_one(".staff-link a")["href"] == "/sign-in"


def test_an_oversized_body_gets_413(
    client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event()

    response = client.post(
        f"/e/{event.key}/register", data={"sf_FirstName": "x" * 100_000}
    )

    assert response.status_code == 413
    soup = page(response)
    assert soup.find("h1").get_text() == "Too much to send"
    assert "larger than this site accepts (64 KB)" in soup.find("main").get_text()


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_other_methods_get_405(
    client: FlaskClient, make_event: Callable[..., Event], method: str
) -> None:
    event = make_event()

    response = getattr(client, method)(f"/e/{event.key}/register")

    assert response.status_code == 405
