"""Prefill from the address: ``?sf_LeadSource=Newsletter`` fills Lead Source.

Links made by the tracked-link builder also carry ``sig``, a signature over the
session's key and every ``sf_`` value of the link, made with the site's secret. A
locked field takes its value only from a link whose signature holds: editing any
``sf_`` value, adding one (a repeat of one too) or dropping ``sig`` leaves locked
fields on their default.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence

from flask import current_app
from itsdangerous import BadSignature, Signer

from portal.forms.attendee import locked_values
from portal.models import Event
from portal.models.field import param_key_for
from portal.services.fields import FieldSpec

logger = logging.getLogger(__name__)

PREFIX = "sf_"
#: The query parameter that carries a tracked link's signature.
SIGNATURE_PARAMETER = "sig"


def read_prefill(query: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The ``sf_*`` parameters of a query string, keyed like field definitions.

    The parameter's name is matched without regard to case (``sf_leadsource`` works as
    well as ``sf_LeadSource``); when a parameter is repeated the first value wins.
    Parameters that name no field are kept here and simply never looked up.
    """
    prefill: dict[str, str] = {}
    for name, value in query:
        key = _prefill_key(name)
        if key is not None:
            prefill.setdefault(key, value)
    return prefill


def _prefill_key(name: str) -> str | None:
    """The field key a query parameter prefills (``sf_LeadSource``), or None."""
    if name[: len(PREFIX)].lower() != PREFIX or len(name) == len(PREFIX):
        return None
    return param_key_for(name[len(PREFIX) :])


def sign_prefill(event_key: str, prefill: Mapping[str, str]) -> str:
    """The ``sig`` of a link to the session ``event_key`` with these ``sf_`` values
    (keyed as :func:`read_prefill` keys them)."""
    return _signer().get_signature(_signed_text(event_key, prefill)).decode()


def signed_prefill(
    event_key: str, prefill: Mapping[str, str], signature: str | None
) -> dict[str, str]:
    """``prefill`` if ``signature`` is the one the builder gave the link; else empty."""
    if not signature or not prefill:
        return {}
    try:
        is_valid = _signer().verify_signature(
            _signed_text(event_key, prefill), signature.encode()
        )
    except (BadSignature, UnicodeEncodeError):
        is_valid = False
    return dict(prefill) if is_valid else {}


def locked_prefill(
    event: Event, specs: tuple[FieldSpec, ...], query: Sequence[tuple[str, str]]
) -> dict[str, str]:
    """The values an address gives the locked fields of ``specs``, by prefill key:
    only those of a link the tracked-link builder signed, each checked like any
    hidden prefill. Logs the locked fields whose value it did not take."""
    prefill = read_prefill(query)
    signature = next(
        (value for name, value in query if name == SIGNATURE_PARAMETER), None
    )
    if _repeats_a_parameter(query):
        signature = None
    values = locked_values(specs, signed_prefill(event.key, prefill, signature))
    ignored = [
        spec.display_name
        for spec in specs
        if spec.is_locked and spec.param_key in prefill and spec.param_key not in values
    ]
    if ignored:
        logger.info(
            "Kept the defaults of locked fields %s of event %s: the link is not one "
            "the tracked-link builder signed",
            ", ".join(ignored),
            event.id,
        )
    return values


def _repeats_a_parameter(query: Sequence[tuple[str, str]]) -> bool:
    """Whether an ``sf_`` value (in any letter case) or ``sig`` comes twice.

    The builder never repeats one, so a repeat was added to a signed link; it counts
    as an edit even when the first value, the one a field takes, is the signed one.
    """
    seen: set[str] = set()
    for name, _value in query:
        key = SIGNATURE_PARAMETER if name == SIGNATURE_PARAMETER else _prefill_key(name)
        if key is None:
            continue
        if key in seen:
            return True
        seen.add(key)
    return False


def _signer() -> Signer:
    return Signer(str(current_app.config["SECRET_KEY"]), salt="portal.tracked-link")


def _signed_text(event_key: str, prefill: Mapping[str, str]) -> bytes:
    """One unambiguous text for the session and its values, in any order."""
    return json.dumps([event_key, sorted(prefill.items())]).encode()
