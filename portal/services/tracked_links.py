"""Tracked links: a session's address with prefill values, checked like the form.

A marketer hands out ``/e/<key>/register?sf_LeadSource=Partner+Webinar`` so that the
registrant's lead source says where they came from. The values are checked here
exactly as the public form will check them when the attendee sends it, so that a
link never fills a field with a value the attendee would then be refused for (or,
for a hidden field, could not even see and correct). A link that fills a locked
field is signed (``sig``, over every ``sf_`` value), which is what lets it fill it.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from portal.errors import ValidationFailed
from portal.forms.attendee import clean_text, field_kind
from portal.models import Event, utcnow
from portal.services.email_addresses import InvalidEmail, parse_email
from portal.services.fields import FieldSpec, effective_fields
from portal.services.framing import allowed_frame_origins
from portal.services.links import embed_snippet, event_addresses
from portal.services.prefill import SIGNATURE_PARAMETER, read_prefill, sign_prefill

#: The campaign parameters web analytics and email tools read. The portal ignores
#: them; a link may carry them so that it matches the marketer's other links.
UTM_PARAMETERS = (
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
)
UTM_MAX_LENGTH = 255


class LinkPage(enum.Enum):
    """The public pages of a session a tracked link can open."""

    REGISTER = "register"
    JOIN = "join"
    EMBED = "embed"

    @property
    def label(self) -> str:
        """How the page is named to people."""
        return {
            LinkPage.REGISTER: "Hosted registration page",
            LinkPage.JOIN: "Direct join page",
            LinkPage.EMBED: "Embeddable form (iframe)",
        }[self]


@dataclass(frozen=True, slots=True)
class LinkValue:
    """One parameter of a tracked link: its name, what it fills, and its value."""

    parameter: str
    label: str
    value: str


@dataclass(frozen=True, slots=True)
class TrackedLink:
    """A built link: the address, and for the embeddable form its ``<iframe>``."""

    page: LinkPage
    address: str
    values: tuple[LinkValue, ...]
    snippet: str | None
    #: Facts about the session the marketer should know before handing it out.
    notices: tuple[str, ...]


class InvalidLinkValues(ValidationFailed):
    """Some values would be refused by the form; ``errors`` has one per parameter."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        field, message = next(iter(errors.items()))
        super().__init__(message, field)
        self.errors = dict(errors)


def build_tracked_link(
    event: Event,
    page: LinkPage,
    prefill: Mapping[str, str],
    utm: Mapping[str, str] | None = None,
    *,
    now: datetime | None = None,
) -> TrackedLink:
    """The address (and iframe snippet) of ``page`` prefilled with ``prefill``.

    ``prefill`` maps prefill parameters (``sf_LeadSource``) to values, ``utm`` maps
    names of :data:`UTM_PARAMETERS` to values. Raises :class:`InvalidLinkValues`
    with a message per parameter when the form would refuse a value.
    """
    if event.is_room:
        raise ValueError("Personal rooms have a join page only; no tracked links.")

    specs = effective_fields(event)
    fields, errors = prefill_values(specs, prefill)
    tags, tag_errors = campaign_tags(utm or {})
    errors.update(tag_errors)
    if errors:
        raise InvalidLinkValues(errors)
    values = (*fields, *tags)

    parameters = [(value.parameter, value.value) for value in fields]
    locked = {spec.param_name for spec in specs if spec.is_locked}
    if any(value.parameter in locked for value in fields):
        signature = sign_prefill(event.key, read_prefill(parameters))
        parameters.append((SIGNATURE_PARAMETER, signature))
    parameters += [(value.parameter, value.value) for value in tags]
    address = with_query(page_address(event, page), parameters)

    return TrackedLink(
        page=page,
        address=address,
        values=values,
        snippet=embed_snippet(address, event.title) if page is LinkPage.EMBED else None,
        notices=link_notices(event, page, now=now or utcnow()),
    )


