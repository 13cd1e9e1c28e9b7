"""Tracked links: addresses with prefill values, checked as the form checks them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from portal.extensions import db
from portal.models import Event, FieldDefinition, Role, User
from portal.services.tracked_links import (
    InvalidLinkValues,
    LinkPage,
    build_tracked_link,
)
from tests.conftest import form_values, page


def query_of(address: str) -> str:
    return urlsplit(address).query


def definition(event: Event, display_name: str) -> FieldDefinition:
    """One definition of the session's own field list."""
    assert event.field_list is not None
    return next(
        item
        for item in event.field_list.definitions
        if item.display_name == display_name
    )


def errors_of(
    event: Event, prefill: dict[str, str], utm: dict[str, str] | None = None
) -> dict[str, str]:
    with pytest.raises(InvalidLinkValues) as raised:
        build_tracked_link(event, LinkPage.REGISTER, prefill, utm)
    return raised.value.errors


def test_parameters_follow_the_field_list_order_not_the_order_given(
    make_event: Callable[..., Event],
) -> None:
    event = make_event()

    link = build_tracked_link(
        event,
        LinkPage.REGISTER,
        {
            "sf_LeadSource": "Newsletter",
            "sf_Industry": "Banking",
            "sf_FirstName": "Ada",
            "sf_Company": "Engines",
        },
    )

    assert link.address == (
        f"http://portal.test/e/{event.key}/register?sf_FirstName=Ada"
        "&sf_Company=Engines&sf_Industry=Banking&sf_LeadSource=Newsletter"
    )
    assert [(value.label, value.value) for value in link.values] == [
        ("First Name", "Ada"),
        ("Company", "Engines"),
        ("Industry", "Banking"),
        ("Lead Source", "Newsletter"),
    ]


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        ("Spring Newsletter", "Spring+Newsletter"),
        ("Partner Webinar & Co", "Partner+Webinar+%26+Co"),
        ("Café Zürich", "Caf%C3%A9+Z%C3%BCrich"),
        ("50% off = 1+1", "50%25+off+%3D+1%2B1"),
        ("a#b?c/d", "a%23b%3Fc%2Fd"),
        ("東京セミナー", "%E6%9D%B1%E4%BA%AC%E3%82%BB%E3%83%9F%E3%83%8A%E3%83%BC"),
    ],
)
def test_values_are_encoded_so_the_form_reads_them_back_unchanged(
    make_event: Callable[..., Event], value: str, encoded: str
) -> None:
    event = make_event()

    link = build_tracked_link(event, LinkPage.REGISTER, {"sf_LeadSource": value})

    assert query_of(link.address) == f"sf_LeadSource={encoded}"
    assert parse_qsl(query_of(link.address)) == [("sf_LeadSource", value)]


@pytest.mark.parametrize(
    ("page_kind", "path"),
    [
        (LinkPage.REGISTER, "/e/{key}/register"),
        (LinkPage.JOIN, "/e/{key}/join"),
        (LinkPage.EMBED, "/embed/{key}/register"),
    ],
)
def test_each_page_has_its_own_address_and_only_the_embed_a_snippet(
    make_event: Callable[..., Event], page_kind: LinkPage, path: str
) -> None:
    event = make_event(title="Ask <us> anything")

    link = build_tracked_link(event, page_kind, {"sf_LeadSource": "A & B"})

    expected = "http://portal.test" + path.format(key=event.key)
    assert link.address == expected + "?sf_LeadSource=A+%26+B"
    if page_kind is LinkPage.EMBED:
        frame, script = link.snippet.split("\n")
        assert frame == (
            f'<iframe src="{expected}?sf_LeadSource=A+%26+B" '
            'title="Register for Ask &lt;us&gt; anything" '
            'style="width:100%;min-height:760px;border:0" loading="lazy"></iframe>'
        )
        assert script.startswith("<script>")
        assert 'e.origin!=="http://portal.test"' in script
    else:
        assert link.snippet is None


def test_the_embed_snippet_escapes_the_ampersands_between_parameters(
    make_event: Callable[..., Event],
) -> None:
    event = make_event()

    link = build_tracked_link(
        event, LinkPage.EMBED, {"sf_Title": "CTO", "sf_LeadSource": "Partner"}
    )

    assert link.snippet is not None
    assert link.snippet.startswith(
        f'<iframe src="http://portal.test/embed/{event.key}/register'
        '?sf_Title=CTO&amp;sf_LeadSource=Partner"'
    )


