"""Which connector serves which network: the one registry the job layer builds from.

A network whose channels only come from files (an X archive, a TWCS dump) has none:
their replies wait in the inbox for a person to post them.
"""

from __future__ import annotations

from importlib import import_module

from dialoga.channels.base import Connector
from dialoga.channels.context import ConnectorContext

# network name -> the package whose connector.build(context) makes its connector
LIVE_NETWORKS = {
    "mastodon": "dialoga.channels.mastodon.connector",
    "bluesky": "dialoga.channels.bluesky.connector",
    "email": "dialoga.channels.email.connector",
    "rss": "dialoga.channels.rss.connector",
    "wordpress": "dialoga.channels.wordpress.connector",
}


def connector_for(network: str, context: ConnectorContext) -> Connector | None:
    """A connector for ``network`` built from ``context``, or None for a file-only network."""
    module = LIVE_NETWORKS.get(network)
    if module is None:
        return None
    built: Connector = import_module(module).build(context)
    return built


def sends_idempotently(network: str) -> bool:
    """True when the network's connector can repeat a send without posting twice."""
    module = LIVE_NETWORKS.get(network)
    return module is not None and bool(getattr(import_module(module), "IDEMPOTENT_SENDS", False))
