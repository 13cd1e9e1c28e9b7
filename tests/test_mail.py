"""The portal's email: what each trigger says, and delivery to files or by SMTP."""

from __future__ import annotations

import smtplib
import socket
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import icalendar
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from flask import Flask

from portal.extensions import db
from portal.models import ActivityKind, Event, EventType, FixedField, Registrant, User
from portal.services import mail
from portal.services.events import EventDetails, create_event
from portal.services.fields import Answer
from portal.services.links import personal_join_url
from portal.services.mail import MailError, compose_email, send_email
from portal.services.registration import register_attendee
from portal.services.schedule import describe_schedule

MakeRegistrant = Callable[..., Registrant]


@pytest.fixture(autouse=True)
def _no_inline_processing(app: Flask) -> None:
    """Registering sends no email of its own: each test sends exactly what it says."""
    app.config["PROCESSING"] = "worker"


@pytest.fixture
def make_registrant(make_event: Callable[..., Event]) -> MakeRegistrant:
    """Register someone: ``make_registrant(event=..., first_name=..., email=...)``."""

    def make(
        event: Event | None = None,
        *,
        first_name: str = "Ada",
        last_name: str = "Lovelace",
        email: str = "ada@example.com",
    ) -> Registrant:
        answers = [
            Answer(
                field=display_name,
                contact_field=crm_field,
                lead_field=crm_field,
                value=value,
                fixed=fixed,
            )
            for display_name, crm_field, value, fixed in [
                ("First Name", "FirstName", first_name, FixedField.FIRST_NAME),
                ("Last Name", "LastName", last_name, FixedField.LAST_NAME),
                ("Email", "Email", email, FixedField.EMAIL),
            ]
        ]
        registration = register_attendee(
            event or make_event(), answers, submission_id=uuid.uuid4().hex
        )
        return registration.registrant

    return make


@pytest.fixture
def mail_dir(app: Flask, tmp_path: Path) -> Path:
    """Where the file backend writes, with no SMTP server set."""
    folder = tmp_path / "outbox"
    app.config["MAIL_DIR"] = str(folder)
    app.config["SMTP_HOST"] = ""
    return folder


def parse(data: bytes) -> EmailMessage:
    """A message as a mail program reads it."""
    message = message_from_bytes(data, policy=default_policy)
    assert isinstance(message, EmailMessage)
    return message


def reread(message: EmailMessage) -> EmailMessage:
    """``message`` through its wire form and back."""
    return parse(message.as_bytes())


def text_and_html(message: EmailMessage) -> tuple[str, str]:
    """The plain-text and HTML parts of ``message``."""
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None
    assert html is not None
    return str(plain.get_content()), str(html.get_content())


def attachments(message: EmailMessage) -> list[EmailMessage]:
    """The attachments of ``message``."""
    return list(message.iter_attachments())


# Composing.


def test_registration_confirmation_has_headers_schedule_link_and_dial_in(
    make_event: Callable[..., Event], make_registrant: MakeRegistrant
) -> None:
    event = make_event(
        dial_in_number="+1 555 0100",
        participant_code="4321#",
        moderator_code="9999#",
    )
    registrant = make_registrant(event)

    message = compose_email(ActivityKind.REGISTER, registrant)

    assert message is not None
    parsed = reread(message)
    assert parsed["Subject"] == "You're registered: Quarterly Product Webinar"
    assert parsed["From"] == "Portal <no-reply@portal.invalid>"
    [recipient] = parsed["To"].addresses
    assert recipient.display_name == "Ada Lovelace"
    assert recipient.addr_spec == "ada@example.com"
    assert parsed["Message-ID"].endswith("@portal.test>")
    sent_at = parsed["Date"].datetime
    assert abs(sent_at - datetime.now(UTC)) < timedelta(minutes=1)
    assert parsed.get_content_type() == "multipart/mixed"

    plain, html = text_and_html(parsed)
    join_link = personal_join_url(registrant)
    schedule = describe_schedule(event)
    for body in (plain, html):
        assert "Quarterly Product Webinar" in body
        assert schedule in body
        assert "+1 555 0100, participant code 4321#" in body
        assert "9999" not in body
    assert join_link in plain
    assert f'href="{join_link}"' in html
    assert html.lstrip().startswith("<!doctype html>")


def test_registration_confirmation_attaches_the_calendar_in_utc(
    make_event: Callable[..., Event], make_registrant: MakeRegistrant
) -> None:
    starts_at = datetime(2030, 3, 14, 15, 30, tzinfo=UTC)
    event = make_event(starts_at=starts_at, time_zone="Europe/Berlin")
    registrant = make_registrant(event)

    message = compose_email(ActivityKind.REGISTER, registrant)

    assert message is not None
    [attachment] = attachments(reread(message))
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_param("method") == "PUBLISH"
    assert attachment.get_filename() == "session.ics"
    calendar = icalendar.Calendar.from_ical(attachment.get_content())
    [entry] = calendar.events
    assert isinstance(entry.start, datetime)
    assert entry.start == starts_at
    assert entry.start.utcoffset() == timedelta(0)
    assert entry["DTSTART"].to_ical() == b"20300314T153000Z"
    assert str(entry["SUMMARY"]) == "Quarterly Product Webinar"
    assert personal_join_url(registrant) in str(entry["URL"])


