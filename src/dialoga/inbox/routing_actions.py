"""Changing a workspace's routing rules: create, update, delete, move, enable, disable.

``check_rule`` validates a draft against the workspace (known intents and sentiments,
two-letter languages, the workspace's channels, labels and members, at most 20 keywords
of 60 characters, at least one condition and one action) and returns it cleaned;
``do_*`` actions trust their input, never commit, and write the audit log. Who may call
them (owners and admins) is the caller's check. A rule of another workspace is "not
found". Evaluation lives in ``inbox.routing``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dialoga.accounts.actions import do_log
from dialoga.channels.models import Channel
from dialoga.core.errors import NotFoundError, ValidationError
from dialoga.inbox.models import Label, RoutingRule
from dialoga.inbox.routing import PRIORITIES
from dialoga.inbox.work import check_assignee, check_label_name
from dialoga.understand.reading import INTENTS, SENTIMENTS

MAX_RULES = 100
MAX_KEYWORDS = 20
MAX_KEYWORD_CHARS = 60
MAX_NAME_CHARS = 120
MOVES = ("up", "down")
_LANGUAGE = re.compile(r"[a-z]{2}")


@dataclass(frozen=True, slots=True)
class RuleDraft:
    """A rule as someone wrote it: conditions (each "any of") and actions."""

    name: str
    intents: tuple[str, ...] = ()
    sentiments: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    channel_ids: tuple[int, ...] = ()
    keywords: tuple[str, ...] = ()
    label_id: int | None = None
    priority: int | None = None
    assignee_id: int | None = None
    stop: bool = False
    enabled: bool = True

    @property
    def conditions(self) -> dict[str, list[Any]]:
        """The conditions given, as stored in ``routing_rule.conditions``."""
        given: dict[str, list[Any]] = {
            "intents": list(self.intents),
            "sentiments": list(self.sentiments),
            "languages": list(self.languages),
            "channel_ids": list(self.channel_ids),
            "keywords": list(self.keywords),
        }
        return {name: values for name, values in given.items() if values}


def draft_of(rule: RoutingRule) -> RuleDraft:
    """A stored rule as a draft, to change some of it."""
    conditions = rule.conditions or {}
    return RuleDraft(
        name=rule.name,
        intents=tuple(conditions.get("intents") or ()),
        sentiments=tuple(conditions.get("sentiments") or ()),
        languages=tuple(conditions.get("languages") or ()),
        channel_ids=tuple(conditions.get("channel_ids") or ()),
        keywords=tuple(conditions.get("keywords") or ()),
        label_id=rule.set_label_id,
        priority=rule.set_priority,
        assignee_id=rule.set_assignee_id,
        stop=rule.stop,
        enabled=rule.enabled,
    )


def check_rule(session: Session, workspace_id: int, draft: RuleDraft) -> RuleDraft:
    """The draft cleaned (blanks trimmed, repeats dropped, languages in lower case), or a
    ``ValidationError`` saying what is wrong with it."""
    name = " ".join(draft.name.split())
    if not 1 <= len(name) <= MAX_NAME_CHARS:
        raise ValidationError(
            f"a rule needs a name of 1 to {MAX_NAME_CHARS} characters",
            code="rule_name_length",
            limit=MAX_NAME_CHARS,
        )
    cleaned = replace(
        draft,
        name=name,
        intents=_known(draft.intents, INTENTS, "intent"),
        sentiments=_known(draft.sentiments, SENTIMENTS, "sentiment"),
        languages=_languages(draft.languages),
        channel_ids=_unique(draft.channel_ids),
        keywords=_keywords(draft.keywords),
    )
    if not cleaned.conditions:
        raise ValidationError(
            "a rule needs at least one condition (intent, sentiment, language, channel or keyword)",
            code="rule_no_condition",
        )
    _check_actions(session, workspace_id, cleaned)
    _check_channels(session, workspace_id, cleaned.channel_ids)
    return cleaned


def _unique(values: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(dict.fromkeys(values))


def _known(values: Sequence[str], known: Sequence[str], what: str) -> tuple[str, ...]:
    unknown = [v for v in values if v not in known]
    if unknown:
        raise ValidationError(
            f"unknown {what} {unknown[0]!r}; choose among {', '.join(known)}",
            code=f"rule_unknown_{what}",
            value=unknown[0],
            known=", ".join(known),
        )
    return _unique(values)


def _languages(values: Sequence[str]) -> tuple[str, ...]:
    codes = [v.strip().lower() for v in values]
    wrong = next((code for code in codes if not _LANGUAGE.fullmatch(code)), None)
    if wrong is not None:
        raise ValidationError(
            f"{wrong!r} is not a language code: write two letters, such as it or en",
            code="rule_language_code",
            value=wrong,
        )
    return _unique(codes)


def _keywords(values: Sequence[str]) -> tuple[str, ...]:
    words = _unique(" ".join(v.split()) for v in values if v.strip())
    if len(words) > MAX_KEYWORDS:
        raise ValidationError(
            f"a rule may have at most {MAX_KEYWORDS} keywords, not {len(words)}",
            code="rule_too_many_keywords",
            limit=MAX_KEYWORDS,
            count=len(words),
        )
    long = next((w for w in words if len(w) > MAX_KEYWORD_CHARS), None)
    if long is not None:
        raise ValidationError(
            f"a keyword may have at most {MAX_KEYWORD_CHARS} characters: {long[:20]!r}… is longer",
            code="rule_keyword_too_long",
            limit=MAX_KEYWORD_CHARS,
            value=long[:20],
        )
    return words


def _check_actions(session: Session, workspace_id: int, draft: RuleDraft) -> None:
    """At least one action; the label and the assignee are the workspace's."""
    if draft.label_id is None and draft.priority is None and draft.assignee_id is None:
        raise ValidationError(
            "a rule needs at least one action: a label, a priority or an assignee",
            code="rule_no_action",
        )
    if draft.priority is not None and not 0 <= draft.priority < len(PRIORITIES):
        raise ValidationError(
            f"unknown priority {draft.priority}; 0 low, 1 normal, 2 high, 3 urgent",
            code="rule_unknown_priority",
            value=draft.priority,
        )
    if draft.label_id is not None:
        owner = session.scalar(select(Label.workspace_id).where(Label.id == draft.label_id))
        if owner != workspace_id:
            raise ValidationError("that label does not exist", code="rule_unknown_label")
    if draft.assignee_id is not None:
        check_assignee(session, workspace_id, draft.assignee_id)