def test_empty_values_are_left_out_and_text_is_normalised(
    make_event: Callable[..., Event],
) -> None:
    event = make_event()

    link = build_tracked_link(
        event,
        LinkPage.REGISTER,
        {
            "sf_FirstName": "",
            "sf_Title": "   ",
            "sf_LeadSource": "  Spring\tNews\u200bletter \n 2030 ",
        },
    )

    assert query_of(link.address) == "sf_LeadSource=Spring+Newsletter+2030"


def test_no_values_give_the_plain_address(make_event: Callable[..., Event]) -> None:
    event = make_event()

    link = build_tracked_link(event, LinkPage.JOIN, {})

    assert link.address == f"http://portal.test/e/{event.key}/join"
    assert link.values == ()


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("Banking", "Banking"),
        ("banking", "Banking"),
        ("  FOOD & beverage ", "Food & Beverage"),
        ("Something else", "Other"),
        ("other", "Other"),
    ],
)
def test_a_picklist_value_may_name_an_option_by_shown_text_or_stored_value(
    make_event: Callable[..., Event], given: str, stored: str
) -> None:
    event = make_event()

    link = build_tracked_link(event, LinkPage.REGISTER, {"sf_Industry": given})

    assert parse_qsl(query_of(link.address)) == [("sf_Industry", stored)]


def test_a_hidden_picklist_is_checked_against_its_options_too(
    make_event: Callable[..., Event],
) -> None:
    event = make_event()
    industry = definition(event, "Industry")
    industry.is_hidden = True
    db.session.commit()

    assert errors_of(event, {"sf_Industry": "Bankers"}) == {
        "sf_Industry": "Industry: “Bankers” is not one of the options offered."
    }
    link = build_tracked_link(
        event, LinkPage.REGISTER, {"sf_Industry": "something else"}
    )
    assert query_of(link.address) == "sf_Industry=Other"


def test_every_refused_value_gets_its_own_message(
    make_event: Callable[..., Event],
) -> None:
    event = make_event()

    errors = errors_of(
        event,
        {
            "sf_FirstName": "Ada",
            "sf_Email": "ada at example.com",
            "sf_Industry": "Knitting",
            "sf_Title": "x" * 129,
        },
    )

    assert list(errors) == ["sf_Email", "sf_Title", "sf_Industry"]
    assert errors["sf_Email"] == "Email: An email address must have an @-sign."
    assert errors["sf_Industry"] == (
        "Industry: “Knitting” is not one of the options offered."
    )
    assert errors["sf_Title"] == (
        "Title can be at most 128 characters; this value has 129."
    )


@pytest.mark.parametrize(
    ("field", "length", "is_accepted"),
    [
        ("sf_Title", 128, True),
        ("sf_Title", 129, False),
        ("sf_LeadSource", 255, True),
        ("sf_LeadSource", 256, False),
        ("sf_FirstName", 40, True),
        ("sf_FirstName", 41, False),
    ],
)
def test_lengths_come_from_the_crm_fields_the_field_writes_to(
    make_event: Callable[..., Event], field: str, length: int, is_accepted: bool
) -> None:
    event = make_event()
    prefill = {field: "é" * length}

    if is_accepted:
        link = build_tracked_link(event, LinkPage.REGISTER, prefill)
        assert parse_qsl(query_of(link.address)) == [(field, "é" * length)]
    else:
        assert "at most" in errors_of(event, prefill)[field]


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("ada@example.com", "ada@example.com"),
        ("  Ada.Lovelace@Example.COM ", "Ada.Lovelace@example.com"),
        ("ada@bücher.de", "ada@xn--bcher-kva.de"),
    ],
)
def test_an_email_is_checked_and_normalised_like_the_form_does(
    make_event: Callable[..., Event], given: str, stored: str
) -> None:
    event = make_event()

    link = build_tracked_link(event, LinkPage.REGISTER, {"sf_Email": given})

    assert parse_qsl(query_of(link.address)) == [("sf_Email", stored)]


@pytest.mark.parametrize("given", ["ada", "ada@", "@example.com", "adä@example.com"])
def test_an_address_the_form_would_refuse_is_refused(
    make_event: Callable[..., Event], given: str
) -> None:
    event = make_event()

    assert errors_of(event, {"sf_Email": given})["sf_Email"].startswith("Email: ")


def test_a_parameter_that_names_no_field_is_refused(
    make_event: Callable[..., Event],
) -> None:
    event = make_event()

    assert errors_of(event, {"sf_Shoesize": "42"}) == {
        "sf_Shoesize": "sf_Shoesize names no field of this session's form."
    }


