"""What several inbox tests share: a few people on X, messages placed in time from a
fixed start, the support channel, and a recorder of the statements a block runs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from dialoga.accounts.models import Workspace
from dialoga.channels.actions import do_get_or_create_channel
from dialoga.channels.base import NormalizedAuthor, NormalizedMessage
from dialoga.channels.models import Channel
from dialoga.core.db import transaction

START = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)
BRAND = NormalizedAuthor("twitter", "acme", handle="acme_it", display_name="ACME", is_brand=True)
GIULIA = NormalizedAuthor("twitter", "115712", handle="giulia_r", display_name="Giulia Rossi")
MARCO = NormalizedAuthor("twitter", "823869", handle="marco_b")


def at(minutes: float) -> datetime:
    """``minutes`` after ``START``."""
    return START + timedelta(minutes=minutes)


def msg(
    external_id: str,
    author: NormalizedAuthor,
    minutes: float,
    in_reply_to: str | None = None,
    **fields: Any,
) -> NormalizedMessage:
    """A message ``minutes`` after ``START`` (text: "message <id>" unless given)."""
    fields.setdefault("text", f"message {external_id}")
    return NormalizedMessage(
        external_id=external_id,
        author=author,
        created_at=at(minutes),
        in_reply_to=in_reply_to,
        **fields,
    )


def make_channel(
    sessions: sessionmaker[Session], workspace: Workspace, name: str, network: str
) -> Channel:
    with transaction(sessions) as session:
        return do_get_or_create_channel(session, workspace.id, name, network, actor="test")


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements the engine runs inside the block."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)
