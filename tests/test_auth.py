"""Signing in and out, and who may open what in the admin area."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from portal.extensions import db
from portal.models import Event, Role, User
from tests.conftest import csrf_token, page, sign_in


def test_admin_pages_send_visitors_to_sign_in(client: FlaskClient) -> None:
    response = client.get("/admin/rooms?x=1")

    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in?next=/admin/rooms?x%3D1"


def test_signing_in_leads_where_the_visitor_was_going(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    make_user(role=Role.ADMIN, email="boss@example.com")
    values = {
        name: value
        for name, value in (
            (element["name"], element.get("value", ""))
            for element in page(client.get("/sign-in?next=/admin/rooms")).select(
                "input"
            )
        )
    }

    response = client.post(
        "/sign-in",
        data={
            **values,
            "email": "Boss@Example.com ",
            "password": "correct horse battery",
        },
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/rooms"
    assert "HttpOnly" in response.headers["Set-Cookie"]
    assert "SameSite=Lax" in response.headers["Set-Cookie"]
    assert client.get("/admin/rooms").status_code == 200


@pytest.mark.parametrize("password", ["wrong password", ""])
def test_a_wrong_password_says_so_next_to_the_field(
    client: FlaskClient, make_user: Callable[..., User], password: str
) -> None:
    make_user(role=Role.ADMIN, email="boss@example.com")

    response = sign_in(client, "boss@example.com", password)

    assert response.status_code == 422
    assert page(response).find(id="password-error") is not None
    assert client.get("/admin/").status_code == 302


def test_an_unknown_email_gets_the_same_answer(client: FlaskClient) -> None:
    response = sign_in(client, "nobody@example.com")

    assert response.status_code == 422
    assert (
        "do not match an account" in page(response).find(id="password-error").get_text()
    )


def test_an_overlong_email_says_how_long_it_may_be(client: FlaskClient) -> None:
    response = sign_in(client, "a" * 5000 + "@example.com")

    assert response.status_code == 422
    assert page(response).find(id="email-error").get_text(" ", strip=True) == (
        "Email can be at most 254 characters."
    )


def test_an_inactive_account_cannot_sign_in(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user(role=Role.ADMIN, email="gone@example.com")
    user.is_active = False
    db.session.commit()

    assert sign_in(client, "gone@example.com").status_code == 422


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/path",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
        "/admin/\r\nSet-Cookie: x=1",
        "/\t/evil.example",
        "  //evil.example",
        "https:evil.example",
        "evil.example/admin/",
    ],
)
def test_the_next_address_only_ever_leads_back_to_the_portal(
    client: FlaskClient, make_user: Callable[..., User], target: str
) -> None:
    make_user(role=Role.ADMIN, email="boss@example.com")
    values = {
        element["name"]: element.get("value", "")
        for element in page(client.get("/sign-in")).select("input")
    }

    response = client.post(
        "/sign-in",
        data={
            **values,
            "next": target,
            "email": "boss@example.com",
            "password": "correct horse battery",
        },
    )

    assert response.headers["Location"] == "/admin/"


def test_signing_out_needs_the_form_token(admin_client: FlaskClient) -> None:
    forged = admin_client.post("/sign-out")
    assert forged.status_code == 400
    assert admin_client.get("/admin/").status_code == 200

    token = csrf_token(admin_client, "/admin/")
    response = admin_client.post("/sign-out", data={"csrf_token": token})

    assert response.headers["Location"] == "/sign-in"
    sign_in_page = page(admin_client.get("/sign-in"))
    assert sign_in_page.select_one(".flash").get_text() == "You are signed out."
    assert admin_client.get("/admin/").status_code == 302


def test_a_host_sees_only_their_own_sessions(
    host_client: tuple[FlaskClient, User],
    make_event: Callable[..., Event],
    make_user: Callable[..., User],
) -> None:
    client, host = host_client
    own = make_event(host, title="Mine")
    other = make_event(make_user(role=Role.HOST), title="Somebody else's")

    listing = page(client.get("/admin/"))

    titles = [link.get_text() for link in listing.select(".data-table a")]
    assert titles == ["Mine"]
    assert client.get(f"/admin/sessions/{own.id}").status_code == 200
    assert client.get(f"/admin/sessions/{other.id}").status_code == 403
    assert client.get("/admin/sessions/999999").status_code == 404


def test_an_admin_sees_every_session(
    admin_client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    first, second = make_event(title="One"), make_event(title="Two")

    titles = {
        link.get_text()
        for link in page(admin_client.get("/admin/")).select(".data-table a")
    }

    assert titles == {"One", "Two"}
    assert admin_client.get(f"/admin/sessions/{first.id}").status_code == 200
    assert admin_client.get(f"/admin/sessions/{second.id}").status_code == 200


def test_the_session_page_shows_three_addresses_and_an_escaped_snippet(
    admin_client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event(title='Quotes " and <tags>')

    soup = page(admin_client.get(f"/admin/sessions/{event.id}"))

    addresses = [code.get_text() for code in soup.select(".addresses code")]
    assert addresses == [
        f"http://portal.test/e/{event.key}/join",
        f"http://portal.test/e/{event.key}/register",
        f"http://portal.test/embed/{event.key}/register",
    ]
    snippet = soup.find(id="embed-snippet").get_text()
    assert snippet.startswith(
        f'<iframe src="http://portal.test/embed/{event.key}/register"'
    )
    assert 'title="Register for Quotes &quot; and &lt;tags&gt;"' in snippet
    assert len(soup.select("button[data-copy-target]")) == 4


def test_admin_pages_refuse_to_be_framed(admin_client: FlaskClient) -> None:
    response = admin_client.get("/admin/")

    assert response.headers["X-Frame-Options"] == "DENY"
