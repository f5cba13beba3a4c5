"""The reader a caller should use: the shipped models, or a workspace's own.

Models load once per process (``shipped_reader`` is cached); a workspace's reader adds
its tier, its languages and the adjustments ``dialoga models retrain`` learned from its
agents' corrections, cached until it is retrained.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dialoga.understand.fast import FastModel, FastReader
from dialoga.understand.models import WorkspaceHead
from dialoga.understand.queries import understanding_setting
from dialoga.understand.reading import Reader
from dialoga.understand.retrain import adjusted


@lru_cache(maxsize=1)
def shipped_fast_model() -> FastModel:
    return FastModel.load()


@lru_cache(maxsize=16)
def shipped_reader(tier: str = "fast", languages: Sequence[str] = ("it", "en")) -> Reader:
    """The shipped models of ``tier``; the deep tier needs the ``deep`` extra."""
    if tier == "deep":
        from dialoga.understand.deep import DeepReader

        return DeepReader(languages=tuple(languages))
    return FastReader(shipped_fast_model(), tuple(languages))


def workspace_reader(session: Session, workspace_id: int) -> Reader:
    """The reader of the workspace's tier and languages, with its retrained adjustments
    (fast tier): two small queries, and a third when its adjustments are not cached."""
    setting = understanding_setting(session, workspace_id)
    languages = tuple(setting.languages)
    retrained = session.scalar(
        select(func.max(WorkspaceHead.trained_at)).where(
            WorkspaceHead.workspace_id == workspace_id, WorkspaceHead.tier == setting.tier
        )
    )
    if retrained is None or setting.tier != "fast":
        return shipped_reader(setting.tier, languages)
    return _retrained_reader(session, workspace_id, languages, retrained)


def _retrained_reader(
    session: Session, workspace_id: int, languages: tuple[str, ...], retrained: datetime
) -> Reader:
    key = (workspace_id, languages, retrained)
    reader = _RETRAINED.get(key)
    if reader is None:
        rows = session.execute(
            select(WorkspaceHead.head, WorkspaceHead.weights).where(
                WorkspaceHead.workspace_id == workspace_id, WorkspaceHead.tier == "fast"
            )
        )
        stored = {head: weights for head, weights in rows}
        reader = FastReader(adjusted(shipped_fast_model(), stored), languages)
        if len(_RETRAINED) >= _RETRAINED_KEPT:
            _RETRAINED.pop(next(iter(_RETRAINED)))
        _RETRAINED[key] = reader
    return reader


_RETRAINED_KEPT = 32
_RETRAINED: dict[tuple[int, tuple[str, ...], datetime], Reader] = {}
