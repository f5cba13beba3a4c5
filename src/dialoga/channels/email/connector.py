"""The e-mail connector: polls one mailbox over IMAP by UID and answers over SMTP with
the headers that keep a reply in its thread.

Cursor: ``{"uidvalidity": V, "last_uid": N}``. A poll reads at most ``BATCH`` messages
with UIDs above ``N``, oldest first, says ``more`` when others wait, and moves ``N`` to
the highest UID it read, so nothing is read twice or skipped. The first poll reads only
the newest ``BATCH``. When the mailbox's UIDVALIDITY is no longer ``V`` (the mailbox was
recreated or renumbered, RFC 3501 2.3.1.1), the old UIDs mean nothing: the poll starts
over from the newest ``BATCH``, which is safe because ingest knows messages by
Message-ID. A message that is no readable e-mail is logged and passed over; the cursor
still moves past it, since it will never become readable and must not block the rest.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from email import policy as email_policy
from email.errors import MessageError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any, TypeGuard

from dialoga.channels.base import (
    AuthExpiredError,
    ConnectorError,
    MalformedPayloadError,
    NormalizedMessage,
    OutgoingReply,
    Poll,
    SendRefusedError,
    Sent,
)
from dialoga.channels.context import ConnectorContext
from dialoga.channels.email import parse
from dialoga.channels.email.client import Login, MailServer, examined, send_mail
from dialoga.core.fetch import FetchPolicy

NETWORK = parse.NETWORK
IDEMPOTENT_SENDS = False  # SMTP has no idempotency key: a repeated send is a second mail
BATCH = 50
MAX_REFERENCES = 20
IMAP_PORTS: dict[str, int] = {"ssl": 993, "starttls": 143, "none": 143}
SMTP_PORTS: dict[str, int] = {"ssl": 465, "starttls": 587, "none": 25}
_REPLY_PREFIX = re.compile(r"(re|aw|sv|antw)\s*:", re.IGNORECASE)
_NOT_ATEXT = re.compile(r"[^A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]")
_HOST = re.compile(r"[A-Za-z0-9._:-]+")
logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MailSettings:
    """A mail channel's settings: the brand's address, the servers and the login."""

    address: str
    imap: MailServer
    mailbox: str
    smtp: MailServer
    login: Login


class EmailConnector:
    """Reads the brand's mailbox and sends its replies."""

    idempotent_sends = IDEMPOTENT_SENDS

    def __init__(
        self, settings: MailSettings, policy: FetchPolicy, clock: Callable[[], datetime]
    ) -> None:
        self.settings = settings
        self.policy = policy
        self.clock = clock
        self.renewed_credentials: dict[str, Any] | None = None

    def poll(self, cursor: dict[str, Any]) -> Poll:
        """Read the next batch of new messages (see the module's docstring)."""
        settings = self.settings
        with examined(settings.imap, self.policy, settings.login, settings.mailbox) as mailbox:
            last_uid = resumed_uid(cursor, mailbox.uidvalidity)
            if last_uid is None:
                batch, more = mailbox.newest_uids(BATCH), False
            else:
                waiting = mailbox.uids_after(last_uid)
                batch, more = waiting[:BATCH], len(waiting) > BATCH
            bodies = mailbox.read(batch, self.policy.max_bytes) if batch else {}
        reached = max(batch, default=last_uid or 0)
        return Poll(
            messages=self._readable(bodies),
            profiles=[],
            cursor={"uidvalidity": mailbox.uidvalidity, "last_uid": reached},
            more=more,
        )

    def _readable(self, bodies: dict[int, bytes]) -> list[NormalizedMessage]:
        messages = []
        for uid in sorted(bodies):
            where = f"{self.settings.mailbox} UID {uid}"
            try:
                messages.append(parse.read_email(bodies[uid], self.settings.address, where))
            except MalformedPayloadError as error:
                logger.warning("e-mail passed over, it cannot be read: %s", error)
        return messages

    def send(self, reply: OutgoingReply) -> Sent:
        """Mail ``reply`` to the author of the message it answers, in its thread."""
        if reply.recipient is None or not reply.recipient.email:
            raise SendRefusedError("the message answered has no sender address to reply to")
        address = self.settings.address
        message_id = message_id_for(reply.key, address)
        message = compose(reply, address, message_id, self.clock())
        envelope = (address, reply.recipient.email)
        send_mail(self.settings.smtp, self.policy, self.settings.login, message, envelope)
        return Sent(external_id=message_id)


def resumed_uid(cursor: Mapping[str, Any], uidvalidity: int) -> int | None:
    """The last UID read, when ``cursor`` is of this UIDVALIDITY; else None (start over)."""
    last = cursor.get("last_uid")
    if cursor.get("uidvalidity") != uidvalidity or not _whole(last):
        return None
    return max(0, last)


