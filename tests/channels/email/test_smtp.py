"""Sending replies through a real SMTP server (aiosmtpd on loopback): threading headers,
envelope, body, TLS, refusals, and no way to inject a header."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest

from dialoga.channels.base import (
    AuthExpiredError,
    ConnectorError,
    NetworkUnavailableError,
    NormalizedAuthor,
    OutgoingReply,
    SendRefusedError,
)
from dialoga.channels.context import ConnectorContext
from dialoga.channels.email.connector import EmailConnector, build
from dialoga.channels.email.parse import read_email
from dialoga.core.fetch import FetchPolicy

from .conftest import PASSWORD, TLS_HOST, USERNAME, SmtpServer, free_port, loopback_policy

NOW = datetime(2026, 5, 8, 12, 30, tzinfo=UTC)
ANA = NormalizedAuthor(
    "email", "ana.souza@example.net", display_name="Ana Souza", email="ana.souza@example.net"
)
REPLY = OutgoingReply(
    key="dialoga:3f2c9a0d",
    text="Thank you, Ana!\nThe café blend ships again today.",
    kind="email",
    in_reply_to="CAF3u5x9Zr2@mail.example.net",
    references=("CAF3u5x8Qm1@mail.example.net", "reply-7f3a@example.org"),
    subject="Order 1042 has not arrived",
    recipient=ANA,
)


def connector(
    port: int, password: str = PASSWORD, policy: FetchPolicy | None = None, **config: Any
) -> EmailConnector:
    settings = {
        "address": "support@example.org",
        "imap_host": "127.0.0.1",
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_security": "none",
        **config,
    }
    credentials = {"username": USERNAME, "password": password}
    policy = policy or loopback_policy()
    return build(ConnectorContext(settings, credentials, policy, clock=lambda: NOW))


def delivered(server: SmtpServer) -> EmailMessage:
    (envelope,) = server.collector.envelopes
    content = envelope.original_content or b""
    parsed = message_from_bytes(content, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_a_reply_goes_out_in_its_thread(smtp_server: SmtpServer) -> None:
    sent = connector(smtp_server.port).send(REPLY)
    assert sent.external_id == "3f2c9a0d@example.org"
    (envelope,) = smtp_server.collector.envelopes
    assert envelope.mail_from == "support@example.org"
    assert envelope.rcpt_tos == ["ana.souza@example.net"]
    assert smtp_server.collector.logins == [USERNAME.encode()]
    message = delivered(smtp_server)
    assert message["Message-ID"] == "<3f2c9a0d@example.org>"
    assert message["In-Reply-To"] == "<CAF3u5x9Zr2@mail.example.net>"
    assert message["References"] == (
        "<CAF3u5x8Qm1@mail.example.net> <reply-7f3a@example.org> <CAF3u5x9Zr2@mail.example.net>"
    )
    assert message["Subject"] == "Re: Order 1042 has not arrived"
    assert message["From"] == "support@example.org"
    assert message["To"] == "Ana Souza <ana.souza@example.net>"
    assert message["Date"].datetime == NOW
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    assert message.get_content().replace("\r\n", "\n") == REPLY.text + "\n"
    assert "Bcc" not in message


def test_the_sent_reply_reads_back_as_the_brands_own_message(smtp_server: SmtpServer) -> None:
    sent = connector(smtp_server.port).send(REPLY)
    content = smtp_server.collector.envelopes[0].original_content or b""
    again = read_email(content, "support@example.org", "Sent UID 1")
    assert again.external_id == sent.external_id  # a copy in the mailbox is the same message
    assert again.direction == "outbound"
    assert again.in_reply_to == REPLY.in_reply_to


def test_re_is_not_stacked(smtp_server: SmtpServer) -> None:
    mail = connector(smtp_server.port)
    mail.send(
        OutgoingReply(
            "dialoga:1", "ok", "email", "x@example.net", subject="RE: Order 7", recipient=ANA
        )
    )
    assert delivered(smtp_server)["Subject"] == "RE: Order 7"


def test_a_wrong_password_means_authorising_again(smtp_server: SmtpServer) -> None:
    with pytest.raises(AuthExpiredError, match="refused") as raised:
        connector(smtp_server.port, password="wrong-one").send(REPLY)
    assert "wrong-one" not in str(raised.value)
    assert smtp_server.collector.envelopes == []


def test_a_refused_recipient_is_refused_for_good_with_the_reason(
    smtp_server: SmtpServer,
) -> None:
    refused = NormalizedAuthor("email", "refused@example.net", email="refused@example.net")
    with pytest.raises(SendRefusedError, match=r"550 5\.1\.1 .*mailbox unavailable"):
        connector(smtp_server.port).send(
            OutgoingReply("dialoga:2", "hi", "email", "x@example.net", recipient=refused)
        )
    assert smtp_server.collector.envelopes == []


def test_a_deferred_recipient_is_tried_again_later(smtp_server: SmtpServer) -> None:
    later = NormalizedAuthor("email", "later@example.net", email="later@example.net")
    with pytest.raises(NetworkUnavailableError, match=r"450 4\.2\.1"):
        connector(smtp_server.port).send(
            OutgoingReply("dialoga:3", "hi", "email", "x@example.net", recipient=later)
        )


def test_a_message_the_server_never_confirmed_is_not_sent_again(
    smtp_server: SmtpServer,
) -> None:
    silent = NormalizedAuthor("email", "silent@example.net", email="silent@example.net")
    hurried = loopback_policy(timeout_seconds=0.5)
    reply = OutgoingReply("dialoga:6", "hi", "email", "x@example.net", recipient=silent)
    with pytest.raises(SendRefusedError, match="may have been sent"):
        connector(smtp_server.port, policy=hurried).send(reply)


def test_a_connection_lost_before_the_message_left_is_tried_again() -> None:
    with socket.socket() as silent:  # accepts, never greets
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        hurried = loopback_policy(timeout_seconds=0.3)
        with pytest.raises(NetworkUnavailableError):
            connector(silent.getsockname()[1], policy=hurried).send(REPLY)


@pytest.mark.parametrize(
    "hostile",
    [
        {"subject": "Order 7\r\nBcc: victim@example.com"},
        {"subject": "Order 7\nBcc: victim@example.com"},
        {
            "recipient": NormalizedAuthor(
                "email", "a", email="ana@example.net\r\nBcc: v@example.com"
            )
        },
        {
            "recipient": NormalizedAuthor(
                "email", "a", display_name="Ana\r\nBcc: v@example.com", email="ana@example.net"
            )
        },
        {"in_reply_to": "x@example.net>\r\nBcc: <victim@example.com"},
    ],
)
def test_no_header_can_be_injected(smtp_server: SmtpServer, hostile: dict[str, Any]) -> None:
    fields: dict[str, Any] = {"subject": "Order 7", "recipient": ANA, "in_reply_to": "x@e.net"}
    reply = OutgoingReply("dialoga:4", "hi", "email", **{**fields, **hostile})
    with pytest.raises(SendRefusedError, match="cannot be written as an e-mail"):
        connector(smtp_server.port).send(reply)
    assert smtp_server.collector.envelopes == []


def test_a_reply_to_nobody_is_refused(smtp_server: SmtpServer) -> None:
    nameless = NormalizedAuthor("email", "ghost")
    for recipient in (None, nameless):
        with pytest.raises(SendRefusedError, match="no sender address"):
            connector(smtp_server.port).send(
                OutgoingReply("dialoga:5", "hi", "email", "x@example.net", recipient=recipient)
            )


def test_a_server_that_is_down_is_unavailable() -> None:
    with pytest.raises(NetworkUnavailableError, match=r"SMTP 127\.0\.0\.1"):
        connector(free_port()).send(REPLY)


def test_starttls_verifies_the_host_name(
    starttls_smtp_server: SmtpServer, trusts_test_ca: None
) -> None:
    port = starttls_smtp_server.port
    connector(port, smtp_host=TLS_HOST, smtp_security="starttls").send(REPLY)
    assert len(starttls_smtp_server.collector.envelopes) == 1
    with pytest.raises(ConnectorError, match=r"certificate of other\.test is not valid"):
        connector(port, smtp_host="other.test", smtp_security="starttls").send(REPLY)
    assert len(starttls_smtp_server.collector.envelopes) == 1


def test_a_server_without_starttls_is_a_setup_error(
    smtp_server: SmtpServer, trusts_test_ca: None
) -> None:
    with pytest.raises(ConnectorError, match="STARTTLS") as raised:
        connector(smtp_server.port, smtp_host=TLS_HOST, smtp_security="starttls").send(REPLY)
    assert not isinstance(raised.value, NetworkUnavailableError | SendRefusedError)
    assert smtp_server.collector.envelopes == []
