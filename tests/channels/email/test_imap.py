"""Polling a real mailbox (the test Dovecot): UID tracking across polls, batches, a new
UIDVALIDITY, messages left unread, TLS, and every failure named as the job layer expects."""

from __future__ import annotations

import logging
import socket
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from dialoga.channels.base import (
    AuthExpiredError,
    ConnectorError,
    NetworkUnavailableError,
    Poll,
)
from dialoga.channels.context import ConnectorContext
from dialoga.channels.email.client import fetched_bodies
from dialoga.channels.email.connector import BATCH, EmailConnector, build
from dialoga.core.fetch import FetchPolicy

from .conftest import (
    PASSWORD,
    TLS_HOST,
    USERNAME,
    Dovecot,
    Mailbox,
    free_port,
    loopback_policy,
)

FIXTURES = Path(__file__).parents[2] / "fixtures" / "email"
NOW = datetime(2026, 5, 8, 12, 0, tzinfo=UTC)


def connector(
    box: Mailbox, policy: FetchPolicy | None = None, password: str = PASSWORD, **config: Any
) -> EmailConnector:
    settings = {
        "address": "Support@example.org",
        "imap_host": "127.0.0.1",
        "imap_port": box.server.port,
        "imap_security": "none",
        "mailbox": box.name,
        "smtp_host": "127.0.0.1",
        "smtp_security": "none",
        **config,
    }
    credentials = {"username": USERNAME, "password": password}
    context = ConnectorContext(
        settings, credentials, policy or loopback_policy(), clock=lambda: NOW
    )
    return build(context)


def numbered(number: int, body: str | None = None) -> bytes:
    return (
        f"From: Customer {number} <c{number}@example.net>\r\n"
        "To: support@example.org\r\n"
        f"Subject: question {number}\r\n"
        "Date: Fri, 8 May 2026 10:00:00 +0000\r\n"
        f"Message-ID: <q{number}@example.net>\r\n\r\n"
        f"{body or f'Question number {number}.'}\r\n"
    ).encode()


def ids(poll: Poll) -> list[str]:
    return [message.external_id for message in poll.messages]


def expected(numbers: range) -> list[str]:
    return [f"q{number}@example.net" for number in numbers]


def test_the_first_poll_reads_only_the_newest_batch(mailbox: Mailbox) -> None:
    mailbox.append(*(numbered(n) for n in range(1, 61)))
    mail = connector(mailbox)
    first = mail.poll({})
    assert ids(first) == expected(range(11, 61))
    assert not first.more  # history before the newest batch is not crawled
    assert first.cursor["last_uid"] == 60
    assert isinstance(first.cursor["uidvalidity"], int)
    again = mail.poll(first.cursor)  # "UID 61:*" still names UID 60: it must not come back
    assert again.messages == []
    assert again.cursor == first.cursor
    assert not again.more


def test_mail_arriving_between_polls_is_read_once_and_none_is_missed(mailbox: Mailbox) -> None:
    mail = connector(mailbox)
    mailbox.append(*(numbered(n) for n in range(1, 4)))
    first = mail.poll({})
    mailbox.append(numbered(4), numbered(5))
    second = mail.poll(first.cursor)
    third = mail.poll(second.cursor)
    mailbox.append(numbered(6))
    fourth = mail.poll(third.cursor)
    assert ids(first) == expected(range(1, 4))
    assert ids(second) == expected(range(4, 6))
    assert third.messages == []
    assert ids(fourth) == expected(range(6, 7))
    assert fourth.cursor["last_uid"] == 6


def test_a_backlog_comes_in_batches_with_more(mailbox: Mailbox) -> None:
    mail = connector(mailbox)
    empty = mail.poll({})
    assert empty.messages == []
    assert empty.cursor["last_uid"] == 0
    mailbox.append(*(numbered(n) for n in range(1, 121)))
    polls = [mail.poll(empty.cursor)]
    while polls[-1].more:
        polls.append(mail.poll(polls[-1].cursor))
    assert [len(poll.messages) for poll in polls] == [BATCH, BATCH, 20]
    assert [poll.more for poll in polls] == [True, True, False]
    assert [poll.cursor["last_uid"] for poll in polls] == [50, 100, 120]
    assert [i for poll in polls for i in ids(poll)] == expected(range(1, 121))


