"""Registering attendees and recording joins: registrant and activity, one commit."""

from __future__ import annotations

import enum
import hashlib
import logging
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from portal.errors import PortalError
from portal.extensions import db
from portal.models import (
    Activity,
    ActivityKind,
    Event,
    FixedField,
    Registrant,
    utcnow,
)
from portal.models.activity import mail_queue_key
from portal.services.action_sets import effective_action_set
from portal.services.email_addresses import parse_email
from portal.services.fields import Answer
from portal.services.runners import process_soon

logger = logging.getLogger(__name__)


class RegistrationClosed(PortalError):
    """The session is over, or is a room that takes no registrations."""


class RegistrationOutcome(enum.Enum):
    """What a registration form led to."""

    #: A new registration.
    NEW = "new"
    #: The same form sent again (a second click): the same registration.
    REPEATED = "repeated"
    #: Somebody registered this email before, with another form. The form's sender
    #: may not be that person, so they are told, and the owner is written to.
    ALREADY_REGISTERED = "already_registered"


@dataclass(frozen=True, slots=True)
class Registration:
    """The outcome of a registration form and the registrant it concerns."""

    registrant: Registrant
    outcome: RegistrationOutcome
    #: For an email registered before: whether the confirmation was sent again now.
    confirmation_resent: bool = False

    @property
    def may_see_confirmation(self) -> bool:
        """Whether the sender may see the confirmation (and its personal link)."""
        return self.outcome is not RegistrationOutcome.ALREADY_REGISTERED


def new_registrant_token() -> str:
    """The secret of a personal join link: 192 random bits, URL-safe."""
    return secrets.token_urlsafe(24)


def register_attendee(
    event: Event,
    answers: Sequence[Answer],
    *,
    submission_id: str,
    now: datetime | None = None,
) -> Registration:
    """Record a registration and its register activity in one transaction.

    The same form sent twice makes one registration. An email registered before, with
    another form, changes nothing: the confirmation is sent again to that address
    (at most once an hour), and the sender is not shown it.
    """
    now = now or utcnow()
    if event.is_room or event.has_ended(now):
        raise RegistrationClosed(f"Registration for {event.title!r} is closed.")
    identity = _identity(answers)

    registrant = _find_registrant(event, identity.key)
    if registrant is not None and registrant.registered_at is not None:
        return _repeat(registrant, submission_id, answers, now)

    if registrant is None:
        registrant = _new_registrant(event, identity, answers)
        db.session.add(registrant)
    else:
        # Joined before without registering; the registration completes the record.
        registrant.first_name = identity.first_name
        registrant.last_name = identity.last_name
        registrant.answers = [answer.as_dict() for answer in answers]
    registrant.registered_at = now
    activity = Activity(
        kind=ActivityKind.REGISTER,
        event=event,
        registrant=registrant,
        person_key=identity.key,
        occurred_at=now,
        payload={
            "answers": [answer.as_dict() for answer in answers],
            "submission": submission_id,
        },
        # One register activity per registrant, whatever races.
        dedupe_key=f"register:{event.id}:{_tag(identity.key)}",
    )
    db.session.add(activity)
    try:
        db.session.flush()
        # Read now: after the commit each would cost a query to load again.
        event_id, registrant_id = event.id, registrant.id
        db.session.commit()
    except IntegrityError:
        # Another request registered the same email a moment ago: theirs stands.
        db.session.rollback()
        existing = _find_registrant(event, identity.key)
        if existing is None or existing.registered_at is None:
            raise
        return _repeat(existing, submission_id, answers, now)

    logger.info(
        "Registered %s for event %s (registrant %s)",
        identity.address,
        event_id,
        registrant_id,
    )
    process_soon([activity])
    return Registration(registrant, RegistrationOutcome.NEW)


def _repeat(
    registrant: Registrant,
    submission_id: str,
    answers: Sequence[Answer],
    now: datetime,
) -> Registration:
    """A second registration for an email: the same form again, or someone else's.

    Only the very form that registered, sent again with the very same answers (a
    second click), counts as the same person; a form page served to several people
    from a cache shares its token, but not its answers.
    """
    first = db.session.scalar(
        sa.select(Activity).where(
            Activity.registrant_id == registrant.id,
            Activity.kind == ActivityKind.REGISTER,
        )
    )
    payload = first.payload if first is not None else {}
    if payload.get("submission") == submission_id and payload.get("answers") == [
        answer.as_dict() for answer in answers
    ]:
        return Registration(registrant, RegistrationOutcome.REPEATED)
    resent = _resend_confirmation(registrant, now)
    return Registration(registrant, RegistrationOutcome.ALREADY_REGISTERED, resent)


#: A registration this recent has its confirmation on the way; none is sent again.
RECENT_REGISTRATION = timedelta(minutes=10)


