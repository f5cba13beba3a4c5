"""Real mail servers on loopback for the e-mail connector's tests: a private Dovecot
(Debian's dovecot-imapd, its own config, maildir and port in a temporary folder) for
IMAP, aiosmtpd for SMTP, and a self-signed certificate for ``mail.test`` to check TLS.

Every test gets a mailbox of its own on the one Dovecot of the session.
"""

from __future__ import annotations

import asyncio
import imaplib
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from dialoga.channels.email import client
from dialoga.core.fetch import FetchPolicy

USERNAME = "support@example.org"
PASSWORD = "s3cret-Pa55"
TLS_HOST = "mail.test"
DOVECOT_HINT = (
    "the IMAP tests run a private Dovecot: install Debian's dovecot-imapd "
    "(apt-get install -y --no-install-recommends dovecot-imapd; .ci/run does)"
)


def loopback_policy(**options: Any) -> FetchPolicy:
    """Private addresses allowed, and every host name resolving to 127.0.0.1."""
    options.setdefault("resolver", lambda host, port: ["127.0.0.1"])
    return FetchPolicy(allow_private=True, **options)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class Certificate:
    """A self-signed certificate for ``TLS_HOST`` (its own CA) and its key, as files."""

    cert: Path
    key: Path

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, TLS_HOST)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(TLS_HOST)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    paths = Certificate(folder / "cert.pem", folder / "key.pem")
    paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


@pytest.fixture
def trusts_test_ca(certificate: Certificate, monkeypatch: pytest.MonkeyPatch) -> None:
    """The connector's TLS trusts the test certificate (and checks host names as ever)."""
    monkeypatch.setattr(client, "tls_context", certificate.client_context)


# --- IMAP: a private Dovecot ---------------------------------------------------------


@dataclass(frozen=True)
class Dovecot:
    """The running test Dovecot: a plain port (with STARTTLS) and an implicit-TLS one."""

    port: int
    tls_port: int

    def admin(self) -> imaplib.IMAP4:
        connection = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        connection.login(USERNAME, PASSWORD)
        return connection


DOVECOT_CONF = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
instance_name = dialoga-test-{port}
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_fsync = never
first_valid_uid = 1
default_login_user = dovenull
default_internal_user = dovecot
default_internal_group = dovecot
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={root}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
}}
service anvil {{
  chroot =
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""


def _dovecot_binary() -> str:
    """Debian's Dovecot; as with the browser, skipped where it cannot run, except in CI
    (``CI`` set), where it must."""
    found = shutil.which("dovecot") or shutil.which("dovecot", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        _missing(f"dovecot is not installed: {DOVECOT_HINT}")
    if os.geteuid() != 0:
        _missing("the test Dovecot runs its processes as the dovecot users: run as root")
    return found


def _missing(message: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _configured(root: Path, certificate: Certificate) -> Dovecot:
    server = Dovecot(free_port(), free_port())
    for folder, owner in (("run", None), ("state", None), ("mail", "dovecot"), ("home", "dovecot")):
        (root / folder).mkdir()
        if owner:
            shutil.chown(root / folder, owner, owner)
    (root / "users").write_text(f"{USERNAME}:{{PLAIN}}{PASSWORD}\n")
    conf = DOVECOT_CONF.format(
        root=root, port=server.port, tls_port=server.tls_port, cert=certificate.cert,
        key=certificate.key,
    )  # fmt: skip
    (root / "dovecot.conf").write_text(conf)
    return server


def _wait_for_greeting(server: Dovecot, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with socket.create_connection(("127.0.0.1", server.port), 1) as probe:
                if probe.recv(100).startswith(b"* OK"):
                    return
        except OSError:
            time.sleep(0.1)
    said = log.read_text(errors="replace")[-2000:] if log.exists() else "no log"
    pytest.fail(f"the test Dovecot did not start:\n{said}")


@pytest.fixture(scope="session")
def dovecot(certificate: Certificate) -> Iterator[Dovecot]:
    binary = _dovecot_binary()
    root = Path(tempfile.mkdtemp(prefix="dialoga-dovecot-"))
    root.chmod(0o755)  # Dovecot's own users reach their sockets and mail in here
    server = _configured(root, certificate)
    process = subprocess.Popen([binary, "-F", "-c", str(root / "dovecot.conf")])
    try:
        _wait_for_greeting(server, process, root / "dovecot.log")
        yield server
    finally:
        process.terminate()
        process.wait(10)
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class Mailbox:
    """A mailbox of the test Dovecot, filled over IMAP as mail would arrive."""

    server: Dovecot
    name: str = field(default_factory=lambda: f"T{uuid.uuid4().hex[:10]}")

    def append(self, *messages: bytes) -> None:
        connection = self.server.admin()
        try:
            for message in messages:
                status, answer = connection.append(self.name, None, None, message)
                assert status == "OK", answer
        finally:
            connection.logout()

    def recreate(self) -> None:
        """Delete and create the mailbox again: a new UIDVALIDITY, UIDs from 1."""
        connection = self.server.admin()
        try:
            assert connection.delete(self.name)[0] == "OK"
            assert connection.create(self.name)[0] == "OK"
        finally:
            connection.logout()

    def flags(self) -> list[bytes]:
        connection = self.server.admin()
        try:
            connection.select(self.name, readonly=True)
            status, answer = connection.uid("FETCH", "1:*", "(FLAGS)")
            assert status == "OK"
            return [item for item in answer if isinstance(item, bytes)]
        finally:
            connection.logout()


@pytest.fixture
def mailbox(dovecot: Dovecot) -> Mailbox:
    box = Mailbox(dovecot)
    connection = dovecot.admin()
    try:
        assert connection.create(box.name)[0] == "OK"
    finally:
        connection.logout()
    return box


# --- SMTP: aiosmtpd ------------------------------------------------------------------


class Collector:
    """Keeps every message accepted and who sent it; refuses ``refused@`` for good,
    defers ``later@`` and is too slow to confirm a message to ``silent@``."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.logins: list[bytes | None] = []  # who had logged in, per message

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address.startswith("refused@"):
            return "550 5.1.1 <refused@example.net>: mailbox unavailable"
        if address.startswith("later@"):
            return "450 4.2.1 mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if envelope.rcpt_tos == ["silent@example.net"]:
            await asyncio.sleep(3)  # takes the message and never confirms it in time
        self.envelopes.append(envelope)
        logged_in = session.auth_data if session.authenticated else None
        self.logins.append(logged_in.login if isinstance(logged_in, LoginPassword) else None)
        return "250 2.0.0 Message accepted"


def authenticate(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    known = isinstance(auth_data, LoginPassword) and (
        auth_data.login == USERNAME.encode() and auth_data.password == PASSWORD.encode()
    )
    return AuthResult(success=known, handled=False, auth_data=auth_data)  # aiosmtpd says 535


@dataclass
class SmtpServer:
    port: int
    collector: Collector


def _smtp(**options: Any) -> Iterator[SmtpServer]:
    collector = Collector()
    port = free_port()
    controller = Controller(
        collector,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticate,
        auth_require_tls=False,
        **options,
    )
    controller.start()
    try:
        yield SmtpServer(port, collector)
    finally:
        controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A plain SMTP server (security "none") on loopback that offers AUTH."""
    yield from _smtp()


@pytest.fixture
def starttls_smtp_server(certificate: Certificate) -> Iterator[SmtpServer]:
    """An SMTP server that offers STARTTLS with the ``mail.test`` certificate."""
    yield from _smtp(tls_context=certificate.server_context(), require_starttls=True)
