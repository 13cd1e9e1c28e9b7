"""The hosted and embedded registration pages, read as a browser would."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from portal.extensions import db
from portal.models import Activity, ActivityKind, ActivityStatus, Event, Registrant
from tests.conftest import form_values, page

REGISTER_PAGES = ["/e/{key}/register", "/embed/{key}/register"]


def fill(values: dict[str, str], **answers: str) -> dict[str, str]:
    """The form's current values with the attendee's answers typed in."""
    typed = {
        "sf_FirstName": "Ada",
        "sf_LastName": "Lovelace",
        "sf_Email": "ada@example.com",
        "sf_Company": "Analytical Engines Ltd",
    }
    typed.update(answers)
    return {**values, **typed}


def registrants() -> list[Registrant]:
    return list(db.session.scalars(sa.select(Registrant).order_by(Registrant.id)))


def activities(kind: ActivityKind = ActivityKind.REGISTER) -> list[Activity]:
    return list(
        db.session.scalars(
            sa.select(Activity).where(Activity.kind == kind).order_by(Activity.id)
        )
    )


@pytest.mark.parametrize("address", REGISTER_PAGES)
def test_form_lists_the_default_fields_in_order(
    client: FlaskClient, make_event: Callable[..., Event], address: str
) -> None:
    event = make_event()

    soup = page(client.get(address.format(key=event.key)))

    labels = [label.get_text(" ", strip=True) for label in soup.select("form label")]
    assert labels == [
        "First Name * (required)",
        "Last Name * (required)",
        "Email * (required)",
        "Company * (required)",
        "Title",
        "Industry",
        # The honeypot, out of sight and reach (tests/test_abuse.py).
        "Leave this box empty",
    ]
    for label in soup.select("form label"):
        control = soup.find(id=label["for"])
        assert control is not None
        assert control.name in ("input", "select")
    names = [
        element["name"]
        for element in soup.select("form input, form select")
        if element["name"] != "form_token"
    ]
    assert names == [
        "sf_FirstName",
        "sf_LastName",
        "sf_Email",
        "sf_Company",
        "sf_Title",
        "sf_Industry",
        "sf_LeadSource",
        "comments",
    ]


@pytest.mark.parametrize("address", REGISTER_PAGES)
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", "Web"),
        ("?sf_LeadSource=Newsletter", "Newsletter"),
        ("?sf_leadsource=Spring+Newsletter", "Spring Newsletter"),
        ("?sf_LeadSource=Partner&sf_LeadSource=Other", "Partner"),
        ("?sf_Nonexistent=1&utm_source=x", "Web"),
    ],
)
def test_lead_source_is_hidden_and_prefilled_from_the_address(
    client: FlaskClient,
    make_event: Callable[..., Event],
    address: str,
    query: str,
    expected: str,
) -> None:
    event = make_event()

    soup = page(client.get(address.format(key=event.key) + query))

    lead_source = soup.find("input", attrs={"name": "sf_LeadSource"})
    assert lead_source["type"] == "hidden"
    assert lead_source["value"] == expected
    assert soup.find("label", string="Lead Source") is None


def test_prefill_fills_visible_fields_and_picklists(
    client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event()

    soup = page(
        client.get(
            f"/e/{event.key}/register?sf_FirstName=Grace&sf_Email=grace%40example.com"
            "&sf_Industry=Banking"
        )
    )

    assert soup.find("input", attrs={"name": "sf_FirstName"})["value"] == "Grace"
    assert soup.find("input", attrs={"name": "sf_Email"})["value"] == (
        "grace@example.com"
    )
    industry = soup.find("select", attrs={"name": "sf_Industry"})
    assert industry.find("option", selected=True)["value"] == "Banking"


def test_prefill_outside_the_picklist_is_not_selected(
    client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event()

    soup = page(client.get(f"/e/{event.key}/register?sf_Industry=Piracy"))

    industry = soup.find("select", attrs={"name": "sf_Industry"})
    assert industry.find("option", selected=True)["value"] == ""
    assert "Piracy" not in [option["value"] for option in industry.find_all("option")]


@pytest.mark.parametrize("address", REGISTER_PAGES)
def test_picklist_value_outside_the_options_is_refused(
    client: FlaskClient, make_event: Callable[..., Event], address: str
) -> None:
    event = make_event()
    url = address.format(key=event.key) + "?sf_Industry=Piracy"
    values = form_values(page(client.get(url)))

    response = client.post(url, data=fill(values, sf_Industry="Piracy"))

    assert response.status_code == 422
    soup = page(response)
    error = soup.find(id="sf_Industry-error")
    assert "Choose one of the options" in error.get_text()
    assert soup.find(id="sf_Industry")["aria-describedby"] == "sf_Industry-error"
    summary_links = [link["href"] for link in soup.select(".error-summary a")]
    assert summary_links == ["#sf_Industry"]
    assert registrants() == []
    assert activities() == []


@pytest.mark.parametrize("address", REGISTER_PAGES)
def test_registration_stores_registrant_and_one_register_activity(
    client: FlaskClient, make_event: Callable[..., Event], address: str
) -> None:
    event = make_event()
    url = address.format(key=event.key) + "?sf_LeadSource=Newsletter"
    values = form_values(page(client.get(url)))

    response = client.post(
        url,
        data=fill(values, sf_Email="  Ada@Example.COM ", sf_Industry="Other"),
    )

    assert response.status_code == 303
    (registrant,) = registrants()
    prefix = "/embed/" if address.startswith("/embed/") else "/e/"
    assert response.headers["Location"] == (
        f"{prefix}{event.key}/registered/{registrant.token}"
    )
    assert registrant.email == "Ada@example.com"
    assert registrant.email_key == "ada@example.com"
    assert (registrant.first_name, registrant.last_name) == ("Ada", "Lovelace")
    assert registrant.registered_at is not None
    assert registrant.answer("Lead Source") == "Newsletter"
    assert registrant.answer("Industry") == "Other"
    assert [answer["field"] for answer in registrant.answers] == [
        "First Name",
        "Last Name",
        "Email",
        "Company",
        "Title",
        "Industry",
        "Lead Source",
    ]
    assert registrant.answers[3] == {
        "field": "Company",
        "contact_field": "",
        "lead_field": "Company",
        "value": "Analytical Engines Ltd",
    }
    (activity,) = activities()
    assert activity.kind is ActivityKind.REGISTER
    # Processed right after the answer, with the built-in CRM.
    assert activity.status is ActivityStatus.DONE
    assert activity.registrant_id == registrant.id
    assert activity.event_id == event.id


def test_required_fields_are_reported_next_to_the_field_and_at_the_top(
    client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event()
    url = f"/e/{event.key}/register"
    values = form_values(page(client.get(url)))

    response = client.post(url, data={**values, "sf_Email": "not-an-address"})

    assert response.status_code == 422
    soup = page(response)
    errors = {
        element["id"]: element.get_text(strip=True)
        for element in soup.select(".field-error")
    }
    assert errors["sf_FirstName-error"] == "First Name is required."
    assert errors["sf_LastName-error"] == "Last Name is required."
    assert errors["sf_Company-error"] == "Company is required."
    assert "@" in errors["sf_Email-error"]
    assert soup.find(id="sf_Email")["value"] == "not-an-address"
    summary = [
        item.get_text(" ", strip=True) for item in soup.select(".error-summary li")
    ]
    assert summary[0] == "First Name is required."
    assert len(summary) == 4
    assert registrants() == []


def test_sending_the_same_form_twice_makes_one_registration(
    client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event()
    url = f"/e/{event.key}/register"
    data = fill(form_values(page(client.get(url))))

    first = client.post(url, data=data)
    second = client.post(url, data=data)

    assert first.status_code == second.status_code == 303
    assert second.headers["Location"] == first.headers["Location"]
    assert len(registrants()) == 1
    assert len(activities()) == 1
    soup = page(client.get(second.headers["Location"]))
    assert "You're registered, Ada." in soup.select_one(".status").get_text()


@pytest.mark.parametrize("address", REGISTER_PAGES)
def test_registering_an_email_registered_before_never_shows_its_join_link(
    client: FlaskClient, make_event: Callable[..., Event], address: str
) -> None:
    event = make_event()
    url = address.format(key=event.key)
    client.post(url, data=fill(form_values(page(client.get(url)))))
    registered_an_hour_ago()

    response = client.post(
        url,
        data=fill(
            form_values(page(client.get(url))),
            sf_Email="ADA@example.com",
            sf_FirstName="Mallory",
        ),
    )

    (registrant,) = registrants()
    assert response.status_code == 303
    assert registrant.token not in response.headers["Location"]
    soup = page(client.get(response.headers["Location"]))
    assert registrant.token not in str(soup)
    assert "already registered" in soup.select_one(".notice").get_text()
    assert "sent the confirmation" in soup.select_one(".notice").get_text()
    assert registrant.first_name == "Ada"
    assert len(activities()) == 1
    resent = activities(ActivityKind.EMAIL)
    assert [activity.payload.get("resent") for activity in resent] == [None, True]


def registered_an_hour_ago() -> None:
    """Move the registrations back in time, past the ten fresh minutes."""
    for registrant in registrants():
        assert registrant.registered_at is not None
        registrant.registered_at -= timedelta(hours=1)
    db.session.commit()


def test_the_confirmation_is_sent_again_at_most_once_an_hour(
    client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event()
    url = f"/e/{event.key}/register"
    client.post(url, data=fill(form_values(page(client.get(url)))))
    registered_an_hour_ago()

    for _ in range(3):
        client.post(url, data=fill(form_values(page(client.get(url)))))

    assert len(activities(ActivityKind.EMAIL)) == 2


def test_a_fresh_registration_s_confirmation_is_not_sent_twice(
    client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event()
    url = f"/e/{event.key}/register"
    client.post(url, data=fill(form_values(page(client.get(url)))))

    response = client.post(url, data=fill(form_values(page(client.get(url)))))

    assert len(activities(ActivityKind.EMAIL)) == 1
    notice = page(client.get(response.headers["Location"])).select_one(".notice")
    assert "was sent to that address recently" in notice.get_text()


def test_the_same_form_sent_with_other_answers_is_not_the_same_person(
    client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event()
    url = f"/e/{event.key}/register"
    shared = form_values(page(client.get(url)))  # a form page served from a cache
    first = client.post(url, data=fill(shared, sf_Email="victim@example.org"))

    second = client.post(
        url, data=fill(shared, sf_Email="victim@example.org", sf_FirstName="Eve")
    )

    (registrant,) = registrants()
    assert first.headers["Location"].endswith(registrant.token)
    assert registrant.token not in second.headers["Location"]
    assert second.headers["Location"].startswith(f"/e/{event.key}/already-registered")


def test_confirmation_shows_local_time_join_link_and_calendar(
    client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event(
        starts_at=datetime(2030, 7, 4, 15, 0, tzinfo=UTC),
        ends_at=datetime(2030, 7, 4, 16, 30, tzinfo=UTC),
        dial_in_number="+1 555 0100",
        participant_code="4242",
    )
    url = f"/e/{event.key}/register"
    response = client.post(url, data=fill(form_values(page(client.get(url)))))

    soup = page(client.get(response.headers["Location"]))

    registrant = registrants()[0]
    assert soup.select_one(".event-when").get_text(strip=True) == (
        "Thursday, 4 July 2030, 11:00 – 12:30 EDT (America/New_York)"
    )
    join_link = soup.select_one(".join-link a")
    assert join_link["href"] == (
        f"http://portal.test/e/{event.key}/join?t={registrant.token}"
    )
    calendar = soup.find("a", string="Add to calendar (.ics)")
    assert calendar["href"].endswith(
        f"/e/{event.key}/registered/{registrant.token}/calendar.ics"
    )
    assert "+1 555 0100, participant code 4242" in soup.get_text()


def test_calendar_file_is_in_utc(
    client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event(
        starts_at=datetime(2030, 7, 4, 15, 0, tzinfo=UTC),
        ends_at=datetime(2030, 7, 4, 16, 30, tzinfo=UTC),
    )
    url = f"/e/{event.key}/register"
    client.post(url, data=fill(form_values(page(client.get(url)))))
    registrant = registrants()[0]

    response = client.get(f"/e/{event.key}/registered/{registrant.token}/calendar.ics")

    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    body = response.get_data(as_text=True)
    assert "DTSTART:20300704T150000Z" in body.splitlines()
    assert "DTEND:20300704T163000Z" in body.splitlines()
    assert f"SUMMARY:{event.title}" in body.splitlines()


def test_embedded_confirmation_stays_in_the_frame(
    client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event()
    url = f"/embed/{event.key}/register"
    response = client.post(url, data=fill(form_values(page(client.get(url)))))

    confirmation = client.get(response.headers["Location"])

    assert response.headers["Location"].startswith(f"/embed/{event.key}/registered/")
    soup = page(confirmation)
    assert soup.select_one(".site-header") is None
    assert soup.body["class"] == ["embedded"]
    assert soup.select_one(".join-link a")["target"] == "_blank"


def test_hosted_page_has_site_chrome_and_embed_has_none(
    client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event()

    hosted = page(client.get(f"/e/{event.key}/register"))
    embedded = page(client.get(f"/embed/{event.key}/register"))

    assert hosted.select_one(".site-header") is not None
    assert embedded.select_one(".site-header") is None
    assert embedded.find("form") is not None


def test_form_without_its_token_is_refused_with_values_kept(
    client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event()
    url = f"/e/{event.key}/register"
    data = fill(form_values(page(client.get(url))))
    del data["form_token"]

    response = client.post(url, data=data)

    assert response.status_code == 422
    soup = page(response)
    assert "could not verify" in soup.select_one(".error-summary").get_text()
    assert soup.find("input", attrs={"name": "sf_FirstName"})["value"] == "Ada"
    assert registrants() == []


def test_expired_form_is_shown_again_with_every_value_kept(
    client: FlaskClient, make_event: Callable[..., Event], app: object
) -> None:
    event = make_event()
    url = f"/e/{event.key}/register"
    data = fill(form_values(page(client.get(url))), sf_Title="Countess")
    client.application.config["FORM_TOKEN_MAX_AGE"] = -1

    response = client.post(url, data=data)

    assert response.status_code == 422
    soup = page(response)
    assert "open for a long time" in soup.select_one(".error-summary").get_text()
    assert soup.find("input", attrs={"name": "sf_Title"})["value"] == "Countess"
    assert (
        soup.find("input", attrs={"name": "form_token"})["value"] != data["form_token"]
    )
    assert registrants() == []


def test_token_from_another_page_is_refused(
    client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    first, second = make_event(), make_event()
    data = fill(form_values(page(client.get(f"/e/{first.key}/register"))))

    response = client.post(f"/e/{second.key}/register", data=data)

    assert response.status_code == 422
    assert registrants() == []


def test_ended_session_takes_no_registrations(
    client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    starts_at = datetime.now(UTC) - timedelta(days=2)
    event = make_event(starts_at=starts_at, ends_at=starts_at + timedelta(hours=1))

    soup = page(client.get(f"/e/{event.key}/register"))

    assert soup.find("form") is None
    assert "no longer takes registrations" in soup.select_one(".notice").get_text()


@pytest.mark.parametrize(
    "address",
    [
        "/e/{key}/register",
        "/embed/{key}/register",
        "/e/{key}/join",
        "/room/{key}/join",
        "/e/{key}/registered/nope",
        "/e/{key}/registered/nope/calendar.ics",
    ],
)
def test_unknown_keys_answer_404(client: FlaskClient, address: str) -> None:
    response = client.get(address.format(key="NoSuchKeyAtAll0123"))

    assert response.status_code == 404
    assert page(response).find("h1").get_text() == "Page not found"


def test_event_keys_are_long_and_random(make_event: Callable[..., Event]) -> None:
    keys = {make_event().key for _ in range(5)}

    assert len(keys) == 5
    assert all(len(key) >= 16 for key in keys)  # 16 URL-safe characters = 96 bits


def test_registering_with_an_unused_field_posted_ignores_it(
    client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event()
    url = f"/e/{event.key}/register"
    data = fill(form_values(page(client.get(url))), sf_Salary="1000000", admin="1")

    client.post(url, data=data)

    (registrant,) = registrants()
    assert "Salary" not in [answer["field"] for answer in registrant.answers]


def test_registering_after_joining_takes_the_registered_names(
    client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event()
    join_url = f"/e/{event.key}/join"
    client.post(
        join_url, data=fill(form_values(page(client.get(join_url))), sf_FirstName="Jo")
    )
    url = f"/e/{event.key}/register"

    response = client.post(url, data=fill(form_values(page(client.get(url)))))

    (registrant,) = registrants()
    assert response.headers["Location"].endswith(registrant.token)
    assert (registrant.first_name, registrant.registered_at is not None) == (
        "Ada",
        True,
    )
    assert len(activities()) == 1


def test_a_hidden_prefill_too_long_for_its_field_falls_back_to_the_default(
    client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event()
    url = f"/e/{event.key}/register?sf_LeadSource={'x' * 256}"

    values = form_values(page(client.get(url)))
    response = client.post(url, data=fill(values))

    assert values["sf_LeadSource"] == "Web"
    assert response.status_code == 303


@pytest.mark.parametrize(
    ("query", "selected"),
    [("banking", "Banking"), ("SOMETHING ELSE", "Other"), ("other", "Other")],
)
def test_picklist_prefill_matches_option_values_and_texts_without_case(
    client: FlaskClient, make_event: Callable[..., Event], query: str, selected: str
) -> None:
    event = make_event()

    soup = page(client.get(f"/e/{event.key}/register?sf_Industry={query}"))

    chosen = soup.find("select", attrs={"name": "sf_Industry"}).find(
        "option", selected=True
    )
    assert chosen["value"] == selected


def test_email_is_stored_normalised_in_every_record(
    client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event()
    url = f"/e/{event.key}/register"

    client.post(
        url, data=fill(form_values(page(client.get(url))), sf_Email="Ann@Bücher.DE")
    )

    (registrant,) = registrants()
    assert registrant.email == "Ann@xn--bcher-kva.de"
    assert registrant.answer("Email") == "Ann@xn--bcher-kva.de"
    assert activities()[0].payload["answers"][2]["value"] == "Ann@xn--bcher-kva.de"


def test_email_length_is_checked_after_normalising(
    client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event()
    url = f"/e/{event.key}/register"
    # 46 characters as typed, 84 in the ASCII form the CRM stores.
    label = "".join(chr(0x4E00 + step * 37) for step in range(14))
    typed = f"ada.lovelace@{label}.{label[::-1]}.com"

    response = client.post(
        url, data=fill(form_values(page(client.get(url))), sf_Email=typed)
    )

    assert response.status_code == 422
    assert (
        "at most 80 characters" in page(response).find(id="sf_Email-error").get_text()
    )
    assert registrants() == []


def test_calendar_file_is_named_after_the_session(
    client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event(title="Q3 Review: What's Next?")
    url = f"/e/{event.key}/register"
    response = client.post(url, data=fill(form_values(page(client.get(url)))))
    token = registrants()[0].token

    calendar = client.get(f"/e/{event.key}/registered/{token}/calendar.ics")

    disposition = calendar.headers["Content-Disposition"]
    assert disposition == "attachment; filename=q3-review-what-s-next.ics"
    assert response.status_code == 303


def test_errors_inside_the_frame_keep_the_bare_layout(client: FlaskClient) -> None:
    soup = page(client.get("/embed/NoSuchKeyAtAll0123/register"))

    assert soup.body["class"] == ["embedded"]
    assert soup.select_one(".site-header") is None
