"""Locked fields: prefilled only by links the tracked-link builder signed."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from portal.extensions import db
from portal.models import Activity, ActivityKind, Event, FieldDefinition, Registrant
from portal.services.fields import effective_list
from portal.services.tracked_links import LinkPage, build_tracked_link
from tests.conftest import form_values, page
from tests.test_admin_fields import field_form, form_data
from tests.test_registration_pages import fill

PAGES = {
    LinkPage.REGISTER: "/e/{key}/register",
    LinkPage.EMBED: "/embed/{key}/register",
    LinkPage.JOIN: "/e/{key}/join",
}


def lead_source(event: Event) -> FieldDefinition:
    return next(
        definition
        for definition in effective_list(event).definitions
        if definition.display_name == "Lead Source"
    )


@pytest.fixture
def locked_event(make_event: Callable[..., Event]) -> Event:
    """A webinar whose hidden Lead Source (default "Web") is locked."""
    event = make_event()
    lead_source(event).is_locked = True
    db.session.commit()
    return event


def path_of(address: str) -> str:
    parts = urlsplit(address)
    return f"{parts.path}?{parts.query}"


def with_query(address: str, **changes: str | None) -> str:
    """``address`` with some parameters changed (None removes one)."""
    parts = urlsplit(address)
    query = dict(parse_qsl(parts.query))
    for name, value in changes.items():
        if value is None:
            query.pop(name, None)
        else:
            query[name] = value
    return f"{parts.path}?{urlencode(query)}"


def register_through(client: FlaskClient, address: str, **answers: str) -> Registrant:
    """Open ``address``, send its form, and return the registrant it made."""
    url = urlsplit(address).path
    values = form_values(page(client.get(address)))
    response = client.post(url, data=fill(values, **answers))
    assert response.status_code == 303, page(response).get_text()
    return db.session.scalars(sa.select(Registrant)).one()


@pytest.mark.parametrize("page_kind", [LinkPage.REGISTER, LinkPage.EMBED])
def test_a_signed_link_fills_a_locked_field(
    client: FlaskClient, locked_event: Event, page_kind: LinkPage
) -> None:
    link = build_tracked_link(
        locked_event, page_kind, {"sf_LeadSource": "Partner Webinar"}
    )
    assert "&sig=" in link.address

    registrant = register_through(client, path_of(link.address))

    assert registrant.answer("Lead Source") == "Partner Webinar"


def test_a_locked_field_has_no_input_for_anyone_to_change(
    client: FlaskClient, locked_event: Event
) -> None:
    link = build_tracked_link(
        locked_event, LinkPage.REGISTER, {"sf_LeadSource": "Partner"}
    )

    soup = page(client.get(path_of(link.address)))

    assert soup.find(attrs={"name": "sf_LeadSource"}) is None
    assert "Partner" not in soup.get_text()


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param({"sf_LeadSource": "Spoofed"}, id="value edited"),
        pytest.param({"sig": None}, id="signature removed"),
        pytest.param({"sig": "not-a-signature"}, id="signature replaced"),
        pytest.param({"sf_Title": "Boss"}, id="another value added"),
    ],
)
def test_an_edited_or_unsigned_link_leaves_the_locked_field_on_its_default(
    client: FlaskClient,
    locked_event: Event,
    tamper: dict[str, str | None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    link = build_tracked_link(
        locked_event, LinkPage.REGISTER, {"sf_LeadSource": "Partner"}
    )

    registrant = register_through(client, with_query(link.address, **tamper))

    assert registrant.answer("Lead Source") == "Web"
    assert "Kept the defaults of locked fields Lead Source" in caplog.text


@pytest.mark.parametrize(
    "repeated",
    [
        pytest.param("sf_LeadSource=Evil", id="locked value repeated after"),
        pytest.param("sf_leadsource=Evil", id="repeated in other letter case"),
        pytest.param("sig={sig}", id="signature repeated"),
    ],
)
def test_a_signed_link_with_a_repeated_parameter_counts_as_edited(
    client: FlaskClient,
    locked_event: Event,
    repeated: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    link = build_tracked_link(
        locked_event, LinkPage.REGISTER, {"sf_LeadSource": "Partner"}
    )
    signature = dict(parse_qsl(urlsplit(link.address).query))["sig"]
    address = f"{path_of(link.address)}&{repeated.format(sig=signature)}"

    registrant = register_through(client, address)

    assert registrant.answer("Lead Source") == "Web"
    assert "Kept the defaults of locked fields Lead Source" in caplog.text


def test_a_hand_written_link_cannot_fill_a_locked_field_but_fills_the_others(
    client: FlaskClient, locked_event: Event
) -> None:
    address = f"/e/{locked_event.key}/register?sf_LeadSource=Spoofed&sf_Title=Engineer"

    registrant = register_through(client, address)

    assert registrant.answer("Lead Source") == "Web"
    assert registrant.answer("Title") == "Engineer"


def test_a_signature_made_for_another_session_does_not_hold(
    client: FlaskClient, locked_event: Event, make_event: Callable[..., Event]
) -> None:
    other = make_event(title="Another webinar")
    lead_source(other).is_locked = True
    db.session.commit()
    signed_elsewhere = build_tracked_link(
        other, LinkPage.REGISTER, {"sf_LeadSource": "Partner"}
    )
    query = urlsplit(signed_elsewhere.address).query

    registrant = register_through(client, f"/e/{locked_event.key}/register?{query}")

    assert registrant.answer("Lead Source") == "Web"


def test_a_value_posted_for_a_locked_field_is_ignored(
    client: FlaskClient, locked_event: Event
) -> None:
    link = build_tracked_link(
        locked_event, LinkPage.REGISTER, {"sf_LeadSource": "Partner"}
    )

    registrant = register_through(
        client, path_of(link.address), sf_LeadSource="Spoofed in the body"
    )

    assert registrant.answer("Lead Source") == "Partner"


def test_a_locked_value_survives_an_expired_form(
    make_app: Callable[..., Flask], client: FlaskClient, locked_event: Event
) -> None:
    impatient = make_app(FORM_TOKEN_MAX_AGE=-1).test_client()
    link = build_tracked_link(
        locked_event, LinkPage.REGISTER, {"sf_LeadSource": "Partner"}
    )
    url = f"/e/{locked_event.key}/register"
    shown = form_values(page(impatient.get(path_of(link.address))))
    expired = impatient.post(url, data=fill(shown))
    assert expired.status_code == 422

    response = client.post(url, data=form_values(page(expired)))

    assert response.status_code == 303
    registrant = db.session.scalars(sa.select(Registrant)).one()
    assert registrant.answer("Lead Source") == "Partner"


def test_a_signed_join_link_fills_the_locked_field_of_the_join(
    client: FlaskClient, locked_event: Event
) -> None:
    link = build_tracked_link(locked_event, LinkPage.JOIN, {"sf_LeadSource": "Mail"})
    values = form_values(page(client.get(path_of(link.address))))

    response = client.post(f"/e/{locked_event.key}/join", data=fill(values))

    assert response.status_code == 303
    join = db.session.scalars(
        sa.select(Activity).where(Activity.kind == ActivityKind.JOIN)
    ).one()
    assert join.registrant.answer("Lead Source") == "Mail"


def test_a_signed_picklist_value_is_still_checked_against_the_options(
    client: FlaskClient, locked_event: Event
) -> None:
    industry = next(
        definition
        for definition in effective_list(locked_event).definitions
        if definition.display_name == "Industry"
    )
    industry.is_hidden = industry.is_locked = True
    db.session.commit()
    link = build_tracked_link(
        locked_event, LinkPage.REGISTER, {"sf_Industry": "Something else"}
    )

    registrant = register_through(client, path_of(link.address))

    assert registrant.answer("Industry") == "Other"


def test_links_to_sessions_without_locked_fields_carry_no_signature(
    make_event: Callable[..., Event],
) -> None:
    link = build_tracked_link(
        make_event(), LinkPage.REGISTER, {"sf_LeadSource": "Partner"}
    )

    assert "sig=" not in link.address


# The field editor


def test_the_admin_locks_a_hidden_field_in_the_field_editor(
    admin_client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event()
    definition = lead_source(event)
    address = f"/admin/sessions/{event.id}/fields/{definition.id}"
    data = form_data(field_form(page(admin_client.get(address))))

    response = admin_client.post(address, data={**data, "is_locked": "y"})

    assert response.status_code == 303
    db.session.expire_all()
    assert lead_source(event).is_locked is True
    listed = page(admin_client.get(f"/admin/sessions/{event.id}/fields"))
    row = listed.find(id=f"field-{definition.id}")
    assert [cell.get_text(strip=True) for cell in row.find_all("td")][5] == "yes"


def test_a_visible_field_cannot_be_locked(
    admin_client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event()
    definition = lead_source(event)
    address = f"/admin/sessions/{event.id}/fields/{definition.id}"
    data = form_data(field_form(page(admin_client.get(address))))
    data.pop("is_hidden")

    response = admin_client.post(address, data={**data, "is_locked": "y"})

    assert response.status_code == 422
    error = page(response).find(id="is_locked-error").get_text()
    assert (
        error
        == "Only a hidden field can be locked: a visible one is typed by each person."
    )


def test_the_identity_fields_offer_no_lock(
    admin_client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event()
    first_name = effective_list(event).definitions[0]

    soup = page(admin_client.get(f"/admin/sessions/{event.id}/fields/{first_name.id}"))

    assert soup.find(attrs={"name": "is_locked"}) is None
