"""The network side of the e-mail connector: IMAP to read one mailbox, SMTP to send.

Both protocols open their socket here: the host is vetted with
``core.fetch.checked_address`` and the connection goes to the address that was checked
(DNS cannot swap in another one), while TLS still verifies the certificate against the
host name (``server_hostname=host``). Security ``none`` sends the password in clear, so
it is allowed only to a loopback address or a host the operator trusts. Every failure
leaves as one of the connector errors of ``channels.base``.
"""

from __future__ import annotations

import imaplib
import ipaddress
import re
import smtplib
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any, Literal

from dialoga.channels.base import (
    AuthExpiredError,
    ConnectorError,
    MalformedPayloadError,
    NetworkUnavailableError,
    SendRefusedError,
)
from dialoga.core.fetch import FetchFailedError, FetchPolicy, FetchRefusedError, checked_address

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

Security = Literal["ssl", "starttls", "none"]
_UID_ITEM = re.compile(rb"\bUID (\d+)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class MailServer:
    """One server to talk to: its host name, port and how the connection is secured."""

    host: str
    port: int
    security: Security


@dataclass(frozen=True, slots=True)
class Login:
    """The mailbox's user name and password (never shown in a repr)."""

    username: str
    password: str = field(repr=False)


def tls_context() -> ssl.SSLContext:
    """The TLS settings of every mail connection: the system's CAs, host names checked."""
    return ssl.create_default_context()


def open_socket(server: MailServer, policy: FetchPolicy, timeout: float | None) -> socket.socket:
    """A connection to the vetted address of ``server``, TLS-wrapped for ``ssl``."""
    address = checked_address(server.host.lower(), server.port, policy)
    if server.security == "none" and not _may_go_plain(server.host, address, policy):
        raise ConnectorError(
            f"{server.host}: security 'none' would send the password in clear; "
            "use ssl or starttls (none is only for loopback or trusted hosts)"
        )
    connection = socket.create_connection((address, server.port), timeout)
    if server.security == "ssl":
        return tls_context().wrap_socket(connection, server_hostname=server.host)
    return connection


def _may_go_plain(host: str, address: str, policy: FetchPolicy) -> bool:
    return ipaddress.ip_address(address).is_loopback or host.lower() in policy.trusted_hosts


@contextmanager
def _socket_failures(what: str, server: MailServer) -> Iterator[None]:
    """What the guard, the socket and TLS raise, as connector errors."""
    try:
        yield
    except ssl.SSLCertVerificationError as error:
        raise ConnectorError(
            f"{what}: the certificate of {server.host} is not valid ({error.verify_message})"
        ) from None
    except FetchRefusedError as error:
        raise ConnectorError(f"{what}: {error}") from None
    except FetchFailedError as error:
        raise NetworkUnavailableError(f"{what}: {error}") from None
    except (OSError, EOFError) as error:  # refused, reset, timed out, TLS broken off
        reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
        raise NetworkUnavailableError(
            f"{what}: cannot talk to {server.host}:{server.port} ({reason})"
        ) from None


# --- IMAP ----------------------------------------------------------------------------


class _GuardedImap(imaplib.IMAP4):
    """imaplib's client, connecting through ``open_socket`` (STARTTLS and the
    certificate check keep the host name imaplib was given)."""

    def __init__(self, server: MailServer, policy: FetchPolicy) -> None:
        self._server = server
        self._policy = policy
        super().__init__(server.host, server.port, timeout=policy.timeout_seconds)

    def _create_socket(self, timeout: float | None) -> socket.socket:
        return open_socket(self._server, self._policy, timeout)


class ImapMailbox:
    """One mailbox opened read-only (``EXAMINE``): its UIDVALIDITY and message count,
    the UIDs to read and the messages' bytes (``BODY.PEEK[]``, so they stay unread)."""

    def __init__(self, imap: imaplib.IMAP4, uidvalidity: int, exists: int) -> None:
        self._imap = imap
        self.uidvalidity = uidvalidity
        self.exists = exists

    def newest_uids(self, count: int) -> list[int]:
        """The UIDs of the newest ``count`` messages (by sequence number), oldest first."""
        if self.exists == 0:
            return []
        first = max(1, self.exists - count + 1)
        answer = _ok(self._imap.fetch(f"{first}:{self.exists}", "(UID)"), "FETCH")
        return sorted({uid for item in answer if (uid := _uid_in(item)) is not None})

    def uids_after(self, last_uid: int) -> list[int]:
        """The UIDs above ``last_uid``, oldest first. ``UID SEARCH UID n:*`` names the
        newest message even when it is below ``n`` (RFC 3501 6.4.8), hence the filter."""
        answer = _ok(self._imap.uid("SEARCH", "UID", f"{last_uid + 1}:*"), "UID SEARCH")
        words = b" ".join(item for item in answer if isinstance(item, bytes)).split()
        if not all(word.isdigit() for word in words):
            raise MalformedPayloadError("IMAP UID SEARCH: the answer is not a list of UIDs")
        return sorted(uid for uid in {int(word) for word in words} if uid > last_uid)

    def read(self, uids: list[int], max_bytes: int) -> dict[int, bytes]:
        """The bytes of the messages ``uids`` (each up to ``max_bytes``), by UID."""
        wanted = ",".join(str(uid) for uid in uids)
        item = f"(UID BODY.PEEK[]<0.{max_bytes}>)"
        bodies = fetched_bodies(_ok(self._imap.uid("FETCH", wanted, item), "UID FETCH"))
        asked = set(uids)
        return {uid: body for uid, body in bodies.items() if uid in asked}


@contextmanager
def examined(
    server: MailServer, policy: FetchPolicy, login: Login, mailbox: str
) -> Iterator[ImapMailbox]:
    """An IMAP session on ``mailbox``, logged out when the block ends."""
    what = f"IMAP {server.host}"
    with _socket_failures(what, server), _imap_failures(what):
        imap = _GuardedImap(server, policy)
        try:
            if server.security == "starttls":
                imap.starttls(tls_context())
            _log_in(imap, login, what)
            yield _examine(imap, mailbox, what)
        finally:
            with suppress(imaplib.IMAP4.error, OSError):
                imap.logout()


@contextmanager
def _imap_failures(what: str) -> Iterator[None]:
    try:
        yield
    except imaplib.IMAP4.abort as error:
        raise NetworkUnavailableError(
            f"{what}: the connection broke off ({_said(error)})"
        ) from None
    except imaplib.IMAP4.error as error:
        raise ConnectorError(f"{what}: the server refused a command ({_said(error)})") from None


def _log_in(imap: imaplib.IMAP4, login: Login, what: str) -> None:
    try:
        imap.login(login.username, login.password)
    except imaplib.IMAP4.abort:
        raise
    except imaplib.IMAP4.error as error:
        said = _said(error)
        if "[UNAVAILABLE]" in said.upper():  # RFC 5530: a temporary failure
            raise NetworkUnavailableError(f"{what}: cannot log in now ({said})") from None
        raise AuthExpiredError(f"{what}: the user name or password was refused ({said})") from None
    except UnicodeEncodeError:
        raise AuthExpiredError(
            f"{what}: IMAP LOGIN takes only ASCII user names and passwords"
        ) from None


def _examine(imap: imaplib.IMAP4, mailbox: str, what: str) -> ImapMailbox:
    quoted = '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'
    status, answer = imap.select(quoted, readonly=True)
    if status != "OK":
        said = _said_in(answer)
        raise ConnectorError(f"{what}: the mailbox {mailbox!r} cannot be opened ({said})")
    validity = _number(imap.response("UIDVALIDITY")[1], "UIDVALIDITY")
    return ImapMailbox(imap, validity, _number(answer, "EXISTS"))


def _number(values: list[Any], name: str) -> int:
    """The last number an untagged response gave for ``name``."""
    last = values[-1] if values else None
    if not isinstance(last, bytes) or not last.strip().isdigit():
        raise MalformedPayloadError(f"IMAP SELECT: no {name} in the answer")
    return int(last)


def _ok(result: tuple[str, list[Any]], command: str) -> list[Any]:
    status, answer = result
    if status != "OK":
        raise ConnectorError(f"IMAP {command} was refused ({_said_in(answer)})")
    return answer


def fetched_bodies(answer: list[Any]) -> dict[int, bytes]:
    """The message bytes of a ``UID FETCH`` answer as imaplib gives it, by UID. A message
    is a (head, literal) pair; its UID item is in the head, or in the line that follows
    the literal when the server sends it after the body."""
    bodies: dict[int, bytes] = {}
    pending: bytes | None = None
    for item in answer:
        if isinstance(item, tuple) and len(item) == 2:
            head, pending = item
        elif isinstance(item, bytes):
            head = item
        else:
            continue
        uid = _uid_in(head)
        if uid is not None and isinstance(pending, bytes):
            bodies[uid] = pending
            pending = None
    return bodies


def _uid_in(item: Any) -> int | None:
    found = _UID_ITEM.search(item) if isinstance(item, bytes) else None
    return int(found.group(1)) if found else None


def _said(error: BaseException) -> str:
    return _said_in(list(error.args))


def _said_in(answer: list[Any]) -> str:
    """The server's words in an answer or error, as text."""
    last = answer[-1] if answer else b""
    text = last.decode("utf-8", "replace") if isinstance(last, bytes) else str(last)
    return " ".join(text.split())[:300] or "no reason given"


# --- SMTP ----------------------------------------------------------------------------


class _GuardedSmtp(smtplib.SMTP):
    """smtplib's client, connected at once through ``open_socket`` (STARTTLS verifies
    the host name smtplib was given)."""

    def __init__(self, server: MailServer, policy: FetchPolicy, helo_name: str) -> None:
        self._server = server
        self._policy = policy
        super().__init__(
            server.host, server.port, local_hostname=helo_name, timeout=policy.timeout_seconds
        )

    data_started = False

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return open_socket(self._server, self._policy, timeout)

    def data(self, msg: ReadableBuffer | str) -> tuple[int, bytes]:
        self.data_started = True
        return super().data(msg)


def send_mail(
    server: MailServer,
    policy: FetchPolicy,
    login: Login,
    message: EmailMessage,
    envelope: tuple[str, str],
) -> None:
    """Send ``message`` from ``envelope[0]`` to ``envelope[1]`` through ``server``.

    A connection lost once the message was on its way, before the server confirmed it,
    leaves the outcome unknown: that is a ``SendRefusedError`` (sending again could
    mail it twice), for a person to check.
    """
    what = f"SMTP {server.host}"
    sender, recipient = envelope
    with _socket_failures(what, server), _smtp_failures(what):
        smtp = _GuardedSmtp(server, policy, helo_name=sender.rpartition("@")[2])
        try:
            if server.security == "starttls":
                smtp.starttls(context=tls_context())
            smtp.login(login.username, login.password)
            smtp.send_message(message, sender, [recipient])
        except OSError as error:  # smtplib's errors are OSErrors too
            if smtp.data_started and not isinstance(error, smtplib.SMTPResponseException):
                raise SendRefusedError(
                    f"{what}: the connection broke off before the server confirmed the "
                    "message; it may have been sent, so check before sending it again"
                ) from None
            raise
        finally:
            _close(smtp)


def _close(smtp: smtplib.SMTP) -> None:
    """QUIT politely; the message is sent already, so a failure here changes nothing."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


@contextmanager
def _smtp_failures(what: str) -> Iterator[None]:
    """SMTP's answers as connector errors: 4xx is temporary, 5xx final."""
    try:
        yield
    except smtplib.SMTPAuthenticationError as error:
        said = _reply_text(error.smtp_code, error.smtp_error)
        if _temporary(error.smtp_code):
            raise NetworkUnavailableError(f"{what}: cannot log in now ({said})") from None
        raise AuthExpiredError(f"{what}: the user name or password was refused ({said})") from None
    except smtplib.SMTPRecipientsRefused as error:
        answers = error.recipients.items()
        said = "; ".join(f"{who}: {_reply_text(code, text)}" for who, (code, text) in answers)
        if any(_temporary(code) for code, _ in error.recipients.values()):
            raise NetworkUnavailableError(f"{what}: the recipient was deferred ({said})") from None
        raise SendRefusedError(f"{what}: the recipient was refused ({said})") from None
    except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as error:
        said = _reply_text(error.smtp_code, error.smtp_error)
        if _temporary(error.smtp_code):
            raise NetworkUnavailableError(f"{what}: the message was deferred ({said})") from None
        raise SendRefusedError(f"{what}: the message was refused ({said})") from None
    except smtplib.SMTPNotSupportedError as error:  # no STARTTLS, or no AUTH offered
        raise ConnectorError(f"{what}: {error}") from None
    except smtplib.SMTPException as error:  # disconnected, refused greeting or EHLO
        raise NetworkUnavailableError(f"{what}: {error}") from None


def _temporary(code: int) -> bool:
    return 400 <= code < 500


def _reply_text(code: int, text: bytes | str) -> str:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {' '.join(words.split())[:300]}"