def test_always_available_session_has_no_calendar_file(
    make_user: Callable[..., User], make_registrant: MakeRegistrant
) -> None:
    details = EventDetails(
        title="Product Tour", type=EventType.WEBINAR, is_always_available=True
    )
    event = create_event(make_user(), details)
    db.session.commit()
    registrant = make_registrant(event)

    message = compose_email(ActivityKind.REGISTER, registrant)

    assert message is not None
    parsed = reread(message)
    assert attachments(parsed) == []
    assert parsed.get_content_type() == "multipart/alternative"
    plain, html = text_and_html(parsed)
    assert "Available at any time" in plain
    assert "calendar" not in plain
    assert "Available at any time" in html


@pytest.mark.parametrize(
    ("trigger", "attended", "subject", "sentence", "has_link"),
    [
        (
            ActivityKind.SESSION_START,
            None,
            "Quarterly Product Webinar is starting now",
            "Quarterly Product Webinar is starting now",
            True,
        ),
        (
            ActivityKind.SESSION_END,
            True,
            "Thank you for attending Quarterly Product Webinar",
            "Thank you for attending Quarterly Product Webinar",
            False,
        ),
        (
            ActivityKind.SESSION_END,
            False,
            "Sorry we missed you at Quarterly Product Webinar",
            "Sorry we missed you at Quarterly Product Webinar",
            False,
        ),
        (
            ActivityKind.JOIN,
            None,
            "You joined Quarterly Product Webinar",
            "You joined Quarterly Product Webinar",
            True,
        ),
        (
            ActivityKind.LEAVE,
            None,
            "Thanks for attending Quarterly Product Webinar",
            "Thanks for attending Quarterly Product Webinar",
            True,
        ),
    ],
)
def test_each_trigger_has_its_own_message(
    make_registrant: MakeRegistrant,
    trigger: ActivityKind,
    attended: bool | None,
    subject: str,
    sentence: str,
    has_link: bool,
) -> None:
    registrant = make_registrant()

    message = compose_email(trigger, registrant, attended=attended)

    assert message is not None
    parsed = reread(message)
    assert parsed["Subject"] == subject
    assert parsed.get_content_type() == "multipart/alternative"
    assert attachments(parsed) == []
    plain, html = text_and_html(parsed)
    html_text = html.replace("<strong>", "").replace("</strong>", "")
    assert sentence in plain
    assert sentence in html_text
    join_link = personal_join_url(registrant)
    assert (join_link in plain) is has_link
    assert (f'href="{join_link}"' in html) is has_link


def test_sending_an_email_sends_no_email(make_registrant: MakeRegistrant) -> None:
    assert compose_email(ActivityKind.EMAIL, make_registrant()) is None


def test_follow_up_needs_to_know_whether_they_attended(
    make_registrant: MakeRegistrant,
) -> None:
    with pytest.raises(ValueError, match="attended"):
        compose_email(ActivityKind.SESSION_END, make_registrant())


def test_untrusted_title_and_name_are_escaped_in_html_only(
    make_event: Callable[..., Event], make_registrant: MakeRegistrant
) -> None:
    event = make_event(title="<script>alert(1)</script> Q&A")
    registrant = make_registrant(event, first_name="<b>Zoë</b>")

    message = compose_email(ActivityKind.REGISTER, registrant)

    assert message is not None
    parsed = reread(message)
    assert parsed["Subject"] == "You're registered: <script>alert(1)</script> Q&A"
    plain, html = text_and_html(parsed)
    assert "<script>" not in html
    assert "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Q&amp;A" in html
    assert "Hello &lt;b&gt;Zoë&lt;/b&gt;," in html
    assert "You're registered for <script>alert(1)</script> Q&A." in plain
    assert "Hello <b>Zoë</b>," in plain


def test_recipient_name_with_comma_quote_and_accent_is_encoded(
    make_registrant: MakeRegistrant,
) -> None:
    registrant = make_registrant(
        first_name='Zoë "Zo"', last_name="O'Brien, Jr.", email="zoe@Example.COM"
    )

    message = compose_email(ActivityKind.JOIN, registrant)

    assert message is not None
    wire = message.as_bytes()
    assert wire.isascii()
    [to_line] = [line for line in wire.split(b"\r\n") if line.startswith(b"To:")]
    assert b"<zoe@example.com>" in to_line
    [recipient] = parse(wire)["To"].addresses
    assert recipient.display_name == 'Zoë "Zo" O\'Brien, Jr.'
    assert recipient.addr_spec == "zoe@example.com"


