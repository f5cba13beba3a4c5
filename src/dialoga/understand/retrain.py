"""Learning from a workspace's corrections, on top of the shipped models.

``dialoga models retrain --workspace W`` runs ``retrain_workspace``: for each head with
corrections (intent; Italian or English sentiment by the message's language) it learns
an adjustment of the shipped weights by gradient descent on the corrected messages,
pulled towards zero so a handful of corrections changes what resembles them and little
else. Only the features those messages contain change, so an adjustment is small, and
reading adds it to the shipped weights (``heads.LinearHead.adjustment``). Language
corrections are kept but not learned from: language identification is not trained here.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import scipy.sparse as sp
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from dialoga.understand.fast import INTENT, SENTIMENT_EN, SENTIMENT_IT, FastModel
from dialoga.understand.features import counts, weighted
from dialoga.understand.heads import LinearHead
from dialoga.understand.models import ReadingCorrection, WorkspaceHead

STEPS = 300
LEARNING_RATE = 2.0
PULL = 0.002  # weight of the penalty on the adjustment's size


@dataclass(frozen=True, slots=True)
class RetrainSummary:
    """How many corrections each retrained head learned from."""

    examples: Mapping[str, int]


def corrected_examples(session: Session, workspace_id: int) -> dict[str, list[tuple[str, str]]]:
    """(text, label) pairs by head name, from the workspace's corrections."""
    rows = session.execute(
        select(
            ReadingCorrection.field,
            ReadingCorrection.value,
            ReadingCorrection.text,
            ReadingCorrection.language,
        )
        .where(ReadingCorrection.workspace_id == workspace_id)
        .where(ReadingCorrection.field.in_(("sentiment", "intent")))
        .order_by(ReadingCorrection.id)
    )
    examples: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for field, value, text, language in rows:
        head = INTENT if field == "intent" else (SENTIMENT_IT if language == "it" else SENTIMENT_EN)
        if head == SENTIMENT_EN and value == "mixed":
            continue  # the English head has no mixed class to learn
        examples[head].append((text, value))
    return dict(examples)


def adjustment(head: LinearHead, features: sp.csr_matrix, labels: Sequence[str]) -> sp.csr_matrix:
    """The change of ``head``'s weights that fits ``labels``, on the features present."""
    columns = np.unique(features.indices)
    present = features[:, columns].tocsr()
    targets = _targets(head, labels)
    base = head.logits(features)
    change = np.zeros((len(head.classes), len(columns)))
    for _ in range(STEPS):
        predicted = head.activate(base + np.asarray(present @ change.T))
        gradient = np.asarray((present.T @ (predicted - targets)).T) / len(labels)
        change -= LEARNING_RATE * (gradient + PULL * change)
    full = sp.csr_matrix(
        (
            change.ravel(),
            (
                np.repeat(np.arange(len(head.classes)), len(columns)),
                np.tile(columns, len(head.classes)),
            ),
        ),
        shape=head.coef.shape,
        dtype=np.float32,
    )
    full.eliminate_zeros()
    return full


def _targets(head: LinearHead, labels: Sequence[str]) -> np.ndarray:
    targets = np.zeros((len(labels), len(head.classes)))
    for row, label in enumerate(labels):
        for column, cls in enumerate(head.classes):
            hit = label == cls or (head.kind == "sigmoid" and label == "mixed")
            targets[row, column] = 1.0 if hit else 0.0
    return targets


def pack(change: sp.csr_matrix) -> bytes:
    buffer = io.BytesIO()
    sp.save_npz(buffer, change, compressed=True)
    return buffer.getvalue()


def unpack(weights: bytes) -> sp.csr_matrix:
    return sp.load_npz(io.BytesIO(weights)).tocsr()


def retrain_workspace(
    session: Session, workspace_id: int, model: FastModel, now: datetime
) -> RetrainSummary:
    """Replace the workspace's adjustments with ones learned from all its corrections."""
    examples = corrected_examples(session, workspace_id)
    session.execute(delete(WorkspaceHead).where(WorkspaceHead.workspace_id == workspace_id))
    for name, pairs in examples.items():
        features = weighted(counts([text for text, _ in pairs]), model.idf)
        change = adjustment(model.heads[name], features, [label for _, label in pairs])
        session.add(
            WorkspaceHead(
                workspace_id=workspace_id,
                head=name,
                tier="fast",
                examples=len(pairs),
                weights=pack(change),
                trained_at=now,
            )
        )
    session.flush()
    return RetrainSummary({name: len(pairs) for name, pairs in examples.items()})


def adjusted(model: FastModel, stored: Mapping[str, bytes]) -> FastModel:
    """``model`` with the workspace's stored adjustments applied."""
    heads = {
        name: LinearHead(head.classes, head.kind, head.coef, head.intercept, unpack(weights))
        for name, weights in stored.items()
        for head in (model.heads[name],)
    }
    return model.with_heads(heads)
