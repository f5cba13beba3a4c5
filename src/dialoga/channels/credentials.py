"""Reading, writing and re-keying a channel's sealed credentials.

Credentials go in and come out as ``Secret``; only their sealed form touches the
database, and the audit log records that they changed, never what they are.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dialoga.accounts.actions import do_log
from dialoga.channels.models import Channel, ChannelCredential, ChannelSync
from dialoga.core.clock import utcnow
from dialoga.core.vault import Secret, Vault

ROTATION_BATCH = 500


def do_set_credentials(
    session: Session, channel: Channel, secret: Secret, vault: Vault, *, actor: str
) -> None:
    """Store (or replace) the channel's credentials, sealed."""
    _seal_into(session, channel, secret, vault)
    # new credentials are a new chance: a channel waiting for them is polled again now
    session.execute(
        update(ChannelSync)
        .where(ChannelSync.channel_id == channel.id, ChannelSync.health == "needs_reauth")
        .values(health="ok", failures=0, last_error=None, next_poll_at=utcnow())
    )
    do_log(session, channel.workspace_id, actor, "channel.credentials_set", "channel", channel.id)


def do_store_renewed_credentials(
    session: Session, channel: Channel, fields: dict[str, Any], vault: Vault
) -> None:
    """Keep the tokens a connector refreshed by itself (no audit entry: no one changed them)."""
    _seal_into(session, channel, Secret(dict(fields)), vault)


def _seal_into(session: Session, channel: Channel, secret: Secret, vault: Vault) -> None:
    stored = session.get(ChannelCredential, channel.id)
    if stored is None:
        stored = ChannelCredential(channel_id=channel.id, workspace_id=channel.workspace_id)
        session.add(stored)
    stored.sealed = vault.seal(secret)
    stored.updated_at = utcnow()


def credentials_of(session: Session, channel: Channel, vault: Vault) -> Secret | None:
    """The channel's credentials, or None when it has none."""
    stored = session.get(ChannelCredential, channel.id)
    return None if stored is None else vault.open(stored.sealed)


def do_rotate_credentials(session: Session, vault: Vault) -> int:
    """Re-seal every stored credential with the newest key; returns how many."""
    rotated, after = 0, 0
    while True:
        batch = session.scalars(
            select(ChannelCredential)
            .where(ChannelCredential.channel_id > after)
            .order_by(ChannelCredential.channel_id)
            .limit(ROTATION_BATCH)
        ).all()
        if not batch:
            return rotated
        for stored in batch:
            stored.sealed = vault.rotate(stored.sealed)
        session.flush()
        rotated += len(batch)
        after = batch[-1].channel_id