def test_a_hidden_required_field_without_default_needs_a_value(
    make_event: Callable[..., Event],
) -> None:
    event = make_event()
    lead_source = definition(event, "Lead Source")
    lead_source.is_required = True
    lead_source.default_value = ""
    db.session.commit()

    assert errors_of(event, {})["sf_LeadSource"] == (
        "Lead Source is hidden and required but has no default: give it a value "
        "here, or attendees cannot send the form."
    )
    link = build_tracked_link(event, LinkPage.REGISTER, {"sf_LeadSource": "Ads"})
    assert query_of(link.address) == "sf_LeadSource=Ads"


def test_the_sessions_own_field_list_decides(make_event: Callable[..., Event]) -> None:
    event = make_event()
    renamed = definition(event, "Lead Source")
    renamed.display_name = "Came From"
    renamed.param_key = "camefrom"
    db.session.commit()

    link = build_tracked_link(event, LinkPage.REGISTER, {"sf_CameFrom": "Ads"})

    assert query_of(link.address) == "sf_CameFrom=Ads"
    assert "sf_LeadSource" in errors_of(event, {"sf_LeadSource": "Ads"})


def test_campaign_tags_follow_the_fields_in_their_usual_order(
    make_event: Callable[..., Event],
) -> None:
    event = make_event()

    link = build_tracked_link(
        event,
        LinkPage.REGISTER,
        {"sf_LeadSource": "Newsletter"},
        {"utm_campaign": "spring 2030", "utm_source": "newsletter", "utm_term": ""},
    )

    assert query_of(link.address) == (
        "sf_LeadSource=Newsletter&utm_source=newsletter&utm_campaign=spring+2030"
    )


def test_only_the_five_campaign_tags_are_taken(
    make_event: Callable[..., Event],
) -> None:
    event = make_event()

    errors = errors_of(
        event, {}, {"utm_id": "7", "sf_LeadSource": "x", "utm_content": "y" * 256}
    )

    assert errors == {
        "utm_id": "utm_id is not a campaign parameter the portal passes on.",
        "sf_LeadSource": "sf_LeadSource is not a campaign parameter the portal "
        "passes on.",
        "utm_content": "utm_content can be at most 255 characters.",
    }


def test_a_room_has_no_tracked_links(make_user: Callable[..., User]) -> None:
    host = make_user(role=Role.HOST)
    room = db.session.scalars(
        sa.select(Event).where(Event.owner_id == host.id, Event.room_kind.is_not(None))
    ).first()
    assert room is not None

    with pytest.raises(ValueError, match="join page only"):
        build_tracked_link(room, LinkPage.JOIN, {})


def test_an_ended_session_and_a_missing_meeting_address_are_pointed_out(
    make_event: Callable[..., Event],
) -> None:
    past = datetime.now(UTC) - timedelta(days=2)
    event = make_event(starts_at=past, join_url="")

    register = build_tracked_link(event, LinkPage.REGISTER, {})
    join = build_tracked_link(event, LinkPage.JOIN, {})

    assert register.notices == (
        "This session has ended: its registration form no longer takes registrations.",
    )
    assert join.notices == (
        "This session has no meeting address yet: its join page records nothing "
        "until one is set.",
    )
    assert build_tracked_link(make_event(), LinkPage.JOIN, {}).notices == ()


@pytest.mark.parametrize("page_kind", [LinkPage.REGISTER, LinkPage.EMBED])
def test_the_form_opened_with_a_link_starts_with_its_values(
    client: FlaskClient, make_event: Callable[..., Event], page_kind: LinkPage
) -> None:
    event = make_event()
    link = build_tracked_link(
        event,
        page_kind,
        {
            "sf_FirstName": "Zoë",
            "sf_Email": "Zoe@Example.com",
            "sf_Industry": "something else",
            "sf_LeadSource": "Partner Webinar & Co",
        },
        {"utm_source": "partner"},
    )

    values = form_values(page(client.get(link.address)))

    assert values["sf_FirstName"] == "Zoë"
    assert values["sf_Email"] == "Zoe@example.com"
    assert values["sf_Industry"] == "Other"
    assert values["sf_LeadSource"] == "Partner Webinar & Co"


def test_refused_fields_and_campaign_tags_are_reported_together(
    make_event: Callable[..., Event],
) -> None:
    event = make_event()

    errors = errors_of(event, {"sf_Industry": "Knitting"}, {"utm_term": "t" * 300})

    assert list(errors) == ["sf_Industry", "utm_term"]
