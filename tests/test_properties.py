"""Property test: whatever is sent to the public pages, no 500 and nothing half written.

Hypothesis sends arbitrary field values, query parameters and bodies, with valid,
expired, forged, foreign and missing tokens, to the hosted and embedded registration
forms, the direct join page and a personal room. After each example the database must
hold no registrant without an activity and no activity without its registrant.

The number of examples comes from the Hypothesis profile (see conftest): ``dev``, the
default, runs 200; ``ci`` (``HYPOTHESIS_PROFILE=ci``, set by ``.ci/run``) a thousand
on each database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import event, given
from hypothesis import strategies as st

from portal.extensions import db
from portal.models import Activity, ActivityKind, Event, Registrant
from portal.services.events import ensure_personal_rooms
from tests.conftest import form_values, page

FIELDS = [
    "sf_FirstName",
    "sf_LastName",
    "sf_Email",
    "sf_Company",
    "sf_Title",
    "sf_Industry",
    "sf_LeadSource",
]
PAGES = {
    "register": "/e/{key}/register",
    "embed": "/embed/{key}/register",
    "join": "/e/{key}/join",
    "room": "/room/{room}/join",
}
#: A valid token is drawn most often: it is what lets an example store something.
TOKENS = [
    "valid",
    "valid",
    "valid",
    "expired",
    "missing",
    "forged",
    "other page",
    "reused",
]

#: Text without lone surrogates (which no browser can send as UTF-8).
any_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=300)
emails = st.one_of(
    st.emails().map(str),
    st.emails().map(str),
    st.sampled_from(
        [
            "ada@example.com",
            " ADA@Example.com ",
            "ada+tag@example.com",
            "ada@bücher.de",
            "zoë@example.com",
            "ada@",
            "",
        ]
    ),
    any_text,
)
values = st.one_of(
    any_text,
    st.sampled_from(["Ada", "Zoe\u0308", "Other", "Banking", "x" * 300, "\x00", " "]),
)
#: Mostly usable, so that many examples get as far as storing something.
names = st.one_of(
    st.sampled_from(["Ada", "Lovelace", "Zoe\u0308", "O'Brien", "Analytical Engines"]),
    st.text(st.characters(categories=("L", "Zs")), min_size=1, max_size=30),
    values,
)


@dataclass(frozen=True)
class Submission:
    """One example: what page, which token, what query and what body."""

    page: str
    token: str
    query: dict[str, str]
    fields: dict[str, str]
    extra: dict[str, str]
    raw_body: bytes | None
    personal_link: str | None
    #: Instead of the session's key in the address.
    wrong_key: str | None


submissions = st.builds(
    Submission,
    page=st.sampled_from(list(PAGES)),
    token=st.sampled_from(TOKENS),
    query=st.dictionaries(
        st.one_of(st.sampled_from([*FIELDS, "sf_", "sf_Nope", "t", "sig"]), any_text),
        values,
        max_size=4,
    ),
    fields=st.fixed_dictionaries(
        {name: names for name in FIELDS[:2]}
        | {"sf_Email": emails, "sf_Company": names},
        optional={
            **{name: values for name in FIELDS[4:]},
            "comments": st.sampled_from(["", "", "", "spam"]),
            "join_password": values,
        },
    ),
    extra=st.dictionaries(any_text, any_text, max_size=3),
    raw_body=st.one_of(st.none(), st.none(), st.none(), st.binary(max_size=500)),
    personal_link=st.one_of(st.none(), st.none(), st.just("known"), any_text),
    wrong_key=st.one_of(*[st.none()] * 6, any_text.filter(lambda key: "/" not in key)),
)


@dataclass
class Site:
    """The session, room and clients every example uses."""

    event: Event
    room_key: str
    client: FlaskClient
    impatient: FlaskClient

    def address(self, name: str, key: str | None = None) -> str:
        """The page's address, with ``key`` in place of the session's or room's."""
        if key is not None:
            return PAGES[name].format(key=quote(key, safe=""), room=quote(key, safe=""))
        return PAGES[name].format(key=self.event.key, room=self.room_key)