def prefill_values(
    specs: tuple[FieldSpec, ...], prefill: Mapping[str, str]
) -> tuple[tuple[LinkValue, ...], dict[str, str]]:
    """The parameters that fill the fields, in the list's order, as the form stores
    them (empty values left out); and a message per value the form would refuse.

    Text is normalised like typed text, a picklist value may name an option by its
    shown text or stored value (the link carries the stored value), an email is
    checked and normalised. A parameter that names no field of the list is refused.
    """
    known = {spec.param_name for spec in specs}
    errors = {
        name: f"{name} names no field of this session's form."
        for name in prefill
        if name not in known
    }

    values = []
    for spec in specs:
        value, message = _checked(spec, prefill.get(spec.param_name, ""))
        if message:
            errors[spec.param_name] = message
        elif value:
            values.append(LinkValue(spec.param_name, spec.display_name, value))
    return tuple(values), errors


def campaign_tags(
    utm: Mapping[str, str],
) -> tuple[tuple[LinkValue, ...], dict[str, str]]:
    """The campaign parameters given, in their usual order (empty ones left out);
    and a message per name or value refused."""
    errors = {}
    values = []
    for name in utm:
        if name not in UTM_PARAMETERS:
            errors[name] = f"{name} is not a campaign parameter the portal passes on."
    for name in UTM_PARAMETERS:
        value = clean_text(utm.get(name, ""))
        if len(value) > UTM_MAX_LENGTH:
            errors[name] = f"{name} can be at most {UTM_MAX_LENGTH} characters."
        elif value:
            values.append(LinkValue(name, name, value))
    return tuple(values), errors


def page_address(event: Event, page: LinkPage) -> str:
    """The plain address of one of a session's public pages."""
    addresses = event_addresses(event)
    address = {
        LinkPage.REGISTER: addresses.register,
        LinkPage.JOIN: addresses.join,
        LinkPage.EMBED: addresses.embed,
    }[page]
    if address is None:
        raise ValueError(f"{event!r} has no {page.value} page.")
    return address


def with_query(address: str, parameters: list[tuple[str, str]]) -> str:
    """``address`` with ``parameters`` as its query string, in the order given.

    Spaces become ``+`` and everything else that is not safe in a query is
    percent-encoded as UTF-8, as a browser encodes a form sent with GET.
    """
    if not parameters:
        return address
    return f"{address}?{urlencode(parameters)}"


def link_notices(event: Event, page: LinkPage, *, now: datetime) -> tuple[str, ...]:
    """What keeps a link from working as the marketer expects, said plainly."""
    notices = []
    if page is not LinkPage.JOIN and event.has_ended(now):
        notices.append(
            "This session has ended: its registration form no longer takes "
            "registrations."
        )
    if page is LinkPage.EMBED:
        origins = allowed_frame_origins()
        notices.append(
            "Only these sites can show the form in a frame: "
            f"{', '.join(origins)}. An admin changes the list under Settings."
            if origins
            else "No site can show the form in a frame yet: an admin lists the "
            "sites that may under Settings."
        )
    if page is LinkPage.JOIN and not event.join_url:
        notices.append(
            "This session has no meeting address yet: its join page records nothing "
            "until one is set."
        )
    return tuple(notices)


def _checked(spec: FieldSpec, raw: str) -> tuple[str, str | None]:
    """(the value the link carries, or a message saying why the form refuses it)."""
    value = clean_text(raw)
    name = spec.display_name
    if not value:
        if spec.is_hidden and spec.is_required and not spec.default_value:
            return "", (
                f"{name} is hidden and required but has no default: give it a value "
                "here, or attendees cannot send the form."
            )
        return "", None

    if spec.is_picklist:
        stored = spec.option_value(value)
        if stored is None:
            return "", f"{name}: “{value}” is not one of the options offered."
        value = stored
    elif field_kind(spec) == "email":
        try:
            value = parse_email(value).address
        except InvalidEmail as error:
            return "", f"{name}: {error}"

    if len(value) > spec.max_length:
        return "", (
            f"{name} can be at most {spec.max_length} characters; "
            f"this value has {len(value)}."
        )
    return value, None
