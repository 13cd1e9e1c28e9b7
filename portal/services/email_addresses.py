"""Email addresses as attendees type them and as the portal compares them."""

from __future__ import annotations

from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email


class InvalidEmail(ValueError):
    """The text is not an email address the portal can store and match."""


@dataclass(frozen=True, slots=True)
class EmailAddress:
    """A checked address: ``address`` to store and send to, ``key`` to compare."""

    address: str
    key: str


def parse_email(text: str) -> EmailAddress:
    """Check and normalise an address as typed; raise :class:`InvalidEmail`.

    Surrounding spaces are dropped and the domain is lower-cased (and put in its ASCII
    form); no DNS look-up is made. Addresses compare without regard to case, because
    the CRMs the portal feeds do.
    """
    try:
        checked = validate_email(
            text.strip(),
            check_deliverability=False,
            allow_smtputf8=False,
        )
    except EmailNotValidError as error:
        raise InvalidEmail(str(error)) from error
    address = checked.ascii_email or checked.normalized
    return EmailAddress(address=address, key=address.lower())