def test_polled_messages_stay_unread(mailbox: Mailbox) -> None:
    mailbox.append(numbered(1), numbered(2))
    assert len(connector(mailbox).poll({}).messages) == 2
    flags = mailbox.flags()
    assert len(flags) == 2
    assert all(b"\\Seen" not in answer for answer in flags)


def test_a_new_uidvalidity_starts_over_from_the_newest(mailbox: Mailbox) -> None:
    mail = connector(mailbox)
    mailbox.append(*(numbered(n) for n in range(1, 4)))
    before = mail.poll({})
    mailbox.recreate()
    mailbox.append(*(numbered(n) for n in range(100, 155)))
    after = mail.poll(before.cursor)
    assert after.cursor["uidvalidity"] != before.cursor["uidvalidity"]
    assert ids(after) == expected(range(105, 155))  # the newest batch; ingest dedups
    assert after.cursor["last_uid"] == 55
    assert not after.more


@pytest.mark.parametrize(
    "cursor", [{"uidvalidity": "1", "last_uid": "7"}, {"last_uid": 3}, {"uidvalidity": None}]
)
def test_a_cursor_that_does_not_fit_starts_over(mailbox: Mailbox, cursor: dict[str, Any]) -> None:
    mailbox.append(*(numbered(n) for n in range(1, 4)))
    assert ids(connector(mailbox).poll(cursor)) == expected(range(1, 4))


def test_the_sample_messages_read_as_emails(mailbox: Mailbox) -> None:
    names = ("question.eml", "followup.eml", "from_brand.eml", "hostile_html.eml")
    mailbox.append(*((FIXTURES / name).read_bytes() for name in names))
    question, followup, own, hostile = connector(mailbox).poll({}).messages
    assert question.author.email == "ana.souza@example.net"
    assert question.author.display_name == "Ana Souza"
    assert not question.author.is_brand
    assert question.direction is None
    assert question.created_at == datetime(2026, 5, 4, 7, 12, 37, tzinfo=UTC)
    assert followup.in_reply_to == "reply-7f3a@example.org"
    assert followup.references == ("CAF3u5x8Qm1@mail.example.net", "reply-7f3a@example.org")
    assert own.author.is_brand  # From: Support@Example.org is the channel's address
    assert own.direction == "outbound"
    assert "Claim your <prize> & more" in hostile.text
    assert "<script" not in hostile.text
    assert "document.cookie" not in hostile.text


def test_an_unreadable_message_is_passed_over_and_not_read_again(
    mailbox: Mailbox, caplog: pytest.LogCaptureFixture
) -> None:
    mailbox.append(numbered(1), (FIXTURES / "no_message_id.eml").read_bytes(), numbered(3))
    mail = connector(mailbox)
    with caplog.at_level(logging.WARNING, logger="dialoga.channels.email.connector"):
        first = mail.poll({})
    assert ids(first) == ["q1@example.net", "q3@example.net"]
    assert first.cursor["last_uid"] == 3  # past the unreadable one: it cannot block the rest
    assert f"{mailbox.name} UID 2: no Message-ID" in caplog.text
    assert mail.poll(first.cursor).messages == []


def test_a_large_message_is_read_up_to_the_size_limit(mailbox: Mailbox) -> None:
    message = EmailMessage()
    message["From"] = "big@example.net"
    message["Date"] = "Fri, 8 May 2026 10:00:00 +0000"
    message["Message-ID"] = "<big@example.net>"
    message.set_content("The photo of the broken bag is attached.")
    message.add_attachment(bytes(range(256)) * 400, maintype="image", subtype="jpeg")
    mailbox.append(message.as_bytes(), numbered(2))
    mail = connector(mailbox, loopback_policy(max_bytes=4000))
    big, small = mail.poll({}).messages
    assert big.external_id == "big@example.net"
    assert big.text == "The photo of the broken bag is attached."
    assert small.external_id == "q2@example.net"


def test_a_mailbox_name_with_spaces_and_quotes(dovecot: Dovecot) -> None:
    box = Mailbox(dovecot, name='Team "A" support')
    admin = dovecot.admin()
    try:
        assert admin.create('"Team \\"A\\" support"')[0] == "OK"
        assert admin.append('"Team \\"A\\" support"', None, None, numbered(1))[0] == "OK"
    finally:
        admin.logout()
    assert ids(connector(box).poll({})) == ["q1@example.net"]


