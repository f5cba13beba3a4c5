"""What a connector is built from: the channel's settings, its opened credentials and the
operator's fetch policy. Kept apart from ``base.py`` so payload parsers stay free of it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dialoga.core.clock import utcnow
from dialoga.core.fetch import FetchPolicy


@dataclass(frozen=True)
class ConnectorContext:
    """Everything one channel's connector needs; ``config`` is ``channel.config`` (instance
    URL, feed addresses, mailbox), ``credentials`` the channel's opened secret fields,
    ``clock`` the time (tests pass their own)."""

    config: Mapping[str, Any]
    credentials: Mapping[str, Any] = field(default_factory=dict)
    fetch_policy: FetchPolicy = field(default_factory=FetchPolicy)
    handle: str | None = None
    clock: Callable[[], datetime] = utcnow
