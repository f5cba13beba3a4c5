"""A scripted connector standing in for a network in the polling and sending tests: it
answers polls from a list of pages and sends by recording what it was asked."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from dialoga.accounts.models import Member, User, Workspace
from dialoga.channels.actions import do_get_or_create_channel
from dialoga.channels.base import (
    ConnectorError,
    NormalizedAuthor,
    NormalizedMessage,
    NormalizedProfile,
    OutgoingReply,
    Poll,
    Sent,
)
from dialoga.channels.context import ConnectorContext
from dialoga.channels.models import Channel
from dialoga.channels.sync import Live, do_connect_live
from dialoga.core.db import transaction
from dialoga.core.vault import Vault

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
LAURA = NormalizedAuthor("mastodon", "109", handle="laura@social.example", display_name="Laura")


def mention(number: int, *, reply_to: str | None = None) -> NormalizedMessage:
    return NormalizedMessage(
        external_id=f"s-{number}",
        author=LAURA,
        created_at=START + timedelta(minutes=number),
        text=f"Messaggio {number}",
        in_reply_to=reply_to,
    )


def page(numbers: range, *, more: bool = False, profiles: int = 0) -> Poll:
    followers = [
        NormalizedProfile("mastodon", f"f-{n}", handle=f"f{n}", followers_count=n)
        for n in range(profiles)
    ]
    messages = [mention(n) for n in numbers]
    return Poll(messages, followers, {"since": numbers[-1] if numbers else None}, more)


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class ScriptedConnector:
    """Answers each poll with the next scripted page (or raises it, if it is an error)."""

    script: list[Poll | ConnectorError] = field(default_factory=list)
    send_error: ConnectorError | None = None
    idempotent_sends: bool = True
    renewed_credentials: dict[str, Any] | None = None
    cursors: list[dict[str, Any]] = field(default_factory=list)
    sent: list[OutgoingReply] = field(default_factory=list)
    contexts: list[ConnectorContext] = field(default_factory=list)
    on_send: Callable[[OutgoingReply], None] | None = None

    def poll(self, cursor: dict[str, Any]) -> Poll:
        self.cursors.append(cursor)
        step = self.script.pop(0) if self.script else Poll([], [], cursor)
        if isinstance(step, ConnectorError):
            raise step
        return step

    def send(self, reply: OutgoingReply) -> Sent:
        if self.on_send:
            self.on_send(reply)
        if self.send_error is not None:
            raise self.send_error
        self.sent.append(reply)
        return Sent(f"net-{len(self.sent)}", f"https://social.example/@brand/{len(self.sent)}")

    def build(self, network: str, context: ConnectorContext) -> ScriptedConnector:
        self.contexts.append(context)
        return self


def live_channel(
    sessions: sessionmaker[Session], workspace: Workspace, clock: Clock, interval: int = 60
) -> Channel:
    with transaction(sessions) as session:
        channel = do_get_or_create_channel(
            session, workspace.id, "social", "mastodon", handle="brand", actor="test"
        )
        do_connect_live(session, channel, interval, clock())
    return channel


def make_live(
    sessions: sessionmaker[Session], vault: Vault, connector: ScriptedConnector, clock: Clock
) -> Live:
    return Live(sessions, vault, clock=clock, build=connector.build)


def agent(sessions: sessionmaker[Session], workspace: Workspace) -> int:
    with transaction(sessions) as session:
        user = User(email="marta@acme.it", display_name="Marta")
        session.add(user)
        session.flush()
        session.add(Member(workspace_id=workspace.id, user_id=user.id, role="agent"))
        return user.id