def message_id_for(key: str, address: str) -> str:
    """The Message-ID (without angle brackets) of the reply Dialoga knows as ``key``."""
    local = _NOT_ATEXT.sub("-", key.removeprefix("dialoga:")).strip(".")
    return f"{local}@{address.rpartition('@')[2]}"


def reply_subject(subject: str | None) -> str:
    """``Re: <subject>``, without stacking a second ``Re:`` (nor on ``AW:`` or ``SV:``).
    Line breaks stay, for ``compose`` to refuse."""
    text = (subject or "").strip()
    return text if _REPLY_PREFIX.match(text) else f"Re: {text}".strip()


def references_for(reply: OutgoingReply) -> list[str]:
    """The References chain: the thread, then the message answered, once each; a long
    one keeps its first id and the latest ones (RFC 5322 3.6.4)."""
    chain = list(dict.fromkeys((*reply.references, *filter(None, [reply.in_reply_to]))))
    if len(chain) > MAX_REFERENCES:
        chain = [chain[0], *chain[-(MAX_REFERENCES - 1) :]]
    return chain


def compose(reply: OutgoingReply, sender: str, message_id: str, now: datetime) -> EmailMessage:
    """The reply as a plain-text UTF-8 e-mail. Header values come from other people
    (subject, names): the SMTP policy refuses line breaks in them, which would inject
    headers, and that refusal is a ``SendRefusedError``."""
    recipient = reply.recipient
    assert recipient is not None and recipient.email  # checked by send()
    message = EmailMessage(policy=email_policy.SMTP)
    try:
        message["From"] = sender
        to = Address(display_name=recipient.display_name or "", addr_spec=recipient.email)
        message["To"] = str(to)
        message["Subject"] = reply_subject(reply.subject)
        message["Date"] = format_datetime(now)
        message["Message-ID"] = f"<{message_id}>"
        if reply.in_reply_to:
            message["In-Reply-To"] = f"<{reply.in_reply_to}>"
        chain = references_for(reply)
        if chain:
            message["References"] = " ".join(f"<{known}>" for known in chain)
        message.set_content(reply.text, charset="utf-8")
    except (ValueError, MessageError) as error:
        raise SendRefusedError(f"the reply cannot be written as an e-mail: {error}") from None
    return message


def build(context: ConnectorContext) -> EmailConnector:
    """The connector of a mail channel, from its config and credentials."""
    settings = settings_of(context.config, context.credentials)
    return EmailConnector(settings, context.fetch_policy, context.clock)


def settings_of(config: Mapping[str, Any], credentials: Mapping[str, Any]) -> MailSettings:
    """A channel's mail settings; ``ConnectorError`` for a missing or bad one,
    ``AuthExpiredError`` when there is no password."""
    address = config.get("address")
    if not isinstance(address, str) or not _is_address(address.strip()):
        raise ConnectorError("address must be the brand's e-mail address (name@domain)")
    address = address.strip().lower()
    password = credentials.get("password")
    if not isinstance(password, str) or not password:
        raise AuthExpiredError("the mail channel has no password: connect it again")
    username = credentials.get("username") or address
    if not isinstance(username, str):
        raise ConnectorError("username must be text")
    return MailSettings(
        address=address,
        imap=_server(config, "imap", IMAP_PORTS),
        mailbox=_mailbox(config.get("mailbox", "INBOX")),
        smtp=_server(config, "smtp", SMTP_PORTS),
        login=Login(username, password),
    )


def _server(config: Mapping[str, Any], prefix: str, ports: dict[str, int]) -> MailServer:
    host = config.get(f"{prefix}_host")
    if not isinstance(host, str) or not _HOST.fullmatch(host.strip()):
        raise ConnectorError(f"{prefix}_host must be a host name")
    security = config.get(f"{prefix}_security", "ssl")
    if security not in ports:
        raise ConnectorError(f"{prefix}_security must be one of ssl, starttls, none")
    port = config.get(f"{prefix}_port", ports[security])
    if isinstance(port, str) and port.strip().isdigit():
        port = int(port)
    if not _whole(port) or not 0 < port < 65536:
        raise ConnectorError(f"{prefix}_port must be a port number")
    return MailServer(host.strip(), port, security)


def _mailbox(value: Any) -> str:
    if not isinstance(value, str) or not value or not (value.isascii() and value.isprintable()):
        raise ConnectorError("mailbox must be the name of an IMAP folder (ASCII)")
    return value


def _is_address(value: str) -> bool:
    local, _, domain = value.rpartition("@")
    return bool(local) and "." in domain and value.isprintable() and " " not in value


def _whole(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)
