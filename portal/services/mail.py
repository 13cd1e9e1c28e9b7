"""The portal's own email to attendees: what each trigger says, and its delivery.

:func:`compose_email` builds the message a trigger sends; :func:`send_email` hands it
to the SMTP server named in the settings or, when none is set, writes it into
MAIL_DIR as an ``.eml`` file, so that a development machine sends nothing and shows
everything.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import smtplib
import ssl
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import getaddresses, make_msgid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, render_template

from portal.errors import PortalError
from portal.models import ActivityKind, Registrant, utcnow
from portal.services.calendar import registrant_calendar
from portal.services.links import personal_join_url
from portal.services.schedule import describe_schedule

logger = logging.getLogger(__name__)

#: The name of the calendar file attached to a registration confirmation.
CALENDAR_FILENAME = "session.ics"


class MailError(PortalError):
    """An email could not be handed over; retry it only when ``is_transient``."""

    def __init__(self, message: str, *, is_transient: bool) -> None:
        super().__init__(message)
        self.message = message
        self.is_transient = is_transient


@dataclass(frozen=True, slots=True)
class _Kind:
    """One kind of email: its templates (``emails/<name>.txt|.html``), its subject."""

    name: str
    subject: str


_KINDS = {
    ActivityKind.REGISTER: _Kind("registered", "You're registered: {title}"),
    ActivityKind.SESSION_START: _Kind("session_start", "{title} is starting now"),
    ActivityKind.JOIN: _Kind("joined", "You joined {title}"),
    ActivityKind.LEAVE: _Kind("left", "Thanks for attending {title}"),
}
_ATTENDED = _Kind("attended", "Thank you for attending {title}")
_MISSED = _Kind("missed", "Sorry we missed you at {title}")


def compose_email(
    trigger: ActivityKind, registrant: Registrant, *, attended: bool | None = None
) -> EmailMessage | None:
    """The attendee's email for ``trigger``, or None when the trigger sends none.

    ``attended`` chooses the follow-up after a session ends (thanks, or sorry we
    missed you) and is required for :attr:`ActivityKind.SESSION_END`.
    """
    kind = _kind_of(trigger, attended)
    if kind is None:
        return None

    event = registrant.event
    join_link = personal_join_url(registrant)
    calendar = None
    if trigger is ActivityKind.REGISTER:
        calendar = registrant_calendar(registrant, join_link)
    context = {
        "event": event,
        "registrant": registrant,
        "join_link": join_link,
        "schedule": describe_schedule(event),
        "has_calendar": calendar is not None,
        "calendar_filename": CALENDAR_FILENAME,
    }

    message = EmailMessage(policy=SMTP)
    message["Subject"] = kind.subject.format(title=_one_line(event.title))
    message["From"] = str(current_app.config["MAIL_FROM"])
    message["To"] = _recipient(registrant)
    message["Date"] = utcnow()
    message["Message-ID"] = _new_message_id()
    # Quoted-printable keeps every line 7-bit, so no server needs 8BITMIME.
    message.set_content(
        render_template(f"emails/{kind.name}.txt", **context),
        cte="quoted-printable",
    )
    message.add_alternative(
        render_template(f"emails/{kind.name}.html", **context),
        subtype="html",
        cte="quoted-printable",
    )
    if calendar is not None:
        message.add_attachment(
            calendar,
            maintype="text",
            subtype="calendar",
            filename=CALENDAR_FILENAME,
            params={"method": "PUBLISH", "charset": "utf-8"},
        )
    return message


def send_email(message: EmailMessage) -> str:
    """Deliver ``message`` by SMTP, or into MAIL_DIR without a server; its Message-ID.

    Raises :class:`MailError` when the message could not be handed over.
    """
    if message["Message-ID"] is None:
        message["Message-ID"] = _new_message_id()
    message_id = str(message["Message-ID"])
    subject = str(message["Subject"] or "")
    recipients = ", ".join(_recipient_addresses(message))
    config = current_app.config

    if config["SMTP_HOST"]:
        _send_by_smtp(message, config)
        logger.info(
            "Sent email %r to %s through %s (%s)",
            subject,
            recipients,
            config["SMTP_HOST"],
            message_id,
        )
    else:
        path = _write_to_mail_dir(message, Path(config["MAIL_DIR"]))
        logger.info("Wrote email %r to %s into %s", subject, recipients, path)
    return message_id


def _kind_of(trigger: ActivityKind, attended: bool | None) -> _Kind | None:
    if trigger is ActivityKind.SESSION_END:
        if attended is None:
            raise ValueError("The follow-up after a session needs `attended`.")
        return _ATTENDED if attended else _MISSED
    # Email is absent on purpose: sending an email never sends another.
    return _KINDS.get(trigger)


def _one_line(text: str) -> str:
    """``text`` with every run of whitespace, line breaks included, as one space."""
    return " ".join(text.split())


def _recipient(registrant: Registrant) -> Address:
    name = _one_line(f"{registrant.first_name} {registrant.last_name}")
    return Address(display_name=name, addr_spec=registrant.email)


def _recipient_addresses(message: EmailMessage) -> list[str]:
    fields = [str(value) for value in message.get_all("To", [])]
    return [address for _, address in getaddresses(fields)]


def _new_message_id() -> str:
    domain = urlsplit(str(current_app.config["PUBLIC_URL"])).hostname
    return make_msgid(domain=domain or "portal.invalid")


def _send_by_smtp(message: EmailMessage, config: Mapping[str, Any]) -> None:
    host = str(config["SMTP_HOST"])
    port = int(config["SMTP_PORT"])
    where = f"{host}:{port}"
    try:
        client = _connect(host, port, config)
        try:
            if config["SMTP_STARTTLS"] and not config["SMTP_SSL"]:
                _start_tls_if_offered(client, where)
            if config["SMTP_USERNAME"]:
                client.login(str(config["SMTP_USERNAME"]), str(config["SMTP_PASSWORD"]))
            refused = client.send_message(message)
        finally:
            _disconnect(client)
    except smtplib.SMTPRecipientsRefused as error:
        raise _refusal(error.recipients, where) from error
    except smtplib.SMTPResponseException as error:
        reply = _reply_text(error.smtp_error)
        raise MailError(
            f"The mail server {where} answered {error.smtp_code} {reply}",
            is_transient=_is_transient_reply(error.smtp_code),
        ) from error
    except smtplib.SMTPServerDisconnected as error:
        raise MailError(
            f"The mail server {where} closed the connection: {error}",
            is_transient=True,
        ) from error
    except smtplib.SMTPException as error:
        # What the server lacks (an AUTH method, SMTPUTF8) will not appear by retrying.
        raise MailError(
            f"The mail server {where} cannot take this message: {error}",
            is_transient=False,
        ) from error
    except OSError as error:
        raise MailError(
            f"Could not reach the mail server {where}: {error}", is_transient=True
        ) from error
    if refused:
        # Only some recipients were refused; a portal email has one, but be exact.
        raise _refusal(refused, where)


def _connect(host: str, port: int, config: Mapping[str, Any]) -> smtplib.SMTP:
    timeout = float(config["SMTP_TIMEOUT"])
    if config["SMTP_SSL"]:
        return smtplib.SMTP_SSL(
            host, port, timeout=timeout, context=ssl.create_default_context()
        )
    return smtplib.SMTP(host, port, timeout=timeout)


def _start_tls_if_offered(client: smtplib.SMTP, where: str) -> None:
    client.ehlo_or_helo_if_needed()
    if client.has_extn("starttls"):
        client.starttls(context=ssl.create_default_context())
        client.ehlo()
    else:
        logger.warning(
            "The mail server %s does not offer STARTTLS; sending unencrypted", where
        )


def _disconnect(client: smtplib.SMTP) -> None:
    """Say goodbye; a message already accepted stays sent whatever QUIT answers."""
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()


def _refusal(recipients: Mapping[str, tuple[int, bytes]], where: str) -> MailError:
    reasons = "; ".join(
        f"{address}: {code} {_reply_text(reply)}"
        for address, (code, reply) in recipients.items()
    )
    return MailError(
        f"The mail server {where} refused {reasons}",
        is_transient=all(_is_transient_reply(code) for code, _ in recipients.values()),
    )


def _is_transient_reply(code: int) -> bool:
    """Only a 5xx reply is a permanent refusal; 4xx and no reply at all are not."""
    return not 500 <= code <= 599


def _reply_text(reply: bytes | str) -> str:
    if isinstance(reply, bytes):
        return reply.decode("utf-8", "replace")
    return reply


def _write_to_mail_dir(message: EmailMessage, mail_dir: Path) -> Path:
    """Write ``message`` as a new ``.eml`` file; a reader never sees half of one."""
    data = message.as_bytes()
    try:
        mail_dir.mkdir(parents=True, exist_ok=True)
        path = mail_dir / f"{_file_clock.next_stamp()}-{secrets.token_hex(4)}.eml"
        # Hidden and in the same folder, so os.replace is a rename on one disk.
        descriptor, temp_name = tempfile.mkstemp(
            dir=mail_dir, prefix=".", suffix=".tmp"
        )
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temp_name, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp_name)
            raise
    except OSError as error:
        raise MailError(
            f"Could not write the email into {mail_dir}: {error}", is_transient=True
        ) from error
    return path


class _FileClock:
    """Time stamps for file names that strictly increase within this process.

    Two messages written in the same microsecond still get names that sort in the
    order they were written; the random suffix keeps processes from colliding.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: datetime | None = None

    def next_stamp(self) -> str:
        with self._lock:
            stamp = utcnow()
            if self._last is not None and stamp <= self._last:
                stamp = self._last + timedelta(microseconds=1)
            self._last = stamp
        return stamp.strftime("%Y%m%dT%H%M%S%fZ")


_file_clock = _FileClock()
