"""Reads of a workspace's understanding choices: its tier and its languages.

A workspace that never chose reads with the defaults: the fast tier, Italian and English.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from dialoga.understand.models import UnderstandingSetting

# ISO 639-1 codes a workspace may read in (language identification is restricted to them).
SUPPORTED_LANGUAGES = ("it", "en", "es", "fr", "de", "pt", "nl")
DEFAULT_TIER = "fast"
DEFAULT_LANGUAGES = ("it", "en")
MAX_LANGUAGES = 6


@dataclass(frozen=True, slots=True)
class Understanding:
    """How a workspace reads its messages."""

    tier: str
    languages: tuple[str, ...]


def understanding_setting(session: Session, workspace_id: int) -> Understanding:
    """The workspace's tier and languages, or the defaults: one query."""
    row = session.execute(
        select(UnderstandingSetting.tier, UnderstandingSetting.languages).where(
            UnderstandingSetting.workspace_id == workspace_id
        )
    ).one_or_none()
    if row is None:
        return Understanding(DEFAULT_TIER, DEFAULT_LANGUAGES)
    return Understanding(row.tier, languages_from_text(row.languages))


def languages_from_text(text: str) -> tuple[str, ...]:
    """``"it,en"`` as ``("it", "en")``; codes this version does not know are left out."""
    found = tuple(code for code in text.split(",") if code in SUPPORTED_LANGUAGES)
    return found or DEFAULT_LANGUAGES
