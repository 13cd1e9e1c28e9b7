"""The direct join page, personal join links and personal rooms."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from portal.extensions import db
from portal.models import (
    Activity,
    ActivityKind,
    Event,
    Registrant,
    Role,
    RoomKind,
    User,
)
from tests.conftest import form_values, page
from tests.test_registration_pages import fill


def joins() -> list[Activity]:
    return list(
        db.session.scalars(
            sa.select(Activity)
            .where(Activity.kind == ActivityKind.JOIN)
            .order_by(Activity.id)
        )
    )


def register(client: FlaskClient, event: Event, **answers: str) -> Registrant:
    url = f"/e/{event.key}/register"
    client.post(url, data=fill(form_values(page(client.get(url))), **answers))
    return db.session.scalars(
        sa.select(Registrant).order_by(Registrant.id.desc())
    ).first()


def test_join_records_a_join_and_opens_the_meeting(
    client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event(join_url="https://meet.example.com/j/987")
    url = f"/e/{event.key}/join?sf_LeadSource=Email+Footer"
    values = form_values(page(client.get(url)))

    response = client.post(url, data=fill(values))

    assert response.status_code == 303
    assert response.headers["Location"] == "https://meet.example.com/j/987"
    (join,) = joins()
    assert join.event_id == event.id
    assert join.registrant.email == "ada@example.com"
    assert join.registrant.registered_at is None
    assert {"field": "Lead Source", "value": "Email Footer"}.items() <= next(
        answer for answer in join.payload["answers"] if answer["field"] == "Lead Source"
    ).items()


def test_join_form_has_the_same_fields_and_prefill_as_registration(
    client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event()

    soup = page(client.get(f"/e/{event.key}/join?sf_LeadSource=Newsletter"))

    assert soup.find("input", attrs={"name": "sf_LeadSource"})["value"] == "Newsletter"
    assert soup.find("input", attrs={"name": "sf_Email"})["type"] == "email"
    assert soup.find("button").get_text(strip=True) == "Join now"


def test_the_same_join_form_sent_twice_records_one_join(
    client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event()
    url = f"/e/{event.key}/join"
    data = fill(form_values(page(client.get(url))))

    first = client.post(url, data=data)
    second = client.post(url, data=data)

    assert first.status_code == second.status_code == 303
    assert len(joins()) == 1


def test_two_visits_record_two_joins_for_one_registrant(
    client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event()
    url = f"/e/{event.key}/join"

    for _ in range(2):
        client.post(url, data=fill(form_values(page(client.get(url)))))

    first, second = joins()
    assert first.registrant_id == second.registrant_id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Registrant)) == 1


def test_join_after_registering_uses_the_registration(
    client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event()
    registrant = register(client, event)
    url = f"/e/{event.key}/join"

    client.post(
        url, data=fill(form_values(page(client.get(url))), sf_Email="ADA@example.com")
    )

    (join,) = joins()
    assert join.registrant_id == registrant.id


def test_personal_join_link_needs_no_form(
    client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event()
    registrant = register(client, event)
    url = f"/e/{event.key}/join?t={registrant.token}"

    soup = page(client.get(url))
    assert soup.select_one(".joining-as").get_text(strip=True) == (
        "You are joining as Ada Lovelace (ada@example.com)."
    )
    assert soup.find("input", attrs={"name": "sf_Email"}) is None
    response = client.post(url, data=form_values(soup))

    assert response.status_code == 303
    assert response.headers["Location"] == event.join_url
    (join,) = joins()
    assert join.registrant_id == registrant.id


def test_opening_a_personal_link_records_nothing_until_the_button(
    client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event()
    registrant = register(client, event)

    client.get(f"/e/{event.key}/join?t={registrant.token}")

    assert joins() == []


def test_personal_link_of_another_session_shows_the_form(
    client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event, other = make_event(), make_event()
    registrant = register(client, other)

    soup = page(client.get(f"/e/{event.key}/join?t={registrant.token}"))

    assert "does not belong to this session" in soup.select_one(".notice").get_text()
    assert soup.find("input", attrs={"name": "sf_Email"}) is not None


@pytest.mark.parametrize("personal_link", [False, True])
def test_password_protected_session_asks_for_the_password(
    client: FlaskClient, make_event: Callable[..., Event], personal_link: bool
) -> None:
    event = make_event(join_password="open sesame")
    url = f"/e/{event.key}/join"
    if personal_link:
        url += f"?t={register(client, event).token}"
    soup = page(client.get(url))
    password = soup.find("input", attrs={"name": "join_password"})
    assert password["type"] == "password"
    assert soup.find("label", attrs={"for": "join_password"}) is not None
    data = fill(form_values(soup)) if not personal_link else form_values(soup)

    wrong = client.post(url, data={**data, "join_password": "open barley"})
    right = client.post(url, data={**data, "join_password": "open sesame"})

    assert wrong.status_code == 422
    assert (
        "not this session's password"
        in page(wrong).select_one(".field-error").get_text()
    )
    assert right.status_code == 303
    assert len(joins()) == 1


def test_session_without_a_meeting_address_says_so(
    client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event(join_url="")

    response = client.get(f"/e/{event.key}/join")

    assert response.status_code == 200
    soup = page(response)
    assert soup.find("form") is None
    assert (
        "has not added the meeting's address" in soup.select_one(".notice").get_text()
    )


@pytest.mark.parametrize("kind", list(RoomKind))
def test_personal_room_has_a_join_page_only(
    client: FlaskClient, make_user: Callable[..., User], kind: RoomKind
) -> None:
    host = make_user(role=Role.HOST)
    room = db.session.scalar(
        sa.select(Event).where(Event.owner_id == host.id, Event.room_kind == kind)
    )
    room.join_url = "https://meet.example.com/room/1"
    db.session.commit()
    url = f"/room/{room.key}/join"

    response = client.post(url, data=fill(form_values(page(client.get(url)))))

    assert response.status_code == 303
    assert response.headers["Location"] == "https://meet.example.com/room/1"
    assert len(joins()) == 1
    assert client.get(f"/e/{room.key}/register").status_code == 404
    assert client.get(f"/e/{room.key}/join").status_code == 404
    assert client.get(f"/embed/{room.key}/register").status_code == 404


def test_a_session_key_is_not_a_room(
    client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event()

    assert client.get(f"/room/{event.key}/join").status_code == 404


def test_join_page_lets_its_form_lead_to_the_meeting(
    client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event(join_url="https://meet.example.com:8443/j/987?pwd=x")

    policy = client.get(f"/e/{event.key}/join").headers["Content-Security-Policy"]

    # Browsers hold a form's whole redirect chain to form-action, and a meeting's
    # address may redirect anywhere, so the join page names no form-action.
    assert "form-action" not in policy
    assert "frame-ancestors 'none'" in policy


def test_registration_page_forms_stay_on_the_portal(
    client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event()

    policy = client.get(f"/e/{event.key}/register").headers["Content-Security-Policy"]

    assert "form-action 'self';" in policy


def test_the_same_join_form_sent_with_another_email_is_another_join(
    client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event()
    url = f"/e/{event.key}/join"
    values = form_values(page(client.get(url)))

    client.post(url, data=fill(values, sf_Email="ada@exmaple.com"))
    client.post(url, data=fill(values, sf_Email="ada@example.com"))

    assert sorted(join.registrant.email for join in joins()) == [
        "ada@example.com",
        "ada@exmaple.com",
    ]


@pytest.mark.parametrize("address", ["/e/{key}/join", "/e/{key}/register"])
def test_head_requests_show_the_page_and_record_nothing(
    client: FlaskClient, make_event: Callable[..., Event], address: str
) -> None:
    event = make_event()

    response = client.head(address.format(key=event.key), data=fill({}))

    assert response.status_code == 200
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Activity)) == 0
