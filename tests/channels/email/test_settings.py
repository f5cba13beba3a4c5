"""A mail channel's settings, and the pure parts of a reply: subject, Message-ID and the
References chain."""

from __future__ import annotations

from typing import Any

import pytest

from dialoga.channels.base import AuthExpiredError, ConnectorError, OutgoingReply
from dialoga.channels.context import ConnectorContext
from dialoga.channels.email import connector as email
from dialoga.channels.email.client import MailServer
from dialoga.channels.email.connector import (
    MAX_REFERENCES,
    build,
    message_id_for,
    references_for,
    reply_subject,
    resumed_uid,
    settings_of,
)

CONFIG = {
    "address": " Support@Example.org ",
    "imap_host": "imap.example.org",
    "smtp_host": "smtp.example.org",
}
SECRET = {"password": "app-password-1"}


def test_defaults_are_implicit_tls_on_the_usual_ports() -> None:
    settings = settings_of(CONFIG, SECRET)
    assert settings.address == "support@example.org"
    assert settings.imap == MailServer("imap.example.org", 993, "ssl")
    assert settings.smtp == MailServer("smtp.example.org", 465, "ssl")
    assert settings.mailbox == "INBOX"
    assert settings.login.username == "support@example.org"  # the address, unless given
    assert "app-password-1" not in repr(settings)


def test_starttls_defaults_to_the_submission_ports() -> None:
    config = {**CONFIG, "imap_security": "starttls", "smtp_security": "starttls"}
    settings = settings_of(config, {**SECRET, "username": "rossi"})
    assert (settings.imap.port, settings.smtp.port) == (143, 587)
    assert settings.login.username == "rossi"


def test_explicit_ports_and_mailbox_are_kept() -> None:
    config = {**CONFIG, "imap_port": "1993", "smtp_port": 2525, "mailbox": "Support/Shop"}
    settings = settings_of(config, SECRET)
    assert (settings.imap.port, settings.smtp.port, settings.mailbox) == (
        1993,
        2525,
        "Support/Shop",
    )


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"address": None}, "address"),
        ({"address": "support"}, "address"),
        ({"imap_host": None}, "imap_host"),
        ({"smtp_host": "smtp example.org"}, "smtp_host"),
        ({"imap_security": "tls"}, "imap_security"),
        ({"smtp_port": 0}, "smtp_port"),
        ({"imap_port": True}, "imap_port"),
        ({"imap_port": 70000}, "imap_port"),
        ({"mailbox": "Boîte"}, "mailbox"),
        ({"mailbox": "INBOX\r\nA1 DELETE INBOX"}, "mailbox"),
    ],
)
def test_a_bad_setting_is_named(change: dict[str, Any], named: str) -> None:
    with pytest.raises(ConnectorError, match=named):
        settings_of({**CONFIG, **change}, SECRET)


def test_no_password_means_connecting_again() -> None:
    with pytest.raises(AuthExpiredError, match="no password"):
        settings_of(CONFIG, {})


def test_the_connector_says_sends_may_not_be_repeated() -> None:
    connector = build(ConnectorContext(CONFIG, SECRET))
    assert email.NETWORK == "email"
    assert email.IDEMPOTENT_SENDS is False
    assert connector.idempotent_sends is False
    assert connector.renewed_credentials is None


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Order 1042", "Re: Order 1042"),
        ("Re: Order 1042", "Re: Order 1042"),
        ("RE:Order 1042", "RE:Order 1042"),
        ("AW: Bestellung", "AW: Bestellung"),
        ("Regarding the order", "Re: Regarding the order"),
        (None, "Re:"),
    ],
)
def test_re_is_added_once(subject: str | None, expected: str) -> None:
    assert reply_subject(subject) == expected


def test_the_message_id_comes_from_the_replys_key() -> None:
    assert message_id_for("dialoga:3f2c9a0d", "support@example.org") == "3f2c9a0d@example.org"
    assert message_id_for("dialoga:a b<c>", "support@example.org") == "a-b-c-@example.org"


def reply(in_reply_to: str | None, *references: str) -> OutgoingReply:
    return OutgoingReply("dialoga:1", "hi", "email", in_reply_to, references)


def test_references_chain_the_thread_then_the_parent_once() -> None:
    assert references_for(reply("c@x", "a@x", "b@x")) == ["a@x", "b@x", "c@x"]
    assert references_for(reply("b@x", "a@x", "b@x")) == ["a@x", "b@x"]
    assert references_for(reply(None)) == []


def test_a_long_chain_keeps_its_first_and_latest_ids() -> None:
    thread = [f"m{number}@x" for number in range(40)]
    chain = references_for(reply("m40@x", *thread))
    assert len(chain) == MAX_REFERENCES
    assert chain[0] == "m0@x"
    assert chain[-1] == "m40@x"
    assert chain[1] == f"m{41 - MAX_REFERENCES + 1}@x"


@pytest.mark.parametrize(
    ("cursor", "expected"),
    [
        ({"uidvalidity": 7, "last_uid": 42}, 42),
        ({"uidvalidity": 8, "last_uid": 42}, None),
        ({"uidvalidity": 7, "last_uid": "42"}, None),
        ({"uidvalidity": 7, "last_uid": True}, None),
        ({"uidvalidity": 7, "last_uid": -3}, 0),
        ({}, None),
    ],
)
def test_a_cursor_resumes_only_in_its_uidvalidity(
    cursor: dict[str, Any], expected: int | None
) -> None:
    assert resumed_uid(cursor, 7) == expected
