"""Fixtures of the polling and sending tests: a test clock, and a live channel of the
``workspace`` fixture polled every minute from that clock's start."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from dialoga.accounts.models import Workspace
from dialoga.channels.models import Channel
from live_double import Clock, live_channel


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def channel(sessions: sessionmaker[Session], workspace: Workspace, clock: Clock) -> Channel:
    return live_channel(sessions, workspace, clock)
