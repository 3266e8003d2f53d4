"""Conformance of the e-mail senders: each one hands over the message it is given, unchanged."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

from mailer.delivery import DeliveryError, MemorySender, Sender, SmtpSender, build_email
from persistence.models import OutboxMessage
from pgbs.settings import Settings
from tests.smtp import SmtpRecorder, text_body

Received = Callable[[], list[EmailMessage]]


@pytest.fixture(params=["smtp", "memory"])
def sender_and_inbox(request: pytest.FixtureRequest) -> Iterator[tuple[Sender, Received]]:
    """A sender, and a function that returns what reached the other end, parsed from bytes."""
    if request.param == "smtp":
        server = SmtpRecorder()
        server.start()
        # SMTP_TLS keeps its default, auto: aiosmtpd offers no STARTTLS here, so the session stays plain.
        settings = replace(Settings(), smtp_host=server.host, smtp_port=server.port)
        yield SmtpSender(settings, timeout=10), server.messages
        server.stop()
    else:
        sender = MemorySender()
        yield sender, lambda: [message_from_bytes(sent.as_bytes(), policy=policy.default) for sent in sender.sent]


def outbox_row(**changes: object) -> OutboxMessage:
    values = {
        "id": 7,
        "template": "verify_email",
        "to_address": "zoë@example.org",
        "subject": "Confirmez votre adresse – Zoë",
        "text_body": "Bonjour Zoë,\n\nhttp://frontend.test/verify-email?token=abc_DEF-123\n",
        "html_body": "<p>Bonjour Zoë, <a href=\"http://frontend.test/verify-email?token=abc_DEF-123\">ici</a></p>",
    }
    values.update(changes)
    return OutboxMessage(**values)


async def test_sender_delivers_text_and_html_unchanged(sender_and_inbox):
    sender, received = sender_and_inbox

    await sender.send(build_email(outbox_row(), "PGBS <no-reply@pgbs.example>"))

    messages = received()
    assert len(messages) == 1
    message = messages[0]
    assert message["Subject"] == "Confirmez votre adresse – Zoë"
    assert message["To"] == "zoë@example.org"
    assert message["From"] == "PGBS <no-reply@pgbs.example>"
    assert message["Message-ID"] == "<outbox-7@pgbs>"
    assert text_body(message) == "Bonjour Zoë,\n\nhttp://frontend.test/verify-email?token=abc_DEF-123\n"
    html = message.get_body(preferencelist=("html",))
    assert html is not None
    assert 'href="http://frontend.test/verify-email?token=abc_DEF-123"' in html.get_content()


async def test_sender_delivers_text_only_message(sender_and_inbox):
    sender, received = sender_and_inbox

    await sender.send(build_email(outbox_row(html_body=None, to_address="ana@example.org"), "no-reply@pgbs.example"))

    message = received()[0]
    assert message.get_content_type() == "text/plain"
    assert "verify-email?token=abc_DEF-123" in text_body(message)


async def test_smtp_sender_server_down_raises():
    stopped = SmtpRecorder()
    settings = replace(Settings(), smtp_host=stopped.host, smtp_port=stopped.port, smtp_tls="none")

    with pytest.raises(DeliveryError):
        await SmtpSender(settings, timeout=5).send(build_email(outbox_row(), "no-reply@pgbs.example"))


def test_smtp_sender_requires_smtp_host():
    with pytest.raises(ValueError, match="SMTP_HOST"):
        SmtpSender(Settings())
