"""Routing rules at work: which rules a message meets, and what they do to its conversation.

A workspace's rules (``RoutingRule``) say "if intent / sentiment / language / channel /
keyword → label, priority, assignee". Each condition lists values meaning "any of"; a
rule matches when every condition it has holds. Keywords match whole words (or whole
phrases), case and accents aside: ``rimborso`` matches "RIMBORSO!" and "Rimborsò", not
"rimborsone". Rules run in position order, and every matching rule applies; a value set
by an earlier rule is kept (a later rule adds labels, but never replaces the priority or
assignee an earlier one chose), and a matching rule marked ``stop`` ends the evaluation.

Ingest calls, once per batch and after the conversations are written::

    outcomes = apply_routing(session, workspace_id, [
        RoutedMessage(conversation_id, channel_id, text, language, sentiment, intent), ...
    ])  # dict[conversation_id, RoutingOutcome], only conversations some rule matched

with the batch's new inbound messages. It loads the workspace's enabled rules in one
query, puts the labels on (one statement; a label already there stays as it is) and
assigns conversations that have nobody (one statement per member assigned; an assigned
conversation is never taken from its member). It leaves priority to the caller: the
conversation's priority is the higher of the computed one and ``outcome.priority``.
Only the workspace's own rules apply, with its own labels and members: a label or an
assignee that is no longer the workspace's is ignored.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session

from dialoga.accounts.access import WRITERS
from dialoga.accounts.models import Member, User
from dialoga.core.db import insert_ignoring_conflicts, is_in
from dialoga.inbox.models import Conversation, ConversationLabel, Label, RoutingRule
from dialoga.inbox.personal import folded

PRIORITIES = ("low", "normal", "high", "urgent")  # a priority is its index here
CONDITIONS = ("intents", "sentiments", "languages", "channel_ids", "keywords")


@dataclass(frozen=True, slots=True)
class RoutedMessage:
    """What routing reads of one message (``conversation_id`` only matters to apply)."""

    conversation_id: int
    channel_id: int
    text: str
    language: str | None = None
    sentiment: str | None = None
    intent: str | None = None


@dataclass(frozen=True, slots=True)
class RoutingOutcome:
    """What the matching rules do: labels to add, a priority, an assignee, and which rules."""

    label_ids: tuple[int, ...] = ()
    priority: int | None = None
    assignee_id: int | None = None
    rule_ids: tuple[int, ...] = ()

    def merged(self, later: RoutingOutcome) -> RoutingOutcome:
        """This outcome and a later message's, for one conversation: labels of both, the
        higher priority, the first assignee."""
        priorities = [p for p in (self.priority, later.priority) if p is not None]
        return RoutingOutcome(
            tuple(dict.fromkeys((*self.label_ids, *later.label_ids))),
            max(priorities) if priorities else None,
            self.assignee_id if self.assignee_id is not None else later.assignee_id,
            tuple(dict.fromkeys((*self.rule_ids, *later.rule_ids))),
        )


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A rule ready to test messages: value sets (``None``: no such condition) and a
    pattern of its keywords over folded text."""

    id: int
    intents: frozenset[str] | None = None
    sentiments: frozenset[str] | None = None
    languages: frozenset[str] | None = None
    channel_ids: frozenset[int] | None = None
    keywords: re.Pattern[str] | None = None
    label_id: int | None = None
    priority: int | None = None
    assignee_id: int | None = None
    stop: bool = False

    def matches(self, message: RoutedMessage, folded_text: _FoldedText) -> bool:
        """Every condition of the rule holds for the message."""
        return (
            _allows(self.intents, message.intent)
            and _allows(self.sentiments, message.sentiment)
            and _allows(self.languages, message.language)
            and _allows(self.channel_ids, message.channel_id)
            and (self.keywords is None or self.keywords.search(folded_text.value) is not None)
        )


@dataclass(slots=True)
class _FoldedText:
    """A message's text folded once, and only when a keyword rule asks for it."""

    text: str
    _value: str | None = field(default=None)

    @property
    def value(self) -> str:
        if self._value is None:
            self._value = folded(self.text)
        return self._value


def _allows(values: frozenset[Any] | None, value: object) -> bool:
    return values is None or value in values


def keyword_pattern(keywords: Sequence[str]) -> re.Pattern[str] | None:
    """One pattern matching any keyword as whole words, over ``folded`` text; ``None``
    for no keyword. Blanks inside a keyword match any run of blanks."""
    words = [folded(k).split() for k in keywords]
    phrases = sorted({r"\s+".join(map(re.escape, w)) for w in words if w}, key=len, reverse=True)
    if not phrases:
        return None
    return re.compile(rf"(?<!\w)(?:{'|'.join(phrases)})(?!\w)")


def compile_rule(
    rule: RoutingRule, *, label_id: int | None = None, assignee_id: int | None = None
) -> CompiledRule:
    """A stored rule ready to test messages; ``label_id`` and ``assignee_id`` are its
    actions as checked against the workspace (the stored ones by default)."""
    conditions = rule.conditions or {}

    def values(name: str) -> frozenset[Any] | None:
        given = conditions.get(name) or []
        return frozenset(given) if given else None

    return CompiledRule(
        id=rule.id,
        intents=values("intents"),
        sentiments=values("sentiments"),
        languages=values("languages"),
        channel_ids=values("channel_ids"),
        keywords=keyword_pattern(conditions.get("keywords") or []),
        label_id=label_id,
        priority=rule.set_priority,
        assignee_id=assignee_id,
        stop=rule.stop,
    )


