"""Hostile and odd input on the public forms: each kind has a defined outcome.

Every test here runs on SQLite and on PostgreSQL (when configured), through the pages
as a browser sends them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup, Tag
from flask.testing import FlaskClient

from portal.extensions import db
from portal.models import Activity, Event, FieldScope, Registrant, Role, User
from portal.services.field_editing import FieldValues, add_field
from portal.services.tracked_links import LinkPage, build_tracked_link
from tests.conftest import form_values, page, sign_in
from tests.test_registration_pages import REGISTER_PAGES, fill


def registrant() -> Registrant:
    return db.session.scalars(sa.select(Registrant)).one()


def nothing_stored() -> bool:
    return not db.session.scalars(sa.select(Registrant)).all() and not (
        db.session.scalars(sa.select(Activity)).all()
    )


@pytest.mark.parametrize("address", REGISTER_PAGES)
@pytest.mark.parametrize(
    ("answers", "field", "stored"),
    [
        pytest.param({"sf_FirstName": "Ada\x00"}, "First Name", "Ada", id="NUL"),
        pytest.param(
            {"sf_FirstName": "\x07A\x1bda\x7f"}, "First Name", "Ada", id="control"
        ),
        pytest.param(
            {"sf_LastName": "Love\u200blace\u202e"}, "Last Name", "Lovelace", id="Cf"
        ),
        pytest.param(
            {"sf_FirstName": "Zoe\u0308"}, "First Name", "Zo\u00eb", id="decomposed"
        ),
        pytest.param(
            {"sf_Company": " Analytical\t\n Engines  "},
            "Company",
            "Analytical Engines",
            id="white space",
        ),
        pytest.param(
            {"sf_Email": "  Ada.Lovelace@Example.COM "},
            "Email",
            "Ada.Lovelace@example.com",
            id="email case and spaces",
        ),
        pytest.param(
            {"sf_Email": "ada+webinar@example.com"},
            "Email",
            "ada+webinar@example.com",
            id="plus address",
        ),
        pytest.param(
            {"sf_Email": "ada@bücher.de"},
            "Email",
            "ada@xn--bcher-kva.de",
            id="international domain",
        ),
        pytest.param(
            {"sf_Industry": "Other"}, "Industry", "Other", id="picklist value"
        ),
        pytest.param(
            {"sf_Title": "漢字 👩🏽‍💻 عربى"},
            "Title",
            "漢字 👩🏽‍💻 عربى",
            id="any script, emoji kept whole",
        ),
    ],
)
def test_odd_but_usable_input_is_stored_normalised(
    client: FlaskClient,
    make_event: Callable[..., Event],
    address: str,
    answers: dict[str, str],
    field: str,
    stored: str,
) -> None:
    url = address.format(key=make_event().key)

    response = client.post(
        url, data=fill(form_values(page(client.get(url))), **answers)
    )

    assert response.status_code == 303
    assert registrant().answer(field) == stored


@pytest.mark.parametrize("address", REGISTER_PAGES)
@pytest.mark.parametrize(
    ("answers", "field_id", "message"),
    [
        pytest.param(
            {"sf_Email": "ada@"}, "sf_Email", "after the @", id="malformed email"
        ),
        pytest.param(
            {"sf_Email": "ada@@example.com"}, "sf_Email", "@", id="two at signs"
        ),
        pytest.param(
            {"sf_Email": "zoë@example.com"},
            "sf_Email",
            "before the @",
            id="international local part",
        ),
        pytest.param(
            {"sf_Email": "ada@example.com\r\nBcc: x@example.com"},
            "sf_Email",
            "",
            id="header injection",
        ),
        pytest.param(
            {"sf_Industry": "Piracy"},
            "sf_Industry",
            "Choose one of the options",
            id="outside the picklist",
        ),
        pytest.param(
            {"sf_FirstName": "A" * 41},
            "sf_FirstName",
            "at most 40 characters",
            id="too long",
        ),
        pytest.param(
            {"sf_LastName": "\x00\x00 \u200b"},
            "sf_LastName",
            "Last Name is required.",
            id="only invisible characters",
        ),
        pytest.param(
            {"sf_LeadSource": "x" * 256},
            "sf_LeadSource",
            "at most 255 characters",
            id="hidden field too long",
        ),
    ],
)
def test_unusable_input_gets_a_message_on_its_field_and_stores_nothing(
    client: FlaskClient,
    make_event: Callable[..., Event],
    address: str,
    answers: dict[str, str],
    field_id: str,
    message: str,
) -> None:
    url = address.format(key=make_event().key)

    response = client.post(
        url, data=fill(form_values(page(client.get(url))), **answers)
    )

    assert response.status_code == 422
    soup = page(response)
    errors = {error["id"]: error.get_text() for error in soup.select(".field-error")}
    if field_id != "sf_LeadSource":
        assert message in errors[f"{field_id}-error"]
    summary = soup.select_one(".error-summary").get_text()
    assert message in summary
    assert nothing_stored()


@pytest.mark.parametrize("address", [*REGISTER_PAGES, "/e/{key}/join"])
def test_parameters_and_fields_the_form_does_not_have_are_ignored(
    client: FlaskClient, make_event: Callable[..., Event], address: str
) -> None:
    url = address.format(key=make_event().key)
    shown = client.get(f"{url}?sf_Nonexistent=1&sf_=2&sf_Title=Engineer&other=3")
    assert shown.status_code == 200

    response = client.post(
        url,
        data=fill(
            form_values(page(shown)),
            sf_Nonexistent="posted",
            is_admin="true",
            registered_at="2000-01-01",
        ),
    )

    assert response.status_code == 303
    answers = registrant().answers
    assert [answer["field"] for answer in answers] == [
        "First Name",
        "Last Name",
        "Email",
        "Company",
        "Title",
        "Industry",
        "Lead Source",
    ]
    assert registrant().answer("Title") == "Engineer"


@pytest.mark.parametrize(
    "address",
    [
        "/e/%00/register",
        "/embed/%00/register",
        "/room/%00/join",
        "/e/{key}/join?t=%00",
        "/e/{key}/registered/%00",
        "/e/{key}/registered/a%00b/calendar.ics",
        "/e/{key}%C3%A9/register",
    ],
)
def test_keys_and_tokens_that_cannot_be_ours_name_nothing(
    client: FlaskClient, make_event: Callable[..., Event], address: str
) -> None:
    response = client.get(address.format(key=make_event().key))

    assert response.status_code in (200, 404)
    if response.status_code == 200:
        assert page(response).find("input", attrs={"name": "sf_Email"}) is not None


def test_the_same_parameter_twice_takes_the_first(
    client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    url = f"/e/{make_event().key}/register"

    soup = page(client.get(f"{url}?sf_LeadSource=First&sf_leadsource=Second"))

    assert soup.find("input", attrs={"name": "sf_LeadSource"})["value"] == "First"


def test_form_fields_carry_their_maximum_length(
    client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    soup = page(client.get(f"/e/{make_event().key}/register"))

    lengths = {
        element["name"]: element.get("maxlength")
        for element in soup.select("form input[name^=sf_]")
        if element["type"] != "hidden"
    }
    assert lengths == {
        "sf_FirstName": "40",
        "sf_LastName": "80",
        "sf_Email": "80",
        "sf_Company": "255",
        "sf_Title": "128",
    }


# Admin-entered text


#: Display names are limited to letters, digits and a little punctuation (markup is
#: refused by the field editor); the apostrophe and brackets it allows still break
#: out of a quoted attribute or a script if not escaped.
HOSTILE_NAME = "Jo's('x')/y"
HOSTILE_DEFAULT = '"><script>alert(2)</script>'
HOSTILE_OPTION = "<b>Bold</b> & <i>more</i>"
HOSTILE_TITLE = "<script>alert(4)</script> Q&A <img src=x onerror=alert(5)>"


def assert_shown_as_text(soup: BeautifulSoup) -> None:
    """No markup from admin-entered text: no inline script, handler or tag."""
    assert [tag for tag in soup.find_all("script") if not tag.get("src")] == []
    with_handlers = [
        tag
        for tag in soup.find_all(True)
        if isinstance(tag, Tag) and any(name.startswith("on") for name in tag.attrs)
    ]
    assert with_handlers == []
    assert soup.find(["b", "i", "img"]) is None


@pytest.fixture
def hostile_event(
    make_event: Callable[..., Event], make_user: Callable[..., User]
) -> Event:
    """A session whose title, default and option are markup, its field label quotes."""
    admin = make_user(role=Role.ADMIN, email="admin@example.com")
    event = make_event(title=HOSTILE_TITLE)
    add_field(
        event,
        FieldValues(
            display_name=HOSTILE_NAME, default_value=HOSTILE_DEFAULT, is_required=True
        ),
        admin,
    )
    add_field(
        event,
        FieldValues(display_name="Choice", options_text=f"{HOSTILE_OPTION}\nPlain"),
        admin,
    )
    add_field(FieldScope.SCHEDULED, FieldValues(display_name=HOSTILE_NAME), admin)
    return event


@pytest.mark.parametrize("address", [*REGISTER_PAGES, "/e/{key}/join"])
def test_admin_entered_text_is_shown_as_text_on_public_pages(
    client: FlaskClient, hostile_event: Event, address: str
) -> None:
    url = address.format(key=hostile_event.key)

    shown = page(client.get(url))
    refused = page(client.post(url, data={"sf_Email": "x", f"sf_{HOSTILE_NAME}": ""}))

    for soup in (shown, refused):
        assert_shown_as_text(soup)
        assert soup.h1.get_text() == HOSTILE_TITLE
    label = shown.find("label", attrs={"for": f"sf_{HOSTILE_NAME}"})
    assert label.contents[0] == HOSTILE_NAME
    assert shown.find(id=f"sf_{HOSTILE_NAME}")["value"] == HOSTILE_DEFAULT
    options = [option.get_text() for option in shown.select("#sf_Choice option")]
    assert options == ["(none)", HOSTILE_OPTION, "Plain"]
    assert HOSTILE_NAME in refused.select_one(".error-summary").get_text()


def test_admin_entered_text_is_shown_as_text_on_the_confirmation(
    client: FlaskClient, hostile_event: Event
) -> None:
    url = f"/e/{hostile_event.key}/register"
    sent = client.post(url, data=fill(form_values(page(client.get(url)))))

    soup = page(client.get(sent.headers["Location"]))

    assert_shown_as_text(soup)
    assert soup.h1.get_text() == HOSTILE_TITLE


@pytest.mark.parametrize(
    "address",
    [
        "/admin/",
        "/admin/sessions/{id}",
        "/admin/sessions/{id}/fields",
        "/admin/fields/scheduled",
        "/admin/sessions/{id}/links?page=embed",
    ],
)
def test_admin_entered_text_is_shown_as_text_in_the_admin_area(
    client: FlaskClient, hostile_event: Event, address: str
) -> None:
    assert sign_in(client, "admin@example.com").status_code == 302

    response = client.get(address.format(id=hostile_event.id))

    assert response.status_code == 200
    assert_shown_as_text(page(response))
    assert "<script>alert" not in response.get_data(as_text=True)


def test_an_embed_snippet_escapes_the_title(hostile_event: Event) -> None:
    link = build_tracked_link(hostile_event, LinkPage.EMBED, {})

    snippet = BeautifulSoup(str(link.snippet), "html.parser")

    (frame,) = snippet.find_all(True)
    assert frame.name == "iframe"
    assert frame["title"] == f"Register for {HOSTILE_TITLE}"


# Time


@pytest.mark.parametrize(
    ("zone", "starts_at", "ends_at", "shown"),
    [
        pytest.param(
            "America/New_York",
            datetime(2030, 3, 10, 6, 30, tzinfo=UTC),
            datetime(2030, 3, 10, 7, 30, tzinfo=UTC),
            "Sunday, 10 March 2030, 01:30 EST – 03:30 EDT (America/New_York)",
            id="clocks go forward",
        ),
        pytest.param(
            "America/New_York",
            datetime(2030, 11, 3, 5, 30, tzinfo=UTC),
            datetime(2030, 11, 3, 6, 30, tzinfo=UTC),
            "Sunday, 3 November 2030, 01:30 EDT – 01:30 EST (America/New_York)",
            id="clocks go back",
        ),
        pytest.param(
            "Europe/Berlin",
            datetime(2030, 3, 31, 0, 30, tzinfo=UTC),
            datetime(2030, 3, 31, 1, 30, tzinfo=UTC),
            "Sunday, 31 March 2030, 01:30 CET – 03:30 CEST (Europe/Berlin)",
            id="Europe forward",
        ),
    ],
)
def test_times_are_right_on_both_sides_of_a_daylight_saving_change(
    client: FlaskClient,
    make_event: Callable[..., Event],
    zone: str,
    starts_at: datetime,
    ends_at: datetime,
    shown: str,
) -> None:
    event = make_event(time_zone=zone, starts_at=starts_at, ends_at=ends_at)
    url = f"/e/{event.key}/register"
    sent = client.post(url, data=fill(form_values(page(client.get(url)))))

    confirmation = page(client.get(sent.headers["Location"]))
    calendar = client.get(f"{sent.headers['Location']}/calendar.ics")

    assert confirmation.select_one(".event-when").get_text() == shown
    lines = calendar.get_data(as_text=True).splitlines()
    assert f"DTSTART:{starts_at:%Y%m%dT%H%M%S}Z" in lines
    assert f"DTEND:{ends_at:%Y%m%dT%H%M%S}Z" in lines
