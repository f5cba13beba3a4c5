"""Every write to ``reporting_event``: facts are appended, never changed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.orm import Session

from dialoga.core.db import bulk_insert
from dialoga.insights.models import ReportingEvent

EVENT_COLUMNS = (
    "workspace_id",
    "channel_id",
    "conversation_id",
    "message_id",
    "kind",
    "occurred_at",
    "delay_seconds",
)
EventRow = tuple[int, int | None, int | None, int | None, str, datetime, int | None]
DetailedEventRow = tuple[
    int, int | None, int | None, int | None, str, datetime, int | None, dict[str, Any]
]


def do_record_events(session: Session, events: Sequence[EventRow]) -> None:
    """Append facts, rows in ``EVENT_COLUMNS`` order."""
    bulk_insert(session, cast(Table, ReportingEvent.__table__), EVENT_COLUMNS, events)


def do_record_detailed_events(session: Session, events: Sequence[DetailedEventRow]) -> None:
    """Append facts that carry a detail (why, by whom): ``EVENT_COLUMNS`` order, then it."""
    bulk_insert(session, cast(Table, ReportingEvent.__table__), (*EVENT_COLUMNS, "detail"), events)
