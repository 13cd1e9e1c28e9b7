"""Abuse: rate limits per client, proxies, the honeypot, and repeated submissions."""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from portal.extensions import db
from portal.models import Activity, ActivityKind, Event, Registrant
from portal.services.events import ensure_personal_rooms
from tests.conftest import form_values, page
from tests.test_registration_pages import fill

PUBLIC_POSTS = ["/e/{key}/register", "/embed/{key}/register", "/e/{key}/join"]


def count(model: Any, *conditions: Any) -> int:
    statement = sa.select(sa.func.count()).select_from(model).where(*conditions)
    return db.session.scalar(statement) or 0


def post_from(client: FlaskClient, url: str, address: str, **headers: str) -> Any:
    """A form sent from the client address ``address`` (an empty, refused form)."""
    return client.post(url, environ_base={"REMOTE_ADDR": address}, headers=headers)


@pytest.fixture
def limited(make_app: Callable[..., Flask]) -> Callable[..., FlaskClient]:
    """A client of an application whose public forms take 3 POSTs a minute."""

    def make(**settings: Any) -> FlaskClient:
        application = make_app(
            RATELIMIT_ENABLED=True,
            RATELIMIT_PUBLIC_FORMS="3 per minute",
            RATELIMIT_SIGN_IN="2 per minute",
            **settings,
        )
        return application.test_client()

    return make


# Rate limits


@pytest.mark.parametrize("address", PUBLIC_POSTS)
def test_a_client_sending_too_many_forms_gets_a_429_page(
    limited: Callable[..., FlaskClient],
    make_event: Callable[..., Event],
    address: str,
) -> None:
    event = make_event()
    client = limited()
    url = address.format(key=event.key)

    answers = [client.post(url).status_code for _ in range(4)]

    assert answers == [422, 422, 422, 429]
    refused = client.post(url)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    soup = page(refused)
    assert soup.h1.get_text() == "Too many attempts"
    assert "wait a minute" in soup.get_text()
    assert client.get(url).status_code == 200


def test_the_public_forms_share_one_budget_per_client(
    limited: Callable[..., FlaskClient], make_event: Callable[..., Event]
) -> None:
    event = make_event()
    client = limited()

    for address in PUBLIC_POSTS:
        assert client.post(address.format(key=event.key)).status_code == 422

    assert client.post(f"/e/{event.key}/register").status_code == 429
    room = ensure_personal_rooms(event.owner)[0]
    assert client.post(f"/room/{room.key}/join").status_code == 429


def test_the_429_inside_the_frame_keeps_the_frame_layout_and_may_be_framed(
    limited: Callable[..., FlaskClient], make_event: Callable[..., Event]
) -> None:
    event = make_event()
    client = limited()
    url = f"/embed/{event.key}/register"
    for _ in range(3):
        client.post(url)

    refused = client.post(url)

    assert refused.status_code == 429
    assert page(refused).body["class"] == ["embedded"]
    assert page(refused).find(class_="site-header") is None
    assert "X-Frame-Options" not in refused.headers
    assert "frame-ancestors 'self'" in refused.headers["Content-Security-Policy"]


def test_a_breach_is_logged_with_the_client_address(
    limited: Callable[..., FlaskClient],
    make_event: Callable[..., Event],
    caplog: pytest.LogCaptureFixture,
) -> None:
    event = make_event()
    client = limited()
    url = f"/e/{event.key}/register"

    for _ in range(4):
        post_from(client, url, "198.51.100.7")

    breaches = [r for r in caplog.records if r.name == "portal.rate_limits"]
    assert [r.getMessage() for r in breaches] == [
        f"Rate limit 3 per 1 minute reached by 198.51.100.7 on {url}"
    ]


def test_sign_in_attempts_are_limited_too(
    limited: Callable[..., FlaskClient],
) -> None:
    client = limited()
    values = form_values(page(client.get("/sign-in")))
    guess = {**values, "email": "admin@example.com", "password": "guess"}

    answers = [client.post("/sign-in", data=guess).status_code for _ in range(3)]

    assert answers == [422, 422, 429]


