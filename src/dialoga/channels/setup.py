"""Connecting a channel live, the same way from the command line and from the web page:
check the settings by building the connector, then create the channel, seal its
credentials and start polling it, in the caller's transaction.

Nothing is kept when a setting is wrong (an address that is not one, a feed list that is
not a list): the connector refuses it before the channel is touched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from dialoga.channels.actions import check_channel_for, do_get_or_create_channel
from dialoga.channels.connectors import LIVE_NETWORKS, connector_for
from dialoga.channels.context import ConnectorContext
from dialoga.channels.credentials import do_set_credentials
from dialoga.channels.models import Channel
from dialoga.channels.sync import check_interval, do_connect_live
from dialoga.core.errors import ValidationError
from dialoga.core.fetch import FetchPolicy
from dialoga.core.vault import Secret, Vault


@dataclass(frozen=True)
class LiveSetup:
    """What connects a channel: its network and name, its settings and credentials."""

    network: str
    name: str
    config: dict[str, Any] = field(default_factory=dict)
    credentials: dict[str, Any] = field(default_factory=dict, repr=False)
    handle: str | None = None
    interval_seconds: int = 60


def check_live_setup(setup: LiveSetup, policy: FetchPolicy) -> None:
    """Refuse a network without a connector, a too short interval, or settings the
    connector cannot work with (its own sentence says which)."""
    if setup.network not in LIVE_NETWORKS:
        known = ", ".join(LIVE_NETWORKS)
        raise ValidationError(f"no live connector for {setup.network!r}: {known}")
    check_interval(setup.interval_seconds)
    context = ConnectorContext(setup.config, setup.credentials, policy, setup.handle)
    connector_for(setup.network, context)


def do_connect_channel(
    session: Session,
    workspace_id: int,
    setup: LiveSetup,
    vault: Vault,
    now: datetime,
    *,
    actor: str,
) -> Channel:
    """Create (or update) the channel, seal its credentials, and poll it from now on."""
    check_channel_for(session, workspace_id, setup.name, setup.network)
    channel = do_get_or_create_channel(
        session, workspace_id, setup.name, setup.network, actor=actor, handle=setup.handle
    )
    channel.handle = setup.handle or channel.handle
    if setup.credentials:
        do_set_credentials(session, channel, Secret(dict(setup.credentials)), vault, actor=actor)
    do_connect_live(session, channel, setup.interval_seconds, now, setup.config)
    return channel
