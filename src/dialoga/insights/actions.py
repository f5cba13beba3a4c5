"""Every write to ``reporting_event``: facts are appended, never changed."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from dialoga.core.db import insert_ignoring_conflicts
from dialoga.insights.models import ReportingEvent


def do_record_events(session: Session, events: list[dict[str, Any]]) -> None:
    """Append facts; a fact already recorded for the same message and kind is kept as is."""
    insert_ignoring_conflicts(session, ReportingEvent, events, ["kind", "message_id"])