def test_the_sign_in_429_page_speaks_of_sign_in_in_the_staff_layout(
    limited: Callable[..., FlaskClient],
) -> None:
    client = limited()
    values = form_values(page(client.get("/sign-in")))
    guess = {**values, "email": "admin@example.com", "password": "guess"}
    for _ in range(2):
        client.post("/sign-in", data=guess)

    refused = client.post("/sign-in", data=guess)

    assert refused.status_code == 429
    soup = page(refused)
    text = soup.get_text(" ", strip=True)
    assert (
        "Too many sign-in attempts from your address. Wait a minute and try again."
        in text
    )
    assert "sign-ups" not in text
    assert "Registration by Portal" not in text
    assert soup.find(class_="site-footer") is None
    assert soup.body["class"] == ["admin"]
    assert soup.select_one(".brand").get_text() == "Portal admin"


def test_the_sign_in_page_has_the_staff_layout_without_the_attendee_footer(
    client: FlaskClient,
) -> None:
    soup = page(client.get("/sign-in"))

    assert soup.find(class_="site-footer") is None
    assert soup.select_one(".brand").get_text() == "Portal admin"


def test_an_admin_error_page_keeps_the_admin_layout(
    admin_client: FlaskClient,
) -> None:
    soup = page(admin_client.get("/admin/sessions/999999"))

    assert soup.find(class_="site-footer") is None
    assert soup.select_one(".admin-nav") is not None


def test_without_trusted_proxies_x_forwarded_for_is_ignored(
    limited: Callable[..., FlaskClient], make_event: Callable[..., Event]
) -> None:
    event = make_event()
    client = limited()
    url = f"/e/{event.key}/register"

    answers = [
        post_from(client, url, "192.0.2.1", **{"X-Forwarded-For": f"203.0.113.{n}"})
        for n in range(4)
    ]

    assert [answer.status_code for answer in answers] == [422, 422, 422, 429]


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_budget(
    limited: Callable[..., FlaskClient], make_event: Callable[..., Event]
) -> None:
    event = make_event()
    client = limited(TRUSTED_PROXIES=1)
    url = f"/e/{event.key}/register"

    def send(forwarded_for: str) -> int:
        headers = {"X-Forwarded-For": forwarded_for}
        return post_from(client, url, "192.0.2.1", **headers).status_code

    first = [send("203.0.113.5") for _ in range(4)]
    other = send("203.0.113.6")
    # What the client itself put in front of the proxy's entry does not count.
    spoofed = send("10.9.9.9, 203.0.113.5")

    assert first == [422, 422, 422, 429]
    assert other == 422
    assert spoofed == 429


def test_two_trusted_proxies_take_the_second_entry_from_the_right(
    limited: Callable[..., FlaskClient], make_event: Callable[..., Event]
) -> None:
    event = make_event()
    client = limited(TRUSTED_PROXIES=2)
    url = f"/e/{event.key}/register"
    headers = {"X-Forwarded-For": "203.0.113.5, 10.0.0.2"}

    answers = [post_from(client, url, "192.0.2.1", **headers) for _ in range(4)]
    elsewhere = post_from(
        client, url, "192.0.2.1", **{"X-Forwarded-For": "203.0.113.9, 10.0.0.2"}
    )

    assert answers[-1].status_code == 429
    assert elsewhere.status_code == 422


def _redis_url() -> str:
    url = "redis://127.0.0.1:6379/0"
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        message = "Redis is not running at 127.0.0.1:6379"
        if os.environ.get("PORTAL_TEST_REQUIRE_TOOLS"):
            pytest.fail(message)
        pytest.skip(message)
    return url


def test_processes_sharing_redis_share_the_counts(
    limited: Callable[..., FlaskClient], make_event: Callable[..., Event]
) -> None:
    settings = {
        "RATELIMIT_STORAGE_URI": _redis_url(),
        # Each run counts apart from every other run on the same server.
        "RATELIMIT_KEY_PREFIX": f"portal-test-{uuid.uuid4().hex}",
    }
    event = make_event()
    url = f"/e/{event.key}/register"
    first, second = limited(**settings), limited(**settings)

    answers = [first.post(url).status_code, second.post(url).status_code]
    answers += [first.post(url).status_code, second.post(url).status_code]

    assert answers == [422, 422, 422, 429]


def test_a_storage_that_is_down_falls_back_to_counting_in_memory(
    limited: Callable[..., FlaskClient], make_event: Callable[..., Event]
) -> None:
    # Nothing listens on port 1: every connection is refused at once.
    client = limited(RATELIMIT_STORAGE_URI="redis://127.0.0.1:1")
    url = f"/e/{make_event().key}/register"

    answers = [client.post(url).status_code for _ in range(4)]

    assert answers == [422, 422, 422, 429]