def _resend_confirmation(registrant: Registrant, now: datetime) -> bool:
    """Queue the confirmation email again, if emails are on and none went out lately.

    At most once an hour, and never within ten minutes of the registration (two
    people registering one email at once would otherwise get two confirmations).
    Returns whether a message was queued.
    """
    settings = effective_action_set(registrant.event).for_trigger(ActivityKind.REGISTER)
    if settings is None or not settings.sends_email:
        return False
    registered_at = registrant.registered_at
    if registered_at is not None and now - registered_at < RECENT_REGISTRATION:
        return False
    activity = Activity(
        kind=ActivityKind.EMAIL,
        event=registrant.event,
        registrant=registrant,
        person_key=mail_queue_key(registrant.email_key),
        occurred_at=now,
        payload={"message": ActivityKind.REGISTER.value, "resent": True},
        dedupe_key=f"resend:{registrant.id}:{now:%Y%m%d%H}",
    )
    db.session.add(activity)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return False
    logger.info("Queued the confirmation again for registrant %s", registrant.id)
    process_soon([activity])
    return True


def record_join(
    event: Event,
    *,
    submission_id: str,
    answers: Sequence[Answer] = (),
    registrant: Registrant | None = None,
    now: datetime | None = None,
) -> Registrant:
    """Record that an attendee joined through the portal's join page.

    The attendee is either a known registrant (a personal join link) or is described
    by the form's ``answers``; a first visit makes the registrant, in the same
    transaction as the join. The same form sent twice records one join.
    """
    now = now or utcnow()
    # The same form sent twice by the same person is one join; the same form sent
    # again with another email (a corrected typo, a colleague) is another.
    who = registrant.email_key if registrant is not None else _identity(answers).key
    join = _Join(
        event=event,
        dedupe_key=f"join-page:{event.id}:{submission_id}:{_tag(who)}",
        answers=tuple(answers),
        occurred_at=now,
    )
    try:
        return join.commit(registrant or join.find_or_make_registrant())
    except IntegrityError:
        db.session.rollback()

    repeated = _registrant_of_activity(join.dedupe_key)
    if repeated is not None:
        logger.info("Ignored a repeated join form for event %s", event.id)
        return repeated
    # A concurrent first join with the same email made the registrant between our
    # look-up and our commit; this time the look-up finds it.
    return join.commit(registrant or join.find_or_make_registrant())


@dataclass(frozen=True, slots=True)
class _Join:
    event: Event
    dedupe_key: str
    answers: tuple[Answer, ...]
    occurred_at: datetime

    def find_or_make_registrant(self) -> Registrant:
        identity = _identity(self.answers)
        return _find_registrant(self.event, identity.key) or _new_registrant(
            self.event, identity, self.answers
        )

    def commit(self, registrant: Registrant) -> Registrant:
        activity = Activity(
            kind=ActivityKind.JOIN,
            event=self.event,
            registrant=registrant,
            person_key=registrant.email_key,
            occurred_at=self.occurred_at,
            payload={
                "source": "join_page",
                "answers": [answer.as_dict() for answer in self.answers],
            },
            dedupe_key=self.dedupe_key,
        )
        db.session.add(activity)
        db.session.flush()
        # Read now: after the commit each would cost a query to load again.
        email, event_id, registrant_id = registrant.email, self.event.id, registrant.id
        db.session.commit()
        logger.info(
            "Recorded a join by %s for event %s (registrant %s)",
            email,
            event_id,
            registrant_id,
        )
        process_soon([activity])
        return registrant


_URL_SAFE_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,43}")


def registrant_by_token(event: Event, token: str) -> Registrant | None:
    """The registrant of ``event`` whose personal link carries ``token``."""
    # Tokens are URL-safe base64; anything else (a NUL byte, which PostgreSQL
    # refuses to compare) belongs to nobody.
    if not _URL_SAFE_TOKEN.fullmatch(token):
        return None
    registrant = db.session.scalar(
        sa.select(Registrant).where(Registrant.token == token)
    )
    if registrant is None or registrant.event_id != event.id:
        return None
    return registrant


@dataclass(frozen=True, slots=True)
class _Identity:
    address: str
    key: str
    first_name: str
    last_name: str


def _identity(answers: Sequence[Answer]) -> _Identity:
    by_fixed = {answer.fixed: answer.value for answer in answers if answer.fixed}
    email = parse_email(by_fixed.get(FixedField.EMAIL, ""))
    return _Identity(
        address=email.address,
        key=email.key,
        first_name=by_fixed.get(FixedField.FIRST_NAME, ""),
        last_name=by_fixed.get(FixedField.LAST_NAME, ""),
    )


def _tag(email_key: str) -> str:
    """A short, fixed-length stand-in for an email inside a dedupe key."""
    return hashlib.sha256(email_key.encode()).hexdigest()[:24]


def _find_registrant(event: Event, email_key: str) -> Registrant | None:
    return db.session.scalar(
        sa.select(Registrant).where(
            Registrant.event_id == event.id, Registrant.email_key == email_key
        )
    )


def _new_registrant(
    event: Event, identity: _Identity, answers: Sequence[Answer]
) -> Registrant:
    return Registrant(
        event=event,
        token=new_registrant_token(),
        email=identity.address,
        email_key=identity.key,
        first_name=identity.first_name,
        last_name=identity.last_name,
        answers=[answer.as_dict() for answer in answers],
    )


def _registrant_of_activity(dedupe_key: str) -> Registrant | None:
    """The registrant of the activity recorded under ``dedupe_key``, if any."""
    activity = db.session.scalar(
        sa.select(Activity).where(Activity.dedupe_key == dedupe_key)
    )
    return activity.registrant if activity is not None else None