def test_title_with_line_breaks_makes_a_one_line_subject(
    make_event: Callable[..., Event], make_registrant: MakeRegistrant
) -> None:
    event = make_event(title="Launch\r\nBcc: victim@example.com")

    message = compose_email(ActivityKind.JOIN, make_registrant(event))

    assert message is not None
    parsed = reread(message)
    assert parsed["Subject"] == "You joined Launch Bcc: victim@example.com"
    assert parsed["Bcc"] is None


# Delivery to files.


def test_without_smtp_host_each_message_is_an_eml_file(
    make_registrant: MakeRegistrant, mail_dir: Path
) -> None:
    message = compose_email(ActivityKind.REGISTER, make_registrant())
    assert message is not None

    message_id = send_email(message)

    [written] = list(mail_dir.iterdir())
    assert written.suffix == ".eml"
    stored = parse(written.read_bytes())
    assert stored["Message-ID"] == message_id == message["Message-ID"]
    assert stored["Subject"] == message["Subject"]
    assert len(attachments(stored)) == 1


def test_files_sort_in_sending_order_and_never_collide(
    make_registrant: MakeRegistrant,
    mail_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = compose_email(ActivityKind.JOIN, make_registrant(email="one@example.com"))
    second = compose_email(ActivityKind.JOIN, make_registrant(email="two@example.com"))
    assert first is not None
    assert second is not None
    frozen = datetime.now(UTC) + timedelta(days=1)
    monkeypatch.setattr(mail, "utcnow", lambda: frozen)

    sent = [send_email(first), send_email(second)]

    names = sorted(path.name for path in mail_dir.iterdir())
    assert len(names) == 2
    assert all(name.endswith(".eml") for name in names)
    stored = [parse((mail_dir / name).read_bytes())["Message-ID"] for name in names]
    assert stored == sent


def test_unwritable_mail_dir_is_a_transient_error(
    make_registrant: MakeRegistrant, app: Flask, tmp_path: Path
) -> None:
    not_a_folder = tmp_path / "outbox"
    not_a_folder.write_text("a file in the way")
    app.config["MAIL_DIR"] = str(not_a_folder / "mail")
    message = compose_email(ActivityKind.JOIN, make_registrant())
    assert message is not None

    with pytest.raises(MailError) as caught:
        send_email(message)

    assert caught.value.is_transient


def test_log_names_recipient_and_subject_but_not_the_body(
    make_registrant: MakeRegistrant,
    mail_dir: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    registrant = make_registrant()
    message = compose_email(ActivityKind.REGISTER, registrant)
    assert message is not None

    with caplog.at_level("INFO", logger="portal.services.mail"):
        send_email(message)

    [record] = [
        record for record in caplog.records if record.name == "portal.services.mail"
    ]
    assert record.levelname == "INFO"
    assert "ada@example.com" in record.getMessage()
    assert "You're registered: Quarterly Product Webinar" in record.getMessage()
    assert registrant.token not in record.getMessage()


# Delivery by SMTP.


@dataclass
class Received:
    """One message as the test server took it."""

    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    is_tls: bool


@dataclass
class RecordingHandler:
    """An aiosmtpd handler that keeps what it receives, or refuses recipients."""

    rcpt_reply: str = "250 OK"
    received: list[Received] = field(default_factory=list)
    logins: list[tuple[bytes, bytes]] = field(default_factory=list)

    async def handle_RCPT(
        self,
        server: Any,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if self.rcpt_reply.startswith("250"):
            envelope.rcpt_tos.append(address)
        return self.rcpt_reply

    async def handle_DATA(
        self, server: Any, session: Session, envelope: Envelope
    ) -> str:
        content = envelope.original_content or b""
        self.received.append(
            Received(
                mail_from=str(envelope.mail_from),
                rcpt_tos=list(envelope.rcpt_tos),
                content=content,
                is_tls=session.ssl is not None,
            )
        )
        return "250 Message accepted"

    def authenticate(
        self,
        server: Any,
        session: Session,
        envelope: Envelope,
        mechanism: str,
        auth_data: Any,
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        self.logins.append((auth_data.login, auth_data.password))
        is_valid = auth_data.password == b"s3cret"
        return AuthResult(success=is_valid, handled=False)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server(app: Flask) -> Iterator[RecordingHandler]:
    """A real SMTP server on 127.0.0.1 (no STARTTLS) that the app sends to."""
    handler = RecordingHandler()
    port = free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        authenticator=handler.authenticate,
        # Lets the test log in without TLS; the server needs no certificate.
        auth_require_tls=False,
    )
    controller.start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_TIMEOUT=5)
    try:
        yield handler
    finally:
        controller.stop()
        controller.loop.close()


def test_smtp_delivers_envelope_and_content(
    make_registrant: MakeRegistrant,
    smtp_server: RecordingHandler,
    caplog: pytest.LogCaptureFixture,
) -> None:
    registrant = make_registrant(first_name="Zoë", email="zoe@example.com")
    message = compose_email(ActivityKind.REGISTER, registrant)
    assert message is not None

    with caplog.at_level("INFO", logger="portal.services.mail"):
        message_id = send_email(message)

    [received] = smtp_server.received
    assert received.mail_from == "no-reply@portal.invalid"
    assert received.rcpt_tos == ["zoe@example.com"]
    # STARTTLS is on by default, but this server does not offer it.
    assert not received.is_tls
    assert any("does not offer STARTTLS" in line for line in caplog.messages)
    delivered = parse(received.content)
    assert delivered["Message-ID"] == message_id
    assert delivered["To"].addresses[0].display_name == "Zoë Lovelace"
    plain, _ = text_and_html(delivered)
    assert personal_join_url(registrant) in plain
    assert len(attachments(delivered)) == 1
    assert smtp_server.logins == []


def test_smtp_logs_in_when_a_username_is_set(
    app: Flask, make_registrant: MakeRegistrant, smtp_server: RecordingHandler
) -> None:
    app.config.update(SMTP_USERNAME="portal", SMTP_PASSWORD="s3cret")
    message = compose_email(ActivityKind.JOIN, make_registrant())
    assert message is not None

    send_email(message)

    assert smtp_server.logins == [(b"portal", b"s3cret")]
    assert len(smtp_server.received) == 1


def test_smtp_refused_login_is_permanent(
    app: Flask, make_registrant: MakeRegistrant, smtp_server: RecordingHandler
) -> None:
    app.config.update(SMTP_USERNAME="portal", SMTP_PASSWORD="wrong")
    message = compose_email(ActivityKind.JOIN, make_registrant())
    assert message is not None

    with pytest.raises(MailError, match="535") as caught:
        send_email(message)

    assert not caught.value.is_transient
    assert smtp_server.received == []


@pytest.mark.parametrize(
    ("reply", "is_transient"),
    [
        ("550 5.1.1 No such user here", False),
        ("553 5.1.3 Mailbox name not allowed", False),
        ("450 4.2.1 Mailbox busy, try later", True),
        ("451 4.3.0 Local problem", True),
    ],
)
def test_smtp_refused_recipient_is_transient_only_for_4xx(
    make_registrant: MakeRegistrant,
    smtp_server: RecordingHandler,
    reply: str,
    is_transient: bool,
) -> None:
    smtp_server.rcpt_reply = reply
    message = compose_email(ActivityKind.JOIN, make_registrant())
    assert message is not None

    with pytest.raises(MailError, match=r"ada@example\.com") as caught:
        send_email(message)

    assert caught.value.is_transient is is_transient
    assert reply.split()[0] in caught.value.message
    assert smtp_server.received == []


def test_smtp_connection_refused_is_transient(
    app: Flask, make_registrant: MakeRegistrant
) -> None:
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port())
    message = compose_email(ActivityKind.JOIN, make_registrant())
    assert message is not None

    with pytest.raises(MailError, match="Could not reach") as caught:
        send_email(message)

    assert caught.value.is_transient


def test_smtp_server_that_never_answers_times_out_as_transient(
    app: Flask, make_registrant: MakeRegistrant
) -> None:
    message = compose_email(ActivityKind.JOIN, make_registrant())
    assert message is not None

    with socket.socket() as silent:
        # Connections queue in the backlog and are never greeted.
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        app.config.update(
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=silent.getsockname()[1],
            SMTP_TIMEOUT=0.2,
        )
        with pytest.raises(MailError) as caught:
            send_email(message)

    assert caught.value.is_transient


def test_smtp_ssl_setting_uses_implicit_tls(
    app: Flask, make_registrant: MakeRegistrant, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[dict[str, Any]] = []

    class UnreachableTLSServer:
        def __init__(self, host: str, port: int, **options: Any) -> None:
            opened.append({"host": host, "port": port, **options})
            raise ConnectionRefusedError("nothing listens here")

    monkeypatch.setattr(smtplib, "SMTP_SSL", UnreachableTLSServer)
    app.config.update(
        SMTP_HOST="mail.example.com", SMTP_PORT=465, SMTP_SSL=True, SMTP_TIMEOUT=7
    )
    message = compose_email(ActivityKind.JOIN, make_registrant())
    assert message is not None

    with pytest.raises(MailError) as caught:
        send_email(message)

    assert caught.value.is_transient
    [options] = opened
    assert options["host"] == "mail.example.com"
    assert options["port"] == 465
    assert options["timeout"] == 7
    assert options["context"] is not None
