"""The priority rule and the queue's rank, as pure functions: every branch of the rule,
the contact's history raising and never lowering, and the rank's fixed shifts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dialoga.inbox.priority import (
    HIGH,
    LOW,
    NORMAL,
    URGENT,
    ContactHistory,
    priority_of,
    rank_at,
)

DUE = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
FIRST_TIME = ContactHistory(first_id=7, last_id=7)  # only the conversation at hand (7)
RETURNING = ContactHistory(first_id=3, last_id=7)
UNHAPPY_BEFORE = ContactHistory(first_id=3, last_id=7, first_unhappy_id=3, last_unhappy_id=3)
UNHAPPY_ONLY_NOW = ContactHistory(first_id=3, last_id=7, first_unhappy_id=7, last_unhappy_id=7)


@pytest.mark.parametrize(
    ("sentiment", "intent", "spam", "expected"),
    [
        ("negative", "complaint", 0.1, URGENT),
        ("neutral", "complaint", 0.1, HIGH),
        ("mixed", "complaint", 0.1, HIGH),
        ("negative", "question", 0.1, HIGH),
        ("mixed", "other", 0.1, HIGH),
        ("neutral", "lead", 0.1, HIGH),
        ("positive", "lead", 0.1, HIGH),
        ("neutral", "question", 0.1, NORMAL),
        ("positive", "question", 0.1, NORMAL),
        ("neutral", "other", 0.1, NORMAL),
        (None, None, None, NORMAL),
        ("positive", "praise", 0.1, LOW),
        ("neutral", "praise", 0.1, LOW),
        ("positive", "other", 0.1, LOW),
        ("negative", "complaint", 0.8, LOW),
        ("negative", "complaint", 0.95, LOW),
        ("neutral", "spam", 0.3, LOW),
        ("negative", "complaint", 0.79, URGENT),
    ],
)
def test_the_reading_sets_the_priority(
    sentiment: str | None, intent: str | None, spam: float | None, expected: int
) -> None:
    assert priority_of(sentiment, intent, spam) == expected


def test_a_person_unhappy_before_goes_one_step_up_to_at_most_urgent() -> None:
    def of(sentiment: str, intent: str, history: ContactHistory) -> int:
        return priority_of(sentiment, intent, 0.0, history=history, conversation_id=7)

    assert of("neutral", "question", UNHAPPY_BEFORE) == HIGH
    assert of("neutral", "complaint", UNHAPPY_BEFORE) == URGENT
    assert of("negative", "complaint", UNHAPPY_BEFORE) == URGENT
    assert of("positive", "praise", UNHAPPY_BEFORE) == NORMAL
    assert of("neutral", "question", UNHAPPY_ONLY_NOW) == NORMAL, "this conversation is no past"


def test_a_returning_person_is_never_low_but_spam_stays_low() -> None:
    assert priority_of("positive", "praise", 0.0, history=RETURNING, conversation_id=7) == NORMAL
    assert priority_of("positive", "praise", 0.0, history=FIRST_TIME, conversation_id=7) == LOW
    assert priority_of("neutral", "spam", 0.9, history=UNHAPPY_BEFORE, conversation_id=7) == LOW


@pytest.mark.parametrize(
    ("history", "returning", "unhappy"),
    [
        (ContactHistory(), False, False),
        (FIRST_TIME, False, False),
        (RETURNING, True, False),
        (ContactHistory(first_id=7, last_id=9), True, False),
        (UNHAPPY_BEFORE, True, True),
        (UNHAPPY_ONLY_NOW, True, False),
        (ContactHistory(1, 9, 7, 9), True, True),
    ],
)
def test_the_history_tells_other_conversations_from_this_one(
    history: ContactHistory, returning: bool, unhappy: bool
) -> None:
    assert history.returning(7) is returning
    assert history.unhappy_before(7) is unhappy


def test_the_rank_shifts_the_due_date_by_priority() -> None:
    assert rank_at(DUE, URGENT) == DUE - timedelta(hours=4)
    assert rank_at(DUE, HIGH) == DUE - timedelta(hours=1)
    assert rank_at(DUE, NORMAL) == DUE
    assert rank_at(DUE, LOW) == DUE + timedelta(hours=12)
    assert rank_at(None, URGENT) is None


def _rank(due_at: datetime, priority: int) -> datetime:
    found = rank_at(due_at, priority)
    assert found is not None
    return found


def test_urgent_work_rises_but_nothing_starves() -> None:
    assert _rank(DUE + timedelta(hours=3), URGENT) < _rank(DUE, NORMAL)
    assert _rank(DUE - timedelta(hours=5), NORMAL) < _rank(DUE, URGENT)
    assert _rank(DUE - timedelta(hours=13), LOW) < _rank(DUE, NORMAL)