@pytest.fixture
def site(make_app: Callable[..., Flask], make_event: Callable[..., Event]) -> Site:
    event = make_event(join_password="")
    room = ensure_personal_rooms(event.owner)[0]
    room.join_url = "https://meet.example.com/room"
    db.session.commit()
    # Processing is left to a worker: the pages' own work is what is under test.
    settings_ = {"PROCESSING": "worker"}
    return Site(
        event=event,
        room_key=room.key,
        client=make_app(**settings_).test_client(),
        impatient=make_app(FORM_TOKEN_MAX_AGE=-1, **settings_).test_client(),
    )


def _token(site: Site, submission: Submission, shown: Any) -> str | None:
    """The form token the example sends."""
    tokens = {
        "missing": None,
        "forged": "eyJwYWdlIjoicmVnaXN0ZXIifQ.forged.signature",
    }
    if submission.token in tokens:
        return tokens[submission.token]
    if submission.token == "other page":
        elsewhere = site.client.get(
            site.address("join" if submission.page != "join" else "register")
        )
        return form_values(page(elsewhere)).get("form_token")
    return (
        form_values(page(shown)).get("form_token") if shown.status_code == 200 else None
    )


def _send(site: Site, submission: Submission) -> list[int]:
    url = site.address(submission.page, key=submission.wrong_key)
    query = dict(submission.query)
    if submission.personal_link == "known":
        known = db.session.scalars(sa.select(Registrant.token).limit(1)).first()
        if known:
            query["t"] = known
    elif submission.personal_link is not None:
        query["t"] = submission.personal_link

    shown = site.client.get(url, query_string=query)
    statuses = [shown.status_code]
    sender = site.impatient if submission.token == "expired" else site.client
    if submission.raw_body is not None:
        sent = sender.post(
            url,
            query_string=query,
            data=submission.raw_body,
            content_type="application/x-www-form-urlencoded",
        )
        return [*statuses, sent.status_code]

    body = {**submission.extra, **submission.fields}
    token = _token(site, submission, shown)
    if token is not None:
        body["form_token"] = token
    statuses.append(sender.post(url, query_string=query, data=body).status_code)
    if submission.token == "reused":
        statuses.append(sender.post(url, query_string=query, data=body).status_code)
    return statuses


def _half_written() -> dict[str, int]:
    """Counts of records that should never exist; all zero when nothing is half done."""
    visits = sa.select(Activity.registrant_id).where(
        Activity.kind.in_([ActivityKind.REGISTER, ActivityKind.JOIN])
    )
    registered_without_activity = (
        sa.select(sa.func.count())
        .select_from(Registrant)
        .where(
            Registrant.registered_at.is_not(None),
            ~sa.exists().where(
                Activity.registrant_id == Registrant.id,
                Activity.kind == ActivityKind.REGISTER,
            ),
        )
    )
    return {
        "registrants without an activity": db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Registrant)
            .where(
                Registrant.id.not_in(visits.where(Activity.registrant_id.is_not(None)))
            )
        )
        or 0,
        "registered without a register activity": db.session.scalar(
            registered_without_activity
        )
        or 0,
        "visits without a registrant": db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Activity)
            .where(
                Activity.kind.in_([ActivityKind.REGISTER, ActivityKind.JOIN]),
                Activity.registrant_id.is_(None),
            )
        )
        or 0,
    }


@given(submission=submissions)
def test_public_pages_never_fail_and_never_half_write(
    site: Site, submission: Submission
) -> None:
    statuses = _send(site, submission)
    # Shown with --hypothesis-show-statistics: how often each answer came.
    event(f"{submission.page} answered {statuses[-1]}")

    assert all(status < 500 for status in statuses), statuses
    db.session.expire_all()
    assert _half_written() == {
        "registrants without an activity": 0,
        "registered without a register activity": 0,
        "visits without a registrant": 0,
    }
