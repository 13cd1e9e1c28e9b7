"""Embedding: the sites that may frame the form, and nothing else framed."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from portal.errors import ValidationFailed
from portal.extensions import db
from portal.models import Event
from portal.services.action_sets import site_settings
from portal.services.events import ensure_personal_rooms
from portal.services.framing import parse_embed_origins
from portal.services.tracked_links import LinkPage, build_tracked_link
from tests.conftest import csrf_token, page


def allow_sites(*origins: str) -> None:
    site_settings().embed_origins = list(origins)
    db.session.commit()


def frame_ancestors(response: object) -> str:
    policy = response.headers["Content-Security-Policy"]  # type: ignore[attr-defined]
    (directive,) = [
        part.strip()
        for part in policy.split(";")
        if part.strip().startswith("frame-ancestors")
    ]
    return directive


@pytest.mark.parametrize(
    "address",
    [
        "/embed/{key}/register",
        "/embed/{key}/already-registered",
        # An unknown key inside the frame shows the frame's own 404 page.
        "/embed/no-such-key/register",
    ],
)
def test_embed_pages_may_be_framed_by_the_listed_sites_only(
    client: FlaskClient, make_event: Callable[..., Event], address: str
) -> None:
    event = make_event()
    allow_sites("https://www.example.com", "https://*.partner.example")

    response = client.get(address.format(key=event.key))

    assert frame_ancestors(response) == (
        "frame-ancestors 'self' https://www.example.com https://*.partner.example"
    )
    assert "X-Frame-Options" not in response.headers


def test_a_new_site_lets_no_other_site_frame_the_form(
    client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event()

    response = client.get(f"/embed/{event.key}/register")

    assert frame_ancestors(response) == "frame-ancestors 'self'"
    assert "X-Frame-Options" not in response.headers


@pytest.mark.parametrize(
    "address",
    [
        "/",
        "/e/{key}/register",
        "/e/{key}/join",
        "/room/{room}/join",
        "/e/no-such-key/register",
        "/sign-in",
        "/admin/",
        "/embedded/{key}/register",
    ],
)
def test_every_other_page_refuses_to_be_framed_whatever_the_setting(
    client: FlaskClient, make_event: Callable[..., Event], address: str
) -> None:
    event = make_event()
    room = ensure_personal_rooms(event.owner)[0]
    allow_sites("https://www.example.com")

    response = client.get(address.format(key=event.key, room=room.key))

    assert response.headers["X-Frame-Options"] == "DENY"
    assert frame_ancestors(response) == "frame-ancestors 'none'"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        (["https://www.example.com"], ["https://www.example.com"]),
        ([" HTTPS://WWW.Example.COM/ "], ["https://www.example.com"]),
        (["http://localhost:8080"], ["http://localhost:8080"]),
        (["https://*.example.com"], ["https://*.example.com"]),
        (["https://bücher.example"], ["https://xn--bcher-kva.example"]),
        (["", "https://a.example", "  ", "https://a.example"], ["https://a.example"]),
        ([], []),
    ],
)
def test_allowed_sites_are_normalised(typed: list[str], stored: list[str]) -> None:
    assert parse_embed_origins(typed) == stored


@pytest.mark.parametrize(
    "typed",
    [
        "www.example.com",
        "ftp://files.example.com",
        "https://www.example.com/landing",
        "https://www.example.com?x=1",
        "https://user@www.example.com",
        "https://exa mple.com",
        "https://*",
        "https://example.com:99999",
        "'self' https://a.example",
        "*",
        "https://a.example; script-src *",
    ],
)
def test_anything_but_a_site_address_is_refused(typed: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse_embed_origins(["https://fine.example", typed])

    assert refused.value.field == "embed_origins"
    assert refused.value.message.startswith("Line 2:")


def test_the_admin_lists_the_sites_on_the_settings_page(
    admin_client: FlaskClient, client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event()
    box = page(admin_client.get("/admin/settings")).find("textarea")
    assert box["name"] == "embed_origins"

    response = admin_client.post(
        "/admin/settings",
        data={
            "csrf_token": csrf_token(admin_client, "/admin/settings"),
            "campaign_influence": "none",
            "enabled_session_types": ["webinar"],
            "embed_origins": "https://www.example.com\r\nhttps://events.example.org/",
        },
    )

    assert response.status_code == 303
    shown = page(admin_client.get("/admin/settings")).find("textarea").get_text()
    assert shown.strip() == "https://www.example.com\nhttps://events.example.org"
    assert frame_ancestors(client.get(f"/embed/{event.key}/register")) == (
        "frame-ancestors 'self' https://www.example.com https://events.example.org"
    )


def test_a_bad_site_is_refused_next_to_the_box(admin_client: FlaskClient) -> None:
    response = admin_client.post(
        "/admin/settings",
        data={
            "csrf_token": csrf_token(admin_client, "/admin/settings"),
            "campaign_influence": "none",
            "enabled_session_types": ["webinar"],
            "embed_origins": "https://www.example.com/landing-page",
        },
    )

    assert response.status_code == 422
    error = page(response).find(id="embed_origins-error").get_text()
    assert "is not a site address" in error
    assert site_settings().embed_origins == []


def test_the_embed_link_builder_says_which_sites_may_frame_it(
    make_event: Callable[..., Event],
) -> None:
    event = make_event()

    before = build_tracked_link(event, LinkPage.EMBED, {})
    allow_sites("https://www.example.com")
    after = build_tracked_link(event, LinkPage.EMBED, {})

    assert before.notices == (
        "No site can show the form in a frame yet: an admin lists the sites that "
        "may under Settings.",
    )
    assert after.notices == (
        "Only these sites can show the form in a frame: https://www.example.com. "
        "An admin changes the list under Settings.",
    )