# The honeypot


def test_the_honeypot_is_off_the_page_out_of_reach_and_not_inline_styled(
    client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event()

    soup = page(client.get(f"/e/{event.key}/register"))

    box = soup.find("input", attrs={"name": "comments"})
    wrapper = box.find_parent("div")
    assert wrapper["class"] == ["form-extra"]
    assert wrapper["aria-hidden"] == "true"
    assert box["tabindex"] == "-1"
    assert box["autocomplete"] == "off"
    assert box["type"] == "text"
    assert soup.find(attrs={"style": True}) is None
    assert soup.find("label", attrs={"for": box["id"]}) is not None


@pytest.mark.parametrize("address", ["/e/{key}/register", "/embed/{key}/register"])
def test_a_bot_filling_the_honeypot_sees_success_and_nothing_is_stored(
    client: FlaskClient,
    make_event: Callable[..., Event],
    caplog: pytest.LogCaptureFixture,
    address: str,
) -> None:
    event = make_event()
    url = address.format(key=event.key)
    data = fill(form_values(page(client.get(url))), comments="Buy cheap watches")

    response = client.post(url, data=data)

    assert response.status_code == 200
    assert "your registration has been received" in page(response).get_text()
    assert count(Registrant) == 0
    assert count(Activity) == 0
    (warning,) = [r for r in caplog.records if r.levelname == "WARNING"]
    assert warning.getMessage() == (
        f"Honeypot filled on {url} for event {event.id} from 127.0.0.1; "
        "nothing recorded"
    )
    assert "ada@example.com" not in caplog.text


def test_a_bot_on_the_join_page_is_sent_to_the_meeting_and_nothing_is_stored(
    client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event(join_url="https://meet.example.com/j/55")
    url = f"/e/{event.key}/join"
    data = fill(form_values(page(client.get(url))), comments="http://spam.example")

    response = client.post(url, data=data)

    assert response.status_code == 303
    assert response.headers["Location"] == "https://meet.example.com/j/55"
    assert count(Registrant) == 0
    assert count(Activity) == 0


def test_a_honeypot_of_only_spaces_is_a_person(
    client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event()
    url = f"/e/{event.key}/register"

    response = client.post(
        url, data=fill(form_values(page(client.get(url))), comments="  ")
    )

    assert response.status_code == 303
    assert count(Registrant) == 1


# The same submission twice, at the same moment


def _send_together(app: Flask, url: str, data: dict[str, str], times: int) -> list:
    """Send ``data`` to ``url`` from ``times`` threads released at once."""
    start = threading.Barrier(times)
    answers: list[tuple[int, str]] = []

    def submit() -> None:
        with app.app_context():
            client = app.test_client()
            start.wait()
            response = client.post(url, data=data)
            answers.append((response.status_code, response.headers.get("Location")))
            db.session.remove()

    threads = [threading.Thread(target=submit) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


@pytest.mark.parametrize("address", ["/e/{key}/register", "/embed/{key}/register"])
def test_one_form_sent_four_times_at_once_makes_one_registration(
    app: Flask, make_event: Callable[..., Event], address: str
) -> None:
    event = make_event()
    url = address.format(key=event.key)
    data = fill(form_values(page(app.test_client().get(url))))

    answers = _send_together(app, url, data, times=4)

    (registrant,) = db.session.scalars(sa.select(Registrant)).all()
    assert {answer for answer in answers} == {
        (303, f"{url.rsplit('/', 1)[0]}/registered/{registrant.token}")
    }
    assert count(Activity, Activity.kind == ActivityKind.REGISTER) == 1


def test_one_join_form_sent_four_times_at_once_records_one_join(
    app: Flask, make_event: Callable[..., Event]
) -> None:
    event = make_event(join_url="https://meet.example.com/j/77")
    url = f"/e/{event.key}/join"
    data = fill(form_values(page(app.test_client().get(url))))

    answers = _send_together(app, url, data, times=4)

    assert answers == [(303, "https://meet.example.com/j/77")] * 4
    assert count(Registrant) == 1
    assert count(Activity, Activity.kind == ActivityKind.JOIN) == 1
