"""How urgent a conversation is, and where that puts it in the queue. Pure logic.

The priority comes from the latest inbound message as read (``understand``) and from
what the inbox already knows of the person:

- a message that is probably spam (spam probability ≥ 0.8, or read as ``spam``) is
  **low**, whatever else it says;
- a negative complaint is **urgent**;
- any other complaint, a negative or mixed message, or a purchase intent (``lead``) is
  **high**;
- praise, or a positive message that asks nothing, is **low** (a thank-you can wait);
- anything else (questions, neutral remarks) is **normal**.

Then the person's history: someone who was unhappy in another conversation
(negative, or complaining) goes one step up, to at most urgent; a returning person
(another conversation at all) is never low. Spam stays low.

The queue orders by ``rank_at``: the reply's due date moved earlier for urgent (4 hours)
and high (1 hour) work, later for low (12 hours). Urgent work rises, but a fixed shift
means nothing waits forever: a normal conversation due more than 4 hours before an urgent
one still comes first, and a low one is at most 12 hours behind where it would be.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

LOW, NORMAL, HIGH, URGENT = 0, 1, 2, 3
PRIORITIES = (LOW, NORMAL, HIGH, URGENT)
PRIORITY_NAMES = {LOW: "low", NORMAL: "normal", HIGH: "high", URGENT: "urgent"}
SPAM_THRESHOLD = 0.8
RANK_SHIFT = {
    URGENT: timedelta(hours=-4),
    HIGH: timedelta(hours=-1),
    NORMAL: timedelta(0),
    LOW: timedelta(hours=12),
}
UNHAPPY_SENTIMENTS = ("negative", "mixed")


def rank_at(due_at: datetime | None, priority: int) -> datetime | None:
    """The queue's order key: ``due_at`` shifted by ``priority`` (none without a due date)."""
    if due_at is None:
        return None
    return due_at + RANK_SHIFT.get(priority, timedelta(0))


@dataclass(frozen=True, slots=True)
class ContactHistory:
    """A contact's conversations as one aggregate row: the lowest and highest ids of all
    of them, and of those that were unhappy (negative or a complaint). Enough to tell
    whether there is one *other* than a given conversation without listing them."""

    first_id: int | None = None
    last_id: int | None = None
    first_unhappy_id: int | None = None
    last_unhappy_id: int | None = None

    def returning(self, conversation_id: int) -> bool:
        """True when the contact has a conversation other than ``conversation_id``."""
        return _other_than(conversation_id, self.first_id, self.last_id)

    def unhappy_before(self, conversation_id: int) -> bool:
        """True when another conversation of the contact was negative or a complaint."""
        return _other_than(conversation_id, self.first_unhappy_id, self.last_unhappy_id)


NO_HISTORY = ContactHistory()


def _other_than(conversation_id: int, lowest: int | None, highest: int | None) -> bool:
    return lowest is not None and (lowest != conversation_id or highest != conversation_id)


def priority_of(
    sentiment: str | None,
    intent: str | None,
    spam: float | None,
    *,
    history: ContactHistory = NO_HISTORY,
    conversation_id: int = 0,
) -> int:
    """The priority of a conversation whose latest inbound message reads so (see above)."""
    if (spam or 0.0) >= SPAM_THRESHOLD or intent == "spam":
        return LOW
    found = _from_reading(sentiment, intent)
    if history.unhappy_before(conversation_id):
        found = min(URGENT, found + 1)
    if found == LOW and history.returning(conversation_id):
        found = NORMAL
    return found


def _from_reading(sentiment: str | None, intent: str | None) -> int:
    if intent == "complaint":
        return URGENT if sentiment == "negative" else HIGH
    if sentiment in UNHAPPY_SENTIMENTS or intent == "lead":
        return HIGH
    if intent == "praise" or (sentiment == "positive" and intent != "question"):
        return LOW
    return NORMAL