def _check_channels(session: Session, workspace_id: int, channel_ids: Sequence[int]) -> None:
    if not channel_ids:
        return
    own = set(
        session.scalars(
            select(Channel.id).where(
                Channel.workspace_id == workspace_id, Channel.id.in_(channel_ids)
            )
        )
    )
    missing = [c for c in channel_ids if c not in own]
    if missing:
        raise ValidationError(
            f"channel {missing[0]} does not exist", code="rule_unknown_channel", value=missing[0]
        )


def check_rule_count(session: Session, workspace_id: int) -> None:
    """Refuse one more rule for a workspace that has ``MAX_RULES`` already."""
    count = session.scalar(select(func.count()).where(RoutingRule.workspace_id == workspace_id))
    if (count or 0) >= MAX_RULES:
        raise ValidationError(
            f"a workspace may have at most {MAX_RULES} rules", code="rule_limit", limit=MAX_RULES
        )


def label_named(session: Session, workspace_id: int, name: str) -> int:
    """The id of the workspace's label called ``name`` (case aside), made when new."""
    check_label_name(name)
    name = name.strip()
    labels = session.execute(select(Label.id, Label.name).where(Label.workspace_id == workspace_id))
    found = next((id_ for id_, known in labels if known.casefold() == name.casefold()), None)
    if found is not None:
        return found
    label = Label(workspace_id=workspace_id, name=name)
    session.add(label)
    session.flush()
    return label.id


def rule_of_workspace(session: Session, workspace_id: int, rule_id: int) -> RoutingRule:
    """The workspace's rule ``rule_id``; another workspace's is not found."""
    rule = session.get(RoutingRule, rule_id)
    if rule is None or rule.workspace_id != workspace_id:
        raise NotFoundError(f"rule {rule_id} does not exist", code="rule_not_found")
    return rule


def do_create_rule(session: Session, workspace_id: int, draft: RuleDraft, *, actor: str) -> int:
    """Add a checked rule after the workspace's others; returns its id."""
    last = session.scalar(
        select(func.max(RoutingRule.position)).where(RoutingRule.workspace_id == workspace_id)
    )
    rule = RoutingRule(workspace_id=workspace_id, position=(last or 0) + 1)
    _write(rule, draft)
    session.add(rule)
    session.flush()
    _log(session, rule, "routing_rule.create", actor, asdict(draft))
    return rule.id


def do_update_rule(session: Session, rule: RoutingRule, draft: RuleDraft, *, actor: str) -> None:
    """Replace a rule's name, conditions and actions with a checked draft (same place)."""
    _write(rule, draft)
    session.flush()
    _log(session, rule, "routing_rule.update", actor, asdict(draft))


def do_enable_rule(session: Session, rule: RoutingRule, enabled: bool, *, actor: str) -> None:
    """Turn a rule on or off without losing it."""
    rule.enabled = enabled
    session.flush()
    _log(session, rule, "routing_rule.enable" if enabled else "routing_rule.disable", actor)


def do_delete_rule(session: Session, rule: RoutingRule, *, actor: str) -> None:
    """Delete a rule (the others keep their order)."""
    _log(session, rule, "routing_rule.delete", actor, {"name": rule.name})
    session.delete(rule)
    session.flush()


def do_move_rule(session: Session, rule: RoutingRule, direction: str, *, actor: str) -> None:
    """Swap a rule with the one before (``up``) or after (``down``) it; at either end,
    nothing changes."""
    up = direction == "up"
    neighbour = session.scalar(
        select(RoutingRule)
        .where(RoutingRule.workspace_id == rule.workspace_id, RoutingRule.id != rule.id)
        .where(RoutingRule.position < rule.position if up else RoutingRule.position > rule.position)
        .order_by(RoutingRule.position.desc() if up else RoutingRule.position)
        .limit(1)
    )
    if neighbour is None:
        return
    rule.position, neighbour.position = neighbour.position, rule.position
    session.flush()
    _log(session, rule, "routing_rule.move", actor, {"direction": direction})


def _write(rule: RoutingRule, draft: RuleDraft) -> None:
    rule.name = draft.name
    rule.enabled = draft.enabled
    rule.conditions = draft.conditions
    rule.set_label_id = draft.label_id
    rule.set_priority = draft.priority
    rule.set_assignee_id = draft.assignee_id
    rule.stop = draft.stop


def _log(
    session: Session,
    rule: RoutingRule,
    action: str,
    actor: str,
    detail: dict[str, Any] | None = None,
) -> None:
    do_log(session, rule.workspace_id, actor, action, "routing_rule", rule.id, detail)