def route(rules: Sequence[CompiledRule], message: RoutedMessage) -> RoutingOutcome:
    """What ``rules`` (in evaluation order) do to ``message``."""
    text = _FoldedText(message.text)
    labels: list[int] = []
    matched: list[int] = []
    priority: int | None = None
    assignee: int | None = None
    for rule in rules:
        if not rule.matches(message, text):
            continue
        matched.append(rule.id)
        if rule.label_id is not None and rule.label_id not in labels:
            labels.append(rule.label_id)
        priority = rule.priority if priority is None else priority
        assignee = rule.assignee_id if assignee is None else assignee
        if rule.stop:
            break
    return RoutingOutcome(tuple(labels), priority, assignee, tuple(matched))


def enabled_rules(session: Session, workspace_id: int) -> list[CompiledRule]:
    """The workspace's enabled rules in evaluation order, in one query; a label or an
    assignee that is not (or no longer) the workspace's is dropped from its rule."""
    assignable = and_(
        Member.workspace_id == workspace_id,
        Member.user_id == RoutingRule.set_assignee_id,
        Member.role.in_(WRITERS),
    )
    own_label = and_(Label.id == RoutingRule.set_label_id, Label.workspace_id == workspace_id)
    rows = session.execute(
        select(RoutingRule, Label.id, Member.user_id)
        .outerjoin(Label, own_label)
        .outerjoin(Member, assignable)
        .where(RoutingRule.workspace_id == workspace_id, RoutingRule.enabled.is_(True))
        .order_by(RoutingRule.position, RoutingRule.id)
    ).all()
    return [compile_rule(rule, label_id=label, assignee_id=user) for rule, label, user in rows]


def apply_routing(
    session: Session, workspace_id: int, items: Sequence[RoutedMessage]
) -> dict[int, RoutingOutcome]:
    """Route a batch of a workspace's new inbound messages: labels put on, conversations
    with nobody assigned; returns the outcome per conversation a rule matched.

    Messages of one conversation combine (see ``RoutingOutcome.merged``). A constant
    number of statements: the rules, the labels, one update per member assigned.
    """
    rules = enabled_rules(session, workspace_id) if items else []
    if not rules:
        return {}
    outcomes: dict[int, RoutingOutcome] = {}
    for item in items:
        outcome = route(rules, item)
        if outcome.rule_ids:
            earlier = outcomes.get(item.conversation_id)
            outcomes[item.conversation_id] = earlier.merged(outcome) if earlier else outcome
    _put_labels(session, outcomes)
    _assign_unassigned(session, workspace_id, outcomes)
    return outcomes


def _put_labels(session: Session, outcomes: dict[int, RoutingOutcome]) -> None:
    rows = [
        {"conversation_id": conversation_id, "label_id": label_id}
        for conversation_id, outcome in outcomes.items()
        for label_id in outcome.label_ids
    ]
    insert_ignoring_conflicts(session, ConversationLabel, rows, ["conversation_id", "label_id"])


def _assign_unassigned(
    session: Session, workspace_id: int, outcomes: dict[int, RoutingOutcome]
) -> None:
    by_assignee: dict[int, list[int]] = defaultdict(list)
    for conversation_id, outcome in outcomes.items():
        if outcome.assignee_id is not None:
            by_assignee[outcome.assignee_id].append(conversation_id)
    for assignee_id, conversation_ids in sorted(by_assignee.items()):
        session.execute(
            update(Conversation)
            .where(is_in(session, Conversation.id, conversation_ids))
            .where(Conversation.workspace_id == workspace_id)
            .where(Conversation.assignee_id.is_(None))
            .values(assignee_id=assignee_id)
            .execution_options(synchronize_session=False)
        )


@dataclass(frozen=True, slots=True)
class RuleView:
    """A rule as pages and the API show it, with its label's and assignee's names."""

    id: int
    position: int
    name: str
    enabled: bool
    conditions: dict[str, list[Any]]
    label_id: int | None
    label: str | None
    priority: int | None
    assignee_id: int | None
    assignee: str | None
    stop: bool


def rule_views(session: Session, workspace_id: int) -> list[RuleView]:
    """The workspace's rules in evaluation order, enabled or not: one query."""
    rows = session.execute(
        select(RoutingRule, Label.name, User.display_name)
        .outerjoin(Label, Label.id == RoutingRule.set_label_id)
        .outerjoin(User, User.id == RoutingRule.set_assignee_id)
        .where(RoutingRule.workspace_id == workspace_id)
        .order_by(RoutingRule.position, RoutingRule.id)
    ).all()
    return [_view(rule, label, assignee) for rule, label, assignee in rows]


def _view(rule: RoutingRule, label: str | None, assignee: str | None) -> RuleView:
    conditions = {name: list(rule.conditions.get(name) or []) for name in CONDITIONS}
    return RuleView(
        id=rule.id,
        position=rule.position,
        name=rule.name,
        enabled=rule.enabled,
        conditions={name: values for name, values in conditions.items() if values},
        label_id=rule.set_label_id,
        label=label,
        priority=rule.set_priority,
        assignee_id=rule.set_assignee_id,
        assignee=assignee,
        stop=rule.stop,
    )
