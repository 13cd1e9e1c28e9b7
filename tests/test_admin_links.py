"""The tracked link pages of the admin area, read and used as a browser would."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup, Tag
from flask import Flask, url_for
from flask.testing import FlaskClient

from portal.extensions import db
from portal.models import Event, Lead, Registrant, Role, User
from tests.conftest import form_values, page
from tests.test_registration_pages import fill

PUBLIC_URL = "http://portal.test"


def builder_form(soup: BeautifulSoup) -> Tag:
    form = soup.select_one("form.link-builder")
    assert form is not None
    return form


def builder_values(soup: BeautifulSoup) -> dict[str, str]:
    """What the browser would send for the link builder as it stands."""
    return form_values(BeautifulSoup(str(builder_form(soup)), "html.parser"))


def build(client: FlaskClient, event: Event, **values: str) -> Any:
    """Fill the builder of ``event`` as a person would and send it."""
    address = f"/admin/sessions/{event.id}/links"
    filled = {**builder_values(page(client.get(address))), **values}
    return client.get(address, query_string=filled)


def field_error(soup: BeautifulSoup, name: str) -> str:
    control = soup.find(attrs={"name": name})
    assert control is not None
    wrapper = control.find_parent(class_="field")
    error = wrapper.select_one(".field-error") if wrapper else None
    return error.get_text(strip=True) if error else ""


def own_room(host: User) -> Event:
    room = db.session.scalars(
        sa.select(Event).where(Event.owner_id == host.id, Event.room_kind.is_not(None))
    ).first()
    assert room is not None
    return room


@pytest.mark.parametrize("address", ["/admin/links", "/admin/sessions/1/links"])
def test_the_link_pages_send_visitors_to_sign_in(
    client: FlaskClient, address: str
) -> None:
    response = client.get(address)

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in?next=")


def test_the_navigation_leads_to_tracked_links(
    host_client: tuple[FlaskClient, User],
) -> None:
    client, _ = host_client

    soup = page(client.get("/admin/links"))

    link = soup.select_one('.admin-nav a[href="/admin/links"]')
    assert link is not None
    assert link.get_text() == "Tracked links"
    assert link["aria-current"] == "page"


def test_a_host_picks_only_among_their_own_sessions(
    host_client: tuple[FlaskClient, User],
    make_event: Callable[..., Event],
    make_user: Callable[..., User],
) -> None:
    client, host = host_client
    own = make_event(host, title="Mine")
    other = make_event(make_user(role=Role.HOST), title="Somebody else's")

    soup = page(client.get("/admin/links"))

    options = soup.select("select[name=event] option")
    assert [option["value"] for option in options] == [str(own.id)]
    assert options[0].get_text().startswith("Mine (")
    pages = [option["value"] for option in soup.select("select[name=page] option")]
    assert pages == ["register", "join", "embed"]

    refused = client.get("/admin/links", query_string={"event": other.id})
    assert refused.status_code == 422
    assert field_error(page(refused), "event") == "Choose one of the sessions offered."


def test_picking_a_session_and_page_opens_its_builder(
    admin_client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event()

    response = admin_client.get(
        "/admin/links", query_string={"event": event.id, "page": "embed"}
    )

    assert response.status_code == 303
    assert (
        response.headers["Location"] == f"/admin/sessions/{event.id}/links?page=embed"
    )


def test_without_sessions_the_picker_says_so(admin_client: FlaskClient) -> None:
    soup = page(admin_client.get("/admin/links"))

    assert soup.select_one("select[name=event]") is None
    assert soup.select_one(".notice").get_text().startswith("There are no sessions")


def test_a_host_builds_links_for_their_sessions_only(
    host_client: tuple[FlaskClient, User],
    make_event: Callable[..., Event],
    make_user: Callable[..., User],
) -> None:
    client, host = host_client
    own = make_event(host)
    other = make_event(make_user(role=Role.HOST))

    assert client.get(f"/admin/sessions/{own.id}/links").status_code == 200
    assert client.get(f"/admin/sessions/{other.id}/links").status_code == 403
    assert client.get("/admin/sessions/999999/links").status_code == 404
    assert client.get(f"/admin/sessions/{own_room(host).id}/links").status_code == 404


def test_rooms_have_no_link_builder_even_for_an_admin(
    admin_client: FlaskClient, make_user: Callable[..., User]
) -> None:
    room = own_room(make_user(role=Role.HOST))

    assert admin_client.get(f"/admin/sessions/{room.id}/links").status_code == 404


def test_the_session_page_links_to_its_builder(
    admin_client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event()

    soup = page(admin_client.get(f"/admin/sessions/{event.id}"))

    hrefs = [link["href"] for link in soup.select(".manage-links a")]
    assert f"/admin/sessions/{event.id}/links" in hrefs


def test_the_builder_offers_every_field_hidden_ones_marked(
    admin_client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event()

    soup = page(admin_client.get(f"/admin/sessions/{event.id}/links"))

    form = builder_form(soup)
    assert form["method"] == "get"
    assert form.select_one("input[name=csrf_token]") is None
    labels = [label.get_text(" ", strip=True) for label in form.select("label")]
    assert labels == [
        "Page",
        "First Name",
        "Last Name",
        "Email",
        "Company",
        "Title",
        "Industry",
        "Lead Source (hidden)",
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "utm_term",
        "utm_content",
    ]
    industry = form.select_one("select[name=sf_Industry]")
    choices = [
        (option["value"], option.get_text()) for option in industry.find_all("option")
    ]
    assert choices[0] == ("", "(not set)")
    assert ("Other", "Something else") in choices
    assert form.select_one("input[name=sf_Email]")["type"] == "email"
    assert form.select_one("input[name=sf_Title]")["maxlength"] == "128"
    lead_source = form.select_one("input[name=sf_LeadSource]")
    assert lead_source["type"] == "text"
    help_text = soup.find(id=f"{lead_source['id']}-help").get_text()
    assert "Parameter sf_LeadSource." in help_text
    assert "default “Web”" in help_text
    assert soup.select_one(".tracked-link") is None


def test_a_built_link_shows_its_address_with_copy_and_open(
    admin_client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event()

    response = build(
        admin_client,
        event,
        page="register",
        sf_Industry="Other",
        sf_LeadSource="Spring Newsletter",
        utm_source="newsletter",
    )

    assert response.status_code == 200
    soup = page(response)
    address = soup.find(id="tracked-address").get_text()
    assert address == (
        f"{PUBLIC_URL}/e/{event.key}/register?sf_Industry=Other"
        "&sf_LeadSource=Spring+Newsletter&utm_source=newsletter"
    )
    result = soup.select_one(".tracked-link")
    copy = result.select_one("button[data-copy-target]")
    assert copy["data-copy-target"] == "tracked-address"
    opener = result.find("a", string="Open")
    assert (opener["href"], opener["target"], opener["rel"]) == (
        address,
        "_blank",
        ["noopener"],
    )
    filled = [
        (term.get_text(), term.find_next_sibling("dd").get_text())
        for term in result.select(".link-values dt")
    ]
    assert filled == [
        ("Industry", "Other"),
        ("Lead Source", "Spring Newsletter"),
        ("utm_source", "newsletter"),
    ]
    assert result.select_one("#tracked-snippet") is None


def test_an_embed_link_comes_with_its_snippet(
    admin_client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event(title="Café & Co")

    soup = page(build(admin_client, event, page="embed", sf_Title="CTO"))

    address = f"{PUBLIC_URL}/embed/{event.key}/register?sf_Title=CTO"
    assert soup.find(id="tracked-address").get_text() == address
    snippet = soup.find(id="tracked-snippet").get_text()
    assert snippet.startswith(
        f'<iframe src="{address}" title="Register for Café &amp; Co"'
    )
    buttons = soup.select(".tracked-link button[data-copy-target]")
    assert [button["data-copy-target"] for button in buttons] == [
        "tracked-address",
        "tracked-snippet",
    ]


def test_a_picklist_named_by_its_shown_text_is_shown_by_its_value(
    admin_client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event()

    soup = page(
        admin_client.get(
            f"/admin/sessions/{event.id}/links",
            query_string={"page": "join", "sf_Industry": "something ELSE"},
        )
    )

    assert soup.find(id="tracked-address").get_text().endswith("?sf_Industry=Other")
    selected = soup.select_one("select[name=sf_Industry] option[selected]")
    assert selected["value"] == "Other"


def test_refused_values_are_shown_next_to_their_fields(
    admin_client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event()

    response = build(
        admin_client,
        event,
        sf_Email="ada(at)example.com",
        sf_Industry="Knitting",
        sf_Title="x" * 200,
        sf_LeadSource="fine",
    )

    assert response.status_code == 422
    soup = page(response)
    assert field_error(soup, "sf_Email").startswith("Email: ")
    assert field_error(soup, "sf_Industry") == (
        "Industry: “Knitting” is not one of the options offered."
    )
    assert field_error(soup, "sf_Title") == (
        "Title can be at most 128 characters; this value has 200."
    )
    assert field_error(soup, "sf_LeadSource") == ""
    summary = [item.get_text() for item in soup.select(".error-summary li")]
    assert len(summary) == 3
    assert soup.select_one(".tracked-link") is None
    assert soup.find(attrs={"name": "sf_LeadSource"})["value"] == "fine"


def test_an_unknown_page_is_refused(
    admin_client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event()

    response = admin_client.get(
        f"/admin/sessions/{event.id}/links", query_string={"page": "webcast"}
    )

    assert response.status_code == 422
    assert field_error(page(response), "page") == "Choose one of the pages offered."


def test_a_link_for_a_hidden_field_reaches_the_registrant_and_the_crm_lead(
    app: Flask, admin_client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event()
    value = "Partner Webinar & Co"
    attendee = app.test_client()

    built = page(build(admin_client, event, page="register", sf_LeadSource=value))
    address = built.find(id="tracked-address").get_text()
    assert address == (
        f"{PUBLIC_URL}/e/{event.key}/register?sf_LeadSource=Partner+Webinar+%26+Co"
    )

    registration = page(attendee.get(address.removeprefix(PUBLIC_URL)))
    hidden = registration.find("input", attrs={"name": "sf_LeadSource"})
    assert (hidden["type"], hidden["value"]) == ("hidden", value)
    sent = attendee.post(
        address.removeprefix(PUBLIC_URL),
        data=fill(form_values(registration), sf_Email="partner.guest@example.com"),
    )
    assert sent.status_code == 303

    registrant = db.session.scalars(
        sa.select(Registrant).where(Registrant.event_id == event.id)
    ).one()
    assert registrant.answer("Lead Source") == value
    lead = db.session.scalars(
        sa.select(Lead).where(Lead.email == "partner.guest@example.com")
    ).one()
    assert lead.lead_source == value
    assert registrant.crm_person_type == "lead"
    assert registrant.crm_person_id is not None

    with app.test_request_context():
        listing = url_for("admin.session_registrants", event_id=event.id)
    table = page(admin_client.get(listing))
    cells = [cell.get_text(" ", strip=True) for cell in table.select("td")]
    assert value in cells


@pytest.mark.parametrize("choice", ["", "not-a-number"])
def test_the_picker_refuses_a_missing_or_mangled_session(
    admin_client: FlaskClient, make_event: Callable[..., Event], choice: str
) -> None:
    make_event()

    response = admin_client.get(
        "/admin/links", query_string={"event": choice, "page": "register"}
    )

    assert response.status_code == 422
    assert field_error(page(response), "event")
