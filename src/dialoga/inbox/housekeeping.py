"""The inbox's clockwork: what has to happen because time passed, not because someone
acted. Snoozed conversations whose time came wake up; replies now overdue are flagged
as SLA breaches (a fact each, once). ``dialoga serve`` runs it every minute and
``dialoga sla check`` once; both are safe to run from several processes at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from dialoga.core.db import transaction
from dialoga.inbox.sla_actions import PAGE, do_flag_breaches
from dialoga.inbox.work import do_wake_snoozed


@dataclass(frozen=True, slots=True)
class Housekeeping:
    """What one run did."""

    woken: int
    breached: int


def run_housekeeping(sessions: sessionmaker[Session], now: datetime) -> Housekeeping:
    """Wake what is due, then flag every overdue reply, a page per transaction."""
    with transaction(sessions, write_lock=True) as session:
        woken = do_wake_snoozed(session, now)
    breached, latest = 0, PAGE
    while latest == PAGE:
        with transaction(sessions, write_lock=True) as session:
            latest = do_flag_breaches(session, now)
        breached += latest
    return Housekeeping(woken, breached)
