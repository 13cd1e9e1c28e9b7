"""The field definition pages: scopes, lists, new and edit, reset, lock and access."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from bs4 import BeautifulSoup, Tag
from flask.testing import FlaskClient

from portal.extensions import db
from portal.models import Event, EventSeries, FieldScope, Frequency, User
from portal.services.events import ensure_personal_rooms
from portal.services.fields import effective_list, global_list
from tests.conftest import csrf_token, page

SCHEDULED_LIST = "/admin/fields/scheduled"
DEFAULT_NAMES = [
    "First Name",
    "Last Name",
    "Email",
    "Company",
    "Title",
    "Industry",
    "Lead Source",
]


def form_data(form: Tag) -> dict[str, str]:
    """What a browser sends for ``form`` as it stands (unticked boxes left out)."""
    data: dict[str, str] = {}
    for element in form.find_all(["input", "select", "textarea"]):
        name = element.get("name")
        if not name:
            continue
        if element.name == "select":
            chosen = element.find("option", selected=True) or element.find("option")
            data[name] = chosen.get("value", "") if chosen else ""
        elif element.name == "textarea":
            data[name] = element.get_text()
        elif element.get("type") == "checkbox":
            if element.has_attr("checked"):
                data[name] = element.get("value", "y")
        else:
            data[name] = element.get("value", "")
    return data


def field_form(soup: BeautifulSoup) -> Tag:
    form = soup.select_one("form.field-form")
    assert form is not None
    return form


def press(client: FlaskClient, soup: BeautifulSoup, label: str) -> Any:
    """Press the button labelled ``label`` (its aria-label or its text)."""
    button = soup.find("button", attrs={"aria-label": label}) or soup.find(
        "button", string=label
    )
    assert button is not None, f"no button {label!r}"
    assert not button.has_attr("disabled"), f"{label!r} is disabled"
    form = button.find_parent("form")
    return client.post(form.get("action") or "", data=form_data(form))


def row_names(soup: BeautifulSoup) -> list[str]:
    return [
        cell.find(["a"], recursive=False).get_text(strip=True)
        if cell.find("a", recursive=False)
        else next(cell.stripped_strings)
        for cell in soup.select(".field-table tbody th.field-name")
    ]


def flashes(soup: BeautifulSoup) -> list[str]:
    return [flash.get_text(strip=True) for flash in soup.select(".flashes .flash")]


def register_field_names(client: FlaskClient, event: Event) -> list[str]:
    soup = page(client.get(f"/e/{event.key}/register"))
    return [
        element["name"]
        for element in soup.select("form input, form select")
        if str(element.get("name", "")).startswith("sf_")
    ]


def add_through_the_page(client: FlaskClient, list_address: str, **typed: str) -> Any:
    form = field_form(page(client.get(f"{list_address}/new")))
    return client.post(f"{list_address}/new", data={**form_data(form), **typed})


# Access


@pytest.mark.parametrize(
    "address",
    [
        "/admin/fields",
        SCHEDULED_LIST,
        f"{SCHEDULED_LIST}/new",
        "/admin/sessions/1/fields",
        "/admin/rooms/1/fields",
        "/admin/sessions/1/fields/reset",
    ],
)
def test_signed_out_visitors_are_sent_to_sign_in(
    client: FlaskClient, address: str
) -> None:
    response = client.get(address)

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in?next=")


@pytest.mark.parametrize(
    ("method", "address"),
    [
        ("get", "/admin/fields"),
        ("get", SCHEDULED_LIST),
        ("get", f"{SCHEDULED_LIST}/new"),
        ("post", f"{SCHEDULED_LIST}/new"),
        ("post", "/admin/fields/meeting_room/lock"),
        ("post", "/admin/fields/meeting_room/unlock"),
    ],
)
def test_hosts_cannot_open_the_global_defaults(
    host_client: tuple[FlaskClient, User], method: str, address: str
) -> None:
    client, _ = host_client
    token = csrf_token(client, "/admin/")

    response = getattr(client, method)(address, data={"csrf_token": token})

    assert response.status_code == 403
    assert not global_list(FieldScope.MEETING_ROOM).is_locked


def test_the_fields_section_is_in_the_admin_navigation_only(
    admin_client: FlaskClient, host_client: tuple[FlaskClient, User]
) -> None:
    host, _ = host_client

    def navigation(client: FlaskClient) -> list[str]:
        return [
            a.get_text() for a in page(client.get("/admin/")).select(".admin-nav a")
        ]

    assert "Fields" in navigation(admin_client)
    assert "Fields" not in navigation(host)
    current = page(admin_client.get(SCHEDULED_LIST)).select_one(
        ".admin-nav a[aria-current]"
    )
    assert current is not None
    assert current.get_text() == "Fields"


def test_a_host_manages_only_their_own_sessions_and_rooms_fields(
    host_client: tuple[FlaskClient, User],
    make_event: Callable[..., Event],
    make_user: Callable[..., User],
) -> None:
    client, host = host_client
    own = make_event(host)
    other = make_event(make_user())
    own_room, _ = ensure_personal_rooms(host)
    other_room, _ = ensure_personal_rooms(make_user())
    db.session.commit()

    assert client.get(f"/admin/sessions/{own.id}/fields").status_code == 200
    assert client.get(f"/admin/rooms/{own_room.id}/fields").status_code == 200
    assert client.get(f"/admin/sessions/{other.id}/fields").status_code == 403
    assert client.get(f"/admin/rooms/{other_room.id}/fields").status_code == 403
    assert client.get("/admin/sessions/999999/fields").status_code == 404
    # A room is not a session, and a session is not a room.
    assert client.get(f"/admin/sessions/{own_room.id}/fields").status_code == 404
    assert client.get(f"/admin/rooms/{own.id}/fields").status_code == 404


def test_missing_scopes_and_fields_answer_404(
    admin_client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event()
    foreign = global_list(FieldScope.SCHEDULED).definitions[4].id
    token = csrf_token(admin_client, "/admin/fields")

    assert admin_client.get("/admin/fields/nowhere").status_code == 404
    assert admin_client.get(f"{SCHEDULED_LIST}/999999").status_code == 404
    # A definition of another list is not one of this session's.
    assert (
        admin_client.get(f"/admin/sessions/{event.id}/fields/{foreign}").status_code
        == 404
    )
    assert (
        admin_client.post(
            f"/admin/sessions/{event.id}/fields/{foreign}/delete",
            data={"csrf_token": token},
        ).status_code
        == 404
    )


def test_every_change_needs_the_form_token(admin_client: FlaskClient) -> None:
    title = global_list(FieldScope.SCHEDULED).definitions[4]

    assert admin_client.post(f"{SCHEDULED_LIST}/{title.id}/delete").status_code == 400
    assert admin_client.post(f"{SCHEDULED_LIST}/{title.id}/up").status_code == 400
    assert admin_client.post("/admin/fields/meeting_room/lock").status_code == 400
    assert [d.display_name for d in global_list(FieldScope.SCHEDULED).definitions] == (
        DEFAULT_NAMES
    )


# The list


def test_the_list_shows_each_field_in_order_with_its_parameter_and_buttons(
    admin_client: FlaskClient,
) -> None:
    soup = page(admin_client.get(SCHEDULED_LIST))

    assert soup.h1.get_text() == "Default fields: Scheduled sessions"
    assert row_names(soup) == DEFAULT_NAMES
    rows = soup.select(".field-table tbody tr")
    cells = [cell.get_text(" ", strip=True) for cell in rows[5].find_all("td")]
    assert cells[:8] == [
        "sf_Industry",
        "none",
        "Industry",
        "no",
        "no",
        "no",
        "none",
        "32 options: Agriculture; Apparel; Banking; …",
    ]
    lead_source = [cell.get_text(strip=True) for cell in rows[6].find_all("td")][:7]
    assert lead_source == [
        "sf_LeadSource",
        "LeadSource",
        "LeadSource",
        "no",
        "yes",
        "no",
        "Web",
    ]
    first = [cell.get_text(strip=True) for cell in rows[0].find_all("td")][3:6]
    assert first == ["always", "never", "never"]

    assert soup.find("button", attrs={"aria-label": "Move First Name up"}).has_attr(
        "disabled"
    )
    assert not soup.find(
        "button", attrs={"aria-label": "Move First Name down"}
    ).has_attr("disabled")
    assert soup.find("button", attrs={"aria-label": "Move Lead Source down"}).has_attr(
        "disabled"
    )
    deletable = [
        button["aria-label"]
        for button in soup.find_all("button", attrs={"aria-label": True})
        if button["aria-label"].startswith("Delete")
    ]
    assert deletable == ["Delete Title", "Delete Industry", "Delete Lead Source"]
    assert soup.find("a", string="New field")["href"] == f"{SCHEDULED_LIST}/new"
    assert soup.find("a", string="Reset to defaults") is None


def test_the_scopes_page_links_each_scope_and_locks_only_rooms(
    admin_client: FlaskClient,
) -> None:
    soup = page(admin_client.get("/admin/fields"))

    links = [a["href"] for a in soup.select(".scope-table tbody td:first-child a")]
    assert links == [
        "/admin/fields/scheduled",
        "/admin/fields/meeting_room",
        "/admin/fields/support_room",
    ]
    assert soup.select_one("#scope-scheduled form") is None
    for scope in ("meeting_room", "support_room"):
        form = soup.select_one(f"#scope-{scope} form")
        assert form["action"] == f"/admin/fields/{scope}/lock"
        assert form.find("button").get_text() == "Lock defaults"


@pytest.mark.parametrize("scope", ["meeting_room", "support_room"])
def test_a_room_scope_s_own_page_locks_and_unlocks_and_comes_back(
    admin_client: FlaskClient, scope: str
) -> None:
    address = f"/admin/fields/{scope}"

    form = page(admin_client.get(address)).select_one(".lock-card form")
    response = admin_client.post(
        form["action"], data={"csrf_token": csrf_token(admin_client, address)}
    )

    assert form["action"] == f"{address}/lock?back=list"
    assert response.headers["Location"] == address
    assert global_list(FieldScope(scope)).is_locked
    unlock = page(admin_client.get(address)).select_one(".lock-card form")
    assert unlock.button.get_text() == "Unlock defaults"
    admin_client.post(
        unlock["action"], data={"csrf_token": csrf_token(admin_client, address)}
    )
    db.session.expire_all()
    assert not global_list(FieldScope(scope)).is_locked


def test_the_scheduled_defaults_have_nothing_to_lock_and_deletes_ask_first(
    admin_client: FlaskClient,
) -> None:
    soup = page(admin_client.get(SCHEDULED_LIST))

    assert soup.select_one(".lock-card") is None
    deletes = soup.select("form[action$='/delete']")
    assert deletes
    assert all(form["data-confirm"].startswith("Delete the field ") for form in deletes)
    assert soup.select_one(".form-note code").get_text() == "?sf_LeadSource=Newsletter"


# New and edit


def test_the_new_field_page_offers_the_crms_text_fields(
    admin_client: FlaskClient,
) -> None:
    form = field_form(page(admin_client.get(f"{SCHEDULED_LIST}/new")))

    contact = [option["value"] for option in form.select("#contact_field option")]
    lead = [option["value"] for option in form.select("#lead_field option")]
    assert contact[0] == lead[0] == ""
    assert {"Title", "MailingCountry", "LeadSource"} <= set(contact)
    assert {"Company", "Industry", "State", "Website"} <= set(lead)
    assert "Webinars_Attended__c" not in contact + lead
    assert "Last_Webinar_Date__c" not in contact + lead
    assert form.select_one("#options").name == "textarea"


def test_adding_a_picklist_field_shows_it_on_the_list_and_the_form(
    admin_client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    response = add_through_the_page(
        admin_client,
        SCHEDULED_LIST,
        display_name="Region",
        lead_field="State",
        options="Europe = EMEA\nAmericas = AMER",
        default_value="Americas",
    )

    assert response.status_code == 303
    assert response.headers["Location"] == SCHEDULED_LIST
    soup = page(admin_client.get(SCHEDULED_LIST))
    assert flashes(soup) == ["Added Region."]
    assert row_names(soup)[-1] == "Region"
    region = page(admin_client.get(f"/e/{make_event().key}/register")).find(
        "select", attrs={"name": "sf_Region"}
    )
    assert [(o["value"], o.get_text()) for o in region.find_all("option")] == [
        ("", "(none)"),
        ("EMEA", "Europe"),
        ("AMER", "Americas"),
    ]
    assert region.find("option", selected=True)["value"] == "AMER"


@pytest.mark.parametrize(
    ("typed", "field", "message"),
    [
        ({"display_name": ""}, "display_name", "Enter a display name."),
        ({"display_name": "lead source"}, "display_name", "sf_LeadSource"),
        ({"display_name": "A & B"}, "display_name", "cannot contain &"),
        (
            {"display_name": "<script>alert(1)</script>"},
            "display_name",
            "cannot contain < >",
        ),
        ({"display_name": "x" * 81}, "display_name", "at most 80"),
        (
            {"display_name": "Job", "contact_field": "Title"},
            "contact_field",
            "Title already writes",
        ),
        (
            {"display_name": "Job", "lead_field": "Nope__c"},
            "lead_field",
            "Choose a lead field from the list.",
        ),
        ({"display_name": "Size", "options": "S\nS"}, "options", "listed twice"),
        (
            {"display_name": "Size", "options": "S\nM", "default_value": "L"},
            "default_value",
            "one of the options",
        ),
        (
            {"display_name": "Tag", "is_hidden": "y", "is_required": "y"},
            "default_value",
            "needs a default",
        ),
    ],
)
def test_bad_input_is_shown_next_to_the_field_and_nothing_changes(
    admin_client: FlaskClient, typed: dict[str, str], field: str, message: str
) -> None:
    response = add_through_the_page(admin_client, SCHEDULED_LIST, **typed)

    assert response.status_code == 422
    soup = page(response)
    error = soup.find(id=f"{field}-error")
    assert error is not None
    assert message in error.get_text()
    assert soup.select_one(".error-summary") is not None
    assert field_form(soup).select_one(f"#{field}")["aria-invalid"] == "true"
    db.session.expire_all()
    names = [d.display_name for d in global_list(FieldScope.SCHEDULED).definitions]
    assert names == DEFAULT_NAMES


def test_a_fixed_field_offers_only_what_may_change(admin_client: FlaskClient) -> None:
    definitions = {
        d.display_name: d.id for d in global_list(FieldScope.SCHEDULED).definitions
    }

    first_name = field_form(
        page(admin_client.get(f"{SCHEDULED_LIST}/{definitions['First Name']}"))
    )
    company = field_form(
        page(admin_client.get(f"{SCHEDULED_LIST}/{definitions['Company']}"))
    )

    assert sorted(form_data(first_name)) == [
        "csrf_token",
        "default_value",
        "display_name",
    ]
    assert first_name.select_one("select") is None
    assert company.select_one("select") is None
    assert company.select_one("#is_required").has_attr("checked")
    assert company.select_one("#is_hidden") is not None


def test_renaming_a_field_shows_and_warns_of_its_new_prefill_parameter(
    admin_client: FlaskClient,
) -> None:
    first_name = next(
        d
        for d in global_list(FieldScope.SCHEDULED).definitions
        if d.display_name == "First Name"
    )
    address = f"{SCHEDULED_LIST}/{first_name.id}"
    soup = page(admin_client.get(address))
    assert "Its prefill parameter is sf_FirstName" in (
        soup.select_one("#display_name-help").get_text()
    )
    data = form_data(field_form(soup))

    response = admin_client.post(
        address, data={**data, "display_name": "Vorname"}, follow_redirects=True
    )

    warning = page(response).select_one(".flash.warning")
    assert warning is not None
    assert warning.get_text() == (
        "The prefill parameter of Vorname is now sf_Vorname: links with "
        "sf_FirstName no longer fill it. Build them again under Tracked links."
    )


def test_a_save_that_keeps_the_prefill_parameter_warns_of_nothing(
    admin_client: FlaskClient,
) -> None:
    company = next(
        d
        for d in global_list(FieldScope.SCHEDULED).definitions
        if d.display_name == "Company"
    )
    address = f"{SCHEDULED_LIST}/{company.id}"
    data = form_data(field_form(page(admin_client.get(address))))

    response = admin_client.post(
        address, data={**data, "display_name": "company"}, follow_redirects=True
    )

    assert page(response).select_one(".flash.warning") is None


def test_company_can_be_made_hidden_and_optional_through_the_page(
    admin_client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    company = next(
        d
        for d in global_list(FieldScope.SCHEDULED).definitions
        if d.display_name == "Company"
    )
    address = f"{SCHEDULED_LIST}/{company.id}"
    data = form_data(field_form(page(admin_client.get(address))))
    data.pop("is_required")

    response = admin_client.post(address, data={**data, "is_hidden": "y"})

    assert response.status_code == 303
    soup = page(admin_client.get(f"/e/{make_event().key}/register"))
    hidden = soup.find("input", attrs={"name": "sf_Company"})
    assert hidden["type"] == "hidden"
    row = page(admin_client.get(SCHEDULED_LIST)).select(".field-table tbody tr")[3]
    assert [cell.get_text(strip=True) for cell in row.find_all("td")][3:5] == [
        "no",
        "yes",
    ]


def test_a_button_that_cannot_act_says_why(admin_client: FlaskClient) -> None:
    first = global_list(FieldScope.SCHEDULED).definitions[0]
    token = csrf_token(admin_client, SCHEDULED_LIST)

    response = admin_client.post(
        f"{SCHEDULED_LIST}/{first.id}/up", data={"csrf_token": token}
    )
    deleted = admin_client.post(
        f"{SCHEDULED_LIST}/{first.id}/delete", data={"csrf_token": token}
    )

    assert response.status_code == deleted.status_code == 303
    assert flashes(page(admin_client.get(SCHEDULED_LIST))) == [
        "First Name is already first.",
        "First Name is one of the four fields every form has; it cannot be deleted.",
    ]


def test_delete_and_move_through_the_buttons(admin_client: FlaskClient) -> None:
    soup = page(admin_client.get(SCHEDULED_LIST))

    assert press(admin_client, soup, "Delete Industry").status_code == 303
    soup = page(admin_client.get(SCHEDULED_LIST))
    assert flashes(soup) == ["Deleted Industry."]
    assert press(admin_client, soup, "Move Email up").status_code == 303

    soup = page(admin_client.get(SCHEDULED_LIST))
    assert flashes(soup) == ["Moved Email up."]
    assert row_names(soup) == [
        "First Name",
        "Email",
        "Last Name",
        "Company",
        "Title",
        "Lead Source",
    ]


# Sessions, occurrences and rooms


def test_an_occurrence_says_it_uses_its_series_list_until_changed(
    host_client: tuple[FlaskClient, User], make_event: Callable[..., Event]
) -> None:
    client, host = host_client
    event = make_event(host)
    series = EventSeries(
        owner=host, frequency=Frequency.WEEKLY, interval=1, occurrence_count=3
    )
    series.field_list, event.field_list = event.field_list, None
    event.series = series
    db.session.commit()
    address = f"/admin/sessions/{event.id}/fields"

    soup = page(client.get(address))
    assert "uses its series' fields" in soup.select_one("#origin-notice").get_text()
    assert soup.find("a", string="Reset to defaults") is None
    press(client, soup, "Delete Title")

    soup = page(client.get(address))
    assert soup.select_one("#origin-notice") is None
    assert "Title" not in row_names(soup)
    assert "Title" in [d.display_name for d in series.field_list.definitions]
    confirmation = page(client.get(f"{address}/reset"))
    assert "use its series' fields again" in confirmation.select_one(
        "#reset-effect"
    ).get_text(" ", strip=True)


def test_reset_asks_first_and_says_what_will_happen(
    admin_client: FlaskClient, make_event: Callable[..., Event]
) -> None:
    event = make_event(title="Launch")
    address = f"/admin/sessions/{event.id}/fields"
    press(admin_client, page(admin_client.get(address)), "Delete Title")

    soup = page(admin_client.get(address))
    assert soup.find("a", string="Reset to defaults")["href"] == f"{address}/reset"
    confirmation = page(admin_client.get(f"{address}/reset"))
    effect = confirmation.select_one("#reset-effect").get_text(" ", strip=True)
    assert effect.startswith(
        "This session's 6 fields will be replaced by a fresh copy of the defaults "
        "for scheduled sessions (7 fields)."
    )
    items = [li.get_text() for li in confirmation.select(".reset-fields li")]
    assert items[-1] == "Lead Source (hidden)"

    response = press(admin_client, confirmation, "Reset to defaults")

    assert response.status_code == 303
    assert response.headers["Location"] == address
    soup = page(admin_client.get(address))
    assert flashes(soup) == ["Launch has a fresh copy of the default fields."]
    assert row_names(soup) == DEFAULT_NAMES


def test_a_locked_room_is_read_only_for_its_host(
    admin_client: FlaskClient, host_client: tuple[FlaskClient, User]
) -> None:
    client, host = host_client
    room, _ = ensure_personal_rooms(host)
    db.session.commit()
    address = f"/admin/rooms/{room.id}/fields"
    title = next(
        d for d in effective_list(room).definitions if d.display_name == "Title"
    )
    token = csrf_token(client, address)

    press(admin_client, page(admin_client.get("/admin/fields")), "Lock defaults")

    soup = page(client.get(address))
    assert "The admin has locked the defaults for personal meeting rooms" in (
        soup.select_one("#locked-notice").get_text()
    )
    assert row_names(soup) == DEFAULT_NAMES
    assert soup.select(".field-table button") == []
    assert soup.find("a", string="New field") is None
    for method, target in [
        ("get", f"{address}/new"),
        ("post", f"{address}/new"),
        ("get", f"{address}/{title.id}"),
        ("post", f"{address}/{title.id}"),
        ("post", f"{address}/{title.id}/up"),
        ("post", f"{address}/{title.id}/delete"),
        ("get", f"{address}/reset"),
        ("post", f"{address}/reset"),
    ]:
        response = getattr(client, method)(target, data={"csrf_token": token})
        assert response.status_code == 403, (method, target)
    assert room.field_list is None
    # The admin still may.
    admin_view = page(admin_client.get(address))
    assert (
        "the host cannot change this list"
        in admin_view.select_one("#locked-notice").get_text()
    )
    assert press(admin_client, admin_view, "Delete Title").status_code == 303


def test_locking_can_put_customised_rooms_back_on_the_defaults(
    admin_client: FlaskClient, host_client: tuple[FlaskClient, User]
) -> None:
    client, host = host_client
    room, _ = ensure_personal_rooms(host)
    db.session.commit()
    address = f"/admin/rooms/{room.id}/fields"
    press(client, page(client.get(address)), "Delete Industry")
    assert "Industry" not in row_names(page(client.get(address)))

    scopes = page(admin_client.get("/admin/fields"))
    form = scopes.select_one("#scope-meeting_room form")
    checkbox = form.select_one("input[type=checkbox]")
    assert "Also put the 1 room with a list of its own back" in (
        form.find("label", attrs={"for": checkbox["id"]}).get_text()
    )
    data = {**form_data(form), checkbox["name"]: "y"}
    response = admin_client.post(form["action"], data=data)

    assert response.status_code == 303
    assert flashes(page(admin_client.get("/admin/fields"))) == [
        "Locked the defaults for personal meeting rooms. 1 room went back to them."
    ]
    assert row_names(page(client.get(address))) == DEFAULT_NAMES


# Done when: the admin's walk through the pages


def test_admin_adds_moves_resets_and_locks_as_the_issue_describes(
    admin_client: FlaskClient,
    host_client: tuple[FlaskClient, User],
    make_event: Callable[..., Event],
) -> None:
    host_browser, host = host_client
    room, _ = ensure_personal_rooms(host)
    earlier = make_event(host, title="Earlier session")
    db.session.commit()

    # A picklist field joins the scheduled-session defaults...
    response = add_through_the_page(
        admin_client,
        SCHEDULED_LIST,
        display_name="Region",
        lead_field="State",
        options="Europe, Middle East, Africa = EMEA\nAmericas = AMER\nAPAC",
    )
    assert response.status_code == 303
    # ...and moves up twice.
    for _ in range(2):
        soup = page(admin_client.get(SCHEDULED_LIST))
        assert press(admin_client, soup, "Move Region up").status_code == 303
    soup = page(admin_client.get(SCHEDULED_LIST))
    assert row_names(soup) == [
        "First Name",
        "Last Name",
        "Email",
        "Company",
        "Title",
        "Region",
        "Industry",
        "Lead Source",
    ]

    # A new session's registration page shows it in that place.
    new_session = make_event(host, title="New session")
    assert register_field_names(admin_client, new_session) == [
        "sf_FirstName",
        "sf_LastName",
        "sf_Email",
        "sf_Company",
        "sf_Title",
        "sf_Region",
        "sf_Industry",
        "sf_LeadSource",
    ]

    # A session made earlier gets it by a reset to defaults.
    assert "sf_Region" not in register_field_names(admin_client, earlier)
    reset_page = page(admin_client.get(f"/admin/sessions/{earlier.id}/fields/reset"))
    assert press(admin_client, reset_page, "Reset to defaults").status_code == 303
    assert "sf_Region" in register_field_names(admin_client, earlier)

    # The host may change their room's list until the admin locks the scope.
    room_fields = f"/admin/rooms/{room.id}/fields"
    assert page(host_browser.get(room_fields)).select(".field-table button")
    scopes = page(admin_client.get("/admin/fields"))
    lock = scopes.select_one("#scope-meeting_room form")
    assert admin_client.post(lock["action"], data=form_data(lock)).status_code == 303

    soup = page(host_browser.get(room_fields))
    assert soup.select_one("#locked-notice") is not None
    assert soup.select(".field-table button") == []
    title = next(
        d for d in effective_list(room).definitions if d.display_name == "Title"
    )
    token = csrf_token(host_browser, "/admin/")
    assert (
        host_browser.post(
            f"{room_fields}/{title.id}/delete", data={"csrf_token": token}
        ).status_code
        == 403
    )