def test_a_mailbox_that_does_not_exist_is_a_setup_error(mailbox: Mailbox) -> None:
    with pytest.raises(ConnectorError, match="'Nowhere' cannot be opened"):
        connector(mailbox, mailbox="Nowhere").poll({})


def test_implicit_tls_verifies_the_host_name(mailbox: Mailbox, trusts_test_ca: None) -> None:
    mailbox.append(numbered(1))
    tls: dict[str, Any] = {
        "imap_host": TLS_HOST,
        "imap_port": mailbox.server.tls_port,
        "imap_security": "ssl",
    }
    assert ids(connector(mailbox, **tls).poll({})) == ["q1@example.net"]
    wrong = {**tls, "imap_host": "other.test"}  # same address, certificate not for it
    with pytest.raises(ConnectorError, match=r"certificate of other\.test is not valid"):
        connector(mailbox, **wrong).poll({})


def test_starttls_verifies_the_host_name(mailbox: Mailbox, trusts_test_ca: None) -> None:
    mailbox.append(numbered(1))
    assert ids(connector(mailbox, imap_host=TLS_HOST, imap_security="starttls").poll({})) == [
        "q1@example.net"
    ]
    with pytest.raises(ConnectorError, match=r"certificate of other\.test is not valid"):
        connector(mailbox, imap_host="other.test", imap_security="starttls").poll({})


def test_an_untrusted_certificate_is_refused(mailbox: Mailbox) -> None:
    tls: dict[str, Any] = {
        "imap_host": TLS_HOST,
        "imap_port": mailbox.server.tls_port,
        "imap_security": "ssl",
    }
    with pytest.raises(ConnectorError, match="certificate"):
        connector(mailbox, **tls).poll({})


def test_a_wrong_password_means_authorising_again(mailbox: Mailbox) -> None:
    with pytest.raises(AuthExpiredError, match="refused") as raised:
        connector(mailbox, password="not-the-password").poll({})
    assert "not-the-password" not in str(raised.value)
    assert PASSWORD not in str(raised.value)


def test_a_server_that_is_down_is_unavailable(mailbox: Mailbox) -> None:
    with pytest.raises(NetworkUnavailableError, match=r"cannot talk to 127\.0\.0\.1"):
        connector(mailbox, imap_port=free_port()).poll({})


def test_a_server_that_never_greets_times_out(mailbox: Mailbox) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        slow = loopback_policy(timeout_seconds=0.3)
        with pytest.raises(NetworkUnavailableError):
            connector(mailbox, slow, imap_port=port).poll({})


def test_a_private_address_needs_the_admins_consent(mailbox: Mailbox) -> None:
    with pytest.raises(ConnectorError, match="private, loopback") as raised:
        connector(mailbox, FetchPolicy()).poll({})
    assert not isinstance(raised.value, NetworkUnavailableError)


def test_clear_text_goes_only_to_loopback_or_trusted_hosts(
    mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[tuple[str, int]] = []

    def no_connection(address: tuple[str, int], *args: Any) -> socket.socket:
        opened.append(address)  # never a real connection to a non-loopback address
        raise ConnectionRefusedError(111, "refused by the test")

    monkeypatch.setattr(socket, "create_connection", no_connection)
    elsewhere = loopback_policy(resolver=lambda host, port: ["198.51.100.20"])
    with pytest.raises(ConnectorError, match="in clear"):
        connector(mailbox, elsewhere, imap_host="imap.example.org").poll({})
    assert opened == []
    trusted = FetchPolicy(
        trusted_hosts=frozenset({"imap.example.org"}), resolver=lambda host, port: ["198.51.100.20"]
    )
    with pytest.raises(NetworkUnavailableError):
        connector(mailbox, trusted, imap_host="imap.example.org").poll({})
    assert opened == [("198.51.100.20", mailbox.server.port)]  # the vetted address


def test_the_uid_may_follow_the_literal_in_a_fetch_answer() -> None:
    answer = [
        (b"1 (UID 7 BODY[]<0> {5}", b"first"),
        b")",
        (b"2 (BODY[]<0> {6}", b"second"),
        b" UID 9)",
        b"3 (FLAGS (\\Seen))",  # an unsolicited update, not an answer
    ]
    assert fetched_bodies(answer) == {7: b"first", 9: b"second"}
