"""What every answer carries: framing rules, error pages, size limits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from portal.models import Event, Role, User
from tests.conftest import form_values, page, sign_in
from tests.test_registration_pages import fill


def test_only_the_embeddable_form_may_be_framed(
    client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event()

    embed = client.get(f"/embed/{event.key}/register")
    hosted = client.get(f"/e/{event.key}/register")

    assert "X-Frame-Options" not in embed.headers
    assert "frame-ancestors 'self'" in embed.headers["Content-Security-Policy"]
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


@pytest.mark.parametrize(
    ("settings", "base_url", "headers", "expected"),
    [
        ({}, "https://portal.test", {}, "max-age=31536000"),
        ({}, "http://portal.test", {}, None),
        # A client cannot claim HTTPS unless a trusted proxy says so.
        ({}, "http://portal.test", {"X-Forwarded-Proto": "https"}, None),
        (
            {"TRUSTED_PROXIES": 1},
            "http://portal.test",
            {"X-Forwarded-Proto": "https"},
            "max-age=31536000",
        ),
        ({"HSTS_MAX_AGE": 600}, "https://portal.test", {}, "max-age=600"),
        ({"HSTS_MAX_AGE": 0}, "https://portal.test", {}, None),
    ],
)
def test_hsts_is_sent_only_over_https(
    make_app: Callable[..., Flask],
    make_event: Callable[..., Event],
    settings: dict[str, Any],
    base_url: str,
    headers: dict[str, str],
    expected: str | None,
) -> None:
    event = make_event()
    client = make_app(**settings).test_client()

    response = client.get(
        f"/e/{event.key}/register", base_url=base_url, headers=headers
    )

    assert response.headers.get("Strict-Transport-Security") == expected


@pytest.mark.parametrize(
    ("public_url", "is_secure"),
    [("https://events.example.com", True), ("http://127.0.0.1:5000", False)],
)
def test_the_staff_cookie_is_http_only_lax_and_secure_over_https(
    make_app: Callable[..., Flask],
    make_user: Callable[..., User],
    public_url: str,
    is_secure: bool,
) -> None:
    admin = make_user(role=Role.ADMIN)
    client = make_app(PUBLIC_URL=public_url).test_client()

    response = sign_in(client, admin.email)

    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert ("Secure" in cookie) is is_secure


@pytest.mark.parametrize(
    "address", ["/e/{key}/register", "/embed/{key}/register", "/e/{key}/join"]
)
def test_sending_a_public_form_sets_no_cookie(
    client: FlaskClient, make_event: Callable[..., Event], address: str
) -> None:
    event = make_event()
    url = address.format(key=event.key)

    shown = client.get(url)
    sent = client.post(url, data=fill(form_values(page(shown))))
    refused = client.post(url, data={"sf_Email": "x"})

    assert sent.status_code == 303
    assert refused.status_code == 422
    for response in (shown, sent, refused):
        assert "Set-Cookie" not in response.headers
